"""Shared fixtures. Tests read the committed data in ``data/`` only, never the raw pack."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from analysis import datastore

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "data"


@pytest.fixture
def data_copy(tmp_path, monkeypatch) -> Path:
    """A private copy of the embedded data that a test may damage; the engine points at it."""
    from analysis import geography, indicators, lsoa_conversion

    target = tmp_path / "data"
    shutil.copytree(DATA, target)
    monkeypatch.setenv(datastore.DATA_DIR_ENV, str(target))
    caches = [geography.load_pack_table, geography.load_pack, lsoa_conversion.load_lookup,
              indicators.default_registry]
    for cache in caches:
        cache.cache_clear()
    yield target
    for cache in caches:
        cache.cache_clear()


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so fixtures can see whether it failed
    (the browser tests screenshot failures)."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
