"""`--out FILE.csv` writes a plain CSV and its CSVW sidecar beside it."""

from __future__ import annotations

import csv
import json

import pandas as pd
from typer.testing import CliRunner

from analysis.cli import app
from analysis.exports import validate_csvw

runner = CliRunner()


def test_access_out_writes_plain_csv_and_sidecar(tmp_path):
    out = tmp_path / "wigan.csv"
    result = runner.invoke(app, ["access", "--service", "gp", "--area", "E08000010",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "wigan.csv-metadata.json" in result.output
    table = pd.read_csv(out)  # no comment=, no encoding=: a plain CSV
    assert len(table) == 200 and table.columns[0] == "code"
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert len(rows) == 201 and rows[0][0] == "code"
    sidecar = json.loads((tmp_path / "wigan.csv-metadata.json").read_text(encoding="utf-8"))
    assert validate_csvw(out.read_bytes(), sidecar) == []
    columns = {c["titles"]: c for c in sidecar["tableSchema"]["columns"]}
    assert columns["gp_access_list_places_per_1000"]["schema:unitText"].startswith(
        "list places per 1,000")
    assert columns["population"]["datatype"] == "number"
    assert "Open Government Licence" in sidecar["dc:rights"]
    assert "July 2023" in sidecar["dc:temporal"]
    assert sidecar["url"] == "wigan.csv"
