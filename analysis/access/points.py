"""Points and great-circle distances: the geometry every access measure shares.

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
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from analysis.util import members

FloatArray = NDArray[np.float64]

EARTH_MEAN_RADIUS_KM = 6371.0088
"""IUGG mean radius R1 = (2a + b) / 3 of the WGS84 ellipsoid, in km."""

_MAX_EXAMPLES_IN_SUMMARY = 10


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

