"""Where the learning log is kept and how every read and write reaches it.

* Default: an embedded SQLite file ``learning.sqlite3`` in a per-user state folder
  (``$FAIRSHARE_STATE_DIR``; else ``$XDG_STATE_HOME/fairshare`` or ``~/.local/state/fairshare``
  on Linux, ``~/Library/Application Support/Fairshare`` on macOS, ``%LOCALAPPDATA%\\Fairshare``
  on Windows), never in the git-tracked ``data/``. It runs in WAL mode (readers never block
  the writer) with a busy timeout, and every write transaction starts with
  ``BEGIN IMMEDIATE`` so that concurrent writers queue instead of failing half-way.
* A team deployment sets ``$FAIRSHARE_DATABASE_URL`` to PostgreSQL
  (``postgresql://user@host/db``; psycopg 3 is used).

The schema is created and upgraded by Alembic (``alembic upgrade head``) on first use in a
process; concurrent first uses are serialised (SQLite's write lock, a PostgreSQL advisory
lock).
"""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

STATE_DIR_ENV = "FAIRSHARE_STATE_DIR"
DATABASE_URL_ENV = "FAIRSHARE_DATABASE_URL"
SQLITE_FILE = "learning.sqlite3"
BUSY_TIMEOUT_MS = 30_000
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: PostgreSQL advisory lock key held while migrating ("fairshar" in ASCII).
MIGRATION_LOCK = 0x6661697273686172 % (2**63)

T = TypeVar("T")
_ENGINES: dict[tuple[int, str], Engine] = {}
_MIGRATED: set[tuple[int, str]] = set()
_LOCK = threading.Lock()


class StorageError(RuntimeError):
    """The learning log's database cannot be reached, created or upgraded."""


def state_dir() -> Path:
    """The per-user folder for Fairshare's own state (``$FAIRSHARE_STATE_DIR`` wins)."""
    configured = os.environ.get(STATE_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    home = Path.home()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA")
        return Path(base) / "Fairshare" if base else home / "AppData" / "Local" / "Fairshare"
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "Fairshare"
    xdg = os.environ.get("XDG_STATE_HOME")
    return (Path(xdg) if xdg else home / ".local" / "state") / "fairshare"


def database_url(url: str | None = None) -> str:
    """The URL of the learning log: ``url``, else ``$FAIRSHARE_DATABASE_URL``, else the
    SQLite file in :func:`state_dir`. ``postgres://`` and ``postgresql://`` get psycopg 3."""
    chosen = url or os.environ.get(DATABASE_URL_ENV) or ""
    if not chosen.strip():
        return f"sqlite:///{state_dir() / SQLITE_FILE}"
    chosen = chosen.strip()
    for prefix in ("postgres://", "postgresql://"):
        if chosen.startswith(prefix):
            return "postgresql+psycopg://" + chosen[len(prefix):]
    return chosen


def describe_url(url: str) -> str:
    """``url`` with any password hidden, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def _sqlite_events(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no cover - exercised by every test
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # pragma: no cover - exercised by every test
        # writers take the write lock at the start: no deadlock when a reader becomes a
        # writer; readers (``read_session``) begin a plain deferred transaction
        if connection.get_execution_options().get("learning_read"):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def get_engine(url: str | None = None) -> Engine:
    """The (per-process, cached) SQLAlchemy engine of the log, its schema at Alembic head."""
    resolved = database_url(url)
    key = (os.getpid(), resolved)
    with _LOCK:
        engine = _ENGINES.get(key)
        if engine is None:
            engine = _new_engine(resolved)
            _ENGINES[key] = engine
        if key not in _MIGRATED:
            upgrade(engine)
            _MIGRATED.add(key)
    return engine


def _new_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            try:
                Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(f"Cannot create the folder of the learning log "
                                   f"{database}: {exc}") from exc
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        _sqlite_events(engine)
        return engine
    try:
        return create_engine(url, pool_pre_ping=True)
    except Exception as exc:  # a missing driver, a malformed URL
        raise StorageError(f"Cannot open the learning log at {describe_url(url)}: "
                           f"{exc}") from exc


def dispose_engines() -> None:
    """Close every engine this process opened (tests, and after a fork)."""
    with _LOCK:
        for engine in _ENGINES.values():
            engine.dispose()
        _ENGINES.clear()
        _MIGRATED.clear()


def alembic_config(connection=None):
    """The Alembic configuration of the log (scripts in ``analysis/learning/migrations``)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration's revision id."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (``None`` before the first migration)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as raw, raw.execution_options(learning_read=True) as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run ``alembic upgrade`` on the log's database in one transaction."""
    from alembic import command

    try:
        if revision == "head" and current_revision(engine) == head_revision():
            return
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:k)"),
                                   {"k": MIGRATION_LOCK})
            command.upgrade(alembic_config(connection), revision)
    except (OperationalError, DBAPIError) as exc:
        raise StorageError(f"Cannot prepare the learning log at "
                           f"{describe_url(engine.url.render_as_string(False))}: "
                           f"{exc.orig}") from exc


#: Objects the migrations make that the models do not describe (full-text search).
UNMODELLED = frozenset({"notes_fts", "ix_notes_search"})


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic hook: leave the full-text search structures (SQLite's ``notes_fts*`` tables,
    PostgreSQL's ``ix_notes_search``) out of autogenerate comparisons."""
    return not (name in UNMODELLED or (name or "").startswith("notes_fts"))


def _retryable(exc: BaseException) -> bool:
    original = getattr(exc, "orig", exc)
    if isinstance(original, sqlite3.OperationalError):
        return "locked" in str(original) or "busy" in str(original)
    sqlstate = getattr(original, "sqlstate", None)
    return sqlstate in ("40001", "40P01")  # serialization failure, deadlock


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    """A session for reading (no write lock is taken on SQLite)."""
    with engine.connect() as raw:
        connection = raw.execution_options(learning_read=True)
        with Session(bind=connection, expire_on_commit=False) as session:
            yield session


def write(engine: Engine, work: Callable[[Session], T], *, attempts: int = 8) -> T:
    """Run ``work(session)`` as one transaction: all of it is committed or none of it.

    A transaction that loses a lock race (SQLite busy, PostgreSQL serialisation failure or
    deadlock) is rolled back and retried from the start, so no write is lost half-done.
    """
    delay = 0.05
    for attempt in range(1, attempts + 1):
        try:
            with Session(engine, expire_on_commit=False) as session, session.begin():
                return work(session)
        except (OperationalError, DBAPIError) as exc:
            if attempt == attempts or not _retryable(exc):
                raise
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
    raise AssertionError("unreachable")  # pragma: no cover
