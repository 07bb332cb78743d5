"""Locating and reading the embedded data files, with errors that name the file.

The embedded dataset lives in ``data/`` beside the packages (a fresh clone has everything).
``FAIRSHARE_DATA_DIR`` points the engine at another copy, which is how tests exercise a
missing or corrupt file without touching the real one. Every file read here is checked
against the SHA-256 the manifest records for it (:mod:`analysis.data.integrity`; hashed once
per change), after it has been read, so a file that cannot be read at all says so and a
readable one that was replaced or damaged fails as not matching its record.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

DATA_DIR_ENV = "FAIRSHARE_DATA_DIR"
# a source checkout (and an editable install) reads <repo>/data; a wheel carries the same
# files as the package ``fairshare_data`` (see setup.py)
_SOURCE_DATA_DIR = Path(__file__).resolve().parents[2] / "data"
T = TypeVar("T")


class DataFileError(RuntimeError):
    """A data file is missing, unreadable or does not have the expected columns."""


def data_cache(maxsize: int = 8) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Memoise a loader of embedded data, keyed by its arguments *and* the data directory.

    Pointing ``FAIRSHARE_DATA_DIR`` elsewhere (tests with a damaged copy, a second
    deployment) therefore never serves tables read from another directory. The wrapper has
    ``cache_clear()`` like ``functools.lru_cache``.
    """

    def decorator(loader: Callable[..., T]) -> Callable[..., T]:
        @functools.lru_cache(maxsize=maxsize)
        def keyed(root: str, *args: Any) -> T:
            return loader(*args)

        @functools.wraps(loader)
        def wrapper(*args: Any) -> T:
            return keyed(str(data_dir()), *args)

        wrapper.cache_clear = keyed.cache_clear  # type: ignore[attr-defined]
        return wrapper

    return decorator


def data_dir() -> Path:
    """The directory holding the embedded dataset: ``$FAIRSHARE_DATA_DIR`` if set, else
    ``<repo>/data`` in a source checkout, else the installed package ``fairshare_data``."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override)
    return _installed_data_dir()


@functools.cache
def _installed_data_dir() -> Path:
    if (_SOURCE_DATA_DIR / "manifest.json").is_file():
        return _SOURCE_DATA_DIR
    spec = importlib.util.find_spec("fairshare_data")
    if spec is None or not spec.submodule_search_locations:
        return _SOURCE_DATA_DIR  # reported as missing files, with the remedy, when read
    return Path(next(iter(spec.submodule_search_locations)))


def data_path(relative: str) -> Path:
    """Absolute path of a file inside the data directory; refuses paths that escape it."""
    root = data_dir().resolve()
    path = (root / relative).resolve()
    if root != path and root not in path.parents:
        raise DataFileError(f"{relative!r} is outside the data directory {root}")
    return path


def _existing(relative: str) -> Path:
    path = data_path(relative)
    if not path.is_file():
        raise DataFileError(
            f"Data file {path} is missing. The embedded dataset ships with the repository; "
            "restore it with `git checkout -- data/` or rebuild it with `fairshare data build`."
        )
    return path


def _verified(path: Path) -> None:
    # deferred: integrity imports this module
    from analysis.data.integrity import verify_data_file

    verify_data_file(path, data_dir())


def parquet_columns(relative: str) -> list[str]:
    """Column names of a Parquet file of the data directory (footer only)."""
    path = _existing(relative)
    try:
        names = pq.read_schema(path).names
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataFileError(f"Data file {path} is not a readable Parquet file: {exc}") from exc
    _verified(path)
    return names


def read_parquet_table(relative: str, columns: list[str] | None = None) -> pa.Table:
    """Read a Parquet file of the data directory as an Arrow table.

    Raises :class:`DataFileError` naming the file when it is missing, corrupt, or lacks any of
    the requested ``columns``.
    """
    path = _existing(relative)
    schema_names = parquet_columns(relative)
    if columns is not None:
        missing = [c for c in columns if c not in schema_names]
        if missing:
            raise DataFileError(f"Data file {path} lacks column(s) {', '.join(missing)}")
    try:
        table = pq.read_table(path, columns=columns)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataFileError(f"Data file {path} could not be read: {exc}") from exc
    _verified(path)
    return table


def read_parquet(relative: str, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a (non-spatial) Parquet file of the data directory as a DataFrame."""
    return read_parquet_table(relative, columns).to_pandas()


def read_geoparquet(relative: str, columns: list[str] | None = None):
    """Read a GeoParquet file of the data directory as a GeoDataFrame (EPSG:4326)."""
    import geopandas as gpd  # deferred: importing geopandas costs ~0.5 s, `fairshare info` skips it

    path = _existing(relative)
    try:
        frame = gpd.read_parquet(path, columns=columns)
    except (ValueError, pa.ArrowInvalid, OSError) as exc:
        raise DataFileError(f"Data file {path} is not a readable GeoParquet file: {exc}") from exc
    _verified(path)
    return frame


def read_json(relative: str) -> Any:
    """Read a JSON file of the data directory."""
    path = _existing(relative)
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataFileError(f"Data file {path} is not valid JSON: {exc}") from exc
    _verified(path)
    return value
