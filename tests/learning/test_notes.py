"""Notes on both backends: add, edit (versions), remove (soft delete), bad input refused
with nothing written, areas and their parents, filters, full-text search, reviews, export."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from analysis.learning import (
    LearningLog,
    NoteInputError,
    NoteNotFoundError,
    PersonalDataError,
    notes_csv,
    notes_json,
)
from analysis.learning import log as log_module
from tests.learning.conftest import TODAY, note_args


def _versions(log: LearningLog) -> int:
    from sqlalchemy import func, select

    from analysis.learning.models import NoteVersionRow
    from analysis.learning.store import read_session

    with read_session(log.engine) as session:
        return session.execute(select(func.count()).select_from(NoteVersionRow)).scalar_one()


def test_a_note_is_saved_as_given(log):
    html = "<script>alert(1)</script> **bold** & [link](javascript:x)"
    saved = log.add(**note_args(text=html, tags=["Transport", "bus routes"],
                                link="https://example.org/report", indicator="imd2025_score"))
    note = log.get(saved.note.id)
    assert note.text == html  # stored as typed; every view escapes it
    assert note.kind_label == "Community voice"
    assert (note.area_code, note.area_level, note.area_name) == ("E08000010", "ltla", "Wigan")
    assert note.tags == ("transport", "bus-routes")
    assert note.version == 1 and note.created_by == "Test Analyst"
    assert note.event_date.isoformat() == "2025-06-01"
    assert note.created_at.tzinfo is not None
    assert [v.change for v in log.history(note.id)] == ["created"]


@pytest.mark.parametrize(("overrides", "message"), [
    ({"text": "   "}, "text is empty"),
    ({"text": "x" * 10_001}, "10,001 characters long; the limit is 10,000"),
    ({"area": "E0800001"}, "Did you mean: E08"),
    ({"area": ""}, "No area given"),
    ({"kind": "gossip"}, "Unknown kind 'gossip'"),
    ({"kind": "comunity voice"}, "Did you mean: community_voice"),
    ({"date": "2025-07-01"}, "in the future"),
    ({"date": "01/06/2025"}, "write YYYY-MM-DD"),
    ({"source": ""}, "source is empty"),
    ({"author": " "}, "author is empty"),
    ({"link": "javascript:alert(1)"}, "not an http:// or https:// address"),
    ({"link": "ftp://example.org/x"}, "not an http:// or https:// address"),
    ({"indicator": "imd2025_scor"}, "Did you mean: imd2025_score"),
    ({"tags": ["no<html>"]}, "letters, digits"),
    ({"text": "bell \x07 here"}, "control character"),
    ({"review_date": "2026-01-01"}, "Only a decision gets a review date"),
])
def test_bad_input_is_refused_and_nothing_is_written(log, overrides, message):
    with pytest.raises(NoteInputError, match=message.replace("(", r"\(")):
        log.add(**note_args(**overrides))
    assert log.count(include_removed=True) == 0 and _versions(log) == 0


def test_ten_thousand_characters_are_allowed(log):
    assert len(log.add(**note_args(text="a" * 10_000)).note.text) == 10_000


def test_a_decision_may_be_dated_ahead_but_a_review_not_before_it(log):
    saved = log.add(**note_args(kind="decision", date="2025-09-01", review_date="2026-03-01"))
    assert saved.note.review_due.isoformat() == "2026-03-01"
    with pytest.raises(NoteInputError, match="before the decision's date"):
        log.add(**note_args(kind="decision", date="2025-09-01", review_date="2025-08-01"))


def test_personal_data_is_refused_and_nothing_is_written(log):
    with pytest.raises(PersonalDataError, match="contains an NHS number at characters"):
        log.add(**note_args(text="Patient 943 476 5919 told us the bus is late"))
    with pytest.raises(PersonalDataError, match="the source contains a phone number"):
        log.add(**note_args(source="Call 07700 900123"))
    assert log.count(include_removed=True) == 0 and _versions(log) == 0


def test_names_are_warned_about_and_the_note_saved(log):
    saved = log.add(**note_args(text="Mrs Smith said the buses are too rare"))
    assert saved.warnings and "may name a person" in saved.warnings[0]
    assert log.count() == 1


def test_a_failure_inside_the_transaction_writes_nothing(log, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(log_module, "_snapshot", broken)
    with pytest.raises(RuntimeError):
        log.add(**note_args())
    monkeypatch.undo()
    assert log.count(include_removed=True) == 0 and _versions(log) == 0


def test_an_edit_adds_a_version_and_keeps_the_old_one(log):
    first = log.add(**note_args()).note
    edited = log.edit(first.id, author="Second Analyst", reason="clearer",
                      text="Parents said buses are rare.", tags=["transport"]).note
    assert edited.version == 2 and edited.updated_by == "Second Analyst"
    assert edited.created_by == "Test Analyst"
    history = log.history(first.id)
    assert [(v.version, v.change) for v in history] == [(1, "created"), (2, "edited")]
    assert history[0].text == first.text and history[1].text == "Parents said buses are rare."
    assert history[1].reason == "clearer" and history[1].tags == ("transport",)
    with pytest.raises(NoteInputError, match="Nothing to change"):
        log.edit(first.id, author="x", text="Parents said buses are rare.")
    with pytest.raises(NoteInputError, match="changed by Second Analyst"):
        log.edit(first.id, author="x", text="stale", expected_version=1)
    with pytest.raises(PersonalDataError):
        log.edit(first.id, author="x", text="email jo@example.org")
    with pytest.raises(NoteInputError, match="text is empty"):
        log.edit(first.id, author="x", text="")
    assert log.get(first.id).version == 2 and len(log.history(first.id)) == 2


def test_removal_is_a_soft_delete_with_who_and_when(log):
    note = log.add(**note_args()).note
    removed = log.remove(note.id, author="Lead", reason="duplicate")
    assert removed.removed and removed.removed_by == "Lead"
    assert removed.removed_reason == "duplicate"
    assert log.list() == [] and log.search("buses") == []
    assert [n.id for n in log.list(include_removed=True)] == [note.id]
    assert [v.change for v in log.history(note.id)] == ["created", "removed"]
    assert log.history(note.id)[0].text == note.text
    with pytest.raises(NoteInputError, match="already removed"):
        log.remove(note.id, author="Lead")
    with pytest.raises(NoteInputError, match="cannot be edited"):
        log.edit(note.id, author="Lead", text="new")
    with pytest.raises(NoteNotFoundError):
        log.remove(9999, author="Lead")


def test_notes_for_an_area_include_its_parents(log):
    lsoa = "E01006233"  # an LSOA in Wigan
    from analysis.learning import area_and_parents

    chain = area_and_parents(lsoa)
    assert chain[0] == lsoa and "E08000010" in chain and "E54000057" in chain
    assert chain[-1] == "E92000001"
    ids = {code: log.add(**note_args(area=code)).note.id for code in chain}
    other = log.add(**note_args(area="E08000001")).note.id  # Bolton: not a parent
    listed = [n.id for n in log.list(lsoa)]
    assert set(listed) == set(ids.values()) and other not in listed
    assert [n.id for n in log.list(lsoa, include_parents=False)] == [ids[lsoa]]
    wigan = {n.id for n in log.list("E08000010")}
    assert ids[lsoa] not in wigan and ids["E08000010"] in wigan


def test_filters_by_kind_date_tag_and_links(log):
    a = log.add(**note_args(kind="survey finding", date="2025-01-10", tags=["access"],
                            indicator="imd2025_score")).note
    b = log.add(**note_args(kind="case_study", date="2025-05-10", scenario="wigan-2025",
                            audit="audit-7")).note
    c = log.add(**note_args(kind="decision", date="2025-06-20", tags=["access", "buses"],
                            service="gp")).note
    assert [n.id for n in log.list()] == [c.id, b.id, a.id]  # newest first
    assert [n.id for n in log.list(kind="survey_finding")] == [a.id]
    assert {n.id for n in log.list(kind=["case study", "decision"])} == {b.id, c.id}
    assert [n.id for n in log.list(since="2025-05-01", until="2025-06-01")] == [b.id]
    assert {n.id for n in log.list(tag="access")} == {a.id, c.id}
    assert [n.id for n in log.list(tag="buses")] == [c.id]
    assert log.list(tag="acc") == []
    assert [n.id for n in log.list(indicator="imd2025_score")] == [a.id]
    assert [n.id for n in log.list(scenario="wigan-2025")] == [b.id]
    assert [n.id for n in log.list(audit="audit-7")] == [b.id]
    assert [n.id for n in log.list(service="gp")] == [c.id]
    assert log.areas_with_notes() == {"E08000010": 3}


@pytest.mark.parametrize("fts", [True, False], ids=["native", "like"])
def test_full_text_search(log, fts):
    if not fts:
        if log.backend != "sqlite":
            pytest.skip("the LIKE fallback is SQLite's")
        log._fts = False
    bus = log.add(**note_args(text="Buses to the clinic stop at six.")).note
    gp = log.add(**note_args(text="Practitioners see long waits for GP appointments.",
                             source="Practice nurses' meeting", tags=["waiting"])).note
    assert [n.id for n in log.search("clinic")] == [bus.id]
    assert [n.id for n in log.search("appoint")] == [gp.id]  # a prefix matches
    assert [n.id for n in log.search("nurses")] == [gp.id]  # the source is searched
    assert [n.id for n in log.search("waiting")] == [gp.id]  # and the tags
    assert {n.id for n in log.search("Wigan")} == {bus.id, gp.id}  # and the area name
    assert log.search("clinic appointments") == []  # every word must match
    for nasty in ["OR", "clinic*", "NEAR(a b)", "a' OR '1'='1", "_", "x:*", "!!b&|c"]:
        log.search(nasty)  # search syntax in the query is only ever words: no error
    with pytest.raises(NoteInputError, match="Nothing to search"):
        log.search("  \"* ")
    assert [n.id for n in log.search("clinic", area="E01006233")] == [bus.id]
    assert log.search("clinic", area="E08000001") == []
    if fts or log.backend == "postgresql":
        assert [n.id for n in log.search("bus")] == [bus.id]  # stemming: buses → bus


def test_reviews_fall_due_and_are_recorded(log_url):
    early = LearningLog(log_url, today=TODAY)
    decision = early.add(**note_args(kind="decision", text="Fund a minibus pilot.",
                                     review_date="2025-12-01")).note
    other = early.add(**note_args(kind="decision", text="Open on Saturdays.")).note
    early.schedule_review(other.id, "2026-06-01", author="Lead")
    assert early.reviews_due() == []
    assert [r.note_id for r in early.reviews_due(within_days=200)] == [decision.id]
    later = LearningLog(log_url, today=TODAY.replace(year=2026, month=7))
    due = later.reviews_due()
    assert [r.note_id for r in due] == [decision.id, other.id]
    assert due[0].note.text == "Fund a minibus pilot."
    assert [r.note_id for r in later.reviews_due(area="E01006233")] == [decision.id, other.id]
    assert later.reviews_due(area="E08000001") == []
    review, saved = later.record_review(decision.id, outcome="40 trips a week.",
                                        learned="Evening runs matter most.", author="Lead")
    assert review.done and review.review_note_id == saved.note.id
    assert saved.note.kind == "learning_review" and "Evening runs" in saved.note.text
    assert [r.note_id for r in later.reviews_due()] == [other.id]
    assert later.get(decision.id).review_due is None
    with pytest.raises(NoteInputError, match="Only a decision"):
        later.schedule_review(saved.note.id, "2027-01-01", author="Lead")
    with pytest.raises(PersonalDataError):
        later.record_review(other.id, outcome="ok", learned="ask jo@example.org",
                            author="Lead")
    assert [r.note_id for r in later.reviews_due()] == [other.id]


def test_exports_csv_and_json(log):
    log.add(**note_args(text="=HYPERLINK(\"http://x\") <b>html</b>, \"quoted\"\nline two"))
    log.add(**note_args(text="second", tags=["a", "b"]))
    notes = log.list()
    data = notes_csv(notes)
    assert data.startswith(b"id,uid,area_code")  # plain CSV: the header first
    import io

    frame = pd.read_csv(io.BytesIO(data))
    assert len(frame) == 2
    first = frame.loc[frame["text"].str.contains("HYPERLINK")].iloc[0]
    assert first["text"].startswith("'=")  # neutralised against formula injection
    assert "<b>html</b>" in first["text"] and "line two" in first["text"]
    payload = json.loads(notes_json(notes))
    assert list(payload) == ["notes"] and len(payload["notes"]) == 2
    assert payload["notes"][0]["tags"] == ["a", "b"]
