"""Readings of an allocation (issue 17): units per scenario, counts that add up, capped
percentages, the study area applied or said to be national."""

from __future__ import annotations

import re

import pytest

from analysis.allocation import (
    allocate,
    amount_text,
    change_reading,
    count_sentence,
    equity_reading,
    largest_changes,
    load_scenario,
    percent_change_text,
    practice_map_caption,
    report_lines,
    run_scenario_file,
    scope_to_study_area,
    settings_text,
)
from tests.allocation.test_allocation import SCENARIOS

HYPHEN_MINUS_NUMBER = re.compile(r"(£-|-\d|-0\.0%)")


@pytest.fixture(scope="module")
def lsoa_result():
    return run_scenario_file(SCENARIOS / "lsoa-gp-capacity-health-need.json")


@pytest.fixture(scope="module")
def gp_result():
    return run_scenario_file(SCENARIOS / "gp-funding-toward-need.json")


def test_amounts_carry_the_scenario_unit():
    assert amount_text(29_238.4, "FTE GPs") == "29,238 FTE GPs"
    assert amount_text(0.46, "FTE GPs", signed=True) == "+0.5 FTE GPs"
    assert amount_text(-477.8e6, "£") == "\u2212£477.8m"
    assert amount_text(10.2e9, "£") == "£10.2bn"


@pytest.mark.parametrize(("pct", "kwargs", "expected"), [
    (3.0, {}, "+3.0%"),
    (-14.1266, {}, "\u221214.1%"),
    (-0.01, {}, "0.0%"),
    (999.0, {}, "+999.0%"),
    (2_729_942.7, {"current": 12.0, "allocation": 327_605.1},
     "27,300 times its current amount (from £12 to £328k)"),
    (float("nan"), {"current": 0.0, "allocation": 1.3e6}, "from zero to £1.3m"),
    (float("nan"), {}, "not available"),
])
def test_extreme_percentages_are_capped_and_explained(pct, kwargs, expected):
    assert percent_change_text(pct, **kwargs) == expected


def test_lsoa_scenario_reads_in_fte_gps(lsoa_result):
    lines = "\n".join(report_lines(lsoa_result))
    assert "budget 29,238 FTE GPs; allocated 29,238 FTE GPs" in lines
    assert "FTE GPs per 100,000 residents" in lines
    assert "£" not in lines and not HYPHEN_MINUS_NUMBER.search(lines)
    assert "33,755 neighbourhoods (LSOAs): 17,320 gain, 12,403 lose, 4,032 unchanged." in lines
    top, axis = largest_changes(lsoa_result)
    assert axis == "Change after the final year (FTE GPs)"
    assert (top["change_shown"] == top["change"]).all()


def test_practice_scenario_counts_add_up_and_released_are_apart(gp_result):
    sentence = count_sentence(gp_result)
    assert sentence == ("6,669 practices: 4,067 gain, 2,391 lose, 5 unchanged, and 206 released "
                        "(no weighted patients; their £78.9m goes to the others).")
    numbers = [int(n.replace(",", "")) for n in re.findall(r"[\d,]+(?= (?:gain|lose|unch|rel))",
                                                           sentence)]
    assert sum(numbers) == 6_669
    reading = change_reading(gp_result)
    assert ("The largest loss is \u2212£2.3m (\u221214.1%) at WHITSTABLE MEDICAL PRACTICE."
            in reading)
    top, axis = largest_changes(gp_result)
    assert axis == "Change after the final year (£m)"
    assert top["change_shown"].abs().max() < 10  # £m, not −2,300,000
    assert not set(top["area_code"]) & set(gp_result.zero_population)  # no £32m "loss"
    caption = practice_map_caption(gp_result, 6_352)
    assert "6,352 of the 6,463 practices with patients" in caption
    assert "111 without a location and 206 released" in caption and "all 6,669" in caption


def test_equity_reading_explains_fair_share_against_target(gp_result):
    text = equity_reading(gp_result)
    # the gap in words with its direction, no signed statistic (SII is least − most deprived)
    assert ("£23.26 per weighted patient lower at the most deprived end than at the least "
            "deprived end before the move and is £17.50 per weighted patient higher at the most "
            "deprived end than at the least deprived end (95% CI 15.22 to 19.73) after it") in text
    assert "\u2212" not in text and "+£" not in text
    assert "below their target: 93% → 92%; below their need-only fair share: 96% → 99%" in text
    assert "target lies below the fair share" in text
    assert not HYPHEN_MINUS_NUMBER.search(text)


def test_settings_in_words():
    icb = load_scenario(SCENARIOS / "icb-gp-funding-health-need.json")
    assert settings_text(icb) == (
        "α = 0.50 (50% per head, 50% by need); 3 years; at most 2% gain and 2% loss a year; "
        "floor 97% of current; toward target (NHS England convention: no area moves away "
        "from its target)")
    loose = icb.replace(max_gain_pct=None, max_loss_pct=None, convergence="nearest")
    assert "no pace limit" in settings_text(loose)
    assert "nearest allocation" in settings_text(loose)


def test_study_area_is_applied_or_said_to_be_national():
    gp = load_scenario(SCENARIOS / "gp-funding-toward-need.json")
    scoped, text = scope_to_study_area(gp, "E54000057", "NHS Greater Manchester ICB")
    assert scoped.area == "E54000057" and text.startswith("Within NHS Greater Manchester ICB")
    result = allocate(scoped)
    assert result.summary()["areas"] == 414  # GM's practices, not England's 6,669
    assert result.budget == pytest.approx(result.areas["current"].sum())
    icb = load_scenario(SCENARIOS / "icb-gp-funding-health-need.json")
    same, text = scope_to_study_area(icb, "E08000010", "Wigan")
    assert same.area is None and text.startswith("National: England's ICBs")
    assert "ICBs are not smaller than Wigan" in text
    same, text = scope_to_study_area(icb, "S12000005", "Clackmannanshire")
    assert same.area is None and "covers England only" in text
    lsoa = load_scenario(SCENARIOS / "lsoa-gp-capacity-health-need.json")
    assert scope_to_study_area(lsoa, "E08000010", "Wigan")[0].area == "E08000010"
    assert scope_to_study_area(lsoa, None)[0].area is None
