"""Tampered or swapped data files are detected: a SHA-256 per data file is recorded in the
manifest (or in an added package's ``indicator.yaml``) and checked when the file is read,
once per change of the file; ``fairshare info`` flags a mismatch and the Map page names the
file instead of drawing another indicator's values."""

from __future__ import annotations

import hashlib
import json
import os
import shutil

import pytest
from typer.testing import CliRunner

from analysis.cli import app
from analysis.data import DataFileError, IndicatorRegistry, integrity, read_parquet
from analysis.data.integrity import (
    checksum_problems,
    file_checksums,
    hashes_computed,
    record_checksums,
    recorded_checksums,
    sha256_file,
)
from tests.conftest import DATA

runner = CliRunner()
SWAPPED = ("data/indicators/imd2025_score/data.parquet does not match its recorded checksum: "
           "it may have been replaced or damaged; rebuild with `fairshare data build` or "
           "re-add the indicator")


@pytest.fixture
def recorded(data_copy):
    """A private copy of the dataset whose manifest records the checksums of its files."""
    record_checksums(data_copy)
    return data_copy


def swap(folder, victim: str = "imd2025_score", donor: str = "census2021_disabled_pct"):
    """Put another indicator's data file in place of ``victim``'s (a readable, valid file
    with the same kind of columns: only its checksum gives it away)."""
    target = folder / "indicators" / victim / "data.parquet"
    shutil.copyfile(folder / "indicators" / donor / "data.parquet", target)
    return target


def test_sha256_of_the_fips_example_and_of_files_in_a_folder(tmp_path):
    # FIPS 180-2, appendix B.1: SHA-256("abc")
    abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    (tmp_path / "manifest.json").write_text("{}", encoding="utf-8")
    (tmp_path / "a.csv").write_bytes(b"abc")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.parquet").write_bytes(b"")
    (tmp_path / "sub" / "notes.md").write_text("not data", encoding="utf-8")
    (tmp_path / ".staging-x").mkdir()
    (tmp_path / ".staging-x" / "data.parquet").write_bytes(b"half written")
    assert sha256_file(tmp_path / "a.csv") == abc
    assert file_checksums(tmp_path) == {"a.csv": abc, "sub/b.parquet": hashlib.sha256(
        b"").hexdigest()}


def test_recording_keeps_the_manifest_and_is_repeatable(data_copy):
    before = json.loads((data_copy / "manifest.json").read_text(encoding="utf-8"))
    first = record_checksums(data_copy)
    after = json.loads((data_copy / "manifest.json").read_text(encoding="utf-8"))
    assert {k: v for k, v in after.items() if k != "checksums"} == {
        k: v for k, v in before.items() if k != "checksums"}
    assert after["checksums"] == first == record_checksums(data_copy)
    # every file the build recorded has its checksum, and every indicator's data file
    for name in before["files"]:
        assert name in first or f"{name}/data.parquet" in first, name
    assert "indicators/imd2025_score/data.parquet" in first
    assert "geography/england_lsoa21.parquet" in first
    # only what the build wrote: an analyst's package beside the defaults keeps its own record
    extra = data_copy / "indicators" / "my_own"
    extra.mkdir()
    (extra / "data.parquet").write_bytes(b"PAR1")
    assert "indicators/my_own/data.parquet" not in record_checksums(data_copy)
    assert "indicators/my_own/data.parquet" in file_checksums(data_copy)


def test_the_shipped_dataset_records_checksums_and_matches_them():
    checksums = recorded_checksums(DATA)
    files = json.loads((DATA / "manifest.json").read_text(encoding="utf-8"))["files"]
    missing = [name for name in files
               if name not in checksums and f"{name}/data.parquet" not in checksums]
    assert not missing, "add them: python -m analysis.data.integrity record"
    assert checksum_problems(DATA) == []


def test_an_untouched_copy_passes_everywhere(recorded):
    registry = IndicatorRegistry()
    for indicator_id in registry.ids():
        assert len(registry.get(indicator_id).data) > 0
    assert checksum_problems(recorded) == []
    result = runner.invoke(app, ["info", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["checksum_problems"] == []


def test_a_swapped_indicator_file_fails_loudly_in_the_registry(recorded):
    swap(recorded)
    registry = IndicatorRegistry()
    with pytest.raises(DataFileError) as caught:
        registry.get("imd2025_score")
    assert str(caught.value) == SWAPPED
    assert len(registry.get("imd2025_decile").data) == 33_755  # the others still load


def test_a_swapped_file_is_flagged_by_info(recorded):
    swap(recorded)
    result = runner.invoke(app, ["info"])
    assert result.exit_code == 1
    assert f"replaced or damaged: {SWAPPED}" in result.output
    assert "Traceback" not in result.output
    as_json = runner.invoke(app, ["info", "--json"])
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout)["checksum_problems"] == [SWAPPED]


def test_a_truncated_file_is_reported_once_as_truncated(recorded):
    path = recorded / "indicators" / "imd2025_decile" / "data.parquet"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(DataFileError, match="indicator data unreadable"):
        IndicatorRegistry().get("imd2025_decile")
    result = runner.invoke(app, ["info", "--json"])
    facts = json.loads(result.stdout)
    assert len(facts["indicator_file_problems"]) == 1
    assert facts["checksum_problems"] == []  # named once, as unreadable or truncated


def test_a_swapped_geography_or_service_file_fails_on_read(recorded):
    shutil.copyfile(recorded / "services" / "gp_practices.parquet",
                    recorded / "services" / "stroke_units.parquet")
    with pytest.raises(DataFileError, match=r"data/services/stroke_units.parquet does not "
                                            r"match its recorded checksum.*`fairshare data "
                                            r"build`$"):
        read_parquet("services/stroke_units.parquet")
    assert len(read_parquet("services/gp_practices.parquet")) > 6_000


def test_each_file_is_hashed_once_per_change(recorded):
    registry = IndicatorRegistry()
    start = hashes_computed()
    registry.get("imd2025_score")
    assert hashes_computed() == start + 1
    for _ in range(50):
        registry.get("imd2025_score")
    assert hashes_computed() == start + 1  # verified from the cache: one stat per get
    path = recorded / "indicators" / "imd2025_score" / "data.parquet"
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    registry.get("imd2025_score")  # touched, not changed: hashed again, still passes
    assert hashes_computed() == start + 2
    shutil.copyfile(recorded / "indicators" / "imd2025_decile" / "data.parquet", path)
    with pytest.raises(DataFileError, match="does not match"):
        registry.get("imd2025_score")


def test_an_added_package_carries_its_own_checksum(recorded):
    folder = recorded / "indicators" / "imd2025_score"
    meta = folder / "indicator.yaml"
    digest = sha256_file(swap(recorded))
    # its own record wins over the manifest's (a package replaced after the build)
    meta.write_text(meta.read_text(encoding="utf-8") + f"data_sha256: {digest}\n",
                    encoding="utf-8")
    assert len(IndicatorRegistry().get("imd2025_score").data) == 33_755
    assert checksum_problems(recorded, {folder: {"data_sha256": digest}}) == []
    meta.write_text(meta.read_text(encoding="utf-8").replace(digest, "0" * 64),
                    encoding="utf-8")
    with pytest.raises(DataFileError, match="imd2025_score/data.parquet does not match"):
        IndicatorRegistry().get("imd2025_score")


def test_a_package_added_after_the_build_without_a_checksum_is_not_refused(recorded):
    # `fairshare indicators add --replace --force` of a shipped id writes added_on; until it
    # also writes data_sha256, the manifest's older record does not apply to it
    meta = swap(recorded).parent / "indicator.yaml"
    meta.write_text(meta.read_text(encoding="utf-8") + "added_on: '2026-01-01'\n",
                    encoding="utf-8")
    assert len(IndicatorRegistry().get("imd2025_score").data) == 33_755
    result = runner.invoke(app, ["info", "--json"])
    assert json.loads(result.stdout)["checksum_problems"] == []


def test_a_dataset_without_checksums_is_read_as_before(data_copy):
    manifest = json.loads((data_copy / "manifest.json").read_text(encoding="utf-8"))
    manifest.pop("checksums", None)
    (data_copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    swap(data_copy)
    assert recorded_checksums(data_copy) == {}
    assert len(IndicatorRegistry().get("imd2025_score").data) == 33_755


def test_the_one_off_command_records_and_checks(data_copy, capsys):
    assert integrity._main(["record", str(data_copy)]) == 0
    assert integrity._main(["check", str(data_copy)]) == 0
    swap(data_copy)
    assert integrity._main(["check", str(data_copy)]) == 1
    assert SWAPPED in capsys.readouterr().err
    assert integrity._main([]) == 2


def test_the_map_page_names_a_swapped_file(recorded):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import REPO

    swap(recorded)
    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=120)
    at.query_params["area"] = "E08000010"
    at.query_params["ind"] = "imd2025_score"
    at.run()
    at.switch_page("views/map.py").run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "The Map page could not be drawn for Wigan: " in errors
    assert "imd2025_score/data.parquet does not match its recorded checksum" in errors
    # the page stays usable: another indicator draws
    at.selectbox(key="ind").set_value("census2021_disabled_pct").run()
    assert not at.exception and not at.error
    assert at.title[0].value == "Map: Wigan"
