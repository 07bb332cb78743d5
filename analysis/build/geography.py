"""Geography packs: England's LSOA 2021 and Scotland's data zone 2011 polygons with every
parent level and population, and the ONS LSOA 2011 → 2021 lookup."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.build.raw import (
    BuildLog,
    RawDataError,
    _categorical,
    _coverage,
    _raw,
    _read_csv,
    _require_unique,
)
from analysis.data import COUNTRY_CODES, apportioning_weights


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
