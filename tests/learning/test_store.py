"""Storage: where the log lives, SQLite's WAL mode and busy timeout, PostgreSQL URLs, and
the Alembic migrations that create exactly the tables the models describe."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, Table, text

from analysis.learning import LearningLog, state_dir
from analysis.learning.models import Base
from analysis.learning.store import (
    current_revision,
    database_url,
    get_engine,
    head_revision,
    include_object,
    read_session,
)
from tests.conftest import REPO
from tests.learning.conftest import note_args


def test_the_default_log_is_sqlite_in_the_state_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("FAIRSHARE_STATE_DIR", str(tmp_path / "here"))
    assert state_dir() == tmp_path / "here"
    assert database_url() == f"sqlite:///{tmp_path / 'here' / 'learning.sqlite3'}"
    LearningLog().add(**note_args())
    assert (tmp_path / "here" / "learning.sqlite3").is_file()
    assert not list((REPO / "data").rglob("*.sqlite3"))


def test_the_state_folder_defaults_per_user(monkeypatch, tmp_path):
    monkeypatch.delenv("FAIRSHARE_STATE_DIR")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    if state_dir().parts[-1] == "fairshare":  # Linux and the BSDs
        assert state_dir() == tmp_path / "xdg" / "fairshare"
        monkeypatch.delenv("XDG_STATE_HOME")
        assert state_dir() == Path.home() / ".local" / "state" / "fairshare"


def test_database_url_selects_postgresql_with_psycopg(monkeypatch):
    monkeypatch.setenv("FAIRSHARE_DATABASE_URL", "postgresql://u@db.example/fair")
    assert database_url() == "postgresql+psycopg://u@db.example/fair"
    assert database_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path):
    engine = get_engine(f"sqlite:///{tmp_path / 'wal.sqlite3'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_the_schema_is_migrated_to_head_on_first_use(log_url):
    engine = get_engine(log_url)
    assert current_revision(engine) == head_revision() == "0001"


def test_the_models_match_the_migrations(log_url):
    engine = get_engine(log_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "include_object": include_object, "compare_type": True})
        diff = compare_metadata(context, Base.metadata)
        extra = MetaData()
        for table in Base.metadata.tables.values():
            table.to_metadata(extra)
        Table("unmigrated", extra, Column("id", Integer, primary_key=True))
        assert compare_metadata(context, extra)  # the comparison does see a difference
    assert diff == []


def test_the_search_structures_exist(log_url):
    engine = get_engine(log_url)
    with read_session(engine) as session:
        if engine.dialect.name == "sqlite":
            assert session.execute(text("SELECT name FROM sqlite_master WHERE name = "
                                        "'notes_fts'")).first()
        else:
            assert session.execute(text("SELECT indexname FROM pg_indexes WHERE indexname "
                                        "= 'ix_notes_search'")).first()


def test_an_unreachable_database_fails_with_a_clear_message(tmp_path):
    from analysis.learning import StorageError

    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    with pytest.raises(StorageError, match="Cannot create the folder"):
        get_engine(f"sqlite:///{blocked / 'sub' / 'log.sqlite3'}")
