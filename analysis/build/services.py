"""Service tables: GP practices (July 2023) with their location LSOA and payments, NHS
payments to general practice 2014-15 to 2022-23, practice deprivation, stroke units."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.build.raw import (
    BuildLog,
    _categorical,
    _coverage,
    _raw,
    _read_csv,
    _require_unique,
)


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
