"""Keeping an analyst's session work across a page reload: each browser has a random
token, and its uploads are stored as ordinary indicator packages (written atomically by
:func:`analysis.ingest.registry.install_indicator`) and its scenarios kept for comparison as
one JSON file, under a per-user state folder, ``$FAIRSHARE_STATE_DIR`` or the user's cache
folder, never in the git-tracked ``data/``. They stay until the analyst discards them, or
:data:`KEEP_DAYS` days after last use.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import sys
import time
from pathlib import Path

from analysis.data import DataFileError, data_dir
from analysis.data.indicators import Indicator, IndicatorError, IndicatorRegistry
from analysis.ingest.registry import install_indicator, remove_indicator

STATE_DIR_ENV = "FAIRSHARE_STATE_DIR"
UPLOADS = "uploads"
KEPT_SCENARIOS = "kept-scenarios"
MAX_KEPT_SCENARIOS = 4
MAX_SCENARIO_CHARS = 200_000
KEEP_DAYS = 30
TOKEN = re.compile(r"\A[A-Za-z0-9_-]{22,64}\Z")


class StateDirError(ValueError):
    """The state folder cannot be used (inside the embedded data, or not writable)."""


def default_state_dir() -> Path:
    """The user's cache folder for Fairshare: ``$XDG_CACHE_HOME/fairshare`` (or
    ``~/.cache/fairshare``) on Linux, ``~/Library/Caches/fairshare`` on macOS,
    ``%LOCALAPPDATA%\\fairshare\\cache`` on Windows (the XDG Base Directory and platform
    conventions)."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "fairshare" / "cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "fairshare"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fairshare"


def state_dir() -> Path:
    """Where per-user state lives: ``$FAIRSHARE_STATE_DIR`` or :func:`default_state_dir`.

    Raises :class:`StateDirError` for a folder inside the embedded data directory: uploads
    there would end up in the git-tracked ``data/`` (or the installed package)."""
    override = os.environ.get(STATE_DIR_ENV)
    folder = Path(override).expanduser() if override else default_state_dir()
    data = data_dir().resolve()
    resolved = folder.resolve()
    if resolved == data or data in resolved.parents:
        raise StateDirError(f"{STATE_DIR_ENV} ({folder}) is inside the embedded data folder "
                            f"{data}; choose a folder outside it")
    return folder


def new_token() -> str:
    """A random per-browser token (192 bits, URL-safe)."""
    return secrets.token_urlsafe(24)


def valid_token(token: object) -> bool:
    """Whether ``token`` could be one of :func:`new_token`'s (never a path)."""
    return isinstance(token, str) and bool(TOKEN.match(token))


def uploads_folder(token: str, *, create: bool = False) -> Path:
    """The registry folder holding one browser's uploads."""
    if not valid_token(token):
        raise StateDirError("not a valid browser token")
    folder = state_dir() / UPLOADS / token
    if create:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StateDirError(f"cannot create {folder}: {exc.strerror or exc}") from None
    return folder


def save_upload(token: str, indicator: Indicator) -> Path:
    """Store an upload for this browser (atomically; an upload with the same id is
    replaced); returns its package folder."""
    folder = uploads_folder(token, create=True)
    target, _ = install_indicator(indicator, replace=True, root=folder, force=True)
    return target


def load_uploads(token: str, *, reserved: frozenset[str] | set[str] = frozenset()
                 ) -> tuple[dict[str, Indicator], list[str]]:
    """This browser's stored uploads (id → indicator) and plain-text problems.

    Ids in ``reserved`` (shipped indicators) are skipped with a note; unreadable packages are
    reported, not fatal. Reading marks the folder as used, so it is kept another
    :data:`KEEP_DAYS` days.
    """
    prune_expired()
    folder = uploads_folder(token)
    if not folder.is_dir():
        return {}, []
    os.utime(folder)
    try:
        registry = IndicatorRegistry(folder)
    except DataFileError as exc:
        return {}, [str(exc)]
    uploads: dict[str, Indicator] = {}
    problems = list(registry.errors)
    for meta in registry.metas():
        if meta.id in reserved:
            problems.append(f"{meta.id}: now the id of a shipped indicator; upload it again "
                            "under another id")
            continue
        try:
            uploads[meta.id] = registry.get(meta.id)
        except (DataFileError, IndicatorError) as exc:
            problems.append(str(exc))
    return uploads, problems


def discard_upload(token: str, indicator_id: str) -> bool:
    """Delete one stored upload of this browser; ``False`` if there was none."""
    folder = uploads_folder(token)
    if not (folder / indicator_id).is_dir():
        return False
    remove_indicator(indicator_id, root=folder, force=True)
    return True


def _kept_scenarios_file(token: str) -> Path:
    if not valid_token(token):
        raise StateDirError("not a valid browser token")
    return state_dir() / KEPT_SCENARIOS / f"{token}.json"


def save_kept_scenarios(token: str, scenarios: list[str]) -> None:
    """Store this browser's scenarios kept for comparison (scenario JSON texts, at most
    :data:`MAX_KEPT_SCENARIOS`), replacing the file atomically (write, fsync, rename): a
    crash leaves the old list or the new one, never half of one."""
    kept = [s for s in scenarios if isinstance(s, str) and len(s) <= MAX_SCENARIO_CHARS]
    path = _kept_scenarios_file(token)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        with temporary.open("w", encoding="utf-8") as handle:
            json.dump(kept[-MAX_KEPT_SCENARIOS:], handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        raise StateDirError(f"cannot keep the scenarios in {path.parent}: "
                            f"{exc.strerror or exc}") from None


def load_kept_scenarios(token: str) -> tuple[list[str], list[str]]:
    """This browser's kept scenarios (JSON texts) and plain-text problems; a damaged file is
    reported and ignored, never fatal. Reading marks the file as used."""
    prune_expired()
    path = _kept_scenarios_file(token)
    if not path.is_file():
        return [], []
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
        os.utime(path)
    except (OSError, ValueError) as exc:
        return [], [f"the scenarios kept for comparison could not be read ({path.name}: {exc})"]
    if not isinstance(kept, list) or not all(isinstance(s, str) for s in kept):
        return [], [f"the scenarios kept for comparison ({path.name}) are not a list of "
                    "scenario texts, and were ignored"]
    return kept[-MAX_KEPT_SCENARIOS:], []


def prune_expired(now: float | None = None) -> list[str]:
    """Delete the uploads and kept scenarios of browsers unused for more than
    :data:`KEEP_DAYS` days; returns the tokens removed."""
    try:
        root = state_dir()
    except StateDirError:
        return []
    limit = (now if now is not None else time.time()) - KEEP_DAYS * 86_400
    removed = []
    for entry in [*_entries(root / UPLOADS), *_entries(root / KEPT_SCENARIOS)]:
        try:
            if valid_token(entry.name.removesuffix(".json")) and entry.stat().st_mtime < limit:
                if entry.is_dir():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
                removed.append(entry.name.removesuffix(".json"))
        except OSError:
            continue
    return removed


def _entries(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir()) if folder.is_dir() else []
    except OSError:
        return []
