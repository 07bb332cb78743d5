"""Inverse care law: does provision fall where need rises, and how sure are we?"""

from __future__ import annotations

import html

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from analysis.explore import Legend, build_layer, fitted_band, funnel_statistic
from analysis.stats import CLUSTER_LABELS
from dashboard.components import chart_with_text, deck_map, legend_html, polygon_layer
from dashboard.state import (
    choices,
    clusters_of,
    funnel_of,
    need_provision_pickers,
    panel_of,
    study_area_shapes,
    url_select,
)

MAX_POINTS = 5_000  # above this the scatter becomes a density grid (browser stays quick)
CLUSTER_COLOURS = {
    "High need, low provision": (190, 60, 143),
    "High need, high provision": (59, 73, 148),
    "Low need, low provision": (223, 176, 214),
    "Low need, high provision": (108, 131, 181),
    "Not significant": (235, 235, 235),
    "No neighbours (island)": (160, 160, 160),
}

area = st.session_state["study_area"]
st.title(f"Inverse care law: {area.name}")

metas = {m.id: m for m in choices(area.country)}
need_ids = [i for i, m in metas.items() if m.kind in ("need", "outcome")]
provision_ids = [i for i, m in metas.items()
                 if m.kind == "provision" and m.polarity != "higher_is_worse"]
if not provision_ids:
    st.warning("The embedded data have no small-area provision indicator for "
               f"{html.escape(area.name)} yet, so the inverse care law can't be tested here. "
               "An analyst can add one on the data pages (see docs/adding-indicators.md).")
    st.stop()

titles = {i: metas[i].title for i in metas}
need_id, provision_id = need_provision_pickers(area.country, need_ids, provision_ids, titles,
                                               "Provision (more is more)")
need, provision = metas[need_id], metas[provision_id]
vintage = f"{need.title}: {need.period}; {provision.title}: {provision.period}"
try:
    panel = panel_of(area.country, area.code, need_id, provision_id)
except ValueError as exc:
    st.error(str(exc))
    st.stop()
readings = panel.readings()
test = panel.test

# -- verdict ------------------------------------------------------------------------------
low, high = test.slope_per_sd_ci
st.subheader("Verdict")
st.info(f"**{test.verdict}** For each standard deviation of higher {need.title.lower()}, "
        f"{provision.title} changes by {test.slope_per_sd:+,.2f} {provision.unit} "
        f"(95% CI {low:+,.2f} to {high:+,.2f}); {test.n:,} small areas, R² "
        f"{test.r_squared:.3f}.")
m1, m2, m3 = st.columns(3)
if panel.sii is not None:
    m1.metric("Slope index of inequality (SII)", f"{panel.sii.sii:,.2f}",
              help="Gap in provision between the most and least deprived ends of the "
                   "national deprivation scale, fitted across deciles (OHID method). "
                   f"95% CI {panel.sii.sii_lower:,.2f} to {panel.sii.sii_upper:,.2f}.")
    m1.caption(f"95% CI {panel.sii.sii_lower:,.2f} to {panel.sii.sii_upper:,.2f} "
               f"{html.escape(provision.unit)}")
    m2.metric("Relative index of inequality (RII)", f"{panel.sii.rii:,.2f}",
              help="Least deprived end ÷ most deprived end of the fitted line.")
    m2.caption(f"95% CI {panel.sii.rii_lower:,.2f} to {panel.sii.rii_upper:,.2f}")
else:
    m1.metric("Slope index of inequality (SII)", "n/a", help=panel.sii_note)
    m1.caption(panel.sii_note)
ci = panel.concentration
m3.metric("Concentration index", f"{ci.index:+.3f}",
          help="Below 0: provision concentrated among the more deprived (pro-need); above 0: "
               "among the less deprived (inverse care).")
m3.caption(f"95% CI {ci.lower:+.3f} to {ci.upper:+.3f}")
st.markdown(f"**Reading:** {html.escape(readings['sii'])}")

# -- scatter with fit ---------------------------------------------------------------------
st.subheader("Provision against need")
points = panel.frame.dropna(subset=["need", "provision"])
band = fitted_band(panel)
x = alt.X("need:Q", title=f"{need.title} ({need.unit})")
y = alt.Y("provision:Q", title=f"{provision.title} ({provision.unit})")
if len(points) > MAX_POINTS:
    base = alt.Chart(points[["need", "provision"]]).mark_rect().encode(
        x=alt.X("need:Q", bin=alt.Bin(maxbins=60), title=x.title),
        y=alt.Y("provision:Q", bin=alt.Bin(maxbins=40), title=y.title),
        color=alt.Color("count():Q", scale=alt.Scale(scheme="greys"), title="Small areas"))
    shown = "a density grid (darker = more small areas)"
else:
    base = alt.Chart(points[["name", "code", "need", "provision", "population"]]).mark_circle(
        opacity=0.45, color="#3e4989").encode(
        x=x, y=y, size=alt.Size("population:Q", legend=None, scale=alt.Scale(range=[8, 60])),
        tooltip=["name:N", "code:N", alt.Tooltip("need:Q", format=",.2f"),
                 alt.Tooltip("provision:Q", format=",.2f")])
    shown = "one dot per small area, sized by population"
fit = alt.Chart(band).mark_area(opacity=0.25, color="#be3c8f").encode(
    x="need:Q", y="lower:Q", y2="upper:Q") + alt.Chart(band).mark_line(
    color="#be3c8f", strokeWidth=2.5).encode(x="need:Q", y="fit:Q")
chart_with_text(
    (base + fit).properties(height=380), reading=readings["scatter"],
    alt_text=(f"Chart of {provision.title} against {need.title} as {shown}, with the "
              f"population-weighted straight-line fit and its 95% confidence band; slope "
              f"{test.slope:+.3g} per unit of need."),
    data=points[["code", "name", "population", "deprivation_decile", "need", "provision"]],
    name=f"{area.name} provision vs need", key="scatter", vintage=vintage)

# -- deprivation gradient -----------------------------------------------------------------
st.subheader("By national deprivation decile")
gradient = panel.gradient
bars = alt.Chart(gradient).mark_bar(color="#3e4989").encode(
    x=alt.X("decile:O", title="Deprivation decile (1 = most deprived)"),
    y=alt.Y("provision_per_head:Q", title=f"{provision.title} ({provision.unit})"),
    tooltip=["decile:O", "areas:Q", alt.Tooltip("population:Q", format=",.0f"),
             alt.Tooltip("provision_per_head:Q", format=",.2f"),
             alt.Tooltip("lower_ci:Q", format=",.2f"), alt.Tooltip("upper_ci:Q", format=",.2f")])
errors = alt.Chart(gradient).mark_errorbar(color="black").encode(
    x="decile:O", y=alt.Y("lower_ci:Q", title=""), y2="upper_ci:Q")
chart_with_text(
    (bars + errors).properties(height=300), reading=readings["gradient"],
    alt_text="Bar chart of population-weighted provision per deprivation decile with 95% "
             "confidence intervals; the table below the chart has the same figures.",
    data=gradient, name=f"{area.name} provision by deprivation decile", key="gradient",
    vintage=vintage)

# -- concentration curve ------------------------------------------------------------------
st.subheader("Concentration curve")
grid = np.linspace(0, 1, 101)
curve = pd.DataFrame({
    "population_share": grid,
    "provision_share": np.interp(grid, panel.curve.population_share, panel.curve.value_share),
})
line = alt.Chart(curve).mark_line(color="#be3c8f", strokeWidth=2.5).encode(
    x=alt.X("population_share:Q", title="Cumulative share of population, most needy first",
            axis=alt.Axis(format="%")),
    y=alt.Y("provision_share:Q", title="Cumulative share of provision",
            axis=alt.Axis(format="%")))
equality = alt.Chart(pd.DataFrame({"population_share": [0, 1], "provision_share": [0, 1]})
                     ).mark_line(color="grey", strokeDash=[4, 4]).encode(
    x="population_share:Q", y="provision_share:Q")
chart_with_text(
    (equality + line).properties(height=320), reading=readings["concentration"],
    alt_text="Concentration curve: the curve below the dashed diagonal means the more needy "
             "half gets less than half of the provision; above it, more.",
    data=curve, name=f"{area.name} concentration curve", key="curve", vintage=vintage)

# -- spatial clusters ---------------------------------------------------------------------
st.subheader("Where high need meets low provision: spatial clusters")
if st.toggle("Find clusters (bivariate local Moran's I)", key="lisa_on",
             value=panel.test.n <= 5_000):
    clusters = clusters_of(area.country, area.code, need_id, provision_id)
    shapes = study_area_shapes(area.country, area.code).loc[clusters.index]
    labels = clusters["cluster"].astype(str)
    counts = labels.value_counts()
    legend = Legend(tuple(f"{label} ({counts.get(label, 0):,})" for label in CLUSTER_LABELS),
                    tuple(CLUSTER_COLOURS[label] for label in CLUSTER_LABELS))
    attributes = pd.DataFrame({
        "c": shapes.index.astype(str), "n": shapes.iloc[:, 1].astype(str), "l": labels,
        "k": labels.map({label: i for i, label in enumerate(CLUSTER_LABELS)}).fillna(-1)
        .astype(int)}, index=shapes.index)
    layer = build_layer(shapes, attributes, legend=legend, title="Cluster",
                        alt_text="Map of cluster types", detail_columns=("n",))
    deck_map([polygon_layer(layer, "clusters")], layer.bounds,
             "<b>{n}</b> ({c})<br/>{l}" if layer.detailed
             else f"<b>{layer.code_field}</b><br/>{{l}}",
             key="lisa_map")
    st.markdown(legend_html("Cluster", legend), unsafe_allow_html=True)
    hot = int(counts.get("High need, low provision", 0))
    st.markdown(
        f"**Reading:** {hot:,} small areas sit in significant clusters where high need meets "
        f"low provision in the neighbouring areas (p < 0.05, "
        f"{clusters.attrs.get('permutations', 999)} permutations).")
    st.caption("Text alternative: map of cluster types; counts per type are in the legend.")
else:
    st.caption("Switch on to compute clusters; for the whole country this takes several "
               "seconds the first time.")

# -- funnel plot --------------------------------------------------------------------------
st.subheader("Funnel plot: which small areas stand out?")
funnel_ids = [i for i, m in metas.items() if funnel_statistic(m) is not None]
if funnel_ids:
    funnel_id = url_select("Indicator for the funnel plot", funnel_ids, "funnel",
                           funnel_ids[0], format_func=titles.get)
    try:
        funnel = funnel_of(area.country, area.code, funnel_id)
    except ValueError as exc:
        st.warning(str(exc))
    else:
        fmeta = metas[funnel_id]
        limits = funnel.curve.melt(id_vars="denominator", var_name="limit", value_name="value")
        dots = alt.Chart(funnel.areas).mark_circle(size=28).encode(
            x=alt.X("denominator:Q", title="Denominator (people)"),
            y=alt.Y("value:Q", title=f"{fmeta.title} ({fmeta.unit})"),
            color=alt.Color("flag:N", scale=alt.Scale(
                domain=["above 99.8%", "above 95%", "within", "below 95%", "below 99.8%"],
                range=["#8c1a6a", "#be3c8f", "#9a9a9a", "#6c83b5", "#3b4994"])),
            shape=alt.Shape("flag:N"),
            tooltip=["area:N", alt.Tooltip("value:Q", format=",.2f"), "flag:N"])
        lines = alt.Chart(limits).mark_line(strokeDash=[3, 3], color="black").encode(
            x="denominator:Q", y="value:Q", detail="limit:N")
        flags = funnel.flag_counts()
        chart_with_text(
            (lines + dots).properties(height=320),
            reading=(f"Against the area's average of {funnel.target:,.2f}, "
                     f"{flags['above 99.8%'] + flags['above 95%']:,} small areas are "
                     f"significantly higher and {flags['below 99.8%'] + flags['below 95%']:,} "
                     "significantly lower (95% and 99.8% control limits)."),
            alt_text="Funnel plot: each area's value against its size with 95% and 99.8% "
                     "control limits; colour and shape both show the flag.",
            data=funnel.areas, name=f"{area.name} funnel {fmeta.title}", key="funnel",
            vintage=f"{fmeta.title}: {fmeta.period}")
