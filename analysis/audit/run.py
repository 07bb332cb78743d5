"""One call for a whole audit, used alike by ``fairshare audit`` and the dashboard page: read
the records where they are, count them on the engine, standardise, and return the result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.audit.engine import (
    SIMULATED_COLUMN,
    EngineName,
    clean_activity,
    connect,
    count_activity,
    open_activity,
)
from analysis.audit.plan import counting_plan
from analysis.audit.results import AuditResult, run_audit

Progress = Callable[[float, str], None]


def period_years(first: str | None, last: str | None) -> float | None:
    """The length of the period between two ISO dates, inclusive, in years of 365.25 days
    (``None`` without both dates)."""
    if not first or not last:
        return None
    days = (dt.date.fromisoformat(last) - dt.date.fromisoformat(first)).days + 1
    return days / 365.25 if days > 0 else None


def audit_activity(source: Path | str | pd.DataFrame, *, engine: EngineName = "duckdb",
                   mapping: dict[str, str] | None = None, area_code: str | None = None,
                   population: pd.DataFrame | None = None, population_source: str | None = None,
                   service: str | None = None, splits: Sequence[str] | None = None,
                   years: float | None = None, simulated: bool | None = None,
                   spark_session: Any = None, memory_limit: str | None = None,
                   progress: Progress | None = None) -> AuditResult:
    """Audit record-level activity against need (see :mod:`analysis.audit.results`).

    ``years`` defaults to the span of the event dates (one year when there are none);
    ``simulated`` defaults to whether the records carry a true ``simulated`` column (the
    simulator's files do), so simulated data is labelled wherever it is shown.
    """
    def step(fraction: float, text: str) -> None:
        if progress is not None:
            progress(fraction, text)

    origin = "the uploaded records" if isinstance(source, pd.DataFrame) else str(source)
    step(0.05, "Opening the records")
    audit_engine = connect(engine, spark_session=spark_session, memory_limit=memory_limit)
    try:
        records = open_activity(audit_engine, source)
        step(0.15, "Checking areas, ages, sex and ethnic categories")
        cleaned = clean_activity(audit_engine, records, mapping=mapping, origin=origin)
        step(0.25, "Counting the records")
        counts = count_activity(audit_engine, cleaned, splits,
                                counting_plan(area_code, population))
        if simulated is None:
            simulated = counts.simulated
    finally:
        audit_engine.close()
    step(0.8, "Standardising rates")
    span = years or period_years(counts.dates.get("first"), counts.dates.get("last")) or 1.0
    name = service or (Path(str(source)).stem if not isinstance(source, pd.DataFrame)
                       else "the service")
    result = run_audit(counts, service=name, area_code=area_code, population=population,
                       population_source=population_source, years=span,
                       simulated=bool(simulated))
    step(1.0, "Done")
    return result


def simulated_example(n_records: int, area_code: str, *, seed: int = 0) -> pd.DataFrame:
    """``n_records`` simulated records for the small areas of ``area_code`` (any level), with
    the simulator's default gradient; every row carries ``simulated = True``."""
    from analysis.audit.simulate import SimulationSpec, simulate_activity
    from analysis.data.geography import resolve_area, select_study_area

    area = resolve_area(area_code)
    small_areas = select_study_area(area.country, area.code, geometry=False).index
    spec = SimulationSpec(n_records=n_records, country=area.country,
                          area_codes=tuple(small_areas), seed=seed)
    records = simulate_activity(spec)
    if SIMULATED_COLUMN not in records.columns:
        records[SIMULATED_COLUMN] = True
    return records


#: Largest upload the dashboard audits in memory; larger files belong on disk or in Spark,
#: where ``fairshare audit`` streams them.
MAX_UPLOAD_BYTES = 200 * 2**20


def records_from_upload(name: str, data: bytes) -> pd.DataFrame:
    """An uploaded CSV or Parquet file of records as a frame of text columns (CSV) or its
    own types (Parquet), kept in memory only: uploads are never written to disk."""
    import io

    from analysis.audit.engine import ActivityError

    if len(data) > MAX_UPLOAD_BYTES:
        raise ActivityError(f"{name}: {len(data) / 2**20:,.0f} MB is more than the "
                            f"{MAX_UPLOAD_BYTES // 2**20} MB the dashboard audits; run "
                            "`fairshare audit FILE` on it instead (it streams any size)")
    lower = name.lower()
    try:
        if lower.endswith((".parquet", ".pq")):
            return pd.read_parquet(io.BytesIO(data))
        if lower.endswith((".csv", ".txt")):
            return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False,
                               encoding="utf-8-sig")
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise ActivityError(f"{name}: could not be read: {exc}") from exc
    raise ActivityError(f"{name}: not a CSV or Parquet file")


#: A deployment may let the Equity audit page read record files from one server folder (large
#: extracts an analyst has put there), as well as uploads: set this to the folder.
AUDIT_FOLDER_ENV = "FAIRSHARE_AUDIT_DIR"


def audit_folder() -> Path | None:
    """The server folder of record files the dashboard may read, if the deployment set one."""
    import os

    value = os.environ.get(AUDIT_FOLDER_ENV, "").strip()
    if not value:
        return None
    folder = Path(value).expanduser().resolve()
    return folder if folder.is_dir() else None


def audit_sources(folder: Path) -> list[str]:
    """Names (relative to ``folder``) of the CSV and Parquet files and of the folders of
    Parquet parts inside it, for a picker; hidden files are left out."""
    names: set[str] = set()
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if path.is_file() and path.suffix.lower() in (".csv", ".parquet"):
            names.add(str(relative))
            if path.suffix.lower() == ".parquet" and path.parent != folder:
                names.add(str(path.parent.relative_to(folder)) + "/")
    return sorted(names)


def resolve_audit_source(folder: Path, name: str) -> Path:
    """``name`` inside ``folder``, refusing anything that resolves outside it (``..``,
    absolute paths, symbolic links out of the folder)."""
    from analysis.audit.engine import ActivityError

    target = (folder / name).resolve()
    if target != folder and folder not in target.parents:
        raise ActivityError(f"{name!r} is not inside the audit folder")
    if not target.exists():
        raise ActivityError(f"{name!r}: no such file in the audit folder")
    return target
