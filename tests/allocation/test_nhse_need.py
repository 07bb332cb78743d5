"""The need kind ``nhse_weighted_population``: schema round trip and back compatibility, and a
real ICB run whose targets are NHS England's primary medical care shares."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analysis.allocation import NeedSpec, Scenario, allocate, load_scenario

SCENARIO = Path("data/scenarios/icb-gp-funding-nhse-primary-care-need.json")


def test_schema_round_trip_and_defaults():
    scenario = load_scenario(SCENARIO)
    assert scenario.need.component == "pmc" and scenario.need.year == "2024-25"
    assert Scenario.from_json(scenario.to_json()) == scenario
    spec = NeedSpec.from_dict({"kind": "nhse_weighted_population"})
    assert (spec.component, spec.year) == ("final", "2024-25")
    # the older kinds write no component or year: files written before stay byte-identical
    old = json.loads(Path("data/scenarios/icb-gp-funding-health-need.json").read_text())
    assert Scenario.from_dict(old).to_dict()["need"] == old["need"]


@pytest.mark.parametrize(("need", "words"), [
    ({"kind": "nhse_weighted_population", "component": "dental"}, "choose one of ga, cs"),
    ({"kind": "nhse_weighted_population", "year": "2022-23"}, "2023-24, 2024-25"),
    ({"kind": "index", "index": "x", "component": "pmc"}, "only used with kind"),
    ({"kind": "nhse_weighted_population", "index": "x"}, "not components or index"),
])
def test_bad_need_is_refused(need, words):
    with pytest.raises(ValueError, match=words):
        NeedSpec.from_dict(need)


def test_level_without_weighted_populations_is_refused():
    raw = json.loads(SCENARIO.read_text())
    raw["level"] = "ltla"
    with pytest.raises(ValueError, match="practice, pcn, sicbl, icb"):
        Scenario.from_dict(raw)


def test_icb_run_targets_nhse_shares_with_known_winners():
    result = allocate(load_scenario(SCENARIO))
    areas = result.areas.set_index("area_code")
    assert len(areas) == 42
    assert areas["current"].sum() == pytest.approx(areas["allocation"].sum())
    # alpha = 0: target = budget x WP_pmc share (NHS England's target share)
    share = areas["need"] / areas["need"].sum()
    assert (areas["target"] / result.budget).to_numpy() == pytest.approx(share.to_numpy())
    assert areas["population"].sum() == pytest.approx(62_154_630.3, abs=1)
    assert result.winners[:3] == ["E54000027", "E54000057", "E54000030"]
    assert result.losers[:3] == ["E54000054", "E54000051", "E54000022"]
    nwl = areas.loc["E54000027"]  # North West London: furthest under its target
    assert nwl["target"] == pytest.approx(456.5e6, rel=1e-3)
    assert nwl["change_pct"] == pytest.approx(6.12, abs=0.01)  # three years at +2%
    assert result.summary()["under_target_losers"] == 0
    assert any("169 practices with 2022-23 payments" in n for n in result.notes)
    assert any("53 practices in NHS England's 2024-25 file" in n for n in result.notes)


def test_practice_run_reports_practices_in_one_file_only():
    scenario = load_scenario(SCENARIO).replace(level="practice", years=1, name="nhse-practice")
    result = allocate(scenario)
    assert result.per_head_unit == "£ per registered patient"
    text = " ".join(result.notes)
    assert "not in NHS England's 2024-25 weighted populations" in text
    assert "have no 2022-23 payments and are left out" in text
    assert result.summary()["released"] == 169
    assert result.summary()["areas"] == 6669
