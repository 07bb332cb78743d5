"""The learning log on the pages: the notes of Wigan and the areas it lies in on its profile
(text shown literally, filters by kind and date), the "Areas with notes" map layer, the
notes and decisions of an allocation scenario, and editing, history, removal and downloads
on the Learning log page; calm when the log does not exist yet or cannot be opened."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from analysis.allocation import Scenario
from analysis.data import select_study_area
from analysis.learning import LearningLog, database_url, dispose_engines, state_dir
from tests.dashboard.test_dashboard_pages import open_page

WIGAN = "E08000010"
GM_ICB = "E54000057"
TRICKY = "Parents said <b>bold</b> [link](http://evil.example) **stars** :red[x] $x$"


@pytest.fixture(autouse=True)
def _sqlite_in_the_state_folder(monkeypatch):
    """The log is the SQLite file in the per-test FAIRSHARE_STATE_DIR (tests/conftest.py)."""
    monkeypatch.delenv("FAIRSHARE_TEST_POSTGRES_URL", raising=False)
    monkeypatch.delenv("FAIRSHARE_DATABASE_URL", raising=False)
    monkeypatch.delenv("FAIRSHARE_AUTHOR", raising=False)
    yield
    dispose_engines()


def _add(log: LearningLog, **values):
    args = dict(area=WIGAN, kind="community_voice", author="Test Analyst",
                text="Parents at the drop-in said the buses to the clinic are too rare.",
                source="Wigan parents' forum", date="2025-06-01")
    args.update(values)
    return log.add(**args).note


def _wigan_small_area_and_ward() -> tuple[str, str]:
    table = select_study_area("england", WIGAN, geometry=False)
    return str(table.index[0]), str(table["ward_code"].iloc[0])


def _frame(at, column: str):
    """The table on the page with ``column`` (AppTest dataframes carry no key)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _all_text(at) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [i.value for i in at.info] + [w.value for w in at.warning]
    parts += [e.value for e in at.error] + [s.value for s in at.success]
    return "\n".join(parts)


def _button(at, label: str):
    return next(b for b in at.get("button") + at.get("form_submit_button")
                if b.label == label)


def test_profile_lists_the_notes_of_the_area_and_its_parents_as_written():
    log = LearningLog()
    small, _ = _wigan_small_area_and_ward()
    _add(log, text=TRICKY, date="2025-06-01")
    _add(log, area=GM_ICB, kind="practitioner_observation", text="ICB-wide observation",
         source="GP forum", date="2025-03-01")
    _add(log, area=small, text="Only for the small area", date="2025-05-01")
    gone = _add(log, text="Removed note", date="2025-05-15")
    log.remove(gone.id, author="Test Analyst", reason="duplicate")

    at = open_page("profile", WIGAN)
    table = _frame(at, "Note")
    assert table["Note"].tolist() == [TRICKY, "ICB-wide observation"]  # newest first
    first = table.iloc[0]
    assert (first["Kind"], first["Source"], first["Author"]) == (
        "Community voice", "Wigan parents' forum", "Test Analyst")
    assert str(first["Date"]).startswith("2025-06-01")
    assert first["Area it is attached to"] == f"Wigan ({WIGAN})"
    assert table.iloc[1]["Area it is attached to"].endswith(f"({GM_ICB})")
    assert any(link.label == "Add a note on the Learning log page"
               for link in at.get("page_link"))

    at.multiselect(key="profile_note_kinds").set_value(["practitioner_observation"]).run()
    assert not at.exception, at.exception
    assert _frame(at, "Note")["Note"].tolist() == ["ICB-wide observation"]

    at.multiselect(key="profile_note_kinds").set_value([]).run()
    at.date_input(key="profile_note_since").set_value(date(2025, 4, 1)).run()
    assert _frame(at, "Note")["Note"].tolist() == [TRICKY]
    at.date_input(key="profile_note_since").set_value(None)
    at.date_input(key="profile_note_until").set_value(date(2025, 4, 1)).run()
    assert _frame(at, "Note")["Note"].tolist() == ["ICB-wide observation"]
    at.date_input(key="profile_note_since").set_value(date(2025, 5, 1)).run()
    assert not at.exception, at.exception
    assert "From date is after the To date" in _all_text(at)


def test_profile_before_the_log_exists_creates_nothing():
    at = open_page("profile", WIGAN)
    assert "No notes for this area yet." in _all_text(at)
    assert not Path(database_url().removeprefix("sqlite:///")).exists()


def test_pages_say_calmly_when_the_state_folder_cannot_be_written(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("FAIRSHARE_STATE_DIR", str(blocker / "state"))
    assert state_dir() == blocker / "state"
    at = open_page("profile", WIGAN)  # nothing to read yet: no notes, no complaint
    assert "No notes for this area yet." in _all_text(at)
    at = open_page("learning", WIGAN)
    at.text_input(key="learning_author").input("Page Analyst").run()
    at.text_area(key="learning_text").input("A note that cannot be stored.")
    at.text_input(key="learning_source").input("Forum")
    _button(at, "Save note").click().run()
    assert not at.exception, at.exception
    assert "can't be opened just now" in _all_text(at)
    at = open_page("map", WIGAN)
    at.toggle(key="show_notes").set_value(True).run()
    assert not at.exception, at.exception


@pytest.mark.parametrize("page", ["profile", "map", "learning", "allocation"])
def test_pages_say_calmly_when_the_log_cannot_be_read(page):
    state_dir().mkdir(parents=True, exist_ok=True)
    (state_dir() / "learning.sqlite3").write_bytes(b"this is not a database" * 100)
    at = open_page(page, WIGAN)
    if page == "map":
        at.toggle(key="show_notes").set_value(True).run()
    assert not at.exception, at.exception
    assert "can't be opened just now" in _all_text(at)


CONTEXT_LAYERS = {"context-outlines", "context-labels"}  # outlines and names on every map


def _deck_layers(at) -> dict[str, dict]:
    spec = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    return {layer["id"]: layer for layer in spec["layers"]}


def test_map_layer_of_areas_with_notes_toggles():
    log = LearningLog()
    small, ward = _wigan_small_area_and_ward()
    _add(log, area=small, text="Small area " + TRICKY)
    _add(log, area=ward, text="Ward note")
    _add(log, area=WIGAN, text="Council note")
    _add(log, area=GM_ICB, text="ICB note")

    at = open_page("map", WIGAN)
    assert at.toggle(key="show_notes").value is False
    assert set(_deck_layers(at)) == {"areas", *CONTEXT_LAYERS}
    at.toggle(key="show_notes").set_value(True).run()
    assert not at.exception, at.exception
    layers = _deck_layers(at)
    assert {"noted_small", "noted_outlines"} <= set(layers)
    assert [p["c"] for p in layers["noted_small"]["data"]] == [small]
    assert sorted(r["c"] for r in layers["noted_outlines"]["data"]) == sorted([ward, WIGAN])
    assert "<b>" not in json.dumps(layers["noted_small"]["data"])  # names only, escaped
    text = _all_text(at)
    assert "Areas with notes" in text and "white dots mark 1 small area with" in text
    assert "Wigan (Local authority, 1 note)" in text
    assert "lies in NHS Greater Manchester Integrated Care Board" in text
    at.toggle(key="show_notes").set_value(False).run()
    assert not at.exception, at.exception
    assert set(_deck_layers(at)) == {"areas", *CONTEXT_LAYERS}


def test_allocation_lists_the_scenarios_notes_and_records_a_decision():
    log = LearningLog()
    at = open_page("allocation", WIGAN)
    name = Scenario.from_json(next(iter(_scenario_texts(at)))).name
    _add(log, kind="decision", text="Board agreed " + TRICKY, source="ICB board",
         scenario=name, date=date.today().isoformat())
    _add(log, text="Not about the scenario")
    at.run()
    assert not at.exception, at.exception
    assert _frame(at, "Note")["Note"].tolist() == ["Board agreed " + TRICKY]

    at.text_input(key="scenario_author").input("Page Analyst").run()
    at.text_area(key="decision_text").input("Move 2% a year toward need.")
    at.text_input(key="decision_source").input("Locality board")
    review = date.today() + timedelta(days=90)
    at.date_input(key="decision_review").set_value(review)
    _button(at, "Save the decision").click().run()
    assert not at.exception, at.exception
    decisions = log.list(scenario=name, kind="decision")
    assert [n.text for n in decisions][0] == "Move 2% a year toward need."
    assert decisions[0].review_due == review and decisions[0].area_code == WIGAN
    assert "Saved decision" in _all_text(at)
    assert len(_frame(at, "Note")) == 2


def _scenario_texts(at) -> list[str]:
    from analysis.data import data_dir

    return [p.read_text(encoding="utf-8")
            for p in sorted((data_dir() / "scenarios").glob("*.json"))
            if p.stem == at.selectbox(key="scenario_base").value]


def test_learning_page_edits_add_versions_and_removal_keeps_the_note():
    log = LearningLog()
    note = _add(log, text=TRICKY)
    at = open_page("learning", WIGAN)
    at.text_input(key="learning_author").input("Page Analyst").run()
    labels = [b.label for b in at.get("download_button")]
    assert {"Download CSV (zip with metadata)", "Download XLSX", "Download JSON"} <= set(labels)

    at.text_area(key=f"edit_text:{note.id}:1").input("Parents said the buses are rare.")
    at.text_input(key=f"edit_reason:{note.id}:1").input("shortened")
    _button(at, "Save a new version").click().run()
    assert not at.exception, at.exception
    assert log.get(note.id).version == 2
    assert [v.text for v in log.history(note.id)] == [TRICKY, "Parents said the buses are rare."]
    assert "Saved version 2" in _all_text(at)
    history = _frame(at, "change")
    assert history["text"].tolist() == [TRICKY, "Parents said the buses are rare."]
    assert history["reason"].tolist()[1] == "shortened"

    _button(at, "Remove (kept in the history)").click().run()
    assert "Say why" in _all_text(at) and not log.get(note.id).removed
    at.text_input(key=f"remove_reason:{note.id}:2").input("duplicate of another note")
    _button(at, "Remove (kept in the history)").click().run()
    assert not at.exception, at.exception
    kept = log.get(note.id)
    assert kept.removed and kept.removed_reason == "duplicate of another note"
    assert log.list(WIGAN) == []
