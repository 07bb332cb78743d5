"""Map: any indicator as a small-area choropleth, or need × provision as a bivariate map,
with service points on top and, optionally, the areas that have notes in the learning log.
Clicking an area opens its profile."""

from __future__ import annotations

import html

import pydeck as pdk
import streamlit as st

from analysis.access import load_gp_practices, load_stroke_units
from analysis.explore import (
    SCHEMES,
    person_counts,
    service_points,
    suppress_small_counts,
)
from dashboard.components import (
    bivariate_legend_html,
    geojson_download,
    legend_html,
    plain_caption,
    polygon_layer,
    selected_code,
    table_downloads,
)
from dashboard.errors import require_values
from dashboard.notes import notes_map_layers
from dashboard.services import context_deck_map, service_map_layers
from dashboard.state import (
    DEFAULT_NEED,
    area_frame,
    bivariate_of,
    choices,
    choropleth_of,
    need_provision_pickers,
    session_registry,
    study_area_shapes,
    url_select,
    url_slider,
    url_toggle,
)

area = st.session_state["study_area"]
st.title(f"Map: {area.name}")

metas = {m.id: m for m in choices(area.country)}
titles = {i: f"{m.title} ({m.kind})" for i, m in metas.items()}
need_ids = [i for i, m in metas.items() if m.kind in ("need", "outcome")]
provision_ids = [i for i, m in metas.items() if m.kind == "provision"]
modes = ["single", "bivariate"] if provision_ids else ["single"]
mode = url_select("Map", modes, "mode", "single", sidebar=True,
                  format_func={"single": "One indicator",
                               "bivariate": "Need × provision (bivariate)"}.get)

if mode == "single":
    indicator_id = url_select("Indicator", list(metas), "ind", DEFAULT_NEED[area.country],
                              format_func=titles.get)
    col1, col2 = st.columns(2)
    with col1:
        scheme = url_select("Classes by", list(SCHEMES), "scheme", "quantiles",
                            format_func=SCHEMES.get)
    with col2:
        classes = url_slider("Number of classes", 3, 7, "classes", 5)
    meta = metas[indicator_id]
    frame = area_frame(area.country, area.code, (indicator_id,))
    require_values(area, frame, (meta,), session_registry(), key="map")
    shapes = study_area_shapes(area.country, area.code)
    counts = person_counts(indicator_id, session_registry())
    layer = choropleth_of(area.country, area.code, indicator_id, scheme, classes)
    # the value text carries its unit (once): "IMD 2025 score: 11.6", "Disabled: 18.3%"
    tooltip = (f"<b>{{n}}</b> ({{c}})<br/>{html.escape(meta.title)}: {{v}}<br/>"
               "Deprivation decile: {d}" if layer.detailed else
               f"<b>{layer.code_field}</b><br/>{html.escape(meta.title)}: {{v}}")
    plain_caption(meta.description)
    table = suppress_small_counts(
        frame[["code", "name", "population", "deprivation_decile", indicator_id]],
        indicator_id, counts)
    vintage = f"{meta.title}: {meta.period} ({meta.source})"
else:
    need_id, provision_id = need_provision_pickers(area.country, need_ids, provision_ids,
                                                   titles)
    need, provision = metas[need_id], metas[provision_id]
    frame = area_frame(area.country, area.code, (need_id, provision_id))
    require_values(area, frame, (need, provision), session_registry(), key="map")
    shapes = study_area_shapes(area.country, area.code)
    layer = bivariate_of(area.country, area.code, need_id, provision_id)
    if layer.detailed:
        tooltip = (f"<b>{{n}}</b> ({{c}})<br/>{{l}}<br/>{html.escape(need.title)}: {{v}}<br/>"
                   f"{html.escape(provision.title)}: {{w}}")
    else:
        tooltip = (f"<b>{layer.code_field}</b><br/>{html.escape(need.title)} | "
                   f"{html.escape(provision.title)}: {{v}}")
    table = frame[["code", "name", "population", "deprivation_decile", need_id,
                   provision_id]]
    vintage = f"{need.title}: {need.period}; {provision.title}: {provision.period}"

points = []
# deck.gl has one tooltip template for all layers; points fill the polygon-only fields
POINT_BLANKS = {"v": "", "w": "", "l": "", "d": ""}
if area.country == "england":
    with st.sidebar:
        st.subheader("Services")
        show_gp = url_toggle("GP practices (sized by list)", "show_gp")
        show_stroke = url_toggle("Stroke units", "show_stroke")
    if show_gp:
        gp = service_points(load_gp_practices().dropna(subset=["latitude"]), layer.bounds,
                            size_column="registered_patients", label_column="practice_name")
        gp = gp.assign(c="GP practice", **POINT_BLANKS)
        points.append(pdk.Layer("ScatterplotLayer", id="gp", data=gp, get_position=["lon", "lat"],
                                get_radius="r", get_fill_color=[255, 140, 0, 200],
                                get_line_color=[0, 0, 0], line_width_min_pixels=1,
                                stroked=True, pickable=True, radius_min_pixels=2))
    if show_stroke:
        units = service_points(load_stroke_units(), layer.bounds, size_column=None,
                               label_column="stroke_team", kind_column="unit_type")
        units = units.assign(**POINT_BLANKS)
        points.append(pdk.Layer("ScatterplotLayer", id="stroke", data=units,
                                get_position=["lon", "lat"], get_radius=1500,
                                get_fill_color="[c == 'Thrombectomy centre' ? 220 : 0, 0, 0]",
                                get_line_color=[255, 255, 255], line_width_min_pixels=2,
                                stroked=True, pickable=True, radius_min_pixels=5))
        st.caption("Stroke units: black dots are thrombolysis units, red dots thrombectomy "
                   "centres (hover for the unit and its type).")

points += service_map_layers(layer.bounds, POINT_BLANKS)
note_layers, notes_caption = notes_map_layers(area.country, area.code, layer.detailed)
event = context_deck_map([polygon_layer(layer)], layer.bounds, tooltip, key="main_map",
                         area=area, selectable=True, overlays=points + note_layers)
if mode == "bivariate":
    st.markdown(bivariate_legend_html(), unsafe_allow_html=True)
else:
    st.markdown(legend_html(layer.title, layer.legend), unsafe_allow_html=True)
plain_caption(layer.alt_text + " Click an area to open its profile.")
if notes_caption:
    plain_caption(notes_caption)

clicked = selected_code(event, layer)
if clicked:
    st.session_state["profile_area"] = clicked
    st.switch_page("views/profile.py")

with st.expander("Data behind the map"):
    # an expander's contents are sent even while it is closed: the table (1-2 MB for
    # England) goes to the browser only when asked for; downloads are made on click
    if st.toggle(f"Show the table ({len(table):,} rows)", key="map_show_table"):
        st.dataframe(table, hide_index=True)
    table_downloads(table, f"{area.name} {layer.title}", vintage=vintage, key="map_table")
    geojson_download(shapes, table, f"{area.name} {layer.title}", vintage=vintage,
                     key="map_geojson")
