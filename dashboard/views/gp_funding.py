"""GP funding: NHS payments per weighted patient by practice deprivation, 2014-15 to 2022-23."""

from __future__ import annotations

import altair as alt
import streamlit as st

from analysis.access import practices_in_area
from analysis.funding import funding_gap, funding_gap_by_year
from dashboard.components import chart_with_text, escape
from dashboard.state import gp_funding_trend

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
with_dispensing = st.toggle("Include dispensing practices", value=True, key="dispensing",
                            help="Dispensing practices (mostly rural) are also paid for the "
                                 "drugs they dispense, which inflates their totals.")
trend = gp_funding_trend(scope, with_dispensing)
latest_year = trend["year"].max()
latest = trend[trend["year"] == latest_year]
gap = funding_gap(latest.drop(columns=["year", "imd_year"]))
st.write(
    f"{escape(scope_name)}, {latest_year}: practices serving the most deprived fifth of "
    f"patients received **£{gap['most_deprived']:,.2f}** per weighted patient, against "
    f"**£{gap['least_deprived']:,.2f}** for the least deprived fifth: "
    f"{'£' + format(abs(gap['gap_gbp']), ',.2f')} "
    f"({abs(gap['gap_pct']):.1f}%) {'less' if gap['gap_gbp'] < 0 else 'more'}."
    + ("" if with_dispensing else " Dispensing practices are excluded."))
st.caption("Quintiles hold about a fifth of England's registered patients each (1 = most "
           "deprived), by the IMD score of the practice population (IMD 2015 for 2014-15 to "
           "2018-19, IMD 2019 from 2019-20). Weighted patients adjust list size for age, sex, "
           "morbidity and rurality (Carr-Hill formula).")

plot = trend.assign(quintile=trend["quintile"].astype(str))
lines = alt.Chart(plot).mark_line(point=True).encode(
    x=alt.X("year:O", title="Payment year"),
    y=alt.Y("per_weighted_patient:Q", title="£ per weighted patient",
            scale=alt.Scale(zero=False)),
    color=alt.Color("quintile:N", title="Quintile (1 = most deprived)",
                    scale=alt.Scale(scheme="viridis")),
    strokeDash=alt.StrokeDash("quintile:N", legend=None),
    tooltip=["year:O", "quintile:N", alt.Tooltip("per_weighted_patient:Q", format=",.2f"),
             alt.Tooltip("ci_lower:Q", format=",.2f"), alt.Tooltip("ci_upper:Q", format=",.2f"),
             "practices:Q"])
bands = alt.Chart(plot).mark_area(opacity=0.12).encode(
    x="year:O", y="ci_lower:Q", y2="ci_upper:Q", color=alt.Color("quintile:N", legend=None))
gaps = funding_gap_by_year(trend).set_index("year")["gap_pct"]
chart_with_text(
    (bands + lines).properties(height=380),
    reading=(f"The gap between the most and least deprived fifth ranged from "
             f"{gaps.min():+.1f}% to {gaps.max():+.1f}% between {trend['year'].min()} and "
             f"{latest_year}."),
    alt_text="Line chart of payments per weighted patient for each deprivation quintile and "
             "year with 95% confidence bands; line style as well as colour tells the quintiles "
             "apart. The table has the same figures.",
    data=trend.drop(columns=["se"], errors="ignore"),
    name=f"GP funding by deprivation {scope_name}", key="gp_trend",
    vintage="NHS Payments to General Practice 2014-15 to 2022-23; OHID Fingertips 93553")
st.dataframe(latest.drop(columns=["year"]), hide_index=True)
