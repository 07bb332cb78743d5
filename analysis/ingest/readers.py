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
import math
import re
import warnings
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.ingest.metadata import ROLE_KEYS, _Options
from analysis.ingest.report import EXAMPLES, ValidationReport, _plain, _show

MAX_ROWS = 2_000_000
MAX_XLSX_EXPANDED_BYTES = 1024 * 1024 * 1024

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


def _read_csv(data: bytes, report: ValidationReport) -> _Table | None:
    text = _decode(data, report)
    if text is None:
        return None
    text = text.lstrip("\ufeff")
    lines = text.splitlines()
    header_line = next((ln for ln in lines if ln.strip() and not ln.startswith("#")), "")
    if not header_line:
        report.error("empty", "the file is empty (no header row)")
        return None
    sep = _sniff_delimiter(header_line)
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
    except csv.Error as exc:
        report.error("unreadable", f"not a readable CSV file: {_plain(exc)}")
        return None
    header_index = next(
        (i for i, rec in enumerate(records)
         if any(c.strip() for c in rec) and not rec[0].startswith("#")),
        None,
    )
    if header_index is None:
        report.error("empty", "the file is empty (no header row)")
        return None
    header = [c.strip().lstrip("\ufeff") for c in records[header_index]]
    width = len(header)
    body: list[list[str]] = []
    rows: list[int] = []
    ragged: list[int] = []
    for offset, record in enumerate(records[header_index + 1:]):
        row = header_index + offset + 2
        if not any(cell.strip() for cell in record):
            continue
        if len(record) > width:
            if any(cell.strip() for cell in record[width:]):
                ragged.append(row)
                continue
            record = record[:width]
        elif len(record) < width:
            record = record + [""] * (width - len(record))
        body.append(record)
        rows.append(row)
        if len(body) > MAX_ROWS:
            report.error("too_large", f"more than {MAX_ROWS:,} data rows")
            return None
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


def _read_xlsx(data: bytes, report: ValidationReport) -> _Table | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            expanded = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        report.error("unreadable", f"not a readable XLSX workbook: {_plain(exc)}")
        return None
    if expanded > MAX_XLSX_EXPANDED_BYTES:
        report.error("too_large", "the workbook expands to more than 1 GB")
        return None
    try:
        import openpyxl

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheets = [book.active, *book.worksheets] if book.active else list(book.worksheets)
            errors_before = len(report.errors)
            for sheet in sheets:
                if not hasattr(sheet, "iter_rows"):
                    continue  # a chart sheet
                table = _sheet_table(sheet, report)
                if table is not None or len(report.errors) > errors_before:
                    return table
        finally:
            book.close()
    except Exception as exc:  # noqa: BLE001 - third-party parser on untrusted input
        report.error("unreadable", f"not a readable XLSX workbook: {_plain(exc)}")
        return None
    report.error("empty", "the workbook has no sheet with data")
    return None


def _sheet_table(sheet: Any, report: ValidationReport) -> _Table | None:
    header: list[Any] | None = None
    body: list[list[Any]] = []
    rows: list[int] = []
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        cells = list(values)
        if not any(v is not None and str(v).strip() for v in cells):
            continue
        if header is None:
            header = cells
            continue
        width = len(header)
        if len(cells) > width and any(
            v is not None and str(v).strip() for v in cells[width:]
        ):
            report.error("unreadable", f"row {number} has cells to the right of the last "
                         "header", row=number)
            return None
        body.append((cells + [None] * width)[:width])
        rows.append(number)
        if len(body) > MAX_ROWS:
            report.error("too_large", f"more than {MAX_ROWS:,} data rows")
            return None
    if header is None:
        return None
    frame = pd.DataFrame(body, columns=_unique_headers(header), dtype=object)
    title = _plain(getattr(sheet, "title", ""), 40)
    return _Table(frame, np.asarray(rows, dtype=int), f"XLSX, sheet {title!r}")


def _read_parquet(data: bytes, report: ValidationReport) -> _Table | None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        frame = pq.read_table(io.BytesIO(data)).to_pandas()
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
