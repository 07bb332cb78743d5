"""`fairshare data add-registrations`: NHS Digital's registrations-by-LSOA file stored
atomically, bad rows named, and removed again."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from analysis.access import registrations
from analysis.cli import app
from analysis.data import load_pack_table

runner = CliRunner()
HEADER = ("PUBLICATION,EXTRACT_DATE,PRACTICE_CODE,PRACTICE_NAME,LSOA_CODE,SEX,"
          "NUMBER_OF_PATIENTS\n")


@pytest.fixture
def stored(tmp_path, monkeypatch):
    path = tmp_path / "data" / "registrations" / "registrations.parquet"
    monkeypatch.setattr(registrations, "registrations_path", lambda: path)
    return path


def wigan_file(folder, sex_rows=("MALE", "FEMALE")):
    table = load_pack_table("england")
    lsoas = table.loc[table["ltla_code"] == "E08000010", "lsoa21_code"].astype(str)[:3]
    lines = [f"GP_PRAC_PAT_LIST,2024-04-01,{p},X,{lsoa},{sex},{25}\n"
             for p in ("P92001", "P92002") for lsoa in lsoas for sex in sex_rows]
    path = folder / "gp-reg-pat-prac-lsoa-male-female.csv"
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    return path


def test_data_add_registrations_stores_and_removes(stored, tmp_path):
    result = runner.invoke(app, ["data", "add-registrations", str(wigan_file(tmp_path)),
                                 "--json"])
    assert result.exit_code == 0, result.output
    facts = json.loads(result.output)
    assert facts["ok"] and facts["rows"] == 6 and facts["practices"] == 2
    assert facts["patients"] == 300 and facts["lsoa_vintage"] == "2021"
    assert facts["extract_date"] == "2024-04-01"
    assert stored.is_file() and not [p for p in stored.parent.iterdir() if p != stored]
    loaded = registrations.load_registrations()
    assert loaded.table["patients"].tolist() == [50.0] * 6  # MALE + FEMALE
    assert registrations.practice_weights().attribution == "registered"
    text = runner.invoke(app, ["data", "add-registrations", str(wigan_file(tmp_path))])
    assert text.exit_code == 0 and "300 patients of 2 practices in 3 LSOAs" in text.output
    removed = runner.invoke(app, ["data", "add-registrations", "--remove"])
    assert removed.exit_code == 0 and "Removed" in removed.output and not stored.exists()
    again = runner.invoke(app, ["data", "add-registrations", "--remove"])
    assert again.exit_code == 0 and "nothing removed" in again.output


def test_data_add_registrations_names_bad_rows(stored, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "GP_PRAC_PAT_LIST,2024-04-01,P92001,X,E01006212,MALE,ten\n",
                   encoding="utf-8")
    result = runner.invoke(app, ["data", "add-registrations", str(bad)])
    assert result.exit_code == 1
    assert "bad.csv, row 2, column NUMBER_OF_PATIENTS: 'ten'" in result.output
    as_json = json.loads(runner.invoke(app, ["data", "add-registrations", str(bad),
                                             "--json"]).output)
    assert as_json["problems"][0] == {"row": 2, "column": "NUMBER_OF_PATIENTS", "message":
                                      "'ten' is not a whole number of patients (0 or more)"}
    missing = runner.invoke(app, ["data", "add-registrations", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 1 and "no such file" in missing.output
    assert not stored.exists()
