"""Tests for analysis.stats.standardisation: crude rates, DSRs and ISRs.

Published values reproduced (each test cites its source):

* ESP2013 weights: Eurostat (2013) *Revision of the European Standard Population*.
* DSR: the Down's syndrome data of Fleiss (1981) table 14.4 (birth order 5+, Michigan
  1950-64), used by Fay & Feuer (1997) Stat Med 16:791-801 and printed in the vignette
  "dsrTest - examples" of the R package dsrTest 1.0.0: DSR 75.52901 per 100,000 and the gamma
  interval 67.70212 to 188.30017. The gamma interval is built from the same variance as
  Dobson's, so reproducing it checks the variance term. The Dobson limits themselves are checked
  against an independent scalar computation (Byar's formula written out, scipy's chi-squared).
* ISR and crude rates: the "Getting started" example of SAS/STAT's PROC STDRATE (skin-cancer
  deaths, Florida against the United States, 2000): reference crude rates, expected events,
  stratum SMRs and study crude rates as printed there. The limits of the ISR are checked against
  scipy's chi-squared quantiles and Byar's formula written out.

PHEindicatormethods' own reference numbers live in Excel workbooks (tests/testthat/*.xlsx) that
are not available as text, so they are not used here.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats

from analysis.stats.standardisation import (
    AGE_BANDS,
    CRUDE_RATE_COLUMNS,
    DSR_COLUMNS,
    ESP2013,
    ISR_COLUMNS,
    crude_rates,
    directly_standardised_rates,
    indirectly_standardised_ratios,
    reference_rates,
    standard_population,
)

Z95 = stats.norm.ppf(0.975)

# ---------------------------------------------------------------------------------------------
# ESP2013
# ---------------------------------------------------------------------------------------------

# Eurostat (2013), five-year bands with 90-94 (800) and 95+ (200) joined as 90+.
EUROSTAT_ESP2013 = [5000, 5500, 5500, 5500, 6000, 6000, 6500, 7000, 7000, 7000,
                    7000, 6500, 6000, 5500, 5000, 4000, 2500, 1500, 1000]


def test_esp2013_is_eurostats_standard_population():
    assert list(ESP2013.index) == list(AGE_BANDS)
    assert AGE_BANDS[0] == "0-4" and AGE_BANDS[-2] == "85-89" and AGE_BANDS[-1] == "90+"
    assert ESP2013.tolist() == EUROSTAT_ESP2013
    assert ESP2013.sum() == 100_000


def test_standard_population_on_the_19_bands_is_esp2013():
    pd.testing.assert_series_equal(standard_population(AGE_BANDS), ESP2013,
                                   check_names=False)


def test_standard_population_collapses_scotlands_85_plus():
    bands = [*AGE_BANDS[:17], "85+"]
    weights = standard_population(bands)
    assert weights["85+"] == 1500 + 1000
    assert weights["80-84"] == 2500
    assert weights.sum() == 100_000
    assert list(weights.index) == bands


def test_standard_population_splits_infants_and_the_oldest():
    weights = standard_population(["<1", "1-4", "90-94", "95+"])
    assert weights.tolist() == [1000, 4000, 800, 200]
    assert standard_population(["0", "1-4"]).tolist() == [1000, 4000]
    assert standard_population(["5-14", "15-24", "85+"]).tolist() == [11000, 11500, 2500]
    # An under-75 rate standardises on the first 15 bands only, as OHID does.
    assert standard_population(AGE_BANDS[:15]).sum() == sum(EUROSTAT_ESP2013[:15])


@pytest.mark.parametrize(("bands", "message"), [
    (["0-4", "5-11"], r"'5-11' does not line up with the ESP2013 bands"),
    (["0-4", "adults"], r"'adults' is not a band"),
    (["0-4", "0-4"], r"'0-4' is given twice"),
    (["0-9", "5-14"], r"'0-9' and '5-14' overlap"),
    (["10-4"], r"'10-4' ends before it starts"),
    ([], r"no age bands"),
])
def test_standard_population_rejects_bands_it_cannot_build(bands, message):
    with pytest.raises(ValueError, match=message):
        standard_population(bands)


# ---------------------------------------------------------------------------------------------
# DSR: Fleiss (1981) / Fay & Feuer (1997) / dsrTest vignette
# ---------------------------------------------------------------------------------------------

DOWNS_CASES = [0, 8, 63, 112, 262, 295]
DOWNS_BIRTHS = [327, 30666, 123419, 149919, 104088, 34392]
DOWNS_STANDARD = [319933, 931318, 786511, 488235, 237863, 61313]
DOWNS_BANDS = ["<20", "20-24", "25-29", "30-34", "35-39", "40+"]


def downs_frame() -> pd.DataFrame:
    return pd.DataFrame({"age_band": DOWNS_BANDS, "events": DOWNS_CASES,
                         "population": DOWNS_BIRTHS})


def downs_standard() -> pd.Series:
    return pd.Series(DOWNS_STANDARD, index=DOWNS_BANDS, dtype=float)


def test_dsr_reproduces_the_published_down_syndrome_rate():
    # dsrTest vignette: "Directly standardized rate per 1e+05  75.52901" (7 significant
    # figures printed, so compared to half a unit in the last place).
    result = directly_standardised_rates(downs_frame(), standard=downs_standard())
    row = result.iloc[0]
    assert row["dsr"] == pytest.approx(75.52901, abs=5e-6)
    assert row["events"] == 740 and row["population"] == sum(DOWNS_BIRTHS)
    assert bool(row["published"]) and row["note"] == ""


def _variance_from_limits(row: pd.Series, count_upper: float, multiplier: float) -> float:
    """Dobson's variance recovered from the upper limit: (U - DSR) = m sqrt(v/O) (O_U - O)."""
    observed = row["events"]
    spread = (row["upper"] - row["dsr"]) / (multiplier * (count_upper - observed))
    return spread**2 * observed


def test_dsr_variance_reproduces_the_published_fay_feuer_gamma_interval():
    # dsrTest vignette, gamma method: 95 percent confidence interval 67.70212 188.30017.
    # Fay & Feuer's interval uses the same variance v = sum w_i^2 x_i / (n_i W)^2 as Dobson's.
    result = directly_standardised_rates(downs_frame(), standard=downs_standard()).iloc[0]
    observed = result["events"]
    count_upper = (observed + 1) * (1 - 1 / (9 * (observed + 1))
                                    + Z95 / (3 * math.sqrt(observed + 1))) ** 3
    variance = _variance_from_limits(result, count_upper, 1e5)
    estimate = result["dsr"] / 1e5
    w_max = max(w / n for w, n in zip(DOWNS_STANDARD, DOWNS_BIRTHS, strict=True)) / sum(
        DOWNS_STANDARD)
    lower = stats.gamma.ppf(0.025, estimate**2 / variance, scale=variance / estimate)
    upper = stats.gamma.ppf(0.975, (estimate + w_max) ** 2 / (variance + w_max**2),
                            scale=(variance + w_max**2) / (estimate + w_max))
    assert lower * 1e5 == pytest.approx(67.70212, abs=5e-6)
    assert upper * 1e5 == pytest.approx(188.30017, abs=5e-6)


def _dobson_by_hand(cases, people, weights, z, exact=False, level=0.95):
    """Scalar Dobson et al. (1991) limits written out independently of the module."""
    total_w = sum(weights)
    dsr = sum(w * x / n for w, x, n in zip(weights, cases, people, strict=True)) / total_w
    var = sum(w * w * x / (n * n) for w, x, n in zip(weights, cases, people,
                                                   strict=True)) / total_w**2
    o = sum(cases)
    if exact:
        alpha = 1 - level
        o_low = stats.chi2.ppf(alpha / 2, 2 * o) / 2
        o_up = stats.chi2.ppf(1 - alpha / 2, 2 * o + 2) / 2
    else:
        o_low = o * (1 - 1 / (9 * o) - z / (3 * math.sqrt(o))) ** 3
        o_up = (o + 1) * (1 - 1 / (9 * (o + 1)) + z / (3 * math.sqrt(o + 1))) ** 3
    spread = math.sqrt(var / o)
    return dsr, dsr + spread * (o_low - o), dsr + spread * (o_up - o)


@pytest.mark.parametrize("confidence", [0.95, 0.998])
def test_dsr_byar_dobson_limits_match_an_independent_computation(confidence):
    z = stats.norm.ppf(0.5 + confidence / 2)
    result = directly_standardised_rates(downs_frame(), standard=downs_standard(),
                                         confidence=confidence).iloc[0]
    dsr, lower, upper = _dobson_by_hand(DOWNS_CASES, DOWNS_BIRTHS, DOWNS_STANDARD, z)
    assert result["dsr"] == pytest.approx(dsr * 1e5, rel=1e-12)
    assert result["lower"] == pytest.approx(lower * 1e5, rel=1e-9)
    assert result["upper"] == pytest.approx(upper * 1e5, rel=1e-9)


def test_dsr_exact_dobson_limits_match_an_independent_computation():
    result = directly_standardised_rates(downs_frame(), standard=downs_standard(),
                                         method="exact").iloc[0]
    _, lower, upper = _dobson_by_hand(DOWNS_CASES, DOWNS_BIRTHS, DOWNS_STANDARD, Z95,
                                      exact=True)
    assert result["lower"] == pytest.approx(lower * 1e5, rel=1e-9)
    assert result["upper"] == pytest.approx(upper * 1e5, rel=1e-9)
    # Byar's limits are within 0.2% of the exact ones from 10 events (PHE technical guide).
    byars = directly_standardised_rates(downs_frame(), standard=downs_standard()).iloc[0]
    assert byars["lower"] == pytest.approx(result["lower"], rel=2e-3)
    assert byars["upper"] == pytest.approx(result["upper"], rel=2e-3)


def test_dsr_with_esp2013_matches_the_formula_on_19_bands():
    rng = np.random.default_rng(7)
    people = rng.integers(5_000, 40_000, size=19)
    cases = rng.integers(0, 120, size=19)
    frame = pd.DataFrame({"age_band": AGE_BANDS, "events": cases, "population": people})
    result = directly_standardised_rates(frame).iloc[0]
    dsr, lower, upper = _dobson_by_hand(cases.tolist(), people.tolist(), EUROSTAT_ESP2013, Z95)
    assert result[["dsr", "lower", "upper"]].astype(float).tolist() == pytest.approx(
        [dsr * 1e5, lower * 1e5, upper * 1e5], rel=1e-9)


# ---------------------------------------------------------------------------------------------
# ISR and crude rates: SAS/STAT PROC STDRATE "Getting started" (Florida vs US, 2000)
# ---------------------------------------------------------------------------------------------

SAS_AGES = ["00-04", "05-14", "15-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75-84",
            "85+"]
FLORIDA_DEATHS = [0, 0, 4, 14, 43, 72, 70, 126, 136, 73]
FLORIDA_PYEARS = [953785, 1997935, 1885014, 1957573, 2356649, 2088000, 1548371, 1447432,
                  1087524, 335944]
US_DEATHS = [0, 1, 41, 186, 626, 1199, 1303, 1637, 1624, 803]
US_PYEARS = [19175798, 41077577, 39183891, 39892024, 45148527, 37677952, 24274684, 18390986,
             12361180, 4239587]
# Printed in the "Indirectly Standardized Strata Statistics" and "Strata SMR Estimates" tables.
SAS_US_RATE_PER_100K = [0.0000, 0.0024, 0.1046, 0.4663, 1.3865, 3.1822, 5.3677, 8.9011,
                        13.1379, 18.9405]
SAS_FLORIDA_RATE_PER_100K = [0.0000, 0.0000, 0.2122, 0.7152, 1.8246, 3.4483, 4.5209, 8.7051,
                             12.5055, 21.7298]
SAS_EXPECTED = [0.000, 0.049, 1.972, 9.127, 32.676, 66.445, 83.112, 128.837, 142.878, 63.630]
SAS_STRATUM_SMR = {"15-24": 2.0280, "25-34": 1.5339, "35-44": 1.3160, "45-54": 1.0836,
                   "55-64": 0.8422}


def florida() -> pd.DataFrame:
    return pd.DataFrame({"age_band": SAS_AGES, "events": FLORIDA_DEATHS,
                         "population": FLORIDA_PYEARS})


def united_states() -> pd.DataFrame:
    return pd.DataFrame({"age_band": SAS_AGES, "events": US_DEATHS, "population": US_PYEARS})


def test_reference_rates_reproduce_sas_stdrate():
    rates = reference_rates(united_states())
    assert list(rates.index) == sorted(SAS_AGES)
    assert (rates[SAS_AGES] * 1e5).tolist() == pytest.approx(SAS_US_RATE_PER_100K, abs=5e-5)


def test_isr_expected_events_and_stratum_smrs_reproduce_sas_stdrate():
    rates = reference_rates(united_states())
    # The 00-04 stratum expects 0 deaths (SAS prints no SMR for it), so it is left out.
    strata = florida().iloc[1:].assign(stratum=SAS_AGES[1:])
    result = indirectly_standardised_ratios(strata, rates, by="stratum").set_index("stratum")
    assert result.loc[SAS_AGES[1:], "expected"].tolist() == pytest.approx(SAS_EXPECTED[1:],
                                                                        abs=5e-4)
    for band, smr in SAS_STRATUM_SMR.items():
        assert result.loc[band, "ratio"] / 100 == pytest.approx(smr, abs=5e-5)


def test_crude_rates_reproduce_sas_stdrate():
    frame = florida().assign(stratum=SAS_AGES)
    result = crude_rates(frame, by="stratum").set_index("stratum")
    assert result.loc[SAS_AGES, "rate"].tolist() == pytest.approx(SAS_FLORIDA_RATE_PER_100K,
                                                                  abs=5e-5)


def test_isr_of_florida_and_its_limits_match_independent_computations():
    rates = reference_rates(united_states())
    total = indirectly_standardised_ratios(florida(), rates).iloc[0]
    expected = sum(n * d / p for n, d, p in zip(FLORIDA_PYEARS, US_DEATHS, US_PYEARS,
                                                strict=True))
    assert total["observed"] == 538
    assert total["expected"] == pytest.approx(expected, rel=1e-12)
    assert total["expected"] == pytest.approx(sum(SAS_EXPECTED), abs=5e-3)
    assert total["ratio"] == pytest.approx(100 * 538 / expected, rel=1e-12)
    # 538 events: OHID uses Byar's limits.
    o = 538
    byar_low = o * (1 - 1 / (9 * o) - Z95 / (3 * math.sqrt(o))) ** 3
    byar_up = (o + 1) * (1 - 1 / (9 * (o + 1)) + Z95 / (3 * math.sqrt(o + 1))) ** 3
    assert total["lower"] == pytest.approx(100 * byar_low / expected, rel=1e-12)
    assert total["upper"] == pytest.approx(100 * byar_up / expected, rel=1e-12)
    exact = indirectly_standardised_ratios(florida(), rates, method="exact").iloc[0]
    assert exact["lower"] == pytest.approx(
        100 * stats.chi2.ppf(0.025, 2 * o) / 2 / expected, rel=1e-9)
    assert exact["upper"] == pytest.approx(
        100 * stats.chi2.ppf(0.975, 2 * o + 2) / 2 / expected, rel=1e-9)


def test_isr_below_10_events_uses_exact_limits_as_ohid():
    rates = reference_rates(united_states())
    young = florida().iloc[:3]  # 4 deaths
    result = indirectly_standardised_ratios(young, rates).iloc[0]
    expected = result["expected"]
    assert result["observed"] == 4
    assert result["lower"] == pytest.approx(100 * stats.chi2.ppf(0.025, 8) / 2 / expected,
                                            rel=1e-9)
    assert result["upper"] == pytest.approx(100 * stats.chi2.ppf(0.975, 10) / 2 / expected,
                                            rel=1e-9)


def test_crude_rate_limits_follow_ohid_exact_below_10_and_byar_from_10():
    frame = pd.DataFrame({"area": ["a", "b"], "events": [7, 250],
                          "population": [10_000, 120_000]})
    result = crude_rates(frame, by="area").set_index("area")
    assert result.loc["a", "rate"] == pytest.approx(70.0)
    assert result.loc["a", "lower"] == pytest.approx(stats.chi2.ppf(0.025, 14) / 2 / 0.1,
                                                     rel=1e-9)
    assert result.loc["a", "upper"] == pytest.approx(stats.chi2.ppf(0.975, 16) / 2 / 0.1,
                                                     rel=1e-9)
    o = 250
    assert result.loc["b", "upper"] == pytest.approx(
        (o + 1) * (1 - 1 / (9 * (o + 1)) + Z95 / (3 * math.sqrt(o + 1))) ** 3 / 1.2, rel=1e-12)
    forced = crude_rates(frame, by="area", method="byars").set_index("area")
    o = 7
    assert forced.loc["a", "lower"] == pytest.approx(
        o * (1 - 1 / (9 * o) - Z95 / (3 * math.sqrt(o))) ** 3 / 0.1, rel=1e-12)


def test_crude_rates_without_groups_give_one_row_of_the_whole_table():
    result = crude_rates(florida(), multiplier=1e6)
    assert list(result.columns) == list(CRUDE_RATE_COLUMNS)
    assert len(result) == 1
    assert result["rate"].iloc[0] == pytest.approx(538 / sum(FLORIDA_PYEARS) * 1e6)


# ---------------------------------------------------------------------------------------------
# Grouped tables
# ---------------------------------------------------------------------------------------------


def quintile_frame() -> pd.DataFrame:
    rng = np.random.default_rng(2013)
    rows = []
    for quintile in range(1, 6):
        for sex in ("F", "M"):
            people = rng.integers(2_000, 20_000, size=19)
            cases = rng.poisson(people * np.linspace(0.0005, 0.05, 19) * (1.3 - quintile / 10))
            rows.append(pd.DataFrame({"quintile": quintile, "sex": sex, "age_band": AGE_BANDS,
                                      "events": cases, "population": people}))
    return pd.concat(rows, ignore_index=True)


def test_grouped_dsrs_equal_each_group_alone_and_keep_the_group_columns():
    frame = quintile_frame()
    result = directly_standardised_rates(frame, by=["quintile", "sex"])
    assert list(result.columns) == ["quintile", "sex", *DSR_COLUMNS]
    assert len(result) == 10
    for _, row in result.iterrows():
        alone = frame[(frame.quintile == row.quintile) & (frame.sex == row.sex)]
        single = directly_standardised_rates(alone).iloc[0]
        assert row[["dsr", "lower", "upper"]].astype(float).tolist() == pytest.approx(
            single[["dsr", "lower", "upper"]].astype(float).tolist(), rel=1e-12)


def test_rows_repeating_a_group_and_band_are_summed():
    frame = quintile_frame()
    persons = (frame.groupby(["quintile", "age_band"], as_index=False)[["events", "population"]]
               .sum())
    by_sex_rows = directly_standardised_rates(frame, by="quintile")
    summed = directly_standardised_rates(persons, by="quintile")
    pd.testing.assert_frame_equal(by_sex_rows, summed)
    isr_rows = indirectly_standardised_ratios(frame, by="quintile")
    isr_summed = indirectly_standardised_ratios(persons, by="quintile")
    pd.testing.assert_frame_equal(isr_rows, isr_summed)


def test_isr_columns_and_expected_counts_add_up_to_the_observed_total():
    frame = quintile_frame()
    result = indirectly_standardised_ratios(frame, by="quintile")
    assert list(result.columns) == ["quintile", *ISR_COLUMNS]
    # With the whole table as reference, the expected counts redistribute the observed total.
    assert result["expected"].sum() == pytest.approx(frame["events"].sum(), rel=1e-12)


def test_isr_reference_rates_can_be_a_mapping():
    rates = reference_rates(united_states())
    as_series = indirectly_standardised_ratios(florida(), rates)
    as_dict = indirectly_standardised_ratios(florida(), rates.to_dict())
    pd.testing.assert_frame_equal(as_series, as_dict)


# ---------------------------------------------------------------------------------------------
# Edge cases
# ---------------------------------------------------------------------------------------------


def small_frame(events: list[int]) -> pd.DataFrame:
    return pd.DataFrame({"age_band": AGE_BANDS, "events": events,
                         "population": [1_000] * 19})


def test_fewer_than_10_events_is_not_published_but_counts_are_reported():
    events = [0] * 19
    events[15], events[17] = 4, 3
    result = directly_standardised_rates(small_frame(events)).iloc[0]
    assert not result["published"]
    assert np.isnan(result["dsr"]) and np.isnan(result["lower"]) and np.isnan(result["upper"])
    assert result["events"] == 7 and result["population"] == 19_000
    assert result["note"].startswith("not published: 7 events, fewer than the 10")
    lowered = directly_standardised_rates(small_frame(events), min_events=5).iloc[0]
    assert lowered["published"] and lowered["note"] == ""
    assert lowered["dsr"] == pytest.approx((4 * 4000 + 3 * 1500) / 1000 / 100_000 * 1e5)


def test_ten_events_are_published():
    events = [0] * 19
    events[18] = 10
    result = directly_standardised_rates(small_frame(events)).iloc[0]
    assert result["published"]
    assert result["dsr"] == pytest.approx(10 / 1000 * 1000 / 100_000 * 1e5)


def test_a_group_with_no_events():
    frame = pd.concat([small_frame([0] * 19).assign(area="none"),
                       small_frame([20] * 19).assign(area="some")])
    default = directly_standardised_rates(frame, by="area").set_index("area")
    assert not default.loc["none", "published"] and default.loc["some", "published"]
    result = directly_standardised_rates(frame, by="area", min_events=0).set_index("area")
    none = result.loc["none"]
    assert none["dsr"] == 0 and none["lower"] == 0
    # The upper limit puts Byar's upper count for 0 events in the band where one event weighs
    # most: with 1,000 people in every band, the 7,000-weight bands (35-54).
    upper_count = 1 * (1 - 1 / 9 + Z95 / 3) ** 3
    assert none["upper"] == pytest.approx(upper_count * 7000 / 1000 / 100_000 * 1e5, rel=1e-12)
    assert none["upper"] > 0


def test_a_missing_band_counts_as_no_events_in_no_people():
    full = small_frame([5] * 19)
    missing = full[full.age_band != "90+"]
    zero_row = full.copy()
    zero_row.loc[zero_row.age_band == "90+", ["events", "population"]] = 0
    both = pd.concat([missing.assign(area="missing"), full.assign(area="full")])
    result = directly_standardised_rates(both, by="area").set_index("area")
    explicit = directly_standardised_rates(zero_row, standard=ESP2013).iloc[0]
    assert result.loc["missing", ["dsr", "lower", "upper"]].astype(float).tolist() == (
        pytest.approx(explicit[["dsr", "lower", "upper"]].astype(float).tolist(), rel=1e-12))
    assert result.loc["missing", "dsr"] == pytest.approx(
        5 / 1000 * (100_000 - 1000) / 100_000 * 1e5)


def test_events_in_a_band_without_people_name_the_group_and_band():
    frame = pd.concat([small_frame([5] * 19).assign(area="north"),
                       small_frame([5] * 19).assign(area="south")], ignore_index=True)
    frame.loc[(frame.area == "south") & (frame.age_band == "40-44"), "population"] = 0
    with pytest.raises(ValueError, match=r"group area='south', age band '40-44': 5 events but "
                                         r"a population of 0"):
        directly_standardised_rates(frame, by="area")
    with pytest.raises(ValueError, match=r"area='south', age band '40-44'"):
        indirectly_standardised_ratios(frame, by="area")


def test_scottish_bands_use_the_collapsed_standard_by_default():
    bands = [*AGE_BANDS[:17], "85+"]
    frame = pd.DataFrame({"age_band": bands, "events": [10] * 18,
                          "population": [2_000] * 18})
    result = directly_standardised_rates(frame).iloc[0]
    assert result["dsr"] == pytest.approx(10 / 2000 * 1e5)


def test_an_explicit_standard_may_be_a_mapping():
    frame = downs_frame()
    as_dict = directly_standardised_rates(frame, standard=dict(zip(DOWNS_BANDS, DOWNS_STANDARD,
                                                                   strict=True)))
    as_series = directly_standardised_rates(frame, standard=downs_standard())
    pd.testing.assert_frame_equal(as_dict, as_series)


def test_grouping_by_a_categorical_keeps_only_groups_present():
    frame = quintile_frame()
    frame["quintile"] = pd.Categorical(frame["quintile"], categories=[1, 2, 3, 4, 5, 6])
    result = directly_standardised_rates(frame, by="quintile")
    assert result["quintile"].tolist() == [1, 2, 3, 4, 5]


# ---------------------------------------------------------------------------------------------
# Bad inputs
# ---------------------------------------------------------------------------------------------


def grouped_small() -> pd.DataFrame:
    return pd.concat([small_frame([5] * 19).assign(area="north"),
                      small_frame([5] * 19).assign(area="south")], ignore_index=True)


@pytest.mark.parametrize("function", [directly_standardised_rates, indirectly_standardised_ratios,
                                      crude_rates])
def test_negative_counts_name_the_row_group_and_band(function):
    frame = grouped_small()
    frame.loc[25, "events"] = -2
    with pytest.raises(ValueError, match=r"events is -2 at row 25 \(group area='south'"):
        function(frame, by="area")


def test_negative_count_message_names_the_age_band():
    frame = grouped_small()
    frame.loc[25, "population"] = -1
    with pytest.raises(ValueError, match=r"population is -1 at row 25 \(group area='south', "
                                         r"age band '30-34'\): counts must be zero or more"):
        directly_standardised_rates(frame, by="area")


def test_missing_count_names_the_row_group_and_band():
    frame = grouped_small()
    frame["events"] = frame["events"].astype(float)
    frame.loc[3, "events"] = np.nan
    with pytest.raises(ValueError, match=r"events is missing \(NaN\) at row 3 \(group "
                                         r"area='north', age band '15-19'\)"):
        directly_standardised_rates(frame, by="area")


def test_text_in_a_count_column_is_refused():
    frame = grouped_small().astype({"events": object})
    frame.loc[4, "events"] = "five"
    with pytest.raises(ValueError, match=r"events is 'five' at row 4"):
        indirectly_standardised_ratios(frame, by="area")


def test_unknown_band_is_named():
    frame = grouped_small()
    frame.loc[30, "age_band"] = "55-61"
    with pytest.raises(ValueError, match=r"row 30 \(group area='south', age band '55-61'\): "
                                         r"age band '55-61' does not line up with the ESP2013"):
        directly_standardised_rates(frame, by="area")


def test_band_missing_from_an_explicit_standard_is_named_with_its_group():
    frame = grouped_small()
    with pytest.raises(ValueError, match=r"row 18 \(group area='north', age band '90\+'\): age "
                                         r"band '90\+' is not in the standard population"):
        directly_standardised_rates(frame, by="area", standard=ESP2013.iloc[:18])


def test_band_without_a_reference_rate_is_named():
    rates = reference_rates(small_frame([5] * 19)).drop("60-64")
    with pytest.raises(ValueError, match=r"age band '60-64' has no reference rate"):
        indirectly_standardised_ratios(grouped_small(), rates, by="area")


@pytest.mark.parametrize(("rates", "message"), [
    (pd.Series({"0-4": -0.1}), r"reference rate of age band '0-4' is -0.1"),
    (pd.Series({"0-4": np.nan}), r"reference rate of age band '0-4'"),
    (pd.Series(dtype=float), r"reference_rates is empty"),
    ([0.1, 0.2], r"reference_rates must be a pandas Series"),
])
def test_bad_reference_rates_are_refused(rates, message):
    with pytest.raises(ValueError, match=message):
        indirectly_standardised_ratios(small_frame([5] * 19), rates)


@pytest.mark.parametrize(("standard", "message"), [
    (pd.Series({"0-4": -5.0}), r"standard population of age band '0-4' is -5"),
    (pd.Series({"0-4": np.inf}), r"standard population of age band '0-4' is inf"),
    (pd.Series({"0-4": 0.0}), r"sums to 0"),
    (pd.Series(dtype=float), r"standard is empty"),
    ([1, 2], r"standard must be a pandas Series"),
])
def test_bad_standards_are_refused(standard, message):
    with pytest.raises(ValueError, match=message):
        directly_standardised_rates(small_frame([5] * 19), standard=standard)


def test_isr_of_a_group_expecting_nothing_is_an_error():
    rates = pd.Series(0.0, index=AGE_BANDS)
    with pytest.raises(ValueError, match=r"the whole table expects 0 events"):
        indirectly_standardised_ratios(small_frame([5] * 19), rates)


def test_group_without_people_is_an_error():
    frame = grouped_small()
    frame.loc[frame.area == "south", ["events", "population"]] = 0
    with pytest.raises(ValueError, match=r"group area='south' has a population of 0"):
        crude_rates(frame, by="area")
    with pytest.raises(ValueError, match=r"group area='south' has a population of 0"):
        directly_standardised_rates(frame, by="area")


def test_reference_band_without_people_is_an_error():
    frame = small_frame([0] * 19)
    frame.loc[0, "population"] = 0
    with pytest.raises(ValueError, match=r"age band '0-4' has a population of 0 in the whole"):
        reference_rates(frame)


def test_missing_group_label_is_named():
    frame = grouped_small()
    frame.loc[7, "area"] = None
    with pytest.raises(ValueError, match=r"area is missing at row 7"):
        directly_standardised_rates(frame, by="area")


def test_missing_column_and_empty_table():
    with pytest.raises(ValueError, match=r"column\(s\) \['deaths'\] not in the table"):
        directly_standardised_rates(small_frame([5] * 19), events="deaths")
    with pytest.raises(ValueError, match=r"the table has no rows"):
        crude_rates(small_frame([5] * 19).iloc[:0])
    with pytest.raises(ValueError, match=r"expected a pandas DataFrame"):
        crude_rates([1, 2, 3])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"used twice"):
        directly_standardised_rates(small_frame([5] * 19), by="age_band")


@pytest.mark.parametrize(("options", "message"), [
    ({"confidence": 95}, r"confidence is 95"),
    ({"confidence": 0.0}, r"confidence is 0"),
    ({"multiplier": 0}, r"multiplier is 0"),
    ({"multiplier": float("nan")}, r"multiplier is nan"),
    ({"min_events": -1}, r"min_events is -1"),
    ({"method": "ohid"}, r"method is 'ohid': use 'byars' or 'exact'"),
    ({"by": [1]}, r"by must name columns"),
    ({"by": ["area", "area"]}, r"by names a column twice"),
])
def test_bad_options_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        directly_standardised_rates(grouped_small(), **{"by": "area", **options})


def test_bad_method_for_rates_and_ratios():
    with pytest.raises(ValueError, match=r"method is 'byar'"):
        crude_rates(small_frame([5] * 19), method="byar")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"method is 'normal'"):
        indirectly_standardised_ratios(small_frame([5] * 19),
                                       method="normal")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------

counts_19 = st.lists(st.integers(0, 400), min_size=19, max_size=19)
people_19 = st.lists(st.integers(1, 200_000), min_size=19, max_size=19)


def frame_of(events, people) -> pd.DataFrame:
    return pd.DataFrame({"age_band": AGE_BANDS, "events": events, "population": people})


@settings(max_examples=60, deadline=None)
@given(events=counts_19, scale=st.integers(1, 40))
def test_dsr_of_a_population_shaped_like_the_standard_is_its_crude_rate(events, scale):
    assume(sum(events) >= 10)
    frame = frame_of(events, [w * scale for w in EUROSTAT_ESP2013])
    dsr = directly_standardised_rates(frame)["dsr"].iloc[0]
    crude = crude_rates(frame)["rate"].iloc[0]
    assert dsr == pytest.approx(crude, rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(events=counts_19, people=people_19, factor=st.integers(2, 50))
def test_multiplying_populations_by_k_divides_rates_by_k(events, people, factor):
    assume(sum(events) >= 1)
    base = frame_of(events, people)
    bigger = frame_of(events, [n * factor for n in people])
    columns = ["dsr", "lower", "upper"]
    before = directly_standardised_rates(base, min_events=0)[columns].to_numpy()
    after = directly_standardised_rates(bigger, min_events=0)[columns].to_numpy()
    np.testing.assert_allclose(after * factor, before, rtol=1e-10, atol=1e-12)
    crude_before = crude_rates(base)[["rate", "lower", "upper"]].to_numpy()
    crude_after = crude_rates(bigger)[["rate", "lower", "upper"]].to_numpy()
    np.testing.assert_allclose(crude_after * factor, crude_before, rtol=1e-10, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(events=counts_19, people=people_19, factor=st.integers(2, 50))
def test_multiplying_events_and_populations_keeps_the_dsr_and_narrows_its_interval(
        events, people, factor):
    assume(sum(events) >= 1)
    base = directly_standardised_rates(frame_of(events, people), min_events=0).iloc[0]
    more = directly_standardised_rates(
        frame_of([e * factor for e in events], [n * factor for n in people]),
        min_events=0).iloc[0]
    assert more["dsr"] == pytest.approx(base["dsr"], rel=1e-12)
    assert more["upper"] - more["lower"] < base["upper"] - base["lower"]
    assert more["lower"] >= base["lower"] - 1e-9 * abs(base["dsr"])


@settings(max_examples=60, deadline=None)
@given(events=counts_19, people=people_19)
def test_isr_of_the_reference_population_itself_is_100(events, people):
    assume(sum(events) >= 1)
    frame = frame_of(events, people)
    default = indirectly_standardised_ratios(frame).iloc[0]
    explicit = indirectly_standardised_ratios(frame, reference_rates(frame)).iloc[0]
    assert default["ratio"] == pytest.approx(100.0, rel=1e-12)
    assert explicit["ratio"] == pytest.approx(100.0, rel=1e-12)
    assert default["expected"] == pytest.approx(default["observed"], rel=1e-12)
    assert default["lower"] <= 100.0 <= default["upper"]


@settings(max_examples=80, deadline=None)
@given(events=counts_19, people=people_19, confidence=st.sampled_from([0.9, 0.95, 0.998]),
       method=st.sampled_from(["byars", "exact"]))
def test_dsr_lies_within_its_limits(events, people, confidence, method):
    result = directly_standardised_rates(frame_of(events, people), min_events=0,
                                         confidence=confidence, method=method).iloc[0]
    assert result["lower"] <= result["dsr"] <= result["upper"]
    assert result["upper"] > 0


@settings(max_examples=60, deadline=None)
@given(events=counts_19, people=people_19)
def test_wider_confidence_gives_wider_limits(events, people):
    assume(sum(events) >= 10)
    frame = frame_of(events, people)
    narrow = directly_standardised_rates(frame, confidence=0.95).iloc[0]
    wide = directly_standardised_rates(frame, confidence=0.998).iloc[0]
    assert wide["lower"] < narrow["lower"] and wide["upper"] > narrow["upper"]
