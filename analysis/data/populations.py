"""Denominators for a Health Equity Audit: population by small area and age band (and sex
where the source has it), and by ethnic group; age-band labels; a user's own denominator.

Embedded files (built by :mod:`analysis.build.populations` from the raw pack):

* ``populations/england_lsoa21_age.parquet``: ONS mid-2020 estimates by single year of age on
  2011 LSOAs, summed to the 19 five-year bands of the European Standard Population 2013
  (ESP 2013) and apportioned to 2021 LSOAs by :mod:`analysis.data.lsoa_conversion`. Persons
  only: the file has no sex split, so ``sex`` is ``"all"``.
* ``populations/england_lsoa21_ethnicity.parquet``: Census 2021 TS021, five high-level groups.
* ``populations/scotland_dz11_age_sex.parquet``: Scotland's Census 2022 by age and sex on 2011
  data zones, 18 bands with the top band ``"85+"`` (the census table stops there).
* ``populations/scotland_dz11_ethnicity.parquet``: Scotland's Census 2022, high-level groups.

Age bands are labelled ``"0-4"``, ``"5-9"``, …, ``"85-89"``, ``"90+"`` (ESP 2013, Eurostat
2013, *Revision of the European Standard Population*, table 1).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd
import pyarrow as pa

from analysis.data.datastore import DataFileError, data_cache, read_parquet_table
from analysis.data.geography import load_pack_table

AGE_BANDS: tuple[str, ...] = (*(f"{lo}-{lo + 4}" for lo in range(0, 90, 5)), "90+")
SCOTLAND_AGE_BANDS: tuple[str, ...] = (*AGE_BANDS[:17], "85+")

MAX_AGE = 120
SEXES = ("F", "M", "all")

ETHNIC_GROUPS: tuple[str, ...] = ("Asian", "Black", "Mixed", "White", "Other")
#: Short label → the Census 2021 TS021 high-level title (England and Wales).
ENGLAND_ETHNIC_GROUP_TITLES: Mapping[str, str] = MappingProxyType({
    "Asian": "Asian, Asian British or Asian Welsh",
    "Black": "Black, Black British, Black Welsh, Caribbean or African",
    "Mixed": "Mixed or Multiple ethnic groups",
    "White": "White",
    "Other": "Other ethnic group",
})
#: Short label → Scotland's Census 2022 high-level title. Census 2022 has "African" and
#: "Caribbean or Black" as two groups; both are "Black" here, as in the NHS ethnic codes.
SCOTLAND_ETHNIC_GROUP_TITLES: Mapping[str, str] = MappingProxyType({
    "Asian": "Asian, Asian Scottish or Asian British",
    "Black": "African, Caribbean or Black",
    "Mixed": "Mixed or multiple ethnic groups",
    "White": "White",
    "Other": "Other ethnic group",
})

FILES: Mapping[tuple[str, str], str] = MappingProxyType({
    ("england", "age"): "populations/england_lsoa21_age.parquet",
    ("england", "ethnicity"): "populations/england_lsoa21_ethnicity.parquet",
    ("scotland", "age"): "populations/scotland_dz11_age_sex.parquet",
    ("scotland", "ethnicity"): "populations/scotland_dz11_ethnicity.parquet",
})

#: Which source and year each denominator is, for display and attribution.
POPULATION_SOURCES: Mapping[str, str] = MappingProxyType({
    "england_age": (
        "ONS Lower layer Super Output Area population estimates, mid-2020, by single year of "
        "age (persons), summed to five-year bands and apportioned from 2011 to 2021 LSOAs "
        "with the ONS best-fit lookup (splits shared by Census 2021 population)."),
    "england_ethnicity": (
        "ONS Census 2021, ethnic group (TS021), usual residents by LSOA 2021, five "
        "high-level groups."),
    "scotland_age": (
        "National Records of Scotland, Scotland's Census 2022, usual residents by age and "
        "sex on 2011 data zones (statistical disclosure control: cells may not add to "
        "totals)."),
    "scotland_ethnicity": (
        "National Records of Scotland, Scotland's Census 2022, ethnic group by 2011 data "
        "zone, high-level groups."),
})

_RANGE = re.compile(r"^(?:aged?\s+)?(\d{1,3})\s*(?:-|–|to)\s*(\d{1,3})(?:\s*years?)?$")
_OPEN = re.compile(r"^(?:aged?\s+)?(\d{1,3})\s*(?:\+|plus|and over|or over|and older)"
                   r"(?:\s*years?)?$")
_CANONICAL = frozenset(AGE_BANDS) | {"85+"}


def _lower_bounds(bands: Sequence[str]) -> np.ndarray:
    lowers = [int(re.split(r"[-+]", band)[0]) for band in bands]
    if lowers != sorted(lowers) or len(set(lowers)) != len(lowers) or lowers[0] != 0:
        raise ValueError(f"Age bands must start at 0 and increase: {list(bands)}")
    if not bands[-1].endswith("+"):
        raise ValueError(f"The last age band must be open-ended (e.g. '90+'): {bands[-1]!r}")
    return np.asarray(lowers)


def age_band_of(ages: pd.Series, bands: Sequence[str] = AGE_BANDS) -> pd.Series:
    """The age band of each age in years: an ordered categorical over ``bands``.

    Ages are floored to whole years; missing, non-numeric, negative or over 120 give <NA>.
    """
    lowers = _lower_bounds(bands)
    years = pd.to_numeric(ages, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    valid = np.isfinite(years) & (years >= 0) & (years <= MAX_AGE)
    codes = np.searchsorted(lowers, np.floor(np.where(valid, years, 0)), side="right") - 1
    codes = np.where(valid, codes, -1)
    dtype = pd.CategoricalDtype(list(bands), ordered=True)
    return pd.Series(pd.Categorical.from_codes(codes, dtype=dtype), index=ages.index,
                     name=ages.name)


def _canonical_band(label: str) -> str | None:
    text = " ".join(label.strip().lower().split())
    if match := _RANGE.match(text):
        band = f"{int(match[1])}-{int(match[2])}"
    elif match := _OPEN.match(text):
        band = f"{int(match[1])}+"
    else:
        return None
    return band if band in _CANONICAL else None


def parse_age_band(labels: pd.Series) -> pd.Series:
    """Canonical age-band labels ("0-4" … "85-89", "90+", or "85+") from the ways files
    write them ("0 - 4", "00-04", "0 to 4", "90 and over", "85+"); anything else is <NA>."""
    text = labels.astype("string")
    uniques = pd.unique(text.dropna())
    table = {u: _canonical_band(str(u)) for u in uniques}
    return text.map(table).astype("string")


def _check_country(country: str) -> str:
    key = str(country).lower()
    if key not in ("england", "scotland"):
        raise ValueError(f"Unknown country {country!r}; choose england or scotland")
    return key


def _read(relative: str, columns: list[str]) -> pd.DataFrame:
    table = read_parquet_table(relative, columns=columns)
    if table.num_rows == 0:
        raise DataFileError(f"Data file {relative} has no rows")
    # the codes as a categorical straight from Arrow's dictionary: each of the hundreds of
    # thousands of rows repeats one of a few thousand codes, and every caller groups or
    # filters by them
    codes = table.column("area_code").cast(pa.string()).dictionary_encode().combine_chunks()
    if codes.null_count:
        raise DataFileError(f"Data file {relative}: {codes.null_count:,} row(s) have no area code")
    frame = table.drop_columns(["area_code"]).to_pandas()
    frame.insert(0, "area_code", pd.Categorical.from_codes(
        codes.indices.to_numpy(zero_copy_only=False).astype(np.int32),
        categories=pd.Index(codes.dictionary.to_pylist(), dtype=object)))
    population = frame["population"].to_numpy(dtype=float)
    if np.isnan(population).any() or (population < 0).any():
        raise DataFileError(f"Data file {relative}: population missing or negative")
    frame["population"] = population
    return frame


def _categorical(values: pd.Series, categories: Sequence[str], *, ordered: bool,
                 relative: str, what: str) -> pd.Categorical:
    labels = values.astype("category")
    unknown = sorted(set(map(str, labels.cat.categories)) - set(categories))
    if unknown or labels.isna().any():
        raise DataFileError(f"Data file {relative}: unknown or missing {what}: "
                            f"{', '.join(unknown) or 'blank'}")
    return pd.Categorical(labels, categories=list(categories), ordered=ordered)


@data_cache(maxsize=2)
def age_population(country: str) -> pd.DataFrame:
    """Population by small area, age band and sex: ``area_code`` (categorical), ``age_band``
    (ordered categorical: :data:`AGE_BANDS` for England, :data:`SCOTLAND_AGE_BANDS` for
    Scotland), ``sex`` (categorical: ``"all"`` for England, whose mid-2020 file has no sex
    split; ``"F"`` and ``"M"`` for Scotland) and ``population`` (float).

    Cached and shared: callers must not modify it in place. Sources: :data:`POPULATION_SOURCES`.
    """
    key = _check_country(country)
    relative = FILES[(key, "age")]
    columns = ["area_code", "age_band", "population"] + (["sex"] if key == "scotland" else [])
    frame = _read(relative, columns)
    bands = AGE_BANDS if key == "england" else SCOTLAND_AGE_BANDS
    frame["age_band"] = _categorical(frame["age_band"], bands, ordered=True,
                                     relative=relative, what="age band")
    if key == "scotland":
        sex = _categorical(frame["sex"], SEXES, ordered=False, relative=relative, what="sex")
    else:
        sex = pd.Categorical.from_codes(np.full(len(frame), SEXES.index("all")),
                                        categories=list(SEXES))
    frame["sex"] = sex
    return frame[["area_code", "age_band", "sex", "population"]]


@data_cache(maxsize=2)
def ethnic_population(country: str) -> pd.DataFrame:
    """Usual residents (all ages) by small area and high-level ethnic group: ``area_code``
    (categorical), ``ethnic_group`` (categorical over :data:`ETHNIC_GROUPS`) and ``population``.

    England: Census 2021 TS021; Scotland: Census 2022. Cached and shared: read-only.
    """
    key = _check_country(country)
    relative = FILES[(key, "ethnicity")]
    frame = _read(relative, ["area_code", "ethnic_group", "population"])
    frame["ethnic_group"] = _categorical(frame["ethnic_group"], ETHNIC_GROUPS, ordered=False,
                                         relative=relative, what="ethnic group")
    return frame


# --- a user's own denominator -------------------------------------------------------------

_SEX_VALUES = MappingProxyType({
    "F": "F", "FEMALE": "F", "2": "F", "M": "M", "MALE": "M", "1": "M",
    "ALL": "all", "PERSONS": "all", "P": "all", "": "all",
})
_MAX_LISTED = 10


def _where(row: int) -> str:
    # data row 1 is the first row under the header, i.e. line 2 of the file
    return f"data row {row} (line {row + 1} counting the header)"


class PopulationFileError(ValueError):
    """A user's denominator file has problems; ``problems`` lists each, by row and column."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        shown = problems[:_MAX_LISTED]
        more = f"\n  … and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
        super().__init__(f"{path}: {len(problems)} problem(s) in the population file:\n  "
                         + "\n  ".join(shown) + more)


def _known_area_codes() -> pd.Index:
    return pd.Index([*load_pack_table("england").index, *load_pack_table("scotland").index])


def _problem_rows(mask: np.ndarray, rows: np.ndarray, column: str, values: pd.Series,
                  what: str) -> list[str]:
    hits = np.flatnonzero(mask)
    return [f"{_where(int(rows[i]))}, column {column!r}: {what} ({values.iloc[i]!r})"
            for i in hits[:_MAX_LISTED]]


def read_population_file(path: Path) -> pd.DataFrame:
    """Read a user's own denominator (e.g. a registered list by LSOA and age band).

    CSV with columns ``area_code``, ``age_band``, ``population`` and optionally ``sex``
    (F/M/1/2/female/male, or all/persons/blank); names match case-insensitively; bands are
    ``0-4`` … ``85-89``, ``90+`` (or ``85+`` as the top band, not mixed with ``85-89``/``90+``).
    Area codes must be LSOA 2021 or data zone 2011 codes of the embedded geography.

    Returns ``area_code``, ``age_band`` (ordered categorical), ``sex`` (``"F"``, ``"M"`` or
    ``"all"``) and ``population`` (float). Raises :class:`PopulationFileError` (a
    ``ValueError``) naming the file, each row (data row 1 = the first row under the header =
    line 2 of the file) and column at fault.
    """
    path = Path(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig",
                          skip_blank_lines=False)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise PopulationFileError(path, [f"not a readable CSV file: {exc}"]) from exc
    except pd.errors.EmptyDataError:
        raise PopulationFileError(path, ["the file is empty"]) from None
    names = [str(c).strip().lower() for c in raw.columns]
    if len(set(names)) != len(names):
        dups = sorted({n for n in names if names.count(n) > 1})
        raise PopulationFileError(path, [f"column(s) {', '.join(dups)} appear more than once"])
    raw.columns = names
    missing = [c for c in ("area_code", "age_band", "population") if c not in names]
    if missing:
        raise PopulationFileError(path, [
            f"missing column(s) {', '.join(repr(c) for c in missing)}; the header has "
            f"{', '.join(repr(c) for c in names)}"])
    # trailing empty lines are not data; empty lines inside the file are reported
    filled = (raw.apply(lambda c: c.str.strip()) != "").any(axis=1).to_numpy()
    last = int(np.flatnonzero(filled)[-1]) + 1 if filled.any() else 0
    raw = raw.iloc[:last]
    if raw.empty:
        raise PopulationFileError(path, ["no data rows under the header"])
    rows = np.arange(1, len(raw) + 1)
    problems: list[str] = []

    code = raw["area_code"].str.strip().str.upper()
    blank_code = (code == "").to_numpy()
    problems += _problem_rows(blank_code, rows, "area_code", code, "area code is blank")

    band = parse_age_band(raw["age_band"])
    bad_band = band.isna().to_numpy()
    problems += _problem_rows(bad_band, rows, "age_band", raw["age_band"],
                              "unknown age band; use 0-4, 5-9, …, 85-89, 90+ (or 85+)")
    top85 = (band == "85+").fillna(False).to_numpy()
    finer = band.isin(["85-89", "90+"]).fillna(False).to_numpy()
    if top85.any() and finer.any():
        problems += _problem_rows(top85, rows, "age_band", raw["age_band"],
                                  "85+ mixed with 85-89/90+ in the same file")

    text = raw["population"].str.strip().str.replace(",", "", regex=False)
    population = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    not_number = ~np.isfinite(population)
    problems += _problem_rows(not_number, rows, "population", raw["population"],
                              "not a number")
    negative = np.isfinite(population) & (population < 0)
    problems += _problem_rows(negative, rows, "population", raw["population"], "negative")

    if "sex" in names:
        sex = raw["sex"].str.strip().str.upper().map(_SEX_VALUES)
        bad_sex = sex.isna().to_numpy()
        problems += _problem_rows(bad_sex, rows, "sex", raw["sex"],
                                  "unknown sex; use F, M (or 2, 1), or all")
    else:
        sex = pd.Series("all", index=raw.index)

    key = pd.DataFrame({"a": code, "b": band, "s": sex})
    dup = key.duplicated(keep=False).to_numpy() & ~(blank_code | bad_band)
    if dup.any():
        first = key[dup].groupby(["a", "b", "s"], sort=False, dropna=False).indices
        for (a, b, s), positions in list(first.items())[:_MAX_LISTED]:
            at = ", ".join(str(int(rows[p])) for p in positions)
            problems.append(f"data rows {at}, columns 'area_code'/'age_band'/'sex': "
                            f"duplicate ({a}, {b}, {s})")

    known = _known_area_codes()
    unknown = ~blank_code & (known.get_indexer(pd.Index(code)) < 0)
    if unknown.any():
        hits = np.flatnonzero(unknown)
        listed = ", ".join(f"{code.iloc[i]} (data row {int(rows[i])})" for i in hits[:5])
        problems.append(f"column 'area_code': {len(hits)} code(s) are not LSOA 2021 or data "
                        f"zone 2011 codes of the embedded geography, first: {listed}")
    if problems:
        raise PopulationFileError(path, problems)

    bands = SCOTLAND_AGE_BANDS if top85.any() else AGE_BANDS
    return pd.DataFrame({
        "area_code": code.to_numpy(),
        "age_band": pd.Categorical(band.to_numpy(dtype=object), categories=list(bands),
                                   ordered=True),
        "sex": pd.Categorical(sex.to_numpy(dtype=object), categories=list(SEXES)),
        "population": population,
    })
