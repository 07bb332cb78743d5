"""Overview: the study area's population, deprivation, provision and inverse-care verdict."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from analysis.explore import area_value
from dashboard.components import deck_map, legend_html, polygon_layer
from dashboard.state import (
    DEFAULT_NEED,
    DEFAULT_PROVISION,
    deprivation_map,
    panel_of,
    shared_registry,
    summary_of,
)

area = st.session_state["study_area"]
summary = summary_of(area.code, area.country)

st.title(summary.name)
st.write(summary.sentence())

provision_id = DEFAULT_PROVISION.get(area.country)
c1, c2, c3, c4 = st.columns(4)
c1.metric("Population", f"{summary.population:,}")
c2.metric(
    f"In the most deprived 20% nationally ({summary.deprivation_index})",
    f"{summary.pct_most_deprived_quintile:.1f}%",
    delta=f"{summary.pct_most_deprived_quintile - summary.national_pct_most_deprived_quintile:+.1f}"
    " points vs national",
    delta_color="off",
    help="Share of residents living in small areas in national deprivation deciles 1–2 "
         "(NHS England's Core20 definition).",
)
if provision_id:
    registry = shared_registry()
    meta = registry.meta(provision_id)
    local = area_value(area.country, area.code, provision_id, registry)
    national = area_value(area.country, None, provision_id, registry)
    c3.metric(f"{meta.title} ({meta.unit})", f"{local:,.{meta.decimals}f}",
              delta=f"{100 * (local / national - 1):+.1f}% vs national "
                    f"{national:,.{meta.decimals}f}" if not math.isnan(local) else None,
              delta_color="normal" if meta.polarity == "higher_is_better" else "inverse",
              help=meta.description)
    panel = panel_of(area.country, area.code, DEFAULT_NEED[area.country], provision_id)
    direction = {"inverse_care": "Inverse care", "pro_need": "Follows need",
                 "no_clear_relationship": "No clear pattern"}[panel.test.direction]
    c4.metric("Inverse care law test", direction,
              help="Provision per head regressed on need (IMD 2025 score) across the area's "
                   "small areas, weighted by population, with robust (HC3) errors.")
    low, high = panel.test.slope_per_sd_ci
    st.info(
        f"**Verdict:** {panel.test.verdict} For each standard deviation of higher need, "
        f"{meta.title} changes by {panel.test.slope_per_sd:+,.1f} {meta.unit} "
        f"(95% CI {low:+,.1f} to {high:+,.1f}), across {panel.test.n:,} small areas."
    )
else:
    c3.metric("Provision per head", "not available",
              help="The embedded data have no small-area provision indicator for Scotland "
                   "yet; analysts can add one (see docs/adding-indicators.md).")

layer = deprivation_map(area.country, area.code)
st.subheader(f"{layer.title} of each small area")
deck_map([polygon_layer(layer)], layer.bounds,
         "<b>{n}</b> ({c})<br/>Decile: {v}<br/>Population: {p}" if layer.detailed
         else f"<b>{layer.code_field}</b><br/>Decile: {{v}}", key="overview_map")
st.markdown(legend_html(layer.title, layer.legend), unsafe_allow_html=True)
st.caption(layer.alt_text)
with st.expander("Decile table (text alternative to the map)"):
    table = (layer.records.drop_duplicates("c")["v"].value_counts()
             .rename_axis("decile").reset_index(name="small areas"))
    table = table.sort_values("decile", key=lambda d: pd.to_numeric(d, errors="coerce"))
    st.dataframe(table, hide_index=True)
