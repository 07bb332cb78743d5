"""Tests for analysis.stats.spatial: bivariate LISA clusters and global Moran's I on small grids."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from analysis.stats.spatial import (
    CLUSTER_LABELS,
    HIGH_NEED_LOW_PROVISION,
    ISLAND,
    NOT_SIGNIFICANT,
    bivariate_clusters,
    contiguity_weights,
    global_moran,
)

SIDE = 10
BLOCK = range(3, 7)  # rows/columns of the planted 4 x 4 block


def grid(values: dict[str, np.ndarray] | None = None, side: int = SIDE) -> gpd.GeoDataFrame:
    """A side x side grid of unit squares, row-major, indexed by made-up area codes."""
    cells = [box(col, row, col + 1, row + 1) for row in range(side) for col in range(side)]
    index = pd.Index([f"E0100{i:04d}" for i in range(side * side)], name="area_code")
    return gpd.GeoDataFrame(values or {}, geometry=cells, index=index)


def planted_block(seed: int = 3) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    need = rng.normal(0.0, 1.0, SIDE * SIDE)
    provision = rng.normal(0.0, 1.0, SIDE * SIDE)
    block = [row * SIDE + col for row in BLOCK for col in BLOCK]
    need[block] += 3.0
    provision[block] -= 3.0
    return grid({"need": need, "provision": provision})


def position(row: int, col: int) -> int:
    return row * SIDE + col


# --------------------------------------------------------------------------------------
# Bivariate local Moran's I
# --------------------------------------------------------------------------------------


def test_planted_high_need_low_provision_block_is_found():
    areas = planted_block()
    result = bivariate_clusters(areas, "need", "provision", permutations=999, seed=1)
    labels = result.labels.to_numpy()
    core = [position(r, c) for r in (4, 5) for c in (4, 5)]
    assert all(labels[p] == HIGH_NEED_LOW_PROVISION for p in core)
    block = [position(r, c) for r in BLOCK for c in BLOCK]
    assert sum(labels[p] == HIGH_NEED_LOW_PROVISION for p in block) >= 10
    # Far from the block nothing should look like inverse care.
    far = [position(r, c) for r in range(SIDE) for c in range(SIDE) if r in (0, 9) or c in (0, 9)]
    assert not any(labels[p] == HIGH_NEED_LOW_PROVISION for p in far)


def test_result_table_is_aligned_and_labelled():
    areas = planted_block()
    result = bivariate_clusters(areas, "need", "provision", permutations=199)
    table = result.table
    assert table.index.equals(areas.index)
    assert list(result.labels.cat.categories) == list(CLUSTER_LABELS)
    assert set(result.labels.unique()) <= set(CLUSTER_LABELS)
    assert table["need_z"].mean() == pytest.approx(0.0, abs=1e-12)
    assert table["need_z"].std(ddof=0) == pytest.approx(1.0)
    assert (table.loc[~table["significant"], "cluster"] == NOT_SIGNIFICANT).all()
    assert ((table["p_value"] > 0) & (table["p_value"] <= 1)).all()
    assert sum(result.counts().values()) == len(areas)
    assert result.islands == ()


def test_local_statistic_is_own_need_times_neighbours_provision():
    areas = planted_block()
    table = bivariate_clusters(areas, "need", "provision", permutations=99).table
    n = len(areas)
    expected = (n - 1) / n * table["need_z"] * table["provision_lag_z"]
    np.testing.assert_allclose(table["local_i"], expected, rtol=1e-10)


def test_same_seed_same_answer_and_arrays_accepted():
    areas = planted_block()
    first = bivariate_clusters(areas, areas["need"].to_numpy(), areas["provision"], seed=42)
    second = bivariate_clusters(areas, "need", "provision", seed=42)
    pd.testing.assert_frame_equal(first.table, second.table)


def test_fdr_threshold_is_no_larger_than_alpha():
    areas = planted_block()
    plain = bivariate_clusters(areas, "need", "provision", permutations=999)
    corrected = bivariate_clusters(areas, "need", "provision", permutations=999, fdr=True)
    assert corrected.fdr
    assert corrected.p_threshold <= plain.p_threshold == 0.05
    assert corrected.table["significant"].sum() <= plain.table["significant"].sum()


def test_islands_are_reported_not_scored():
    areas = planted_block()
    island = gpd.GeoDataFrame(
        {"need": [5.0], "provision": [-5.0]}, geometry=[box(50, 50, 51, 51)],
        index=pd.Index(["S0100ISLE"], name="area_code"),
    )
    with_island = pd.concat([areas, island])
    result = bivariate_clusters(with_island, "need", "provision", permutations=199)
    assert result.islands == ("S0100ISLE",)
    row = result.table.loc["S0100ISLE"]
    assert row["cluster"] == ISLAND
    assert not row["significant"]
    assert np.isnan(row["p_value"])
    assert result.counts()[ISLAND] == 1
    moran = global_moran(with_island, "need")
    assert moran.islands == ("S0100ISLE",)
    assert moran.n == len(areas)


# --------------------------------------------------------------------------------------
# Global Moran's I
# --------------------------------------------------------------------------------------


def test_checkerboard_is_negative():
    areas = grid()
    checker = np.array([(r + c) % 2 for r in range(SIDE) for c in range(SIDE)], dtype=float)
    queen = global_moran(areas, checker)
    assert queen.i < queen.expected_i
    rook = global_moran(areas, checker, contiguity="rook")
    assert rook.i == pytest.approx(-1.0)
    assert rook.p_sim <= 0.002
    assert rook.z < 0
    assert rook.interpretation.startswith("Dispersed")


def test_smooth_gradient_is_positive():
    areas = grid()
    gradient = np.array([r + c for r in range(SIDE) for c in range(SIDE)], dtype=float)
    result = global_moran(areas, gradient)
    assert result.i > 0.8
    assert result.expected_i == pytest.approx(-1 / (SIDE * SIDE - 1))
    assert result.p_sim <= 0.002
    assert result.z > 0
    assert result.interpretation.startswith("Clustered")


def test_global_moran_restores_numpy_random_state():
    areas = grid()
    values = np.arange(SIDE * SIDE, dtype=float)
    np.random.seed(99)  # noqa: NPY002 - checking that legacy global state is left untouched
    before = np.random.random()  # noqa: NPY002
    np.random.seed(99)  # noqa: NPY002
    global_moran(areas, values, permutations=99)
    assert np.random.random() == before  # noqa: NPY002


@settings(max_examples=15, deadline=None)
@given(scale=st.floats(0.1, 1e4), shift=st.floats(-1e4, 1e4))
def test_moran_is_unchanged_by_rescaling(scale, shift):
    areas = grid(side=6)
    values = np.random.default_rng(0).normal(size=36)
    base = global_moran(areas, values, permutations=99)
    moved = global_moran(areas, values * scale + shift, permutations=99)
    assert moved.i == pytest.approx(base.i, rel=1e-7, abs=1e-9)
    assert moved.p_sim == base.p_sim


def test_contiguity_weights_queen_and_rook():
    areas = grid(side=3)
    queen, islands = contiguity_weights(areas)
    rook, _ = contiguity_weights(areas, "rook")
    assert islands == ()
    assert queen.cardinalities[4] == 8
    assert rook.cardinalities[4] == 4
    assert queen.cardinalities[0] == 3


# --------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------


def test_missing_values_are_named():
    areas = planted_block()
    areas.loc["E01000017", "need"] = np.nan
    with pytest.raises(ValueError, match=r"need \('need'\)\[17\] \(index 'E01000017'\) is missing"):
        bivariate_clusters(areas, "need", "provision")


def test_constant_variable_is_rejected():
    areas = planted_block()
    with pytest.raises(ValueError, match="provision is constant"):
        bivariate_clusters(areas, "need", np.ones(len(areas)))
    with pytest.raises(ValueError, match="values is constant"):
        global_moran(areas, np.ones(len(areas)))


def test_wrong_length_and_unknown_column():
    areas = planted_block()
    with pytest.raises(ValueError, match="has 5 values but there are 100 areas"):
        bivariate_clusters(areas, "need", np.ones(5))
    with pytest.raises(ValueError, match="not in the GeoDataFrame"):
        bivariate_clusters(areas, "need", "gp_fte")


def test_points_and_empty_geometry_are_rejected():
    points = gpd.GeoDataFrame({"v": [1.0, 2.0]}, geometry=[Point(0, 0), Point(1, 1)])
    with pytest.raises(ValueError, match="contiguity needs polygons"):
        global_moran(points, "v")
    areas = grid(side=3)
    areas.loc[areas.index[2], "geometry"] = None
    with pytest.raises(ValueError, match=r"geometry\[2\]"):
        global_moran(areas, np.arange(9.0))


def test_too_few_permutations_for_alpha():
    with pytest.raises(ValueError, match="permutations"):
        bivariate_clusters(planted_block(), "need", "provision", permutations=9)


def test_all_islands():
    scattered = gpd.GeoDataFrame(
        {"v": [1.0, 2.0, 3.0]}, geometry=[box(0, 0, 1, 1), box(5, 5, 6, 6), box(9, 9, 10, 10)]
    )
    with pytest.raises(ValueError, match="have a neighbour"):
        global_moran(scattered, "v")
