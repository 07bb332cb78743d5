"""Concentration index (standard, Erreygers-corrected, Wagstaff-normalised) with the
Kakwani, Wagstaff & van Doorslaer (1997) delta-method standard error, and the concentration
curve. The rank covariance and its influence function here also give the Gini coefficient
(:mod:`analysis.stats.distribution`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from analysis.stats.checks import (
    FloatArray,
    _as_float_array,
    _confidence_level,
    _non_negative,
    _require,
    _same_length,
    _weights_or_ones,
)
from analysis.stats.measure import InequalityMeasure, _fmt, _interval, _z

__all__ = [
    "ConcentrationCurve",
    "ConcentrationIndexResult",
    "ConcentrationKind",
    "concentration_curve",
    "concentration_index",
]

ConcentrationKind = Literal["standard", "erreygers", "wagstaff"]


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
