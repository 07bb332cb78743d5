"""Access to any service an analyst brings: for every LSOA 2021 (England) or data zone 2011
(Scotland) of a study area, the distance to the nearest site, the number of sites within a
distance, and E2SFCA access with the service's capacity as supply (1 per site when the
service has no capacity). The results become provision indicators (:class:`Indicator`)
that the map, the inverse-care test, allocation and briefings use like any other.

Conventions (shared with :mod:`analysis.access.points`):

* **Straight-line distances.** Every distance is the great-circle (haversine) distance
  from the small area's representative point (shapely ``point_on_surface``; population-
  weighted centroids are not in the open data for LSOA 2021) to the site. They are not road
  distances or travel times. Where a real travel-time matrix exists (stroke units) the
  stroke module uses it instead.
* **Road-circuity factor, only when asked.** ``road_factor=c`` multiplies every distance
  by c, a constant detour index (network distance ÷ straight-line distance). The
  literature puts it near 1.2 in dense urban networks (Newell 1980; O'Sullivan, Morrison
  and Shearer 1996 found 1.21–1.23 around transit stations) and higher where networks are
  sparse or broken by water; Boscoe, Henry and Zdeb (2012, "A nationwide comparison of
  driving distance versus straight-line distance to hospitals", *The Professional
  Geographer* 64(2):188–196) found driving and straight-line distances to hospitals
  correlated with r² > 0.9, so one constant factor is a reasonable first correction, with
  local exceptions near coasts and estuaries. :data:`SUGGESTED_ROAD_FACTOR` (1.3) is the
  value the command line and the dashboard offer. Because the E2SFCA decay depends on
  d / d0 only, scaling distances by c is the same as shrinking the catchment to d0 / c.
* **Who competes for a site.** Demand in the E2SFCA's first step is the residents of the
  service's *coverage* (the metadata's ``area``, else the local authorities or council
  areas its sites stand in): a council's library list is shared among that council's
  residents, a national list among the nation's. Small areas of a study area outside the
  coverage get access from the second step but add no demand, so a value never depends on
  the study area it is seen from. Sites missing from the list are unknown, so near the
  edge of a local list's coverage access is understated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from analysis.access.catchment import e2sfca
from analysis.access.nearest import nearest_facility
from analysis.access.points import (
    _arc_to_chord_km,
    _cartesian_km,
    _examples,
    representative_points,
)
from analysis.data import (
    COUNTRY_CODES,
    Indicator,
    IndicatorMeta,
    data_cache,
    load_pack,
    load_pack_table,
    resolve_area,
    small_area_mask,
    spec_for,
)

MEASURES = ("nearest", "within", "e2sfca")
DEFAULT_CATCHMENT_KM = 10.0
SUGGESTED_ROAD_FACTOR = 1.3
MAX_DISTANCE_KM = 200.0
SMALL_AREA_GEOGRAPHY = {"england": "lsoa21", "scotland": "dz11"}
COVERAGE_LEVEL = {"england": "ltla", "scotland": "council"}
COUNTRY_OF_PREFIX = {"E01": "england", "S01": "scotland"}
REPRESENTATIVE_POINT_NOTE = (
    "Distances are measured from a representative point inside each small area (shapely "
    "point_on_surface), because population-weighted centroids for LSOA 2021 are not in the "
    "open data; in large rural areas the point may be away from where people live.")


@data_cache(maxsize=2)
def small_area_points(country: str) -> pd.DataFrame:
    """Representative points (``lon``, ``lat``) of every small area of ``country``, indexed by
    code (LSOA 2021 or data zone 2011); computed once per data directory."""
    return representative_points(load_pack(country))


def _positive(value: float, what: str, *, upper: float = MAX_DISTANCE_KM) -> float:
    number = float(value)
    if not np.isfinite(number) or number <= 0 or number > upper:
        raise ValueError(f"{what} must be a number above 0 and at most {upper:g}, got {value!r}")
    return number


def _codes(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    return [str(v).strip().upper() for v in items if str(v).strip()]


def _country_of(area: str | None, coverage: list[str], site_areas: pd.Series) -> str:
    """The country of the study: the area's, else the coverage's, else the sites'."""
    named = [area] if area else coverage
    if named:
        countries = {resolve_area(code).country for code in named}
        if len(countries) > 1:
            raise ValueError(f"The areas {', '.join(named)} are in both England and Scotland; "
                             "access is measured for one country at a time")
        return countries.pop()
    prefixes = site_areas.dropna().astype(str).str[:3]
    countries = sorted({COUNTRY_OF_PREFIX[p] for p in prefixes if p in COUNTRY_OF_PREFIX})
    if not countries:
        raise ValueError("No site of the service is placed in an LSOA 2021 or data zone, so "
                         "there is no area to measure access for; give one (--area CODE)")
    if len(countries) > 1:
        raise ValueError("The service has sites in England and in Scotland; choose a country "
                         f"or an area (--area {COUNTRY_CODES['england'][0]} or "
                         f"{COUNTRY_CODES['scotland'][0]}, or any area code)")
    return countries[0]


def _default_coverage(country: str, site_areas: pd.Series) -> list[str]:
    """The local authorities (England) or council areas (Scotland) holding the sites."""
    table = load_pack_table(country)
    column = spec_for(country).level(COVERAGE_LEVEL[country]).code_column
    areas = site_areas.dropna().astype(str)
    held = table[column].reindex(pd.Index(areas[areas.isin(table.index)].unique()))
    return sorted(set(held.dropna().astype(str)))


def _mask(country: str, codes: list[str]) -> np.ndarray:
    masks = [small_area_mask(country, code).to_numpy() for code in codes]
    return np.logical_or.reduce(masks) if masks else np.zeros(len(load_pack_table(country)),
                                                              dtype=bool)


def _site_points(sites: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ("site_id", "latitude", "longitude") if c not in sites.columns]
    if missing:
        raise ValueError(f"the site table has no column(s) {', '.join(missing)}")
    ids = sites["site_id"].astype(str)
    if ids.duplicated().any():
        raise ValueError(f"duplicate site id(s): {_examples(list(ids[ids.duplicated()]))}")
    points = pd.DataFrame({
        "lon": pd.to_numeric(sites["longitude"], errors="coerce").to_numpy(dtype=float),
        "lat": pd.to_numeric(sites["latitude"], errors="coerce").to_numpy(dtype=float)},
        index=pd.Index(ids, name="site_id"))
    return points[np.isfinite(points["lon"]) & np.isfinite(points["lat"])]


def sites_within(demand_points: pd.DataFrame, site_points: pd.DataFrame,
                 radius_km: float) -> pd.Series:
    """Number of sites whose great-circle distance from each demand point is ≤ ``radius_km``.

    Counted with a ``cKDTree`` ball query on 3-D sphere coordinates: a great-circle distance
    d ≤ r exactly when the chord is ≤ 2R·sin(r / 2R) (:mod:`analysis.access.points`).
    Demand points without coordinates get NaN.
    """
    lon = demand_points["lon"].to_numpy(dtype=float)
    lat = demand_points["lat"].to_numpy(dtype=float)
    ok = np.isfinite(lon) & np.isfinite(lat)
    counts = np.full(len(demand_points), np.nan)
    if len(site_points):
        tree = cKDTree(_cartesian_km(site_points["lon"].to_numpy(dtype=float),
                                     site_points["lat"].to_numpy(dtype=float)))
        counts[ok] = tree.query_ball_point(_cartesian_km(lon[ok], lat[ok]),
                                           _arc_to_chord_km(radius_km) * (1 + 1e-12),
                                           return_length=True, workers=-1)
    else:
        counts[ok] = 0
    return pd.Series(counts, index=demand_points.index, name="sites_within")


@dataclass(frozen=True)
class ServiceAccess:
    """Access to one service for the small areas of a study area.

    ``table`` (indexed by small-area code): ``name``, ``population``, ``nearest_km`` and
    ``nearest_site`` (name of the nearest site), ``sites_within`` (sites within
    ``within_km``) and ``e2sfca`` (supply within reach per ``per`` residents).
    """

    table: pd.DataFrame
    service: Mapping[str, Any]
    country: str
    area_code: str | None
    coverage: tuple[str, ...]
    catchment_km: float
    within_km: float
    road_factor: float | None
    per: float
    supply_unit: str
    sites_used: int
    sites_without_capacity: tuple[str, ...]
    demand_areas: int
    outside_coverage: int
    e2sfca_summary: str
    notes: tuple[str, ...] = field(default=())

    @property
    def geography(self) -> str:
        """``lsoa21`` or ``dz11``."""
        return SMALL_AREA_GEOGRAPHY[self.country]

    @property
    def where(self) -> str:
        """The study area in words: "Wigan (E08000010)", or the coverage's codes."""
        if self.area_code:
            return f"{resolve_area(self.area_code).name} ({self.area_code})"
        if len(self.coverage) == 1:
            return f"{resolve_area(self.coverage[0]).name} ({self.coverage[0]})"
        return ", ".join(self.coverage) or COUNTRY_CODES[self.country][1]

    def summary(self) -> str:
        """One paragraph: what was measured, for how many areas, with what was left out."""
        distance = (f"road-distance estimate (straight line × {self.road_factor:g})"
                    if self.road_factor else "straight-line distance")
        text = (f"{len(self.table):,} {spec_for(self.country).small_area.plural} of "
                f"{self.where}; "
                f"{self.sites_used:,} sites "
                f"with a location; {distance}; within {self.within_km:g} km; E2SFCA catchment "
                f"{self.catchment_km:g} km with {self.demand_areas:,} small areas of demand")
        if self.sites_without_capacity:
            text += (f"; {len(self.sites_without_capacity):,} sites without a capacity add "
                     f"nothing ({_examples(self.sites_without_capacity)})")
        if self.outside_coverage:
            text += (f"; {self.outside_coverage:,} small areas lie outside the service's "
                     "coverage (its list may not include the sites near them)")
        return text

    def frame(self) -> pd.DataFrame:
        """The table with the small-area code as a column, for exports: whole numbers as
        integers, distances to the metre, access to four decimal places."""
        out = self.table.reset_index(names="code")
        out["population"] = out["population"].round().astype("Int64")
        out["sites_within"] = out["sites_within"].round().astype("Int64")
        out["nearest_km"] = out["nearest_km"].round(3)
        out["e2sfca"] = out["e2sfca"].round(4)
        return out

    def indicators(self, measures: Sequence[str] = MEASURES) -> list[Indicator]:
        """Provision indicators of the chosen measures (ids ``<service>_nearest_km``,
        ``<service>_within_<X>km``, ``<service>_e2sfca``) on LSOA 2021 / data zones."""
        unknown = [m for m in measures if m not in MEASURES]
        if unknown:
            raise ValueError(f"unknown measure(s) {', '.join(unknown)}; choose from "
                             f"{', '.join(MEASURES)}")
        return [self._indicator(m) for m in measures]

    def indicator_id(self, measure: str) -> str:
        """The id of a measure's indicator."""
        sid = str(self.service.get("id", "service"))
        within = f"{self.within_km:g}".replace(".", "p")
        return {"nearest": f"{sid}_nearest_km", "within": f"{sid}_within_{within}km",
                "e2sfca": f"{sid}_e2sfca"}[measure]

    def _indicator(self, measure: str) -> Indicator:
        service = self.service
        title = str(service.get("title") or service.get("id", "service"))
        kind = str(service.get("service_kind") or "site")
        distance = (f"estimated road distance (straight line × {self.road_factor:g})"
                    if self.road_factor else "straight-line (great-circle) distance")
        method = [distance[0].upper() + distance[1:] + "; not travel time.",
                  REPRESENTATIVE_POINT_NOTE, *self.notes]
        if measure == "nearest":
            column, unit, polarity = "nearest_km", "km", "higher_is_worse"
            name = f"Distance to the nearest {kind}: {title}"
            description = (f"The {distance} from each small area to the nearest site of "
                           f"{title}. Higher means the nearest site is further away.")
        elif measure == "within":
            column, unit, polarity = "sites_within", f"sites within {self.within_km:g} km", (
                "higher_is_better")
            name = f"Sites within {self.within_km:g} km: {title}"
            description = (f"How many sites of {title} are within {self.within_km:g} km "
                           f"({distance}). Higher means more sites within reach.")
        else:
            column, polarity = "e2sfca", "higher_is_better"
            unit = f"{self.supply_unit} per {self.per:,.0f} residents"
            name = f"{title} within reach (E2SFCA)"
            description = (f"{self.supply_unit.capitalize()} of {title} within "
                           f"{self.catchment_km:g} km, shared between all the people who could "
                           "use them and weighted by distance, per "
                           f"{self.per:,.0f} residents. Higher means more within reach.")
            method.insert(0, "Enhanced two-step floating catchment area (Luo & Qi 2009) with "
                             f"Gaussian distance decay (Dai 2010), {self.catchment_km:g} km "
                             f"catchment; supply = {self.supply_unit}; demand = residents of "
                             f"{self.demand_areas:,} small areas of the service's coverage "
                             f"({', '.join(self.coverage) or 'its study area'}).")
        meta = IndicatorMeta(
            id=self.indicator_id(measure), title=name, description=description, unit=unit,
            polarity=polarity, kind="provision", geography=self.geography,
            period=str(service.get("period") or ""), source=str(service.get("source") or ""),
            licence=str(service.get("licence") or ""),
            publisher=str(service.get("publisher") or ""),
            source_url=str(service.get("source_url") or ""),
            aggregation="population_weighted_mean", decimals=0 if measure == "within" else 1,
            notes=" ".join(method),
            extra={"service_id": str(service.get("id", "")), "measure": measure,
                   "catchment_km": self.catchment_km, "within_km": self.within_km,
                   "road_factor": self.road_factor, "coverage": list(self.coverage),
                   "estimated": bool(self.road_factor)})
        data = pd.DataFrame({"area_code": self.table.index.astype(str),
                             "value": self.table[column].to_numpy(dtype=float)})
        if measure == "nearest":
            data["category"] = self.table["nearest_site"].astype(object).to_numpy()
        return Indicator(meta, data)


def access_to_service(sites: pd.DataFrame, *, service: Mapping[str, Any] | None = None,
                      area: str | None = None, coverage: str | Sequence[str] | None = None,
                      catchment_km: float | None = None, within_km: float | None = None,
                      road_factor: float | None = None, per: float | None = None
                      ) -> ServiceAccess:
    """Nearest site, sites within reach and E2SFCA access for every small area of a study
    area, from a service's site table.

    ``sites``: one row per site with ``site_id``, ``latitude``, ``longitude`` (WGS84),
    optional ``capacity`` and ``area_code`` (LSOA 2021 / data zone) and ``name``; sites
    without coordinates are left out (the reader reports them). ``service``: its metadata
    (``id``, ``title``, ``service_kind``, ``capacity_unit``, ``catchment_km``, ``period``,
    ``source``, ``licence``…). ``area``: the study area (any level; default the coverage).
    ``coverage``: the areas whose residents share the sites (default the metadata's
    ``area``, else the local authorities / council areas holding the sites).

    * nearest: min_j d_ij × c (:func:`analysis.access.nearest_facility`), km;
    * within: #{j : d_ij × c ≤ X} (:func:`sites_within`), X = ``within_km`` (default the
      catchment);
    * E2SFCA (Luo & Qi 2009; :func:`analysis.access.e2sfca`): supply S_j = capacity (1 per
      site when the service has none), demand = residents, catchment d0 / c, result per
      ``per`` residents (default 100,000 for sites, 1,000 for a capacity).

    c = ``road_factor`` (default 1: straight line; module docstring for its sources).
    Raises ``ValueError`` naming the parameter or area at fault.
    """
    service = dict(service or {})
    factor = None if road_factor is None else _positive(road_factor, "road_factor", upper=3.0)
    if factor is not None and factor < 1:
        raise ValueError(f"road_factor must be at least 1 (a road is never shorter than the "
                         f"straight line), got {road_factor!r}")
    wanted = catchment_km if catchment_km is not None else service.get("catchment_km")
    catchment = DEFAULT_CATCHMENT_KM if wanted is None else _positive(wanted, "catchment_km")
    within = catchment if within_km is None else _positive(within_km, "within_km")
    area = area.strip().upper() if isinstance(area, str) and area.strip() else None
    site_areas = (sites["area_code"] if "area_code" in sites.columns
                  else pd.Series(dtype=object))
    named = _codes(coverage if coverage is not None else service.get("area"))
    country = _country_of(area, named, site_areas)
    cover = named or _default_coverage(country, site_areas)
    if not cover and area is None:
        raise ValueError("No site of the service stands in "
                         f"{spec_for(country).label}; give a study area (--area CODE)")
    output = _mask(country, [area]) if area else _mask(country, cover)
    demand = output | _mask(country, cover)
    in_cover = _mask(country, cover)

    table = load_pack_table(country)
    spec = spec_for(country)
    points_all = small_area_points(country)
    codes = table.index[output]
    points = points_all.loc[codes]
    site_points = _site_points(sites)
    if site_points.empty:
        raise ValueError("No site of the service has a location")
    scale = factor or 1.0
    names = sites.set_index(sites["site_id"].astype(str))
    label = (names["name"] if "name" in names.columns else pd.Series(dtype=object)).reindex(
        site_points.index)
    label = label.where(label.notna(), pd.Series(site_points.index, index=site_points.index))

    nearest = nearest_facility(points, site_points).table
    capacity = (pd.to_numeric(names["capacity"], errors="coerce").reindex(site_points.index)
                if "capacity" in names.columns else pd.Series(np.nan, index=site_points.index))
    has_capacity = bool(capacity.notna().any())
    supply = capacity if has_capacity else pd.Series(1.0, index=site_points.index)
    unit = str(service.get("capacity_unit") or "").strip()
    supply_unit = (unit or "capacity") if has_capacity else "sites"
    per_value = ((1_000.0 if has_capacity else 100_000.0) if per is None
                 else _positive(per, "per", upper=1e9))
    # areas of the study outside the coverage get access from step 2 but add no demand in
    # step 1, so an area's value never depends on which study area it is seen from
    demand_codes = table.index[demand]
    residents = table.loc[demand_codes, spec.population_column].astype(float)
    catchment_access = e2sfca(points_all.loc[demand_codes],
                              residents.where(in_cover[demand], 0.0), site_points, supply,
                              catchment_km=catchment / scale, per=per_value)
    nearest_site = nearest["facility_id"].map(label)
    out = pd.DataFrame({
        "name": table.loc[codes, spec.small_area.name_column].astype(str),
        "population": table.loc[codes, spec.population_column].astype(float),
        "nearest_km": nearest["distance_km"] * scale,
        "nearest_site": nearest_site.astype(object),
        "sites_within": sites_within(points, site_points, within / scale),
        "e2sfca": catchment_access.accessibility.reindex(codes),
    }, index=pd.Index(codes, name="code"))
    notes = []
    if not has_capacity:
        notes.append("The service gives no capacity, so every site counts as 1.")
    return ServiceAccess(
        table=out, service=service, country=country, area_code=area, coverage=tuple(cover),
        catchment_km=catchment, within_km=within, road_factor=factor, per=per_value,
        supply_unit=supply_unit, sites_used=len(site_points),
        sites_without_capacity=tuple(catchment_access.facilities_without_supply)
        if has_capacity else (),
        demand_areas=int(in_cover.sum()), outside_coverage=int((output & ~in_cover).sum()),
        e2sfca_summary=catchment_access.summary(), notes=tuple(notes))
