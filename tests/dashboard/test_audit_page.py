"""The Equity audit page in AppTest: the simulated example for Wigan runs end to end and is
labelled simulated; an upload with bad rows reports them by reason; a file without an area
column gets a message naming it, never a traceback; the result stays in this session."""

from __future__ import annotations

import pandas as pd

from analysis.audit.run import simulated_example
from tests.dashboard.test_dashboard_pages import open_page

WIGAN = "E08000010"


def _button(at, label: str):
    return next(b for b in at.button if b.label == label)


def _text(at) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [i.value for i in at.info] + [w.value for w in at.warning]
    parts += [e.value for e in at.error]
    return "\n".join(parts)


def test_the_simulated_example_runs_and_says_it_is_simulated():
    at = open_page("audit", WIGAN)
    at.radio(key="audit_source").set_value("example").run()
    _button(at, "Run the audit").click().run()
    assert not at.exception, at.exception
    text = _text(at)
    assert "simulated" in text.lower()
    assert "most deprived fifth" in text
    assert "lower than expected for their age" in text
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Records"] == "200,000"
    result = at.session_state["audit_result"]
    assert result.simulated and result.study.code == WIGAN
    # the most deprived fifth of Wigan uses the simulated service less than its age predicts
    q1 = result.by_quintile.set_index("quintile").loc[1]
    assert q1["ratio_upper"] < 100


class Upload:
    """What ``st.file_uploader`` returns, for setting the uploader's value in AppTest."""

    def __init__(self, name: str, data: bytes) -> None:
        self.name, self._data, self.size = name, data, len(data)

    def getvalue(self) -> bytes:
        return self._data


def _run_with_upload(monkeypatch, data: bytes):
    """The page with ``data`` uploaded as visits.csv, after pressing Run."""
    monkeypatch.setattr("streamlit.file_uploader",
                        lambda label, *a, **k: Upload("visits.csv", data)
                        if k.get("key") == "audit_file" else None)
    at = open_page("audit", WIGAN)
    _button(at, "Run the audit").click().run()
    assert not at.exception, at.exception
    return at


def test_records_of_another_area_layout_are_audited_and_bad_rows_counted(monkeypatch):
    records = simulated_example(5_000, WIGAN, seed=5).drop(columns=["simulated"])
    records = records.rename(columns={"lsoa21_code": "LSOA", "age": "AgeYears"})
    at = _run_with_upload(monkeypatch, records.to_csv(index=False).encode())
    result = at.session_state["audit_result"]
    assert not result.simulated
    assert result.rows == 5_000
    # the simulator's 1% faulty rows: 4 of its 6 kinds of fault exclude a record (an unknown
    # sex or ethnic code is counted as not known instead)
    assert set(result.excluded) == {"area_missing", "area_code_not_recognised", "age_missing",
                                    "age_not_valid"}
    assert 30 <= sum(result.excluded.values()) <= 37
    assert "simulated" not in _text(at).split("Equity audit of")[-1].lower()


def test_a_file_without_an_area_column_is_named_not_a_traceback(monkeypatch):
    data = pd.DataFrame({"age": [1, 2], "sex": [1, 2]}).to_csv(index=False).encode()
    at = _run_with_upload(monkeypatch, data)
    assert any("no small-area column" in e.value for e in at.error)
    assert "audit_result" not in at.session_state


def test_a_deployment_folder_of_extracts_can_be_audited(monkeypatch, tmp_path):
    records = simulated_example(4_000, WIGAN, seed=12)
    (tmp_path / "extracts").mkdir()
    records.to_parquet(tmp_path / "extracts" / "part-0.parquet", index=False)
    monkeypatch.setenv("FAIRSHARE_AUDIT_DIR", str(tmp_path))
    at = open_page("audit", WIGAN)
    at.radio(key="audit_source").set_value("server").run()
    at.selectbox(key="audit_server").set_value("extracts/").run()
    _button(at, "Run the audit").click().run()
    assert not at.exception, at.exception
    result = at.session_state["audit_result"]
    assert result.rows == 4_000 and result.simulated
