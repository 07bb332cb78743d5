"""Map context: outlines and names around a study area, the fitted view, the scale bar, the
optional basemap setting, and the build of the local-authority outlines (on a fixture)."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from analysis.build.outlines import dissolve_outlines
from analysis.data import select_study_area
from analysis.explore.map_context import (
    INSIDE,
    NEIGHBOUR,
    WARD,
    Basemap,
    authority_outlines,
    basemap_setting,
    boundary_context,
    fitted_view,
    metres_per_pixel,
    nice_length,
    parse_basemap,
    path_records,
    scale_bar,
    thin_labels,
    view_extent,
)

GM, WIGAN = "E54000057", "E08000010"
GM_AUTHORITIES = {"Bolton", "Bury", "Manchester", "Oldham", "Rochdale", "Salford", "Stockport",
                  "Tameside", "Trafford", "Wigan"}


def context_of(country: str, code: str | None):
    shapes = select_study_area(country, code)
    return boundary_context(country, code, tuple(shapes.total_bounds)), shapes


def test_the_outlines_file_has_every_local_authority():
    assert len(authority_outlines("england")) == 296
    assert len(authority_outlines("scotland")) == 32
    outlines = authority_outlines("england")
    inside = shapely.contains_xy(outlines.geometry.to_numpy(), outlines["label_lon"],
                                 outlines["label_lat"])
    assert inside.all()  # label points are inside their areas, not centroids outside


def test_greater_manchester_has_its_ten_authorities_outlined_and_named():
    context, _ = context_of("england", GM)
    own = context.labels[context.labels["k"] == INSIDE]
    assert set(own["t"]) == GM_AUTHORITIES
    assert context.drawn[INSIDE] == 10
    # neighbours are named lighter, and no wards are drawn for a ten-authority area
    assert {"Warrington", "Kirklees"} <= set(context.labels.loc[
        context.labels["k"] == NEIGHBOUR, "t"])
    assert not (context.labels["k"] == WARD).any() and context.sub_level is None


def test_wigan_gets_its_25_wards_with_plain_text_names():
    context, _ = context_of("england", WIGAN)
    assert context.drawn[WARD] == 25 and context.sub_level == "wards"
    wards = context.labels[context.labels["k"] == WARD]
    assert 15 <= len(wards) < 25  # those that fit at the initial zoom
    assert any("&" in name for name in wards["t"])  # plain text, not &amp;
    assert not context.labels["t"].str.contains("&amp;|<", regex=True).any()


def test_a_small_area_names_the_ward_around_it():
    context, shapes = context_of("england", "E01006370")
    assert set(context.labels.loc[context.labels["k"] == INSIDE, "t"]) == {"Wigan"}
    assert (context.labels["k"] == WARD).sum() >= 1
    minx, miny, maxx, maxy = view_extent(context.view)
    assert context.labels["lon"].between(minx, maxx).all()
    assert context.labels["lat"].between(miny, maxy).all()


def test_clackmannanshire_gets_intermediate_zones():
    context, _ = context_of("scotland", "S12000005")
    assert context.sub_level == "intermediate zones"
    assert context.drawn[WARD] == 12
    assert (context.labels["k"] == WARD).sum() >= 10
    assert "Clackmannanshire" in set(context.labels["t"])


def test_england_view_labels_every_authority_within_budget():
    context, _ = context_of("england", None)
    assert context.drawn == {INSIDE: 296, NEIGHBOUR: 0, WARD: 0}
    assert 20 <= len(context.labels) <= 60  # thinned to the names that fit at zoom 5.1
    text = context.outlines.to_json(orient="records") + context.labels.to_json(
        orient="records")
    assert len(text) < 100_000  # outlines simplified to the view: ~0.06 MB
    assert context.labels["p"].between(-1000, 1000).all()
    top = context.labels.sort_values("p", ascending=False)["t"].iloc[0]
    assert top == "Birmingham"  # the most populous authority wins a label collision


@pytest.mark.parametrize("code", [GM, WIGAN, "E01006370", None])
def test_fitted_view_contains_the_study_area_and_fills_the_map(code):
    shapes = select_study_area("england", code)
    bounds = tuple(float(b) for b in shapes.total_bounds)
    view = fitted_view(bounds, width=900, height=560)
    minx, miny, maxx, maxy = view_extent(view, width=900, height=560)
    assert minx <= bounds[0] and maxx >= bounds[2]
    assert miny <= bounds[1] and maxy >= bounds[3]
    # tight: the limiting side fills at least 80% of the map (padding 6% a side, zoom
    # rounded to 0.01)
    fill_x = (bounds[2] - bounds[0]) / (maxx - minx)
    y = [math.log(math.tan(math.pi / 4 + math.radians(v) / 2)) for v in
         (bounds[1], bounds[3], miny, maxy)]
    fill_y = (y[1] - y[0]) / (y[3] - y[2])
    assert max(fill_x, fill_y) > 0.8


def test_fitted_view_of_a_known_box():
    # 1° of longitude at the equator on a 512 px wide, 512 px tall map without padding:
    # 512·2^z/360 = 512 → z = log2(360) = 8.49
    view = fitted_view((-0.5, -0.5, 0.5, 0.5), width=512, height=512, padding=0)
    assert view.zoom == pytest.approx(math.log2(360), abs=0.01)
    assert (view.longitude, view.latitude) == (0.0, 0.0)


def test_metres_per_pixel_and_scale_bars():
    assert metres_per_pixel(0, 0) == pytest.approx(78_271.517, abs=0.01)
    assert metres_per_pixel(60, 10) == pytest.approx(78_271.517 / 2 / 1024, rel=1e-6)
    bar = scale_bar(0, 0)  # 120 px ≈ 9,393 km → 5,000 km in 64 px
    assert (bar.metres, bar.pixels, bar.label) == (5_000_000, 64, "5,000 km")
    bar = scale_bar(60, 10)  # 38.2 m/px: 120 px ≈ 4.6 km → 2 km in 52 px
    assert (bar.metres, bar.pixels, bar.label) == (2000, 52, "2 km")
    bar = scale_bar(53.5073, 9.17)  # Greater Manchester's view: 80.8 m/px → 5 km, 62 px
    assert (bar.metres, bar.pixels, bar.label) == (5000, 62, "5 km")
    bar = scale_bar(53.5, 15)  # 1.42 m/px: 120 px ≈ 170 m → 100 m in 70 px
    assert (bar.metres, bar.pixels, bar.label) == (100, 70, "100 m")


def test_nice_lengths():
    assert [nice_length(v) for v in (9_700, 1_999, 2_000, 4.9, 0.07)] == [5_000, 1_000, 2_000,
                                                                          2, 0.05]
    with pytest.raises(ValueError):
        nice_length(0)


def test_no_basemap_unless_configured(tmp_path):
    assert basemap_setting(environ={}, config_files=()) is None
    config = tmp_path / "config.toml"
    config.write_text('[server]\nheadless = true\n', encoding="utf-8")
    assert basemap_setting(environ={}, config_files=(config,)) is None
    config.write_text('[fairshare]\nbasemap_url = "https://t.example.org/{z}/{x}/{y}.png"\n'
                      'basemap_attribution = "© Example"\n', encoding="utf-8")
    assert basemap_setting(environ={}, config_files=(config,)) == Basemap(
        "https://t.example.org/{z}/{x}/{y}.png", "© Example")
    env = {"FAIRSHARE_BASEMAP_URL": "https://env.example.org/{z}/{x}/{y}.png"}
    assert basemap_setting(environ=env, config_files=(config,)).url.startswith(
        "https://env.")


@pytest.mark.parametrize("url", ["ftp://x.org/{z}/{x}/{y}.png", "https://x.org/tiles.png",
                                 "javascript:alert(1)//{z}{x}{y}"])
def test_a_malformed_basemap_is_refused_by_name(url):
    with pytest.raises(ValueError, match="FAIRSHARE_BASEMAP_URL"):
        parse_basemap(url)


def test_path_records_are_quantised_offsets():
    line = shapely.linestrings([[-2.0, 53.0], [-2.00001, 53.0], [-1.99, 53.01]])
    records = path_records(np.array([line]), np.array([NEIGHBOUR]), precision=4,
                           origin=(-2.0, 53.0))
    # the second point rounds onto the first at 10^-4 degrees and is dropped
    assert records["g"].tolist() == [[0, 0, 100, 100]]
    assert records["k"].tolist() == [NEIGHBOUR]


def test_dissolve_outlines_on_a_fixture():
    squares = [shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1), shapely.box(2, 0, 3, 1),
               shapely.box(5, 5, 5.0001, 5.0001)]  # a sliver part of B
    small = gpd.GeoDataFrame({"la": ["A", "A", "B", "B"], "la_name": ["Aa", "Aa", "Bb", "Bb"],
                              "population": [10, 20, 5, 1]}, geometry=squares,
                             crs="EPSG:4326")
    out = dissolve_outlines(small, "la", "la_name")
    assert out["code"].tolist() == ["A", "B"]
    assert out["population"].tolist() == [30, 6]
    assert shapely.area(out.geometry.to_numpy()).round(6).tolist() == [2.0, 1.0]
    assert shapely.contains_xy(out.geometry.to_numpy(), out["label_lon"],
                               out["label_lat"]).all()
    # the pole of inaccessibility of the 2 × 1 block: 0.5 from its edges, on the mid-line
    assert out.loc[0, "label_lat"] == pytest.approx(0.5, abs=0.01)
    assert 0.49 <= out.loc[0, "label_lon"] <= 1.51
    assert out.loc[1, "label_lon"] == pytest.approx(2.5, abs=0.01)  # not on the sliver


def test_missing_outlines_file_gives_a_note_not_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("FAIRSHARE_DATA_DIR", str(tmp_path))
    frame = authority_outlines("england")
    assert isinstance(frame, pd.DataFrame) and frame.empty


def test_thinning_keeps_the_higher_priority_of_two_overlapping_names():
    labels = pd.DataFrame({"lon": [-2.0, -2.0001, -1.0], "lat": [53.0, 53.0, 53.0],
                           "t": ["Big", "Small", "Far"], "k": [INSIDE, INSIDE, INSIDE],
                           "p": [900, 100, 50]})
    kept = thin_labels(labels, fitted_view((-2.5, 52.5, -0.5, 53.5)))
    assert kept["t"].tolist() == ["Big", "Far"]
