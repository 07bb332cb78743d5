"""Learning log: what people and practitioners say about the study area, and the decisions
taken and reviewed because of it, kept beside the numbers. Every piece of user text is shown
as plain text (``st.text``, tables, or Markdown with every special character escaped)."""

from __future__ import annotations

import re
from datetime import date

import streamlit as st

from analysis.learning import (
    KINDS,
    RULE,
    LearningLog,
    log_exists,
    notes_frame,
)
from dashboard.notes import ERRORS, author_field, note_editor, notes_downloads, show_error

_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character


def md(text: object) -> str:
    """Text safe inside Streamlit Markdown (``st.error``, ``st.caption`` …): one line, every
    punctuation character backslash-escaped (CommonMark §2.4), so no link, emphasis, HTML
    or ``:colour[...]`` directive can form."""
    return _SPECIAL.sub(r"\\\1", re.sub(r"\s+", " ", str(text)).strip())


area = st.session_state["study_area"]
code = area.url_code
log = LearningLog()
st.title(f"Learning log: {area.name}")
st.caption("Qualitative evidence: what people and practitioners told us, survey findings, "
           "case studies, and decisions with their learning reviews. Notes for this area "
           "and every area it lies in are shown.")
with st.expander("The personal-data rule", expanded=False):
    st.markdown(md(RULE))
    st.markdown(md("A note holding an NHS number, a date of birth, a phone number, an e-mail "
                   "address or a full postcode is refused, with what was found and where. "
                   "A likely name (\"Mrs Smith\") is warned about."))

add_tab, list_tab, reviews_tab = st.tabs(["Add a note", "Notes", "Reviews due"])

with add_tab:
    author = author_field("learning_author")
    with st.form("learning_add", clear_on_submit=False):
        kind = st.selectbox("Kind", list(KINDS), format_func=KINDS.get, key="learning_kind")
        body = st.text_area("What was said, seen or decided", max_chars=10_000, height=160,
                            key="learning_text")
        source = st.text_input("Source: the event, forum, survey or organisation (not a "
                               "person's name)", max_chars=300, key="learning_source")
        left, right = st.columns(2)
        when = left.date_input("Date", value=date.today(), key="learning_date")
        review = right.date_input("Review date (decisions)", value=None,
                                  key="learning_review")
        tags = left.text_input("Tags, separated by commas", key="learning_tags")
        link = right.text_input("Link (http or https)", key="learning_link")
        indicator = left.text_input("Indicator id (optional)", key="learning_indicator")
        scenario = right.text_input("Scenario (optional)", key="learning_scenario")
        submitted = st.form_submit_button("Save note", disabled=author is None)
    if submitted and author:
        try:
            saved = log.add(area=code, kind=kind, text=body, source=source, author=author,
                            date=when, tags=tags, link=link or None,
                            indicator=indicator or None, scenario=scenario or None,
                            review_date=review if kind == "decision" else None)
        except ERRORS as exc:
            show_error(exc)
        else:
            st.success(md(f"Saved note #{saved.note.id} for {saved.note.area_name}."))
            for warning in saved.warnings:
                st.warning(md(f"{warning}: check it is not a person's name, and edit the "
                              "note if it is."))

with list_tab:
    left, mid, right = st.columns([2, 2, 1])
    kinds = left.multiselect("Kinds", list(KINDS), format_func=KINDS.get,
                             key="learning_filter_kinds")
    query = mid.text_input("Search the notes", key="learning_query")
    parents = right.checkbox("Include the areas it lies in", value=True,
                             key="learning_parents")
    since = left.date_input("From", value=None, key="learning_since")
    until = mid.date_input("To", value=None, key="learning_until")
    removed = right.checkbox("Show removed notes", value=False, key="learning_removed")
    filters = dict(area=code, include_parents=parents, kind=kinds or None, since=since,
                   until=until, include_removed=removed)
    notes = []
    try:
        if log_exists():  # a log not made yet has no notes: reading it creates nothing
            notes = (log.search(query, **filters) if query.strip()
                     else log.list(**filters))
    except ERRORS as exc:
        show_error(exc)
    st.caption(f"{len(notes):,} note(s)")
    if notes:
        frame = notes_frame(notes)
        st.dataframe(frame[["id", "event_date", "kind_label", "area_name", "source", "text",
                            "tags", "author", "review_due", "version", "removed_at"]],
                     hide_index=True, key="learning_table")
        notes_downloads(notes, code)
        for note in notes[:30]:
            label = f"#{note.id} · {note.event_date} · {note.kind_label} · {note.area_name}"
            with st.expander(md(label)):
                st.text(note.text)
                st.text(f"Source: {note.source}\nAuthor: {note.author} (version "
                        f"{note.version})" + (f"\nTags: {' '.join(note.tags)}" if note.tags
                                              else "")
                        + (f"\nLink: {note.link}" if note.link else "")
                        + (f"\nReview due: {note.review_due}" if note.review_due else "")
                        + (f"\nRemoved {note.removed_at:%Y-%m-%d} by {note.removed_by}"
                           f" ({note.removed_reason or 'no reason given'})"
                           if note.removed else ""))
        note_editor(log, notes, author)

with reviews_tab:
    due = []
    try:
        if log_exists():
            due = log.reviews_due(area=code, within_days=30)
    except ERRORS as exc:
        show_error(exc)
    st.caption(f"{len(due)} review(s) due within 30 days")
    for item in due:
        with st.expander(md(f"Due {item.due}: decision #{item.note_id} "
                            f"({item.note.area_name}, {item.note.event_date})")):
            st.text(item.note.text)
            if author:
                with st.form(f"review_{item.id}"):
                    outcome = st.text_area("What happened", max_chars=10_000)
                    learned = st.text_area("What we learned", max_chars=10_000)
                    if st.form_submit_button("Record the review"):
                        try:
                            log.record_review(item.note_id, outcome=outcome,
                                              learned=learned, author=author)
                        except ERRORS as exc:
                            show_error(exc)
                        else:
                            st.rerun()
