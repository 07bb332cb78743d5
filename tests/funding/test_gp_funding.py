"""Tests for analysis.funding.deprivation: practice deprivation, quintiles, patient-weighted rates,
confidence intervals and the funding gap. Fixtures only (tests/fixtures/gp_payments)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from analysis.funding.deprivation import (
    IMD_EDITION_FOR_PAYMENT_YEAR,
    IMD_PUBLICATION_DATES,
    assign_deprivation_groups,
    deprivation_groups,
    funding_by_deprivation,
    funding_by_deprivation_all_years,
    funding_gap,
    practice_deprivation,
)
from analysis.funding.payments import YEARS, load_all_payments

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "gp_payments"
TABLE_COLUMNS = ["practices", "weighted_patients", "payments", "per_weighted_patient",
                 "ci_lower", "ci_upper"]


@pytest.fixture(scope="module")
def payments() -> pd.DataFrame:
    return load_all_payments(FIXTURES)


@pytest.fixture(scope="module")
def imd() -> pd.DataFrame:
    return practice_deprivation(pd.read_csv(FIXTURES / "fingertips_93553_sample.csv"))


def synthetic(scores, registered, weighted, paid, year="2022-23", dispensing=None):
    n = len(scores)
    codes = [f"Z{i:05d}" for i in range(n)]
    pay = pd.DataFrame({
        "year": year, "practice_code": codes, "registered_patients": registered,
        "weighted_patients": weighted, "total_payments": paid,
        "dispensing": pd.array(dispensing if dispensing is not None else [False] * n,
                               dtype="boolean"),
        "prescribing_dispensing": 0.0,
    })
    imd = pd.DataFrame({"practice_code": codes, "imd_year": IMD_EDITION_FOR_PAYMENT_YEAR[year],
                        "imd_score": scores})
    return pay, imd


# --- practice deprivation ------------------------------------------------------------


def test_practice_deprivation_from_fingertips(imd: pd.DataFrame) -> None:
    assert list(imd.columns) == ["practice_code", "imd_year", "imd_score"]
    assert set(imd["imd_year"]) == {2010, 2015, 2019}
    assert not imd.duplicated(["practice_code", "imd_year"]).any()
    a81006 = imd[imd["practice_code"] == "A81006"].set_index("imd_year")["imd_score"]
    assert a81006[2019] == pytest.approx(35.61238709)


def test_practice_deprivation_drops_non_practice_rows_and_reads_raw_export() -> None:
    raw = pd.DataFrame({
        "Indicator ID": [93553, 93553, 93553, 93553, 90000],
        "Area Code": ["E92000001", "E38000001", "A81001", "A81002", "A81003"],
        "Area Type": ["England", "Sub-ICB", "GPs", "GPs", "GPs"],
        "Time period": ["2019", "2019", "2019", "2015", "2019"],
        "Value": [21.7, 25.0, 32.36, None, 10.0],
    })
    out = practice_deprivation(raw)
    assert out.to_dict("records") == [
        {"practice_code": "A81001", "imd_year": 2019, "imd_score": 32.36}]
    clash = pd.DataFrame({"AreaCode": ["A81001", "A81001"], "Year": [2019, 2019],
                          "Value": [1.0, 2.0]})
    with pytest.raises(ValueError, match="two different IMD scores"):
        practice_deprivation(clash)
    with pytest.raises(ValueError, match="lacks column"):
        practice_deprivation(pd.DataFrame({"x": [1]}))


def test_imd_edition_mapping_is_explicit_and_never_looks_ahead_after_2014_15() -> None:
    assert set(IMD_EDITION_FOR_PAYMENT_YEAR) == set(YEARS)
    for year, edition in IMD_EDITION_FOR_PAYMENT_YEAR.items():
        assert edition == (2015 if year <= "2018-19" else 2019)
        end_of_year = f"20{year[-2:]}-03-31"
        if year != "2014-15":  # documented exception: IoD2015 came out six months later
            assert IMD_PUBLICATION_DATES[edition] <= end_of_year
            later = [e for e, d in IMD_PUBLICATION_DATES.items() if edition < e
                     and d <= end_of_year]
            assert not later, "a newer edition was available by the end of the year"


# --- group assignment ----------------------------------------------------------------


def test_groups_by_practice_count_hand_computed() -> None:
    scores = pd.Series([50, 45, 40, 35, 30, 25, 20, 15, 10, 5], dtype=float)
    assert assign_deprivation_groups(scores, None, 5).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    # 7 practices: mid-point shares .07 .21 .36 .50 .64 .79 .93
    seven = pd.Series([7, 6, 5, 4, 3, 2, 1], dtype=float)
    assert assign_deprivation_groups(seven, None, 5).tolist() == [1, 2, 2, 3, 4, 4, 5]


def test_groups_patient_weighted_hand_computed() -> None:
    scores = pd.Series([10.0, 40.0, 20.0, 30.0])  # order in the frame must not matter
    weights = pd.Series([5000, 1000, 1000, 3000])
    # sorted by score desc: 40 (1000), 30 (3000), 20 (1000), 10 (5000); total 10000
    # mid-point shares: .05, .25, .45, .75 -> halves: 1, 1, 1, 2
    assert assign_deprivation_groups(scores, weights, 2).tolist() == [2, 1, 1, 1]
    # quintiles: floor(share*5)+1 -> 1, 2, 3, 4
    assert assign_deprivation_groups(scores, weights, 5).tolist() == [4, 1, 3, 2]


def test_groups_ties_missing_and_direction() -> None:
    scores = pd.Series([30.0, 30.0, np.nan, 10.0, 20.0])
    weights = pd.Series([100, 100, 100, 100, 0])
    out = assign_deprivation_groups(scores, weights, 2)
    assert out[0] == out[1] == 1  # tied scores share the most deprived group
    assert out.isna().tolist() == [False, False, True, False, True]  # no score / no weight
    assert out[3] == 2  # lowest score = least deprived


# --- the quintile table ----------------------------------------------------------------


def test_quintile_table_on_fixture_equals_hand_computation(payments, imd) -> None:
    """2022-23 fixture: four practices with patients (A81015 has none).

    IMD 2019 (desc) and registered patients: A81006 35.61 / 14436.75; A83016 32.21 / 10840;
    A81066 16.08 / 5163.25; A81005 15.40 / 8041; total 38481. Mid-point shares 0.188, 0.516,
    0.724, 0.896 -> quintiles 1, 3, 4, 5 (quintile 2 empty).
    """
    t = funding_by_deprivation(payments, imd, year="2022-23")
    assert list(t.columns) == ["quintile", "practices", "weighted_patients", "payments",
                               "per_weighted_patient", "se", "ci_lower", "ci_upper"]
    assert t["quintile"].tolist() == [1, 2, 3, 4, 5]
    assert t["practices"].tolist() == [1, 0, 1, 1, 1]
    hand = {1: (2327508.58, 16060.47), 3: (1934383.68, 12808.32),
            4: (1306447.21, 5059.67), 5: (1432224.54, 9316.36)}
    for q, (paid, wp) in hand.items():
        row = t.set_index("quintile").loc[q]
        assert row["payments"] == pytest.approx(paid)
        assert row["weighted_patients"] == pytest.approx(wp)
        assert row["per_weighted_patient"] == pytest.approx(paid / wp)
        assert np.isnan(row["ci_lower"])  # one practice: no interval
    empty = t.set_index("quintile").loc[2]
    assert empty["payments"] == 0 and np.isnan(empty["per_weighted_patient"])
    assert t.attrs["imd_year"] == 2019 and t.attrs["practices_without_patients"] == 1
    gap = funding_gap(t)
    assert gap["gap_gbp"] == pytest.approx(2327508.58 / 16060.47 - 1432224.54 / 9316.36)
    assert gap["gap_pct"] == pytest.approx(
        (2327508.58 / 16060.47 - 1432224.54 / 9316.36) / (1432224.54 / 9316.36) * 100)
    assert gap["gap_pct"] == pytest.approx(-5.731, abs=1e-3)  # most deprived get less


def test_quintiles_stay_national_under_filters(payments, imd) -> None:
    no_disp = funding_by_deprivation(payments, imd, year="2022-23", include_dispensing=False)
    assert no_disp["practices"].tolist() == [1, 0, 1, 0, 1]  # A81066 (dispensing) dropped
    subset = funding_by_deprivation(payments, imd, year="2022-23",
                                    practices=["A81005", "a81006", "NOPE1"])
    assert subset["practices"].tolist() == [1, 0, 0, 0, 1]  # still quintiles 1 and 5
    assert subset.attrs["practice_codes_not_found"] == ["NOPE1"]
    by_area = funding_by_deprivation(payments, imd, year="2022-23",
                                     practices=lambda d: d["ccg_or_sicb_code"] == "84H")
    assert by_area["practices"].tolist() == [0, 0, 1, 0, 0]  # A83016 only
    by_count = funding_by_deprivation(payments, imd, year="2022-23", weighting="practices")
    assert by_count["practices"].tolist() == [1, 1, 0, 1, 1]  # shares .125 .375 .625 .875


def test_measure_exclude_and_deciles(payments, imd) -> None:
    base = funding_by_deprivation(payments, imd, year="2022-23").set_index("quintile")
    ex = funding_by_deprivation(payments, imd, year="2022-23",
                                exclude=("prescribing_dispensing",)).set_index("quintile")
    rows = payments[payments["year"] == "2022-23"].set_index("practice_code")
    assert base.at[4, "payments"] - ex.at[4, "payments"] == pytest.approx(
        rows.at["A81066", "prescribing_dispensing"])
    incl = funding_by_deprivation(payments, imd, year="2022-23",
                                  measure="total_payments_incl_pcn_covid").set_index("quintile")
    assert incl.at[1, "payments"] == pytest.approx(
        rows.at["A81006", "total_payments_incl_pcn_covid"])
    with pytest.raises(ValueError, match="no 'total_payments_incl_pcn_covid'"):
        funding_by_deprivation(payments, imd, year="2019-20",
                               measure="total_payments_incl_pcn_covid")
    dec = funding_by_deprivation(payments, imd, year="2022-23", groups="decile")
    assert dec["decile"].tolist() == list(range(1, 11))
    assert dec["practices"].sum() == 4
    assert "gap_pct" in funding_gap(dec)
    with pytest.raises(ValueError):
        funding_by_deprivation(payments, imd, year="2022-23", groups="tercile")
    with pytest.raises(ValueError, match="no payments rows"):
        funding_by_deprivation(payments, imd, year="2030-31")


def test_every_year_runs(payments, imd) -> None:
    out = funding_by_deprivation_all_years(payments, imd)
    assert out["year"].unique().tolist() == list(YEARS)
    assert (out.groupby("year")["practices"].sum() >= 3).all()
    assert set(out.loc[out["year"] <= "2018-19", "imd_year"]) == {2015}
    assert set(out.loc[out["year"] >= "2019-20", "imd_year"]) == {2019}


def test_duplicate_practice_in_year_raises(payments, imd) -> None:
    doubled = pd.concat([payments, payments.iloc[[-1]]], ignore_index=True)
    with pytest.raises(ValueError, match="duplicate practice codes"):
        funding_by_deprivation(doubled, imd, year="2022-23")


# --- confidence interval ------------------------------------------------------------------


def test_linearised_se_hand_computed() -> None:
    # 15 practices with equal lists -> quintiles of three, most deprived first
    wp = [100.0, 200.0, 300.0] + [250.0] * 12
    paid = [20000.0, 30000.0, 40000.0] + [37500.0] * 11 + [40000.0]
    pay, imd = synthetic(scores=list(range(60, 45, -1)), registered=[1000] * 15,
                         weighted=wp, paid=paid)
    t = funding_by_deprivation(pay, imd, year="2022-23").set_index("quintile")
    assert t["practices"].tolist() == [3, 3, 3, 3, 3]
    # quintile 1: R = 90000 / 600 = 150; residuals y - R x = 5000, 0, -5000
    r = 90000 / 600
    se = math.sqrt(3 / 2 * (5000**2 + 0 + 5000**2)) / 600
    assert t.at[1, "per_weighted_patient"] == pytest.approx(150.0)
    assert t.at[1, "se"] == pytest.approx(se)  # = 14.4338
    tq = stats.t.ppf(0.975, 2)  # n - 1 = 2 degrees of freedom
    assert t.at[1, "ci_lower"] == pytest.approx(r - tq * se)
    assert t.at[1, "ci_upper"] == pytest.approx(r + tq * se)
    # identical practices: zero variance
    assert t.at[2, "per_weighted_patient"] == pytest.approx(150.0)
    assert t.at[2, "se"] == pytest.approx(0.0)
    t90 = funding_by_deprivation(pay, imd, year="2022-23", confidence=0.9).set_index("quintile")
    assert t90.at[1, "ci_upper"] == pytest.approx(r + stats.t.ppf(0.95, 2) * se)


def test_linearised_se_agrees_with_seeded_bootstrap() -> None:
    rng = np.random.default_rng(20240601)
    n = 400
    weighted = rng.lognormal(np.log(8000), 0.5, n)
    rate = rng.normal(155, 25, n)
    pay, imd = synthetic(scores=rng.uniform(5, 60, n), registered=weighted,
                         weighted=weighted, paid=rate * weighted)
    t = funding_by_deprivation(pay, imd, year="2022-23").set_index("quintile")
    groups = deprivation_groups(pay, imd, year="2022-23").set_index("practice_code")["quintile"]
    df = pay.assign(q=pay["practice_code"].map(groups))
    for q, g in df.groupby("q"):
        y, x = g["total_payments"].to_numpy(), g["weighted_patients"].to_numpy()
        idx = rng.integers(0, len(y), (2000, len(y)))
        boot = y[idx].sum(1) / x[idx].sum(1)
        assert t.at[q, "se"] == pytest.approx(boot.std(ddof=1), rel=0.1)


# --- gap --------------------------------------------------------------------------------


def test_funding_gap_sign_and_value() -> None:
    table = pd.DataFrame({"quintile": [1, 2, 3, 4, 5],
                          "per_weighted_patient": [150.0, 152, 155, 158, 160.0],
                          "se": [1.0, 1, 1, 1, 1.0]})
    gap = funding_gap(table)
    assert gap["gap_gbp"] == pytest.approx(-10.0)
    assert gap["gap_pct"] == pytest.approx(-6.25)
    assert gap["gap_gbp_ci_lower"] < -10 < gap["gap_gbp_ci_upper"]
    assert gap["gap_pct_ci_lower"] < -6.25 < gap["gap_pct_ci_upper"]
    reverse = funding_gap(table.assign(per_weighted_patient=[160.0, 158, 155, 152, 150]))
    assert reverse["gap_pct"] == pytest.approx(10 / 150 * 100) and reverse["gap_gbp"] > 0
    with pytest.raises(ValueError):
        funding_gap(pd.DataFrame({"tercile": [1, 2, 3]}))


# --- properties -------------------------------------------------------------------------

practice = st.tuples(
    st.floats(1, 70),  # IMD score
    st.floats(1, 50_000),  # weighted patients
    st.floats(-50, 2_000),  # payments per weighted patient
)


@settings(max_examples=100, deadline=None)
@given(st.lists(practice, min_size=1, max_size=40), st.sampled_from(["quintile", "decile"]),
       st.sampled_from(["patients", "practices"]))
def test_group_rate_lies_between_practice_rates(rows, groups, weighting) -> None:
    scores, weighted, rates = (list(v) for v in zip(*rows, strict=True))
    pay, imd = synthetic(scores, registered=weighted, weighted=weighted,
                         paid=[r * w for r, w in zip(rates, weighted, strict=True)])
    t = funding_by_deprivation(pay, imd, year="2022-23", groups=groups, weighting=weighting)
    dep = deprivation_groups(pay, imd, year="2022-23", groups=groups,
                             weighting=weighting).set_index("practice_code")[groups]
    practice_rate = pay.set_index("practice_code")["total_payments"] / pay.set_index(
        "practice_code")["weighted_patients"]
    assert t["practices"].sum() == len(rows)
    for _, row in t[t["practices"] > 0].iterrows():
        members = practice_rate[dep == row[groups]]
        tol = 1e-9 * max(1.0, members.abs().max())
        assert members.min() - tol <= row["per_weighted_patient"] <= members.max() + tol
    # 1 = most deprived: a higher score never sits in a higher-numbered group
    order = pd.DataFrame({"s": scores, "g": dep.to_numpy()}).sort_values("s", ascending=False)
    assert order["g"].is_monotonic_increasing
