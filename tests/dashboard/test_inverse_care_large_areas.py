"""The Inverse care law page for a study area with more than 5,000 small areas (a region)
draws the density grid instead of dots, without a schema error."""

from __future__ import annotations

from tests.dashboard.test_dashboard_pages import open_page


def test_inverse_care_page_for_a_region_uses_the_density_grid():
    at = open_page("inverse_care", "E12000008")  # South East: 5,572 LSOAs
    captions = " ".join(c.value for c in at.caption)
    assert "density grid" in captions
    assert not at.error
