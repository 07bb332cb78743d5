"""AppTest of the area profile's spine chart and table for an English council, an LSOA
(opened by a map click and by a shared link) and a Scottish council area."""

from __future__ import annotations

import json

import pytest

from tests.dashboard.test_dashboard_pages import open_page

COLUMNS = ["Indicator", "Period", "Unit", "Area value (95% CI)", "Worst/lowest",
           "Best/highest"]


def _spine(at):
    charts = at.get("vega_lite_chart")
    assert len(charts) == 1
    return json.loads(charts[0].proto.spec)


def _full_table(at):
    return next(d.value for d in at.dataframe if "Period" in d.value.columns)


@pytest.mark.parametrize(("area", "parent", "national"), [
    ("E08000010", "NHS Greater Manchester Integrated Care Board", "England"),
    ("S12000005", None, "Scotland"),
])
def test_profile_spine_for_a_council(area, parent, national):
    at = open_page("profile", area)
    spec = _spine(at)
    assert len(spec["layer"]) == (5 if parent else 4)  # bar, IQR, centre line, (parent,) area
    table = _full_table(at)
    assert list(table.columns[:4]) == COLUMNS[:4]
    assert set(COLUMNS + [national, f"Compared with {national}"]) <= set(table.columns)
    assert (parent in table.columns) if parent else ("Parent" in table.columns)
    verdicts = table.set_index("Indicator")[f"Compared with {national}"]
    if area == "E08000010":
        assert verdicts["Stroke admissions"] == "worse"
        assert table.set_index("Indicator").loc["Stroke admissions",
                                                "Area value (95% CI)"] == "1.66 (1.53 to 1.81)"
    else:
        assert verdicts["Residents aged 65 and over"] == "worse"
    assert "profile" not in at.query_params  # the study area itself: nothing to add
    labels = [b.label for b in at.get("download_button")]
    assert labels.count("Download XLSX") == 2 and "Download PNG" in labels


def test_a_clicked_lsoa_goes_into_the_url_and_a_link_reopens_it():
    at = open_page("profile", "E08000010")
    at.session_state["profile_area"] = "E01006212"
    at.run()
    assert not at.exception
    assert at.title[0].value.startswith("Area profile: Wigan 0")
    assert at.query_params["profile"] == "E01006212"
    _spine(at)
    table = _full_table(at).set_index("Indicator")
    assert table.loc["Index of Multiple Deprivation 2025: national decile",
                     "Compared with England"].startswith("not compared")
    # back to the study area: the link no longer names a profile
    at.radio(key="profile_choice").set_value("E08000010").run()
    assert at.title[0].value == "Area profile: Wigan" and "profile" not in at.query_params
    # a fresh session from the shared link opens the same profile
    shared = open_page("profile", "E08000010", profile="E01006212")
    assert shared.title[0].value == "Area profile: Wigan 026A"
    assert shared.radio(key="profile_choice").value == "E01006212"


def test_an_unknown_profile_in_a_link_is_named_not_a_crash():
    at = open_page("profile", "E08000010", profile="E01999999")
    assert at.title[0].value == "Area profile: Wigan"
    assert any("E01999999" in w.value for w in at.warning)
