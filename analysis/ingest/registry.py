"""Atomic, kill-safe writes to the indicator registry (``data/indicators/<id>/``): a package
is written into a hidden staging folder, flushed to disk, checked by reading it back and
renamed into place, so a crash or kill never leaves a half-written package; replacing sets
the old package aside and puts it back if the swap fails, and :func:`recover_registry`
finishes or undoes what an interrupted add or remove left behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from analysis.data import DataFileError, data_dir
from analysis.data.indicators import (
    INDICATOR_ID,
    INDICATORS_DIR,
    REPLACED_PREFIX,
    Indicator,
    IndicatorError,
    _read_package,
    read_indicator_data,
)
from analysis.ingest.report import IndicatorValidationError, ValidationReport, _plain, _show
from analysis.ingest.validation import load_indicator_file
from analysis.util import fsync_folder

STAGING_PREFIX = ".staging-"
REMOVED_PREFIX = ".removed-"


class IndicatorExistsError(IndicatorError):
    """An indicator with this id is already in the registry."""


def registry_root(root: str | os.PathLike[str] | None = None) -> Path:
    """The registry folder: ``root`` or ``<data dir>/indicators`` (``$FAIRSHARE_DATA_DIR``)."""
    return Path(root) if root is not None else data_dir() / INDICATORS_DIR


def _is_embedded(folder: Path, subdir: str = INDICATORS_DIR) -> bool:
    """Whether ``folder`` is the embedded dataset's registry ``subdir`` (whose manifest must
    exist)."""
    try:
        return folder.resolve() == (data_dir() / subdir).resolve()
    except OSError:
        return False


def manifest_files(manifest: Path, remedy: str) -> dict:
    """The ``files`` table of a dataset's ``manifest.json``; an unreadable manifest is a
    :class:`DataFileError` ending in ``remedy`` (fail safe: shipped packages stay protected)."""
    try:
        files = json.loads(manifest.read_text(encoding="utf-8"))["files"]
        if not isinstance(files, dict):
            raise TypeError("'files' is not a table")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataFileError(f"{manifest} is unreadable ({type(exc).__name__}: "
                            f"{_plain(exc, 120)}), {remedy}") from None
    return files


def shipped_ids(root: str | os.PathLike[str] | None = None) -> frozenset[str]:
    """Ids of the default indicators shipped with the dataset (``manifest.json`` files).

    Fails safe: a manifest that is unreadable, not JSON or without its ``files`` table (or
    missing beside the embedded registry) raises :class:`DataFileError` instead of
    returning no ids, which would silently lift the protection of every shipped default.
    A registry folder of one's own (``--root``) without a manifest has no shipped defaults.
    """
    folder = registry_root(root)
    manifest = folder.parent / "manifest.json"
    remedy = ("so Fairshare cannot tell which indicators are shipped defaults; restore it "
              "(git checkout -- data/manifest.json) or rebuild it (fairshare data build)")
    if not manifest.is_file():
        if _is_embedded(folder):
            raise DataFileError(f"{manifest} is missing, {remedy}")
        return frozenset()
    files = manifest_files(manifest, remedy)
    prefix = f"{INDICATORS_DIR}/"
    return frozenset(name[len(prefix):] for name in files if str(name).startswith(prefix))


def _guard_shipped(folder: Path, indicator_id: str, action: str, force: bool) -> None:
    """Refuse to ``action`` a shipped default without ``force``; when the manifest cannot
    say whether it is one, refuse every id (fail safe) and say why."""
    if force:
        return
    try:
        shipped = shipped_ids(folder)
    except DataFileError as exc:
        raise IndicatorError(f"Not done: {exc}. {action.capitalize()} {indicator_id!r} "
                             "anyway with force (--force)") from None
    if indicator_id in shipped:
        raise IndicatorError(f"Indicator {indicator_id!r} is a shipped default; {action} "
                             "it needs force (--force)")


def _check_id(indicator_id: str) -> str:
    if not isinstance(indicator_id, str) or not INDICATOR_ID.match(indicator_id):
        raise IndicatorError(f"Indicator id {_show(indicator_id)} must be 1–64 characters of "
                             "a-z, 0-9, _ or -, starting with a letter or digit")
    return indicator_id


@contextlib.contextmanager
def _registry_lock(root: Path) -> Iterator[None]:
    """Exclusive lock on the registry folder itself (POSIX ``flock`` on the directory, so
    no lock file is left behind; a no-op where unavailable)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    fd = os.open(root, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _recover(root: Path) -> list[str]:
    actions: list[str] = []
    hidden = sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith("."))
    for folder in hidden:
        name = folder.name
        if name.startswith((STAGING_PREFIX, REMOVED_PREFIX)):
            shutil.rmtree(folder, ignore_errors=True)
            actions.append(f"deleted leftover {name}")
        elif name.startswith(REPLACED_PREFIX):
            indicator_id = name[len(REPLACED_PREFIX):].rpartition("-")[0]
            target = root / indicator_id
            if INDICATOR_ID.match(indicator_id) and not target.exists():
                os.replace(folder, target)
                fsync_folder(root)
                actions.append(f"restored {indicator_id} from an interrupted replace")
            else:
                shutil.rmtree(folder, ignore_errors=True)
                actions.append(f"deleted leftover {name}")
    return actions


def recover_registry(root: str | os.PathLike[str] | None = None) -> list[str]:
    """Finish or undo interrupted adds and removes; returns what was done (plain text).

    Staging folders are deleted; a package set aside by an interrupted replace is put back
    when its id is missing. :func:`add_indicator` and :func:`remove_indicator` call this first.
    """
    folder = registry_root(root)
    if not folder.is_dir():
        return []
    with _registry_lock(folder):
        return _recover(folder)


def _write_file(path: Path, write: Any) -> None:
    with open(path, "wb") as handle:
        write(handle)
        handle.flush()
        os.fsync(handle.fileno())


def _write_package(folder: Path, indicator: Indicator) -> None:
    import yaml

    from analysis.data import sha256_file

    mapping = indicator.meta.to_mapping()
    mapping["added_on"] = date.today().isoformat()
    _write_file(folder / "data.parquet",
                lambda h: indicator.data.to_parquet(h, index=False))
    # the package vouches for its own data: a swapped or damaged file is refused on load
    mapping["data_sha256"] = sha256_file(folder / "data.parquet")
    text = yaml.safe_dump(mapping, sort_keys=False, allow_unicode=True, width=100)
    _write_file(folder / "indicator.yaml", lambda h: h.write(text.encode("utf-8")))
    fsync_folder(folder)


@dataclass(frozen=True)
class AddResult:
    """What :func:`add_indicator` did."""

    indicator: Indicator
    report: ValidationReport
    folder: Path
    replaced: bool


def _install_package(folder: Path, package_id: str, write: Callable[[Path], None],
                     check: Callable[[Path], None], *, replace: bool,
                     exists_error: Callable[[], Exception],
                     guard: Callable[[], None]) -> tuple[Path, bool]:
    """Write a package ``folder/package_id`` atomically (shared by every registry).

    ``write`` fills a fresh staging folder, ``check`` reads it back (raising if it is
    unreadable); the staging folder is then renamed into place. With ``replace`` an
    existing package is renamed aside first (after ``guard``, which raises to refuse) and
    put back if the swap fails; without it ``exists_error()`` is raised. Returns (package
    folder, whether an existing package was replaced).
    """
    folder.mkdir(parents=True, exist_ok=True)
    with _registry_lock(folder):
        _recover(folder)
        target = folder / package_id
        exists = target.exists()
        if exists and not replace:
            raise exists_error()
        if exists:
            guard()
        token = secrets.token_hex(4)
        staging = folder / f"{STAGING_PREFIX}{package_id}-{token}"
        try:
            staging.mkdir()
            write(staging)
            check(staging)
            if exists:
                aside = folder / f"{REPLACED_PREFIX}{package_id}-{token}"
                os.replace(target, aside)
                try:
                    os.replace(staging, target)
                except BaseException:
                    os.replace(aside, target)
                    raise
                fsync_folder(folder)
                shutil.rmtree(aside, ignore_errors=True)
            else:
                os.replace(staging, target)
                fsync_folder(folder)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
    return target, exists


def _remove_package(folder: Path, package_id: str, *, missing_error: Callable[[], Exception],
                    guard: Callable[[], None]) -> Path:
    """Remove ``folder/package_id`` atomically (renamed into a hidden folder, then deleted);
    ``missing_error()`` is raised when there is no such package, ``guard`` may refuse."""
    with _registry_lock(folder):
        _recover(folder)
        target = folder / package_id
        if not target.is_dir():
            raise missing_error()
        guard()
        trash = folder / f"{REMOVED_PREFIX}{package_id}-{secrets.token_hex(4)}"
        os.replace(target, trash)
        fsync_folder(folder)
        shutil.rmtree(trash, ignore_errors=True)
    return target


def install_indicator(indicator: Indicator, *, replace: bool = False,
                      root: str | os.PathLike[str] | None = None,
                      force: bool = False) -> tuple[Path, bool]:
    """Write an already validated indicator into the registry atomically.

    Returns (package folder, whether an existing package was replaced). Raises
    :class:`IndicatorExistsError` for a duplicate id without ``replace``, and
    :class:`IndicatorError` for replacing a shipped default without ``force``.
    """
    indicator_id = _check_id(indicator.meta.id)
    folder = registry_root(root)

    def check(staging: Path) -> None:
        _read_package(staging, expected_id=indicator_id)
        read_indicator_data(staging)

    return _install_package(
        folder, indicator_id, lambda staging: _write_package(staging, indicator), check,
        replace=replace,
        exists_error=lambda: IndicatorExistsError(
            f"Indicator {indicator_id!r} already exists in {folder}; use replace (--replace) "
            "to overwrite it"),
        guard=lambda: _guard_shipped(folder, indicator_id, "replacing", force))


def add_indicator(path: str | os.PathLike[str], meta: Any, *, replace: bool = False,
                  root: str | os.PathLike[str] | None = None, force: bool = False) -> AddResult:
    """Validate a data file with its metadata and add it to the registry atomically.

    ``meta``: mapping, :class:`IndicatorMeta` or path of a YAML file. The package is written
    to ``<root>/.staging-<id>-<random>/``, flushed to disk, read back and renamed to
    ``<root>/<id>/``; with ``replace`` the old package is renamed aside first and put back if
    the swap fails. Raises :class:`IndicatorValidationError` (with ``.report``) when the file
    has errors, :class:`IndicatorExistsError` for a duplicate id without ``replace``.
    """
    indicator, report = load_indicator_file(path, meta)
    if meta is None and report.ok:
        report.error("metadata", "metadata missing: adding an indicator needs its "
                     "indicator.yaml keys")
    if indicator is None or not report.ok:
        raise IndicatorValidationError(report)
    folder, replaced = install_indicator(indicator, replace=replace, root=root, force=force)
    from analysis.data import default_registry

    default_registry.cache_clear()
    return AddResult(indicator, report, folder, replaced)


def remove_indicator(indicator_id: str, *, root: str | os.PathLike[str] | None = None,
                     force: bool = False) -> Path:
    """Remove an indicator package (shipped defaults only with ``force``); returns its path."""
    _check_id(indicator_id)
    folder = registry_root(root)
    if not folder.is_dir():
        raise DataFileError(f"Indicator registry {folder} is missing")
    target = _remove_package(
        folder, indicator_id,
        missing_error=lambda: IndicatorError(f"No indicator {indicator_id!r} in {folder}"),
        guard=lambda: _guard_shipped(folder, indicator_id, "removing", force))
    from analysis.data import default_registry

    default_registry.cache_clear()
    return target
