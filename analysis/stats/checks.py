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
