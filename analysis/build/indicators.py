"""The default indicators built from the pack (IMD 2025 and its domains, IoD health, Census
2021, SIMD 2020, Scottish populations), each as metadata plus a table, and the writer of
indicator packages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from analysis.build.raw import (
    BuildLog,
    RawDataError,
    _coverage,
    _raw,
    _read_csv,
    _require_unique,
)
from analysis.data import SOURCES, convert_lsoa11_to_lsoa21


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
    # imported here: scotland_simd builds on this module's IndicatorBuild and _meta
    from analysis.build.scotland_simd import simd_indicator_builds

    return builds + simd_indicator_builds(raw_dir, scotland, log)


def write_indicator(out_dir: Path, build: IndicatorBuild, log: BuildLog) -> None:
    ident = build.meta["id"]
    folder = out_dir / "indicators" / ident
    folder.mkdir(parents=True, exist_ok=True)
    table = build.make()
    keys = ["area_code", "period"] if "period" in table.columns else ["area_code"]
    if table.duplicated(keys).any():
        raise RawDataError(f"indicator {ident}: duplicate area codes")
    finite = np.isfinite(table["value"].to_numpy(dtype=float))
    if not finite.all():
        # e.g. a zero denominator: no value can be published, so the area is left out and said
        dropped = table.loc[~finite, "area_code"].tolist()
        log.cover(f"indicator_{ident}_without_value", count=len(dropped), codes=dropped[:50])
        table = table[finite]
    if "period" in table.columns:
        # an area's periods side by side (oldest first): its code then runs once per area
        # and its values, close from year to year, compress well as float32 byte streams
        order = {p: i for i, p in enumerate(build.meta["periods"])}
        table = table.assign(order=table["period"].map(order)).sort_values(
            ["area_code", "order"]).drop(columns="order").reset_index(drop=True)
        table.to_parquet(folder / "data.parquet", index=False, compression="zstd",
                         compression_level=19, use_dictionary=["area_code", "period"],
                         use_byte_stream_split=["value"])
    else:
        table = table.sort_values("area_code").reset_index(drop=True)
        table.to_parquet(folder / "data.parquet", index=False, compression="zstd")
    (folder / "indicator.yaml").write_text(
        yaml.safe_dump(build.meta, sort_keys=False, allow_unicode=True, width=100),
        encoding="utf-8")
    log.files[f"indicators/{ident}"] = {"rows": int(len(table))}
