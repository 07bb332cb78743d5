"""Fixtures of the learning-log tests: every test that takes ``log_url`` (or ``log``) runs on
SQLite and on PostgreSQL. PostgreSQL is the database named by
``$FAIRSHARE_TEST_POSTGRES_URL`` (``bash .ci/postgres`` starts one and prints it); without it
the PostgreSQL cases are skipped, except under CI (``$CI`` set), where they fail."""

from __future__ import annotations

import os
from datetime import date

import pytest
from sqlalchemy import create_engine, text

from analysis.learning import LearningLog, dispose_engines
from analysis.learning.store import database_url

POSTGRES_ENV = "FAIRSHARE_TEST_POSTGRES_URL"
TODAY = date(2025, 6, 30)


@pytest.fixture(autouse=True)
def _private_state(tmp_path, monkeypatch):
    """No test touches the real state folder or a configured team database."""
    monkeypatch.setenv("FAIRSHARE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("FAIRSHARE_DATABASE_URL", raising=False)
    monkeypatch.delenv("FAIRSHARE_AUTHOR", raising=False)
    yield
    dispose_engines()


def reset_postgres(url: str) -> None:
    """Drop the learning-log tables, so the next use migrates a fresh database."""
    dispose_engines()
    engine = create_engine(database_url(url))
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS reviews, note_versions, notes, "
                                "alembic_version CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def log_url(request, tmp_path) -> str:
    """A fresh, empty learning-log database URL on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'log.sqlite3'}"
    url = os.environ.get(POSTGRES_ENV, "").strip()
    if not url:
        if os.environ.get("CI"):
            pytest.fail(f"{POSTGRES_ENV} is not set: CI must run the PostgreSQL tests "
                        "(bash .ci/postgres prints the URL)")
        pytest.skip(f"{POSTGRES_ENV} not set (bash .ci/postgres starts a PostgreSQL)")
    reset_postgres(url)
    return url


@pytest.fixture
def log(log_url) -> LearningLog:
    """A learning log on a fresh database, today fixed at 30 June 2025."""
    return LearningLog(log_url, today=TODAY)


def note_args(**overrides) -> dict:
    """Arguments of a valid community-voice note for Wigan."""
    values = dict(area="E08000010", kind="community_voice", author="Test Analyst",
                  text="Parents at the drop-in said the buses to the clinic are too rare.",
                  source="Wigan parents' forum", date="2025-06-01")
    values.update(overrides)
    return values
