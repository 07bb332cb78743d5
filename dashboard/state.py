"""Session state, URL state and cached access to the engine, shared by every page.

Caching rule: only shared, read-only data (the embedded packs and indicators) are cached
across sessions, keyed by their inputs. Anything a user uploads or chooses lives in
``st.session_state`` or the URL, never in a cross-session cache.
"""

from __future__ import annotations

import html

import pandas as pd
import streamlit as st

from analysis import geography
from analysis.indicators import IndicatorRegistry
from analysis.sources import ATTRIBUTION, OGL_URL
from analysis.summary import AreaSummary, study_area_summary

DEFAULT_AREA = "E54000057"  # NHS Greater Manchester ICB


@st.cache_resource(show_spinner=False)
def shared_registry() -> IndicatorRegistry:
    """The shipped indicator registry (read-only, shared by all sessions)."""
    return IndicatorRegistry()


@st.cache_data(show_spinner=False)
def areas_of(country: str, level: str) -> pd.DataFrame:
    return geography.list_areas(country, level)


@st.cache_data(show_spinner=False)
def summary_of(area_code: str | None, country: str) -> AreaSummary:
    return study_area_summary(area_code, country=country, registry=shared_registry())


def query_area() -> str | None:
    """The area code in the URL (``?area=E54000057``), if it names a known area."""
    code = st.query_params.get("area")
    if not code:
        return None
    try:
        return geography.resolve_area(code).code
    except geography.UnknownAreaError as exc:
        st.warning(str(exc))
        return None


def attribution_footer() -> None:
    """The OGL attribution every page that shows data carries."""
    st.divider()
    st.caption(f"{html.escape(ATTRIBUTION)} [Open Government Licence v3.0]({OGL_URL})")
