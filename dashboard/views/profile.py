"""Area profile: a spine chart of the area's indicators against its ICB (or council) and the
country, in the style of OHID's Fingertips profiles; below it, the learning log's notes for
the area and every area it lies in."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from analysis.data import DataFileError, IndicatorError, resolve_area
from dashboard.components import chart_with_text, escape, no_values_notice, plain, table_downloads
from dashboard.errors import markdown_text, page_error_message
from dashboard.notes import area_notes_section
from dashboard.state import profile_of, shared_registry

area = st.session_state["study_area"]
clicked = st.session_state.get("profile_area")
choices = [area.url_code] + ([clicked] if clicked and clicked != area.url_code else [])
names = {code: resolve_area(code).name for code in choices}
code = st.radio("Profile of", choices, index=len(choices) - 1, horizontal=True,
                format_func=lambda c: f"{names[c]} ({c})", key="profile_choice")
st.title(f"Area profile: {names[code]}")
try:
    table = profile_of(code)
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
for row in empty.head(3).itertuples():
    no_values_notice(row.title, resolve_area(code), shared_registry().get(row.id).values,
                     key=f"profile_{row.id}")
if len(empty) > 3:
    st.caption(plain("Also without a value here: " + ", ".join(empty["title"].iloc[3:]) + "."))
st.write(
    f"Each row is an indicator. The grey bar spans the middle half of all "
    f"{table['areas_compared'].iloc[0]:,} areas of the same kind in {escape(national)}, the "
    f"thin line the full range, centred on the {escape(national)} value (the vertical line). "
    "Better is always to the right. ◆ is this area"
    + (f", ○ is {escape(parent)}" if parent else "") + ".")

plot = table.assign(label=table["title"])
base = alt.Chart(plot).encode(y=alt.Y("label:N", sort=None, title=None,
                                      axis=alt.Axis(labelLimit=320)))
scale = alt.Scale(domain=[-1.05, 1.05])
axis = alt.Axis(title="worse ← compared with national → better", labels=False, ticks=False)
spine = (
    base.mark_rule(color="#9a9a9a").encode(
        x=alt.X("pos_level_min:Q", scale=scale, axis=axis), x2="pos_level_max:Q")
    + base.mark_bar(color="#c8c8c8", height=12).encode(x="pos_level_q25:Q", x2="pos_level_q75:Q")
    + alt.Chart(pd.DataFrame({"x": [0]})).mark_rule(color="black").encode(x="x:Q")
    + base.mark_point(shape="circle", size=70, color="#3b4994", filled=False).encode(
        x="pos_parent:Q")
    + base.mark_point(shape="diamond", size=110, color="#be3c8f", filled=True).encode(
        x="pos_area:Q",
        tooltip=[alt.Tooltip("title:N", title="Indicator"),
                 alt.Tooltip("area:Q", title=names[code], format=",.2f"),
                 alt.Tooltip("parent:Q", title=parent or "parent", format=",.2f"),
                 alt.Tooltip("national:Q", title=national, format=",.2f"),
                 alt.Tooltip("comparison:N", title="Compared with national")])
).properties(height=28 * len(plot) + 40)

worse = table[table["comparison"].str.contains("worse")]["title"].tolist()
better = table[table["comparison"].str.contains("better")]["title"].tolist()
reading = (f"{names[code]} is worse than {national} on {len(worse)} of {len(table)} "
           f"indicators and better on {len(better)}.")
# column labels must differ: at country level the area is the nation itself
labels = {"area": names[code], "parent": parent or "parent", "national": national}
if labels["national"] in (labels["area"], labels["parent"]):
    labels["national"] = f"{national} (national)"
if labels["parent"] == labels["area"]:
    labels["parent"] = f"{parent} (parent)"
display = table[["title", "unit", "area", "parent", "national", "level_min", "level_max",
                 "comparison"]].rename(columns=labels)
chart_with_text(spine, reading=reading,
                alt_text="Spine chart; the same figures are in the table below.",
                data=display, name=f"Profile {names[code]}", key="profile_chart")
st.dataframe(display, hide_index=True)
table_downloads(display, f"Profile {names[code]} table", key="profile_table")
area_notes_section(code, names[code])
