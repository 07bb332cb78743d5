"""What pages and reports show of the learning log: the notes of an area or of a scenario,
read without creating a database that does not exist yet; which areas of a study area have
notes, and where they are, for a map layer; and what a CSV export of notes says about itself.

Reads raise only :class:`~analysis.learning.store.StorageError` when the database cannot be
reached (an unwritable state folder, a team database that is down), so a caller can say so
calmly instead of failing.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from analysis.data import COUNTRY_CODES, resolve_area, select_study_area, spec_for
from analysis.learning import store
from analysis.learning.export import COLUMNS, DESCRIPTION, TITLE
from analysis.learning.log import LearningLog
from analysis.learning.records import Note
from analysis.learning.store import StorageError
from analysis.learning.validation import area_and_parents, check_area


def sqlite_path(url: str | None = None) -> Path | None:
    """The file of the log's SQLite database (``url`` or the configured one), or ``None``
    for another database, an in-memory or URI-style SQLite database, or a malformed URL."""
    try:
        parsed = make_url(store.database_url(url))
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser()


def log_exists(url: str | None = None) -> bool:
    """Whether the learning log's database exists: a SQLite file that has not been made yet
    holds no notes, so readers need not create it. Any other database is assumed to (a
    malformed URL too: opening it reports the problem)."""
    path = sqlite_path(url)
    return path is None or path.is_file()


def _reading(function):
    """Database and file-system failures of a read become one calm :class:`StorageError`."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except StorageError:
            raise
        except (SQLAlchemyError, OSError) as exc:
            original = getattr(exc, "orig", None) or exc
            raise StorageError(f"The learning log cannot be read: {original}") from exc

    return wrapper


def _log(url: str | None, log: LearningLog | None) -> LearningLog | None:
    if log is not None:
        return log
    return LearningLog(url) if log_exists(url) else None


@_reading
def area_notes(area: str, *, kinds: Iterable[str] | None = None,
               since: date | str | None = None, until: date | str | None = None,
               include_parents: bool = True, limit: int | None = None,
               url: str | None = None, log: LearningLog | None = None) -> list[Note]:
    """Notes of ``area`` and (``include_parents``) of every area it lies in, newest first,
    filtered by kinds and an inclusive date range; none (and no database made) while the
    log does not exist yet."""
    chosen = _log(url, log)
    if chosen is None:
        check_area(area)
        return []
    return chosen.list(area, include_parents=include_parents, kind=list(kinds or []) or None,
                       since=since, until=until, limit=limit)


@_reading
def scenario_notes(scenario: str, *, url: str | None = None,
                   log: LearningLog | None = None) -> list[Note]:
    """Notes linked to the allocation scenario named ``scenario`` (any area), newest
    first; none while the log does not exist yet."""
    chosen = _log(url, log)
    if chosen is None or not str(scenario or "").strip():
        return []
    return chosen.list(scenario=scenario)


@dataclass(frozen=True)
class NotedAreas:
    """Which areas of a study area have notes of their own (removed notes not counted).

    ``small``: small areas of the view with notes (``code``, ``name``, ``notes``).
    ``larger``: areas above them that lie in the view, and the study area itself, with notes
    (``level``, ``level_label``, ``code``, ``name``, ``notes``), finest level first.
    ``containing``: areas the whole view lies in that have notes (same columns).
    """

    country: str
    area_code: str | None
    small: pd.DataFrame
    larger: pd.DataFrame
    containing: pd.DataFrame

    @property
    def empty(self) -> bool:
        """Whether no area of (or around) the view has notes."""
        return self.small.empty and self.larger.empty and self.containing.empty

    @property
    def counts(self) -> tuple[tuple[str, int], ...]:
        """(code, notes) of every area listed: a cheap key for caching drawings."""
        frames = (self.small, self.larger, self.containing)
        return tuple((str(c), int(n)) for f in frames
                     for c, n in zip(f["code"], f["notes"], strict=True))


_AREA_COLUMNS = ["level", "level_label", "code", "name", "notes"]


@_reading
def noted_areas(country: str, area_code: str | None, *,
                counts: dict[str, int] | None = None, url: str | None = None,
                log: LearningLog | None = None) -> NotedAreas:
    """The areas of the study area ``area_code`` (``None``: the whole country) that have
    notes, from ``counts`` (area code → notes; default the log's
    :meth:`~analysis.learning.LearningLog.areas_with_notes`)."""
    spec = spec_for(country)
    if counts is None:
        chosen = _log(url, log)
        counts = chosen.areas_with_notes() if chosen is not None else {}
    view_code = area_code or COUNTRY_CODES[spec.country][0]
    view = resolve_area(view_code)
    table = select_study_area(country, area_code, geometry=False)
    small_level = spec.small_area
    noted = table[small_level.code_column].isin(list(counts))
    small = pd.DataFrame({"code": table.loc[noted, small_level.code_column].astype(str),
                          "name": table.loc[noted, small_level.name_column].astype(str)}
                         ).reset_index(drop=True)
    small["notes"] = [int(counts[c]) for c in small["code"]]
    keys = [level.key for level in spec.levels]
    rows = []
    for level in spec.levels[1:keys.index(view.level) + 1]:
        pairs = table[[level.code_column, level.name_column]].drop_duplicates()
        for code, name in zip(pairs.iloc[:, 0].astype(str), pairs.iloc[:, 1].astype(str),
                              strict=True):
            if code in counts:
                rows.append((level.key, level.label, code, name, int(counts[code])))
    parents = []
    for code in area_and_parents(view_code)[1:]:
        if code in counts:
            ref = resolve_area(code)
            parents.append((ref.level, spec.level(ref.level).label, code, ref.name,
                            int(counts[code])))
    return NotedAreas(country, area_code, small, pd.DataFrame(rows, columns=_AREA_COLUMNS),
                      pd.DataFrame(parents, columns=_AREA_COLUMNS))


def noted_area_geometry(noted: NotedAreas):
    """Where to draw :class:`NotedAreas`: (a table of one point per noted small area, with
    ``code``, ``name``, ``notes``, ``lon`` and ``lat`` of a point inside it; a
    GeoDataFrame of the outline of each noted larger area, indexed by code, with ``name``,
    ``level_label`` and ``notes``)."""
    import geopandas as gpd
    import shapely

    spec = spec_for(noted.country)
    shapes = select_study_area(noted.country, noted.area_code)
    inside = shapes.loc[noted.small["code"].tolist(), "geometry"]
    marks = shapely.point_on_surface(inside.to_numpy())
    points = noted.small.assign(lon=shapely.get_x(marks), lat=shapely.get_y(marks))
    outlines = []
    for row in noted.larger.itertuples(index=False):
        members = shapes.loc[shapes[spec.level(row.level).code_column] == row.code, "geometry"]
        try:
            shape = shapely.coverage_union_all(members.to_numpy())
        except shapely.errors.GEOSException:  # not a clean coverage
            shape = shapely.union_all(members.to_numpy())
        outlines.append(shape)
    frame = gpd.GeoDataFrame(
        noted.larger[["code", "name", "level_label", "notes"]].set_index("code"),
        geometry=outlines, crs=shapes.crs)
    return points, frame


def notes_export_info():
    """What a CSV or workbook of notes says about itself (title, description, source and
    every column), for :mod:`analysis.exports` (the CSVW sidecar, the About sheet)."""
    from analysis.exports import ColumnInfo, ExportInfo

    return ExportInfo(title=TITLE, description=DESCRIPTION, source="Fairshare learning log",
                      columns={key: ColumnInfo(title=key, description=text)
                               for key, text in COLUMNS.items()})
