"""Reading an analyst's file into a table of cells: CSV (any of ``,`` ``;`` tab ``|``, UTF-8
with or without BOM, UTF-16, UTF-32, Windows-1252), XLSX (first sheet with data) and Parquet, with
encoding and size checks; recognising the columns (``area_code``, ``value`` and optional
``numerator``, ``denominator``, ``lower_ci``, ``upper_ci``, ``period``, ``decile``, ``rank``,
``category``; common spellings such as ``Area Code``, ``code``, ``LSOA21CD``, ``Count`` are
accepted, and metadata keys such as ``value_column`` name others); and turning cells into
area codes and numbers.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import re
import time
import warnings
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.ingest.metadata import ROLE_KEYS, _Options
from analysis.ingest.report import EXAMPLES, ValidationReport, _plain, _show

#: Data rows a file may have (a CSV is refused before any row is built).
MAX_ROWS = 2_000_000
#: Columns a header row may have.
MAX_COLUMNS = 1_000
# Caps on the work of reading a workbook (see "XLSX: bounded work" below).
#: XML all parts of a workbook may expand to, by the zip's own record of sizes.
MAX_XLSX_EXPANDED_BYTES = 256 * 1000 * 1000
#: How many times a part may expand: Apache POI's ZipSecureFile refuses parts that inflate
#: more than 100-fold (its minimum inflate ratio of 0.01); real sheets expand 5 to 20 times.
MAX_XLSX_INFLATE_RATIO = 100
#: Parts this small are never refused for their ratio (a tiny repetitive part is harmless).
MAX_XLSX_RATIO_FREE_BYTES = 4 * 1000 * 1000
#: Shared strings, styles and other parts that are not sheets are read whole by openpyxl.
MAX_XLSX_PART_BYTES = 64 * 1000 * 1000
MAX_XLSX_PARTS = 10_000
#: Rows scanned across the workbook, empty rows included (Excel's own sheet limit).
MAX_XLSX_ROWS_SCANNED = 1_048_576
#: Cells scanned across the workbook, empty ones included (an empty row counts as one).
MAX_XLSX_CELLS_SCANNED = 5_000_000
#: Wall-clock seconds a workbook may take to read, whatever else it does.
MAX_XLSX_SECONDS = 15.0

THOUSANDS = re.compile(r"^[-+]?[1-9]\d{0,2}(?:[,\u00a0\u202f ]\d{3})+(?:\.\d+)?$")

ROLES = ("area_code", "value", "numerator", "denominator", "lower_ci", "upper_ci", "period",
         "decile", "rank", "category")
NUMERIC_ROLES = ("value", "numerator", "denominator", "lower_ci", "upper_ci", "decile", "rank")
ALIASES: dict[str, tuple[str, ...]] = {
    "area_code": (
        "area_code", "areacode", "code", "area", "geography_code", "geo_code", "gss_code",
        "gss", "ons_code", "lsoa_code", "lsoa21_code", "lsoa11_code", "lsoa_2021_code",
        "lsoa_2011_code", "lsoa_code_2021", "lsoa_code_2011", "lsoa", "datazone",
        "data_zone", "datazone2011", "data_zone_code", "datazone_code", "dz_code",
        "dz11_code", "ward_code", "ltla_code", "la_code", "lad_code",
        "local_authority_code", "sicbl_code", "sub_icb_code", "sub_icb_location_code",
        "icb_code", "practice_code", "practice", "gp_practice_code", "gp_code", "org_code",
        "organisation_code", "ods_code",
    ),
    "value": ("value", "values", "indicator_value", "val"),
    "numerator": ("numerator", "num", "count", "counts", "events", "cases"),
    "denominator": ("denominator", "denom", "den", "population", "pop"),
    "lower_ci": (
        "lower_ci", "lower_ci_95", "lower_ci_95_0_limit", "lower_95_ci", "lower_95_ci_limit",
        "lower_ci_limit", "lci", "lcl", "ci_lower", "lower_cl", "lower_limit", "lower",
        "lower_confidence_limit", "lower_95",
    ),
    "upper_ci": (
        "upper_ci", "upper_ci_95", "upper_ci_95_0_limit", "upper_95_ci", "upper_95_ci_limit",
        "upper_ci_limit", "uci", "ucl", "ci_upper", "upper_cl", "upper_limit", "upper",
        "upper_confidence_limit", "upper_95",
    ),
    "period": ("period", "time_period", "year"),
    "decile": ("decile",),
    "rank": ("rank",),
    "category": ("category",),
}
ONS_CODE_HEADER = re.compile(r"^(lsoa|dz|datazone|wd|ward|lad|ltla|la|sicbl|icb|ccg)\d{2,4}cd$")
MISSING_MARKERS = frozenset({
    "", "na", "n/a", "nan", "null", "none", "-", "--", "..", ".", ":", "*", "x", "c", "z",
    "[c]", "[x]", "[z]", "[low]", "[u]", "#n/a", "suppressed",
})


# --------------------------------------------------------------------------------------
# Reading bytes into a table of text cells


@dataclass
class _Table:
    """The cells of a file (text or spreadsheet values) and their spreadsheet row numbers."""

    frame: pd.DataFrame
    rows: np.ndarray
    format: str
    decimal_comma: bool = False


def _utf32(data: bytes) -> str | None:
    """The UTF-32 codec of ``data`` if it looks like UTF-32 text (a byte-order mark, or a
    text whose every character is four bytes with three of them zero), else ``None``."""
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "utf-32"
    head = data[: 4 * 64]
    if len(data) % 4 or len(head) < 8:
        return None
    if all(head[i + 1:i + 4] == b"\x00\x00\x00" and head[i] for i in range(0, len(head), 4)):
        return "utf-32-le"
    if all(head[i:i + 3] == b"\x00\x00\x00" and head[i + 3] for i in range(0, len(head), 4)):
        return "utf-32-be"
    return None


def _decode(data: bytes, report: ValidationReport) -> str | None:
    codec = _utf32(data)
    if codec is not None:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            report.error("unreadable", "the file starts like UTF-32 text but is not valid "
                         "UTF-32; save it as CSV UTF-8")
            return None
        report.notes.append("The file is UTF-32 text; it was read as such (CSV UTF-8 is "
                            "smaller and more widely read)")
        return text.lstrip("\ufeff")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            report.error("unreadable", "the file starts like UTF-16 text but is not valid "
                         "UTF-16; save it as CSV UTF-8")
            return None
    if b"\x00" in data:
        report.error("unreadable", "the file is binary, not CSV text (save it as CSV UTF-8 "
                     "or XLSX)")
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
        encoding = "Windows-1252"
    except UnicodeDecodeError:
        text = data.decode("latin-1")
        encoding = "Latin-1"
    report.warning("encoding", f"the file is not UTF-8; read it as {encoding}. Check names "
                   "with accents; saving as CSV UTF-8 avoids the guess")
    return text


def _sniff_delimiter(line: str) -> str:
    counts = {sep: line.count(sep) for sep in (",", ";", "\t", "|")}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] else ","


def _header_line(text: str) -> str:
    """The first line that is neither blank nor a ``#`` comment, found without splitting the
    whole text into lines (a copy of every line of a large file)."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        line = text[start:end].rstrip("\r")
        if line.strip() and not line.startswith("#"):
            return line
        start = end + 1
    return ""


def _too_many_rows() -> str:
    return (f"the file has more than {MAX_ROWS:,} rows (the cap is {MAX_ROWS:,} data rows); "
            "split it, or keep only the period and areas you need")


def _read_csv(data: bytes, report: ValidationReport) -> _Table | None:
    text = _decode(data, report)
    if text is None:
        return None
    text = text.lstrip("\ufeff")
    header_line = _header_line(text)
    if not header_line:
        report.error("empty", "the file is empty (no header row)")
        return None
    sep = _sniff_delimiter(header_line)
    # Refuse an over-long file before building any row: counting line ends is one C pass,
    # and only when there are more of them than the cap allows are the records counted (a
    # quoted cell may hold a line break, so lines can outnumber records).
    if text.count("\n") > MAX_ROWS + 1:
        try:
            records = sum(1 for _ in itertools.islice(
                csv.reader(io.StringIO(text, newline=""), delimiter=sep), MAX_ROWS + 2))
        except csv.Error as exc:
            report.error("unreadable", f"not a readable CSV file: {_plain(exc)}")
            return None
        if records > MAX_ROWS + 1:
            report.error("too_large", _too_many_rows())
            return None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    header: list[str] | None = None
    header_row = 0
    body: list[list[str]] = []
    rows: list[int] = []
    ragged: list[int] = []
    try:
        for row, record in enumerate(reader, start=1):
            if header is None:
                if any(c.strip() for c in record) and not record[0].startswith("#"):
                    header, header_row = [c.strip().lstrip("\ufeff") for c in record], row
                continue
            if not any(cell.strip() for cell in record):
                continue
            width = len(header)
            if len(record) > width:
                if any(cell.strip() for cell in record[width:]):
                    ragged.append(row)
                    continue
                record = record[:width]
            elif len(record) < width:
                record = record + [""] * (width - len(record))
            if len(body) >= MAX_ROWS:
                report.error("too_large", _too_many_rows())
                return None
            body.append(record)
            rows.append(row)
    except csv.Error as exc:
        report.error("unreadable", f"not a readable CSV file: {_plain(exc)}")
        return None
    if header is None:
        report.error("empty", "the file is empty (no header row)")
        return None
    if not _headers_ok(header, report, header_row):
        return None
    width = len(header)
    if ragged:
        report.error("unreadable", f"{len(ragged):,} row(s) have more cells than the header "
                     f"row ({width}); first: {', '.join(map(str, ragged[:EXAMPLES]))}. "
                     "A comma inside a value needs quotes", row=ragged[0])
        return None
    columns = _unique_headers(header)
    frame = pd.DataFrame(body, columns=columns, dtype=str) if body else pd.DataFrame(
        columns=columns, dtype=str)
    separators = {",": "", ";": " (semicolon-separated)", "\t": " (tab-separated)",
                  "|": " (pipe-separated)"}
    fmt = "CSV" + separators[sep]
    return _Table(frame, np.asarray(rows, dtype=int), fmt, decimal_comma=sep == ";")


def _headers_ok(header: Sequence[Any], report: ValidationReport, row: int = 1) -> bool:
    """Refuse a header row that names a column twice, the same name differing only in case,
    spacing or punctuation included (``value,Value``, ``Area Code,area_code``): which one
    holds the values would be a guess. Also refuses more than :data:`MAX_COLUMNS` columns."""
    if len(header) > MAX_COLUMNS:
        report.error("too_large", f"the header row has {len(header):,} columns (the cap is "
                     f"{MAX_COLUMNS:,})", row=row)
        return False
    groups: dict[str, list[str]] = {}
    for name in header:
        text = "" if name is None else _plain(str(name), 200)
        key = _norm(text)
        if key:
            groups.setdefault(key, []).append(text)
    repeated = [names for names in groups.values() if len(names) > 1]
    if not repeated:
        return True
    listed = "; ".join(" and ".join(map(_show, names)) for names in repeated[:EXAMPLES])
    report.error("duplicate_columns", f"the header row names the same column more than once "
                 f"({listed}); give each column its own name, or delete the copy",
                 row=row, column=repeated[0][0])
    return False


def _unique_headers(header: Sequence[Any]) -> list[str]:
    out: list[str] = []
    seen: dict[str, int] = {}
    for i, name in enumerate(header):
        text = "" if name is None else _plain(str(name), 200)
        text = text or f"column {i + 1}"
        if text in seen:
            seen[text] += 1
            text = f"{text} ({seen[text]})"
        else:
            seen[text] = 1
        out.append(text)
    return out


# --------------------------------------------------------------------------------------
# XLSX: bounded work. A workbook is a zip of XML parts; a few kilobytes of zip can expand to
# gigabytes of XML (a "zip bomb"), and a sheet of empty <row/> elements costs time to scan
# while holding no data. So the parts' declared sizes are checked before anything is
# parsed (zipfile never inflates an entry beyond its declared size), the sheet is streamed
# once, and the rows (empty ones too) and cells scanned are counted against caps.


@dataclass
class _Budget:
    """The work a workbook may cost; every sheet scanned draws on the same budget."""

    deadline: float
    rows: int = 0
    cells: int = 0

    def spend(self, cells: int, report: ValidationReport, sheet: str) -> bool:
        self.rows += 1
        self.cells += max(cells, 1)
        if self.rows > MAX_XLSX_ROWS_SCANNED:
            report.error("too_large", f"sheet {sheet} has more than {MAX_XLSX_ROWS_SCANNED:,} "
                         "rows, empty rows included (the cap; Excel's own limit); delete "
                         "the empty rows or save it as CSV UTF-8")
            return False
        if self.cells > MAX_XLSX_CELLS_SCANNED:
            report.error("too_large", f"the workbook has more than "
                         f"{MAX_XLSX_CELLS_SCANNED:,} cells to scan, empty ones included "
                         f"(the cap), by row {self.rows:,} of sheet {sheet}; keep only the "
                         "columns and rows you need, or save it as CSV UTF-8")
            return False
        if self.rows % 4096 == 0 and time.monotonic() > self.deadline:
            report.error("too_large", f"reading the workbook took more than "
                         f"{MAX_XLSX_SECONDS:g} seconds (the cap), by row {self.rows:,} of "
                         f"sheet {sheet}; save it as CSV UTF-8, which reads much faster")
            return False
        return True


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB" if n >= 1e6 else f"{n / 1e3:,.1f} kB"


def _zip_problem(archive: zipfile.ZipFile) -> str | None:
    """Why a workbook's zip would cost too much to read, from its directory alone."""
    entries = archive.infolist()
    if len(entries) > MAX_XLSX_PARTS:
        return f"the workbook has {len(entries):,} parts (the cap is {MAX_XLSX_PARTS:,})"
    expanded = sum(info.file_size for info in entries)
    if expanded > MAX_XLSX_EXPANDED_BYTES:
        return (f"the workbook expands to {_mb(expanded)} of XML (the cap is "
                f"{_mb(MAX_XLSX_EXPANDED_BYTES)})")
    for info in entries:
        if info.file_size > MAX_XLSX_RATIO_FREE_BYTES and (
                info.file_size > MAX_XLSX_INFLATE_RATIO * max(info.compress_size, 1)):
            ratio = info.file_size / max(info.compress_size, 1)
            return (f"part {_show(info.filename, 60)} expands {ratio:,.0f} times, from "
                    f"{_mb(info.compress_size)} to {_mb(info.file_size)} (the cap is "
                    f"{MAX_XLSX_INFLATE_RATIO} times): a sheet of empty rows or a zip bomb, "
                    "not a table of data")
        is_sheet = info.filename.startswith("xl/worksheets/")
        if not is_sheet and info.file_size > MAX_XLSX_PART_BYTES:
            return (f"part {_show(info.filename, 60)} expands to {_mb(info.file_size)} (the "
                    f"cap for a part other than a sheet is {_mb(MAX_XLSX_PART_BYTES)})")
        if is_sheet and info.file_size > MAX_XLSX_RATIO_FREE_BYTES:
            # openpyxl sizes a sheet from its <dimension> record and, without one, scans the
            # whole sheet for it before the rows are read: a second full pass
            with archive.open(info) as part:
                head = part.read(65536)
            at_data = head.find(b"sheetData")
            at_size = head.find(b"dimension")
            if at_size < 0 or 0 <= at_data < at_size:
                return (f"sheet part {_show(info.filename, 60)} expands to "
                        f"{_mb(info.file_size)} and does not record its size (no "
                        "<dimension>); save the workbook again from Excel or LibreOffice, "
                        "or as CSV UTF-8")
    return None


XLSX_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, OSError, EOFError, ValueError,
    TypeError, IndexError, AttributeError, SyntaxError, zlib.error,
)


def _read_xlsx(data: bytes, report: ValidationReport) -> _Table | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            problem = _zip_problem(archive)
    except XLSX_ERRORS as exc:
        report.error("unreadable", f"not a readable XLSX workbook: {_plain(exc)}")
        return None
    if problem is not None:
        report.error("too_large", problem)
        return None
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    budget = _Budget(deadline=time.monotonic() + MAX_XLSX_SECONDS)
    errors_before = len(report.errors)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            active = book.active
            # the active sheet first, then the others, each scanned once
            sheets = [active] if active is not None else []
            sheets += [s for s in book.worksheets if s is not active]
            for sheet in sheets:
                if not hasattr(sheet, "iter_rows"):
                    continue  # a chart sheet
                table = _sheet_table(sheet, report, budget)
                if table is not None or len(report.errors) > errors_before:
                    return table
        finally:
            book.close()
    except (*XLSX_ERRORS, InvalidFileException) as exc:
        # openpyxl's and the XML parser's errors on a malformed workbook; anything else is
        # a bug and is reported as one by the caller
        report.error("unreadable", f"not a readable XLSX workbook ({type(exc).__name__}: "
                     f"{_plain(exc)})")
        return None
    report.error("empty", "the workbook has no sheet with data")
    return None


def _sheet_table(sheet: Any, report: ValidationReport, budget: _Budget) -> _Table | None:
    title = _plain(getattr(sheet, "title", ""), 40)
    shown = repr(title)
    # the recorded size is not trusted: "A1:XFD1048576" would pad every row to 16,384 cells
    # and add a million empty rows; without it each row is as wide as its last cell
    sheet.reset_dimensions()
    header: list[Any] | None = None
    width = 0
    body: list[list[Any]] = []
    rows: list[int] = []
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        if not budget.spend(len(values), report, shown):
            return None
        if not any(v is not None and str(v).strip() for v in values):
            continue
        cells = list(values)
        if header is None:
            header = cells
            if not _headers_ok(header, report, number):
                return None
            width = len(header)
            continue
        if len(cells) > width and any(
            v is not None and str(v).strip() for v in cells[width:]
        ):
            report.error("unreadable", f"row {number} has cells to the right of the last "
                         "header", row=number)
            return None
        if len(body) >= MAX_ROWS:
            report.error("too_large", _too_many_rows())
            return None
        body.append((cells + [None] * width)[:width])
        rows.append(number)
    if header is None:
        return None
    frame = pd.DataFrame(body, columns=_unique_headers(header), dtype=object)
    return _Table(frame, np.asarray(rows, dtype=int), f"XLSX, sheet {shown}")


def _read_parquet(data: bytes, report: ValidationReport) -> _Table | None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(io.BytesIO(data))
        meta = parquet.metadata
        # refuse from the footer: a few kilobytes of run-length-encoded Parquet can hold
        # billions of rows
        if meta.num_rows > MAX_ROWS:
            report.error("too_large", _too_many_rows())
            return None
        names = parquet.schema_arrow.names
        if not _headers_ok(names, report):
            return None
        frame = parquet.read().to_pandas()
    except (pa.ArrowException, OSError, ValueError, TypeError) as exc:
        report.error("unreadable", f"not a readable Parquet file: {_plain(exc)}")
        return None
    frame.columns = _unique_headers(list(frame.columns))
    frame = frame.reset_index(drop=True)
    return _Table(frame, np.arange(len(frame), dtype=int) + 2, "Parquet")


def _read_bytes(data: bytes, name: str, report: ValidationReport) -> _Table | None:
    if not data:
        report.error("empty", "the file is empty")
        return None
    suffix = Path(name).suffix.lower()
    if data.startswith(b"PK\x03\x04") or suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(data, report)
    if data.startswith(b"PAR1") or suffix == ".parquet":
        return _read_parquet(data, report)
    if data.startswith(b"\xd0\xcf\x11\xe0") or suffix == ".xls":
        report.error("unreadable", "old Excel .xls workbooks are not read; save it as .xlsx "
                     "or CSV UTF-8")
        return None
    return _read_csv(data, report)


# --------------------------------------------------------------------------------------
# Columns


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(name).strip().lower()).strip("_")


def _find_column(columns: Sequence[str], wanted: str) -> str | None:
    for column in columns:
        if column == wanted:
            return column
    key = _norm(wanted)
    return next((c for c in columns if _norm(c) == key), None)


def _resolve_columns(columns: Sequence[str], options: _Options, report: ValidationReport,
                     preset: Mapping[str, str] | None = None) -> dict[str, str] | None:
    """Map roles (``area_code``, ``value`` …) to the file's column names."""
    errors_before = len(report.errors)
    chosen: dict[str, str] = dict(preset or {})
    for role, wanted in options.columns.items():
        found = _find_column(columns, wanted)
        if found is None:
            report.error("missing_columns",
                         f"the metadata names column {_show(wanted)} for {role} "
                         f"({ROLE_KEYS[role]}), but the file has no such column; its columns "
                         f"are: {', '.join(map(_show, columns[:30]))}", column=wanted)
        else:
            chosen[role] = found
    taken = set(chosen.values())
    normalised = {c: _norm(c) for c in columns}
    for role in ROLES:
        if role in chosen or preset is not None:
            continue
        for alias in ALIASES[role]:
            hits = [c for c in columns if normalised[c] == alias and c not in taken]
            if hits:
                chosen[role] = hits[0]
                taken.add(hits[0])
                break
        if role == "area_code" and role not in chosen:
            hits = [c for c in columns if ONS_CODE_HEADER.match(normalised[c]) and c not in taken]
            if hits:
                chosen[role] = hits[0]
                taken.add(hits[0])
    needed = {"area_code": "area code", "value": "value"}
    missing = [role for role in needed if role not in chosen]
    for role in missing:
        if role in options.columns:
            continue  # already reported above
        spellings = ", ".join(ALIASES[role][:8])
        report.error("missing_columns",
                     f"no {needed[role]} column: name it {role!r} (or one of {spellings} …) "
                     f"or set {ROLE_KEYS[role]} in the metadata; the file's columns are: "
                     f"{', '.join(map(_show, columns[:30]))}", row=1)
    if missing or len(report.errors) > errors_before:
        return None
    return chosen


# --------------------------------------------------------------------------------------
# Cells to codes and numbers


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return repr(value)
    return str(value)


def _as_text(series: pd.Series) -> pd.Series:
    """Every cell as stripped text ('' for empty)."""
    if pd.api.types.is_string_dtype(series) and not pd.api.types.is_object_dtype(series):
        return series.fillna("").astype(str).str.strip()
    return series.map(_cell_text).astype(str).str.strip()


def _normalise_codes(series: pd.Series, *, fingertips: bool) -> pd.Series:
    codes = _as_text(series).str.replace(r"[\s\u00a0\u200b]+", "", regex=True)
    if fingertips:
        # Fingertips marks codes re-used by the 2022 ICBs and sub-ICB locations with an "n"
        codes = codes.str.replace(r"^n(?=[EWS]\d{8}$)", "", regex=True)
    return codes.str.upper()


def _parse_numbers(series: pd.Series, *, decimal_comma: bool = False
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values, missing, bad): floats, empty/suppressed cells, cells that are not numbers."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        values = series.to_numpy(dtype=float, na_value=np.nan)
        missing = np.isnan(values)
        bad = ~missing & ~np.isfinite(values)
        return np.where(bad, np.nan, values), missing, bad
    text = _as_text(series)
    missing = text.str.lower().isin(list(MISSING_MARKERS)).to_numpy()
    clean = text.str.replace("\u2212", "-", regex=False).str.replace(r"^[£$€]", "", regex=True)
    clean = clean.str.replace(r"(?<=\d)\s*%$", "", regex=True)
    if decimal_comma:
        clean = clean.str.replace(r"^(-?\d+),(\d+)$", r"\1.\2", regex=True)
    grouped = clean.str.match(THOUSANDS.pattern).to_numpy(dtype=bool, na_value=False)
    if grouped.any():
        clean = clean.where(~grouped, clean.str.replace(r"[,\u00a0\u202f ]", "", regex=True))
    numbers = pd.to_numeric(clean.where(~missing, None), errors="coerce")
    values = numbers.to_numpy(dtype=float, na_value=np.nan)
    bad = ~missing & ~np.isfinite(values)
    return np.where(bad, np.nan, values), missing, bad


def _distinct(values: pd.Series) -> list[str]:
    return sorted({v for v in values if v})
