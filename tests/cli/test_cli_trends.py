"""``fairshare trends``: the Trends page's figures and statement on the command line."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from analysis.cli.main import app

runner = CliRunner()


def test_trends_json_for_greater_manchester_funding():
    result = runner.invoke(app, ["trends", "gp_access_funding_per_resident", "--area",
                                 "E54000057", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["periods"][0] == "2014-15" and payload["periods"][-1] == "2022-23"
    first, last = payload["trend"][0], payload["trend"][-1]
    assert round(first["quintile_gap"], 1) == 13.5 and round(last["quintile_gap"], 1) == 17.7
    assert first["areas"] == 1702
    assert "widened between 2014-15 and 2022-23" in payload["statement"]


def test_trends_text_and_refusals():
    result = runner.invoke(app, ["trends", "gp_access_gps_per_100k"])
    assert result.exit_code == 0, result.output
    assert "2023-24    SII    −3.3" in result.output
    assert "narrowed between 2015-16 and 2023-24" in result.output
    single = runner.invoke(app, ["trends", "imd2025_score"])
    assert single.exit_code == 1 and "has one period (2025)" in single.output
    assert "gp_access_gps_per_100k" in single.output
    unknown = runner.invoke(app, ["trends", "gp_access_gps_per_100k", "--area", "E99999999"])
    assert unknown.exit_code == 1
