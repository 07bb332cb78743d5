"""Area profile: a spine chart of the area's indicators against its ICB (or council) and the
country, with significance against the country by the 95% confidence intervals, in the style
of OHID's Fingertips profiles; below it the same figures as a table, and the learning log's
notes for the area and every area it lies in. The profiled area is in the URL (``?profile=``
beside the study area's ``?area=``)."""

from __future__ import annotations

import streamlit as st

from analysis.data import DataFileError, IndicatorError, UnknownAreaError, resolve_area
from analysis.explore import profile_table
from analysis.explore.spine import NOT_COMPARED, spine_chart, spine_display, spine_download
from dashboard.components import chart_with_text, escape, no_values_notice, plain, table_downloads
from dashboard.errors import markdown_text, page_error_message
from dashboard.notes import area_notes_section
from dashboard.state import profile_of, session_registry, session_uploads, shared_registry

area = st.session_state["study_area"]
clicked = st.session_state.get("profile_area")
from_url = st.query_params.get("profile")
if not clicked and from_url and from_url != area.url_code:
    # a shared link: open the profile it names, if the code is a real area
    try:
        clicked = resolve_area(from_url).code
        st.session_state["profile_area"] = clicked
    except UnknownAreaError as exc:
        st.warning(f"The link's profile area is not known: {plain(exc)}")
choices = [area.url_code] + ([clicked] if clicked and clicked != area.url_code else [])
names = {code: resolve_area(code).name for code in choices}
new_click = clicked and st.session_state.get("profile_opened") != clicked
if new_click or st.session_state.get("profile_choice") not in choices:
    st.session_state["profile_choice"] = choices[-1]  # a new click opens its profile
    st.session_state["profile_opened"] = clicked
code = st.radio("Profile of", choices, horizontal=True,
                format_func=lambda c: f"{names[c]} ({c})", key="profile_choice")
if code == area.url_code:
    st.query_params.pop("profile", None)
else:
    st.query_params["profile"] = code
st.title(f"Area profile: {names[code]}")


def spine_of(area_code: str):
    """The profile, with this session's uploads when there are any (never cached across
    sessions), else the shared cached one."""
    if session_uploads():
        return profile_table(area_code, session_registry())
    return profile_of(area_code)


try:
    table = spine_of(code)
except (DataFileError, IndicatorError) as exc:
    # one damaged indicator file stops the whole profile; the notes below still work
    st.error(markdown_text(page_error_message(exc, area=names[code], page="Area profile")))
    area_notes_section(code, names[code])
    st.stop()
if table.empty:
    st.warning("No indicators can be compared for this area yet.")
    area_notes_section(code, names[code])
    st.stop()

parent = table["parent_name"].iloc[0]
national = table["national_name"].iloc[0]
empty = table[table["area"].isna()]
registry = session_registry() if session_uploads() else shared_registry()
for row in empty.head(3).itertuples():
    no_values_notice(row.title, resolve_area(code), registry.get(row.id).values,
                     key=f"profile_{row.id}")
if len(empty) > 3:
    st.caption(plain("Also without a value here: " + ", ".join(empty["title"].iloc[3:]) + "."))

counted = table["significance"].value_counts()
compared = int(len(table) - counted.get(NOT_COMPARED, 0))
st.write(
    f"Each row is an indicator. The light bar runs from the worst to the best of the "
    f"{table['areas_compared'].max():,} areas of the same kind in {escape(national)}, the "
    f"darker band is the middle half of them and the vertical line is the {escape(national)} "
    "value. Better is always to the right (for indicators that are neither better nor worse "
    "when higher, higher is to the right). The marker is this area: its shape and colour say "
    f"how it compares with {escape(national)} — ▶ better (blue), ◀ worse (orange), ● similar "
    "(white), grey ▶/◀ higher/lower where higher is neither better nor worse, □ not compared"
    + (f"; the hollow ◇ is {escape(parent)}" if parent else "") + ".")
st.caption(plain(
    f"Compared with {national} as Fingertips does (PHE Technical Guide: Assessing "
    f"significant difference): the area differs when its 95% confidence interval excludes the "
    f"{national} value. Intervals: Wilson score for percentages, Byar's (exact Poisson below "
    "10 events) for rates, from the counts of the small areas in the area. Indicators "
    "published without counts have no interval and are not compared."))

worse = int(counted.get("worse", 0))
better = int(counted.get("better", 0))
reading = (f"{names[code]} is significantly worse than {national} on {worse} and better on "
           f"{better} of the {compared} indicators that can be compared; "
           f"{len(table) - compared} have no confidence interval and are not compared.")
display = spine_display(table)
labels = {"Parent": parent or "Parent"}
if labels["Parent"] in (national, names[code]):
    labels["Parent"] = f"{labels['Parent']} (parent)"
display = display.rename(columns=labels)
download = spine_download(table).rename(columns={
    "title": "Indicator", "period": "Period", "unit": "Unit", "area": names[code],
    "lower": "Lower 95% CI", "upper": "Upper 95% CI", "ci_method": "CI method",
    "parent": labels["Parent"], "national": f"{national} value", "worst": "Worst/lowest",
    "level_q25": "25th percentile", "level_median": "Median", "level_q75": "75th percentile",
    "best": "Best/highest", "areas_compared": "Areas of the same kind",
    "significance": f"Compared with {national}", "reason": "Why not compared"})

chart_column, text_column = st.columns([3, 2])
with chart_column:
    chart_with_text(spine_chart(table), reading=reading,
                    alt_text="Spine chart of every indicator; the same figures are in the "
                             "table beside it.",
                    data=download, name=f"Profile {names[code]}", key="profile_chart")
with text_column:
    st.caption("Text alternative: the chart's figures")
    st.dataframe(display[["Indicator", "Area value (95% CI)", national,
                          f"Compared with {national}"]], hide_index=True)
st.subheader("All figures")
st.dataframe(display, hide_index=True)
table_downloads(download, f"Profile {names[code]} table", key="profile_table")
area_notes_section(code, names[code])
