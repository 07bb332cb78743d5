"""Safe, attributed exports: CSV (with a CSVW metadata sidecar), XLSX and GeoJSON of any
table the product shows.

A CSV is plain RFC 4180 (Shafranovich, 2005): UTF-8 without a byte-order mark, the header
row first, CRLF line ends, fields quoted only where they hold a comma, quote or line break,
so ``pandas.read_csv(path)``, R's ``read.csv``, Python's ``csv`` and spreadsheet filters all
read it as it is. Everything about the table (title, each column's title, unit, datatype and
description, the data vintage, the source, the Open Government Licence attribution) goes
into a W3C CSVW metadata sidecar ``NAME.csv-metadata.json`` ("Metadata Vocabulary for
Tabular Data", W3C Recommendation 2015, §5 and "Model for Tabular Data", §5.1 on locating
``-metadata.json`` beside the file). Keeping it out of the CSV means no provenance text can
ever be split into cells or evaluated.

Text cells that a spreadsheet would evaluate (starting ``=``, ``+``, ``-``, ``@``, tab or
carriage return) are prefixed with an apostrophe (OWASP, "CSV Injection").

Disclosure control: columns named as person counts are suppressed with
:func:`analysis.disclosure.suppression_mask` (primary and secondary suppression within the
column) and columns derived from them (rates, percentages) are hidden in the same rows, so
the count cannot be worked back. Counts of practices, areas or sites are not person counts
and are never suppressed.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.data import ATTRIBUTION, OGL, OGL_URL
from analysis.disclosure import DEFAULT_THRESHOLD, SUPPRESSED, suppression_mask

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSVW_CONTEXT = "http://www.w3.org/ns/csvw"
METADATA_SUFFIX = "-metadata.json"
#: Cells CSVW readers treat as "no value": an empty cell and the suppression symbol.
NULL_MARKERS = ("", SUPPRESSED)
_XSD_OF_KIND = {"i": "integer", "u": "integer", "f": "number", "b": "boolean",
                "M": "datetime"}


# --------------------------------------------------------------------------------------
# Formula injection


def neutralise_cell(value: object) -> object:
    """Prefix a text value that a spreadsheet would evaluate as a formula with ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``frame`` with every text cell and column name neutralised.

    Numbers are left alone (a negative number is data, not a formula).
    """
    out = frame.copy()
    out.columns = [neutralise_cell(str(c)) for c in out.columns]
    for position in range(out.shape[1]):
        series = out.iloc[:, position]
        if not (pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)
                or isinstance(series.dtype, pd.CategoricalDtype)):
            continue
        out.isetitem(position, series.astype(object).map(neutralise_cell))
    return out


# --------------------------------------------------------------------------------------
# What an export says about itself


@dataclass(frozen=True)
class ColumnInfo:
    """What one exported column holds: a title, a unit, a description, whether it counts
    people (then small values are suppressed) and whether it is computed from the person
    counts of its row (a rate or share: hidden where they are). ``datatype`` (a CSVW
    datatype: string, integer, number, boolean) is inferred when empty."""

    title: str = ""
    unit: str = ""
    description: str = ""
    datatype: str = ""
    person_count: bool = False
    from_counts: bool = False


@dataclass(frozen=True)
class ExportInfo:
    """Everything an export carries besides its cells (the CSVW sidecar, the About sheet)."""

    title: str = "Fairshare table"
    vintage: str = ""
    source: str = ""
    description: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)
    columns: Mapping[str, ColumnInfo] = field(default_factory=dict)


def provenance_lines(vintage: str | None = None, extra: Mapping[str, str] | None = None,
                     *, title: str | None = None, source: str | None = None
                     ) -> list[tuple[str, str]]:
    """(key, value) pairs describing an export: title, date, vintage, source, licence."""
    lines = [("Produced by", "Fairshare"), ("Date", date.today().isoformat())]
    if title:
        lines.insert(0, ("Title", title))
    if vintage:
        lines.append(("Data vintage", vintage))
    if source:
        lines.append(("Source", source))
    for key, value in (extra or {}).items():
        lines.append((key, value))
    lines += [("Licence", f"{OGL} ({OGL_URL})"), ("Attribution", ATTRIBUTION)]
    return lines


# --------------------------------------------------------------------------------------
# Disclosure control


def suppress_frame(frame: pd.DataFrame, person_counts: Iterable[str] = (), *,
                   derived: Iterable[str] = (), threshold: int = DEFAULT_THRESHOLD
                   ) -> pd.DataFrame:
    """Copy of ``frame`` with small person counts shown as :data:`SUPPRESSED` ("[c]").

    Each column in ``person_counts`` is suppressed on its own with
    :func:`analysis.disclosure.suppression_mask` (counts 1 to ``threshold`` − 1, plus one
    more where a single hidden cell could be recovered from the column total). A cell of a
    ``derived`` column (a rate or share computed from those counts) is hidden in every row
    where a count is hidden, since count = rate × denominator. Other columns are untouched:
    counts of practices or areas are not personal data.
    """
    counts = [c for c in person_counts if c in frame.columns]
    if not counts:
        return frame
    out = frame.copy()
    hidden_rows = np.zeros(len(out), dtype=bool)
    for column in counts:
        mask = np.asarray(suppression_mask(pd.to_numeric(out[column], errors="coerce")
                                           .tolist(), threshold), dtype=bool)
        hidden_rows |= mask
        out[column] = _with_marker(out[column], mask)
    for column in derived:
        if column in out.columns and column not in counts:
            out[column] = _with_marker(out[column], hidden_rows)
    return out


def _with_marker(series: pd.Series, mask: np.ndarray) -> pd.Series:
    if not mask.any():
        return series
    values = series.astype(object).copy()
    values[mask] = SUPPRESSED
    return values


# --------------------------------------------------------------------------------------
# CSV and its CSVW sidecar


def _plain_text(value: object) -> str:
    """One line of text: control characters (CR, LF, tab …) become spaces."""
    return re.sub(r"[\x00-\x1f\x7f\u2028\u2029]+", " ", str(value)).strip()


def _texts(pairs: Mapping[str, str]) -> dict[str, str]:
    """The non-empty ones of ``pairs``, each as one line of plain text."""
    return {key: _plain_text(value) for key, value in pairs.items() if value}


def _csvw_name(title: str, used: set[str]) -> str:
    """A CSVW column ``name`` (URI-template variable: letters, digits, ``_``)."""
    base = re.sub(r"[^A-Za-z0-9_]+", "_", title).strip("_") or "column"
    if base[0].isdigit():
        base = f"c_{base}"
    name, k = base, 2
    while name in used:
        name, k = f"{base}_{k}", k + 1
    used.add(name)
    return name


def _datatype(series: pd.Series) -> str:
    """The CSVW datatype of an exported column (``[c]`` and blanks are null markers)."""
    kind = series.dtype.kind
    if kind in _XSD_OF_KIND:
        return _XSD_OF_KIND[kind]
    values = [v for v in series.tolist() if v is not None and not (
        isinstance(v, float) and math.isnan(v)) and v != SUPPRESSED]
    if values and all(isinstance(v, bool | np.bool_) for v in values):
        return "boolean"
    if values and all(isinstance(v, int | np.integer) and not isinstance(v, bool)
                      for v in values):
        return "integer"
    if values and all(isinstance(v, int | float | np.number) and not isinstance(v, bool)
                      for v in values):
        return "number"
    return "string"


def _prepare(frame: pd.DataFrame, info: ExportInfo, threshold: int) -> pd.DataFrame:
    person_counts = [c for c, meta in info.columns.items() if meta.person_count]
    derived = [c for c, meta in info.columns.items() if meta.from_counts]
    return suppress_frame(frame, person_counts, derived=derived, threshold=threshold)


def _info(info: ExportInfo | None, vintage: str | None, extra: Mapping[str, str] | None,
          title: str | None) -> ExportInfo:
    base = info or ExportInfo()
    return ExportInfo(title=title or base.title, vintage=vintage or base.vintage,
                      source=base.source, description=base.description,
                      extra={**dict(base.extra), **dict(extra or {})}, columns=base.columns)


def csvw_metadata(frame: pd.DataFrame, csv_name: str, info: ExportInfo, *,
                  threshold: int = DEFAULT_THRESHOLD) -> dict:
    """The CSVW metadata document (W3C "Metadata Vocabulary for Tabular Data") of ``frame``
    as exported to ``csv_name``: title, columns with titles, units and datatypes, vintage,
    source and the OGL licence and attribution."""
    prepared = _prepare(frame, info, threshold)
    used: set[str] = set()
    columns = []
    for position, column in enumerate(frame.columns):
        meta = info.columns.get(column, ColumnInfo())
        header = str(neutralise_cell(str(column)))
        datatype = meta.datatype or _datatype(frame.iloc[:, position])
        entry: dict = {"name": _csvw_name(str(column), used), "titles": header,
                       "datatype": datatype, "null": list(NULL_MARKERS),
                       **_texts({"dc:title": meta.title, "schema:unitText": meta.unit,
                                 "dc:description": meta.description})}
        if meta.person_count:
            hidden = int((prepared.iloc[:, position].astype(object) == SUPPRESSED).sum())
            entry["rdfs:comment"] = (
                f"Count of people: counts from 1 to {threshold - 1} are shown as "
                f"{SUPPRESSED}, with one more where the total would reveal them "
                f"({hidden:,} cell(s) suppressed).")
        columns.append(entry)
    document: dict = {
        "@context": CSVW_CONTEXT,
        "url": csv_name,
        "dc:title": _plain_text(info.title),
        "dc:creator": "Fairshare",
        "dc:created": {"@value": date.today().isoformat(), "@type": "xsd:date"},
        "dc:license": {"@id": OGL_URL},
        "dc:rights": ATTRIBUTION,
        "dialect": {"encoding": "utf-8", "header": True, "delimiter": ",",
                    "doubleQuote": True, "lineTerminators": ["\r\n", "\n"]},
        "tableSchema": {"columns": columns},
        **_texts({"dc:description": info.description, "dc:temporal": info.vintage,
                  "dc:source": info.source}),
    }
    if info.extra:
        document["notes"] = [{"dc:title": _plain_text(k), "rdf:value": _plain_text(v)}
                             for k, v in info.extra.items()]
    return document


def to_csv_bytes(frame: pd.DataFrame, *, vintage: str | None = None,
                 extra: Mapping[str, str] | None = None, info: ExportInfo | None = None,
                 threshold: int = DEFAULT_THRESHOLD) -> bytes:
    """Plain RFC 4180 CSV of ``frame``: UTF-8, no byte-order mark, header row first.

    Person-count columns named in ``info.columns`` are suppressed (``[c]``); text cells are
    formula-neutralised. ``vintage`` and ``extra`` are accepted for older callers: they
    belong in the sidecar (:func:`csvw_metadata`, :func:`write_csv`), not in the file.
    """
    del vintage, extra  # provenance lives in the CSVW sidecar, never in the cells
    prepared = neutralise_frame(_prepare(frame, info or ExportInfo(), threshold))
    buffer = io.StringIO(newline="")
    prepared.to_csv(buffer, index=False, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    return buffer.getvalue().encode("utf-8")


def csv_with_metadata(frame: pd.DataFrame, name: str, *, vintage: str | None = None,
                      extra: Mapping[str, str] | None = None, info: ExportInfo | None = None,
                      title: str | None = None, threshold: int = DEFAULT_THRESHOLD
                      ) -> tuple[bytes, bytes]:
    """(CSV bytes, CSVW sidecar bytes) of ``frame`` exported as ``name`` (e.g. ``x.csv``)."""
    full = _info(info, vintage, extra, title)
    data = to_csv_bytes(frame, info=full, threshold=threshold)
    metadata = csvw_metadata(frame, Path(name).name, full, threshold=threshold)
    return data, (json.dumps(metadata, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def metadata_path(csv_path: str | Path) -> Path:
    """Where the CSVW sidecar of ``csv_path`` goes: ``NAME.csv-metadata.json`` beside it."""
    path = Path(csv_path)
    return path.with_name(path.name + METADATA_SUFFIX)


def write_csv(path: str | Path, frame: pd.DataFrame, *, vintage: str | None = None,
              extra: Mapping[str, str] | None = None, info: ExportInfo | None = None,
              title: str | None = None, threshold: int = DEFAULT_THRESHOLD) -> Path:
    """Write ``frame`` to ``path`` as plain CSV and its CSVW sidecar beside it; returns the
    sidecar's path (what ``--out FILE.csv`` of the CLI does)."""
    target = Path(path)
    data, metadata = csv_with_metadata(frame, target.name, vintage=vintage, extra=extra,
                                       info=info, title=title or (None if info else target.stem),
                                       threshold=threshold)
    target.write_bytes(data)
    sidecar = metadata_path(target)
    sidecar.write_bytes(metadata)
    return sidecar


def csv_zip_bytes(frame: pd.DataFrame, name: str, *, vintage: str | None = None,
                  extra: Mapping[str, str] | None = None, info: ExportInfo | None = None,
                  title: str | None = None, threshold: int = DEFAULT_THRESHOLD) -> bytes:
    """A zip of ``NAME.csv`` and ``NAME.csv-metadata.json`` (the dashboard's CSV download)."""
    csv_name = Path(name).name if name.endswith(".csv") else f"{Path(name).name}.csv"
    data, metadata = csv_with_metadata(frame, csv_name, vintage=vintage, extra=extra,
                                       info=info, title=title, threshold=threshold)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(csv_name, data)
        archive.writestr(csv_name + METADATA_SUFFIX, metadata)
    return buffer.getvalue()


def _cell_fits(text: str, datatype: str) -> bool:
    if datatype in ("string", "datetime"):
        return True
    if datatype == "boolean":
        return text in ("True", "False", "true", "false", "1", "0")
    try:
        number = float(text)
    except ValueError:
        return False
    return datatype != "integer" or (math.isfinite(number) and number == int(number))


def validate_csvw(csv_bytes: bytes, metadata: Mapping) -> list[str]:
    """Problems between a CSV and its CSVW sidecar (empty when they agree): the header must
    equal the columns' ``titles`` in order, every row must have one cell per column, and every
    cell that is not a null marker must be of its column's datatype."""
    problems: list[str] = []
    if csv_bytes.startswith(b"\xef\xbb\xbf"):
        problems.append("the CSV starts with a byte-order mark")
    columns = metadata.get("tableSchema", {}).get("columns", [])
    rows = list(csv.reader(io.StringIO(csv_bytes.decode("utf-8"), newline="")))
    if not rows:
        return [*problems, "the CSV has no header row"]
    titles = [c.get("titles") for c in columns]
    if rows[0] != titles:
        problems.append(f"header {rows[0]} differs from the sidecar's titles {titles}")
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(columns):
            problems.append(f"row {number} has {len(row)} cells for {len(columns)} columns")
            continue
        for cell, column in zip(row, columns, strict=True):
            if cell in column.get("null", [""]):
                continue
            if not _cell_fits(cell, column.get("datatype", "string")):
                problems.append(f"row {number}: {cell!r} is not {column['datatype']} "
                                f"({column['titles']})")
    return problems


# --------------------------------------------------------------------------------------
# XLSX and GeoJSON


def _about_frame(frame: pd.DataFrame, info: ExportInfo, threshold: int) -> pd.DataFrame:
    lines = provenance_lines(info.vintage, info.extra, title=info.title, source=info.source)
    rows = [(key, _plain_text(value)) for key, value in lines]
    for column in frame.columns:
        meta = info.columns.get(column)
        if meta is None:
            continue
        parts = [meta.title, f"unit: {meta.unit}" if meta.unit else "", meta.description,
                 f"counts of people from 1 to {threshold - 1} shown as {SUPPRESSED}"
                 if meta.person_count else ""]
        rows.append((f"Column {column}", _plain_text("; ".join(p for p in parts if p))))
    return pd.DataFrame(rows, columns=["item", "value"])


def to_xlsx_bytes(frame: pd.DataFrame, *, sheet: str = "data", vintage: str | None = None,
                  extra: Mapping[str, str] | None = None, info: ExportInfo | None = None,
                  title: str | None = None, threshold: int = DEFAULT_THRESHOLD) -> bytes:
    """XLSX workbook: the table on one sheet (person counts suppressed), and an "about"
    sheet with the title, vintage, source, columns, licence and attribution."""
    full = _info(info, vintage, extra, title)
    buffer = io.BytesIO()
    safe_sheet = "".join(ch for ch in sheet if ch not in '[]:*?/\\')[:31] or "data"
    if safe_sheet.lower() == "about":  # the provenance sheet
        safe_sheet = "data"
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        neutralise_frame(_prepare(frame, full, threshold)).to_excel(
            writer, sheet_name=safe_sheet, index=False)
        about = _about_frame(frame, full, threshold)
        neutralise_frame(about).to_excel(writer, sheet_name="about", index=False)
    return buffer.getvalue()


def to_geojson_bytes(geoframe, *, vintage: str | None = None, precision: int = 6,
                     info: ExportInfo | None = None, threshold: int = DEFAULT_THRESHOLD
                     ) -> bytes:
    """GeoJSON FeatureCollection with provenance in a top-level ``metadata`` member (person
    counts suppressed as in the CSV)."""
    full = _info(info, vintage, None, None)
    frame = geoframe.to_crs(4326) if geoframe.crs is not None else geoframe
    frame = _prepare(frame, full, threshold)
    features = json.loads(frame.to_json(na="null", drop_id=True, to_wgs84=False))

    def rounded(coords):
        if isinstance(coords, list | tuple) and coords and isinstance(coords[0], int | float):
            return [round(float(c), precision) for c in coords]
        return [rounded(c) for c in coords]

    for feature in features["features"]:
        if feature.get("geometry"):
            feature["geometry"]["coordinates"] = rounded(feature["geometry"]["coordinates"])
    features["metadata"] = dict(provenance_lines(full.vintage, full.extra,
                                                 title=full.title if info else None,
                                                 source=full.source))
    return json.dumps(features, ensure_ascii=False, allow_nan=False,
                      default=_json_default).encode("utf-8")


def column_info_for(columns: Sequence[str], *, person_counts: Iterable[str] = (),
                    derived: Iterable[str] = (), units: Mapping[str, str] | None = None,
                    titles: Mapping[str, str] | None = None) -> dict[str, ColumnInfo]:
    """Column metadata from plain lists (what the dashboard's download helper is given)."""
    counts, rates = set(person_counts), set(derived)
    units, titles = dict(units or {}), dict(titles or {})
    return {c: ColumnInfo(title=titles.get(c, ""), unit=units.get(c, ""),
                          person_count=c in counts, from_counts=c in rates and c not in counts)
            for c in columns if c in counts or c in rates or c in units or c in titles}


def _json_default(value: object) -> object:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if np.isnan(value) else float(value)
    return str(value)
