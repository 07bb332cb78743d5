"""Exports carry the attribution and never let a spreadsheet evaluate a cell."""

from __future__ import annotations

import io
import json

import geopandas as gpd
import openpyxl
import pandas as pd
import shapely
from hypothesis import given
from hypothesis import strategies as st

from analysis.exports import (
    neutralise_cell,
    neutralise_frame,
    to_geojson_bytes,
    to_xlsx_bytes,
)

HOSTILE = pd.DataFrame({
    "name": ["=HYPERLINK(\"http://evil\",\"x\")", "+SUM(A1)", "-2+3", "@cmd", "Wigan", None],
    "value": [1.0, -2.0, 3.5, 4.0, 5.0, 6.0],
})


def test_formula_cells_are_neutralised_but_numbers_are_not():
    safe = neutralise_frame(HOSTILE)
    assert safe["name"].tolist()[:5] == ["'=HYPERLINK(\"http://evil\",\"x\")", "'+SUM(A1)",
                                         "'-2+3", "'@cmd", "Wigan"]
    assert pd.isna(safe["name"].iloc[5])
    assert safe["value"].tolist() == HOSTILE["value"].tolist()


@given(st.text())
def test_no_neutralised_text_starts_with_a_formula_character(text):
    out = neutralise_cell(text)
    assert not str(out).startswith(("=", "+", "-", "@", "\t", "\r"))


def test_xlsx_has_about_sheet_and_safe_cells():
    book = openpyxl.load_workbook(io.BytesIO(to_xlsx_bytes(HOSTILE, sheet="a/b:c")))
    assert book.sheetnames == ["abc", "about"]
    cell = book["abc"]["A2"]
    assert cell.data_type == "s" and cell.value.startswith("'=")
    about = " ".join(str(c.value) for row in book["about"].iter_rows() for c in row)
    assert "Open Government Licence" in about


def test_geojson_is_valid_and_attributed():
    frame = gpd.GeoDataFrame({"code": ["E01000001"], "value": [float("nan")]},
                             geometry=[shapely.box(0.1234567891, 51, 0.2, 51.1)], crs=4326)
    doc = json.loads(to_geojson_bytes(frame, vintage="2025"))
    assert doc["type"] == "FeatureCollection"
    assert doc["metadata"]["Licence"].startswith("Open Government Licence v3.0")
    feature = doc["features"][0]
    assert feature["properties"]["value"] is None
    assert feature["geometry"]["coordinates"][0][0][0] in (0.123457, 0.2)
