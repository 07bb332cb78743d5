"""Every default indicator aggregated to every level equals a hand computation.

The hand computation is a plain group-by of the small-area data: Σ numerator ÷ Σ denominator
× the multiplier written out below for ratio indicators (a percentage is × 100, a rate per
1,000 × 1,000), Σ(value × population) ÷ Σ population for means, Σ value for counts. The bug
it guards against: stroke admissions "per 1,000 residents" aggregated to 0.001534 for
Greater Manchester instead of 1.534, because the multiplier was dropped above LSOA level.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis.data import default_registry, load_pack_table, spec_for
from analysis.explore import area_value
from analysis.explore.frames import SMALL_AREA_GEOGRAPHY, data_multiplier, level_values

#: Written out by hand from each ratio indicator's unit.
RATIO_MULTIPLIERS = {
    "census2021_disabled_pct": 100.0,
    "census2021_households_deprived_2plus_pct": 100.0,
    "population_aged_65_plus_pct": 100.0,
    "scotland_aged_65_plus_pct": 100.0,
    "stroke_admissions_per_1000": 1000.0,
}
LEVELS = {
    "england": ("lsoa21", "ward", "ltla", "sicbl", "icb", "region", "country"),
    "scotland": ("dz11", "iz11", "council", "country"),
}


def _indicators():
    registry = default_registry()
    out = []
    for country, geography in SMALL_AREA_GEOGRAPHY.items():
        for meta in registry.metas(geography=geography):
            if meta.aggregation == "none":
                continue
            for level in LEVELS[country]:
                out.append(pytest.param(country, meta.id, level, id=f"{meta.id}-{level}"))
    return out


def hand_computation(country: str, indicator_id: str, level: str) -> pd.Series:
    registry = default_registry()
    meta = registry.meta(indicator_id)
    spec = spec_for(country)
    table = load_pack_table(country)
    code_column = spec.level(level).code_column
    data = registry.get(indicator_id).data.set_index("area_code")
    joined = table[[code_column, spec.population_column]].reset_index(drop=True)
    joined = joined.join(data.reindex(table.index).reset_index(drop=True))
    joined = joined[joined["value"].notna()]
    groups = joined.groupby(code_column, observed=True)
    if meta.aggregation == "ratio":
        sums = groups[["numerator", "denominator"]].sum()
        return RATIO_MULTIPLIERS[indicator_id] * sums["numerator"] / sums["denominator"]
    if meta.aggregation == "sum":
        return groups["value"].sum()
    weighted = (joined["value"] * joined[spec.population_column]).groupby(
        joined[code_column], observed=True).sum()
    return weighted / groups[spec.population_column].sum()


def test_every_ratio_indicator_is_listed_with_its_multiplier():
    registry = default_registry()
    ratios = {m.id for m in registry.metas() if m.aggregation == "ratio"}
    assert ratios == set(RATIO_MULTIPLIERS)
    for indicator_id, multiplier in RATIO_MULTIPLIERS.items():
        assert data_multiplier(registry.get(indicator_id).data) == multiplier


@pytest.mark.parametrize(("country", "indicator_id", "level"), _indicators())
def test_indicator_at_level_matches_hand_computation(country, indicator_id, level):
    registry = default_registry()
    got = level_values(country, indicator_id, level, registry).set_index("code")["value"]
    expected = hand_computation(country, indicator_id, level)
    got = got.dropna()
    assert set(got.index) == set(expected.dropna().index)
    np.testing.assert_allclose(got.to_numpy(), expected.reindex(got.index).to_numpy(),
                               rtol=1e-9, atol=1e-9)
    # the aggregate lies within the range of its small areas' values (never 1,000× off)
    small = registry.get(indicator_id).values.dropna()
    if registry.meta(indicator_id).aggregation != "sum":
        assert small.min() - 1e-9 <= got.min() and got.max() <= small.max() + 1e-9


def test_stroke_admissions_of_greater_manchester_are_per_1000_not_per_person():
    registry = default_registry()
    gm = area_value("england", "E54000057", "stroke_admissions_per_1000", registry)
    england = area_value("england", None, "stroke_admissions_per_1000", registry)
    data = registry.get("stroke_admissions_per_1000").data.set_index("area_code")
    table = load_pack_table("england")
    codes = table.index[table["icb_code"] == "E54000057"]
    rows = data.reindex(codes).dropna(subset=["value"])
    assert gm == pytest.approx(1000 * rows["numerator"].sum() / rows["denominator"].sum())
    assert gm == pytest.approx(1.534, abs=0.001)  # was 0.001534
    assert england == pytest.approx(1.432, abs=0.001)  # was 0.001432


@pytest.mark.parametrize("code", ["E05010650", "E08000010", "E38000205", "E54000057",
                                  "E12000002", "E01000001"])
def test_area_value_is_the_row_of_its_level(code):
    registry = default_registry()
    from analysis.data import resolve_area

    level = resolve_area(code).level
    for indicator_id in ("stroke_admissions_per_1000", "imd2025_score",
                         "census2021_disabled_pct", "population_census2021"):
        expected = hand_computation("england", indicator_id, level).get(code, math.nan)
        assert area_value("england", code, indicator_id, registry) == pytest.approx(expected)


def test_area_value_of_another_countrys_area_is_refused():
    with pytest.raises(ValueError, match="Scotland"):
        area_value("england", "S12000005", "imd2025_score", default_registry())
