"""The slope and relative index of inequality in words: every gap with its direction.

The bug: "the fitted value is 148 higher at the most deprived end (SII −148)" put a minus
sign on good and bad news alike, and an RII of 0.88 read as "less at the deprived end".
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.stats import gap_unit, quantity_text, slope_index

MINUS = "\u2212"
POPULATIONS = [100, 120, 110, 90, 100]


def falling() -> object:
    # illness falls from 20 in the most deprived fifth to 10 in the least deprived
    return slope_index([20.0, 17.0, 15.0, 12.0, 10.0], POPULATIONS, standard_errors=[1] * 5,
                       seed=0)


def test_a_gap_higher_at_the_most_deprived_end_is_stated_in_words():
    result = falling()
    assert result.sii < 0  # the signed statistic keeps OHID's convention (least − most)
    assert result.higher_end == "most"
    assert result.describe("score") == (
        "Fitted across the deprivation scale, the value is 12.3 points higher at the most "
        "deprived end than at the least deprived end (95% CI 9.2 to 15.3).")
    assert MINUS not in result.describe("score") and "-" not in result.describe("score")
    assert result.reading.startswith("Fitted across the deprivation scale, the value is 12.3 "
                                     "higher at the most deprived end")


def test_rii_below_one_reads_as_higher_at_the_most_deprived_end():
    result = falling()
    assert result.rii == pytest.approx(0.418, abs=0.001)
    assert result.rii_words() == ("At the most deprived end the fitted value is 2.39 times "
                                  "that at the least deprived end.")
    most, least = result.fitted_ends
    assert most / least == pytest.approx(1 / result.rii)


def test_signed_statistics_live_in_the_details_with_their_convention():
    details = falling().details("score")
    assert details.startswith(f"Slope index of inequality (SII) {MINUS}12.3 score (95% CI "
                              f"{MINUS}15.3 to {MINUS}9.2)")
    assert "least deprived end minus that at the most deprived end" in details
    assert "RII) 0.42" in details


def test_fitted_values_are_labelled_as_fitted():
    result = falling()
    assert "Fitted" in result.describe()
    assert "fitted value" in result.rii_words()


def test_an_interval_that_includes_no_gap_says_so_with_both_directions():
    result = slope_index([10.0, 10.2, 10.0, 10.1, 10.3], POPULATIONS,
                         standard_errors=[1] * 5, seed=0)
    text = result.describe("%")
    assert "0.23 percentage points higher at the least deprived end" in text
    assert "higher at the most deprived end to" in text and "compatible with no gap" in text


def test_a_polarity_flip_multiplier_keeps_the_words_right():
    proportions = [0.2, 0.17, 0.15, 0.12, 0.10]
    plain = slope_index(proportions, POPULATIONS, standard_errors=[0.01] * 5, seed=0,
                        multiplier=100)
    flipped = slope_index(proportions, POPULATIONS, standard_errors=[0.01] * 5, seed=0,
                          multiplier=-100)
    assert plain.sii == pytest.approx(-flipped.sii)
    assert plain.describe("%") == flipped.describe("%")
    assert plain.higher_end == flipped.higher_end == "most"
    # the order statistics of the simulation swap ends: equal to simulation error
    assert plain.gap_limits() == pytest.approx(flipped.gap_limits(), rel=1e-3)
    assert "12.3 percentage points higher at the most deprived end" in plain.describe("%")


def test_a_fitted_line_that_crosses_zero_has_no_meaningful_ratio():
    result = slope_index([2.0, 1.0, 0.0, -1.0, -2.0], POPULATIONS, standard_errors=[1] * 5,
                         seed=0)
    assert "not meaningful" in result.rii_words()


@pytest.mark.parametrize(("unit", "name"), [
    ("% of residents", "percentage points"), ("score", "points"),
    ("standardised ratio (England = 100)", "points"), ("proportion", "points"),
    ("FTE GPs per 100,000 patients", "FTE GPs per 100,000 patients"), ("", ""),
    (None, ""),
])
def test_gap_units(unit, name):
    assert gap_unit(unit) == name


def test_quantity_text():
    assert quantity_text(148.2, "score") == "148 points"
    assert quantity_text(12.66, "FTE GPs per 100,000 patients", 1) == (
        "12.7 FTE GPs per 100,000 patients")


@given(st.floats(min_value=0.5, max_value=50), st.booleans())
@settings(max_examples=40, deadline=None)
def test_direction_follows_the_data(step, rising):
    values = [100 + (i if rising else -i) * step for i in range(5)]
    result = slope_index(values, POPULATIONS, standard_errors=[0.1] * 5, seed=1)
    end = "least" if rising else "most"
    assert result.higher_end == end
    assert f"higher at the {end} deprived end" in result.describe()
    low, high = result.gap_limits()
    assert 0 < low <= abs(result.sii) <= high
