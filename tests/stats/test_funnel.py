"""Tests for analysis.stats.funnel: confidence intervals and funnel limits against published
values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.stats.funnel import (
    FLAGS,
    OHID_SIGNIFICANCE,
    byars_ci,
    count_funnel_limits,
    exact_poisson_ci,
    funnel_plot,
    poisson_ci,
    proportion_funnel_limits,
    rate_ci,
    rate_funnel_limits,
    ratio_ci,
    ratio_funnel_limits,
    wilson_ci,
)

DATA = Path(__file__).resolve().parents[1] / "fixtures"


# --------------------------------------------------------------------------------------
# Wilson score interval
# --------------------------------------------------------------------------------------

# Newcombe RG (1998) "Two-sided confidence intervals for the single proportion: comparison
# of seven methods", Stat Med 17:857-872, Table I, method 3 (Wilson score, no continuity
# correction), 95% limits to four decimal places.
NEWCOMBE_1998_WILSON = [
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0000, 0.1611),
    (1, 29, 0.0061, 0.1718),
]


@pytest.mark.parametrize(("events", "size", "lower", "upper"), NEWCOMBE_1998_WILSON)
def test_wilson_reproduces_newcombe_1998_table_1(events, size, lower, upper):
    ci = wilson_ci(events, size, 0.95)
    assert float(ci.lower) == pytest.approx(lower, abs=5e-5)
    assert float(ci.upper) == pytest.approx(upper, abs=5e-5)


def test_wilson_is_vectorised_and_unpacks():
    events = np.array([81, 15, 0, 1])
    sizes = np.array([263, 148, 20, 29])
    lower, upper = wilson_ci(events, sizes)
    assert lower.shape == upper.shape == (4,)
    np.testing.assert_allclose(lower, [r[2] for r in NEWCOMBE_1998_WILSON], atol=5e-5)
    np.testing.assert_allclose(upper, [r[3] for r in NEWCOMBE_1998_WILSON], atol=5e-5)


def test_wilson_at_zero_and_all():
    lower, upper = wilson_ci([0, 29], [29, 29])
    assert lower[0] == 0.0
    assert upper[1] == 1.0


@settings(max_examples=300, deadline=None)
@given(
    size=st.integers(min_value=1, max_value=10**7),
    fraction=st.floats(min_value=0.0, max_value=1.0),
    confidence=st.floats(min_value=0.5, max_value=0.9999),
)
def test_wilson_limits_lie_in_unit_interval_and_contain_p(size, fraction, confidence):
    events = np.floor(fraction * size)
    lower, upper = wilson_ci(events, size, confidence)
    p = events / size
    assert 0.0 <= lower <= p + 1e-12
    assert p - 1e-12 <= upper <= 1.0


@settings(max_examples=100, deadline=None)
@given(size=st.integers(min_value=2, max_value=10**6), fraction=st.floats(0.0, 1.0))
def test_wilson_99_8_interval_contains_95_interval(size, fraction):
    events = np.floor(fraction * size)
    narrow = wilson_ci(events, size, 0.95)
    wide = wilson_ci(events, size, 0.998)
    assert wide.lower <= narrow.lower + 1e-15
    assert wide.upper >= narrow.upper - 1e-15


# --------------------------------------------------------------------------------------
# Byar's and exact Poisson intervals
# --------------------------------------------------------------------------------------


def test_byars_reproduces_published_example_with_z_1_96():
    # Example in the documentation of the "byar" Ruby gem (Byar's approximation, z = 1.96):
    # 100 observed -> upper bound 121.628347271806; lower bound / 90 expected ->
    # 0.9040199067337297. Our z is the exact quantile 1.959964..., so agreement is to ~1e-5.
    lower, upper = byars_ci(100, 0.95)
    assert float(upper) == pytest.approx(121.628347271806, rel=1e-5)
    assert float(lower) / 90 == pytest.approx(0.9040199067337297, rel=1e-5)


def test_byars_formula_matches_phe_technical_guide_appendix_1():
    # PHE Technical Guide: Confidence Intervals (2018), appendix 1 / Fingertips "Rates":
    # O_lower = O(1 - 1/(9O) - z/(3 sqrt O))^3, O_upper = (O+1)(1 - 1/(9(O+1)) + z/(3 sqrt(O+1)))^3
    z = 1.959963984540054
    count = 65.0
    expected_lower = count * (1 - 1 / (9 * count) - z / (3 * np.sqrt(count))) ** 3
    expected_upper = (count + 1) * (1 - 1 / (9 * (count + 1)) + z / (3 * np.sqrt(count + 1))) ** 3
    lower, upper = byars_ci(count)
    assert float(lower) == pytest.approx(expected_lower, rel=1e-12)
    assert float(upper) == pytest.approx(expected_upper, rel=1e-12)


def test_exact_poisson_reproduces_phe_funnel_ratio_table():
    # PHEindicatormethods tests/testthat/testdata_funnel_ratio_outputs.csv: for each observed
    # count, the expected counts at which it sits on a funnel limit. These are the exact
    # Poisson confidence limits of the count ("upper_*_exp_events" = lower limit, ...).
    # Their values come from a bisection to 1e-7, hence the tolerance.
    table = pd.read_csv(DATA / "funnel_phe_ratio_limits.csv")
    ci_95 = exact_poisson_ci(table["observed_events"], 0.95)
    ci_998 = exact_poisson_ci(table["observed_events"], 0.998)
    np.testing.assert_allclose(ci_95.lower, table["upper_2s_exp_events"], rtol=1e-4)
    np.testing.assert_allclose(ci_95.upper, table["lower_2s_exp_events"], rtol=1e-4)
    np.testing.assert_allclose(ci_998.lower, table["upper_3s_exp_events"], rtol=1e-4)
    np.testing.assert_allclose(ci_998.upper, table["lower_3s_exp_events"], rtol=1e-4)


def test_exact_poisson_at_zero():
    lower, upper = exact_poisson_ci(0, 0.95)
    assert float(lower) == 0.0
    assert float(upper) == pytest.approx(-np.log(0.025), rel=1e-12)  # 3.689


@pytest.mark.parametrize("count", [10, 11, 20, 50, 100, 389, 1000, 5000])
def test_byars_within_0_2_percent_of_exact_from_10_events(count):
    # PHE Technical Guide: Confidence Intervals (2018): "for 95% confidence intervals,
    # Byar's method is within 0.2% of the exact value for numerators of 10 or more".
    approx = byars_ci(count, 0.95)
    exact = exact_poisson_ci(count, 0.95)
    assert float(approx.lower) == pytest.approx(float(exact.lower), rel=0.002)
    assert float(approx.upper) == pytest.approx(float(exact.upper), rel=0.002)


def test_poisson_ci_switches_from_exact_to_byars_at_10():
    counts = np.array([0, 5, 9, 10, 250])
    combined = poisson_ci(counts)
    exact = exact_poisson_ci(counts)
    approx = byars_ci(counts)
    np.testing.assert_array_equal(combined.lower[:3], exact.lower[:3])
    np.testing.assert_array_equal(combined.lower[3:], approx.lower[3:])
    np.testing.assert_array_equal(combined.upper[3:], approx.upper[3:])


@settings(max_examples=300, deadline=None)
@given(
    count=st.floats(min_value=0.0, max_value=1e7, allow_nan=False),
    confidence=st.sampled_from([0.8, 0.9, 0.95, 0.99, 0.998]),
)
def test_byars_lower_at_most_count_at_most_upper(count, confidence):
    lower, upper = byars_ci(count, confidence)
    assert 0.0 <= lower <= count <= upper


def test_rate_and_ratio_ci_scale_count_limits():
    count_limits = poisson_ci([25, 4])
    lower, upper = rate_ci([25, 4], [50_000, 8_000], multiplier=100_000)
    np.testing.assert_allclose(lower, count_limits.lower / [50_000, 8_000] * 100_000)
    np.testing.assert_allclose(upper, count_limits.upper / [50_000, 8_000] * 100_000)
    lower, upper = ratio_ci([25, 4], [20.0, 5.0], multiplier=100)
    np.testing.assert_allclose(lower, count_limits.lower / [20.0, 5.0] * 100)


# --------------------------------------------------------------------------------------
# Funnel limits
# --------------------------------------------------------------------------------------


def test_proportion_limits_reproduce_phe_funnels_outputs():
    # PHEindicatormethods tests/testthat/testdata_funnel_prop_outputs.csv (phe_funnels /
    # calculate_funnel_limits, statistic = "proportion", multiplier = 100): baseline
    # 80.642448% and the 95% ("2s") and 99.8% ("3s") limits at a range of populations.
    table = pd.read_csv(DATA / "funnel_phe_proportion_limits.csv")
    target = table["Baseline"].iloc[0] / 100
    limits_95 = proportion_funnel_limits(table["Population"], target, 0.95)
    limits_998 = proportion_funnel_limits(table["Population"], target, 0.998)
    np.testing.assert_allclose(limits_95.lower * 100, table["Lower2s0025limit"], atol=2e-6)
    np.testing.assert_allclose(limits_95.upper * 100, table["Upper2s0025limit"], atol=2e-6)
    np.testing.assert_allclose(limits_998.lower * 100, table["Lower3s0001limit"], atol=2e-6)
    np.testing.assert_allclose(limits_998.upper * 100, table["Upper3s0001limit"], atol=2e-6)


def test_count_limits_invert_phe_ratio_funnel_table():
    # At the expected count where PHEindicatormethods puts observed count O on a limit, our
    # continuous limit must equal O (testdata_funnel_ratio_outputs.csv).
    table = pd.read_csv(DATA / "funnel_phe_ratio_limits.csv")
    observed = table["observed_events"].to_numpy(float)
    upper_95 = count_funnel_limits(table["upper_2s_exp_events"], 0.95).upper
    lower_95 = count_funnel_limits(table["lower_2s_exp_events"], 0.95).lower
    upper_998 = count_funnel_limits(table["upper_3s_exp_events"], 0.998).upper
    lower_998 = count_funnel_limits(table["lower_3s_exp_events"], 0.998).lower
    for limit in (upper_95, lower_95, upper_998, lower_998):
        np.testing.assert_allclose(limit, observed, rtol=1e-5, atol=2e-4)


def test_ratio_and_rate_limits_agree_with_count_limits():
    expected = np.array([4.0, 30.0, 250.0])
    counts = count_funnel_limits(expected, 0.95)
    ratio = ratio_funnel_limits(expected, multiplier=100, confidence=0.95)
    np.testing.assert_allclose(ratio.upper, 100 * counts.upper / expected)
    population = np.array([2_000.0, 15_000.0, 125_000.0])
    rate = rate_funnel_limits(population, 200.0, multiplier=100_000, confidence=0.95)
    np.testing.assert_allclose(rate.lower, 100_000 * counts.lower / population)


@settings(max_examples=200, deadline=None)
@given(
    small=st.floats(min_value=1.0, max_value=1e5),
    factor=st.floats(min_value=1.01, max_value=100.0),
    target=st.floats(min_value=0.01, max_value=0.99),
)
def test_proportion_funnel_narrows_as_denominator_grows(small, factor, target):
    narrow = proportion_funnel_limits(small * factor, target)
    wide = proportion_funnel_limits(small, target)
    assert wide.lower <= narrow.lower <= target <= narrow.upper <= wide.upper


@settings(max_examples=200, deadline=None)
@given(
    small=st.floats(min_value=0.5, max_value=1e5),
    factor=st.floats(min_value=1.01, max_value=100.0),
    confidence=st.sampled_from([0.95, 0.998]),
)
def test_ratio_funnel_narrows_as_expected_count_grows(small, factor, confidence):
    narrow = ratio_funnel_limits(small * factor, confidence=confidence)
    wide = ratio_funnel_limits(small, confidence=confidence)
    assert wide.lower <= narrow.lower + 1e-12
    assert narrow.upper <= wide.upper + 1e-12
    assert narrow.lower <= 1.0 <= narrow.upper


# --------------------------------------------------------------------------------------
# Outlier flags against PHEindicatormethods' assign_funnel_significance
# --------------------------------------------------------------------------------------


def test_proportion_flags_reproduce_phe_significance():
    # PHEindicatormethods tests/testthat/testdata_funnel_prop_inputs.csv (303 PCTs).
    data = pd.read_csv(DATA / "funnel_phe_proportion_significance.csv")
    result = funnel_plot(data["numerator"], data["denominator"], statistic="proportion")
    assert result.target == pytest.approx(80.642448, abs=1e-6)
    assert list(result.areas["flag"].map(OHID_SIGNIFICANCE)) == list(data["significance"])


def test_ratio_flags_reproduce_phe_significance():
    # PHEindicatormethods tests/testthat/testdata_funnel_ratio_inputs.csv (300 areas,
    # observed vs expected, including a zero count and counts below 10).
    data = pd.read_csv(DATA / "funnel_phe_ratio_significance.csv")
    result = funnel_plot(data["obs"], data["expected"], statistic="ratio")
    assert result.target == 1.0
    assert list(result.areas["flag"].map(OHID_SIGNIFICANCE)) == list(data["significance"])


@pytest.mark.parametrize(
    ("column", "keep_zero"),
    [("crude_per_100000_with_0", True), ("crude_per_100000_without_0", False)],
)
def test_rate_flags_reproduce_phe_significance(column, keep_zero):
    # PHEindicatormethods tests/testthat/testdata_funnel_rate_dsr_inputs.csv, crude rates per
    # 100,000 with the pooled rate as target, with and without the area that has 0 events.
    data = pd.read_csv(DATA / "funnel_phe_rate_significance.csv")
    if not keep_zero:
        data = data[data["count"] > 0]
    result = funnel_plot(data["count"], data["pop"], statistic="rate", multiplier=100_000)
    assert list(result.areas["flag"].map(OHID_SIGNIFICANCE)) == list(data[column])


def test_flags_agree_with_limits_at_each_area():
    data = pd.read_csv(DATA / "funnel_phe_ratio_significance.csv")
    areas = funnel_plot(data["obs"], data["expected"], statistic="ratio").areas
    above = areas["value"] > areas["upper_95"]
    below = areas["value"] < areas["lower_95"]
    flagged_high = areas["flag"].isin(["above 95%", "above 99.8%"])
    flagged_low = areas["flag"].isin(["below 95%", "below 99.8%"])
    assert (above == flagged_high).all()
    assert (below == flagged_low).all()


def test_funnel_plot_curve_and_result_shape():
    result = funnel_plot([10, 40, 90], [100, 400, 1000], statistic="proportion",
                         area=["A", "B", "C"], curve_points=50)
    assert list(result.areas["area"]) == ["A", "B", "C"]
    assert len(result.curve) == 50
    assert result.curve["denominator"].is_monotonic_increasing
    width = result.curve["upper_95"] - result.curve["lower_95"]
    assert (np.diff(width.to_numpy()) <= 1e-12).all()
    assert (result.curve["lower_998"] <= result.curve["lower_95"]).all()
    assert set(result.flag_counts()) == set(FLAGS)
    assert sum(result.flag_counts().values()) == 3


def test_funnel_plot_with_explicit_target_in_display_units():
    result = funnel_plot([50, 500], [100, 1000], statistic="proportion", target=40.0)
    assert result.target == pytest.approx(40.0)
    assert list(result.areas["flag"]) == ["above 95%", "above 99.8%"]


# --------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------


def test_mismatched_lengths_are_rejected():
    with pytest.raises(ValueError, match="same length"):
        wilson_ci([1, 2, 3], [10, 10])
    with pytest.raises(ValueError, match="same length"):
        funnel_plot([1, 2, 3], [10, 10])


def test_nan_is_rejected_with_position():
    with pytest.raises(ValueError, match=r"numerator\[1\] is missing \(NaN\)"):
        wilson_ci([1, np.nan], [10, 10])


def test_zero_denominator_is_rejected_with_position():
    with pytest.raises(ValueError, match=r"denominator\[2\] is 0: denominator must be positive"):
        funnel_plot([1, 2, 3], [10, 10, 0], statistic="rate")


def test_negative_count_is_rejected():
    with pytest.raises(ValueError, match=r"count\[0\] is -4"):
        byars_ci([-4, 5])


def test_numerator_above_denominator_is_rejected():
    with pytest.raises(ValueError, match=r"numerator\[1\] is 12 but its denominator is 10"):
        wilson_ci([3, 12], [10, 10])
    with pytest.raises(ValueError, match=r"numerator\[1\] is 12"):
        funnel_plot([3, 12], [10, 10], statistic="proportion")


def test_pandas_index_label_is_named():
    numerators = pd.Series([3, np.nan], index=["E01000001", "E01000002"])
    with pytest.raises(ValueError, match="E01000002"):
        wilson_ci(numerators, [10, 10])


@pytest.mark.parametrize("confidence", [0, 1, 95, -0.5])
def test_confidence_must_be_a_proportion(confidence):
    with pytest.raises(ValueError, match="confidence"):
        byars_ci(10, confidence)


def test_target_outside_zero_one_is_rejected():
    with pytest.raises(ValueError, match="target"):
        proportion_funnel_limits([100], 1.2)
    with pytest.raises(ValueError, match="target"):
        funnel_plot([0, 0], [10, 10], statistic="proportion")
    with pytest.raises(ValueError, match="target"):
        funnel_plot([0, 0], [1000, 1000], statistic="rate")


def test_unknown_statistic_is_rejected():
    with pytest.raises(ValueError, match="statistic"):
        funnel_plot([1], [10], statistic="odds")  # type: ignore[arg-type]
