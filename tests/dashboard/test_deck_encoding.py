"""Map layers encoded once (``dashboard.components``) give exactly the deck JSON pydeck writes
itself, and the serving settings and start-up warm-up of ``fairshare dashboard``."""

from __future__ import annotations

import json

import pydeck as pdk
from pydeck.bindings.json_tools import default_serialize

from analysis.cli.dashboard import SERVING_FLAGS, server_command, warmup_command
from analysis.data import default_registry, small_area_mask
from analysis.explore import deprivation_layer
from dashboard.components import (
    CompactDeck,
    deck_coordinates,
    encoded_records,
    fill_expression,
    polygon_layer,
)

GM = "E54000057"


def _pydeck_json(layer) -> dict:
    plain = pdk.Layer("PolygonLayer", id="areas", data=layer.records, get_polygon="g",
                      get_fill_color=fill_expression(layer.legend.colours), stroked=False,
                      pickable=True, auto_highlight=True,
                      **deck_coordinates(layer.origin, layer.precision))
    return json.loads(json.dumps(pdk.Deck(layers=[plain], map_style=None), sort_keys=True,
                                 default=default_serialize))


def test_encoded_layer_is_the_json_pydeck_writes():
    layer = deprivation_layer("england", GM, default_registry())
    text = CompactDeck(layers=[polygon_layer(layer)], map_style=None).to_json()
    spec = json.loads(text)
    assert spec == _pydeck_json(layer)
    records = spec["layers"][0]["data"]
    # one polygon per LSOA of Greater Manchester, with its national decile class
    assert len(records) == int(small_area_mask("england", GM).sum())
    assert {r["k"] for r in records} <= set(range(-1, 10))
    # encoded once: the same text again, and the same object from the memo
    assert CompactDeck(layers=[polygon_layer(layer)], map_style=None).to_json() == text
    assert encoded_records(layer.records) is encoded_records(layer.records)


def test_two_layers_keep_their_own_records():
    registry = default_registry()
    gm, wigan = (deprivation_layer("england", code, registry)
                 for code in (GM, "E08000010"))
    spec = json.loads(CompactDeck(layers=[polygon_layer(gm, "a"), polygon_layer(wigan, "b")],
                                  map_style=None).to_json())
    sizes = [len(layer["data"]) for layer in spec["layers"]]
    assert sizes == [len(gm.records), len(wigan.records)]
    assert sizes[1] < sizes[0]  # Wigan is one of Greater Manchester's ten boroughs


def test_context_outlines_and_names_are_the_records_pydeck_writes_encoded_once():
    from analysis.data.geography import select_study_area
    from analysis.explore.map_context import boundary_context
    from dashboard.services import context_layers

    bounds = tuple(float(b) for b in select_study_area("england", "E08000010").total_bounds)
    context = boundary_context("england", "E08000010", bounds)
    (outlines,), (labels,) = context_layers(context)
    ours = json.loads(CompactDeck(layers=[outlines, labels]).to_json())["layers"]
    theirs = json.loads(pdk.Deck(layers=[
        pdk.Layer("PathLayer", data=context.outlines),
        pdk.Layer("TextLayer", data=context.labels)]).to_json())["layers"]
    assert [layer["data"] for layer in ours] == [layer["data"] for layer in theirs]
    assert len(ours[1]["data"]) > 5  # Wigan's wards and its neighbours are named
    # the same cached context on the next rerun: its records are not encoded again
    assert encoded_records(context.outlines) is encoded_records(context.outlines)


def test_server_runs_with_serving_settings_and_warms_up():
    command = server_command(8501, True, "0.0.0.0")
    assert command[command.index("--runner.postScriptGC") + 1] == "false"
    assert command[command.index("--server.fileWatcherType") + 1] == "none"
    assert set(SERVING_FLAGS) <= set(command)
    warm = warmup_command(8501, "0.0.0.0")
    assert warm[-3:] == ["dashboard.warmup", "--url", "http://127.0.0.1:8501"]
    assert warmup_command(9000, "10.0.0.5")[-1] == "http://10.0.0.5:9000"


def test_warmup_gives_up_quietly_on_a_server_that_does_not_answer():
    from dashboard.warmup import main, warm

    problems = warm("http://127.0.0.1:9", wait=1)
    assert len(problems) == 1 and "did not answer at http://127.0.0.1:9" in problems[0]
    assert main(["--url", "http://127.0.0.1:9", "--wait", "0.5"]) == 0  # never fails a start
