"""Every CLI write error is one clear line, and no command makes folders outside the working
folder: `--out /dev/full`, `--out .`, `--out /nonexistent/dir/x.csv` (issue 16)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from analysis.cli import app
from tests.conftest import REPO

runner = CliRunner()
SCENARIO = str(REPO / "data" / "scenarios" / "gp-funding-toward-need.json")
MISSING_ROOT = Path("/nonexistent-fairshare-test")


def one_error_line(result) -> str:
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("Error: "), result.output
    return lines[-1]


@pytest.mark.parametrize("command", [
    ["access", "--service", "gp", "--area", "E08000010"],
    ["allocate", SCENARIO],
    ["briefing", "--area", "E08000010", "--format", "html"],
])
def test_out_in_a_missing_folder_outside_the_working_folder_is_refused(command):
    target = MISSING_ROOT / "dir" / "x.html"
    message = one_error_line(runner.invoke(app, [*command, "--out", str(target)]))
    assert "does not exist" in message
    assert not MISSING_ROOT.exists()


@pytest.mark.parametrize("command", [
    ["access", "--service", "gp", "--area", "E08000010"],
    ["allocate", SCENARIO],
])
def test_out_that_is_a_folder_is_refused(command, tmp_path):
    message = one_error_line(runner.invoke(app, [*command, "--out", str(tmp_path)]))
    assert "it is a folder" in message


def test_briefing_to_a_device_is_one_line():
    result = runner.invoke(app, ["briefing", "--area", "E08000010", "--format", "html",
                                 "--out", "/dev/full"])
    assert "not a folder" in one_error_line(result)


def test_missing_folder_inside_the_working_folder_is_created(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["access", "--service", "gp", "--area", "E08000010",
                                 "--out", "out/wigan.csv"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "wigan.csv").is_file()
    assert (tmp_path / "out" / "wigan.csv-metadata.json").is_file()


def test_batch_briefings_into_a_file_is_refused(tmp_path):
    afile = tmp_path / "not-a-folder.txt"
    afile.write_text("x")
    result = runner.invoke(app, ["briefing", "--all", "council", "--format", "html",
                                 "--out", str(afile)])
    assert "give a folder" in one_error_line(result)


def test_a_named_output_folder_is_made_only_where_its_parent_exists(tmp_path):
    import typer

    from analysis.cli.common import checked_output

    assert checked_output(tmp_path / "briefings", folder=True).is_dir()
    with pytest.raises(typer.Exit):
        checked_output(MISSING_ROOT / "a" / "briefings", folder=True)
    assert not MISSING_ROOT.exists()
