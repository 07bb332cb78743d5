"""Fairshare dashboard entry point (`streamlit run dashboard/app.py` or `fairshare dashboard`)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import streamlit as st

# `streamlit run` puts this file's folder on sys.path, not the repository root
ROOT = Path(__file__).resolve().parent.parent
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
OVERVIEW = st.Page(str(PAGES_DIR / "overview.py"), title="Overview", icon=":material/home:",
                   url_path="overview")


def _enter() -> None:
    # Streamlit serves its default page at "/" only, so "/overview" would be "Page not
    # found": the default is this entrance, which opens the Overview with the same query
    st.switch_page(OVERVIEW, query_params=st.query_params.to_dict())


ENTRANCE = st.Page(_enter, title="Fairshare", url_path="start", default=True)
MENU = [
    OVERVIEW,
    st.Page(str(PAGES_DIR / "map.py"), title="Map", icon=":material/map:", url_path="map"),
    st.Page(str(PAGES_DIR / "inverse_care.py"), title="Inverse care law",
            icon=":material/balance:", url_path="inverse-care"),
    st.Page(str(PAGES_DIR / "trends.py"), title="Trends", icon=":material/trending_up:",
            url_path="trends"),
    st.Page(str(PAGES_DIR / "gp_funding.py"), title="GP funding", icon=":material/payments:",
            url_path="gp-funding"),
    st.Page(str(PAGES_DIR / "profile.py"), title="Area profile",
            icon=":material/assignment:", url_path="profile"),
    st.Page(str(PAGES_DIR / "audit.py"), title="Equity audit", icon=":material/fact_check:",
            url_path="equity-audit"),
    st.Page(str(PAGES_DIR / "allocation.py"), title="Allocation modeller",
            icon=":material/swap_horiz:", url_path="allocation"),
    st.Page(str(PAGES_DIR / "add_data.py"), title="Add data", icon=":material/upload_file:",
            url_path="add-data"),
    st.Page(str(PAGES_DIR / "learning.py"), title="Learning log", icon=":material/forum:",
            url_path="learning"),
]

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
