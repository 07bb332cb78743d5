"""Overview: choose a study area, see its population, deprivation and a deprivation map."""

from __future__ import annotations

import html

import pandas as pd
import pydeck as pdk
import streamlit as st

from analysis import geography
from analysis.datastore import DataFileError
from analysis.maps import MapLayer, deprivation_layer
from dashboard.state import (
    DEFAULT_AREA,
    areas_of,
    attribution_footer,
    query_area,
    shared_registry,
    summary_of,
)

COUNTRY_LEVELS = {
    "england": ["country", "region", "icb", "sicbl", "ltla", "ward"],
    "scotland": ["country", "council", "iz11"],
}


@st.cache_data(show_spinner=False, max_entries=32)
def map_layer(country: str, area_code: str | None) -> MapLayer:
    return deprivation_layer(country, area_code, shared_registry())


def choose_area() -> tuple[str, str | None]:
    """Sidebar picker: country, level, area. Returns (country, area code or None)."""
    initial = query_area() or DEFAULT_AREA
    ref = geography.resolve_area(initial)
    countries = list(geography.PACKS)
    with st.sidebar:
        st.header("Study area")
        country = st.radio("Country", countries, index=countries.index(ref.country),
                           format_func=lambda c: geography.PACKS[c].label, horizontal=True)
        spec = geography.spec_for(country)
        levels = COUNTRY_LEVELS[country]
        default_level = ref.level if ref.country == country and ref.level in levels else "country"
        level = st.selectbox("Level", levels, index=levels.index(default_level),
                             format_func=lambda k: spec.level(k).label)
        if level == "country":
            area_code = None
        else:
            areas = areas_of(country, level)
            options = areas["code"].tolist()
            names = dict(zip(areas["code"], areas["name"], strict=True))
            index = options.index(ref.code) if ref.code in names else 0
            area_code = st.selectbox(
                spec.level(level).label, options, index=index,
                format_func=lambda c: f"{names[c]} ({c})")
    st.query_params["area"] = area_code or geography.COUNTRY_CODES[country][0]
    return country, area_code


def legend_html(layer: MapLayer) -> str:
    swatches = "".join(
        f'<span style="display:inline-flex;align-items:center;margin-right:10px">'
        f'<span style="width:14px;height:14px;background:rgb{colour};'
        f'display:inline-block;margin-right:4px;border:1px solid #555"></span>'
        f"{html.escape(label)}</span>"
        for label, colour in zip(layer.legend.labels, layer.legend.colours, strict=True)
    )
    return f'<div role="img" aria-label="{html.escape(layer.title)} legend">{swatches}</div>'


def draw_map(layer: MapLayer) -> None:
    minx, miny, maxx, maxy = layer.bounds
    view = pdk.data_utils.compute_view([[minx, miny], [maxx, maxy]])
    polygons = pdk.Layer(
        "PolygonLayer",
        data=layer.records,
        get_polygon="polygon",
        get_fill_color="f",
        get_line_color=[255, 255, 255, 90],
        line_width_min_pixels=0.3,
        stroked=True,
        pickable=True,
        auto_highlight=True,
    )
    deck = pdk.Deck(
        layers=[polygons],
        initial_view_state=view,
        map_style=None,
        tooltip={"html": "<b>{n}</b> ({c})<br/>Decile: {k}<br/>Population: {p}"},
    )
    st.pydeck_chart(deck, height=560)
    st.markdown(legend_html(layer), unsafe_allow_html=True)
    st.caption(layer.alt_text)


try:
    country, area_code = choose_area()
    summary = summary_of(area_code, country)
    layer = map_layer(country, area_code)
except (geography.UnknownAreaError, geography.EmptySelectionError, DataFileError) as exc:
    st.error(str(exc))
    st.stop()

st.title(summary.name)
st.write(summary.sentence())
c1, c2, c3 = st.columns(3)
c1.metric("Population", f"{summary.population:,}")
c2.metric(
    f"In the most deprived 20% nationally ({summary.deprivation_index})",
    f"{summary.pct_most_deprived_quintile:.1f}%",
    delta=f"{summary.pct_most_deprived_quintile - summary.national_pct_most_deprived_quintile:+.1f}"
    " points vs national",
    delta_color="off",
)
c3.metric(f"Small areas ({geography.spec_for(country).small_area.plural})",
          f"{summary.small_areas:,}")

st.subheader(f"{layer.title} of each small area")
draw_map(layer)
with st.expander("Decile table (text alternative to the map)"):
    table = (layer.records.drop_duplicates("c")["v"].value_counts()
             .rename_axis("decile").reset_index(name="small areas"))
    table = table.sort_values("decile", key=lambda d: pd.to_numeric(d, errors="coerce"))
    st.dataframe(table, hide_index=True)
attribution_footer()
