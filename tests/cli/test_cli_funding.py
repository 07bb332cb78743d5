"""``fairshare gp-funding``: names its area and total, writes money and gaps as people read
them, aligns its table, offers both totals and prints the gap's interval in JSON."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from analysis.cli.main import app
from analysis.numbers import MINUS


def run(*args: str, code: int = 0) -> str:
    done = CliRunner().invoke(app, ["gp-funding", *args])
    assert done.exit_code == code, done.output
    return done.output


def test_england_headline_in_words_with_interval_and_total():
    out = run()
    assert out.startswith("NHS payments per weighted patient: England (E92000001), 2022-23")
    assert "excluding COVID and PCN payments" in out
    assert "£155.05 per weighted patient, against £170.77" in out
    assert "£15.72 (9.2%) less (95% CI 7.6% to 10.8%)" in out
    assert "Dispensing practices (mostly rural" in out and "drive the gap" in out
    assert "Practice-level test (6,441 practices" in out
    # no hyphen-minus before money or a number, no negative zero
    assert not re.search(r"£-|-\d|-0\.0%", out.replace("2022-23", "").replace("2020-21", ""))


def test_the_area_is_named():
    out = run("--area", "E54000057")
    assert "NHS Greater Manchester Integrated Care Board (E54000057)" in out.splitlines()[0]
    assert "No practice here dispenses" in out


def test_table_columns_line_up():
    lines = run().splitlines()
    table = lines[lines.index("") + 1: lines.index("") + 7]
    assert table[0].split()[0] == "Quintile"
    ends = {len(line.split("  £")[0]) for line in table[1:]}
    assert len(ends) == 1  # the count columns end in the same place on every row
    assert len({line.index("£") for line in table[1:]}) == 1


def test_without_dispensing_the_gap_and_the_regression_vanish():
    out = run("--no-dispensing")
    assert "£154.25 per weighted patient, against £154.26" in out
    assert "about the same (95% CI from 1.5% less to 1.5% more: not a clear difference)" in out
    assert "No clear relationship between provision and need (p = 0.81)" in out


def test_total_including_covid_and_pcn_reproduces_heec_method():
    out = run("--total", "including")
    assert "including COVID and PCN payments" in out
    assert "£167.49 per weighted patient, against £181.91" in out
    assert "£14.42 (7.9%) less" in out
    err = run("--total", "including", "--year", "2019-20", code=1)
    assert "published from 2020-21" in err
    assert "choose one of excluding, including" in run("--total", "all", code=1)


def test_json_carries_the_interval_total_and_nulls():
    data = json.loads(run("--json"))
    assert data["area_name"] == "England" and data["total"] == "excluding"
    assert data["measure"] == "total_payments"
    assert data["gap_pct_ci_lower"] == pytest.approx(-10.77, abs=0.01)
    assert data["gap_pct_ci_upper"] == pytest.approx(-7.61, abs=0.01)
    assert data["gap_gbp_ci_lower"] < data["gap_gbp"] < data["gap_gbp_ci_upper"]
    assert data["comparison"] == {"direction": "lower", "rule": "confidence interval"}
    assert data["gap_pct_without_dispensing"] == pytest.approx(-0.01, abs=0.01)
    cornwall = json.loads(run("--area", "E54000036", "--json"))  # strict JSON: no NaN
    assert cornwall["comparable"] is False and cornwall["small_groups"] == [5]
    assert cornwall["quintiles"][4]["ci_lower"] is None
    assert "too few to compare" in cornwall["reading"]


def test_small_group_is_not_the_headline():
    out = run("--area", "E54000036")
    assert "NHS Cornwall and the Isles of Scilly Integrated Care Board (E54000036)" in out
    assert "only 1 practice here" in out and "too few to compare" in out
    assert "63.0%" not in out and "None" not in out
    assert MINUS not in out.split("\n\n")[1]  # the table has no signed figures
