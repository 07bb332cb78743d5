"""Rates aggregate as Σ numerator ÷ Σ denominator × the multiplier of their unit."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.data.geography import aggregate, load_pack_table, rate_multiplier


@pytest.mark.parametrize(("unit", "multiplier"), [
    ("% of residents", 100.0),
    ("percentage of households", 100.0),
    ("admissions a year per 1,000 residents", 1_000.0),
    ("per 100,000 population", 100_000.0),
    ("deaths per 100000", 100_000.0),
    ("rate per thousand", 1_000.0),
    ("per hundred thousand", 100_000.0),
    ("cases per 1 million", 1_000_000.0),
    ("proportion", 1.0),
    ("score", 1.0),
    ("£ per resident", 1.0),
    ("", 1.0),
    (None, 1.0),
])
def test_rate_multiplier_from_unit(unit, multiplier):
    assert rate_multiplier(unit) == multiplier


def _wigan_lsoas() -> pd.Index:
    table = load_pack_table("england")
    return table.index[table["ltla_code"] == "E08000010"]


def test_ratio_aggregation_applies_the_unit_multiplier_by_hand():
    codes = _wigan_lsoas()[:3]
    numerators = pd.Series([2.0, 3.0, 1.0], index=codes)
    denominators = pd.Series([1_000.0, 1_500.0, 500.0], index=codes)
    out = aggregate(numerators, "england", "ltla", how="ratio", denominators=denominators,
                    unit="admissions a year per 1,000 residents")
    wigan = out.set_index("code").loc["E08000010", "value"]
    assert wigan == pytest.approx(1_000 * 6 / 3_000)  # 2.0 per 1,000, not 0.002
    explicit = aggregate(numerators, "england", "ltla", how="ratio",
                         denominators=denominators, multiplier=100.0)
    assert explicit.set_index("code").loc["E08000010", "value"] == pytest.approx(0.2)
    plain = aggregate(numerators, "england", "ltla", how="ratio", denominators=denominators)
    assert plain.set_index("code").loc["E08000010", "value"] == pytest.approx(0.002)


def test_ratio_aggregation_refuses_a_non_positive_multiplier():
    codes = _wigan_lsoas()[:1]
    with pytest.raises(ValueError, match="multiplier"):
        aggregate(pd.Series([1.0], index=codes), "england", "ltla", how="ratio",
                  denominators=pd.Series([10.0], index=codes), multiplier=0)


@given(st.lists(st.tuples(st.integers(0, 50), st.integers(1, 5_000)), min_size=1,
                max_size=20),
       st.sampled_from([1.0, 100.0, 1_000.0, 100_000.0]))
@settings(max_examples=30, deadline=None)
def test_ratio_of_sums_is_never_a_mean_of_rates(rows, multiplier):
    codes = _wigan_lsoas()[: len(rows)]
    numerators = pd.Series([float(n) for n, _ in rows], index=codes)
    denominators = pd.Series([float(d) for _, d in rows], index=codes)
    out = aggregate(numerators, "england", "ltla", how="ratio", denominators=denominators,
                    multiplier=multiplier).set_index("code")
    expected = multiplier * numerators.sum() / denominators.sum()
    assert out.loc["E08000010", "value"] == pytest.approx(expected)


def test_a_count_of_zero_in_an_unpopulated_zone_is_a_value():
    table = load_pack_table("scotland")
    empty = table.index[table["population"] == 0]
    assert len(empty) > 0
    values = pd.Series(0.0, index=empty[:1])
    out = aggregate(values, "scotland", "dz11", how="sum").set_index("code")
    assert out.loc[empty[0], "value"] == 0.0
