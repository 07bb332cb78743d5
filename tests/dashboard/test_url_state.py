"""Everything that defines a view is in the URL (issue 15): classes, service layers and the
clusters switch round-trip through the query string, and odd values in a link are ignored."""

from __future__ import annotations

import re

from tests.dashboard.test_dashboard_pages import open_page


def test_classes_and_service_layers_open_from_a_link():
    at = open_page("map", "E08000010", classes="7", show_gp="1", show_stroke="1")
    assert at.slider(key="classes").value == 7
    assert at.toggle(key="show_gp").value and at.toggle(key="show_stroke").value
    assert at.query_params["classes"] == "7"
    assert at.query_params["show_gp"] == "1" and at.query_params["show_stroke"] == "1"
    deck = at.get("deck_gl_json_chart")
    assert deck and re.search(r'"id":\s*"gp"', deck[0].proto.json)


def test_changing_classes_and_layers_writes_the_url():
    at = open_page("map", "E08000010")
    assert at.query_params["classes"] == "5" and "show_gp" not in at.query_params
    at.slider(key="classes").set_value(4)
    at.toggle(key="show_gp").set_value(True)
    at.run()
    assert at.query_params["classes"] == "4" and at.query_params["show_gp"] == "1"
    at.toggle(key="show_gp").set_value(False).run()
    assert "show_gp" not in at.query_params  # back at its default: a shorter link


def test_odd_values_in_a_link_are_ignored():
    at = open_page("map", "E08000010", classes="99", show_gp="yes")
    assert at.slider(key="classes").value == 5
    assert at.toggle(key="show_gp").value is False
    at = open_page("map", "E08000010", classes="-3")
    assert at.slider(key="classes").value == 5


def test_the_clusters_switch_is_kept_when_it_differs_from_its_default():
    at = open_page("inverse_care", "E08000010", lisa_on="0")
    assert at.toggle(key="lisa_on").value is False
    assert at.query_params["lisa_on"] == "0"
    at.toggle(key="lisa_on").set_value(True).run()
    assert not at.exception
    assert "lisa_on" not in at.query_params  # on is the default for a borough
