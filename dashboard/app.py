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

st.set_page_config(page_title="Fairshare", page_icon=":material/balance:", layout="wide")

PAGES_DIR = ROOT / "dashboard" / "views"
PAGES = [
    st.Page(str(PAGES_DIR / "overview.py"), title="Overview", icon=":material/home:",
            url_path="overview", default=True),
    st.Page(str(PAGES_DIR / "map.py"), title="Map", icon=":material/map:", url_path="map"),
    st.Page(str(PAGES_DIR / "inverse_care.py"), title="Inverse care law",
            icon=":material/balance:", url_path="inverse-care"),
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
page = st.navigation(PAGES)
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
