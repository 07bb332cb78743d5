"""AppTest of the Trends page: the indicator picker in the URL, the trend statement and chart
for Greater Manchester, and a plain sentence where no indicator has several periods."""

from __future__ import annotations

from tests.dashboard.test_dashboard_pages import open_page, texts


def test_trends_page_greater_manchester_funding_from_the_link():
    at = open_page("trends", "E54000057", trend="gp_access_funding_per_resident")
    assert at.selectbox(key="trend").value == "gp_access_funding_per_resident"
    assert at.query_params["trend"] in ("gp_access_funding_per_resident",
                                        ["gp_access_funding_per_resident"])
    text = texts(at)
    assert ("the gap in GP funding within reach (E2SFCA) between the most and least "
            "deprived fifths widened between 2014-15 and 2022-23") in text
    assert "£13 per resident more" in text and "£18 per resident more" in text
    assert "cash terms" in text and "IMD 2025 for every year" in text
    assert any(m.value.startswith("**Reading:**") for m in at.markdown)
    assert any("Text alternative:" in c.value for c in at.caption)
    table = at.dataframe[0].value
    assert table["Period"].tolist()[0] == "2014-15" and len(table) == 9


def test_trends_page_defaults_to_gps_within_reach():
    at = open_page("trends", "E54000057")
    assert at.selectbox(key="trend").value == "gp_access_gps_per_100k"
    assert "did not change clearly between 2015-16 and 2023-24" in texts(at)


def test_trends_page_scotland_says_there_is_no_trend():
    at = open_page("trends", "S12000005")
    assert "No indicator for Clackmannanshire has more than one period yet" in texts(at)
    assert "trend" not in [s.key for s in at.selectbox]
