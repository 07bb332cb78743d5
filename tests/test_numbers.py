"""The shared number rules: minus signs, no negative zero, units, one comparison rule."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.numbers import (
    MINUS,
    compare_with_reference,
    difference_in_words,
    format_money,
    format_number,
    format_percent,
    format_quantity,
    interval_in_words,
    money_axis,
    sentence_case,
)


@pytest.mark.parametrize(("value", "decimals", "expected"), [
    (-15.72, 2, f"{MINUS}£15.72"), (155.05, 2, "£155.05"), (-0.004, 2, "£0.00"),
    (0, 2, "£0.00"), (1234.5, 2, "£1,234.50"),
])
def test_money_has_a_true_minus_before_the_pound_sign(value, decimals, expected):
    assert format_money(value, decimals) == expected


@pytest.mark.parametrize(("value", "expected"), [
    (-477_800_000, f"{MINUS}£477.8m"), (32_000_000, "£32.0m"), (1.2e9, "£1.2bn"),
    (950_000, "£950k"), (-34_000, f"{MINUS}£34k"), (167.4, "£167"), (15.72, "£15.72"),
])
def test_compact_money(value, expected):
    assert format_money(value, compact=True) == expected


def test_percent_never_negative_zero_and_signed_on_request():
    assert format_percent(-0.04) == "0.0%"
    assert format_percent(-9.2) == f"{MINUS}9.2%"
    assert format_percent(3, signed=True) == "+3.0%"
    assert format_percent(float("nan")) == "not available"


def test_quantities_carry_their_unit():
    assert format_quantity(29_238, "FTE GPs") == "29,238 FTE GPs"
    assert format_quantity(167, "£ per resident") == "£167 per resident"
    assert format_quantity(-477.8e6, "£", compact=True) == f"{MINUS}£477.8m"
    assert format_quantity(12.5, "%", 1) == "12.5%"


def test_absurd_decimals_are_clamped():
    assert format_number(1.5, 10**9) == "1.500000"
    assert format_number(1.5, -1) == "2"


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12),
       st.integers(min_value=0, max_value=4))
def test_no_negative_zero_and_sign_matches_value(value, decimals):
    text = format_number(value, decimals)
    assert not text.startswith(MINUS + "0") or any(c in "123456789" for c in text)
    rounded = round(value, decimals)
    if rounded < 0 and float(text.replace(MINUS, "-").replace(",", "")) != 0:
        assert text.startswith(MINUS)
    assert math.isclose(float(text.replace(MINUS, "-").replace(",", "")), rounded,
                        abs_tol=10 ** -decimals)


def test_money_axis_scales():
    assert money_axis(34_000_000) == (1e6, "£m")
    assert money_axis(2.5e9) == (1e9, "£bn")
    assert money_axis(500) == (1.0, "£")


def test_comparison_by_interval_then_by_threshold():
    # −3.8% against England with an interval that excludes it is lower, not "the same"
    assert compare_with_reference(96.2, 100, lower=95.0, upper=97.5).direction == "lower"
    assert compare_with_reference(96.2, 100, lower=90, upper=102).direction == "similar"
    no_ci = compare_with_reference(96.2, 100)
    assert (no_ci.direction, no_ci.rule) == ("similar", "5% threshold")
    assert compare_with_reference(94, 100).direction == "lower"
    assert compare_with_reference(None, 100).direction == "unknown"
    assert compare_with_reference(110, 100).better("lower_is_better") is False
    assert compare_with_reference(110, 100).better("higher_is_better") is True


# -- gaps in words: direction said, signed statistic kept out of sentences ----------------


def test_a_gap_reads_with_its_direction_not_its_sign():
    # Wigan: SII of GP places −40 (least − most) means 40 higher at the MOST deprived end
    assert difference_in_words(39.6, "places per 1,000", lower=13.0, upper=66.2) == (
        "40 places per 1,000 higher at the most deprived end than at the least deprived end "
        "(95% CI 13 to 66)")
    # Wigan: illness ratio SII −153.7 -> 153.7 points higher at the most deprived end
    assert difference_in_words(153.7, "points", 1, lower=145.5, upper=161.7).startswith(
        "153.7 points higher at the most deprived end")
    # a negative gap: lower, and the interval as magnitudes
    assert difference_in_words(-12.7, "FTE GPs per 100,000", 1, lower=-13.3, upper=-12.1) == (
        "12.7 FTE GPs per 100,000 lower at the most deprived end than at the least deprived "
        "end (95% CI 12.1 to 13.3)")
    assert difference_in_words(0.04, "points", 1) == (
        "about the same at the most deprived end as at the least deprived end")
    assert difference_in_words(None, "points") == "not available"


def test_an_interval_across_zero_says_so():
    assert difference_in_words(5, "points", lower=-3, upper=12) == (
        "5 points higher at the most deprived end than at the least deprived end (95% CI from "
        "3 lower to 12 higher: not a clear difference)")
    assert interval_in_words(-15.1, -2.5, "%", 1) == "95% CI 2.5% to 15.1%"
    assert interval_in_words(-1.3, 3.3, "%", 1, words=("more", "less")) == (
        "95% CI from 1.3% less to 3.3% more")
    assert interval_in_words(None, 3.0) == ""
    assert interval_in_words(float("nan"), 3.0) == ""


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
       st.floats(min_value=0, max_value=1e5, allow_nan=False),
       st.floats(min_value=0, max_value=1e5, allow_nan=False))
def test_gap_words_never_carry_a_sign_and_match_the_direction(value, below, above):
    text = difference_in_words(value, "points", 1, lower=value - below, upper=value + above)
    assert MINUS not in text and "-" not in text.replace("95% CI", "")
    assert "None" not in text and "nan" not in text
    if round(abs(value), 1) > 0:
        assert (" higher at" in text) == (value > 0)
        assert (" lower at" in text) == (value < 0)


def test_sentence_case_keeps_the_rest():
    assert sentence_case("95% CI from £1 less") == "95% CI from £1 less"
    assert sentence_case("england and CI") == "England and CI"
