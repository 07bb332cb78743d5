"""The spine table of an area profile on the embedded data, and its significance rule.

Hand computations: Wigan's stroke admissions (Σ admissions ÷ Σ residents × 1,000 with Byar's
limits written out) and Clackmannanshire's residents aged 65+ (Wilson's limits written out),
each compared with the national value as Fingertips does (PHE Technical Guide: Assessing
significant difference): worse when the whole interval lies on the worse side.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.data import default_registry, load_pack_table, spec_for
from analysis.explore.profiles import profile_table
from analysis.explore.spine import (
    NOT_COMPARED,
    parent_area,
    significance,
    spine_chart,
    spine_display,
    spine_download,
    spine_table,
)

Z = 1.959963984540054


@pytest.fixture(scope="module")
def wigan():
    return spine_table("E08000010", default_registry())


@pytest.fixture(scope="module")
def clacks():
    return spine_table("S12000005", default_registry())


def _counts(country, level, code, indicator_id):
    table = load_pack_table(country)
    inside = table.index[table[spec_for(country).level(level).code_column] == code]
    data = default_registry().get(indicator_id).data.set_index("area_code").reindex(inside)
    both = data[["numerator", "denominator"]].dropna()
    return float(both["numerator"].sum()), float(both["denominator"].sum())


def _national(indicator_id):
    data = default_registry().get(indicator_id).data[["numerator", "denominator"]].dropna()
    return float(data["numerator"].sum()), float(data["denominator"].sum())


def test_wigan_stroke_admissions_by_hand(wigan):
    row = wigan.set_index("id").loc["stroke_admissions_per_1000"]
    events, people = _counts("england", "ltla", "E08000010", "stroke_admissions_per_1000")
    assert events > 10  # Byar's, not exact Poisson
    lower = events * (1 - 1 / (9 * events) - Z / (3 * math.sqrt(events))) ** 3
    upper = (events + 1) * (1 - 1 / (9 * (events + 1)) + Z / (3 * math.sqrt(events + 1))) ** 3
    assert row["area"] == pytest.approx(1000 * events / people, rel=1e-9)
    assert row["lower"] == pytest.approx(1000 * lower / people, rel=1e-9)
    assert row["upper"] == pytest.approx(1000 * upper / people, rel=1e-9)
    n_events, n_people = _national("stroke_admissions_per_1000")
    assert row["national"] == pytest.approx(1000 * n_events / n_people, rel=1e-9)
    # 1.66 (1.53 to 1.81) against England's 1.43: the whole interval is above, and higher
    # is worse
    assert round(row["area"], 2) == 1.66 and round(row["national"], 2) == 1.43
    assert row["lower"] > row["national"]
    assert row["significance"] == "worse"
    assert row["parent"] == pytest.approx(1.534, abs=0.001)  # NHS Greater Manchester ICB


def test_clackmannanshire_aged_65_plus_wilson_by_hand(clacks):
    row = clacks.set_index("id").loc["scotland_aged_65_plus_pct"]
    events, people = _counts("scotland", "council", "S12000005", "scotland_aged_65_plus_pct")
    p = events / people
    spread = Z * math.sqrt(Z * Z + 4 * events * (1 - p))
    lower = 100 * (2 * events + Z * Z - spread) / (2 * (people + Z * Z))
    upper = 100 * (2 * events + Z * Z + spread) / (2 * (people + Z * Z))
    assert row["lower"] == pytest.approx(lower, rel=1e-9)
    assert row["upper"] == pytest.approx(upper, rel=1e-9)
    assert round(row["area"], 1) == 20.9 and round(row["national"], 1) == 20.0
    assert lower > row["national"] and row["significance"] == "worse"
    assert math.isnan(row["parent"]) and row["parent_name"] == ""  # a council has no parent
    assert row["national_name"] == "Scotland"
    # higher is worse: the worst council has the largest share
    assert row["worst"] == row["level_max"] and row["best"] == row["level_min"]
    assert row["areas_compared"] == 32


def test_rows_without_an_interval_say_why(wigan):
    rows = wigan.set_index("id")
    assert rows.loc["imd2025_score", "significance"] == NOT_COMPARED
    assert "population-weighted mean" in rows.loc["imd2025_score", "reason"]
    assert rows.loc["population_census2021", "significance"] == NOT_COMPARED
    assert "count" in rows.loc["population_census2021", "reason"]
    assert "imd2025_decile" not in rows.index  # deciles do not aggregate to a council
    compared = wigan[wigan["significance"] != NOT_COMPARED]
    assert set(compared["id"]) == {"census2021_disabled_pct", "stroke_admissions_per_1000",
                                   "census2021_households_deprived_2plus_pct",
                                   "population_aged_65_plus_pct"}
    assert (compared["lower"] <= compared["area"]).all()
    assert (compared["area"] <= compared["upper"]).all()


def test_the_spread_is_over_areas_of_the_same_level(wigan):
    row = wigan.set_index("id").loc["imd2025_score"]
    assert row["areas_compared"] == 296  # English LTLAs
    assert row["level_min"] <= row["level_q25"] <= row["level_median"] <= row["level_q75"]
    assert row["level_q75"] <= row["level_max"]
    assert row["worst"] == row["level_max"]  # higher score = more deprived
    # better to the right: a worse-than-England value sits left of the centre
    assert row["area"] > row["national"] and row["pos_area"] < 0
    assert wigan[["pos_level_min", "pos_level_max"]].abs().max().max() <= 1 + 1e-12
    assert wigan["parent_name"].iloc[0] == "NHS Greater Manchester Integrated Care Board"


def test_an_lsoa_uses_its_own_counts_and_shows_its_deciles():
    code = "E01006212"
    table = spine_table(code, default_registry()).set_index("id")
    assert parent_area(code)[0] == "E54000057"
    events, people = _counts("england", "lsoa21", code, "census2021_disabled_pct")
    row = table.loc["census2021_disabled_pct"]
    assert row["area"] == pytest.approx(100 * events / people, rel=1e-6)
    assert row["lower"] < row["area"] < row["upper"]
    expected = ("similar" if row["lower"] <= row["national"] <= row["upper"]
                else "worse" if row["lower"] > row["national"] else "better")
    assert row["significance"] == expected
    decile = table.loc["imd2025_decile"]
    assert decile["significance"] == NOT_COMPARED and "decile" in decile["reason"]
    assert decile["areas_compared"] == 33755


def test_the_country_is_not_compared_with_itself():
    table = spine_table("E92000001", default_registry())
    assert (table["significance"] == NOT_COMPARED).all()
    assert (table["reason"] == "this is the national value").all()
    assert table.set_index("id").loc["imd2025_score", "areas_compared"] == 9  # regions


def test_display_rounds_to_the_metadata_decimals(wigan, clacks):
    shown = spine_display(clacks).set_index("Indicator")
    assert list(shown.columns) == ["Period", "Unit", "Area value (95% CI)", "Parent",
                                   "Scotland", "Worst/lowest", "Best/highest",
                                   "Compared with Scotland"]
    assert shown.loc["Residents aged 65 and over", "Area value (95% CI)"] == \
        "20.9 (20.5 to 21.2)"
    assert shown.loc["Residents aged 65 and over", "Compared with Scotland"] == "worse"
    assert spine_display(wigan)["Compared with England"].str.startswith(
        "not compared: ").sum() == len(wigan) - 4
    numbers = spine_download(wigan).set_index("title")
    assert numbers.loc["Population", "area"] == 329339
    assert profile_table("E08000010", default_registry()).equals(wigan)


def test_chart_has_one_marker_shape_per_significance(wigan):
    spec = spine_chart(wigan).to_dict()
    marks = [layer for layer in spec["layer"] if "shape" in layer.get("encoding", {})]
    assert len(marks) == 1
    shapes = marks[0]["encoding"]["shape"]["scale"]
    fills = marks[0]["encoding"]["fill"]["scale"]
    assert shapes["domain"] == fills["domain"]
    pairs = set(zip(fills["range"], shapes["range"], strict=True))
    assert len(pairs) == len(shapes["domain"]) == 6  # every verdict looks different
    shape = dict(zip(shapes["domain"], shapes["range"], strict=True))
    assert shape["better"] == "triangle-right" and shape["worse"] == "triangle-left"
    assert shape["similar"] != shape[NOT_COMPARED]  # told apart without colour


# -- the significance rule -------------------------------------------------------------

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
POLAR = ("higher_is_better", "higher_is_worse")


@given(finite, finite, finite, finite)
def test_flipping_polarity_flips_better_and_worse(a, b, c, reference):
    lower, value, upper = sorted((a, b, c))
    up = significance(value, reference, lower, upper, "higher_is_better")
    down = significance(value, reference, lower, upper, "higher_is_worse")
    swap = {"better": "worse", "worse": "better", "similar": "similar"}
    assert down == swap[up]


@given(finite, finite, finite, st.sampled_from(POLAR + ("neutral",)),
       st.sampled_from(("need", "context")))
def test_an_interval_containing_the_reference_is_similar(a, b, c, polarity, kind):
    lower, reference, upper = sorted((a, b, c))
    value = (lower + upper) / 2
    assert significance(value, reference, lower, upper, polarity, kind) == "similar"


@given(finite, st.floats(min_value=1e-3, max_value=1e3), st.sampled_from(POLAR))
def test_context_and_neutral_indicators_are_higher_or_lower(reference, gap, polarity):
    above = (reference + gap, reference + 2 * gap)
    assert significance(above[0], reference, *above, polarity, "context") == "higher"
    assert significance(above[0], reference, *above, "neutral") == "higher"
    below = (reference - 2 * gap, reference - gap)
    assert significance(below[0], reference, *below, polarity, "context") == "lower"
    expected = "better" if polarity == "higher_is_worse" else "worse"
    assert significance(below[0], reference, *below, polarity) == expected


@given(finite, finite)
def test_no_interval_is_not_compared(value, reference):
    assert significance(value, reference, math.nan, math.nan, "higher_is_better") == \
        NOT_COMPARED
    assert significance(value, math.nan, value - 1, value + 1, "higher_is_worse") == \
        NOT_COMPARED
