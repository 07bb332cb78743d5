"""Gaps found by fuzzing the metadata and the files: each is now refused or named plainly."""

from __future__ import annotations

import json
import os
import time

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.data import IndicatorError, IndicatorMeta
from analysis.data.indicators import INDICATOR_ID, parse_decimals
from analysis.ingest import (
    add_indicator,
    file_periods,
    load_uploads,
    new_token,
    read_upload,
    remove_indicator,
    save_upload,
    shipped_ids,
    state_dir,
)
from analysis.ingest.sessions import StateDirError, prune_expired, uploads_folder
from analysis.ingest.validation import too_large_message
from tests.ingest.test_indicator_io import FIXTURES, PLAIN, issue, rules

ICB = (FIXTURES / "icb.csv").read_bytes()
META = dict(PLAIN, id="gap_test", unit="score", aggregation="population_weighted_mean")


@pytest.fixture
def root(tmp_path):
    folder = tmp_path / "data" / "indicators"
    folder.mkdir(parents=True)
    return folder


@pytest.mark.parametrize("ident", ["evil\n", "evil\r\n", "ok\nevil", "e vil", "Evil", "-x",
                                   "a" * 65, "../x", "x/y", "x\x00"])
def test_ids_with_newlines_or_odd_characters_are_refused(ident, root):
    assert not INDICATOR_ID.match(ident)
    report = read_upload(ICB, "icb.csv", dict(META, id=ident))[1]
    assert "metadata" in rules(report)
    meta_file = root.parent / "meta.yaml"
    meta_file.write_text(yaml.safe_dump(dict(META, id=ident)), encoding="utf-8")
    with pytest.raises(Exception):  # noqa: B017 - validation error or IndicatorError
        add_indicator(FIXTURES / "icb.csv", meta_file, root=root)
    assert [p.name for p in root.iterdir()] == []  # no folder "evil\n"


@pytest.mark.parametrize("decimals", [1_000_000_000, -1, 11, 1.5, True, "lots", None, [2]])
def test_decimals_out_of_range_are_refused(decimals):
    report = read_upload(ICB, "icb.csv", dict(META, decimals=decimals))[1]
    problem = issue(report, "metadata")
    assert problem.column == "decimals" and "from 0 to 10" in problem.message
    with pytest.raises(IndicatorError, match="decimals"):
        IndicatorMeta.from_mapping(dict(META, decimals=decimals))


@given(st.one_of(st.integers(), st.floats(allow_nan=True), st.text(max_size=5),
                 st.booleans()))
@settings(max_examples=200)
def test_parse_decimals_only_accepts_0_to_10(raw):
    parsed = parse_decimals(raw)
    assert parsed is None or (isinstance(parsed, int) and 0 <= parsed <= 10)
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw <= 10:
        assert parsed == raw


def test_a_column_of_huge_numbers_is_an_error():
    text = ICB.decode("utf-8-sig").splitlines()
    header, rows = text[0], text[1:]
    cells = header.split(",")
    position = [c.strip().lower() for c in cells].index("value")
    huge = []
    for row in rows:
        parts = row.split(",")
        parts[position] = "1e308"
        huge.append(",".join(parts))
    report = read_upload("\n".join([header, *huge]).encode(), "huge.csv", META)[1]
    problem = issue(report, "impossible_value")
    assert "larger than 1e+15" in problem.message and not report.ok


@pytest.mark.parametrize("codec", ["utf-32", "utf-32-le", "utf-32-be"])
def test_utf32_files_are_detected_and_read(codec):
    text = ICB.decode("utf-8-sig")
    indicator, report = read_upload(text.encode(codec), "icb.csv", META)
    assert report.ok, report.to_text()
    assert any("UTF-32" in note for note in report.notes)
    plain, _ = read_upload(ICB, "icb.csv", META)
    assert indicator.data.equals(plain.data)


def test_too_large_names_two_different_sizes():
    limit = 50 * 1024 * 1024
    assert too_large_message(limit + 1, limit) == (
        "the file is 52,428,801 bytes; the limit is 52,428,800 bytes")
    assert too_large_message(60_000_000, limit) == "the file is 60.0 MB; the limit is 52.4 MB"
    assert too_large_message(limit + 20_000, limit) == (
        "the file is 52.45 MB; the limit is 52.43 MB")
    report = read_upload(b"x" * 11, "big.csv", META, max_bytes=10)[1]
    assert issue(report, "too_large").message == "the file is 11 bytes; the limit is 10 bytes"


def test_a_zero_denominator_is_named_as_such():
    csv = "area_code,value,numerator,denominator\nE01000001,10,10,100\nE01000002,,5,0\n"
    report = read_upload(csv.encode(), "zero.csv", dict(META, unit="%"))[1]
    assert "zero_denominator" in rules(report)
    assert "numerator_above_denominator" not in rules(report, "warning")
    assert not any("numerator(s) above the denominator" in i.message for i in report.issues)
    assert "zero denominator" in issue(report, "zero_denominator").message


def test_progress_is_reported_stage_by_stage():
    stages = []
    read_upload(ICB, "icb.csv", META, progress=lambda f, s: stages.append((f, s)))
    fractions = [f for f, _ in stages]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(stages) >= 4
    assert stages[0][1].startswith("Reading")


def test_the_periods_of_a_file_are_offered():
    csv = ("area_code,period,value\nE01000001,2021,1\nE01000001,2022,2\nE01000002,2022,3\n"
           "E01000002,2021,4\n")
    assert file_periods(csv.encode(), "p.csv") == ["2021", "2022"]
    fingertips = (FIXTURES / "fingertips_smoking_excerpt.csv").read_bytes()
    assert len(file_periods(fingertips, "ft.csv")) >= 1
    assert file_periods(ICB, "icb.csv") == [] and file_periods(b"\x00\x01", "x.csv") == []


@pytest.mark.parametrize("damage", ["{ not json", '{"sources": {}}', '{"files": []}'])
def test_a_broken_manifest_keeps_shipped_indicators_protected(root, damage):
    add_indicator(FIXTURES / "icb.csv", dict(PLAIN, id="protected"), root=root)
    manifest = root.parent / "manifest.json"
    manifest.write_text(json.dumps({"files": {"indicators/protected": {}}}), encoding="utf-8")
    manifest.write_text(damage, encoding="utf-8")
    with pytest.raises(Exception, match="cannot tell which indicators are shipped"):
        shipped_ids(root)
    with pytest.raises(IndicatorError, match="Not done: .*--force"):
        remove_indicator("protected", root=root)
    with pytest.raises(IndicatorError, match="Not done"):
        add_indicator(FIXTURES / "icb.csv", dict(PLAIN, id="protected"), root=root,
                      replace=True)
    assert (root / "protected").is_dir()
    remove_indicator("protected", root=root, force=True)
    assert not (root / "protected").exists()


def test_without_the_embedded_manifest_a_default_cannot_be_removed(data_copy):
    from typer.testing import CliRunner

    from analysis.cli.indicators import indicators_app

    (data_copy / "manifest.json").unlink()
    runner = CliRunner()
    result = runner.invoke(indicators_app, ["remove", "imd2025_decile"])
    assert result.exit_code == 1
    assert "manifest.json is missing" in result.output and "--force" in result.output
    assert (data_copy / "indicators" / "imd2025_decile" / "data.parquet").is_file()
    listing = runner.invoke(indicators_app, ["list"])
    assert listing.exit_code == 0 and "(added)" not in listing.output
    assert "cannot tell which indicators are shipped" in listing.output


def test_session_uploads_live_outside_data_and_only_for_valid_tokens(tmp_path, monkeypatch):
    from analysis.data import data_dir

    monkeypatch.setenv("FAIRSHARE_STATE_DIR", str(data_dir() / "indicators" / "state"))
    with pytest.raises(StateDirError, match="inside the embedded data folder"):
        state_dir()
    monkeypatch.setenv("FAIRSHARE_STATE_DIR", str(tmp_path / "state"))
    for bad in ("../../etc", "short", "a/b" * 10, "", None):
        with pytest.raises(StateDirError):
            uploads_folder(bad)
    indicator, report = read_upload(ICB, "icb.csv", META)
    token = new_token()
    save_upload(token, indicator)
    kept, problems = load_uploads(token)
    assert list(kept) == ["gap_test"] and problems == []
    assert load_uploads(token, reserved={"gap_test"})[0] == {}
    old = time.time() - 31 * 86_400
    os.utime(uploads_folder(token), (old, old))
    assert prune_expired() == [token]
    assert load_uploads(token) == ({}, [])
