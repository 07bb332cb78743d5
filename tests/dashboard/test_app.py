"""Streamlit AppTest smoke tests of the dashboard on the real embedded data."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO

APP = str(REPO / "dashboard" / "app.py")


def run_app(area: str | None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    if area is not None:
        at.query_params["area"] = area
    return at.run()


@pytest.mark.parametrize(
    ("area", "title", "population"),
    [
        ("E54000057", "NHS Greater Manchester Integrated Care Board", "2,867,735"),
        ("E08000010", "Wigan", "329,339"),
        ("S12000005", "Clackmannanshire", "51,540"),
    ],
)
def test_overview_loads_for_study_areas(area, title, population):
    at = run_app(area)
    assert not at.exception, at.exception
    assert at.title[0].value == title
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Population"] == population
    deprived = next(v for k, v in metrics.items() if k.startswith("In the most deprived 20%"))
    assert deprived.endswith("%")
    assert "Open Government Licence" in " ".join(c.value for c in at.caption)
    assert at.query_params["area"] == area


def test_default_view_is_greater_manchester():
    at = run_app(None)
    assert not at.exception
    assert at.title[0].value == "NHS Greater Manchester Integrated Care Board"


def test_unknown_area_in_url_warns_and_falls_back():
    at = run_app("E5400057")
    assert not at.exception
    assert "Unknown area code" in at.warning[0].value
    assert "E54000057" in at.warning[0].value


def test_switching_country_to_scotland():
    at = run_app("E08000010")
    at.sidebar.radio[0].set_value("scotland").run()
    assert not at.exception
    assert at.title[0].value == "Scotland"
    assert at.query_params["area"] == "S92000003"


def test_missing_data_shows_an_error_not_a_traceback(data_copy):
    (data_copy / "indicators" / "imd2025_decile" / "data.parquet").unlink()
    at = run_app("E08000010")
    assert not at.exception
    assert "imd2025_decile" in at.error[0].value
