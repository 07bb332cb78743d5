"""Tests for analysis.stats.fair_shares; expected values are worked out by hand in each test."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.stats.fair_shares import (
    FAIR_SHARE_COLUMNS,
    fair_share,
    fair_share_by_quintile,
    fair_share_totals,
)


def test_fair_share_by_hand() -> None:
    # 1,000 of provision over three areas whose need is 1 : 2 : 1.
    table = fair_share([100.0, 500.0, 400.0], [10.0, 20.0, 10.0])

    assert list(table.columns) == list(FAIR_SHARE_COLUMNS)
    assert table["need_share"].tolist() == pytest.approx([0.25, 0.5, 0.25])
    assert table["provision_share"].tolist() == pytest.approx([0.1, 0.5, 0.4])
    assert table["fair_share_amount"].tolist() == pytest.approx([250.0, 500.0, 250.0])
    assert table["fair_share_ratio"].tolist() == pytest.approx([0.4, 1.0, 1.6])
    assert table["gap_to_fair_share"].tolist() == pytest.approx([150.0, 0.0, -150.0])
    assert table["shortfall"].tolist() == pytest.approx([150.0, 0.0, 0.0])
    assert table["below_fair_share"].tolist() == [True, False, False]

    totals = fair_share_totals(table)
    assert totals.loc[0, "total_provision"] == pytest.approx(1000.0)
    assert totals.loc[0, "total_shortfall"] == pytest.approx(150.0)
    assert totals.loc[0, "areas_below_fair_share"] == 1
    assert totals.loc[0, "share_of_areas_below"] == pytest.approx(1 / 3)
    assert totals.loc[0, "share_of_need_below"] == pytest.approx(0.25)


def test_area_identifiers_come_from_series_or_argument() -> None:
    provision = pd.Series([5.0, 15.0], index=pd.Index(["E01000001", "E01000002"]))
    table = fair_share(provision, [1.0, 1.0])
    assert table.index.tolist() == ["E01000001", "E01000002"]
    assert table.index.name == "area"
    named = fair_share([5.0, 15.0], [1.0, 1.0], areas=["a", "b"])
    assert named.index.tolist() == ["a", "b"]
    assert fair_share([5.0, 15.0], [1.0, 1.0]).index.tolist() == [0, 1]


def test_share_of_each_quintile_below_fair_share() -> None:
    # Areas 0 and 1 are below fair share (ratio 0.5), areas 2 and 3 above (1.5).
    table = fair_share([1.0, 1.0, 3.0, 3.0], [1.0, 1.0, 1.0, 1.0])
    result = fair_share_by_quintile(table, populations=[100, 300, 200, 400], quintiles=[1, 5, 1, 5])

    assert result["quintile"].tolist() == [1, 5]
    assert result["population"].tolist() == [300, 700]
    assert result["population_below_fair_share"].tolist() == [100, 300]
    assert result["share_below_fair_share"].tolist() == pytest.approx([1 / 3, 3 / 7])
    assert result["provision"].tolist() == pytest.approx([4.0, 4.0])
    assert result["fair_share_amount"].tolist() == pytest.approx([4.0, 4.0])
    assert result["shortfall"].tolist() == pytest.approx([1.0, 1.0])
    assert result["fair_share_ratio"].tolist() == pytest.approx([1.0, 1.0])


@given(
    rows=st.lists(
        st.tuples(
            st.floats(min_value=0, max_value=1e9, allow_nan=False),
            st.floats(min_value=1e-3, max_value=1e9, allow_nan=False),
        ),
        min_size=1,
        max_size=50,
    )
)
@settings(max_examples=100, deadline=None)
def test_fair_shares_sum_to_one(rows: list[tuple[float, float]]) -> None:
    provision = [row[0] for row in rows]
    need = [row[1] for row in rows]
    if not any(amount > 0 for amount in provision):
        provision[0] = 1.0
    table = fair_share(provision, need)

    assert table["need_share"].sum() == pytest.approx(1.0, rel=1e-12)
    assert table["provision_share"].sum() == pytest.approx(1.0, rel=1e-12)
    total = sum(provision)
    assert table["fair_share_amount"].sum() == pytest.approx(total, rel=1e-9)
    assert table["gap_to_fair_share"].sum() == pytest.approx(0.0, abs=1e-9 * total)
    assert np.all(table["shortfall"] >= 0)


@pytest.mark.parametrize(
    ("provision", "need", "message"),
    [
        ([1.0, 2.0], [1.0], "provision has 2 entries but need has 1"),
        ([1.0, -2.0], [1.0, 1.0], r"provision\[1\] is -2.0: provision must not be negative"),
        ([1.0, 2.0], [1.0, 0.0], r"need\[1\] is 0.0: need must be positive"),
        ([1.0, math.nan], [1.0, 1.0], r"provision\[1\] is missing \(NaN\)"),
        ([0.0, 0.0], [1.0, 1.0], "provision is zero everywhere"),
        ([], [], "provision is empty"),
    ],
)
def test_fair_share_bad_input(provision: list[float], need: list[float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fair_share(provision, need)


def test_quintile_summary_bad_input() -> None:
    table = fair_share([1.0, 2.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="populations has 3 entries but table has 2 rows"):
        fair_share_by_quintile(table, [1, 1, 1], [1, 2])
    with pytest.raises(ValueError, match=r"populations\[0\] is -5.0"):
        fair_share_by_quintile(table, [-5, 1], [1, 2])
    with pytest.raises(ValueError, match=r"quintiles\[1\] is 2.5"):
        fair_share_by_quintile(table, [1, 1], [1, 2.5])
    with pytest.raises(ValueError, match="missing columns"):
        fair_share_by_quintile(table.drop(columns="shortfall"), [1, 1], [1, 2])
    with pytest.raises(ValueError, match="areas has 1 entries but provision has 2"):
        fair_share([1.0, 2.0], [1.0, 1.0], areas=["only one"])
