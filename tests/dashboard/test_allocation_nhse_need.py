"""AppTest: the allocation page's need picker offers NHS England's weighted populations
(issue 13), and the shipped NHS England primary medical care scenario runs on it."""

from __future__ import annotations

from tests.dashboard.test_dashboard_pages import open_page


def _metric(at, label):
    return next(m for m in at.metric if m.label == label)


def test_nhse_scenario_and_need_picker():
    at = open_page("allocation", "E54000057")
    at.selectbox(key="scenario_base").set_value("icb-gp-funding-nhse-primary-care-need").run()
    assert not at.exception
    picker = next(s for s in at.selectbox if s.label == "Need measure")
    assert picker.value == "pmc"
    assert "NHS England weighted population (maternity)" in picker.options
    assert _metric(at, "Gain / lose").value == "19 / 23"
    assert _metric(at, "Budget").value == "£10.2bn"
    captions = " ".join(c.value for c in at.caption)
    assert "£ per registered patient" in " ".join(m.help or "" for m in at.metric)
    assert "Your settings differ" not in captions
    picker.set_value("final").run()
    assert not at.exception
    assert "Your settings differ" in " ".join(c.value for c in at.caption)
    year = next(s for s in at.selectbox if s.label == "Allocation year")
    year.set_value("2023-24").run()
    assert not at.exception


def test_practice_scenario_can_switch_to_nhse_need():
    at = open_page("allocation", "E54000057")
    picker = next(s for s in at.selectbox if s.label == "Need measure")
    assert picker.value is None  # the scenario's own need (practice IMD formula)
    picker.set_value("pmc").run()
    assert not at.exception
    notes = " ".join(t.value for t in at.text)
    assert "NHS England's primary medical care weighted population, 2024-25" in notes


def test_pcn_scenario_runs_and_draws_networks_as_points():
    """Primary care networks within Greater Manchester: gains and losses, money kept, and a
    map of points (PCNs have no boundaries) whose text alternative says where they stand."""
    at = open_page("allocation", "E54000057")
    at.selectbox(key="scenario_base").set_value("pcn-gp-funding-nhse-primary-care-need").run()
    assert not at.exception
    assert not at.error
    gain, lose = (int(n) for n in _metric(at, "Gain / lose").value.split(" / "))
    assert gain > 0 and lose > 0
    captions = " ".join(c.value for c in at.caption)
    assert "primary care networks with patients (each at the mean position of its practices)" \
        in captions
    notes = " ".join(t.value for t in at.text)
    assert "PCNs have no published boundaries" in notes
