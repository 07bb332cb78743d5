"""The engines' tables are sorted by one mixed-radix key; it must order rows as lexsort does."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from analysis.audit.engine import _lexicographic_order

small_keys = st.integers(1, 60).flatmap(lambda n: st.lists(
    st.lists(st.integers(-1, 40), min_size=n, max_size=n), min_size=1, max_size=6))
huge_keys = st.integers(1, 30).flatmap(lambda n: st.lists(
    st.lists(st.integers(-1, 2**40), min_size=n, max_size=n), min_size=2, max_size=3))


@given(small_keys)
def test_mixed_radix_order_is_lexsort_order(keys):
    arrays = [np.asarray(k, dtype=np.int64) for k in keys]
    assert (_lexicographic_order(arrays) == np.lexsort(arrays[::-1])).all()


@given(huge_keys)
def test_keys_too_wide_for_one_integer_fall_back_to_lexsort(keys):
    arrays = [np.asarray(k, dtype=np.int64) for k in keys]
    assert (_lexicographic_order(arrays) == np.lexsort(arrays[::-1])).all()


def test_first_key_decides_before_the_second():
    first, second = np.array([2, 1, 1, -1]), np.array([0, 5, 3, 9])
    assert _lexicographic_order([first, second]).tolist() == [3, 2, 1, 0]
