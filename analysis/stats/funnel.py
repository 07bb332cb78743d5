"""Funnel plots and single-value confidence intervals, following OHID (formerly PHE) methods.

Everything here is vectorised over NumPy arrays (or anything array-like, including pandas
Series) and raises :class:`ValueError` naming the offending input and position on bad data.

Methods reproduced (references are repeated in each docstring):

* Wilson score interval for proportions — Wilson (1927); Newcombe (1998), method 3.
* Byar's approximation to the Poisson for counts — Breslow & Day (1987), vol. II, p. 69.
* Exact Poisson (chi-squared) limits for counts — Armitage & Berry (2002); OHID uses these
  for counts below 10, Byar's for 10 or more (Fingertips technical guidance, "Rates").
* Funnel-plot control limits at 95% and 99.8% — Spiegelhalter (2005) and the APHO/PHE
  funnel-plot guidance as implemented in PHEindicatormethods ``calculate_funnel_limits``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import special, stats

from analysis.stats.checks import finite_vector, position_label, reject_where
from analysis.stats.overdispersion import (
    METHOD_ADJUSTED,
    METHOD_PLAIN,
    Overdispersion,
    adjusted_limits,
    estimate,
    transformed,
)

Statistic = Literal["proportion", "rate", "ratio"]
OverdispersionMode = Literal["none", "auto", "adjust"]
PoissonMethod = Literal["ohid", "byars", "exact"]
FloatArray = NDArray[np.float64]

#: Confidence levels of the two funnel limits: roughly 2 and 3 standard deviations.
FUNNEL_LEVELS: tuple[float, float] = (0.95, 0.998)

#: Outlier flags, from highest to lowest.
FLAG_ABOVE_998 = "above 99.8%"
FLAG_ABOVE_95 = "above 95%"
FLAG_WITHIN = "within"
FLAG_BELOW_95 = "below 95%"
FLAG_BELOW_998 = "below 99.8%"
FLAGS: tuple[str, ...] = (FLAG_ABOVE_998, FLAG_ABOVE_95, FLAG_WITHIN, FLAG_BELOW_95, FLAG_BELOW_998)

#: The same flags in the wording of PHEindicatormethods ``assign_funnel_significance``.
OHID_SIGNIFICANCE: dict[str, str] = {
    FLAG_ABOVE_998: "High (0.001)",
    FLAG_ABOVE_95: "High (0.025)",
    FLAG_WITHIN: "Not significant",
    FLAG_BELOW_95: "Low (0.025)",
    FLAG_BELOW_998: "Low (0.001)",
}

#: Below this count OHID replaces Byar's approximation by exact Poisson limits.
OHID_EXACT_BELOW = 10

DEFAULT_MULTIPLIERS: dict[str, float] = {"proportion": 100.0, "rate": 100_000.0, "ratio": 1.0}


class ConfidenceInterval(NamedTuple):
    """Lower and upper limits, each an array shaped like the (broadcast) inputs."""

    lower: FloatArray
    upper: FloatArray


@dataclass(frozen=True)
class FunnelResult:
    """Funnel-plot data for one indicator.

    ``areas`` has one row per area: ``area``, ``numerator``, ``denominator``, ``value``,
    ``ci_lower``/``ci_upper`` (95% confidence interval of the area's own value),
    ``lower_998``/``lower_95``/``upper_95``/``upper_998`` (control limits at that area's
    denominator) and ``flag`` (one of :data:`FLAGS`). ``curve`` holds the same limits on a
    smooth grid of denominators for drawing the funnel. All values are in display units
    (after ``multiplier``); for ratios the denominator is the expected count. ``method``
    says in words which control limits were drawn; ``dispersion`` holds Spiegelhalter's
    overdispersion estimate when it was computed.
    """

    statistic: Statistic
    multiplier: float
    target: float
    areas: pd.DataFrame
    curve: pd.DataFrame
    method: str = METHOD_PLAIN
    dispersion: Overdispersion | None = None

    @property
    def adjusted(self) -> bool:
        """Whether the control limits were widened for overdispersion."""
        return self.method == METHOD_ADJUSTED

    def flag_counts(self) -> dict[str, int]:
        """Number of areas carrying each flag, in :data:`FLAGS` order."""
        counts = self.areas["flag"].value_counts()
        return {flag: int(counts.get(flag, 0)) for flag in FLAGS}


# --------------------------------------------------------------------------------------
# Input checking
# --------------------------------------------------------------------------------------


def _check_not_above(name: str, values: ArrayLike, events: FloatArray,
                     sizes: FloatArray) -> None:
    above = np.atleast_1d(events > sizes)
    if above.any():
        position = int(np.flatnonzero(above)[0])
        raise ValueError(
            f"{name}[{position}]{position_label(values, position)} is "
            f"{np.atleast_1d(events)[position]:g} but its denominator is "
            f"{np.atleast_1d(sizes)[position]:g}: numerators must not exceed denominators"
        )


def _same_length(**arrays: FloatArray) -> None:
    sizes = {name: np.atleast_1d(a).shape[0] for name, a in arrays.items() if np.ndim(a) > 0}
    if len(set(sizes.values())) > 1:
        described = ", ".join(f"{name} has {size}" for name, size in sizes.items())
        raise ValueError(f"inputs must have the same length: {described}")


def _z(confidence: float) -> float:
    """Two-sided standard normal quantile, with the level checked."""
    if not isinstance(confidence, (int, float)) or not 0.0 < float(confidence) < 1.0:
        raise ValueError(
            f"confidence is {confidence!r}: give a level strictly between 0 and 1, e.g. 0.95"
        )
    return float(stats.norm.ppf(0.5 + float(confidence) / 2.0))


def _counts(name: str, values: ArrayLike) -> FloatArray:
    array = finite_vector(name, values, allow_scalar=True)
    reject_where(name, values, array, array < 0, f"{name} must be zero or more")
    return array


def _positive(name: str, values: ArrayLike) -> FloatArray:
    array = finite_vector(name, values, allow_scalar=True)
    reject_where(name, values, array, array <= 0, f"{name} must be positive")
    return array


# --------------------------------------------------------------------------------------
# Single-value confidence intervals
# --------------------------------------------------------------------------------------


def wilson_ci(
    numerator: ArrayLike, denominator: ArrayLike, confidence: float = 0.95
) -> ConfidenceInterval:
    """Wilson score confidence interval for a proportion ``numerator / denominator``.

    With :math:`O` events out of :math:`n`, :math:`p = O/n` and
    :math:`z = \\Phi^{-1}(1 - \\alpha/2)`:

    .. math::

        \\frac{2O + z^2 \\mp z\\sqrt{z^2 + 4O(1 - p)}}{2(n + z^2)}

    The limits are the two proportions :math:`\\pi` at which the score test of
    :math:`p = \\pi` is exactly significant, so they always lie within [0, 1] and are
    sensible at 0 and 100%. Returned as proportions (multiply by 100 for percentages).

    References: Wilson EB (1927) J Am Stat Assoc 22:209-212; Newcombe RG (1998) Stat Med
    17:857-872 (method 3); PHE Technical Guide: Confidence Intervals (2018), appendix 3.
    """
    z = _z(confidence)
    events = _counts("numerator", numerator)
    size = _positive("denominator", denominator)
    _same_length(numerator=events, denominator=size)
    events, size = np.broadcast_arrays(events, size)
    _check_not_above("numerator", numerator, events, size)
    proportion = events / size
    centre = 2.0 * events + z * z
    spread = z * np.sqrt(z * z + 4.0 * events * (1.0 - proportion))
    scale = 2.0 * (size + z * z)
    # Rounding can leave the x = 0 and x = n limits a hair outside [0, 1].
    lower = np.clip((centre - spread) / scale, 0.0, 1.0)
    upper = np.clip((centre + spread) / scale, 0.0, 1.0)
    return ConfidenceInterval(lower, upper)


def byars_ci(count: ArrayLike, confidence: float = 0.95) -> ConfidenceInterval:
    """Byar's approximate Poisson confidence interval for an observed count :math:`O`.

    .. math::

        O_{lower} = O\\left(1 - \\frac{1}{9O} - \\frac{z}{3\\sqrt{O}}\\right)^3,\\qquad
        O_{upper} = (O+1)\\left(1 - \\frac{1}{9(O+1)} + \\frac{z}{3\\sqrt{O+1}}\\right)^3

    Within 0.2% of the exact limits for :math:`O \\ge 10` at 95% (PHE technical guide). For
    :math:`O = 0` the lower limit is 0; for very small counts at high confidence the formula
    goes negative and the lower limit is set to 0 — use :func:`poisson_ci` (exact below 10)
    for small counts. A rate's interval is this interval divided by the denominator (see
    :func:`rate_ci`).

    References: Breslow NE, Day NE (1987) Statistical methods in cancer research, vol. II,
    IARC; PHE Technical Guide: Confidence Intervals (2018), appendix 1.
    """
    z = _z(confidence)
    observed = _counts("count", count)
    # Tiny positive counts overflow the 1/(9O) term; their lower limit is 0 either way.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        lower = observed * (1.0 - 1.0 / (9.0 * observed) - z / (3.0 * np.sqrt(observed))) ** 3
    lower = np.where(observed > 0, np.maximum(lower, 0.0), 0.0)
    shifted = observed + 1.0
    upper = shifted * (1.0 - 1.0 / (9.0 * shifted) + z / (3.0 * np.sqrt(shifted))) ** 3
    return ConfidenceInterval(lower.astype(np.float64), upper.astype(np.float64))


def exact_poisson_ci(count: ArrayLike, confidence: float = 0.95) -> ConfidenceInterval:
    """Exact (chi-squared / gamma) Poisson confidence interval for an observed count.

    .. math::

        O_{lower} = \\tfrac{1}{2}\\chi^2_{2O,\\;\\alpha/2},\\qquad
        O_{upper} = \\tfrac{1}{2}\\chi^2_{2O+2,\\;1-\\alpha/2}

    with :math:`O_{lower} = 0` when :math:`O = 0`. Non-integer counts use the gamma
    distribution's continuous extension.

    References: Armitage P, Berry G (2002) Statistical methods in medical research, 4th edn;
    PHE Technical Guide: Confidence Intervals (2018), appendix 2.
    """
    _z(confidence)
    observed = _counts("count", count)
    tail = (1.0 - float(confidence)) / 2.0
    safe = np.where(observed > 0, observed, 1.0)
    lower = np.where(observed > 0, stats.gamma.ppf(tail, safe), 0.0)
    upper = stats.gamma.ppf(1.0 - tail, observed + 1.0)
    return ConfidenceInterval(np.asarray(lower, np.float64), np.asarray(upper, np.float64))


def poisson_ci(
    count: ArrayLike, confidence: float = 0.95, method: PoissonMethod = "ohid"
) -> ConfidenceInterval:
    """Confidence interval for a Poisson count, by OHID's rule or a named method.

    ``method="ohid"`` (default) uses the exact interval (:func:`exact_poisson_ci`) for
    counts below 10 and Byar's (:func:`byars_ci`) for 10 or more, as Fingertips does for
    crude rates and indirectly standardised ratios. ``"byars"`` and ``"exact"`` force one.

    Reference: OHID Fingertips public health technical guidance, "Rates" and "Indirectly
    standardised ratios"; PHE "Tool for common PH stats and CIs" (February 2018).
    """
    if method == "byars":
        return byars_ci(count, confidence)
    if method == "exact":
        return exact_poisson_ci(count, confidence)
    if method != "ohid":
        raise ValueError(f"method is {method!r}: use 'ohid', 'byars' or 'exact'")
    observed = _counts("count", count)
    exact = exact_poisson_ci(observed, confidence)
    approx = byars_ci(observed, confidence)
    small = observed < OHID_EXACT_BELOW
    return ConfidenceInterval(
        np.where(small, exact.lower, approx.lower), np.where(small, exact.upper, approx.upper)
    )


def rate_ci(
    count: ArrayLike,
    denominator: ArrayLike,
    *,
    multiplier: float = 100_000.0,
    confidence: float = 0.95,
    method: PoissonMethod = "ohid",
) -> ConfidenceInterval:
    """Confidence interval for a crude rate ``multiplier * count / denominator``.

    :math:`r_{lower} = m\\,O_{lower}/n` and :math:`r_{upper} = m\\,O_{upper}/n`, where the
    count limits come from :func:`poisson_ci` (exact below 10, Byar's otherwise, by default).

    Reference: OHID Fingertips public health technical guidance, "Rates".
    """
    observed = _counts("count", count)
    population = _positive("denominator", denominator)
    _same_length(count=observed, denominator=population)
    _check_multiplier(multiplier)
    limits = poisson_ci(observed, confidence, method)
    return ConfidenceInterval(
        multiplier * limits.lower / population, multiplier * limits.upper / population
    )


def ratio_ci(
    observed: ArrayLike,
    expected: ArrayLike,
    *,
    multiplier: float = 1.0,
    confidence: float = 0.95,
    method: PoissonMethod = "ohid",
) -> ConfidenceInterval:
    """Confidence interval for an indirectly standardised ratio ``observed / expected``.

    :math:`\\mathrm{ISR}_{lower} = m\\,O_{lower}/E` and likewise for the upper limit; the
    expected count is treated as fixed. Use ``multiplier=100`` for SMR-style ratios.

    Reference: OHID Fingertips public health technical guidance, "Indirectly standardised
    ratios"; Breslow & Day (1987).
    """
    events = _counts("observed", observed)
    expectation = _positive("expected", expected)
    _same_length(observed=events, expected=expectation)
    _check_multiplier(multiplier)
    limits = poisson_ci(events, confidence, method)
    return ConfidenceInterval(
        multiplier * limits.lower / expectation, multiplier * limits.upper / expectation
    )


def _check_multiplier(multiplier: float) -> None:
    if not np.isfinite(multiplier) or multiplier <= 0:
        raise ValueError(f"multiplier is {multiplier!r}: it must be a positive number")


# --------------------------------------------------------------------------------------
# Funnel control limits
# --------------------------------------------------------------------------------------


def proportion_funnel_limits(
    denominator: ArrayLike, target: float, confidence: float = 0.95
) -> ConfidenceInterval:
    """Funnel control limits for a proportion with comparator ``target`` (a proportion).

    .. math::

        \\pi \\pm z\\sqrt{\\pi(1-\\pi)/n}, \\text{ clipped to } [0, 1]

    An area's proportion falls outside these limits exactly when ``target`` lies outside the
    Wilson score interval of that proportion, so this is the Wilson (score-test) funnel. It is
    algebraically identical to the ``sigma_adjustment`` used by PHEindicatormethods
    ``calculate_funnel_limits`` for proportions.

    References: Spiegelhalter DJ (2005) Stat Med 24:1185-1202; APHO Technical Briefing 2,
    "Statistical process control methods in public health intelligence" (2008);
    PHEindicatormethods ``calculate_funnel_limits`` (statistic = "proportion").
    """
    z = _z(confidence)
    size = _positive("denominator", denominator)
    if not 0.0 < float(target) < 1.0:
        raise ValueError(f"target is {target!r}: a comparator proportion must be in (0, 1)")
    half_width = z * np.sqrt(target * (1.0 - target) / size)
    return ConfidenceInterval(
        np.clip(target - half_width, 0.0, 1.0), np.clip(target + half_width, 0.0, 1.0)
    )


def count_funnel_limits(expected: ArrayLike, confidence: float = 0.95) -> ConfidenceInterval:
    """Exact Poisson control limits for an observed count whose expectation is ``expected``.

    The upper limit :math:`O^+` solves :math:`O^+_{lower} = E` and the lower limit
    :math:`O^-` solves :math:`O^-_{upper} = E`, with the exact limits of
    :func:`exact_poisson_ci` extended continuously in :math:`O`:

    .. math::

        P(\\Gamma(O^+) \\le E) = \\alpha/2, \\qquad P(\\Gamma(O^- + 1) \\le E) = 1 - \\alpha/2

    (lower limit floored at 0). So an integer count lies beyond a limit exactly when
    :math:`E` lies outside its exact confidence interval. These are the curves
    PHEindicatormethods draws for rate and ratio funnels (its ``poisson_funnel`` search).

    References: Spiegelhalter DJ (2005) Stat Med 24:1185-1202; PHEindicatormethods
    ``calculate_funnel_limits`` (statistic = "rate" / "ratio").
    """
    _z(confidence)
    expectation = _positive("expected", expected)
    tail = (1.0 - float(confidence)) / 2.0
    # pdtrik(p, m) is the (continuous) k with P(Poisson(m) <= k) = p = Q(k + 1, m).
    upper = special.pdtrik(1.0 - tail, expectation) + 1.0
    lower = np.maximum(special.pdtrik(tail, expectation), 0.0)
    return ConfidenceInterval(np.asarray(lower, np.float64), np.asarray(upper, np.float64))


def rate_funnel_limits(
    denominator: ArrayLike,
    target: float,
    *,
    multiplier: float = 100_000.0,
    confidence: float = 0.95,
) -> ConfidenceInterval:
    """Funnel control limits for a crude rate per ``multiplier`` around ``target``.

    With :math:`E = n\\,\\theta/m` expected events, the limits are
    :math:`m\\,O^\\pm(E)/n` with :math:`O^\\pm` from :func:`count_funnel_limits`.

    Reference: as :func:`count_funnel_limits`.
    """
    _check_multiplier(multiplier)
    population = _positive("denominator", denominator)
    if not np.isfinite(target) or target <= 0:
        raise ValueError(f"target is {target!r}: a comparator rate must be positive")
    counts = count_funnel_limits(population * target / multiplier, confidence)
    return ConfidenceInterval(
        multiplier * counts.lower / population, multiplier * counts.upper / population
    )


def ratio_funnel_limits(
    expected: ArrayLike,
    *,
    target: float | None = None,
    multiplier: float = 1.0,
    confidence: float = 0.95,
) -> ConfidenceInterval:
    """Funnel control limits for an indirectly standardised ratio ``observed / expected``.

    The comparator ratio ``target`` is in display units and defaults to ``multiplier`` (a
    ratio of 1, shown as 100 for SMR-style ratios with ``multiplier=100``). With
    :math:`E' = E\\,\\mathrm{target}/m` the limits are :math:`m\\,O^\\pm(E')/E`.

    Reference: as :func:`count_funnel_limits`.
    """
    _check_multiplier(multiplier)
    expectation = _positive("expected", expected)
    target = float(multiplier) if target is None else float(target)
    if not np.isfinite(target) or target <= 0:
        raise ValueError(f"target is {target!r}: a comparator ratio must be positive")
    counts = count_funnel_limits(expectation * target / multiplier, confidence)
    return ConfidenceInterval(
        multiplier * counts.lower / expectation, multiplier * counts.upper / expectation
    )


# --------------------------------------------------------------------------------------
# Funnel plot for a set of areas
# --------------------------------------------------------------------------------------


def _flags(
    observed: FloatArray, limits_95: ConfidenceInterval, limits_998: ConfidenceInterval
) -> NDArray[np.object_]:
    """Strict comparisons, as OHID: a value on a limit is not an outlier."""
    return np.select(
        [
            observed > limits_998.upper,
            observed > limits_95.upper,
            observed < limits_998.lower,
            observed < limits_95.lower,
        ],
        [FLAG_ABOVE_998, FLAG_ABOVE_95, FLAG_BELOW_998, FLAG_BELOW_95],
        default=FLAG_WITHIN,
    )


def _denominator_grid(denominator: FloatArray, points: int) -> FloatArray:
    low = float(denominator.min()) * 0.9
    high = float(denominator.max()) * 1.1
    return np.geomspace(low, high, points)


def funnel_plot(
    numerator: ArrayLike,
    denominator: ArrayLike,
    *,
    statistic: Statistic = "proportion",
    multiplier: float | None = None,
    target: float | None = None,
    area: ArrayLike | None = None,
    curve_points: int = 100,
    overdispersion: OverdispersionMode = "none",
) -> FunnelResult:
    """Funnel-plot values, 95% and 99.8% control limits and an outlier flag for each area.

    ``statistic`` decides the inputs and the limits:

    * ``"proportion"``: numerator events out of denominator people; limits from
      :func:`proportion_funnel_limits` (Wilson score); area CIs from :func:`wilson_ci`.
      Default multiplier 100 (percent).
    * ``"rate"``: numerator events over denominator person-years; limits from
      :func:`rate_funnel_limits` (exact Poisson); area CIs from :func:`rate_ci` (exact below
      10 events, Byar's otherwise). Default multiplier 100,000.
    * ``"ratio"``: observed over expected counts (indirect standardisation); limits from
      :func:`ratio_funnel_limits`; area CIs from :func:`ratio_ci`. Default multiplier 1.

    ``area`` labels the rows (default: the numerator's pandas index, else positions).
    ``target`` is the comparator in display units. It defaults to the pooled value
    :math:`m\\sum O / \\sum n` for proportions and rates and to :math:`m` (ratio 1) for
    ratios, as PHEindicatormethods does. Flags: ``"above 99.8%"``, ``"above 95%"``,
    ``"within"``, ``"below 95%"``, ``"below 99.8%"`` (see :data:`OHID_SIGNIFICANCE`).
    A point on a limit counts as within.

    ``overdispersion``: ``"none"`` (default) draws the plain binomial/Poisson limits above;
    ``"auto"`` estimates Spiegelhalter's (2005) dispersion (winsorised z-scores, χ² test)
    and widens the limits by the additive random-effects variance τ² when overdispersion is
    present; ``"adjust"`` widens them whenever τ² > 0 (see
    :mod:`analysis.stats.overdispersion`). Flags follow the limits drawn.

    For rates and ratios the flag compares the observed count with the exact Poisson limits,
    i.e. whether the target lies outside the area's exact confidence interval.
    PHEindicatormethods' ``assign_funnel_significance`` uses Byar's interval from 10 events
    upwards instead; the two can differ only for a point within about 0.2% of a limit.

    References: Spiegelhalter DJ (2005) Funnel plots for comparing institutional
    performance, Stat Med 24:1185-1202; APHO Technical Briefing 2 (2008); PHEindicatormethods
    ``calculate_funnel_limits`` and ``assign_funnel_significance``.
    """
    if statistic not in DEFAULT_MULTIPLIERS:
        raise ValueError(f"statistic is {statistic!r}: use 'proportion', 'rate' or 'ratio'")
    scale = DEFAULT_MULTIPLIERS[statistic] if multiplier is None else float(multiplier)
    _check_multiplier(scale)
    if curve_points < 2:
        raise ValueError(f"curve_points is {curve_points}: at least 2 points are needed")
    if overdispersion not in ("none", "auto", "adjust"):
        raise ValueError(
            f"overdispersion is {overdispersion!r}: use 'none', 'auto' or 'adjust'")
    events = np.atleast_1d(_counts("numerator", numerator))
    sizes_name = "expected" if statistic == "ratio" else "denominator"
    sizes = np.atleast_1d(_positive(sizes_name, denominator))
    _same_length(numerator=events, **{sizes_name: sizes})
    if events.size == 0:
        raise ValueError("no areas given: numerator and denominator are empty")
    if area is not None:
        labels = np.asarray(area)
    elif isinstance(numerator, pd.Series):
        labels = numerator.index.to_numpy()
    else:
        labels = np.arange(events.size)
    if labels.shape != events.shape:
        raise ValueError(f"area has {labels.size} labels but there are {events.size} areas")

    if statistic == "proportion":
        _check_not_above("numerator", numerator, events, sizes)
        comparator = events.sum() / sizes.sum() if target is None else float(target) / scale
        if not 0.0 < comparator < 1.0:
            raise ValueError(
                f"target is {comparator * scale:g}: a comparator proportion must lie strictly "
                f"between 0 and {scale:g}"
            )
        area_ci = wilson_ci(events, sizes)

        def limits(n: FloatArray, level: float) -> ConfidenceInterval:
            return proportion_funnel_limits(n, comparator, level)

    else:
        if target is not None:
            comparator = float(target) / scale
        elif statistic == "rate":
            comparator = events.sum() / sizes.sum()
        else:
            comparator = 1.0
        if not np.isfinite(comparator) or comparator <= 0:
            raise ValueError(
                f"target is {comparator * scale:g}: the comparator must be positive "
                "(a pooled rate of zero gives no funnel)"
            )
        counts_ci = poisson_ci(events)
        area_ci = ConfidenceInterval(counts_ci.lower / sizes, counts_ci.upper / sizes)

        def limits(n: FloatArray, level: float) -> ConfidenceInterval:
            counts = count_funnel_limits(n * comparator, level)
            return ConfidenceInterval(counts.lower / n, counts.upper / n)

    observed = events / sizes
    dispersion = None
    method = METHOD_PLAIN
    if overdispersion != "none":
        kind = "proportion" if statistic == "proportion" else "count"
        dispersion = estimate(*transformed(events, sizes, comparator, kind))
        widen = dispersion.present if overdispersion == "auto" else True
        if widen and dispersion.tau2 > 0:
            method = METHOD_ADJUSTED
            tau2 = dispersion.tau2

            def limits(n: FloatArray, level: float) -> ConfidenceInterval:
                return ConfidenceInterval(*adjusted_limits(n, comparator, kind, tau2,
                                                           _z(level)))

    low_level, high_level = FUNNEL_LEVELS
    limits_95 = limits(sizes, low_level)
    limits_998 = limits(sizes, high_level)
    areas = pd.DataFrame(
        {
            "area": labels,
            "numerator": events,
            "denominator": sizes,
            "value": observed * scale,
            "ci_lower": area_ci.lower * scale,
            "ci_upper": area_ci.upper * scale,
            "lower_998": limits_998.lower * scale,
            "lower_95": limits_95.lower * scale,
            "upper_95": limits_95.upper * scale,
            "upper_998": limits_998.upper * scale,
            "flag": _flags(observed, limits_95, limits_998),
        }
    )
    grid = _denominator_grid(sizes, curve_points)
    grid_95 = limits(grid, low_level)
    grid_998 = limits(grid, high_level)
    curve = pd.DataFrame(
        {
            "denominator": grid,
            "target": np.full(grid.shape, comparator * scale),
            "lower_998": grid_998.lower * scale,
            "lower_95": grid_95.lower * scale,
            "upper_95": grid_95.upper * scale,
            "upper_998": grid_998.upper * scale,
        }
    )
    return FunnelResult(
        statistic=statistic,
        multiplier=scale,
        target=comparator * scale,
        areas=areas,
        curve=curve,
        method=method,
        dispersion=dispersion,
    )
