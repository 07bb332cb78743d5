"""Uploads built to stall the server are refused quickly, naming the file and the cap: XLSX
row bombs (a small zip whose sheet expands to 100 MB or more of empty ``<row/>``), sheets
whose recorded size pads every row, a million missing rows, 2 M-row CSVs and Parquet files;
header rows that name a column twice are refused, naming the columns.

The generators write the hostile files by hand with :mod:`zipfile`, streaming the sheet, so
they stay small on disk and in memory. ``benchmarks/bench_hostile_uploads.py`` measures the
time and peak memory of refusing them.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from analysis.ingest import read_upload, readers, validate_file

META = {"id": "hostile", "title": "Hostile", "description": "A test.", "unit": "score",
        "kind": "need", "polarity": "higher_is_worse", "period": "2024", "geography": "auto",
        "licence": "OGL", "source": "test"}

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
        '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
        '"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.worksheet+xml"/></Types>'),
    "_rels/.rels": (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS_NS}"><Relationship '
        f'Id="rId1" Type="{DOC_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
    "xl/workbook.xml": (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{NS}" xmlns:r="{DOC_REL}">'
        '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS_NS}"><Relationship '
        f'Id="rId1" Type="{DOC_REL}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'),
}
HEADER_ROW = ('<row r="1"><c r="A1" t="inlineStr"><is><t>area_code</t></is></c>'
              '<c r="B1" t="inlineStr"><is><t>value</t></is></c></row>')


def write_xlsx(path: Path, *, filler: bytes = b"", filler_bytes: int = 0,
               dimension: str | None = None, head: str = HEADER_ROW, tail: str = "") -> Path:
    """A one-sheet workbook, zipped by hand: ``head`` rows, then ``filler`` repeated to
    ``filler_bytes`` (streamed, so a 1 GB sheet never sits in memory), then ``tail``."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, text in PARTS.items():
            archive.writestr(name, text)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{NS}">'
                        .encode())
            if dimension:
                sheet.write(f'<dimension ref="{dimension}"/>'.encode())
            sheet.write(b"<sheetData>" + head.encode())
            if filler:
                repeats = filler_bytes // len(filler)
                per_block = max(1, (1 << 20) // len(filler))
                block = filler * per_block
                for _ in range(repeats // per_block):
                    sheet.write(block)
                sheet.write(filler * (repeats % per_block))
            sheet.write(tail.encode() + b"</sheetData></worksheet>")
    return path


def row_bomb(path: Path, expanded_bytes: int = 100_000_000) -> Path:
    """The audit's row bomb: a sheet of ``expanded_bytes`` of empty ``<row/>`` elements
    (100 MB zip to ~150 kB)."""
    return write_xlsx(path, filler=b"<row/>", filler_bytes=expanded_bytes)


def big_csv(path: Path, rows: int = 2_000_001) -> Path:
    """A plain CSV of ``rows`` data rows (real-looking LSOA codes and values)."""
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("area_code,value\n")
        line = "E01000001,12.5\n"
        chunk = line * 100_000
        for _ in range(rows // 100_000):
            handle.write(chunk)
        handle.write(line * (rows % 100_000))
    return path


def rules(report) -> list[str]:
    return [issue.rule for issue in report.errors]


def only_error(report, rule: str) -> str:
    assert rules(report) == [rule], report.to_text()
    return report.errors[0].to_text()


def test_row_bomb_of_100_mb_is_refused_from_the_zip_directory(tmp_path):
    path = row_bomb(tmp_path / "bomb.xlsx")
    assert path.stat().st_size < 200_000  # the audit's file was 157 kB
    indicator, report = read_upload(path.read_bytes(), "bomb.xlsx", META)
    assert indicator is None
    text = only_error(report, "too_large")
    assert text.startswith("ERROR bomb.xlsx: part 'xl/worksheets/sheet1.xml' expands")
    assert "to 100.0 MB" in text and "the cap is 100 times" in text


def test_larger_bomb_is_refused_by_the_expansion_cap(tmp_path):
    path = row_bomb(tmp_path / "bigger.xlsx", 300_000_000)
    report = validate_file(path, META)
    text = only_error(report, "too_large")
    assert "expands to 300.0 MB of XML (the cap is 256.0 MB)" in text
    assert str(path) in text


def test_bomb_below_the_ratio_cap_is_stopped_by_the_row_cap(tmp_path, monkeypatch):
    # numbered rows compress less well; let the ratio check pass to reach the streaming caps
    monkeypatch.setattr(readers, "MAX_XLSX_INFLATE_RATIO", 10**6)
    monkeypatch.setattr(readers, "MAX_XLSX_ROWS_SCANNED", 50_000)
    path = write_xlsx(tmp_path / "rows.xlsx", filler=b"<row/>", filler_bytes=6_000_000,
                      dimension="A1:B2")
    report = validate_file(path, META)
    text = only_error(report, "too_large")
    assert "sheet 'Sheet1' has more than 50,000 rows, empty rows included (the cap" in text


def test_a_million_missing_rows_are_counted(tmp_path, monkeypatch):
    # one row numbered 1,048,576: openpyxl yields every missing row before it
    monkeypatch.setattr(readers, "MAX_XLSX_ROWS_SCANNED", 10_000)
    path = write_xlsx(tmp_path / "gap.xlsx", dimension="A1:B1048576",
                      tail='<row r="1048576"><c r="A1048576"><v>1</v></c></row>')
    report = validate_file(path, META)
    assert "more than 10,000 rows, empty rows included" in only_error(report, "too_large")


def test_a_recorded_size_that_pads_rows_is_ignored(tmp_path):
    # "A1:XFD1048576" once made every row 16,384 cells wide and added a million empty rows
    from analysis.data import load_pack_table

    codes = load_pack_table("england").index[:5]
    rows = "".join(f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>{code}</t></is></c>'
                   f'<c r="B{i}"><v>{i}</v></c></row>' for i, code in enumerate(codes, start=2))
    path = write_xlsx(tmp_path / "padded.xlsx", dimension="A1:XFD1048576", head=HEADER_ROW + rows)
    indicator, report = read_upload(path.read_bytes(), "padded.xlsx", META)
    assert report.ok, report.to_text()
    assert indicator.data["value"].tolist() == [2.0, 3.0, 4.0, 5.0, 6.0]
    assert report.rows == 5


def test_cells_scanned_are_capped(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "MAX_XLSX_CELLS_SCANNED", 20_000)
    # rows of five empty cells: no data, but each one is scanned
    empty = "".join(f'<c r="{col}2"/>' for col in "ABCDE")
    path = write_xlsx(tmp_path / "cells.xlsx", dimension="A1:E9000",
                      filler=f"<row>{empty}</row>".encode(), filler_bytes=2_000_000)
    report = validate_file(path, META)
    assert "more than 20,000 cells to scan, empty ones included (the cap)" in only_error(
        report, "too_large")


def test_a_large_sheet_without_a_size_record_is_refused_before_a_second_scan(tmp_path,
                                                                              monkeypatch):
    monkeypatch.setattr(readers, "MAX_XLSX_INFLATE_RATIO", 10**6)
    path = write_xlsx(tmp_path / "unsized.xlsx", filler=b"<row/>", filler_bytes=6_000_000)
    report = validate_file(path, META)
    assert "does not record its size (no <dimension>)" in only_error(report, "too_large")


def test_the_time_cap_stops_a_slow_workbook(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "MAX_XLSX_SECONDS", 0.0)
    path = write_xlsx(tmp_path / "slow.xlsx", dimension="A1:B9000", filler=b"<row/>",
                      filler_bytes=60_000)
    report = validate_file(path, META)
    assert "took more than 0 seconds (the cap)" in only_error(report, "too_large")


def test_a_corrupt_sheet_names_the_cause(tmp_path):
    path = write_xlsx(tmp_path / "broken.xlsx", head=HEADER_ROW + "<row><c><v>1</row>")
    report = validate_file(path, META)
    text = only_error(report, "unreadable")
    assert "not a readable XLSX workbook (" in text and "Error" in text


def test_an_ordinary_workbook_still_reads_with_its_active_sheet_first(tmp_path):
    book = openpyxl.Workbook()
    empty = book.active
    empty.title = "notes"
    data = book.create_sheet("data")
    data.append(["Area Code", "Value"])
    data.append(["E01000001", 3.5])
    book.active = 1
    buffer = io.BytesIO()
    book.save(buffer)
    indicator, report = read_upload(buffer.getvalue(), "book.xlsx", META)
    assert report.ok, report.to_text()
    assert report.format == "XLSX, sheet 'data'"
    assert indicator.data.to_dict("records") == [{"area_code": "E01000001", "value": 3.5}]


def test_csv_of_two_million_rows_is_refused_with_the_cap(tmp_path):
    path = big_csv(tmp_path / "big.csv")
    indicator, report = read_upload(path.read_bytes(), "big.csv", META)
    assert indicator is None
    assert only_error(report, "too_large") == (
        "ERROR big.csv: the file has more than 2,000,000 rows (the cap is 2,000,000 data "
        "rows); split it, or keep only the period and areas you need")


def test_csv_at_the_cap_is_counted_not_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "MAX_ROWS", 1_000)
    at_cap = big_csv(tmp_path / "cap.csv", 1_000).read_bytes()
    assert "too_large" not in rules(read_upload(at_cap, "cap.csv", META)[1])
    over = big_csv(tmp_path / "over.csv", 1_001).read_bytes()
    assert "too_large" in rules(read_upload(over, "over.csv", META)[1])
    # line breaks inside quoted cells are not rows: 1,500 lines, 500 records
    quoted = "area_code,value\n" + "".join(f'"E0100{i:04d}\n",{i}\n' for i in range(499))
    assert "too_large" not in rules(read_upload(quoted.encode(), "q.csv", META)[1])


def test_parquet_rows_are_capped_from_the_footer(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "MAX_ROWS", 1_000)
    buffer = io.BytesIO()
    pd.DataFrame({"area_code": ["E01000001"] * 1_001, "value": 1.0}).to_parquet(buffer)
    report = read_upload(buffer.getvalue(), "p.parquet", META)[1]
    assert "more than 1,000 rows" in only_error(report, "too_large")


@pytest.mark.parametrize(("header", "named"), [
    ("area_code,value,value", "'value' and 'value'"),
    ("area_code,Value,value ", "'Value' and 'value'"),
    ("Area Code,area_code,value", "'Area Code' and 'area_code'"),
])
def test_duplicate_header_names_are_refused_naming_the_columns(header, named):
    data = f"{header}\nE01000001,1,2\n".encode()
    report = read_upload(data, "dups.csv", META)[1]
    text = only_error(report, "duplicate_columns")
    assert f"names the same column more than once ({named})" in text
    assert text.startswith("ERROR dups.csv, row 1, column")


def test_duplicate_headers_in_a_workbook_and_parquet_are_refused():
    book = openpyxl.Workbook()
    book.active.append(["area_code", "VALUE", "value"])
    book.active.append(["E01000001", 1, 2])
    buffer = io.BytesIO()
    book.save(buffer)
    report = read_upload(buffer.getvalue(), "dups.xlsx", META)[1]
    assert "('VALUE' and 'value')" in only_error(report, "duplicate_columns")
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table([pa.array(["E01000001"]), pa.array([1.0]), pa.array([2.0])],
                     names=["area_code", "value", "Value"])
    sink = io.BytesIO()
    pq.write_table(table, sink)
    report = read_upload(sink.getvalue(), "dups.parquet", META)[1]
    assert "('value' and 'Value')" in only_error(report, "duplicate_columns")


def test_too_many_columns_are_refused(monkeypatch):
    monkeypatch.setattr(readers, "MAX_COLUMNS", 5)
    data = ("area_code,value," + ",".join(f"c{i}" for i in range(4)) + "\n").encode()
    report = read_upload(data + b"E01000001,1,1,1,1,1\n", "wide.csv", META)[1]
    assert "has 6 columns (the cap is 5)" in only_error(report, "too_large")
