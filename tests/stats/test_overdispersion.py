"""Spiegelhalter's (2005) overdispersion adjustment of funnel plots, checked by hand.

Each step of "Handling over-dispersion of performance indicators" (Qual Saf Health Care
2005;14:347-351) is recomputed below with the math module only: arcsine/square-root
z-scores, 10% winsorising (linear quantiles), φ̂ = Σz²/I, the χ²(I−1) test, τ̂² from the
weights 1/s², and limits t ± z√(s² + τ̂²) transformed back.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from analysis.stats import funnel_plot
from analysis.stats.overdispersion import METHOD_ADJUSTED, METHOD_PLAIN, estimate, transformed

# Ten areas with very different proportions: far more spread than binomial sampling gives.
NUMERATORS = [120, 340, 95, 410, 260, 150, 520, 80, 300, 210]
DENOMINATORS = [1000, 1500, 900, 1600, 1200, 1100, 1800, 700, 1400, 1300]


def _quantile(values: list[float], p: float) -> float:
    """R's type-7 quantile by hand."""
    ordered = sorted(values)
    h = (len(ordered) - 1) * p
    low = math.floor(h)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (h - low) * (ordered[high] - ordered[low])


def _by_hand_proportion():
    p0 = sum(NUMERATORS) / sum(DENOMINATORS)
    target = math.asin(math.sqrt(p0))
    y = [math.asin(math.sqrt(o / n)) for o, n in zip(NUMERATORS, DENOMINATORS, strict=True)]
    s = [1 / (2 * math.sqrt(n)) for n in DENOMINATORS]
    z = [(yi - target) / si for yi, si in zip(y, s, strict=True)]
    low, high = _quantile(z, 0.1), _quantile(z, 0.9)
    z_w = [min(max(zi, low), high) for zi in z]
    areas = len(z)
    phi = sum(zi * zi for zi in z_w) / areas
    w = [1 / si ** 2 for si in s]
    tau2 = (areas * phi - (areas - 1)) / (sum(w) - sum(wi * wi for wi in w) / sum(w))
    return p0, target, phi, max(tau2, 0.0)


def test_dispersion_ratio_and_tau_squared_match_the_hand_computation():
    _, _, phi, tau2 = _by_hand_proportion()
    result = estimate(*transformed(np.array(NUMERATORS, float), np.array(DENOMINATORS, float),
                                   sum(NUMERATORS) / sum(DENOMINATORS), "proportion"))
    assert result.phi == pytest.approx(phi, rel=1e-12)
    assert result.tau2 == pytest.approx(tau2, rel=1e-12)
    assert result.statistic == pytest.approx(10 * phi)
    assert result.p_value == pytest.approx(stats.chi2.sf(10 * phi, 9))
    assert result.present and phi > 10  # these areas are strongly overdispersed
    assert "overdispersion" in result.sentence()


def test_adjusted_proportion_limits_match_the_hand_computation():
    p0, target, _, tau2 = _by_hand_proportion()
    funnel = funnel_plot(NUMERATORS, DENOMINATORS, statistic="proportion",
                         overdispersion="auto")
    assert funnel.method == METHOD_ADJUSTED and funnel.adjusted
    for row, n in zip(funnel.areas.itertuples(), DENOMINATORS, strict=True):
        s2 = 1 / (4 * n)
        for level, column_low, column_high in ((0.95, "lower_95", "upper_95"),
                                                (0.998, "lower_998", "upper_998")):
            z = stats.norm.ppf(0.5 + level / 2)
            half = z * math.sqrt(s2 + tau2)
            assert getattr(row, column_low) == pytest.approx(
                100 * math.sin(target - half) ** 2, rel=1e-10)
            assert getattr(row, column_high) == pytest.approx(
                100 * math.sin(target + half) ** 2, rel=1e-10)
    assert funnel.target == pytest.approx(100 * p0)


def test_adjusted_rate_limits_match_the_hand_computation():
    # counts of events over person-years; square-root scale with E = n θ0
    events = [12, 40, 9, 61, 25, 30, 75, 5, 44, 18]
    people = [10_000, 12_000, 9_000, 15_000, 11_000, 10_500, 16_000, 7_000, 13_000, 9_500]
    theta = sum(events) / sum(people)
    expected = [n * theta for n in people]
    s = [1 / (2 * math.sqrt(e)) for e in expected]
    z = [(math.sqrt(o / e) - 1) / si for o, e, si in zip(events, expected, s, strict=True)]
    low, high = _quantile(z, 0.1), _quantile(z, 0.9)
    z_w = [min(max(zi, low), high) for zi in z]
    phi = sum(zi * zi for zi in z_w) / 10
    w = [1 / si ** 2 for si in s]
    tau2 = max((10 * phi - 9) / (sum(w) - sum(x * x for x in w) / sum(w)), 0.0)
    funnel = funnel_plot(events, people, statistic="rate", multiplier=100_000,
                         overdispersion="adjust")
    assert funnel.dispersion is not None
    assert funnel.dispersion.tau2 == pytest.approx(tau2, rel=1e-12)
    assert tau2 > 0 and funnel.adjusted
    z95 = stats.norm.ppf(0.975)
    for row, si in zip(funnel.areas.itertuples(), s, strict=True):
        half = z95 * math.sqrt(si * si + tau2)
        assert row.upper_95 == pytest.approx(100_000 * theta * (1 + half) ** 2, rel=1e-10)
        assert row.lower_95 == pytest.approx(100_000 * theta * max(1 - half, 0) ** 2,
                                             rel=1e-10)


def test_without_overdispersion_auto_keeps_the_exact_limits():
    rng = np.random.default_rng(2005)
    sizes = rng.integers(200, 5_000, size=300)
    events = rng.binomial(sizes, 0.2)
    plain = funnel_plot(events, sizes)
    auto = funnel_plot(events, sizes, overdispersion="auto")
    assert auto.dispersion is not None and not auto.dispersion.present
    assert auto.method == METHOD_PLAIN and not auto.adjusted
    assert auto.areas.equals(plain.areas)
    assert "chance alone" in auto.dispersion.sentence()


def test_overdispersed_areas_are_flagged_far_less_often_after_adjustment():
    rng = np.random.default_rng(17)
    sizes = rng.integers(1_000, 3_000, size=500)
    truth = np.clip(rng.normal(0.2, 0.05, size=500), 0.01, 0.99)
    events = rng.binomial(sizes, truth)
    plain = funnel_plot(events, sizes)
    adjusted = funnel_plot(events, sizes, overdispersion="auto")
    outside = {name: len(f.areas) - f.flag_counts()["within"]
               for name, f in (("plain", plain), ("adjusted", adjusted))}
    assert outside["plain"] > 0.5 * 500  # most areas "outside" the plain funnel
    assert outside["adjusted"] < 0.15 * 500  # about as many as 95% limits should leave


@given(st.lists(st.tuples(st.integers(1, 400), st.integers(500, 2_000)), min_size=5,
                max_size=40))
@settings(max_examples=40, deadline=None)
def test_dispersion_is_never_negative_and_tau_zero_unless_excess(rows):
    numerators = np.array([min(o, n) for o, n in rows], float)
    sizes = np.array([n for _, n in rows], float)
    comparator = numerators.sum() / sizes.sum()
    result = estimate(*transformed(numerators, sizes, comparator, "proportion"))
    assert result.phi >= 0 and result.tau2 >= 0
    if result.statistic <= result.areas - 1:
        assert result.tau2 == 0


def test_unknown_overdispersion_mode_is_refused():
    with pytest.raises(ValueError, match="overdispersion"):
        funnel_plot([1, 2], [10, 20], overdispersion="sometimes")  # type: ignore[arg-type]
