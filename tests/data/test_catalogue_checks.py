"""`fairshare info` flags damaged indicator files and prints vintages that are vintages;
`fairshare indicators list` lines up its columns."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from analysis.cli import app
from analysis.cli.indicators import aligned
from analysis.data.catalogue import dataset_info

runner = CliRunner()


def test_a_healthy_dataset_has_no_file_problems():
    facts = dataset_info()
    assert facts["indicator_file_problems"] == []
    assert facts["vintages"]["scotland_census_age"] == "Census 2022 (year inferred from the total)"
    assert not any("total " in v for v in facts["vintages"].values())  # a vintage is a date


def test_info_flags_a_truncated_and_a_missing_indicator_file(data_copy):
    decile = data_copy / "indicators" / "imd2025_decile" / "data.parquet"
    decile.write_bytes(decile.read_bytes()[: len(decile.read_bytes()) // 2])
    (data_copy / "indicators" / "gp_nearest_km" / "data.parquet").unlink()
    result = runner.invoke(app, ["info"])
    assert result.exit_code == 1
    assert "damaged data file: imd2025_decile:" in result.output
    assert "unreadable or truncated" in result.output
    assert "damaged data file: gp_nearest_km: data file missing" in result.output
    as_json = runner.invoke(app, ["info", "--json"])
    assert as_json.exit_code == 1
    problems = json.loads(as_json.stdout)["indicator_file_problems"]
    assert len(problems) == 2


def test_info_flags_a_file_with_fewer_rows_than_built(data_copy):
    import pandas as pd

    path = data_copy / "indicators" / "imd2025_score" / "data.parquet"
    pd.read_parquet(path).head(100).to_parquet(path, index=False)
    problems = dataset_info()["indicator_file_problems"]
    assert problems == [f"imd2025_score: {path} has 100 rows; the manifest recorded 33,755 "
                        "when the dataset was built"]


def test_indicator_list_columns_line_up():
    result = runner.invoke(app, ["indicators", "list"])
    assert result.exit_code == 0
    lines = [line for line in result.output.splitlines() if line.startswith("  ")]
    header = lines[0]
    starts = [header.index(name) for name in ("kind", "geography", "period", "title")]
    for line in lines[1:]:
        for start in starts:
            assert line[start - 2:start] == "  " and line[start] != " ", line
    assert aligned(("a", "bb"), [("long", "x"), ("s", "y")]) == ["a     bb", "long  x",
                                                                 "s     y"]
