"""`fairshare area QUERY`: a code, a place name or a postcode, the same way."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from analysis.cli import app
from analysis.data import POSTCODE_ATTRIBUTION

runner = CliRunner()


def area(*args: str):
    return runner.invoke(app, ["area", *args])


def test_a_name_with_one_exact_match_shows_its_figures():
    result = area("wigan")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Wigan has 329,339 residents")


def test_a_name_in_json_includes_the_match():
    result = area("WIGAN", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert (out["code"], out["name"], out["population"]) == ("E08000010", "Wigan", 329_339)
    assert out["match"]["how"] == "name" and out["match"]["level"] == "ltla"


def test_a_lower_case_code_with_spaces_is_the_code():
    result = area(" e08000010 ", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["name"] == "Wigan" and out["match"]["how"] == "code"


def test_an_icb_by_its_short_name():
    result = area("greater manchester", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["code"] == "E54000057"


def test_a_wigan_postcode_shows_its_lsoa_parents_attribution_then_figures():
    result = area("WN1 1AA")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Postcode WN1 1AA"
    assert lines[1] == "  LSOA 2021: Wigan 008C (E01006369)"
    assert "  in Local authority: Wigan (E08000010)" in lines
    assert ("  in Integrated care board: NHS Greater Manchester Integrated Care Board "
            "(E54000057)") in lines
    assert POSTCODE_ATTRIBUTION in lines
    assert lines[-1].startswith("Wigan 008C has 2,032 residents")


def test_a_scottish_postcode_in_json():
    result = area("FK10 1AD", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["code"] == "S01007466" and out["population"] == 883
    assert out["match"]["postcode"] == "FK10 1AD"
    assert out["match"]["parents"][-1] == {"level": "Council area", "code": "S12000005",
                                           "name": "Clackmannanshire"}
    assert out["attribution"] == POSTCODE_ATTRIBUTION


def test_a_terminated_postcode_carries_its_note():
    result = area("WN1 1AB")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].startswith("Postcode WN1 1AB (terminated postcode")


def test_several_close_matches_are_listed_with_how_to_choose():
    result = area("St Helens")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Areas matching 'St Helens':"
    assert lines[1].split()[0] == "E08000013" and "Local authority" in lines[1]
    assert any(line.split()[0] == "E05000993" and "(in Barnsley)" in line for line in lines)
    assert "fairshare area CODE" in lines[-1]
    assert "residents" not in result.output


def test_several_close_matches_in_json():
    result = area("clackmanan", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert [m["code"] for m in out["matches"]][:2] == ["S12000005", "S02001400"]
    assert "fairshare area CODE" in out["hint"]


def test_a_welsh_postcode_is_outside_and_fails():
    result = area("CF10 1AA")
    assert result.exit_code == 1
    assert "in Wales, outside England and Scotland" in result.output
    assert "Royal Mail" in result.output


def test_nonsense_fails_with_what_to_try():
    result = area("qwxzv plimth")
    assert result.exit_code == 1
    assert "No area, code or postcode matches 'qwxzv plimth'" in result.output


def test_an_unknown_code_still_lists_the_closest_codes():
    result = area("S1200005")
    assert result.exit_code == 1
    assert "Unknown area code" in result.output and "S12000005" in result.output
