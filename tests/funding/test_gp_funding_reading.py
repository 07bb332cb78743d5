"""How GP funding by deprivation is read: which total, groups too small to compare, the gap
in words with its interval, dispensing practices, the period a trend covers, the table."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from analysis.funding import (
    MIN_GROUP_PRACTICES,
    TOTALS,
    dispensing_sentence,
    display_table,
    funding_by_deprivation,
    gap_sentence,
    load_gp_payments,
    load_practice_imd,
    payment_total,
    read_gap,
    trend_readings,
    trend_sentence,
)
from analysis.numbers import MINUS


def _table(rates, practices, se=None, year="2022-23", dispensing=True) -> pd.DataFrame:
    se = se or [1.0] * len(rates)
    rows = []
    for q, (rate, n, s) in enumerate(zip(rates, practices, se, strict=True), start=1):
        weighted = 10_000.0 * n
        rows.append({"quintile": q, "practices": n, "weighted_patients": weighted,
                     "payments": rate * weighted if n else 0.0,
                     "per_weighted_patient": rate if n else math.nan,
                     "se": s if n > 1 else math.nan,
                     "ci_lower": rate - 2 * s if n > 1 else math.nan,
                     "ci_upper": rate + 2 * s if n > 1 else math.nan})
    table = pd.DataFrame(rows)
    table.attrs = {"year": year, "include_dispensing": dispensing}
    return table


def test_headline_states_the_gap_in_words_with_its_interval():
    reading = read_gap(_table([155.05, 156, 164, 171, 170.77], [1527, 1299, 1230, 1239, 1149],
                              se=[0.9, 1, 1, 1, 1.15]))
    text = gap_sentence(reading, "England")
    assert text.startswith("England, 2022-23: practices serving the most deprived fifth of "
                           "patients received £155.05 per weighted patient, against £170.77 "
                           "for the least deprived fifth: £15.72 (9.2%) less (95% CI ")
    assert MINUS not in text and "£-" not in text and "-0.0" not in text
    assert reading.direction == "lower" and reading.comparable


def test_a_gap_whose_interval_includes_zero_is_not_clear():
    reading = read_gap(_table([154.25, 150, 150, 150, 154.26], [50] * 5, se=[1, 1, 1, 1, 1]))
    text = gap_sentence(reading, "England")
    assert "about the same (95% CI from" in text and "not a clear difference" in text
    assert reading.direction == "similar"


def test_a_group_too_small_is_said_and_not_led_with():
    # Cornwall and the Isles of Scilly, 2022-23: the least deprived fifth is one practice
    reading = read_gap(_table([191.06, 204.66, 236.64, 186.43, 516.65], [5, 18, 27, 4, 1]))
    assert not reading.comparable and reading.small_groups == [5]
    assert reading.direction == "unknown"
    text = gap_sentence(reading, "NHS Cornwall and the Isles of Scilly Integrated Care Board")
    assert "the least deprived fifth of patients is served by only 1 practice here" in text
    assert "too few to compare" in text
    assert "516.65" not in text and "63.0%" not in text and "less" not in text
    assert read_gap(_table([1, 2, 3, 4, 5], [MIN_GROUP_PRACTICES] * 5)).comparable


def test_an_empty_group_is_said_in_words():
    reading = read_gap(_table([150, 150, 150, 150, 150], [12, 8, 6, 5, 0]))
    assert "the least deprived fifth of patients has no practices here" in gap_sentence(
        reading, "Somewhere")


def test_dispensing_sentence_says_which_drives_the_gap():
    with_them = read_gap(_table([155.05, 1, 1, 1, 170.77], [1527, 9, 9, 9, 1149],
                                se=[0.9, 1, 1, 1, 1.15]))
    without = read_gap(_table([154.25, 1, 1, 1, 154.26], [1300, 9, 9, 9, 700],
                              se=[0.8, 1, 1, 1, 0.8], dispensing=False))
    text = dispensing_sentence(with_them, without)
    assert text.startswith("With dispensing practices the most deprived fifth received 9.2% "
                           "less; without them about the same")
    assert "Dispensing practices (mostly rural, and also paid for the drugs they dispense) "\
           "drive the gap." in text
    remains = read_gap(_table([140, 1, 1, 1, 160], [300, 9, 9, 9, 100], dispensing=False))
    assert "not due to dispensing practices" in dispensing_sentence(
        read_gap(_table([141, 1, 1, 1, 161], [310, 9, 9, 9, 110])), remains)
    same = read_gap(_table([140, 1, 1, 1, 160], [300, 9, 9, 9, 100]))
    assert "No practice here dispenses" in dispensing_sentence(same, remains)
    small = read_gap(_table([140, 1, 1, 1, 160], [300, 9, 9, 9, 2]))
    assert dispensing_sentence(small, remains) == ""


def test_trend_quotes_only_the_years_it_can_compare():
    tables = []
    for year, last in (("2017-18", 0), ("2018-19", 0), ("2019-20", 8), ("2020-21", 8)):
        t = _table([150, 160, 160, 160, 170 if year == "2019-20" else 180],
                   [10, 10, 10, 10, last], year=year)
        tables.append(t.assign(year=year, imd_year=2019))
    readings = trend_readings(pd.concat(tables, ignore_index=True))
    text = trend_sentence(readings)
    assert text.startswith("From 2019-20 to 2020-21 ") or text.startswith(
        "In 2019-20 to 2020-21 (the years")
    assert "2017-18" not in text and "2018-19" not in text
    assert "between 11.8% (2019-20) and 16.7% (2020-21) less" in text
    never = trend_sentence([read_gap(_table([1, 2, 3, 4, 5], [9, 9, 9, 9, 1], year=y))
                            for y in ("2021-22", "2022-23")])
    assert never.startswith("The gap cannot be followed over time here: in every year from "
                            "2021-22 to 2022-23")


def test_display_table_has_plain_headers_and_never_none():
    shown = display_table(_table([191.06, 204.66, 236.64, 186.43, 516.65], [5, 18, 27, 4, 1]))
    assert list(shown.columns) == ["Quintile (1 = most deprived)", "Practices",
                                   "Weighted patients", "Payments", "£ per weighted patient",
                                   "95% confidence interval"]
    cells = " ".join(shown.astype(str).to_numpy().ravel())
    assert "None" not in cells and "nan" not in cells
    assert shown.iloc[4]["95% confidence interval"] == "not available (1 practice)"
    assert shown.iloc[3]["95% confidence interval"].endswith("(fewer than 5 practices)")
    assert shown.iloc[0]["Weighted patients"] == "50,000"
    assert shown.iloc[2]["Payments"] == "£63.9m"


def test_totals_name_what_they_hold():
    assert payment_total("excluding").column == "total_payments"
    assert "excluding COVID and PCN" in TOTALS["excluding"].label
    assert payment_total("including").first_year == "2020-21"
    with pytest.raises(ValueError, match="excluding, including"):
        payment_total("all")


@pytest.fixture(scope="module")
def real():
    return load_gp_payments(), load_practice_imd()


def test_heec_comparison_reproduces_with_the_inclusive_total(real):
    payments, imd = real
    table = funding_by_deprivation(payments, imd, year="2022-23",
                                   measure=TOTALS["including"].column)
    reading = read_gap(table, "including")
    assert (round(reading.most, 2), round(reading.least, 2)) == (167.49, 181.91)
    assert round(reading.gap_pct, 1) == -7.9
    headline = read_gap(funding_by_deprivation(payments, imd, year="2022-23"))
    assert (round(headline.most, 2), round(headline.least, 2)) == (155.05, 170.77)
    assert (round(headline.gap_pct_lower, 1), round(headline.gap_pct_upper, 1)) == (-10.8, -7.6)
