"""Add data: upload an indicator, describe it, see the validation report, preview it on the
map and use it (maps, inverse care law, allocation); or upload a service's site list, see
where each site was placed and use its access indicators (``dashboard.services``). Indicator
uploads are kept for this browser until discarded; services for the session. Every metadata
string is shown as plain text (``plain``), never as Markdown."""

from __future__ import annotations

import html
import os

import pandas as pd
import streamlit as st

from analysis.data import GEOGRAPHIES, INDICATOR_ID, KINDS, OGL, POLARITIES
from analysis.explore import choropleth_layer
from analysis.ingest import (
    DEFAULT_POLARITY,
    MAX_UPLOAD_BYTES,
    file_periods,
    install_indicator,
    read_upload,
)
from analysis.ingest.report import ESTIMATED_LABEL
from dashboard.components import deck_map, legend_html, plain, polygon_layer
from dashboard.services import service_tab
from dashboard.state import (
    discard_session_upload,
    keep_upload,
    session_registry,
    session_uploads,
    study_area_shapes,
)

SAVE_SWITCH = "FAIRSHARE_ALLOW_REGISTRY_WRITES"  # the deployment turns saving on with "1"
OTHER_PERIOD = "another period (type it)"
PRACTICE_CHOICES = {"auto": "attribute them to LSOAs 2021 by where patients live",
                    "keep": "keep them as practices (not mappable)"}
REQUIRED = {"meta_id": "Id", "meta_title": "Title", "meta_description": "Description",
            "meta_unit": "Unit", "meta_kind": "Kind", "meta_polarity": "Polarity",
            "meta_period": "Period", "meta_source": "Source", "meta_licence": "Licence"}


def _kind_changed() -> None:
    """Suggest the polarity of the chosen kind, unless the analyst picked one already."""
    if not st.session_state.get("meta_polarity_chosen"):
        st.session_state["meta_polarity"] = DEFAULT_POLARITY.get(st.session_state["meta_kind"])


def _polarity_chosen() -> None:
    st.session_state["meta_polarity_chosen"] = True


def _periods(upload) -> list[str]:
    """The periods the uploaded file lists, read once per file."""
    key = ("upload_periods", upload.file_id if hasattr(upload, "file_id") else upload.name)
    if st.session_state.get("upload_periods_key") != key:
        st.session_state["upload_periods"] = file_periods(upload.getvalue(), upload.name)
        st.session_state["upload_periods_key"] = key
    return st.session_state["upload_periods"]


area = st.session_state["study_area"]
st.title("Add data")
indicator_tab, service_tab_ = st.tabs(["Indicator", "Service (a list of sites)"])
# the service tab is drawn first: a stop in the indicator tab must not hide it
with service_tab_:
    service_tab(area)
with indicator_tab:
    st.write(
        "Upload an indicator as CSV or Excel (`area_code, value`, optionally numerator, "
        "denominator and confidence limits) or a Fingertips export as downloaded. Codes are "
        "recognised automatically: LSOA 2011 or 2021, data zones, wards, local authorities, "
        "sub-ICBs, ICBs or GP practices; LSOA 2011 values are converted to 2021. Uploads you use "
        "are kept for this browser (on this server, not in the shared data) until you discard "
        "them below. See `docs/adding-indicators.md` for a worked example.")

    upload = st.file_uploader(f"Indicator file * (up to {MAX_UPLOAD_BYTES // 2**20} MB)",
                              type=["csv", "txt", "tsv", "xlsx"], key="indicator_file")
    st.subheader("Describe it")
    st.caption("Fields marked * are required.")
    c1, c2 = st.columns(2)
    indicator_id = c1.text_input("Id * (a-z, 0-9, _ or -)", key="meta_id",
                                 placeholder="e.g. smoking_prevalence_2023")
    title = c2.text_input("Title *", key="meta_title")
    description = st.text_area("Plain-English description *", key="meta_description")
    c3, c4, c5 = st.columns(3)
    unit = c3.text_input("Unit *", key="meta_unit", placeholder="e.g. % of adults")
    kind = c4.selectbox("Kind *", KINDS, key="meta_kind", index=None, placeholder="Choose",
                        on_change=_kind_changed)
    polarity = c5.selectbox("Polarity *", POLARITIES, key="meta_polarity", index=None,
                            placeholder="Choose", on_change=_polarity_chosen,
                            format_func=lambda p: p.replace("_", " "),
                            help="Suggested from the kind: need → higher is worse, provision → "
                                 "higher is better, context → neutral; choose for an outcome.")
    c6, c7, c8 = st.columns(3)
    periods = _periods(upload) if upload is not None else []
    if periods:
        picked = c6.selectbox("Period * (from the file)", [*reversed(periods), OTHER_PERIOD],
                              key="meta_period_pick")
        period = (c6.text_input("Period *", key="meta_period") if picked == OTHER_PERIOD
                  else picked)
    else:
        period = c6.text_input("Period *", key="meta_period", placeholder="e.g. 2023")
    geography = c7.selectbox("Geography *", ["auto", *[g for g in GEOGRAPHIES if g != "auto"]],
                             key="meta_geography")
    licence = c8.text_input("Licence *", value=OGL, key="meta_licence")
    source = st.text_input("Source *", key="meta_source",
                           placeholder="Publisher and dataset, with a link if you have one")
    practices = st.radio("If the codes are GP practices", list(PRACTICE_CHOICES),
                         format_func=PRACTICE_CHOICES.get, key="meta_practices",
                         horizontal=True)
    checked = st.button("Check the file", type="primary", key="check_upload")

    if checked:
        values = {"meta_id": indicator_id, "meta_title": title, "meta_description": description,
                  "meta_unit": unit, "meta_kind": kind, "meta_polarity": polarity,
                  "meta_period": period, "meta_source": source, "meta_licence": licence}
        missing = [label for key, label in REQUIRED.items() if not str(values[key] or "").strip()]
        if upload is None:
            st.error("Choose a file to upload first.")
            st.stop()
        if missing:
            st.error("Fill in the required fields: " + ", ".join(missing) + ".")
            st.stop()
        meta = {"id": indicator_id.strip(), "title": title, "description": description,
                "unit": unit, "kind": kind, "polarity": polarity, "period": period,
                "geography": geography, "licence": licence, "source": source,
                "map_practices_to": practices}
        data = upload.getvalue()
        bar = st.progress(0.0, text=f"Checking {upload.name} ({len(data) / 1e6:,.1f} MB)…")
        indicator, report = read_upload(
            data, upload.name, meta, max_bytes=MAX_UPLOAD_BYTES,
            progress=lambda fraction, stage: bar.progress(min(fraction, 1.0), text=stage))
        bar.empty()
        st.session_state["upload_report"] = report
        st.session_state["upload_candidate"] = indicator

    report = st.session_state.get("upload_report")
    candidate = st.session_state.get("upload_candidate")
    if report is not None:
        st.subheader("Validation report")
        issues = pd.DataFrame([issue.to_dict() for issue in report.issues])
        if report.ok:
            st.success(plain(f"No errors: {report.rows:,} rows, {report.areas:,} areas "
                             f"({report.stored_geography or report.geography})."))
        else:
            st.error(f"{len(report.errors)} error(s): fix the file or the description and check "
                     "again.")
        if report.attribution == "estimated":
            st.warning(plain(f"Estimated attribution: {ESTIMATED_LABEL}. Add NHS Digital's "
                             "registrations file (fairshare data add-registrations) for the "
                             "exact one."))
        elif report.attribution == "registered":
            st.info("Practice values attributed to LSOAs by registered patients (NHS Digital).")
        if not issues.empty:
            # st.dataframe shows text as text, never as HTML or Markdown
            st.dataframe(issues[["severity", "row", "column", "message"]], hide_index=True)

    if candidate is not None and report is not None and report.ok:
        meta = candidate.meta
        uploads = session_uploads()
        st.subheader("Preview")
        st.markdown(f"**{plain(meta.title)}**")
        st.caption(plain(meta.description))
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
                st.caption(plain(layer.alt_text))
            else:
                st.info(plain(f"None of the uploaded areas is in {area.name}; choose another "
                              "study area in the sidebar to preview it."))
        else:
            st.info(plain(f"This indicator is on {meta.geography} areas; the map shows "
                          f"{small.upper()} small areas, so it can't be previewed there."))
        if st.button("Use it (kept for this browser)", key="use_upload", type="primary"):
            if not INDICATOR_ID.match(meta.id):
                st.error("The id must be 1–64 characters of a-z, 0-9, _ or -.")
            elif meta.id in session_registry().ids() and meta.id not in uploads:
                st.error(plain(f"The id {meta.id} is taken by a shipped indicator."))
            else:
                problem = keep_upload(candidate)
                st.success(plain(f"{meta.title} is now in the indicator lists of the Map, Inverse "
                                 "care law and Allocation pages."))
                if problem:
                    st.warning(plain(f"It could not be kept for this browser ({problem}): it "
                                     "will be gone after a page reload."))
        if os.environ.get(SAVE_SWITCH) == "1" and st.button("Save to the shared registry",
                                                            key="save_upload"):
            folder, replaced = install_indicator(candidate)
            st.success(plain(f"Saved to {folder}" + (" (replaced)" if replaced else "")))

    for problem in st.session_state.get("upload_store_problems", []):
        st.warning(plain(f"A kept upload could not be restored: {problem}"))
    if session_uploads():
        st.subheader("Your uploads")
        st.caption("Kept for this browser for 30 days after last use, until you discard them.")
        st.dataframe(pd.DataFrame([{"id": i.meta.id, "title": i.meta.title, "kind": i.meta.kind,
                                    "geography": i.meta.geography, "areas": len(i.data)}
                                   for i in session_uploads().values()]), hide_index=True)
        left, right = st.columns([3, 1])
        gone = left.selectbox("Upload to discard", list(session_uploads()), key="discard_pick")
        if right.button("Discard", key="discard_upload"):
            discard_session_upload(gone)
            st.rerun()
