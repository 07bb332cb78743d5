"""The Add data page labels practice values attributed to LSOAs by the estimate."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from analysis.access.registrations import ESTIMATE_CAVEAT
from analysis.ingest import read_upload
from tests.conftest import REPO

APP = str(REPO / "dashboard" / "app.py")
WIGAN_FILE = REPO / "tests" / "fixtures" / "indicators" / "fingertips_smoking_wigan.csv"


def test_practice_upload_is_shown_as_estimated(tmp_path, monkeypatch):
    monkeypatch.setenv("FAIRSHARE_STATE_DIR", str(tmp_path / "state"))
    from analysis.access import registrations

    monkeypatch.setattr(registrations, "registrations_path", lambda: tmp_path / "none.parquet")
    meta = {"id": "qof_smoking_wigan", "title": "Smoking (QOF)", "description": "Smokers 15+",
            "unit": "%", "kind": "need", "polarity": "higher_is_worse", "period": "2023/24",
            "geography": "auto", "licence": "OGL", "source": "OHID Fingertips 91547",
            "map_practices_to": "auto"}
    indicator, report = read_upload(WIGAN_FILE.read_bytes(), WIGAN_FILE.name, meta)
    assert report.ok and indicator.meta.geography == "lsoa21"
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["area"] = "E08000010"
    at.run()
    at.switch_page("views/add_data.py").run()
    assert at.radio(key="meta_practices").value == "auto"
    at.session_state["upload_report"] = report
    at.session_state["upload_candidate"] = indicator
    at.run()
    assert not at.exception, at.exception
    warnings = [w.value for w in at.warning]
    # plain() escapes the colon for Markdown
    assert any(w.startswith("Estimated attribution\\: " + ESTIMATE_CAVEAT) for w in warnings)
    # the preview map is drawn (LSOA 2021) with the caveat in its caption
    assert any(ESTIMATE_CAVEAT in c.value for c in at.caption)
    assert not [i for i in at.info if "can't be previewed" in i.value]
    assert any(c.value.startswith("Map of 200 small areas") for c in at.caption)
