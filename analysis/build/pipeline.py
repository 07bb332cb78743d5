"""Build the embedded default dataset in ``data/`` from the raw open-data pack.

Run ``fairshare data build --raw PATH_TO_PACK`` (the pack is the folder with ``england/`` and
``scotland/``). This is a build-time step only: the app and the tests read the committed
output in ``data/`` and never the raw pack. The build is deterministic, so rebuilding from
the same pack reproduces the same tables; it writes a ``manifest.json`` with provenance,
row counts and the join coverage it found (unmatched codes are reported, not dropped).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from analysis.build.geography import build_england_pack, build_lsoa_lookup, build_scotland_pack
from analysis.build.hospitals import build_hospitals, write_hospitals
from analysis.build.indicators import england_indicators, scotland_indicators, write_indicator
from analysis.build.outlines import write_outlines
from analysis.build.populations import build_populations, write_populations
from analysis.build.postcodes import build_postcode_index, write_postcode_index
from analysis.build.provision import access_indicators
from analysis.build.raw import (
    BuildLog,
    RawDataError,
)
from analysis.build.services import (
    build_gp_payments,
    build_gp_practices,
    build_practice_imd,
    build_stroke_units,
)
from analysis.build.weighted_populations import build_weighted_populations
from analysis.build.workforce import build_gp_workforce
from analysis.data import SOURCES, file_checksums

MANIFEST_VERSION = 1


def build(raw_dir: Path, out_dir: Path) -> dict[str, Any]:
    """Build every embedded file from ``raw_dir`` into ``out_dir``; return the manifest."""
    raw_dir, out_dir = Path(raw_dir), Path(out_dir)
    if not (raw_dir / "england").is_dir() or not (raw_dir / "scotland").is_dir():
        raise RawDataError(f"{raw_dir} is not the data pack (no england/ and scotland/)")
    log = BuildLog()
    england = build_england_pack(raw_dir, log)
    scotland = build_scotland_pack(raw_dir, log)
    lookup = build_lsoa_lookup(raw_dir, england, log)
    populations = build_populations(raw_dir, log, lookup)
    postcodes = build_postcode_index(raw_dir, log, england=england, scotland=scotland,
                                     lookup=lookup)
    builds = england_indicators(raw_dir, england, lookup, log) + scotland_indicators(
        raw_dir, scotland, log)
    practices = build_gp_practices(raw_dir, england, log)
    units = build_stroke_units(raw_dir, log)
    workforce = build_gp_workforce(raw_dir, log)
    payments = build_gp_payments(raw_dir, log)
    builds += access_indicators(raw_dir, england, lookup, practices, units, log,
                                workforce=workforce, payments_by_year=payments,
                                postcodes=postcodes)
    weighted = build_weighted_populations(raw_dir, england, log, payments=payments)
    practice_imd = build_practice_imd(raw_dir, log)

    (out_dir / "geography").mkdir(parents=True, exist_ok=True)
    (out_dir / "services").mkdir(parents=True, exist_ok=True)
    indicator_root = out_dir / "indicators"
    if indicator_root.is_dir():
        # only rebuild the shipped defaults; analysts' packages in the same folder are kept
        shipped = {b.meta["id"] for b in builds}
        for folder in indicator_root.iterdir():
            if folder.name in shipped:
                shutil.rmtree(folder)
    outputs = {
        "geography/england_lsoa21.parquet": england,
        "geography/scotland_dz11.parquet": scotland,
    }
    for name, frame in outputs.items():
        frame.to_parquet(out_dir / name, index=False, compression="zstd",
                         schema_version="1.0.0")
        log.files[name] = {"rows": int(len(frame))}
    tables = {
        "geography/lsoa11_lsoa21.parquet": lookup,
        "services/gp_practices.parquet": practices,
        "services/stroke_units.parquet": units,
        "services/gp_workforce.parquet": workforce,
        "services/gp_payments.parquet": payments,
        "services/gp_practice_imd.parquet": practice_imd,
        "services/nhse_weighted_populations.parquet": weighted,
    }
    for name, frame in tables.items():
        frame.to_parquet(out_dir / name, index=False, compression="zstd")
        log.files[name] = {"rows": int(len(frame))}
    log.files.update(write_populations(populations, out_dir))
    log.files["geography/postcodes.parquet"] = write_postcode_index(postcodes, out_dir)
    log.files.update(write_outlines({"england": england, "scotland": scotland}, out_dir))
    # the shipped hospital layer goes through the same reader as an analyst's site list
    hospitals = build_hospitals(raw_dir, log)
    log.files.update(write_hospitals(hospitals, out_dir))
    for b in builds:
        write_indicator(out_dir, b, log)

    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "sources": {k: v.to_dict() for k, v in SOURCES.items()},
        "files": log.files,
        "coverage": log.coverage,
        "checksums": file_checksums(out_dir, log.files),
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n",
                                           encoding="utf-8")
    return manifest
