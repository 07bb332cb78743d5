"""Concurrent writers from several processes lose nothing, on SQLite and PostgreSQL: 8
processes × 25 new notes, and 4 processes editing one note 10 times each."""

from __future__ import annotations

from analysis.learning import LearningLog
from tests.learning.conftest import note_args
from tests.learning.writers import run_writers


def test_eight_processes_adding_notes_lose_none(log_url):
    timings = run_writers(log_url, processes=8, per_process=25)
    assert len(timings) == 200
    log = LearningLog(log_url)
    notes = log.list(limit=None)
    assert len(notes) == 200 and len({n.id for n in notes}) == 200
    assert len({n.uid for n in notes}) == 200
    for worker in range(8):
        mine = [n for n in notes if n.author == f"writer {worker}"]
        texts = {n.text.split(" from")[0] for n in mine}
        assert texts == {f"Observation {i}" for i in range(25)}, worker
    assert all(len(log.history(n.id)) == 1 for n in notes[:20])


def test_concurrent_edits_of_one_note_each_add_a_version(log_url):
    log = LearningLog(log_url)
    note = log.add(**note_args(date=None)).note
    run_writers(log_url, processes=4, per_process=10, mode="edit", note_id=note.id)
    history = log.history(note.id)
    assert [v.version for v in history] == list(range(1, 42))
    assert log.get(note.id).version == 41
    edits = {v.text for v in history[1:]}
    assert edits == {f"Edit {i} by {w}" for i in range(10) for w in range(4)}
