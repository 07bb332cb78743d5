"""The Map page draws context on every map (outlines and names, fitted view, scale bar) offline,
asks for no URL unless a basemap is configured, and sends its table only when asked."""

from __future__ import annotations

import json
from urllib.parse import unquote

import pytest
from streamlit.testing.v1 import AppTest

from analysis.explore.map_context import Basemap
from dashboard.services import map_style
from tests.conftest import REPO

APP = str(REPO / "dashboard" / "app.py")


def map_page(area: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params["area"] = area
    at.switch_page("views/map.py")  # straight to the map: the overview is not under test
    at.run()
    assert not at.exception, at.exception
    return at


def deck_of(at: AppTest) -> tuple[dict, str]:
    text = at.get("deck_gl_json_chart")[0].proto.json
    return json.loads(text), text


def layer(spec: dict, layer_id: str) -> dict:
    return next(item for item in spec["layers"] if item["id"] == layer_id)


@pytest.mark.parametrize("area, own, scale", [
    ("E54000057", "Wigan", "5 km"),        # Greater Manchester ICB
    ("E08000010", "Wigan", "2 km"),        # Wigan
    ("E01006370", "Wigan", "200 m"),       # an LSOA in Wigan
    ("S12000005", "Clackmannanshire", "2 km"),
])
def test_map_has_outlines_names_fitted_view_and_scale(area, own, scale):
    at = map_page(area)
    spec, text = deck_of(at)
    kinds = {item["id"]: item["@@type"] for item in spec["layers"]}
    assert kinds["context-outlines"] == "PathLayer"
    assert kinds["context-labels"] == "TextLayer"
    labels = layer(spec, "context-labels")
    assert own in {d["t"] for d in labels["data"]}
    assert labels["extensions"] == [{"@@type": "CollisionFilterExtension"}]
    # names drawn above the choropleth, outlines over it
    order = [item["id"] for item in spec["layers"]]
    assert order.index("areas") < order.index("context-outlines") < order.index(
        "context-labels") == len(order) - 1
    assert spec["initialViewState"]["zoom"] > 8
    assert "http" not in text  # offline: no basemap, no tile or style URL
    assert any(f"{scale} (at the initial zoom)" in m.value for m in at.markdown)
    assert "local authorit" in "\n".join(c.value for c in at.caption)


def test_greater_manchester_names_its_ten_authorities():
    spec, _ = deck_of(map_page("E54000057"))
    own = {d["t"] for d in layer(spec, "context-labels")["data"] if d["k"] == 0}
    assert len(own) == 10 and {"Salford", "Wigan", "Manchester"} <= own
    assert spec["initialViewState"]["zoom"] == pytest.approx(9.17, abs=0.01)


def test_england_map_within_budget_and_table_only_when_asked():
    at = map_page("E92000001")
    spec, text = deck_of(at)
    assert "296 local authorities of the study area" in "\n".join(c.value for c in at.caption)
    assert "Birmingham" in {d["t"] for d in layer(spec, "context-labels")["data"]}
    assert len(text.encode()) < 3_000_000
    assert "http" not in text
    assert len(at.dataframe) == 0  # the 33,755-row table is not sent with the page
    at.toggle(key="map_show_table").set_value(True).run()
    assert not at.exception
    assert len(at.dataframe) == 1


def test_basemap_only_when_configured_and_never_cut_at_a_hash():
    assert map_style(None).startswith("data:application/json,")
    assert "http" not in map_style(None)
    style = map_style(Basemap("https://tiles.example.org/{z}/{x}/{y}.png#v2", "© Example"))
    assert "#" not in style
    decoded = json.loads(unquote(style.partition(",")[2]))
    assert decoded["sources"]["basemap"]["tiles"] == [
        "https://tiles.example.org/{z}/{x}/{y}.png#v2"]
    assert decoded["sources"]["basemap"]["attribution"] == "© Example"


def test_configured_basemap_reaches_the_deck(monkeypatch):
    monkeypatch.setenv("FAIRSHARE_BASEMAP_URL", "https://tiles.example.org/{z}/{x}/{y}.png")
    spec, text = deck_of(map_page("E08000010"))
    assert "tiles.example.org" in unquote(spec["mapStyle"])


def test_a_malformed_basemap_warns_and_the_map_still_draws(monkeypatch):
    monkeypatch.setenv("FAIRSHARE_BASEMAP_URL", "not a url")
    at = map_page("E08000010")
    assert any("No basemap" in w.value for w in at.warning)
    assert "http" not in deck_of(at)[1]
