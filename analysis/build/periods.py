"""Multi-period GP access indicators: qualified GPs within reach for every workforce year
(2015-16 to 2023-24) and GP funding within reach for every payments year (2014-15 to
2022-23), each one indicator with a ``period`` column (one row per LSOA × year).

Every year is the same E2SFCA (Luo & Qi 2009; :func:`analysis.access.e2sfca`): Gaussian
decay, 15 km catchment, Census 2021 residents as demand, with that year's supply (qualified
GP headcount, or total NHS payments). The latest year is computed exactly as the
one-year indicators always were (practices of the July 2023 list only), so every page that
reads the latest period is unchanged. Earlier years also place the practices that had
closed or merged by July 2023, at the postcode their payments files give (OS Code-Point
Open centroid, the same kind of point as the list's own coordinates): without them an
early year would lose up to 12% of England's GPs (3,965 of 34,286 in 2015-16), most of
them at small practices that later merged, which would bias the trend.

The data build makes them through :func:`analysis.build.provision.access_indicators`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from analysis.build.raw import BuildLog


def unlisted_practice_points(payments: pd.DataFrame, postcodes: pd.DataFrame,
                             listed: pd.Index) -> pd.DataFrame:
    """Locations (``lon``, ``lat``, indexed by practice code) of the practices in the
    payments files that are not on the July 2023 list, at the postcode of the latest year
    each appears in, from the postcode index's British National Grid coordinates
    (EPSG:27700 → WGS84 with pyproj). Practices whose postcode has no coordinates
    (terminated postcodes) are left out."""
    from pyproj import Transformer

    from analysis.data.postcodes import normalise_postcodes

    latest = (payments.loc[~payments["practice_code"].isin(listed)]
              .sort_values("year").drop_duplicates("practice_code", keep="last"))
    grid = postcodes.dropna(subset=["easting", "northing"])
    grid = grid.assign(key=normalise_postcodes(grid["postcode"])).dropna(subset=["key"])
    grid = grid.drop_duplicates("key")
    grid = grid.set_index("key")
    keys = normalise_postcodes(latest["postcode"].astype(str))
    east = keys.map(grid["easting"]).astype(float)
    north = keys.map(grid["northing"]).astype(float)
    found = east.notna().to_numpy() & north.notna().to_numpy()
    to_wgs84 = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    lon, lat = to_wgs84.transform(east[found].to_numpy(), north[found].to_numpy())
    index = pd.Index(latest.loc[found, "practice_code"].astype(str), name="practice_code")
    return pd.DataFrame({"lon": lon, "lat": lat}, index=index)


def long_period_table(by_period: Mapping[str, pd.Series], codes: pd.Index) -> pd.DataFrame:
    """``area_code``, ``period``, ``value`` (float32) for every period in order, each
    period's values reindexed to ``codes``; non-finite values are dropped."""
    parts = []
    for period, values in by_period.items():
        value = values.reindex(codes).to_numpy(dtype=float)
        keep = np.isfinite(value)
        parts.append(pd.DataFrame({"area_code": codes[keep].astype(str),
                                   "period": period,
                                   "value": value[keep].astype("float32")}))
    return pd.concat(parts, ignore_index=True)


def _e2sfca_by_year(points: pd.DataFrame, population: pd.Series, surgeries: pd.DataFrame,
                    extra_points: pd.DataFrame, years: list[str],
                    supply_of: Callable[[str, pd.DataFrame], pd.Series], per: float,
                    log: BuildLog, name: str) -> dict[str, pd.Series]:
    from analysis.access import e2sfca

    sites = pd.concat([surgeries, extra_points.loc[
        extra_points.index.difference(surgeries.index)]])
    out: dict[str, pd.Series] = {}
    for year in years:
        supply = supply_of(year, sites)
        access = e2sfca(points, population, sites, supply.reindex(sites.index),
                        catchment_km=15.0, per=per)
        log.cover(f"{name}_{year.replace('-', '_')}", summary=access.summary(),
                  practices_placed_by_payments_postcode=int(len(sites) - len(surgeries)))
        out[year] = access.accessibility.reindex(points.index)
    return out


def gp_headcount_by_year(points: pd.DataFrame, population: pd.Series,
                         surgeries: pd.DataFrame, extra_points: pd.DataFrame,
                         workforce: pd.DataFrame, log: BuildLog, *,
                         skip: str) -> dict[str, pd.Series]:
    """Qualified GPs within reach per 100,000 residents for every workforce year but
    ``skip`` (the latest, which the caller computes as before): the headline E2SFCA with
    each year's qualified GP headcount (missing headcounts carried forward one year,
    :func:`analysis.build.workforce.headcount_supply`), at the July 2023 practices and the
    ``extra_points`` practices."""
    from analysis.build.workforce import headcount_supply

    def supply_of(year: str, sites: pd.DataFrame) -> pd.Series:
        return headcount_supply(workforce, pd.Series(sites.index), year).supply

    years = [y for y in sorted(workforce["year"].astype(str).unique()) if y != skip]
    return _e2sfca_by_year(points, population, surgeries, extra_points, years, supply_of,
                           100_000.0, log, "e2sfca_qualified_gps")


def funding_by_year(points: pd.DataFrame, population: pd.Series, surgeries: pd.DataFrame,
                    extra_points: pd.DataFrame, payments: pd.DataFrame, log: BuildLog, *,
                    skip: str) -> dict[str, pd.Series]:
    """GP funding within reach (£ per resident) for every payments year but ``skip``:
    E2SFCA with each year's total NHS payments (``total_payments``: excluding COVID and PCN
    lines, as the one-year indicator)."""
    def supply_of(year: str, sites: pd.DataFrame) -> pd.Series:
        rows = payments.loc[payments["year"].astype(str) == year]
        return rows.groupby("practice_code", observed=True)["total_payments"].sum()

    years = [y for y in sorted(payments["year"].astype(str).unique()) if y != skip]
    return _e2sfca_by_year(points, population, surgeries, extra_points, years, supply_of,
                           1.0, log, "e2sfca_payments")


def period_meta(meta: dict[str, Any], periods: list[str], sentence: str) -> dict[str, Any]:
    """An indicator's metadata with its ``periods`` (oldest first) and a note on them."""
    out = dict(meta)
    out["periods"] = list(periods)
    out["period"] = periods[-1]
    out["notes"] = f"{out.get('notes', '')} {sentence}".strip()
    return out
