"""Simulated activity records with a known deprivation gradient, for demonstrating and testing
the audit (no open record-level NHS data exists).

Every record is an event drawn from the **real** populations (ONS mid-2020 by LSOA 2021 and
age band; Scotland's Census 2022 by data zone, age band and sex) with a rate chosen by the
simulation:

    λ(a, b, s) = P(a, b, s) · r_age(b) · r_quintile(q(a)) · r_sex(s) · Σ_g m(a, g) · r_eth(g)

for small area a, age band b, sex s, with q(a) the area's IMD 2025 / SIMD 2020 quintile
(ceil(decile / 2), 1 = most deprived) and m(a, g) the area's Census mix of ethnic group g.
The n records are a multinomial sample over the cells with probabilities λ / Σλ (drawn by
inverse-CDF sampling; Devroye 1986, *Non-Uniform Random Variate Generation*, ch. 3), so the
expected rate per person-year of a cell is n · λ / (Σλ · years) and every ratio between
groups is known exactly (:func:`expected_rate_ratio`). Within an event: the ethnic group is
drawn from the area's mix tilted by r_eth (P(g | a) ∝ m(a, g) · r_eth(g)), the NHS ethnic
category within the group from the England and Wales Census 2021 detailed-group shares, age
uniformly within the band (the open top band decays exponentially, mean 4 years), the date
uniformly over the period.

England's mid-2020 file has no sex split: each cell is taken as half female. Records then
carry realistic faults at known rates: ``error_fraction`` of rows get exactly one error
(unknown or blank area code, missing age, age 150, sex "X", ethnic code "ZZ"), a share of
English rows carry a 2011 LSOA code or a postcode instead of the 2021 code, and ~5% of
ethnic categories are "not stated" (Z) or "not known" (99). Every row has ``simulated =
True`` and the frame's ``attrs["label"]`` is :data:`SIMULATED_LABEL`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from analysis.audit.codes import ETHNIC_CATEGORIES
from analysis.data import DataFileError, default_registry, load_lookup
from analysis.data.datastore import data_path
from analysis.data.populations import (
    AGE_BANDS,
    ETHNIC_GROUPS,
    SCOTLAND_AGE_BANDS,
    age_population,
    ethnic_population,
)
from analysis.stats.standardisation import ESP2013

SIMULATED_LABEL = ("Simulated records (not real patients): drawn from ONS/NRS populations "
                   "with a known gradient")

#: Illustrative base rate of use per person per year by age band: U-shaped like hospital
#: outpatient attendance (high in infancy, lowest in childhood, rising steeply after 50).
#: Only its shape matters: n_records fixes the total, so the rates are rescaled.
DEFAULT_AGE_RATE: Mapping[str, float] = MappingProxyType(dict(zip(AGE_BANDS, (
    0.90, 0.45, 0.40, 0.45, 0.50, 0.55, 0.60, 0.60, 0.65, 0.75, 0.85, 1.00, 1.20, 1.45, 1.75,
    2.10, 2.40, 2.60, 2.60), strict=True)))
#: Lower use by Black and Asian residents than by others, all else equal.
DEFAULT_ETHNIC_RATE_RATIO: Mapping[str, float] = MappingProxyType(
    {"Asian": 0.9, "Black": 0.8, "Mixed": 1.0, "White": 1.0, "Other": 1.0})
DEFAULT_SITES = ("Central Hospital", "North Road Clinic", "Riverside Health Centre")

#: NHS ethnic category shares within each Census group: Census 2021, England and Wales,
#: detailed ethnic group (TS022), thousands of usual residents, rounded; Gypsy or Irish
#: Traveller and Roma are counted in C (any other White background).
ETHNIC_CODE_SHARES: Mapping[str, Mapping[str, float]] = MappingProxyType({
    "Asian": MappingProxyType({"H": 1864, "J": 1587, "K": 644, "L": 972, "R": 446}),
    "Black": MappingProxyType({"M": 624, "N": 1488, "P": 297}),
    "Mixed": MappingProxyType({"D": 508, "E": 249, "F": 488, "G": 467}),
    "White": MappingProxyType({"A": 44356, "B": 508, "C": 3836}),
    "Other": MappingProxyType({"S": 1}),
})
NOT_STATED_CODES = (("Z", 0.6), ("99", 0.4))
SEX_NOT_KNOWN_CODES = (("0", 0.9), ("9", 0.1))
ERROR_KINDS = ("unknown_area", "blank_area", "missing_age", "age_150", "sex_x", "ethnic_zz")
SEX_CATEGORIES = ("1", "2", "9", "0", "X")
ETHNIC_CODE_CATEGORIES = (*ETHNIC_CATEGORIES, "Z", "99", "ZZ")
TOP_BAND_MEAN_YEARS = 4.0
TOP_BAND_SPAN = 20
_DECILES = {"england": "imd2025_decile", "scotland": "simd2020_decile"}
_AREA_COLUMN = {"england": "lsoa21_code", "scotland": "dz11_code"}
_UNKNOWN_PREFIX = {"england": "E0199", "scotland": "S0199"}


@dataclass(frozen=True)
class SimulationSpec:
    """What to simulate. Rates are relative: ``n_records`` fixes the total.

    * ``quintile_rate_ratio``: use by IMD/SIMD quintile 1 (most deprived) … 5, all else
      equal; the default has under-use where need is greatest.
    * ``ethnic_rate_ratio``: use by Census group, all else equal (groups left out are 1).
    * ``age_rate``: base rate per person per year by ESP band (Scotland's "85+" is the
      ESP-weighted mean of 85-89 and 90+ unless given).
    * ``sex_ratio_female``: use by females relative to males.
    * ``error_fraction``: share of rows with exactly one fault (:data:`ERROR_KINDS`).
    * ``lsoa11_fraction`` (England) and ``postcode_fraction``: shares of rows that carry a
      2011 LSOA code or a postcode of their area instead of the small-area code (postcodes
      only where the embedded postcode index exists).
    """

    n_records: int
    country: str = "england"
    area_codes: Sequence[str] | None = None
    seed: int = 0
    quintile_rate_ratio: tuple[float, float, float, float, float] = (0.8, 0.9, 1.0, 1.05, 1.1)
    ethnic_rate_ratio: Mapping[str, float] = field(
        default_factory=lambda: dict(DEFAULT_ETHNIC_RATE_RATIO))
    age_rate: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_AGE_RATE))
    sex_ratio_female: float = 1.1
    sites: tuple[str, ...] = DEFAULT_SITES
    start: dt.date = dt.date(2024, 4, 1)
    end: dt.date = dt.date(2025, 3, 31)
    error_fraction: float = 0.01
    lsoa11_fraction: float = 0.02
    postcode_fraction: float = 0.05
    ethnicity_not_stated_fraction: float = 0.05
    sex_not_known_fraction: float = 0.002

    def __post_init__(self) -> None:
        if isinstance(self.n_records, bool) or int(self.n_records) != self.n_records \
                or self.n_records < 1:
            raise ValueError(f"n_records must be a whole number ≥ 1, not {self.n_records!r}")
        if str(self.country).lower() not in _DECILES:
            raise ValueError(f"Unknown country {self.country!r}; choose england or scotland")
        ratios = tuple(self.quintile_rate_ratio)
        if len(ratios) != 5 or not all(np.isfinite(r) and r > 0 for r in ratios):
            raise ValueError(f"quintile_rate_ratio needs 5 positive numbers, not {ratios!r}")
        unknown = sorted(set(self.ethnic_rate_ratio) - set(ETHNIC_GROUPS))
        if unknown:
            raise ValueError(f"ethnic_rate_ratio: unknown group(s) {', '.join(unknown)}; "
                             f"groups are {', '.join(ETHNIC_GROUPS)}")
        if not all(np.isfinite(r) and r > 0 for r in self.ethnic_rate_ratio.values()):
            raise ValueError("ethnic_rate_ratio values must be positive")
        if not (np.isfinite(self.sex_ratio_female) and self.sex_ratio_female > 0):
            raise ValueError("sex_ratio_female must be positive")
        for name in ("error_fraction", "lsoa11_fraction", "postcode_fraction",
                     "ethnicity_not_stated_fraction", "sex_not_known_fraction"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ValueError(f"{name} must be between 0 and 1, not {value!r}")
        if self.lsoa11_fraction + self.postcode_fraction > 1:
            raise ValueError("lsoa11_fraction + postcode_fraction must not exceed 1")
        if not self.sites or len(set(self.sites)) != len(self.sites):
            raise ValueError(f"sites must name at least one site, each once: {self.sites!r}")
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")

    @property
    def years(self) -> float:
        """Length of the period in years of 365.25 days (both dates inclusive)."""
        return ((self.end - self.start).days + 1) / 365.25


@dataclass(frozen=True)
class _Model:
    country: str
    areas: np.ndarray  # small-area codes (str)
    quintile: np.ndarray  # per area, 1..5
    bands: tuple[str, ...]
    cell_area: np.ndarray
    cell_band: np.ndarray
    cell_female: np.ndarray  # bool
    cell_pop: np.ndarray
    cell_weight: np.ndarray  # λ up to a constant
    cdf: np.ndarray
    mix: np.ndarray  # areas × groups, census share
    ethnic_pop: np.ndarray  # areas × groups, census count
    tilted_cdf: np.ndarray  # areas × groups, cumulative P(g | a)
    lsoa11: tuple[np.ndarray, np.ndarray, np.ndarray] | None  # key, codes, has-parent
    postcodes: tuple[np.ndarray, np.ndarray, np.ndarray] | None  # codes, start, count
    postcode_note: str


def _band_rates(age_rate: Mapping[str, float], bands: Sequence[str]) -> np.ndarray:
    rates = []
    for band in bands:
        if band in age_rate:
            rates.append(float(age_rate[band]))
        elif band == "85+" and {"85-89", "90+"} <= set(age_rate):
            w1, w2 = (ESP2013[b] for b in ("85-89", "90+"))
            rates.append((w1 * age_rate["85-89"] + w2 * age_rate["90+"]) / (w1 + w2))
        else:
            raise ValueError(f"age_rate has no rate for age band {band!r}")
    out = np.asarray(rates)
    if not np.all(np.isfinite(out) & (out >= 0)) or out.sum() <= 0:
        raise ValueError("age_rate must be non-negative numbers, not all zero")
    return out


def _select_areas(spec: SimulationSpec, available: pd.Index) -> np.ndarray:
    if spec.area_codes is None:
        return available.to_numpy(dtype=object)
    wanted = pd.Index(pd.unique(pd.Index([str(c).strip().upper() for c in spec.area_codes])))
    if wanted.empty:
        raise ValueError("area_codes is empty: name at least one small area")
    missing = wanted[available.get_indexer(wanted) < 0]
    if len(missing):
        raise ValueError(f"{len(missing)} area code(s) are not {spec.country} small areas with "
                         f"a population: {', '.join(map(str, missing[:10]))}")
    return wanted.to_numpy(dtype=object)


def _lsoa11_parents(areas: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lookup = load_lookup()
    index = pd.Index(areas).get_indexer(pd.Index(lookup["lsoa21_code"].astype(str)))
    keep = index >= 0
    group = index[keep]
    # a record in a 2021 LSOA names a 2011 parent in proportion to the population they share
    share = (lookup["weight"].to_numpy(float) * lookup["population11"].to_numpy(float))[keep]
    codes = lookup["lsoa11_code"].astype(str).to_numpy(dtype=object)[keep]
    order = np.lexsort((codes, group))
    group, share, codes = group[order], share[order], codes[order]
    total = np.bincount(group, weights=share, minlength=len(areas))
    count = np.bincount(group, minlength=len(areas))
    share = np.where(total[group] > 0, share / np.where(total > 0, total, 1)[group],
                     1.0 / np.maximum(count, 1)[group])
    cumulative = np.cumsum(share)
    starts = np.r_[0, np.cumsum(count)[:-1]]
    before = np.r_[0.0, cumulative][starts][group]
    key = group + (cumulative - before)
    last = np.r_[group[1:] != group[:-1], True]
    key[last] = group[last] + 1.0  # exact upper edge, whatever the rounding
    return key, codes, count > 0


def _postcode_pool(areas: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray] | None,
                                               str]:
    try:
        from analysis.data.postcodes import load_postcode_index  # built by another step
    except ImportError:
        return None, "no postcode index in this install: rows keep their area code"
    try:
        if not data_path("geography/postcodes.parquet").is_file():
            return None, "no postcode index file: rows keep their area code"
        index = load_postcode_index()
    except (DataFileError, OSError, ValueError) as exc:
        return None, f"postcode index unreadable ({exc}): rows keep their area code"
    live = index[index["live"].fillna(False).astype(bool).to_numpy()]
    position = pd.Index(areas).get_indexer(pd.Index(live["area_code"].astype(str)))
    keep = position >= 0
    position = position[keep]
    codes = live["postcode"].astype(str).to_numpy(dtype=object)[keep]
    order = np.argsort(position, kind="stable")
    count = np.bincount(position, minlength=len(areas))
    start = np.r_[0, np.cumsum(count)[:-1]]
    return (codes[order], start, count), "live postcodes of the record's area"


def _build_model(spec: SimulationSpec) -> _Model:
    country = spec.country.lower()
    ages = age_population(country)
    bands = AGE_BANDS if country == "england" else SCOTLAND_AGE_BANDS
    available = pd.Index(pd.unique(ages["area_code"]))
    areas = _select_areas(spec, available)
    area_index = pd.Index(areas)

    decile = default_registry().get(_DECILES[country]).values
    decile.index = decile.index.astype(str)
    d = decile.reindex(area_index).to_numpy(dtype=float)
    if np.isnan(d).any():
        missing = areas[np.isnan(d)][:10]
        raise ValueError(f"No {_DECILES[country]} for area(s) {', '.join(missing)}")
    quintile = np.ceil(d / 2).astype(np.int8)

    ethnic = ethnic_population(country)
    rows = area_index.get_indexer(pd.Index(ethnic["area_code"]))
    inside = rows >= 0
    n_groups = len(ETHNIC_GROUPS)
    flat = rows[inside] * n_groups + ethnic["ethnic_group"].cat.codes.to_numpy()[inside]
    ethnic_pop = np.bincount(flat, weights=ethnic["population"].to_numpy(float)[inside],
                             minlength=len(areas) * n_groups).reshape(len(areas), n_groups)
    totals = ethnic_pop.sum(axis=1, keepdims=True)
    overall = ethnic_pop.sum(axis=0) / max(ethnic_pop.sum(), 1.0)
    # an area without census counts takes the study area's mix rather than none
    mix = np.where(totals > 0, ethnic_pop / np.where(totals > 0, totals, 1), overall)
    eth_ratio = np.array([float(spec.ethnic_rate_ratio.get(g, 1.0)) for g in ETHNIC_GROUPS])
    tilted = mix * eth_ratio
    ethnic_factor = tilted.sum(axis=1)
    tilted_cdf = np.cumsum(tilted / ethnic_factor[:, None], axis=1)
    tilted_cdf[:, -1] = 1.0

    cell_area_all = area_index.get_indexer(pd.Index(ages["area_code"]))
    chosen = cell_area_all >= 0
    cell_area = cell_area_all[chosen]
    cell_band = ages["age_band"].cat.codes.to_numpy()[chosen].astype(np.int16)
    pop = ages["population"].to_numpy(float)[chosen]
    if country == "england":
        # persons only: half of each cell is taken as female
        cell_area, cell_band = np.repeat(cell_area, 2), np.repeat(cell_band, 2)
        cell_female = np.tile([True, False], len(pop))
        pop = np.repeat(pop / 2, 2)
    else:
        cell_female = (ages["sex"].astype(str).to_numpy() == "F")[chosen]
    rates = _band_rates(spec.age_rate, bands)
    q_ratio = np.asarray(spec.quintile_rate_ratio, dtype=float)
    weight = (pop * rates[cell_band] * q_ratio[quintile[cell_area] - 1]
              * ethnic_factor[cell_area] * np.where(cell_female, spec.sex_ratio_female, 1.0))
    total = weight.sum()
    if not total > 0:
        raise ValueError("The chosen areas have no population to draw records from")
    cdf = np.cumsum(weight) / total
    cdf[-1] = 1.0

    lsoa11 = (_lsoa11_parents(areas)
              if country == "england" and spec.lsoa11_fraction > 0 else None)
    postcodes, note = (_postcode_pool(areas) if spec.postcode_fraction > 0
                       else (None, "postcode_fraction is 0"))
    return _Model(country, areas.astype(str), quintile, bands, cell_area, cell_band,
                  cell_female, pop, weight, cdf, mix, ethnic_pop, tilted_cdf, lsoa11,
                  postcodes, note)


def _strings(index: np.ndarray, dictionary: np.ndarray) -> pd.Series:
    """A pandas string column from positions into ``dictionary`` (-1 = missing)."""
    array = pa.DictionaryArray.from_arrays(
        pa.array(index.astype(np.int32), mask=index < 0),
        pa.array(dictionary.astype(str), type=pa.string()))
    return pd.Series(array.cast(pa.string()).to_pandas(), dtype="str")


def _pick(rng: np.random.Generator, options: Sequence[tuple[str, float]],
          categories: Sequence[str], n: int) -> np.ndarray:
    """``n`` draws from weighted ``options``, as positions in ``categories``."""
    codes = np.array([list(categories).index(o[0]) for o in options], dtype=np.int8)
    p = np.array([o[1] for o in options], dtype=float)
    return codes[rng.choice(len(codes), size=n, p=p / p.sum())]


def _ethnic_codes(rng: np.random.Generator, group: np.ndarray) -> np.ndarray:
    out = np.empty(len(group), dtype=np.int8)
    for g, name in enumerate(ETHNIC_GROUPS):
        where = np.flatnonzero(group == g)
        if len(where):
            out[where] = _pick(rng, list(ETHNIC_CODE_SHARES[name].items()),
                               ETHNIC_CODE_CATEGORIES, len(where))
    return out


def _draw(spec: SimulationSpec, model: _Model, n: int, rng: np.random.Generator,
          first_id: int) -> pd.DataFrame:
    # sorted uniforms make the search cache-friendly (~5× faster); the permutation then
    # gives the records an exchangeable order again
    cell = np.searchsorted(model.cdf, np.sort(rng.random(n)), side="right")
    cell = np.minimum(cell, len(model.cdf) - 1)[rng.permutation(n)]
    area, band = model.cell_area[cell], model.cell_band[cell]
    female = model.cell_female[cell]

    lower = np.array([int(b.split("-")[0].rstrip("+")) for b in model.bands])
    top = band == len(model.bands) - 1
    offset = np.where(top,
                      np.minimum(np.floor(rng.exponential(TOP_BAND_MEAN_YEARS, n)),
                                 TOP_BAND_SPAN - 1),
                      np.floor(rng.random(n) * 5))
    age = (lower[band] + offset).astype(np.int16)
    age_missing = np.zeros(n, dtype=bool)

    sex = np.where(female, SEX_CATEGORIES.index("2"), SEX_CATEGORIES.index("1")).astype(np.int8)
    unknown_sex = rng.random(n) < spec.sex_not_known_fraction
    sex[unknown_sex] = _pick(rng, SEX_NOT_KNOWN_CODES, SEX_CATEGORIES, int(unknown_sex.sum()))

    u = rng.random(n)
    group = (model.tilted_cdf[area] < u[:, None]).sum(axis=1)
    ethnic = _ethnic_codes(rng, np.minimum(group, len(ETHNIC_GROUPS) - 1))
    not_stated = rng.random(n) < spec.ethnicity_not_stated_fraction
    ethnic[not_stated] = _pick(rng, NOT_STATED_CODES, ETHNIC_CODE_CATEGORIES,
                               int(not_stated.sum()))

    n_days = (spec.end - spec.start).days + 1
    dates = (np.datetime64(spec.start, "D") + rng.integers(0, n_days, n)).astype("datetime64[s]")
    site = rng.integers(0, len(spec.sites), n)

    # which locator the record carries: the small-area code, a 2011 code or a postcode
    locator = rng.random(n)
    area_pos = area.astype(np.int64)
    lsoa11_pos = np.full(n, -1, dtype=np.int64)
    postcode_pos = np.full(n, -1, dtype=np.int64)
    lsoa11_codes = postcode_codes = np.array([], dtype=object)
    if model.lsoa11 is not None:
        key, lsoa11_codes, has_parent = model.lsoa11
        use = (locator < spec.lsoa11_fraction) & has_parent[area]
        lsoa11_pos[use] = np.searchsorted(key, area[use] + rng.random(int(use.sum())),
                                          side="right")
        area_pos[use] = -1
    if model.postcodes is not None:
        postcode_codes, start, count = model.postcodes
        low = spec.lsoa11_fraction if model.lsoa11 is not None else 0.0
        use = (locator >= low) & (locator < low + spec.postcode_fraction) & (count[area] > 0)
        pick = np.floor(rng.random(int(use.sum())) * count[area[use]]).astype(np.int64)
        postcode_pos[use] = start[area[use]] + pick
        area_pos[use] = -1

    # faults: exactly one per chosen row, every kind equally often
    n_errors = int(round(n * spec.error_fraction))
    rows = rng.choice(n, size=n_errors, replace=False) if n_errors else np.array([], int)
    kind = rng.permutation(np.arange(n_errors) % len(ERROR_KINDS))
    area_codes = model.areas
    extra = len(area_codes)
    bad_area = rows[kind == ERROR_KINDS.index("unknown_area")]
    blank_area = rows[kind == ERROR_KINDS.index("blank_area")]
    unknown_codes = np.array([f"{_UNKNOWN_PREFIX[model.country]}{i:04d}"
                              for i in rng.integers(0, 10_000, len(bad_area))], dtype=object)
    area_codes = np.concatenate([area_codes.astype(object), unknown_codes, [""]])
    area_pos[bad_area] = extra + np.arange(len(bad_area))
    area_pos[blank_area] = len(area_codes) - 1
    for faulty in (bad_area, blank_area):
        lsoa11_pos[faulty] = -1
        postcode_pos[faulty] = -1
    age_missing[rows[kind == ERROR_KINDS.index("missing_age")]] = True
    age[rows[kind == ERROR_KINDS.index("age_150")]] = 150
    sex[rows[kind == ERROR_KINDS.index("sex_x")]] = SEX_CATEGORIES.index("X")
    ethnic[rows[kind == ERROR_KINDS.index("ethnic_zz")]] = ETHNIC_CODE_CATEGORIES.index("ZZ")

    columns: dict[str, Any] = {
        "record_id": np.arange(first_id, first_id + n, dtype=np.int64),
        _AREA_COLUMN[model.country]: _strings(area_pos, area_codes),
    }
    if model.country == "england":
        columns["lsoa11_code"] = _strings(lsoa11_pos, lsoa11_codes)
    columns.update({
        "postcode": _strings(postcode_pos, postcode_codes),
        "age": pd.arrays.IntegerArray(age, age_missing),
        "sex": pd.Categorical.from_codes(sex, categories=list(SEX_CATEGORIES)),
        "ethnic_category": pd.Categorical.from_codes(ethnic,
                                                     categories=list(ETHNIC_CODE_CATEGORIES)),
        "event_date": dates,
        "site": pd.Categorical.from_codes(site, categories=list(spec.sites)),
        "simulated": np.ones(n, dtype=bool),
    })
    frame = pd.DataFrame(columns)
    frame.attrs.update(label=SIMULATED_LABEL, postcodes=model.postcode_note)
    return frame


def _chunk_rng(seed: int, chunk: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(chunk,)))


def simulate_activity(spec: SimulationSpec) -> pd.DataFrame:
    """``spec.n_records`` simulated events, one row each (module docstring for the model).

    Columns: ``record_id`` (int64, from 1); ``lsoa21_code`` (England; null on rows that carry
    ``lsoa11_code`` or ``postcode`` instead) or ``dz11_code`` (Scotland); ``lsoa11_code``
    (England only); ``postcode``; ``age`` (Int16, nullable); ``sex`` (NHS codes "1" male, "2"
    female, "9" indeterminate, "0" not known; "X" is a fault); ``ethnic_category`` (NHS codes
    A–S, Z, 99; "ZZ" is a fault); ``event_date``; ``site``; ``simulated`` (True). The same
    spec (seed included) always gives the same records.
    """
    model = _build_model(spec)
    return _draw(spec, model, int(spec.n_records), _chunk_rng(spec.seed, 0), 1)


def _metadata(spec: SimulationSpec) -> dict[bytes, bytes]:
    described = {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(spec).items()
                 if k != "area_codes"}
    described["areas"] = "all" if spec.area_codes is None else len(spec.area_codes)
    return {b"fairshare_label": SIMULATED_LABEL.encode(),
            b"fairshare_simulation": json.dumps(described, default=str).encode()}


def write_simulated_parquet(spec: SimulationSpec, path: Path, *,
                            chunk_rows: int = 5_000_000) -> Path:
    """Simulate ``spec`` in chunks of ``chunk_rows`` and stream them to Parquet (zstd), never
    holding more than one chunk: one file if ``path`` ends in ``.parquet`` (written to a
    temporary name and renamed into place), else a new or empty directory of
    ``part-00000.parquet``, … files. Chunk k uses its own random stream (seed, k), so with
    ``chunk_rows ≥ n_records`` the file holds exactly :func:`simulate_activity`'s records.
    The schema metadata carries :data:`SIMULATED_LABEL` and the spec.
    """
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be at least 1, not {chunk_rows}")
    path = Path(path)
    single = path.suffix == ".parquet"
    if not single:
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise ValueError(f"{path} exists and is not an empty directory; choose a new one")
        path.mkdir(parents=True, exist_ok=True)
    model = _build_model(spec)
    metadata = _metadata(spec)
    n_total = int(spec.n_records)
    temporary = path.with_name(path.name + ".tmp")
    writer: pq.ParquetWriter | None = None
    try:
        for chunk, first in enumerate(range(0, n_total, chunk_rows)):
            n = min(chunk_rows, n_total - first)
            frame = _draw(spec, model, n, _chunk_rng(spec.seed, chunk), first + 1)
            table = pa.Table.from_pandas(frame, preserve_index=False)
            table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                                   **metadata})
            del frame
            if not single:
                pq.write_table(table, path / f"part-{chunk:05d}.parquet", compression="zstd")
                continue
            if writer is None:
                writer = pq.ParquetWriter(temporary, table.schema, compression="zstd")
            writer.write_table(table.cast(writer.schema))
        if writer is not None:
            writer.close()
            writer = None
            os.replace(temporary, path)
    finally:
        if writer is not None:
            writer.close()
        if temporary.exists():
            temporary.unlink()
    return path


def _dsr(events: np.ndarray, pop: np.ndarray, band: np.ndarray, group: np.ndarray,
         n_groups: int, bands: Sequence[str], years: float) -> np.ndarray:
    """Directly standardised rate per person-year of each group (ESP 2013 weights; a
    Scotland 85+ band weighs 85-89 + 90+): Σ_b w_b · E_gb / (P_gb · T) / Σ_b w_b."""
    n_bands = len(bands)
    key = group * n_bands + band
    e = np.bincount(key, weights=events, minlength=n_groups * n_bands).reshape(n_groups, -1)
    p = np.bincount(key, weights=pop, minlength=n_groups * n_bands).reshape(n_groups, -1)
    esp = dict(ESP2013)
    esp["85+"] = esp["85-89"] + esp["90+"]
    w = np.array([esp[b] for b in bands], dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(p > 0, e / np.where(p > 0, p, 1) / years, 0.0)
    return (rate * w).sum(axis=1) / w.sum()


def expected_rate_ratio(spec: SimulationSpec) -> dict[str, Any]:
    """The exact expected rates the audit should recover from ``simulate_activity(spec)``.

    Computed from the same cell probabilities as the simulation, so they include the
    confounding the population really has (deprived areas' ethnic mix and age structure):

    * ``quintile``: ESP 2013 directly standardised rate per person-year by quintile (``dsr``)
      and its ratio to quintile 5, the least deprived (``ratio``), beside the ``spec``;
    * ``ethnic_group``: crude rate per person-year against the Census counts, and the ratio
      to White (the census tables have no age split, so the audit's ethnic rates are crude);
    * ``observed_expected`` (quintile and ethnic group): indirectly standardised ratio O/E,
      with E_a = Σ_b P(a, b) · R_b from the overall age-specific rates R_b, shared among an
      area's ethnic groups by its census mix (persons; sex is not used);
    * ``sex``: DSR by sex and the female : male ratio; ``age_band``: rate per person-year;
      ``overall_dsr``.

    Rates count every simulated event; the rows the audit excludes (faults, not-stated
    ethnicity) are spread evenly, so they lower rates by a common factor and leave ratios
    unchanged in expectation.
    """
    model = _build_model(spec)
    years = spec.years
    events = model.cell_weight / model.cell_weight.sum() * spec.n_records
    band = model.cell_band.astype(np.int64)
    q = model.quintile[model.cell_area].astype(np.int64) - 1
    quintile_dsr = _dsr(events, model.cell_pop, band, q, 5, model.bands, years)
    sex_dsr = _dsr(events, model.cell_pop, band, (~model.cell_female).astype(np.int64), 2,
                   model.bands, years)
    overall = _dsr(events, model.cell_pop, band, np.zeros_like(band), 1, model.bands, years)
    age_events = np.bincount(band, weights=events, minlength=len(model.bands))
    age_pop = np.bincount(band, weights=model.cell_pop, minlength=len(model.bands))

    area_events = np.bincount(model.cell_area, weights=events, minlength=len(model.areas))
    tilted = np.diff(np.c_[np.zeros(len(model.areas)), model.tilted_cdf], axis=1)
    group_events = (area_events[:, None] * tilted).sum(axis=0)
    group_pop = model.ethnic_pop.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        group_rate = np.where(group_pop > 0, group_events / group_pop / years, np.nan)
    white = group_rate[ETHNIC_GROUPS.index("White")]
    # indirect standardisation: expected events of an area from the overall age-specific
    # rates, shared among its ethnic groups by the census mix
    expected_area = np.bincount(model.cell_area, weights=model.cell_pop
                                * (age_events / np.where(age_pop > 0, age_pop, 1))[band],
                                minlength=len(model.areas))
    group_oe = group_events / (expected_area[:, None] * model.mix).sum(axis=0)
    quintile_oe = (np.bincount(model.quintile - 1, weights=area_events, minlength=5)
                   / np.bincount(model.quintile - 1, weights=expected_area, minlength=5))
    return {
        "label": SIMULATED_LABEL,
        "country": model.country,
        "areas": int(len(model.areas)),
        "years": years,
        "quintile": {
            "spec": {i + 1: float(r) for i, r in enumerate(spec.quintile_rate_ratio)},
            "dsr": {i + 1: float(r) for i, r in enumerate(quintile_dsr)},
            "ratio": {i + 1: float(r / quintile_dsr[4]) for i, r in enumerate(quintile_dsr)},
            "observed_expected": {i + 1: float(r) for i, r in enumerate(quintile_oe)},
            "reference": 5,
        },
        "ethnic_group": {
            "spec": {g: float(spec.ethnic_rate_ratio.get(g, 1.0)) for g in ETHNIC_GROUPS},
            "crude_rate": {g: float(r) for g, r in zip(ETHNIC_GROUPS, group_rate, strict=True)},
            "ratio": {g: float(r / white) for g, r in zip(ETHNIC_GROUPS, group_rate,
                                                          strict=True)},
            "observed_expected": {g: float(r) for g, r in zip(ETHNIC_GROUPS, group_oe,
                                                              strict=True)},
            "reference": "White",
        },
        "sex": {"spec": float(spec.sex_ratio_female),
                "dsr": {"F": float(sex_dsr[0]), "M": float(sex_dsr[1])},
                "ratio": float(sex_dsr[0] / sex_dsr[1])},
        "age_band": {b: float(e / p / years) if p > 0 else float("nan")
                     for b, e, p in zip(model.bands, age_events, age_pop, strict=True)},
        "overall_dsr": float(overall[0]),
    }
