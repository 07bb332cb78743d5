"""The learning log in councillor briefings: "What people and practitioners told us" and
"Decisions under review", in HTML, PDF and DOCX.

Notes are added through the learning room's API to a SQLite log in a temporary state folder
(never a team database); briefings are built for Wigan (E08000010) and Clackmannanshire
(S12000005). Checked: the sections and notes appear with kind, source and date; markup and
formula text is shown literally (escaped); removed notes never appear and edited ones show
their latest version; a neighbourhood's note appears in its council's briefing; the PDF
stays within four pages; and with no notes (or no log) nothing changes and no database file
is created.
"""

from __future__ import annotations

import io
import os
import stat
from datetime import date

import pytest

from analysis.briefing import MAX_PAGES, build_briefing, note_scope, render
from analysis.data import resolve_area
from tests.briefing.test_briefing import _squash, docx_text, html_text, pdf_text

WIGAN, CLACKS = "E08000010", "S12000005"
MARKUP = '<script>alert("x")</script> **bold** =HYPERLINK("http://example.org","y")'
NO_DB_ENV = ("FAIRSHARE_DATABASE_URL", "FAIRSHARE_TEST_POSTGRES_URL")


def pdf_pages(data: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(data)).pages)


EXTRACT = {"html": html_text, "pdf": pdf_text, "docx": docx_text}


@pytest.fixture(autouse=True)
def _sqlite_only(monkeypatch):
    for name in NO_DB_ENV:
        monkeypatch.delenv(name, raising=False)
    yield
    from analysis.learning import dispose_engines

    dispose_engines()


def _add_notes(log) -> dict[str, int]:
    """The notes the briefings are checked against; their ids by role."""
    wigan_lsoa = next(c for c in note_scope(resolve_area(WIGAN)) if c.startswith("E01"))
    clacks_dz = next(c for c in note_scope(resolve_area(CLACKS)) if c.startswith("S01"))
    add = log.add
    ids = {}
    ids["markup"] = add(area=WIGAN, kind="community_voice", source="Wigan parents' forum",
                        author="test", date="2025-03-01", text=MARKUP).note.id
    ids["lsoa"] = add(area=wigan_lsoa, kind="practitioner_observation",
                      source="Health visiting team", author="test", date="2025-04-02",
                      text="LSOA-LEVEL-NOTE: families wait weeks for a GP visit.").note.id
    ids["icb"] = add(area="E54000057", kind="survey_finding", source="ICB residents survey",
                     author="test", date="2025-02-01", text="EDITED-ORIGINAL text").note.id
    log.edit(ids["icb"], author="test", text="EDITED-LATEST text", reason="typo")
    ids["removed"] = add(area=WIGAN, kind="case_study", source="Ince family hub",
                         author="test", date="2025-04-01",
                         text="REMOVED-NOTE-TEXT should never be shown").note.id
    log.remove(ids["removed"], author="test", reason="duplicate")
    ids["long"] = add(area=WIGAN, kind="case_study", source="Leigh community centre",
                      author="test", date="2025-04-05",
                      text="LONG-NOTE " + "A long account of what happened. " * 250).note.id
    for day in range(10, 16):  # more notes than a briefing shows: "n more" is said
        add(area=WIGAN, kind="community_voice", source=f"Drop-in session {day}",
            author="test", date=f"2025-01-{day}", text=f"OLDER-VOICE-{day} " + "words " * 40)
    ids["overdue"] = add(area=WIGAN, kind="decision", source="Cabinet meeting",
                         author="test", date="2025-01-15", review_date="2025-05-01",
                         text="OVERDUE-DECISION: move two GP sessions to Ince.").note.id
    ids["reviewed"] = add(area=WIGAN, kind="decision", source="Health and wellbeing board",
                          author="test", date="2024-10-01", review_date="2025-01-01",
                          text="REVIEWED-DECISION: open a Saturday clinic.").note.id
    log.record_review(ids["reviewed"], author="test", date="2025-02-01",
                      outcome="OUTCOME-TEXT: 300 more appointments a month.",
                      learned="LEARNED-TEXT: parents want evening slots too.")
    ids["clacks"] = add(area=CLACKS, kind="community_voice", source="Alloa community forum",
                        author="test", date="2025-03-03", text="CLACKS-VOICE " + MARKUP).note.id
    ids["dz"] = add(area=clacks_dz, kind="practitioner_observation",
                    source="Family Wellbeing Partnership", author="test", date="2025-03-04",
                    text="DATAZONE-NOTE: the bus to the health centre stopped.").note.id
    ids["clacks_decision"] = add(area=CLACKS, kind="decision", source="Council committee",
                                 author="test", date="2025-01-20", review_date="2030-01-01",
                                 text="CLACKS-DECISION: fund a link worker.").note.id
    return ids


@pytest.fixture(scope="module")
def with_notes(tmp_path_factory):
    """Briefings (built, and rendered in every format) with a learning log of notes."""
    from analysis.learning import LearningLog, dispose_engines

    state = tmp_path_factory.mktemp("notes-state")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FAIRSHARE_STATE_DIR", str(state))
        for name in NO_DB_ENV:
            patch.delenv(name, raising=False)
        ids = _add_notes(LearningLog())
        built = {code: build_briefing(code, produced=date(2025, 6, 30))
                 for code in (WIGAN, CLACKS)}
        rendered = {(code, fmt): render(b, fmt) for code, b in built.items()
                    for fmt in ("html", "pdf", "docx")}
        dispose_engines()
    return ids, built, rendered


@pytest.mark.parametrize("fmt", ["html", "pdf", "docx"])
@pytest.mark.parametrize("code", [WIGAN, CLACKS])
def test_sections_and_notes_appear_with_kind_source_and_date(with_notes, code, fmt):
    _, _, rendered = with_notes
    text = EXTRACT[fmt](rendered[(code, fmt)])
    assert "What people and practitioners told us" in text
    assert "Decisions under review" in text
    assert "Qualitative evidence, not statistics" in text
    if code == WIGAN:
        assert "Community voice · Wigan parents' forum · 1 March 2025 · Wigan" in text
        assert "Review overdue" in text and "OVERDUE-DECISION" in text
    else:
        assert "Alloa community forum · 3 March 2025" in text
        assert "Review due 1 January 2030" in text and "CLACKS-DECISION" in text
        assert "DATAZONE-NOTE" in text  # a data zone's note is in its council's briefing
        assert "LSOA-LEVEL-NOTE" not in text and "Wigan parents" not in text


@pytest.mark.parametrize("fmt", ["html", "docx"])
@pytest.mark.parametrize("code", [WIGAN, CLACKS])
def test_markup_and_formulas_are_shown_literally(with_notes, code, fmt):
    _, _, rendered = with_notes
    data = rendered[(code, fmt)]
    assert _squash(MARKUP) in EXTRACT[fmt](data)
    if fmt == "html":
        page = data.decode("utf-8")
        assert "<script>" not in page and "&lt;script&gt;" in page
        assert "<strong>bold</strong>" not in page


def test_markup_is_literal_in_the_pdf(with_notes):
    _, _, rendered = with_notes
    text = pdf_text(rendered[(WIGAN, "pdf")])
    assert "**bold**" in text and "=HYPERLINK(" in text and "<script>" in text


@pytest.mark.parametrize("fmt", ["html", "pdf", "docx"])
def test_removed_never_appear_and_edits_show_the_latest(with_notes, fmt):
    _, _, rendered = with_notes
    text = EXTRACT[fmt](rendered[(WIGAN, fmt)])
    assert "REMOVED-NOTE-TEXT" not in text
    assert "EDITED-ORIGINAL" not in text


def test_wigan_shows_its_neighbourhoods_and_its_icb(with_notes):
    ids, built, rendered = with_notes
    notes = built[WIGAN].notes
    shown = {n.note_id for n in notes.voices}
    assert ids["lsoa"] in shown  # a neighbourhood inside Wigan
    assert ids["icb"] in shown  # the ICB Wigan lies in
    assert ids["removed"] not in shown
    for fmt in ("html", "docx"):
        text = EXTRACT[fmt](rendered[(WIGAN, fmt)])
        assert "LSOA-LEVEL-NOTE" in text and "(neighbourhood)" in text
        assert "EDITED-LATEST" in text


def test_long_notes_are_cut_with_their_number_and_more_are_counted(with_notes):
    ids, built, rendered = with_notes
    notes = built[WIGAN].notes
    assert len(notes.voices) <= 5 and notes.voices_total == 10 and notes.voices_more == 5
    long = next(n for n in notes.voices if n.note_id == ids["long"])
    assert long.truncated and long.text.endswith("…") and len(long.text) < 400
    text = html_text(rendered[(WIGAN, "html")])
    assert f"[continues in note {ids['long']}]" in text
    assert "5 more notes from people and practitioners for this area are in the learning log" \
        in text
    assert "OLDER-VOICE-10" not in text  # the oldest give way to the most recent


def test_decisions_due_first_with_what_happened_and_was_learned(with_notes):
    ids, built, rendered = with_notes
    decisions = built[WIGAN].notes.decisions
    assert [d.note_id for d in decisions][:2] == [ids["overdue"], ids["reviewed"]]
    assert decisions[0].due_first and "overdue" in decisions[0].status
    reviewed = decisions[1]
    assert reviewed.status.startswith("Reviewed")
    assert "OUTCOME-TEXT" in reviewed.outcome and "LEARNED-TEXT" in reviewed.learned
    # the learning-review note is told with its decision, not twice
    assert built[WIGAN].notes.decisions_total == 2
    for fmt in ("html", "docx"):
        text = EXTRACT[fmt](rendered[(WIGAN, fmt)])
        assert "What happened: OUTCOME-TEXT" in text
        assert "What was learned: LEARNED-TEXT" in text


@pytest.mark.parametrize("code", [WIGAN, CLACKS])
def test_pdf_stays_within_four_pages(with_notes, code):
    _, _, rendered = with_notes
    assert pdf_pages(rendered[(code, "pdf")]) <= MAX_PAGES == 4


def test_many_long_notes_still_fit_four_pages(tmp_path):
    from analysis.learning import LearningLog

    log = LearningLog(f"sqlite:///{tmp_path / 'log.sqlite3'}")
    for day in range(1, 9):
        log.add(area=WIGAN, kind="community_voice", source=f"Forum {day}", author="t",
                date=f"2025-02-{day:02d}", text=f"VOICE-{day} " + "long line\n" * 30)
        log.add(area=WIGAN, kind="decision", source=f"Board {day}", author="t",
                date=f"2025-02-{day:02d}", review_date="2025-03-01",
                text=f"DECISION-{day} " + "many words " * 300)
    briefing = build_briefing(WIGAN, learning_log=log, produced=date(2025, 6, 30))
    data = render(briefing, "pdf")
    assert pdf_pages(data) <= MAX_PAGES
    assert "in the learning log" in pdf_text(data)  # what is left out is said


def test_no_notes_no_database_and_no_change(tmp_path, monkeypatch):
    state = tmp_path / "missing" / "state"
    monkeypatch.setenv("FAIRSHARE_STATE_DIR", str(state))
    briefing = build_briefing(CLACKS, produced=date(2025, 6, 30))
    assert briefing.notes is None
    assert not state.exists()  # neither the folder nor the database file is created
    plain = build_briefing(CLACKS, produced=date(2025, 6, 30), notes=False)
    assert render(briefing, "html") == render(plain, "html")
    assert briefing.methods == plain.methods and briefing.facts == plain.facts
    assert "learning log" not in docx_text(render(briefing, "docx"))

    state.mkdir(parents=True)  # an empty state folder: still nothing is created
    assert build_briefing(CLACKS, produced=date(2025, 6, 30)).notes is None
    assert list(state.iterdir()) == []


def test_a_log_without_notes_for_the_area_changes_nothing(tmp_path, monkeypatch):
    from analysis.learning import LearningLog

    monkeypatch.setenv("FAIRSHARE_STATE_DIR", str(tmp_path / "state"))
    LearningLog().add(area=WIGAN, kind="community_voice", source="Forum", author="t",
                      date="2025-01-01", text="Only about Wigan.")
    assert build_briefing(CLACKS, produced=date(2025, 6, 30)).notes is None
    assert build_briefing(CLACKS, produced=date(2025, 6, 30), notes=False).notes is None


def test_a_read_only_state_folder_is_read_not_written(tmp_path, monkeypatch):
    from analysis.learning import LearningLog, dispose_engines

    state = tmp_path / "state"
    monkeypatch.setenv("FAIRSHARE_STATE_DIR", str(state))
    LearningLog().add(area=CLACKS, kind="survey_finding", source="Residents survey",
                      author="t", date="2025-01-01", text="READ-ONLY-FOLDER note")
    dispose_engines()
    before = sorted(p.name for p in state.iterdir())
    os.chmod(state, stat.S_IRUSR | stat.S_IXUSR)
    try:
        briefing = build_briefing(CLACKS, produced=date(2025, 6, 30))
    finally:
        os.chmod(state, stat.S_IRWXU)
    if briefing.notes is not None:
        assert briefing.notes.voices[0].text == "READ-ONLY-FOLDER note"
    if os.geteuid() != 0:  # root ignores the permission: the files may then differ
        assert sorted(p.name for p in state.iterdir()) == before


def test_cli_notes_and_no_notes(tmp_path, monkeypatch):
    import typer
    from typer.testing import CliRunner

    from analysis.cli.briefing import briefing_command
    from analysis.learning import LearningLog

    monkeypatch.setenv("FAIRSHARE_STATE_DIR", str(tmp_path / "state"))
    LearningLog().add(area=CLACKS, kind="case_study", source="Family hub", author="t",
                      date="2025-01-01", text="CLI-CASE-STUDY <b>as typed</b>")
    app = typer.Typer(add_completion=False)
    app.command()(briefing_command)
    runner = CliRunner()
    with_notes, without = tmp_path / "with.html", tmp_path / "without.html"
    done = runner.invoke(app, ["--area", CLACKS, "--format", "html", "--out", str(with_notes)])
    assert done.exit_code == 0, done.output
    assert "1 learning-log note" in done.output
    assert "CLI-CASE-STUDY <b>as typed</b>" in html_text(with_notes.read_bytes())
    done = runner.invoke(app, ["--area", CLACKS, "--format", "html", "--no-notes",
                               "--out", str(without)])
    assert done.exit_code == 0, done.output
    text = html_text(without.read_bytes())
    assert "CLI-CASE-STUDY" not in text and "What people and practitioners" not in text


def test_the_cli_start_does_not_import_the_learning_log():
    import subprocess
    import sys

    code = ("import sys, analysis.cli.briefing; print(','.join(m for m in sys.modules "
            "if m.startswith(('analysis.learning', 'sqlalchemy', 'alembic'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == ""
