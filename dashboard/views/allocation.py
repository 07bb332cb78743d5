"""Allocation modeller: redirect resources toward need and see the equity impact."""

from __future__ import annotations

import html
from dataclasses import replace

import altair as alt
import pandas as pd
import pydeck as pdk
import streamlit as st

from analysis.allocation import (
    NeedComponent,
    Scenario,
    ScenarioInfeasible,
    compare,
    practice_change_points,
)
from analysis.explore import change_layer, change_legend, fill_expression
from dashboard.components import (
    chart_with_text,
    deck_map,
    legend_html,
    polygon_layer,
    table_downloads,
)
from dashboard.state import allocation_of, choices, scenario_files, small_area_changes_of

MAX_COMPARE = 4

st.title("Allocation modeller")
st.write("Move resources toward need within limits on the pace of change, and see what it does "
         "to equity. Start from a ready-made scenario, adjust it in the sidebar, and compare up "
         "to four scenarios side by side.")

files = scenario_files()
titles = {name: Scenario.from_json(text).title or name for name, text in files.items()}
base_name = st.selectbox("Ready-made scenario", list(files), format_func=titles.get,
                         key="scenario_base")
uploaded = st.file_uploader("…or load a scenario JSON you saved", type=["json"],
                            key="scenario_upload")
try:
    base = Scenario.from_json(uploaded.getvalue().decode("utf-8") if uploaded
                              else files[base_name])
except (ValueError, UnicodeDecodeError) as exc:
    st.error(f"That scenario file can't be used: {html.escape(str(exc))}")
    st.stop()
if base.current.source == "csv":
    st.warning("Scenarios whose current spend comes from a CSV file can be run with "
               "`fairshare allocate`; upload of the CSV here is not supported yet.")
    st.stop()

with st.sidebar:
    st.subheader("Scenario settings")
    alpha = st.slider("Share allocated per head (α)", 0.0, 1.0, float(base.alpha), 0.05,
                      help="Proportionate universalism: α = 1 shares everything per head, "
                           "α = 0 everything by need.")
    years = st.slider("Years", 1, 10, int(base.years))
    unlimited = st.toggle("No pace limit", value=base.max_gain_pct is None)
    gain = loss = None
    if not unlimited:
        gain = st.number_input("Maximum gain a year (%)", 0.0, 100.0,
                               float(base.max_gain_pct or 3.0), 0.5)
        loss = st.number_input("Maximum loss a year (%)", 0.0, 100.0,
                               float(base.max_loss_pct or 3.0), 0.5)
    floor = st.number_input("Floor: no area below this % of current (0 = none)", 0.0, 100.0,
                            float(base.floor_pct or 0.0), 1.0)
    need = base.need
    if base.level != "practice" and base.need.kind == "formula":
        options = {m.id: m.title for m in choices("england", ("need", "outcome"))
                   if m.geography == "lsoa21"}
        chosen = st.multiselect(
            "Need indicators (equal weights)", list(options), format_func=options.get,
            default=[c.indicator for c in base.need.components if c.indicator in options],
            help="Standardised and averaged into a need index; your uploads in this "
                 "session are listed too.")
        if chosen:
            need = replace(base.need, components=tuple(NeedComponent(i) for i in chosen))
scenario = base.replace(alpha=alpha, years=years, max_gain_pct=gain, max_loss_pct=loss,
                        floor_pct=floor or None, need=need)
try:
    result = allocation_of(scenario.to_json(), tuple(
        c.indicator for c in scenario.need.components))
except ScenarioInfeasible as exc:
    st.error("These settings can't all hold. " + html.escape(str(exc)))
    st.stop()
except ValueError as exc:
    st.error(html.escape(str(exc)))
    st.stop()
summary = result.summary()

st.subheader(html.escape(scenario.title or scenario.name))
st.caption(html.escape(scenario.description))
before, after = result.before, result.after
c1, c2, c3, c4 = st.columns(4)
c1.metric("Budget", f"£{summary['budget'] / 1e6:,.1f}m",
          help=f"Allocated £{summary['total_allocated']:,.0f} (conserved).")
c2.metric("Winners / losers", f"{summary['winners']:,} / {summary['losers']:,}")
c3.metric("Concentration index vs need", f"{after.concentration_index:+.3f}",
          delta=f"{after.concentration_index - before.concentration_index:+.3f}",
          delta_color="inverse",
          help="Below 0: more goes where need is higher. Before → after the final year.")
c4.metric("Fair-share shortfall", f"£{after.fair_share_shortfall / 1e6:,.1f}m",
          delta=f"£{(after.fair_share_shortfall - before.fair_share_shortfall) / 1e6:+,.1f}m",
          delta_color="inverse")
st.markdown(
    f"**Equity before → after:** slope index of inequality {before.sii:+,.2f} → "
    f"{after.sii:+,.2f} per head (95% CI {after.sii_lower:+,.2f} to {after.sii_upper:+,.2f}); "
    f"people in the most deprived fifth living in areas below fair share "
    f"{100 * before.most_deprived_quintile_below_fair_share:.0f}% → "
    f"{100 * after.most_deprived_quintile_below_fair_share:.0f}%.")
for note in result.notes:
    st.caption(html.escape(note))

st.subheader("Where the money moves")
if scenario.level == "practice":
    points = practice_change_points(result)
    legend = change_legend()
    deck_map([pdk.Layer("ScatterplotLayer", id="practices", data=points,
                        get_position=["lon", "lat"], get_radius=600, radius_min_pixels=2,
                        get_fill_color=fill_expression(legend.colours), stroked=True,
                        get_line_color=[80, 80, 80], line_width_min_pixels=0.5,
                        pickable=True)],
             (float(points["lon"].min()), float(points["lat"].min()),
              float(points["lon"].max()), float(points["lat"].max())),
             "<b>{n}</b> ({c})<br/>Change: {v}", key="allocation_map")
    st.markdown(legend_html("Change in funding", legend), unsafe_allow_html=True)
    st.caption(f"Text alternative: {len(points):,} practices coloured by % change "
               "(purple gain, orange loss); the table has every practice.")
else:
    changes, shapes = small_area_changes_of(result)
    layer = change_layer(shapes, changes["change_pct"],
                         changes["allocation"].map(lambda v: f"£{v:,.0f}"),
                         title="allocation", area_names=changes["area_name"])
    deck_map([polygon_layer(layer)], layer.bounds,
             "<b>{n}</b><br/>Change: {v}<br/>{w}" if layer.detailed
             else f"<b>{layer.code_field}</b><br/>Change of its area: {{v}}",
             key="allocation_map")
    st.markdown(legend_html("Change in allocation", layer.legend), unsafe_allow_html=True)
    st.caption(layer.alt_text)

table = result.areas
top = pd.concat([table.nlargest(10, "change"), table.nsmallest(10, "change")])
top = top[top["change"] != 0]
bars = alt.Chart(top).mark_bar().encode(
    x=alt.X("change:Q", title="Change after the final year (£)"),
    y=alt.Y("area_name:N", sort="-x", title=None, axis=alt.Axis(labelLimit=260)),
    color=alt.condition("datum.change > 0", alt.value("#542788"), alt.value("#b35806")),
    tooltip=["area_name:N", alt.Tooltip("change:Q", format=",.0f"),
             alt.Tooltip("change_pct:Q", format="+.1f")])
chart_with_text(
    bars.properties(height=24 * len(top) + 40),
    reading=(f"{summary['winners']:,} areas gain and {summary['losers']:,} lose; the largest "
             f"gain is {summary['largest_gain_pct']:+.1f}% and the largest loss "
             f"{summary['largest_loss_pct']:+.1f}%."),
    alt_text="Bar chart of the ten largest gains (purple, to the right) and losses (orange, "
             "to the left).",
    data=top[["area_code", "area_name", "current", "allocation", "change", "change_pct"]],
    name=f"{scenario.name} winners and losers", key="winners")

st.subheader("Year by year")
yearly = result.yearly
lines = alt.Chart(yearly).mark_line(point=True, color="#3e4989").encode(
    x=alt.X("year:O", title="Year (0 = now)"),
    y=alt.Y("concentration_index:Q", title="Concentration index vs need"))
band = alt.Chart(yearly).mark_area(opacity=0.2, color="#3e4989").encode(
    x="year:O", y="concentration_index_lower:Q", y2="concentration_index_upper:Q")
chart_with_text(
    (band + lines).properties(height=260),
    reading=(f"The concentration index moves from {before.concentration_index:+.3f} to "
             f"{after.concentration_index:+.3f} over {scenario.years} year(s); "
             f"{100 * summary.get('share_of_gap_closed', 0) or 0:.0f}% of the distance to the "
             "need-based target is closed."),
    alt_text="Line chart of the concentration index of the allocation against need each "
             "year, with its 95% confidence band; the yearly table has the figures.",
    data=yearly, name=f"{scenario.name} trajectory", key="trajectory")

st.subheader("Results and scenario")
st.dataframe(table, hide_index=True)
table_downloads(table, f"{scenario.name} result", vintage="NHS Payments to General Practice "
                "2022-23; scenario " + scenario.name, key="allocation_table")
st.download_button("Download scenario JSON", scenario.to_json().encode("utf-8"),
                   file_name=f"{scenario.name}.json", mime="application/json",
                   key="scenario_json")

st.subheader("Compare scenarios")
kept: list[str] = st.session_state.setdefault("kept_scenarios", [])
if st.button("Keep this scenario for comparison", key="keep_scenario"):
    text = scenario.to_json()
    if text not in kept:
        kept.append(text)
        del kept[:-MAX_COMPARE]
if kept:
    results = [allocation_of(text) for text in kept]  # kept scenarios use shipped data only
    st.dataframe(compare(results), width="stretch")
    if st.button("Clear comparison", key="clear_compare"):
        kept.clear()
        st.rerun()
else:
    st.caption("Keep two to four scenarios to see them side by side.")
