"""Record-level activity, read and counted where it lives: one portable Ibis expression that
runs on embedded DuckDB (the default: no server, out-of-core, streams files larger than
memory) and unchanged on Apache Spark (an ICB's data lake or Databricks).

Only counts leave the engine: events by counting unit × age band × sex (with the reason
each excluded record was left out), by unit × ethnic group, by unit × age band for each site
or service, and by small area (totals only). A unit is a block of small areas within one
deprivation decile (:mod:`analysis.audit.plan`), so a million records across England come
back as a few hundred thousand rows at most, not one per record. The statistics then run on
those small tables in :mod:`analysis.audit.results`.

Cleaning rules (one reason per excluded record, the first check it fails):

* **Small area.** The first non-empty area column (LSOA 2021, data zone 2011, LSOA 2011, a
  generic area code) is looked up among England's 33,755 LSOA 2021 codes and Scotland's
  6,976 data zones; a retired LSOA 2011 code (split, merged or changed in 2021) takes its
  best-fit LSOA 2021, the one receiving the largest share of its 2011 population (ONS LSOA
  2011 to 2021 lookup). A record without a usable code is placed by its postcode through the
  embedded postcode index (live and terminated postcodes).
* **Age.** Whole years from 0 to 120 fall in the ESP 2013 five-year bands (0-4 … 90+); an
  age band column is accepted when there is no age.
* **Sex and ethnic category** never exclude a record: unknown values are counted as "not
  known" / "not stated" and shown as such.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from analysis.audit import codes as C
from analysis.audit.coding import dates_of, ethnic_group_of, sex_of
from analysis.audit.columns import ColumnError, ColumnMapping, recognise_columns
from analysis.audit.plan import CountingPlan, counting_plan
from analysis.stats.standardisation import AGE_BANDS

EngineName = Literal["duckdb", "spark"]
ENGINES: tuple[EngineName, ...] = ("duckdb", "spark")
#: The 19 bands of the European Standard Population 2013, in order.
AGE_BAND_LABELS = AGE_BANDS
#: Band index of an "85+" band (data given with a coarser top band).
BAND_85_PLUS = 19
MAX_AGE = 120
NO_SPLIT_VALUE = "(not given)"
#: A column of this name, true on every row, marks records made by the simulator.
SIMULATED_COLUMN = "simulated"
# Exclusion reasons and area sources travel through the engine as small integer codes (their
# position here), which group several times faster than text; they are named after counting.
REASONS: tuple[str, ...] = tuple(C.EXCLUSION_REASONS)
SOURCES: tuple[str, ...] = tuple(C.AREA_SOURCES)
# the postcode index's own rule (analysis.data.postcodes): an outward code of 2-4 characters
# starting with a letter (so "GIR 0AA" and the old "NPT" codes pass), then digit + 2 letters
_POSTCODE_SHAPE = r"^[A-Z][A-Z0-9]{1,3}[0-9][A-Z]{2}$"


class ActivityError(ValueError):
    """An activity source cannot be read (names the file and what is wrong with it)."""


@dataclass
class AuditEngine:
    """A connection to the engine that counts the records (DuckDB or Spark)."""

    name: EngineName
    con: Any
    _owned_spark: Any = None
    #: DuckDB's spill folder, made for this connection and removed when it closes
    spill_dir: str | None = None

    def close(self) -> None:
        if self.name == "duckdb":
            self.con.disconnect()
        if self.spill_dir is not None:
            shutil.rmtree(self.spill_dir, ignore_errors=True)
            self.spill_dir = None

    def lookup_table(self, name: str, frame: pd.DataFrame) -> Any:
        """A small lookup as a table of the engine itself (a temporary table in DuckDB, a
        temporary view in Spark), so that cached and distributed plans can reach it."""
        table = f"fairshare_{name}"
        if self.name == "spark":
            session = self.con._session
            session.createDataFrame(frame).createOrReplaceTempView(table)
            return self.con.table(table)
        return self.con.create_table(table, frame, temp=True, overwrite=True)


def connect(engine: EngineName = "duckdb", *, spark_session: Any = None,
            memory_limit: str | None = None, threads: int | None = None) -> AuditEngine:
    """Open the counting engine.

    DuckDB runs in process with a spill folder in the system temporary directory, so files
    larger than memory stream through; ``memory_limit`` (e.g. ``"3GB"``) caps it. Spark uses
    ``spark_session`` when given (Databricks, a cluster), else starts ``local[*]`` with ANSI
    mode off so that a malformed value becomes a counted "not valid" rather than a failed job.
    """
    import ibis

    if engine == "duckdb":
        spill = tempfile.mkdtemp(prefix="fairshare-audit-")
        try:
            con = ibis.duckdb.connect(
                temp_directory=spill,
                **({"memory_limit": memory_limit} if memory_limit else {}),
                **({"threads": threads} if threads else {}),
            )
        except Exception:
            shutil.rmtree(spill, ignore_errors=True)
            raise
        return AuditEngine("duckdb", con, spill_dir=spill)
    if engine == "spark":
        session = spark_session
        if session is None:
            from pyspark.sql import SparkSession

            session = (SparkSession.builder.master(os.environ.get("FAIRSHARE_SPARK_MASTER",
                                                                  "local[*]"))
                       .appName("fairshare-audit")
                       .config("spark.ui.enabled", "false")
                       .config("spark.sql.ansi.enabled", "false")
                       .config("spark.sql.shuffle.partitions", "8")
                       .getOrCreate())
        return AuditEngine("spark", ibis.pyspark.connect(session))
    raise ValueError(f"Unknown engine {engine!r}: choose one of {', '.join(ENGINES)}")


def _source_paths(source: Path) -> tuple[str, list[str]]:
    """(format, paths) of a CSV/Parquet file, a folder of Parquet (or CSV) parts or a glob."""
    text = str(source)
    if any(ch in text for ch in "*?["):
        suffix = text.lower().rsplit(".", 1)[-1]
        if suffix not in ("csv", "parquet", "gz"):
            raise ActivityError(f"{text}: a glob must end in .csv or .parquet")
        return ("parquet" if suffix == "parquet" else "csv"), [text]
    if source.is_dir():
        parts = sorted(source.rglob("*.parquet"))
        kind = "parquet"
        if not parts:
            parts, kind = sorted(source.rglob("*.csv")), "csv"
        if not parts:
            raise ActivityError(f"{source}: the folder holds no .parquet or .csv files")
        return kind, [str(p) for p in parts]
    if not source.is_file():
        raise ActivityError(f"{source}: no such file")
    name = source.name.lower()
    if name.endswith((".parquet", ".pq")):
        return "parquet", [text]
    if name.endswith((".csv", ".csv.gz", ".txt")):
        return "csv", [text]
    raise ActivityError(f"{source}: not a CSV or Parquet file (name it .csv or .parquet)")


def open_activity(engine: AuditEngine, source: Path | str | pd.DataFrame) -> Any:
    """The records as an Ibis table: a pandas frame (an upload), or a path to CSV or Parquet
    (a file, a folder of part files, or a glob). CSV columns are read as text so that a bad
    value is counted by the cleaning rules instead of failing the read."""

    if isinstance(source, pd.DataFrame):
        # a table of the engine itself (not an Ibis in-memory table), so that the counting
        # query compiled to SQL can name it
        return engine.lookup_table("records", source)
    text = str(source)
    if engine.name == "spark" and ("://" in text or text.startswith("dbfs:")):
        # a data lake path (s3://, abfss://, dbfs:/): Spark reads it, local checks do not apply
        kind, paths = ("csv" if text.lower().rstrip("/").endswith(".csv") else "parquet"), [text]
    else:
        kind, paths = _source_paths(Path(source))
    try:
        if engine.name == "duckdb":
            if kind == "csv":
                return engine.con.read_csv(paths, all_varchar=True, header=True)
            return engine.con.read_parquet(paths)
        # Spark reads a folder or a glob itself (and wants one path, not a list)
        target = text if len(paths) > 1 or "://" in text or text.startswith("dbfs:") \
            or Path(text).is_dir() else paths[0]
        if kind == "csv":
            return engine.con.read_csv(target, header=True, inferSchema=False)
        return engine.con.read_parquet(target)
    except Exception as exc:  # the engines raise their own types; the message says why
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ActivityError(f"{source}: could not be read as {kind.upper()}: {first}") from exc


@dataclass(frozen=True)
class ReferenceTables:
    """Small lookups the engine joins the records to (built from the embedded data).

    Small areas travel through the engine as integer ids (their position in ``areas``):
    grouping and returning 32-bit integers is several times cheaper than doing so with text
    codes, and the codes come back for nothing as a categorical (:func:`area_categorical`).
    """

    areas: pd.Index  # every small-area code (England's LSOA 2021, then Scotland's data zones)
    england_areas: int  # ids below this are England's
    area_codes: pd.DataFrame  # code, area_id, source
    postcodes_path: Path | None
    age_bands: pd.DataFrame  # label, band

    def area_categorical(self, ids: pd.Series) -> pd.Categorical:
        """Area ids from the engine (null where no area) as codes, without a string copy."""
        codes = ids.astype("float64").fillna(-1).astype(np.int32).to_numpy()
        return pd.Categorical.from_codes(codes, categories=self.areas)

    def country_of(self, ids: pd.Series) -> pd.Categorical:
        """"england" / "scotland" of each area id (missing where no area)."""
        raw = ids.astype("float64").to_numpy()
        codes = np.where(np.isnan(raw), -1, np.where(raw < self.england_areas, 0, 1))
        return pd.Categorical.from_codes(codes.astype(np.int8),
                                         categories=["england", "scotland"])


@lru_cache(maxsize=1)
def reference_tables() -> ReferenceTables:
    """The code tables of the embedded geography (LSOA 2021, data zones, best-fit LSOA 2011)
    and the postcode index's location (``None`` when this install has none). Built once per
    process: they depend only on the embedded data."""
    from analysis.audit.study import member
    from analysis.data.geography import load_pack_table
    from analysis.data.lsoa_conversion import load_lookup

    england = pd.Index(sorted(load_pack_table("england")["lsoa21_code"].astype(str)))
    scotland = pd.Index(sorted(load_pack_table("scotland")["dz11_code"].astype(str)))
    areas = england.append(scotland)
    lookup = load_lookup()
    retired = lookup[~member(lookup["lsoa11_code"], england)]
    best_fit = (retired.sort_values(["lsoa11_code", "weight", "lsoa21_code"],
                                    ascending=[True, False, True])
                .drop_duplicates("lsoa11_code"))
    codes = pd.concat([
        pd.DataFrame({"code": areas, "area_id": np.arange(len(areas), dtype=np.int32),
                      "source": [SOURCES.index(C.SOURCE_LSOA21)] * len(england)
                      + [SOURCES.index(C.SOURCE_DZ11)] * len(scotland)}),
        pd.DataFrame({"code": best_fit["lsoa11_code"].astype(str).to_numpy(),
                      "area_id": areas.get_indexer(best_fit["lsoa21_code"].astype(str))
                      .astype(np.int32), "source": SOURCES.index(C.SOURCE_LSOA11)}),
    ], ignore_index=True)
    codes = codes[codes["area_id"] >= 0].astype({"code": str, "source": np.int8})
    postcodes: Path | None = None
    try:
        from analysis.data.postcodes import postcode_index_path

        candidate = postcode_index_path()
        postcodes = candidate if candidate.is_file() else None
    except ImportError:  # an install without the postcode index
        postcodes = None
    return ReferenceTables(areas, len(england), codes.reset_index(drop=True), postcodes,
                           _age_band_variants())


def _age_band_variants() -> pd.DataFrame:
    """Every spelling of a band accepted in an age-band column → band index."""
    rows: list[tuple[str, int]] = []
    for index, label in enumerate(AGE_BAND_LABELS):
        if label.endswith("+"):
            low = int(label[:-1])
            rows += [(f"{low}+", index), (f"{low}ANDOVER", index), (f"{low}OVER", index),
                     (f"{low}PLUS", index)]
        else:
            low, high = (int(x) for x in label.split("-"))
            rows += [(f"{low}-{high}", index), (f"{low:02d}-{high:02d}", index),
                     (f"{low}TO{high}", index)]
    rows += [("85+", BAND_85_PLUS), ("85ANDOVER", BAND_85_PLUS), ("85OVER", BAND_85_PLUS),
             ("85PLUS", BAND_85_PLUS)]
    return pd.DataFrame(rows, columns=["label", "band"]).drop_duplicates("label")


@dataclass
class CleanedActivity:
    """The cleaning expression and what it was built from."""

    table: Any  # Ibis table: reason, source, area_id, band, sex, ethnic_group, …
    mapping: ColumnMapping
    references: ReferenceTables
    splits: tuple[str, ...] = field(default_factory=tuple)

    def to_pandas(self, limit: int | None = None) -> pd.DataFrame:
        """The cleaned records themselves (for checking a small extract by eye), with each
        area id turned back into its code and country."""
        frame = self.table.to_pandas(limit=limit)
        for column, names in (("reason", REASONS), ("source", SOURCES)):
            frame[column] = np.asarray(_named(frame[column], names), dtype=object)
        frame.insert(2, "area_code", self.references.area_categorical(frame["area_id"]))
        frame.insert(3, "country", self.references.country_of(frame["area_id"]))
        return frame


def _text(column: Any) -> Any:
    return column.cast("string").strip().nullif("")


def clean_activity(engine: AuditEngine, records: Any, *, mapping: dict[str, str] | None = None,
                   origin: str = "the activity file",
                   references: ReferenceTables | None = None) -> CleanedActivity:
    """Apply the cleaning rules (module docstring) as one lazy Ibis expression."""
    import ibis

    roles = recognise_columns(list(records.columns), mapping, origin=origin)
    refs = references or reference_tables()
    t = records
    columns_given = [t[column].cast("string") for _, column in roles.area_columns]
    t = t.mutate(_as_written=_first_of([c.nullif("") for c in columns_given]))
    # codes as written are looked up first: trimming and upper-casing every record's code
    # costs more than the join itself, and only the few that do not match need it
    codes = engine.lookup_table("area_codes", refs.area_codes.rename(columns={
        "code": "_code", "area_id": "_code_id", "source": "_code_source"}))
    t = t.left_join(codes, t._as_written == codes._code).drop("_code")
    tidied = _first_of([c.strip().nullif("").upper() for c in columns_given])
    t = t.mutate(_given=ibis.ifelse(t._code_id.notnull(), t._as_written, tidied),
                 _retry=ibis.ifelse(t._code_id.isnull(), tidied, ibis.null("string")))
    again = engine.lookup_table("area_codes_tidied", refs.area_codes.rename(columns={
        "code": "_code2", "area_id": "_code2_id", "source": "_code2_source"}))
    t = t.left_join(again, t._retry == again._code2).drop("_code2")
    t = t.mutate(_code_id=t._code_id.coalesce(t._code2_id),
                 _code_source=t._code_source.coalesce(t._code2_source))
    postcode_key: Any = ibis.null("string")
    if roles.get("postcode"):
        # only records whose code did not match need their postcode compacted: a regular
        # expression on every record's postcode cost a tenth of the whole count
        compact = t[roles.get("postcode")].cast("string").upper().re_replace(r"\s+", "")
        postcode_key = ibis.ifelse(t._code_id.isnull(), compact.nullif(""),
                                   ibis.null("string"))
    t = t.mutate(_pc_key=postcode_key)
    if refs.postcodes_path is not None and roles.get("postcode"):
        index = _postcode_table(engine, refs.postcodes_path)
        canonical = t._pc_key.substr(0, t._pc_key.length() - 3) + " " + t._pc_key.right(3)
        # only records whose code did not match look their postcode up (the others have no
        # key): a null key costs the join nothing, and a matched code wins anyway
        t = t.mutate(_pc=ibis.ifelse(t._pc_key.re_search(_POSTCODE_SHAPE),
                                     canonical, ibis.null("string")))
        t = t.left_join(index, t._pc == index._pc_postcode).drop("_pc_postcode")
        # a postcode's small area as an id: a postcode in Wales or Northern Ireland has none
        areas = engine.lookup_table("areas", pd.DataFrame({
            "_pc_area_code": refs.areas.astype(str),
            "_pc_id": np.arange(len(refs.areas), dtype=np.int32)}))
        t = t.left_join(areas, t._pc_area == areas._pc_area_code).drop("_pc_area_code")
    else:
        t = t.mutate(_pc=ibis.null("string"), _pc_id=ibis.null("int32"),
                     _pc_country=ibis.null("string"), _pc_live=ibis.null("boolean"))
    t = t.mutate(
        area_id=t._code_id.coalesce(t._pc_id),
        source=ibis.cases(
            (t._code_id.notnull(), t._code_source),
            (t._pc_id.notnull() & t._pc_live, _code(SOURCES, C.SOURCE_POSTCODE_LIVE)),
            (t._pc_id.notnull(), _code(SOURCES, C.SOURCE_POSTCODE_TERMINATED)),
            else_=ibis.null("int8")),
    )
    area_reason = ibis.cases(
        (t.area_id.notnull(), ibis.null("int8")),
        (t._pc_key.notnull() & t._pc.isnull(), _code(REASONS, C.POSTCODE_NOT_VALID)),
        (t._pc_key.notnull() & t._pc_country.notnull(), _code(REASONS, C.POSTCODE_OUTSIDE)),
        (t._pc_key.notnull(), _code(REASONS, C.POSTCODE_NOT_FOUND)),
        (t._given.notnull(), _code(REASONS, C.AREA_NOT_RECOGNISED)),
        else_=_code(REASONS, C.AREA_MISSING),
    )
    band, age_given = _age_band(t, roles, refs)
    t = t.mutate(_band=band, _area_reason=area_reason)
    # whether an age was given is asked only of records without a band (inlined, not a
    # column, so that the engine does not trim every record's age to answer it)
    age_reason = ibis.cases((t._band.notnull(), ibis.null("int8")),
                            (age_given, _code(REASONS, C.AGE_NOT_VALID)),
                            else_=_code(REASONS, C.AGE_MISSING))
    t = t.mutate(reason=t._area_reason.coalesce(age_reason))
    columns: dict[str, Any] = {
        "reason": t.reason.cast("int8"), "source": t.source.cast("int8"),
        "area_id": t.area_id.cast("int32"),
        "band": t._band.cast("int8"),
        "sex": _raw_text(t, roles, "sex"),
        "ethnic_group": _raw_text(t, roles, "ethnic_category"),
    }
    splits: list[str] = []
    for role in ("site", "service"):
        if roles.get(role):  # as written: trimmed after counting (:func:`_split_values`)
            columns[role] = t[roles.get(role)].cast("string")
            splits.append(role)
    if roles.get("event_date"):
        columns["event_date"] = _date_value(t[roles.get("event_date")])
    if SIMULATED_COLUMN in records.columns:
        # 1 where the simulator's flag reads true (a boolean, or "True" in a CSV), else 0: the
        # smallest over all records says whether every record was simulated, in the same pass
        raw = t[SIMULATED_COLUMN]
        flag = (raw.fill_null(False) if raw.type().is_boolean()
                else raw.cast("string").strip().lower().isin(["true", "t", "1"]))
        columns[SIMULATED_COLUMN] = ibis.ifelse(flag, 1, 0).cast("int8")
    return CleanedActivity(t.select(**columns), roles, refs, tuple(splits))


def _postcode_table(engine: AuditEngine, path: Path) -> Any:
    index = engine.con.read_parquet(str(path))
    return index.select(_pc_postcode=index.postcode, _pc_area=index.area_code,
                        _pc_country=index.country, _pc_live=index.live)


def _age_band(t: Any, roles: ColumnMapping, refs: ReferenceTables) -> tuple[Any, Any]:
    """(band index or null, whether any age was given) from the age or age-band column."""
    import ibis

    band: Any = ibis.null("int16")
    given: Any = ibis.literal(False)
    if roles.get("age"):
        raw = t[roles.get("age")]
        if raw.type().is_numeric():
            years = raw.cast("float64")
            given = raw.notnull()
        else:
            # the engines' casts skip surrounding white space themselves (DuckDB; Spark
            # since 3.0), so the age is not trimmed first: a blank or bad one casts to null
            years = raw.cast("string").try_cast("float64")
            given = _text(raw).notnull()
        band = ibis.cases(
            ((years >= 0) & (years <= MAX_AGE),
             ibis.least((years / 5).floor(), len(AGE_BAND_LABELS) - 1).cast("int16")),
            else_=ibis.null("int16"))
    if roles.get("age_band"):
        text = _text(t[roles.get("age_band")]).upper().re_replace(r"\s+|YEARS|YRS", "")
        lookup = dict(zip(refs.age_bands["label"], refs.age_bands["band"], strict=True))
        from_band = text.substitute(lookup, else_=ibis.null("int64")).cast("int16")
        band = band.coalesce(from_band)
        given = given | text.notnull()
    return band, given


def _code(names: tuple[str, ...], name: str) -> Any:
    """``name``'s integer code in the engine (its position in ``names``)."""
    import ibis

    return ibis.literal(names.index(name), type="int8")


def _named(codes: pd.Series, names: tuple[str, ...]) -> pd.Categorical:
    """Integer codes from the engine (null where none) back as their names."""
    raw = codes.to_numpy(dtype=np.float64, na_value=-1).astype(np.int8)
    used = np.unique(raw[raw >= 0])
    recoded = np.full(len(names), -1, dtype=np.int8)
    recoded[used] = np.arange(len(used), dtype=np.int8)
    return pd.Categorical.from_codes(np.where(raw >= 0, recoded[np.maximum(raw, 0)], -1),
                                     categories=[names[i] for i in used])


def _first_of(values: list[Any]) -> Any:
    """The first non-null of ``values`` (a null string when there are none)."""
    import ibis

    if not values:
        return ibis.null("string")
    return ibis.coalesce(*values) if len(values) > 1 else values[0]


def _raw_text(t: Any, roles: ColumnMapping, role: str) -> Any:
    """The column's text as written ("" when absent or missing): trimmed, upper-cased and
    mapped to codes after counting (:mod:`analysis.audit.coding`), once per distinct value."""
    import ibis

    if not roles.get(role):
        return ibis.literal("")
    return t[roles.get(role)].cast("string").coalesce("")


def _date_value(raw: Any) -> Any:
    """The day of the event: a date or timestamp column as a date (turning every timestamp
    into text would cost more than the rest of the cleaning together), a text column as its
    first ten characters, in ISO or day-first form, parsed after counting."""
    if raw.type().is_temporal():
        return raw.cast("date")
    return raw.cast("string").strip().substr(0, 10).coalesce("")


@dataclass(frozen=True)
class ActivityCounts:
    """Everything the statistics need, as small pandas tables. Records are counted by
    counting unit (:mod:`analysis.audit.plan`: a block of small areas in one deprivation
    decile, or one small area), and by small area for the totals alone."""

    cells: pd.DataFrame  # reason, source, unit, band, sex, events
    areas: pd.DataFrame  # area_code, events (records placed in a small area)
    ethnicity: pd.DataFrame  # unit, ethnic_group, events (records placed in a small area)
    splits: dict[str, pd.DataFrame]  # role → (value, unit, band, events)
    dates: dict[str, Any]  # first, last, missing_or_invalid
    mapping: ColumnMapping
    engine: str
    plan: CountingPlan
    #: every record carries the simulator's true ``simulated`` flag
    simulated: bool = False

    @property
    def rows(self) -> int:
        return int(self.cells["events"].sum())


CELL_KEYS = ("reason", "source", "unit", "band", "sex")


def counting_sql(engine: AuditEngine, cleaned: CleanedActivity, splits: Sequence[str],
                 plan: CountingPlan | None = None) -> str:
    """One query that counts every table at once with ``GROUPING SETS`` (SQL:1999; DuckDB,
    Spark SQL, PostgreSQL, BigQuery and Snowflake all have it): the records are read and
    cleaned in a single pass, however many tables are counted. The cleaning itself, and the
    join of each small area to its counting unit, are the Ibis expression, compiled for the
    engine's own SQL dialect."""
    plan = plan if plan is not None else counting_plan()
    units = engine.lookup_table("units", pd.DataFrame({
        "_unit_area": np.arange(len(plan.unit_of_area), dtype=np.int32),
        "unit": plan.unit_of_area.astype(np.int32)}))
    table = cleaned.table
    table = table.left_join(units, table.area_id == units._unit_area).drop("_unit_area")
    inner = engine.con.compile(table)
    has_date = "event_date" in cleaned.table.columns
    keys = list(dict.fromkeys([*CELL_KEYS, "area_id", "ethnic_group", *splits]))
    sets = [f"({', '.join(CELL_KEYS)})", "(reason, area_id)", "(reason, unit, ethnic_group)",
            *(f"(reason, {role}, unit, band)" for role in splits)]
    flags = ["GROUPING(sex) AS g_cells", "GROUPING(area_id) AS g_areas",
             "GROUPING(ethnic_group) AS g_ethnicity",
             *(f"GROUPING({role}) AS g_{role}" for role in splits)]
    # counts as 64-bit integers: a SUM is a 128-bit (decimal) type in DuckDB, which pandas
    # would convert value by value
    measures = ["CAST(COUNT(*) AS BIGINT) AS events"]
    if SIMULATED_COLUMN in cleaned.table.columns:
        measures.append(f"MIN({SIMULATED_COLUMN}) AS all_simulated")
    if has_date:
        keys.append("event_date")
        sets.append("(event_date)")
        flags.append("GROUPING(event_date) AS g_dates")
    return (f"SELECT {', '.join(keys)}, {', '.join(flags)}, {', '.join(measures)} "
            f"FROM ({inner}) AS cleaned GROUP BY GROUPING SETS ({', '.join(sets)})")


def count_activity(engine: AuditEngine, cleaned: CleanedActivity,
                   splits: Sequence[str] | None = None,
                   plan: CountingPlan | None = None) -> ActivityCounts:
    """Count the records on the engine in one pass and bring the tables back as pandas.

    ``plan`` (:func:`analysis.audit.plan.counting_plan`) says how small areas are grouped;
    by default every small area gets a unit, so any study area at a block level (LTLA,
    sub-ICB location, ICB, region, country; council area) can be audited from the counts."""
    plan = plan if plan is not None else counting_plan()
    wanted = cleaned.splits if splits is None else tuple(s for s in splits
                                                         if s in cleaned.splits)
    counted = _execute(engine, counting_sql(engine, cleaned, wanted, plan))
    counted["events"] = counted["events"].astype("int64")
    refs = cleaned.references
    counted["reason"] = _named(counted["reason"], REASONS)
    counted["source"] = _named(counted["source"], SOURCES)
    placed = counted["reason"].isna()
    cells = _mapped(counted.loc[counted["g_cells"] == 0, [*CELL_KEYS, "events"]], "sex", sex_of,
                    list(CELL_KEYS))
    areas = counted.loc[(counted["g_areas"] == 0) & placed, ["area_id", "events"]]
    areas = pd.DataFrame({"area_code": refs.area_categorical(areas["area_id"]),
                          "events": areas["events"].to_numpy()})
    ethnicity = _mapped(counted.loc[(counted["g_ethnicity"] == 0) & placed,
                                    ["unit", "ethnic_group", "events"]],
                        "ethnic_group", ethnic_group_of, ["unit", "ethnic_group"])
    split_tables = {
        role: _split_values(counted.loc[(counted[f"g_{role}"] == 0) & placed,
                                        [role, "unit", "band", "events"]]
                            .rename(columns={role: "value"}))
        for role in wanted
    }
    dates: dict[str, Any] = {}
    if "event_date" in cleaned.table.columns:
        days = counted.loc[counted["g_dates"] == 0, ["event_date", "events"]]
        day = days["event_date"]
        parsed = (day if pd.api.types.is_datetime64_any_dtype(day)
                  else pd.to_datetime(dates_of(day)))
        known = parsed.notna().to_numpy()
        dates = {"first": _iso(parsed[known].min()) if known.any() else None,
                 "last": _iso(parsed[known].max()) if known.any() else None,
                 "missing_or_invalid": int(days.loc[~known, "events"].sum())}
    cell_rows = counted["g_cells"] == 0
    simulated = bool("all_simulated" in counted.columns and cell_rows.any()
                     and counted.loc[cell_rows, "all_simulated"].min() == 1)
    return ActivityCounts(_tidy(cells), _tidy(areas), _tidy(ethnicity),
                          {k: _tidy(v) for k, v in split_tables.items()}, dates,
                          cleaned.mapping, engine.name, plan, simulated)


def _mapped(frame: pd.DataFrame, column: str, rule: Any, keys: list[str]) -> pd.DataFrame:
    """``frame[keys + events]`` with the raw values of ``column`` mapped by ``rule``, counts
    summed again where two raw values became one (``1``, ``M`` and ``MALE``)."""
    raw = frame[column].astype("category")
    distinct = rule(pd.Series(raw.cat.categories.astype(object))).astype(object).to_numpy()
    table = np.append(distinct, rule(pd.Series([None], dtype=object)).iloc[0])
    return _recoded(frame.drop(columns=[column]), column, raw, table, keys)


def _split_values(frame: pd.DataFrame) -> pd.DataFrame:
    """A site or service table with each value trimmed (missing or blank → "(not given)"),
    counts summed again where two spellings became one ("Hub A" and "Hub A ")."""
    raw = frame["value"].astype("category")
    tidied = pd.Index(raw.cat.categories.astype(str)).str.strip()
    tidied = tidied.where(tidied != "", NO_SPLIT_VALUE)
    table = np.asarray([*tidied, NO_SPLIT_VALUE], dtype=object)
    return _recoded(frame.drop(columns=["value"]), "value", raw, table,
                    ["value", "unit", "band"])


def _recoded(frame: pd.DataFrame, column: str, raw: pd.Series, table: np.ndarray,
             keys: list[str]) -> pd.DataFrame:
    """``frame[keys + events]`` with ``column`` set to ``table[code]`` for each row's category
    code of ``raw`` (the last entry of ``table`` for a missing value). The work is on integer
    codes, once per distinct value; rows are summed again only when two codes share a value."""
    labels, inverse = np.unique(table.astype(str), return_inverse=True)
    codes = raw.cat.codes.to_numpy()
    new = inverse[np.where(codes >= 0, codes, len(table) - 1)]
    out = frame.assign(**{column: pd.Categorical.from_codes(new, categories=labels)})
    used = np.unique(codes) if len(codes) else codes
    used_values = inverse[np.where(used >= 0, used, len(table) - 1)]
    if len(np.unique(used_values)) == len(used_values):
        return out[[*keys, "events"]]  # one raw value per mapped value: nothing to add up
    return _summed(out[[*keys, "events"]], keys)


def _summed(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Events summed by ``keys`` (categorical or small integer columns, missing values kept
    as their own group): one mixed-radix integer key per row and one ``bincount``, which on
    half a million rows is many times faster than a multi-column group-by."""
    codes, dtypes = [], {}
    for key in keys:
        values = frame[key]
        kept = values.dtype
        if not isinstance(values.dtype, pd.CategoricalDtype):
            values = values.astype("category")
        codes.append(values.cat.codes.to_numpy().astype(np.int64) + 1)
        dtypes[key] = (values.dtype, kept)
    radix = [int(c.max(initial=0)) + 1 for c in codes]
    combined = np.zeros(len(frame), dtype=np.int64)
    for code, base in zip(codes, radix, strict=True):
        combined = combined * base + code
    groups, position = np.unique(combined, return_inverse=True)
    events = np.bincount(position, weights=frame["events"].to_numpy(np.float64))
    out: dict[str, Any] = {}
    remainder = groups
    for key, base in reversed(list(zip(keys, radix, strict=True))):
        remainder, code = np.divmod(remainder, base)
        dtype, kept = dtypes[key]
        values = pd.Series(pd.Categorical.from_codes(code - 1, dtype=dtype))
        out[key] = values if isinstance(kept, pd.CategoricalDtype) else values.astype(kept)
    return pd.DataFrame({**{k: out[k] for k in keys},
                         "events": np.rint(events).astype(np.int64)})


def _execute(engine: AuditEngine, sql: str) -> pd.DataFrame:
    """Run ``sql`` and bring it back through Arrow, text as categoricals (dictionary
    encoded before conversion: a million rows of repeated codes convert in milliseconds).
    DuckDB runs the text on its own connection: through Ibis the query would be parsed back
    into an expression first (sqlglot, about 0.25 s for this one)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        if engine.name == "duckdb":
            table = engine.con.con.sql(sql).to_arrow_table()
        else:
            table = engine.con.sql(sql).to_pyarrow()
    except ColumnError:
        raise
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ActivityError(f"The activity records could not be counted: {first}") from exc
    columns = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            column = pc.dictionary_encode(column)
        elif pa.types.is_date(column.type):  # to pandas as datetime64, not Python dates
            column = column.cast(pa.timestamp("s"))
        columns[name] = column
    return pa.table(columns).to_pandas()


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Engine output in one shape whatever the engine: sorted, categorical text (codes repeat
    across hundreds of thousands of rows, and the statistics group, join and filter on them),
    no index."""
    out = frame.copy()
    order_keys = []
    for column in out.columns:
        if column == "events":
            out[column] = out[column].astype("int64")
            order_keys.append(out[column].to_numpy())
        elif column in ("band", "unit"):
            out[column] = out[column].astype("Int16" if column == "band" else "Int32")
            order_keys.append(out[column].fillna(-1).to_numpy(dtype=np.int64))
        else:
            values = out[column].astype("category")
            categories = values.cat.categories
            if not categories.is_monotonic_increasing:
                # sorted categories, so that both engines give the same ones in the same order
                values = values.cat.reorder_categories(sorted(categories))
            out[column] = values
            order_keys.append(values.cat.codes.to_numpy())
    return out.iloc[_lexicographic_order(order_keys)].reset_index(drop=True)


def _lexicographic_order(keys: list[np.ndarray]) -> np.ndarray:
    """Row order sorting by ``keys[0]``, then ``keys[1]``, … (missing, coded -1, first).

    The keys are shifted to start at 0 and combined into one mixed-radix integer, so a single
    stable argsort does what ``np.lexsort`` does with one pass per key: on a million rows of
    six keys about a third of the time. Falls back to ``lexsort`` if the product of the key
    ranges would not fit in 62 bits."""
    if not keys or len(keys[0]) == 0:
        return np.arange(len(keys[0]) if keys else 0)
    shifted, radix = [], []
    for key in keys:
        low, high = int(key.min()), int(key.max())
        shifted.append(key.astype(np.int64) - low)
        radix.append(high - low + 1)
    if float(np.prod(radix, dtype=np.float64)) >= 2.0 ** 62:
        return np.lexsort(keys[::-1])
    combined = np.zeros(len(keys[0]), dtype=np.int64)
    for key, base in zip(shifted, radix, strict=True):
        combined = combined * base + key
    return np.argsort(combined, kind="stable")


def _iso(value: Any) -> str | None:
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).date().isoformat()
