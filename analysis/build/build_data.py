"""Build the embedded default dataset in ``data/`` from the raw open-data pack.

Run ``fairshare data build --raw PATH_TO_PACK`` (the pack is the folder with ``england/`` and
``scotland/``). This is a build-time step only: the app and the tests read the committed
output in ``data/`` and never the raw pack. The build is deterministic, so rebuilding from
the same pack reproduces the same tables; it writes a ``manifest.json`` with provenance,
row counts and the join coverage it found (unmatched codes are reported, not dropped).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from analysis.data import COUNTRY_CODES
from analysis.data import apportioning_weights, convert_lsoa11_to_lsoa21
from analysis.data import SOURCES

MANIFEST_VERSION = 1


class RawDataError(RuntimeError):
    """The raw pack is missing a file or a file has an unexpected shape."""


@dataclass
class BuildLog:
    """Counts and coverage gathered while building, written into the manifest."""

    coverage: dict[str, Any] = field(default_factory=dict)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)

    def cover(self, join: str, **facts: Any) -> None:
        self.coverage[join] = facts


def _raw(raw_dir: Path, relative: str) -> Path:
    path = raw_dir / relative
    if not path.exists():
        raise RawDataError(f"Raw file {path} is missing from the data pack")
    return path


def _read_csv(raw_dir: Path, relative: str, **kwargs: Any) -> pd.DataFrame:
    return pd.read_csv(_raw(raw_dir, relative), encoding="utf-8-sig", **kwargs)


def _require_unique(frame: pd.DataFrame, column: str, origin: str) -> None:
    dup = frame[column][frame[column].duplicated()]
    if len(dup):
        raise RawDataError(f"{origin}: duplicate {column}: {', '.join(map(str, dup[:10]))}")


def _coverage(left: pd.Index, right: pd.Index) -> dict[str, Any]:
    missing = left.difference(right)
    return {"rows": int(len(left)), "matched": int(len(left) - len(missing)),
            "unmatched": [str(c) for c in missing[:50]], "unmatched_count": int(len(missing))}


def _categorical(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    # repeated names/codes compress far better as dictionary-encoded categoricals
    for column in columns:
        frame[column] = frame[column].astype("category")
    return frame


# ---------------------------------------------------------------------------------------
# Geography packs


def build_england_pack(raw_dir: Path, log: BuildLog):
    import geopandas as gpd

    shapes = gpd.read_parquet(_raw(raw_dir, "england/lsoa21_boundaries.parquet"))
    lookup = _read_csv(raw_dir, "england/lsoa21_lookup.csv", dtype=str)
    population = _read_csv(raw_dir, "england/population_census2021_lsoa21.csv")
    for frame, origin in [(shapes, "boundaries"), (lookup, "lookup"), (population, "population")]:
        _require_unique(frame, "lsoa21_code", f"england {origin}")
    shapes_idx = pd.Index(shapes["lsoa21_code"])
    log.cover("england_lsoa21_boundaries_vs_lookup",
              **_coverage(shapes_idx, pd.Index(lookup["lsoa21_code"])))
    log.cover("england_lsoa21_boundaries_vs_population",
              **_coverage(shapes_idx, pd.Index(population["lsoa21_code"])))
    table = lookup.rename(
        columns={
            "ward24_code": "ward_code", "ward24_name": "ward_name",
            "ltla24_code": "ltla_code", "ltla24_name": "ltla_name",
            "sicbl24_code": "sicbl_code", "sicbl24_name": "sicbl_name",
            "sicbl24_code_nhs": "sicbl_code_nhs",
            "icb24_code": "icb_code", "icb24_name": "icb_name", "icb24_code_nhs": "icb_code_nhs",
            "region24_code": "region_code", "region24_name": "region_name",
        }
    ).drop(columns=["lsoa21_name"])
    table["country_code"], table["country_name"] = COUNTRY_CODES["england"]
    merged = (
        shapes[["lsoa21_code", "lsoa21_name", "geometry"]]
        .merge(table, on="lsoa21_code", how="left", validate="1:1")
        .merge(population[["lsoa21_code", "population_census2021"]], on="lsoa21_code",
               how="left", validate="1:1")
        .rename(columns={"population_census2021": "population"})
    )
    if merged["population"].isna().any() or merged["icb_code"].isna().any():
        bad = merged.loc[merged["population"].isna() | merged["icb_code"].isna(), "lsoa21_code"]
        raise RawDataError(f"England LSOAs without lookup or population: {', '.join(bad[:10])}")
    merged["population"] = merged["population"].astype("int64")
    ordered = [
        "lsoa21_code", "lsoa21_name", "ward_code", "ward_name", "ltla_code", "ltla_name",
        "sicbl_code", "sicbl_name", "sicbl_code_nhs", "icb_code", "icb_name", "icb_code_nhs",
        "region_code", "region_name", "country_code", "country_name", "population", "geometry",
    ]
    merged = merged[ordered].sort_values("lsoa21_code").reset_index(drop=True)
    return gpd.GeoDataFrame(_categorical(merged, ordered[2:16]), geometry="geometry",
                            crs=shapes.crs)


def build_scotland_pack(raw_dir: Path, log: BuildLog):
    import geopandas as gpd

    shapes = gpd.read_parquet(_raw(raw_dir, "scotland/dz11_boundaries.parquet"))
    lookup = _read_csv(raw_dir, "scotland/dz11_lookup.csv", dtype=str)
    population = _read_csv(raw_dir, "scotland/population_2021_dz11.csv")
    for frame, origin in [(shapes, "boundaries"), (lookup, "lookup"), (population, "population")]:
        _require_unique(frame, "dz11_code", f"scotland {origin}")
    idx = pd.Index(shapes["dz11_code"])
    log.cover("scotland_dz11_boundaries_vs_lookup", **_coverage(idx, pd.Index(lookup["dz11_code"])))
    log.cover("scotland_dz11_boundaries_vs_population",
              **_coverage(idx, pd.Index(population["dz11_code"])))
    table = lookup.rename(columns={"ltla20_code": "council_code", "ltla20_name": "council_name"})
    table = table.drop(columns=["dz11_name"])
    table["country_code"], table["country_name"] = COUNTRY_CODES["scotland"]
    merged = (
        shapes[["dz11_code", "dz11_name", "geometry"]]
        .merge(table, on="dz11_code", how="left", validate="1:1")
        .merge(population[["dz11_code", "total_population"]], on="dz11_code", how="left",
               validate="1:1")
        .rename(columns={"total_population": "population"})
    )
    if merged["population"].isna().any() or merged["council_code"].isna().any():
        bad = merged.loc[merged["population"].isna() | merged["council_code"].isna(), "dz11_code"]
        raise RawDataError(f"Scottish data zones without lookup or population: {list(bad[:10])}")
    merged["population"] = merged["population"].astype("int64")
    ordered = ["dz11_code", "dz11_name", "iz11_code", "iz11_name", "council_code",
               "council_name", "country_code", "country_name", "population", "geometry"]
    merged = merged[ordered].sort_values("dz11_code").reset_index(drop=True)
    return gpd.GeoDataFrame(_categorical(merged, ordered[2:8]), geometry="geometry",
                            crs=shapes.crs)


def build_lsoa_lookup(raw_dir: Path, england, log: BuildLog) -> pd.DataFrame:
    """England's 2011 → 2021 pairs with apportioning weights and 2011 populations."""
    lookup = _read_csv(raw_dir, "england/lsoa11_lsoa21_lookup.csv", dtype=str)
    lookup = lookup[lookup["lsoa21_code"].str.startswith("E01")].copy()
    ages = pd.read_parquet(
        _raw(raw_dir, "england/population_mid2020_lsoa11_single_year_of_age.parquet"),
        columns=["lsoa11_code", "lsoa11_name", "total_population"],
    )
    population21 = england.set_index("lsoa21_code")["population"]
    log.cover("lsoa11_lookup_vs_pack21",
              **_coverage(pd.Index(population21.index), pd.Index(lookup["lsoa21_code"].unique())))
    log.cover("lsoa11_lookup_vs_mid2020",
              **_coverage(pd.Index(lookup["lsoa11_code"].unique()), pd.Index(ages["lsoa11_code"])))
    lookup["weight"] = apportioning_weights(lookup, population21)
    lookup["population11"] = lookup["lsoa11_code"].map(
        ages.set_index("lsoa11_code")["total_population"]
    )
    # Some 2011 LSOAs carry another name in ONS's population estimates (Shepway 015A–D are
    # 014E–H in the lookup); datasets keyed by name use either, so both are kept.
    other_name = lookup["lsoa11_code"].map(ages.set_index("lsoa11_code")["lsoa11_name"])
    lookup["lsoa11_alias"] = other_name.where(other_name != lookup["lsoa11_name"])
    log.cover("lsoa11_name_aliases", **lookup.dropna(subset=["lsoa11_alias"])
              .drop_duplicates("lsoa11_code").set_index("lsoa11_alias")["lsoa11_name"]
              .to_dict())
    out = lookup[["lsoa11_code", "lsoa11_name", "lsoa11_alias", "lsoa21_code", "change_code",
                  "weight", "population11"]]
    return out.sort_values(["lsoa11_code", "lsoa21_code"]).reset_index(drop=True)


# ---------------------------------------------------------------------------------------
# Indicators


@dataclass(frozen=True)
class IndicatorBuild:
    """How to make one default indicator: its metadata and a function giving its table."""

    meta: dict[str, Any]
    make: Callable[[], pd.DataFrame]


def _table(codes: pd.Series, value: pd.Series, **extra: pd.Series) -> pd.DataFrame:
    frame = pd.DataFrame({"area_code": codes.astype(str).to_numpy(),
                          "value": value.astype(float).to_numpy()})
    for name, column in extra.items():
        frame[name] = column.to_numpy()
    return frame


def _meta(source_id: str, **fields: Any) -> dict[str, Any]:
    src = SOURCES[source_id]
    base = {
        "licence": src.licence,
        "publisher": src.publisher,
        "source": src.title,
        "source_url": src.source_url,
        "vintage": src.vintage,
        "aggregation": "population_weighted_mean",
        "decimals": 1,
    }
    base.update(fields)
    return base


IMD_DOMAINS = {
    "IMD": ("imd2025", "Index of Multiple Deprivation 2025",
            "How deprived a neighbourhood is overall, combining income, employment, education, "
            "health, crime, barriers to housing and services, and living environment."),
    "Income": ("imd2025_income", "Income deprivation (IoD 2025)",
               "Share of people on low incomes, from benefit and tax credit records."),
    "Employment": ("imd2025_employment", "Employment deprivation (IoD 2025)",
                   "Share of working-age people kept out of work by unemployment, sickness "
                   "or disability, or caring responsibilities."),
    "Education": ("imd2025_education", "Education, skills and training deprivation (IoD 2025)",
                  "Lack of attainment and skills among children, young people and adults."),
    "Health": ("imd2025_health", "Health deprivation and disability (IoD 2025)",
               "Risk of premature death and impaired quality of life through poor physical "
               "or mental health."),
    "Crime": ("imd2025_crime", "Crime (IoD 2025)",
              "Risk of personal and material victimisation (violence, burglary, theft, "
              "criminal damage)."),
    "Housing_and_Services": ("imd2025_housing_services",
                             "Barriers to housing and services (IoD 2025)",
                             "Physical and financial accessibility of housing and local "
                             "services, including distance to a GP surgery."),
    "Environment": ("imd2025_environment", "Living environment deprivation (IoD 2025)",
                    "Quality of the indoor and outdoor local environment (housing "
                    "condition, air quality, road traffic accidents)."),
}

IOD_HEALTH = {
    "comparative_illness_and_disability_ratio_indicator": (
        "iod2025_cidr", "Comparative illness and disability ratio",
        "Work-limiting illness and disability: people receiving disability and incapacity "
        "benefits, age- and sex-standardised. England average is 100; higher means more "
        "illness and disability.", "standardised ratio (England = 100)"),
    "acute_morbidity_indicator": (
        "iod2025_acute_morbidity", "Acute morbidity",
        "Emergency hospital admissions, age- and sex-standardised. England average is 100; "
        "higher means more emergency admissions.", "standardised ratio (England = 100)"),
    "mental_health_indicator": (
        "iod2025_mental_health", "Mood and anxiety disorders",
        "Combined measure of mental ill health (prescribing, hospital episodes, suicides and "
        "benefits for mental illness). Higher means more mental ill health; 0 is about "
        "average.", "standardised score"),
    "years_of_potential_life_lost_indicator": (
        "iod2025_ypll", "Years of potential life lost",
        "Premature death: years of life lost before age 75, age- and sex-standardised. "
        "Higher means more premature death.", "standardised rate"),
}


def england_indicators(raw_dir: Path, england, lookup: pd.DataFrame,
                       log: BuildLog) -> list[IndicatorBuild]:
    codes21 = pd.Index(england["lsoa21_code"])
    imd = _read_csv(raw_dir, "england/imd2025_lsoa21.csv")
    _require_unique(imd, "lsoa21_code", "imd2025")
    log.cover("imd2025_vs_pack", **_coverage(codes21, pd.Index(imd["lsoa21_code"])))
    builds: list[IndicatorBuild] = []
    for domain, (ident, title, description) in IMD_DOMAINS.items():
        score, rank, decile = imd[f"{domain}_score"], imd[f"{domain}_rank"], imd[f"{domain}_decile"]
        is_imd = domain == "IMD"
        unit = "score" if domain in {"IMD", "Health", "Crime", "Education",
                                     "Housing_and_Services", "Environment"} else "proportion"
        builds.append(IndicatorBuild(
            _meta("iod2025", id=f"{ident}_score", title=f"{title}: score",
                  description=description + " Higher scores are more deprived.",
                  unit=unit, polarity="higher_is_worse", kind="need", geography="lsoa21",
                  period="2025", decimals=3 if unit == "proportion" else 1,
                  notes="Rank and national decile (1 = most deprived 10% of LSOAs in England) "
                        "are carried as columns."),
            lambda s=score, r=rank, d=decile: _table(
                imd["lsoa21_code"], s, rank=r.astype("int32"), decile=d.astype("int8")),
        ))
        builds.append(IndicatorBuild(
            _meta("iod2025", id=f"{ident}_decile", title=f"{title}: national decile",
                  description=("Decile of the neighbourhood among all LSOAs in England: "
                               "1 = most deprived 10%, 10 = least deprived 10%. "
                               + ("" if is_imd else description)).strip(),
                  unit="decile (1 = most deprived)", polarity="higher_is_better",
                  kind="context", geography="lsoa21", period="2025", aggregation="none",
                  decimals=0),
            lambda d=decile, r=rank: _table(imd["lsoa21_code"], d, rank=r.astype("int32")),
        ))

    indicators = _read_csv(raw_dir, "england/imd2025_lsoa21_indicators.csv")
    _require_unique(indicators, "lsoa21_code", "imd2025 indicators")
    for column, (ident, title, description, unit) in IOD_HEALTH.items():
        builds.append(IndicatorBuild(
            _meta("iod2025_indicators", id=ident, title=title, description=description,
                  unit=unit, polarity="higher_is_worse", kind="need", geography="lsoa21",
                  period="IoD 2025 (data mostly 2020–2023)", decimals=2),
            lambda c=column: _table(indicators["lsoa21_code"], indicators[c]),
        ))
    builds.append(IndicatorBuild(
        _meta("iod2025_indicators", id="iod2025_gps_per_100k_patients",
              title="GPs per 100,000 patients (nearby practices)",
              description="Full-time-equivalent GPs per 100,000 registered patients in the "
                          "practices serving the neighbourhood. Higher means more GP time for "
                          "the population.",
              unit="FTE GPs per 100,000 patients", polarity="higher_is_better",
              kind="provision", geography="lsoa21", period="IoD 2025", decimals=1,
              notes="100,000 ÷ the IoD 2025 'patient to GP ratio' (barriers to housing and "
                    "services domain), which is published per LSOA; the ratio's raw values "
                    "(patients per FTE GP) are kept in the patients_per_gp column. A few "
                    "LSOAs have very low values (ratio up to 33,000) where nearby practices "
                    "report few GPs; they are published values, kept."),
        lambda: _table(indicators["lsoa21_code"], 100_000 / indicators["patient_to_gp_ratio"],
                       patients_per_gp=indicators["patient_to_gp_ratio"]),
    ))

    disability = _read_csv(raw_dir, "england/census2021_disability_lsoa21.csv")
    log.cover("disability_vs_pack", **_coverage(codes21, pd.Index(disability["lsoa21_code"])))
    builds.append(IndicatorBuild(
        _meta("census2021_disability", id="census2021_disabled_pct",
              title="Disabled under the Equality Act",
              description="Share of residents whose day-to-day activities are limited a little "
                          "or a lot by a long-term physical or mental health condition.",
              unit="% of residents", polarity="higher_is_worse", kind="need",
              geography="lsoa21", period="2021", aggregation="ratio"),
        lambda: _table(disability["lsoa21_code"],
                       100 * disability["disabled_equality_act"] / disability["total_residents"],
                       numerator=disability["disabled_equality_act"],
                       denominator=disability["total_residents"]),
    ))
    households = _read_csv(raw_dir, "england/census2021_household_deprivation_lsoa21.csv")
    log.cover("household_deprivation_vs_pack",
              **_coverage(codes21, pd.Index(households["lsoa21_code"])))
    deprived_2plus = households[[
        "households_deprived_in_two_dimensions", "households_deprived_in_three_dimensions",
        "households_deprived_in_four_dimensions"]].sum(axis=1)
    builds.append(IndicatorBuild(
        _meta("census2021_household_deprivation", id="census2021_households_deprived_2plus_pct",
              title="Households deprived in two or more dimensions",
              description="Share of households deprived in at least two of the four Census "
                          "dimensions: employment, education, health and disability, housing.",
              unit="% of households", polarity="higher_is_worse", kind="need",
              geography="lsoa21", period="2021", aggregation="ratio"),
        lambda: _table(households["lsoa21_code"],
                       100 * deprived_2plus / households["total_households"],
                       numerator=deprived_2plus, denominator=households["total_households"]),
    ))

    ages = pd.read_parquet(
        _raw(raw_dir, "england/population_mid2020_lsoa11_single_year_of_age.parquet"))
    older = [c for c in ages.columns if c.rstrip("+").isdigit() and int(c.rstrip("+")) >= 65]
    ages = ages.assign(aged_65_plus=ages[older].sum(axis=1))
    converted, report = convert_lsoa11_to_lsoa21(
        ages, code_column="lsoa11_code", counts=["aged_65_plus", "total_population"],
        lookup=lookup)
    log.cover("mid2020_ages_to_lsoa21", **{**report.__dict__,
                                            "unmatched_codes": list(report.unmatched_codes[:50]),
                                            "summary": report.summary()})
    log.cover("mid2020_ages_vs_pack", **_coverage(codes21, converted.index))
    builds.append(IndicatorBuild(
        _meta("mid2020_population_lsoa11", id="population_aged_65_plus_pct",
              title="Residents aged 65 and over",
              description="Share of residents aged 65 or over, a driver of need for health "
                          "and care services.",
              unit="% of residents", polarity="higher_is_worse", kind="need",
              geography="lsoa21", period="mid-2020", aggregation="ratio",
              notes="ONS mid-2020 estimates on 2011 LSOAs, converted to 2021 LSOAs with the "
                    "ONS best-fit lookup (splits apportioned by Census 2021 population)."),
        lambda: _table(pd.Series(converted.index),
                       100 * converted["aged_65_plus"] / converted["total_population"],
                       numerator=converted["aged_65_plus"],
                       denominator=converted["total_population"]),
    ))

    ruc = _read_csv(raw_dir, "england/ruc21_lsoa21.csv")
    log.cover("ruc2021_vs_pack", **_coverage(codes21, pd.Index(ruc["lsoa21_code"])))
    builds.append(IndicatorBuild(
        _meta("ruc2021", id="ruc2021_rural", title="Rural neighbourhood",
              description="Whether the neighbourhood is rural in the 2021 Rural-Urban "
                          "Classification (100 = rural, 0 = urban). For a larger area: the "
                          "share of residents living in rural neighbourhoods.",
              unit="% of residents in rural LSOAs", polarity="neutral", kind="context",
              geography="lsoa21", period="2021", decimals=0,
              notes="The detailed class (e.g. 'Urban: Nearer to a major town or city') is "
                    "carried in the category column."),
        lambda: _table(ruc["lsoa21_code"], (ruc["ruc"] == "Rural") * 100.0,
                       category=ruc["classification"]),
    ))
    builds.append(IndicatorBuild(
        _meta("census2021_population", id="population_census2021", title="Population",
              description="Usual residents on Census day 2021.", unit="people",
              polarity="neutral", kind="context", geography="lsoa21", period="2021",
              aggregation="sum", decimals=0),
        lambda: _table(england["lsoa21_code"], england["population"]),
    ))
    return builds


REPRESENTATIVE_POINT_NOTE = (
    "Distances are measured from a representative point inside each LSOA (shapely "
    "point_on_surface), because population-weighted centroids for LSOA 2021 are not in the "
    "open data pack; for large rural LSOAs the point may be away from where people live.")


def access_indicators(raw_dir: Path, england, lookup: pd.DataFrame, practices: pd.DataFrame,
                      units: pd.DataFrame, log: BuildLog) -> list[IndicatorBuild]:
    """Provision measured from facilities: GP catchment access (E2SFCA), distance to the
    nearest practice, stroke travel times, and stroke admissions as a need indicator."""
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
    list_access = e2sfca(points, population, surgeries, lists, catchment_km=15.0)
    pay_access = e2sfca(points, population, surgeries, payments, catchment_km=15.0, per=1.0)
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
        IndicatorBuild(
            {**_meta("gp_practices", **gp_meta), **common,
             "id": "gp_access_list_places_per_1000", "kind": "provision",
             "title": "GP list places within reach (E2SFCA)",
             "description": "Registered-patient places at GP practices within 15 km, shared "
                            "between all the people who could use them and weighted by "
                            "distance, per 1,000 residents. Higher means more GP capacity "
                            "within reach.",
             "unit": "list places per 1,000 residents", "polarity": "higher_is_better",
             "period": "July 2023", "decimals": 0,
             "notes": "Enhanced two-step floating catchment area (Luo & Qi 2009) with Gaussian "
                      "distance decay, 15 km catchment; supply = registered patients, demand "
                      "= Census 2021 population. " + REPRESENTATIVE_POINT_NOTE},
            lambda: _table(codes, list_access.accessibility.reindex(points.index))),
        IndicatorBuild(
            {**_meta("gp_payments", **gp_meta), **common,
             "id": "gp_access_funding_per_resident", "kind": "provision",
             "title": "GP funding within reach (E2SFCA)",
             "description": "NHS payments to GP practices within 15 km in 2022-23, shared "
                            "between all the people who could use them and weighted by "
                            "distance, per resident. Higher means more GP funding within reach.",
             "unit": "£ per resident", "polarity": "higher_is_better",
             "period": "2022-23", "decimals": 0,
             "notes": "E2SFCA (Luo & Qi 2009), Gaussian decay, 15 km; supply = total NHS "
                      "payments 2022-23 (practices missing from the 2022-23 file contribute "
                      "nothing). " + REPRESENTATIVE_POINT_NOTE},
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
    return builds


def scotland_indicators(raw_dir: Path, scotland, log: BuildLog) -> list[IndicatorBuild]:
    codes = pd.Index(scotland["dz11_code"])
    simd = _read_csv(raw_dir, "scotland/simd2020_dz11.csv")
    _require_unique(simd, "dz11_code", "simd2020")
    log.cover("simd2020_vs_pack", **_coverage(codes, pd.Index(simd["dz11_code"])))
    builds = [
        IndicatorBuild(
            _meta("simd2020", id="simd2020_decile", title="SIMD 2020: national decile",
                  description="Decile of the data zone among all data zones in Scotland on the "
                              "Scottish Index of Multiple Deprivation: 1 = most deprived 10%, "
                              "10 = least deprived 10%.",
                  unit="decile (1 = most deprived)", polarity="higher_is_better",
                  kind="context", geography="dz11", period="2020", aggregation="none",
                  decimals=0),
            lambda: _table(simd["dz11_code"], simd["IMD_decile"],
                           rank=simd["IMD_rank"].astype("int32")),
        ),
        IndicatorBuild(
            _meta("simd2020", id="simd2020_rank", title="SIMD 2020: rank",
                  description="Rank of the data zone on the Scottish Index of Multiple "
                              "Deprivation: 1 = most deprived of 6,976.",
                  unit="rank (1 = most deprived)", polarity="higher_is_better",
                  kind="need", geography="dz11", period="2020", aggregation="none",
                  decimals=0),
            lambda: _table(simd["dz11_code"], simd["IMD_rank"],
                           decile=simd["IMD_decile"].astype("int8")),
        ),
        IndicatorBuild(
            _meta("simd2020", id="simd2020_health_decile",
                  title="SIMD 2020 health domain: national decile",
                  description="Decile on the SIMD health domain (premature mortality, "
                              "hospital stays, prescribing, low birthweight): 1 = most "
                              "deprived 10%.",
                  unit="decile (1 = most deprived)", polarity="higher_is_better",
                  kind="context", geography="dz11", period="2020", aggregation="none",
                  decimals=0),
            lambda: _table(simd["dz11_code"], simd["Health_decile"],
                           rank=simd["Health_rank"].astype("int32")),
        ),
        IndicatorBuild(
            _meta("scotland_population_2021", id="population_scotland_2021",
                  title="Population", description="Estimated residents, mid-2021.",
                  unit="people", polarity="neutral", kind="context", geography="dz11",
                  period="mid-2021", aggregation="sum", decimals=0),
            lambda: _table(scotland["dz11_code"], scotland["population"]),
        ),
    ]
    ages = _read_csv(raw_dir, "scotland/census_age_gender_dz11.csv")
    wide = ages.pivot_table(index="dz11_code", columns="age_group", values="all_people",
                            aggfunc="sum")
    older_bands = ["65 - 69", "70 - 74", "75 - 79", "80 - 84", "85 and over"]
    missing = [b for b in [*older_bands, "All people"] if b not in wide.columns]
    if missing:
        raise RawDataError(f"scotland/census_age_gender_dz11.csv lacks age groups {missing}")
    older = wide[older_bands].sum(axis=1)
    log.cover("scotland_ages_vs_pack", **_coverage(codes, wide.index))
    builds.append(IndicatorBuild(
        _meta("scotland_census_age", id="scotland_aged_65_plus_pct",
              title="Residents aged 65 and over",
              description="Share of residents aged 65 or over, a driver of need for health and "
                          "care services.", unit="% of residents", polarity="higher_is_worse",
              kind="need", geography="dz11", period="census", aggregation="ratio"),
        lambda: _table(pd.Series(wide.index), 100 * older / wide["All people"],
                       numerator=older, denominator=wide["All people"]),
    ))
    return builds


def write_indicator(out_dir: Path, build: IndicatorBuild, log: BuildLog) -> None:
    ident = build.meta["id"]
    folder = out_dir / "indicators" / ident
    folder.mkdir(parents=True, exist_ok=True)
    table = build.make()
    if table["area_code"].duplicated().any():
        raise RawDataError(f"indicator {ident}: duplicate area codes")
    finite = np.isfinite(table["value"].to_numpy(dtype=float))
    if not finite.all():
        # e.g. a zero denominator: no value can be published, so the area is left out and said
        dropped = table.loc[~finite, "area_code"].tolist()
        log.cover(f"indicator_{ident}_without_value", count=len(dropped), codes=dropped[:50])
        table = table[finite]
    table = table.sort_values("area_code").reset_index(drop=True)
    table.to_parquet(folder / "data.parquet", index=False, compression="zstd")
    (folder / "indicator.yaml").write_text(
        yaml.safe_dump(build.meta, sort_keys=False, allow_unicode=True, width=100),
        encoding="utf-8")
    log.files[f"indicators/{ident}"] = {"rows": int(len(table))}


# ---------------------------------------------------------------------------------------
# Services


def build_gp_practices(raw_dir: Path, england, log: BuildLog) -> pd.DataFrame:
    """GP practices (July 2023) with location LSOA 2021 and their 2022-23 NHS payments."""
    import geopandas as gpd

    from analysis.funding import read_payments_file

    practices = _read_csv(raw_dir, "england/gp_practices_2023-07.csv",
                          dtype={"practice_code": str, "sicbl_code_nhs": str})
    _require_unique(practices, "practice_code", "gp practices")
    mapping = _read_csv(raw_dir, "england/gp_practice_boundary_mapping_2023-24.csv", dtype=str)
    names = mapping.set_index("Practice")["GP practice name"]
    payments = read_payments_file(
        _raw(raw_dir, "england/gp_payments/nhs_payments_to_general_practice_2022-23.csv.gz"),
        "2022-23").set_index("practice_code")
    codes = pd.Index(practices["practice_code"])
    log.cover("gp_practices_vs_mapping", **_coverage(codes, pd.Index(names.index)))
    log.cover("gp_practices_vs_payments_2022_23", **_coverage(codes, payments.index))
    log.cover("gp_payments_2022_23_vs_practices", **_coverage(payments.index, codes))

    has_xy = practices["latitude"].notna() & practices["longitude"].notna()
    log.cover("gp_practices_with_coordinates",
              **_coverage(codes, codes[has_xy.to_numpy()]))
    points = gpd.GeoDataFrame(
        practices[has_xy], geometry=gpd.points_from_xy(practices.loc[has_xy, "longitude"],
                                                       practices.loc[has_xy, "latitude"]),
        crs="EPSG:4326")
    located = gpd.sjoin(points, england[["lsoa21_code", "geometry"]], how="left",
                        predicate="within").drop_duplicates("practice_code")
    lsoa = located.set_index("practice_code")["lsoa21_code"]
    pack = england.drop(columns="geometry").set_index("lsoa21_code")
    sicbl_to_icb = (england.drop(columns="geometry")[["sicbl_code", "icb_code", "icb_name",
                                                      "sicbl_name"]]
                    .drop_duplicates("sicbl_code").set_index("sicbl_code"))
    out = pd.DataFrame({
        "practice_code": practices["practice_code"],
        "practice_name": practices["practice_code"].map(names).fillna(
            practices["practice_code"].map(payments["practice_name"])),
        "postcode": practices["postcode"],
        "latitude": practices["latitude"],
        "longitude": practices["longitude"],
        "registered_patients": practices["registered_patients"].astype("int64"),
        "sicbl_code": practices["sicbl_code"],
        "sicbl_code_nhs": practices["sicbl_code_nhs"],
    })
    out["lsoa21_code"] = out["practice_code"].map(lsoa)
    # Sub-ICBs E38000246/E38000248 of the July 2023 list were redrawn in 2024; such practices
    # take the 2024 sub-ICB of the LSOA they stand in, and the column says which source.
    known = out["sicbl_code"].isin(sicbl_to_icb.index)
    by_location = out["lsoa21_code"].map(pack["sicbl_code"]).astype(object)
    out["sicbl_source"] = np.where(known, "practice list July 2023",
                                   np.where(by_location.notna(), "practice location (2024)", ""))
    out["sicbl_code"] = out["sicbl_code"].where(known, by_location)
    out["sicbl_name"] = out["sicbl_code"].map(sicbl_to_icb["sicbl_name"]).astype(object)
    out["icb_code"] = out["sicbl_code"].map(sicbl_to_icb["icb_code"]).astype(object)
    out["icb_name"] = out["sicbl_code"].map(sicbl_to_icb["icb_name"]).astype(object)
    out["ltla_code"] = out["lsoa21_code"].map(pack["ltla_code"]).astype(object)
    log.cover("gp_practices_located_in_lsoa21",
              **_coverage(codes, pd.Index(out.loc[out["lsoa21_code"].notna(), "practice_code"])))
    log.cover("gp_practices_sicbl_in_pack",
              **_coverage(codes, pd.Index(out.loc[out["icb_code"].notna(), "practice_code"])))
    pay_cols = {
        "weighted_patients": "weighted_patients_2022_23",
        "registered_patients": "registered_patients_2022_23",
        "total_payments": "total_payments_2022_23",
        "dispensing": "dispensing_2022_23",
        "rurality": "rurality_2022_23",
        "contract_type": "contract_type_2022_23",
    }
    for raw_col, new_col in pay_cols.items():
        out[new_col] = out["practice_code"].map(payments[raw_col])
    return out.sort_values("practice_code").reset_index(drop=True)


def build_gp_payments(raw_dir: Path, log: BuildLog) -> pd.DataFrame:
    """All nine years of NHS Payments to General Practice, practice × year (long table).

    Per-patient rates are derivable and recomputed on load, so they are not stored.
    """
    from analysis.funding import load_all_payments, payments_quality_report

    payments = load_all_payments(_raw(raw_dir, "england/gp_payments"))
    quality = payments_quality_report(payments)
    log.cover("gp_payments_quality", **json.loads(quality.to_json(orient="index")))
    payments = payments.drop(columns=["payments_per_registered_patient",
                                      "payments_per_weighted_patient"])
    text = [c for c in payments.columns
            if pd.api.types.is_string_dtype(payments[c]) and c != "practice_code"]
    payments = _categorical(payments, text)
    return payments.sort_values(["practice_code", "year"]).reset_index(drop=True)


def build_practice_imd(raw_dir: Path, log: BuildLog) -> pd.DataFrame:
    """Practice population IMD scores (Fingertips 93553: IMD 2010, 2015, 2019)."""
    from analysis.funding import practice_deprivation

    raw = _read_csv(raw_dir, "england/gp_practice_imd_fingertips_93553.csv",
                    dtype={"AreaCode": str})
    imd = practice_deprivation(raw)
    log.cover("gp_practice_imd_by_year", **imd["imd_year"].value_counts().sort_index()
              .rename(str).to_dict())
    return imd


def build_stroke_units(raw_dir: Path, log: BuildLog) -> pd.DataFrame:
    units = _read_csv(raw_dir, "england/stroke_units_2024.csv", dtype={"postcode": str})
    _require_unique(units, "postcode", "stroke units")
    keep = ["postcode", "stroke_team", "short_code", "ssnap_name", "use_ivt", "use_mt",
            "use_msu", "country", "lsoa_code", "icb_code", "isdn", "latitude", "longitude"]
    out = units[keep].copy()
    for flag in ["use_ivt", "use_mt", "use_msu"]:
        out[flag] = out[flag].astype(bool)
    out["unit_type"] = np.where(out["use_mt"], "Thrombectomy centre",
                                np.where(out["use_ivt"], "Thrombolysis unit", "Stroke unit"))
    log.cover("stroke_units_by_country", **out["country"].value_counts().to_dict())
    return out.sort_values("postcode").reset_index(drop=True)


# ---------------------------------------------------------------------------------------


def build(raw_dir: Path, out_dir: Path) -> dict[str, Any]:
    """Build every embedded file from ``raw_dir`` into ``out_dir``; return the manifest."""
    raw_dir, out_dir = Path(raw_dir), Path(out_dir)
    if not (raw_dir / "england").is_dir() or not (raw_dir / "scotland").is_dir():
        raise RawDataError(f"{raw_dir} is not the data pack (no england/ and scotland/)")
    log = BuildLog()
    england = build_england_pack(raw_dir, log)
    scotland = build_scotland_pack(raw_dir, log)
    lookup = build_lsoa_lookup(raw_dir, england, log)
    builds = england_indicators(raw_dir, england, lookup, log) + scotland_indicators(
        raw_dir, scotland, log)
    practices = build_gp_practices(raw_dir, england, log)
    units = build_stroke_units(raw_dir, log)
    builds += access_indicators(raw_dir, england, lookup, practices, units, log)
    payments = build_gp_payments(raw_dir, log)
    practice_imd = build_practice_imd(raw_dir, log)

    (out_dir / "geography").mkdir(parents=True, exist_ok=True)
    (out_dir / "services").mkdir(parents=True, exist_ok=True)
    indicator_root = out_dir / "indicators"
    if indicator_root.is_dir():
        # only rebuild the shipped defaults; analysts' packages in the same folder are kept
        shipped = {b.meta["id"] for b in builds}
        for folder in indicator_root.iterdir():
            if folder.name in shipped:
                shutil.rmtree(folder)
    outputs = {
        "geography/england_lsoa21.parquet": england,
        "geography/scotland_dz11.parquet": scotland,
    }
    for name, frame in outputs.items():
        frame.to_parquet(out_dir / name, index=False, compression="zstd",
                         schema_version="1.0.0")
        log.files[name] = {"rows": int(len(frame))}
    tables = {
        "geography/lsoa11_lsoa21.parquet": lookup,
        "services/gp_practices.parquet": practices,
        "services/stroke_units.parquet": units,
        "services/gp_payments.parquet": payments,
        "services/gp_practice_imd.parquet": practice_imd,
    }
    for name, frame in tables.items():
        frame.to_parquet(out_dir / name, index=False, compression="zstd")
        log.files[name] = {"rows": int(len(frame))}
    for b in builds:
        write_indicator(out_dir, b, log)

    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "sources": {k: v.to_dict() for k, v in SOURCES.items()},
        "files": log.files,
        "coverage": log.coverage,
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n",
                                           encoding="utf-8")
    return manifest
