"""Adding indicator datasets: readers, validation and atomic registry operations.

An analyst brings a table of values per area (a CSV or XLSX of their own, a Fingertips export
as downloaded, practice-level data, data on 2011 LSOAs …) plus metadata (the keys of
``indicator.yaml``, :class:`analysis.data.indicators.IndicatorMeta`). This module

1. **reads** it (:func:`load_indicator_file`, :func:`read_upload`): CSV (any of ``,`` ``;``
   tab ``|``, UTF-8 with or without BOM, UTF-16, Windows-1252), XLSX (first sheet with data),
   Parquet, and Fingertips exports (filtered to one indicator, area type, period, sex and age;
   95% confidence limits kept);
2. **recognises** the columns (``area_code``, ``value`` and optional ``numerator``,
   ``denominator``, ``lower_ci``, ``upper_ci``, ``period``, ``decile``, ``rank``,
   ``category``; common spellings such as ``Area Code``, ``code``, ``LSOA21CD``, ``Count``
   are accepted, and metadata keys such as ``value_column`` name others);
3. **detects the geography** from the codes (GSS prefixes; membership of the packs; LSOA 2011
   vs 2021, which share the prefix ``E01``, by membership of the 2021 pack and the 2011
   lookup; GP practice codes by membership of the practice list) and converts LSOA 2011 data
   to LSOA 2021 (:mod:`analysis.data.lsoa_conversion`: counts apportioned, rates
   population-weighted);
4. **validates** it (:func:`validate_file`), reporting every problem at once with the file, the
   row (1-based as in a spreadsheet: the header is row 1) and the column. *Errors* block an
   add; *warnings* do not;
5. **adds** it to the registry atomically (:func:`add_indicator`, :func:`remove_indicator`):
   the package is written into a hidden staging folder, flushed to disk, checked by reading it
   back and renamed into place, so a crash or kill never leaves a half-written package.

Every message is plain text (no markup); a web page showing one must still escape it.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import re
import secrets
import shutil
import warnings
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from dataclasses import replace as dc_replace
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from analysis.data import DataFileError, data_dir
from analysis.data.indicators import (
    AGGREGATIONS,
    COLUMN_KEYS,
    GEOGRAPHIES,
    INDICATOR_ID,
    INDICATORS_DIR,
    KINDS,
    POLARITIES,
    REPLACED_PREFIX,
    Indicator,
    IndicatorError,
    IndicatorMeta,
    _read_package,
    read_indicator_data,
    validate_values,
)
from analysis.util import members

Severity = Literal["error", "warning"]

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_FILE_BYTES = 1024 * 1024 * 1024
MAX_ROWS = 2_000_000
MAX_XLSX_EXPANDED_BYTES = 1024 * 1024 * 1024
MAX_META_BYTES = 1024 * 1024
COVERAGE_WARNING = 0.95
OUTLIER_ROBUST_SDS = 5.0
EXAMPLES = 10

STAGING_PREFIX = ".staging-"
REMOVED_PREFIX = ".removed-"

GEOGRAPHY_LABELS: dict[str, tuple[str, str]] = {
    "lsoa11": ("LSOA 2011", "LSOAs (2011)"),
    "lsoa21": ("LSOA 2021", "LSOAs (2021)"),
    "dz11": ("data zone 2011", "data zones (2011)"),
    "ward": ("ward", "wards"),
    "ltla": ("local authority", "local authorities"),
    "sicbl": ("sub-ICB location", "sub-ICB locations"),
    "icb": ("integrated care board", "ICBs"),
    "practice": ("GP practice", "GP practices"),
}

# Code families recognised from the code alone (GSS prefix or practice-code pattern)
SUPPORTED_FAMILIES = ("lsoa", "dz11", "practice", "ward", "ltla", "sicbl", "icb")
FAMILY_LABELS = {
    "lsoa": "LSOA", "dz11": "data zone", "practice": "GP practice", "ward": "ward",
    "ltla": "local authority", "sicbl": "sub-ICB location", "icb": "ICB",
}
PREFIX_FAMILY = {
    "E01": "lsoa", "E05": "ward", "E06": "ltla", "E07": "ltla", "E08": "ltla", "E09": "ltla",
    "E38": "sicbl", "E54": "icb", "S01": "dz11",
}
UNSUPPORTED_PREFIXES = {
    "E02": "MSOA", "E04": "parish", "E10": "county", "E11": "metropolitan county",
    "E12": "region", "E13": "inner/outer London", "E39": "NHS region (2019)",
    "E40": "NHS England region", "E45": "PHE centre", "E47": "combined authority",
    "E92": "country", "K02": "United Kingdom", "K03": "Great Britain",
    "K04": "England and Wales", "N92": "country", "S02": "intermediate zone",
    "S12": "council area", "S92": "country", "W01": "Welsh LSOA", "W02": "Welsh MSOA",
    "W05": "Welsh ward", "W06": "Welsh local authority", "W92": "country",
}
GEOGRAPHY_FAMILY = {
    "lsoa11": "lsoa", "lsoa21": "lsoa", "dz11": "dz11", "ward": "ward", "ltla": "ltla",
    "sicbl": "sicbl", "icb": "icb", "practice": "practice",
}
THOUSANDS = re.compile(r"^[-+]?[1-9]\d{0,2}(?:[,\u00a0\u202f ]\d{3})+(?:\.\d+)?$")
GSS_CODE = re.compile(r"^[EKLMNSW]\d{8}$")
PRACTICE_CODE = re.compile(r"^[A-Z]\d{5}$")
PRACTICE_TARGETS = {"lsoa21": "lsoa21_code", "ltla": "ltla_code", "sicbl": "sicbl_code",
                    "icb": "icb_code"}

ROLES = ("area_code", "value", "numerator", "denominator", "lower_ci", "upper_ci", "period",
         "decile", "rank", "category")
NUMERIC_ROLES = ("value", "numerator", "denominator", "lower_ci", "upper_ci", "decile", "rank")
ROLE_KEYS = {"area_code": "area_code_column", "value": "value_column",
             "numerator": "numerator_column", "denominator": "denominator_column",
             "lower_ci": "lower_ci_column", "upper_ci": "upper_ci_column"}
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
FINGERTIPS_REQUIRED = ("area_code", "area_type", "time_period", "value")
MISSING_MARKERS = frozenset({
    "", "na", "n/a", "nan", "null", "none", "-", "--", "..", ".", ":", "*", "x", "c", "z",
    "[c]", "[x]", "[z]", "[low]", "[u]", "#n/a", "suppressed",
})
# Keys of a metadata mapping that steer the import and are not kept in the stored package
IMPORT_KEYS = ("area_type", "sex", "age", "fingertips_indicator", "map_practices_to",
               "drop_unknown_codes")


# --------------------------------------------------------------------------------------
# Reports


@dataclass(frozen=True)
class Issue:
    """One problem found in a file: an error (blocks) or a warning (does not)."""

    severity: Severity
    rule: str
    message: str
    file: str
    row: int | None = None
    column: str | None = None

    def location(self) -> str:
        """``file, row 12, column "Value"`` (the parts that are known)."""
        parts = [self.file]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            what = "key" if self.rule == "metadata" else "column"
            parts.append(f'{what} "{self.column}"')
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return {"severity": self.severity, "rule": self.rule, "file": self.file,
                "row": self.row, "column": self.column, "message": self.message}

    def to_text(self) -> str:
        """One line: ``ERROR file, row 3, column "value": message``."""
        return f"{self.severity.upper()} {self.location()}: {self.message}"


@dataclass
class ValidationReport:
    """Everything a check of one file found, plus what was detected about it."""

    file: str
    issues: list[Issue] = field(default_factory=list)
    format: str = ""
    geography: str | None = None
    stored_geography: str | None = None
    rows: int = 0
    areas: int = 0
    coverage: float | None = None
    universe: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Issue]:
        """Issues that block adding the indicator."""
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        """Issues worth reading that do not block."""
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when there are no errors (warnings allowed)."""
        return not self.errors

    def error(self, rule: str, message: str, *, row: int | None = None,
              column: str | None = None, file: str | None = None) -> None:
        """Record an error."""
        self.issues.append(Issue("error", rule, message, file or self.file, row, column))

    def warning(self, rule: str, message: str, *, row: int | None = None,
                column: str | None = None, file: str | None = None) -> None:
        """Record a warning."""
        self.issues.append(Issue("warning", rule, message, file or self.file, row, column))

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (what ``fairshare indicators validate --json`` prints)."""
        return {
            "file": self.file,
            "ok": self.ok,
            "format": self.format,
            "geography": self.geography,
            "stored_geography": self.stored_geography,
            "rows": self.rows,
            "areas": self.areas,
            "coverage": None if self.coverage is None else round(self.coverage, 6),
            "universe": self.universe,
            "notes": list(self.notes),
            "errors": [i.to_dict() for i in self.errors],
            "warnings": [i.to_dict() for i in self.warnings],
        }

    def to_text(self) -> str:
        """Plain-text report: what was read, then errors, warnings and the verdict."""
        lines = [f"Checked {self.file}" + (f" ({self.format})" if self.format else "")]
        lines += [f"  {note}" for note in self.notes]
        if self.geography:
            label = GEOGRAPHY_LABELS.get(self.geography, (self.geography,))[0]
            text = f"  Geography: {label}"
            if self.stored_geography and self.stored_geography != self.geography:
                text += f", stored as {GEOGRAPHY_LABELS[self.stored_geography][0]}"
            lines.append(text)
        if self.rows:
            lines.append(f"  Rows read: {self.rows:,}")
        if self.areas and self.coverage is not None and self.universe:
            plural = GEOGRAPHY_LABELS.get(self.stored_geography or "", ("", "areas"))[1]
            lines.append(f"  Areas with a value: {self.areas:,} of {self.universe:,} {plural} "
                         f"({_pct(self.coverage)})")
        for title, items in (("Errors", self.errors), ("Warnings", self.warnings)):
            if items:
                lines.append(f"{title} ({len(items)}):")
                lines += [f"  - {i.to_text()}" for i in items]
        if self.ok:
            extra = f" ({len(self.warnings)} warning(s) to read)" if self.warnings else ""
            lines.append(f"Result: OK, no errors{extra}.")
        else:
            lines.append(f"Result: NOT VALID, {len(self.errors)} error(s) to fix.")
        return "\n".join(lines)


class IndicatorValidationError(IndicatorError):
    """The file did not pass validation; ``report`` says why."""

    def __init__(self, report: ValidationReport) -> None:
        first = report.errors[0].to_text() if report.errors else "invalid"
        super().__init__(f"{report.file}: {len(report.errors)} error(s); first: {first}")
        self.report = report


class IndicatorExistsError(IndicatorError):
    """An indicator with this id is already in the registry."""


def _show(value: Any, limit: int = 40) -> str:
    """A cell value quoted for a message: control characters escaped, long text cut."""
    text = str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return repr(text)


def _plain(text: str, limit: int = 200) -> str:
    """Text from the file made safe for a one-line message."""
    clean = "".join(ch if ch.isprintable() else " " for ch in str(text)).strip()
    return clean[:limit]


def _examples(rows: Sequence[int], labels: Sequence[str]) -> str:
    shown = [f"row {r}: {lab}" for r, lab in zip(rows[:EXAMPLES], labels[:EXAMPLES],
                                                 strict=False)]
    more = f" and {len(rows) - EXAMPLES:,} more" if len(rows) > EXAMPLES else ""
    return "; ".join(shown) + more


# --------------------------------------------------------------------------------------
# Metadata and import options


@dataclass
class _Options:
    """What the import needs from the metadata, read leniently (so data checks still run)."""

    geography: str = "auto"
    aggregation: str = "population_weighted_mean"
    unit: str = ""
    period: str = ""
    columns: dict[str, str] = field(default_factory=dict)
    area_type: tuple[str, ...] = ()
    sex: str = ""
    age: str = ""
    fingertips_indicator: str = ""
    map_practices_to: str = ""
    drop_unknown_codes: bool = False


def _text_key(raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key)
    return "" if value is None else str(value).strip()


def _options_from(raw: Mapping[str, Any], report: ValidationReport, origin: str) -> _Options:
    opts = _Options()
    geography = _text_key(raw, "geography") or "auto"
    opts.geography = geography if geography in GEOGRAPHIES else "auto"
    aggregation = _text_key(raw, "aggregation")
    if aggregation:
        opts.aggregation = aggregation
    opts.unit = _text_key(raw, "unit")
    opts.period = _text_key(raw, "period")
    for role, key in ROLE_KEYS.items():
        if _text_key(raw, key):
            opts.columns[role] = _text_key(raw, key)
    area_type = raw.get("area_type")
    if isinstance(area_type, list | tuple):
        opts.area_type = tuple(str(a).strip() for a in area_type if str(a).strip())
    elif area_type is not None and str(area_type).strip():
        opts.area_type = (str(area_type).strip(),)
    opts.sex = _text_key(raw, "sex")
    opts.age = _text_key(raw, "age")
    opts.fingertips_indicator = _text_key(raw, "fingertips_indicator")
    target = _text_key(raw, "map_practices_to")
    if target and target not in ("practice", "keep"):
        if target in PRACTICE_TARGETS:
            opts.map_practices_to = target
        else:
            report.error("metadata", f"map_practices_to is {_show(target)}; allowed: keep, "
                         f"{', '.join(PRACTICE_TARGETS)}", file=origin, column="map_practices_to")
    drop = raw.get("drop_unknown_codes", False)
    if isinstance(drop, bool):
        opts.drop_unknown_codes = drop
    else:
        report.error("metadata", "drop_unknown_codes must be true or false", file=origin,
                     column="drop_unknown_codes")
    return opts


REQUIRED_META = ("id", "title", "description", "unit", "polarity", "kind", "geography",
                 "period", "source", "licence")


def _metadata_problems(raw: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every (key, problem) of a metadata mapping, not just the first."""
    problems = [(k, f"{k} is missing or empty") for k in REQUIRED_META
                if not str(raw.get(k, "") or "").strip()]
    for key, allowed in (("polarity", POLARITIES), ("kind", KINDS),
                         ("geography", GEOGRAPHIES), ("aggregation", AGGREGATIONS)):
        value = raw.get(key)
        if value is not None and str(value).strip() and str(value) not in allowed:
            problems.append((key, f"{key} is {_show(value)}; allowed: {', '.join(allowed)}"))
    ident = raw.get("id")
    if ident is not None and str(ident).strip() and not INDICATOR_ID.match(str(ident)):
        problems.append(("id", f"id {_show(ident)} must be 1–64 characters of a-z, 0-9, _ or -, "
                               "starting with a letter or digit"))
    if "decimals" in raw:
        try:
            int(raw["decimals"])
        except (TypeError, ValueError):
            problems.append(("decimals", "decimals must be a whole number"))
    return problems


def _resolve_meta(meta: Any, report: ValidationReport
                  ) -> tuple[IndicatorMeta | None, _Options]:
    """Metadata from a mapping, an :class:`IndicatorMeta` or a YAML file path."""
    if meta is None:
        return None, _Options()
    origin = "metadata"
    raw: Any = meta
    if isinstance(meta, IndicatorMeta):
        raw = meta.to_mapping()
    elif isinstance(meta, str | os.PathLike):
        import yaml

        path = Path(meta)
        origin = str(path)
        try:
            if path.stat().st_size > MAX_META_BYTES:
                report.error("metadata", "metadata file is larger than 1 MB", file=origin)
                return None, _Options()
            raw = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            report.error("metadata", f"metadata file unreadable: {_plain(exc)}", file=origin)
            return None, _Options()
    if not isinstance(raw, Mapping):
        report.error("metadata", "metadata must be a mapping of keys to values (YAML "
                     "key: value lines)", file=origin)
        return None, _Options()
    options = _options_from(raw, report, origin)
    problems = _metadata_problems(raw)
    for key, problem in problems:
        report.error("metadata", problem, file=origin, column=key)
    try:
        parsed = IndicatorMeta.from_mapping(raw, origin=origin)
    except IndicatorError as exc:
        if not problems:
            message = str(exc)
            if message.startswith(f"{origin}: "):
                message = message[len(origin) + 2:]
            report.error("metadata", _plain(message, 500), file=origin)
        return None, options
    return parsed, options


# --------------------------------------------------------------------------------------
# Reading bytes into a table of text cells


@dataclass
class _Table:
    """The cells of a file (text or spreadsheet values) and their spreadsheet row numbers."""

    frame: pd.DataFrame
    rows: np.ndarray
    format: str
    decimal_comma: bool = False


def _decode(data: bytes, report: ValidationReport) -> str | None:
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


# --------------------------------------------------------------------------------------
# Geography


def code_family(code: str) -> str:
    """``lsoa``, ``ward`` … for a supported code, ``other:<what>`` or ``unrecognised``."""
    if GSS_CODE.match(code):
        prefix = code[:3]
        if prefix in PREFIX_FAMILY:
            return PREFIX_FAMILY[prefix]
        return "other:" + UNSUPPORTED_PREFIXES.get(prefix, f"{prefix} code")
    if PRACTICE_CODE.match(code):
        return "practice"
    return "unrecognised"


def _families(codes: pd.Series) -> pd.Series:
    prefix = codes.str[:3]
    family = prefix.map(PREFIX_FAMILY)
    gss = codes.str.match(GSS_CODE.pattern)
    other = prefix.map(lambda p: "other:" + UNSUPPORTED_PREFIXES.get(p, f"{p} code"))
    family = family.where(family.notna() | ~gss, other)
    practice = codes.str.match(PRACTICE_CODE.pattern) & ~gss
    family = family.where(~practice, "practice")
    return family.fillna("unrecognised").astype(str)


def _family_label(family: str) -> str:
    if family.startswith("other:"):
        return family[6:]
    return FAMILY_LABELS.get(family, "unrecognised")


def geography_universe(geography: str) -> pd.Index:
    """All codes Fairshare knows for a geography (the packs, the lookup, the practice list)."""
    from analysis.data import load_pack_table

    if geography == "lsoa11":
        from analysis.data import load_lookup

        codes = load_lookup()["lsoa11_code"]
    elif geography == "practice":
        from analysis.access import load_gp_practices

        codes = load_gp_practices()["practice_code"]
    elif geography == "dz11":
        codes = load_pack_table("scotland")["dz11_code"]
    elif geography in ("lsoa21", "ward", "ltla", "sicbl", "icb"):
        codes = load_pack_table("england")[f"{geography}_code"]
    else:
        raise ValueError(f"Unknown geography {geography!r}")
    return pd.Index(pd.unique(codes.dropna().astype(str)))


def detect_geography(codes: Sequence[str] | pd.Series) -> str | None:
    """The geography of a set of area codes, or ``None`` when they do not show one.

    GSS prefixes decide the family (``E01`` LSOA, ``E05`` ward, ``E06``–``E09`` local
    authority, ``E38`` sub-ICB location, ``E54`` ICB, ``S01`` data zone; a letter and five
    digits a GP practice). LSOA 2011 and 2021 codes share ``E01``: codes that exist only in
    the 2011 lookup mean 2011, only in the 2021 pack mean 2021, codes in both (unchanged
    LSOAs) are taken as 2021. A mix of both vintages returns ``None``.
    """
    report = ValidationReport("codes")
    series = _normalise_codes(pd.Series(list(codes), dtype=object), fingertips=False)
    geography, _ = _check_geography(series, np.arange(len(series)) + 2, _Options(), report,
                                    column="area_code")
    return geography if report.ok else None


def _check_geography(codes: pd.Series, rows: np.ndarray, options: _Options,
                     report: ValidationReport, *, column: str
                     ) -> tuple[str | None, np.ndarray]:
    """Decide the geography and which codes it knows; report mixtures and unknown codes."""
    known = np.zeros(len(codes), dtype=bool)
    if not len(codes):
        return None, known
    family = _families(codes)
    counts = family.value_counts()
    supported = [f for f in counts.index if f in SUPPORTED_FAMILIES]
    declared = options.geography
    if declared != "auto":
        main = GEOGRAPHY_FAMILY[declared]
        if main not in counts.index:
            found = ", ".join(f"{n:,} {_family_label(f)}" for f, n in counts.items())
            report.error("geography_mismatch",
                         f"the metadata says geography {declared} "
                         f"({GEOGRAPHY_LABELS[declared][0]}) but none of the codes is one: "
                         f"{found} code(s). Fix the geography or set it to auto",
                         row=int(rows[0]), column=column)
            return None, known
    elif supported:
        main = max(supported, key=lambda f: (counts[f], -SUPPORTED_FAMILIES.index(f)))
    else:
        first = codes.iloc[0]
        report.error("unknown_geography",
                     f"the area codes are not codes of a geography Fairshare supports "
                     f"(first: {_show(first)}, {_family_label(family.iloc[0])}); supported: "
                     "LSOA 2011/2021, data zone 2011, ward, local authority, sub-ICB location, "
                     "ICB, GP practice", row=int(rows[0]), column=column)
        return None, known
    others = [f for f in counts.index if f not in (main, "unrecognised")]
    if others:
        mask = family.isin(others).to_numpy()
        parts = ", ".join(f"{counts[f]:,} {_family_label(f)}" for f in others)
        first = np.flatnonzero(mask)[:EXAMPLES]
        report.error("mixed_geographies",
                     f"codes from more than one geography: {counts[main]:,} "
                     f"{FAMILY_LABELS[main]} code(s) and {parts} code(s) "
                     f"({_examples(rows[first].tolist(), [codes.iloc[i] for i in first])}). "
                     "Keep one geography per file (remove total rows such as England)",
                     row=int(rows[first[0]]), column=column)
    in_family = (family == main).to_numpy()
    geography = declared if declared != "auto" else None
    if main == "lsoa" and geography is None:
        lsoa = codes[in_family]
        in21 = members(lsoa, geography_universe("lsoa21"))
        in11 = members(lsoa, geography_universe("lsoa11"))
        only11, only21 = in11 & ~in21, in21 & ~in11
        if only11.any() and only21.any():
            rows_f = rows[in_family]
            i11, i21 = np.flatnonzero(only11)[:5], np.flatnonzero(only21)[:5]
            report.error(
                "mixed_geographies",
                f"a mix of LSOA 2011 and LSOA 2021 codes: {int(only11.sum()):,} exist only "
                f"in 2011 ({_examples(rows_f[i11].tolist(), lsoa.iloc[i11].tolist())}) and "
                f"{int(only21.sum()):,} only in 2021 "
                f"({_examples(rows_f[i21].tolist(), lsoa.iloc[i21].tolist())}). Use one "
                "vintage per file", row=int(rows_f[i11[0]]), column=column)
            return None, known
        geography = "lsoa11" if only11.any() else "lsoa21"
    elif geography is None:
        geography = {"lsoa": "lsoa21"}.get(main, main)
    known = in_family & members(codes, geography_universe(geography))
    unknown = np.flatnonzero(~known & (in_family | (family == "unrecognised").to_numpy()))
    if len(unknown):
        label = GEOGRAPHY_LABELS[geography][1]
        hint = ""
        if geography in ("lsoa21", "lsoa11"):
            other = "lsoa11" if geography == "lsoa21" else "lsoa21"
            if members(codes.iloc[unknown], geography_universe(other)).any():
                hint = (f" Some are {GEOGRAPHY_LABELS[other][0]} codes: set geography: "
                        f"{other} (or auto) in the metadata.")
        elif geography == "practice":
            hint = (" Practices that closed before the July 2023 practice list are not "
                    "known.")
        message = (f"{len(unknown):,} area code(s) are not {label} Fairshare knows: "
                   f"{_examples(rows[unknown].tolist(), [_show(codes.iloc[i]) for i in unknown])}"
                   f".{hint}")
        if options.drop_unknown_codes:
            report.warning("unknown_codes", message + " Left out (drop_unknown_codes: true).",
                           row=int(rows[unknown[0]]), column=column)
        else:
            report.error("unknown_codes", message + " Fix or remove them (or set "
                         "drop_unknown_codes: true to leave them out).",
                         row=int(rows[unknown[0]]), column=column)
    return geography, known


# --------------------------------------------------------------------------------------
# Fingertips exports


def _is_fingertips(columns: Sequence[str]) -> bool:
    names = {_norm(c) for c in columns}
    return all(k in names for k in FINGERTIPS_REQUIRED)


def _fingertips_columns(columns: Sequence[str]) -> dict[str, str]:
    by_norm: dict[str, str] = {}
    for c in columns:
        by_norm.setdefault(_norm(c), c)
    roles = {"area_code": "area_code", "value": "value", "numerator": "count",
             "denominator": "denominator", "period": "time_period",
             "lower_ci": "lower_ci_95_0_limit", "upper_ci": "upper_ci_95_0_limit"}
    out = {role: by_norm[name] for role, name in roles.items() if name in by_norm}
    for role, side in (("lower_ci", "lower"), ("upper_ci", "upper")):
        if role not in out:
            hits = [c for n, c in by_norm.items() if re.match(rf"^{side}_ci_[\d_]+_limit$", n)]
            if hits:
                out[role] = hits[0]
    return out


def _ci_level(column: str) -> str:
    match = re.search(r"(\d+(?:\.\d+)?)", column)
    if not match:
        return ""
    level = float(match.group(1))
    return f"{level:g}%"


def _distinct(values: pd.Series) -> list[str]:
    return sorted({v for v in values if v})


def _period_key(label: str, sortable: Any) -> float:
    """Order of a Fingertips period: ``Time period Sortable``, else its first year."""
    if sortable is not None and np.isfinite(sortable):
        return float(sortable)
    year = re.search(r"(19|20)\d\d", label)
    return float(year.group(0)) * 10_000 if year else -math.inf


def _fingertips_filter(table: _Table, codes: pd.Series, options: _Options,
                       report: ValidationReport) -> tuple[np.ndarray, str] | None:
    """Rows of one indicator, area type(s), period, sex and age; returns (mask, period)."""
    frame = table.frame
    col = {_norm(c): c for c in reversed(list(frame.columns))}
    text = {key: _as_text(frame[col[key]]) for key in
            ("area_type", "time_period", "sex", "age", "category_type", "indicator_name",
             "indicator_id", "time_period_sortable") if key in col}
    keep = np.ones(len(frame), dtype=bool)
    total = len(frame)
    if "category_type" in text:
        keep &= (text["category_type"] == "").to_numpy()
        if not keep.any():
            report.error("fingertips", "every row is a breakdown by category (Category Type); "
                         "export the indicator without breakdowns", column=col["category_type"])
            return None
    # one indicator
    ident = text.get("indicator_name", text.get("indicator_id"))
    if ident is not None:
        ids = text.get("indicator_id", pd.Series([""] * total, index=frame.index))
        ids = ids.str.replace(r"\.0$", "", regex=True)
        label = ident.where(ident != "", ids)
        names = _distinct(label[keep])
        if len(names) > 1:
            wanted = options.fingertips_indicator.removesuffix(".0")
            if wanted and wanted in set(names) | set(_distinct(ids[keep])):
                keep &= ((label == wanted) | (ids == wanted) | (ident == "")).to_numpy()
            else:
                report.error("fingertips", "the export holds several indicators ("
                             f"{'; '.join(map(_show, names[:10]))}); set fingertips_indicator "
                             "in the metadata to one indicator name or ID",
                             column=col.get("indicator_name"))
                return None
    # area types of the wanted geography
    types = text["area_type"]
    periods = text["time_period"]
    if options.period and options.period != "latest" and (periods[keep] == options.period).any():
        scope = keep & (periods == options.period).to_numpy()
    else:
        scope = keep
    families: dict[str, str] = {}
    for area_type in _distinct(types[scope]):
        in_type = scope & (types == area_type).to_numpy()
        fam = _families(codes[in_type]).value_counts()
        families[area_type] = str(fam.index[0])
    if options.area_type:
        chosen = [t for t in options.area_type if t in families]
        unknown = [t for t in options.area_type if t not in families]
        if unknown:
            report.error("fingertips", f"area type(s) {', '.join(map(_show, unknown))} not in "
                         f"the export; area types: {', '.join(map(_show, families))}",
                         column=col["area_type"])
            return None
    else:
        if options.geography != "auto":
            wanted_family = GEOGRAPHY_FAMILY[options.geography]
        else:
            present = [f for f in SUPPORTED_FAMILIES if f in families.values()]
            wanted_family = present[0] if present else ""
        chosen = [t for t, f in families.items() if f == wanted_family]
        if not chosen:
            listing = ", ".join(f"{_show(t)} ({_family_label(f)})" for t, f in families.items())
            report.error("fingertips", "no area type of the export is a geography Fairshare "
                         f"supports{' for ' + options.geography if wanted_family else ''}; "
                         f"area types: {listing}", column=col["area_type"])
            return None
    keep &= types.isin(chosen).to_numpy()
    # one period
    available = _distinct(periods[keep])
    period = options.period
    if period == "latest" and available:
        no_key = pd.Series(np.nan, index=periods.index)
        sortable = pd.to_numeric(text.get("time_period_sortable", no_key), errors="coerce")
        best = sortable[keep].groupby(periods[keep]).max()
        period = max(available, key=lambda p: (_period_key(p, best.get(p)), p))
    if period in available:
        keep &= (periods == period).to_numpy()
    elif len(available) == 1:
        if period:
            report.warning("period", f"the metadata says period {_show(period)} but the export "
                           f"has {_show(available[0])} for {', '.join(chosen)}; used it",
                           column=col["time_period"])
        period = available[0]
    elif not period:
        report.error("fingertips", f"the export has several periods for area type(s) "
                     f"{', '.join(chosen)}; set period in the metadata to one of: "
                     f"{', '.join(available)} (or latest)", column=col["time_period"])
        return None
    else:
        report.error("fingertips", f"period {_show(period)} is not in the export for area "
                     f"type(s) {', '.join(chosen)}; set period in the metadata to one of: "
                     f"{', '.join(available)} (or latest)", column=col["time_period"])
        return None
    # one sex, one age
    for key, wanted, default in (("sex", options.sex, "Persons"), ("age", options.age, "")):
        if key not in text:
            continue
        values = _distinct(text[key][keep])
        if len(values) <= 1:
            continue
        pick = wanted or (default if default in values else "")
        if pick not in values:
            report.error("fingertips", f"several {key} groups ({', '.join(map(_show, values))}); "
                         f"set {key} in the metadata to one of them", column=col[key])
            return None
        keep &= ((text[key] == pick) | (text[key] == "")).to_numpy()
    report.notes.append(
        f"Fingertips export: area type {', '.join(chosen)}, period {period}; "
        f"{int(keep.sum()):,} of {total:,} rows used")
    return keep, period


# --------------------------------------------------------------------------------------
# Value rules


def _unit_kind(unit: str) -> str:
    text = unit.strip().lower()
    if not text:
        return "unknown"
    if re.search(r"\bper\b|per\s*\d|rate|ratio|\bsir\b|\bsmr\b", text):
        return "rate"
    if text.startswith("proportion") or text in ("fraction", "share (0-1)", "0-1"):
        return "proportion"
    if (text.startswith("%") or "percent" in text) and not re.search(
            r"change|difference|growth|point", text):
        return "percentage"
    return "other"


def _flag(report: ValidationReport, mask: np.ndarray, rows: np.ndarray, codes: pd.Series,
          values: np.ndarray, column: str, rule: str, text: str,
          severity: Severity = "error") -> None:
    hits = np.flatnonzero(mask)
    if not len(hits):
        return
    labels = [f"{codes.iloc[i]} = {values[i]:g}" for i in hits[:EXAMPLES]]
    message = f"{len(hits):,} {text}: {_examples(rows[hits].tolist(), labels)}"
    add = report.error if severity == "error" else report.warning
    add(rule, message, row=int(rows[hits[0]]), column=column)


def _value_rules(numbers: dict[str, np.ndarray], cols: Mapping[str, str], rows: np.ndarray,
                 codes: pd.Series, options: _Options, report: ValidationReport) -> None:
    """Impossible values (errors) and values far outside the usual range (warnings)."""
    value = numbers["value"]
    kind = _unit_kind(options.unit)
    for role in ("numerator", "denominator"):
        if role in numbers:
            _flag(report, numbers[role] < 0, rows, codes, numbers[role], cols[role],
                  "impossible_value", f"negative {role}(s) (counts cannot be negative)")
    if options.aggregation == "sum":
        _flag(report, value < 0, rows, codes, value, cols["value"], "impossible_value",
              "negative value(s), but the indicator is a count (aggregation: sum)")
    if kind == "proportion":
        _flag(report, (value < 0) | (value > 1), rows, codes, value, cols["value"],
              "impossible_value", f"value(s) outside 0–1, impossible for a proportion "
              f"(unit {_show(options.unit)}); if these are percentages, set the unit to %")
    elif kind == "percentage":
        _flag(report, (value < 0) | (value > 100), rows, codes, value, cols["value"],
              "impossible_value", f"value(s) outside 0–100, impossible for a percentage "
              f"(unit {_show(options.unit)})")
    if "numerator" in numbers and "denominator" in numbers:
        above = (numbers["numerator"] > numbers["denominator"]) & (numbers["denominator"] >= 0)
        if kind == "rate":
            _flag(report, above, rows, codes, numbers["numerator"], cols["numerator"],
                  "numerator_above_denominator", "numerator(s) above the denominator "
                  "(possible for rates of repeated events; check)", severity="warning")
        else:
            _flag(report, above, rows, codes, numbers["numerator"], cols["numerator"],
                  "impossible_value", "numerator(s) above the denominator (a numerator "
                  "counts part of the denominator); if this is a rate of repeated events, "
                  "give a unit such as 'per 1,000'")
    if "lower_ci" in numbers and "upper_ci" in numbers:
        lower, upper = numbers["lower_ci"], numbers["upper_ci"]
        _flag(report, lower > upper, rows, codes, lower, cols["lower_ci"], "impossible_value",
              "lower confidence limit(s) above the upper limit")
        tolerance = 1e-9 * np.maximum(1.0, np.abs(value))
        outside = ((value < lower - tolerance) | (value > upper + tolerance)) & (lower <= upper)
        _flag(report, outside, rows, codes, value, cols["value"], "value_outside_ci",
              "value(s) outside their own confidence interval", severity="warning")
    if "decile" in numbers:
        decile = numbers["decile"]
        bad = (decile < 1) | (decile > 10) | (np.abs(decile - np.round(decile)) > 1e-9)
        _flag(report, bad, rows, codes, decile, cols["decile"], "impossible_value",
              "decile(s) that are not whole numbers from 1 to 10")
    _outliers(value, rows, codes, cols["value"], report)


def _outliers(value: np.ndarray, rows: np.ndarray, codes: pd.Series, column: str,
              report: ValidationReport) -> None:
    finite = value[np.isfinite(value)]
    if len(finite) < 10:
        return
    median = float(np.median(finite))
    spread = 1.4826 * float(np.median(np.abs(finite - median)))
    if spread <= 0:
        q1, q3 = np.percentile(finite, [25, 75])
        spread = float(q3 - q1) / 1.349
    if spread <= 0:
        return
    with np.errstate(invalid="ignore"):
        far = np.abs(value - median) > OUTLIER_ROBUST_SDS * spread
    _flag(report, far, rows, codes, value, column, "outlier",
          f"value(s) far outside the usual range (more than {OUTLIER_ROBUST_SDS:g} robust "
          f"standard deviations from the median {median:.4g}; robust SD {spread:.3g}). Check "
          "they are not typing or unit errors", severity="warning")


# --------------------------------------------------------------------------------------
# Conversion and practice mapping


def _convert_lsoa11(out: pd.DataFrame, options: _Options, report: ValidationReport,
                    column: str) -> pd.DataFrame:
    from analysis.data import convert_lsoa11_to_lsoa21

    counts = [c for c in ("numerator", "denominator") if c in out.columns]
    rates = [c for c in ("lower_ci", "upper_ci", "decile", "rank") if c in out.columns]
    (counts if options.aggregation == "sum" else rates).insert(0, "value")
    if "category" in out.columns:
        report.warning("conversion", "the category column cannot be converted from LSOA 2011 "
                       "to 2021 and was left out")
    converted, conversion = convert_lsoa11_to_lsoa21(
        out, code_column="area_code", counts=counts, rates=rates)
    how = "; ".join(
        part for part in (
            f"counts ({', '.join(counts)}) apportioned by 2021 population" if counts else "",
            f"rates ({', '.join(rates)}) population-weighted" if rates else "",
        ) if part)
    text = (f"LSOA 2011 codes converted to LSOA 2021 with the ONS best-fit lookup: "
            f"{conversion.summary()}; {how}")
    if options.aggregation == "none" and conversion.merged + conversion.irregular:
        text += ("; values of merged LSOAs are population-weighted means, so deciles or ranks "
                 "there are no longer whole numbers")
    report.warning("converted_2011", text, column=column)
    return converted.reset_index().rename(columns={"lsoa21_code": "area_code"})


def _practices_to_areas(out: pd.DataFrame, target: str, options: _Options,
                        report: ValidationReport) -> pd.DataFrame:
    """Aggregate practice values to the areas where the practices stand."""
    from analysis.access import load_gp_practices

    practices = load_gp_practices().set_index("practice_code")
    area = out["area_code"].map(practices[PRACTICE_TARGETS[target]])
    located = area.notna()
    if (~located).any():
        lost = out.loc[~located, "area_code"].tolist()
        report.warning("practice_mapping", f"{len(lost):,} practice(s) have no "
                       f"{GEOGRAPHY_LABELS[target][0]} in the practice list and were left "
                       f"out: {', '.join(lost[:EXAMPLES])}")
    frame = out.loc[located].assign(_area=area[located].astype(str))
    if "denominator" in frame.columns and frame["denominator"].notna().any():
        weight = frame["denominator"].astype(float)
        basis = "weighted by the denominator"
    else:
        weight = frame["area_code"].map(practices["registered_patients"]).astype(float)
        basis = "weighted by registered patients"
    grouped = frame.groupby("_area")
    result = pd.DataFrame(index=pd.Index(sorted(grouped.groups), name="area_code"))
    if options.aggregation == "sum":
        result["value"] = grouped["value"].sum(min_count=1)
        basis = "summed"
    else:
        valid = frame["value"].notna() & weight.notna() & (weight > 0)
        num = (frame["value"] * weight).where(valid, 0.0).groupby(frame["_area"]).sum()
        den = weight.where(valid, 0.0).groupby(frame["_area"]).sum()
        result["value"] = num / den.where(den > 0)
    for column in ("numerator", "denominator"):
        if column in frame.columns:
            result[column] = grouped[column].sum(min_count=1)
    dropped = [c for c in ("lower_ci", "upper_ci", "decile", "rank", "category")
               if c in frame.columns]
    report.warning(
        "practice_mapping",
        f"practice values assigned to the {GEOGRAPHY_LABELS[target][0]} where each practice "
        f"stands ({int(located.sum()):,} practices into {len(result):,} areas; values {basis})"
        ". Patients registered at a practice may live elsewhere"
        + (f"; {', '.join(dropped)} cannot be aggregated and were left out" if dropped else ""))
    return result.reset_index()


def _pct(share: float) -> str:
    return f"{share:.2%}" if 0 < share < 0.01 else f"{share:.1%}"


def _coverage(out: pd.DataFrame, geography: str, report: ValidationReport, column: str
              ) -> None:
    universe = geography_universe(geography)
    with_value = out.loc[out["value"].notna(), "area_code"]
    covered = int(members(with_value, universe).sum())
    report.areas = covered
    report.universe = len(universe)
    report.coverage = covered / len(universe) if len(universe) else None
    if report.coverage is not None and report.coverage < COVERAGE_WARNING:
        label = GEOGRAPHY_LABELS[geography][1]
        report.warning("low_coverage",
                       f"values for {covered:,} of {len(universe):,} {label} "
                       f"({_pct(report.coverage)}, below {COVERAGE_WARNING:.0%}); areas "
                       "without a value show as 'no data' and are left out of summaries",
                       column=column)


# --------------------------------------------------------------------------------------
# The pipeline


def _process(data: bytes, name: str, meta: Any, *, need_meta: bool = False
             ) -> tuple[Indicator | None, ValidationReport]:
    report = ValidationReport(file=name)
    try:
        return _process_checked(data, name, meta, report, need_meta=need_meta)
    except DataFileError as exc:  # Fairshare's own data (packs, lookup, practices) missing
        report.error("data_files", f"Fairshare's reference data could not be read: "
                     f"{_plain(exc, 500)}")
        return None, report
    except Exception as exc:  # noqa: BLE001 - a check must report, never crash a page
        report.error("internal", f"the file could not be checked ({type(exc).__name__}: "
                     f"{_plain(exc)}); please report this")
        return None, report


def _process_checked(data: bytes, name: str, meta_source: Any, report: ValidationReport, *,
                     need_meta: bool) -> tuple[Indicator | None, ValidationReport]:
    meta, options = _resolve_meta(meta_source, report)
    if meta_source is None:
        if need_meta:
            report.error("metadata", "metadata missing: give the indicator.yaml keys (id, "
                         "title, description, unit, polarity, kind, geography, period, source, "
                         "licence)")
        else:
            report.notes.append("No metadata given: the data were checked on their own "
                                "(geography detected from the codes)")
    table = _read_bytes(data, name, report)
    if table is None:
        return None, report
    report.format = table.format
    if table.frame.empty:
        report.error("empty", "the file has a header row but no data rows", row=1)
        return None, report
    fingertips = _is_fingertips(table.frame.columns)
    codes_all: pd.Series | None = None
    chosen_period = ""
    if fingertips:
        report.format = f"Fingertips export, {table.format}"
        preset = _fingertips_columns(table.frame.columns)
        codes_all = _normalise_codes(table.frame[preset["area_code"]], fingertips=True)
        picked = _fingertips_filter(table, codes_all, options, report)
        if picked is None:
            return None, report
        keep, chosen_period = picked
        frame, rows, codes_all = (table.frame[keep], table.rows[keep], codes_all[keep])
    else:
        preset = None
        frame, rows = table.frame, table.rows
    cols = _resolve_columns(list(frame.columns), options, report, preset)
    if cols is None:
        return None, report
    frame = frame.reset_index(drop=True)
    codes = (codes_all.reset_index(drop=True) if codes_all is not None
             else _normalise_codes(frame[cols["area_code"]], fingertips=False))
    # period column of a generic file
    if "period" in cols and not fingertips:
        periods = _as_text(frame[cols["period"]])
        available = _distinct(periods)
        wanted = options.period
        if len(available) > 1:
            if wanted == "latest":
                wanted = available[-1]
            if wanted in available:
                keep = (periods == wanted).to_numpy()
                frame, rows, codes = (frame[keep].reset_index(drop=True), rows[keep],
                                      codes[keep].reset_index(drop=True))
                chosen_period = wanted
                report.notes.append(f"Period {wanted}: {int(keep.sum()):,} rows used")
            else:
                report.error("period", f"the file holds several periods "
                             f"({', '.join(map(_show, available[:12]))}); set period in the "
                             "metadata to one of them (or latest)", column=cols["period"])
                return None, report
        elif available and wanted and wanted != "latest" and available[0] != wanted:
            report.warning("period", f"the metadata says period {_show(wanted)} but the file's "
                           f"period column says {_show(available[0])}", column=cols["period"])
        elif available and wanted == "latest":
            chosen_period = available[0]
    report.rows = len(frame)
    # codes present
    empty = (codes == "").to_numpy()
    if empty.any():
        hits = np.flatnonzero(empty)
        report.error("missing_code", f"{len(hits):,} row(s) have no area code: rows "
                     f"{', '.join(str(rows[i]) for i in hits[:EXAMPLES])}",
                     row=int(rows[hits[0]]), column=cols["area_code"])
    # numbers
    numbers: dict[str, np.ndarray] = {}
    for role in NUMERIC_ROLES:
        if role not in cols:
            continue
        values, missing, bad = _parse_numbers(frame[cols[role]],
                                              decimal_comma=table.decimal_comma)
        numbers[role] = values
        if bad.any():
            hits = np.flatnonzero(bad)
            cells = _as_text(frame[cols[role]])
            report.error("non_numeric", f"{len(hits):,} value(s) are not numbers: "
                         f"{_examples(rows[hits].tolist(), [_show(cells.iloc[i]) for i in hits])}"
                         ". Use plain numbers (a blank cell means no value)",
                         row=int(rows[hits[0]]), column=cols[role])
        if role == "value" and missing.any() and not missing.all():
            hits = np.flatnonzero(missing & ~empty)
            if len(hits):
                report.warning("missing_values", f"{len(hits):,} area(s) have no value (blank "
                               "or suppressed) and will show as 'no data': rows "
                               f"{', '.join(str(rows[i]) for i in hits[:EXAMPLES])}",
                               row=int(rows[hits[0]]), column=cols[role])
        if role == "value" and missing.all():
            report.error("missing_values", "the value column has no values at all",
                         column=cols[role])
    # duplicates
    duplicated = codes.duplicated(keep=False).to_numpy() & ~empty
    if duplicated.any():
        repeat = codes[duplicated]
        firsts = np.flatnonzero(codes.duplicated(keep="first").to_numpy() & ~empty)
        report.error("duplicate_codes", f"{repeat.nunique():,} area code(s) appear more than "
                     "once: " + _examples(rows[firsts].tolist(),
                                          [codes.iloc[i] for i in firsts]),
                     row=int(rows[firsts[0]]), column=cols["area_code"])
    # geography
    present = ~empty
    geography, known_present = _check_geography(
        codes[present].reset_index(drop=True), rows[present], options, report,
        column=cols["area_code"])
    known = np.zeros(len(codes), dtype=bool)
    known[present] = known_present
    report.geography = geography
    if fingertips and geography is not None:
        limits = [cols[r] for r in ("lower_ci", "upper_ci")
                  if r in cols and not np.isnan(numbers[r]).all()]
        if limits:
            report.notes.append(f"Confidence limits from {' and '.join(map(_show, limits))}")
    # value rules on the rows that will be kept
    _value_rules(numbers, cols, rows, codes, options, report)
    if options.map_practices_to and geography not in (None, "practice"):
        report.warning("practice_mapping", "map_practices_to is ignored: the codes are not "
                       "GP practice codes")
    if not report.ok or geography is None:
        return None, report
    # the value table
    out = pd.DataFrame({"area_code": codes.astype(str)})
    for role in NUMERIC_ROLES:
        if role in numbers and (role == "value" or not np.isnan(numbers[role]).all()):
            out[role] = numbers[role]
    if "category" in cols:
        category = _as_text(frame[cols["category"]])
        if (category != "").any():
            out["category"] = category.where(category != "", None)
    out = out.loc[known].reset_index(drop=True)
    stored = geography
    if geography == "lsoa11":
        out = _convert_lsoa11(out, options, report, cols["area_code"])
        stored = "lsoa21"
    elif geography == "practice" and options.map_practices_to:
        out = _practices_to_areas(out, options.map_practices_to, options, report)
        stored = options.map_practices_to
    report.stored_geography = stored
    out = out.sort_values("area_code", kind="stable").reset_index(drop=True)
    out["area_code"] = out["area_code"].astype(str)
    _coverage(out, stored, report, cols["area_code"])
    if meta is None:
        return None, report
    if (chosen_period or meta.period) == "latest":
        report.error("metadata", "period: latest needs a period column in the file; give the "
                     "period itself", column="period")
        return None, report
    extra = {k: v for k, v in dict(meta.extra).items() if k not in IMPORT_KEYS}
    extra["source_file"] = Path(name).name
    extra["source_format"] = report.format
    if stored != geography:
        extra["source_geography"] = geography
    for issue in report.warnings:
        if issue.rule in ("converted_2011", "practice_mapping"):
            extra.setdefault("import_notes", []).append(issue.message)
    if fingertips and "lower_ci" in out.columns:
        extra["confidence_level"] = _ci_level(cols["lower_ci"]) or "95%"
    final = dc_replace(meta, geography=stored, period=chosen_period or meta.period,
                       extra=extra, **dict.fromkeys(COLUMN_KEYS, ""))
    validate_values(out, origin=name)
    return Indicator(final, out), report


# --------------------------------------------------------------------------------------
# Public entry points: files and uploads


def _size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n:,} bytes"


def _read_path(path: Path, report: ValidationReport, max_bytes: int) -> bytes | None:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            report.error("too_large", f"the file is {_size(size)}; the limit is "
                         f"{_size(max_bytes)}")
            return None
        return path.read_bytes()
    except OSError as exc:
        report.error("unreadable", f"cannot read the file: {_plain(exc.strerror or exc)}")
        return None


def _package_parts(path: Path, meta: Any) -> tuple[Path, Any]:
    """For a package folder: its data file, and its indicator.yaml unless meta is given."""
    if path.is_dir():
        data = next((path / n for n in ("data.parquet", "data.csv") if (path / n).is_file()),
                    path / "data.parquet")
        if meta is None and (path / "indicator.yaml").is_file():
            meta = path / "indicator.yaml"
        return data, meta
    return path, meta


def load_indicator_file(path: str | os.PathLike[str], meta: Any = None, *,
                        max_bytes: int = MAX_FILE_BYTES
                        ) -> tuple[Indicator | None, ValidationReport]:
    """Read, check and normalise a data file (or a package folder) with its metadata.

    ``meta`` is a mapping of ``indicator.yaml`` keys, an :class:`IndicatorMeta`, a path to a
    YAML file, or ``None`` (data checked on their own; no indicator returned). Returns the
    indicator ready to store (``area_code``, ``value`` …, converted to LSOA 2021 if the codes
    were 2011) when there are no errors, and the report.
    """
    data_path, meta = _package_parts(Path(path), meta)
    report = ValidationReport(file=str(data_path))
    data = _read_path(data_path, report, max_bytes)
    if data is None:
        return None, report
    return _process(data, str(data_path), meta)


def validate_file(path: str | os.PathLike[str], meta: Any = None) -> ValidationReport:
    """Check a data file (or package folder) and return the :class:`ValidationReport`."""
    return load_indicator_file(path, meta)[1]


def read_upload(data: bytes, filename: str, meta_mapping: Mapping[str, Any] | None, *,
                max_bytes: int = MAX_UPLOAD_BYTES
                ) -> tuple[Indicator | None, ValidationReport]:
    """Check an uploaded file in memory (never written to disk) for a session indicator.

    ``filename`` only chooses the reader and names the file in messages. Returns the
    indicator (``None`` when there are errors) and the report; every message is plain text.
    """
    safe_name = _plain(Path(str(filename or "upload")).name, 120) or "upload"
    report = ValidationReport(file=safe_name)
    if not isinstance(data, bytes | bytearray | memoryview):
        report.error("unreadable", "no file content received")
        return None, report
    if len(data) > max_bytes:
        report.error("too_large", f"the file is {_size(len(data))}; the limit is "
                     f"{_size(max_bytes)}")
        return None, report
    if meta_mapping is not None and not isinstance(meta_mapping, Mapping):
        report.error("metadata", "metadata must be a mapping of keys to values")
        return None, report
    return _process(bytes(data), safe_name, meta_mapping, need_meta=True)


# --------------------------------------------------------------------------------------
# Registry operations


def registry_root(root: str | os.PathLike[str] | None = None) -> Path:
    """The registry folder: ``root`` or ``<data dir>/indicators`` (``$FAIRSHARE_DATA_DIR``)."""
    return Path(root) if root is not None else data_dir() / INDICATORS_DIR


def shipped_ids(root: str | os.PathLike[str] | None = None) -> frozenset[str]:
    """Ids of the default indicators shipped with the dataset (``manifest.json`` files)."""
    manifest = registry_root(root).parent / "manifest.json"
    try:
        files = json.loads(manifest.read_text(encoding="utf-8")).get("files", {})
    except (OSError, ValueError, AttributeError):
        return frozenset()
    prefix = f"{INDICATORS_DIR}/"
    return frozenset(name[len(prefix):] for name in files if str(name).startswith(prefix))


def _check_id(indicator_id: str) -> str:
    if not isinstance(indicator_id, str) or not INDICATOR_ID.match(indicator_id):
        raise IndicatorError(f"Indicator id {_show(indicator_id)} must be 1–64 characters of "
                             "a-z, 0-9, _ or -, starting with a letter or digit")
    return indicator_id


@contextlib.contextmanager
def _registry_lock(root: Path) -> Iterator[None]:
    """Exclusive lock on the registry folder itself (POSIX ``flock`` on the directory, so
    no lock file is left behind; a no-op where unavailable)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    fd = os.open(root, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms that cannot open folders
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _recover(root: Path) -> list[str]:
    actions: list[str] = []
    hidden = sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith("."))
    for folder in hidden:
        name = folder.name
        if name.startswith((STAGING_PREFIX, REMOVED_PREFIX)):
            shutil.rmtree(folder, ignore_errors=True)
            actions.append(f"deleted leftover {name}")
        elif name.startswith(REPLACED_PREFIX):
            indicator_id = name[len(REPLACED_PREFIX):].rpartition("-")[0]
            target = root / indicator_id
            if INDICATOR_ID.match(indicator_id) and not target.exists():
                os.replace(folder, target)
                _fsync_dir(root)
                actions.append(f"restored {indicator_id} from an interrupted replace")
            else:
                shutil.rmtree(folder, ignore_errors=True)
                actions.append(f"deleted leftover {name}")
    return actions


def recover_registry(root: str | os.PathLike[str] | None = None) -> list[str]:
    """Finish or undo interrupted adds and removes; returns what was done (plain text).

    Staging folders are deleted; a package set aside by an interrupted replace is put back
    when its id is missing. :func:`add_indicator` and :func:`remove_indicator` call this first.
    """
    folder = registry_root(root)
    if not folder.is_dir():
        return []
    with _registry_lock(folder):
        return _recover(folder)


def _write_file(path: Path, write: Any) -> None:
    with open(path, "wb") as handle:
        write(handle)
        handle.flush()
        os.fsync(handle.fileno())


def _write_package(folder: Path, indicator: Indicator) -> None:
    import yaml

    mapping = indicator.meta.to_mapping()
    mapping["added_on"] = date.today().isoformat()
    text = yaml.safe_dump(mapping, sort_keys=False, allow_unicode=True, width=100)
    _write_file(folder / "data.parquet",
                lambda h: indicator.data.to_parquet(h, index=False))
    _write_file(folder / "indicator.yaml", lambda h: h.write(text.encode("utf-8")))
    _fsync_dir(folder)


@dataclass(frozen=True)
class AddResult:
    """What :func:`add_indicator` did."""

    indicator: Indicator
    report: ValidationReport
    folder: Path
    replaced: bool


def install_indicator(indicator: Indicator, *, replace: bool = False,
                      root: str | os.PathLike[str] | None = None,
                      force: bool = False) -> tuple[Path, bool]:
    """Write an already validated indicator into the registry atomically.

    Returns (package folder, whether an existing package was replaced). Raises
    :class:`IndicatorExistsError` for a duplicate id without ``replace``, and
    :class:`IndicatorError` for replacing a shipped default without ``force``.
    """
    indicator_id = _check_id(indicator.meta.id)
    folder = registry_root(root)
    folder.mkdir(parents=True, exist_ok=True)
    with _registry_lock(folder):
        _recover(folder)
        target = folder / indicator_id
        exists = target.exists()
        if exists and not replace:
            raise IndicatorExistsError(f"Indicator {indicator_id!r} already exists in {folder}; "
                                       "use replace (--replace) to overwrite it")
        if exists and indicator_id in shipped_ids(folder) and not force:
            raise IndicatorError(f"Indicator {indicator_id!r} is a shipped default; replacing "
                                 "it needs force (--force)")
        token = secrets.token_hex(4)
        staging = folder / f"{STAGING_PREFIX}{indicator_id}-{token}"
        try:
            staging.mkdir()
            _write_package(staging, indicator)
            _read_package(staging, expected_id=indicator_id)
            read_indicator_data(staging)
            if exists:
                aside = folder / f"{REPLACED_PREFIX}{indicator_id}-{token}"
                os.replace(target, aside)
                try:
                    os.replace(staging, target)
                except BaseException:
                    os.replace(aside, target)
                    raise
                _fsync_dir(folder)
                shutil.rmtree(aside, ignore_errors=True)
            else:
                os.replace(staging, target)
                _fsync_dir(folder)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
    return target, exists


def add_indicator(path: str | os.PathLike[str], meta: Any, *, replace: bool = False,
                  root: str | os.PathLike[str] | None = None, force: bool = False) -> AddResult:
    """Validate a data file with its metadata and add it to the registry atomically.

    ``meta``: mapping, :class:`IndicatorMeta` or path of a YAML file. The package is written
    to ``<root>/.staging-<id>-<random>/``, flushed to disk, read back and renamed to
    ``<root>/<id>/``; with ``replace`` the old package is renamed aside first and put back if
    the swap fails. Raises :class:`IndicatorValidationError` (with ``.report``) when the file
    has errors, :class:`IndicatorExistsError` for a duplicate id without ``replace``.
    """
    indicator, report = load_indicator_file(path, meta)
    if meta is None and report.ok:
        report.error("metadata", "metadata missing: adding an indicator needs its "
                     "indicator.yaml keys")
    if indicator is None or not report.ok:
        raise IndicatorValidationError(report)
    folder, replaced = install_indicator(indicator, replace=replace, root=root, force=force)
    from analysis.data import default_registry

    default_registry.cache_clear()
    return AddResult(indicator, report, folder, replaced)


def remove_indicator(indicator_id: str, *, root: str | os.PathLike[str] | None = None,
                     force: bool = False) -> Path:
    """Remove an indicator package (shipped defaults only with ``force``); returns its path."""
    _check_id(indicator_id)
    folder = registry_root(root)
    if not folder.is_dir():
        raise DataFileError(f"Indicator registry {folder} is missing")
    with _registry_lock(folder):
        _recover(folder)
        target = folder / indicator_id
        if not target.is_dir():
            raise IndicatorError(f"No indicator {indicator_id!r} in {folder}")
        if indicator_id in shipped_ids(folder) and not force:
            raise IndicatorError(f"Indicator {indicator_id!r} is a shipped default; removing it "
                                 "needs force (--force)")
        trash = folder / f"{REMOVED_PREFIX}{indicator_id}-{secrets.token_hex(4)}"
        os.replace(target, trash)
        _fsync_dir(folder)
        shutil.rmtree(trash, ignore_errors=True)
    from analysis.data import default_registry

    default_registry.cache_clear()
    return target
