"""Placing service sites: postcodes through the embedded postcode index, coordinates
(WGS84 latitude/longitude or British National Grid easting/northing) by point in polygon,
each site into an LSOA 2021 (England) or data zone 2011 (Scotland).

The rules, in order, for each site:

* **Its point** is the file's own coordinates when they are valid; else the postcode's
  Code-Point Open position; else, for a postcode the index knows without coordinates (a
  terminated postcode, or one OS has not positioned), the mean position of the live
  postcodes of its area (its *area point*: where that area's addresses are), or the area's
  representative point when the area has none.
* **Its area** is the postcode index's (ONS lookup, see :mod:`analysis.data.postcodes`)
  when the postcode is found in England or Scotland; else the small-area polygon the point
  falls in; else, within :data:`COAST_TOLERANCE_DEG` of a polygon (generalised boundaries
  cut off piers and harbours), the nearest one.
* A site with a point but no area (Wales, Northern Ireland, the islands, at sea) is kept as
  supply, since people cross borders to use services, and reported; a site with no point is
  *not placed* and reported by row and postcode, never dropped silently.

Coordinates must lie in Great Britain's extent (:data:`GB_LATITUDE`, :data:`GB_LONGITUDE`;
:data:`BNG_EASTING`, :data:`BNG_NORTHING`); latitude and longitude given the wrong way
round are recognised and reported as such.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.access.service_access import small_area_points
from analysis.data import data_cache, geocode_postcodes, load_pack, load_postcode_index

#: Latitude and longitude bounds of Great Britain with its islands (Scilly 49.86° N to
#: Out Stack, Shetland 60.86° N; Rockall excluded, St Kilda at 8.6° W included).
GB_LATITUDE = (49.8, 60.9)
GB_LONGITUDE = (-8.7, 1.8)
#: The British National Grid's extent (OS, *A guide to coordinate systems in Great Britain*:
#: false origin SW of Scilly; the grid covers 0–700 km east and 0–1,300 km north).
BNG_EASTING = (0.0, 700_000.0)
BNG_NORTHING = (0.0, 1_300_000.0)
#: How far (degrees, ~1 km) a point outside every polygon may be snapped to the nearest one.
COAST_TOLERANCE_DEG = 0.01
#: Coordinates and postcode further apart than this (km) are reported as inconsistent.
MISMATCH_KM = 5.0
POSTCODE_FOUND = ("live", "terminated")

LOCATED_BY = ("coordinates", "grid reference", "postcode", "postcode area point")
AREA_BY = ("postcode", "point in polygon", "nearest area (coast)")


@functools.cache
def _from_grid():
    import pyproj

    # without the OSTN15 grid PROJ picks "OSGB36 to WGS 84 (6)", a Helmert fit good to ~2 m,
    # the same transformation the postcode index uses
    return pyproj.Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)


def grid_to_wgs84(easting: np.ndarray, northing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(longitude, latitude) of British National Grid coordinates (EPSG:27700 → 4326)."""
    lon = np.full(len(easting), np.nan)
    lat = np.full(len(easting), np.nan)
    ok = np.isfinite(easting) & np.isfinite(northing)
    if ok.any():
        lon[ok], lat[ok] = _from_grid().transform(easting[ok], northing[ok])
    return lon, lat


@data_cache(maxsize=1)
def area_points() -> pd.DataFrame:
    """Mean position (``lon``, ``lat``) of the live postcodes of every LSOA 2021 / data zone
    of the postcode index: where a terminated postcode's site is put."""
    index = load_postcode_index()
    located = index["easting"].notna().to_numpy() & index["live"].to_numpy(dtype=bool)
    area = index["area_code"]
    codes = area.cat.codes.to_numpy()
    keep = located & (codes >= 0)
    size = len(area.cat.categories)
    count = np.bincount(codes[keep], minlength=size)
    east = np.bincount(codes[keep], weights=index["easting"].to_numpy(
        dtype=float, na_value=np.nan)[keep], minlength=size)
    north = np.bincount(codes[keep], weights=index["northing"].to_numpy(
        dtype=float, na_value=np.nan)[keep], minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        lon, lat = grid_to_wgs84(east / count, north / count)
    return pd.DataFrame({"lon": lon, "lat": lat},
                        index=pd.Index(area.cat.categories.astype(str), name="area_code"))


@data_cache(maxsize=2)
def _polygons(country: str):
    import shapely

    pack = load_pack(country)
    geometries = pack.geometry.to_numpy()
    return np.asarray(pack.index.astype(str)), geometries, shapely.STRtree(geometries)


def points_in_areas(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(area code or None, how it was found) of WGS84 points: the LSOA 2021 / data zone
    polygon holding each point, else the nearest within :data:`COAST_TOLERANCE_DEG`."""
    import shapely

    found = np.full(len(lon), None, dtype=object)
    how = np.full(len(lon), None, dtype=object)
    todo = np.flatnonzero(np.isfinite(lon) & np.isfinite(lat))
    if not len(todo):
        return found, how
    points = shapely.points(lon[todo], lat[todo])
    for country in ("england", "scotland"):
        open_rows = np.flatnonzero(found[todo] == None)  # noqa: E711 - element-wise
        if not len(open_rows):
            break
        codes, _, tree = _polygons(country)
        hits = tree.query(points[open_rows], predicate="within")
        if hits.shape[1]:
            first = pd.Series(hits[1]).groupby(hits[0]).first()
            rows = todo[open_rows[first.index.to_numpy()]]
            found[rows] = codes[first.to_numpy()]
            how[rows] = AREA_BY[1]
    for country in ("england", "scotland"):
        open_rows = np.flatnonzero(found[todo] == None)  # noqa: E711
        if not len(open_rows):
            break
        codes, _, tree = _polygons(country)
        hits, distance = tree.query_nearest(points[open_rows], max_distance=COAST_TOLERANCE_DEG,
                                            return_distance=True, all_matches=False)
        if hits.shape[1]:
            rows = todo[open_rows[hits[0]]]
            found[rows] = codes[hits[1]]
            how[rows] = AREA_BY[2]
    return found, how


def haversine_pairs_km(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray,
                       lat2: np.ndarray) -> np.ndarray:
    """Element-wise great-circle distance (km) between two sets of points."""
    from analysis.access import haversine_km

    return haversine_km(lon1, lat1, lon2, lat2)


@dataclass(frozen=True)
class Placement:
    """Where each site went: arrays aligned with the file's rows."""

    postcode: pd.Series
    postcode_status: pd.Series
    lon: np.ndarray
    lat: np.ndarray
    area_code: np.ndarray
    country: np.ndarray
    located_by: np.ndarray
    area_by: np.ndarray
    mismatch_km: np.ndarray

    @property
    def placed(self) -> np.ndarray:
        """Sites with a point and an area."""
        return np.isfinite(self.lon) & pd.notna(self.area_code)

    @property
    def outside(self) -> np.ndarray:
        """Sites with a point but no area in England or Scotland."""
        return np.isfinite(self.lon) & pd.isna(self.area_code)

    @property
    def unplaced(self) -> np.ndarray:
        """Sites with no point at all."""
        return ~np.isfinite(self.lon)


def place_sites(postcodes: pd.Series | None, lon: np.ndarray, lat: np.ndarray,
                located_by_file: str) -> Placement:
    """Place sites from their postcodes and/or valid coordinates (NaN where none).

    ``located_by_file`` names the file's coordinates (``"coordinates"`` or ``"grid
    reference"``). Rules: module docstring.
    """
    n = len(lon)
    has_xy = np.isfinite(lon) & np.isfinite(lat)
    if postcodes is not None:
        coded = geocode_postcodes(postcodes.reset_index(drop=True))
        status = coded["status"].astype(str)
        pc_lon = coded["longitude"].to_numpy(dtype=float)
        pc_lat = coded["latitude"].to_numpy(dtype=float)
        pc_area = coded["area_code"].astype(object).where(coded["area_code"].notna(), None)
        pc_area = pc_area.to_numpy(dtype=object)
        country = coded["country"].astype(object).where(coded["country"].notna(), None)
        country = country.to_numpy(dtype=object)
        canonical = coded["postcode"].astype(object).where(coded["postcode"].notna(), None)
    else:
        status = pd.Series(["missing"] * n)
        pc_lon = pc_lat = np.full(n, np.nan)
        pc_area = np.full(n, None, dtype=object)
        country = np.full(n, None, dtype=object)
        canonical = pd.Series([None] * n, dtype=object)
    found = status.isin(POSTCODE_FOUND).to_numpy()
    pc_has_xy = np.isfinite(pc_lon)
    by_area = found & ~pc_has_xy & pd.notna(pc_area) & ~has_xy
    out_lon = np.where(has_xy, lon, pc_lon)
    out_lat = np.where(has_xy, lat, pc_lat)
    located_by = np.where(has_xy, located_by_file, np.where(pc_has_xy, LOCATED_BY[2], None))
    located_by = located_by.astype(object)
    if by_area.any():
        centres = area_points().reindex(pd.Index(pc_area[by_area].astype(str)))
        missing = centres["lon"].isna().to_numpy()
        if missing.any():
            fallback = pd.concat([small_area_points("england"), small_area_points("scotland")])
            centres.loc[missing] = fallback.reindex(centres.index[missing]).to_numpy()
        rows = np.flatnonzero(by_area)
        out_lon[rows] = centres["lon"].to_numpy()
        out_lat[rows] = centres["lat"].to_numpy()
        located_by[rows] = LOCATED_BY[3]
    area = np.where(found & pd.notna(pc_area), pc_area, None).astype(object)
    area_by = np.where(pd.notna(area), AREA_BY[0], None).astype(object)
    # a postcode the index puts in Wales or Northern Ireland stays there: snapping it to a
    # polygon within 1 km would move border sites into England
    todo = pd.isna(area) & np.isfinite(out_lon) & (has_xy | (status != "outside").to_numpy())
    if todo.any():
        hit, how = points_in_areas(out_lon[todo], out_lat[todo])
        rows = np.flatnonzero(todo)
        area[rows] = hit
        area_by[rows] = how
        country = country.copy()
        placed_now = rows[pd.notna(hit)]
        country[placed_now] = np.where(
            pd.Series(area[placed_now]).astype(str).str.startswith("S"), "S", "E")
    mismatch = np.full(n, np.nan)
    both = has_xy & pc_has_xy
    if both.any():
        mismatch[both] = haversine_pairs_km(lon[both], lat[both], pc_lon[both], pc_lat[both])
    return Placement(postcode=canonical, postcode_status=status, lon=out_lon, lat=out_lat,
                     area_code=area, country=country, located_by=located_by, area_by=area_by,
                     mismatch_km=mismatch)
