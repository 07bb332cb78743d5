"""Allocation between primary care networks: the areas are the PCN codes of the 2022-23 GP
payments, their money, patients, need and deprivation are sums or weighted means of their
practices', and every output that names an area works for them (points on the map, the
briefing's list of networks in a study area)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.allocation import Scenario, allocate, practice_change_points, run_scenario_file
from analysis.allocation.inputs import _payments_year, _practice_frame, practice_pcns

SCENARIO = Path("data/scenarios/pcn-gp-funding-nhse-primary-care-need.json")
WIGAN_ICB = "E54000057"  # Greater Manchester


@pytest.fixture(scope="module")
def national():
    return run_scenario_file(SCENARIO)


def test_every_network_of_the_payments_file_is_an_area_and_the_budget_is_kept(national):
    codes = practice_pcns()
    assert len(national.areas) == codes.nunique() == 1_272
    assert national.areas["area_code"].str.match(r"^U\d{5}$").all()
    assert national.areas["allocation"].sum() == pytest.approx(
        national.areas["current"].sum(), rel=1e-9)
    summary = national.summary()
    assert summary["under_target_losers"] == 0 and summary["over_target_gainers"] == 0


def test_a_networks_current_money_is_the_sum_of_its_practices_payments(national):
    rows = _payments_year()
    paid = pd.Series(rows["total_payments"].astype(float).clip(lower=0).to_numpy(),
                     index=rows["practice_code"].astype(str).to_numpy())
    network = practice_pcns()
    expected = paid[network.index].groupby(network.to_numpy()).sum()
    got = national.areas.set_index("area_code")["current"]
    pd.testing.assert_series_equal(got.sort_index(), expected.reindex(got.index).sort_index(),
                                   check_names=False)
    # practices without a PCN code are named in the notes with their money
    assert any("have no PCN code" in note for note in national.notes)


def test_deprivation_is_the_weighted_patient_mean_of_the_practices():
    raw = json.loads(Path("data/scenarios/gp-funding-toward-need.json").read_text())
    raw["level"], raw["area"] = "pcn", WIGAN_ICB
    result = allocate(Scenario.from_dict(raw))
    practices = _practice_frame()
    network = practice_pcns().reindex(practices.index)
    one = result.areas.iloc[0]
    members = practices[network.to_numpy() == one["area_code"]].dropna(subset=["deprivation"])
    weights = members["population"]
    assert one["deprivation"] == pytest.approx(
        float(np.average(members["deprivation"], weights=weights)), rel=1e-9)
    assert one["population"] == pytest.approx(float(practices.loc[
        network.to_numpy() == one["area_code"], "population"].sum()), rel=1e-9)


def test_a_study_area_keeps_the_networks_with_a_practice_in_it():
    from analysis.access import practices_in_area

    raw = json.loads(SCENARIO.read_text())
    raw["area"] = WIGAN_ICB
    result = allocate(Scenario.from_dict(raw))
    wanted = set(practice_pcns().reindex(practices_in_area(WIGAN_ICB)).dropna())
    assert set(result.areas["area_code"]) == wanted
    assert 50 < len(wanted) < 100
    assert result.areas["allocation"].sum() == pytest.approx(result.areas["current"].sum())


def test_networks_are_drawn_at_the_mean_position_of_their_practices(national):
    points = practice_change_points(national)
    alive = national.areas[national.areas["status"] != "zero population"]
    assert len(points) >= 0.99 * len(alive)
    assert points["lat"].between(49.8, 55.9).all() and points["lon"].between(-6.5, 2.0).all()
    assert points["c"].is_unique


def test_area_based_provision_indicators_are_refused_at_pcn_level():
    raw = json.loads(SCENARIO.read_text())
    raw["current"] = {"source": "indicator", "indicator": "gp_fte_per_100k"}
    with pytest.raises(ValueError, match="at pcn level"):
        Scenario.from_dict(raw)
