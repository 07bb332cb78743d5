"""Fairshare dashboard entry point (`streamlit run dashboard/app.py` or `fairshare dashboard`)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import streamlit as st

# `streamlit run` puts this file's folder on sys.path, not the repository root. (abspath,
# not resolve: this runs on every rerun, and resolving stats every folder on the way.)
ROOT = Path(os.path.abspath(__file__)).parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dashboard.components import attribution_footer  # noqa: E402
from dashboard.errors import page_boundary  # noqa: E402
from dashboard.state import (  # noqa: E402
    briefing_downloads,
    remember_browser,
    study_area_picker,
)

# a local image: a Material or emoji page icon makes the browser fetch it from the internet
st.set_page_config(page_title="Fairshare", page_icon=str(ROOT / "dashboard" / "assets"
                                                         / "fairshare-icon.png"), layout="wide")

PAGES_DIR = ROOT / "dashboard" / "views"
MENU_PAGES = (  # file, title, icon, URL path; the Overview first
    ("overview.py", "Overview", ":material/home:", "overview"),
    ("map.py", "Map", ":material/map:", "map"),
    ("inverse_care.py", "Inverse care law", ":material/balance:", "inverse-care"),
    ("trends.py", "Trends", ":material/trending_up:", "trends"),
    ("gp_funding.py", "GP funding", ":material/payments:", "gp-funding"),
    ("profile.py", "Area profile", ":material/assignment:", "profile"),
    ("audit.py", "Equity audit", ":material/fact_check:", "equity-audit"),
    ("allocation.py", "Allocation modeller", ":material/swap_horiz:", "allocation"),
    ("add_data.py", "Add data", ":material/upload_file:", "add-data"),
    ("learning.py", "Learning log", ":material/forum:", "learning"),
)


def _enter() -> None:
    # Streamlit serves its default page at "/" only, so "/overview" would be "Page not
    # found": the default is this entrance, which opens the Overview with the same query
    st.switch_page(_session_pages()[1][0], query_params=st.query_params.to_dict())


def _session_pages() -> tuple[st.Page, list[st.Page]]:
    """The entrance and the menu's pages, made once per session and kept in its state.

    Making an ``st.Page`` from a file resolves the file's real path, a stat of every folder
    on it: eleven pages on every rerun were ~8% of the server's time with 50 sessions. They
    are not shared between sessions, because ``st.navigation`` marks the page it returns as
    runnable on the object itself.
    """
    pages = st.session_state.get("_fairshare_pages")
    if pages is None:
        entrance = st.Page(_enter, title="Fairshare", url_path="start", default=True)
        menu = [st.Page(str(PAGES_DIR / file), title=title, icon=icon, url_path=url_path)
                for file, title, icon, url_path in MENU_PAGES]
        pages = st.session_state["_fairshare_pages"] = (entrance, menu)
    return pages


ENTRANCE, MENU = _session_pages()
started = time.perf_counter()
# the menu is drawn here rather than by st.navigation, so that the entrance stays out of it
page = st.navigation([ENTRANCE, *MENU], position="hidden")
if page.url_path == ENTRANCE.url_path:
    page.run()  # switches to the Overview before anything is drawn (or warned) here
with st.sidebar:
    for item in MENU:
        st.page_link(item)
    st.divider()
# one error boundary for every page: a failure is logged with its traceback and shown as a
# sentence naming what failed; st.stop/st.rerun/st.switch_page pass through
with page_boundary(page=page.title):
    st.session_state["study_area"] = study_area_picker()
    briefing_downloads(st.session_state["study_area"])
    page.run()
    remember_browser()
attribution_footer()
# server time of this run, read by benchmarks/bench_dashboard.py
st.session_state["last_run_seconds"] = time.perf_counter() - started
