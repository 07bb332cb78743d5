"""Boundary outlines of local authorities for map context, dissolved from the small-area
polygons of the geography packs.

The raw pack has polygons only for LSOAs (England) and data zones (Scotland); every higher
area is a union of them (``analysis.data.geography``), so the outlines of local authorities
(England LTLA 2024, Scottish council areas) are dissolved here once, at build time, instead
of on map views (the England dissolve takes ~1.7 s). Each outline carries a label point
inside it (the pole of inaccessibility, not the centroid, which can fall outside a
crescent-shaped area).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from analysis.data import spec_for

OUTLINES_FILE = "geography/boundary_outlines.parquet"
#: The level key of the local authority in each country's pack.
LOCAL_AUTHORITY = {"england": "ltla", "scotland": "council"}
#: Build-time simplification (degrees; ~20 m, under a pixel of a one-authority view, about
#: 30 m/px on a ~900 px map); each map simplifies further for its own scale.
BUILD_TOLERANCE = 0.0003
GRID = 1e-5
#: Parts smaller than this (square degrees, ~0.1 hectare) are slivers between generalised
#: small-area polygons, not islands.
SLIVER_AREA = 1e-7


def label_points(geometries: np.ndarray, precision: float = 0.0005) -> np.ndarray:
    """A label point inside each (multi)polygon: the pole of inaccessibility of its largest
    part, the interior point farthest from the edge (Garcia-Castellanos & Lombardo 2007,
    "Poles of inaccessibility", Scottish Geographical Journal 123:227-233; the algorithm of
    Mapbox's polylabel, as ``shapely.ops.polylabel``). Returns an (n, 2) array of lon, lat.
    """
    from shapely.ops import polylabel

    out = np.empty((len(geometries), 2))
    for i, geometry in enumerate(geometries):
        parts = shapely.get_parts(geometry)
        largest = parts[int(np.argmax(shapely.area(parts)))]
        try:
            point = polylabel(largest, tolerance=precision)
        except Exception:  # noqa: BLE001 - a degenerate ring still gets a point on it
            point = shapely.point_on_surface(largest)
        out[i] = point.x, point.y
    return out


def dissolve_outlines(small_areas, code_column: str, name_column: str,
                      population_column: str = "population", *,
                      tolerance: float = BUILD_TOLERANCE):
    """One outline per distinct ``code_column`` of ``small_areas`` (a GeoDataFrame): the
    union of its small areas (GEOS unary union), without holes or sliver parts, simplified
    with ``tolerance`` (Douglas-Peucker, topology-preserving), with its name, summed
    population and label point (:func:`label_points`). Sorted by code.
    """
    import geopandas as gpd

    frame = gpd.GeoDataFrame({
        "code": small_areas[code_column].astype(str).to_numpy(),
        "name": small_areas[name_column].astype(str).to_numpy(),
        "population": small_areas[population_column].astype("int64").to_numpy(),
    }, geometry=small_areas.geometry.to_numpy(), crs=small_areas.crs)
    dissolved = frame.dissolve(by="code", aggfunc={"name": "first", "population": "sum"},
                               sort=True).reset_index()
    # a boundary between two areas is the exterior of one of them, so holes add only the
    # slivers left where generalised small-area polygons do not quite meet
    parts, owner = shapely.get_parts(dissolved.geometry.to_numpy(), return_index=True)
    keep = shapely.area(parts) >= SLIVER_AREA
    largest = pd.Series(shapely.area(parts)).groupby(owner).transform("max").to_numpy()
    keep |= shapely.area(parts) == largest  # never drop an area's only polygon
    shells = shapely.polygons(shapely.get_exterior_ring(parts[keep]))
    owner = owner[keep]  # ascending: get_parts lists parts area by area
    groups = np.split(shells, np.flatnonzero(np.diff(owner)) + 1)
    geometry = shapely.simplify(
        np.array([g[0] if len(g) == 1 else shapely.multipolygons(list(g)) for g in groups],
                 dtype=object), tolerance, preserve_topology=True)
    points = label_points(geometry)
    return gpd.GeoDataFrame({
        "code": dissolved["code"], "name": dissolved["name"],
        "population": dissolved["population"].astype("int64"),
        "label_lon": points[:, 0].round(5), "label_lat": points[:, 1].round(5),
    }, geometry=geometry, crs=small_areas.crs)


def build_outlines(packs: dict[str, object]):
    """Outlines of every country's local authorities (England LTLA 2024, Scottish council
    areas) dissolved from the geography packs (``{"england": GeoDataFrame, "scotland":
    GeoDataFrame}``) by :func:`dissolve_outlines`, coordinates on a 10^-5 degree grid
    (about a metre) so that the file compresses. Wards and intermediate zones are dissolved
    at run time, for the one local authority a view needs (``analysis.explore.map_context``):
    all 6,784 wards would triple the file for views that rarely need them."""
    import geopandas as gpd

    frames = []
    for country, pack in packs.items():
        spec = spec_for(country)
        authority = spec.level(LOCAL_AUTHORITY[country])
        outlines = dissolve_outlines(pack, authority.code_column, authority.name_column,
                                     spec.population_column)
        outlines.insert(0, "country", country)
        frames.append(outlines)
    combined = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry",
                                crs=frames[0].crs)
    combined["geometry"] = shapely.set_precision(combined.geometry.to_numpy(), GRID)
    return combined


def write_outlines(packs: dict[str, object], out_dir: Path) -> dict[str, dict[str, int]]:
    """Build the outlines (:func:`build_outlines`) and write them to
    ``out_dir/geography/boundary_outlines.parquet``; returns the manifest's file entry."""
    outlines = build_outlines(packs)
    path = Path(out_dir) / OUTLINES_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    outlines["country"] = outlines["country"].astype("category")
    outlines.to_parquet(path, index=False, compression="zstd", schema_version="1.0.0")
    return {OUTLINES_FILE: {"rows": int(len(outlines))}}
