"""analysis.util.IdentityMemo: one value per owner object and key, dropped with the owner."""

from __future__ import annotations

import pandas as pd

from analysis.util import IdentityMemo


def test_values_are_made_once_per_owner_and_key_and_dropped_with_the_owner():
    memo: IdentityMemo[int] = IdentityMemo()
    calls = []

    def make(value):
        calls.append(value)
        return value

    table, other = pd.DataFrame({"a": [1]}), pd.DataFrame({"a": [1]})
    assert memo.get(table, "x", lambda: make(1)) == 1
    assert memo.get(table, "x", lambda: make(2)) == 1  # made once
    assert memo.get(table, "y", lambda: make(3)) == 3
    assert memo.get(other, "x", lambda: make(4)) == 4  # an equal table is another owner
    assert calls == [1, 3, 4] and len(memo) == 3
    del table
    assert len(memo) == 1
    del other
    assert len(memo) == 0
