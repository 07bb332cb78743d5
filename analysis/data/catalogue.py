"""What the embedded dataset holds: area counts, indicators, services and vintages.

Reads column statistics with pyarrow only (no geometry, no geopandas) so that
``fairshare info`` stays fast from a cold start.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from analysis.data.datastore import read_json, read_parquet_table
from analysis.data.geography import PACKS
from analysis.data.indicators import INDICATORS_DIR, IndicatorRegistry
from analysis.data.sources import SOURCES

SERVICE_FILES = {
    "gp_practices": "services/gp_practices.parquet",
    "stroke_units": "services/stroke_units.parquet",
}


def area_counts() -> dict[str, int]:
    """Number of distinct areas at every level of every pack.

    Keys are ``<country>_<level>`` (e.g. ``england_lsoa21``, ``england_icb``,
    ``scotland_council``).
    """
    counts: dict[str, int] = {}
    for spec in PACKS.values():
        columns = [lv.code_column for lv in spec.levels]
        table = read_parquet_table(spec.file, columns=columns)
        for level in spec.levels:
            column = table[level.code_column]
            if pa.types.is_dictionary(column.type):
                column = column.cast(column.type.value_type)
            counts[f"{spec.country}_{level.key}"] = pc.count_distinct(column).as_py()
    return counts


def service_counts() -> dict[str, int]:
    """Facilities by type: GP practices, stroke units and their thrombolysis/thrombectomy split."""
    practices = read_parquet_table(SERVICE_FILES["gp_practices"], columns=["practice_code"])
    units = read_parquet_table(SERVICE_FILES["stroke_units"], columns=["use_ivt", "use_mt"])
    return {
        "gp_practices": practices.num_rows,
        "stroke_units": units.num_rows,
        "stroke_units_thrombolysis": pc.sum(units["use_ivt"]).as_py() or 0,
        "stroke_units_thrombectomy": pc.sum(units["use_mt"]).as_py() or 0,
    }


def indicator_file_problems(registry: IndicatorRegistry,
                            manifest_files: Mapping[str, Any] | None = None) -> list[str]:
    """Indicators whose data file is missing, unreadable or truncated (plain sentences).

    Reads only each Parquet footer (a truncated file has none), and compares its row count
    with the one the manifest recorded at build time (``files["indicators/<id>"]["rows"]``).
    """
    problems: list[str] = []
    files = manifest_files or {}
    for meta in registry.metas():
        folder = registry.folder(meta.id)
        if folder is None:
            continue
        parquet, csv = folder / "data.parquet", folder / "data.csv"
        if not parquet.is_file() and not csv.is_file():
            problems.append(f"{meta.id}: data file missing ({parquet} or {csv.name})")
            continue
        if not parquet.is_file():
            if csv.stat().st_size == 0:
                problems.append(f"{meta.id}: {csv} is empty")
            continue
        try:
            rows = pq.read_metadata(parquet).num_rows
        except (pa.ArrowException, OSError) as exc:
            problems.append(f"{meta.id}: {parquet} is unreadable or truncated ({exc})")
            continue
        recorded = files.get(f"{INDICATORS_DIR}/{meta.id}")
        expected = recorded.get("rows") if isinstance(recorded, Mapping) else None
        if isinstance(expected, int) and rows != expected:
            problems.append(f"{meta.id}: {parquet} has {rows:,} rows; the manifest recorded "
                            f"{expected:,} when the dataset was built")
    return problems


def vintages(manifest_sources: Mapping[str, Any]) -> dict[str, str]:
    """The vintage of every source: the manifest's, unless the provenance in
    :data:`analysis.data.sources.SOURCES` (which the build writes into the manifest) has
    been corrected since the dataset was built."""
    out = {key: str(value.get("vintage", "")) for key, value in manifest_sources.items()}
    for key in out:
        if key in SOURCES:
            out[key] = SOURCES[key].vintage
    return out


def dataset_info(registry: IndicatorRegistry | None = None) -> dict[str, Any]:
    """A JSON-serialisable summary of the embedded dataset (what ``fairshare info`` prints).

    Besides the per-level counts it carries the headline keys ``icbs``, ``local_authorities``
    and ``council_areas``.
    """
    registry = registry if registry is not None else IndicatorRegistry()
    counts = area_counts()
    manifest = read_json("manifest.json")
    metas = registry.metas()
    services = service_counts()
    return {
        "areas": counts,
        "england_lsoa21": counts["england_lsoa21"],
        "scotland_dz11": counts["scotland_dz11"],
        "icbs": counts["england_icb"],
        "local_authorities": counts["england_ltla"],
        "council_areas": counts["scotland_council"],
        "indicators": len(metas),
        "indicators_by_kind": registry.counts_by_kind(),
        "indicators_by_geography": {
            g: sum(m.geography == g for m in metas) for g in sorted({m.geography for m in metas})
        },
        "indicator_errors": registry.errors,
        "indicator_file_problems": indicator_file_problems(registry, manifest.get("files")),
        "services": services,
        "gp_practices": services["gp_practices"],
        "stroke_units": services["stroke_units"],
        "vintages": vintages(manifest["sources"]),
        "licence": "Open Government Licence v3.0",
    }
