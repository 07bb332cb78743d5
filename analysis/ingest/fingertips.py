"""Fingertips exports as downloaded: recognised by their columns, filtered to one indicator,
area type, period, sex and age (no category breakdowns), with their confidence limits kept.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from analysis.ingest.geography import (
    GEOGRAPHY_FAMILY,
    SUPPORTED_FAMILIES,
    _families,
    _family_label,
)
from analysis.ingest.metadata import _Options
from analysis.ingest.readers import _as_text, _distinct, _norm, _read_bytes, _Table
from analysis.ingest.report import ValidationReport, _show

FINGERTIPS_REQUIRED = ("area_code", "area_type", "time_period", "value")


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


#: ``period: all`` in the metadata of a Fingertips export keeps every period as one
#: indicator with periods (any other value keeps one period, as before).
ALL_PERIODS = "all"


def export_periods(frame: pd.DataFrame) -> list[str]:
    """The distinct ``Time period`` labels of a Fingertips export, oldest first (by ``Time
    period Sortable`` where present, else by the first year in the label)."""
    col = {_norm(c): c for c in reversed(list(frame.columns))}
    periods = _as_text(frame[col["time_period"]])
    no_key = pd.Series(np.nan, index=frame.index)
    sortable = pd.to_numeric(_as_text(frame[col["time_period_sortable"]])
                             if "time_period_sortable" in col else no_key, errors="coerce")
    best = sortable.groupby(periods).max()
    return sorted((p for p in _distinct(periods) if p),
                  key=lambda p: (_period_key(p, best.get(p)), p))


def fingertips_all_periods(data: bytes, name: str, meta: Any
                           ) -> tuple[Any, ValidationReport]:
    """A Fingertips export with several periods as **one** indicator with periods: each
    period is checked exactly as a one-period import (``period`` set to it), the latest
    first, which fixes the area type's geography for the others; periods in which that
    geography has no rows (e.g. England-only years) are left out and said. Returns the
    indicator (``data`` with a ``period`` column, ``meta.periods`` oldest first and
    ``meta.period`` the latest) and the latest period's report, or ``None`` and the
    report of the period that failed."""
    from dataclasses import replace

    from analysis.data import Indicator, IndicatorMeta

    # imported here: validation imports this module
    from analysis.ingest.validation import _process

    report = ValidationReport(file=name)
    table = _read_bytes(data, name, report)
    if table is None:
        return None, report
    if not _is_fingertips(table.frame.columns):
        report.error("period", "period: all is for Fingertips exports (Area Type and Time "
                     "period columns); give one period for other files")
        return None, report
    raw = dict(meta.to_mapping() if isinstance(meta, IndicatorMeta) else meta)
    periods = export_periods(table.frame)
    latest, latest_report = _process(data, name, {**raw, "period": periods[-1]})
    if latest is None:
        return None, latest_report
    fixed = {**raw, "geography": latest_report.geography or raw.get("geography", "auto")}
    parts, kept, left_out = [latest.data.assign(period=periods[-1])], [periods[-1]], []
    for period in reversed(periods[:-1]):
        indicator, period_report = _process(data, name, {**fixed, "period": period})
        if indicator is None:
            if all(i.rule == "fingertips" for i in period_report.errors):
                left_out.append(period)  # no rows of this geography in that period
                continue
            period_report.notes.append(f"(checking period {period})")
            return None, period_report
        parts.append(indicator.data.assign(period=period))
        kept.append(period)
    kept.reverse()
    if left_out:
        latest_report.notes.append(
            f"Periods without rows of this geography, left out: {', '.join(sorted(left_out))}")
    latest_report.notes.append(f"Fingertips export: {len(kept)} periods kept as one "
                               f"indicator ({kept[0]} to {kept[-1]})")
    combined = pd.concat(parts[::-1], ignore_index=True)
    final = replace(latest.meta, period=kept[-1], periods=tuple(kept))
    return Indicator(final, combined), latest_report
