"""Scenarios kept for comparison survive a page reload: stored per browser token, atomically,
and a damaged store is reported, never fatal."""

from __future__ import annotations

import json
import os
import time

import pytest

from analysis.ingest import (
    StateDirError,
    load_kept_scenarios,
    new_token,
    save_kept_scenarios,
    state_dir,
)
from analysis.ingest.sessions import KEPT_SCENARIOS, MAX_KEPT_SCENARIOS, prune_expired


def test_kept_scenarios_round_trip_and_keep_the_last_four():
    token = new_token()
    texts = [json.dumps({"name": f"s{i}"}) for i in range(6)]
    save_kept_scenarios(token, texts)
    kept, problems = load_kept_scenarios(token)
    assert kept == texts[-MAX_KEPT_SCENARIOS:] and problems == []
    assert load_kept_scenarios(new_token()) == ([], [])  # another browser sees nothing


def test_damaged_store_is_reported_not_fatal():
    token = new_token()
    save_kept_scenarios(token, ["{}"])
    path = state_dir() / KEPT_SCENARIOS / f"{token}.json"
    path.write_text("[1, 2", encoding="utf-8")  # truncated
    kept, problems = load_kept_scenarios(token)
    assert kept == [] and "could not be read" in problems[0]
    path.write_text('{"not": "a list"}', encoding="utf-8")
    assert "not a list" in load_kept_scenarios(token)[1][0]


def test_a_token_is_never_a_path():
    with pytest.raises(StateDirError):
        save_kept_scenarios("../../etc/passwd", ["{}"])


def test_unused_kept_scenarios_expire():
    token = new_token()
    save_kept_scenarios(token, ["{}"])
    path = state_dir() / KEPT_SCENARIOS / f"{token}.json"
    old = time.time() - 40 * 86_400
    os.utime(path, (old, old))
    assert token in prune_expired()
    assert not path.exists()
