"""Drawing helpers shared by the pages: maps, legends, charts and downloads.

Every string that comes from data or users is HTML-escaped before it reaches
``unsafe_allow_html``, and shown through :func:`plain` (Markdown-escaped) wherever Streamlit
would read it as Markdown, so a link or formatting in metadata stays text. Every download
carries the OGL attribution (``analysis.exports``): a CSV comes as a zip of the plain CSV and
its CSVW metadata sidecar; person counts are suppressed in every format.
"""

from __future__ import annotations

import functools
import html
import json
import re
import textwrap
import weakref
from dataclasses import dataclass

import altair as alt
import pandas as pd
import pydeck as pdk
import pydeck.bindings.deck as pydeck_deck
import streamlit as st

from analysis.data import ATTRIBUTION, OGL_URL
from analysis.explore import (
    BIVARIATE_COLOURS,
    Legend,
    MapLayer,
    bivariate_labels,
    fill_expression,
    hex_to_rgb,
)
from analysis.exports import (
    ExportInfo,
    column_info_for,
    csv_zip_bytes,
    to_geojson_bytes,
    to_xlsx_bytes,
)
from analysis.util import IdentityMemo

# pydeck asks twice per Deck whether its Jupyter widget can be imported, a failing import
# that searches sys.path every time (4% of the server's time under load); the answer cannot
# change while the process runs.
pydeck_deck.has_jupyter_extra = functools.cache(pydeck_deck.has_jupyter_extra)

MAP_HEIGHT = 560
# An empty MapLibre style given inline. Without a style Streamlit asks Carto's servers for a
# basemap; offline (or behind a strict firewall) that request stalls the map for seconds,
# and the choropleth needs no basemap anyway.
BLANK_MAP_STYLE = ('data:application/json,{"version":8,"sources":{},"layers":[{"id":"bg",'
                   '"type":"background","paint":{"background-color":"white"}}]}')


# Encoded polygon records. Turning a layer's records into JSON (pandas → dicts → text) was
# a quarter of the server's time under load (docs/scaling.md), and a map layer shared
# across sessions (a cache_resource in dashboard/state.py) would be encoded again on every
# rerun. So each records table is encoded once: _RECORDS_JSON keeps the text by the table's
# identity while the table lives, and _LAYER_JSON keeps it for each
# pydeck layer whose data is a placeholder, for CompactDeck.to_json to splice back in.
_RECORDS_PREFIX = "@@fairshare-records-"
_RECORDS_JSON: IdentityMemo[str] = IdentityMemo()
_LAYER_JSON: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _plain_records(records: pd.DataFrame) -> list[dict]:
    """``records.to_dict(orient="records")`` with Python scalars, built column by column
    (several times faster on Arrow string columns, which pandas boxes value by value)."""
    columns = [str(c) for c in records.columns]
    values = [records[c].tolist() for c in records.columns]
    return [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)]


def encoded_records(records: pd.DataFrame) -> str:
    """The JSON text of a layer's records, encoded once per records table (by identity:
    map layers are not changed after they are built)."""
    from pydeck.bindings.json_tools import default_serialize

    return _RECORDS_JSON.get(records, None, lambda: json.dumps(
        _plain_records(records), default=default_serialize, separators=(",", ":")))


class CompactDeck(pdk.Deck):
    """A pydeck Deck whose JSON has no indentation, with pre-encoded polygon records.

    pydeck serialises with ``indent=2``, which nearly triples the payload of a map with
    thousands of polygons (England's LSOAs: 25 MB → 9 MB before any other saving).
    """

    def to_json(self) -> str:
        from pydeck.bindings.json_tools import default_serialize

        text = json.dumps(self, sort_keys=True, default=default_serialize,
                          separators=(",", ":"))
        for layer in self.layers:
            records = _LAYER_JSON.get(layer)
            if records is not None:
                text = text.replace(json.dumps(layer.data), records, 1)
        return text


def slug(text: str) -> str:
    """A safe file-name stem from any text."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "fairshare"


def legend_html(title: str, legend: Legend) -> str:
    """An accessible legend: swatches with text labels (meaning never by colour alone)."""
    swatches = "".join(
        f'<span style="display:inline-flex;align-items:center;margin:0 12px 4px 0">'
        f'<span style="width:14px;height:14px;background:rgb{tuple(colour)};'
        f'display:inline-block;margin-right:5px;border:1px solid #444"></span>'
        f"{html.escape(label)}</span>"
        for label, colour in zip(legend.labels, legend.colours, strict=True)
    )
    return (f'<div class="fs-legend" role="group" aria-label="{html.escape(title)} legend">'
            f"<strong>{html.escape(title)}</strong><br/>{swatches}</div>")


def deck_coordinates(origin: tuple[float, float], precision: int) -> dict:
    """deck.gl properties that place ``analysis.explore.maps.polygon_records`` polygons: flat XY
    integer offsets from ``origin`` in units of 10^-precision degrees.

    String values are quoted because pydeck otherwise turns strings into JS expressions.
    """
    scale = 10.0 ** -precision
    return {
        "coordinate_system": "'lnglat-offsets'",
        "coordinate_origin": [origin[0], origin[1]],
        "model_matrix": [scale, 0, 0, 0, 0, scale, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1],
        "position_format": "'XY'",
    }


def bivariate_legend_html() -> str:
    """The 3 × 3 legend square: need rises upwards, provision to the right; every cell is
    labelled in words."""
    labels = bivariate_labels()
    cells = []
    for need in (2, 1, 0):
        for provision in (0, 1, 2):
            r, g, b = hex_to_rgb(BIVARIATE_COLOURS[need][provision])
            ink = "white" if 0.299 * r + 0.587 * g + 0.114 * b < 150 else "black"
            cells.append(
                f'<div style="background:rgb({r},{g},{b});color:{ink};padding:6px;'
                f'font-size:0.75rem;min-height:2.6em">{html.escape(labels[need][provision])}'
                "</div>")
    return (
        '<div role="group" aria-label="Legend: need rises upwards, provision to the right" '
        'style="display:grid;grid-template-columns:auto repeat(3,minmax(0,150px));gap:2px;'
        'align-items:stretch">'
        '<div style="writing-mode:vertical-rl;transform:rotate(180deg);text-align:center;'
        'font-size:0.8rem;grid-row:span 3">need →</div>'
        + "".join(cells[0:3]) + "".join(cells[3:6]) + "".join(cells[6:9])
        + '<div></div><div style="grid-column:span 3;text-align:center;font-size:0.8rem">'
        "provision →</div></div>")


def polygon_layer(layer: MapLayer, layer_id: str = "areas") -> pdk.Layer:
    """deck.gl polygons of a map layer, coloured from the legend by class index (drawn with
    :class:`CompactDeck`, which puts in the records encoded once by :func:`encoded_records`)."""
    return precoded_layer(
        "PolygonLayer",
        layer.records,
        id=layer_id,
        get_polygon="g",
        get_fill_color=fill_expression(layer.legend.colours),
        # no outlines: deck.gl builds them on the CPU (3-4 s for an ICB's 1,700 LSOAs in a
        # software-rendered browser), and hover highlighting shows each area anyway
        stroked=False,
        pickable=True,
        auto_highlight=True,
        **deck_coordinates(layer.origin, layer.precision),
    )


def precoded_layer(kind: str, records: pd.DataFrame, **props) -> pdk.Layer:
    """A pydeck layer of ``records`` (a table that is not changed once built, such as a
    cached map layer's or boundary context's), its JSON encoded once per table by
    :func:`encoded_records` and put in by :class:`CompactDeck`, instead of pydeck turning
    the table into dicts on every rerun."""
    deck_layer = pdk.Layer(kind, data=f"{_RECORDS_PREFIX}{id(records)}", **props)
    _LAYER_JSON[deck_layer] = encoded_records(records)
    return deck_layer


def deck_map(layers: list[pdk.Layer], bounds: tuple[float, float, float, float],
             tooltip_html: str, *, key: str, selectable: bool = False, area=None):
    """Draw a deck.gl map fitted to ``bounds`` with its context (outlines and names around
    ``area``, default the study area; scale bar); returns the selection event if
    selectable. One drawing for every page: :func:`dashboard.services.context_deck_map`."""
    from dashboard.services import context_deck_map  # services imports this module

    return context_deck_map(layers, bounds, tooltip_html, key=key, selectable=selectable,
                            area=area if area is not None else st.session_state["study_area"])


def selected_code(event, layer: MapLayer, layer_id: str = "areas") -> str | None:
    """The full area code of the object clicked on a selectable map, if any."""
    if event is None:
        return None
    try:
        objects = event.selection.get("objects", {}).get(layer_id) or []
    except AttributeError:
        return None
    return layer.full_code(str(objects[0].get("c"))) if objects else None


def export_info(frame: pd.DataFrame, name: str, *, vintage: str | None = None,
                info: ExportInfo | None = None, person_counts: tuple[str, ...] | list[str] = (),
                derived: tuple[str, ...] | list[str] = (), units: dict | None = None,
                titles: dict | None = None, source: str | None = None) -> ExportInfo:
    """What a download says about itself: ``info`` if given, else one built from the title,
    the vintage and the column lists (person counts are suppressed; ``derived`` columns,
    rates computed from them, are hidden in the same rows)."""
    if info is not None:
        return info
    return ExportInfo(title=name, vintage=vintage or "", source=source or "",
                      columns=column_info_for(list(frame.columns), person_counts=person_counts,
                                              derived=derived, units=units, titles=titles))


def table_downloads(frame: pd.DataFrame, name: str, *, vintage: str | None = None,
                    key: str, info: ExportInfo | None = None,
                    person_counts: tuple[str, ...] | list[str] = (),
                    derived: tuple[str, ...] | list[str] = (), units: dict | None = None,
                    titles: dict | None = None, source: str | None = None) -> None:
    """CSV and XLSX download buttons for a table (attributed, formula-injection safe, person
    counts suppressed). The CSV comes as a zip of ``NAME.csv`` and its CSVW sidecar
    ``NAME.csv-metadata.json``; the workbook has an "about" sheet.

    Files are made only when a button is pressed (deferred ``data``), so a page rerun never
    pays for writing a workbook nobody asked for.
    """
    stem = slug(name)
    meta = export_info(frame, name, vintage=vintage, info=info, person_counts=person_counts,
                       derived=derived, units=units, titles=titles, source=source)
    left, right = st.columns(2)
    left.download_button("Download CSV (zip with metadata)",
                         lambda: csv_zip_bytes(frame, f"{stem}.csv", info=meta),
                         file_name=f"{stem}.zip", mime="application/zip", key=f"{key}_csv",
                         help="A plain CSV and its CSVW metadata (title, columns, units, "
                              "vintage, source, licence) side by side.")
    right.download_button(
        "Download XLSX", lambda: to_xlsx_bytes(frame, sheet=stem[:31], info=meta),
        file_name=f"{stem}.xlsx", key=f"{key}_xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def geojson_download(shapes, table: pd.DataFrame, name: str, *, vintage: str | None,
                     key: str, info: ExportInfo | None = None,
                     person_counts: tuple[str, ...] | list[str] = (),
                     derived: tuple[str, ...] | list[str] = ()) -> None:
    """A GeoJSON download of ``shapes`` (indexed by area code) with the columns of ``table``
    (one row per area, its ``code`` column) (provenance in its ``metadata`` member, person
    counts suppressed). The two are joined only when the button is pressed, not on every
    rerun of the page."""
    columns = ["geometry", *(c for c in table.columns if c != "code")]
    meta = export_info(pd.DataFrame(columns=columns), name, vintage=vintage, info=info,
                       person_counts=person_counts, derived=derived)
    st.download_button("Download GeoJSON",
                       lambda: to_geojson_bytes(shapes[["geometry"]].join(
                           table.set_index("code")), vintage=vintage, info=meta),
                       file_name=f"{slug(name)}.geojson", mime="application/geo+json",
                       key=key)


def _render_chart(chart: alt.Chart, name: str, fmt: str) -> bytes:
    """PNG or SVG of ``chart`` titled ``name``, made only when the download is pressed."""
    # wrapped: a long name would be cut off in the exported image. Altair refuses to embed
    # more than 5,000 rows by default; a region's scatter has more, and the image needs them.
    with alt.data_transformers.disable_max_rows():
        spec_json = chart.properties(title=alt.TitleParams(textwrap.wrap(name, 60) or [name])
                                     ).to_json()
    return _render_spec(spec_json, fmt)


@st.cache_data(show_spinner=False, max_entries=64)
def _render_spec(spec_json: str, fmt: str) -> bytes:
    import vl_convert as vlc

    if fmt == "png":
        return vlc.vegalite_to_png(spec_json, scale=2)
    return vlc.vegalite_to_svg(spec_json).encode("utf-8")


def _titled(chart: alt.Chart) -> alt.Chart:
    return chart.properties(usermeta={"embedOptions": {"actions": False}})


@dataclass(frozen=True)
class DrawnChart:
    """An Altair chart titled for drawing, with the Vega-Lite spec Streamlit draws for it
    (``None`` where this Streamlit has no such conversion; the chart is then drawn with
    ``st.altair_chart``)."""

    chart: alt.Chart
    spec: dict | None


# Specs by chart object: a chart that a cache shares between reruns and sessions (the
# inverse care law page's) is converted once, not by Altair's validated to_dict under a lock
# Streamlit holds for every session, plus Arrow for its tables, on every rerun (~9% of the
# server's time with 50 sessions); a chart built on each rerun is converted once, as before.
_DRAWN: IdentityMemo[DrawnChart] = IdentityMemo()


def _converted(chart: alt.Chart) -> DrawnChart:
    titled = _titled(chart)
    try:
        from streamlit.dataframe_util import convert_anything_to_arrow_bytes
        from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec
    except ImportError:  # a Streamlit without them: st.altair_chart converts every time
        return DrawnChart(titled, None)
    spec = _convert_altair_to_vega_lite_spec(titled)
    spec["datasets"] = {name: data if isinstance(data, bytes)
                        else convert_anything_to_arrow_bytes(data)
                        for name, data in spec.get("datasets", {}).items()}
    return DrawnChart(titled, spec)


def drawn_chart(chart: alt.Chart) -> DrawnChart:
    """``chart`` as :func:`chart_with_text` draws it, converted once per chart object
    (callers must not change a chart after drawing it)."""
    return _DRAWN.get(chart, None, lambda: _converted(chart))


def chart_with_text(chart: alt.Chart, *, reading: str, alt_text: str, data: pd.DataFrame,
                    name: str, key: str, vintage: str | None = None,
                    info: ExportInfo | None = None,
                    person_counts: tuple[str, ...] | list[str] = (),
                    derived: tuple[str, ...] | list[str] = (), units: dict | None = None,
                    titles: dict | None = None, source: str | None = None) -> None:
    """An Altair chart with its one-sentence reading, a text alternative and downloads
    (PNG, SVG, CSV, XLSX of the data behind it; person counts suppressed). The chart is
    converted once per object (:func:`drawn_chart`)."""
    drawn = drawn_chart(chart)
    titled = drawn.chart
    if drawn.spec is not None:
        st.vega_lite_chart(spec=drawn.spec, width="stretch")
    else:
        st.altair_chart(titled, width="stretch")
    st.markdown(f"**Reading:** {plain(reading)}")
    st.caption(f"Text alternative: {plain(alt_text)}")
    with st.expander("Downloads"):
        c1, c2 = st.columns(2)
        c1.download_button("Download PNG", lambda: _render_chart(titled, name, "png"),
                           file_name=f"{slug(name)}.png", mime="image/png", key=f"{key}_png")
        c2.download_button("Download SVG", lambda: _render_chart(titled, name, "svg"),
                           file_name=f"{slug(name)}.svg", mime="image/svg+xml",
                           key=f"{key}_svg")
        table_downloads(data, name, vintage=vintage, key=key, info=info,
                        person_counts=person_counts, derived=derived, units=units,
                        titles=titles, source=source)


def attribution_footer() -> None:
    """The OGL attribution every page that shows data carries."""
    st.divider()
    st.caption(f"{html.escape(ATTRIBUTION)} [Open Government Licence v3.0]({OGL_URL})")


def escape(text: object) -> str:
    """HTML-escaped text, for strings placed inside ``unsafe_allow_html`` markup."""
    return html.escape(str(text))


# Characters that open a Markdown construct inside a line (emphasis, code, links, images,
# HTML, tables, strikethrough, LaTeX, Streamlit's :colour[...] and :emoji: directives,
# autolinks such as http://… and a@b); "www." autolinks and block markers at the start of a
# line are handled separately. Plain punctuation (, . - ( ) ') is left alone so numbers and
# periods such as "2022-23" read as written.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~$:@!{}&])")
# only where a line start would open a block: "> ", "# ", "- ", "+ ", "1. ", "1) ", "---"
_LINE_START = re.compile(r"^(\s*)(>|[#+=-](?=\s|$|[#+=-]))|^(\s*\d+)([.)])(?=\s|$)")


def plain(text: object) -> str:
    """Text that Streamlit's Markdown (``st.markdown``, ``st.caption``, ``st.info`` …) shows
    exactly as written: characters that open a Markdown construct are backslash-escaped
    (CommonMark §2.4, backslash escapes), so a metadata string such as
    ``[click](http://evil)``, ``**bold**``, ``<b>``, ``:red[x]``, ``$x$`` or ``www.evil.com``
    stays text; line breaks become spaces."""
    one_line = re.sub(r"\s*[\r\n]+\s*", " ", str(text)).strip()
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", one_line)
    escaped = re.sub(r"(?i)\b(www)\.", r"\1\\.", escaped)
    return _LINE_START.sub(lambda m: (m.group(1) or m.group(3) or "") + "\\"
                           + (m.group(2) or m.group(4)), escaped)


def plain_caption(text: object) -> None:
    """A caption of metadata or user text, shown as plain text (never Markdown or HTML)."""
    st.caption(plain(text))


def delta_style(change: float, *, lower_is_better: bool = True) -> dict:
    """Colour and arrow of a metric's delta set explicitly (its text has a true minus sign)."""
    if abs(change) < 1e-12:
        return {"delta_color": "gray", "delta_arrow": "off"}
    good = (change < 0) == lower_is_better
    return {"delta_color": "green" if good else "red",
            "delta_arrow": "down" if change < 0 else "up"}


def _choose_study_area(country: str, level: str, code: str) -> None:
    """Button callback: make ``code`` (an area of ``level``) the study area, through the
    widget state the sidebar's picker (``dashboard.state.study_area_picker``) reads."""
    level_key, area_key = f"level_{country}", f"area_{country}_{level}"
    for key, value in (("country", country), (level_key, level), (area_key, code)):
        st.session_state[key] = value
        st.session_state[f"keep_{key}"] = value
    st.session_state["keep_area"] = code


def no_values_notice(title: str, area, values: pd.Series, *, key: str) -> None:
    """Say that an indicator has no values in the study area, name the areas where it has
    values, and offer each as the study area (a button)."""
    from dashboard.errors import areas_with_values, markdown_text, no_values_message

    offered = areas_with_values(values, area.country)
    st.warning(markdown_text(no_values_message(title, area.name, offered, area.country)))
    if offered.empty:
        return
    columns = st.columns(min(3, len(offered)))
    for i, row in enumerate(offered.itertuples()):
        columns[i % len(columns)].button(
            f"Show {plain(row.name)}", key=f"{key}_offer_{row.code}",
            on_click=_choose_study_area, args=(area.country, row.level, row.code),
            help=f"{row.with_values:,} of its {row.small_areas:,} small areas have a value.")


def short_title(meta) -> str:
    """An indicator's ``short_title`` (a metadata key) for labels that must stay short, such
    as a metric's, else its title."""
    extra = getattr(meta, "extra", None) or {}
    short = extra.get("short_title") if hasattr(extra, "get") else None
    return str(short).strip() if short and str(short).strip() else meta.title
