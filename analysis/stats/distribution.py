"""Distribution-only inequality measures, population-weighted: the Gini coefficient, the
Theil T index and the mean log deviation (Theil L), each with delta-method confidence limits.
They measure how unevenly a value is spread across people, whatever their deprivation.
"""

from __future__ import annotations

import math
from types import MappingProxyType

import numpy as np
from numpy.typing import ArrayLike

from analysis.stats.checks import (
    _confidence_level,
    _non_negative,
    _positive,
    _same_length,
    _weights_or_ones,
)
from analysis.stats.concentration import _covariance_core, _linearised_se, _standard_index
from analysis.stats.measure import InequalityMeasure, _fmt, _z

__all__ = ["gini", "mean_log_deviation", "theil_t"]


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
