"""The GP workforce table (practice × year qualified GP headcount) and GP workforce per 10,000
weighted patients by practice deprivation quintile: the build's checks, the embedded table
against figures read from the raw file while building, the ratio estimator by hand, the
denominator rule for 2023-24, the words, the command line and the GP funding page."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from analysis.build.raw import RawDataError
from analysis.build.workforce import (
    financial_year_label,
    gp_workforce_table,
    headcount_supply,
    workforce_quality,
)
from analysis.cli import app
from analysis.funding.payments import load_gp_payments, load_practice_imd
from analysis.funding.workforce import (
    IMD_EDITION_FOR_WORKFORCE_YEAR,
    WORKFORCE_YEARS,
    load_gp_workforce,
    patient_denominator,
    read_workforce_gap,
    trend_gaps,
    workforce_by_deprivation,
    workforce_display_table,
    workforce_gap_sentence,
    workforce_trend,
    workforce_trend_sentence,
)

runner = CliRunner()


def _raw(**columns) -> pd.DataFrame:
    base = {"Practice.Code": ["A81001", "A81001", "B81085"], "fiscal_year": [23, 24, 24],
            "TOTAL_PATIENTS": ["4033.5", "3939.2", "5268.9"],
            "TOTAL_GP_EXTGL_HC": ["2", "2", "NA"]}
    base.update(columns)
    return pd.DataFrame(base)


# -- the build: reading and checking the raw compilation ----------------------------------


def test_financial_year_labels_follow_the_nhs_year():
    assert financial_year_label(pd.Series([16, 20, 24])).tolist() == [
        "2015-16", "2019-20", "2023-24"]


def test_na_headcount_is_kept_missing_not_zero():
    table = gp_workforce_table(_raw())
    assert table["year"].tolist() == ["2022-23", "2023-24", "2023-24"]
    assert table["registered_patients"].tolist() == [4033.5, 3939.2, 5268.9]
    assert table["qualified_gp_headcount"].iloc[:2].tolist() == [2.0, 2.0]
    assert np.isnan(table["qualified_gp_headcount"].iloc[2])
    quality = workforce_quality(table)
    assert quality["headcount_missing"] == 1
    assert quality["headcount_missing_by_year"] == {"2023-24": 1}
    assert quality["headcount_missing_examples"] == "B81085 2023-24"


@pytest.mark.parametrize(("columns", "message"), [
    ({"Practice.Code": ["A81001", "A8100", "B81085"]},
     "column Practice.Code is not a practice code (a letter and five digits) at line 3 "
     "('A8100')"),
    ({"fiscal_year": [23, 25, 24]}, "column fiscal_year must be a whole number from 16 to 24 "
                                    "at line 3 ('25')"),
    ({"TOTAL_GP_EXTGL_HC": ["2", "two", "NA"]}, "column TOTAL_GP_EXTGL_HC is not a number at "
                                                "line 3 ('two')"),
    ({"TOTAL_GP_EXTGL_HC": ["2", "-1", "NA"]}, "column TOTAL_GP_EXTGL_HC is negative at line 3"),
    ({"TOTAL_PATIENTS": ["4033.5", "NA", "5268.9"]}, "column TOTAL_PATIENTS is empty at line 3"),
    ({"fiscal_year": [24, 24, 24]}, "a practice appears twice in one year at line 2 ('A81001'), "
                                    "line 3 ('A81001')"),
])
def test_bad_raw_rows_are_named_by_line_and_column(columns, message):
    with pytest.raises(RawDataError) as caught:
        gp_workforce_table(_raw(**columns), "gp_workforce.csv")
    assert str(caught.value).startswith("gp_workforce.csv: ")
    assert message in str(caught.value)


def test_a_missing_column_is_named():
    with pytest.raises(RawDataError, match=r"missing column\(s\) \['TOTAL_GP_EXTGL_HC'\]"):
        gp_workforce_table(_raw().drop(columns="TOTAL_GP_EXTGL_HC"))


def test_supply_carries_a_missing_headcount_forward_one_year_and_reports_the_rest():
    workforce = pd.DataFrame({
        "practice_code": ["P00001", "P00001", "P00002", "P00002", "P00003", "P00004"],
        "year": ["2022-23", "2023-24", "2022-23", "2023-24", "2023-24", "2023-24"],
        "registered_patients": [1000.0, 1000.0, 2000.0, 2000.0, 3000.0, 400.0],
        "qualified_gp_headcount": [3.0, np.nan, 4.0, 5.0, np.nan, 2.0],
    })
    supply = headcount_supply(workforce, pd.Series(["P00001", "P00002", "P00003", "P00009"]))
    assert supply.supply.to_dict() == pytest.approx(
        {"P00001": 3.0, "P00002": 5.0, "P00003": np.nan, "P00009": np.nan}, nan_ok=True)
    assert supply.carried_forward == ("P00001",)
    assert supply.without_headcount == ("P00003", "P00009")
    assert supply.not_on_practice_list == ("P00004",)
    assert supply.gps_not_on_practice_list == 2.0
    assert supply.patients_not_on_practice_list == 400.0
    assert "1 carried forward" in supply.summary()
    with pytest.raises(ValueError, match="no rows for '2024-25'"):
        headcount_supply(workforce, pd.Series(["P00001"]), "2024-25")


# -- the embedded table ---------------------------------------------------------------------


def test_embedded_table_counts_years_and_missing_headcounts():
    table = load_gp_workforce()
    assert list(table.columns) == ["practice_code", "year", "registered_patients",
                                   "qualified_gp_headcount"]
    assert len(table) == 62_673 and table["practice_code"].nunique() == 7_761
    counts = table.groupby("year").size()
    assert tuple(counts.index) == WORKFORCE_YEARS
    assert counts["2015-16"] == 7_623 and counts["2023-24"] == 6_392
    assert not table.duplicated(["practice_code", "year"]).any()
    missing = table["qualified_gp_headcount"].isna()
    assert missing.sum() == 272  # the raw file's NA rows, none read as zero
    assert missing[table["year"] == "2023-24"].sum() == 69
    assert table.loc[table["year"] == "2023-24", "qualified_gp_headcount"].sum() == 36_539
    # practices only in early years are kept (closed or merged since)
    assert table.groupby("practice_code")["year"].max().lt("2023-24").sum() == 1_369


@pytest.mark.parametrize(("code", "year", "patients", "gps"), [
    # read from england/gp_workforce_headcount_2016-2024.csv while building
    ("A81001", "2015-16", 4222.0, 2.0),
    ("A81001", "2023-24", 3939.2, 2.0),
    ("A81002", "2015-16", 19667.0, 11.0),
    ("A81002", "2023-24", 18423.2, 9.0),
    ("B83033", "2023-24", 86756.8, 58.0),
    ("B81085", "2015-16", 4944.0, 2.0),
    ("A81070", "2019-20", 7052.0, np.nan),
    ("A81070", "2023-24", 6429.2, np.nan),
])
def test_known_practices_match_the_raw_file(code, year, patients, gps):
    row = load_gp_workforce().query("practice_code == @code and year == @year")
    assert len(row) == 1
    assert row["registered_patients"].iloc[0] == pytest.approx(patients, abs=1e-6)
    assert row["qualified_gp_headcount"].iloc[0] == pytest.approx(gps, nan_ok=True)


# -- GPs per 10,000 weighted patients by deprivation ----------------------------------------


def _toy(year: str = "2022-23"):
    codes = [f"P{i:05d}" for i in range(10)]
    workforce = pd.DataFrame({"practice_code": codes, "year": year,
                              "registered_patients": 1000.0 * np.arange(1, 11),
                              "qualified_gp_headcount": [1, 1, 2, 2, 3, 3, 4, 5, 5, np.nan]})
    payments = pd.DataFrame({"practice_code": codes, "year": "2022-23",
                             "registered_patients": 1000.0 * np.arange(1, 11),
                             "weighted_patients": 1100.0 * np.arange(1, 11)})
    imd = pd.DataFrame({"practice_code": codes, "imd_year": 2019,
                        "imd_score": np.linspace(50, 5, 10)})
    return workforce, payments, imd


def test_rate_is_gps_over_weighted_patients_by_hand():
    workforce, payments, imd = _toy()
    table = workforce_by_deprivation(workforce, payments, imd, year="2022-23")
    one = table.set_index("quintile").loc[1]
    assert table.attrs["practices_without_headcount"] == 1  # P00009: NA, left out, counted
    gps = table["gps"].sum()
    assert gps == 26.0
    assert table["patients"].sum() == pytest.approx(1100.0 * 45)
    # patient-weighted fifths of 55,000 patients by mid-point of cumulative share: P00000 to
    # P00003 (mid-points 0.9% to 14.5%) are quintile 1, P00004 (22.7%) quintile 2
    assert (one["practices"], one["gps"], one["patients"]) == (4, 6.0, 11_000.0)
    assert one["gps_per_10k"] == pytest.approx(6 / 11_000 * 10_000)
    # every interval brackets its rate; a one-practice group has none; an empty group no rate
    shown = table.dropna(subset=["ci_lower"])
    assert (shown["ci_lower"] <= shown["gps_per_10k"]).all()
    assert (shown["gps_per_10k"] <= shown["ci_upper"]).all()
    assert table["practices"].tolist() == [4, 2, 2, 1, 0]
    assert np.isnan(table["ci_lower"].iloc[3]) and np.isnan(table["gps_per_10k"].iloc[4])
    assert table.attrs["patients_basis"] == "Carr-Hill weighted patients (2022-23 payments)"


def test_2023_24_weighted_patients_carry_the_2022_23_ratio():
    workforce, payments, imd = _toy("2023-24")
    denominator, basis = patient_denominator(workforce, payments, "2023-24")
    assert denominator.tolist() == pytest.approx(1100.0 * np.arange(1, 11))  # ratio 1.1
    assert basis.startswith("weighted patients estimated: the 2023-24 registered list")
    registered, basis = patient_denominator(workforce, payments, "2023-24", "registered")
    assert registered.tolist() == workforce["registered_patients"].tolist()
    table = workforce_by_deprivation(workforce, payments, imd, year="2023-24")
    assert table.attrs["estimated"] and table.attrs["imd_year"] == 2019
    assert IMD_EDITION_FOR_WORKFORCE_YEAR["2023-24"] == 2019


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.floats(500, 30_000)), min_size=6,
                max_size=40))
def test_all_practices_in_one_group_give_the_ratio_of_sums(rows):
    codes = [f"Q{i:05d}" for i in range(len(rows))]
    gps = np.array([r[0] for r in rows], dtype=float)
    patients = np.array([r[1] for r in rows])
    workforce = pd.DataFrame({"practice_code": codes, "year": "2022-23",
                              "registered_patients": patients, "qualified_gp_headcount": gps})
    payments = pd.DataFrame({"practice_code": codes, "year": "2022-23",
                             "registered_patients": patients, "weighted_patients": patients})
    imd = pd.DataFrame({"practice_code": codes, "imd_year": 2019, "imd_score": 10.0})
    table = workforce_by_deprivation(workforce, payments, imd, year="2022-23")
    group = table[table["practices"] > 0]
    assert len(group) == 1  # equal scores share a group
    assert group["gps_per_10k"].iloc[0] == pytest.approx(gps.sum() / patients.sum() * 1e4)


def test_bad_inputs_are_errors():
    workforce, payments, imd = _toy()
    with pytest.raises(ValueError, match="no GP workforce rows for year '2019-20'"):
        workforce_by_deprivation(workforce, payments, imd, year="2019-20")
    with pytest.raises(ValueError, match="no IMD edition is mapped for workforce year"):
        workforce_by_deprivation(workforce, payments, imd, year="2024-25")
    with pytest.raises(ValueError, match="patients must be 'weighted' or 'registered'"):
        workforce_by_deprivation(workforce, payments, imd, year="2022-23",
                                 patients="raw")  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def england_trend():
    return workforce_trend(load_gp_workforce(), load_gp_payments(), load_practice_imd())


def test_england_most_deprived_fifth_has_fewer_gps_in_every_year(england_trend):
    assert sorted(england_trend["year"].unique()) == list(WORKFORCE_YEARS)
    gaps = trend_gaps(england_trend)
    assert all(g.comparable and g.direction == "lower" for g in gaps)
    first, last = gaps[0], gaps[-1]
    assert (round(first.most, 2), round(first.least, 2)) == (5.49, 6.67)
    assert (round(last.most, 2), round(last.least, 2)) == (5.16, 6.70)
    assert round(last.gap_pct, 1) == -23.1 and last.estimated and not first.estimated
    # 2022-23 uses the payments file's weighted patients: quintile totals add up to the
    # weighted lists of practices with a headcount, patients and an IMD score
    year = england_trend[england_trend["year"] == "2022-23"]
    assert year["patients"].sum() == pytest.approx(61_925_642, rel=1e-4)
    assert year["gps"].sum() == 36_143


def test_england_sentences_quote_figures_with_units(england_trend):
    gaps = trend_gaps(england_trend)
    assert workforce_gap_sentence(gaps[-1], "England") == (
        "England, 2023-24: practices serving the most deprived fifth of patients had 5.16 "
        "fully qualified GPs per 10,000 weighted patients, against 6.70 for the least "
        "deprived fifth: 1.55 fewer (23.1%; 95% CI 20.5% to 25.5%). Weighted patients for "
        "2023-24 are estimated (no payments file yet).")
    trend = workforce_trend_sentence(gaps)
    assert trend.startswith("From 2015-16 to 2023-24 practices serving the most deprived "
                            "fifth of patients had fewer GPs per 10,000 weighted patients "
                            "than the least deprived in every year; the gap widened, from "
                            "17.7% fewer in 2015-16 to 23.1% fewer in 2023-24")
    assert "from 5.49 to 5.16 (−6.1%) fully qualified GPs per 10,000 weighted patients" in trend


def test_small_end_groups_are_said_not_compared():
    from analysis.access import practices_in_area

    trend = workforce_trend(load_gp_workforce(), load_gp_payments(), load_practice_imd(),
                            practices=practices_in_area("E08000010"))
    gaps = trend_gaps(trend)
    sentence = workforce_gap_sentence(gaps[-1], "Wigan")
    assert "the least deprived fifth of patients is served by only 3 practices here" in sentence
    assert "Across all 55 practices there were 4.80 fully qualified GPs" in sentence
    assert workforce_trend_sentence(gaps).startswith("The gap cannot be followed over time")
    table = trend[trend["year"] == "2023-24"].drop(columns=["year", "imd_year", "estimated"])
    table.attrs = {"estimated": True}
    shown = workforce_display_table(table)
    assert "Weighted patients (estimated)" in shown.columns
    assert "(fewer than 5 practices)" in " ".join(shown["95% confidence interval"])
    assert read_workforce_gap(table.assign()).direction == "unknown"


# -- command line and page --------------------------------------------------------------------


def test_cli_workforce_json_and_text():
    result = runner.invoke(app, ["gp-funding", "--measure", "workforce", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["year"] == "2023-24" and out["weighted_patients_estimated"] is True
    assert [q["quintile"] for q in out["quintiles"]] == [1, 2, 3, 4, 5]
    assert out["quintiles"][0]["gps_per_10k"] == pytest.approx(5.156, abs=1e-3)
    assert len(out["trend"]) == 9 and out["comparison"]["direction"] == "lower"
    text = runner.invoke(app, ["gp-funding", "--measure", "workforce", "--year", "2019-20"])
    assert text.exit_code == 0, text.output
    assert "GP workforce per 10,000 weighted patients: England (E92000001), 2019-20" in text.output
    assert "excluding GPs in training and locums" in text.output
    bad = runner.invoke(app, ["gp-funding", "--measure", "workforce", "--year", "2013-14"])
    assert bad.exit_code != 0 and "years available: 2015-16" in bad.output
    assert runner.invoke(app, ["gp-funding", "--measure", "beds"]).exit_code != 0


def test_gp_funding_page_shows_the_workforce_chart_and_table():
    from tests.dashboard.test_dashboard_pages import open_page, texts

    at = open_page("gp_funding", "E92000001")
    assert "GP workforce by practice deprivation" in [h.value for h in at.header]
    text = texts(at)
    assert "5.16 fully qualified GPs per 10,000 weighted patients, against 6.70" in text
    assert "the gap widened, from 17.7% fewer in 2015-16 to 23.1% fewer in 2023-24" in text
    assert "2022-23 ratio of weighted to registered patients" in text
    assert "headcount, not full-time equivalents" in text
    assert len(at.get("arrow_vega_lite_chart")) >= 2 or len(at.get("vega_lite_chart")) >= 2
    table = at.dataframe[1].value
    assert list(table.columns)[-2:] == ["GPs per 10,000 patients", "95% confidence interval"]
    assert table.iloc[0]["GPs per 10,000 patients"] == "5.16"
    assert "Weighted patients (estimated)" in table.columns
    assert any(s.value == "2023-24 GP workforce by quintile" for s in at.subheader)
