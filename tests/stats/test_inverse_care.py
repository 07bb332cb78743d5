"""Tests for analysis.stats.inverse_care: the inverse care law regression and decile gradient."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from analysis.stats.inverse_care import (
    decile_gradient,
    format_p,
    inverse_care_test,
    need_deciles,
)


def make_areas(slope: float, *, n: int = 400, noise: float = 4.0, seed: int = 7) -> pd.DataFrame:
    """Synthetic areas: need ~ N(30, 10), provision per head = 100 + slope * need + noise."""
    rng = np.random.default_rng(seed)
    need = rng.normal(30.0, 10.0, n)
    population = rng.integers(1_000, 3_000, n).astype(float)
    rurality = rng.uniform(0, 1, n)
    over_65 = rng.uniform(0.1, 0.3, n)
    provision = 100.0 + slope * need + 5.0 * rurality + rng.normal(0.0, noise, n)
    return pd.DataFrame(
        {
            "need": need,
            "population": population,
            "rurality": rurality,
            "over_65": over_65,
            "provision": provision,
        }
    )


# --------------------------------------------------------------------------------------
# Direction and verdict
# --------------------------------------------------------------------------------------


def test_provision_falling_with_need_is_called_inverse_care():
    areas = make_areas(slope=-0.4)
    result = inverse_care_test(areas["provision"], areas["need"], areas["population"])
    assert result.slope < 0
    assert result.slope_ci[1] < 0
    assert result.p_value < 0.05
    assert result.direction == "inverse_care"
    assert result.verdict == "Provision falls as need rises: an inverse care pattern (p < 0.001)."


def test_provision_rising_with_need_is_called_pro_need():
    areas = make_areas(slope=0.4)
    result = inverse_care_test(areas["provision"], areas["need"], areas["population"])
    assert result.slope > 0
    assert result.p_value < 0.05
    assert result.direction == "pro_need"
    assert result.verdict.startswith("Provision rises with need: a pro-need (proportionate)")


def test_no_relationship_is_reported_as_such():
    areas = make_areas(slope=0.0, n=60, noise=8.0, seed=11)
    result = inverse_care_test(areas["provision"], areas["need"], areas["population"])
    assert result.p_value >= 0.05
    assert result.direction == "no_clear_relationship"
    assert result.verdict.startswith("No clear relationship between provision and need (p = ")


def test_need_where_higher_is_better_is_flipped():
    # Life expectancy: higher is better, so lower life expectancy = more need. Provision that
    # rises with life expectancy falls with need: inverse care.
    areas = make_areas(slope=0.4)
    result = inverse_care_test(
        areas["provision"], areas["need"], areas["population"], need_polarity="higher_is_better"
    )
    assert result.slope < 0
    assert result.direction == "inverse_care"


@pytest.mark.parametrize(
    ("p_value", "shown"),
    [(0.0004, "p < 0.001"), (0.003, "p = 0.003"), (0.0495, "p = 0.050"), (0.41, "p = 0.41")],
)
def test_p_value_wording(p_value, shown):
    assert format_p(p_value) == shown


# --------------------------------------------------------------------------------------
# Agreement with statsmodels fitted directly
# --------------------------------------------------------------------------------------


def test_hc3_standard_errors_equal_statsmodels_fitted_directly():
    areas = make_areas(slope=-0.3)
    controls = areas[["rurality", "over_65"]]
    result = inverse_care_test(
        areas["provision"], areas["need"], areas["population"], controls=controls
    )
    design = sm.add_constant(areas[["need", "rurality", "over_65"]])
    direct = sm.WLS(areas["provision"], design, weights=areas["population"]).fit(cov_type="HC3")
    assert result.slope == pytest.approx(direct.params["need"], rel=1e-10)
    assert result.slope_se == pytest.approx(direct.bse["need"], rel=1e-10)
    assert result.p_value == pytest.approx(direct.pvalues["need"], rel=1e-8)
    assert result.slope_ci == pytest.approx(tuple(direct.conf_int().loc["need"]), rel=1e-10)
    assert result.r_squared == pytest.approx(direct.rsquared, rel=1e-10)
    assert result.controls == ("rurality", "over_65")
    assert result.covariance == "HC3"
    assert result.n == len(areas)


def test_slope_per_standard_deviation_of_need():
    areas = make_areas(slope=-0.4)
    result = inverse_care_test(areas["provision"], areas["need"], areas["population"])
    sd = areas["need"].std(ddof=1)
    assert result.need_sd == pytest.approx(sd)
    assert result.slope_per_sd == pytest.approx(result.slope * sd)
    assert result.slope_per_sd_ci == pytest.approx(
        (result.slope_ci[0] * sd, result.slope_ci[1] * sd)
    )


def test_poisson_model_matches_statsmodels_glm_with_offset():
    rng = np.random.default_rng(3)
    n = 300
    need = rng.normal(0.0, 1.0, n)
    population = rng.integers(2_000, 10_000, n).astype(float)
    gps = rng.poisson(np.exp(-7.0 - 0.2 * need) * population)
    result = inverse_care_test(gps, need, population, model="poisson")
    direct = sm.GLM(
        gps, sm.add_constant(need), family=sm.families.Poisson(), offset=np.log(population)
    ).fit(cov_type="HC0")
    assert result.slope == pytest.approx(direct.params[1], rel=1e-8)
    assert result.slope_se == pytest.approx(direct.bse[1], rel=1e-8)
    assert result.direction == "inverse_care"
    assert result.rate_ratio_per_sd == pytest.approx(np.exp(result.slope * need.std(ddof=1)))
    assert result.slope_per_sd < 0
    assert 0 < result.r_squared < 1


def test_negative_binomial_model_on_overdispersed_counts():
    rng = np.random.default_rng(5)
    n = 300
    need = rng.normal(0.0, 1.0, n)
    population = rng.integers(2_000, 10_000, n).astype(float)
    mean = np.exp(-7.0 + 0.3 * need) * population
    gps = rng.negative_binomial(5, 5 / (5 + mean))
    result = inverse_care_test(gps, need, population, model="negative_binomial")
    assert result.model == "negative_binomial"
    assert result.direction == "pro_need"
    assert result.slope_ci[0] < 0.3 < result.slope_ci[1]


# --------------------------------------------------------------------------------------
# Decile gradient
# --------------------------------------------------------------------------------------


def test_need_deciles_put_highest_need_in_decile_1():
    deciles = need_deciles(np.arange(100.0))
    assert deciles[99] == 1
    assert deciles[0] == 10
    assert np.bincount(deciles)[1:].tolist() == [10] * 10


def test_gradient_table_for_inverse_care_rises_from_decile_1():
    areas = make_areas(slope=-0.4)
    result = inverse_care_test(areas["provision"], areas["need"], areas["population"])
    table = result.decile_gradient
    assert result.decile_source == "need"
    assert table["decile"].tolist() == list(range(1, 11))
    assert table["areas"].sum() == len(areas)
    assert table["provision_per_head"].iloc[0] < table["provision_per_head"].iloc[-1]
    assert (table["lower_ci"] < table["provision_per_head"]).all()
    assert (table["provision_per_head"] < table["upper_ci"]).all()
    first = need_deciles(areas["need"]) == 1
    weighted = np.average(areas["provision"][first], weights=areas["population"][first])
    assert table["provision_per_head"].iloc[0] == pytest.approx(weighted)


def test_given_deprivation_deciles_are_used():
    areas = make_areas(slope=-0.4, n=200)
    deciles = np.repeat(np.arange(1, 11), 20)
    result = inverse_care_test(
        areas["provision"], areas["need"], areas["population"], deprivation_decile=deciles
    )
    assert result.decile_source == "deprivation_decile"
    assert result.decile_gradient["areas"].tolist() == [20] * 10


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), areas_per_decile=st.integers(2, 12))
def test_decile_standard_error_is_hc0_of_dummy_regression_with_group_correction(
    seed, areas_per_decile
):
    # The linearised SE equals the HC0 sandwich SE of a WLS on decile dummies, scaled by
    # sqrt(k / (k - 1)) within each decile of k areas.
    rng = np.random.default_rng(seed)
    deciles = np.repeat(np.arange(1, 11), areas_per_decile)
    values = rng.gamma(4.0, 10.0, deciles.size)
    population = rng.integers(500, 5_000, deciles.size).astype(float)
    table = decile_gradient(values, population, deciles, confidence=0.95)
    dummies = pd.get_dummies(deciles).astype(float)
    fit = sm.WLS(values, dummies, weights=population).fit(cov_type="HC0")
    k = areas_per_decile
    se = fit.bse.to_numpy() * np.sqrt(k / (k - 1))
    t = stats.t.ppf(0.975, k - 1)
    np.testing.assert_allclose(table["provision_per_head"], fit.params, rtol=1e-10)
    np.testing.assert_allclose(table["upper_ci"] - table["provision_per_head"], t * se, rtol=1e-8)


def test_decile_with_a_single_area_has_no_interval():
    table = decile_gradient([10.0, 12.0, 20.0], [100.0, 100.0, 100.0], [1, 1, 2])
    assert table["areas"].tolist() == [2, 1]
    assert np.isnan(table["lower_ci"].iloc[1])
    assert np.isfinite(table["lower_ci"].iloc[0])


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), slope=st.floats(-1.0, 1.0))
def test_result_does_not_depend_on_area_order(seed, slope):
    areas = make_areas(slope=slope, n=80, seed=seed)
    shuffled = areas.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    first = inverse_care_test(areas["provision"], areas["need"], areas["population"])
    second = inverse_care_test(shuffled["provision"], shuffled["need"], shuffled["population"])
    assert second.slope == pytest.approx(first.slope, rel=1e-8, abs=1e-12)
    assert second.slope_se == pytest.approx(first.slope_se, rel=1e-8)
    assert second.direction == first.direction


# --------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------


@pytest.fixture
def small():
    return make_areas(slope=-0.4, n=20)


def test_zero_population_is_named(small):
    population = small["population"].to_numpy().copy()
    population[12] = 0
    with pytest.raises(ValueError, match=r"population\[12\] is 0: populations must be positive"):
        inverse_care_test(small["provision"], small["need"], population)


def test_negative_population_is_named(small):
    population = small["population"].to_numpy().copy()
    population[3] = -5
    with pytest.raises(ValueError, match=r"population\[3\] is -5"):
        inverse_care_test(small["provision"], small["need"], population)


def test_nan_need_is_named(small):
    need = small["need"].to_numpy().copy()
    need[4] = np.nan
    with pytest.raises(ValueError, match=r"need\[4\] is missing \(NaN\)"):
        inverse_care_test(small["provision"], need, small["population"])


def test_mismatched_lengths(small):
    with pytest.raises(ValueError, match="same areas"):
        inverse_care_test(small["provision"][:-1].to_numpy(), small["need"], small["population"])


def test_misaligned_pandas_indexes(small):
    shifted = small["need"].copy()
    shifted.index = shifted.index + 1
    with pytest.raises(ValueError, match="different indexes"):
        inverse_care_test(small["provision"], shifted, small["population"])


def test_constant_need(small):
    with pytest.raises(ValueError, match="need is constant"):
        inverse_care_test(small["provision"], np.full(len(small), 3.0), small["population"])


def test_negative_provision(small):
    provision = small["provision"].to_numpy().copy()
    provision[2] = -1
    with pytest.raises(ValueError, match=r"provision\[2\] is -1"):
        inverse_care_test(provision, small["need"], small["population"])


def test_bad_deprivation_decile(small):
    deciles = np.repeat(np.arange(1, 11), 2).astype(float)
    deciles[5] = 11
    with pytest.raises(ValueError, match=r"deprivation_decile\[5\] is 11"):
        inverse_care_test(
            small["provision"], small["need"], small["population"], deprivation_decile=deciles
        )


def test_constant_and_collinear_controls(small):
    with pytest.raises(ValueError, match="constant"):
        inverse_care_test(
            small["provision"], small["need"], small["population"],
            controls=pd.DataFrame({"flat": np.ones(len(small))}),
        )
    with pytest.raises(ValueError, match="collinear"):
        inverse_care_test(
            small["provision"], small["need"], small["population"],
            controls=pd.DataFrame({"twice_need": 2 * small["need"]}),
        )


def test_too_few_areas():
    with pytest.raises(ValueError, match="areas"):
        inverse_care_test([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [10.0, 10.0, 10.0])


@pytest.mark.parametrize("bad", [{"model": "ols"}, {"confidence": 95}, {"need_polarity": "up"}])
def test_bad_options(small, bad):
    with pytest.raises(ValueError):
        inverse_care_test(small["provision"], small["need"], small["population"], **bad)
