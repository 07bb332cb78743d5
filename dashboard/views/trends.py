"""Trends: how the inequality in an indicator measured over several years has changed, as
the slope index of inequality and the gap between the most and least deprived fifths, each
year with 95% confidence intervals, and one trend statement."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from analysis.explore import HEADLINE_PROVISION
from analysis.explore.trends import (
    inequality_trend,
    multi_period_indicators,
    trend_long,
    trend_statement,
)
from dashboard.components import chart_with_text, plain
from dashboard.state import session_registry, shared_registry, url_select


@st.cache_data(show_spinner="Working out inequality in every year…", max_entries=32)
def _shared_trend(country: str, area_code: str | None, indicator_id: str) -> pd.DataFrame:
    return inequality_trend(country, area_code, indicator_id, shared_registry())


def _trend(country: str, area_code: str | None, indicator_id: str) -> pd.DataFrame:
    if indicator_id in shared_registry().ids():
        return _shared_trend(country, area_code, indicator_id)
    # a session upload is never put in the shared cache
    return inequality_trend(country, area_code, indicator_id, session_registry())


def _measure_chart(plot: pd.DataFrame, title: str, axis_format: str):
    """Both measures over time with 95% confidence bands; dashes as well as colour tell
    them apart, and a rule marks no gap."""
    tips = [alt.Tooltip("period:O", title="Period"), alt.Tooltip("measure:N", title="Measure"),
            alt.Tooltip("estimate:Q", title=title, format=axis_format),
            alt.Tooltip("lower:Q", title="95% CI from", format=axis_format),
            alt.Tooltip("upper:Q", title="95% CI to", format=axis_format)]
    lines = alt.Chart(plot).mark_line(point=True).encode(
        x=alt.X("period:O", title="Period"),
        y=alt.Y("estimate:Q", title=title, axis=alt.Axis(format=axis_format)),
        color=alt.Color("measure:N", title="Measure", scale=alt.Scale(scheme="viridis")),
        strokeDash=alt.StrokeDash("measure:N", legend=None), tooltip=tips)
    bands = alt.Chart(plot).mark_area(opacity=0.15).encode(
        x=alt.X("period:O"), y=alt.Y("lower:Q"), y2=alt.Y2("upper:Q"),
        color=alt.Color("measure:N", legend=None))
    zero = alt.Chart(pd.DataFrame({"zero": [0.0]})).mark_rule(color="grey").encode(
        y=alt.Y("zero:Q"))
    return (bands + lines + zero).properties(height=380)


area = st.session_state["study_area"]
st.title(f"Trends: {area.name}")
metas = {m.id: m for m in multi_period_indicators(session_registry(), area.country)}
if not metas:
    st.info(plain(
        f"No indicator for {area.name} has more than one period yet, so there is no trend to "
        "show. In England, qualified GPs and GP funding within reach carry every year; an "
        "analyst can add a Fingertips export with several periods on the Add data page."))
    st.stop()

ids = list(metas)
headline = HEADLINE_PROVISION.get(area.country)
indicator_id = url_select("Indicator", ids, key="trend",
                          default=headline if headline in metas else ids[0],
                          format_func=lambda i: metas[i].title)
meta = metas[indicator_id]
try:
    trend = _trend(area.country, area.code, indicator_id)
except ValueError as exc:
    st.error(plain(f"The trend can't be worked out for {area.name}: {exc}"))
    st.stop()
statement = trend_statement(trend, meta, area_name=area.name, country=area.country)
st.markdown(plain(statement))
st.caption(plain(
    f"{meta.title}, {meta.unit}, {meta.all_periods[0]} to {meta.period}. Fifths and deciles "
    "are national deprivation groups of the small areas (1 = most deprived); each year's "
    "figures are population-weighted over the study area's small areas, with 95% confidence "
    "intervals from the spread between areas. The slope index of inequality is fitted "
    "across the deciles (OHID method) and runs least minus most deprived, so it has the "
    "opposite sign to the gap between the fifths."))

plot = trend_long(trend)
axis_format = ",.0f" if meta.decimals == 0 else ",.1f"
chart_with_text(
    _measure_chart(plot, meta.unit, axis_format),
    reading=statement.split(". ")[0] + ".",
    alt_text=f"Line chart of two inequality measures of {meta.title} in each period from "
             f"{meta.all_periods[0]} to {meta.period}, with 95% confidence bands: the gap "
             "between the most and least deprived fifths and the slope index of inequality. "
             "Line style as well as colour tells them apart; a grey line marks no gap. The "
             "table below has the same figures.",
    data=trend, name=f"Inequality trend {meta.title} {area.name}", key="trend_chart",
    units={c: meta.unit for c in ("mean", "sii", "sii_lower", "sii_upper",
                                  "most_deprived_fifth", "least_deprived_fifth",
                                  "quintile_gap", "gap_lower", "gap_upper")},
    vintage=f"{meta.title}: {meta.all_periods[0]} to {meta.period}; {meta.source}")
st.subheader("Every period")
shown = trend.rename(columns={
    "period": "Period", "areas": "Small areas", "population": "Population",
    "mean": "Average", "sii": "SII", "sii_lower": "SII 95% CI from",
    "sii_upper": "SII 95% CI to", "most_deprived_fifth": "Most deprived fifth",
    "least_deprived_fifth": "Least deprived fifth", "quintile_gap": "Gap (most − least)",
    "gap_lower": "Gap 95% CI from", "gap_upper": "Gap 95% CI to"})
st.dataframe(shown.round(meta.decimals + 1), hide_index=True)
