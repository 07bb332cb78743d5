"""The one indicator model: need, provision, outcome and context data all flow through it.

An indicator is metadata (:class:`IndicatorMeta`) plus a value table keyed by area code
(``area_code``, ``value`` and optionally ``numerator``, ``denominator``, ``lower_ci``,
``upper_ci``, ``decile``, ``rank``, ``category``). An indicator measured in several periods is
still one indicator: its table carries a ``period`` column (one row per area × period), its
metadata lists ``periods`` oldest first, and ``period`` is the latest of them. Every reader
gets the latest period unless it asks for another (``registry.get(id, period=...)``);
:meth:`IndicatorRegistry.all_periods` gives them all. On disk an indicator is a *package*::

    data/indicators/<id>/indicator.yaml   # metadata
    data/indicators/<id>/data.parquet     # or data.csv

The registry reads only the YAML files up front; value tables load on first use.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from analysis.data.datastore import DataFileError, data_cache, data_dir
from analysis.data.integrity import verify_package

Kind = Literal["need", "provision", "outcome", "context"]
Polarity = Literal["higher_is_better", "higher_is_worse", "neutral"]

KINDS: tuple[str, ...] = ("need", "provision", "outcome", "context")
POLARITIES: tuple[str, ...] = ("higher_is_better", "higher_is_worse", "neutral")
GEOGRAPHIES: tuple[str, ...] = (
    "lsoa11", "lsoa21", "dz11", "ward", "ltla", "sicbl", "icb", "practice", "auto",
)
AGGREGATIONS: tuple[str, ...] = ("sum", "population_weighted_mean", "ratio", "none")
VALUE_COLUMNS: tuple[str, ...] = (
    "value", "numerator", "denominator", "lower_ci", "upper_ci", "decile", "rank", "category",
)
# \A…\Z, not ^…$: "$" also matches before a trailing newline, which let an id "evil\n"
# through (and made a folder of that name)
INDICATOR_ID = re.compile(r"\A[a-z0-9][a-z0-9_-]{0,63}\Z")
#: Decimal places an indicator may ask for (more is meaningless and, mapped, costly).
MAX_DECIMALS = 10
INDICATORS_DIR = "indicators"
#: The column of a value table that holds the period of each row (multi-period indicators).
PERIOD_COLUMN = "period"
COLUMN_KEYS: tuple[str, ...] = (
    "area_code_column", "value_column", "numerator_column", "denominator_column",
    "lower_ci_column", "upper_ci_column",
)
# A package renamed aside while ``fairshare indicators add --replace`` swaps in the new one
# (analysis.ingest); read in place of ``<id>/`` if a crash left ``<id>/`` missing.
REPLACED_PREFIX = ".replaced-"


class IndicatorError(ValueError):
    """Invalid indicator metadata or data; the message names the file and the field."""


def parse_decimals(raw: Any) -> int | None:
    """``decimals`` as an int from 0 to :data:`MAX_DECIMALS`, or ``None`` if it is not one
    (booleans, fractions, negative or huge numbers and text are refused)."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, float):
        if not raw.is_integer():
            return None
        raw = int(raw)
    if isinstance(raw, str):
        raw = raw.strip()
        if not re.fullmatch(r"\d{1,3}", raw):
            return None
        raw = int(raw)
    if not isinstance(raw, int) or not 0 <= raw <= MAX_DECIMALS:
        return None
    return raw


@dataclass(frozen=True)
class IndicatorMeta:
    """Metadata of one indicator (the keys of ``indicator.yaml``)."""

    id: str
    title: str
    description: str
    unit: str
    polarity: Polarity
    kind: Kind
    geography: str
    period: str
    source: str
    licence: str
    publisher: str = ""
    source_url: str = ""
    vintage: str = ""
    aggregation: str = "population_weighted_mean"
    decimals: int = 1
    notes: str = ""
    # Optional names of the source file's columns (readers fall back to common spellings)
    area_code_column: str = ""
    value_column: str = ""
    numerator_column: str = ""
    denominator_column: str = ""
    lower_ci_column: str = ""
    upper_ci_column: str = ""
    #: Every period of a multi-period indicator, oldest first (``period`` is the last);
    #: empty for an indicator of one period.
    periods: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], *, origin: str = "metadata") -> IndicatorMeta:
        """Validate a metadata mapping; raise :class:`IndicatorError` naming ``origin``."""
        if not isinstance(raw, Mapping):
            raise IndicatorError(f"{origin}: metadata must be a mapping of keys to values")
        names = {f.name for f in fields(cls)} - {"extra"}
        required = [
            "id", "title", "description", "unit", "polarity", "kind", "geography",
            "period", "source", "licence",
        ]
        missing = [k for k in required if not str(raw.get(k, "") or "").strip()]
        if missing:
            raise IndicatorError(f"{origin}: missing metadata key(s): {', '.join(missing)}")
        values = {k: raw[k] for k in names if k in raw}
        if "periods" in values:
            values["periods"] = parse_periods(values["periods"], values.get("period"),
                                              origin=origin)
        for key in names - {"decimals", "periods"}:
            if key in values and not isinstance(values[key], str):
                values[key] = str(values[key])
        checks = {
            "polarity": POLARITIES,
            "kind": KINDS,
            "geography": GEOGRAPHIES,
            "aggregation": AGGREGATIONS,
        }
        for key, allowed in checks.items():
            if key in values and values[key] not in allowed:
                raise IndicatorError(
                    f"{origin}: {key} is {values[key]!r}; allowed: {', '.join(allowed)}"
                )
        if not INDICATOR_ID.match(values["id"]):
            raise IndicatorError(
                f"{origin}: id {values['id']!r} must be 1–64 characters of a-z, 0-9, _ or -, "
                "starting with a letter or digit"
            )
        decimals = parse_decimals(values.get("decimals", 1))
        if decimals is None:
            raise IndicatorError(f"{origin}: decimals must be a whole number from 0 to "
                                 f"{MAX_DECIMALS}; got {values.get('decimals')!r}")
        values["decimals"] = decimals
        extra = {k: v for k, v in raw.items() if k not in names}
        return cls(**values, extra=extra)

    def to_mapping(self) -> dict[str, Any]:
        """Plain mapping for YAML/JSON (``extra`` keys flattened back in).

        Column-name keys are left out when empty, so packages without them stay unchanged.
        """
        out = {
            k: v for k, v in asdict(self).items()
            if k != "extra" and not (k in COLUMN_KEYS and not v)
            and not (k == "periods" and not v)
        }
        if self.periods:
            out["periods"] = list(self.periods)
        out.update(dict(self.extra))
        return out

    @property
    def higher_is_worse(self) -> bool:
        return self.polarity == "higher_is_worse"

    @property
    def all_periods(self) -> tuple[str, ...]:
        """Every period the indicator has, oldest first (just ``period`` for one period)."""
        return self.periods or (self.period,)

    @property
    def multi_period(self) -> bool:
        """Whether the indicator is measured in more than one period."""
        return len(self.periods) > 1

    def check_period(self, period: str | None) -> str:
        """``period`` if the indicator has it, the latest period for ``None``; otherwise an
        :class:`IndicatorError` naming the indicator and its periods."""
        if period is None:
            return self.period
        if str(period) in self.all_periods:
            return str(period)
        raise IndicatorError(
            f"Indicator {self.id!r} has no period {str(period)!r}; its periods are: "
            f"{', '.join(self.all_periods)}")


def parse_periods(raw: Any, period: Any, *, origin: str) -> tuple[str, ...]:
    """The ``periods`` key as a tuple of distinct non-empty labels, oldest first, whose last
    is ``period`` (the latest, what every page shows); :class:`IndicatorError` otherwise."""
    if isinstance(raw, str) or not isinstance(raw, Iterable):
        raise IndicatorError(f"{origin}: periods must be a list of period labels, oldest "
                             f"first; got {raw!r}")
    labels = tuple(str(p).strip() for p in raw)
    if not labels or any(not p for p in labels):
        raise IndicatorError(f"{origin}: periods must list at least one non-empty label")
    repeated = sorted({p for p in labels if labels.count(p) > 1})
    if repeated:
        raise IndicatorError(f"{origin}: periods lists {', '.join(repeated)} more than once")
    if str(period or "").strip() != labels[-1]:
        raise IndicatorError(f"{origin}: period is {period!r} but the latest of periods is "
                             f"{labels[-1]!r}; period must be the last of periods")
    return labels


@dataclass(frozen=True)
class Indicator:
    """An indicator's metadata and its value table (one row per area code).

    An indicator built by the ingest of a multi-period file may carry every period in
    ``data`` (with a ``period`` column) so that its package stores them all; the registry
    hands readers one period at a time (:meth:`for_period`), and ``by_area``/``values``
    are always of one period (the latest unless sliced).
    """

    meta: IndicatorMeta
    data: pd.DataFrame
    #: ``data`` indexed by area code, built once (the registry passes its cached copy): every
    #: page reindexes by it, and hashing 33,755 codes again on each call showed under load
    indexed: pd.DataFrame | None = field(default=None, compare=False, repr=False)

    @property
    def by_area(self) -> pd.DataFrame:
        """The value table indexed by area code (shared and read-only: do not change it);
        the latest period's when the table holds several."""
        if self.indexed is None:
            table = (period_rows(self.data, self.meta.period)
                     if PERIOD_COLUMN in self.data.columns else self.data)
            object.__setattr__(self, "indexed", table.set_index("area_code"))
        return self.indexed  # type: ignore[return-value]

    def for_period(self, period: str | None = None) -> Indicator:
        """This indicator in one period (the latest for ``None``): one row per area, no
        ``period`` column. Raises :class:`IndicatorError` for a period it does not have."""
        wanted = self.meta.check_period(period)
        if PERIOD_COLUMN not in self.data.columns:
            return self
        return Indicator(self.meta, period_rows(self.data, wanted))

    def all_periods(self) -> pd.DataFrame:
        """Every period's rows with a ``period`` column, oldest period first."""
        return long_table(self.data, self.meta)

    @property
    def values(self) -> pd.Series:
        """Values indexed by area code."""
        return self.by_area["value"]


def period_rows(data: pd.DataFrame, period: str) -> pd.DataFrame:
    """The rows of one period of a multi-period table, without the ``period`` column."""
    rows = data.loc[data[PERIOD_COLUMN].astype(str).to_numpy() == period]
    return rows.drop(columns=PERIOD_COLUMN).reset_index(drop=True)


def long_table(data: pd.DataFrame, meta: IndicatorMeta) -> pd.DataFrame:
    """A value table with a ``period`` column (text), its periods in ``meta``'s order
    (oldest first); a one-period table gets ``meta.period`` on every row."""
    if PERIOD_COLUMN not in data.columns:
        return data.assign(**{PERIOD_COLUMN: meta.period})
    order = {p: i for i, p in enumerate(meta.all_periods)}
    labels = data[PERIOD_COLUMN].astype(str)
    out = data.assign(**{PERIOD_COLUMN: labels})
    rank = labels.map(order).to_numpy()
    return out.iloc[pd.Series(rank).argsort(kind="stable").to_numpy()].reset_index(drop=True)


def check_periods(data: pd.DataFrame, meta: IndicatorMeta, *, origin: str,
                  found: frozenset[str] | None = None) -> None:
    """A table's ``period`` column must hold exactly the metadata's periods (and a table
    without one must belong to an indicator of one period). ``found``: the column's distinct
    labels, when the caller has them already."""
    if PERIOD_COLUMN not in data.columns:
        if meta.multi_period:
            raise IndicatorError(f"{origin}: the metadata lists periods "
                                 f"{', '.join(meta.periods)} but the data have no period "
                                 "column")
        return
    if found is None:
        found = frozenset(data[PERIOD_COLUMN].astype(str).unique())
    listed = set(meta.all_periods)
    if found != listed:
        extra, missing = sorted(found - listed), sorted(listed - found)
        parts = ([f"periods not in the metadata: {', '.join(extra)}"] if extra else []) + (
            [f"periods without rows: {', '.join(missing)}"] if missing else [])
        raise IndicatorError(f"{origin} ({meta.id}): {'; '.join(parts)}")


def validate_values(data: pd.DataFrame, *, origin: str) -> pd.DataFrame:
    """Check a value table's shape: ``area_code`` + numeric ``value``, unique codes (unique
    within each period when the table has a ``period`` column)."""
    missing = [c for c in ("area_code", "value") if c not in data.columns]
    if missing:
        raise IndicatorError(f"{origin}: missing column(s) {', '.join(missing)}")
    if data.empty:
        raise IndicatorError(f"{origin}: no rows")
    codes = data["area_code"].astype(str)
    if PERIOD_COLUMN in data.columns:
        labels = data[PERIOD_COLUMN].astype(str)
        if data[PERIOD_COLUMN].isna().any() or (labels.str.strip() == "").any():
            raise IndicatorError(f"{origin}: column 'period' has empty cells")
        codes = codes + " in " + labels
    dup = codes[codes.duplicated()]
    if len(dup):
        raise IndicatorError(
            f"{origin}: {len(dup)} duplicate area code(s), first: {', '.join(dup.unique()[:10])}"
        )
    numeric = [c for c in VALUE_COLUMNS if c in data.columns and c != "category"]
    for column in numeric:
        if not pd.api.types.is_numeric_dtype(data[column]):
            bad = pd.to_numeric(data[column], errors="coerce").isna() & data[column].notna()
            row = int(bad.to_numpy().argmax())
            raise IndicatorError(
                f"{origin}: column {column!r} is not numeric (row {row + 2}: "
                f"{data[column].iloc[row]!r})"
            )
    return data


def _read_package(folder: Path, expected_id: str | None = None) -> IndicatorMeta:
    import yaml

    meta_file = folder / "indicator.yaml"
    try:
        # libyaml's safe loader when present: the registry is read at every start-up
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        raw = yaml.load(meta_file.read_text(encoding="utf-8"), Loader=loader)
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise IndicatorError(f"{meta_file}: unreadable metadata: {exc}") from exc
    meta = IndicatorMeta.from_mapping(raw, origin=str(meta_file))
    expected = folder.name if expected_id is None else expected_id
    if meta.id != expected:
        raise IndicatorError(f"{meta_file}: id {meta.id!r} differs from its folder {folder.name!r}")
    return meta


def read_indicator_data(folder: Path) -> pd.DataFrame:
    """Read ``data.parquet`` or ``data.csv`` of an indicator package."""
    parquet, csv = folder / "data.parquet", folder / "data.csv"
    if not parquet.is_file() and not csv.is_file():
        raise DataFileError(f"Indicator package {folder} has no data.parquet or data.csv")
    try:
        if parquet.is_file():
            data = pd.read_parquet(parquet)
        else:
            data = pd.read_csv(csv, dtype={"area_code": str})
    except (OSError, ValueError) as exc:
        raise DataFileError(f"{folder}: indicator data unreadable: {exc}") from exc
    # values are stored as float32 where seven significant figures are plenty (multi-period
    # packages, to keep data/ small); readers always get float64, as before
    for column in VALUE_COLUMNS:
        if column in data.columns and data[column].dtype == "float32":
            data[column] = data[column].astype("float64")
    if PERIOD_COLUMN in data.columns:
        data[PERIOD_COLUMN] = data[PERIOD_COLUMN].astype(str)
    return validate_values(data, origin=str(parquet if parquet.is_file() else csv))


class IndicatorRegistry:
    """Indicators on disk plus, optionally, ones added for one session only.

    Session indicators (uploads) live in the registry instance the session owns, never in
    the shared on-disk registry, so one user's upload is invisible to another.
    """

    def __init__(self, root: Path | None = None) -> None:
        self.root = root if root is not None else data_dir() / INDICATORS_DIR
        self._meta: dict[str, IndicatorMeta] = {}
        self._folders: dict[str, Path] = {}
        self._session: dict[str, Indicator] = {}
        self._session_slices: dict[tuple[str, str], tuple[Indicator, Indicator]] = {}
        self._errors: list[str] = []
        self._scan()

    def _scan(self) -> None:
        if not self.root.is_dir():
            raise DataFileError(f"Indicator registry {self.root} is missing")
        set_aside: list[Path] = []
        for folder in sorted(p for p in self.root.iterdir() if p.is_dir()):
            if folder.name.startswith("."):
                # staging folders of an interrupted atomic add; packages set aside by a replace
                if folder.name.startswith(REPLACED_PREFIX):
                    set_aside.append(folder)
                continue
            try:
                meta = _read_package(folder)
            except IndicatorError as exc:
                self._errors.append(str(exc))
                continue
            self._meta[meta.id] = meta
            self._folders[meta.id] = folder
        for folder in set_aside:
            # ".replaced-<id>-<token>": a replace was interrupted between its two renames;
            # serve the previous package until the next add/remove puts it back in place
            indicator_id = folder.name[len(REPLACED_PREFIX):].rpartition("-")[0]
            if indicator_id in self._meta or not INDICATOR_ID.match(indicator_id):
                continue
            try:
                meta = _read_package(folder, expected_id=indicator_id)
            except IndicatorError:
                continue
            self._meta[meta.id] = meta
            self._folders[meta.id] = folder

    @property
    def errors(self) -> list[str]:
        """Packages that could not be read (reported, not fatal for the others)."""
        return list(self._errors)

    def ids(self) -> list[str]:
        return [*self._meta, *self._session]

    def metas(
        self, *, kind: str | None = None, geography: str | None = None
    ) -> list[IndicatorMeta]:
        """Metadata of every indicator, optionally filtered by kind and geography."""
        everything: Iterable[IndicatorMeta] = [
            *self._meta.values(), *(i.meta for i in self._session.values())
        ]
        return [
            m for m in everything
            if (kind is None or m.kind == kind) and (geography is None or m.geography == geography)
        ]

    def meta(self, indicator_id: str) -> IndicatorMeta:
        if indicator_id in self._session:
            return self._session[indicator_id].meta
        try:
            return self._meta[indicator_id]
        except KeyError:
            raise KeyError(self._unknown(indicator_id)) from None

    def _unknown(self, indicator_id: str) -> str:
        import difflib

        close = difflib.get_close_matches(str(indicator_id), self.ids(), n=5, cutoff=0.5)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        return f"Unknown indicator {indicator_id!r}.{hint}"

    def get(self, indicator_id: str, period: str | None = None) -> Indicator:
        """The indicator with its value table of one period (loaded on first use, cached per
        file): the latest period unless ``period`` names another of ``meta.periods``.

        Raises :class:`IndicatorError` naming the indicator and its periods for a period it
        does not have, and :class:`DataFileError` naming the file when its data file is
        missing, unreadable, or does not match the checksum recorded for it (the
        manifest's, or the package's own ``data_sha256``: :mod:`analysis.data.integrity`).
        """
        if indicator_id in self._session:
            return self._session_period(indicator_id, period)
        meta = self.meta(indicator_id)
        wanted = meta.check_period(period)
        folder = self._folders[indicator_id]
        mtime = _mtime(folder)
        data = _cached_data(str(folder), mtime)
        # after the read, so an unreadable file says so; a readable one must match the
        # SHA-256 recorded for it (a swapped or damaged file fails here, hashed once a change)
        verify_package(folder, meta.extra)
        if PERIOD_COLUMN not in data.columns and not meta.multi_period:
            return Indicator(meta, data, _cached_indexed(str(folder), mtime))
        check_periods(data, meta, origin=str(folder), found=_period_labels(str(folder), mtime))
        table, indexed = _cached_period(str(folder), mtime, wanted)
        return Indicator(meta, table, indexed)

    def _session_period(self, indicator_id: str, period: str | None) -> Indicator:
        indicator = self._session[indicator_id]
        wanted = indicator.meta.check_period(period)
        if "period" not in indicator.data.columns:
            return indicator
        key = (indicator_id, wanted)
        cached = self._session_slices.get(key)
        if cached is None or cached[0] is not indicator:
            # one object per period, so memos keyed by a table's identity stay warm
            cached = (indicator, indicator.for_period(wanted))
            self._session_slices[key] = cached
        return cached[1]

    def all_periods(self, indicator_id: str) -> pd.DataFrame:
        """Every period's values of an indicator in one long table (``area_code``,
        ``period``, ``value`` …; oldest period first). An indicator of one period gives its
        table with ``period`` = ``meta.period``. Checked like :meth:`get`."""
        if indicator_id in self._session:
            return self._session[indicator_id].all_periods()
        meta = self.meta(indicator_id)
        folder = self._folders[indicator_id]
        mtime = _mtime(folder)
        data = _cached_data(str(folder), mtime)
        verify_package(folder, meta.extra)
        check_periods(data, meta, origin=str(folder), found=_period_labels(str(folder), mtime))
        return long_table(data, meta)

    def folder(self, indicator_id: str) -> Path | None:
        """The package folder of an indicator on disk (``None`` for a session upload)."""
        if indicator_id in self._session:
            return None
        self.meta(indicator_id)  # KeyError with close matches for an unknown id
        return self._folders[indicator_id]

    def add_session_indicator(self, indicator: Indicator) -> None:
        """Register an indicator for this registry instance only (an upload)."""
        if indicator.meta.id in self._meta:
            raise IndicatorError(
                f"Indicator id {indicator.meta.id!r} is already used by a shipped indicator"
            )
        self._session[indicator.meta.id] = indicator

    def counts_by_kind(self) -> dict[str, int]:
        counts = dict.fromkeys(KINDS, 0)
        for m in self.metas():
            counts[m.kind] += 1
        return counts


def _mtime(folder: Path) -> float:
    files = [folder / "data.parquet", folder / "data.csv"]
    return max((f.stat().st_mtime for f in files if f.is_file()), default=0.0)


@lru_cache(maxsize=64)
def _cached_data(folder: str, mtime: float) -> pd.DataFrame:
    # mtime is part of the key so that a replaced package is re-read, never served stale
    return read_indicator_data(Path(folder))


@lru_cache(maxsize=64)
def _period_labels(folder: str, mtime: float) -> frozenset[str]:
    # the periods of a file, found once per file version rather than on every get (a
    # multi-period table is every period's rows: this was most of a cached get's time)
    data = _cached_data(folder, mtime)
    if PERIOD_COLUMN not in data.columns:
        return frozenset()  # check_periods says what that means for the indicator
    return frozenset(data[PERIOD_COLUMN].astype(str).unique())


@lru_cache(maxsize=64)
def _cached_indexed(folder: str, mtime: float) -> pd.DataFrame:
    return _cached_data(folder, mtime).set_index("area_code")


@lru_cache(maxsize=128)
def _cached_period(folder: str, mtime: float, period: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    # one table object per period, so the memos keyed by a table's identity keep working
    table = period_rows(_cached_data(folder, mtime), period)
    return table, table.set_index("area_code")


@data_cache(maxsize=2)
def default_registry() -> IndicatorRegistry:
    """The shipped registry (shared, read-only; sessions copy it to add uploads)."""
    return IndicatorRegistry()
