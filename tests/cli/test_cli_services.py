"""``fairshare services validate|add|list|show|remove|recover|access``."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from analysis.cli.services import services_app
from tests.conftest import REPO

FIXTURES = REPO / "tests" / "fixtures" / "services"
PHARMACIES = str(FIXTURES / "pharmacies_wigan_ods.csv")
PHARMACY_META = str(FIXTURES / "pharmacies_wigan.yaml")
LIBRARIES = str(FIXTURES / "libraries_clackmannanshire.csv")
LIBRARY_META = str(FIXTURES / "libraries_clackmannanshire.yaml")

# the group as analysis.cli.main registers it
app = typer.Typer()
app.add_typer(services_app, name="services")
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, ["services", *args])


def test_validate_prints_the_placing_and_exits_1_on_errors():
    ok = run("validate", LIBRARIES, "--meta", LIBRARY_META)
    assert ok.exit_code == 0, ok.output
    assert "placed in an LSOA 2021 / data zone 9 (100.0%)" in ok.output
    assert "Result: OK" in ok.output
    bad = run("validate", PHARMACIES, "--json")
    assert bad.exit_code == 1
    report = json.loads(bad.output)
    assert (report["rows"], report["geocoded"]) == (62, 61)
    assert report["not_placed"][0]["row"] == 63
    skipped = run("validate", PHARMACIES, "--skip-unplaced")
    assert skipped.exit_code == 0 and "not placed: row 63" in skipped.output
    nothing = run("validate", str(FIXTURES / "sites_no_location.csv"))
    assert nothing.exit_code == 1 and "no location column" in nothing.output


def test_add_json_lists_rows_geocoded_and_not_placed(tmp_path):
    root = str(tmp_path / "registry")
    refused = run("add", PHARMACIES, "--meta", PHARMACY_META, "--root", root, "--json")
    assert refused.exit_code == 1
    payload = json.loads(refused.stdout)
    assert payload["added"] is None and payload["not_placed"][0]["postcode"] == "WN9 9ZZ"
    assert not (tmp_path / "registry").exists() or not list((tmp_path / "registry").iterdir())
    added = run("add", PHARMACIES, "--meta", PHARMACY_META, "--root", root, "--json",
                "--skip-unplaced")
    assert added.exit_code == 0, added.output
    payload = json.loads(added.stdout)
    assert {k: payload[k] for k in ("added", "rows", "geocoded")} == {
        "added": "wigan_pharmacies_test", "rows": 62, "geocoded": 61}
    assert [p["row"] for p in payload["not_placed"]] == [63]
    again = run("add", PHARMACIES, "--meta", PHARMACY_META, "--root", root, "--skip-unplaced")
    assert again.exit_code == 1 and "--replace" in again.output
    replaced = run("add", PHARMACIES, "--meta", PHARMACY_META, "--root", root,
                   "--skip-unplaced", "--replace")
    assert replaced.exit_code == 0 and "Replaced wigan_pharmacies_test (61 sites)" in (
        replaced.output)


def test_column_option_names_a_column(tmp_path):
    path = tmp_path / "hubs.csv"
    path.write_text("Hub,Where\nA (test),FK10 1HT\n", encoding="utf-8")
    named = run("validate", str(path), "--column", "postcode=Where", "--json")
    assert named.exit_code == 0, named.output
    assert json.loads(named.output)["columns"]["postcode"] == "Where"
    wrong = run("validate", str(path), "--column", "postcode")
    assert wrong.exit_code == 1 and "ROLE=COLUMN" in wrong.output


def test_list_show_and_remove(tmp_path):
    root = str(tmp_path / "registry")
    assert run("add", LIBRARIES, "--meta", LIBRARY_META, "--root", root).exit_code == 0
    listed = run("list", "--root", root)
    assert "clacks_libraries_test" in listed.output and "library" in listed.output
    assert json.loads(run("list", "--root", root, "--json").output)["services"][0][
        "sites"] == 9
    shown = run("show", "clacks_libraries_test", "--root", root)
    assert shown.exit_code == 0 and "9 in an LSOA 2021 / data zone" in shown.output
    assert "166 staffed hours a week over 9 sites" in shown.output
    data = json.loads(run("show", "clacks_libraries_test", "--root", root, "--json").output)
    assert data["sites"]["by_country"] == {"S": 9}
    unknown = run("show", "clacks_library_test", "--root", root)
    assert unknown.exit_code == 1 and "Did you mean: clacks_libraries_test" in unknown.output
    assert run("remove", "clacks_libraries_test", "--root", root).exit_code == 0
    assert run("remove", "clacks_libraries_test", "--root", root).exit_code == 1
    assert "Nothing to recover." in run("recover", "--root", root).output


def test_the_shipped_hospitals_are_listed_and_protected(data_copy):
    listed = json.loads(run("list", "--json").output)
    hospitals = next(s for s in listed["services"] if s["id"] == "nhs_hospitals_2022")
    assert hospitals["shipped"] is True and hospitals["sites"] == 1_209
    refused = run("remove", "nhs_hospitals_2022")
    assert refused.exit_code == 1 and "--force" in refused.output


def test_access_writes_a_csv_with_its_csvw_sidecar(tmp_path):
    root = str(tmp_path / "registry")
    run("add", LIBRARIES, "--meta", LIBRARY_META, "--root", root)
    out = tmp_path / "libraries_access.csv"
    done = run("access", "clacks_libraries_test", "--root", root, "--out", str(out))
    assert done.exit_code == 0, done.output
    frame = pd.read_csv(out)
    assert len(frame) == 72 and frame["code"].str.startswith("S01").all()
    assert frame.columns.tolist() == ["code", "name", "population", "nearest_km",
                                      "nearest_site", "sites_within", "e2sfca"]
    sidecar = json.loads((tmp_path / "libraries_access.csv-metadata.json").read_text())
    assert sidecar["dc:title"] == ("Access to Libraries in Clackmannanshire (test fixture), "
                                   "Clackmannanshire (S12000005)")
    columns = {c["name"]: c for c in sidecar["tableSchema"]["columns"]}
    assert columns["e2sfca"]["dc:title"].endswith("within reach (E2SFCA)")
    assert columns["e2sfca"]["schema:unitText"] == "staffed hours a week per 1,000 residents"
    assert columns["nearest_km"]["schema:unitText"] == "km"
    assert "Wrote 72 areas" in done.output
    assert "staffed hours a week per 1,000 residents" in done.output


def test_access_options_measure_area_and_road_factor(tmp_path):
    out = tmp_path / "hospitals.csv"
    done = run("access", "nhs_hospitals_2022", "--area", "E08000010", "--measure", "nearest",
               "--road-factor", "1.3", "--out", str(out))
    assert done.exit_code == 0, done.output
    frame = pd.read_csv(out)
    assert frame.columns.tolist() == ["code", "name", "population", "nearest_km",
                                      "nearest_site"]
    assert len(frame) == 200
    assert "straight line × 1.3" in done.output
    straight = tmp_path / "straight.csv"
    run("access", "nhs_hospitals_2022", "--area", "E08000010", "--measure", "nearest",
        "--out", str(straight))
    expected = pd.read_csv(straight)["nearest_km"] * 1.3
    # both are rounded to the metre: at most 0.5 m + 1.3 × 0.5 m apart
    assert (frame["nearest_km"] - expected).abs().max() <= 0.00116


@pytest.mark.parametrize("args, message", [
    (["--measure", "fastest"], "--measure must be one of"),
    (["--area", "E99999999"], "Unknown area code"),
    (["--road-factor", "0.5"], "road_factor must be at least 1"),
])
def test_access_errors_are_one_line(tmp_path, args, message):
    done = run("access", "nhs_hospitals_2022", *args, "--out", str(tmp_path / "x.csv"))
    assert done.exit_code == 1
    assert message in done.output and "Traceback" not in done.output
    assert not (tmp_path / "x.csv").exists()


def test_access_checks_the_output_before_any_work(tmp_path):
    folder = tmp_path / "a_folder"
    folder.mkdir()
    done = run("access", "nhs_hospitals_2022", "--out", str(folder))
    assert done.exit_code == 1 and "it is a folder" in done.output


def test_access_can_save_its_indicators_to_the_indicator_registry(tmp_path):
    from analysis.data import IndicatorRegistry

    root = str(tmp_path / "registry")
    run("add", LIBRARIES, "--meta", LIBRARY_META, "--root", root)
    indicators = tmp_path / "indicators"
    indicators.mkdir()
    done = run("access", "clacks_libraries_test", "--root", root, "--out",
               str(tmp_path / "a.csv"), "--measure", "e2sfca", "--save-indicators",
               "--indicators-root", str(indicators))
    assert done.exit_code == 0, done.output
    saved = IndicatorRegistry(indicators).get("clacks_libraries_test_e2sfca")
    assert saved.meta.kind == "provision" and saved.meta.geography == "dz11"
    assert len(saved.data) == 72 and saved.meta.extra["service_id"] == "clacks_libraries_test"
