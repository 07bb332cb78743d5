"""Inequality measures for the equity statistics engine.

Plain, vectorised functions over numpy arrays (pandas Series work too). Every measure documents
its formula, reference and reading in its docstring; ``docs/methods.md`` has the long form.

Conventions shared by every function here:

* **Grouped data run from most to least deprived.** Where a function takes one value per
  deprivation group (quintile, decile...), position 0 is the most deprived group and the last
  position the least deprived, exactly as in OHID's ``phe_sii``.
* **Quantile labels:** where a function takes area values with a deprivation quantile per area,
  label 1 is the most deprived quantile and the largest label the least deprived (the IMD
  convention).
* **Continuous rankings:** ``rank_by`` is a deprivation *score*: higher means more deprived (IMD
  score). To rank by IMD rank or decile (1 = most deprived) pass its negative.
* Bad input raises ``ValueError`` naming the argument and the 0-based position of the first
  offending entry; no function returns NaN for bad input.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import norm

from analysis.stats.checks import finite_vector

__all__ = [
    "ConcentrationCurve",
    "ConcentrationIndexResult",
    "InequalityMeasure",
    "SlopeIndexResult",
    "concentration_curve",
    "concentration_index",
    "gini",
    "index_of_disparity",
    "mean_log_deviation",
    "population_attributable_risk",
    "quantile_difference",
    "quantile_means",
    "quantile_ratio",
    "slope_index",
    "theil_t",
]

FloatArray = NDArray[np.float64]
ValueType = Literal["normal", "rate", "proportion"]
ConcentrationKind = Literal["standard", "erreygers", "wagstaff"]

# phe_sii derives standard errors from 95% limits with qnorm(0.975), whatever confidence is asked
# for the SII itself.
_Z_FOR_INPUT_LIMITS = float(norm.ppf(0.975))
_MIN_QUANTILES = 5
_MAX_QUANTILES = 100
_MIN_REPETITIONS = 1000
_EMPTY_DETAILS: Mapping[str, float] = MappingProxyType({})


# ---------------------------------------------------------------------------------------------
# Result types
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InequalityMeasure:
    """One summary measure of inequality, ready for a table or a briefing.

    ``lower``/``upper`` are confidence limits at ``confidence`` when the measure has them, else
    ``None``. ``details`` holds supporting numbers (for example the absolute and percentage forms
    of the population attributable risk).
    """

    name: str
    value: float
    lower: float | None
    upper: float | None
    reading: str
    confidence: float | None = None
    details: Mapping[str, float] = field(default_factory=lambda: _EMPTY_DETAILS)


@dataclass(frozen=True)
class SlopeIndexResult:
    """Slope and relative index of inequality with simulated confidence limits.

    When ``confidence`` was a sequence, every ``*_lower``/``*_upper`` is a tuple in that order.
    ``intercept`` is the fitted value at relative rank 0 (the most deprived end).
    """

    sii: float
    sii_lower: float | tuple[float, ...]
    sii_upper: float | tuple[float, ...]
    rii: float
    rii_lower: float | tuple[float, ...]
    rii_upper: float | tuple[float, ...]
    intercept: float
    confidence: float | tuple[float, ...]
    value_type: ValueType
    transform: bool
    multiplier: float
    repetitions: int
    reading: str


@dataclass(frozen=True)
class ConcentrationIndexResult:
    """A concentration index with its delta-method standard error and confidence interval."""

    index: float
    standard_error: float
    lower: float
    upper: float
    confidence: float
    kind: ConcentrationKind
    bounds: tuple[float, float] | None
    observations: int
    reading: str

    def to_measure(self) -> InequalityMeasure:
        """The same result as an :class:`InequalityMeasure`, for tables mixing measures."""
        return InequalityMeasure(
            name=f"concentration index ({self.kind})",
            value=self.index,
            lower=self.lower,
            upper=self.upper,
            reading=self.reading,
            confidence=self.confidence,
            details=MappingProxyType({"standard_error": self.standard_error}),
        )


class ConcentrationCurve(NamedTuple):
    """Points of a concentration curve, starting at (0, 0), most deprived first."""

    population_share: FloatArray
    value_share: FloatArray


# ---------------------------------------------------------------------------------------------
# Validation helpers (also used by analysis.stats.fair_share)
# ---------------------------------------------------------------------------------------------


def _as_float_array(name: str, data: ArrayLike) -> FloatArray:
    """A 1-D float array of ``data``; raises if it is empty, not numeric or not finite."""
    return finite_vector(name, data, allow_empty=False)


def _require(name: str, array: FloatArray, bad: NDArray[np.bool_], rule: str) -> None:
    """Raise naming the first position where ``bad`` is true."""
    if bad.any():
        position = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name}[{position}] is {float(array[position])!r}: {name} {rule}")


def _positive(name: str, data: ArrayLike) -> FloatArray:
    array = _as_float_array(name, data)
    _require(name, array, array <= 0, "must be positive")
    return array


def _non_negative(name: str, data: ArrayLike) -> FloatArray:
    array = _as_float_array(name, data)
    _require(name, array, array < 0, "must not be negative")
    return array


def _same_length(**arrays: FloatArray) -> None:
    names = list(arrays)
    first = names[0]
    for other in names[1:]:
        if arrays[other].size != arrays[first].size:
            raise ValueError(
                f"{first} has {arrays[first].size} entries but {other} has "
                f"{arrays[other].size}: they must be the same length"
            )


def _confidence_level(confidence: float) -> float:
    level = float(confidence)
    if not 0.0 < level < 1.0:
        raise ValueError(
            f"confidence is {level!r}: give it as a fraction between 0 and 1, e.g. 0.95"
        )
    return level


def _z(confidence: float) -> float:
    return float(norm.ppf(0.5 + confidence / 2.0))


# ---------------------------------------------------------------------------------------------
# Wording helpers
# ---------------------------------------------------------------------------------------------


def _fmt(number: float) -> str:
    """A number rounded for prose: about three significant figures, no scientific notation."""
    if not math.isfinite(number):
        return str(number)
    magnitude = abs(number)
    if magnitude >= 1000:
        return f"{number:,.0f}"
    if magnitude >= 100:
        return f"{number:.0f}"
    if magnitude >= 10:
        return f"{number:.1f}"
    if magnitude >= 1:
        return f"{number:.2f}"
    if magnitude == 0:
        return "0"
    return f"{number:.2g}"


def _interval(lower: float, upper: float, confidence: float) -> str:
    return f"{confidence * 100:g}% CI {_fmt(lower)} to {_fmt(upper)}"


_GROUP_NAMES = {
    2: "half",
    3: "third",
    4: "quarter",
    5: "fifth",
    10: "tenth",
    20: "twentieth",
    100: "hundredth",
}


def _group_name(number_of_groups: int) -> str:
    return _GROUP_NAMES.get(number_of_groups, "group")


# ---------------------------------------------------------------------------------------------
# Slope and relative index of inequality (phe_sii)
# ---------------------------------------------------------------------------------------------


def _logit(p: FloatArray) -> FloatArray:
    return np.log(p / (1.0 - p))


def _expit(x: FloatArray) -> FloatArray:
    return 1.0 / (1.0 + np.exp(-x))


def _identity(x: FloatArray) -> FloatArray:
    return x


def _inverse_link_in_place(x: FloatArray, value_type: str) -> None:
    """exp or expit of a large array without temporaries."""
    if value_type == "rate":
        np.exp(x, out=x)
    elif value_type == "proportion":
        np.negative(x, out=x)
        np.exp(x, out=x)
        x += 1.0
        np.reciprocal(x, out=x)


_LINKS: dict[str, tuple[Callable[[FloatArray], FloatArray], Callable[[FloatArray], FloatArray]]]
_LINKS = {
    "normal": (_identity, _identity),
    "rate": (np.log, np.exp),
    "proportion": (_logit, _expit),
}


def _check_link_domain(name: str, array: FloatArray, value_type: str) -> None:
    if value_type == "rate":
        _require(name, array, array <= 0, "must be positive for rates (they are log-transformed)")
    elif value_type == "proportion":
        _require(name, array, (array < 0) | (array > 1), "must be a proportion between 0 and 1")
        _require(
            name,
            array,
            (array == 0) | (array == 1),
            "must be strictly between 0 and 1 for proportions (they are logit-transformed)",
        )


def _order_statistic_positions(repetitions: int, level: float) -> tuple[int, int]:
    """0-based positions of the lower and upper limits in the sorted simulations.

    phe_sii takes ``round(reps * (1 - q))`` and ``round(reps * q)`` (1-based) with
    ``q = level + (1 - level) / 2``; Python's round() rounds halves to even like R's.
    """
    upper_quantile = level + (1.0 - level) / 2.0
    lower = round(repetitions * (1.0 - upper_quantile))
    upper = round(repetitions * upper_quantile)
    return min(max(lower, 1), repetitions) - 1, min(max(upper, 1), repetitions) - 1


def _order_statistics(samples: FloatArray, positions: Sequence[int]) -> FloatArray:
    return np.partition(samples, sorted(set(positions)))[list(positions)]


def _shape_limits(limits: list[float], as_tuple: bool) -> float | tuple[float, ...]:
    return tuple(limits) if as_tuple else limits[0]


def slope_index(
    values: ArrayLike,
    populations: ArrayLike,
    *,
    lower_cl: ArrayLike | None = None,
    upper_cl: ArrayLike | None = None,
    standard_errors: ArrayLike | None = None,
    value_type: ValueType = "normal",
    transform: bool = False,
    multiplier: float = 1.0,
    confidence: float | Sequence[float] = 0.95,
    repetitions: int = 100_000,
    seed: int | np.random.Generator | None = None,
) -> SlopeIndexResult:
    """Slope index of inequality (SII) and relative index (RII), as OHID's ``phe_sii``.

    Inputs are one entry per deprivation quantile (5 to 100 of them), ordered from the most
    deprived (position 0) to the least deprived.

    **Point estimate.** Quantile *i* with population share ``a_i = p_i / sum(p)`` gets the relative
    rank ``b_i = sum(a_1 .. a_{i-1}) + a_i / 2`` (the midpoint of its slice of the cumulative
    population). phe_sii fits ``y_i sqrt(a_i) = beta0 sqrt(a_i) + beta1 b_i sqrt(a_i)`` by ordinary
    least squares without a constant, which is weighted least squares of ``y`` on ``b`` with
    weights ``a_i`` (each row scaled by ``sqrt(a_i)``). Then::

        SII = fitted(rank 1) - fitted(rank 0) = beta1          (times ``multiplier``)
        RII = (beta0 + beta1) / beta0 = fitted(1) / fitted(0)  (inverted if multiplier < 0)
        intercept = beta0                                      (not scaled)

    A positive SII (with multiplier 1) means the indicator is higher at the least deprived end.
    The RII is undefined (NaN) in the rare case that the fitted value at rank 0 is exactly 0.

    **Standard errors.** ``standard_errors`` are used as given; otherwise they are
    ``(g(upper) - g(lower)) / (2 * 1.959964)`` from 95% limits, where ``g`` is the identity
    (``"normal"``), ``log`` (``"rate"``) or ``logit`` (``"proportion"``). Given standard errors of
    rates and proportions are therefore read as being on the log / logit scale, as in phe_sii.

    **Confidence limits** by Monte Carlo simulation: each repetition draws every quantile's value
    from ``Normal(g(y_i), se_i)``, back-transforms it with ``g^-1``, refits (closed-form weighted
    least squares over the whole repetitions x quantiles matrix), and the limits are the order
    statistics ``round(R (1 - q))`` and ``round(R q)`` of the simulated SII and RII with
    ``q = c + (1 - c) / 2``.

    **transform=True** (rates and proportions only, 95% limits required) fits on the log/logit
    scale: ``SII = g^-1(beta0 + beta1) - g^-1(beta0)``, ``RII = g^-1(beta0 + beta1) / g^-1(beta0)``
    and ``intercept = g^-1(beta0) * |multiplier|`` (phe_sii scales the back-transformed intercept).
    The simulated slope limits ``s`` (transformed scale) are re-centred on the fitted value at
    rank 0.5, ``m = beta0 + beta1 / 2``: SII limit ``g^-1(m + s/2) - g^-1(m - s/2)``, RII limit
    ``g^-1(m + s/2) / g^-1(m - s/2)``.

    **Multiplier** scales the SII and its limits (e.g. 100 for percentages, -1 to flip polarity);
    a negative multiplier swaps the SII limits and inverts the RII and its limits.

    Deliberate differences from phe_sii 2.x: an SE together with limits is refused instead of
    silently preferring the SE; proportions of exactly 0 or 1 are refused (their logit is
    infinite); with ``transform=True`` a rate multiplier between 0 and 1 does not swap the limits
    (phe_sii tests ``multiplier < 1`` there, which looks like a slip for ``< 0``); and the
    random numbers come from numpy, so limits agree with R's only to simulation error.

    Reference: Low A, Low A. Measuring the gap: quantifying and comparing local health
    inequalities. J Public Health 2004;26:388-395. OHID PHEindicatormethods ``phe_sii``.

    Args:
        values: indicator value per quantile, most deprived first (proportions as 0-1).
        populations: population per quantile (positive).
        lower_cl, upper_cl: 95% confidence limits per quantile (instead of standard_errors).
        standard_errors: standard error per quantile (instead of limits; see above for scale).
        value_type: ``"normal"``, ``"rate"`` or ``"proportion"``.
        transform: fit on the log/logit scale (see above).
        multiplier: scales the SII and its limits.
        confidence: one level such as 0.95, or a sequence such as ``(0.95, 0.998)``.
        repetitions: number of simulations, at least 1,000.
        seed: seed or numpy Generator; the same seed gives the same limits.

    Returns:
        SlopeIndexResult with ``sii, sii_lower, sii_upper, rii, rii_lower, rii_upper, intercept``.
    """
    y = _as_float_array("values", values)
    population = _positive("populations", populations)
    _same_length(values=y, populations=population)
    quantile_count = y.size
    if not _MIN_QUANTILES <= quantile_count <= _MAX_QUANTILES:
        raise ValueError(
            f"slope_index needs between {_MIN_QUANTILES} and {_MAX_QUANTILES} quantiles, "
            f"got {quantile_count}"
        )
    if value_type not in _LINKS:
        raise ValueError(
            f"value_type is {value_type!r}: it must be 'normal', 'rate' or 'proportion'"
        )
    multiplier = float(multiplier)
    if not math.isfinite(multiplier) or multiplier == 0:
        raise ValueError(f"multiplier is {multiplier!r}: it must be a finite non-zero number")
    if isinstance(repetitions, bool) or int(repetitions) != repetitions:
        raise ValueError(f"repetitions is {repetitions!r}: it must be a whole number")
    repetitions = int(repetitions)
    if repetitions < _MIN_REPETITIONS:
        raise ValueError(
            f"repetitions is {repetitions}: at least {_MIN_REPETITIONS:,} are needed for stable "
            "limits (default 100,000)"
        )
    several_levels = np.ndim(confidence) != 0
    raw_levels = list(confidence) if several_levels else [confidence]  # type: ignore[arg-type]
    if not raw_levels:
        raise ValueError("confidence is an empty sequence: give at least one level")
    levels = [_confidence_level(level) for level in raw_levels]

    has_limits = lower_cl is not None or upper_cl is not None
    if has_limits and (lower_cl is None or upper_cl is None):
        raise ValueError("lower_cl and upper_cl must be given together")
    if has_limits and standard_errors is not None:
        raise ValueError("give either standard_errors or lower_cl/upper_cl, not both")
    if not has_limits and standard_errors is None:
        raise ValueError("slope_index needs standard_errors or lower_cl and upper_cl")
    if transform and value_type == "normal":
        raise ValueError("transform=True needs value_type 'rate' or 'proportion'")
    if transform and not has_limits:
        raise ValueError(
            "transform=True needs lower_cl and upper_cl (phe_sii refuses standard errors here)"
        )

    link, inverse_link = _LINKS[value_type]
    _check_link_domain("values", y, value_type)
    linked_values = link(y)
    if standard_errors is not None:
        errors = _non_negative("standard_errors", standard_errors)
        _same_length(values=y, standard_errors=errors)
    else:
        lower = _as_float_array("lower_cl", lower_cl)  # type: ignore[arg-type]
        upper = _as_float_array("upper_cl", upper_cl)  # type: ignore[arg-type]
        _same_length(values=y, lower_cl=lower, upper_cl=upper)
        _check_link_domain("lower_cl", lower, value_type)
        _check_link_domain("upper_cl", upper, value_type)
        _require("upper_cl", upper, upper < lower, "must not be below lower_cl")
        errors = (link(upper) - link(lower)) / (2.0 * _Z_FOR_INPUT_LIMITS)

    share = population / population.sum()
    relative_rank = np.cumsum(share) - share / 2.0
    root_share = np.sqrt(share)
    design = np.column_stack([root_share, relative_rank * root_share])
    # (X'X)^-1 X' once, so every repetition's fit is one row of a matrix product.
    least_squares = np.linalg.solve(design.T @ design, design.T)

    fitted_scale_values = linked_values if transform else y
    intercept, slope = least_squares @ (fitted_scale_values * root_share)

    # Speed: every elementwise pass over the repetitions x quantiles matrix costs about as much
    # as the matrix product, so scale factors are folded into the small least-squares matrix
    # and the back-transform runs in place.
    generator = np.random.default_rng(seed)
    draws = generator.standard_normal((repetitions, quantile_count))
    weighted_least_squares = (least_squares * root_share).T
    if transform or value_type == "normal":
        # Linear in the draws: fit(mean + se * z) = fit(mean) + z @ (se-scaled matrix).
        simulated = draws @ (weighted_least_squares * errors[:, np.newaxis])
        simulated += weighted_least_squares.T @ linked_values
    else:
        draws *= errors
        draws += linked_values
        _inverse_link_in_place(draws, value_type)
        simulated = draws @ weighted_least_squares
    simulated_intercept = simulated[:, 0]
    simulated_slope = simulated[:, 1]

    positions: list[int] = []
    for level in levels:
        positions.extend(_order_statistic_positions(repetitions, level))

    sii_lower: list[float] = []
    sii_upper: list[float] = []
    rii_lower: list[float] = []
    rii_upper: list[float] = []
    if not transform:
        sii = multiplier * slope
        with np.errstate(divide="ignore", invalid="ignore"):
            rii = (intercept + slope) / intercept if intercept != 0 else math.nan
            simulated_rii = (simulated_intercept + simulated_slope) / simulated_intercept
        if multiplier < 0:
            rii = 1.0 / rii
            with np.errstate(divide="ignore"):
                simulated_rii = 1.0 / simulated_rii
        sii_limits = _order_statistics(multiplier * simulated_slope, positions)
        rii_limits = _order_statistics(simulated_rii, positions)
        for index in range(len(levels)):
            sii_lower.append(float(sii_limits[2 * index]))
            sii_upper.append(float(sii_limits[2 * index + 1]))
            rii_lower.append(float(rii_limits[2 * index]))
            rii_upper.append(float(rii_limits[2 * index + 1]))
        intercept_out = float(intercept)
    else:
        at_zero = float(inverse_link(np.array(intercept)))
        at_one = float(inverse_link(np.array(intercept + slope)))
        sii = (at_one - at_zero) * multiplier
        rii = at_one / at_zero
        if multiplier < 0:
            rii = 1.0 / rii
        intercept_out = at_zero * abs(multiplier)
        middle = intercept + slope / 2.0
        slope_limits = _order_statistics(simulated_slope, positions)
        top = inverse_link(middle + slope_limits / 2.0)
        bottom = inverse_link(middle - slope_limits / 2.0)
        gap_limits = top - bottom
        ratio_limits = top / bottom
        for index in range(len(levels)):
            low, high = 2 * index, 2 * index + 1
            if multiplier < 0:
                low, high = high, low
                rii_lower.append(float(1.0 / ratio_limits[low]))
                rii_upper.append(float(1.0 / ratio_limits[high]))
            else:
                rii_lower.append(float(ratio_limits[low]))
                rii_upper.append(float(ratio_limits[high]))
            sii_lower.append(float(gap_limits[low] * multiplier))
            sii_upper.append(float(gap_limits[high] * multiplier))

    raw_gap = float(sii) / multiplier
    where = "least" if raw_gap > 0 else "most"
    first_level = levels[0]
    reading = (
        f"Across the deprivation gradient the fitted value is {_fmt(abs(float(sii)))} higher at "
        f"the {where} deprived end (SII {_fmt(float(sii))}, "
        f"{_interval(sii_lower[0], sii_upper[0], first_level)}); "
        f"relative index {_fmt(float(rii))}."
    )
    if raw_gap == 0:
        reading = (
            f"The fitted value is the same at both ends of the deprivation gradient (SII 0, "
            f"{_interval(sii_lower[0], sii_upper[0], first_level)})."
        )

    return SlopeIndexResult(
        sii=float(sii),
        sii_lower=_shape_limits(sii_lower, several_levels),
        sii_upper=_shape_limits(sii_upper, several_levels),
        rii=float(rii),
        rii_lower=_shape_limits(rii_lower, several_levels),
        rii_upper=_shape_limits(rii_upper, several_levels),
        intercept=intercept_out,
        confidence=tuple(levels) if several_levels else levels[0],
        value_type=value_type,
        transform=bool(transform),
        multiplier=multiplier,
        repetitions=repetitions,
        reading=reading,
    )


# ---------------------------------------------------------------------------------------------
# Concentration index and curve
# ---------------------------------------------------------------------------------------------


class _RankedData(NamedTuple):
    shares: FloatArray  # population shares, summing to 1
    fractional_rank: FloatArray  # midpoint rank, 0 = first in the ranking
    cumulative_before: FloatArray  # sum of share*value over tie groups ranked before the unit's
    cumulative_after: FloatArray  # the same, including the unit's own tie group
    group_share: FloatArray  # one entry per tie group, in ranking order
    group_total: FloatArray  # sum of share*value per tie group


def _rank(values: FloatArray, key: FloatArray, weights: FloatArray) -> _RankedData:
    """Rank units by ascending ``key``; tied keys share one midpoint rank and curve segment.

    Pooling ties makes reversing the ranking give exactly ``1 - rank``, so a concentration index
    changes sign and nothing else.
    """
    shares = weights / weights.sum()
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    is_group_start = np.empty(sorted_key.size, dtype=bool)
    is_group_start[0] = True
    is_group_start[1:] = sorted_key[1:] != sorted_key[:-1]
    starts = np.flatnonzero(is_group_start)
    group_of_sorted = np.cumsum(is_group_start) - 1
    group_of_unit = np.empty_like(group_of_sorted)
    group_of_unit[order] = group_of_sorted

    group_share = np.add.reduceat(shares[order], starts)
    group_total = np.add.reduceat(shares[order] * values[order], starts)
    group_rank = np.cumsum(group_share) - group_share / 2.0
    after = np.cumsum(group_total)
    before = after - group_total
    return _RankedData(
        shares=shares,
        fractional_rank=group_rank[group_of_unit],
        cumulative_before=before[group_of_unit],
        cumulative_after=after[group_of_unit],
        group_share=group_share,
        group_total=group_total,
    )


class _CovarianceCore(NamedTuple):
    covariance: float  # weighted cov(y, fractional rank)
    mean: float
    covariance_influence: FloatArray  # linearised per-unit contributions (see below)
    mean_influence: FloatArray
    shares: FloatArray


def _covariance_core(values: FloatArray, key: FloatArray, weights: FloatArray) -> _CovarianceCore:
    """Rank covariance behind every concentration-type index, with its influence function.

    The influence function follows from Kakwani, Wagstaff & van Doorslaer (1997): their
    ``a_i - (1 + C)`` for ``C = 2 cov / mu``, rewritten for the covariance so that it needs no
    division by the mean::

        IF_cov,i = [y_i (2 R_i - 1) + mu - Q_{i-1} - Q_i] / 2 - 2 cov

    with ``Q`` the cumulative sums of ``f y`` (unnormalised concentration-curve ordinates), so
    ``estimate - truth ~ sum_i f_i IF_i``.
    """
    ranked = _rank(values, key, weights)
    shares = ranked.shares
    mean = float(shares @ values)
    centred_rank = ranked.fractional_rank - 0.5
    covariance = float(shares @ ((values - mean) * centred_rank))
    covariance_influence = (
        values * 2.0 * centred_rank + mean - ranked.cumulative_before - ranked.cumulative_after
    ) / 2.0 - 2.0 * covariance
    return _CovarianceCore(covariance, mean, covariance_influence, values - mean, shares)


def _linearised_se(shares: FloatArray, influence: FloatArray) -> float:
    """sqrt(sum f_i^2 IF_i^2): equals KWvD's 1/n [1/n sum a^2 - (1+C)^2] when weights are equal."""
    return float(math.sqrt(float(np.sum((shares * influence) ** 2))))


def _standard_index(core: _CovarianceCore) -> tuple[float, FloatArray]:
    index = 2.0 * core.covariance / core.mean
    influence = (2.0 * core.covariance_influence - index * core.mean_influence) / core.mean
    return index, influence


def _weights_or_ones(weights: ArrayLike | None, size: int) -> FloatArray:
    if weights is None:
        return np.ones(size)
    return _positive("weights", weights)


def _sentence_case(text: str) -> str:
    """First letter upper case, the rest untouched ("GPs per head" stays "GPs per head")."""
    return text[:1].upper() + text[1:]


def concentration_index(
    values: ArrayLike,
    rank_by: ArrayLike,
    weights: ArrayLike | None = None,
    kind: ConcentrationKind = "standard",
    bounds: tuple[float, float] | None = None,
    *,
    confidence: float = 0.95,
    label: str = "the indicator",
) -> ConcentrationIndexResult:
    """Concentration index of ``values`` across the deprivation ranking given by ``rank_by``.

    **Ranking convention.** ``rank_by`` is a deprivation score where a *higher* number means *more
    deprived* (e.g. IMD score; for IMD rank or decile, where 1 is most deprived, pass the
    negative). Units are ranked from the most deprived (fractional rank 0) to the least deprived
    (1), population-weighted, with tied scores sharing their midpoint rank. So, as in the health
    economics literature that ranks from poorest to richest:

    * **negative** index: ``values`` are concentrated among the **more deprived**;
    * **positive** index: concentrated among the **less deprived**;
    * reversing the ranking flips the sign exactly.

    **Formulas** (``f_i`` population shares, ``R_i`` fractional ranks, ``mu`` weighted mean)::

        standard   C = 2 * sum f_i (y_i - mu)(R_i - 1/2) / mu          (Kakwani, Wagstaff &
                                                                       van Doorslaer 1997)
        erreygers  E = 4 mu / (b - a) * C                              (Erreygers 2009)
        wagstaff   W = (b - a) mu C / ((b - mu)(mu - a))               (Wagstaff 2005)

    ``bounds = (a, b)`` are the limits of a bounded variable (``(0, 1)`` for proportions) and are
    required for the corrected kinds. The standard index needs non-negative values with a
    positive mean (a ratio-scale variable); it is unchanged when values are multiplied by a
    positive constant.

    **Standard error:** the delta-method formula of Kakwani, Wagstaff & van Doorslaer (1997),
    ``var(C) = 1/n [1/n sum a_i^2 - (1 + C)^2]`` with
    ``a_i = y_i/mu (2 R_i - 1 - C) + 2 - q_{i-1} - q_i`` (``q`` the concentration-curve ordinates),
    written in its linearised form ``var = sum f_i^2 (a_i - (1 + C))^2`` so that population
    weights enter; with equal weights this is exactly their formula. Areas are treated as the
    units of observation and within-area sampling error is ignored. The corrected kinds carry the
    same influence function through the chain rule (mean included). Not the convenient-regression
    route, whose OLS standard error ignores the dependence between ranks.

    References: Kakwani N, Wagstaff A, van Doorslaer E. Socioeconomic inequalities in health:
    measurement, computation, and statistical inference. J Econometrics 1997;77:87-103.
    Erreygers G. Correcting the concentration index. J Health Econ 2009;28:504-515.
    Wagstaff A. The bounds of the concentration index when the variable of interest is binary.
    Health Econ 2005;14:429-432.
    """
    y = _as_float_array("values", values)
    key = _as_float_array("rank_by", rank_by)
    weight = _weights_or_ones(weights, y.size)
    _same_length(values=y, rank_by=key, weights=weight)
    level = _confidence_level(confidence)
    if np.all(key == key[0]):
        raise ValueError(
            f"rank_by is constant (every entry is {float(key[0])!r}): a concentration index "
            "needs a ranking that varies"
        )
    if kind not in ("standard", "erreygers", "wagstaff"):
        raise ValueError(f"kind is {kind!r}: it must be 'standard', 'erreygers' or 'wagstaff'")
    bounds_pair: tuple[float, float] | None = None
    if kind == "standard":
        if bounds is not None:
            raise ValueError("bounds only apply to kind='erreygers' or kind='wagstaff'")
        _require(
            "values",
            y,
            y < 0,
            "must not be negative for the standard concentration index "
            "(use kind='erreygers' with bounds)",
        )
        if not np.any(y > 0):
            raise ValueError("values are all zero: the standard concentration index is undefined")
    else:
        if bounds is None:
            raise ValueError(f"kind={kind!r} needs bounds=(lowest, highest) possible value")
        bounds_pair = (float(bounds[0]), float(bounds[1]))
        low, high = bounds_pair
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ValueError(f"bounds are {bounds!r}: they must be finite with lowest < highest")
        _require("values", y, (y < low) | (y > high), f"must lie within bounds {bounds!r}")

    # The core ranks by ascending key, and deprivation scores run the other way.
    core = _covariance_core(y, -key, weight)
    if kind == "standard":
        index, influence = _standard_index(core)
    elif kind == "erreygers":
        low, high = bounds_pair  # type: ignore[misc]
        index = 8.0 * core.covariance / (high - low)
        influence = 8.0 * core.covariance_influence / (high - low)
    else:
        low, high = bounds_pair  # type: ignore[misc]
        mean = core.mean
        if not low < mean < high:
            raise ValueError(
                f"the weighted mean of values is {mean!r}, on a bound of {bounds!r}: the "
                "Wagstaff-normalised index is undefined"
            )
        scale = 2.0 * (high - low) / ((high - mean) * (mean - low))
        index = scale * core.covariance
        influence = (
            scale * core.covariance_influence
            - index * (1.0 / (mean - low) - 1.0 / (high - mean)) * core.mean_influence
        )
    shares = core.shares

    standard_error = _linearised_se(shares, influence)
    z = _z(level)
    lower, upper = index - z * standard_error, index + z * standard_error
    interval = _interval(lower, upper, level)
    name = {
        "standard": "concentration index",
        "erreygers": "Erreygers-corrected concentration index",
        "wagstaff": "Wagstaff-normalised concentration index",
    }[kind]
    if index == 0 and standard_error == 0:
        reading = f"{_sentence_case(label)} is spread evenly across the deprivation ranking."
    elif lower <= 0 <= upper:
        reading = (
            f"No clear concentration of {label} by deprivation: {name} "
            f"{_fmt(index)} ({interval}) is compatible with zero."
        )
    else:
        side = "more" if index < 0 else "less"
        reading = (
            f"{_sentence_case(label)} is concentrated among the {side} deprived "
            f"({name} {_fmt(index)}, {interval})."
        )
    return ConcentrationIndexResult(
        index=float(index),
        standard_error=standard_error,
        lower=float(lower),
        upper=float(upper),
        confidence=level,
        kind=kind,
        bounds=bounds_pair,
        observations=int(y.size),
        reading=reading,
    )


def concentration_curve(
    values: ArrayLike, rank_by: ArrayLike, weights: ArrayLike | None = None
) -> ConcentrationCurve:
    """Concentration curve points, most deprived first, for plotting.

    x = cumulative share of the population (weights), y = cumulative share of the total of
    ``values * weights`` (e.g. rate x population = events), both starting at 0 and ending at 1.
    ``rank_by`` follows :func:`concentration_index` (higher = more deprived); areas with the same
    score are pooled into one segment. A curve above the diagonal means ``values`` are
    concentrated among the more deprived. Reference: Kakwani, Wagstaff & van Doorslaer (1997).
    """
    y = _non_negative("values", values)
    key = _as_float_array("rank_by", rank_by)
    weight = _weights_or_ones(weights, y.size)
    _same_length(values=y, rank_by=key, weights=weight)
    if not np.any(y > 0):
        raise ValueError("values are all zero: a concentration curve needs a positive total")
    ranked = _rank(y, -key, weight)
    population_share = np.concatenate([[0.0], np.cumsum(ranked.group_share)])
    value_share = np.concatenate([[0.0], np.cumsum(ranked.group_total)]) / ranked.group_total.sum()
    # Rounding can leave the last point a hair off (1, 1); plots should close exactly.
    population_share[-1] = 1.0
    value_share[-1] = 1.0
    return ConcentrationCurve(population_share, value_share)


# ---------------------------------------------------------------------------------------------
# Distribution-only measures: Gini, Theil T, mean log deviation
# ---------------------------------------------------------------------------------------------


def _limits_at_or_above_zero(
    value: float, standard_error: float, confidence: float
) -> tuple[float, float]:
    z = _z(confidence)
    return max(0.0, value - z * standard_error), value + z * standard_error


def gini(
    values: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    confidence: float = 0.95,
    label: str = "value",
) -> InequalityMeasure:
    """Population-weighted Gini coefficient of ``values`` (e.g. area rates weighted by population).

    ``G = 1 - sum_i f_i (L_{i-1} + L_i)`` with areas sorted by value, ``f_i`` population shares and
    ``L`` the Lorenz ordinates (cumulative share of ``values * weights``); equivalently
    ``2 cov_f(y, F) / mu`` with ``F`` the midpoint fractional rank. 0 means every person has the
    same value; it approaches 1 when everything is in one small area (``G < 1`` always).
    Confidence limits: the Kakwani, Wagstaff & van Doorslaer (1997) delta method (the Gini is the
    concentration index of a variable ranked by itself), lower limit floored at 0.

    References: Gini C. Variabilità e mutabilità, 1912; Kakwani et al., J Econometrics
    1997;77:87-103. Worked check: Chesson et al., Sex Transm Dis 2017;44:513-518, Table 4.
    """
    y = _non_negative("values", values)
    weight = _weights_or_ones(weights, y.size)
    _same_length(values=y, weights=weight)
    level = _confidence_level(confidence)
    if not np.any(y > 0):
        raise ValueError("values are all zero: the Gini coefficient is undefined")
    # The Gini is the concentration index of a variable ranked by itself, lowest first.
    coefficient, influence = _standard_index(_covariance_core(y, y, weight))
    standard_error = _linearised_se(weight / weight.sum(), influence)
    coefficient = max(0.0, coefficient)
    lower, upper = _limits_at_or_above_zero(coefficient, standard_error, level)
    reading = (
        f"The Gini coefficient is {coefficient:.2f}: 0 would mean every person has the same "
        f"{label}, and values near 1 that it is concentrated in very few places."
    )
    return InequalityMeasure(
        "Gini coefficient",
        coefficient,
        lower,
        upper,
        reading,
        level,
        MappingProxyType({"standard_error": standard_error}),
    )


def theil_t(
    values: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    confidence: float = 0.95,
    label: str = "value",
) -> InequalityMeasure:
    """Population-weighted Theil T index (generalised entropy GE(1)).

    ``T = sum_i f_i (y_i / mu) ln(y_i / mu)`` with ``f_i`` population shares and ``mu`` the
    weighted mean; terms with ``y_i = 0`` count as 0. 0 means perfectly even; the maximum is
    ``ln(1 / f_min)``. More sensitive to differences at the top of the distribution than the mean
    log deviation. Confidence limits: delta method on the influence function, treating areas as
    the sampled units; lower limit floored at 0.

    Reference: Theil H. Economics and Information Theory. Amsterdam: North-Holland, 1967;
    Cowell FA. Measuring Inequality, 3rd ed. Oxford University Press, 2011.
    """
    y = _non_negative("values", values)
    weight = _weights_or_ones(weights, y.size)
    _same_length(values=y, weights=weight)
    level = _confidence_level(confidence)
    if not np.any(y > 0):
        raise ValueError("values are all zero: the Theil index is undefined")
    shares = weight / weight.sum()
    mean = float(shares @ y)
    y_log_y = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0)), 0.0)
    mean_y_log_y = float(shares @ y_log_y)
    index = max(0.0, mean_y_log_y / mean - math.log(mean))
    influence = (
        (y_log_y - mean_y_log_y) / mean - (mean_y_log_y / mean**2) * (y - mean) - (y - mean) / mean
    )
    standard_error = _linearised_se(shares, influence)
    lower, upper = _limits_at_or_above_zero(index, standard_error, level)
    reading = (
        f"The Theil index is {_fmt(index)}: 0 would mean every person has the same {label}; "
        "larger values mean a more uneven spread."
    )
    return InequalityMeasure(
        "Theil T index",
        index,
        lower,
        upper,
        reading,
        level,
        MappingProxyType({"standard_error": standard_error}),
    )


def mean_log_deviation(
    values: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    confidence: float = 0.95,
    label: str = "value",
) -> InequalityMeasure:
    """Population-weighted mean log deviation (Theil L, generalised entropy GE(0)).

    ``MLD = sum_i f_i ln(mu / y_i)``, which needs every value to be positive. 0 means perfectly
    even; more sensitive to differences at the bottom of the distribution than Theil T.
    Confidence limits: delta method on the influence function ``(y - mu)/mu - (ln y - E ln y)``,
    treating areas as the sampled units; lower limit floored at 0.

    Reference: Theil H. Economics and Information Theory, 1967; Cowell FA. Measuring
    Inequality, 3rd ed., 2011.
    """
    y = _positive("values", values)
    weight = _weights_or_ones(weights, y.size)
    _same_length(values=y, weights=weight)
    level = _confidence_level(confidence)
    shares = weight / weight.sum()
    mean = float(shares @ y)
    logs = np.log(y)
    mean_log = float(shares @ logs)
    index = max(0.0, math.log(mean) - mean_log)
    influence = (y - mean) / mean - (logs - mean_log)
    standard_error = _linearised_se(shares, influence)
    lower, upper = _limits_at_or_above_zero(index, standard_error, level)
    reading = (
        f"The mean log deviation is {_fmt(index)}: 0 would mean every person has the same "
        f"{label}; larger values mean a more uneven spread."
    )
    return InequalityMeasure(
        "Mean log deviation",
        index,
        lower,
        upper,
        reading,
        level,
        MappingProxyType({"standard_error": standard_error}),
    )


# ---------------------------------------------------------------------------------------------
# Group comparisons: quantile gap, population attributable risk, index of disparity
# ---------------------------------------------------------------------------------------------


def quantile_means(
    values: ArrayLike, populations: ArrayLike, quantiles: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Population-weighted mean of area ``values`` within each deprivation quantile.

    ``quantiles`` are whole-number labels, 1 = most deprived. Returns ``(labels, populations,
    means)`` sorted by label, i.e. most deprived first: ``mean_q = sum(p_i y_i) / sum(p_i)`` over
    the areas in quantile ``q``. Reference: Mackenbach JP, Kunst AE. Soc Sci Med
    1997;44:757-771 (group rates as population-weighted averages).
    """
    y = _as_float_array("values", values)
    population = _positive("populations", populations)
    labels = _as_float_array("quantiles", quantiles)
    _same_length(values=y, populations=population, quantiles=labels)
    _require("quantiles", labels, labels != np.round(labels), "must be whole-number labels")
    unique_labels, group = np.unique(labels, return_inverse=True)
    group_population = np.bincount(group, weights=population)
    group_mean = np.bincount(group, weights=population * y) / group_population
    return unique_labels, group_population, group_mean


def _grouped(
    values: ArrayLike,
    populations: ArrayLike | None,
    quantiles: ArrayLike | None,
    *,
    need_populations: bool,
) -> tuple[FloatArray, FloatArray | None]:
    """Group values (most deprived first) and populations, aggregating areas if needed."""
    if quantiles is not None:
        if populations is None:
            raise ValueError("populations are needed to combine areas into quantiles")
        _, group_population, group_value = quantile_means(values, populations, quantiles)
        if group_value.size < 2:
            raise ValueError("quantiles has a single label: at least two groups are needed")
        return group_value, group_population
    group_value = _as_float_array("values", values)
    if group_value.size < 2:
        raise ValueError(f"values has {group_value.size} group: at least two are needed")
    if populations is None:
        if need_populations:
            raise ValueError("populations are needed for this measure")
        return group_value, None
    group_population = _positive("populations", populations)
    _same_length(values=group_value, populations=group_population)
    return group_value, group_population


def quantile_difference(
    values: ArrayLike,
    populations: ArrayLike | None = None,
    *,
    quantiles: ArrayLike | None = None,
    standard_errors: ArrayLike | None = None,
    confidence: float = 0.95,
    label: str = "value",
) -> InequalityMeasure:
    """Difference between the most and the least deprived group: ``y_most - y_least``.

    Either pass one value per group, most deprived first (``populations`` optional), or pass area
    values with ``populations`` and a deprivation ``quantiles`` label per area (1 = most
    deprived), in which case each group's value is its population-weighted mean. With per-group
    ``standard_errors`` (group mode only) the limits are ``d +/- z sqrt(se_most^2 + se_least^2)``,
    assuming independent groups.

    Reference: Mackenbach JP, Kunst AE. Measuring the magnitude of socio-economic inequalities in
    health. Soc Sci Med 1997;44:757-771.
    """
    group_value, _ = _grouped(values, populations, quantiles, need_populations=False)
    level = _confidence_level(confidence)
    most, least = float(group_value[0]), float(group_value[-1])
    difference = most - least
    lower = upper = None
    if standard_errors is not None:
        if quantiles is not None:
            raise ValueError("standard_errors apply to group values, not to area quantiles")
        errors = _non_negative("standard_errors", standard_errors)
        _same_length(values=group_value, standard_errors=errors)
        spread = _z(level) * math.hypot(errors[0], errors[-1])
        lower, upper = difference - spread, difference + spread
    part = _group_name(group_value.size)
    if difference == 0:
        reading = f"The most and least deprived {part}s have the same {label}."
    else:
        direction = "higher" if difference > 0 else "lower"
        reading = (
            f"The most deprived {part} has a {label} {_fmt(abs(difference))} {direction} than "
            f"the least deprived {part}."
        )
    return InequalityMeasure(
        "difference (most - least deprived)",
        difference,
        lower,
        upper,
        reading,
        level if lower is not None else None,
        MappingProxyType({"most_deprived": most, "least_deprived": least}),
    )


def quantile_ratio(
    values: ArrayLike,
    populations: ArrayLike | None = None,
    *,
    quantiles: ArrayLike | None = None,
    standard_errors: ArrayLike | None = None,
    confidence: float = 0.95,
    label: str = "value",
) -> InequalityMeasure:
    """Ratio of the most to the least deprived group: ``y_most / y_least``.

    Inputs as :func:`quantile_difference`; values must be positive. With per-group
    ``standard_errors`` the limits are ``exp(ln r +/- z sqrt((se_m/y_m)^2 + (se_l/y_l)^2))``
    (delta method on the log scale, independent groups).

    Reference: Mackenbach JP, Kunst AE. Soc Sci Med 1997;44:757-771.
    """
    group_value, _ = _grouped(values, populations, quantiles, need_populations=False)
    _require("values", group_value, group_value <= 0, "must be positive for a ratio")
    level = _confidence_level(confidence)
    most, least = float(group_value[0]), float(group_value[-1])
    ratio = most / least
    lower = upper = None
    if standard_errors is not None:
        if quantiles is not None:
            raise ValueError("standard_errors apply to group values, not to area quantiles")
        errors = _non_negative("standard_errors", standard_errors)
        _same_length(values=group_value, standard_errors=errors)
        spread = _z(level) * math.hypot(errors[0] / most, errors[-1] / least)
        lower, upper = ratio * math.exp(-spread), ratio * math.exp(spread)
    part = _group_name(group_value.size)
    reading = (
        f"The most deprived {part} has a {label} {_fmt(ratio)} times that of the least deprived "
        f"{part}."
    )
    return InequalityMeasure(
        "ratio (most / least deprived)",
        ratio,
        lower,
        upper,
        reading,
        level if lower is not None else None,
        MappingProxyType({"most_deprived": most, "least_deprived": least}),
    )


def _reference_value(
    group_value: FloatArray,
    reference: str,
    higher_is_better: bool,
    overall: float | None,
    allowed: tuple[str, ...],
) -> float:
    if reference not in allowed:
        raise ValueError(f"reference is {reference!r}: it must be one of {allowed}")
    if reference == "least_deprived":
        return float(group_value[-1])
    if reference == "best":
        return float(group_value.max() if higher_is_better else group_value.min())
    assert overall is not None
    return overall


def population_attributable_risk(
    values: ArrayLike,
    populations: ArrayLike,
    *,
    quantiles: ArrayLike | None = None,
    reference: Literal["least_deprived", "best"] = "least_deprived",
    higher_is_better: bool = False,
    rate_per: float = 1.0,
    label: str = "rate",
) -> InequalityMeasure:
    """Population attributable risk: what would change if every group had the reference rate.

    With group rates ``r_g`` and populations ``p_g`` (most deprived first, or areas plus
    ``quantiles``), overall rate ``R = sum p_g r_g / sum p_g`` and reference rate ``r_ref`` (the
    least deprived group's, or the best group's)::

        absolute PAR = R - r_ref                     (rate units)
        PAR %        = 100 (R - r_ref) / R
        excess       = (R - r_ref) * sum p_g / rate_per   (events; rate_per = 100,000 for rates
                                                            per 100,000)

    For outcomes where higher is better (``higher_is_better=True``) the gap is read the other way
    round, ``r_ref - R``: the potential gain. ``value`` is PAR %; ``details`` holds ``absolute``,
    ``excess``, ``overall`` and ``reference``. Also called the population attributable fraction
    or proportion.

    References: Mackenbach JP, Kunst AE. Soc Sci Med 1997;44:757-771; Harper S, Lynch J. Methods
    for measuring cancer disparities. NCI, 2005.
    """
    group_value, group_population = _grouped(values, populations, quantiles, need_populations=True)
    assert group_population is not None
    _require("values", group_value, group_value < 0, "must not be negative for rates")
    rate_per = float(rate_per)
    if not (math.isfinite(rate_per) and rate_per > 0):
        raise ValueError(f"rate_per is {rate_per!r}: it must be a positive number")
    total_population = float(group_population.sum())
    overall = float(group_population @ group_value) / total_population
    if overall == 0:
        raise ValueError("the overall rate is 0: the population attributable risk is undefined")
    reference_rate = _reference_value(
        group_value, reference, higher_is_better, None, ("least_deprived", "best")
    )
    gap = reference_rate - overall if higher_is_better else overall - reference_rate
    percent = 100.0 * gap / overall
    excess = gap * total_population / rate_per
    part = _group_name(group_value.size)
    whose = f"the least deprived {part}'s" if reference == "least_deprived" else "the best group's"
    if gap <= 0:
        reading = (
            f"Giving every group {whose} {label} would not improve the overall {label}: it is "
            "already at least as good."
        )
    elif higher_is_better:
        reading = (
            f"If every group had {whose} {label}, the overall {label} would be {percent:.0f}% "
            f"higher (about {_fmt(excess)} more)."
        )
    else:
        reading = (
            f"If every group had {whose} {label}, {percent:.0f}% of the total (about "
            f"{_fmt(excess)}) would be avoided."
        )
    return InequalityMeasure(
        "population attributable risk (%)",
        percent,
        None,
        None,
        reading,
        None,
        MappingProxyType(
            {
                "absolute": gap,
                "excess": excess,
                "overall": overall,
                "reference": reference_rate,
            }
        ),
    )


def index_of_disparity(
    values: ArrayLike,
    populations: ArrayLike | None = None,
    *,
    quantiles: ArrayLike | None = None,
    reference: Literal["total", "best"] = "total",
    weighted: bool = False,
    higher_is_better: bool = False,
    label: str = "rate",
) -> InequalityMeasure:
    """Index of disparity (Pearcy & Keppel 2002): mean absolute gap from a reference, in %.

    ``ID = (1/J) sum_j |r_j - R| / R * 100`` over the ``J`` groups, where ``R`` is the total
    population rate (``reference="total"``, needs ``populations``; the form used by Pearcy &
    Keppel, "a modified coefficient of variation") or the best group's rate (``"best"``; lowest
    unless ``higher_is_better``). With ``weighted=True`` the mean is population-weighted:
    ``sum_j p_j |r_j - R| / sum p_j / R * 100`` (Chesson et al. 2017's weighted index). The
    unweighted index treats every group equally regardless of size, so it suits few, named
    groups better than quantiles of equal size (where both agree closely).

    References: Pearcy JN, Keppel KG. A summary measure of health disparity. Public Health Rep
    2002;117:273-280. Chesson HW et al. Sex Transm Dis 2017;44:513-518 (worked examples).
    """
    need_populations = reference == "total" or weighted
    group_value, group_population = _grouped(
        values, populations, quantiles, need_populations=need_populations
    )
    _require("values", group_value, group_value < 0, "must not be negative for rates")
    overall = None
    if group_population is not None:
        overall = float(group_population @ group_value) / float(group_population.sum())
    reference_rate = _reference_value(
        group_value, reference, higher_is_better, overall, ("total", "best")
    )
    if reference_rate <= 0:
        raise ValueError(
            f"the reference rate is {reference_rate!r}: the index of disparity needs a positive "
            "reference"
        )
    gaps = np.abs(group_value - reference_rate)
    if weighted:
        assert group_population is not None
        mean_gap = float(group_population @ gaps) / float(group_population.sum())
    else:
        mean_gap = float(gaps.mean())
    index = 100.0 * mean_gap / reference_rate
    against = "the overall rate" if reference == "total" else "the best group's"
    reading = (
        f"On average, groups' {label}s differ from {against} by {index:.0f}% of it "
        f"(index of disparity {_fmt(index)})."
    )
    return InequalityMeasure(
        "index of disparity" + (" (population-weighted)" if weighted else ""),
        index,
        None,
        None,
        reading,
        None,
        MappingProxyType({"reference": reference_rate}),
    )
