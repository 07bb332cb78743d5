"""Tests for the inequality measures: analysis.stats.sii, concentration, distribution and gaps.

Reference values and where they come from:

* Slope index: the input data are the worked example published with OHID's PHEindicatormethods
  (``tests/fixtures/phe_sii_example.csv``). The expected SII, RII and intercept here are derived
  independently (PHE's published outputs for its vignette examples are reproduced separately
  in ``tests/stats/test_inequality_phe_reference.py``): a statsmodels weighted least-squares fit of
  value on relative rank with population-share weights, which is what
  ``lm(y*sqrt(a) ~ sqrt(a) + b*sqrt(a) - 1)`` in phe_sii computes. Expected confidence limits
  are analytic: for ``value_type="normal"`` the simulated SII is exactly normal, so its
  quantiles are ``SII +/- z sd``; other cases use the delta method or the exact normality of
  the slope on the transformed scale.
* Index of disparity and Gini: Chesson HW, Patel CG, Gift TL, Bernstein KT, Aral SO. Using
  reported rates of sexually transmitted diseases to illustrate potential methodological issues
  in the measurement of racial and ethnic disparities. Sex Transm Dis 2017;44(9):513-518,
  Tables 2 and 4 (published to 1 and 3 decimal places).
* Everything else is derived by hand in the test that uses it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from analysis.stats import (
    ConcentrationIndexResult,
    InequalityMeasure,
    concentration_curve,
    concentration_index,
    gini,
    index_of_disparity,
    mean_log_deviation,
    population_attributable_risk,
    quantile_difference,
    quantile_means,
    quantile_ratio,
    slope_index,
    theil_t,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PHE_EXAMPLE = pd.read_csv(FIXTURES / "phe_sii_example.csv", comment="#")
Z95 = norm.ppf(0.975)
SIMULATION_TOLERANCE = 0.05  # relative; phe_sii's own tests allow 0.05 on simulated limits


def phe_area(area: str) -> pd.DataFrame:
    return PHE_EXAMPLE[PHE_EXAMPLE["area"] == area].sort_values("decile")


def reference_fit(values: np.ndarray, populations: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Intercept, slope and the slope's row of the WLS hat matrix, computed independently."""
    share = populations / populations.sum()
    rank = np.cumsum(share) - share / 2
    design = sm.add_constant(rank)
    fit = sm.WLS(values, design, weights=share).fit()
    weighted = design.T * share
    hat = np.linalg.solve(weighted @ design, weighted)
    return float(fit.params[0]), float(fit.params[1]), hat


def assert_close(actual: float, expected: float, rel: float) -> None:
    assert actual == pytest.approx(expected, rel=rel), (actual, expected)


# ---------------------------------------------------------------------------------------------
# Slope index: PHE worked example
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("area", ["Area1", "Area2"])
def test_sii_point_estimates_match_independent_weighted_fit(area: str) -> None:
    data = phe_area(area)
    values, populations = data["value"].to_numpy(), data["population"].to_numpy(float)
    intercept, slope, _ = reference_fit(values, populations)

    result = slope_index(values, populations, standard_errors=data["standard_error"], seed=1)

    assert_close(result.sii, slope, 1e-10)
    assert_close(result.rii, (intercept + slope) / intercept, 1e-10)
    assert_close(result.intercept, intercept, 1e-10)


def test_sii_area1_by_hand() -> None:
    # Weighted least squares in closed form: slope = cov_f(b, y) / var_f(b), and the weighted
    # mean rank is exactly 1/2, so intercept = mean_f(y) - slope / 2.
    data = phe_area("Area1")
    share = data["population"].to_numpy(float) / data["population"].sum()
    rank = np.cumsum(share) - share / 2
    y = data["value"].to_numpy()
    mean_y = share @ y
    slope = share @ ((rank - 0.5) * (y - mean_y)) / (share @ (rank - 0.5) ** 2)
    intercept = mean_y - slope * 0.5

    result = slope_index(y, data["population"], standard_errors=data["standard_error"], seed=2)

    assert_close(result.sii, slope, 1e-10)
    assert_close(result.intercept, intercept, 1e-10)
    assert result.sii == pytest.approx(7.0002, abs=1e-4)
    assert result.intercept == pytest.approx(78.0321, abs=1e-4)


@pytest.mark.parametrize("area", ["Area1", "Area2"])
def test_sii_normal_limits_match_exact_normal_quantiles(area: str) -> None:
    data = phe_area(area)
    values, populations = data["value"].to_numpy(), data["population"].to_numpy(float)
    errors = data["standard_error"].to_numpy()
    intercept, slope, hat = reference_fit(values, populations)
    slope_sd = math.sqrt(np.sum(hat[1] ** 2 * errors**2))
    covariance = hat @ np.diag(errors**2) @ hat.T
    gradient = np.array([-slope / intercept**2, 1 / intercept])
    rii = (intercept + slope) / intercept
    rii_sd = math.sqrt(gradient @ covariance @ gradient)

    result = slope_index(values, populations, standard_errors=errors, seed=3)

    assert_close(result.sii_lower, slope - Z95 * slope_sd, SIMULATION_TOLERANCE)
    assert_close(result.sii_upper, slope + Z95 * slope_sd, SIMULATION_TOLERANCE)
    assert_close(result.rii_lower, rii - Z95 * rii_sd, SIMULATION_TOLERANCE)
    assert_close(result.rii_upper, rii + Z95 * rii_sd, SIMULATION_TOLERANCE)


def test_sii_limits_from_confidence_limits_equal_those_from_standard_errors() -> None:
    data = phe_area("Area1")
    lower, upper = data["lower_cl"].to_numpy(), data["upper_cl"].to_numpy()
    derived_errors = (upper - lower) / (2 * Z95)

    from_limits = slope_index(
        data["value"], data["population"], lower_cl=lower, upper_cl=upper, seed=4
    )
    from_errors = slope_index(
        data["value"], data["population"], standard_errors=derived_errors, seed=4
    )

    for name in ("sii", "sii_lower", "sii_upper", "rii", "rii_lower", "rii_upper", "intercept"):
        assert getattr(from_limits, name) == pytest.approx(getattr(from_errors, name), rel=1e-12)


def test_sii_rate_without_transform_uses_log_scale_errors() -> None:
    data = phe_area("Area2")
    values, populations = data["value"].to_numpy(), data["population"].to_numpy(float)
    lower, upper = data["lower_cl"].to_numpy(), data["upper_cl"].to_numpy()
    log_errors = (np.log(upper) - np.log(lower)) / (2 * Z95)
    intercept, slope, hat = reference_fit(values, populations)
    # Delta method: exp(N(log y, s)) has standard deviation close to y * s for small s.
    slope_sd = math.sqrt(np.sum(hat[1] ** 2 * (values * log_errors) ** 2))

    result = slope_index(
        values, populations, lower_cl=lower, upper_cl=upper, value_type="rate", seed=5
    )

    assert_close(result.sii, slope, 1e-10)
    assert_close(result.intercept, intercept, 1e-10)
    assert_close(result.sii_lower, slope - Z95 * slope_sd, SIMULATION_TOLERANCE)
    assert_close(result.sii_upper, slope + Z95 * slope_sd, SIMULATION_TOLERANCE)


@pytest.mark.parametrize("area", ["Area1", "Area2"])
def test_sii_rate_with_log_transform(area: str) -> None:
    data = phe_area(area)
    values, populations = data["value"].to_numpy(), data["population"].to_numpy(float)
    lower, upper = data["lower_cl"].to_numpy(), data["upper_cl"].to_numpy()
    log_errors = (np.log(upper) - np.log(lower)) / (2 * Z95)
    intercept, slope, hat = reference_fit(np.log(values), populations)
    # On the log scale the simulated slope is exactly normal.
    slope_sd = math.sqrt(np.sum(hat[1] ** 2 * log_errors**2))
    middle = intercept + slope / 2

    def gap(s: float) -> float:
        return math.exp(middle + s / 2) - math.exp(middle - s / 2)

    result = slope_index(
        values,
        populations,
        lower_cl=lower,
        upper_cl=upper,
        value_type="rate",
        transform=True,
        seed=6,
    )

    assert_close(result.sii, math.exp(intercept + slope) - math.exp(intercept), 1e-10)
    assert_close(result.rii, math.exp(slope), 1e-10)
    assert_close(result.intercept, math.exp(intercept), 1e-10)
    assert_close(result.sii_lower, gap(slope - Z95 * slope_sd), SIMULATION_TOLERANCE)
    assert_close(result.sii_upper, gap(slope + Z95 * slope_sd), SIMULATION_TOLERANCE)
    assert_close(result.rii_lower, math.exp(slope - Z95 * slope_sd), SIMULATION_TOLERANCE)
    assert_close(result.rii_upper, math.exp(slope + Z95 * slope_sd), SIMULATION_TOLERANCE)


def test_sii_proportion_with_logit_transform_and_negative_multiplier() -> None:
    data = phe_area("Area1")
    # The example's values as proportions of 100.
    values = data["value"].to_numpy() / 100
    lower, upper = data["lower_cl"].to_numpy() / 100, data["upper_cl"].to_numpy() / 100
    populations = data["population"].to_numpy(float)
    logit = np.log(values / (1 - values))
    intercept, slope, _ = reference_fit(logit, populations)

    def expit(x: float) -> float:
        return 1 / (1 + math.exp(-x))

    plain = slope_index(
        values,
        populations,
        lower_cl=lower,
        upper_cl=upper,
        value_type="proportion",
        transform=True,
        seed=7,
    )
    flipped = slope_index(
        values,
        populations,
        lower_cl=lower,
        upper_cl=upper,
        value_type="proportion",
        transform=True,
        multiplier=-100,
        seed=7,
    )

    expected_sii = expit(intercept + slope) - expit(intercept)
    assert_close(plain.sii, expected_sii, 1e-10)
    assert_close(plain.intercept, expit(intercept), 1e-10)
    assert_close(flipped.sii, -100 * expected_sii, 1e-10)
    # phe_sii scales the back-transformed intercept by |multiplier|.
    assert_close(flipped.intercept, 100 * expit(intercept), 1e-10)
    assert_close(flipped.sii_lower, -100 * plain.sii_upper, 1e-10)
    assert_close(flipped.sii_upper, -100 * plain.sii_lower, 1e-10)
    assert_close(flipped.rii, 1 / plain.rii, 1e-10)
    assert_close(flipped.rii_lower, 1 / plain.rii_upper, 1e-10)
    assert_close(flipped.rii_upper, 1 / plain.rii_lower, 1e-10)


def test_sii_negative_multiplier_without_transform_swaps_limits_and_inverts_rii() -> None:
    data = phe_area("Area2")
    arguments = {"standard_errors": data["standard_error"], "seed": 8}
    plain = slope_index(data["value"], data["population"], **arguments)
    scaled = slope_index(data["value"], data["population"], multiplier=-2, **arguments)

    assert_close(scaled.sii, -2 * plain.sii, 1e-12)
    assert_close(scaled.rii, 1 / plain.rii, 1e-12)
    # Like phe_sii, limits are order statistics taken after scaling, so the swapped limit is the
    # neighbouring order statistic (2,500th smallest vs 2,501st largest): equal to ~1e-5.
    assert_close(scaled.sii_lower, -2 * plain.sii_upper, 1e-4)
    assert_close(scaled.sii_upper, -2 * plain.sii_lower, 1e-4)
    assert_close(scaled.rii_lower, 1 / plain.rii_upper, 1e-4)
    assert_close(scaled.rii_upper, 1 / plain.rii_lower, 1e-4)
    assert scaled.intercept == plain.intercept  # not scaled without transform, as in phe_sii


def test_sii_several_confidence_levels_give_tuples_in_order() -> None:
    data = phe_area("Area1")
    result = slope_index(
        data["value"],
        data["population"],
        standard_errors=data["standard_error"],
        confidence=(0.95, 0.998),
        seed=9,
    )
    single = slope_index(
        data["value"], data["population"], standard_errors=data["standard_error"], seed=9
    )

    assert result.confidence == (0.95, 0.998)
    for limits in (result.sii_lower, result.sii_upper, result.rii_lower, result.rii_upper):
        assert isinstance(limits, tuple)
        assert len(limits) == 2
    assert result.sii_lower[1] < result.sii_lower[0] < result.sii < result.sii_upper[0]
    assert result.sii_upper[0] < result.sii_upper[1]
    assert result.sii_lower[0] == single.sii_lower  # same draws, same 95% limits


def test_sii_works_on_quintiles_and_reads_plainly() -> None:
    result = slope_index(
        [20.0, 17.0, 15.0, 12.0, 10.0], [100, 120, 110, 90, 100], standard_errors=[1] * 5, seed=0
    )
    assert result.sii < 0
    assert "most deprived end" in result.reading


@given(
    constant=st.floats(min_value=-1e3, max_value=1e3, allow_nan=False),
    populations=st.lists(st.integers(min_value=1, max_value=10**6), min_size=5, max_size=20),
)
@settings(max_examples=40, deadline=None)
def test_sii_of_constant_indicator_is_zero(constant: float, populations: list[int]) -> None:
    result = slope_index(
        [constant] * len(populations),
        populations,
        standard_errors=[0.5] * len(populations),
        repetitions=1000,
        seed=0,
    )
    assert result.sii == pytest.approx(0.0, abs=1e-9 * max(1.0, abs(constant)))


@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
@settings(max_examples=20, deadline=None)
def test_sii_same_seed_gives_same_limits(seed: int) -> None:
    data = phe_area("Area1")
    arguments = {
        "lower_cl": data["lower_cl"],
        "upper_cl": data["upper_cl"],
        "value_type": "rate",
        "repetitions": 2000,
        "seed": seed,
    }
    first = slope_index(data["value"], data["population"], **arguments)
    second = slope_index(data["value"], data["population"], **arguments)
    assert first == second


def test_sii_different_seeds_give_different_but_close_limits() -> None:
    data = phe_area("Area1")
    first = slope_index(
        data["value"], data["population"], standard_errors=data["standard_error"], seed=1
    )
    second = slope_index(
        data["value"], data["population"], standard_errors=data["standard_error"], seed=2
    )
    assert first.sii_lower != second.sii_lower
    assert first.sii_lower == pytest.approx(second.sii_lower, rel=SIMULATION_TOLERANCE)


# ---------------------------------------------------------------------------------------------
# Slope index: bad input
# ---------------------------------------------------------------------------------------------

FIVE = [1.0, 2.0, 3.0, 4.0, 5.0]
POPULATIONS = [10.0, 10.0, 10.0, 10.0, 10.0]
ERRORS = [0.1] * 5


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            {"values": FIVE, "populations": POPULATIONS[:4]},
            "values has 5 entries but populations has 4",
        ),
        ({"values": [1, 2, math.nan, 4, 5]}, r"values\[2\] is missing \(NaN\)"),
        (
            {"populations": [10, 10, 10, -2.0, 10]},
            r"populations\[3\] is -2.0: populations must be positive",
        ),
        (
            {"populations": [10, 0, 10, 10, 10]},
            r"populations\[1\] is 0.0: populations must be positive",
        ),
        (
            {"values": FIVE[:4], "populations": POPULATIONS[:4], "standard_errors": ERRORS[:4]},
            "needs between 5 and 100 quantiles, got 4",
        ),
        (
            {"values": [0.1, 0.2, 1.3, 0.4, 0.5], "value_type": "proportion"},
            r"values\[2\] is 1.3: values must be a proportion between 0 and 1",
        ),
        (
            {"values": [0.1, 0.2, 0.0, 0.4, 0.5], "value_type": "proportion"},
            r"values\[2\] is 0.0: values must be strictly between 0 and 1",
        ),
        (
            {
                "values": [0.1, 0.2, 0.3, 0.4, 0.5],
                "value_type": "proportion",
                "standard_errors": None,
                "lower_cl": [0.05, 0.1, 0.2, 0.3, 0.4],
                "upper_cl": [0.2, 0.3, 0.4, 1.2, 0.6],
            },
            r"upper_cl\[3\] is 1.2: upper_cl must be a proportion between 0 and 1",
        ),
        (
            {"values": [1, 2, -3, 4, 5], "value_type": "rate"},
            r"values\[2\] is -3.0: values must be positive for rates",
        ),
        ({"standard_errors": [0.1, -0.1, 0.1, 0.1, 0.1]}, r"standard_errors\[1\] is -0.1"),
        ({"standard_errors": None}, "needs standard_errors or lower_cl and upper_cl"),
        ({"lower_cl": FIVE, "upper_cl": FIVE}, "give either standard_errors or lower_cl/upper_cl"),
        ({"standard_errors": None, "lower_cl": FIVE}, "must be given together"),
        ({"value_type": "count"}, "value_type is 'count'"),
        ({"transform": True}, "transform=True needs value_type 'rate' or 'proportion'"),
        ({"transform": True, "value_type": "rate"}, "transform=True needs lower_cl and upper_cl"),
        ({"repetitions": 999}, "at least 1,000"),
        ({"confidence": 95}, "confidence is 95.0: give it as a fraction"),
        ({"confidence": (0.95, 1.5)}, "confidence is 1.5"),
        ({"multiplier": 0}, "multiplier is 0.0"),
    ],
)
def test_sii_bad_input_raises_value_error_naming_the_problem(
    arguments: dict[str, object], message: str
) -> None:
    call = {"values": FIVE, "populations": POPULATIONS, "standard_errors": ERRORS, "seed": 0}
    call.update(arguments)
    with pytest.raises(ValueError, match=message):
        slope_index(call.pop("values"), call.pop("populations"), **call)  # type: ignore[arg-type]


def test_sii_upper_limit_below_lower_limit_raises() -> None:
    with pytest.raises(
        ValueError, match=r"upper_cl\[0\] is 0.5: upper_cl must not be below lower_cl"
    ):
        slope_index(FIVE, POPULATIONS, lower_cl=[1.0] * 5, upper_cl=[0.5, 2, 3, 4, 6])


def test_sii_rejects_more_than_100_quantiles() -> None:
    with pytest.raises(ValueError, match="between 5 and 100 quantiles, got 101"):
        slope_index([1.0] * 101, [1.0] * 101, standard_errors=[0.1] * 101)


# ---------------------------------------------------------------------------------------------
# Concentration index and curve
# ---------------------------------------------------------------------------------------------


def test_concentration_index_by_hand() -> None:
    # Most deprived first: deprivation scores 4 > 3 > 2 > 1 give fractional ranks
    # 1/8, 3/8, 5/8, 7/8; mean 2.5; C = 2 * mean((y - 2.5)(R - 1/2)) / 2.5 = 2 * 0.3125 / 2.5.
    result = concentration_index([1.0, 2.0, 3.0, 4.0], rank_by=[4.0, 3.0, 2.0, 1.0])
    assert result.index == pytest.approx(0.25)
    assert result.kind == "standard"
    assert "less deprived" in result.reading or "compatible with zero" in result.reading


def test_concentration_index_standard_error_is_kakwani_wagstaff_van_doorslaer() -> None:
    rng = np.random.default_rng(11)
    values = rng.gamma(2.0, 10.0, size=60)
    scores = rng.uniform(0, 80, size=60)
    result = concentration_index(values, scores)

    # Their formula for unweighted data: var = 1/n [1/n sum a_i^2 - (1 + C)^2].
    order = np.argsort(-scores)
    y = values[order]
    n = y.size
    rank = (np.arange(n) + 0.5) / n
    mean = y.mean()
    curve = np.cumsum(y) / y.sum()
    curve_before = np.concatenate([[0.0], curve[:-1]])
    index = 2 * np.mean((y - mean) * (rank - 0.5)) / mean
    a = y / mean * (2 * rank - 1 - index) + 2 - curve_before - curve
    expected_se = math.sqrt((np.mean(a**2) - (1 + index) ** 2) / n)

    assert result.index == pytest.approx(index, rel=1e-12)
    assert result.standard_error == pytest.approx(expected_se, rel=1e-9)
    assert result.lower == pytest.approx(index - Z95 * expected_se, rel=1e-9)


def test_concentration_index_weights_equal_replicated_units() -> None:
    values = np.array([5.0, 3.0, 8.0, 1.0])
    scores = np.array([10.0, 40.0, 25.0, 5.0])
    weights = np.array([3, 1, 2, 4])
    weighted = concentration_index(values, scores, weights)
    replicated = concentration_index(np.repeat(values, weights), np.repeat(scores, weights))
    assert weighted.index == pytest.approx(replicated.index, rel=1e-12)


def test_negative_concentration_index_means_concentrated_among_more_deprived() -> None:
    scores = np.arange(1.0, 21.0)  # higher = more deprived
    result = concentration_index(10 + scores, scores)
    assert result.index < 0
    assert result.upper < 0
    assert "concentrated among the more deprived" in result.reading


def test_erreygers_and_wagstaff_for_proportions() -> None:
    rng = np.random.default_rng(5)
    scores = rng.uniform(0, 60, 200)
    proportions = np.clip(0.2 + 0.005 * scores + rng.normal(0, 0.05, 200), 0.01, 0.99)
    populations = rng.integers(500, 3000, 200)
    standard = concentration_index(proportions, scores, populations)
    mean = np.average(proportions, weights=populations)

    erreygers = concentration_index(proportions, scores, populations, "erreygers", (0, 1))
    wagstaff = concentration_index(proportions, scores, populations, "wagstaff", (0, 1))

    assert erreygers.index == pytest.approx(4 * mean * standard.index, rel=1e-10)
    assert wagstaff.index == pytest.approx(standard.index / (1 - mean), rel=1e-10)
    assert isinstance(erreygers, ConcentrationIndexResult)
    assert erreygers.bounds == (0.0, 1.0)
    assert erreygers.to_measure().value == erreygers.index
    # For a 0-100 scale the Erreygers index is unchanged (it is invariant to the units).
    rescaled = concentration_index(proportions * 100, scores, populations, "erreygers", (0, 100))
    assert rescaled.index == pytest.approx(erreygers.index, rel=1e-10)
    assert rescaled.standard_error == pytest.approx(erreygers.standard_error, rel=1e-9)


def test_corrected_indices_mirror_for_the_complement() -> None:
    # Measuring ill health instead of health flips the sign of the Erreygers and Wagstaff indices
    # and keeps their size (Erreygers 2009).
    rng = np.random.default_rng(8)
    scores = rng.uniform(0, 50, 100)
    healthy = np.clip(0.3 + 0.005 * scores + rng.normal(0, 0.05, 100), 0.01, 0.99)
    for kind in ("erreygers", "wagstaff"):
        health = concentration_index(healthy, scores, kind=kind, bounds=(0, 1))
        ill_health = concentration_index(1 - healthy, scores, kind=kind, bounds=(0, 1))
        assert ill_health.index == pytest.approx(-health.index, rel=1e-10)


positive_values = st.floats(min_value=0.1, max_value=1e4, allow_nan=False)
scores_strategy = st.floats(min_value=-100, max_value=100, allow_nan=False)
weights_strategy = st.floats(min_value=1.0, max_value=1e4, allow_nan=False)


@st.composite
def ranked_data(draw: st.DrawFn) -> tuple[list[float], list[float], list[float]]:
    size = draw(st.integers(min_value=2, max_value=30))
    values = draw(st.lists(positive_values, min_size=size, max_size=size))
    scores = draw(st.lists(scores_strategy, min_size=size, max_size=size))
    weights = draw(st.lists(weights_strategy, min_size=size, max_size=size))
    return values, scores, weights


@given(data=ranked_data(), factor=st.floats(min_value=1e-3, max_value=1e3))
@settings(max_examples=100, deadline=None)
def test_concentration_index_unchanged_by_rescaling(
    data: tuple[list[float], list[float], list[float]], factor: float
) -> None:
    values, scores, weights = data
    assume(len(set(scores)) > 1)
    original = concentration_index(values, scores, weights)
    rescaled = concentration_index(np.array(values) * factor, scores, weights)
    assert rescaled.index == pytest.approx(original.index, rel=1e-9, abs=1e-12)
    assert rescaled.standard_error == pytest.approx(original.standard_error, rel=1e-6, abs=1e-12)


@given(data=ranked_data())
@settings(max_examples=100, deadline=None)
def test_concentration_index_changes_sign_when_ranking_reversed(
    data: tuple[list[float], list[float], list[float]],
) -> None:
    values, scores, weights = data
    assume(len(set(scores)) > 1)
    forward = concentration_index(values, scores, weights)
    backward = concentration_index(values, [-score for score in scores], weights)
    assert backward.index == pytest.approx(-forward.index, rel=1e-9, abs=1e-12)
    assert backward.standard_error == pytest.approx(forward.standard_error, rel=1e-6, abs=1e-12)


def test_concentration_curve_matches_index() -> None:
    rng = np.random.default_rng(3)
    values = rng.gamma(2.0, 5.0, 50)
    scores = rng.integers(0, 10, 50).astype(float)  # plenty of ties
    weights = rng.integers(100, 900, 50)
    curve = concentration_curve(values, scores, weights)

    assert curve.population_share[0] == 0 and curve.value_share[0] == 0
    assert curve.population_share[-1] == 1 and curve.value_share[-1] == 1
    assert np.all(np.diff(curve.population_share) > 0)
    assert np.all(np.diff(curve.value_share) >= 0)
    assert curve.population_share.size == np.unique(scores).size + 1
    # C = 1 - 2 x (area under the concentration curve).
    area = np.sum(
        np.diff(curve.population_share) * (curve.value_share[1:] + curve.value_share[:-1]) / 2
    )
    assert concentration_index(values, scores, weights).index == pytest.approx(
        1 - 2 * area, rel=1e-10
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: concentration_index([1, 2, 3], [5, 5, 5]),
            r"rank_by is constant \(every entry is 5.0\)",
        ),
        (lambda: concentration_index([1, 2, 3], [1, 2]), "values has 3 entries but rank_by has 2"),
        (lambda: concentration_index([1, math.nan, 3], [1, 2, 3]), r"values\[1\] is missing"),
        (
            lambda: concentration_index([1, 2, 3], [1, 2, 3], [1, -2, 1]),
            r"weights\[1\] is -2.0: weights must be positive",
        ),
        (
            lambda: concentration_index([1, -2, 3], [1, 2, 3]),
            r"values\[1\] is -2.0: values must not be negative",
        ),
        (lambda: concentration_index([0, 0, 0], [1, 2, 3]), "values are all zero"),
        (lambda: concentration_index([0.1, 0.2], [1, 2], kind="erreygers"), "needs bounds"),
        (
            lambda: concentration_index([0.1, 1.2], [1, 2], kind="wagstaff", bounds=(0, 1)),
            r"values\[1\] is 1.2: values must lie within bounds",
        ),
        (
            lambda: concentration_index([0.1, 0.2], [1, 2], kind="wagstaff", bounds=(1, 0)),
            "lowest < highest",
        ),
        (lambda: concentration_index([1, 1], [1, 2], kind="wagstaff", bounds=(0, 1)), "on a bound"),
        (lambda: concentration_index([1, 2], [1, 2], bounds=(0, 5)), "bounds only apply"),
        (lambda: concentration_index([1, 2], [1, 2], kind="other"), "kind is 'other'"),
        (lambda: concentration_curve([1, 2], [1, 2], [0, 1]), r"weights\[0\] is 0.0"),
    ],
)
def test_concentration_bad_input(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


# ---------------------------------------------------------------------------------------------
# Gini, Theil T, mean log deviation
# ---------------------------------------------------------------------------------------------

# Chesson et al. 2017: populations and gonorrhoea rates per 100,000 for five groups.
CHESSON_POPULATIONS = [200e6, 40e6, 55e6, 20e6, 3e6]
CHESSON_RATES = {
    "2007": [27.0, 515.2, 52.9, 14.5, 82.8],
    "2010": [23.4, 426.2, 47.9, 14.4, 107.4],
    "1992": [35.4, 1408.1, 95.2, 22.4, 94.0],
    "1993": [28.3, 1205.8, 89.5, 21.0, 96.0],
}
CHESSON_PUBLISHED = {  # index of disparity, weighted index of disparity, Gini
    "2007": (133.0, 114.8, 0.619),
    "2010": (134.1, 112.1, 0.608),
    "1992": (166.5, 137.2, 0.724),
    "1993": (163.8, 136.9, 0.728),
}


@pytest.mark.parametrize("year", list(CHESSON_RATES))
def test_gini_reproduces_chesson_2017(year: str) -> None:
    result = gini(CHESSON_RATES[year], CHESSON_POPULATIONS)
    assert round(result.value, 3) == CHESSON_PUBLISHED[year][2]
    assert isinstance(result, InequalityMeasure)
    assert result.lower is not None and result.lower <= result.value <= result.upper


@given(
    values=st.lists(
        st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=40
    ),
    data=st.data(),
)
@settings(max_examples=100, deadline=None)
def test_gini_stays_in_unit_interval(values: list[float], data: st.DataObject) -> None:
    assume(any(value > 0 for value in values))
    weights = data.draw(
        st.lists(st.floats(min_value=1, max_value=1e6), min_size=len(values), max_size=len(values))
    )
    result = gini(values, weights)
    assert 0 <= result.value < 1


def test_gini_of_equal_values_is_zero_and_scale_free() -> None:
    assert gini([4.0, 4.0, 4.0], [1, 2, 3]).value == pytest.approx(0.0, abs=1e-15)
    values, weights = [1.0, 5.0, 2.0, 9.0], [3, 1, 4, 2]
    assert gini(values, weights).value == pytest.approx(gini(np.multiply(values, 7), weights).value)


def test_theil_and_mean_log_deviation_by_hand() -> None:
    # Two equal-sized groups with values 1 and 3: mean 2.
    theil = theil_t([1.0, 3.0])
    mld = mean_log_deviation([1.0, 3.0])
    assert theil.value == pytest.approx(0.5 * 0.5 * math.log(0.5) + 0.5 * 1.5 * math.log(1.5))
    assert mld.value == pytest.approx(math.log(2) - 0.5 * math.log(3))
    # Population weights act as replication.
    assert theil_t([1.0, 3.0], [2, 1]).value == pytest.approx(theil_t([1.0, 1.0, 3.0]).value)
    assert theil_t([0.0, 2.0]).value == pytest.approx(math.log(2))  # 0 ln 0 counts as 0
    assert theil_t([2.0, 2.0]).value == pytest.approx(0.0, abs=1e-15)


def test_distribution_measures_bad_input() -> None:
    with pytest.raises(ValueError, match=r"values\[0\] is 0.0: values must be positive"):
        mean_log_deviation([0.0, 1.0])
    with pytest.raises(ValueError, match=r"values\[1\] is -1.0"):
        gini([1.0, -1.0])
    with pytest.raises(ValueError, match="all zero"):
        theil_t([0.0, 0.0])
    with pytest.raises(ValueError, match="values has 2 entries but weights has 3"):
        gini([1.0, 2.0], [1, 1, 1])


# ---------------------------------------------------------------------------------------------
# Group comparisons
# ---------------------------------------------------------------------------------------------


def test_quantile_ratio_and_difference_from_group_values() -> None:
    rates = [18.0, 14.0, 12.0, 11.0, 10.0]  # most deprived fifth first
    ratio = quantile_ratio(rates, label="rate")
    difference = quantile_difference(rates, label="rate")
    assert ratio.value == pytest.approx(1.8)
    assert ratio.reading == (
        "The most deprived fifth has a rate 1.80 times that of the least deprived fifth."
    )
    assert difference.value == pytest.approx(8.0)
    assert difference.reading == (
        "The most deprived fifth has a rate 8.00 higher than the least deprived fifth."
    )
    assert ratio.lower is None and difference.upper is None


def test_quantile_limits_from_standard_errors() -> None:
    rates, errors = [18.0, 14.0, 12.0, 11.0, 10.0], [1.0, 1.0, 1.0, 1.0, 0.5]
    difference = quantile_difference(rates, standard_errors=errors)
    ratio = quantile_ratio(rates, standard_errors=errors)
    spread = Z95 * math.sqrt(1.0**2 + 0.5**2)
    assert (difference.lower, difference.upper) == pytest.approx((8 - spread, 8 + spread))
    log_spread = Z95 * math.sqrt((1 / 18) ** 2 + (0.5 / 10) ** 2)
    assert ratio.lower == pytest.approx(1.8 * math.exp(-log_spread))
    assert ratio.upper == pytest.approx(1.8 * math.exp(log_spread))


def test_quantile_comparisons_from_areas_are_population_weighted() -> None:
    values = [10.0, 20.0, 5.0, 7.0, 6.0, 4.0]
    populations = [100.0, 300.0, 200.0, 200.0, 50.0, 150.0]
    deciles = [1, 1, 2, 2, 10, 10]
    labels, group_population, means = quantile_means(values, populations, deciles)
    assert labels.tolist() == [1, 2, 10]
    assert group_population.tolist() == [400, 400, 200]
    assert means.tolist() == pytest.approx([17.5, 6.0, 4.5])
    ratio = quantile_ratio(values, populations, quantiles=deciles)
    assert ratio.value == pytest.approx(17.5 / 4.5)
    assert quantile_difference(values, populations, quantiles=deciles).value == pytest.approx(13.0)


def test_population_attributable_risk_by_hand() -> None:
    # Chesson et al. 1992 rates; the best (lowest) group has 22.4 per 100,000.
    result = population_attributable_risk(
        CHESSON_RATES["1992"], CHESSON_POPULATIONS, reference="best", rate_per=100_000
    )
    overall = np.dot(CHESSON_RATES["1992"], CHESSON_POPULATIONS) / sum(CHESSON_POPULATIONS)
    assert result.details["overall"] == pytest.approx(overall)
    assert result.details["reference"] == 22.4
    assert result.details["absolute"] == pytest.approx(overall - 22.4)
    assert result.value == pytest.approx(100 * (overall - 22.4) / overall)
    assert result.details["excess"] == pytest.approx(
        (overall - 22.4) * sum(CHESSON_POPULATIONS) / 1e5
    )
    assert "would be avoided" in result.reading


def test_population_attributable_risk_least_deprived_and_higher_is_better() -> None:
    harmful = population_attributable_risk([30.0, 20.0, 10.0], [100, 100, 200])
    assert harmful.details["reference"] == 10.0
    assert harmful.value == pytest.approx(100 * (17.5 - 10) / 17.5)
    assert "least deprived third's" in harmful.reading
    coverage = population_attributable_risk(
        [0.6, 0.7, 0.8], [100, 100, 200], higher_is_better=True, label="uptake"
    )
    assert coverage.details["absolute"] == pytest.approx(0.8 - 0.725)
    assert "would be" in coverage.reading and "higher" in coverage.reading


@pytest.mark.parametrize("year", list(CHESSON_RATES))
def test_index_of_disparity_reproduces_chesson_2017(year: str) -> None:
    unweighted = index_of_disparity(CHESSON_RATES[year], CHESSON_POPULATIONS)
    weighted = index_of_disparity(CHESSON_RATES[year], CHESSON_POPULATIONS, weighted=True)
    assert round(unweighted.value, 1) == CHESSON_PUBLISHED[year][0]
    assert round(weighted.value, 1) == CHESSON_PUBLISHED[year][1]


def test_index_of_disparity_against_best_group_by_hand() -> None:
    result = index_of_disparity([30.0, 20.0, 10.0], reference="best")
    assert result.value == pytest.approx(100 * ((20 + 10 + 0) / 3) / 10)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: quantile_ratio([2.0, 0.0]), r"values\[1\] is 0.0: values must be positive"),
        (lambda: quantile_difference([2.0]), "at least two"),
        (lambda: quantile_ratio([1.0, 2.0], quantiles=[1, 2]), "populations are needed"),
        (lambda: quantile_means([1.0, 2.0], [1.0, 1.0], [1, 1.5]), r"quantiles\[1\] is 1.5"),
        (lambda: quantile_difference([1.0, 2.0], [1.0, 1.0], quantiles=[3, 3]), "single label"),
        (
            lambda: quantile_difference([1.0, 2.0], standard_errors=[1.0]),
            "values has 2 entries but standard_errors has 1",
        ),
        (
            lambda: population_attributable_risk([1.0, 2.0], [1.0, -1.0]),
            r"populations\[1\] is -1.0",
        ),
        (lambda: population_attributable_risk([0.0, 0.0], [1.0, 1.0]), "overall rate is 0"),
        (
            lambda: population_attributable_risk([1.0, 2.0], [1.0, 1.0], reference="total"),
            "reference is 'total'",
        ),
        (lambda: index_of_disparity([1.0, 2.0]), "populations are needed"),
        (lambda: index_of_disparity([0.0, 2.0], reference="best"), "needs a positive reference"),
    ],
)
def test_group_comparison_bad_input(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()
