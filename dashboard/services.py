"""Services in the dashboard: the *Add data* tab for a site list (upload, describe, see
where every site was placed, use it for the session), the session's services and their
access indicators, and a map layer for every service (the shipped hospitals and this
session's uploads); and the context every map draws around its data (local-authority and ward
outlines and names, the fitted view, a scale bar, an optional basemap: ``context_deck_map``).

A service uploaded here is kept for this session only: it and its access indicators live in
``st.session_state``, never in a cross-session cache, and are gone after a reload. A
deployment that sets ``FAIRSHARE_ALLOW_REGISTRY_WRITES=1`` (as for indicators) also offers
to save it to the shared registry. The access indicators join the session's uploads, so
they appear among the provision indicators of the Map, Inverse care law and Allocation
pages like any upload.
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path
from urllib.parse import quote

import pandas as pd
import pydeck as pdk
import streamlit as st

from analysis.data import OGL, POSTCODE_ATTRIBUTION, DataFileError, resolve_area
from analysis.explore import service_points
from analysis.explore.map_context import (
    INSIDE,
    LABEL_SIZE,
    NEIGHBOUR,
    WARD,
    Basemap,
    MapContext,
    basemap_setting,
    boundary_context,
    context_caption,
    fitted_view,
)
from analysis.ingest import (
    ServiceError,
    ServiceRegistry,
    install_service,
    read_service_upload,
)
from analysis.ingest.services import MAX_UPLOAD_BYTES
from dashboard.components import (
    BLANK_MAP_STYLE,
    MAP_HEIGHT,
    CompactDeck,
    deck_coordinates,
    plain,
    precoded_layer,
)
from dashboard.state import session_uploads, shared_registry, url_toggle

SAVE_SWITCH = "FAIRSHARE_ALLOW_REGISTRY_WRITES"
REQUIRED = {"svc_id": "Id", "svc_title": "Title", "svc_description": "Description",
            "svc_kind": "Kind of service", "svc_period": "Period", "svc_source": "Source",
            "svc_licence": "Licence"}
# ColorBrewer Dark2 (Brewer 2003): distinct on the white map and colour-blind safe in pairs
COLOURS = ((27, 158, 119), (217, 95, 2), (117, 112, 179), (231, 41, 138), (102, 166, 30),
           (230, 171, 2), (166, 118, 29), (102, 102, 102))


@st.cache_resource(show_spinner=False)
def _shared_services() -> ServiceRegistry:
    """The shipped and saved services (read-only, shared by every session)."""
    return ServiceRegistry()


def session_services() -> ServiceRegistry:
    """This session's service registry: the shared services plus this session's uploads."""
    registry = st.session_state.get("service_registry")
    if registry is None:
        registry = ServiceRegistry()
        st.session_state["service_registry"] = registry
    return registry


def _dataset(registry: ServiceRegistry, service_id: str):
    if registry.is_session(service_id):
        return registry.get(service_id)
    return _shared_services().get(service_id)


def use_session_service(dataset) -> list:
    """Register a checked service for this session and add its access indicators (for the
    service's coverage) to the session's indicators; returns the indicators."""
    registry = session_services()
    indicators = dataset.access().indicators()
    shipped = set(shared_registry().ids())
    clash = [i.meta.id for i in indicators if i.meta.id in shipped]
    if clash:
        raise ServiceError(f"the access indicator id(s) {', '.join(clash)} are taken by "
                           "shipped indicators; give the service another id")
    discard_session_service(dataset.meta.id)
    registry.add_session_service(dataset)
    uploads = session_uploads()
    for indicator in indicators:
        uploads[indicator.meta.id] = indicator
    st.session_state.setdefault("service_indicators", {})[dataset.meta.id] = [
        i.meta.id for i in indicators]
    st.session_state.pop("session_registry", None)  # rebuilt with the new indicators
    return indicators


def discard_session_service(service_id: str) -> None:
    """Drop a session service and its access indicators."""
    session_services().discard_session_service(service_id)
    for indicator_id in st.session_state.get("service_indicators", {}).pop(service_id, []):
        session_uploads().pop(indicator_id, None)
    st.session_state.pop("session_registry", None)


def placing_table(report) -> pd.DataFrame:
    """One row per site that was not placed (row, postcode, site id, reason)."""
    columns = ["row", "postcode", "site_id", "reason"]
    return pd.DataFrame(report.not_placed, columns=columns)


def _check(upload, values: dict, skip: bool) -> None:
    missing = [label for key, label in REQUIRED.items() if not str(values[key] or "").strip()]
    if upload is None:
        st.error("Choose a site list to upload first.")
        return
    if missing:
        st.error("Fill in the required fields: " + ", ".join(missing) + ".")
        return
    meta = {"id": values["svc_id"].strip(), "title": values["svc_title"],
            "description": values["svc_description"], "service_kind": values["svc_kind"],
            "period": values["svc_period"], "source": values["svc_source"],
            "licence": values["svc_licence"], "catchment_km": values["svc_catchment"]}
    if str(values["svc_unit"] or "").strip():
        meta["capacity_unit"] = values["svc_unit"].strip()
    data = upload.getvalue()
    bar = st.progress(0.0, text=f"Checking {upload.name} ({len(data) / 1e6:,.1f} MB)…")
    dataset, report = read_service_upload(
        data, upload.name, meta, skip_unplaced=skip,
        progress=lambda fraction, stage: bar.progress(min(fraction, 1.0), text=stage))
    bar.empty()
    st.session_state["service_report"] = report
    st.session_state["service_candidate"] = dataset


def _show_report(report) -> None:
    st.subheader("Where the sites were placed")
    share = report.placed_share or 0.0
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Sites", f"{report.rows:,}")
    c2.metric("Placed in an LSOA / data zone", f"{report.geocoded:,}", f"{share:.1%}",
              delta_color="off", delta_arrow="off")
    c3.metric("Outside England and Scotland", f"{report.outside:,}")
    c4.metric("Not placed", f"{len(report.not_placed):,}")
    if report.ok:
        st.success(plain(f"No errors: {report.geocoded:,} of {report.rows:,} sites placed."))
    else:
        st.error(f"{len(report.errors)} error(s): fix the file or the description and check "
                 "again.")
    if report.not_placed:
        st.caption("Sites that could not be placed, by row of the file:")
        st.dataframe(placing_table(report), hide_index=True, key="service_not_placed")
    issues = pd.DataFrame([issue.to_dict() for issue in report.issues])
    if not issues.empty:
        st.dataframe(issues[["severity", "row", "column", "message"]], hide_index=True,
                     key="service_issues")
    if report.placement:
        st.caption(plain("; ".join(f"{how}: {n:,}" for how, n in report.placement.items())))
    st.caption(plain(POSTCODE_ATTRIBUTION))


def service_tab(area) -> None:
    """The *Add data* tab for services: upload, describe, check, use for the session."""
    st.write("Upload a list of sites (pharmacies, libraries, family hubs, clinics…) as CSV "
             "or Excel, as you downloaded it: an NHS ODS list, a council's open-data list or "
             "a CQC location list. Each site needs a postcode, latitude/longitude or a British "
             "National Grid easting/northing; a capacity column (staffed hours, staff, beds) "
             "is used when there is one, else every site counts as one. Sites are placed in "
             "LSOA 2021 / data zones and every site that cannot be placed is listed. A "
             "service is kept for this session only.")
    upload = st.file_uploader(f"Site list * (up to {MAX_UPLOAD_BYTES // 2**20} MB)",
                              type=["csv", "txt", "tsv", "xlsx"], key="service_file")
    c1, c2 = st.columns(2)
    values = {"svc_id": c1.text_input("Id * (a-z, 0-9, _ or -)", key="svc_id",
                                      placeholder="e.g. wigan_pharmacies_2024"),
              "svc_title": c2.text_input("Title *", key="svc_title")}
    values["svc_description"] = st.text_area("Plain-English description *",
                                             key="svc_description")
    c3, c4, c5 = st.columns(3)
    values["svc_kind"] = c3.text_input("Kind of service *", key="svc_kind",
                                       placeholder="e.g. community pharmacy")
    values["svc_unit"] = c4.text_input("Unit of capacity", key="svc_unit",
                                       placeholder="blank: count sites")
    values["svc_period"] = c5.text_input("Period *", key="svc_period",
                                         placeholder="e.g. 2024")
    c6, c7, c8 = st.columns(3)
    values["svc_source"] = c6.text_input("Source *", key="svc_source")
    values["svc_licence"] = c7.text_input("Licence *", value=OGL, key="svc_licence")
    values["svc_catchment"] = c8.number_input("Catchment (km, straight line)", 0.5, 100.0,
                                              value=10.0, step=0.5, key="svc_catchment")
    skip = st.checkbox("Leave out sites that cannot be placed (they are listed)",
                       key="svc_skip")
    if st.button("Check the sites", type="primary", key="check_service"):
        _check(upload, values, skip)
    report = st.session_state.get("service_report")
    candidate = st.session_state.get("service_candidate")
    if report is not None:
        _show_report(report)
    if candidate is not None and report is not None and report.ok:
        registry = session_services()
        taken = candidate.meta.id in registry.ids() and not registry.is_session(
            candidate.meta.id)
        if st.button("Use it in this session", key="use_service", type="primary"):
            if taken:
                st.error(plain(f"The id {candidate.meta.id} is taken by a saved service."))
            else:
                try:
                    indicators = use_session_service(candidate)
                except ValueError as exc:  # ServiceError, or sites in both countries
                    st.error(plain(str(exc)))
                else:
                    _used(candidate, indicators, area)
        if os.environ.get(SAVE_SWITCH) == "1" and st.button("Save to the shared registry",
                                                            key="save_service"):
            try:
                folder, _ = install_service(candidate)
            except ServiceError as exc:  # the id is taken, or a shipped service's
                st.error(plain(str(exc)))
            else:
                _shared_services.clear()
                st.success(plain(f"Saved to {folder}"))
    _session_list()


def _used(candidate, indicators: list, area) -> None:
    st.success(plain(f"{candidate.meta.title}: {len(indicators)} access indicators are now "
                     "among the provision indicators of the Map, Inverse care law and "
                     "Allocation pages, and its sites are a layer on the Map."))
    covered = ", ".join(resolve_area(code).name for code in
                        indicators[0].meta.extra["coverage"])
    st.caption(plain(f"Access is measured for {covered} (where the sites are); the pages "
                     f"show it for the study area, now {area.name}."))


def _session_list() -> None:
    registry = session_services()
    mine = [i for i in registry.ids() if registry.is_session(i)]
    if not mine:
        return
    st.subheader("Your services (this session)")
    st.dataframe(pd.DataFrame([{
        "id": i, "title": registry.meta(i).title, "sites": len(registry.get(i).sites),
        "access indicators": ", ".join(st.session_state.get("service_indicators", {}).get(
            i, []))} for i in mine]), hide_index=True, key="service_list")
    left, right = st.columns([3, 1])
    gone = left.selectbox("Service to discard", mine, key="discard_service_pick")
    if right.button("Discard", key="discard_service"):
        discard_session_service(gone)
        st.rerun()


def service_layer(dataset, bounds: tuple[float, float, float, float], colour,
                  blanks: dict[str, str] | None = None) -> pdk.Layer | None:
    """A deck.gl scatter layer of a service's sites inside ``bounds`` (sized by capacity
    when it has one), with the map's tooltip fields: ``n`` site name, ``c`` type or kind."""
    sites = dataset.sites.dropna(subset=["latitude", "longitude"])
    if sites.empty:
        return None
    kind = dataset.meta.service_kind or dataset.meta.title
    sites = sites.assign(site_type=sites["site_type"].fillna(kind))
    points = service_points(sites, bounds, size_column="capacity" if dataset.has_capacity
                            else None, label_column="name", kind_column="site_type")
    if points.empty:
        return None
    points = points.assign(**(blanks or {}))
    return pdk.Layer("ScatterplotLayer", id=f"service-{dataset.meta.id}", data=points,
                     get_position=["lon", "lat"], get_radius="r",
                     get_fill_color=[*colour, 210], get_line_color=[255, 255, 255],
                     line_width_min_pixels=1, stroked=True, pickable=True,
                     radius_min_pixels=3)


def service_map_layers(bounds: tuple[float, float, float, float],
                       blanks: dict[str, str] | None = None) -> list[pdk.Layer]:
    """A sidebar toggle for every service (shipped, saved and this session's) and the
    scatter layers of those switched on, for the Map page."""
    registry = session_services()
    layers: list[pdk.Layer] = []
    ids = registry.ids()
    if not ids:
        return layers
    with st.sidebar:
        st.caption("Services brought as data")
        for number, service_id in enumerate(ids):
            meta = registry.meta(service_id)
            label = meta.title + (" (this session)" if registry.is_session(service_id) else "")
            if not url_toggle(label, f"show_service_{service_id}"):
                continue
            layer = service_layer(_dataset(registry, service_id), bounds,
                                  COLOURS[number % len(COLOURS)], blanks)
            if layer is not None:
                layers.append(layer)
        if layers:
            st.caption(plain("Sites placed with the postcode index. " + POSTCODE_ATTRIBUTION))
    return layers


# ---- context on every map -------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
# where Streamlit itself reads config.toml: the working directory's .streamlit, then the app's
CONFIG_FILES = (Path.cwd() / ".streamlit" / "config.toml", ROOT / ".streamlit" / "config.toml")
LINE_COLOUR = f"k=={INSIDE}?[35,35,35,235]:k=={NEIGHBOUR}?[130,130,130,200]:[60,60,60,190]"
LINE_WIDTH = f"k=={INSIDE}?2:k=={NEIGHBOUR}?1.2:1"
TEXT_SIZE = (f"k=={INSIDE}?{LABEL_SIZE[INSIDE]}:k=={NEIGHBOUR}?{LABEL_SIZE[NEIGHBOUR]}:"
             f"{LABEL_SIZE[WARD]}")
TEXT_COLOUR = f"k=={INSIDE}?[15,15,15]:k=={NEIGHBOUR}?[95,95,95]:[55,55,55]"


def basemap() -> Basemap | None:
    """The deployment's basemap (``FAIRSHARE_BASEMAP_URL`` or ``[fairshare] basemap_url`` in
    ``.streamlit/config.toml``), ``None`` when unset; a malformed setting is reported once on
    the page and ignored, so a map still draws."""
    try:
        return basemap_setting(config_files=CONFIG_FILES)
    except ValueError as exc:
        st.warning(plain(f"No basemap: {exc}"))
        return None


def map_style(tiles: Basemap | None) -> str:
    """The MapLibre style: blank white offline; with a basemap, one raster source of its
    tiles (percent-encoded, since a data URL ends at the first ``#``)."""
    if tiles is None:
        return BLANK_MAP_STYLE
    style = {"version": 8,
             "sources": {"basemap": {"type": "raster", "tiles": [tiles.url], "tileSize": 256,
                                     "attribution": tiles.attribution}},
             "layers": [{"id": "basemap", "type": "raster", "source": "basemap"}]}
    return "data:application/json," + quote(json.dumps(style, separators=(",", ":")))


def context_layers(context: MapContext) -> tuple[tuple[pdk.Layer], tuple[pdk.Layer]]:
    """The outline paths (drawn over the polygons) and the labels (drawn over everything;
    names collide politely: deck.gl's collision filter keeps the larger areas' names)."""
    outlines = precoded_layer(
        "PathLayer", context.outlines, id="context-outlines", get_path="g",
        get_color=LINE_COLOUR, get_width=LINE_WIDTH, width_units="'pixels'",
        pickable=False, **deck_coordinates(context.origin, context.precision))
    labels = precoded_layer(
        "TextLayer", context.labels, id="context-labels", get_position=["lon", "lat"],
        get_text="t", get_size=TEXT_SIZE, size_units="'pixels'", get_color=TEXT_COLOUR,
        character_set="'auto'", font_family="'Source Sans Pro, Helvetica, Arial, sans-serif'",
        font_weight=600, font_settings={"sdf": True}, outline_width=3,
        outline_color=[255, 255, 255, 235], pickable=False,
        extensions=[{"@@type": "CollisionFilterExtension"}], get_collision_priority="p",
        collision_test_props={"sizeScale": 1.4})
    return (outlines,), (labels,)


def scale_bar_html(context: MapContext) -> str:
    """The scale bar under a map: a bar of the right pixel length and its label."""
    bar = context.scale
    label = html.escape(bar.label)
    return (f'<div class="fs-scale" role="img" aria-label="Scale bar: {label} at the '
            'initial zoom" style="font-size:0.8rem;margin:2px 0 6px 0">'
            f'<span style="display:inline-block;width:{bar.pixels}px;height:6px;'
            'border:2px solid #1a1a1a;border-top:none;margin-right:6px"></span>'
            f"{label} (at the initial zoom)</div>")


def context_deck_map(layers: list[pdk.Layer], bounds: tuple[float, float, float, float],
                     tooltip_html: str, *, key: str, area, selectable: bool = False,
                     overlays: list[pdk.Layer] | tuple[pdk.Layer, ...] = ()):
    """Draw a map of ``layers`` (polygons first) with its context: outlines and names of the
    local authorities (and, inside one, wards) around ``area`` (anything with ``country``
    and ``code``), ``overlays`` (points) above the outlines and the names on top; the view
    fitted to ``bounds``; a scale bar and a caption under it. Returns the selection event
    when ``selectable``. No URL is requested unless a basemap is configured."""
    try:
        context = boundary_context(area.country, area.code, bounds)
    except (DataFileError, ValueError) as exc:
        # the map itself still draws, fitted to its data, with the reason in words
        context = None
        st.caption(plain(f"No outlines or names on this map: {exc}"))
    view = context.view if context is not None else fitted_view(bounds)
    outlines, labels = context_layers(context) if context is not None else ((), ())
    tiles = basemap()
    deck = CompactDeck(layers=[*layers, *outlines, *overlays, *labels],
                       initial_view_state=pdk.ViewState(**view.as_dict()),
                       map_style=map_style(tiles),
                       tooltip={"html": tooltip_html,
                                "style": {"backgroundColor": "#1a1a1a", "color": "white"}})
    if selectable:
        event = st.pydeck_chart(deck, height=MAP_HEIGHT, key=key, on_select="rerun",
                                selection_mode="single-object")
    else:
        event = None
        st.pydeck_chart(deck, height=MAP_HEIGHT, key=key)
    if context is not None:
        st.markdown(scale_bar_html(context), unsafe_allow_html=True)
        caption = context_caption(context) + "".join(f" {n}" for n in context.notes)
        if tiles is not None and tiles.attribution:
            caption += f" Basemap: {tiles.attribution}"
        st.caption(plain(caption))
    return event
