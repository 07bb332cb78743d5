"""`fairshare allocate` (issue 17): every figure in its scenario's unit, true minus signs,
counts that add up, released practices apart, the toward-target rule by default."""

from __future__ import annotations

import json
import re

import pandas as pd
from typer.testing import CliRunner

from analysis.cli import app
from tests.conftest import REPO

runner = CliRunner()
SCENARIOS = REPO / "data" / "scenarios"
ASCII_NEGATIVE = re.compile(r"£-|(?<![\w.])-\d")


def _run(*args: str):
    result = runner.invoke(app, ["allocate", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_fte_gp_scenario_prints_fte_gps_not_pounds():
    out = _run(str(SCENARIOS / "lsoa-gp-capacity-health-need.json"))
    assert "budget 29,238 FTE GPs; allocated 29,238 FTE GPs" in out
    assert "per-head figures in FTE GPs per 100,000 residents" in out
    assert "£" not in out  # was "budget £29,238"
    assert not ASCII_NEGATIVE.search(out)


def test_gp_scenario_prints_compact_money_and_reconciled_counts(tmp_path):
    csv = tmp_path / "result.csv"
    out = _run(str(SCENARIOS / "gp-funding-toward-need.json"), "--out", str(csv))
    assert "budget £10.2bn; allocated £10.2bn; per-head figures in £ per weighted patient" in out
    assert ("6,669 practices: 4,067 gain, 2,391 lose, 5 unchanged, and 206 released (no "
            "weighted patients; their £78.9m goes to the others).") in out
    assert "toward target (NHS England convention" in out
    assert "below their target: 93% → 92%" in out
    assert not ASCII_NEGATIVE.search(out)
    back = pd.read_csv(csv)
    assert len(back) == 6_669 and {"direction", "reason"} <= set(back.columns)
    assert (back.loc[back["direction"] == "released", "status"] == "zero population").all()
    sidecar = json.loads((tmp_path / "result.csv-metadata.json").read_text(encoding="utf-8"))
    units = {c["titles"]: c.get("schema:unitText") for c in sidecar["tableSchema"]["columns"]}
    assert units["allocation"] == "£" and units["allocation_per_head"] == "£ per weighted patient"


def test_json_summary_carries_the_rule_units_and_issue_counts():
    summary = json.loads(_run(str(SCENARIOS / "icb-gp-funding-health-need.json"), "--json"))
    assert summary["convergence"] == "toward_target" and summary["unit"] == "£"
    assert summary["under_target_losers"] == 0 and summary["over_target_gainers"] == 0
    assert summary["winners"] + summary["losers"] + summary["unchanged"] + \
        summary["released"] == summary["areas"] == 42


def test_nearest_rule_is_an_option_and_explains_itself(tmp_path):
    raw = json.loads((SCENARIOS / "icb-gp-funding-health-need.json").read_text("utf-8"))
    path = tmp_path / "nearest.json"
    path.write_text(json.dumps({**raw, "convergence": "nearest"}), encoding="utf-8")
    out = _run(str(path))
    assert "nearest allocation (residual spread per head" in out
    assert ("9 ICBs moved away from their target (2 under target lose, 0 over target gain, "
            "7 overshoot it)") in out
