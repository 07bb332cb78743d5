"""The GP funding page: names the payments total, offers both, never leads with a group too
small to compare, quotes the period its trend covers, and shows a readable table."""

from __future__ import annotations

from tests.dashboard.test_dashboard_pages import open_page, texts


def test_cornwall_small_group_is_said_and_the_table_is_readable():
    at = open_page("gp_funding", "E54000036")
    text = texts(at)
    assert "only 1 practice here" in text and "too few to compare" in text
    assert "516.65" not in text and "63.0%" not in text
    assert "The gap cannot be followed over time here" in text
    assert "excluding COVID and PCN payments" in text
    table = at.dataframe[0].value
    assert list(table.columns)[0] == "Quintile (1 = most deprived)"
    cells = " ".join(table.astype(str).to_numpy().ravel())
    assert "None" not in cells and "nan" not in cells
    assert "not available (1 practice)" in cells and "£516.65" in cells


def test_england_offers_both_totals_and_says_which():
    at = open_page("gp_funding", "E92000001")
    text = texts(at)
    assert "£15.72 (9.2%) less (95% CI 7.6% to 10.8%)" in text
    assert "drive the gap" in text
    assert "From 2014-15 to 2022-23" in text
    at.radio(key="gp_total").set_value("including").run()
    assert not at.exception
    text = texts(at)
    assert "£167.49 per weighted patient, against £181.91" in text
    assert "including COVID and PCN payments" in text
    assert "From 2020-21 to 2022-23" in text and "2014-15" not in text.split("Reading")[1][:200]
