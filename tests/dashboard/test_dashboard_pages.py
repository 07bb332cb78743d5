"""AppTest of every dashboard page for Greater Manchester, Wigan and Clackmannanshire."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO

APP = str(REPO / "dashboard" / "app.py")
AREAS = {"E54000057": "NHS Greater Manchester Integrated Care Board", "E08000010": "Wigan",
         "S12000005": "Clackmannanshire"}


def open_page(page: str, area: str, **params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["area"] = area
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    if page != "overview":
        at.switch_page(f"views/{page}.py").run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [i.value for i in at.info] + [w.value for w in at.warning]
    return "\n".join(parts)


@pytest.mark.parametrize("area", list(AREAS))
def test_overview(area):
    at = open_page("overview", area)
    assert at.title[0].value == AREAS[area]
    labels = [m.label for m in at.metric]
    assert "Population" in labels
    # Scotland's headline pair is SIMD rank × public-transport minutes to a GP
    verdict = next(m for m in at.metric if m.label == "Inverse care law test")
    assert verdict.value in {"Inverse care", "Follows need", "No clear pattern"}
    assert "Verdict:" in at.info[0].value and "95% CI" in at.info[0].value
    if area == "S12000005":
        assert verdict.value == "Follows need"  # shorter journeys where need is higher
        assert "shorter where need is higher" in at.info[0].value
        gp = next(m for m in at.metric if m.label == "Public-transport time to a GP")
        assert gp.value == "9.6"


@pytest.mark.parametrize("area", list(AREAS))
def test_map_single_indicator(area):
    at = open_page("map", area)
    assert at.title[0].value == f"Map: {AREAS[area]}"
    assert at.query_params["mode"] == "single"
    assert "Click an area to open its profile" in texts(at)
    assert any(b.label == "Download GeoJSON" for b in at.get("download_button"))


def test_map_bivariate_from_a_shared_link():
    at = open_page("map", "E08000010", mode="bivariate", need="iod2025_cidr",
                   prov="gp_access_funding_per_resident")
    assert at.query_params["need"] == "iod2025_cidr"
    assert at.query_params["prov"] == "gp_access_funding_per_resident"
    text = texts(at)
    assert "High need, low provision" in text
    assert "combine high need with low provision" in text


def test_map_services_layers():
    at = open_page("map", "E08000010")
    at.toggle(key="show_gp").set_value(True)
    at.toggle(key="show_stroke").set_value(True)
    at.run()
    assert not at.exception
    assert "thrombectomy centres" in texts(at)


def test_map_classification_and_indicator_choice():
    at = open_page("map", "E54000057", ind="census2021_disabled_pct", scheme="natural_breaks")
    assert at.selectbox(key="ind").value == "census2021_disabled_pct"
    assert at.selectbox(key="scheme").value == "natural_breaks"
    at.selectbox(key="scheme").set_value("equal_interval").run()
    assert not at.exception
    assert at.query_params["scheme"] == "equal_interval"


@pytest.mark.parametrize("area", ["E54000057", "E08000010"])
def test_inverse_care_page(area):
    # IoD 2025 GPs per 100,000 patients: fewer GPs where the IMD score is higher (real data)
    at = open_page("inverse_care", area, need="imd2025_score",
                   prov="iod2025_gps_per_100k_patients", funnel="census2021_disabled_pct")
    text = texts(at)
    assert "Reading:" in text and "Text alternative:" in text
    labels = {m.label for m in at.metric}
    assert {"Slope index of inequality (SII)", "Relative index of inequality (RII)",
            "Concentration index"} <= labels
    assert "inverse care pattern" in at.info[0].value
    assert "High need, low provision" in text  # cluster legend (on by default here)
    assert "control limits" in text  # funnel plot reading


def test_inverse_care_page_scotland_tests_travel_time_to_a_gp():
    at = open_page("inverse_care", "S12000005")
    assert not [w.value for w in at.warning if "no small-area provision" in w.value]
    assert at.query_params.get("prov", "simd2020_gp_public_transport_minutes") == (
        "simd2020_gp_public_transport_minutes")
    verdict = at.info[0].value
    assert "Public-transport time to a GP surgery is shorter where need is higher" in verdict
    assert "pro-need pattern (p = 0.026)" in verdict
    assert "higher is worse" in texts(at) or "longer times" in " ".join(
        m.help or "" for m in at.metric)


@pytest.mark.parametrize("area", ["E54000057", "E08000010"])
def test_gp_funding_page(area):
    at = open_page("gp_funding", area)
    text = texts(at)
    assert "per weighted patient" in text and "2022-23" in text
    at.toggle(key="dispensing").set_value(False).run()
    assert not at.exception
    assert "Dispensing practices are excluded" in texts(at)


def test_gp_funding_page_scotland():
    at = open_page("gp_funding", "S12000005")
    assert "English practices only" in at.warning[0].value


@pytest.mark.parametrize("area", list(AREAS))
def test_profile_page(area):
    at = open_page("profile", area)
    assert at.title[0].value == f"Area profile: {AREAS[area]}"
    assert "Reading:" in texts(at)
    assert len(at.dataframe) >= 1


def test_chart_downloads_offer_png_and_svg():
    at = open_page("profile", "E08000010")
    labels = [b.label for b in at.get("download_button")]
    assert "Download PNG" in labels and "Download SVG" in labels


def test_chart_images_render_even_above_altairs_row_limit():
    import altair as alt
    import pandas as pd

    from dashboard.components import _render_chart

    small = alt.Chart(pd.DataFrame({"a": [1]})).mark_bar().encode(x="a:Q")
    assert _render_chart(small, "A chart", "png").startswith(b"\x89PNG")
    assert b"<svg" in _render_chart(small, "A chart", "svg")
    # a region has more than 5,000 small areas: Altair's default limit must not break export
    large = alt.Chart(pd.DataFrame({"a": range(6_000)})).mark_tick().encode(x="a:Q")
    assert b"<svg" in _render_chart(large, "A region's chart", "svg")


def test_allocation_page_default_gp_scenario():
    at = open_page("allocation", "E54000057")
    labels = {m.label for m in at.metric}
    assert {"Budget", "Gain / lose", "Concentration index vs need",
            "Fair-share shortfall"} <= labels
    # the study area applies: Greater Manchester's practices, toward target
    winners = next(m for m in at.metric if m.label == "Gain / lose").value
    assert winners == "247 / 157"
    assert "Fitted across deprivation deciles" in texts(at)  # the equity reading
    names = [b.label for b in at.get("download_button")]
    assert "Download scenario JSON" in names


def test_allocation_page_icb_scenario_and_comparison():
    at = open_page("allocation", "E54000057")
    at.selectbox(key="scenario_base").set_value("icb-gp-funding-health-need").run()
    assert not at.exception
    at.button(key="keep_scenario").click().run()
    at.selectbox(key="scenario_base").set_value("gp-funding-toward-need").run()
    at.button(key="keep_scenario").click().run()
    assert not at.exception
    assert len(at.session_state["kept_scenarios"]) == 2
    assert len(at.dataframe) >= 2


def test_add_data_page_validates_and_uses_an_upload():
    import pandas as pd

    from analysis.data import load_pack_table

    at = open_page("add_data", "E08000010")
    codes = load_pack_table("england").query("ltla_code == 'E08000010'").index[:150]
    csv = pd.DataFrame({"area_code": codes, "value": range(150)}).to_csv(index=False)

    class Upload:  # what st.file_uploader returns, as far as the page uses it
        name = "wigan_<b>test</b>.csv"

        def getvalue(self):
            return csv.encode()

    from analysis.ingest import read_upload

    meta = {"id": "wigan_test", "title": "Wigan <test> & co", "description": "A test.",
            "unit": "score", "kind": "need", "polarity": "higher_is_worse",
            "period": "2024", "geography": "auto", "licence": "OGL", "source": "test"}
    indicator, report = read_upload(Upload().getvalue(), Upload.name, meta)
    assert report.ok and indicator is not None
    at.session_state["upload_report"] = report
    at.session_state["upload_candidate"] = indicator
    at.run()
    assert not at.exception
    assert "No errors" in at.success[0].value
    at.button(key="use_upload").click().run()
    assert "wigan_test" in at.session_state["uploaded_indicators"]
    # the upload is now a map choice in this session
    at.switch_page("views/map.py").run()
    assert "wigan_test" in at.selectbox(key="ind").options or any(
        "Wigan <test> & co" in option for option in at.selectbox(key="ind").options)


def test_uploads_stay_in_their_session():
    first = open_page("map", "E08000010")
    second = open_page("map", "E08000010")
    assert "uploaded_indicators" not in second.session_state or not second.session_state[
        "uploaded_indicators"]
    assert first.selectbox(key="ind").options == second.selectbox(key="ind").options


def test_every_page_offers_the_area_briefing():
    at = open_page("map", "E08000010")
    labels = [b.label for b in at.get("download_button")]
    assert {"Briefing for Wigan (PDF)", "Briefing for Wigan (HTML)",
            "Briefing for Wigan (DOCX)"} <= set(labels)


def test_briefing_file_for_the_area_in_view_is_a_pdf():
    from dashboard.state import briefing_file

    assert briefing_file("E08000010", "pdf").startswith(b"%PDF")
