"""End-to-end: the real app in Debian's Chromium, driven by Playwright.

Runs against ``streamlit run`` on a free localhost port. Skipped where Chromium is absent,
except in CI (``CI=true``), where a missing browser is a failure. Screenshots of failures go
to ``test-artifacts/``.
"""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import pytest

from tests.dashboard.browser_support import (
    choose,
    require_chromium,
    streamlit_server,
    upload_until,
)
from tests.dashboard.browser_support import wait_for_script_run as wait_for_app

require_chromium()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with streamlit_server({"FAIRSHARE_STATE_DIR": str(tmp_path_factory.mktemp("e2e"))}) as url:
        yield url


def test_map_choose_area_inverse_care_and_download(server, page):
    started = time.perf_counter()
    page.goto(f"{server}/?area=E54000057")
    wait_for_app(page)
    page.get_by_role("heading", name="NHS Greater Manchester Integrated Care Board").wait_for()
    page.locator("[data-testid='stDeckGlJsonChart'] canvas").first.wait_for()
    visible_after = time.perf_counter() - started
    page.get_by_text("1 – most deprived 10%").first.wait_for()
    print(f"home page to visible map: {visible_after:.1f} s")

    choose(page, "Level", "Local authority")
    choose(page, "Local authority", "Wigan (E08000010)")
    page.get_by_role("heading", name="Wigan").wait_for()
    assert "area=E08000010" in page.url

    page.get_by_role("link", name="Inverse care law").click()
    page.get_by_role("heading", name="Inverse care law: Wigan").wait_for()
    page.get_by_text("Verdict").first.wait_for()
    page.locator("[data-testid='stMetricValue']").first.wait_for()

    page.get_by_text("Downloads").first.click()
    # the file is made when the button is pressed: allow for a loaded CI machine
    with page.expect_download(timeout=150_000) as info:
        page.get_by_role("button", name="Download CSV").first.click()
    # a zip of the plain CSV and its CSVW metadata (title, columns, licence)
    with zipfile.ZipFile(info.value.path()) as bundle:
        names = bundle.namelist()
        csv_name = next(n for n in names if n.endswith(".csv"))
        content = bundle.read(csv_name).decode("utf-8")
        metadata = bundle.read(f"{csv_name}-metadata.json").decode("utf-8")
    assert content.startswith("code,name,population,deprivation_decile,need,provision")
    assert content.count("\nE01") == 200  # one row per Wigan LSOA
    assert "Open Government Licence v3.0" in metadata


def test_shared_link_reopens_the_bivariate_map(server, page):
    page.goto(f"{server}/map?area=E08000010&mode=bivariate&need=iod2025_cidr"
              "&prov=gp_access_funding_per_resident")
    wait_for_app(page)
    page.get_by_role("heading", name="Map: Wigan").wait_for()
    page.get_by_text("High need, low provision").first.wait_for()
    page.locator("[data-testid='stDeckGlJsonChart'] canvas").first.wait_for()
    assert "mode=bivariate" in page.url and "need=iod2025_cidr" in page.url


def test_scotland_page_loads(server, page):
    page.goto(f"{server}/?area=S12000005")
    wait_for_app(page)
    page.get_by_role("heading", name="Clackmannanshire").wait_for()
    page.locator("[data-testid='stDeckGlJsonChart'] canvas").first.wait_for()


def test_clicking_an_area_opens_its_profile(server, page):
    page.goto(f"{server}/map?area=E08000010&mode=single&ind=imd2025_score")
    wait_for_app(page)
    page.get_by_role("heading", name="Map: Wigan").wait_for()
    canvas = page.locator("[data-testid='stDeckGlJsonChart'] canvas").first
    canvas.wait_for()
    time.sleep(2)  # let deck.gl finish its first draw before picking
    box = canvas.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.get_by_role("heading", name="Area profile: Wigan").first.wait_for()
    # the clicked LSOA is offered beside the study area, and the profile shows it
    page.get_by_text("Wigan 0").first.wait_for()


def test_equity_audit_of_uploaded_records(server, page, tmp_path):
    from analysis.audit.run import simulated_example

    records = simulated_example(3_000, "E08000010", seed=6).drop(columns=["simulated"])
    upload = tmp_path / "visits.csv"
    records.to_csv(upload, index=False)
    page.goto(f"{server}/equity-audit?area=E08000010")
    wait_for_app(page)
    page.get_by_role("heading", name="Equity audit of a service's own records").wait_for()
    run = page.get_by_role("button", name="Run the audit")
    run.wait_for()  # the page's first run has reached the button: the uploader is live
    upload_until(page, upload, run)
    run.click()
    page.get_by_text("most deprived fifth of Wigan").first.wait_for(timeout=120_000)
    page.get_by_role("tab", name="Map").click()
    page.locator("[data-testid='stDeckGlJsonChart'] canvas").first.wait_for()
    with page.expect_download() as info:
        page.get_by_role("button", name="Download the audit as JSON").click()
    import json

    data = json.loads(Path(info.value.path()).read_text())
    assert data["rows"] == 3_000 and data["simulated"] is False
    assert data["study_area"]["code"] == "E08000010"


def test_root_and_every_page_path_open_without_a_dialog(server, page):
    # "/" is the entrance: it opens /overview with the query it was given
    page.goto(f"{server}/?area=E08000010")
    wait_for_app(page)
    page.get_by_role("heading", name="Wigan").first.wait_for()
    assert page.url.startswith(f"{server}/overview?") and "area=E08000010" in page.url
    for path in ("overview", "trends", "learning"):
        page.goto(f"{server}/{path}?area=E08000010")
        wait_for_app(page)
        assert page.get_by_text("Page not found").count() == 0, path
        assert f"/{path}?" in page.url, page.url
