"""An indicator added with `fairshare indicators add` is counted by `fairshare info` and
offered on the map (on a private copy of the data)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from analysis.cli import app
from analysis.data import IndicatorRegistry
from analysis.explore import indicator_choices
from tests.conftest import REPO

FIXTURES = REPO / "tests" / "fixtures" / "indicators"
runner = CliRunner()


def test_added_indicators_appear_in_info_and_on_the_map(data_copy):
    before = json.loads(runner.invoke(app, ["info", "--json"]).output)
    added = runner.invoke(app, ["indicators", "add", str(FIXTURES / "lsoa11_counts.csv"),
                                "--meta", str(FIXTURES / "meta_lsoa11_counts.yaml")])
    assert added.exit_code == 0, added.output
    smoking = runner.invoke(app, ["indicators", "add",
                                  str(FIXTURES / "fingertips_smoking_excerpt.csv"),
                                  "--meta", str(FIXTURES / "meta_smoking.yaml")])
    assert smoking.exit_code == 0, smoking.output
    after = json.loads(runner.invoke(app, ["info", "--json"]).output)
    assert after["indicators"] == before["indicators"] + 2
    assert after["indicators_by_kind"]["need"] >= before["indicators_by_kind"]["need"] + 1
    registry = IndicatorRegistry()
    mappable = {m.id for m in indicator_choices(registry, "england")}
    assert "people_65_plus_2011" in mappable  # converted from LSOA 2011 to 2021
    assert registry.meta("people_65_plus_2011").geography == "lsoa21"
    # the repository's own registry is untouched
    assert not (REPO / "data" / "indicators" / "people_65_plus_2011").exists()
