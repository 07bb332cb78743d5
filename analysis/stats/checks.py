"""Input checks shared by the statistics modules.

Every check raises ``ValueError`` naming the input and the first offending position (and its
pandas index label when it has a meaningful one), e.g.
``population[12] (index 'E01000013') is 0: populations must be positive``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


def position_label(values: Any, position: int) -> str:
    """`` (index 'E01000013')`` for a pandas input with a meaningful index, else ``""``."""
    if isinstance(values, pd.Series | pd.DataFrame) and not isinstance(values.index,
                                                                         pd.RangeIndex):
        return f" (index {values.index[position]!r})"
    return ""


def finite_vector(name: str, values: ArrayLike, *, allow_scalar: bool = False,
                  allow_empty: bool = True) -> FloatArray:
    """``values`` as a 1-D float array of finite numbers (or a 0-D one for a scalar input when
    ``allow_scalar``), or a ``ValueError`` naming the first missing or infinite position.
    Pandas nullable columns with ``<NA>`` count as missing."""
    try:
        if hasattr(values, "to_numpy"):
            array = values.to_numpy(dtype=np.float64, na_value=np.nan)  # type: ignore[union-attr]
        else:
            array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric: {exc}") from None
    if array.ndim != 1 and not (allow_scalar and array.ndim == 0):
        raise ValueError(f"{name} must be one value per area (1-D), got shape {array.shape}")
    if not allow_empty and array.size == 0:
        raise ValueError(f"{name} is empty")
    flat = np.atleast_1d(array)
    bad = np.flatnonzero(~np.isfinite(flat))
    if bad.size:
        position = int(bad[0])
        what = "missing (NaN)" if np.isnan(flat[position]) else f"{flat[position]}"
        raise ValueError(f"{name}[{position}]{position_label(values, position)} is {what}: "
                         f"{name} must be finite numbers")
    return array


def reject_where(name: str, values: Any, array: FloatArray, bad: NDArray[np.bool_],
                 rule: str) -> None:
    """Raise ``ValueError`` at the first position where ``bad`` holds, quoting ``rule``."""
    positions = np.flatnonzero(np.atleast_1d(bad))
    if positions.size:
        position = int(positions[0])
        shown = np.atleast_1d(array)[position]
        raise ValueError(
            f"{name}[{position}]{position_label(values, position)} is {shown:g}: {rule}")


# ---------------------------------------------------------------------------------------------
# Checks of the inequality measures and fair shares (messages name the position only)
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


def _weights_or_ones(weights: ArrayLike | None, size: int) -> FloatArray:
    if weights is None:
        return np.ones(size)
    return _positive("weights", weights)
