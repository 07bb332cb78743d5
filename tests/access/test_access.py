"""Tests for analysis.access: points and distances, nearest facility, E2SFCA, stroke.

Toy layouts sit on the equator, where the great-circle distance between (λ1, 0) and (λ2, 0)
is exactly R·|λ2 − λ1|, so a point "x km east" is at longitude x / KM_PER_DEGREE and every
distance in the hand computations is a plain difference of x. Real-data tests read only the
committed ``data/`` folder, never the raw pack.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from pyproj import Geod
from shapely.geometry import Polygon

from analysis.access import (
    EARTH_MEAN_RADIUS_KM,
    decay_weight,
    e2sfca,
    facility_attribute_per_resident,
    facility_points,
    haversine_km,
    nearest_by_travel_time,
    nearest_facility,
    representative_points,
    share_beyond,
    stroke_admissions_lsoa21,
    stroke_travel_times_lsoa21,
)

KM_PER_DEGREE = EARTH_MEAN_RADIUS_KM * math.pi / 180
LONDON = (-0.1278, 51.5074)  # Charing Cross (lon, lat)
MANCHESTER = (-2.2426, 53.4808)  # St Peter's Square
EDINBURGH = (-3.1883, 55.9533)
GREATER_MANCHESTER_ICB = "E54000057"


def on_equator(km_east: dict[str, float]) -> pd.DataFrame:
    """Points ``km_east`` km east of (0°, 0°) along the equator."""
    return pd.DataFrame(
        {"lon": [x / KM_PER_DEGREE for x in km_east.values()], "lat": 0.0},
        index=pd.Index(list(km_east)),
    )


# --------------------------------------------------------------------------------------------
# E2SFCA: hand computation
# --------------------------------------------------------------------------------------------

# Demand areas A, B, C at 0, 6 and 30 km with 100, 200 and 50 residents; facilities X, Y, Z at
# 2, 12 and 50 km with supply 10, 5 and 7; catchment d0 = 10 km. Pairs within 10 km:
# A–X 2 km, B–X 4 km, B–Y 6 km (A–Y is 12 km, C's nearest facility is 18 km away, Z's nearest
# area 20 km away).
TOY_DEMAND = on_equator({"A": 0.0, "B": 6.0, "C": 30.0})
TOY_POPULATION = pd.Series({"A": 100.0, "B": 200.0, "C": 50.0})
TOY_SUPPLY_POINTS = on_equator({"X": 2.0, "Y": 12.0, "Z": 50.0})
TOY_SUPPLY = pd.Series({"X": 10.0, "Y": 5.0, "Z": 7.0})


def test_e2sfca_gaussian_matches_hand_computation():
    # G(d) = (exp(-½(d/10)²) − exp(-½)) / (1 − exp(-½)), exp(-½) = 0.6065306597:
    #   G(2) = (0.9801986733 − 0.6065306597) / 0.3934693403 = 0.9496750454
    #   G(4) = (0.9231163464 − 0.6065306597) / 0.3934693403 = 0.8046006493
    #   G(6) = (0.8352702114 − 0.6065306597) / 0.3934693403 = 0.5813402171
    g2, g4, g6 = 0.9496750454, 0.8046006493, 0.5813402171
    # Step 1: R_X = 10 / (G(2)·100 + G(4)·200) = 10 / 255.8886 = 0.0390796532
    #         R_Y = 5 / (G(6)·200)             = 5 / 116.2680 = 0.0430040779
    #         Z has no area within 10 km: no ratio, its 7 units are reported as unreached.
    r_x = 10 / (g2 * 100 + g4 * 200)
    r_y = 5 / (g6 * 200)
    assert r_x == pytest.approx(0.0390796532, rel=1e-8)
    assert r_y == pytest.approx(0.0430040779, rel=1e-8)
    # Step 2 (per 1,000): A_A = 1000·G(2)·R_X               = 37.1129714
    #                     A_B = 1000·(G(4)·R_X + G(6)·R_Y)  = 56.4435143
    #                     A_C = 0 (no facility in reach)
    result = e2sfca(TOY_DEMAND, TOY_POPULATION, TOY_SUPPLY_POINTS, TOY_SUPPLY, catchment_km=10.0)
    expected = pd.Series({"A": 37.1129714, "B": 56.4435143, "C": 0.0})
    pd.testing.assert_series_equal(
        result.accessibility, expected, check_names=False, rtol=1e-8, atol=1e-9
    )
    assert result.supply_ratio["X"] == pytest.approx(1000 * r_x, rel=1e-8)
    assert result.supply_ratio["Y"] == pytest.approx(1000 * r_y, rel=1e-8)
    assert np.isnan(result.supply_ratio["Z"])
    assert result.unreached_supply.to_dict() == {"Z": 7.0}
    assert result.areas_without_facility == 1
    # 100·A_A + 200·A_B = 1000·(R_X·255.8886 + R_Y·116.2680) = 1000·(10 + 5)
    assert result.allocated_supply == pytest.approx(15.0)
    assert "Z" in result.summary()


def test_2sfca_without_decay_matches_hand_computation():
    # G = 1 within 10 km: R_X = 10 / (100 + 200) = 1/30, R_Y = 5 / 200 = 1/40;
    # A_A = 1000/30 = 33.333…, A_B = 1000·(1/30 + 1/40) = 58.333…, A_C = 0.
    result = e2sfca(
        TOY_DEMAND, TOY_POPULATION, TOY_SUPPLY_POINTS, TOY_SUPPLY, catchment_km=10.0, decay=None
    )
    assert result.accessibility.to_dict() == pytest.approx(
        {"A": 1000 / 30, "B": 1000 / 30 + 1000 / 40, "C": 0.0}, rel=1e-12
    )


def test_need_weight_scales_demand():
    # Need weight 2 for B: B's weighted demand 400, so R_X = 10 / (100 + 400), R_Y = 5 / 400.
    result = e2sfca(
        TOY_DEMAND, TOY_POPULATION, TOY_SUPPLY_POINTS, TOY_SUPPLY, catchment_km=10.0, decay=None,
        need_weight=pd.Series({"A": 1.0, "B": 2.0, "C": 1.0}),
    )
    assert result.accessibility["A"] == pytest.approx(1000 * 10 / 500)
    assert result.accessibility["B"] == pytest.approx(1000 * (10 / 500 + 5 / 400))


def test_decay_weight_shape():
    weights = decay_weight([0.0, 5.0, 10.0, 10.5], 10.0)
    assert weights[0] == 1.0
    expected_mid = (math.exp(-0.125) - math.exp(-0.5)) / (1 - math.exp(-0.5))
    assert weights[1] == pytest.approx(expected_mid)
    assert weights[2] == pytest.approx(0.0, abs=1e-15)
    assert weights[3] == 0.0
    assert decay_weight([10.0, 10.5], 10.0, None).tolist() == [1.0, 0.0]
    with pytest.raises(ValueError, match="decay"):
        decay_weight([1.0], 10.0, "linear")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="catchment"):
        decay_weight([1.0], 0.0)


def test_area_on_top_of_facility_is_in_reach():
    # Distance 0 must count (a sparse matrix that drops explicit zeros would lose it).
    points = on_equator({"here": 0.0})
    result = e2sfca(points, [100.0], on_equator({"gp": 0.0}), [50.0], catchment_km=5.0)
    assert result.accessibility["here"] == pytest.approx(500.0)


def test_skipped_facilities_are_reported():
    supply_points = pd.concat(
        [TOY_SUPPLY_POINTS, pd.DataFrame({"lon": [np.nan], "lat": [np.nan]}, index=["W"])]
    )
    supply = pd.Series({"X": 10.0, "Y": np.nan, "Z": 7.0, "W": 3.0})
    result = e2sfca(TOY_DEMAND, TOY_POPULATION, supply_points, supply, catchment_km=10.0)
    assert result.facilities_without_coordinates == ("W",)
    assert result.facilities_without_supply == ("Y",)
    assert "W" in result.summary() and "Y" in result.summary()


def test_e2sfca_rejects_bad_demand():
    with pytest.raises(ValueError, match="demand"):
        e2sfca(TOY_DEMAND, [1.0, -1.0, 1.0], TOY_SUPPLY_POINTS, TOY_SUPPLY)
    with pytest.raises(ValueError, match="no value"):
        e2sfca(TOY_DEMAND, pd.Series({"A": 1.0}), TOY_SUPPLY_POINTS, TOY_SUPPLY)


# --------------------------------------------------------------------------------------------
# E2SFCA: properties
# --------------------------------------------------------------------------------------------

# Random layouts in a ~35 km × 45 km box around London, catchment 10 km: some pairs in reach,
# some not.
coordinates = st.tuples(
    st.floats(-0.5, 0.0, allow_nan=False), st.floats(51.3, 51.7, allow_nan=False)
)


def layout(points: list[tuple[float, float]], prefix: str) -> pd.DataFrame:
    lon, lat = zip(*points, strict=True)
    return pd.DataFrame({"lon": lon, "lat": lat}, index=[f"{prefix}{i}" for i in range(len(lon))])


layouts = st.tuples(
    st.lists(coordinates, min_size=1, max_size=25),
    st.lists(coordinates, min_size=1, max_size=10),
).flatmap(
    lambda sizes: st.tuples(
        st.just(layout(sizes[0], "area")),
        # Residents are whole people; subnormal floats would only test float overflow.
        hnp.arrays(float, len(sizes[0]), elements=st.integers(0, 5000).map(float)),
        st.just(layout(sizes[1], "gp")),
        hnp.arrays(float, len(sizes[1]),
                   elements=st.floats(0, 20000, allow_subnormal=False)),
        st.sampled_from(["gaussian", None]),
    )
)


def dense_e2sfca(demand_points, demand, supply_points, supply, catchment_km, decay):
    """Reference: the same formulas on a dense distance matrix (fine for tiny layouts)."""
    distance = haversine_km(
        demand_points["lon"].to_numpy()[:, None], demand_points["lat"].to_numpy()[:, None],
        supply_points["lon"].to_numpy()[None, :], supply_points["lat"].to_numpy()[None, :],
    )
    weight = decay_weight(distance, catchment_km, decay)
    weighted_demand = weight.T @ demand
    ratio = np.divide(supply, weighted_demand, out=np.zeros_like(supply),
                      where=weighted_demand > 0)
    return 1000 * weight @ ratio


@settings(max_examples=150, deadline=None)
@given(layouts)
def test_e2sfca_equals_dense_reference(case):
    demand_points, demand, supply_points, supply, decay = case
    result = e2sfca(demand_points, demand, supply_points, supply, catchment_km=10.0, decay=decay)
    expected = dense_e2sfca(demand_points, demand, supply_points, supply, 10.0, decay)
    np.testing.assert_allclose(result.accessibility.to_numpy(), expected, rtol=1e-9, atol=1e-9)


@settings(max_examples=100, deadline=None)
@given(layouts)
def test_doubling_supply_doubles_accessibility(case):
    demand_points, demand, supply_points, supply, decay = case
    once = e2sfca(demand_points, demand, supply_points, supply, catchment_km=10.0, decay=decay)
    twice = e2sfca(demand_points, demand, supply_points, 2 * supply, catchment_km=10.0,
                   decay=decay)
    np.testing.assert_allclose(twice.accessibility, 2 * once.accessibility, rtol=1e-12)


@settings(max_examples=100, deadline=None)
@given(layouts, st.floats(0.1, 10))
def test_scaling_demand_scales_accessibility_inversely(case, factor):
    demand_points, demand, supply_points, supply, decay = case
    base = e2sfca(demand_points, demand, supply_points, supply, catchment_km=10.0, decay=decay)
    scaled = e2sfca(demand_points, demand * factor, supply_points, supply, catchment_km=10.0,
                    decay=decay)
    np.testing.assert_allclose(scaled.accessibility * factor, base.accessibility, rtol=1e-9)


@settings(max_examples=100, deadline=None)
@given(layouts)
def test_reached_supply_is_conserved(case):
    # Σ_i A_i·D_i = Σ_i D_i Σ_j G_ij R_j = Σ_j R_j Σ_i G_ij D_i = Σ_{j reached} S_j.
    demand_points, demand, supply_points, supply, decay = case
    result = e2sfca(demand_points, demand, supply_points, supply, catchment_km=10.0, decay=decay)
    allocated = float((result.accessibility.to_numpy() * demand).sum() / 1000)
    assert allocated == pytest.approx(result.allocated_supply, rel=1e-9, abs=1e-6)
    total = float(supply.sum())
    assert result.allocated_supply + result.unreached_supply.sum() == pytest.approx(total)


@settings(max_examples=100, deadline=None)
@given(layouts)
def test_everyone_in_every_catchment_without_decay_shares_out_all_supply(case):
    # With a 1,000 km catchment every area reaches every facility; with positive demand every
    # facility is reached, so Σ_i A_i·D_i = Σ_j S_j exactly (and A_i = Σ S / Σ D for all i).
    demand_points, demand, supply_points, supply, _ = case
    demand = demand + 1.0
    result = e2sfca(demand_points, demand, supply_points, supply, catchment_km=1000.0,
                    decay=None, per=1.0)
    assert float((result.accessibility.to_numpy() * demand).sum()) == pytest.approx(
        float(supply.sum()), rel=1e-9, abs=1e-9
    )
    np.testing.assert_allclose(result.accessibility, supply.sum() / demand.sum(), rtol=1e-9)
    assert result.areas_without_facility == 0


# --------------------------------------------------------------------------------------------
# Nearest facility by distance
# --------------------------------------------------------------------------------------------


def test_london_to_manchester_distance():
    # Haversine on the 6,371.0088 km sphere: 261.98 km; WGS84 geodesic 262.37 km (-0.15 %).
    demand = pd.DataFrame({"lon": [LONDON[0]], "lat": [LONDON[1]]}, index=["london"])
    facilities = pd.DataFrame(
        {"lon": [EDINBURGH[0], MANCHESTER[0], np.nan], "lat": [EDINBURGH[1], MANCHESTER[1], 50]},
        index=["edinburgh", "manchester", "nowhere"],
    )
    result = nearest_facility(demand, facilities)
    assert result.table.loc["london", "facility_id"] == "manchester"
    distance = result.table.loc["london", "distance_km"]
    assert distance == pytest.approx(261.98, abs=0.01)
    geodesic_km = Geod(ellps="WGS84").inv(*LONDON, *MANCHESTER)[2] / 1000
    assert abs(distance / geodesic_km - 1) < 0.0035
    assert result.skipped_facilities == ("nowhere",)
    assert "nowhere" in result.summary()


def test_haversine_on_the_equator_is_arc_length():
    assert haversine_km(0.0, 0.0, 1.0, 0.0) == pytest.approx(KM_PER_DEGREE, rel=1e-12)


points_anywhere = st.lists(
    st.tuples(st.floats(-6, 2, allow_nan=False), st.floats(49.9, 55.8, allow_nan=False)),
    min_size=1, max_size=30,
)


@settings(max_examples=100, deadline=None)
@given(points_anywhere, points_anywhere, points_anywhere)
def test_nearest_matches_brute_force_and_adding_facility_never_lengthens(areas, sites, extra):
    demand = layout(areas, "area")
    facilities = layout(sites, "site")
    before = nearest_facility(demand, facilities).table
    brute = haversine_km(
        demand["lon"].to_numpy()[:, None], demand["lat"].to_numpy()[:, None],
        facilities["lon"].to_numpy()[None, :], facilities["lat"].to_numpy()[None, :],
    )
    np.testing.assert_allclose(before["distance_km"], brute.min(axis=1), rtol=1e-9, atol=1e-9)
    more = pd.concat([facilities, layout(extra, "new")])
    after = nearest_facility(demand, more).table
    assert (after["distance_km"] <= before["distance_km"] + 1e-9).all()


def test_facility_points_from_a_practice_list():
    practices = pd.DataFrame(
        {"practice_code": ["P1", "P2"], "latitude": [51.5, None], "longitude": [-0.1, None]}
    )
    points = facility_points(practices, id_column="practice_code")
    assert list(points.index) == ["P1", "P2"]
    assert points.loc["P1"].tolist() == [-0.1, 51.5]
    assert points.loc["P2"].isna().all()
    with pytest.raises(ValueError, match="Duplicate"):
        facility_points(pd.concat([practices, practices]), id_column="practice_code")


def test_representative_points_lie_inside_a_concave_polygon():
    # A "U": its centroid falls in the notch, outside the polygon; the representative point
    # must not. Given in British National Grid, the result comes back in WGS84.
    u_shape = Polygon([(0, 0), (3000, 0), (3000, 3000), (2000, 3000), (2000, 1000),
                       (1000, 1000), (1000, 3000), (0, 3000)])
    shifted = Polygon([(x + 400_000, y + 300_000) for x, y in u_shape.exterior.coords])
    polygons = gpd.GeoDataFrame(geometry=[shifted], index=["u"], crs="EPSG:27700")
    assert not shifted.contains(shifted.centroid)
    points = representative_points(polygons)
    assert list(points.columns) == ["lon", "lat"]
    back = gpd.GeoSeries(gpd.points_from_xy(points["lon"], points["lat"]), crs="EPSG:4326")
    assert shifted.contains(back.to_crs("EPSG:27700").iloc[0])


# --------------------------------------------------------------------------------------------
# Nearest facility by travel time
# --------------------------------------------------------------------------------------------


def test_travel_time_nearest_restricted_to_subset():
    matrix = pd.DataFrame(
        {"U1": [5.0, 50.0, np.nan], "U2": [20.0, 30.0, np.nan], "U3": [15.0, np.nan, 7.0]},
        index=["a", "b", "c"],
    )
    everything = nearest_by_travel_time(matrix).table
    assert everything["facility_id"].tolist() == ["U1", "U2", "U3"]
    assert everything["minutes"].tolist() == [5.0, 30.0, 7.0]

    # Only U2 and U3 (say, the thrombectomy centres); "U9" is not in the matrix.
    subset = nearest_by_travel_time(matrix, ["U2", "U3", "U9"])
    assert subset.table["facility_id"].tolist() == ["U3", "U2", "U3"]
    assert subset.table["minutes"].tolist() == [15.0, 30.0, 7.0]
    assert subset.skipped_facilities == ("U9",)

    only_u1 = nearest_by_travel_time(matrix, ["U1"]).table
    assert np.isnan(only_u1.loc["c", "minutes"])
    assert pd.isna(only_u1.loc["c", "facility_id"])
    with pytest.raises(ValueError, match="None of the requested"):
        nearest_by_travel_time(matrix, ["U9"])


@settings(max_examples=100, deadline=None)
@given(
    hnp.arrays(float, st.tuples(st.integers(1, 20), st.integers(1, 8)),
               elements=st.one_of(st.floats(0, 300), st.just(np.nan))),
    st.data(),
)
def test_travel_time_nearest_matches_brute_force(times, data):
    columns = [f"u{j}" for j in range(times.shape[1])]
    matrix = pd.DataFrame(times, columns=columns)
    subset = data.draw(st.lists(st.sampled_from(columns), min_size=1, unique=True))
    result = nearest_by_travel_time(matrix, subset).table
    for row, (minutes, facility) in enumerate(zip(result["minutes"], result["facility_id"],
                                                  strict=True)):
        values = matrix.loc[row, subset]
        if values.isna().all():
            assert np.isnan(minutes) and pd.isna(facility)
        else:
            assert minutes == values.min()
            assert matrix.loc[row, facility] == minutes


# --------------------------------------------------------------------------------------------
# Attribute of the practices standing in each area
# --------------------------------------------------------------------------------------------


def test_facility_attribute_per_resident():
    practices = pd.DataFrame(
        {
            "practice_code": ["P1", "P2", "P3", "P4", "P5"],
            "lsoa21_code": ["a", "a", "b", None, "zz"],
            "registered_patients": [1000, 500, np.nan, 800, 900],
        }
    )
    population = pd.Series({"a": 1500.0, "b": 2000.0, "c": 0.0})
    result = facility_attribute_per_resident(practices, "registered_patients", population)
    # a: (1000 + 500) / 1500 · 1000 = 1000; b: P3 has no value → 0; c: no residents → NaN.
    assert result.per_resident["a"] == pytest.approx(1000.0)
    assert result.per_resident["b"] == 0.0
    assert np.isnan(result.per_resident["c"])
    assert result.unmatched_facilities == ("P4", "P5")
    assert result.facilities_without_value == ("P3",)


# --------------------------------------------------------------------------------------------
# Stroke: conversion of the 2011-name-keyed matrix and admissions
# --------------------------------------------------------------------------------------------

# Toy LSOA 2011 → 2021 lookup: 001A unchanged; 001B split 60/40 (by 2021 population);
# 002A (1,000 residents) and 002B (3,000) merged; 003A unchanged.
TOY_LOOKUP = pd.DataFrame(
    {
        "lsoa11_code": ["E01000001", "E01000002", "E01000002", "E01000003", "E01000004",
                        "E01000005"],
        "lsoa11_name": ["Alpha 001A", "Alpha 001B", "Alpha 001B", "Alpha 002A", "Alpha 002B",
                        "Alpha 003A"],
        "lsoa21_code": ["E01100001", "E01100002", "E01100003", "E01100004", "E01100004",
                        "E01100005"],
        "change_code": ["U", "S", "S", "M", "M", "U"],
        "weight": [1.0, 0.6, 0.4, 1.0, 1.0, 1.0],
        "population11": [1000.0, 2000.0, 2000.0, 1000.0, 3000.0, 1500.0],
    }
)
# Units: AB1 2CD gives thrombolysis and thrombectomy, EF3 4GH thrombolysis only, IJ5 6KL
# neither; MN7 8OP gives thrombolysis but has no column in the matrix.
TOY_UNITS = pd.DataFrame(
    {
        "postcode": ["AB1 2CD", "EF3 4GH", "IJ5 6KL", "MN7 8OP"],
        "use_ivt": [True, True, False, True],
        "use_mt": [True, False, False, False],
    }
)
TOY_MATRIX = pd.DataFrame(
    {
        "LSOA": ["Alpha 001A", "Alpha 001B", "Alpha 002A", "Alpha 002B", "Cardiff 001A"],
        "AB12CD": [40.0, 25.0, 70.0, 50.0, 90.0],
        "EF34GH": [20.0, 35.0, 10.0, 30.0, 80.0],
        "IJ56KL": [5.0, 10.0, 1.0, 1.0, 1.0],
    }
)


def test_stroke_travel_times_split_merge_and_subsets():
    result = stroke_travel_times_lsoa21(TOY_MATRIX, TOY_UNITS, TOY_LOOKUP)
    table = result.table
    # Unchanged: nearest thrombolysis EF3 4GH at 20, thrombectomy AB1 2CD at 40 (IJ5 6KL at 5
    # minutes gives neither and must be ignored).
    assert table.loc["E01100001"].tolist() == [20.0, "EF34GH", 40.0, "AB12CD"]
    # Split: both children inherit the parent's times.
    for child in ("E01100002", "E01100003"):
        assert table.loc[child].tolist() == [25.0, "AB12CD", 25.0, "AB12CD"]
    # Merge, population-weighted (q = 1·1000 and 1·3000):
    #   AB12CD: (70·1000 + 50·3000) / 4000 = 55;  EF34GH: (10·1000 + 30·3000) / 4000 = 25.
    assert table.loc["E01100004"].tolist() == [25.0, "EF34GH", 55.0, "AB12CD"]
    # 003A is not in the matrix: its 2021 LSOA has no time and is reported.
    assert table.loc["E01100005"].isna().all()
    assert result.lsoa21_without_times == ("E01100005",)
    assert result.unmatched_names == ("Cardiff 001A",)
    assert result.units_not_in_matrix == ("MN78OP",)
    assert result.matrix_units_not_in_list == ()
    assert "Cardiff 001A" in result.summary()


def test_stroke_travel_times_reports_a_merge_with_a_missing_parent():
    partial = TOY_MATRIX[TOY_MATRIX["LSOA"] != "Alpha 002B"]
    result = stroke_travel_times_lsoa21(partial, TOY_UNITS, TOY_LOOKUP)
    assert result.lsoa21_partial_parents == ("E01100004",)
    # The remaining parent's times stand for the merged LSOA.
    assert result.table.loc["E01100004", "mt_minutes"] == 70.0


def test_stroke_admissions_apportioned_and_rated():
    admissions = pd.DataFrame(
        {
            "lsoa11_name": ["Alpha 001A", "Alpha 001B", "Alpha 002A", "Alpha 002B",
                            "Cardiff 001A"],
            "stroke_admissions_per_year_2017_2019": [3.0, 10.0, 2.0, 4.0, 7.0],
        }
    )
    result = stroke_admissions_lsoa21(admissions, TOY_LOOKUP)
    table = result.table
    # Counts: split 10 → 6 and 4; merge 2 + 4 = 6. Mid-2020 population carried by the same
    # weights: 1000; 1200 and 800; 4000; 1500. Per 1,000: 3; 5 and 5; 1.5; 003A missing → NaN.
    assert table["admissions_per_year"].iloc[:4].tolist() == pytest.approx([3, 6, 4, 6])
    assert table["population"].tolist() == pytest.approx([1000, 1200, 800, 4000, 1500])
    assert table["admissions_per_1000"].iloc[:4].tolist() == pytest.approx([3, 5, 5, 1.5])
    assert np.isnan(table.loc["E01100005", "admissions_per_1000"])
    assert result.unmatched_names == ("Cardiff 001A",)
    assert result.lsoa21_without_admissions == ("E01100005",)

    census = pd.Series({"E01100001": 2000.0, "E01100002": 1000.0, "E01100003": 1000.0,
                        "E01100004": 3000.0, "E01100005": 1000.0})
    with_census = stroke_admissions_lsoa21(admissions, TOY_LOOKUP, population=census).table
    assert with_census.loc["E01100001", "admissions_per_1000"] == pytest.approx(1.5)

    # A merge missing a parent would be an undercount: no value, reported.
    partial = stroke_admissions_lsoa21(admissions.drop(index=3), TOY_LOOKUP)
    assert np.isnan(partial.table.loc["E01100004", "admissions_per_year"])
    assert "E01100004" in partial.lsoa21_without_admissions


def test_share_beyond_by_decile():
    minutes = pd.Series([10.0, 40.0, 70.0, np.nan], index=list("abcd"))
    population = pd.Series([100.0, 200.0, 300.0, 50.0], index=list("abcd"))
    decile = pd.Series([1, 1, 2, 2], index=list("abcd"))
    table = share_beyond(minutes, population, decile)
    # Decile 1: 200 of 300 beyond 30 min, none beyond 60. Decile 2: d has no time (50
    # residents set aside); c's 300 are beyond both. All: 500/600 and 300/600.
    assert table.loc[1, "share_beyond_30"] == pytest.approx(2 / 3)
    assert table.loc[1, "share_beyond_60"] == 0.0
    assert table.loc[2, ["population", "population_without_time"]].tolist() == [300.0, 50.0]
    assert table.loc[2, "share_beyond_30"] == 1.0
    assert table.loc["All", "share_beyond_30"] == pytest.approx(5 / 6)
    assert table.loc["All", "share_beyond_60"] == pytest.approx(0.5)
    assert table["areas"].tolist() == [2, 2, 4]


# --------------------------------------------------------------------------------------------
# Real embedded data
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def england():
    from analysis.data import load_pack, read_parquet

    pack = load_pack("england")
    practices = read_parquet("services/gp_practices.parquet")
    return pack, representative_points(pack), practices


def test_representative_points_of_england_are_inside_their_lsoas(england):
    pack, points, _ = england
    inside = pack.geometry.contains(
        gpd.GeoSeries(gpd.points_from_xy(points["lon"], points["lat"]), index=pack.index,
                      crs="EPSG:4326")
    )
    assert inside.all()


def test_e2sfca_registered_patients_greater_manchester(england):
    pack, points, practices = england
    supply = practices.set_index("practice_code")["registered_patients"]
    result = e2sfca(points, pack["population"], facility_points(practices,
                    id_column="practice_code"), supply, catchment_km=15.0)
    # The two practices listed without coordinates are skipped and reported.
    assert set(result.facilities_without_coordinates) == {"N81119", "N83018"}
    # Every LSOA in England has a practice within 15 km of its representative point.
    assert result.areas_without_facility == 0
    manchester = (pack["icb_code"] == GREATER_MANCHESTER_ICB).to_numpy()
    access = result.accessibility[manchester]
    residents = pack["population"][manchester]
    weighted_mean = float((access * residents).sum() / residents.sum())
    # England has ~1,107 registered patients per 1,000 residents (62.6 m on lists, 56.5 m
    # usual residents: list inflation and cross-border registration).
    assert 1000 < access.mean() < 1300
    assert 1000 < weighted_mean < 1300
    assert (access > 0).all()


def test_practice_attribute_per_lsoa_on_real_data(england):
    pack, _, practices = england
    result = facility_attribute_per_resident(practices, "registered_patients",
                                             pack["population"])
    matched = practices[~practices["practice_code"].isin(result.unmatched_facilities)]
    assert result.total.sum() == pytest.approx(matched["registered_patients"].sum())
    # Practices with no LSOA code in the list are reported, not dropped silently.
    assert {"N81119", "N83018"} <= set(result.unmatched_facilities)
