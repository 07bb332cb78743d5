"""Floating catchments: supply within reach of each small area, with distance decay (E2SFCA),
and facility attributes attributed to the area they stand in.

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

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.spatial import cKDTree

from analysis.access.points import (
    FloatArray,
    _aligned,
    _arc_to_chord_km,
    _cartesian_km,
    _checked_points,
    _chord_to_arc_km,
    _examples,
)
from analysis.util import members

Decay = Literal["gaussian"] | None

_EXP_MINUS_HALF = float(np.exp(-0.5))


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
