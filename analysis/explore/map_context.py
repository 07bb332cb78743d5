"""Context on every map, offline: boundary outlines and names, a view fitted to the study area,
a scale bar, and (only where a deployment sets one) a basemap.

Everything comes from the embedded geography: local-authority outlines dissolved at build
time (``data/geography/boundary_outlines.parquet``, ``analysis.build.outlines``) and, for a
study area inside one local authority, its wards (England) or intermediate zones (Scotland)
dissolved from the pack when first asked for. Outlines are deck.gl ``PathLayer`` records in
the compact encoding of the choropleth (``analysis.explore.maps.polygon_records``: integer
offsets from the view's origin), clipped to the neighbourhood of the view and simplified to
its scale; labels are plain text (deck.gl's ``TextLayer`` draws characters, not HTML) at a
point inside each area, with a priority so that the largest areas keep their names when
labels collide. No tile server is needed and none is asked for unless configured.
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import shapely

from analysis.data import (
    DataFileError,
    data_cache,
    load_pack,
    load_pack_table,
    small_area_mask,
    spec_for,
)
from analysis.data.datastore import read_geoparquet  # not exported: GeoParquet is rare

OUTLINES_FILE = "geography/boundary_outlines.parquet"
#: The level below the local authority drawn when the study area is inside one.
SUB_LEVEL = {"england": "ward", "scotland": "iz11"}
AUTHORITY_LEVEL = {"england": "ltla", "scotland": "council"}
#: Pixel size the view is fitted to: the dashboard's map height and a conservative width
#: of its main column (a wider screen shows more surroundings, never less of the area).
MAP_WIDTH, MAP_HEIGHT = 900, 560
#: deck.gl and MapLibre draw the whole world 512 px wide at zoom 0 (math.gl web-mercator
#: ``TILE_SIZE``), twice the 256 px of raster tile schemes.
WORLD_PIXELS = 512
EARTH_RADIUS = 6_378_137.0  # WGS 84 semi-major axis (m), the sphere of Web Mercator
MAX_ZOOM = 16.0
#: Kinds of outline and label: the study area's own local authorities, neighbouring ones,
#: and wards / intermediate zones.
INSIDE, NEIGHBOUR, WARD = 0, 1, 2
LABEL_SIZE = {INSIDE: 13, NEIGHBOUR: 11, WARD: 10}
LABEL_PRIORITY_BASE = {INSIDE: 600, NEIGHBOUR: 200, WARD: -400}


@dataclass(frozen=True)
class View:
    """The initial camera: centre and deck.gl zoom."""

    longitude: float
    latitude: float
    zoom: float

    def as_dict(self) -> dict[str, float]:
        """The ``initialViewState`` fields deck.gl reads."""
        return {"longitude": self.longitude, "latitude": self.latitude, "zoom": self.zoom,
                "pitch": 0, "bearing": 0}


def _mercator_y(latitude: float) -> float:
    """Web Mercator northing on the unit sphere: ln tan(π/4 + φ/2) (EPSG:3857)."""
    phi = math.radians(max(min(latitude, 85.05112878), -85.05112878))
    return math.log(math.tan(math.pi / 4 + phi / 2))


def _latitude_of(y: float) -> float:
    return math.degrees(2 * math.atan(math.exp(y)) - math.pi / 2)


def fitted_view(bounds: tuple[float, float, float, float], *, width: int = MAP_WIDTH,
                height: int = MAP_HEIGHT, padding: float = 0.06,
                max_zoom: float = MAX_ZOOM) -> View:
    """The centre and zoom at which ``bounds`` (lon/lat) just fit ``width`` × ``height``
    pixels less ``padding`` (a share of each side).

    Web Mercator (Snyder 1987, *Map projections: a working manual*, USGS PP 1395, p. 41;
    EPSG:3857): at zoom z the world is 512·2^z px wide, so a longitude span Δλ (degrees)
    covers 512·2^z·Δλ/360 px and a northing span Δy = Δ ln tan(π/4 + φ/2) covers
    512·2^z·Δy/2π px; the zoom is the larger z at which both fit:
    z = log2 min(W·360 / (512·Δλ), H·2π / (512·Δy)). The centre is the middle of the
    bounds in projected coordinates, so the area is centred on screen.
    """
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    usable_w, usable_h = width * (1 - 2 * padding), height * (1 - 2 * padding)
    span_x = max(maxx - minx, 1e-6)
    y0, y1 = _mercator_y(miny), _mercator_y(maxy)
    span_y = max(y1 - y0, 1e-8)
    zoom = math.log2(min(usable_w * 360 / (WORLD_PIXELS * span_x),
                         usable_h * 2 * math.pi / (WORLD_PIXELS * span_y)))
    return View(round((minx + maxx) / 2, 5), round(_latitude_of((y0 + y1) / 2), 5),
                round(min(max(zoom, 0.0), max_zoom), 2))


def view_extent(view: View, *, width: int = MAP_WIDTH, height: int = MAP_HEIGHT
                ) -> tuple[float, float, float, float]:
    """The lon/lat box a ``width`` × ``height`` px map shows at ``view`` (the inverse of
    :func:`fitted_view`'s projection)."""
    world = WORLD_PIXELS * 2 ** view.zoom
    half_x = width / 2 * 360 / world
    half_y = height / 2 * 2 * math.pi / world
    y = _mercator_y(view.latitude)
    return (view.longitude - half_x, _latitude_of(y - half_y), view.longitude + half_x,
            _latitude_of(y + half_y))


def metres_per_pixel(latitude: float, zoom: float) -> float:
    """Ground metres per screen pixel at ``latitude`` and deck.gl ``zoom``:
    2πR·cos φ / (512·2^z) = 78,271.517·cos φ / 2^z with R = 6,378,137 m. (The often-quoted
    156,543.034·cos φ / 2^z is the same formula for 256 px raster tiles, whose zoom levels
    are one less than deck.gl's for the same scale.)"""
    return 2 * math.pi * EARTH_RADIUS * math.cos(math.radians(latitude)) / (
        WORLD_PIXELS * 2 ** zoom)


@dataclass(frozen=True)
class ScaleBar:
    """A scale bar: its ground length, its length on screen and its label."""

    metres: float
    pixels: int
    label: str


def nice_length(limit: float) -> float:
    """The largest 1, 2 or 5 × 10^n not above ``limit`` (metres)."""
    if limit <= 0 or not math.isfinite(limit):
        raise ValueError(f"A scale bar needs a positive length, got {limit}")
    power = 10 ** math.floor(math.log10(limit))
    for step in (5, 2, 1):
        if step * power <= limit:
            return float(step * power)
    return float(power)


def scale_bar(latitude: float, zoom: float, *, max_pixels: int = 120) -> ScaleBar:
    """A scale bar at most ``max_pixels`` long for the view: its ground length rounded down
    to 1/2/5 × 10^n (:func:`nice_length`) from :func:`metres_per_pixel`; labelled in km
    from 1 km up, else in m. True at the initial zoom and the view's centre latitude."""
    per_pixel = metres_per_pixel(latitude, zoom)
    metres = nice_length(max_pixels * per_pixel)
    label = f"{metres / 1000:,g} km" if metres >= 1000 else f"{metres:g} m"
    return ScaleBar(metres, int(round(metres / per_pixel)), label)


@dataclass(frozen=True)
class Basemap:
    """A raster tile basemap a deployment configured (``{z}/{x}/{y}`` URL template)."""

    url: str
    attribution: str


BASEMAP_URL_ENV = "FAIRSHARE_BASEMAP_URL"
BASEMAP_ATTRIBUTION_ENV = "FAIRSHARE_BASEMAP_ATTRIBUTION"


def parse_basemap(url: object, attribution: object = "") -> Basemap | None:
    """A checked basemap setting, or ``None`` when unset. The URL must be http(s) with the
    ``{z}``, ``{x}`` and ``{y}`` placeholders of an XYZ tile scheme (OGC/OSM "slippy map"
    convention); anything else raises ``ValueError`` naming the setting."""
    text = str(url or "").strip()
    if not text:
        return None
    parts = urlsplit(text)
    missing = [p for p in ("{z}", "{x}", "{y}") if p not in text]
    if parts.scheme not in ("http", "https") or not parts.netloc or missing:
        raise ValueError(
            f"The basemap setting ({BASEMAP_URL_ENV} or basemap_url under [fairshare]) must "
            "be an http(s) tile URL with {z}, {x} and {y}, e.g. "
            f"https://tiles.example.org/{{z}}/{{x}}/{{y}}.png; got {text[:80]!r}")
    return Basemap(text, str(attribution or "").strip())


def basemap_setting(environ: dict[str, str] | None = None,
                    config_files: tuple[Path, ...] = ()) -> Basemap | None:
    """The deployment's basemap: ``$FAIRSHARE_BASEMAP_URL`` (and
    ``$FAIRSHARE_BASEMAP_ATTRIBUTION``), else ``basemap_url`` / ``basemap_attribution``
    under ``[fairshare]`` in the first of ``config_files`` (TOML) that sets it; ``None``
    (no basemap, nothing requested) when neither does. Off by default."""
    env = os.environ if environ is None else environ
    if env.get(BASEMAP_URL_ENV, "").strip():
        return parse_basemap(env[BASEMAP_URL_ENV], env.get(BASEMAP_ATTRIBUTION_ENV, ""))
    for path in config_files:
        try:
            section = tomllib.loads(Path(path).read_text(encoding="utf-8")).get("fairshare")
        except (OSError, tomllib.TOMLDecodeError):
            continue
        if isinstance(section, dict) and str(section.get("basemap_url", "")).strip():
            return parse_basemap(section["basemap_url"], section.get("basemap_attribution"))
    return None


@dataclass(frozen=True)
class MapContext:
    """What a map draws around its data: outline paths (``g`` flat integer offsets from
    ``origin`` in 10^-``precision`` degrees, ``k`` kind), labels (``lon``, ``lat``, ``t``
    plain text, ``k`` kind, its size in px :data:`LABEL_SIZE`, ``p`` collision priority),
    the fitted view and its scale bar."""

    outlines: pd.DataFrame
    labels: pd.DataFrame
    view: View
    scale: ScaleBar
    origin: tuple[float, float]
    precision: int
    sub_level: str | None = None
    notes: tuple[str, ...] = field(default=())
    #: how many areas of each kind are outlined (labels are thinned to those that fit)
    drawn: dict[int, int] = field(default_factory=dict)


@data_cache(maxsize=2)
def authority_outlines(country: str):
    """The local-authority outlines of ``country`` (GeoDataFrame: ``code``, ``name``,
    ``population``, ``label_lon``, ``label_lat``), or an empty frame when the dataset has
    none (built before outlines were added; ``fairshare data build`` makes them)."""
    import geopandas as gpd

    try:
        frame = read_geoparquet(OUTLINES_FILE)
    except DataFileError:
        return gpd.GeoDataFrame({"code": [], "name": [], "population": [], "label_lon": [],
                                 "label_lat": []}, geometry=[], crs="EPSG:4326")
    chosen = frame[frame["country"].astype(str) == country].reset_index(drop=True)
    chosen["code"] = chosen["code"].astype(str)
    return chosen


@data_cache(maxsize=32)
def sub_authority_outlines(country: str, authority_code: str):
    """Wards (England) or intermediate zones (Scotland) of one local authority, dissolved
    from its small areas (GEOS unary union, holes dropped) with a label point inside each
    (pole of inaccessibility: Garcia-Castellanos & Lombardo 2007, as
    ``shapely.ops.polylabel``). Cached; ~0.2 s for the largest authority."""
    from shapely.ops import polylabel

    spec = spec_for(country)
    authority, below = spec.level(AUTHORITY_LEVEL[country]), spec.level(SUB_LEVEL[country])
    pack = load_pack(country)
    rows = pack[pack[authority.code_column].astype(str) == authority_code]
    codes = rows[below.code_column].astype(str).to_numpy()
    names = rows[below.name_column].astype(str).to_numpy()
    population = rows[spec.population_column].to_numpy()
    geoms = rows.geometry.to_numpy()
    order = np.argsort(codes, kind="stable")
    codes, names, population, geoms = codes[order], names[order], population[order], \
        geoms[order]
    starts = np.r_[0, np.flatnonzero(codes[1:] != codes[:-1]) + 1]
    records = []
    for start, end in zip(starts, np.r_[starts[1:], len(codes)], strict=True):
        union = shapely.union_all(geoms[start:end])
        parts = shapely.get_parts(union)
        shells = shapely.polygons(shapely.get_exterior_ring(parts))
        largest = shells[int(np.argmax(shapely.area(shells)))]
        point = polylabel(largest, tolerance=0.0002)
        records.append((codes[start], names[start], int(population[start:end].sum()),
                        point.x, point.y, shapely.multipolygons(list(shells))))
    return pd.DataFrame(records, columns=["code", "name", "population", "label_lon",
                                          "label_lat", "geometry"])


def path_records(lines: np.ndarray, kinds: np.ndarray, *, precision: int,
                 origin: tuple[float, float]) -> pd.DataFrame:
    """deck.gl ``PathLayer`` records of (multi)line geometries: one row per part with ``g``
    ``[x0, y0, x1, y1, …]``, x = round((lon − origin_lon)·10^precision) and likewise y, the
    encoding of :func:`analysis.explore.maps.polygon_records`, and ``k`` its kind.
    Consecutive points that round to the same position are dropped; parts left with fewer
    than two points are skipped."""
    parts, owner = shapely.get_parts(lines, return_index=True)
    keep = ~shapely.is_empty(parts)
    parts, owner = parts[keep], owner[keep]
    coords, index = shapely.get_coordinates(parts, return_index=True)
    quantised = np.rint((coords - np.asarray(origin)) * 10.0 ** precision).astype(np.int64)
    repeated = np.r_[False, (np.diff(quantised, axis=0) == 0).all(axis=1)
                     & (np.diff(index) == 0)]
    quantised, index = quantised[~repeated], index[~repeated]
    splits = np.flatnonzero(np.diff(index)) + 1
    paths, path_owner = [], []
    for part, ring in zip(np.unique(index), np.split(quantised, splits), strict=True):
        if len(ring) >= 2:
            paths.append(ring.ravel().tolist())
            path_owner.append(owner[part])
    return pd.DataFrame({"g": paths, "k": np.asarray(kinds)[path_owner].astype(int)
                         if paths else []})


def visible_label_points(areas: pd.DataFrame, geometries: np.ndarray,
                         visible) -> pd.DataFrame:
    """``areas`` that reach into the ``visible`` box, each with its label point moved, if it
    lies outside the box, to the pole of inaccessibility of the area's visible part
    (largest piece), so that a neighbour or the ward around a small study area is named
    where it can be seen."""
    from shapely.ops import polylabel

    reach = shapely.intersects(geometries, visible)
    out = areas[reach].copy()
    lon = out["label_lon"].to_numpy(dtype=float).copy()
    lat = out["label_lat"].to_numpy(dtype=float).copy()
    outside = ~shapely.contains_xy(visible, lon, lat)
    for i in np.flatnonzero(outside):
        parts = shapely.get_parts(shapely.intersection(geometries[reach][i], visible))
        parts = parts[shapely.get_type_id(parts) == 3]  # polygons only, not slivers of edge
        if not len(parts):
            continue
        point = polylabel(parts[int(np.argmax(shapely.area(parts)))], tolerance=1e-4)
        lon[i], lat[i] = point.x, point.y
    out["label_lon"], out["label_lat"] = lon, lat
    return out


def _label_frame(areas: pd.DataFrame, kinds: np.ndarray) -> pd.DataFrame:
    """Label records: plain names (not HTML-escaped: deck.gl text layers draw characters),
    the larger areas first when labels collide."""
    weight = np.log10(np.maximum(areas["population"].to_numpy(dtype=float), 1.0)) * 40
    priority = np.array([LABEL_PRIORITY_BASE[k] for k in kinds]) + weight
    return pd.DataFrame({
        "lon": areas["label_lon"].round(4).to_numpy(),
        "lat": areas["label_lat"].round(4).to_numpy(),
        "t": areas["name"].astype(str).to_numpy(),
        "k": kinds.astype(int),
        "p": np.clip(priority.round(), -1000, 1000).astype(int),
    })


#: Average glyph width of the label font as a share of its size (sans-serif, semi-bold).
GLYPH_WIDTH = 0.6


def thin_labels(labels: pd.DataFrame, view: View, *, padding: int = 4) -> pd.DataFrame:
    """The labels that fit at the initial zoom without overlapping: greedy placement in
    priority order (``p``, highest first; the standard greedy label placement of
    cartographic software, e.g. Christensen, Marks & Shieber 1995, "An empirical study of
    algorithms for point-feature label placement", ACM TOG 14:203-232, as its baseline) of
    boxes ``GLYPH_WIDTH``·size·characters × size px (plus ``padding``) centred on each
    point in Web Mercator pixels at ``view.zoom``. deck.gl's collision filter then keeps
    the names apart while zooming; thinning here keeps the payload and the first view
    tidy (it works on a coarse framebuffer, so crowded country views still overlapped)."""
    if labels.empty:
        return labels
    world = WORLD_PIXELS * 2 ** view.zoom
    x = (labels["lon"].to_numpy(dtype=float) + 180) / 360 * world
    y = np.array([(1 - _mercator_y(v) / math.pi) / 2 * world
                  for v in labels["lat"].to_numpy(dtype=float)])
    size = np.array([LABEL_SIZE[int(k)] for k in labels["k"]], dtype=float)
    half_w = (GLYPH_WIDTH * size * labels["t"].str.len().to_numpy() + padding) / 2
    half_h = (size + padding) / 2
    order = np.argsort(-labels["p"].to_numpy(), kind="stable")
    kept: list[int] = []
    for i in order:
        if kept:
            k = np.asarray(kept)
            clash = ((np.abs(x[k] - x[i]) < half_w[k] + half_w[i])
                     & (np.abs(y[k] - y[i]) < half_h[k] + half_h[i]))
            if clash.any():
                continue
        kept.append(int(i))
    return labels.iloc[sorted(kept)].reset_index(drop=True)


def boundary_context(country: str, area_code: str | None,
                     bounds: tuple[float, float, float, float], *,
                     precision: int | None = None, origin: tuple[float, float] | None = None,
                     width: int = MAP_WIDTH, height: int = MAP_HEIGHT) -> MapContext:
    """Outlines and names of the local authorities in view of a study area (its own drawn
    darker, neighbours lighter) and, when the study area lies inside one local authority,
    of that authority's wards (England) or intermediate zones (Scotland); the view fitted to
    ``bounds`` (:func:`fitted_view`) and its :func:`scale_bar`.

    Outlines are clipped to three times the visible box (so panning a little still shows
    them) and simplified to a pixel of the view; ``precision`` and ``origin`` default
    to those a choropleth of ``bounds`` uses (``analysis.explore.maps.build_layer``).
    """
    from analysis.explore.maps import view_precision

    bounds = tuple(float(b) for b in bounds)  # type: ignore[assignment]
    if precision is None:
        precision = view_precision(bounds)
    if origin is None:
        origin = (round((bounds[0] + bounds[2]) / 2, precision),
                  round((bounds[1] + bounds[3]) / 2, precision))
    # every page's map asks for it on every rerun, with the same few study areas
    return _boundary_context(country, area_code, bounds, precision,
                             tuple(float(o) for o in origin), width, height)


@data_cache(maxsize=64)
def _boundary_context(country: str, area_code: str | None,
                      bounds: tuple[float, float, float, float], precision: int,
                      origin: tuple[float, float], width: int, height: int) -> MapContext:
    view = fitted_view(bounds, width=width, height=height)
    extent = view_extent(view, width=width, height=height)
    ex0, ey0, ex1, ey1 = extent
    dx, dy = ex1 - ex0, ey1 - ey0
    near = shapely.box(ex0 - dx, ey0 - dy, ex1 + dx, ey1 + dy)
    visible = shapely.box(*extent)
    tolerance = max(dx / width, dy / height)

    table = load_pack_table(country)
    spec = spec_for(country)
    authority = spec.level(AUTHORITY_LEVEL[country])
    mask = small_area_mask(country, area_code)
    own = set(table.loc[mask.to_numpy(), authority.code_column].astype(str))

    las = authority_outlines(country)
    notes: list[str] = []
    if las.empty:
        notes.append("Local-authority outlines are not in this dataset (run "
                      "`fairshare data build`).")
    geoms = las.geometry.to_numpy()
    in_near = shapely.intersects(geoms, near) if len(las) else np.zeros(0, dtype=bool)
    chosen = las[in_near].reset_index(drop=True)
    kinds = np.where(chosen["code"].isin(own), INSIDE, NEIGHBOUR).astype(int)
    lines = [shapely.intersection(shapely.boundary(
        shapely.simplify(chosen.geometry.to_numpy(), tolerance)), near)]
    line_kinds = [kinds]
    seen = [kinds[shapely.intersects(chosen.geometry.to_numpy(), visible)]]
    named = visible_label_points(chosen.assign(k=kinds), chosen.geometry.to_numpy(), visible)
    labels = [_label_frame(named, named["k"].to_numpy())]

    sub_level = None
    if len(own) == 1:
        sub_level = spec.level(SUB_LEVEL[country]).plural
        wards = sub_authority_outlines(country, next(iter(own)))
        ward_geoms = shapely.simplify(wards["geometry"].to_numpy(), tolerance)
        shown = shapely.intersects(ward_geoms, near)
        wards, ward_geoms = wards[shown], ward_geoms[shown]
        ward_kinds = np.full(len(wards), WARD)
        # ward lines under the authority's own boundary: draw them first
        lines.insert(0, shapely.intersection(shapely.boundary(ward_geoms), near))
        line_kinds.insert(0, ward_kinds)
        seen.append(ward_kinds[shapely.intersects(ward_geoms, visible)])
        named = visible_label_points(wards, wards["geometry"].to_numpy(), visible)
        labels.append(_label_frame(named, np.full(len(named), WARD)))

    outlines = path_records(np.concatenate(lines), np.concatenate(line_kinds),
                            precision=precision, origin=origin)
    label_frame = thin_labels(pd.concat(labels, ignore_index=True), view)
    scale = scale_bar(view.latitude, view.zoom)
    every_kind = np.concatenate(seen)  # counted in view, not in the margin kept for panning
    drawn = {kind: int((every_kind == kind).sum()) for kind in (INSIDE, NEIGHBOUR, WARD)}
    return MapContext(outlines, label_frame, view, scale, origin, precision, sub_level,
                      tuple(notes), drawn)


def context_caption(context: MapContext) -> str:
    """One sentence saying what the outlines and names are."""
    inside, neighbours = context.drawn.get(INSIDE, 0), context.drawn.get(NEIGHBOUR, 0)
    text = (f"Outlines: {inside:,} local "
            f"{'authority' if inside == 1 else 'authorities'} of the study area (dark)")
    if neighbours:
        text += f", {neighbours:,} neighbouring (grey)"
    if context.sub_level:
        text += f" and {context.drawn.get(WARD, 0):,} {context.sub_level} (thin)"
    named = len(context.labels)
    return (text + f"; names of {named:,} of them where they fit at this zoom; scale "
            f"bar {context.scale.label} at the initial zoom.")
