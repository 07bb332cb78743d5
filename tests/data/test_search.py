"""Area search by code, postcode and name, on the embedded geography and postcode index.

The postcodes were looked up in the embedded index while writing the tests: WN1 1AA (live,
Wigan 008C), WN1 1AB (terminated, also Wigan 008C), FK10 1AD (live, Alloa South and East - 06,
Clackmannanshire), CF10 1AA (Cardiff, Wales) and BT1 1AA (Belfast, Northern Ireland).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.data import AreaMatch, search_areas
from analysis.data.geography import PACKS, load_pack_table
from analysis.data.search import normalise_name, search_index


def top(query: str, **kwargs) -> AreaMatch:
    found = search_areas(query, **kwargs)
    assert found, f"nothing found for {query!r}"
    return found[0]


@pytest.mark.parametrize("query", ["wigan", "Wigan", "WIGAN", "  wigan  "])
def test_wigan_in_any_case_is_the_local_authority_first(query):
    found = search_areas(query)
    assert (found[0].code, found[0].level, found[0].how) == ("E08000010", "ltla", "name")
    assert found[0].name == "Wigan" and found[0].score == 100.0
    assert found[0].level_label == "Local authority" and found[0].country == "england"
    # the larger area comes before the LSOAs named after it
    levels = [m.level for m in found]
    assert "lsoa21" in levels and levels.index("ltla") < levels.index("lsoa21")
    assert any(m.name == "Wigan 001A" for m in found)
    assert ("Integrated care board", "E54000057",
            "NHS Greater Manchester Integrated Care Board") in found[0].parents


def test_greater_manchester_is_the_icb_before_its_sub_icb_locations():
    found = search_areas("greater manchester")
    assert found[0].code == "E54000057" and found[0].level == "icb"
    assert found[0].score == 100.0
    assert {m.level for m in found[1:]} == {"sicbl"}  # NHS Greater Manchester ICB - 00T …
    assert top("NHS Greater Manchester ICB").code == "E54000057"
    assert top("nhs greater manchester integrated care board").code == "E54000057"


def test_clackmannanshire_exact_and_with_a_typo():
    exact = search_areas("Clackmannanshire")
    assert [(m.code, m.level, m.score) for m in exact] == [("S12000005", "council", 100.0)]
    typo = search_areas("clackmanan")
    # the typo ties with the intermediate zone "Clackmannan, Kennet and Forestmill"; the
    # larger area comes first
    assert typo[0].code == "S12000005" and typo[0].how == "name"
    assert typo[0].score < 80  # fuzzy band
    assert "S02001400" in [m.code for m in typo]


@pytest.mark.parametrize("query", ["St Helens", "St. Helens", "st helens", "Saint Helens"])
def test_st_helens_with_or_without_the_full_stop(query):
    found = search_areas(query)
    assert found[0].code == "E08000013" and found[0].name == "St. Helens"
    exact = [m for m in found if m.score == 100.0]
    # the wards called St Helens (Barnsley, Hastings) and St. Helen's (Kensington) are exact
    # too; the local authority leads them
    assert {"E05000993", "E05011212", "E05009404"} <= {m.code for m in exact}


def test_ampersand_and_and_are_the_same():
    assert top("Brighton and Hove").code == "E06000043"
    assert top("Brighton & Hove").code == "E06000043"
    assert top("brighton  &  hove").score == 100.0
    assert normalise_name("Patcham & Hollingbury") == "patcham and hollingbury"


def test_inverted_ons_names_and_missing_words():
    assert top("Bristol").code == "E06000023"  # "Bristol, City of"
    assert top("City of Bristol").code == "E06000023"
    kingston = top("kingston thames")  # "Kingston upon Thames": a word left out
    assert kingston.code == "E09000021" and 80 <= kingston.score < 90
    assert top("wigan borough").code == "E08000010"  # a word too many: fuzzy
    assert top("manchestr").code == "E08000003"


def test_accents_are_ignored():
    assert normalise_name("Ynys Môn") == "ynys mon"
    assert top("Clàckmannanshire").code == "S12000005"
    assert top("WÏGAN").code == "E08000010"


@pytest.mark.parametrize("query", ["E08000010", "e08000010 ", " e08 000010", "E08000010\t"])
def test_codes_are_exact_whatever_the_case_and_spaces(query):
    found = search_areas(query)
    assert len(found) == 1
    assert (found[0].code, found[0].name, found[0].how) == ("E08000010", "Wigan", "code")


def test_nhs_ods_codes_open_the_icb_and_sub_icb_location():
    assert top("QOP").code == "E54000057"
    assert top("02h").code == "E38000205"  # NHS Greater Manchester ICB - 02H (Wigan)


def test_an_lsoa_by_name_is_exact_and_lists_its_parents():
    found = top("Wigan 001A")
    assert (found.code, found.level, found.score) == ("E01006315", "lsoa21", 100.0)
    assert [label for label, _, _ in found.parents] == [
        "Ward (2024)", "Local authority", "Sub-ICB location", "Integrated care board", "Region"]
    assert found.parents[1] == ("Local authority", "E08000010", "Wigan")


def test_a_wigan_postcode_opens_its_lsoa_with_every_parent():
    found = search_areas("wn11aa")
    assert len(found) == 1
    match = found[0]
    assert (match.code, match.name, match.level) == ("E01006369", "Wigan 008C", "lsoa21")
    assert match.how == "postcode" and match.postcode == "WN1 1AA" and match.note == ""
    assert match.parents == (
        ("Ward (2024)", "E05015011", "Wigan West"),
        ("Local authority", "E08000010", "Wigan"),
        ("Sub-ICB location", "E38000205", "NHS Greater Manchester ICB - 02H"),
        ("Integrated care board", "E54000057", "NHS Greater Manchester Integrated Care Board"),
        ("Region", "E12000002", "North West"),
    )
    assert match.label() == "WN1 1AA → Wigan 008C · LSOA 2021 · E01006369"


def test_a_clackmannanshire_postcode_opens_its_data_zone():
    match = top("FK10 1AD")
    assert (match.code, match.name, match.level) == (
        "S01007466", "Alloa South and East - 06", "dz11")
    assert match.parents == (
        ("Intermediate zone 2011", "S02001402", "Alloa South and East"),
        ("Council area", "S12000005", "Clackmannanshire"),
    )


def test_a_terminated_postcode_still_opens_its_area_with_a_note():
    match = top("WN1 1AB")
    assert match.code == "E01006369" and match.how == "postcode"
    assert "terminated" in match.note


@pytest.mark.parametrize(("query", "place"), [("CF10 1AA", "Wales"),
                                              ("bt1 1aa", "Northern Ireland")])
def test_welsh_and_northern_irish_postcodes_are_outside(query, place):
    found = search_areas(query)
    assert len(found) == 1 and not found[0].is_area
    assert found[0].level == "postcode" and found[0].country == place.lower()
    assert f"in {place}, outside England and Scotland" in found[0].note


def test_a_postcode_not_in_the_index_says_so():
    match = top("ZZ9 9ZZ")
    assert not match.is_area and "not in the embedded postcode index" in match.note


@pytest.mark.parametrize("query", ["qwxzv plimth", "zzzzzz", "xq", "", "   ", "!!!"])
def test_nonsense_finds_nothing(query):
    assert search_areas(query) == []


@pytest.mark.parametrize("limit", [1, 3, 7])
def test_limit_is_respected(limit):
    assert len(search_areas("wigan", limit=limit)) == limit
    assert len(search_areas("a", limit=limit)) == limit


def test_country_filter():
    assert search_areas("wigan", country="scotland") == []
    assert {m.country for m in search_areas("a", country="scotland", limit=20)} == {"scotland"}
    assert top("clackmanan", country="scotland", limit=1).code == "S12000005"


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_bad_limit_is_an_error(bad):
    with pytest.raises(ValueError, match="limit"):
        search_areas("wigan", limit=bad)


def test_bad_country_and_query_are_errors():
    with pytest.raises(ValueError, match="Unknown country"):
        search_areas("wigan", country="wales")
    with pytest.raises(ValueError, match="expects text"):
        search_areas(None)  # type: ignore[arg-type]


def test_ranking_is_by_score_then_larger_area():
    found = search_areas("wig", limit=10)
    assert found[0].code == "E08000010"  # Wigan LA first of the prefix matches
    keys = [(-m.score, -[lv.key for lv in PACKS[m.country].levels].index(m.level))
            for m in found]
    assert keys == sorted(keys)


def test_to_dict_is_json_ready():
    import json

    data = top("WN1 1AA").to_dict()
    assert data["parents"][1] == {"level": "Local authority", "code": "E08000010",
                                  "name": "Wigan"}
    assert json.loads(json.dumps(data))["postcode"] == "WN1 1AA"


def test_the_index_covers_every_area_of_every_level():
    entries = search_index()["entries"]
    expected = sum(load_pack_table(spec.country)[lv.code_column].nunique()
                   for spec in PACKS.values() for lv in spec.levels)
    assert len(entries) == expected > 45_000
    assert entries["code"].is_unique


def _all_codes() -> list[str]:
    return search_index()["entries"]["code"].tolist()


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_any_exact_code_of_any_level_is_found_first(data):
    codes = _all_codes()
    code = data.draw(st.sampled_from(codes))
    spaced = data.draw(st.sampled_from([code, code.lower(), f" {code} ", code.swapcase()]))
    found = search_areas(spaced)
    assert found[0].code == code and found[0].how == "code" and found[0].score == 100.0


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_name_finds_its_area_among_the_exact_matches(data):
    entries = search_index()["entries"]
    row = data.draw(st.integers(0, len(entries) - 1))
    name, code = entries["name"].iat[row], entries["code"].iat[row]
    found = search_areas(name.upper(), limit=50)
    exact = [m.code for m in found if m.score == 100.0]
    assert code in exact or len(exact) == 50
