"""Allocation modeller: redirect resources toward need and see the equity impact."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import altair as alt
import pydeck as pdk
import streamlit as st

from analysis.allocation import (
    PRACTICE_LEVELS,
    NeedComponent,
    Scenario,
    ScenarioInfeasible,
    amount_text,
    change_reading,
    column_units,
    compare,
    equity_reading,
    practice_change_points,
    practice_map_caption,
    scope_to_study_area,
    settings_text,
    trajectory_reading,
)
from analysis.allocation.charts import largest_changes_chart
from analysis.explore import change_layer, change_legend, fill_expression
from analysis.numbers import format_number
from dashboard.components import (
    chart_with_text,
    deck_map,
    delta_style,
    legend_html,
    plain,
    plain_caption,
    polygon_layer,
    table_downloads,
)
from dashboard.notes import scenario_notes_section
from dashboard.state import (
    allocation_of,
    choices,
    kept_scenarios,
    scenario_files,
    small_area_changes_of,
    store_kept_scenarios,
)

MAX_COMPARE = 4
RULES = {"toward_target": "Toward target (NHS England convention)",
         "nearest": "Nearest allocation overall (residual spread per head)"}

area = st.session_state["study_area"]
st.title("Allocation modeller")
st.write("Move resources toward need within limits on the pace of change, and see what it does "
         "to equity. Start from a ready-made scenario, adjust it, compare up to four.")

files = scenario_files()
titles = {name: Scenario.from_json(text).title or name for name, text in files.items()}
base_name = st.selectbox("Ready-made scenario", list(files), 0, titles.get, key="scenario_base")
uploaded = st.file_uploader("…or load a scenario JSON you saved", ["json"], key="scenario_upload")
try:
    text = uploaded.getvalue().decode("utf-8") if uploaded else files[base_name]
    base = Scenario.from_json(text)
except (ValueError, UnicodeDecodeError) as exc:
    st.error(f"That scenario file can't be used: {plain(str(exc))}")
    st.stop()
if base.current.source == "csv":
    st.warning("A scenario with current spend from a CSV runs with `fairshare allocate` only.")
    st.stop()
# Widgets are keyed by the scenario, so each ready-made scenario opens on its own settings.
slot = hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]

with st.sidebar:
    st.subheader("Scenario settings")
    alpha = st.slider("Share allocated per head (α)", 0.0, 1.0, float(base.alpha), 0.05,
                      key=f"alpha:{slot}", help="Proportionate universalism: α = 1 shares "
                                                "everything per head, α = 0 everything by need.")
    years = st.slider("Years", 1, 10, min(int(base.years), 10), key=f"years:{slot}")
    no_limit = base.max_gain_pct is None and base.max_loss_pct is None
    unlimited = st.toggle("No pace limit", no_limit, key=f"unlimited:{slot}")
    gain = loss = None
    if not unlimited:
        gain = st.number_input("Maximum gain a year (%)", 0.0, 100.0,
                               float(base.max_gain_pct or 3.0), 0.5, key=f"gain:{slot}")
        loss = st.number_input("Maximum loss a year (%)", 0.0, 100.0,
                               float(base.max_loss_pct or 3.0), 0.5, key=f"loss:{slot}")
    floor = st.number_input("Floor: no area below this % of current (0 = none)", 0.0, 100.0,
                            float(base.floor_pct or 0.0), 1.0, key=f"floor:{slot}")
    rule = st.radio("How areas move", list(RULES), list(RULES).index(base.convergence),
                    RULES.get, key=f"rule:{slot}", help="Toward target: no area moves away "
                    "from its target (under target never loses, over target never gains). "
                    "Nearest: closest to target overall; some may move away from theirs.")
    need, wp = base.need, base.need.nhse_choices(base.level)
    if wp:  # NHS England's own formula: need = a component's weighted population
        own = [None, *wp].index(need.component) if need.component in wp else 0
        pick = st.selectbox("Need measure", [None, *wp], own, lambda c: wp.get(c, "The "
                            "scenario's own need"), key=f"wp:{slot}", help="NHS England "
                            "weighted population (component): target share = its share.")
        if pick:
            years_wp = need.nhse_years()
            year = st.selectbox("Allocation year", years_wp, years_wp.index(
                need.year or years_wp[-1]), key=f"wpyear:{slot}")
            need = need.with_nhse(pick, year)
    if base.level not in PRACTICE_LEVELS and need.kind == "formula":
        options = {m.id: m.title for m in choices("england", ("need", "outcome"))
                   if m.geography == "lsoa21"}
        chosen = st.multiselect(
            "Need indicators (equal weights)", list(options), format_func=options.get,
            default=[c.indicator for c in base.need.components if c.indicator in options],
            key=f"need:{slot}", help="Standardised and averaged into a need index; your "
                                     "uploads in this session are listed too.")
        if chosen and chosen != [c.indicator for c in base.need.components]:
            need = replace(base.need, components=tuple(NeedComponent(i) for i in chosen))
edited = base.replace(alpha=alpha, years=years, max_gain_pct=gain, max_loss_pct=loss,
                      floor_pct=floor or None, need=need, convergence=rule)
scoped, scope_text = scope_to_study_area(edited, area.code, area.name)
within = scoped.area != edited.area
if within and not st.toggle(f"Only {area.name}", value=True, key=f"scope:{slot}",
                            help="Off: model all of England as the scenario is written."):
    scoped, scope_text = edited, f"National: England's {edited.area_noun()} share the budget."
scenario = scoped
try:
    result = allocation_of(scenario.to_json(), tuple(scenario.need.indicator_ids()))
except ScenarioInfeasible as exc:
    st.error("These settings can't all hold. " + plain(str(exc)))
    st.stop()
except ValueError as exc:  # e.g. a practice scenario scoped to a ward: say why, no error
    st.warning(plain(f"{exc}. Choose another study area, or switch off the toggle above."))
    st.stop()
summary = result.summary()
unit = result.unit

st.subheader(plain(scenario.title or scenario.name))
st.info(scope_text)
st.caption(("Your settings differ from the ready-made scenario (its title and description "
            "describe its own): " if edited != base else "Settings: ")
           + plain(settings_text(edited)))
st.expander("About this scenario").text(scenario.description)
before, after = result.before, result.after
c1, c2, c3, c4 = st.columns(4)
c1.metric("Budget", plain(amount_text(result.budget, unit)),
          help=plain(f"Allocated {amount_text(summary['total_allocated'], unit)} (conserved); "
                     f"per-head figures in {result.per_head_unit}."))
c2.metric("Gain / lose", f"{summary['winners']:,} / {summary['losers']:,}",
          help=f"Of {summary['areas']:,} {scenario.area_noun()}; {summary['unchanged']:,} "
               f"unchanged and {summary['released']:,} released (no population).")
ci_change = after.concentration_index - before.concentration_index
c3.metric("Concentration index vs need", format_number(after.concentration_index, 3,
                                                       signed=True),
          delta=format_number(ci_change, 3, signed=True), **delta_style(ci_change),
          help="Below 0: more goes where need is higher. Before → after the final year.")
shortfall = after.fair_share_shortfall - before.fair_share_shortfall
c4.metric("Fair-share shortfall", plain(amount_text(after.fair_share_shortfall, unit)),
          delta=plain(amount_text(shortfall, unit, signed=True)), **delta_style(shortfall),
          help="Sum of the amounts by which areas fall short of a need-only fair share.")
st.caption(plain(change_reading(result)))
st.caption(plain(equity_reading(result)))
with st.expander(f"Notes ({len(result.notes)})"):
    for note in result.notes:
        st.text(note)

st.subheader("Where the resources move")
if scenario.level in PRACTICE_LEVELS:  # no boundaries: points
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
    plain_caption(practice_map_caption(result, len(points)))
else:
    changes, shapes = small_area_changes_of(result)
    layer = change_layer(shapes, changes["change_pct"],
                         changes["allocation"].map(lambda v: amount_text(v, unit)),
                         title="allocation", area_names=changes["area_name"])
    deck_map([polygon_layer(layer)], layer.bounds,
             "<b>{n}</b><br/>Change: {v}<br/>{w}" if layer.detailed
             else f"<b>{layer.code_field}</b><br/>Change of its area: {{v}}",
             key="allocation_map")
    st.markdown(legend_html("Change in allocation", layer.legend), unsafe_allow_html=True)
    plain_caption(layer.alt_text)

bars, top = largest_changes_chart(result)
chart_with_text(
    bars, reading=change_reading(result),
    alt_text=f"Bar chart of the ten largest gains (purple, to the right) and losses (orange, "
             f"to the left) among {scenario.area_noun()} with population; released "
             f"{scenario.area_noun()} are not losers and are not shown.",
    data=top[["area_code", "area_name", "current", "allocation", "change", "change_pct",
              "reason"]],
    name=f"{scenario.name} largest gains and losses", key="winners",
    units=column_units(result))

st.subheader("Year by year")
yearly = result.yearly
lines = alt.Chart(yearly).mark_line(point=True, color="#3e4989").encode(
    x=alt.X("year:O", title="Year (0 = now)"),
    y=alt.Y("concentration_index:Q", title="Concentration index vs need"))
band = alt.Chart(yearly).mark_area(opacity=0.2, color="#3e4989").encode(
    x=alt.X("year:O"), y=alt.Y("concentration_index_lower:Q"),
    y2=alt.Y2("concentration_index_upper:Q"))
chart_with_text(
    (band + lines).properties(height=260), reading=trajectory_reading(result),
    alt_text="Line chart of the concentration index of the allocation against need each "
             "year, with its 95% confidence band; the yearly table has the figures.",
    data=yearly, name=f"{scenario.name} trajectory", key="trajectory")

st.subheader("Results and scenario")
table = result.areas
plain_caption(f"Amounts in {unit}; per-head columns in {result.per_head_unit}. 'reason' "
              f"says what holds each {scenario.area_noun(1)}.")
st.dataframe(table, hide_index=True)
table_downloads(table, f"{scenario.name} result", vintage="; ".join(result.sources),
                key="allocation_table", units=column_units(result))
st.download_button("Download scenario JSON", scenario.to_json().encode("utf-8"),
                   file_name=f"{scenario.name}.json", mime="application/json", key="scenario_json")
scenario_notes_section(scenario.name, area.url_code)

st.subheader("Compare scenarios")
kept = kept_scenarios()  # kept for this browser: they survive a reload until cleared
scenario_text = scenario.to_json()
keep = st.button("Keep this scenario for comparison", key="keep_scenario")
if keep and scenario_text not in kept:
    kept[:] = [*kept, scenario_text][-MAX_COMPARE:]
    if problem := store_kept_scenarios():
        st.warning(f"Kept for this session only: {plain(problem)}")
shown = kept[-MAX_COMPARE:]  # kept scenarios use shipped data only
if len(shown) >= 2:
    st.dataframe(compare([allocation_of(text) for text in shown]), width="stretch")
else:  # one kept scenario has nothing to be compared with: a hint, never compare()'s error
    st.caption("One scenario kept: keep one to three more (change a setting or choose "
               "another ready-made scenario)." if shown else "Keep two to four to compare.")
if kept and st.button("Clear comparison", key="clear_compare"):
    kept.clear()
    store_kept_scenarios()
    st.rerun()
