"""Inverse care law: does provision fall where need rises, and how sure are we?"""

from __future__ import annotations

import altair as alt
import streamlit as st

from analysis.explore import (
    default_funnel_indicator,
    denominator_label,
    funnel_reading,
    funnel_statistic,
    funnel_table,
)
from analysis.numbers import format_number, format_quantity
from analysis.util import title_lines as lines
from dashboard.components import (
    chart_with_text,
    deck_map,
    legend_html,
    plain,
    plain_caption,
    polygon_layer,
)
from dashboard.errors import markdown_text, require_values
from dashboard.state import (
    area_frame,
    choices,
    cluster_map_of,
    clusters_of,
    equity_charts_of,
    funnel_of,
    need_provision_pickers,
    panel_of,
    session_registry,
    url_select,
    url_toggle,
)

area = st.session_state["study_area"]
st.title(f"Inverse care law: {area.name}")

metas = {m.id: m for m in choices(area.country)}
need_ids = [i for i, m in metas.items() if m.kind in ("need", "outcome")]
# measures where higher is worse (minutes to a GP) are read the other way round by the engine
provision_ids = [i for i, m in metas.items() if m.kind == "provision"]
if not provision_ids:
    st.warning("The embedded data have no small-area provision indicator for "
               f"{plain(area.name)} yet, so the inverse care law can't be tested here. "
               "An analyst can add one on the data pages (see docs/adding-indicators.md).")
    st.stop()

titles = {i: metas[i].title for i in metas}
need_id, provision_id = need_provision_pickers(area.country, need_ids, provision_ids, titles,
                                               "Provision or access")
need, provision = metas[need_id], metas[provision_id]
vintage = f"{need.title}: {need.period}; {provision.title}: {provision.period}"
require_values(area, area_frame(area.country, area.code, (need_id, provision_id)),
               (need, provision), session_registry(), key="ic")
try:
    panel = panel_of(area.country, area.code, need_id, provision_id)
except ValueError as exc:  # e.g. too few small areas with both values to fit a line
    st.error(markdown_text(f"The inverse care law can't be tested for {area.name}: {exc}"))
    st.stop()
readings = panel.readings()
test = panel.test

# -- verdict ------------------------------------------------------------------------------
low, high = test.slope_per_sd_ci
st.subheader("Verdict")
st.info(f"**{plain(test.verdict)}** " + plain(
    f"For each standard deviation of higher {need.title.lower()}, {provision.title} changes by "
    f"{format_quantity(test.slope_per_sd, provision.unit, 2, signed=True)} (95% CI "
    f"{format_number(low, 2, signed=True)} to {format_number(high, 2, signed=True)}); "
    f"{test.n:,} small areas, R² {test.r_squared:.3f}."))
m1, m2, m3 = st.columns(3)
# gaps in words with a direction; the signed statistics are in the methods box below
shown = panel.headline()
m1.metric("Slope index of inequality (SII)", plain(shown["sii"]),
          help="Fitted gap in provision between the most and the least deprived ends of the "
               "national deprivation scale, across deciles (OHID method).")
m1.caption(plain(shown["sii_caption"]))
m2.metric("Relative index of inequality (RII)", plain(shown["rii"]),
          help="Fitted value at the most deprived end as a multiple of that at the least "
               "deprived end.")
m2.caption(plain(shown["rii_caption"]))
m3.metric("Concentration index", plain(shown["concentration"]),
          help=("Below 0: the measure is concentrated among the more deprived; for this "
                "measure higher is worse, so above 0 (longer times among the less deprived) "
                "is pro-need and below 0 is inverse care." if panel.higher_is_worse else
                "Below 0: provision concentrated among the more deprived (pro-need); above 0: "
                "among the less deprived (inverse care)."))
m3.caption(plain(shown["concentration_ci"]))
st.markdown(f"**Reading:** {plain(readings['sii'])} {plain(readings['rii'])}")
with st.expander("Methods and signed statistics"):
    plain_caption(readings["sii_details"])
    plain_caption(panel.concentration.reading)

# -- scatter with fit, decile gradient, concentration curve ----------------------------
charts = equity_charts_of(area.country, area.code, need_id, provision_id)
st.subheader("Provision against need")
points = panel.frame.dropna(subset=["need", "provision"])
chart_with_text(
    charts.scatter, reading=readings["scatter"],
    alt_text=(f"Chart of {provision.title} against {need.title} as {charts.scatter_shows}, "
              f"with the population-weighted straight-line fit and its 95% confidence band; "
              f"slope {f'{test.slope:+.3g}'.replace('-', chr(0x2212))} per unit of need."),
    data=points[["code", "name", "population", "deprivation_decile", "need", "provision"]],
    name=f"{area.name} provision vs need", key="scatter", vintage=vintage)

st.subheader("By national deprivation decile")
chart_with_text(
    charts.gradient, reading=readings["gradient"],
    alt_text="Bar chart of population-weighted provision per deprivation decile with 95% "
             "confidence intervals; the table below the chart has the same figures.",
    data=panel.gradient, name=f"{area.name} provision by deprivation decile", key="gradient",
    vintage=vintage)

st.subheader("Concentration curve")
chart_with_text(
    charts.concentration, reading=readings["concentration"],
    alt_text="Concentration curve: the curve below the dashed diagonal means the more needy "
             "half gets less than half of the provision; above it, more.",
    data=charts.curve, name=f"{area.name} concentration curve", key="curve", vintage=vintage)

# -- spatial clusters ---------------------------------------------------------------------
st.subheader("Where high need meets low provision: spatial clusters")
if url_toggle("Find clusters (bivariate local Moran's I)", "lisa_on",
              default=panel.test.n <= 5_000):
    clusters = clusters_of(area.country, area.code, need_id, provision_id)
    counts = clusters["cluster"].astype(str).value_counts()
    layer = cluster_map_of(area.country, area.code, need_id, provision_id)
    legend = layer.legend
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
chosen = default_funnel_indicator(funnel_ids, need_id, provision_id)
if st.session_state.get("funnel_for") not in (None, (need_id, provision_id)):
    st.session_state.pop("funnel", None)  # a new need/provision pair: follow it
    st.session_state.pop("keep_funnel", None)
    st.query_params.pop("funnel", None)
st.session_state["funnel_for"] = (need_id, provision_id)
if chosen is None:
    st.caption(f"{plain(need.title)} and {plain(provision.title)} have no "
               "numerator and denominator, so they have no funnel plot; choose an indicator "
               "that has.")
options = [""] + funnel_ids if chosen is None else funnel_ids
funnel_id = url_select("Indicator for the funnel plot", options, "funnel", chosen or "",
                       format_func=lambda i: titles.get(i, "Choose an indicator…"))
if funnel_id:
    try:
        funnel = funnel_of(area.country, area.code, funnel_id)
    except ValueError as exc:
        st.warning(plain(exc))
    else:
        fmeta = metas[funnel_id]
        limits = funnel.curve.melt(id_vars="denominator", var_name="limit", value_name="value")
        table = funnel_table(funnel)
        dots = alt.Chart(funnel.areas.assign(shown=table["Value"].astype(str))).mark_circle(
            size=28).encode(
            x=alt.X("denominator:Q", title=f"Denominator ({denominator_label(fmeta)})"),
            y=alt.Y("value:Q", title=lines(f"{fmeta.title} ({fmeta.unit})")),
            color=alt.Color("flag:N", scale=alt.Scale(
                domain=["above 99.8%", "above 95%", "within", "below 95%", "below 99.8%"],
                range=["#8c1a6a", "#be3c8f", "#9a9a9a", "#6c83b5", "#3b4994"])),
            shape=alt.Shape("flag:N"),
            tooltip=[alt.Tooltip("area:N"), alt.Tooltip("shown:N", title="value"),
                     alt.Tooltip("flag:N")])
        lines_ = alt.Chart(limits).mark_line(strokeDash=[3, 3], color="black").encode(
            x=alt.X("denominator:Q"), y=alt.Y("value:Q"), detail=alt.Detail("limit:N"))
        chart_with_text(
            (lines_ + dots).properties(height=320), reading=funnel_reading(funnel),
            alt_text="Funnel plot: each area's value against its size with 95% and 99.8% "
                     "control limits; colour and shape both show the flag.",
            data=table, name=f"{area.name} funnel {fmeta.title}", key="funnel",
            person_counts=("Numerator",), derived=("Value", "95% CI lower", "95% CI upper"),
            vintage=f"{fmeta.title}: {fmeta.period}")
        if funnel.dispersion is not None:
            plain_caption(funnel.dispersion.sentence())
        st.caption("Numerators from 1 to 4 (and one more where a total would reveal them) "
                   "are shown as [c] in the table and downloads, with the value they give.")
