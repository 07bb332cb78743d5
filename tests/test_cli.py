"""The `fairshare` command line."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from analysis.cli import app

runner = CliRunner()


def test_info_json_reports_the_headline_counts():
    result = runner.invoke(app, ["info", "--json"])
    assert result.exit_code == 0, result.output
    facts = json.loads(result.output)
    assert facts["england_lsoa21"] == 33_755
    assert facts["scotland_dz11"] == 6_976
    assert facts["icbs"] == 42
    assert facts["local_authorities"] == 296
    assert facts["council_areas"] == 32
    assert facts["indicators"] >= 15
    assert facts["gp_practices"] == 6_378
    assert facts["stroke_units"] == 141
    assert facts["services"]["stroke_units_thrombectomy"] == 25
    assert facts["indicators_by_kind"]["need"] >= 10
    assert facts["vintages"]["iod2025"].startswith("2025")
    assert facts["licence"] == "Open Government Licence v3.0"


def test_info_text():
    result = runner.invoke(app, ["info"])
    assert result.exit_code == 0
    assert "england_icb" in result.output and "42" in result.output


def test_area_summary_for_wigan():
    result = runner.invoke(app, ["area", "E08000010", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["name"] == "Wigan"
    assert summary["population"] == 329_339
    assert 0 < summary["pct_most_deprived_quintile"] < 100


def test_area_unknown_code_lists_suggestions_and_fails():
    result = runner.invoke(app, ["area", "S1200005"])
    assert result.exit_code == 1
    assert "Unknown area code" in result.output and "S12000005" in result.output


def test_no_arguments_shows_help():
    result = runner.invoke(app, [])
    assert "info" in result.output and "dashboard" in result.output
