"""AppTest of the allocation modeller (issue 17): the study area applied or said to be
national, units per scenario, counts that add up, each ready-made scenario's own settings,
extreme percentages explained."""

from __future__ import annotations

import re

from tests.dashboard.test_dashboard_pages import open_page

ASCII_NEGATIVE = re.compile(r"£-|(?<![\w.\-])-\d")
MARKDOWN_ESCAPE = re.compile(r"\\(.)")
LONG_PERCENT = re.compile(r"\d{1,3}(,\d{3})+(\.\d)?%|\d{5,}(\.\d)?%")


def _metric(at, label):
    return next(m for m in at.metric if m.label == label)


def _toggle(at, label):
    return next(t for t in at.toggle if t.label == label)


def _all_text(at) -> str:
    """Captions, info boxes and metrics (the map legend's labels come from analysis.explore)."""
    parts = [c.value for c in at.caption] + [i.value for i in at.info]
    text = "\n".join(parts + [m.value + (m.delta or "") for m in at.metric])
    return MARKDOWN_ESCAPE.sub(r"\1", text)  # as the reader sees it (plain text is escaped)


def test_practice_scenario_is_modelled_within_the_study_area():
    at = open_page("allocation", "E54000057")
    assert at.info[0].value.startswith("Within NHS Greater Manchester Integrated Care Board")
    assert _metric(at, "Budget").value == "£494.1m"
    assert _metric(at, "Gain / lose").value == "247 / 157"
    text = _all_text(at)
    assert "414 practices: 247 gain, 157 lose, 10 unchanged." in text
    assert "Text alternative: 414 of the 414 practices with patients" in text
    assert "\u2212£" in _metric(at, "Fair-share shortfall").delta
    assert not ASCII_NEGATIVE.search(text)
    _toggle(at, "Only NHS Greater Manchester Integrated Care Board").set_value(False).run()
    assert not at.exception
    assert at.info[0].value.startswith("National: England's practices")
    assert _metric(at, "Gain / lose").value == "4,067 / 2,391"
    assert "and 206 released (no weighted patients; their £78.9m goes to the others)" in \
        _all_text(at)


def test_each_ready_made_scenario_loads_its_own_settings():
    at = open_page("allocation", "E54000057")
    _toggle(at, "No pace limit").set_value(True).run()
    assert "no pace limit" in _all_text(at) and "Your settings differ" in _all_text(at)
    at.selectbox(key="scenario_base").set_value("icb-gp-funding-health-need").run()
    assert not at.exception
    assert _toggle(at, "No pace limit").value is False
    gains = [n.value for n in at.number_input if n.label == "Maximum gain a year (%)"]
    assert gains == [2.0]
    text = _all_text(at)
    assert "Settings: α = 0.50 (50% per head, 50% by need); 3 years; at most 2% gain" in text
    assert at.info[0].value.startswith("National: England's ICBs share the budget")


def test_neighbourhood_scenario_reads_in_fte_gps():
    at = open_page("allocation", "E54000057")
    at.selectbox(key="scenario_base").set_value("lsoa-gp-capacity-health-need").run()
    assert not at.exception
    budget = _metric(at, "Budget").value
    assert budget.endswith(" FTE GPs") and "£" not in budget  # was "Budget £0.0m"
    assert "1,702 neighbourhoods (LSOAs)" in _all_text(at)


def test_no_pace_limit_reading_explains_extreme_percentages():
    at = open_page("allocation", "E54000057")
    _toggle(at, "Only NHS Greater Manchester Integrated Care Board").set_value(False).run()
    _toggle(at, "No pace limit").set_value(True).run()
    assert not at.exception
    text = _all_text(at)
    assert not LONG_PERCENT.search(text), LONG_PERCENT.search(text)
    # GP at Hand gains most in pounds; in proportion the largest gain is a practice from zero
    assert "The largest gain is +£3.9m (+39.3%) at GP AT HAND; in proportion, from zero to £" \
        in text
