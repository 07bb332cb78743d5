"""Checking an added indicator end to end: read the file, filter a Fingertips export,
recognise the columns, parse codes and numbers, detect the geography, apply the value rules
(impossible values are errors, far-out values warnings), convert or attribute to the stored
geography, and build the indicator ready to store. Entry points for files on disk
(:func:`load_indicator_file`, :func:`validate_file`) and in-memory uploads
(:func:`read_upload`); every problem is reported at once in a
:class:`~analysis.ingest.report.ValidationReport`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import replace as dc_replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.data import DataFileError, IndicatorMeta
from analysis.data.indicators import COLUMN_KEYS, Indicator, validate_values
from analysis.ingest.fingertips import (
    ALL_PERIODS,
    _ci_level,
    _fingertips_columns,
    _fingertips_filter,
    _is_fingertips,
    fingertips_all_periods,
)
from analysis.ingest.geography import (
    _check_geography,
    _convert_lsoa11,
    _coverage,
    _practices_to_areas,
    _practices_to_lsoa,
)
from analysis.ingest.metadata import IMPORT_KEYS, MAX_META_BYTES, _Options, _resolve_meta
from analysis.ingest.readers import (
    ALIASES,
    NUMERIC_ROLES,
    _as_text,
    _distinct,
    _norm,
    _normalise_codes,
    _parse_numbers,
    _read_bytes,
    _resolve_columns,
)
from analysis.ingest.report import (
    EXAMPLES,
    Severity,
    ValidationReport,
    _examples,
    _plain,
    _show,
)

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_FILE_BYTES = 1024 * 1024 * 1024
OUTLIER_ROBUST_SDS = 5.0
#: Largest magnitude accepted for any number: far beyond any real indicator (a trillion
#: pounds is 1e12), and small enough that sums over 40,000 areas stay exact to the penny
#: instead of overflowing (a column of 1e308 sums to infinity).
MAX_MAGNITUDE = 1e15


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
    for role, column in numbers.items():
        with np.errstate(invalid="ignore"):
            huge = np.abs(column) > MAX_MAGNITUDE
        _flag(report, huge, rows, codes, column, cols[role], "impossible_value",
              f"{role} value(s) larger than {MAX_MAGNITUDE:.0e} in size, far beyond any "
              "real indicator (and too large to add up across areas); check the units or "
              "a spreadsheet error")
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
    if "denominator" in numbers:
        zero = numbers["denominator"] == 0
        counted = (zero & (numbers["numerator"] > 0) if "numerator" in numbers
                   else np.zeros(len(zero), dtype=bool))
        _flag(report, counted, rows, codes, numbers["denominator"], cols["denominator"],
              "zero_denominator", "zero denominator(s) with a numerator above zero: no rate "
              "can be computed from them; give the denominator, or leave both cells blank if "
              "they are not known")
        valued = zero & ~counted & np.isfinite(value) & (value != 0)
        _flag(report, valued, rows, codes, value, cols["value"], "zero_denominator",
              "value(s) other than 0 where the denominator is 0: the value cannot come from "
              "these counts; check the denominator", severity="warning")
    if "numerator" in numbers and "denominator" in numbers:
        above = (numbers["numerator"] > numbers["denominator"]) & (numbers["denominator"] > 0)
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
# The pipeline


Progress = Callable[[float, str], None]


def _no_progress(fraction: float, stage: str) -> None:
    """The default progress callback: nothing to show."""


def _process(data: bytes, name: str, meta: Any, *, need_meta: bool = False,
             progress: Progress | None = None) -> tuple[Indicator | None, ValidationReport]:
    every_period = _all_periods_meta(meta)
    if every_period is not None:
        return fingertips_all_periods(data, name, every_period)
    report = ValidationReport(file=name)
    try:
        return _process_checked(data, name, meta, report, need_meta=need_meta,
                                progress=progress or _no_progress)
    except DataFileError as exc:  # Fairshare's own data (packs, lookup, practices) missing
        report.error("data_files", f"Fairshare's reference data could not be read: "
                     f"{_plain(exc, 500)}")
        return None, report
    except Exception as exc:  # noqa: BLE001 - a check must report, never crash a page
        report.error("internal", f"the file could not be checked ({type(exc).__name__}: "
                     f"{_plain(exc)}); please report this")
        return None, report


def _all_periods_meta(meta: Any) -> Mapping[str, Any] | None:
    """The metadata as a mapping when it asks for every period of a file (``period: all``),
    else ``None`` (a YAML file that cannot be read is left to the normal check to report)."""
    if isinstance(meta, str | os.PathLike):
        import yaml

        try:
            path = Path(meta)
            meta = (yaml.safe_load(path.read_text(encoding="utf-8-sig"))
                    if path.stat().st_size <= MAX_META_BYTES else None)
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            return None
    elif isinstance(meta, IndicatorMeta):
        meta = meta.to_mapping()
    if not isinstance(meta, Mapping):
        return None
    period = meta.get("period")
    asks = isinstance(period, str) and period.strip().lower() == ALL_PERIODS
    return meta if asks else None


def _process_checked(data: bytes, name: str, meta_source: Any, report: ValidationReport, *,
                     need_meta: bool, progress: Progress
                     ) -> tuple[Indicator | None, ValidationReport]:
    progress(0.02, f"Reading {_size(len(data))}")
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
    progress(0.35, f"Checking {len(table.frame):,} rows: columns, periods and numbers")
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
    progress(0.6, "Recognising the area codes")
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
    if (options.map_practices_to and not options.map_practices_auto
            and geography not in (None, "practice")):
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
    progress(0.8, "Converting to the stored geography and checking coverage")
    stored = geography
    if geography == "lsoa11":
        out = _convert_lsoa11(out, options, report, cols["area_code"])
        stored = "lsoa21"
    attribution: tuple[str, str] | None = None
    if geography == "practice" and options.map_practices_to == "lsoa21":
        out, kind, note = _practices_to_lsoa(out, options, report)
        attribution = (kind, note)
        report.attribution = kind
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
    labels: dict[str, str] = {}
    if attribution is not None:
        # the caveat rides in the fields every page and briefing already shows
        kind, note = attribution
        extra["attribution"] = kind
        extra["caveats"] = [note]
        labels = {"description": _with_sentence(meta.description, note),
                  # the title travels into every chart, legend, metric and export heading
                  "title": (f"{meta.title} ({ESTIMATED_TITLE})"
                            if kind == "estimated" and ESTIMATED_TITLE not in meta.title
                            else meta.title),
                  "notes": _with_sentence(meta.notes, note),
                  "source": f"{meta.source} (practice values attributed to LSOAs 2021: {kind})"}
    final = dc_replace(meta, geography=stored, period=chosen_period or meta.period,
                       extra=extra, **labels, **dict.fromkeys(COLUMN_KEYS, ""))
    validate_values(out, origin=name)
    progress(1.0, "Checked")
    return Indicator(final, out), report


# --------------------------------------------------------------------------------------
# Public entry points: files and uploads


#: What the title of an indicator estimated from practice values says, wherever it is drawn.
ESTIMATED_TITLE = "estimated from GP practices"


def _with_sentence(text: str, sentence: str) -> str:
    """``text`` followed by ``sentence`` (once), each ending in a full stop."""
    text = (text or "").strip()
    if sentence in text:
        return text
    if text and not text.endswith((".", "!", "?")):
        text += "."
    return f"{text} {sentence}.".strip()


def _size(n: int, digits: int = 1) -> str:
    """A size in decimal units (1 MB = 1,000,000 bytes), e.g. "52.4 MB"."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:,.{digits}f} {unit}"
    return f"{n:,} bytes"


def too_large_message(size: int, limit: int) -> str:
    """ "the file is X; the limit is Y", with enough digits that X and Y differ (a file one
    byte over a 52,428,800-byte limit is not "52.4 MB; the limit is 52.4 MB")."""
    for digits in (1, 2, 3):
        shown, allowed = _size(size, digits), _size(limit, digits)
        if shown != allowed:
            return f"the file is {shown}; the limit is {allowed}"
    return f"the file is {size:,} bytes; the limit is {limit:,} bytes"


def _read_path(path: Path, report: ValidationReport, max_bytes: int) -> bytes | None:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            report.error("too_large", too_large_message(size, max_bytes))
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
                max_bytes: int = MAX_UPLOAD_BYTES, progress: Progress | None = None
                ) -> tuple[Indicator | None, ValidationReport]:
    """Check an uploaded file in memory (never written to disk) for a session indicator.

    ``filename`` only chooses the reader and names the file in messages. ``progress`` is
    called with (fraction done, what is happening) at each stage, for a progress bar.
    Returns the indicator (``None`` when there are errors) and the report; every message is
    plain text.
    """
    safe_name = _plain(Path(str(filename or "upload")).name, 120) or "upload"
    report = ValidationReport(file=safe_name)
    if not isinstance(data, bytes | bytearray | memoryview):
        report.error("unreadable", "no file content received")
        return None, report
    if len(data) > max_bytes:
        report.error("too_large", too_large_message(len(data), max_bytes))
        return None, report
    if meta_mapping is not None and not isinstance(meta_mapping, Mapping):
        report.error("metadata", "metadata must be a mapping of keys to values")
        return None, report
    return _process(bytes(data), safe_name, meta_mapping, need_meta=True, progress=progress)


def file_periods(data: bytes, filename: str) -> list[str]:
    """The distinct periods a file lists in its period column (``period``, ``time period``,
    ``year``, a Fingertips export's ``Time period``), in order; empty when it has none or
    cannot be read (the full check then reports why)."""
    report = ValidationReport(file=Path(str(filename or "upload")).name)
    try:
        table = _read_bytes(bytes(data), report.file, report)
    except Exception:  # noqa: BLE001 - a hint for a form, never an error of its own
        return []
    if table is None or table.frame.empty:
        return []
    wanted = ("time_period", *ALIASES["period"])
    by_norm = {_norm(c): c for c in reversed(list(table.frame.columns))}
    column = next((by_norm[w] for w in wanted if w in by_norm), None)
    return [] if column is None else _distinct(_as_text(table.frame[column]))
