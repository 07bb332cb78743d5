"""The Add data page's service tab: upload a site list as downloaded, see where each site
was placed (and which were not, by row), use it for the session; its access indicators then
appear among the session's provision indicators, and every service has a map layer."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO

APP = str(REPO / "dashboard" / "app.py")
FIXTURES = REPO / "tests" / "fixtures" / "services"


def open_add_data(area: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=240)
    at.query_params["area"] = area
    at.run()
    at.switch_page("views/add_data.py").run()
    assert not at.exception, at.exception
    return at


def describe(at: AppTest, **values: str) -> None:
    fields = {"svc_id": "clacks_libraries_test", "svc_title": "Libraries (test fixture)",
              "svc_description": "Invented libraries at real postcodes.",
              "svc_kind": "library", "svc_unit": "staffed hours a week", "svc_period": "2024",
              "svc_source": "test fixture", **values}
    for key, value in fields.items():
        widget = (at.text_area(key=key) if key == "svc_description" else at.text_input(key=key))
        widget.set_value(value)


def upload(at: AppTest, name: str) -> None:
    at.file_uploader(key="service_file").set_value(
        (name, (FIXTURES / name).read_bytes(), "text/csv"))


def test_a_library_list_is_placed_used_and_mapped():
    at = open_add_data("S12000005")
    assert [t.label for t in at.tabs][:2] == ["Indicator", "Service (a list of sites)"]
    upload(at, "libraries_clackmannanshire.csv")
    describe(at)
    at.number_input(key="svc_catchment").set_value(5.0)
    at.button(key="check_service").click().run()
    assert not at.exception, at.exception
    report = at.session_state["service_report"]
    assert report.ok and (report.rows, report.geocoded) == (9, 9)
    assert [m.value for m in at.metric][:4] == ["9", "9", "0", "0"]
    assert any("9 of 9 sites placed" in s.value for s in at.success)
    at.button(key="use_service").click().run()
    assert not at.exception, at.exception
    ids = at.session_state["service_indicators"]["clacks_libraries_test"]
    assert ids == ["clacks_libraries_test_nearest_km", "clacks_libraries_test_within_5km",
                   "clacks_libraries_test_e2sfca"]
    uploads = at.session_state["uploaded_indicators"]
    assert all(i in uploads for i in ids)
    assert uploads["clacks_libraries_test_e2sfca"].data["value"].notna().sum() == 72
    assert any("3 access indicators" in s.value for s in at.success)
    # the session's provision indicators now include them (the Map page lists them)
    at.switch_page("views/map.py").run()
    assert not at.exception, at.exception
    options = at.selectbox(key="ind").options
    assert "Libraries (test fixture) within reach (E2SFCA) (provision)" in options
    registry = at.session_state["service_registry"]
    assert registry.is_session("clacks_libraries_test")
    assert "nhs_hospitals_2022" in registry.ids()


def test_sites_that_cannot_be_placed_are_listed_by_row():
    at = open_add_data("E08000010")
    upload(at, "pharmacies_wigan_ods.csv")
    describe(at, svc_id="wigan_pharmacies_test", svc_unit="", svc_kind="community pharmacy")
    at.button(key="check_service").click().run()
    report = at.session_state["service_report"]
    assert not report.ok and at.session_state["service_candidate"] is None
    table = next(d.value for d in at.dataframe
                 if list(d.value.columns) == ["row", "postcode", "site_id", "reason"])
    assert table[["row", "postcode"]].values.tolist() == [[63, "WN9 9ZZ"]]
    assert at.error and "error(s)" in at.error[0].value
    at.checkbox(key="svc_skip").check().run()
    at.button(key="check_service").click().run()
    assert at.session_state["service_report"].ok
    at.button(key="use_service").click().run()
    uploads = at.session_state["uploaded_indicators"]
    assert uploads["wigan_pharmacies_test_nearest_km"].data["value"].notna().sum() == 200


def test_required_fields_are_asked_for():
    at = open_add_data("E08000010")
    at.button(key="check_service").click().run()
    assert any("Choose a site list" in e.value for e in at.error)
    upload(at, "libraries_clackmannanshire.csv")
    at.button(key="check_service").click().run()
    assert any("Fill in the required fields: Id, Title" in e.value for e in at.error)


@pytest.mark.parametrize("page_area", ["E08000010"])
def test_every_service_has_a_map_layer(page_area):
    def page():
        import streamlit as st

        from analysis.ingest import load_service_file
        from dashboard.services import service_map_layers, use_session_service

        folder = st.session_state["fixtures"]
        if "done" not in st.session_state:
            dataset, _ = load_service_file(f"{folder}/pharmacies_wigan_ods.csv",
                                           f"{folder}/pharmacies_wigan.yaml",
                                           skip_unplaced=True)
            use_session_service(dataset)
            st.session_state["done"] = True
        layers = service_map_layers((-2.75, 53.45, -2.40, 53.62), {"v": "", "d": ""})
        st.session_state["layers"] = [(layer.id, len(layer.data)) for layer in layers]

    at = AppTest.from_function(page, default_timeout=240)
    at.session_state["fixtures"] = str(FIXTURES)
    at.run()
    assert not at.exception, at.exception
    labels = [t.label for t in at.toggle]
    assert "Hospitals (NHS.uk list, 2022)" in labels
    assert any(label.endswith("(this session)") for label in labels)
    assert at.session_state["layers"] == []
    for toggle in at.toggle:
        toggle.set_value(True)
    at.run()
    layers = dict(at.session_state["layers"])
    assert layers["service-wigan_pharmacies_test"] == 61
    assert 0 < layers["service-nhs_hospitals_2022"] < 100   # the Wigan view only
