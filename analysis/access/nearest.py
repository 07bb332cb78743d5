"""The nearest facility to each small area, by great-circle distance or by travel time.

Facilities that cannot be used (no coordinates, no column in a travel-time matrix) are
skipped and reported on the result, never silently dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from analysis.access.points import (
    _cartesian_km,
    _checked_points,
    _chord_to_arc_km,
    _examples,
)
from analysis.util import members


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
