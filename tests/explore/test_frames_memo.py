"""The memoised value tables and level aggregates of ``analysis.explore.frames`` give the same
numbers as computing afresh, hand out copies, and follow a replaced value table."""

from __future__ import annotations

import pandas as pd

from analysis.data import IndicatorRegistry, default_registry
from analysis.explore.frames import area_value, indexed_data, level_values, study_area_frame

GM = "E54000057"
IMD = "imd2025_score"


def test_level_values_are_a_copy_and_match_a_fresh_aggregate():
    registry = default_registry()
    first = level_values("england", IMD, "icb", registry)
    first["value"] = -1.0  # a caller changing its copy must not change the next answer
    again = level_values("england", IMD, "icb", registry)
    fresh = level_values("england", IMD, "icb", IndicatorRegistry())
    assert (again["value"] > 0).all()
    pd.testing.assert_frame_equal(again.reset_index(drop=True), fresh.reset_index(drop=True))


def test_area_value_hand_checked_against_the_small_areas():
    registry = default_registry()
    frame = study_area_frame("england", GM, [IMD], registry)
    # population-weighted mean of the LSOA scores, written out
    expected = (frame[IMD] * frame["population"]).sum() / frame.loc[
        frame[IMD].notna(), "population"].sum()
    assert abs(area_value("england", GM, IMD, registry) - expected) < 1e-9
    assert abs(area_value("england", GM, IMD, registry) - expected) < 1e-9  # memoised


def test_indexed_data_follows_the_registrys_table():
    registry = default_registry()
    table = indexed_data(registry, IMD)
    assert table is indexed_data(registry, IMD)  # built once per table
    data = registry.get(IMD).data
    assert table.index.name == "area_code" and len(table) == len(data)
    assert table["value"].to_numpy().tolist() == data["value"].to_numpy().tolist()
