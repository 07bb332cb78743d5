"""The audit's tables as exports: plain CSV with a CSVW sidecar each, an XLSX workbook with an
About sheet, and the JSON summary. Person counts of 1 to 4 are blank in every one of them, and
so is every rate or ratio on the same row (it would give the count away)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.audit.reading import RATE_COLUMNS, SIMULATED_CAVEAT, suppressed_table, to_json
from analysis.audit.results import RATE_UNIT, AuditResult
from analysis.data.postcodes import POSTCODE_ATTRIBUTION
from analysis.exports import ColumnInfo, ExportInfo, csv_with_metadata

_COLUMNS: Mapping[str, ColumnInfo] = {
    "events": ColumnInfo(title="Records (events)", unit="records", person_count=True),
    "observed": ColumnInfo(title="Records observed", unit="records", person_count=True),
    "population": ColumnInfo(title="Population (denominator)", unit="people"),
    "dsr": ColumnInfo(title="Directly age-standardised rate (ESP 2013)", unit=RATE_UNIT),
    "lower": ColumnInfo(title="Lower 95% limit", unit=RATE_UNIT),
    "upper": ColumnInfo(title="Upper 95% limit", unit=RATE_UNIT),
    "rate": ColumnInfo(title="Crude rate", unit=RATE_UNIT),
    "expected": ColumnInfo(title="Records expected for the age structure", unit="records"),
    "ratio": ColumnInfo(title="Observed as % of expected (indirectly standardised ratio)",
                        unit="100 = as expected"),
    "ratio_lower": ColumnInfo(title="Ratio, lower 95% limit", unit="100 = as expected"),
    "ratio_upper": ColumnInfo(title="Ratio, upper 95% limit", unit="100 = as expected"),
    "quintile": ColumnInfo(title="Deprivation quintile", unit="1 = most deprived fifth"),
    "decile": ColumnInfo(title="Deprivation decile", unit="1 = most deprived tenth"),
    "suppressed": ColumnInfo(title="Counts of 1 to 4 and the figures derived from them hidden"),
}


@dataclass(frozen=True)
class AuditTable:
    name: str
    title: str
    frame: pd.DataFrame


def audit_tables(result: AuditResult) -> list[AuditTable]:
    """Every table of the audit, suppressed and ready to export."""
    def table(name: str, title: str, frame: pd.DataFrame) -> AuditTable:
        shown = suppressed_table(frame, ("events", "observed"), RATE_COLUMNS)
        return AuditTable(name, title, shown)

    areas = result.areas.rename(columns={"lower95": "lower_limit_95",
                                         "upper95": "upper_limit_95",
                                         "lower998": "lower_limit_998",
                                         "upper998": "upper_limit_998"})
    tables = [
        table("by_deprivation_quintile", "Records by deprivation quintile", result.by_quintile),
        table("by_deprivation_decile", "Records by deprivation decile", result.by_decile),
        table("by_age", "Records by age band", result.by_age),
        table("by_sex", "Records by sex", result.by_sex),
        table("by_ethnicity", "Records by ethnic group", result.by_ethnicity),
        table("by_deprivation_and_ethnicity", "Records by deprivation quintile and ethnic "
              "group", result.by_quintile_ethnicity),
        table("small_areas", "Observed and expected records by small area", areas),
    ]
    tables += [table(f"by_{role}", f"Records by {role} and deprivation quintile", frame)
               for role, frame in result.splits.items()]
    return tables


def export_info(result: AuditResult, table: AuditTable) -> ExportInfo:
    """Title, provenance and column descriptions for one exported table."""
    extra = {"Study area": result.study.describe(), "Population": result.denominator_source,
             "Deprivation": result.deprivation_source,
             "Records": f"{result.events:,} used of {result.rows:,}"}
    if result.simulated:
        extra["Simulated"] = SIMULATED_CAVEAT
    if any(k.startswith("postcode") for k in result.quality.get("area_sources", {})):
        extra["Postcodes"] = POSTCODE_ATTRIBUTION
    return ExportInfo(title=f"Equity audit of {result.service}: {table.title.lower()}",
                      vintage=f"records over {result.years:.2f} years",
                      source="the service's own records; " + result.denominator_source,
                      description=("Simulated records. " if result.simulated else "")
                      + f"Rates {RATE_UNIT}.", extra=extra,
                      columns={k: v for k, v in _COLUMNS.items() if k in table.frame.columns})


def write_audit(result: AuditResult, out_dir: Path) -> list[Path]:
    """Write every table (CSV + CSVW sidecar) and ``audit.json`` into ``out_dir``
    atomically, file by file; returns the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for table in audit_tables(result):
        data, metadata = csv_with_metadata(table.frame, f"{table.name}.csv",
                                           info=export_info(result, table))
        written += [_atomic(out_dir / f"{table.name}.csv", data),
                    _atomic(out_dir / f"{table.name}.csv-metadata.json", metadata)]
    summary = json.dumps(to_json(result), indent=2, ensure_ascii=False) + "\n"
    written.append(_atomic(out_dir / "audit.json", summary.encode("utf-8")))
    return written


def _atomic(path: Path, data: bytes) -> Path:
    temporary = path.with_name(f".{path.name}.part")
    temporary.write_bytes(data)
    temporary.replace(path)
    return path
