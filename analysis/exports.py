"""Safe, attributed exports: CSV, XLSX and GeoJSON of any table the product shows.

Every export carries the data vintage and the Open Government Licence attribution, and
neutralises spreadsheet formula injection: a text cell beginning with ``=``, ``+``, ``-``,
``@``, tab or carriage return is prefixed with an apostrophe so that Excel and LibreOffice
show it as text instead of evaluating it (OWASP, "CSV Injection").
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from datetime import date

import numpy as np
import pandas as pd

from analysis.data import ATTRIBUTION, OGL_URL

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


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
    for column in out.columns:
        series = out[column]
        if not (pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)
                or isinstance(series.dtype, pd.CategoricalDtype)):
            continue
        as_text = series.astype(object)
        out[column] = as_text.map(neutralise_cell)
    return out


def provenance_lines(vintage: str | None = None, extra: Mapping[str, str] | None = None
                     ) -> list[tuple[str, str]]:
    """(key, value) pairs describing an export: title lines, vintage, licence, date."""
    lines = [("Produced by", "Fairshare"), ("Date", date.today().isoformat())]
    if vintage:
        lines.append(("Data vintage", vintage))
    for key, value in (extra or {}).items():
        lines.append((key, value))
    lines += [("Licence", f"Open Government Licence v3.0 ({OGL_URL})"),
              ("Attribution", ATTRIBUTION)]
    return lines


def to_csv_bytes(frame: pd.DataFrame, *, vintage: str | None = None,
                 extra: Mapping[str, str] | None = None) -> bytes:
    """UTF-8 CSV (with BOM, for Excel) of ``frame``, preceded by ``#`` provenance lines.

    The comment lines are read back by ``pd.read_csv(..., comment="#")``.
    """
    buffer = io.StringIO()
    for key, value in provenance_lines(vintage, extra):
        text = str(value).replace("\n", " ")
        buffer.write(f"# {key}: {text}\n")
    neutralise_frame(frame).to_csv(buffer, index=False)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx_bytes(frame: pd.DataFrame, *, sheet: str = "data", vintage: str | None = None,
                  extra: Mapping[str, str] | None = None) -> bytes:
    """XLSX workbook: the table on one sheet, provenance and attribution on an "about" sheet."""
    buffer = io.BytesIO()
    about = pd.DataFrame(provenance_lines(vintage, extra), columns=["item", "value"])
    safe_sheet = "".join(ch for ch in sheet if ch not in '[]:*?/\\')[:31] or "data"
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        neutralise_frame(frame).to_excel(writer, sheet_name=safe_sheet, index=False)
        neutralise_frame(about).to_excel(writer, sheet_name="about", index=False)
    return buffer.getvalue()


def to_geojson_bytes(geoframe, *, vintage: str | None = None, precision: int = 6) -> bytes:
    """GeoJSON FeatureCollection with provenance in a top-level ``metadata`` member."""
    frame = geoframe.to_crs(4326) if geoframe.crs is not None else geoframe
    features = json.loads(frame.to_json(na="null", drop_id=True, to_wgs84=False))

    def rounded(coords):
        if isinstance(coords, list | tuple) and coords and isinstance(coords[0], int | float):
            return [round(float(c), precision) for c in coords]
        return [rounded(c) for c in coords]

    for feature in features["features"]:
        if feature.get("geometry"):
            feature["geometry"]["coordinates"] = rounded(feature["geometry"]["coordinates"])
    features["metadata"] = dict(provenance_lines(vintage))
    return json.dumps(features, ensure_ascii=False, allow_nan=False,
                      default=_json_default).encode("utf-8")


def _json_default(value: object) -> object:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if np.isnan(value) else float(value)
    return str(value)
