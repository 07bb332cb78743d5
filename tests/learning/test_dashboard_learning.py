"""The Learning log page: a note added for the study area, listed with its parents' notes,
HTML and Markdown shown as text, personal data refused with the reason."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from analysis.data import resolve_area
from analysis.learning import LearningLog
from tests.conftest import REPO
from tests.learning.conftest import note_args

PAGE = str(REPO / "dashboard" / "views" / "learning.py")


class Area:  # what dashboard.state.StudyArea offers the page
    def __init__(self, code: str):
        ref = resolve_area(code)
        self.country, self.code, self.name, self.level = ref.country, code, ref.name, ref.level
        self.url_code = code


@pytest.fixture
def page(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'page.sqlite3'}"
    monkeypatch.setenv("FAIRSHARE_DATABASE_URL", url)

    def open_page(code: str = "E08000010") -> AppTest:
        at = AppTest.from_file(PAGE, default_timeout=60)
        at.session_state["study_area"] = Area(code)
        at.run()
        assert not at.exception, at.exception
        return at

    return open_page, LearningLog(url)


def test_a_note_added_on_the_page_is_saved_and_listed(page):
    open_page, log = page
    log.add(**note_args(area="E54000057", text="ICB-wide: <b>bold</b> [x](http://e)"))
    at = open_page("E08000010")
    assert at.title[0].value == "Learning log: Wigan"
    at.text_input(key="learning_author").input("Page Analyst").run()
    at.text_area(key="learning_text").input("Carers said **respite** is hard to find.")
    at.text_input(key="learning_source").input("Carers' forum")
    submit = next(b for b in at.get("button") if b.label == "Save note")
    submit.click().run()
    assert not at.exception, at.exception
    assert any("Saved note" in s.value for s in at.success)
    notes = log.list("E08000010")
    assert {n.text for n in notes} == {"Carers said **respite** is hard to find.",
                                       "ICB-wide: <b>bold</b> [x](http://e)"}
    shown = [t.value for t in at.text]
    assert "ICB-wide: <b>bold</b> [x](http://e)" in shown  # st.text: never rendered


def test_personal_data_is_refused_on_the_page(page):
    open_page, log = page
    at = open_page()
    at.text_input(key="learning_author").input("Page Analyst").run()
    at.text_area(key="learning_text").input("Call 07700 900123 about **this**")
    at.text_input(key="learning_source").input("Forum")
    next(b for b in at.get("button") if b.label == "Save note").click().run()
    assert at.error and "phone number" in at.error[0].value
    assert log.count(include_removed=True) == 0


def test_without_a_display_name_nothing_can_be_saved(page):
    open_page, _ = page
    at = open_page()
    submit = next(b for b in at.get("button") if b.label == "Save note")
    assert submit.disabled
    assert any("personal-data rule" in e.label for e in at.expander)
