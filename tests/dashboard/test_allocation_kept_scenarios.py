"""Scenarios kept for comparison on the Allocation page come back after a reload (a new
session of the same browser) and are gone after "Clear comparison"."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from analysis.ingest import load_kept_scenarios, new_token
from tests.conftest import REPO

APP = str(REPO / "dashboard" / "app.py")


def allocation_page(token: str) -> AppTest:
    # AppTest has no cookies: the browser's token is put where the cookie would have put it
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["area"] = "E54000057"
    at.session_state["browser_token"] = token
    at.run()
    at.switch_page("views/allocation.py").run()
    assert not at.exception, at.exception
    return at


def test_kept_scenarios_survive_a_reload_until_cleared():
    token = new_token()
    at = allocation_page(token)
    at.button(key="keep_scenario").click().run()
    at.selectbox(key="scenario_base").set_value("icb-gp-funding-health-need").run()
    at.button(key="keep_scenario").click().run()
    assert not at.exception, at.exception
    assert len(load_kept_scenarios(token)[0]) == 2

    reloaded = allocation_page(token)  # a new session of the same browser
    assert len(reloaded.session_state["kept_scenarios"]) == 2
    assert reloaded.dataframe, "the comparison table is shown again"

    reloaded.button(key="clear_compare").click().run()
    assert load_kept_scenarios(token)[0] == []
