"""Shared fixtures. Tests read the committed data in ``data/`` only, never the raw pack."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from analysis.data import datastore

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "data"


def clear_streamlit_caches() -> None:
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def data_copy(tmp_path, monkeypatch) -> Path:
    """A private copy of the embedded data that a test may damage; the engine points at it.

    Engine caches are keyed by the data directory; the dashboard's Streamlit caches are not
    (a deployment has one), so they are emptied before and after.
    """
    target = tmp_path / "data"
    shutil.copytree(DATA, target)
    monkeypatch.setenv(datastore.DATA_DIR_ENV, str(target))
    clear_streamlit_caches()
    yield target
    clear_streamlit_caches()


@pytest.fixture(autouse=True)
def private_state_dir(tmp_path_factory, monkeypatch):
    """Per-user state (session uploads, the learning log) goes to a temporary folder, never
    to the real user's cache."""
    monkeypatch.setenv("FAIRSHARE_STATE_DIR", str(tmp_path_factory.mktemp("state")))


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so fixtures can see whether it failed
    (the browser tests screenshot failures)."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
