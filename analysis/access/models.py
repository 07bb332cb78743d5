"""Small-area access to services: nearest facility, travel time, and floating catchments.

Every function is vectorised and takes frames as arguments (no file is read here), so the
build step and the tests can feed them whatever data they hold.

Conventions:

* **Points** are ``DataFrame``\\ s with float columns ``lon`` and ``lat`` (WGS84 degrees),
  indexed by the area or facility identifier. :func:`representative_points` makes them from
  polygons and :func:`facility_points` from a facility list.
* **Demand locations** are polygon *representative points* (shapely ``point_on_surface``:
  a point guaranteed to lie inside the polygon), not population-weighted centroids, which are
  not available for LSOA 2021 in the open data pack. In a large rural LSOA the point may sit
  kilometres from where most residents live; indicator metadata should say so.
* **Distances** are great-circle distances on a sphere of radius
  :data:`EARTH_MEAN_RADIUS_KM` (the IUGG mean Earth radius R1 = 6,371.0088 km of the WGS84
  ellipsoid), i.e. the haversine distance. Against the WGS84 ellipsoidal geodesic (pyproj
  ``Geod``) the error within England is between −0.34 % and +0.04 % (at most ~51 m at 15 km;
  London–Manchester 261.98 km against 262.37 km). Facilities are indexed with a scipy
  ``cKDTree`` on 3-D Cartesian coordinates on that sphere; a tree distance is a chord c and
  the great-circle distance is d = 2R·asin(c / 2R), exact on the sphere.
* Facilities that cannot be used (no coordinates, no supply value, no column in a travel-time
  matrix) are skipped and *reported* on the result object, never silently dropped.

References:

* Luo W, Wang F (2003). Measures of spatial accessibility to health care in a GIS
  environment: synthesis and a case study in the Chicago region. *Environment and Planning B*
  30(6):865–884 (two-step floating catchment area, 2SFCA).
* Luo W, Qi Y (2009). An enhanced two-step floating catchment area (E2SFCA) method for
  measuring spatial accessibility to primary care physicians. *Health & Place*
  15(4):1100–1107 (distance-decay weights applied in both steps).
* Dai D (2010). Black residential segregation, disparities in spatial access to health care
  facilities, and late-stage breast cancer diagnosis in metropolitan Detroit. *Health & Place*
  16(5):1038–1052 (the continuous Gaussian decay used here).
* Wang F (2012). Measurement, optimization, and impact of health care accessibility: a
  methodological review. *Annals of the Association of American Geographers*
  102(5):1104–1112 (the same Gaussian written out, eq. 4).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

from analysis.data import (
    ConversionReport,
    convert_lsoa11_to_lsoa21,
    lsoa11_name_to_code,
)
from analysis.util import members

__all__ = [
    "EARTH_MEAN_RADIUS_KM",
    "AreaAttribution",
    "CatchmentAccess",
    "Decay",
    "NearestFacility",
    "StrokeAdmissions",
    "StrokeTravelTimes",
    "decay_weight",
    "e2sfca",
    "facility_attribute_per_resident",
    "facility_points",
    "haversine_km",
    "nearest_by_travel_time",
    "nearest_facility",
    "representative_points",
    "share_beyond",
    "stroke_admissions_lsoa21",
    "stroke_travel_times_lsoa21",
]

FloatArray = NDArray[np.float64]
Decay = Literal["gaussian"] | None

EARTH_MEAN_RADIUS_KM = 6371.0088
"""IUGG mean radius R1 = (2a + b) / 3 of the WGS84 ellipsoid, in km."""

_EXP_MINUS_HALF = float(np.exp(-0.5))
_MAX_EXAMPLES_IN_SUMMARY = 10
_CONVERSION_BATCH = 50


# --------------------------------------------------------------------------------------------
# Points and distances
# --------------------------------------------------------------------------------------------


def representative_points(polygons) -> pd.DataFrame:
    """One point inside each polygon: ``DataFrame(lon, lat)`` in WGS84, indexed as ``polygons``.

    Uses shapely's ``point_on_surface`` (GeoSeries ``representative_point``), a point
    guaranteed to lie inside the polygon, computed in the polygons' own CRS and then expressed
    in EPSG:4326. These stand in for population-weighted centroids, which the open data do not
    provide for LSOA 2021: distances from sparsely populated, large areas are therefore
    measured from an arbitrary interior point rather than from where people live.
    """
    if polygons.crs is None:
        raise ValueError("polygons have no CRS; set one (e.g. EPSG:4326) before calling")
    points = polygons.geometry.representative_point()
    if not points.crs.equals("EPSG:4326"):
        points = points.to_crs("EPSG:4326")
    empty = points.is_empty.to_numpy() | points.isna().to_numpy()
    lon = np.where(empty, np.nan, points.x.to_numpy(dtype=float, na_value=np.nan))
    lat = np.where(empty, np.nan, points.y.to_numpy(dtype=float, na_value=np.nan))
    return pd.DataFrame({"lon": lon, "lat": lat}, index=polygons.index)


def facility_points(
    frame: pd.DataFrame,
    *,
    id_column: str | None = None,
    lon_column: str = "longitude",
    lat_column: str = "latitude",
) -> pd.DataFrame:
    """Facility locations as ``DataFrame(lon, lat)`` indexed by facility id.

    ``id_column`` (default: the frame's index) must be unique. Missing coordinates stay NaN so
    that the access functions can report the facilities they skip.
    """
    ids = frame.index if id_column is None else pd.Index(frame[id_column])
    if ids.has_duplicates:
        dup = ids[ids.duplicated()].unique()[:_MAX_EXAMPLES_IN_SUMMARY]
        raise ValueError(f"Duplicate facility id(s): {', '.join(map(str, dup))}")
    return pd.DataFrame(
        {
            "lon": pd.to_numeric(frame[lon_column], errors="coerce").to_numpy(dtype=float),
            "lat": pd.to_numeric(frame[lat_column], errors="coerce").to_numpy(dtype=float),
        },
        index=ids.rename(id_column or ids.name),
    )


def haversine_km(
    lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike, lat2: ArrayLike
) -> FloatArray:
    """Great-circle distance in km on the sphere of radius :data:`EARTH_MEAN_RADIUS_KM`.

    d = 2R·asin(√(sin²(Δφ/2) + cos φ1 cos φ2 sin²(Δλ/2))) (haversine formula; Sinnott 1984,
    *Sky and Telescope* 68(2):159). Error against the WGS84 geodesic: module docstring.
    """
    lam1, phi1, lam2, phi2 = (
        np.radians(np.asarray(v, dtype=float)) for v in (lon1, lat1, lon2, lat2)
    )
    h = (
        np.sin((phi2 - phi1) / 2) ** 2
        + np.cos(phi1) * np.cos(phi2) * np.sin((lam2 - lam1) / 2) ** 2
    )
    return 2 * EARTH_MEAN_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def _cartesian_km(lon: FloatArray, lat: FloatArray) -> FloatArray:
    lam, phi = np.radians(lon), np.radians(lat)
    cos_phi = np.cos(phi)
    return EARTH_MEAN_RADIUS_KM * np.column_stack(
        (cos_phi * np.cos(lam), cos_phi * np.sin(lam), np.sin(phi))
    )


def _chord_to_arc_km(chord: FloatArray) -> FloatArray:
    two_r = 2 * EARTH_MEAN_RADIUS_KM
    return two_r * np.arcsin(np.clip(chord / two_r, 0.0, 1.0))


def _arc_to_chord_km(arc_km: float) -> float:
    # Past the antipode every point is in reach; the chord cannot exceed the diameter.
    half_angle = min(arc_km / (2 * EARTH_MEAN_RADIUS_KM), np.pi / 2)
    return float(2 * EARTH_MEAN_RADIUS_KM * np.sin(half_angle))


def _checked_points(points: pd.DataFrame, what: str) -> tuple[FloatArray, FloatArray, NDArray]:
    """lon, lat arrays and a mask of rows with usable coordinates."""
    missing = [c for c in ("lon", "lat") if c not in points.columns]
    if missing:
        raise ValueError(f"{what} need columns 'lon' and 'lat'; missing {missing}")
    if points.index.has_duplicates:
        dup = points.index[points.index.duplicated()].unique()[:_MAX_EXAMPLES_IN_SUMMARY]
        raise ValueError(f"Duplicate {what} id(s): {', '.join(map(str, dup))}")
    lon = points["lon"].to_numpy(dtype=float, na_value=np.nan)
    lat = points["lat"].to_numpy(dtype=float, na_value=np.nan)
    valid = np.isfinite(lon) & np.isfinite(lat)
    bad = valid & ((np.abs(lat) > 90) | (np.abs(lon) > 360))
    if bad.any():
        first = points.index[np.flatnonzero(bad)[0]]
        raise ValueError(f"{what} {first!r} has coordinates out of range (lon/lat swapped?)")
    return lon, lat, valid


def _examples(ids: Sequence[str]) -> str:
    shown = ", ".join(map(str, ids[:_MAX_EXAMPLES_IN_SUMMARY]))
    return shown + (", …" if len(ids) > _MAX_EXAMPLES_IN_SUMMARY else "")


# --------------------------------------------------------------------------------------------
# Nearest facility
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NearestFacility:
    """Nearest facility of every demand area.

    ``table`` is indexed like the demand areas with columns ``distance_km`` (or ``minutes``)
    and ``facility_id`` (missing where nothing could be measured). ``skipped_facilities``
    lists facilities that were left out, with ``skipped_reason``.
    """

    table: pd.DataFrame
    skipped_facilities: tuple[str, ...] = field(default=())
    skipped_reason: str = ""

    @property
    def areas_without_result(self) -> int:
        return int(self.table["facility_id"].isna().sum())

    def summary(self) -> str:
        value = self.table.columns[0]
        text = (
            f"{len(self.table):,} areas; median {value} {self.table[value].median():.1f}, "
            f"max {self.table[value].max():.1f}"
        )
        if self.areas_without_result:
            text += f"; {self.areas_without_result:,} areas without a result"
        if self.skipped_facilities:
            text += (
                f"; {len(self.skipped_facilities):,} facilities skipped ({self.skipped_reason}): "
                f"{_examples(self.skipped_facilities)}"
            )
        return text


def nearest_facility(demand_points: pd.DataFrame, facilities: pd.DataFrame) -> NearestFacility:
    """Great-circle distance (km) from each demand point to its nearest facility.

    min_j d(i, j) with d the haversine distance on the mean-radius sphere (module docstring
    for the error), found with a ``cKDTree`` over 3-D sphere coordinates: the nearest point by
    chord is the nearest by arc, and the chord converts exactly to the arc. Both frames are
    ``DataFrame(lon, lat)``; facilities without coordinates are skipped and reported, demand
    points without coordinates get no result. Exact ties go to either facility.
    """
    d_lon, d_lat, d_ok = _checked_points(demand_points, "demand points")
    f_lon, f_lat, f_ok = _checked_points(facilities, "facilities")
    skipped = tuple(map(str, facilities.index[~f_ok]))
    if not f_ok.any():
        raise ValueError("No facility has coordinates")
    usable_ids = facilities.index[f_ok]
    tree = cKDTree(_cartesian_km(f_lon[f_ok], f_lat[f_ok]))
    chord, position = tree.query(_cartesian_km(d_lon[d_ok], d_lat[d_ok]), k=1, workers=-1)
    distance = np.full(len(demand_points), np.nan)
    distance[d_ok] = _chord_to_arc_km(chord)
    facility_id = np.full(len(demand_points), None, dtype=object)
    facility_id[d_ok] = np.asarray(usable_ids, dtype=object)[position]
    table = pd.DataFrame(
        {"distance_km": distance, "facility_id": facility_id}, index=demand_points.index
    )
    return NearestFacility(table, skipped, "no coordinates" if skipped else "")


def nearest_by_travel_time(
    matrix: pd.DataFrame, facilities: Iterable[str] | None = None
) -> NearestFacility:
    """Shortest travel time from each row (demand area) to a subset of columns (facilities).

    minutes_i = min_{j ∈ subset} t_ij and the arg-min column, by one ``numpy.argmin`` over the
    subset (missing times count as unreachable). ``facilities`` selects the columns (e.g. only
    thrombolysis units); ids absent from the matrix are skipped and reported. Rows with no
    time to any facility of the subset get NaN and no facility. Ties go to the column that
    comes first in ``matrix``.
    """
    wanted = list(matrix.columns) if facilities is None else list(dict.fromkeys(facilities))
    available = members(pd.Index(wanted), matrix.columns)
    skipped = tuple(str(f) for f, ok in zip(wanted, available, strict=True) if not ok)
    present = set(f for f, ok in zip(wanted, available, strict=True) if ok)
    columns = [c for c in matrix.columns if c in present]
    if not columns:
        raise ValueError("None of the requested facilities is a column of the matrix")
    times = matrix[columns].to_numpy(dtype=float, na_value=np.nan)
    filled = np.where(np.isnan(times), np.inf, times)
    best = np.argmin(filled, axis=1)
    minutes = np.take_along_axis(filled, best[:, None], axis=1)[:, 0]
    reached = np.isfinite(minutes)
    facility_id = np.where(reached, np.asarray(columns, dtype=object)[best], None)
    table = pd.DataFrame(
        {"minutes": np.where(reached, minutes, np.nan), "facility_id": facility_id},
        index=matrix.index,
    )
    return NearestFacility(table, skipped, "not in the travel-time matrix" if skipped else "")


# --------------------------------------------------------------------------------------------
# Floating catchments
# --------------------------------------------------------------------------------------------


def decay_weight(
    distance_km: ArrayLike, catchment_km: float, decay: Decay = "gaussian"
) -> FloatArray:
    """Distance-decay weight G(d, d0) of the (E)2SFCA, zero beyond the catchment d0.

    ``"gaussian"`` (Dai 2010; Wang 2012 eq. 4):

        G(d, d0) = (exp(−½·(d/d0)²) − exp(−½)) / (1 − exp(−½))   for d ≤ d0, else 0,

    which is 1 at d = 0 and falls smoothly to 0 at d = d0. ``None`` is the 2SFCA step
    function of Luo & Wang (2003): G = 1 for d ≤ d0, else 0.
    """
    if not catchment_km > 0:
        raise ValueError(f"catchment_km must be positive, got {catchment_km}")
    d = np.asarray(distance_km, dtype=float)
    inside = d <= catchment_km
    if decay is None:
        return inside.astype(float)
    if decay != "gaussian":
        raise ValueError(f"Unknown decay {decay!r}; use 'gaussian' or None")
    gaussian = (np.exp(-0.5 * (d / catchment_km) ** 2) - _EXP_MINUS_HALF) / (1 - _EXP_MINUS_HALF)
    return np.where(inside, np.maximum(gaussian, 0.0), 0.0)


@dataclass(frozen=True)
class CatchmentAccess:
    """Result of :func:`e2sfca`.

    * ``accessibility``: A_i × ``per`` per demand area (e.g. registered patients per 1,000
      residents); 0 for areas with no facility in reach.
    * ``supply_ratio``: R_j × ``per`` per usable facility (supply per ``per`` weighted
      demand in its catchment); NaN for facilities with no demand in reach.
    * ``unreached_supply``: S_j of the facilities with no demand in reach (their supply is
      not allocated to anyone).
    * ``areas_without_facility``: number of areas with no facility at positive weight.
    * ``allocated_supply``: Σ_{j reached} S_j, which equals Σ_i A_i·D_i / ``per``.
    * ``facilities_without_coordinates`` / ``facilities_without_supply``: skipped facilities.
    * ``facilities_with_negative_supply``: kept (the method is linear in S_j, so a net
      clawback lowers its neighbours' access) but listed, e.g. a closing practice's payments.
    """

    accessibility: pd.Series
    supply_ratio: pd.Series
    unreached_supply: pd.Series
    areas_without_facility: int
    facilities_without_coordinates: tuple[str, ...]
    facilities_without_supply: tuple[str, ...]
    facilities_with_negative_supply: tuple[str, ...]
    allocated_supply: float
    catchment_km: float
    decay: Decay
    per: float
    pairs_in_reach: int

    def summary(self) -> str:
        method = "E2SFCA (Gaussian decay)" if self.decay == "gaussian" else "2SFCA (no decay)"
        text = (
            f"{method}, catchment {self.catchment_km:g} km: {len(self.accessibility):,} areas, "
            f"{len(self.supply_ratio):,} facilities, {self.pairs_in_reach:,} pairs in reach; "
            f"{self.areas_without_facility:,} areas with no facility in reach"
        )
        if len(self.unreached_supply):
            text += (
                f"; {len(self.unreached_supply):,} facilities with no demand in reach "
                f"(supply {self.unreached_supply.sum():,.0f} not allocated): "
                f"{_examples(list(map(str, self.unreached_supply.index)))}"
            )
        for label, ids in (
            ("without coordinates", self.facilities_without_coordinates),
            ("without a supply value", self.facilities_without_supply),
        ):
            if ids:
                text += f"; {len(ids):,} facilities {label} skipped: {_examples(ids)}"
        if self.facilities_with_negative_supply:
            ids = self.facilities_with_negative_supply
            text += f"; {len(ids):,} facilities with negative supply kept: {_examples(ids)}"
        return text


def _aligned(values: pd.Series | ArrayLike, index: pd.Index, what: str) -> FloatArray:
    if isinstance(values, pd.Series):
        absent = ~members(index, values.index)
        if absent.any():
            raise ValueError(f"{what} has no value for {index[np.flatnonzero(absent)[0]]!r}")
        values = values.reindex(index)
        return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    array = np.asarray(values, dtype=float)
    if array.shape != (len(index),):
        raise ValueError(f"{what} must have {len(index)} values, got shape {array.shape}")
    return array


def e2sfca(
    demand_points: pd.DataFrame,
    demand: pd.Series | ArrayLike,
    supply_points: pd.DataFrame,
    supply: pd.Series | ArrayLike,
    *,
    catchment_km: float = 15.0,
    decay: Decay = "gaussian",
    per: float = 1000.0,
    need_weight: pd.Series | ArrayLike | None = None,
) -> CatchmentAccess:
    """Enhanced two-step floating catchment area accessibility (Luo & Qi 2009).

    With D_k the demand of area k (population, or population × ``need_weight``), S_j the
    supply of facility j (any quantity: registered list, payments, GPs …; missing values are
    skipped and reported, negative ones kept and reported), d the great-circle distance
    between the area's point and the facility and G the decay of :func:`decay_weight` with
    catchment d0 = ``catchment_km``:

        step 1: R_j = S_j / Σ_{k: d_kj ≤ d0} G(d_kj, d0)·D_k
        step 2: A_i = Σ_{j: d_ij ≤ d0} G(d_ij, d0)·R_j

    and the result is A_i × ``per`` (supply per ``per`` residents, or per ``per``
    need-weighted residents). ``decay=None`` gives the plain 2SFCA (Luo & Wang 2003).
    Because both steps use the same weights, Σ_i A_i·D_i = Σ_{j reached} S_j: the supply of
    every facility with some demand in reach is shared out exactly once. Facilities with no
    demand in reach are listed with their supply in ``unreached_supply``; areas with no
    facility in reach get 0 and are counted.

    Only pairs within d0 are formed (``cKDTree.sparse_distance_matrix`` on 3-D sphere
    coordinates), so memory grows with the number of pairs in reach, not areas × facilities.
    ``demand``/``supply`` (and ``need_weight``) are Series aligned on the points' index, or
    arrays in the points' order.
    """
    if not per > 0:
        raise ValueError(f"per must be positive, got {per}")
    decay_weight(np.zeros(1), catchment_km, decay)  # fails early on a bad decay or d0
    d_lon, d_lat, d_ok = _checked_points(demand_points, "demand points")
    s_lon, s_lat, s_ok = _checked_points(supply_points, "facilities")
    demand_values = _aligned(demand, demand_points.index, "demand")
    if need_weight is not None:
        demand_values = demand_values * _aligned(need_weight, demand_points.index, "need_weight")
    if not np.isfinite(demand_values).all() or (demand_values < 0).any():
        first = demand_points.index[np.flatnonzero(~(demand_values >= 0))[0]]
        raise ValueError(f"demand must be finite and non-negative; bad value for {first!r}")
    supply_values = _aligned(supply, supply_points.index, "supply")
    has_supply = np.isfinite(supply_values)
    negative_supply = tuple(map(str, supply_points.index[s_ok & has_supply & (supply_values < 0)]))
    without_coordinates = tuple(map(str, supply_points.index[~s_ok]))
    without_supply = tuple(map(str, supply_points.index[s_ok & ~has_supply]))
    usable = s_ok & has_supply

    area_rows = np.flatnonzero(d_ok)
    facility_rows = np.flatnonzero(usable)
    pairs = cKDTree(_cartesian_km(d_lon[d_ok], d_lat[d_ok])).sparse_distance_matrix(
        cKDTree(_cartesian_km(s_lon[usable], s_lat[usable])),
        # A hair of slack so pairs at exactly d0 survive the chord rounding; G(d0) = 0 anyway
        # for the Gaussian and the step function keeps d ≤ d0 after conversion to arcs.
        _arc_to_chord_km(catchment_km) * (1 + 1e-12),
        output_type="ndarray",
    )
    distance = _chord_to_arc_km(pairs["v"])
    weight = decay_weight(distance, catchment_km, decay)
    keep = weight > 0
    area = pairs["i"][keep]
    facility = pairs["j"][keep]
    weight = weight[keep]
    del pairs, distance

    n_areas, n_facilities = len(area_rows), len(facility_rows)
    facility_supply = supply_values[facility_rows]
    weighted_demand = np.bincount(
        facility, weights=weight * demand_values[area_rows][area], minlength=n_facilities
    )
    reached = weighted_demand > 0
    ratio = np.divide(
        facility_supply, weighted_demand, out=np.zeros(n_facilities), where=reached
    )
    access = np.bincount(area, weights=weight * ratio[facility], minlength=n_areas)
    in_reach = np.bincount(area, minlength=n_areas) > 0

    accessibility = np.full(len(demand_points), np.nan)
    accessibility[area_rows] = access * per
    facility_ids = supply_points.index[facility_rows]
    return CatchmentAccess(
        accessibility=pd.Series(accessibility, index=demand_points.index, name="accessibility"),
        supply_ratio=pd.Series(
            np.where(reached, ratio * per, np.nan), index=facility_ids, name="supply_ratio"
        ),
        unreached_supply=pd.Series(
            facility_supply[~reached], index=facility_ids[~reached], name="supply"
        ),
        areas_without_facility=int((~in_reach).sum()),
        facilities_without_coordinates=without_coordinates,
        facilities_without_supply=without_supply,
        facilities_with_negative_supply=negative_supply,
        allocated_supply=float(facility_supply[reached].sum()),
        catchment_km=float(catchment_km),
        decay=decay,
        per=float(per),
        pairs_in_reach=int(keep.sum()),
    )


# --------------------------------------------------------------------------------------------
# Facility attributes attributed to the area they stand in
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AreaAttribution:
    """Result of :func:`facility_attribute_per_resident`.

    ``per_resident``: Σ value × ``per`` / population per area (0 where no facility stands,
    NaN where the population is 0); ``total``: Σ value per area. ``unmatched_facilities``:
    facilities whose area code is missing or not among the areas; ``facilities_without_value``:
    facilities with no value (left out of the sums).
    """

    per_resident: pd.Series
    total: pd.Series
    unmatched_facilities: tuple[str, ...]
    facilities_without_value: tuple[str, ...]

    def summary(self) -> str:
        text = (
            f"{len(self.total):,} areas, {int((self.total > 0).sum()):,} with a facility; "
            f"total {self.total.sum():,.0f}"
        )
        if self.unmatched_facilities:
            text += (
                f"; {len(self.unmatched_facilities):,} facilities outside the areas: "
                f"{_examples(self.unmatched_facilities)}"
            )
        if self.facilities_without_value:
            text += (
                f"; {len(self.facilities_without_value):,} facilities without a value: "
                f"{_examples(self.facilities_without_value)}"
            )
        return text


def facility_attribute_per_resident(
    facilities: pd.DataFrame,
    value_column: str,
    population: pd.Series,
    *,
    area_column: str = "lsoa21_code",
    id_column: str = "practice_code",
    per: float = 1000.0,
) -> AreaAttribution:
    """Sum of a facility attribute over the facilities standing in each area, per resident.

    V_i = per × Σ_{j located in i} x_j / P_i, with P_i the population of area i
    (``population``, indexed by area code). The simple "where the practice is" measure: it
    ignores that people use facilities in neighbouring areas, so most areas score 0 and the
    few with a practice score high; use :func:`e2sfca` for access that crosses boundaries.
    """
    for column in (value_column, area_column, id_column):
        if column not in facilities.columns:
            raise ValueError(f"Column {column!r} not found; columns are {list(facilities.columns)}")
    values = pd.to_numeric(facilities[value_column], errors="coerce")
    areas = facilities[area_column]
    ids = facilities[id_column].astype(str)
    matched = areas.notna().to_numpy() & members(areas.fillna(""), population.index)
    has_value = values.notna().to_numpy()
    use = matched & has_value
    total = (
        values[use].groupby(areas[use].to_numpy()).sum().reindex(population.index, fill_value=0.0)
    ).astype(float)
    population_values = population.astype(float)
    per_resident = (total * per / population_values.where(population_values > 0)).rename(
        f"{value_column}_per_{per:g}"
    )
    return AreaAttribution(
        per_resident=per_resident,
        total=total.rename(value_column),
        unmatched_facilities=tuple(ids[~matched]),
        facilities_without_value=tuple(ids[matched & ~has_value]),
    )


# --------------------------------------------------------------------------------------------
# Stroke: travel time to thrombolysis and thrombectomy, admissions
# --------------------------------------------------------------------------------------------


def _normalised_postcode(values: Iterable[str]) -> list[str]:
    return [str(v).replace(" ", "").upper() for v in values]


def _names_to_codes(
    names: pd.Series, lookup: pd.DataFrame
) -> tuple[pd.Series, tuple[str, ...]]:
    codes = lsoa11_name_to_code(names, lookup)
    unmatched = tuple(names[codes.isna()].astype(str))
    return codes, unmatched


def _lsoa21_missing_parents(
    lookup: pd.DataFrame, converted_codes: pd.Series
) -> tuple[pd.Index, pd.Index]:
    """2021 codes with no 2011 parent among ``converted_codes``, and with only some of them."""
    present = members(lookup["lsoa11_code"], converted_codes)
    by_child = pd.Series(present).groupby(lookup["lsoa21_code"].to_numpy())
    any_present, all_present = by_child.any(), by_child.all()
    return any_present.index[~any_present], all_present.index[any_present & ~all_present]


@dataclass(frozen=True)
class StrokeTravelTimes:
    """Result of :func:`stroke_travel_times_lsoa21`.

    ``table`` (indexed by ``lsoa21_code``, every 2021 LSOA of the lookup): ``ivt_minutes``,
    ``ivt_unit`` (postcode of the nearest thrombolysis unit), ``mt_minutes``, ``mt_unit``
    (nearest thrombectomy centre). Reports: 2011 names not in the lookup (e.g. Welsh LSOAs,
    renamed areas), 2021 LSOAs without any time, 2021 LSOAs that had only some of their 2011
    parents, units in the unit list the matrix does not cover and matrix columns not in the
    unit list.
    """

    table: pd.DataFrame
    conversion: ConversionReport
    unmatched_names: tuple[str, ...]
    lsoa21_without_times: tuple[str, ...]
    lsoa21_partial_parents: tuple[str, ...]
    units_not_in_matrix: tuple[str, ...]
    matrix_units_not_in_list: tuple[str, ...]

    def summary(self) -> str:
        parts = [
            self.conversion.summary(),
            f"{len(self.unmatched_names):,} matrix rows with a 2011 name not in the lookup"
            + (f" ({_examples(self.unmatched_names)})" if self.unmatched_names else ""),
            f"{len(self.lsoa21_without_times):,} LSOA 2021 without travel times"
            + (f" ({_examples(self.lsoa21_without_times)})" if self.lsoa21_without_times else ""),
        ]
        if self.lsoa21_partial_parents:
            parts.append(
                f"{len(self.lsoa21_partial_parents):,} LSOA 2021 from only some of their 2011 "
                f"parents ({_examples(self.lsoa21_partial_parents)})"
            )
        if self.units_not_in_matrix:
            parts.append(
                f"thrombolysis/thrombectomy units with no matrix column: "
                f"{_examples(self.units_not_in_matrix)}"
            )
        if self.matrix_units_not_in_list:
            parts.append(
                f"matrix columns not in the unit list (unclassified, ignored): "
                f"{_examples(self.matrix_units_not_in_list)}"
            )
        return "; ".join(parts)


def stroke_travel_times_lsoa21(
    matrix: pd.DataFrame,
    units: pd.DataFrame,
    lookup: pd.DataFrame,
    *,
    name_column: str = "LSOA",
    postcode_column: str = "postcode",
) -> StrokeTravelTimes:
    """Minutes from each LSOA 2021 to the nearest thrombolysis and thrombectomy unit.

    ``matrix``: one row per LSOA 2011 *name* (``name_column``) and one column of modelled
    road travel minutes per stroke unit (column = unit postcode). ``units``: the unit list
    with ``postcode``, ``use_ivt`` (gives thrombolysis) and ``use_mt`` (gives thrombectomy).
    ``lookup``: LSOA 2011 ↔ 2021 pairs with ``lsoa11_name``, ``lsoa11_code``,
    ``lsoa21_code``, ``weight`` and ``population11`` (as ``load_lookup()``).

    Names become 2011 codes through the lookup, then every unit column is converted to 2021
    as a rate with :func:`convert_lsoa11_to_lsoa21`: a split's children inherit the parent's
    times and a merge takes the population-weighted mean t21 = Σ q·t11 / Σ q of its parents'
    times (q = apportioning weight × mid-2020 population). The nearest unit is then chosen on
    the 2021 times (min over the unit subset), so the reported minutes are those to the
    reported unit. Build-time helper: reads no file.
    """
    for column, frame, what in (
        (name_column, matrix, "matrix"),
        (postcode_column, units, "units"),
        ("use_ivt", units, "units"),
        ("use_mt", units, "units"),
    ):
        if column not in frame.columns:
            raise ValueError(f"{what} has no column {column!r}")
    unit_columns = [c for c in matrix.columns if c != name_column]
    matrix_postcodes = dict(zip(_normalised_postcode(unit_columns), unit_columns, strict=True))
    listed = pd.DataFrame(
        {
            "postcode": _normalised_postcode(units[postcode_column]),
            "ivt": units["use_ivt"].fillna(False).astype(bool).to_numpy(),
            "mt": units["use_mt"].fillna(False).astype(bool).to_numpy(),
        }
    )
    listed_set = set(listed["postcode"])
    treating = listed[listed["ivt"] | listed["mt"]]
    units_not_in_matrix = tuple(p for p in treating["postcode"] if p not in matrix_postcodes)
    not_in_list = tuple(matrix_postcodes[p] for p in matrix_postcodes if p not in listed_set)

    subsets = {
        flag: [matrix_postcodes[p] for p in listed.loc[listed[flag], "postcode"]
               if p in matrix_postcodes]
        for flag in ("ivt", "mt")
    }
    needed = [c for c in unit_columns if c in set(subsets["ivt"]) | set(subsets["mt"])]

    codes, unmatched = _names_to_codes(matrix[name_column], lookup)
    known = codes.notna().to_numpy()
    times11 = matrix.loc[known, needed].astype(float)
    times11.insert(0, "lsoa11_code", codes[known].to_numpy())
    all_lsoa21 = pd.Index(lookup["lsoa21_code"].unique(), name="lsoa21_code")
    # convert_lsoa11_to_lsoa21 adds output columns one by one; batches keep its frame from
    # fragmenting (pandas PerformanceWarning past 100 columns).
    batches = []
    for start in range(0, len(needed), _CONVERSION_BATCH):
        batch = needed[start : start + _CONVERSION_BATCH]
        converted, report = convert_lsoa11_to_lsoa21(
            times11[["lsoa11_code", *batch]], code_column="lsoa11_code", rates=batch,
            lookup=lookup,
        )
        batches.append(converted.reindex(all_lsoa21))
    times21 = pd.concat(batches, axis=1)

    table = pd.DataFrame(index=all_lsoa21)
    for label, flag in (("ivt", "ivt"), ("mt", "mt")):
        nearest = nearest_by_travel_time(times21, subsets[flag]).table
        table[f"{label}_minutes"] = nearest["minutes"]
        table[f"{label}_unit"] = nearest["facility_id"].astype("str")

    no_parent, partial = _lsoa21_missing_parents(lookup, codes[known])
    return StrokeTravelTimes(
        table=table,
        conversion=report,
        unmatched_names=unmatched,
        lsoa21_without_times=tuple(map(str, no_parent)),
        lsoa21_partial_parents=tuple(map(str, partial)),
        units_not_in_matrix=units_not_in_matrix,
        matrix_units_not_in_list=not_in_list,
    )


def share_beyond(
    minutes: pd.Series,
    population: pd.Series,
    decile: pd.Series,
    thresholds: Sequence[float] = (30, 60),
) -> pd.DataFrame:
    """Share of the population living more than each threshold away, by deprivation decile.

    For decile g and threshold T: share = Σ_{i ∈ g, t_i > T} P_i / Σ_{i ∈ g, t_i known} P_i
    (a fraction, 0–1). The three Series are aligned on ``minutes``' index. Rows: deciles in
    ascending order (1 = most deprived) and ``"All"``; columns ``areas``, ``population``
    (with a known time), ``population_without_time`` and ``share_beyond_<T>``. Areas with no
    decile are counted only in ``"All"``.
    """
    index = minutes.index
    pop = _aligned(population, index, "population")
    group = decile.reindex(index)
    if (~np.isfinite(pop)).any() or (pop < 0).any():
        raise ValueError("population must be finite and non-negative for every area")
    time = minutes.to_numpy(dtype=float, na_value=np.nan)
    known = ~np.isnan(time)
    frame = pd.DataFrame(
        {
            "areas": 1,
            "population": np.where(known, pop, 0.0),
            "population_without_time": np.where(known, 0.0, pop),
        },
        index=index,
    )
    columns = []
    for threshold in thresholds:
        column = f"beyond_{threshold:g}"
        frame[column] = np.where(known & (time > threshold), pop, 0.0)
        columns.append(column)
    by_decile = frame.groupby(group.to_numpy(), dropna=True).sum().sort_index()
    by_decile.index = by_decile.index.astype(int).astype(object)
    table = pd.concat([by_decile, frame.sum().to_frame("All").T])
    table.index.name = "imd_decile"
    denominator = table["population"].where(table["population"] > 0)
    for threshold, column in zip(thresholds, columns, strict=True):
        table[f"share_beyond_{threshold:g}"] = table.pop(column) / denominator
    table["areas"] = table["areas"].astype(int)
    return table


@dataclass(frozen=True)
class StrokeAdmissions:
    """Result of :func:`stroke_admissions_lsoa21`.

    ``table`` (indexed by ``lsoa21_code``): ``admissions_per_year``, ``population`` and
    ``admissions_per_1000``. LSOA 2021 that lack some or all of their 2011
    parents are NaN (an apportioned count would be an undercount) and listed.
    """

    table: pd.DataFrame
    conversion: ConversionReport
    unmatched_names: tuple[str, ...]
    lsoa21_without_admissions: tuple[str, ...]

    def summary(self) -> str:
        text = (
            f"{self.conversion.summary()}; {len(self.unmatched_names):,} 2011 names not in the "
            f"lookup"
        )
        if self.unmatched_names:
            text += f" ({_examples(self.unmatched_names)})"
        if self.lsoa21_without_admissions:
            text += (
                f"; {len(self.lsoa21_without_admissions):,} LSOA 2021 without a complete count "
                f"({_examples(self.lsoa21_without_admissions)})"
            )
        return text


def stroke_admissions_lsoa21(
    admissions_by_name: pd.DataFrame,
    lookup: pd.DataFrame,
    *,
    name_column: str = "lsoa11_name",
    value_column: str = "stroke_admissions_per_year_2017_2019",
    population: pd.Series | None = None,
) -> StrokeAdmissions:
    """Yearly stroke admissions per LSOA 2021 and per 1,000 residents (a need indicator).

    Counts on 2011 LSOA names go to codes through ``lookup`` and are apportioned to 2021 with
    :func:`convert_lsoa11_to_lsoa21` (``counts=``): C21(j) = Σ_i w(i, j)·C11(i), splits
    shared by 2021 population, merges summed. The rate is C21 × 1000 / P21. ``population``
    (indexed by 2021 code, e.g. Census 2021) defaults to the mid-2020 estimate carried to 2021
    by the same weights, Σ_i w(i, j)·P11(i) — closer in time to the 2017–2019 admissions, and
    a split's children then share the parent's rate exactly.
    """
    for column in (name_column, value_column):
        if column not in admissions_by_name.columns:
            raise ValueError(f"admissions have no column {column!r}")
    codes, unmatched = _names_to_codes(admissions_by_name[name_column], lookup)
    known = codes.notna().to_numpy()
    counts11 = pd.DataFrame(
        {
            "lsoa11_code": codes[known].to_numpy(),
            "admissions_per_year": pd.to_numeric(
                admissions_by_name.loc[known, value_column], errors="coerce"
            ).to_numpy(),
        }
    )
    counts21, report = convert_lsoa11_to_lsoa21(
        counts11, code_column="lsoa11_code", counts=["admissions_per_year"], lookup=lookup
    )
    all_lsoa21 = pd.Index(lookup["lsoa21_code"].unique(), name="lsoa21_code")
    no_parent, partial = _lsoa21_missing_parents(lookup, codes[known])
    incomplete = no_parent.append(partial)
    admissions = counts21["admissions_per_year"].reindex(all_lsoa21)
    admissions[members(all_lsoa21, incomplete)] = np.nan
    if population is None:
        carried = (lookup["weight"] * lookup["population11"].astype(float)).groupby(
            lookup["lsoa21_code"].to_numpy()
        ).sum()
        denominator = carried.reindex(all_lsoa21)
    else:
        denominator = population.astype(float).reindex(all_lsoa21)
    table = pd.DataFrame(
        {
            "admissions_per_year": admissions,
            "population": denominator,
            "admissions_per_1000": admissions * 1000 / denominator.where(denominator > 0),
        },
        index=all_lsoa21,
    )
    return StrokeAdmissions(
        table=table,
        conversion=report,
        unmatched_names=unmatched,
        lsoa21_without_admissions=tuple(sorted(map(str, incomplete))),
    )
