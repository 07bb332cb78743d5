"""Natural breaks are the exact Fisher-Jenks optimum, or say that they are approximate."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.data import default_registry
from analysis.explore import choropleth_layer
from analysis.explore.frames import study_area_frame
from analysis.explore.maps import (
    NATURAL_BREAKS_EXACT_LIMIT,
    class_breaks,
    natural_breaks,
    natural_scheme_name,
)


def _total_ssd(values: np.ndarray, bins: np.ndarray) -> float:
    classes = np.searchsorted(bins, values, side="left")
    return float(sum(((values[classes == c] - values[classes == c].mean()) ** 2).sum()
                     for c in np.unique(classes)))


def test_greater_manchester_gps_per_100000_in_7_classes_are_the_exact_breaks():
    import mapclassify

    frame = study_area_frame("england", "E54000057", ["iod2025_gps_per_100k_patients"],
                             default_registry())
    values = frame["iod2025_gps_per_100k_patients"].dropna().to_numpy()
    assert len(values) == 1_702
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Numba not installed": the exact pure-Python path
        exact = mapclassify.FisherJenks(values, k=7).bins
    bins = class_breaks(values, "natural_breaks", 7)
    np.testing.assert_allclose(bins, exact)
    moved = (np.searchsorted(bins, values) != np.searchsorted(exact, values)).sum()
    assert moved == 0  # was 1,492 of 1,702 with Fisher-Jenks on 1,000 quantiles
    assert natural_scheme_name("natural_breaks", len(values)) == "natural breaks (fisher-jenks)"


@given(st.lists(st.integers(0, 40), min_size=4, max_size=11), st.integers(2, 4))
@settings(max_examples=60, deadline=None)
def test_breaks_are_optimal_against_every_partition(raw, k):
    values = np.sort(np.array(raw, float))
    distinct = np.unique(values)
    if len(distinct) < k:
        return
    bins, exact = natural_breaks(values, k)
    assert exact
    best = min(_total_ssd(values, np.r_[np.array(cut), distinct[-1]])
               for cut in itertools.combinations(distinct[:-1], k - 1))
    assert _total_ssd(values, bins) == pytest.approx(best, abs=1e-9)


def test_above_the_limit_breaks_are_binned_within_one_bin_and_labelled():
    rng = np.random.default_rng(3)
    values = np.concatenate([rng.normal(10, 1, 3_000), rng.normal(30, 2, 3_000),
                             rng.normal(60, 3, 2_000)])
    approximate, exact = natural_breaks(values, 3, exact_limit=500)
    assert not exact
    truth, _ = natural_breaks(values, 3, exact_limit=10_000)
    ranks_true = np.searchsorted(np.sort(values), truth)
    ranks_approx = np.searchsorted(np.sort(values), approximate)
    assert np.all(np.abs(ranks_true - ranks_approx) <= len(values) / 500 + 1)
    assert "approximate" in natural_scheme_name("natural_breaks",
                                                NATURAL_BREAKS_EXACT_LIMIT + 1)
    assert "approximate" not in natural_scheme_name("quantiles", 10 ** 5)


def test_map_caption_names_the_method_and_never_says_0_without_data():
    registry = default_registry()
    from analysis.data import select_study_area

    areas = select_study_area("england", "E08000010")
    frame = study_area_frame("england", "E08000010", ["imd2025_score"], registry)
    layer = choropleth_layer(areas, frame["imd2025_score"], title="IMD 2025 score",
                             unit="score", higher_is_worse=True, scheme="natural_breaks")
    assert "0 without data" not in layer.alt_text
    assert "every one of them has a value" in layer.alt_text
    assert "natural breaks (fisher-jenks)" in layer.alt_text
    gappy = frame["imd2025_score"].copy()
    gappy.iloc[:3] = np.nan
    layer = choropleth_layer(areas, gappy, title="IMD 2025 score", unit="score",
                             higher_is_worse=True)
    assert "3 small areas without data (grey)" in layer.alt_text


def test_caption_says_approximate_only_when_the_breaks_are():
    # 5,000 areas with 300 distinct values: exact breaks, so no "approximate" in the caption
    values = np.repeat(np.arange(300, dtype=float), 17)[:5_000]
    _, exact = natural_breaks(values, 5)
    assert exact
    assert "approximate" not in natural_scheme_name("natural_breaks", len(np.unique(values)))
