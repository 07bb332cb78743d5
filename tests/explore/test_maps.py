"""Map layer preparation: colours by polarity, compact polygons, text alternatives."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.data import IndicatorRegistry
from analysis.explore.maps import (
    classify,
    decile_legend,
    deprivation_layer,
    display_tolerance,
    escape_text_columns,
    fill_expression,
    palette,
    polygon_records,
)


def luminance(rgb):
    r, g, b = rgb
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_palette_runs_dark_to_light():
    colours = palette(5)
    assert [luminance(c) for c in colours] == sorted(luminance(c) for c in colours)
    with pytest.raises(ValueError):
        palette(11)


def test_decile_legend_runs_from_most_deprived_and_darkest():
    legend = decile_legend()
    assert legend.labels[0].startswith("1 – most deprived")
    assert luminance(legend.colours[0]) < luminance(legend.colours[-1])


@pytest.mark.parametrize("higher_is_worse", [True, False])
def test_worst_values_get_the_darkest_class(higher_is_worse):
    values = pd.Series(range(100), dtype=float)
    classes = classify(values, higher_is_worse=higher_is_worse)
    worst = values.idxmax() if higher_is_worse else values.idxmin()
    best = values.idxmin() if higher_is_worse else values.idxmax()
    assert classes.index[worst] == 0 and classes.index[best] == 4
    assert luminance(classes.legend.colours[0]) < luminance(classes.legend.colours[4])
    assert len(classes.legend.labels) == 5


def test_polygon_records_are_quantised_offsets_and_split_multipolygons():
    square = shapely.box(0.123456789, 0, 1, 1)
    multi = shapely.MultiPolygon([shapely.box(2, 2, 3, 3), shapely.box(4, 4, 5, 5)])
    geoms = pd.Series([square, multi], index=["a", "b"])
    attrs = pd.DataFrame({"code": ["a", "b"]}, index=["a", "b"])
    records = polygon_records(geoms, attrs, precision=3, origin=(1.0, 1.0))
    assert records["code"].tolist() == ["a", "b", "b"]
    first = records["g"].iloc[0]
    assert all(isinstance(v, int) for v in first)
    assert len(first) == 10  # a closed box: 5 points, x and y flat
    xs = {first[i] for i in range(0, 10, 2)}
    assert xs == {-877, 0}  # (0.123 - 1.0) and (1.0 - 1.0) in thousandths


def test_layers_of_one_study_area_share_its_encoded_rings():
    import geopandas as gpd

    from analysis.explore.maps import _RINGS, build_layer, decile_legend

    shapes = gpd.GeoDataFrame({"name": ["a", "b"]}, index=["E1", "E2"],
                              geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)])
    legend = decile_legend()

    def layer(values):
        attributes = pd.DataFrame({"c": shapes.index, "v": values}, index=shapes.index)
        return build_layer(shapes, attributes, legend=legend, title="t", alt_text="a")

    first, second = layer(["1", "2"]), layer(["3", "4"])
    assert second.records["v"].tolist() == ["3", "4"]
    assert all(a is b for a, b in zip(first.records["g"], second.records["g"], strict=True))
    expected = polygon_records(shapes.geometry, shapes[[]], tolerance=None,
                               precision=first.precision, origin=first.origin)
    assert first.records["g"].tolist() == expected["g"].tolist()
    # another GeoDataFrame (moved squares) is encoded on its own, and dropped with it
    moved = shapes.set_geometry(shapes.translate(5, 5))
    other = build_layer(moved, pd.DataFrame({"c": moved.index}, index=moved.index),
                        legend=legend, title="t", alt_text="a")
    assert other.origin != first.origin
    held = len(_RINGS)
    del moved, other
    assert len(_RINGS) == held - 1


def test_fill_expression_maps_class_index_to_colours():
    expression = fill_expression(((1, 2, 3), (4, 5, 6)))
    assert expression == "k==0?[1,2,3]:k==1?[4,5,6]:[200,200,200]"


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
def test_fisher_jenks_is_at_least_as_good_as_mapclassify(values, k):
    import mapclassify
    import numpy as np

    from analysis.explore.maps import fisher_jenks_breaks

    ours = fisher_jenks_breaks(np.array(values), k)
    reference = mapclassify.FisherJenks(np.array(values), k=k).bins
    within = lambda b: sum((v - np.mean(g)) ** 2 for g in np.split(  # noqa: E731
        np.sort(values), np.searchsorted(np.sort(values), b[:-1], side="right")) for v in g)
    # Fisher's algorithm is exact: never worse than mapclassify (which can be, on values
    # spanning many orders of magnitude), and equal on ordinary data
    assert within(ours) <= within(reference) * (1 + 1e-9) + 1e-6


def test_classify_polarity_and_missing():
    from analysis.explore.maps import classify

    values = pd.Series([1.0, 2.0, 3.0, 4.0, None, 6.0])
    worse_high = classify(values, classes=3, higher_is_worse=True)
    assert worse_high.index.iloc[5] == 0 and worse_high.index.iloc[0] == 2
    assert worse_high.index.iloc[4] == -1
    better_high = classify(values, classes=3, higher_is_worse=False)
    assert better_high.index.iloc[0] == 0
    assert better_high.legend.labels[0].startswith("1.0")


def test_whole_country_layer_drops_names_but_keeps_codes_and_values():
    layer = deprivation_layer("england", None, IndicatorRegistry())
    assert not layer.detailed
    assert set(layer.records.columns) == {"c", "v", "k", "g"}
    assert layer.records["c"].nunique() == 33_755
    assert layer.code_prefix == "E01" and layer.full_code("000001") == "E01000001"
    assert layer.precision == 3


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(alphabet=st.sampled_from("&<>\"'ab; #x2"),
                                             max_size=12)), min_size=1, max_size=20))
def test_text_columns_are_escaped_exactly_as_html_escape_does(texts):
    import html

    frame = pd.DataFrame({
        "arrow": pd.array(texts, dtype="string[pyarrow]"),
        "python": pd.array(texts, dtype="string[python]"),
        "default": pd.Series(texts, dtype="str"),
        "object": pd.Series([*texts[:-1], 3.5], dtype=object),  # a number stays a number
        "number": pd.Series(range(len(texts)), dtype=float),
    })
    before = frame.copy()
    out = escape_text_columns(frame)
    expected = [None if t is None else html.escape(t) for t in texts]
    for column in ("arrow", "python", "default"):
        got = [None if pd.isna(v) else v for v in out[column]]
        assert got == expected, column
        assert out[column].dtype == frame[column].dtype
    assert [None if pd.isna(v) else v for v in out["object"]][:-1] == expected[:-1]
    assert out["object"].iloc[-1] == 3.5
    pd.testing.assert_series_equal(out["number"], frame["number"])
    pd.testing.assert_frame_equal(frame, before)  # the input is left as it was


def test_names_are_html_escaped_in_map_records():
    import geopandas as gpd

    from analysis.explore.maps import choropleth_layer

    areas = gpd.GeoDataFrame({"code": ["X1", "X2"], "name": ["<b>A&B</b>", "O'Neil \"Q\""]},
                             geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)],
                             index=["X1", "X2"], crs=4326)
    layer = choropleth_layer(areas, pd.Series([1.0, 2.0], index=["X1", "X2"]), title="t",
                             unit="u", higher_is_worse=True)
    names = layer.records["n"].tolist()
    assert names == ["&lt;b&gt;A&amp;B&lt;/b&gt;", "O&#x27;Neil &quot;Q&quot;"]
