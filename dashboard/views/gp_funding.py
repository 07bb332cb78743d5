"""GP funding and workforce by practice deprivation: NHS payments per weighted patient,
2014-15 to 2022-23, and fully qualified GPs per 10,000 weighted patients, 2015-16 to 2023-24."""

from __future__ import annotations

import altair as alt
import streamlit as st

from analysis.access import practices_in_area
from analysis.funding import (
    TOTALS,
    dispensing_sentence,
    display_table,
    funding_trend,
    gap_sentence,
    load_gp_payments,
    load_practice_imd,
    trend_readings,
    trend_sentence,
)
from analysis.funding.workforce import (
    GP_DEFINITION,
    WORKFORCE_UNIT,
    load_gp_workforce,
    trend_gaps,
    workforce_display_table,
    workforce_gap_sentence,
    workforce_trend,
    workforce_trend_sentence,
)
from dashboard.components import chart_with_text, escape, plain

TOTAL_CHOICES = {"excluding": "Excluding COVID and PCN payments (2014-15 on)",
                 "including": "Including COVID and PCN payments (2020-21 on)"}


@st.cache_data(show_spinner="Working out payments by deprivation…", max_entries=32)
def _trend(scope: str | None, include_dispensing: bool, total: str):
    return funding_trend(load_gp_payments(), load_practice_imd(),
                         practices=practices_in_area(scope),
                         include_dispensing=include_dispensing, total=total)


@st.cache_data(show_spinner="Working out GPs by deprivation…", max_entries=32)
def _workforce(scope: str | None):
    return workforce_trend(load_gp_workforce(), load_gp_payments(), load_practice_imd(),
                           practices=practices_in_area(scope))


def _trend_chart(plot, y: str, title: str, axis_format: str):
    """Lines by quintile with 95% confidence bands; dashes as well as colour tell them apart."""
    tips = [alt.Tooltip("year:O", title="Year"), alt.Tooltip("quintile:N", title="Quintile"),
            alt.Tooltip(f"{y}:Q", title=title, format=",.2f"),
            alt.Tooltip("ci_lower:Q", title="95% CI from", format=",.2f"),
            alt.Tooltip("ci_upper:Q", title="95% CI to", format=",.2f"),
            alt.Tooltip("practices:Q", title="Practices", format=",")]
    lines = alt.Chart(plot).mark_line(point=True).encode(
        x=alt.X("year:O", title="Financial year"),
        y=alt.Y(f"{y}:Q", title=title, scale=alt.Scale(zero=False),
                axis=alt.Axis(format=axis_format)),
        color=alt.Color("quintile:N", title="Quintile (1 = most deprived)",
                        scale=alt.Scale(scheme="viridis")),
        strokeDash=alt.StrokeDash("quintile:N", legend=None), tooltip=tips)
    bands = alt.Chart(plot).mark_area(opacity=0.12).encode(
        x=alt.X("year:O"), y=alt.Y("ci_lower:Q"), y2=alt.Y2("ci_upper:Q"),
        color=alt.Color("quintile:N", legend=None))
    return (bands + lines).properties(height=380)


area = st.session_state["study_area"]
st.title("GP funding by practice deprivation")
if area.country != "england":
    st.warning("NHS Payments to General Practice cover English practices only; choose an "
               "English area.")
    st.stop()

scope = area.code
try:
    practices_in_area(scope)
except ValueError as exc:
    st.warning(f"{escape(exc)} Showing England instead.")
    scope = None
scope_name = area.name if scope else "England"
left, right = st.columns(2)
with_dispensing = left.toggle("Include dispensing practices", value=True, key="dispensing",
                              help="Dispensing practices (mostly rural) are also paid for the "
                                   "drugs they dispense, which inflates their totals.")
total = right.radio("Payments total", list(TOTAL_CHOICES), format_func=TOTAL_CHOICES.get,
                    key="gp_total", horizontal=True,
                    help="NHS England publishes COVID-19 and Primary Care Network payments "
                         "in separate lines from 2020-21. The Health Equity Evidence Centre's "
                         "figures include them.")
trends = {flag: _trend(scope, flag, total) for flag in (True, False)}
readings = {flag: trend_readings(t, total, flag) for flag, t in trends.items()}
trend = trends[with_dispensing]
latest_year = trend["year"].max()
latest = trend[trend["year"] == latest_year].drop(columns=["year", "imd_year"])
reading = readings[with_dispensing][-1]
st.markdown(plain(gap_sentence(reading, scope_name))
            + ("" if with_dispensing else " Dispensing practices are excluded."))
caveat = dispensing_sentence(readings[True][-1], readings[False][-1])
if caveat:
    st.markdown(plain(caveat))
st.caption(plain(
    f"Figures use {TOTALS[total].label}. Quintiles hold about a fifth of England's registered "
    "patients each (1 = most deprived), by the IMD score of the practice population (IMD 2015 "
    "for 2014-15 to 2018-19, IMD 2019 from 2019-20). Weighted patients adjust list size for "
    "age, sex, morbidity and rurality (Carr-Hill formula). A group of fewer than 5 practices "
    "is too small to compare."))

plot = trend.assign(quintile=trend["quintile"].astype(str))
chart_with_text(
    _trend_chart(plot, "per_weighted_patient", "£ per weighted patient", ",.0f"),
    reading=trend_sentence(readings[with_dispensing]),
    alt_text="Line chart of payments per weighted patient for each deprivation quintile and "
             "year with 95% confidence bands; line style as well as colour tells the quintiles "
             "apart. The table has the same figures.",
    data=trend.drop(columns=["se"], errors="ignore"),
    name=f"GP funding by deprivation {scope_name}", key="gp_trend",
    vintage=f"NHS Payments to General Practice {trend['year'].min()} to {latest_year} "
            f"({TOTALS[total].label}); OHID Fingertips 93553")
st.subheader(f"{latest_year} by quintile")
st.dataframe(display_table(latest), hide_index=True)

st.header("GP workforce by practice deprivation")
workforce = _workforce(scope)
gaps = trend_gaps(workforce)
last_year = workforce["year"].max()
st.markdown(plain(workforce_gap_sentence(gaps[-1], scope_name)))
st.caption(plain(
    f"GPs are {GP_DEFINITION} (NHS Digital General Practice Workforce, the mean of each year's "
    "snapshots); a headcount, not full-time equivalents. Weighted patients are the Carr-Hill "
    "weighted lists of NHS Payments to General Practice for the same year; for 2023-24, which "
    "has no payments file yet, each practice's 2023-24 registered list times its own 2022-23 "
    "ratio of weighted to registered patients. Quintiles as above, from the workforce file's "
    "registered patients; all practices, dispensing or not."))
chart_with_text(
    _trend_chart(workforce.assign(quintile=workforce["quintile"].astype(str)), "gps_per_10k",
                 "GPs per 10,000 weighted patients", ",.1f"),
    reading=workforce_trend_sentence(gaps),
    alt_text="Line chart of fully qualified GPs per 10,000 weighted patients for each "
             "deprivation quintile and year with 95% confidence bands; line style as well as "
             "colour tells the quintiles apart. The table has the latest year's figures.",
    data=workforce.drop(columns=["se"], errors="ignore"),
    name=f"GP workforce by deprivation {scope_name}", key="gp_workforce",
    units={"gps_per_10k": WORKFORCE_UNIT},
    vintage=f"NHS Digital General Practice Workforce {workforce['year'].min()} to {last_year} "
            "(HEEC compilation); NHS Payments to General Practice; OHID Fingertips 93553")
st.subheader(f"{last_year} GP workforce by quintile")
latest_workforce = workforce[workforce["year"] == last_year].drop(
    columns=["year", "imd_year", "estimated"])
latest_workforce.attrs = {"estimated": bool(gaps[-1].estimated)}
st.dataframe(workforce_display_table(latest_workforce), hide_index=True)
