"""``fairshare notes …`` and ``fairshare reviews due`` on both backends (the typer apps of
:mod:`analysis.cli.notes`, driven directly until they are registered in the main app)."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from analysis.cli.notes import notes_app, reviews_app

runner = CliRunner()
app = typer.Typer()
app.add_typer(notes_app, name="notes")
app.add_typer(reviews_app, name="reviews")


@pytest.fixture
def cli(log_url, monkeypatch):
    monkeypatch.setenv("FAIRSHARE_DATABASE_URL", log_url)
    monkeypatch.setenv("FAIRSHARE_AUTHOR", "CLI Analyst")

    def invoke(*args: str, code: int = 0):
        result = runner.invoke(app, list(args))
        assert result.exit_code == code, (result.output, result.exception)
        return result

    return invoke


ADD = ["notes", "add", "--area", "E08000010", "--kind", "community_voice", "--source",
       "Wigan parents' forum", "--date", "2025-06-01"]


def test_add_list_edit_remove_search(cli):
    out = cli(*ADD, "--text", "Buses to the <b>clinic</b> are rare", "--tag", "transport",
              "--json")
    note = json.loads(out.stdout)["note"]
    assert note["text"] == "Buses to the <b>clinic</b> are rare" and note["author"] == "CLI Analyst"
    listed = json.loads(cli("notes", "list", "--area", "E01006233", "--json").stdout)
    assert list(listed) == ["notes"] and [n["id"] for n in listed["notes"]] == [note["id"]]
    assert json.loads(cli("notes", "list", "--area", "E01006233", "--no-parents",
                          "--json").stdout) == {"notes": []}
    assert "1 note(s)" in cli("notes", "list", "--kind", "community voice").stdout
    cli("notes", "edit", str(note["id"]), "--text", "Buses are rare", "--reason", "shorter")
    shown = json.loads(cli("notes", "show", str(note["id"]), "--history", "--json").stdout)
    assert shown["note"]["version"] == 2 and len(shown["versions"]) == 2
    found = json.loads(cli("notes", "search", "buses", "--json").stdout)["notes"]
    assert [n["id"] for n in found] == [note["id"]]
    assert "Removed note" in cli("notes", "remove", str(note["id"]), "--reason", "dup").stdout
    assert json.loads(cli("notes", "list", "--json").stdout) == {"notes": []}
    removed = json.loads(cli("notes", "list", "--removed", "--json").stdout)["notes"]
    assert removed[0]["removed_by"] == "CLI Analyst"


@pytest.mark.parametrize(("args", "message"), [
    (["--area", "E0800001"], "Did you mean: E08"),
    (["--kind", "rumour"], "Unknown kind 'rumour'"),
    (["--text", "NHS 943 476 5919"], "contains an NHS number at characters 5–16"),
    (["--text", ""], "text is empty"),
    (["--date", "2999-01-01"], "in the future"),
    (["--link", "javascript:alert(1)"], "not an http:// or https:// address"),
    (["--indicator", "nope_indicator"], "Unknown indicator"),
])
def test_bad_input_gives_a_clear_error_and_writes_nothing(cli, args, message):
    base = dict(zip(ADD[2::2], ADD[3::2], strict=True)) | {"--text": "fine text"}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    flat = [item for pair in base.items() for item in pair]
    result = cli("notes", "add", *flat, code=1)
    assert message in result.output and result.output.startswith("Error: ")
    assert json.loads(cli("notes", "list", "--removed", "--json").stdout) == {"notes": []}


def test_a_name_is_warned_about(cli):
    result = cli(*ADD, "--text", "Mrs Smith said the buses are rare")
    assert "Warning:" in result.output and "Added note" in result.output


def test_unknown_note_ids_fail_cleanly(cli):
    assert "No note 999" in cli("notes", "show", "999", code=1).output
    assert "No note 999" in cli("notes", "remove", "999", code=1).output


def test_reviews_due_and_recorded(cli):
    made = json.loads(cli("notes", "add", "--area", "E08000010", "--kind", "decision",
                          "--source", "ICB board", "--text", "Fund a minibus pilot",
                          "--date", "2025-01-01", "--review-date", "2025-02-01",
                          "--json").stdout)["note"]
    due = json.loads(cli("reviews", "due", "--json").stdout)["reviews"]
    assert [r["note_id"] for r in due] == [made["id"]] and due[0]["due"] == "2025-02-01"
    assert "1 review(s) due" in cli("reviews", "due").stdout
    cli("reviews", "record", str(made["id"]), "--outcome", "Used daily",
        "--learned", "Evenings matter")
    assert json.loads(cli("reviews", "due", "--json").stdout) == {"reviews": []}
    cli("reviews", "schedule", str(made["id"]), "--date", "2025-03-01")
    assert len(json.loads(cli("reviews", "due", "--json").stdout)["reviews"]) == 1


def test_export_csv_with_sidecar_and_json(cli, tmp_path):
    cli(*ADD, "--text", "=1+1 and <i>tags</i>")
    out = tmp_path / "log.csv"
    cli("notes", "export", "--out", str(out))
    assert out.read_bytes().startswith(b"id,uid,area_code")
    assert (tmp_path / "log.csv-metadata.json").is_file()
    target = tmp_path / "log.json"
    cli("notes", "export", "--out", str(target))
    assert json.loads(target.read_text())["notes"][0]["text"] == "=1+1 and <i>tags</i>"
    assert "must end in .csv or .json" in cli("notes", "export", "--out",
                                               str(tmp_path / "x.txt"), code=1).output
