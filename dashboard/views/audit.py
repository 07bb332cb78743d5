"""Equity audit: a service's own records against need, standardised for age, by deprivation,
ethnic group, age, sex and site, and where in the area use is lower than expected.

The records stay in this browser session (in memory, never on disk or in a shared cache);
only the result is kept, in the session, for the briefing and the downloads.
"""

from __future__ import annotations

import streamlit as st

from analysis.audit import ActivityError, ColumnError, recognise_columns
from analysis.audit.charts import age_chart, rates_chart, ratio_chart
from analysis.audit.codes import EXCLUSION_REASONS
from analysis.audit.columns import ROLE_ALIASES, ROLE_TITLES
from analysis.audit.outputs import audit_tables, export_info
from analysis.audit.reading import SIMULATED_CAVEAT, sentences, verdict
from analysis.audit.run import (
    MAX_UPLOAD_BYTES,
    audit_activity,
    audit_folder,
    audit_sources,
    records_from_upload,
    resolve_audit_source,
    simulated_example,
)
from analysis.data import DataFileError, UnknownAreaError
from dashboard.audit_parts import (
    audit_map,
    briefing_with_audit,
    json_bytes,
    population_from_upload,
)
from dashboard.components import chart_with_text, plain, plain_caption, table_downloads

EXAMPLE_RECORDS = 200_000
area = st.session_state["study_area"]
st.title("Equity audit of a service's own records")
plain_caption(
    "Upload one row per referral, attendance, appointment or admission with the person's "
    "small area (LSOA, data zone or postcode), age, sex and ethnic category. Fairshare "
    "counts them against the population of the study area, allowing for age, and shows "
    "whether use follows need. The records stay in this browser session only.")

folder = audit_folder()
SOURCES = {"upload": "Upload a file", "example": "Try with simulated example records"}
if folder is not None:
    SOURCES["server"] = "A file on the server (large extracts, streamed)"
source = st.radio("Records", list(SOURCES), horizontal=True, key="audit_source",
                  format_func=SOURCES.get)
records = None
upload = None
if source == "upload":
    # the server refuses files over its own upload limit before the engine's cap applies
    limit_mb = min(MAX_UPLOAD_BYTES // 2**20, int(st.get_option("server.maxUploadSize")))
    upload = st.file_uploader(f"Records (CSV or Parquet, up to {limit_mb} MB; larger files: "
                              "`fairshare audit FILE`)",
                              type=["csv", "txt", "parquet"], key="audit_file")
    if upload is not None:
        try:
            records = records_from_upload(upload.name, upload.getvalue())
        except ActivityError as exc:
            st.error(plain(exc))
elif source == "server":
    names = audit_sources(folder)
    if not names:
        st.info("The audit folder of this deployment holds no CSV or Parquet files.")
    else:
        chosen = st.selectbox("File or folder of Parquet parts", names, key="audit_server")
        try:
            records = resolve_audit_source(folder, chosen)
        except ActivityError as exc:
            st.error(plain(exc))
else:
    st.info(plain(f"{EXAMPLE_RECORDS:,} simulated records for {area.name}. "
                  + SIMULATED_CAVEAT))

mapping: dict[str, str] = {}
if upload is not None and records is not None:
    with st.expander("Columns", expanded=False):
        try:
            found = recognise_columns(list(records.columns), origin=upload.name).roles
        except ColumnError:
            found = {}
        plain_caption("Columns are matched by name (any case). Choose others if the guess "
                      "is wrong.")
        options = ["(none)", *records.columns]
        cols = st.columns(3)
        for i, role in enumerate(ROLE_ALIASES):
            chosen = cols[i % 3].selectbox(ROLE_TITLES[role], options,
                                           index=options.index(found.get(role, "(none)")),
                                           key=f"audit_map_{role}")
            if chosen != "(none)":
                mapping[role] = chosen

with st.expander("Options"):
    service = st.text_input("Service name (for the wording)", key="audit_service",
                            value="the service")
    use_area = st.toggle(f"Study area: {area.name} (off: the smallest area holding 95% of "
                         "the records)", value=True, key="audit_use_area")
    population_file = st.file_uploader(
        "Your own population (optional): CSV of area_code, age_band, population", type=["csv"],
        key="audit_population")

ready = records is not None or source == "example"
if st.button("Run the audit", type="primary", disabled=not ready, key="audit_run"):
    bar = st.progress(0.0, text="Starting")
    try:
        population, population_source = population_from_upload(population_file)
        if source == "example":
            bar.progress(0.02, text="Simulating example records")
            records = simulated_example(EXAMPLE_RECORDS, area.code)
        st.session_state["audit_result"] = audit_activity(
            records, mapping=mapping or None, area_code=area.code if use_area else None,
            population=population, population_source=population_source,
            service=service.strip() or "the service",
            progress=lambda f, text: bar.progress(min(max(f, 0.0), 1.0), text=text))
    except (ActivityError, ColumnError, UnknownAreaError, DataFileError, ValueError) as exc:
        st.session_state.pop("audit_result", None)
        st.error(plain(exc))
    bar.empty()

result = st.session_state.get("audit_result")
if result is None:
    st.stop()
if result.simulated:
    st.warning(plain(SIMULATED_CAVEAT))
st.subheader(plain(f"Equity audit of {result.service}: {result.study.name}"))
st.markdown(f"**{plain(verdict(result))}**")
for sentence in sentences(result)[1:]:
    st.markdown(f"- {plain(sentence)}")
c1, c2, c3 = st.columns(3)
c1.metric("Records", f"{result.rows:,}")
c2.metric("Used", f"{result.events:,}")
c3.metric("Left out", f"{sum(result.excluded.values()):,}")
plain_caption(f"Study area: {result.study.describe()}. Population: "
              f"{result.denominator_source}. Deprivation: {result.deprivation_source}. "
              f"Records cover {result.years:.2f} years; rates are per 100,000 a year.")

tables = {t.name: t for t in audit_tables(result)}
tabs = st.tabs(["Deprivation", "Ethnic group", "Age and sex", "Sites", "Map",
                "Left out and data quality"])
vintage = f"records over {result.years:.2f} years; {result.denominator_source}"
with tabs[0]:
    for name, group, label in (("by_deprivation_quintile", "quintile", "Quintile"),
                               ("by_deprivation_decile", "decile", "Decile")):
        table = tables[name]
        chart_with_text(
            rates_chart(table.frame, group, "Age-standardised rate",
                        group_title=f"Deprivation {label.lower()} (1 = most deprived)"),
            reading=verdict(result),
            alt_text=f"Dots with 95% interval bars: records per 100,000 a year, standardised "
                     f"to the European Standard Population, by national deprivation "
                     f"{label.lower()}, most deprived first.",
            data=table.frame, name=f"{result.service} {table.title}", key=f"audit_{name}",
            info=export_info(result, table))
with tabs[1]:
    table = tables["by_ethnicity"]
    chart_with_text(
        ratio_chart(table.frame, "ethnic_group", "Ethnic group", group_title="Ethnic group"),
        reading="A dot left of the dashed line means fewer records than the group's "
                "population and its areas' age structure would predict.",
        alt_text="Diamonds with 95% interval bars: records as a percentage of those expected "
                 "for each Census ethnic group; the dashed line marks 100%.",
        data=table.frame, name=f"{result.service} {table.title}", key="audit_ethnicity",
        info=export_info(result, table))
    both = tables["by_deprivation_and_ethnicity"]
    st.dataframe(both.frame, hide_index=True)
    table_downloads(both.frame, both.title, key="audit_dep_eth", info=export_info(result, both))
with tabs[2]:
    table = tables["by_age"]
    chart_with_text(age_chart(table.frame), reading="Age-specific rates: the pattern the "
                    "standardisation allows for.", alt_text="Bars of records per 100,000 a "
                    "year in each five-year age band, with 95% intervals.",
                    data=table.frame, name=f"{result.service} {table.title}", key="audit_age",
                    info=export_info(result, table))
    st.dataframe(tables["by_sex"].frame, hide_index=True)
    if tables["by_sex"].frame.get("dsr") is None or tables["by_sex"].frame["dsr"].isna().all():
        plain_caption("Rates by sex need a population split by sex (Scotland's census has it; "
                      "England's mid-2020 estimates on LSOAs do not): records and shares only.")
with tabs[3]:
    splits = [t for name, t in tables.items() if name in ("by_site", "by_service")]
    if not splits:
        st.info("The records have no site or service column.")
    for table in splits:
        st.dataframe(table.frame, hide_index=True)
        table_downloads(table.frame, table.title, key=f"audit_{table.name}",
                        info=export_info(result, table))
with tabs[4]:
    audit_map(result)
with tabs[5]:
    rows = [{"reason": EXCLUSION_REASONS.get(k, k), "records": v}
            for k, v in result.excluded.items()]
    st.dataframe(rows or [{"reason": "none", "records": 0}], hide_index=True)
    st.json(result.quality, expanded=False)
st.download_button("Download the audit as JSON", lambda: json_bytes(result),
                   file_name="equity_audit.json", mime="application/json", key="audit_json")
briefing_with_audit(result)
