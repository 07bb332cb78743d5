"""``fairshare audit``: a file of records in, the findings out as words, JSON, CSV with CSVW
and a briefing section; every problem one ``Error:`` line."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from analysis.audit.run import simulated_example
from analysis.cli import app
from tests.cli.test_cli_outputs import one_error_line

runner = CliRunner()
WIGAN = "E08000010"


@pytest.fixture(scope="module")
def records_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("audit") / "attendances.csv"
    simulated_example(30_000, WIGAN, seed=8).to_csv(path, index=False)
    return path


def test_json_has_the_documented_shape(records_csv):
    result = runner.invoke(app, ["audit", str(records_csv), "--json", "--service",
                                 "the family hub"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["rows"] == 30_000
    assert data["simulated"] is True  # the simulator's column travels with the file
    assert data["study_area"]["code"] == WIGAN and data["study_area"]["inferred"]
    assert set(data["excluded"]) <= {"area_missing", "area_code_not_recognised",
                                     "age_missing", "age_not_valid"}
    assert data["rows"] == data["events"] + sum(data["excluded"].values())
    quintiles = data["by_deprivation_quintile"]
    assert [q["quintile"] for q in quintiles] == [1, 2, 3, 4, 5]
    for q in quintiles:
        assert q["lower"] <= q["dsr"] <= q["upper"]
    assert data["verdict"].startswith("Use of the family hub")
    assert data["rate_unit"] == "per 100,000 a year"


def test_words_then_files_and_briefing(records_csv, tmp_path):
    out = tmp_path / "audit"
    briefing = tmp_path / "wigan.html"
    result = runner.invoke(app, ["audit", str(records_csv), "--area", WIGAN, "--out", str(out),
                                 "--briefing", str(briefing)])
    assert result.exit_code == 0, result.output
    assert "Equity audit of attendances: Wigan (E08000010), as chosen" in result.stdout
    assert "- Use of attendances by people living in the most deprived fifth" in result.stdout
    frame = pd.read_csv(out / "by_deprivation_quintile.csv")
    assert list(frame["quintile"]) == [1, 2, 3, 4, 5]
    assert (out / "by_deprivation_quintile.csv-metadata.json").is_file()
    html = briefing.read_text()
    assert "Equity audit of attendances" in html
    assert "Simulated records, not real patients." in html


def test_a_user_population_replaces_the_residents(records_csv, tmp_path):
    from analysis.data.geography import select_study_area
    from analysis.data.populations import age_population

    wigan = select_study_area("england", WIGAN, geometry=False).index
    pop = age_population("england")
    pop = pop[pop["area_code"].isin(wigan)][["area_code", "age_band", "population"]].copy()
    pop["population"] = (pop["population"] * 1.1).round()  # a registered list, say
    path = tmp_path / "registered.csv"
    pop.to_csv(path, index=False)
    result = runner.invoke(app, ["audit", str(records_csv), "--area", WIGAN, "--population",
                                 str(path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["population"] == "the population in registered.csv"
    base = json.loads(runner.invoke(app, ["audit", str(records_csv), "--area", WIGAN,
                                          "--json"]).stdout)
    # 10% more people, the same records: every standardised rate falls by 1/1.1
    for mine, theirs in zip(data["by_deprivation_quintile"], base["by_deprivation_quintile"],
                            strict=True):
        assert mine["dsr"] == pytest.approx(theirs["dsr"] / 1.1, rel=0.01)


def test_the_example_needs_no_file():
    result = runner.invoke(app, ["audit", "--example", "5000", "--area", WIGAN, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["simulated"] is True


@pytest.mark.parametrize(("args", "message"), [
    (["audit"], "give either ACTIVITY"),
    (["audit", "missing.csv"], "no such file"),
    (["audit", "--example", "5000", "--by", "height"], "unknown panel height"),
    (["audit", "--example", "5000", "--engine", "oracle"], "duckdb or spark"),
    (["audit", "--example", "5000", "--area", "E99999999"], "Unknown area code"),
    (["audit", "--example", "5000", "--briefing", "x.txt"], ".pdf, .html or .docx"),
])
def test_problems_are_one_line(args, message):
    line = one_error_line(runner.invoke(app, args))
    assert message in line


def test_a_file_without_an_area_column_names_its_columns(tmp_path):
    path = tmp_path / "visits.csv"
    path.write_text("age,sex\n4,1\n")
    line = one_error_line(runner.invoke(app, ["audit", str(path)]))
    assert "no small-area column" in line and "'age', 'sex'" in line


def test_a_bad_population_file_names_row_and_column(records_csv, tmp_path):
    path = tmp_path / "pop.csv"
    path.write_text("area_code,age_band,population\nE01006222,0-4,-3\n")
    result = runner.invoke(app, ["audit", str(records_csv), "--population", str(path)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    # the reader lists every problem, one per line, under the Error line
    first, *problems = [line for line in result.output.splitlines() if line.strip()]
    assert first.startswith("Error: ") and "pop.csv" in first
    assert problems == ["  data row 1 (line 2 counting the header), column 'population': "
                        "negative ('-3')"]
