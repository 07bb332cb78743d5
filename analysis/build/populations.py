"""Audit denominators from the raw pack: population by small area × age band (× sex in
Scotland) and by ethnic group, written to ``data/populations/``.

* England, age: ONS mid-2020 single years of age on 2011 LSOAs → the 19 ESP 2013 bands →
  2021 LSOAs by :func:`analysis.data.convert_lsoa11_to_lsoa21` (splits apportioned by Census
  2021 population, merges summed); the England total is checked to be unchanged.
* England, ethnicity: Census 2021 TS021, five high-level groups; each row's groups must add
  up to its ``total_residents``.
* Scotland, age and sex: Scotland's Census 2022 by data zone 2011; single year 15 and the
  bands 16-17 and 18-19 are merged into 15-19, the top band is 85+. Statistical disclosure
  control means female + male differs slightly from all people; the difference is logged.
* Scotland, ethnicity: Scotland's Census 2022; the copyright/info rows that are not data
  zones are dropped (and must be all zero); the ``: Total`` columns give the groups.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.build.raw import BuildLog, RawDataError, _coverage, _raw, _read_csv, _require_unique
from analysis.data import convert_lsoa11_to_lsoa21, load_lookup
from analysis.data.populations import (
    AGE_BANDS,
    ENGLAND_ETHNIC_GROUP_TITLES,
    ETHNIC_GROUPS,
    FILES,
    SCOTLAND_AGE_BANDS,
)

ENGLAND_AGE_RAW = "england/population_mid2020_lsoa11_single_year_of_age.parquet"
ENGLAND_ETHNIC_RAW = "england/census2021_ethnic_group_lsoa21.csv"
ENGLAND_PACK_RAW = "england/lsoa21_lookup.csv"
SCOTLAND_AGE_RAW = "scotland/census_age_gender_dz11.csv"
SCOTLAND_ETHNIC_RAW = "scotland/census2022_ethnic_group_dz11.csv"
SCOTLAND_PACK_RAW = "scotland/dz11_lookup.csv"

#: Scotland's census age groups → the bands used here ("15.0" is the single year 15).
SCOTLAND_AGE_GROUPS: dict[str, str] = {
    **{f"{lo} - {lo + 4}": f"{lo}-{lo + 4}" for lo in range(0, 85, 5) if lo != 15},
    "15.0": "15-19", "16 - 17": "15-19", "18 - 19": "15-19",
    "85 and over": "85+",
}
#: Short group → the ``: Total`` (or only) columns of Scotland's Census 2022 file that make it.
SCOTLAND_ETHNIC_COLUMNS: dict[str, tuple[str, ...]] = {
    "Asian": ("Asian, Asian Scottish or Asian British: Total",),
    "Black": ("African: Total", "Caribbean or Black: Total"),
    "Mixed": ("Mixed or multiple ethnic group",),
    "White": ("White: Total",),
    "Other": ("Other ethnic groups: Total",),
}
_DATA_ZONE = re.compile(r"^S01\d{6}$")


def _pack_codes(raw_dir: Path, relative: str, column: str) -> pd.Index:
    codes = _read_csv(raw_dir, relative, usecols=[column], dtype=str)[column]
    return pd.Index(codes.str.strip())


def _long(wide: pd.DataFrame, bands: tuple[str, ...], *, sex: str | None = None) -> pd.DataFrame:
    """Wide (area × band columns) → long ``area_code, age_band[, sex], population``."""
    values = wide[list(bands)].to_numpy(dtype=np.float64)
    n_areas, n_bands = values.shape
    frame = {
        "area_code": pd.Categorical(np.repeat(wide.index.to_numpy(dtype=object), n_bands)),
        "age_band": pd.Categorical.from_codes(
            np.tile(np.arange(n_bands), n_areas),
            dtype=pd.CategoricalDtype(list(bands), ordered=True)),
    }
    if sex is not None:
        frame["sex"] = pd.Categorical([sex] * (n_areas * n_bands), categories=["F", "M"])
    frame["population"] = values.reshape(-1).astype(np.float32)
    return pd.DataFrame(frame)


def build_england_age(raw_dir: Path, log: BuildLog,
                      lookup: pd.DataFrame | None = None) -> pd.DataFrame:
    """England by LSOA 2021 and ESP 2013 band (persons), from ONS mid-2020 on 2011 LSOAs."""
    path = _raw(raw_dir, ENGLAND_AGE_RAW)
    ages = pd.read_parquet(path)
    singles = [str(a) for a in range(90)] + ["90+"]
    missing = [c for c in ["lsoa11_code", *singles] if c not in ages.columns]
    if missing:
        raise RawDataError(f"{path}: missing column(s) {', '.join(missing)}")
    _require_unique(ages, "lsoa11_code", ENGLAND_AGE_RAW)
    single = ages[singles].to_numpy(dtype=np.float64)
    if np.isnan(single).any() or (single < 0).any():
        raise RawDataError(f"{path}: missing or negative counts by single year of age")
    # columns 0..89 in blocks of five give 0-4 … 85-89; "90+" is the last column
    banded = np.column_stack([single[:, :90].reshape(len(ages), 18, 5).sum(axis=2),
                              single[:, 90]])
    wide11 = pd.DataFrame(banded, columns=list(AGE_BANDS))
    wide11.insert(0, "lsoa11_code", ages["lsoa11_code"].astype(str).to_numpy())
    before = float(banded.sum())
    if "total_population" in ages.columns:
        stated = float(ages["total_population"].sum())
        if abs(stated - before) > 0.5:
            raise RawDataError(f"{path}: ages add up to {before:,.0f}, total_population "
                               f"says {stated:,.0f}")
    converted, report = convert_lsoa11_to_lsoa21(
        wide11, code_column="lsoa11_code", counts=list(AGE_BANDS),
        lookup=load_lookup() if lookup is None else lookup)
    if report.unmatched_codes:
        raise RawDataError(f"{path}: LSOA 2011 code(s) not in the lookup: "
                           f"{', '.join(report.unmatched_codes[:10])}")
    converted = converted.sort_index()
    pack = _pack_codes(raw_dir, ENGLAND_PACK_RAW, "lsoa21_code")
    coverage = _coverage(pack, converted.index)
    if coverage["unmatched_count"] or len(converted) != len(pack):
        raise RawDataError(f"{path}: after conversion {coverage['unmatched_count']} LSOA 2021 "
                           f"code(s) have no population: {coverage['unmatched'][:10]}")
    frame = _long(converted, AGE_BANDS)
    after = float(frame["population"].to_numpy(np.float64).sum())
    if abs(after - before) > 1.0:
        raise RawDataError(f"{path}: total changed in the 2011→2021 conversion "
                           f"({before:,.1f} → {after:,.1f})")
    log.cover("population_england_lsoa21_age", total_before=before, total_after=after,
              difference=after - before, lsoa11_codes=report.input_codes,
              lsoa21_codes=report.output_codes, summary=report.summary(), **coverage)
    return frame


def build_england_ethnicity(raw_dir: Path, log: BuildLog) -> pd.DataFrame:
    """England by LSOA 2021 and Census 2021 high-level ethnic group (TS021)."""
    raw = _read_csv(raw_dir, ENGLAND_ETHNIC_RAW, dtype={"lsoa21_code": str})
    titles = [ENGLAND_ETHNIC_GROUP_TITLES[g] for g in ETHNIC_GROUPS]
    missing = [c for c in ["lsoa21_code", "total_residents", *titles] if c not in raw.columns]
    if missing:
        raise RawDataError(f"{ENGLAND_ETHNIC_RAW}: missing column(s) {', '.join(missing)}")
    _require_unique(raw, "lsoa21_code", ENGLAND_ETHNIC_RAW)
    counts = raw[titles].to_numpy(dtype=np.float64)
    if np.isnan(counts).any() or (counts < 0).any():
        raise RawDataError(f"{ENGLAND_ETHNIC_RAW}: missing or negative counts")
    gap = counts.sum(axis=1) - raw["total_residents"].to_numpy(dtype=np.float64)
    if np.abs(gap).max() > 0:
        row = int(np.abs(gap).argmax())
        raise RawDataError(f"{ENGLAND_ETHNIC_RAW}: groups do not add up to total_residents "
                           f"for {raw['lsoa21_code'].iloc[row]} (difference {gap[row]:+.0f})")
    wide = pd.DataFrame(counts, columns=list(ETHNIC_GROUPS),
                        index=raw["lsoa21_code"].str.strip()).sort_index()
    pack = _pack_codes(raw_dir, ENGLAND_PACK_RAW, "lsoa21_code")
    coverage = _coverage(pack, wide.index)
    if coverage["unmatched_count"]:
        raise RawDataError(f"{ENGLAND_ETHNIC_RAW}: {coverage['unmatched_count']} LSOA 2021 "
                           f"code(s) missing: {coverage['unmatched'][:10]}")
    frame = _ethnic_long(wide)
    log.cover("population_england_lsoa21_ethnicity",
              total=float(raw["total_residents"].sum()),
              by_group={g: float(wide[g].sum()) for g in ETHNIC_GROUPS}, **coverage)
    return frame


def _ethnic_long(wide: pd.DataFrame) -> pd.DataFrame:
    n_areas, n_groups = len(wide), len(ETHNIC_GROUPS)
    return pd.DataFrame({
        "area_code": pd.Categorical(np.repeat(wide.index.to_numpy(dtype=object), n_groups)),
        "ethnic_group": pd.Categorical.from_codes(np.tile(np.arange(n_groups), n_areas),
                                                  categories=list(ETHNIC_GROUPS)),
        "population": wide[list(ETHNIC_GROUPS)].to_numpy(dtype=np.float32).reshape(-1),
    })


def build_scotland_age_sex(raw_dir: Path, log: BuildLog) -> pd.DataFrame:
    """Scotland by data zone 2011, age band (top 85+) and sex, Scotland's Census 2022."""
    raw = _read_csv(raw_dir, SCOTLAND_AGE_RAW, dtype={"dz11_code": str, "age_group": str})
    missing = [c for c in ("dz11_code", "age_group", "all_people", "female", "male")
               if c not in raw.columns]
    if missing:
        raise RawDataError(f"{SCOTLAND_AGE_RAW}: missing column(s) {', '.join(missing)}")
    raw["age_group"] = raw["age_group"].str.strip()
    raw["dz11_code"] = raw["dz11_code"].str.strip()
    totals = raw[raw["age_group"] == "All people"]
    bands = raw[raw["age_group"] != "All people"]
    unknown = sorted(set(bands["age_group"]) - set(SCOTLAND_AGE_GROUPS))
    if unknown:
        raise RawDataError(f"{SCOTLAND_AGE_RAW}: unknown age group(s) {', '.join(unknown)}")
    if bands[["female", "male"]].isna().any().any() or (bands[["female", "male"]] < 0).any().any():
        raise RawDataError(f"{SCOTLAND_AGE_RAW}: missing or negative female/male counts")
    bands = bands.assign(age_band=bands["age_group"].map(SCOTLAND_AGE_GROUPS))
    if bands.duplicated(["dz11_code", "age_group"]).any():
        raise RawDataError(f"{SCOTLAND_AGE_RAW}: a data zone repeats an age group")
    summed = bands.groupby(["dz11_code", "age_band"], sort=True)[["female", "male"]].sum()
    pack = _pack_codes(raw_dir, SCOTLAND_PACK_RAW, "dz11_code")
    areas = summed.index.get_level_values(0).unique()
    coverage = _coverage(pack, areas)
    if coverage["unmatched_count"] or len(summed) != len(pack) * len(SCOTLAND_AGE_BANDS):
        raise RawDataError(f"{SCOTLAND_AGE_RAW}: not every data zone has every age band "
                           f"({coverage['unmatched_count']} data zones missing)")
    frames = []
    for sex, column in (("F", "female"), ("M", "male")):
        wide = summed[column].unstack("age_band").reindex(columns=list(SCOTLAND_AGE_BANDS))
        frames.append(_long(wide, SCOTLAND_AGE_BANDS, sex=sex))
    frame = pd.concat(frames, ignore_index=True)
    frame["area_code"] = frame["area_code"].astype(str).astype("category")
    frame["sex"] = frame["sex"].astype(pd.CategoricalDtype(["F", "M"]))
    frame = frame.sort_values(["area_code", "age_band", "sex"], kind="stable",
                              ignore_index=True)
    sexes = float(frame["population"].to_numpy(np.float64).sum())
    log.cover("population_scotland_dz11_age_sex",
              female_plus_male=sexes,
              all_people_by_band=float(bands["all_people"].sum()),
              all_people_total_rows=float(totals["all_people"].sum()),
              difference_vs_all_people=sexes - float(totals["all_people"].sum()),
              largest_band_difference=float((bands["female"] + bands["male"]
                                             - bands["all_people"]).abs().max()),
              note="Census 2022 statistical disclosure control: cells need not add up",
              **coverage)
    return frame


def build_scotland_ethnicity(raw_dir: Path, log: BuildLog) -> pd.DataFrame:
    """Scotland by data zone 2011 and Census 2022 high-level ethnic group."""
    raw = _read_csv(raw_dir, SCOTLAND_ETHNIC_RAW, dtype={"dz11_code": str})
    needed = [c for cols in SCOTLAND_ETHNIC_COLUMNS.values() for c in cols]
    missing = [c for c in ["dz11_code", *needed] if c not in raw.columns]
    if missing:
        raise RawDataError(f"{SCOTLAND_ETHNIC_RAW}: missing column(s) {', '.join(missing)}")
    code = raw["dz11_code"].astype(str).str.strip()
    is_zone = code.str.match(_DATA_ZONE).to_numpy()
    notes = raw.loc[~is_zone]
    numbers = notes.drop(columns="dz11_code").apply(pd.to_numeric, errors="coerce")
    if (numbers.fillna(0) != 0).any().any():
        raise RawDataError(f"{SCOTLAND_ETHNIC_RAW}: a row that is not a data zone carries "
                           f"counts: {notes['dz11_code'].iloc[0][:60]!r}")
    data = raw.loc[is_zone].assign(dz11_code=code[is_zone])
    _require_unique(data, "dz11_code", SCOTLAND_ETHNIC_RAW)
    wide = pd.DataFrame(
        {g: data[list(cols)].astype(float).sum(axis=1).to_numpy()
         for g, cols in SCOTLAND_ETHNIC_COLUMNS.items()},
        index=data["dz11_code"].to_numpy()).sort_index()
    if wide.isna().any().any() or (wide < 0).any().any():
        raise RawDataError(f"{SCOTLAND_ETHNIC_RAW}: missing or negative counts")
    pack = _pack_codes(raw_dir, SCOTLAND_PACK_RAW, "dz11_code")
    coverage = _coverage(pack, wide.index)
    if coverage["unmatched_count"]:
        raise RawDataError(f"{SCOTLAND_ETHNIC_RAW}: {coverage['unmatched_count']} data "
                           f"zone(s) missing: {coverage['unmatched'][:10]}")
    frame = _ethnic_long(wide)
    log.cover("population_scotland_dz11_ethnicity",
              dropped_rows=[str(c)[:60] for c in notes["dz11_code"]],
              total=float(wide.to_numpy().sum()),
              by_group={g: float(wide[g].sum()) for g in ETHNIC_GROUPS}, **coverage)
    return frame


def build_populations(raw_dir: Path, log: BuildLog,
                      lookup: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """Every audit denominator, keyed by its path relative to ``data/``.

    ``lookup`` is the LSOA 2011 ↔ 2021 lookup with apportioning weights (default: the
    embedded ``geography/lsoa11_lsoa21.parquet``).
    """
    raw_dir = Path(raw_dir)
    return {
        FILES[("england", "age")]: build_england_age(raw_dir, log, lookup),
        FILES[("england", "ethnicity")]: build_england_ethnicity(raw_dir, log),
        FILES[("scotland", "age")]: build_scotland_age_sex(raw_dir, log),
        FILES[("scotland", "ethnicity")]: build_scotland_ethnicity(raw_dir, log),
    }


def write_populations(frames: dict[str, pd.DataFrame], out_dir: Path) -> dict[str, dict[str, Any]]:
    """Write each frame as zstd Parquet under ``out_dir`` (atomically: a temporary file
    renamed into place, so a reader never sees half a file); return manifest facts."""
    out_dir = Path(out_dir)
    facts: dict[str, dict[str, Any]] = {}
    for relative, frame in frames.items():
        target = out_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        os.close(handle)
        try:
            frame.to_parquet(temporary, index=False, compression="zstd",
                             compression_level=9, row_group_size=1_000_000)
            os.chmod(temporary, 0o644)  # mkstemp makes the file private; data files are shared
            os.replace(temporary, target)
        finally:
            if os.path.exists(temporary):
                os.remove(temporary)
        facts[relative] = {"rows": int(len(frame)),
                           "areas": int(frame["area_code"].nunique()),
                           "population": round(float(
                               frame["population"].to_numpy(np.float64).sum()), 1)}
    return facts
