"""Inequality over time (analysis.explore.trends): SII and quintile gap per period, and the
trend statement."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.data import IndicatorMeta, IndicatorRegistry
from analysis.explore.trends import (
    TREND_COLUMNS,
    inequality_trend,
    multi_period_indicators,
    trend_from_frame,
    trend_statement,
)


def _frame(period: str, shift: float = 0.0) -> pd.DataFrame:
    # two areas per decile with values d and d + 2 (plus shift), 100 people each
    deciles = np.repeat(np.arange(1, 11), 2)
    values = deciles + np.tile([0.0, 2.0], 10) + shift
    return pd.DataFrame({"period": period, "value": values, "population": 100.0,
                         "deprivation_decile": deciles})


def test_hand_computed_sii_and_quintile_gap():
    trend = trend_from_frame(_frame("2020"), ["2020"], repetitions=1000)
    row = trend.iloc[0]
    assert list(trend.columns) == list(TREND_COLUMNS)
    assert row["areas"] == 20 and row["population"] == 2000
    # decile means d + 1 at relative ranks 0.05 … 0.95: slope 9 / 0.9 = 10
    assert row["sii"] == pytest.approx(10.0)
    # fifth 1 = values 1, 3, 2, 4 (mean 2.5); fifth 5 = 9, 11, 10, 12 (mean 10.5)
    assert row["most_deprived_fifth"] == pytest.approx(2.5)
    assert row["least_deprived_fifth"] == pytest.approx(10.5)
    assert row["quintile_gap"] == pytest.approx(-8.0)
    # each fifth: SE = sqrt(4/3 · 100² · 5) / 400 = 0.6455; limits ± 1.96 · √2 · SE
    se = math.sqrt(4 / 3 * 100**2 * 5) / 400
    assert row["gap_upper"] - row["quintile_gap"] == pytest.approx(1.959964 * math.sqrt(2) * se,
                                                                   rel=1e-5)
    assert row["mean"] == pytest.approx(6.5)


@settings(max_examples=25, deadline=None)
@given(values=st.lists(st.floats(0, 1000, allow_nan=False), min_size=2, max_size=5,
                       unique=True).filter(lambda v: np.ptp(v) > 1e-3),
       periods=st.integers(1, 3))
def test_indicator_unrelated_to_deprivation_has_no_gap(values, periods):
    # every decile holds the same values with the same populations: no gradient at all
    rows = [pd.DataFrame({"period": str(p), "value": np.tile(values, 10),
                          "population": 50.0,
                          "deprivation_decile": np.repeat(np.arange(1, 11), len(values))})
            for p in range(periods)]
    trend = trend_from_frame(pd.concat(rows), [str(p) for p in range(periods)],
                             repetitions=1000)
    scale = max(1.0, max(values))
    assert np.allclose(trend["sii"], 0.0, atol=1e-9 * scale)
    assert np.allclose(trend["quintile_gap"], 0.0, atol=1e-9 * scale)


META = IndicatorMeta.from_mapping({
    "id": "x", "title": "Qualified GPs within reach", "description": "d",
    "unit": "GPs per 100,000 residents", "polarity": "higher_is_better", "kind": "provision",
    "geography": "lsoa21", "period": "2021", "periods": ["2020", "2021"], "source": "s",
    "licence": "OGL", "decimals": 1})


def _trend(first: tuple[float, float, float], last: tuple[float, float, float]) -> pd.DataFrame:
    rows = []
    for period, (gap, low, high) in (("2020", first), ("2021", last)):
        rows.append({"period": period, "mean": 60.0, "quintile_gap": gap, "gap_lower": low,
                     "gap_upper": high, "sii": -gap, "sii_lower": -high, "sii_upper": -low})
    return pd.DataFrame(rows)


def test_statement_says_widened_with_values_and_caveats():
    text = trend_statement(_trend((-4.0, -4.5, -3.5), (-6.0, -6.5, -5.5)), META,
                           area_name="Testshire")
    assert "between the most and least deprived fifths widened between 2020 and 2021" in text
    assert "4.0 GPs per 100,000 residents less (95% CI −4.5 to −3.5)" in text
    assert "6.0 GPs per 100,000 residents less (95% CI −6.5 to −5.5)" in text
    assert "qualified GPs within reach" in text
    assert "IMD 2025 for every year" in text and "cash terms" not in text


def test_statement_narrowed_and_unclear_and_overlap():
    narrowed = trend_statement(_trend((4.2, 3.8, 4.6), (2.9, 2.4, 3.4)), META, area_name="A")
    assert "narrowed" in narrowed and "overlap" not in narrowed
    unclear = trend_statement(_trend((4.8, 3.8, 5.9), (3.3, 1.6, 5.1)), META, area_name="B")
    assert "did not change clearly" in unclear and "within the uncertainty" in unclear
    # intervals overlap (4.2–5.8 and 5.5–7.1) but the difference, 1.3 ± 1.12, is clear
    overlapping = trend_statement(_trend((5.0, 4.2, 5.8), (6.3, 5.5, 7.1)), META,
                                  area_name="C")
    assert "widened" in overlapping and "confidence intervals overlap" in overlapping


def test_statement_with_one_period_says_no_trend():
    text = trend_statement(_trend((1.0, 0.5, 1.5), (math.nan, math.nan, math.nan)), META,
                           area_name="D")
    assert "no trend in the gap can be stated" in text


def test_real_trend_of_gps_within_reach_in_england():
    registry = IndicatorRegistry()
    assert {m.id for m in multi_period_indicators(registry, "england")} >= {
        "gp_access_gps_per_100k", "gp_access_funding_per_resident"}
    assert multi_period_indicators(registry, "scotland") == []
    trend = inequality_trend("england", None, "gp_access_gps_per_100k", registry,
                             repetitions=1000)
    assert trend["period"].tolist() == [f"20{y:02d}-{y + 1:02d}" for y in range(15, 24)]
    assert trend["areas"].eq(33_755).all()
    first, last = trend.iloc[0], trend.iloc[-1]
    assert first["quintile_gap"] == pytest.approx(4.23, abs=0.01)
    assert last["quintile_gap"] == pytest.approx(2.88, abs=0.01)
    assert last["mean"] == pytest.approx(64.53, abs=0.01)
    text = trend_statement(trend, registry.meta("gp_access_gps_per_100k"),
                           area_name="England")
    assert "narrowed between 2015-16 and 2023-24" in text


def test_trend_long_gives_both_measures_of_every_period_with_an_estimate():
    from analysis.explore.trends import GAP_MEASURE, SII_MEASURE, trend_long

    trend = pd.DataFrame({"period": ["2020", "2021"], "quintile_gap": [4.0, 3.0],
                          "gap_lower": [3.0, 2.0], "gap_upper": [5.0, 4.0],
                          "sii": [-5.0, np.nan], "sii_lower": [-6.0, np.nan],
                          "sii_upper": [-4.0, np.nan]})
    long = trend_long(trend)
    assert list(long.columns) == ["period", "measure", "estimate", "lower", "upper"]
    assert long[["period", "measure"]].values.tolist() == [
        ["2020", GAP_MEASURE], ["2021", GAP_MEASURE], ["2020", SII_MEASURE]]
    assert long["estimate"].tolist() == [4.0, 3.0, -5.0]
    assert long["upper"].tolist() == [5.0, 4.0, -4.0]
