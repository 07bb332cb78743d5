"""What a run is reported as: comparisons, the CSV export, batch runs and map layers.

:func:`compare` puts 2-4 results side by side, :func:`result_csv_bytes` writes the attributed
per-area CSV, :func:`run_scenario_file` runs a scenario file (the CLI's and the briefing's
entry point), and :func:`small_area_changes` / :func:`practice_change_points` turn a result
into the winners-and-losers map layers.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.allocation.model import AllocationResult, allocate
from analysis.allocation.scenario import SCHEMA_VERSION, load_scenario
from analysis.data import IndicatorRegistry

__all__ = [
    "COMPARE_METRICS",
    "compare",
    "practice_change_points",
    "result_csv_bytes",
    "result_export_info",
    "run_scenario_file",
    "small_area_changes",
]

COMPARE_METRICS: tuple[str, ...] = (
    "level", "convergence", "unit", "years", "alpha", "budget", "total_allocated", "areas",
    "winners", "losers", "unchanged", "released", "released_amount", "areas_at_target",
    "under_target_losers", "over_target_gainers", "moved_away_from_target", "largest_gain_pct",
    "largest_loss_pct",
    "moved", "concentration_index_before", "concentration_index_after",
    "concentration_index_deprivation_before", "concentration_index_deprivation_after",
    "sii_before", "sii_after", "fair_share_shortfall_before", "fair_share_shortfall_after",
    "most_deprived_quintile_below_fair_share_before",
    "most_deprived_quintile_below_fair_share_after",
    "most_deprived_quintile_below_target_before", "most_deprived_quintile_below_target_after",
    "distance_to_target_before", "distance_to_target_after", "share_of_gap_closed",
)


def compare(results: Sequence[AllocationResult]) -> pd.DataFrame:
    """Summary metrics of 2-4 results side by side: one row per metric, one column per scenario.

    Columns are the scenario names (suffixed ``#2``... when names repeat).
    """
    if not 2 <= len(results) <= 4:
        raise ValueError(f"compare takes 2 to 4 results, got {len(results)}")
    columns: dict[str, list[Any]] = {}
    for result in results:
        if not isinstance(result, AllocationResult):
            raise ValueError("compare takes AllocationResult objects")
        name = result.scenario.name
        label, k = name, 2
        while label in columns:
            label, k = f"{name} #{k}", k + 1
        summary = result.summary()
        columns[label] = [summary.get(metric) for metric in COMPARE_METRICS]
    return pd.DataFrame(columns, index=pd.Index(COMPARE_METRICS, name="metric"))


def _vintage(result: AllocationResult) -> str:
    return "; ".join(result.sources)


def result_export_info(result: AllocationResult) -> Any:
    """The :class:`analysis.exports.ExportInfo` of the per-area table: title, vintage, the
    method and notes, and each amount column with the scenario's unit."""
    from analysis.allocation.readings import column_units
    from analysis.exports import ColumnInfo, ExportInfo

    scenario = result.scenario
    extra = {
        "Scenario": f"{scenario.name} ({scenario.title})" if scenario.title else scenario.name,
        "Method": (f"target = B[alpha pop share + (1 - alpha) need share], alpha = "
                   f"{scenario.alpha:g}; {scenario.years} year(s); objective "
                   f"{scenario.objective}; convergence {scenario.convergence}; amounts in "
                   f"{result.unit}, per-head columns in {result.per_head_unit}; Fairshare "
                   f"allocation schema {SCHEMA_VERSION}"),
    }
    if result.notes:
        extra["Notes"] = " | ".join(result.notes)
    columns = {name: ColumnInfo(unit=unit) for name, unit in column_units(result).items()}
    columns["population"] = ColumnInfo(unit=scenario.population_noun())
    return ExportInfo(title=scenario.title or scenario.name, vintage=_vintage(result),
                      source="Fairshare allocation modeller", extra=extra, columns=columns)


def result_csv_bytes(result: AllocationResult) -> bytes:
    """The per-area table as plain, formula-injection-safe CSV (its metadata:
    :func:`result_export_info`)."""
    from analysis.exports import to_csv_bytes

    return to_csv_bytes(result.to_frame(), info=result_export_info(result))


def run_scenario_file(path: str | Path, out_csv: str | Path | None = None, *,
                      registry: IndicatorRegistry | None = None) -> AllocationResult:
    """Load a scenario JSON file, run it, and optionally write the per-area CSV.

    A relative CSV path inside the scenario is read from the scenario file's folder. The CSV
    is written by :func:`analysis.exports.write_csv`: plain CSV with its CSVW sidecar
    ``NAME.csv-metadata.json`` (title, units, vintage, method, OGL attribution).
    """
    file = Path(path)
    scenario = load_scenario(file)
    result = allocate(scenario, registry=registry, base_dir=file.resolve().parent)
    if out_csv is not None:
        from analysis.exports import write_csv

        write_csv(out_csv, result.to_frame(), info=result_export_info(result))
    return result


LEVEL_COLUMNS = {"lsoa21": "lsoa21_code", "ltla": "ltla_code", "sicbl": "sicbl_code",
                 "icb": "icb_code"}


def small_area_changes(result: AllocationResult) -> pd.DataFrame:
    """Each LSOA 2021 in the scenario's areas with its area's change, for mapping.

    Indexed by LSOA code: ``area_code``, ``area_name``, ``change_pct`` and ``allocation``
    (final-year £ of the area). Only for area levels; practices are points, not areas.
    """
    level = result.scenario.level
    if level not in LEVEL_COLUMNS:
        raise ValueError(f"level {level!r} has no polygons; map practices as points")
    from analysis.data import load_pack_table

    table = load_pack_table("england")
    parent = table[LEVEL_COLUMNS[level]].astype(str)
    areas = result.areas.set_index("area_code")
    keep = parent.isin(areas.index)
    parent = parent[keep]
    return pd.DataFrame({
        "area_code": parent,
        "area_name": parent.map(areas["area_name"]),
        "change_pct": parent.map(areas["change_pct"]).astype(float),
        "allocation": parent.map(areas["allocation"]).astype(float),
    }, index=parent.index)


def practice_change_points(result: AllocationResult) -> pd.DataFrame:
    """Practices (or PCNs) of a practice- or PCN-level result as map points: ``lon``,
    ``lat``, ``c`` (code),
    ``n`` (name, HTML-escaped for the tooltip), ``v`` (change text, extreme percentages
    written as multiples: :func:`analysis.allocation.readings.percent_change_text`) and ``k``
    (class index of :func:`analysis.explore.maps.change_classes`). Released practices (no
    patients) and practices without coordinates are left out; the page says how many."""
    import html

    from analysis.access import load_gp_practices
    from analysis.allocation.readings import percent_change_text
    from analysis.explore import change_classes

    practices = load_gp_practices().dropna(subset=["latitude"]).set_index("practice_code")
    if result.scenario.level == "pcn":
        # a network has no boundary: it stands at the mean position of its practices
        from analysis.allocation.inputs import practice_pcns

        network = practice_pcns().reindex(practices.index)
        practices = (practices.loc[network.notna().to_numpy(), ["latitude", "longitude"]]
                     .groupby(network.dropna()).mean())
        practices.index = practices.index.astype(str)
    alive = result.areas[result.areas["status"] != "zero population"]
    moved = alive.set_index("area_code").join(practices[["latitude", "longitude"]],
                                              how="inner")
    return pd.DataFrame({
        "lon": moved["longitude"].round(5), "lat": moved["latitude"].round(5),
        "c": moved.index.astype(str), "n": moved["area_name"].astype(str).map(html.escape),
        "v": moved["change_pct"].map(percent_change_text),
        "k": change_classes(moved["change_pct"]),
    }).reset_index(drop=True)
