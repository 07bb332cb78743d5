"""Map layer preparation: colours by polarity, compact polygons, text alternatives."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.indicators import IndicatorRegistry
from analysis.maps import (
    decile_colours,
    deprivation_layer,
    display_tolerance,
    palette,
    polygon_records,
    quantile_colours,
)


def luminance(rgb):
    r, g, b = rgb
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_palette_runs_dark_to_light():
    colours = palette(5)
    assert [luminance(c) for c in colours] == sorted(luminance(c) for c in colours)
    with pytest.raises(ValueError):
        palette(11)


def test_most_deprived_decile_is_darkest_and_missing_is_grey():
    colours, legend = decile_colours(pd.Series([1, 10, None], dtype="Int64"))
    assert luminance(colours.iloc[0]) < luminance(colours.iloc[1])
    assert colours.iloc[2] == (200, 200, 200)
    assert legend.labels[0].startswith("1 – most deprived")


@pytest.mark.parametrize("higher_is_worse", [True, False])
def test_worst_values_get_the_darkest_class(higher_is_worse):
    values = pd.Series(range(100), dtype=float)
    colours, legend = quantile_colours(values, higher_is_worse=higher_is_worse)
    worst = values.idxmax() if higher_is_worse else values.idxmin()
    best = values.idxmin() if higher_is_worse else values.idxmax()
    assert colours[worst] == legend.colours[0]
    assert luminance(colours[worst]) < luminance(colours[best])
    assert len(legend.labels) == 5


def test_polygon_records_split_multipolygons_and_round():
    square = shapely.box(0.123456789, 0, 1, 1)
    multi = shapely.MultiPolygon([shapely.box(2, 2, 3, 3), shapely.box(4, 4, 5, 5)])
    geoms = pd.Series([square, multi], index=["a", "b"])
    attrs = pd.DataFrame({"code": ["a", "b"]}, index=["a", "b"])
    records = polygon_records(geoms, attrs, precision=3)
    assert records["code"].tolist() == ["a", "b", "b"]
    assert records["polygon"].iloc[0][0][0] in (0.123, 1.0)
    assert all(len(p) == 5 for p in records["polygon"])  # closed rings of a box


def test_display_tolerance_scales_with_view():
    assert display_tolerance((0, 0, 2, 1)) == pytest.approx(0.001)


def test_deprivation_layer_for_wigan_is_compact_and_described():
    layer = deprivation_layer("england", "E08000010", IndicatorRegistry())
    assert layer.records["c"].nunique() == 200
    payload = json.dumps(layer.records.to_dict("records"))
    assert len(payload) < 200_000
    assert "200 LSOAs" in layer.alt_text and "most deprived 20%" in layer.alt_text
    minx, miny, maxx, maxy = layer.bounds
    assert -3 < minx < maxx < -2.3 and 53.4 < miny < maxy < 53.7


@pytest.mark.filterwarnings("ignore:Numba not installed")
@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(min_value=-1e3, max_value=1e3, allow_nan=False), min_size=8,
                max_size=60, unique=True), st.integers(min_value=2, max_value=6))
def test_fisher_jenks_matches_mapclassify(values, k):
    import mapclassify
    import numpy as np

    from analysis.maps import fisher_jenks_breaks

    ours = fisher_jenks_breaks(np.array(values), k)
    reference = mapclassify.FisherJenks(np.array(values), k=k).bins
    within = lambda b: sum((v - np.mean(g)) ** 2 for g in np.split(  # noqa: E731
        np.sort(values), np.searchsorted(np.sort(values), b[:-1], side="right")) for v in g)
    assert within(ours) == pytest.approx(within(reference), rel=1e-9, abs=1e-6)


def test_classify_polarity_and_missing():
    from analysis.maps import classify

    values = pd.Series([1.0, 2.0, 3.0, 4.0, None, 6.0])
    worse_high = classify(values, classes=3, higher_is_worse=True)
    assert worse_high.index.iloc[5] == 0 and worse_high.index.iloc[0] == 2
    assert worse_high.index.iloc[4] == -1
    better_high = classify(values, classes=3, higher_is_worse=False)
    assert better_high.index.iloc[0] == 0
    assert better_high.legend.labels[0].startswith("1.0")
