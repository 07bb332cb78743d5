"""The server folder a deployment may open to the Equity audit page: files and Parquet
folders listed, nothing outside it reachable; and uploads read in memory with clear errors."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.audit.engine import ActivityError
from analysis.audit.run import (
    AUDIT_FOLDER_ENV,
    MAX_UPLOAD_BYTES,
    audit_folder,
    audit_sources,
    records_from_upload,
    resolve_audit_source,
)


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "a.csv").write_text("lsoa21_code,age\nE01000001,4\n")
    (tmp_path / "parts").mkdir()
    pd.DataFrame({"lsoa21_code": ["E01000001"], "age": [3]}).to_parquet(
        tmp_path / "parts" / "p1.parquet")
    (tmp_path / ".hidden.csv").write_text("x\n")
    (tmp_path / "notes.txt").write_text("x\n")
    return tmp_path


def test_the_folder_lists_files_and_parquet_folders(folder, monkeypatch):
    assert audit_sources(folder) == ["a.csv", "parts/", "parts/p1.parquet"]
    monkeypatch.delenv(AUDIT_FOLDER_ENV, raising=False)
    assert audit_folder() is None
    monkeypatch.setenv(AUDIT_FOLDER_ENV, str(folder))
    assert audit_folder() == folder.resolve()
    monkeypatch.setenv(AUDIT_FOLDER_ENV, str(folder / "missing"))
    assert audit_folder() is None


@pytest.mark.parametrize("name", ["../outside.csv", "/etc/passwd", "parts/../../x.csv"])
def test_nothing_outside_the_folder(folder, name):
    (folder.parent / "outside.csv").write_text("x\n")
    with pytest.raises(ActivityError, match="not inside the audit folder"):
        resolve_audit_source(folder, name)


def test_a_link_out_of_the_folder_is_refused(folder, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "secret.csv"
    elsewhere.write_text("x\n")
    (folder / "link.csv").symlink_to(elsewhere)
    with pytest.raises(ActivityError, match="not inside"):
        resolve_audit_source(folder, "link.csv")
    assert resolve_audit_source(folder, "parts/") == (folder / "parts").resolve()


def test_uploads_are_read_in_memory_with_clear_errors():
    frame = records_from_upload("v.csv", b"\xef\xbb\xbfLSOA21CD,Age\nE01000001,04\n")
    assert list(frame.columns) == ["LSOA21CD", "Age"] and frame.iloc[0, 1] == "04"
    with pytest.raises(ActivityError, match="not a CSV or Parquet"):
        records_from_upload("v.xlsx", b"PK")
    with pytest.raises(ActivityError, match="could not be read"):
        records_from_upload("v.parquet", b"not parquet")
    with pytest.raises(ActivityError, match="MB is more than"):
        records_from_upload("big.csv", b"x" * (MAX_UPLOAD_BYTES + 1))
