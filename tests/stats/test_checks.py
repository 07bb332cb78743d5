"""The shared input checks name the input, the position and the pandas label."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.stats.checks import finite_vector, position_label, reject_where


def test_position_label_only_for_meaningful_pandas_indexes():
    assert position_label(pd.Series([1, 2], index=["a", "b"]), 1) == " (index 'b')"
    assert position_label(pd.Series([1, 2]), 1) == ""
    assert position_label([1, 2], 1) == ""  # a list's .index is a method, not labels


def test_finite_vector_names_missing_values_and_shapes():
    with pytest.raises(ValueError, match=r"need\[1\] \(index 'E2'\) is missing \(NaN\)"):
        finite_vector("need", pd.Series([1.0, None], index=["E1", "E2"], dtype="Float64"))
    with pytest.raises(ValueError, match=r"x\[0\] is inf"):
        finite_vector("x", [np.inf])
    with pytest.raises(ValueError, match="1-D"):
        finite_vector("x", [[1.0, 2.0]])
    with pytest.raises(ValueError, match="1-D"):
        finite_vector("x", 3.0)
    assert finite_vector("x", 3.0, allow_scalar=True).ndim == 0
    with pytest.raises(ValueError, match="must be numeric"):
        finite_vector("x", ["a"])
    with pytest.raises(ValueError, match="is empty"):
        finite_vector("x", [], allow_empty=False)


def test_reject_where_quotes_the_rule():
    values = pd.Series([5.0, -2.0], index=["a", "b"])
    with pytest.raises(ValueError, match=r"population\[1\] \(index 'b'\) is -2: must be positive"):
        reject_where("population", values, values.to_numpy(), values.to_numpy() <= 0,
                     "must be positive")
    reject_where("population", values, values.to_numpy(), values.to_numpy() > 10, "unused")
