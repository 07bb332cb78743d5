"""Provision indicators measured from facilities: GP catchment access (E2SFCA) by qualified
GPs (the headline), by registered-list places and by payments, distance to the nearest
practice, stroke travel times; and stroke admissions as a need indicator."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.build.indicators import IndicatorBuild, _meta, _table
from analysis.build.raw import (
    BuildLog,
    _raw,
    _read_csv,
)
from analysis.build.workforce import (
    LATEST_YEAR,
    build_gp_workforce,
    cover_supply,
    headcount_supply,
)
from analysis.data import SOURCES

REPRESENTATIVE_POINT_NOTE = (
    "Distances are measured from a representative point inside each LSOA (shapely "
    "point_on_surface), because population-weighted centroids for LSOA 2021 are not in the "
    "open data pack; for large rural LSOAs the point may be away from where people live.")
STRAIGHT_LINE_NOTE = (
    "Distances are straight-line (great-circle) distances, not road distances or travel "
    "times.")
CATCHMENT_KM = 15.0

#: Provenance of the workforce supply (NHS Digital's series; not yet in analysis.data.SOURCES).
WORKFORCE_META = {
    "source": "NHS Digital, General Practice Workforce (practice-level CSVs), financial year "
              "2023-24, as compiled by the Health Equity Evidence Centre; practice locations "
              "from Patients Registered at a GP Practice, July 2023",
    "publisher": "NHS Digital (NHS England)",
    "licence": "Open Government Licence v3.0",
    "source_url": "https://digital.nhs.uk/data-and-information/publications/statistical/"
                  "general-and-personal-medical-services",
    "vintage": "financial year 2023-24 (mean of the year's workforce snapshots)",
}


def gp_headcount_build(points: pd.DataFrame, population: pd.Series, surgeries: pd.DataFrame,
                       practice_codes: pd.Series, workforce: pd.DataFrame,
                       log: BuildLog, extra_points: pd.DataFrame | None = None
                       ) -> IndicatorBuild:
    """The headline GP access indicator: qualified GPs within reach per 100,000 residents.

    E2SFCA (Luo & Qi 2009; :func:`analysis.access.e2sfca`) with Gaussian decay and a 15 km
    catchment, supply S_j = practice j's headcount of fully qualified permanent GPs
    (excluding GPs in training and locums) in 2023-24 (:func:`headcount_supply`: missing
    headcounts carried forward one year), demand = Census 2021 residents, × 100,000.
    With ``extra_points`` (practices off the July 2023 list, placed by their payments
    postcode) every earlier workforce year is computed too and the indicator carries them
    all as periods (:mod:`analysis.build.periods`).
    """
    from analysis.access import e2sfca

    supply = headcount_supply(workforce, practice_codes, LATEST_YEAR)
    cover_supply(log, supply, practice_codes)
    access = e2sfca(points, population, surgeries, supply.supply.reindex(surgeries.index),
                    catchment_km=CATCHMENT_KM, per=100_000.0)
    log.cover("e2sfca_qualified_gps", summary=access.summary())
    no_xy = access.facilities_without_coordinates
    notes = (
        "Enhanced two-step floating catchment area (Luo & Qi 2009) with Gaussian distance "
        "decay (Dai 2010), 15 km catchment, the same as the list-places measure; supply = "
        "each practice's headcount of fully qualified permanent GPs, excluding GPs in "
        "training and locums (NHS Digital TOTAL_GP_EXTGL_HC), in 2023-24; demand = Census "
        "2021 population. Headcount, not full-time equivalent: a part-time GP counts as one, "
        "so this is GPs within reach, not GP hours. The yearly figure is the mean of the "
        "year's workforce snapshots rounded to whole GPs (Health Equity Evidence Centre "
        f"compilation). Practices are the {len(practice_codes):,} of the July 2023 practice "
        f"list (with postcode-centroid coordinates); {len(supply.carried_forward):,} whose "
        "2023-24 headcount is missing take their 2022-23 headcount; "
        f"{len(supply.without_headcount):,} have no headcount and add no GPs; "
        f"{len(no_xy):,} have no coordinates ({', '.join(no_xy) or 'none'}); "
        f"{len(supply.not_on_practice_list):,} practices of the 2023-24 workforce file are "
        f"not on the July 2023 list and are not located "
        f"({supply.gps_not_on_practice_list:,.0f} GPs, "
        f"{supply.patients_not_on_practice_list:,.0f} patients). Every GP of a located "
        "practice with residents in reach is shared out exactly once, so the England "
        "average equals those GPs per 100,000 residents. " + STRAIGHT_LINE_NOTE + " "
        + REPRESENTATIVE_POINT_NOTE)
    meta = {
        **_meta("gp_practices", **WORKFORCE_META), "geography": "lsoa21",
        "aggregation": "population_weighted_mean",
        "id": "gp_access_gps_per_100k", "kind": "provision",
        "title": "Qualified GPs within reach per 100,000 residents (E2SFCA)",
        "short_title": "Qualified GPs within reach",
        "description": "Fully qualified permanent GPs (headcount, excluding GPs in training "
                       "and locums) at practices within 15 km in 2023-24, shared between all "
                       "the people who could use them and weighted by straight-line "
                       "distance, per 100,000 residents. Higher means more GPs within reach. "
                       "A headcount, not full-time equivalents: part-time GPs count as one.",
        "unit": "GPs per 100,000 residents", "polarity": "higher_is_better",
        "period": "2023-24", "decimals": 1, "notes": notes,
    }
    codes = pd.Series(points.index)
    if extra_points is None:
        return IndicatorBuild(meta, lambda: _table(codes, access.accessibility.reindex(
            points.index)))
    from analysis.build.periods import gp_headcount_by_year, long_period_table, period_meta

    by_year = gp_headcount_by_year(points, population, surgeries, extra_points, workforce,
                                   log, skip=LATEST_YEAR)
    by_year[LATEST_YEAR] = access.accessibility.reindex(points.index)
    periods = sorted(by_year)
    meta = period_meta(meta, periods, PERIODS_NOTE.format(
        first=periods[0], last=periods[-1], what="qualified GP headcount"))
    meta["description"] = meta["description"].replace(
        "in 2023-24", "in each financial year (latest 2023-24)")
    return IndicatorBuild(meta, lambda: long_period_table(
        {p: by_year[p] for p in periods}, points.index))


PERIODS_NOTE = (
    "Periods {first} to {last}: the same E2SFCA for every year with that year's {what} and "
    "the Census 2021 population throughout. The latest year places the practices of the "
    "July 2023 list; earlier years also place practices that had closed or merged by then, "
    "at the postcode of their last payments file (OS Code-Point Open centroid), so their "
    "supply is not lost. Practice locations, not LSOA boundaries, change between years.")


def gp_access_period_builds(england, practices: pd.DataFrame, workforce: pd.DataFrame,
                            payments: pd.DataFrame, postcodes: pd.DataFrame,
                            log: BuildLog) -> list[IndicatorBuild]:
    """The two multi-period GP access indicators (qualified GPs and funding within reach,
    every year), as :func:`access_indicators` makes them; see :mod:`analysis.build.periods`."""
    from analysis.access import e2sfca, facility_points, representative_points
    from analysis.build.periods import unlisted_practice_points

    points = representative_points(england.set_index("lsoa21_code"))
    population = england.set_index("lsoa21_code")["population"].astype(float)
    surgeries = facility_points(practices, id_column="practice_code")
    extra = unlisted_practice_points(payments, postcodes, pd.Index(practices["practice_code"]))
    log.cover("unlisted_practices_placed_by_postcode", count=int(len(extra)))
    gp_build = gp_headcount_build(points, population, surgeries, practices["practice_code"],
                                  workforce, log, extra_points=extra)
    latest_payments = practices.set_index("practice_code")["total_payments_2022_23"].astype(
        float)
    pay_access = e2sfca(points, population, surgeries, latest_payments,
                        catchment_km=CATCHMENT_KM, per=1.0)
    log.cover("e2sfca_payments", summary=pay_access.summary())
    return [gp_build, funding_build(points, population, surgeries, extra, payments,
                                    latest_payments, pay_access, log)]


def funding_meta(sources: dict) -> dict:
    """Metadata of GP funding within reach (the one-year form, latest year 2022-23), with
    ``sources`` (source, publisher, licence, URL) of the years it is built from."""
    return {
        **_meta("gp_payments", **sources), "geography": "lsoa21",
        "aggregation": "population_weighted_mean",
        "id": "gp_access_funding_per_resident", "kind": "provision",
        "title": "GP funding within reach (E2SFCA)",
        "description": "NHS payments to GP practices within 15 km in 2022-23, shared "
                       "between all the people who could use them and weighted by "
                       "distance, per resident. Higher means more GP funding within reach.",
        "unit": "£ per resident", "polarity": "higher_is_better",
        "period": "2022-23", "decimals": 0,
        "notes": "E2SFCA (Luo & Qi 2009), Gaussian decay, 15 km; supply = total NHS "
                 "payments 2022-23 (practices missing from the 2022-23 file contribute "
                 "nothing). " + REPRESENTATIVE_POINT_NOTE}


def funding_build(points: pd.DataFrame, population: pd.Series, surgeries: pd.DataFrame,
                  extra_points: pd.DataFrame, payments: pd.DataFrame,
                  latest_payments: pd.Series, latest_access, log: BuildLog) -> IndicatorBuild:
    """GP funding within reach for every payments year (2014-15 to 2022-23), cash terms."""
    from analysis.build.periods import funding_by_year, long_period_table, period_meta

    years = sorted(payments["year"].astype(str).unique())
    by_year = funding_by_year(points, population, surgeries, extra_points, payments, log,
                              skip=years[-1])
    by_year[years[-1]] = latest_access.accessibility.reindex(points.index)
    meta = period_meta(funding_meta(_gp_meta()), years, PERIODS_NOTE.format(
        first=years[0], last=years[-1], what="total NHS payments (excluding COVID and PCN "
        "lines)") + " Cash terms: not adjusted for inflation.")
    meta["description"] = meta["description"].replace(
        "in 2022-23", "in each financial year (latest 2022-23, cash terms)")
    return IndicatorBuild(meta, lambda: long_period_table(
        {p: by_year[p] for p in years}, points.index))


def _gp_meta() -> dict:
    return {"source": "NHS Payments to General Practice 2014-15 to 2022-23 and Patients "
                      "Registered at a GP Practice, July 2023 (practice locations and lists)",
            "publisher": "NHS England", "licence": SOURCES["gp_practices"].licence,
            "source_url": SOURCES["gp_practices"].source_url}


def access_indicators(raw_dir: Path, england, lookup: pd.DataFrame, practices: pd.DataFrame,
                      units: pd.DataFrame, log: BuildLog,
                      workforce: pd.DataFrame | None = None,
                      payments_by_year: pd.DataFrame | None = None,
                      postcodes: pd.DataFrame | None = None) -> list[IndicatorBuild]:
    """Provision measured from facilities: GP catchment access (E2SFCA) by qualified GPs,
    registered-list places and payments, distance to the nearest practice, stroke travel
    times, and stroke admissions as a need indicator.

    ``workforce`` is the :func:`analysis.build.workforce.build_gp_workforce` table; it is
    built from ``raw_dir`` when not given. With ``payments_by_year`` (every payments year,
    :func:`analysis.build.services.build_gp_payments`) and ``postcodes`` (the postcode
    index) the two GP access indicators carry every year as periods
    (:func:`gp_access_period_builds`); without them, the latest year only."""
    from analysis.access import (
        e2sfca,
        facility_points,
        nearest_facility,
        representative_points,
        stroke_admissions_lsoa21,
        stroke_travel_times_lsoa21,
    )

    points = representative_points(england.set_index("lsoa21_code"))
    population = england.set_index("lsoa21_code")["population"].astype(float)
    surgeries = facility_points(practices, id_column="practice_code")
    lists = practices.set_index("practice_code")["registered_patients"].astype(float)
    payments = practices.set_index("practice_code")["total_payments_2022_23"].astype(float)
    list_access = e2sfca(points, population, surgeries, lists, catchment_km=CATCHMENT_KM)
    pay_access = e2sfca(points, population, surgeries, payments, catchment_km=CATCHMENT_KM,
                        per=1.0)
    if workforce is None:
        workforce = build_gp_workforce(raw_dir, log)
    gp_build = gp_headcount_build(points, population, surgeries, practices["practice_code"],
                                  workforce, log)
    nearest = nearest_facility(points, surgeries)
    log.cover("e2sfca_registered_patients", summary=list_access.summary())
    log.cover("e2sfca_payments", summary=pay_access.summary())
    log.cover("nearest_gp_practice", summary=nearest.summary())

    matrix = pd.read_parquet(_raw(raw_dir, "england/stroke_unit_travel_minutes_lsoa11.parquet"))
    stroke = stroke_travel_times_lsoa21(matrix, units, lookup)
    log.cover("stroke_travel_times", summary=stroke.summary(),
              lsoa21_without_times=list(stroke.lsoa21_without_times))
    admissions_raw = _read_csv(raw_dir, "england/stroke_admissions_lsoa11_2017-2019.csv")
    admissions = stroke_admissions_lsoa21(admissions_raw, lookup)
    log.cover("stroke_admissions", summary=admissions.summary(),
              lsoa21_without_admissions=list(admissions.lsoa21_without_admissions))
    codes = pd.Series(points.index)
    gp_meta = {"source": "NHS Payments to General Practice 2022-23 and Patients Registered at "
                         "a GP Practice, July 2023 (practice locations and lists)",
               "publisher": "NHS England", "licence": SOURCES["gp_practices"].licence,
               "source_url": SOURCES["gp_practices"].source_url}
    stroke_meta = {"source": SOURCES["stroke_units"].title + "; modelled road travel times "
                             "from each 2011 LSOA to each unit (data pack)",
                   "publisher": SOURCES["stroke_units"].publisher,
                   "licence": SOURCES["stroke_units"].licence,
                   "source_url": SOURCES["stroke_units"].source_url,
                   "vintage": SOURCES["stroke_units"].vintage}
    common = {"geography": "lsoa21", "aggregation": "population_weighted_mean"}
    builds = [
        gp_build,
        IndicatorBuild(
            {**_meta("gp_practices", **gp_meta), **common,
             "id": "gp_access_list_places_per_1000", "kind": "provision",
             "title": "Registered-list places within reach (E2SFCA; registration, not "
                      "capacity)",
             "short_title": "Registered-list places",
             "description": "Registered-patient places at GP practices within 15 km, shared "
                            "between all the people who could use them and weighted by "
                            "distance, per 1,000 residents. This measures registration, not "
                            "capacity: a practice's list is the demand on it, so the measure "
                            "is near 1,100 almost everywhere (more people are registered than "
                            "live in England). For GP capacity use qualified GPs within "
                            "reach (gp_access_gps_per_100k).",
             "unit": "list places per 1,000 residents", "polarity": "higher_is_better",
             "period": "July 2023", "decimals": 0,
             "notes": "Enhanced two-step floating catchment area (Luo & Qi 2009) with Gaussian "
                      "distance decay, 15 km catchment; supply = registered patients, demand "
                      "= Census 2021 population. Kept to show where registered lists exceed "
                      "the resident population (list inflation, commuters, students); it is "
                      "not a measure of GP capacity. " + STRAIGHT_LINE_NOTE + " "
                      + REPRESENTATIVE_POINT_NOTE},
            lambda: _table(codes, list_access.accessibility.reindex(points.index))),
        IndicatorBuild(funding_meta(gp_meta),
                       lambda: _table(codes, pay_access.accessibility.reindex(points.index))),
        IndicatorBuild(
            {**_meta("gp_practices", **gp_meta), **common,
             "id": "gp_nearest_km", "kind": "provision",
             "title": "Distance to the nearest GP practice",
             "description": "Straight-line (great-circle) distance to the nearest GP practice. "
                            "Higher means the nearest surgery is further away.",
             "unit": "km", "polarity": "higher_is_worse", "period": "July 2023",
             "decimals": 1,
             "notes": "Haversine distance on a 6,371 km sphere (within 0.4% of the WGS84 "
                      "geodesic in England). " + REPRESENTATIVE_POINT_NOTE},
            lambda: _table(codes, nearest.table["distance_km"].reindex(points.index))),
        IndicatorBuild(
            {**_meta("stroke_units", **stroke_meta), **common,
             "id": "stroke_minutes_thrombolysis", "kind": "provision",
             "title": "Travel time to the nearest thrombolysis unit",
             "description": "Modelled road travel time to the nearest stroke unit giving "
                            "clot-busting treatment (thrombolysis). Higher is worse: every "
                            "minute to treatment matters.",
             "unit": "minutes", "polarity": "higher_is_worse", "period": "2024",
             "decimals": 0,
             "notes": "Times modelled from 2011 LSOAs, carried to 2021 LSOAs through the ONS "
                      "lookup (splits inherit, merges population-weighted)."},
            lambda: _table(pd.Series(stroke.table.index),
                           stroke.table["ivt_minutes"], category=stroke.table["ivt_unit"])),
        IndicatorBuild(
            {**_meta("stroke_units", **stroke_meta), **common,
             "id": "stroke_minutes_thrombectomy", "kind": "provision",
             "title": "Travel time to the nearest thrombectomy centre",
             "description": "Modelled road travel time to the nearest centre that removes "
                            "clots mechanically (thrombectomy). Higher is worse.",
             "unit": "minutes", "polarity": "higher_is_worse", "period": "2024",
             "decimals": 0,
             "notes": "As for thrombolysis; 25 thrombectomy centres in England and Wales."},
            lambda: _table(pd.Series(stroke.table.index),
                           stroke.table["mt_minutes"], category=stroke.table["mt_unit"])),
        IndicatorBuild(
            {**_meta("stroke_units", **stroke_meta), **common,
             "id": "stroke_admissions_per_1000", "kind": "need",
             "source": "Stroke admissions by 2011 LSOA, mean of 2017–2019 (data pack)",
             "title": "Stroke admissions",
             "description": "Emergency hospital admissions for stroke per year per 1,000 "
                            "residents (crude, not age-standardised). Higher means more need "
                            "for stroke services.",
             "unit": "admissions a year per 1,000 residents", "polarity": "higher_is_worse",
             "period": "2017–2019", "aggregation": "ratio", "decimals": 2,
             "notes": "Counts on 2011 LSOAs apportioned to 2021 by population; the "
                      "denominator is the mid-2020 population carried the same way."},
            lambda: _table(pd.Series(admissions.table.index),
                           admissions.table["admissions_per_1000"],
                           numerator=admissions.table["admissions_per_year"],
                           denominator=admissions.table["population"])),
    ]
    if payments_by_year is not None and postcodes is not None:
        by_id = {b.meta["id"]: b for b in gp_access_period_builds(
            england, practices, workforce, payments_by_year, postcodes, log)}
        builds = [by_id.get(b.meta["id"], b) for b in builds]
    return builds
