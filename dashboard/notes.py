"""The learning log on the dashboard's pages: notes of an area on its profile, a map layer of
the areas that have notes, the notes and decisions of an allocation scenario, and editing,
history and downloads on the Learning log page.

Everything a person wrote (text, source, author, reasons, tags) is shown as plain text: in
table cells, through ``st.text``, or Markdown-escaped by :func:`dashboard.components.plain`;
on the map it is not shown at all (tooltips carry area names and counts only). When the log
cannot be opened (an unwritable state folder, a team database that is down) the pages say
so and carry on; a log that does not exist yet simply has no notes.
"""

from __future__ import annotations

import html
from datetime import date, timedelta

import pandas as pd
import pydeck as pdk
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from analysis.explore import Legend, build_layer
from analysis.learning import (
    KINDS,
    LearningLog,
    Note,
    NoteInputError,
    NoteNotFoundError,
    PersonalDataError,
    StorageError,
    area_notes,
    noted_area_geometry,
    noted_areas,
    notes_export_info,
    notes_frame,
    notes_json,
    scenario_notes,
)
from dashboard.components import deck_coordinates, plain, table_downloads

ERRORS = (NoteInputError, NoteNotFoundError, PersonalDataError, StorageError, SQLAlchemyError,
          OSError)
LEARNING_PAGE = "views/learning.py"
REVIEW_AFTER_DAYS = 182
NOTE_COLUMNS = {"event_date": "Date", "kind_label": "Kind", "text": "Note", "source": "Source",
                "author": "Author", "area": "Area it is attached to", "review_due": "Review due",
                "id": "Note id"}


def show_error(exc: Exception) -> None:
    """A refused note as an error saying why; an unreachable log calmly, as information."""
    if isinstance(exc, StorageError | SQLAlchemyError | OSError):
        st.info("The learning log can't be opened just now, so notes can't be shown or "
                f"saved here; the rest of the page works. ({plain(exc)}) Check that the "
                "state folder (FAIRSHARE_STATE_DIR) is writable or that the team database "
                "(FAIRSHARE_DATABASE_URL) is reachable.")
    else:
        st.error(plain(exc))


def _auth_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets file at all
        return False


def author_field(key: str) -> str | None:
    """Who is writing: the signed-in user under OpenID Connect (others are offered *Sign
    in*), else a display name typed here (remembered across pages); ``None`` until known."""
    if _auth_configured():
        if not st.user.is_logged_in:
            st.info("Sign in to add notes: this deployment records who wrote each one.")
            st.button("Sign in", on_click=st.login, key=f"{key}_login")
            return None
        name = st.user.get("name") or st.user.get("email") or ""
        st.caption(f"Writing as {plain(name)} (signed in).")
        return str(name)
    if key not in st.session_state and st.session_state.get("notes_author"):
        st.session_state[key] = st.session_state["notes_author"]
    name = st.text_input("Your display name (shown as the author of your notes)", key=key,
                         max_chars=200).strip()
    if name:
        st.session_state["notes_author"] = name
    return name or None


def note_table(notes: list[Note]) -> pd.DataFrame:
    """The notes as a table for the page (cells are shown as text, never rendered)."""
    frame = notes_frame(notes)
    frame["area"] = frame["area_name"] + " (" + frame["area_code"] + ")"
    return frame[list(NOTE_COLUMNS)].rename(columns=NOTE_COLUMNS)


def _flash() -> None:
    if message := st.session_state.pop("notes_flash", None):
        st.success(plain(message))


def _link_to_learning_page(label: str) -> None:
    try:
        st.page_link(LEARNING_PAGE, label=label, icon=":material/forum:")
    except Exception:  # noqa: BLE001 - the page run on its own, outside the app's navigation
        st.caption(plain(f"{label}: open the Learning log page."))


# -- Area profile ---------------------------------------------------------------------------


def area_notes_section(code: str, name: str) -> None:
    """The notes of an area and of every area it lies in, newest first, filterable by kind
    and dates, and a link to the Learning log page to add one."""
    st.subheader("What people and practitioners told us")
    st.caption(plain(f"Qualitative evidence from the learning log for {name} and every area "
                     "it lies in, newest first. It describes what people said and what was "
                     "decided; it is not a measured figure."))
    left, mid, right = st.columns([2, 1, 1])
    kinds = left.multiselect("Kinds", list(KINDS), format_func=KINDS.get,
                             key="profile_note_kinds")
    since = mid.date_input("From", value=None, key="profile_note_since")
    until = right.date_input("To", value=None, key="profile_note_until")
    notes: list[Note] = []
    if since and until and since > until:
        st.warning("The From date is after the To date: no note can fall between them.")
    else:
        try:
            notes = area_notes(code, kinds=kinds, since=since, until=until)
        except ERRORS as exc:
            show_error(exc)
    if notes:
        st.caption(f"{len(notes):,} note(s)")
        st.dataframe(note_table(notes), hide_index=True, key="profile_notes")
    else:
        st.caption("No notes match." if kinds or since or until
                   else "No notes for this area yet.")
    _link_to_learning_page("Add a note on the Learning log page")


# -- Map ------------------------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=16)
def _note_drawings(country: str, area_code: str | None, counts: tuple) -> tuple:
    noted = noted_areas(country, area_code, counts=dict(counts))
    points, outlines = noted_area_geometry(noted)
    blanks = {"v": "", "w": "", "l": "", "d": ""}  # the main map's tooltip fields
    points = pd.DataFrame({
        "lon": points["lon"].round(5), "lat": points["lat"].round(5),
        "c": points["code"], **blanks,
        "n": [html.escape(f"{n}: {k} note{'s' if k != 1 else ''}")
              for n, k in zip(points["name"], points["notes"], strict=True)]})
    layer = None
    if not outlines.empty:
        attributes = pd.DataFrame({
            "c": outlines.index.astype(str), "k": 0, **blanks,
            "n": [f"{n} ({lv}): {k} note{'s' if k != 1 else ''}" for n, lv, k in
                  zip(outlines["name"], outlines["level_label"], outlines["notes"],
                      strict=True)]}, index=outlines.index)
        layer = build_layer(outlines, attributes,
                            legend=Legend(("area with notes",), ((20, 20, 20),)),
                            title="areas with notes", alt_text="", detail_columns=())
    return noted, points, layer


def _noted_caption(noted) -> str:
    def listed(frame: pd.DataFrame) -> str:
        return "; ".join(f"{r.name} ({r.level_label}, {r.notes} note{'s' if r.notes != 1 else ''})"
                         for r in frame.itertuples(index=False))

    parts = []
    if not noted.small.empty:
        many = len(noted.small)
        parts.append(f"white dots mark {many:,} small area{'s' if many != 1 else ''} with "
                     "notes of their own")
    if not noted.larger.empty:
        parts.append(f"black outlines mark {listed(noted.larger)}")
    if not noted.containing.empty:
        parts.append(f"the whole map lies in {listed(noted.containing)}")
    return ("Areas with notes: " + "; ".join(parts) + ". The Area profile lists them."
            if parts else "Areas with notes: no area here has notes in the learning log yet.")


def notes_map_layers(country: str, area_code: str | None, detailed: bool
                     ) -> tuple[list[pdk.Layer], str | None]:
    """The optional "Areas with notes" layer (a sidebar toggle, off by default): dots on
    the small areas that have notes, outlines of the larger areas that have them. Returns
    the deck.gl layers and a caption for below the map (``None`` when off)."""
    with st.sidebar:
        st.subheader("Learning log")
        if not st.toggle("Areas with notes", key="show_notes",
                         help="Mark the areas that have notes in the learning log."):
            return [], None
    try:
        noted = noted_areas(country, area_code)
        noted, points, outline = _note_drawings(country, area_code, noted.counts)
    except ERRORS as exc:
        show_error(exc)
        return [], None
    layers = []
    if outline is not None:
        layers.append(pdk.Layer(
            "PolygonLayer", id="noted_outlines", data=outline.records, get_polygon="g",
            filled=False, stroked=True, get_line_color=[20, 20, 20], line_width_min_pixels=3,
            pickable=detailed, **deck_coordinates(outline.origin, outline.precision)))
    if not points.empty:
        layers.append(pdk.Layer(
            "ScatterplotLayer", id="noted_small", data=points, get_position=["lon", "lat"],
            get_radius=120, radius_min_pixels=4, radius_max_pixels=9,
            get_fill_color=[255, 255, 255], get_line_color=[0, 0, 0], stroked=True,
            line_width_min_pixels=2, pickable=detailed))
    return layers, _noted_caption(noted)


# -- Allocation modeller --------------------------------------------------------------------


def scenario_notes_section(scenario_name: str, area_code: str) -> None:
    """Notes linked to the scenario shown (by its name), and a form to record a decision on
    it, with the date its learning review is due, for the study area."""
    st.subheader("Decisions and notes on this scenario")
    _flash()
    notes: list[Note] = []
    try:
        notes = scenario_notes(scenario_name)
    except ERRORS as exc:
        show_error(exc)
    st.caption(plain(f"Notes in the learning log linked to the scenario {scenario_name} "
                     f"(any area): {len(notes):,}."))
    if notes:
        st.dataframe(note_table(notes), hide_index=True, key="scenario_notes")
    with st.expander("Record a decision on this scenario"):
        author = author_field("scenario_author")
        with st.form(f"scenario_decision:{scenario_name}"):
            text = st.text_area("What was decided, and why", max_chars=10_000,
                                key="decision_text")
            source = st.text_input("Source: the meeting or board (not a person's name)",
                                   max_chars=300, key="decision_source")
            left, right = st.columns(2)
            when = left.date_input("Date of the decision", value=date.today(),
                                   key="decision_date")
            review = right.date_input("Review date",
                                      value=date.today() + timedelta(days=REVIEW_AFTER_DAYS),
                                      key="decision_review")
            saved = st.form_submit_button("Save the decision", disabled=author is None)
        if saved and author:
            try:
                note = LearningLog().add(area=area_code, kind="decision", text=text,
                                         source=source, author=author, date=when,
                                         scenario=scenario_name, review_date=review).note
            except ERRORS as exc:
                show_error(exc)
            else:
                st.session_state["notes_flash"] = (f"Saved decision #{note.id}; its review "
                                                   f"is due {note.review_due}.")
                st.rerun()


# -- Learning log page ----------------------------------------------------------------------


def notes_downloads(notes: list[Note], code: str) -> None:
    """CSV (a zip with its CSVW sidecar), XLSX and JSON of the notes listed."""
    table_downloads(notes_frame(notes), f"fairshare-learning-log-{code}", key="learning",
                    info=notes_export_info())
    st.download_button("Download JSON", notes_json(notes, area=code),
                       file_name=f"fairshare-learning-log-{code}.json",
                       mime="application/json", key="learning_json")


def _label(note: Note) -> str:
    removed = " · removed" if note.removed else ""
    return f"#{note.id} · {note.event_date} · {note.kind_label} · {note.area_name}{removed}"


def note_editor(log: LearningLog, notes: list[Note], author: str | None) -> None:
    """Edit a note (a new version; earlier ones kept), see its history, or remove it (a
    soft delete with a reason)."""
    st.subheader("Edit, remove or see the history of a note")
    _flash()
    by_id = {note.id: note for note in notes}
    note = by_id[st.selectbox("Note", list(by_id), format_func=lambda i: _label(by_id[i]),
                              key="learning_pick")]
    edit_tab, history_tab, remove_tab = st.tabs(["Edit", "History", "Remove"])
    slot = f"{note.id}:{note.version}"
    with edit_tab:
        if note.removed:
            st.info(plain(f"Removed on {note.removed_at:%Y-%m-%d} by {note.removed_by}: a "
                          "removed note can't be edited."))
        elif not author:
            st.info("Give your display name on the *Add a note* tab to edit notes.")
        else:
            with st.form(f"learning_edit:{slot}"):
                kinds = list(KINDS)
                kind = st.selectbox("Kind", kinds, index=kinds.index(note.kind),
                                    format_func=KINDS.get, key=f"edit_kind:{slot}")
                text = st.text_area("Text", value=note.text, max_chars=10_000, height=160,
                                    key=f"edit_text:{slot}")
                source = st.text_input("Source", value=note.source, max_chars=300,
                                       key=f"edit_source:{slot}")
                left, right = st.columns(2)
                when = left.date_input("Date", value=note.event_date, key=f"edit_date:{slot}")
                tags = right.text_input("Tags, separated by commas", value=", ".join(note.tags),
                                        key=f"edit_tags:{slot}")
                reason = st.text_input("Why you are changing it", max_chars=500,
                                       key=f"edit_reason:{slot}")
                submitted = st.form_submit_button("Save a new version")
            if submitted:
                try:
                    saved = log.edit(note.id, author=author, reason=reason or None,
                                     expected_version=note.version, kind=kind, text=text,
                                     source=source, date=when, tags=tags)
                except ERRORS as exc:
                    show_error(exc)
                else:
                    st.session_state["notes_flash"] = (f"Saved version {saved.note.version} "
                                                       f"of note #{note.id}.")
                    st.rerun()
    with history_tab:
        try:
            versions = log.history(note.id)
        except ERRORS as exc:
            show_error(exc)
            versions = []
        if versions:
            history = pd.DataFrame([v.to_dict() for v in versions])
            history["tags"] = history["tags"].map(" ".join)
            st.dataframe(history[["version", "change", "changed_at", "changed_by", "reason",
                                  "kind", "event_date", "source", "text", "tags"]],
                         hide_index=True, key=f"learning_history:{note.id}")
    with remove_tab:
        if note.removed:
            st.text(f"Removed on {note.removed_at:%Y-%m-%d} by {note.removed_by}. Reason: "
                    f"{note.removed_reason or '(none given)'}")
        elif not author:
            st.info("Give your display name on the *Add a note* tab to remove notes.")
        else:
            reason = st.text_input("Why it is being removed (kept with the note)",
                                   max_chars=500, key=f"remove_reason:{slot}")
            if st.button("Remove (kept in the history)", key=f"remove:{slot}"):
                if not reason.strip():
                    st.warning("Say why the note is being removed: the reason is kept.")
                    return
                try:
                    log.remove(note.id, author=author, reason=reason)
                except ERRORS as exc:
                    show_error(exc)
                else:
                    st.session_state["notes_flash"] = f"Removed note #{note.id}; it is kept."
                    st.rerun()
