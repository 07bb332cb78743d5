"""Overview: the study area's population, deprivation, provision and inverse-care verdict."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from analysis.explore import area_value
from analysis.numbers import (
    compare_with_reference,
    format_number,
    format_percent,
    format_quantity,
)
from dashboard.components import (
    deck_map,
    legend_html,
    no_values_notice,
    plain,
    plain_caption,
    polygon_layer,
    short_title,
)
from dashboard.state import (
    DEFAULT_NEED,
    DEFAULT_PROVISION,
    area_frame,
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
# two metrics a row: labels stay whole ("In the most deprived 20% natio…" was cut off)
c1, c2 = st.columns(2)
c3, c4 = st.columns(2)
c1.metric("Population", f"{summary.population:,}")
gap = summary.pct_most_deprived_quintile - summary.national_pct_most_deprived_quintile
c2.metric(
    f"In the most deprived 20% ({summary.deprivation_index})",
    format_percent(summary.pct_most_deprived_quintile),
    delta=f"{format_number(gap, 1, signed=True)} points vs national",
    delta_color="off", delta_arrow="off",
    help="Share of residents living in small areas in national deprivation deciles 1–2 "
         "(NHS England's Core20 definition).",
)
registry = shared_registry()
pair = (DEFAULT_NEED[area.country], provision_id) if provision_id else ()
frame = area_frame(area.country, area.code, pair)
# an indicator without values here says so (and where it has them) instead of failing
missing = [registry.meta(i) for i in pair if frame[i].isna().all()]
if missing:
    c3.metric(plain(short_title(registry.meta(provision_id))), "no data")
    c4.metric("Inverse care law test", "not available")
    for empty in missing:
        no_values_notice(empty.title, area, registry.get(empty.id).values,
                         key=f"overview_{empty.id}")
elif provision_id:
    meta = registry.meta(provision_id)
    local = area_value(area.country, area.code, provision_id, registry)
    national = area_value(area.country, None, provision_id, registry)
    # one rule with the briefing: higher/lower/similar by compare_with_reference
    comparison = compare_with_reference(local, national)
    better = comparison.better(meta.polarity)
    change = 100 * (local / national - 1) if national else math.nan
    # metric labels and help are Markdown: metadata goes in as plain text
    c3.metric(
        plain(short_title(meta)), format_number(local, meta.decimals),
        delta=(f"{format_percent(change, signed=True)} vs national "
               f"{format_number(national, meta.decimals)} ({comparison.direction})"
               if not math.isnan(local) else None),
        delta_color={True: "green", False: "red", None: "gray"}[better],
        delta_arrow={"higher": "up", "lower": "down"}.get(comparison.direction, "off"),
        help=plain(f"{meta.unit}. {meta.description} Compared with national by the "
                   f"{comparison.rule} rule that the briefings use."))
    c3.caption(plain(meta.unit))
    panel = panel_of(area.country, area.code, DEFAULT_NEED[area.country], provision_id)
    direction = {"inverse_care": "Inverse care", "pro_need": "Follows need",
                 "no_clear_relationship": "No clear pattern"}[panel.test.direction]
    c4.metric("Inverse care law test", direction,
              help=plain(f"{meta.title} regressed on need ({DEFAULT_NEED[area.country]}) "
                         "across the area's small areas, weighted by population, with robust "
                         "(HC3) errors" + ("; higher is worse here, so a rise with need is "
                                           "inverse care." if panel.higher_is_worse else ".")))
    low, high = panel.test.slope_per_sd_ci
    st.info(
        "**Verdict:** " + plain(
            f"{panel.test.verdict} For each standard deviation of higher need, "
            f"{meta.title} changes by "
            f"{format_quantity(panel.test.slope_per_sd, meta.unit, 1, signed=True)} (95% CI "
            f"{format_number(low, 1, signed=True)} to {format_number(high, 1, signed=True)}), "
            f"across {panel.test.n:,} small areas.")
    )
else:
    c3.metric("Provision per head", "not available",
              help="The embedded data have no small-area provision indicator for Scotland "
                   "yet; analysts can add one (see docs/adding-indicators.md).")

layer = deprivation_map(area.country, area.code)
st.subheader(plain(f"{layer.title} of each small area"))
deck_map([polygon_layer(layer)], layer.bounds,
         "<b>{n}</b> ({c})<br/>Decile: {v}<br/>Population: {p}" if layer.detailed
         else f"<b>{layer.code_field}</b><br/>Decile: {{v}}", key="overview_map")
st.markdown(legend_html(layer.title, layer.legend), unsafe_allow_html=True)
plain_caption(layer.alt_text)
with st.expander("Decile table (text alternative to the map)"):
    table = (layer.records.drop_duplicates("c")["v"].value_counts()
             .rename_axis("decile").reset_index(name="small areas"))
    table = table.sort_values("decile", key=lambda d: pd.to_numeric(d, errors="coerce"))
    st.dataframe(table, hide_index=True)
