"""Pieces of the Equity audit page: the observed-against-expected map, reading a user's own
population file (in memory, through a private temporary file removed at once) and the JSON
download."""

from __future__ import annotations

import html
import json
import os
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import streamlit as st

from analysis.audit.reading import to_json
from analysis.explore import funnel_layer
from dashboard.components import deck_map, legend_html, polygon_layer, table_downloads
from dashboard.state import study_area_shapes


def population_from_upload(upload) -> tuple[pd.DataFrame | None, str | None]:
    """A user's denominator from an uploaded CSV, checked by the same reader as
    ``fairshare audit --population`` (errors name the row and column)."""
    if upload is None:
        return None, None
    from analysis.data.populations import read_population_file

    handle, name = tempfile.mkstemp(prefix="fairshare-population-", suffix=".csv")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(upload.getvalue())
        table = read_population_file(Path(name))
    finally:
        Path(name).unlink(missing_ok=True)
    return table, f"the population in {upload.name}"


def audit_map(result) -> None:
    """Small areas coloured by where their records fall against the funnel limits."""
    areas = result.areas.set_index("area_code")
    if areas.empty:
        st.info("No small area has an expected count to compare with.")
        return
    study = SimpleNamespace(country=result.study.country,
                            code=None if result.study.level == "country" else result.study.code)
    shapes = study_area_shapes(study.country, study.code)
    layer = funnel_layer(shapes, areas, title="Records against expected")
    tooltip = (f"<b>{{n}}</b> ({{c}})<br/>{html.escape('Records')}: {{v}}<br/>Expected: {{e}}"
               if layer.detailed else f"<b>{layer.code_field}</b><br/>Records: {{v}}")
    deck_map([polygon_layer(layer)], layer.bounds, tooltip, key="audit_map", area=study)
    st.markdown(legend_html(layer.title, layer.legend), unsafe_allow_html=True)
    st.caption(layer.alt_text + " Expected counts apply the study area's own age-specific "
               "rates to each small area's population.")
    table = next(t for t in _tables(result) if t.name == "small_areas")
    with st.expander("Data behind the map"):
        st.dataframe(table.frame, hide_index=True)
        from analysis.audit.outputs import export_info

        table_downloads(table.frame, table.title, key="audit_areas",
                        info=export_info(result, table))


def _tables(result):
    from analysis.audit.outputs import audit_tables

    return audit_tables(result)


def json_bytes(result) -> bytes:
    """The audit's JSON summary (the same as ``fairshare audit --json``)."""
    return (json.dumps(to_json(result), indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def briefing_with_audit(result) -> None:
    """Downloads of the study area's equity briefing with this audit as a section (made when
    pressed, for this session only: the audit is never put in a shared cache)."""
    from analysis.briefing import briefing_bytes

    if result.study.level == "country":
        st.caption("Briefings are written for a region, ICB, council or smaller area: set a "
                   "smaller study area to attach this audit to one.")
        return
    st.subheader("Briefing with this audit")
    mimes = {"pdf": "application/pdf", "html": "text/html",
             "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
    columns = st.columns(len(mimes))
    for column, (fmt, mime) in zip(columns, mimes.items(), strict=True):
        column.download_button(
            f"{fmt.upper()}", lambda fmt=fmt: briefing_bytes(result.study.code, fmt,
                                                             audit=result),
            file_name=f"fairshare-briefing-{result.study.code}-audit.{fmt}", mime=mime,
            key=f"audit_briefing_{fmt}")
