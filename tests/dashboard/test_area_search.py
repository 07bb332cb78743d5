"""The sidebar search box: a postcode, a name or a code opens its area as the study area."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.conftest import REPO

APP = str(REPO / "dashboard" / "app.py")


def started(area: str = "E54000057") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["area"] = area
    return at.run()


def test_a_postcode_opens_its_lsoa_and_the_url_follows():
    at = started()
    assert not at.exception, at.exception
    at.text_input(key="area_search").input("WN1 1AA").run()
    results = at.selectbox(key="area_search_pick")
    assert results.options == ["WN1 1AA → Wigan 008C · LSOA 2021 · E01006369"]
    results.select("E01006369").run()
    assert not at.exception, at.exception
    assert at.query_params["area"] == "E01006369"
    assert at.title[0].value == "Wigan 008C"
    assert at.selectbox(key="level_england").value == "lsoa21"
    assert at.selectbox(key="area_england_lsoa21").value == "E01006369"
    # the picker offers the LSOAs of the same ward, not all 33,755
    assert 1 < len(at.selectbox(key="area_england_lsoa21").options) < 40
    assert at.text_input(key="area_search").value == ""
    captions = " ".join(c.value for c in at.sidebar.caption)
    assert "WN1 1AA" in captions and "Royal Mail" in captions


def test_a_name_opens_the_local_authority_through_the_picker():
    at = started()
    at.text_input(key="area_search").input("wigan").run()
    pick = at.selectbox(key="area_search_pick")
    assert pick.options[0] == "Wigan · Local authority · E08000010"
    pick.select("E08000010").run()
    assert not at.exception, at.exception
    assert at.query_params["area"] == "E08000010"
    assert at.title[0].value == "Wigan"
    assert at.selectbox(key="level_england").value == "ltla"
    assert at.selectbox(key="area_england_ltla").value == "E08000010"
    # the picker keeps working as before after a search
    at.selectbox(key="level_england").set_value("icb").run()
    assert not at.exception, at.exception
    assert at.query_params["area"].startswith("E54")


def test_a_scottish_postcode_switches_the_country():
    at = started()
    at.text_input(key="area_search").input("fk10 1ad").run()
    at.selectbox(key="area_search_pick").select("S01007466").run()
    assert not at.exception, at.exception
    assert at.query_params["area"] == "S01007466"
    assert at.sidebar.radio(key="country").value == "scotland"
    assert at.title[0].value == "Alloa South and East - 06"


def test_a_welsh_postcode_and_nonsense_say_so_and_change_nothing():
    at = started()
    at.text_input(key="area_search").input("CF10 1AA").run()
    assert not at.exception, at.exception
    assert "outside England and Scotland" in " ".join(c.value for c in at.sidebar.caption)
    assert at.query_params["area"] == "E54000057"
    at.text_input(key="area_search").input("qwxzv plimth").run()
    assert "Nothing matches" in " ".join(c.value for c in at.sidebar.caption)
    assert at.query_params["area"] == "E54000057"


def test_a_small_area_in_the_url_opens_with_its_level():
    at = started("E01006369")
    assert not at.exception, at.exception
    assert at.title[0].value == "Wigan 008C"
    assert at.selectbox(key="level_england").value == "lsoa21"
