"""The Add data page: required fields marked, polarity suggested by kind, metadata shown as
plain text, uploads kept for the browser across a reload until discarded."""

from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analysis.data import load_pack_table
from analysis.ingest import load_uploads, new_token, read_upload
from tests.conftest import REPO

APP = str(REPO / "dashboard" / "app.py")
TOKEN = new_token()


@pytest.fixture
def state_dir(tmp_path, monkeypatch):
    folder = tmp_path / "state"
    monkeypatch.setenv("FAIRSHARE_STATE_DIR", str(folder))
    return folder


def open_add_data(token: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["area"] = "E08000010"
    if token:
        at.session_state["browser_token"] = token
    at.run()
    at.switch_page("views/add_data.py").run()
    assert not at.exception, at.exception
    return at


def wigan_upload(description: str = "A test.") -> tuple:
    codes = load_pack_table("england").query("ltla_code == 'E08000010'").index[:150]
    csv = pd.DataFrame({"area_code": codes, "value": range(150)}).to_csv(index=False)
    meta = {"id": "wigan_kept", "title": "Wigan **kept**", "description": description,
            "unit": "score", "kind": "need", "polarity": "higher_is_worse",
            "period": "2024", "geography": "auto", "licence": "OGL", "source": "test"}
    return read_upload(csv.encode(), "wigan.csv", meta)


def test_required_fields_are_marked_and_polarity_follows_kind(state_dir):
    at = open_add_data()
    labels = {w.key: w.label for w in [*at.text_input, *at.selectbox, *at.text_area]}
    for key in ("meta_id", "meta_title", "meta_description", "meta_unit", "meta_kind",
                "meta_polarity", "meta_period", "meta_source", "meta_licence"):
        assert labels[key].split(" (")[0].endswith("*"), labels[key]
    assert at.selectbox(key="meta_kind").value is None
    assert at.selectbox(key="meta_polarity").value is None  # no misleading default
    at.selectbox(key="meta_kind").set_value("need").run()
    assert at.selectbox(key="meta_polarity").value == "higher_is_worse"
    at.selectbox(key="meta_kind").set_value("provision").run()
    assert at.selectbox(key="meta_polarity").value == "higher_is_better"
    at.selectbox(key="meta_kind").set_value("outcome").run()
    assert at.selectbox(key="meta_polarity").value is None  # either way: the analyst chooses
    at.selectbox(key="meta_kind").set_value("context").run()
    assert at.selectbox(key="meta_polarity").value == "neutral"
    at.selectbox(key="meta_polarity").set_value("higher_is_better").run()
    at.selectbox(key="meta_kind").set_value("need").run()
    assert at.selectbox(key="meta_polarity").value == "higher_is_better"  # the choice stays


def test_metadata_is_shown_as_plain_text(state_dir):
    indicator, report = wigan_upload("See [the source](http://evil.example) **now**")
    at = open_add_data(TOKEN)
    at.session_state["upload_report"] = report
    at.session_state["upload_candidate"] = indicator
    at.run()
    captions = [c.value for c in at.caption]
    assert "See \\[the source\\](http\\://evil.example) \\*\\*now\\*\\*" in captions
    assert "**Wigan \\*\\*kept\\*\\***" in [m.value for m in at.markdown]


def test_an_upload_survives_a_reload_until_discarded(state_dir):
    indicator, report = wigan_upload()
    assert report.ok
    first = open_add_data(TOKEN)
    first.session_state["upload_report"] = report
    first.session_state["upload_candidate"] = indicator
    first.run()
    first.button(key="use_upload").click().run()
    assert not first.exception
    assert "wigan_kept" in first.session_state["uploaded_indicators"]
    stored, problems = load_uploads(TOKEN)
    assert list(stored) == ["wigan_kept"] and problems == []
    assert stored["wigan_kept"].data["value"].tolist() == list(map(float, range(150)))
    assert not any(state_dir.rglob("*.csv")) and (state_dir / "uploads" / TOKEN).is_dir()

    # a reload: a new session of the same browser (same token) gets the upload back
    reloaded = open_add_data(TOKEN)
    assert "wigan_kept" in reloaded.session_state["uploaded_indicators"]
    reloaded.switch_page("views/map.py").run()
    assert any("Wigan" in str(o) for o in reloaded.selectbox(key="ind").options) or (
        "wigan_kept" in reloaded.selectbox(key="ind").options)

    # another browser does not see it
    stranger = open_add_data(new_token())
    assert not stranger.session_state["uploaded_indicators"]

    # discarding removes it from the session and from the store
    reloaded.switch_page("views/add_data.py").run()
    reloaded.selectbox(key="discard_pick").set_value("wigan_kept")
    reloaded.button(key="discard_upload").click().run()
    assert not reloaded.exception
    assert "wigan_kept" not in reloaded.session_state["uploaded_indicators"]
    assert load_uploads(TOKEN) == ({}, [])
    assert not open_add_data(TOKEN).session_state["uploaded_indicators"]
