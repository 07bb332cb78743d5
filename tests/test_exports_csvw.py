"""CSV exports are plain RFC 4180 with a CSVW sidecar; person counts are suppressed in every
export format; nothing in the metadata can reach a cell."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import geopandas as gpd
import openpyxl
import pandas as pd
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.disclosure import SUPPRESSED
from analysis.exports import (
    ColumnInfo,
    ExportInfo,
    column_info_for,
    csv_with_metadata,
    csv_zip_bytes,
    metadata_path,
    suppress_frame,
    to_csv_bytes,
    to_geojson_bytes,
    to_xlsx_bytes,
    validate_csvw,
    write_csv,
)

HOSTILE_TITLE = 'Wigan, "north", =HYPERLINK("http://evil","x")\r\n=1+1,@SUM(A1)'
FRAME = pd.DataFrame({
    "area_code": ["E01000001", "E01000002", "E01000003", "E01000004"],
    "area name": ["Wigan, north", "=HYPERLINK(\"http://evil\",\"x\")", "Line\r\nbreak", "-x"],
    "admissions": [3, 12, 40, 0],
    "population": [1500, 1600, 1700, 1800],
    "rate_per_1000": [2.0, 7.5, 23.5, 0.0],
    "practices": [1, 2, 3, 0],
})
INFO = ExportInfo(
    title=HOSTILE_TITLE, vintage="IMD 2025; Census 2021", source="ONS, \"TS001\"\r=2+2",
    extra={"Scenario": "=cmd|' /C calc'!A0"},
    columns={"admissions": ColumnInfo(title="Stroke admissions", unit="people",
                                      person_count=True),
             "rate_per_1000": ColumnInfo(title="Admissions per 1,000", unit="per 1,000",
                                         from_counts=True),
             "practices": ColumnInfo(title="GP practices", unit="practices")})


def test_csv_is_plain_rfc4180_and_reads_back_with_plain_readers(tmp_path):
    path = tmp_path / "stroke.csv"
    sidecar = write_csv(path, FRAME, info=INFO)
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert raw.startswith(b"area_code,area name,admissions,")
    assert b"#" not in raw.splitlines()[0] and not any(
        line.startswith(b"#") for line in raw.splitlines())
    assert b"\r\n" in raw  # RFC 4180 line ends
    back = pd.read_csv(path)
    assert list(back.columns) == list(FRAME.columns)
    assert len(back) == 4
    assert back["area_code"].tolist() == FRAME["area_code"].tolist()
    assert back["population"].tolist() == [1500, 1600, 1700, 1800]
    # 3 admissions is hidden, and so is the next smallest non-zero (12) so that it cannot be
    # worked out from the total; zero is shown; the rates of those rows go too
    assert back["admissions"].astype(str).tolist() == [SUPPRESSED, SUPPRESSED, "40", "0"]
    assert back["rate_per_1000"].astype(str).tolist() == [SUPPRESSED, SUPPRESSED, "23.5",
                                                          "0.0"]
    # counts of practices are not personal data: never suppressed
    assert back["practices"].tolist() == [1, 2, 3, 0]
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
    assert len(rows) == 5 and all(len(r) == 6 for r in rows)
    assert rows[1][1] == "Wigan, north"
    assert rows[2][1] == "'=HYPERLINK(\"http://evil\",\"x\")"
    assert rows[3][1] == "Line\r\nbreak"
    assert rows[4][1] == "'-x"
    assert sidecar == metadata_path(path) == tmp_path / "stroke.csv-metadata.json"


def test_sidecar_is_csvw_and_describes_every_column(tmp_path):
    path = tmp_path / "stroke.csv"
    sidecar = json.loads(write_csv(path, FRAME, info=INFO).read_text(encoding="utf-8"))
    assert sidecar["@context"] == "http://www.w3.org/ns/csvw"
    assert sidecar["url"] == "stroke.csv"
    assert sidecar["dc:license"] == {
        "@id": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"}
    assert "Open Government Licence v3.0" in sidecar["dc:rights"]
    assert sidecar["dc:temporal"] == "IMD 2025; Census 2021"
    assert sidecar["dc:source"] == 'ONS, "TS001" =2+2'  # one line, and only in the sidecar
    # the title with commas, a formula and CR/LF is one JSON string, not cells
    assert sidecar["dc:title"] == 'Wigan, "north", =HYPERLINK("http://evil","x") =1+1,@SUM(A1)'
    columns = sidecar["tableSchema"]["columns"]
    assert [c["titles"] for c in columns] == list(FRAME.columns)
    assert [c["name"] for c in columns] == ["area_code", "area_name", "admissions",
                                            "population", "rate_per_1000", "practices"]
    by_title = {c["titles"]: c for c in columns}
    assert by_title["population"]["datatype"] == "integer"
    assert by_title["admissions"]["datatype"] == "integer"
    assert by_title["rate_per_1000"]["datatype"] == "number"
    assert by_title["area_code"]["datatype"] == "string"
    assert by_title["admissions"]["schema:unitText"] == "people"
    assert by_title["rate_per_1000"]["schema:unitText"] == "per 1,000"
    assert "2 cell(s) suppressed" in by_title["admissions"]["rdfs:comment"]
    assert SUPPRESSED in by_title["admissions"]["null"]
    assert validate_csvw(path.read_bytes(), sidecar) == []


def test_validator_catches_a_sidecar_that_disagrees():
    data, meta = csv_with_metadata(FRAME, "x.csv", info=INFO)
    sidecar = json.loads(meta)
    sidecar["tableSchema"]["columns"][1]["datatype"] = "number"
    assert any("is not number" in p for p in validate_csvw(data, sidecar))
    sidecar["tableSchema"]["columns"].pop()
    assert any("differs from the sidecar" in p for p in validate_csvw(data, sidecar))
    assert validate_csvw(b"\xef\xbb\xbf" + data, json.loads(meta))[0].startswith(
        "the CSV starts with a byte-order mark")


@settings(max_examples=60, deadline=None)
@given(title=st.text(min_size=0, max_size=80), cell=st.text(max_size=40))
def test_no_title_or_cell_can_add_rows_or_cells(title, cell):
    frame = pd.DataFrame({"code": ["A", "B"], "label": [cell, "plain"], "n": [10, 20]})
    data, meta = csv_with_metadata(frame, "t.csv", title=title, vintage=title,
                                   extra={title or "k": title})
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert rows[0] == ["code", "label", "n"]
    assert len(rows) == 3 and all(len(r) == 3 for r in rows)
    assert not rows[1][1].startswith(("=", "+", "-", "@", "\t", "\r"))
    assert validate_csvw(data, json.loads(meta)) == []
    back = pd.read_csv(io.BytesIO(data), keep_default_na=False, dtype=str)
    assert back.shape == (2, 3)


def test_dashboard_zip_holds_the_csv_and_its_sidecar():
    archive = zipfile.ZipFile(io.BytesIO(csv_zip_bytes(FRAME, "stroke-wigan", info=INFO)))
    assert sorted(archive.namelist()) == ["stroke-wigan.csv", "stroke-wigan.csv-metadata.json"]
    data = archive.read("stroke-wigan.csv")
    meta = json.loads(archive.read("stroke-wigan.csv-metadata.json"))
    assert meta["url"] == "stroke-wigan.csv"
    assert validate_csvw(data, meta) == []


def test_xlsx_suppresses_counts_and_keeps_an_about_sheet():
    book = openpyxl.load_workbook(io.BytesIO(to_xlsx_bytes(FRAME, sheet="stroke", info=INFO)))
    assert book.sheetnames == ["stroke", "about"]
    sheet = book["stroke"]
    header = [c.value for c in sheet[1]]
    admissions = [row[header.index("admissions")].value for row in sheet.iter_rows(min_row=2)]
    assert admissions == [SUPPRESSED, SUPPRESSED, 40, 0]
    about = {row[0].value: row[1].value for row in book["about"].iter_rows(min_row=2)}
    assert about["Data vintage"] == "IMD 2025; Census 2021"
    assert about["Title"].startswith("'Wigan") or about["Title"].startswith("Wigan")
    assert "\r" not in about["Title"] and "\n" not in about["Title"]
    assert "Open Government Licence" in about["Licence"]
    assert "per 1,000" in about["Column rate_per_1000"]
    for row in book["about"].iter_rows():
        for cell in row:
            assert cell.data_type == "s" and not str(cell.value).startswith("=")


def test_geojson_suppresses_person_counts():
    frame = gpd.GeoDataFrame(FRAME[["area_code", "admissions", "practices"]],
                             geometry=[shapely.box(i, 51, i + 0.1, 51.1) for i in range(4)],
                             crs=4326)
    info = ExportInfo(columns=column_info_for(frame.columns, person_counts=["admissions"]))
    doc = json.loads(to_geojson_bytes(frame, vintage="2025", info=info))
    values = [f["properties"]["admissions"] for f in doc["features"]]
    assert values == [SUPPRESSED, SUPPRESSED, 40, 0]
    assert [f["properties"]["practices"] for f in doc["features"]] == [1, 2, 3, 0]


def test_old_callers_still_get_a_plain_csv():
    # analysis.allocation.reports calls to_csv_bytes(frame, vintage=..., extra=...)
    data = to_csv_bytes(FRAME, vintage="x", extra={"Method": "=1+1"})
    assert data.startswith(b"area_code,") and b"Method" not in data
    assert pd.read_csv(io.BytesIO(data))["admissions"].tolist() == [3, 12, 40, 0]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=12))
def test_no_small_count_survives_or_can_be_recovered_from_the_total(counts):
    frame = pd.DataFrame({"n": counts})
    out = suppress_frame(frame, ["n"])["n"].tolist()
    shown = [v for v in out if v != SUPPRESSED]
    assert all(v == 0 or v >= 5 for v in shown)
    hidden = [v == SUPPRESSED for v in out]
    assert all(h for c, h in zip(counts, hidden, strict=True) if 0 < c < 5)
    if sum(hidden) == 1:  # a lone hidden cell is only left where no other count is non-zero
        assert sum(1 for c, h in zip(counts, hidden, strict=True) if c > 0 and not h) == 0
