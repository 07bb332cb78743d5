"""What the Inverse care page says: observed decile values, gaps with directions, funnels
that open on the chosen indicator, disclosure control of the funnel table and map tooltips,
cluster colours that cannot be confused, units printed once."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from analysis.data import default_registry, select_study_area
from analysis.disclosure import SUPPRESSED
from analysis.explore import (
    CLUSTER_COLOURS,
    choropleth_layer,
    default_funnel_indicator,
    denominator_label,
    equity_panel,
    funnel_reading,
    funnel_table,
    indicator_funnel,
    observed_gradient_sentence,
    person_counts,
    suppress_small_counts,
)
from analysis.explore.frames import study_area_frame
from analysis.explore.maps import display_unit
from analysis.stats import funnel_plot


def _gradient(first: float, last: float, low: float, high: float) -> pd.DataFrame:
    return pd.DataFrame({"decile": [1, 5, 10], "areas": [30, 20, 25],
                         "population": [5e4, 3e4, 4e4],
                         "provision_per_head": [first, 45.0, last],
                         "lower_ci": [low, 40.0, last - 3], "upper_ci": [high, 50.0, last + 3]})


def test_gradient_sentence_quotes_observed_deciles_with_direction():
    sentence = observed_gradient_sentence(_gradient(209.7, 80.2, 200.0, 219.0),
                                          "standardised ratio (England = 100)", 1)
    assert sentence == (
        "In the most deprived tenth (decile 1) the observed average is 209.7 standardised "
        "ratio (England = 100), against 80.2 in the least deprived tenth (decile 10): 129.5 "
        "points higher in the most deprived tenth than in the least.")


def test_gradient_sentence_lower_and_similar():
    lower = observed_gradient_sentence(_gradient(39.3, 50.3, 32.9, 45.8),
                                       "FTE GPs per 100,000 patients", 1)
    assert lower.endswith(": 11.0 FTE GPs per 100,000 patients lower in the most deprived "
                          "tenth than in the least.")
    similar = observed_gradient_sentence(_gradient(49.0, 50.3, 44.0, 54.0), "%", 1)
    assert "no clear difference" in similar and "49.0%" in similar


def test_panel_readings_and_headline_for_wigan_gps():
    panel = equity_panel("england", "E08000010", "imd2025_score",
                         "iod2025_gps_per_100k_patients", default_registry())
    readings = panel.readings()
    assert readings["gradient"].startswith(
        "In the most deprived tenth (decile 1) the observed average is 39.3 FTE GPs per "
        "100,000 patients, against 50.3 in the least deprived tenth (decile 10)")
    assert readings["sii"].startswith(
        "Fitted across the deprivation scale, provision is 15.6 FTE GPs per 100,000 patients "
        "higher at the least deprived end than at the most deprived end (95% CI ")
    assert readings["sii_details"].startswith("Slope index of inequality (SII) 15.6")
    headline = panel.headline()
    assert headline["sii"] == "15.6 lower"
    assert headline["sii_caption"] == ("FTE GPs per 100,000 patients at the most deprived end "
                                       "than at the least (fitted)")
    assert headline["rii"] == "1.41 times"
    assert headline["rii_caption"].startswith("At the least deprived end the fitted value is")


def test_funnel_opens_on_the_chosen_indicator_never_an_unrelated_one():
    candidates = ["census2021_disabled_pct", "stroke_admissions_per_1000"]
    assert default_funnel_indicator(candidates, "stroke_admissions_per_1000",
                                    "gp_nearest_km") == "stroke_admissions_per_1000"
    assert default_funnel_indicator(candidates, "imd2025_score", "gp_nearest_km") is None


def test_funnel_table_suppresses_small_counts_and_the_values_that_reveal_them():
    funnel = funnel_plot([3, 40, 55, 120, 0], [1_000, 1_200, 1_500, 2_000, 900],
                         area=["A", "B", "C", "D", "E"])
    table = funnel_table(funnel).set_index("Area code")
    assert table.loc["A", "Numerator"] == SUPPRESSED
    assert table.loc["A", "Value"] == SUPPRESSED and table.loc["A", "95% CI lower"] == SUPPRESSED
    # one small count alone could be worked out from the published total: one more goes
    assert table.loc["B", "Numerator"] == SUPPRESSED
    assert table.loc["C", "Numerator"] == 55 and table.loc["E", "Numerator"] == 0
    assert (table["Denominator"] == [1_000, 1_200, 1_500, 2_000, 900]).all()  # not hidden
    assert len(table) == 5  # counts of areas are never suppressed


def test_greater_manchester_stroke_funnel_table_has_no_count_from_1_to_4():
    funnel = indicator_funnel("england", "E54000057", "stroke_admissions_per_1000",
                              default_registry())
    shown = funnel_table(funnel)["Numerator"]
    numbers = pd.to_numeric(shown[shown != SUPPRESSED])
    assert not ((numbers > 0) & (numbers < 5)).any()
    assert (shown == SUPPRESSED).sum() > 0


def test_large_denominator_funnels_are_adjusted_for_overdispersion_and_say_so():
    funnel = indicator_funnel("england", "E54000057", "census2021_disabled_pct",
                              default_registry())
    assert funnel.adjusted and funnel.dispersion is not None and funnel.dispersion.present
    outside = len(funnel.areas) - funnel.flag_counts()["within"]
    assert outside / len(funnel.areas) < 0.2  # was 1,137 of 1,702 (67%) without adjustment
    assert "overdispersion-adjusted control limits (Spiegelhalter 2005" in funnel_reading(funnel)
    plain = indicator_funnel("england", "E54000057", "census2021_disabled_pct",
                             default_registry(), overdispersion="none")
    assert not plain.adjusted and len(plain.areas) - plain.flag_counts()["within"] == 1_137


def test_denominator_labels():
    registry = default_registry()
    assert denominator_label(registry.meta("census2021_households_deprived_2plus_pct")) == (
        "households")
    assert denominator_label(registry.meta("stroke_admissions_per_1000")) == "residents"


def _lab(rgb: tuple[int, int, int]) -> np.ndarray:
    """sRGB (D65) to CIE L*a*b*."""
    c = np.array(rgb, float) / 255
    c = np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ c / np.array([0.9505, 1.0, 1.089])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_cluster_colours_are_far_apart():
    for (a, ca), (b, cb) in itertools.combinations(CLUSTER_COLOURS.items(), 2):
        distance = float(np.linalg.norm(_lab(ca) - _lab(cb)))
        assert distance > 25, (a, b, distance)
    # the pair that looked alike before: magenta and a light pink of the same hue (ΔE 47,
    # hue 2° apart); now different hues as well as far apart
    hot, cold = (_lab(CLUSTER_COLOURS[label]) for label in ("High need, low provision",
                                                            "Low need, low provision"))
    assert np.linalg.norm(hot - cold) > 60
    hue = abs(math.degrees(math.atan2(hot[2], hot[1]) - math.atan2(cold[2], cold[1]))) % 360
    assert min(hue, 360 - hue) > 60


@pytest.mark.parametrize(("title", "unit", "shown"), [
    ("Index of Multiple Deprivation 2025: score", "score", ""),
    ("IMD 2025 decile", "decile (1 = most deprived)", ""),
    ("Disabled under the Equality Act", "% of residents", "% of residents"),
    ("Distance to the nearest GP practice", "km", "km"),
])
def test_units_are_not_repeated_in_tooltips(title, unit, shown):
    assert display_unit(title, unit) == shown


def test_tooltip_values_carry_their_unit_once_and_hide_small_counts():
    registry = default_registry()
    areas = select_study_area("england", "E08000010")
    frame = study_area_frame("england", "E08000010",
                             ["imd2025_score", "stroke_admissions_per_1000"], registry)
    imd = choropleth_layer(areas, frame["imd2025_score"], unit="score",
                           title="Index of Multiple Deprivation 2025: score",
                           higher_is_worse=True)
    assert not imd.records["v"].str.contains("score").any()
    counts = person_counts("stroke_admissions_per_1000", registry)
    stroke = choropleth_layer(areas, frame["stroke_admissions_per_1000"],
                              title="Stroke admissions", unit="admissions a year per 1,000 "
                              "residents", higher_is_worse=True, person_counts=counts)
    small = counts.reindex(areas.index)
    hidden = stroke.records.drop_duplicates("c").set_index("c")["v"]
    for code in small.index[(small > 0) & (small < 5)][:20]:
        assert hidden[code].startswith(SUPPRESSED)
    assert "fewer than 5 people" in stroke.alt_text
    table = suppress_small_counts(frame[["code", "stroke_admissions_per_1000"]],
                                  "stroke_admissions_per_1000", counts)
    assert (table["stroke_admissions_per_1000"] == SUPPRESSED).sum() == int(
        ((small > 0) & (small < 5)).sum())
    assert person_counts("imd2025_score", registry) is None
    assert math.isfinite(float(person_counts("population_census2021", registry).sum()))
