"""Study-area selection, code resolution and aggregation over the real packs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.data import geography
from analysis.data.geography import (
    EmptySelectionError,
    UnknownAreaError,
    aggregate,
    list_areas,
    load_pack_table,
    resolve_area,
    select_study_area,
)


@pytest.mark.parametrize(
    ("code", "country", "level", "name", "small_areas"),
    [
        ("E54000057", "england", "icb", "NHS Greater Manchester Integrated Care Board", 1_702),
        ("E08000010", "england", "ltla", "Wigan", 200),
        ("S12000005", "scotland", "council", "Clackmannanshire", 72),
        ("E01000001", "england", "lsoa21", "City of London 001A", 1),
    ],
)
def test_resolve_and_select(code, country, level, name, small_areas):
    ref = resolve_area(code)
    assert (ref.country, ref.level, ref.name) == (country, level, name)
    selected = select_study_area(country, code, geometry=False)
    assert len(selected) == small_areas
    selected_geo = select_study_area(country, code)
    assert len(selected_geo) == small_areas and selected_geo.geometry.notna().all()


def test_codes_are_normalised():
    assert resolve_area(" e08000010 ").code == "E08000010"


def test_wigan_is_inside_greater_manchester():
    wigan = set(select_study_area("england", "E08000010", geometry=False).index)
    gm = set(select_study_area("england", "E54000057", geometry=False).index)
    assert wigan < gm


def test_unknown_code_lists_closest_matches():
    with pytest.raises(UnknownAreaError) as err:
        resolve_area("E5400057")
    assert "E54000057" in str(err.value) and "Greater Manchester" in str(err.value)


def test_unknown_name_like_input_suggests_by_name():
    with pytest.raises(UnknownAreaError) as err:
        resolve_area("Wigann")
    assert "E08000010" in str(err.value)


@pytest.mark.parametrize("bad", ["", "   ", "X99999999"])
def test_empty_or_unknown_codes(bad):
    with pytest.raises(UnknownAreaError):
        resolve_area(bad)


def test_selecting_an_area_of_the_other_country_is_refused():
    with pytest.raises(UnknownAreaError, match="Scotland"):
        select_study_area("england", "S12000005")


def test_unknown_level_and_country():
    with pytest.raises(ValueError, match="Unknown level"):
        list_areas("england", "council")
    with pytest.raises(ValueError, match="Unknown country"):
        list_areas("wales", "icb")


def test_list_areas_sums_to_national_population():
    icbs = list_areas("england", "icb")
    assert len(icbs) == 42
    assert icbs["population"].sum() == 56_490_091
    assert icbs["small_areas"].sum() == 33_755
    councils = list_areas("scotland", "council")
    assert len(councils) == 32 and councils["population"].sum() == 5_479_900


def test_aggregate_sum_reproduces_population_totals():
    table = load_pack_table("england")
    result = aggregate(table["population"], "england", "ltla", how="sum")
    assert len(result) == 296
    wigan = result.set_index("code").loc["E08000010"]
    assert wigan["value"] == 329_339 and wigan["coverage"] == 1.0


def test_population_weighted_mean_by_hand():
    table = load_pack_table("scotland")
    clack = table[table["council_code"] == "S12000005"]
    values = pd.Series(np.arange(len(table), dtype=float), index=table.index)
    result = aggregate(values, "scotland", "council").set_index("code").loc["S12000005"]
    expected = (values[clack.index] * clack["population"]).sum() / clack["population"].sum()
    assert result["value"] == pytest.approx(expected)


def test_ratio_aggregation_and_partial_coverage_is_visible():
    table = load_pack_table("england")
    wigan = table[table["ltla_code"] == "E08000010"].index
    numerator = pd.Series(1.0, index=wigan[:100])
    denominator = pd.Series(4.0, index=wigan)
    result = aggregate(numerator, "england", "ltla", how="ratio", denominators=denominator)
    row = result.set_index("code").loc["E08000010"]
    assert row["value"] == pytest.approx(0.25)
    assert 0 < row["coverage"] < 1
    # areas with no values at all give NaN, not 0
    other = result.set_index("code").loc["E08000001"]
    assert np.isnan(other["value"]) and other["coverage"] == 0


def test_aggregate_rejects_codes_not_in_the_pack():
    with pytest.raises(UnknownAreaError, match="E01999999"):
        aggregate(pd.Series([1.0], index=["E01999999"]), "england", "icb")


def test_aggregate_refuses_unaggregatable():
    table = load_pack_table("england")
    with pytest.raises(ValueError, match="cannot be aggregated"):
        aggregate(table["population"], "england", "icb", how="none")


def test_level_of_code():
    assert geography.level_of_code("E38000001")[1].key == "sicbl"
    assert geography.level_of_code("S02001236")[1].key == "iz11"
    assert geography.level_of_code("W01000001") is None


def test_empty_selection_error_is_a_value_error():
    assert issubclass(EmptySelectionError, ValueError)
