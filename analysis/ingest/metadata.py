"""Metadata of an added indicator: the keys of ``indicator.yaml``
(:class:`analysis.data.indicators.IndicatorMeta`) from a mapping, an ``IndicatorMeta`` or a
YAML file, every problem reported at once, and the import options read from them leniently
(geography, column names, Fingertips filters, practice mapping) so the data checks still run.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis.data.indicators import (
    AGGREGATIONS,
    GEOGRAPHIES,
    INDICATOR_ID,
    KINDS,
    MAX_DECIMALS,
    POLARITIES,
    IndicatorError,
    IndicatorMeta,
    parse_decimals,
)
from analysis.ingest.report import ValidationReport, _plain, _show

MAX_META_BYTES = 1024 * 1024

PRACTICE_TARGETS = {"lsoa21": "lsoa21_code", "ltla": "ltla_code", "sicbl": "sicbl_code",
                    "icb": "icb_code"}
ROLE_KEYS = {"area_code": "area_code_column", "value": "value_column",
             "numerator": "numerator_column", "denominator": "denominator_column",
             "lower_ci": "lower_ci_column", "upper_ci": "upper_ci_column"}
# Keys of a metadata mapping that steer the import and are not kept in the stored package
IMPORT_KEYS = ("area_type", "sex", "age", "fingertips_indicator", "map_practices_to",
               "drop_unknown_codes")


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
    #: ``map_practices_to: auto``: LSOA 2021 when the codes are practices, silent otherwise
    map_practices_auto: bool = False
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
    if target == "auto":
        opts.map_practices_to, opts.map_practices_auto = "lsoa21", True
    elif target and target not in ("practice", "keep"):
        if target in PRACTICE_TARGETS:
            opts.map_practices_to = target
        else:
            report.error("metadata", f"map_practices_to is {_show(target)}; allowed: keep, auto, "
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

#: The polarity to suggest for each kind: a need indicator usually measures something bad
#: (deprivation, illness), provision something good; an outcome can go either way
#: (mortality vs life expectancy), so the analyst must choose; context has none.
DEFAULT_POLARITY: dict[str, str | None] = {"need": "higher_is_worse",
                                           "provision": "higher_is_better",
                                           "outcome": None, "context": "neutral"}


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
    if "decimals" in raw and parse_decimals(raw["decimals"]) is None:
        problems.append(("decimals", f"decimals is {_show(raw['decimals'])}; it must be a whole "
                                     f"number from 0 to {MAX_DECIMALS}"))
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
