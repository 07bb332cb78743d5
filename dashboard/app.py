"""Fairshare dashboard entry point (`streamlit run dashboard/app.py` or `fairshare dashboard`)."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

# `streamlit run` puts this file's folder on sys.path, not the repository root
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

st.set_page_config(page_title="Fairshare", page_icon="⚖️", layout="wide")

PAGES = [
    st.Page(str(ROOT / "dashboard" / "pages" / "overview.py"), title="Overview", icon="🗺️",
            url_path="overview", default=True),
]

st.navigation(PAGES).run()
