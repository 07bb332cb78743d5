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


def test_access_stroke_prints_the_deprivation_gradient():
    result = runner.invoke(app, ["access", "--service", "stroke"])
    assert result.exit_code == 0, result.output
    assert "thrombectomy centre" in result.output
    first = next(line for line in result.output.splitlines() if line.strip().startswith("1 "))
    assert "27.2%" in first


def test_access_gp_writes_an_attributed_csv(tmp_path):
    out = tmp_path / "wigan.csv"
    result = runner.invoke(app, ["access", "--service", "gp", "--area", "E08000010",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    import pandas as pd

    table = pd.read_csv(out)  # plain CSV, header first
    assert len(table) == 200
    assert {"gp_access_list_places_per_1000", "gp_nearest_km"} <= set(table.columns)
    sidecar = out.with_name("wigan.csv-metadata.json")
    assert "Open Government Licence" in sidecar.read_text(encoding="utf-8")


def test_access_rejects_unknown_service():
    result = runner.invoke(app, ["access", "--service", "dentists"])
    assert result.exit_code == 1 and "gp, stroke" in result.output


def test_allocate_default_gp_scenario_json(tmp_path):
    from tests.conftest import REPO

    out = tmp_path / "result.csv"
    result = runner.invoke(app, ["allocate", str(REPO / "data" / "scenarios" /
                                                 "gp-funding-toward-need.json"),
                                 "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["areas"] == 6_669
    assert abs(summary["total_allocated"] - summary["budget"]) < 1.0
    # NHS England convention (toward target): under-target practices never lose
    assert summary["winners"] == 4_067 and summary["losers"] == 2_391
    assert summary["concentration_index_before"] > 0 > summary["concentration_index_after"]
    assert out.read_text(encoding="utf-8").startswith("area_code")
    sidecar = out.with_name("result.csv-metadata.json").read_text(encoding="utf-8")
    assert "Open Government Licence" in sidecar


def test_allocate_reports_a_bad_scenario(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": 1, "name": "x", "level": "icb", "alpha": 2}',
                   encoding="utf-8")
    result = runner.invoke(app, ["allocate", str(bad)])
    assert result.exit_code == 1
    assert "bad.json" in result.output and "Traceback" not in result.output
    missing = runner.invoke(app, ["allocate", str(tmp_path / "nope.json")])
    assert missing.exit_code == 1 and "not found" in missing.output


def test_indicators_commands_are_registered():
    result = runner.invoke(app, ["indicators", "list"])
    assert result.exit_code == 0, result.output
    assert "imd2025_score" in result.output
    shown = runner.invoke(app, ["indicators", "show", "iod2025_cidr"])
    assert shown.exit_code == 0 and "Comparative illness" in shown.output
