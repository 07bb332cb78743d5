"""Slope index of inequality (SII) and relative index of inequality (RII), as OHID's
``phe_sii``: a population-weighted least-squares fit across deprivation quantiles, with
confidence limits by Monte Carlo simulation.

Reference: Low A, Low A. Measuring the gap: quantifying and comparing local health
inequalities. J Public Health 2004;26:388-395. OHID PHEindicatormethods ``phe_sii``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import norm

from analysis.numbers import format_number
from analysis.stats.checks import (
    FloatArray,
    _as_float_array,
    _confidence_level,
    _non_negative,
    _positive,
    _require,
    _same_length,
)
from analysis.stats.measure import _fmt, quantity_text

__all__ = ["SlopeIndexResult", "ValueType", "slope_index"]

ValueType = Literal["normal", "rate", "proportion"]

# phe_sii derives standard errors from 95% limits with qnorm(0.975), whatever confidence is asked
# for the SII itself.
_Z_FOR_INPUT_LIMITS = float(norm.ppf(0.975))
_MIN_QUANTILES = 5
_MAX_QUANTILES = 100
_MIN_REPETITIONS = 1000


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

    # -- words: a gap is stated with its direction, the signed statistic kept for methods --

    @property
    def _raw_gap(self) -> float:
        """Fitted least minus most deprived end, in display units but unflipped."""
        return self.sii / self.multiplier * abs(self.multiplier)

    @property
    def higher_end(self) -> Literal["most", "least", "neither"]:
        """Which end of the deprivation scale the fitted line is higher at."""
        gap = self._raw_gap
        return "least" if gap > 0 else "most" if gap < 0 else "neither"

    @property
    def fitted_ends(self) -> tuple[float, float]:
        """Fitted values at the most and the least deprived ends (relative rank 0 and 1),
        in display units. These are ends of a fitted line, not observed values."""
        most = self.intercept if self.transform else self.intercept * abs(self.multiplier)
        return most, most + self._raw_gap

    def gap_limits(self) -> tuple[float, float]:
        """Confidence limits of the gap in the direction :meth:`describe` states it (higher
        end minus lower end); the first limit is negative when the interval includes no gap.
        Only the first confidence level is used."""
        low, high = _first(self.sii_lower), _first(self.sii_upper)
        sign = 1.0 if self.multiplier > 0 else -1.0
        low_raw, high_raw = sorted((low * sign, high * sign))
        if self.higher_end == "most":
            return -high_raw, -low_raw
        return low_raw, high_raw

    def describe(self, unit: str | None = None, *, decimals: int | None = None,
                 what: str = "the value") -> str:
        """The fitted gap in words with its direction, e.g. "Fitted across the deprivation
        scale, the value is 148 points higher at the most deprived end than at the least
        deprived end (95% CI 120 to 170)". The signed SII is in :meth:`details`."""
        level = _first(self.confidence)
        low, high = self.gap_limits()
        size = abs(self._raw_gap)
        places = (_decimals_for(max(size, abs(low), abs(high))) if decimals is None
                  else decimals)

        def amount(value: float) -> str:
            return quantity_text(abs(value), unit, places)

        if self.higher_end == "neither":
            return (f"Fitted across the deprivation scale, {what} is the same at both ends "
                    f"({level:.0%} CI {amount(low)} either way).")
        other = "least" if self.higher_end == "most" else "most"
        if low > 0:
            interval = (f"{level:.0%} CI {format_number(low, places)} to "
                        f"{format_number(high, places)}")
        else:
            interval = (f"{level:.0%} CI from {amount(low)} higher at the {other} deprived end "
                        f"to {amount(high)} higher at the {self.higher_end}: compatible with "
                        "no gap")
        return (f"Fitted across the deprivation scale, {what} is {amount(size)} higher at the "
                f"{self.higher_end} deprived end than at the {other} deprived end "
                f"({interval}).")

    def rii_words(self) -> str:
        """The relative index in words: how many times the fitted value at one end is that
        at the other (the RII itself is least ÷ most deprived end)."""
        most, least = self.fitted_ends
        if not (math.isfinite(most) and math.isfinite(least)) or most <= 0 or least <= 0:
            return ("The relative index is not meaningful here: the fitted line reaches zero "
                    "or below.")
        if self.higher_end == "neither":
            return "The fitted value is the same at both ends (relative index 1)."
        high, low = (most, least) if self.higher_end == "most" else (least, most)
        other = "least" if self.higher_end == "most" else "most"
        return (f"At the {self.higher_end} deprived end the fitted value is "
                f"{_fmt(high / low)} times that at the {other} deprived end.")

    def details(self, unit: str | None = None) -> str:
        """The signed statistics for a methods box, with the sign convention spelled out."""
        level = _first(self.confidence)
        low, high = _first(self.sii_lower), _first(self.sii_upper)
        places = _decimals_for(max(abs(self.sii), abs(low), abs(high)))
        suffix = f" {unit}" if unit else ""
        return (
            f"Slope index of inequality (SII) {format_number(self.sii, places)}{suffix} "
            f"({level:.0%} CI {format_number(low, places)} to {format_number(high, places)}): "
            "the fitted value at the least deprived end minus that at the most deprived end, so a "
            "negative SII means higher at the most deprived end. Relative index of inequality "
            f"(RII) {format_number(self.rii, 2)} ({level:.0%} CI "
            f"{format_number(_first(self.rii_lower), 2)} to "
            f"{format_number(_first(self.rii_upper), 2)}): least ÷ most deprived end of the "
            "fitted line. Population-weighted least squares across deprivation groups (OHID "
            f"phe_sii method), limits from {self.repetitions:,} simulations.")


def _first(value: float | tuple[float, ...]) -> float:
    return float(value[0]) if isinstance(value, tuple) else float(value)


def _decimals_for(size: float) -> int:
    """Decimal places giving about three significant figures for a gap of ``size``."""
    if not math.isfinite(size) or size >= 100:
        return 0
    if size >= 10:
        return 1
    if size >= 1:
        return 2
    return min(6, 2 - math.floor(math.log10(size))) if size > 0 else 2


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

    result = SlopeIndexResult(
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
        reading="",
    )
    return replace(result, reading=f"{result.describe()} {result.rii_words()}")
