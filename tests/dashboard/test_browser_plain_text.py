"""End-to-end in Chromium: indicator metadata carrying Markdown, image and HTML payloads is
shown as the text it is, and loads nothing.

The real app (``streamlit run``) serves a private copy of the data (``FAIRSHARE_DATA_DIR``)
with an extra need indicator, ``hostile_need``, whose title, description, unit and source
hold image links, ``<img>`` tags, a ``javascript:`` link, quotes, ``&`` and ``<b>``; the
headline provision indicator (the one the overview shows) gets the same metadata. Each
image points at a "trap" HTTP server on 127.0.0.1 that records every request it gets. Every
page is opened (the indicator chosen through the URL where the page has a picker), and the
add-data preview is filled in with the same strings. Then: the trap got nothing, no request
left the app's own origin, no ``<img>``/``javascript:`` element was made from the payloads,
and the visible text has the payload characters as written (never ``&amp;quot;``).

Skips and fails like every Chromium test (:mod:`tests.dashboard.browser_support`).
"""

from __future__ import annotations

import shutil
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest
import yaml

from analysis.data import load_pack_table
from analysis.data.datastore import DATA_DIR_ENV
from analysis.explore import HEADLINE_PROVISION
from analysis.ingest import install_indicator
from tests.conftest import DATA
from tests.dashboard.browser_support import (
    require_chromium,
    streamlit_server,
)
from tests.dashboard.browser_support import wait_for_script_run as wait_for_app
from tests.dashboard.test_page_errors import upload

require_chromium()

AREA = "E08000010"  # Wigan: 200 LSOAs, quick on every page
HOSTILE = "hostile_need"
PROVISION = HEADLINE_PROVISION["england"]
# what must appear literally, for each metadata field (the image links' own text included)
LITERAL = {"title": '"quotes" & <b>bold</b> ![t](', "description": "[link](javascript:alert(1))",
           "unit": "![u](", "source": "<img src="}




class Trap:
    """A local HTTP server that answers 404 to everything and remembers what it was asked."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        trap = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's spelling)
                trap.requests.append(self.path)
                self.send_error(404)

            do_POST = do_HEAD = do_GET  # noqa: N815

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"


def hostile_metadata(trap: Trap, prefix: str) -> dict[str, str]:
    """Title, description, unit and source, each with an image link to the trap server."""
    return {
        "title": f'Hostile {prefix} "quotes" & <b>bold</b> ![t]({trap.url(prefix + "-title.png")})',
        "description": (f"Described <img src={trap.url(prefix + '-description.png')}> and "
                        f"[link](javascript:alert(1)) ![d]({trap.url(prefix + '-md.png')})"),
        "unit": f"![u]({trap.url(prefix + '-unit.png')}) pts",
        "source": f'<img src={trap.url(prefix + "-source.png")}> "Source" & <b>co</b>',
    }


@pytest.fixture(scope="module")
def trap():
    server = Trap()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture(scope="module")
def hostile_data(tmp_path_factory, trap) -> Path:
    """A copy of the data with ``hostile_need`` added and the headline provision's metadata
    replaced (metadata files carry no checksum: only data files do)."""
    target = tmp_path_factory.mktemp("hostile") / "data"
    shutil.copytree(DATA, target)
    need = pd.read_parquet(DATA / "indicators" / "imd2025_score" / "data.parquet")
    indicator = upload(HOSTILE, need["area_code"], need["value"], decimals=1)
    install_indicator(replace(indicator, meta=replace(indicator.meta,
                                                      **hostile_metadata(trap, "need"))),
                      root=target / "indicators")
    meta_file = target / "indicators" / PROVISION / "indicator.yaml"
    meta = yaml.safe_load(meta_file.read_text(encoding="utf-8"))
    meta.update(hostile_metadata(trap, "provision"))
    meta.pop("short_title", None)
    meta_file.write_text(yaml.safe_dump(meta, sort_keys=False, allow_unicode=True),
                         encoding="utf-8")
    return target


@pytest.fixture(scope="module")
def server(hostile_data, tmp_path_factory):
    """``streamlit run`` on a free port, reading ``hostile_data``."""
    with streamlit_server({DATA_DIR_ENV: str(hostile_data), "FAIRSHARE_STATE_DIR":
                           str(tmp_path_factory.mktemp("server_state"))}) as url:
        yield url


@pytest.fixture
def watched(page, server):
    """The page, with every request it makes that leaves the app's origin recorded."""
    outside: list[str] = []
    page.on("request", lambda request: None if request.url.startswith(server + "/")
            or request.url.startswith(("data:", "blob:")) else outside.append(request.url))
    page.outside_requests = outside
    return page


FOOTER = "Open Government Licence v3.0"
# the audit page stops (st.stop) before the footer until records are uploaded
LAST_TEXT = {"equity-audit": "Run the audit"}


def settle(tab, heading: str, last_text: str = FOOTER) -> str:
    """Wait for the page's heading, the end of its script run (the attribution footer is the
    app's last element) and of the requests it started; the main area's text."""
    tab.get_by_role("heading", name=heading).first.wait_for()
    tab.get_by_text(last_text).last.wait_for()
    wait_for_app(tab)
    quiet(tab)
    return tab.locator("[data-testid='stMain']").inner_text()


def quiet(tab) -> None:
    """Give the requests the page started (images a payload could have made) time to go
    out: network idle where the page gets there, else a few seconds (under load a map page
    can go on fetching its own media and component files for longer than a test should
    wait; the trap server records whatever does go out)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        tab.wait_for_load_state("networkidle", timeout=20_000)
    except PlaywrightTimeout:
        tab.wait_for_timeout(3_000)


def assert_nothing_loaded(tab, trap: Trap, where: str) -> None:
    assert trap.requests == [], (where, trap.requests)
    assert tab.locator(f"img[src*='127.0.0.1:{trap.port}']").count() == 0, where
    assert tab.locator("a[href^='javascript']").count() == 0, where
    assert tab.outside_requests == [], (where, tab.outside_requests)


def assert_plain(text: str, where: str, *fields: str) -> None:
    for name in fields:
        assert LITERAL[name] in text, (where, name, LITERAL[name], text[:3000])
    for garbled in ("&amp;", "&quot;", "&lt;", "&gt;", "\\!", "\\["):
        assert garbled not in text, (where, garbled)


# page, URL path and query, heading, metadata fields of the hostile indicator it shows as text
PAGES = [
    pytest.param("overview", f"/?area={AREA}", "Wigan", ("unit",)),
    pytest.param("map", f"/map?area={AREA}&mode=single&ind={HOSTILE}", "Map: Wigan",
                 ("description",)),
    pytest.param("map-bivariate",
                 f"/map?area={AREA}&mode=bivariate&need={HOSTILE}&prov={PROVISION}",
                 "Map: Wigan", ()),
    pytest.param("inverse-care", f"/inverse-care?area={AREA}&need={HOSTILE}&prov={PROVISION}",
                 "Inverse care law: Wigan", ("title",)),
    ("trends", f"/trends?area={AREA}", "Trends: Wigan", ()),
    ("profile", f"/profile?area={AREA}", "Area profile: Wigan", ()),
    ("allocation", f"/allocation?area={AREA}", "Allocation modeller", ()),
    ("gp-funding", f"/gp-funding?area={AREA}", "GP funding by practice deprivation", ()),
    ("equity-audit", f"/equity-audit?area={AREA}", "Equity audit of a service's own records",
     ()),
    ("learning", f"/learning?area={AREA}", "Learning log: Wigan", ()),
]


@pytest.mark.parametrize(("name", "path", "heading", "fields"), PAGES,
                         ids=[p.values[0] if hasattr(p, "values") else p[0] for p in PAGES])
def test_hostile_metadata_is_text_and_loads_nothing(server, trap, watched, name, path,
                                                    heading, fields):
    trap.requests.clear()
    watched.goto(server + path)
    text = settle(watched, heading, LAST_TEXT.get(name, FOOTER))
    assert "Traceback" not in text and "could not be drawn" not in text, (name, text[:2000])
    assert_nothing_loaded(watched, trap, name)
    assert_plain(text, name, *fields)


def test_hostile_metadata_typed_into_add_data_is_text(server, trap, watched, tmp_path):
    codes = load_pack_table("england").query(f"ltla_code == '{AREA}'").index
    upload_file = tmp_path / "hostile.csv"
    pd.DataFrame({"area_code": codes, "value": range(len(codes))}).to_csv(upload_file,
                                                                          index=False)
    meta = hostile_metadata(trap, "upload")
    trap.requests.clear()
    watched.goto(f"{server}/add-data?area={AREA}")
    settle(watched, "Add data")
    watched.locator("[data-testid='stFileUploaderDropzoneInput']").first.set_input_files(
        str(upload_file))
    watched.locator("[data-testid='stFileChipName']").first.wait_for(state="attached")
    # the service tab has an Id field too: the indicator tab's comes first
    watched.get_by_label("Id * (a-z, 0-9, _ or -)").first.fill("hostile_upload")
    for label, value in (("Title *", meta["title"]),
                         ("Plain-English description *", meta["description"]),
                         ("Unit *", meta["unit"]), ("Source *", meta["source"])):
        box = watched.get_by_label(label, exact=True).first
        box.fill(value)
        box.press("Tab")  # a text input sends its value when it loses focus
        wait_for_app(watched)
    period = watched.get_by_label("Period *", exact=True).first  # the file names no period
    period.fill("2024")
    period.press("Tab")
    for label, option in (("Kind *", "need"), ("Polarity *", "higher is worse")):
        box = watched.get_by_label(label, exact=True).first
        box.click()
        watched.get_by_role("option", name=option, exact=True).first.click()
        wait_for_app(watched)
    watched.get_by_role("button", name="Check the file").click()
    text = settle(watched, "Preview")
    watched.locator("[data-testid='stDeckGlJsonChart'] canvas").first.wait_for()
    quiet(watched)
    assert "No errors: " in text, text[:3000]
    assert_nothing_loaded(watched, trap, "add-data preview")
    assert_plain(text, "add-data preview", "title", "description")


def test_the_page_icon_is_not_fetched_from_the_internet(server, watched):
    watched.goto(f"{server}/gp-funding?area={AREA}")
    settle(watched, "GP funding by practice deprivation")
    assert watched.outside_requests == []
