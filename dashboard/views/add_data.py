"""Add data: upload an indicator, describe it, see the validation report, preview it on the
map and use it in this session (maps, inverse care law, allocation)."""

from __future__ import annotations

import html
import os

import pandas as pd
import streamlit as st

from analysis.data import GEOGRAPHIES, INDICATOR_ID, KINDS, OGL, POLARITIES
from analysis.explore import choropleth_layer
from analysis.ingest import MAX_UPLOAD_BYTES, install_indicator, read_upload
from dashboard.components import deck_map, legend_html, polygon_layer
from dashboard.state import session_registry, session_uploads, study_area_shapes

SAVE_SWITCH = "FAIRSHARE_ALLOW_REGISTRY_WRITES"  # the deployment turns saving on with "1"

area = st.session_state["study_area"]
st.title("Add data")
st.write(
    "Upload an indicator as CSV or Excel (`area_code, value`, optionally numerator, "
    "denominator and confidence limits) or a Fingertips export as downloaded. Codes are "
    "recognised automatically: LSOA 2011 or 2021, data zones, wards, local authorities, "
    "sub-ICBs, ICBs or GP practices; LSOA 2011 values are converted to 2021. Your upload stays "
    "in this browser session only. See `docs/adding-indicators.md` for a worked example.")

upload = st.file_uploader("Indicator file", type=["csv", "txt", "tsv", "xlsx"],
                          key="indicator_file")
with st.form("indicator_meta"):
    st.subheader("Describe it")
    c1, c2 = st.columns(2)
    indicator_id = c1.text_input("Id (a-z, 0-9, _ or -)", key="meta_id",
                                 placeholder="e.g. smoking_prevalence_2023")
    title = c2.text_input("Title", key="meta_title")
    description = st.text_area("Plain-English description", key="meta_description")
    c3, c4, c5 = st.columns(3)
    unit = c3.text_input("Unit", key="meta_unit", placeholder="e.g. % of adults")
    kind = c4.selectbox("Kind", KINDS, key="meta_kind")
    polarity = c5.selectbox("Polarity", POLARITIES, key="meta_polarity",
                            format_func=lambda p: p.replace("_", " "))
    c6, c7, c8 = st.columns(3)
    period = c6.text_input("Period", key="meta_period", placeholder="e.g. 2023")
    geography = c7.selectbox("Geography", ["auto", *[g for g in GEOGRAPHIES if g != "auto"]],
                             key="meta_geography")
    licence = c8.text_input("Licence", value=OGL, key="meta_licence")
    source = st.text_input("Source", key="meta_source",
                           placeholder="Publisher and dataset, with a link if you have one")
    checked = st.form_submit_button("Check the file")

if checked:
    if upload is None:
        st.error("Choose a file to upload first.")
        st.stop()
    meta = {"id": indicator_id.strip(), "title": title, "description": description,
            "unit": unit, "kind": kind, "polarity": polarity, "period": period,
            "geography": geography, "licence": licence, "source": source}
    indicator, report = read_upload(upload.getvalue(), upload.name, meta,
                                    max_bytes=MAX_UPLOAD_BYTES)
    st.session_state["upload_report"] = report
    st.session_state["upload_candidate"] = indicator

report = st.session_state.get("upload_report")
candidate = st.session_state.get("upload_candidate")
if report is not None:
    st.subheader("Validation report")
    issues = pd.DataFrame([issue.to_dict() for issue in report.issues])
    if report.ok:
        st.success(f"No errors: {report.rows:,} rows, {report.areas:,} areas "
                   f"({html.escape(str(report.stored_geography or report.geography))}).")
    else:
        st.error(f"{len(report.errors)} error(s): fix the file or the description and check "
                 "again.")
    if not issues.empty:
        # st.dataframe shows text as text, never as HTML
        st.dataframe(issues[["severity", "row", "column", "message"]], hide_index=True)

if candidate is not None and report is not None and report.ok:
    meta = candidate.meta
    uploads = session_uploads()
    st.subheader("Preview")
    small = {"england": "lsoa21", "scotland": "dz11"}[area.country]
    if meta.geography == small:
        shapes = study_area_shapes(area.country, area.code)
        values = candidate.values.reindex(shapes.index)
        if values.notna().any():
            layer = choropleth_layer(shapes, values, title=meta.title, unit=meta.unit,
                                     higher_is_worse=meta.polarity != "higher_is_better",
                                     decimals=meta.decimals)
            deck_map([polygon_layer(layer)], layer.bounds,
                     f"<b>{{n}}</b> ({{c}})<br/>{html.escape(meta.title)}: {{v}}",
                     key="upload_map")
            st.markdown(legend_html(meta.title, layer.legend), unsafe_allow_html=True)
            st.caption(layer.alt_text)
        else:
            st.info(f"None of the uploaded areas is in {html.escape(area.name)}; choose another "
                    "study area in the sidebar to preview it.")
    else:
        st.info(f"This indicator is on {html.escape(meta.geography)} areas; the map shows "
                f"{small.upper()} small areas, so it can't be previewed there.")
    if st.button("Use in this session", key="use_upload", type="primary"):
        if not INDICATOR_ID.match(meta.id):
            st.error("The id must be 1–64 characters of a-z, 0-9, _ or -.")
        elif meta.id in session_registry().ids() and meta.id not in uploads:
            st.error(f"The id {html.escape(meta.id)} is taken by a shipped indicator.")
        else:
            uploads[meta.id] = candidate
            st.session_state.pop("session_registry", None)  # rebuilt with the new upload
            st.success(f"{html.escape(meta.title)} is now in the indicator lists of the Map, "
                       "Inverse care law and Allocation pages for this session.")
    if os.environ.get(SAVE_SWITCH) == "1" and st.button("Save to the shared registry",
                                                        key="save_upload"):
        folder, replaced = install_indicator(candidate)
        st.success(f"Saved to {html.escape(str(folder))}" + (" (replaced)" if replaced else ""))

if session_uploads():
    st.subheader("Your uploads in this session")
    st.dataframe(pd.DataFrame([{"id": i.meta.id, "title": i.meta.title, "kind": i.meta.kind,
                                "geography": i.meta.geography, "areas": len(i.data)}
                               for i in session_uploads().values()]), hide_index=True)
