"""Keeping an analyst's session uploads across a page reload: each browser has a random
token, and its uploads are stored as ordinary indicator packages (written atomically by
:func:`analysis.ingest.registry.install_indicator`) under a per-user state folder,
``$FAIRSHARE_STATE_DIR`` or the user's cache folder, never in the git-tracked ``data/``.
Uploads stay until the analyst discards them, or :data:`KEEP_DAYS` days after last use.
"""

from __future__ import annotations

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


def prune_expired(now: float | None = None) -> list[str]:
    """Delete the uploads of browsers unused for more than :data:`KEEP_DAYS` days; returns
    the tokens removed."""
    try:
        root = state_dir() / UPLOADS
    except StateDirError:
        return []
    if not root.is_dir():
        return []
    limit = (now if now is not None else time.time()) - KEEP_DAYS * 86_400
    removed = []
    for folder in root.iterdir():
        try:
            if folder.is_dir() and valid_token(folder.name) and folder.stat().st_mtime < limit:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder.name)
        except OSError:
            continue
    return removed
