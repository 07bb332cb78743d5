"""Access from any service: nearest site, sites within reach and E2SFCA with the service's
capacity, for every LSOA 2021 / data zone of a study area, checked against brute-force
haversine sums and the E2SFCA's conservation of supply; the results are provision
indicators the map, the inverse-care test and allocation can use."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.access import decay_weight, e2sfca, haversine_km
from analysis.access.service_access import (
    SUGGESTED_ROAD_FACTOR,
    access_to_service,
    small_area_points,
)
from analysis.data import IndicatorRegistry, load_pack_table
from analysis.explore import equity_panel, study_area_frame
from analysis.ingest import load_service_file
from tests.conftest import REPO

FIXTURES = REPO / "tests" / "fixtures" / "services"
WIGAN, CLACKS = "E08000010", "S12000005"


@pytest.fixture(scope="module")
def pharmacies():
    dataset, report = load_service_file(FIXTURES / "pharmacies_wigan_ods.csv",
                                        FIXTURES / "pharmacies_wigan.yaml", skip_unplaced=True)
    assert report.ok
    return dataset


@pytest.fixture(scope="module")
def libraries():
    dataset, report = load_service_file(FIXTURES / "libraries_clackmannanshire.csv",
                                        FIXTURES / "libraries_clackmannanshire.yaml")
    assert report.ok
    return dataset


def brute_force(points: pd.DataFrame, sites: pd.DataFrame) -> np.ndarray:
    """Every area × site haversine distance (km)."""
    return haversine_km(points["lon"].to_numpy()[:, None], points["lat"].to_numpy()[:, None],
                        sites["longitude"].to_numpy()[None, :],
                        sites["latitude"].to_numpy()[None, :])


def test_every_wigan_lsoa_gets_all_three_measures(pharmacies):
    result = pharmacies.access()
    table = load_pack_table("england")
    wigan = table.index[table["ltla_code"] == WIGAN]
    assert result.coverage == (WIGAN,)
    assert sorted(result.table.index) == sorted(wigan) and len(wigan) == 200
    assert result.table[["nearest_km", "sites_within", "e2sfca"]].notna().all().all()
    distances = brute_force(small_area_points("england").loc[result.table.index],
                            pharmacies.sites)
    np.testing.assert_allclose(result.table["nearest_km"], distances.min(axis=1), rtol=1e-9)
    np.testing.assert_array_equal(result.table["sites_within"], (distances <= 2.0).sum(axis=1))
    nearest = pharmacies.sites["name"].to_numpy()[distances.argmin(axis=1)]
    assert (result.table["nearest_site"].to_numpy() == nearest).all()


def test_e2sfca_shares_out_every_reached_site_exactly_once(libraries):
    result = libraries.access()
    table = load_pack_table("scotland").loc[result.table.index]
    shared = (result.table["e2sfca"] * table["population"]).sum() / result.per
    assert result.supply_unit == "staffed hours a week" and result.per == 1_000
    assert shared == pytest.approx(libraries.sites["capacity"].sum(), rel=1e-9)
    assert len(result.table) == 72 and result.table["e2sfca"].notna().all()


def test_e2sfca_against_a_hand_computed_two_step_sum(libraries):
    result = libraries.access(catchment_km=3)
    points = small_area_points("scotland").loc[result.table.index]
    d = brute_force(points, libraries.sites)
    weight = decay_weight(d, 3.0)
    demand = load_pack_table("scotland").loc[points.index, "population"].to_numpy(float)
    supply = libraries.sites["capacity"].to_numpy()
    ratio = np.divide(supply, weight.T @ demand, out=np.zeros(len(supply)),
                      where=(weight.T @ demand) > 0)
    expected = weight @ ratio * 1_000
    np.testing.assert_allclose(result.table["e2sfca"], expected, rtol=1e-9)


def test_without_capacity_every_site_counts_as_one(pharmacies):
    result = pharmacies.access()
    assert result.supply_unit == "sites" and result.per == 100_000
    points = small_area_points("england").loc[result.table.index]
    population = load_pack_table("england").loc[points.index, "population"].astype(float)
    sites = pharmacies.sites.set_index("site_id")
    direct = e2sfca(points, population, sites.rename(columns={"longitude": "lon",
                                                              "latitude": "lat"}),
                    pd.Series(1.0, index=sites.index), catchment_km=2.0, per=100_000)
    np.testing.assert_allclose(result.table["e2sfca"], direct.accessibility, rtol=1e-12)
    assert "every site counts as 1" in result.indicators(["e2sfca"])[0].meta.notes


def test_a_road_factor_scales_distances_and_shrinks_the_catchment(libraries):
    straight = libraries.access(catchment_km=5, within_km=3)
    road = libraries.access(catchment_km=5, within_km=3, road_factor=SUGGESTED_ROAD_FACTOR)
    np.testing.assert_allclose(road.table["nearest_km"], straight.table["nearest_km"] * 1.3)
    shrunk = libraries.access(catchment_km=5 / 1.3, within_km=3 / 1.3)
    np.testing.assert_array_equal(road.table["sites_within"], shrunk.table["sites_within"])
    np.testing.assert_allclose(road.table["e2sfca"], shrunk.table["e2sfca"], rtol=1e-9)
    meta = road.indicators(["nearest"])[0].meta
    assert "straight line × 1.3" in meta.notes and meta.extra["estimated"] is True
    assert "straight-line" in straight.indicators(["nearest"])[0].meta.notes.lower()
    for bad in (0.9, 0, -1, 5):
        with pytest.raises(ValueError, match="road_factor"):
            libraries.access(road_factor=bad)


def test_a_value_does_not_depend_on_the_study_area_it_is_seen_from(pharmacies):
    wigan = pharmacies.access()
    wider = pharmacies.access(area="E54000057")   # Greater Manchester ICB
    assert len(wider.table) > len(wigan.table)
    assert wider.outside_coverage == len(wider.table) - 200
    pd.testing.assert_series_equal(wider.table.loc[wigan.table.index, "e2sfca"],
                                   wigan.table["e2sfca"])
    # outside the coverage: access from the second step only, no demand of their own
    assert wider.demand_areas == 200
    assert "outside the service's coverage" in wider.summary()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.floats(53.45, 53.62), st.floats(-2.75, -2.40),
                          st.one_of(st.none(), st.floats(0, 50))), min_size=1, max_size=25),
       st.floats(0.5, 8.0))
def test_nearest_and_within_match_brute_force_for_any_sites(sites, radius):
    frame = pd.DataFrame({"site_id": [f"s{i}" for i in range(len(sites))],
                          "latitude": [s[0] for s in sites], "longitude": [s[1] for s in sites],
                          "capacity": [np.nan] * len(sites), "area_code": None,
                          "name": [f"site {i}" for i in range(len(sites))]})
    result = access_to_service(frame, service={"id": "prop"}, area=WIGAN, catchment_km=radius)
    d = brute_force(small_area_points("england").loc[result.table.index], frame)
    np.testing.assert_allclose(result.table["nearest_km"], d.min(axis=1), rtol=1e-9)
    counted = result.table["sites_within"].to_numpy()
    exact = (d <= radius).sum(axis=1)
    # a site within a hair of the radius may fall either side of the chord rounding
    close = (np.abs(d - radius) < 1e-9).sum(axis=1)
    assert ((counted >= exact - close) & (counted <= exact + close)).all()
    assert (result.table["e2sfca"] >= 0).all()


def test_the_indicators_are_usable_like_any_provision_indicator(libraries, pharmacies):
    registry = IndicatorRegistry()
    for indicator in pharmacies.access().indicators():
        registry.add_session_indicator(indicator)
    ids = ["wigan_pharmacies_test_nearest_km", "wigan_pharmacies_test_within_2km",
           "wigan_pharmacies_test_e2sfca"]
    metas = [registry.meta(i) for i in ids]
    assert [m.kind for m in metas] == ["provision"] * 3
    assert [m.polarity for m in metas] == ["higher_is_worse", "higher_is_better",
                                           "higher_is_better"]
    assert {m.geography for m in metas} == {"lsoa21"}
    assert metas[2].unit == "sites per 100,000 residents"
    frame = study_area_frame("england", WIGAN, ids, registry)
    assert frame[ids].notna().all().all() and len(frame) == 200
    panel = equity_panel("england", WIGAN, "imd2025_score", ids[2], registry)
    assert panel.test.n == 200
    scottish = IndicatorRegistry()
    for indicator in libraries.access().indicators():
        scottish.add_session_indicator(indicator)
    frame = study_area_frame("scotland", CLACKS, ["clacks_libraries_test_e2sfca"], scottish)
    assert frame["clacks_libraries_test_e2sfca"].notna().sum() == 72
    panel = equity_panel("scotland", CLACKS, "simd2020_rank", "clacks_libraries_test_e2sfca",
                         scottish)
    assert panel.test.n == 72


def test_the_export_frame_rounds_and_keeps_every_area(libraries):
    frame = libraries.access().frame()
    assert frame.columns.tolist() == ["code", "name", "population", "nearest_km",
                                      "nearest_site", "sites_within", "e2sfca"]
    assert str(frame["population"].dtype) == "Int64" and len(frame) == 72
    assert (frame["nearest_km"] == frame["nearest_km"].round(3)).all()


def test_errors_name_what_is_wrong(pharmacies, libraries):
    both = pd.concat([pharmacies.sites, libraries.sites], ignore_index=True)
    with pytest.raises(ValueError, match="England and in Scotland"):
        access_to_service(both, service={"id": "x"})
    scotland = access_to_service(both, service={"id": "x"}, area=CLACKS)
    assert len(scotland.table) == 72
    with pytest.raises(ValueError, match="catchment_km"):
        pharmacies.access(catchment_km=0)
    with pytest.raises(ValueError, match="both England and Scotland"):
        access_to_service(both, service={"id": "x"}, coverage=[WIGAN, CLACKS])
    nowhere = pharmacies.sites.assign(area_code=None)
    with pytest.raises(ValueError, match="no area to measure"):
        access_to_service(nowhere, service={"id": "x"})
    with pytest.raises(ValueError, match="unknown measure"):
        pharmacies.access().indicators(["fastest"])


def test_hospitals_across_england_cover_every_lsoa():
    from analysis.ingest import default_service_registry

    hospitals = default_service_registry().get("nhs_hospitals_2022")
    result = hospitals.access()
    assert len(result.table) == 33_755 and result.coverage == ("E92000001",)
    assert result.table["nearest_km"].max() < 60
    table = load_pack_table("england")
    shared = (result.table["e2sfca"] * table.loc[result.table.index, "population"]).sum()
    # every English hospital has residents within 20 km; the Welsh one shares in too
    assert shared / result.per == pytest.approx(1_209, abs=1e-6)
