"""Comparisons between deprivation groups: the gap (difference and ratio) between the most
and least deprived groups, the population attributable risk and the index of disparity, from
one value per group or from area values with a deprivation quantile per area.
"""

from __future__ import annotations

import math
from types import MappingProxyType
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from analysis.stats.checks import (
    FloatArray,
    _as_float_array,
    _confidence_level,
    _non_negative,
    _positive,
    _require,
    _same_length,
)
from analysis.stats.measure import InequalityMeasure, _fmt, _z

__all__ = [
    "index_of_disparity",
    "population_attributable_risk",
    "quantile_difference",
    "quantile_means",
    "quantile_ratio",
]

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
