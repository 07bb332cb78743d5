"""Geography packs: small areas, the hierarchy above them, selection and aggregation.

A *pack* is one country's small-area geography (England: 33,755 LSOA 2021; Scotland: 6,976
data zones 2011) with, on every row, the codes and names of each area the small area sits in,
its population denominator and its polygon. Every higher area is a union of small areas, so a
study area is a boolean mask over the pack and aggregation is a group-by.

Codes are ONS/GSS codes; the leading three characters name the entity type (``E01`` LSOA,
``E05`` ward, ``E06``–``E09`` local authority, ``E38`` sub-ICB location, ``E54`` ICB, ``E12``
region, ``S01`` data zone, ``S02`` intermediate zone, ``S12`` council area).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from analysis.data.datastore import data_cache, parquet_columns, read_geoparquet, read_parquet

Country = Literal["england", "scotland"]
Aggregation = Literal["sum", "population_weighted_mean", "ratio", "none"]


@dataclass(frozen=True)
class Level:
    """One level of a geography hierarchy (e.g. ICB) and the columns that carry it."""

    key: str
    label: str
    plural: str
    code_column: str
    name_column: str
    code_prefixes: tuple[str, ...]


@dataclass(frozen=True)
class PackSpec:
    """Where a country's pack lives and how its levels nest (fine to coarse)."""

    country: Country
    label: str
    file: str
    levels: tuple[Level, ...]
    population_column: str
    population_source: str

    @property
    def small_area(self) -> Level:
        return self.levels[0]

    def level(self, key: str) -> Level:
        for level in self.levels:
            if level.key == key:
                return level
        known = ", ".join(lv.key for lv in self.levels)
        raise ValueError(f"Unknown level {key!r} for {self.label}; known levels: {known}")


ENGLAND = PackSpec(
    country="england",
    label="England",
    file="geography/england_lsoa21.parquet",
    levels=(
        Level("lsoa21", "LSOA 2021", "LSOAs", "lsoa21_code", "lsoa21_name", ("E01",)),
        Level("ward", "Ward (2024)", "wards", "ward_code", "ward_name", ("E05",)),
        Level(
            "ltla", "Local authority", "local authorities", "ltla_code", "ltla_name",
            ("E06", "E07", "E08", "E09"),
        ),
        Level("sicbl", "Sub-ICB location", "sub-ICB locations", "sicbl_code", "sicbl_name",
              ("E38",)),
        Level("icb", "Integrated care board", "ICBs", "icb_code", "icb_name", ("E54",)),
        Level("region", "Region", "regions", "region_code", "region_name", ("E12",)),
        Level("country", "Country", "countries", "country_code", "country_name", ("E92",)),
    ),
    population_column="population",
    population_source="Census 2021 usual residents (ONS)",
)

SCOTLAND = PackSpec(
    country="scotland",
    label="Scotland",
    file="geography/scotland_dz11.parquet",
    levels=(
        Level("dz11", "Data zone 2011", "data zones", "dz11_code", "dz11_name", ("S01",)),
        Level("iz11", "Intermediate zone 2011", "intermediate zones", "iz11_code", "iz11_name",
              ("S02",)),
        Level("council", "Council area", "council areas", "council_code", "council_name",
              ("S12",)),
        Level("country", "Country", "countries", "country_code", "country_name", ("S92",)),
    ),
    population_column="population",
    population_source="2021 small-area population estimates (National Records of Scotland)",
)

PACKS: dict[str, PackSpec] = {"england": ENGLAND, "scotland": SCOTLAND}
COUNTRY_CODES = {"england": ("E92000001", "England"), "scotland": ("S92000003", "Scotland")}


class UnknownAreaError(ValueError):
    """An area code that no geography pack knows; the message lists the closest matches."""


class EmptySelectionError(ValueError):
    """A selection that contains no small areas."""


@dataclass(frozen=True)
class AreaRef:
    """A resolved area: which pack and level it belongs to, its code and name."""

    country: Country
    level: str
    code: str
    name: str


def spec_for(country: str) -> PackSpec:
    """The pack specification of ``country`` ("england" or "scotland")."""
    try:
        return PACKS[country.lower()]
    except KeyError:
        raise ValueError(
            f"Unknown country {country!r}; choose one of: {', '.join(PACKS)}"
        ) from None


@data_cache(maxsize=4)
def load_pack_table(country: str) -> pd.DataFrame:
    """The pack's attribute table (codes, names, population) without polygons.

    Cached: the frame is shared, so callers must not modify it in place.
    """
    spec = spec_for(country)
    names = [n for n in parquet_columns(spec.file) if n != "geometry"]
    frame = read_parquet(spec.file, columns=names)
    return frame.set_index(spec.small_area.code_column, drop=False)


@data_cache(maxsize=4)
def load_pack(country: str):
    """The pack as a GeoDataFrame (EPSG:4326), indexed by small-area code. Cached; read-only."""
    spec = spec_for(country)
    frame = read_geoparquet(spec.file)
    return frame.set_index(spec.small_area.code_column, drop=False)


def level_of_code(code: str) -> tuple[PackSpec, Level] | None:
    """The (pack, level) whose GSS prefix matches ``code``, or ``None``."""
    prefix = code.strip().upper()[:3]
    for spec in PACKS.values():
        for level in spec.levels:
            if prefix in level.code_prefixes:
                return spec, level
    return None


def list_areas(country: str, level: str) -> pd.DataFrame:
    """Areas of one level: ``code``, ``name``, ``population`` and ``small_areas`` (count)."""
    spec = spec_for(country)
    lv = spec.level(level)
    table = load_pack_table(country)
    grouped = table.groupby([lv.code_column, lv.name_column], sort=False, observed=True)
    out = grouped[spec.population_column].agg(["sum", "size"]).reset_index()
    out.columns = ["code", "name", "population", "small_areas"]
    return out.sort_values("name", kind="stable").reset_index(drop=True)


def _closest_codes(code: str, limit: int = 5) -> list[str]:
    candidates: list[str] = []
    labels: dict[str, str] = {}
    for spec in PACKS.values():
        table = load_pack_table(spec.country)
        for level in spec.levels:
            pairs = table[[level.code_column, level.name_column]].drop_duplicates()
            for c, n in zip(pairs.iloc[:, 0], pairs.iloc[:, 1], strict=True):
                candidates.append(c)
                labels[c] = f"{c} ({n})"
                labels[str(n).lower()] = f"{c} ({n})"
    query = code.strip()
    by_code = difflib.get_close_matches(query.upper(), candidates, n=limit, cutoff=0.6)
    by_name = difflib.get_close_matches(
        query.lower(), [k for k in labels if not k[:1].isupper()], n=limit, cutoff=0.6
    )
    seen: list[str] = []
    for key in by_code + by_name:
        label = labels[key]
        if label not in seen:
            seen.append(label)
    return seen[:limit]


def resolve_area(code: str) -> AreaRef:
    """Find an area by GSS code in any pack and level.

    Raises :class:`UnknownAreaError` with the closest known codes when nothing matches.
    """
    if not isinstance(code, str) or not code.strip():
        raise UnknownAreaError("No area code given")
    found = _known_area(code.strip().upper())
    if found is not None:
        return found
    suggestions = _closest_codes(code)
    hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
    raise UnknownAreaError(f"Unknown area code {code!r}.{hint}")


@data_cache(maxsize=4096)
def _known_area(clean: str) -> AreaRef | None:
    # every page asks several times per rerun; keyed by the data directory too
    found = level_of_code(clean)
    if found is None:
        return None
    spec, level = found
    table = load_pack_table(spec.country)
    hits = table.loc[table[level.code_column] == clean, level.name_column]
    return AreaRef(spec.country, level.key, clean, str(hits.iloc[0])) if len(hits) else None


def small_area_mask(country: str, area_code: str | None) -> pd.Series:
    """Boolean mask over the pack's small areas selecting a study area (all if ``None``)."""
    spec = spec_for(country)
    table = load_pack_table(country)
    if area_code is None or area_code == COUNTRY_CODES[spec.country][0]:
        return pd.Series(True, index=table.index)
    area = resolve_area(area_code)
    if area.country != spec.country:
        raise UnknownAreaError(
            f"Area {area_code} ({area.name}) is in {PACKS[area.country].label}, "
            f"not {spec.label}"
        )
    mask = table[spec.level(area.level).code_column] == area.code
    if not mask.any():
        raise EmptySelectionError(f"Area {area_code} contains no {spec.small_area.plural}")
    return mask


def select_study_area(country: str, area_code: str | None, *, geometry: bool = True):
    """The small areas of a study area (``area_code`` at any level; ``None`` = whole country).

    Returns a GeoDataFrame when ``geometry`` is true, else the attribute DataFrame.
    """
    mask = small_area_mask(country, area_code)
    frame = load_pack(country) if geometry else load_pack_table(country)
    return frame.loc[mask.to_numpy()]


_PER = re.compile(r"\bper\s+(?:(\d[\d,]*)\s*(thousand|million)?|(hundred thousand|"
                  r"thousand|million))\b", re.IGNORECASE)
_WORD_MULTIPLIERS = {"thousand": 1e3, "hundred thousand": 1e5, "million": 1e6}


def rate_multiplier(unit: str | None) -> float:
    """The multiplier a rate's unit implies: Σnumerator ÷ Σdenominator × this is the rate.

    ``"% of residents"`` → 100; ``"admissions a year per 1,000 residents"`` → 1,000;
    ``"per 100,000 population"`` → 100,000; ``"per thousand"`` → 1,000; anything else (a
    plain ratio or proportion) → 1. This is how OHID expresses crude rates and percentages
    (Fingertips technical guidance, "Rates": rate = O ÷ n × multiplier).
    """
    text = (unit or "").strip()
    match = _PER.search(text)
    if match:
        digits, scale_word, word = match.groups()
        if word:
            return _WORD_MULTIPLIERS[word.lower()]
        value = float(digits.replace(",", ""))
        return value * (_WORD_MULTIPLIERS[scale_word.lower()] if scale_word else 1.0)
    if text.startswith("%") or re.search(r"\b(percent|per cent|percentage)\b", text, re.I):
        return 100.0
    return 1.0


def aggregate(
    values: pd.Series,
    country: str,
    to_level: str,
    *,
    how: Aggregation = "population_weighted_mean",
    denominators: pd.Series | None = None,
    unit: str | None = None,
    multiplier: float | None = None,
) -> pd.DataFrame:
    """Aggregate small-area values to a higher level.

    ``values`` is indexed by small-area code. Methods:

    * ``sum`` (counts): Σ values over the small areas of each area.
    * ``population_weighted_mean`` (rates, scores, percentages): Σ(v·p) / Σp with p the
      population denominator of the pack, the usual way to summarise area-level rates
      (e.g. IMD average score of a local authority, MHCLG IoD 2019 technical report §5).
    * ``ratio`` (numerator/denominator indicators; ``values`` are the numerators):
      Σ numerators / Σ ``denominators`` × ``multiplier``, the multiplier being 100 for a
      percentage, 1,000 for a rate per 1,000 and so on (from ``unit`` by
      :func:`rate_multiplier` unless ``multiplier`` is given). This is how OHID aggregates
      crude rates and proportions (Fingertips technical guidance, "Rates"): the rate of a
      larger area is its events over its population, never an average of its parts' rates.

    Small areas without a value are left out of both numerator and denominator; the result
    reports ``coverage`` (share of the level's population with a value) so that partial
    coverage is visible rather than silent. Codes not in the pack raise ``UnknownAreaError``.
    """
    spec = spec_for(country)
    level = spec.level(to_level)
    table = load_pack_table(country)
    unknown = values.index.difference(table.index)
    if len(unknown):
        raise UnknownAreaError(
            f"{len(unknown)} code(s) are not {spec.small_area.plural} of {spec.label}: "
            f"{', '.join(map(str, unknown[:10]))}"
        )
    if how == "none":
        raise ValueError("This indicator cannot be aggregated (e.g. ranks or deciles)")
    population = table[spec.population_column].astype(float)
    value = values.reindex(table.index).astype(float)
    present = value.notna()
    frame = pd.DataFrame(
        {
            "code": table[level.code_column],
            "name": table[level.name_column],
            "population": population,
            "covered": population.where(present, 0.0),
            "with_value": present.astype(float),
        }
    )
    if how == "sum":
        frame["num"] = value.fillna(0.0)
        frame["den"] = 1.0
    elif how == "population_weighted_mean":
        frame["num"] = (value * population).fillna(0.0)
        frame["den"] = population.where(present, 0.0)
    elif how == "ratio":
        if denominators is None:
            raise ValueError("Aggregation 'ratio' needs denominators")
        den = denominators.reindex(table.index).astype(float)
        frame["num"] = value.where(den.notna()).fillna(0.0)
        frame["den"] = den.where(present, 0.0).fillna(0.0)
    else:
        raise ValueError(f"Unknown aggregation {how!r}")
    grouped = frame.groupby(["code", "name"], sort=False, observed=True)[
        ["num", "den", "population", "covered", "with_value"]
    ].sum()
    if how == "sum":
        # a count of 0 in an unpopulated zone is a value, not a gap
        result = grouped["num"].where(grouped["with_value"] > 0)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            result = (grouped["num"] / grouped["den"]).where(grouped["den"] > 0)
        if how == "ratio":
            scale = rate_multiplier(unit) if multiplier is None else float(multiplier)
            if not np.isfinite(scale) or scale <= 0:
                raise ValueError(f"multiplier is {multiplier!r}: it must be a positive number")
            result = result * scale
    out = pd.DataFrame(
        {
            "value": result,
            "population": grouped["population"],
            "coverage": grouped["covered"] / grouped["population"].where(
                grouped["population"] > 0
            ),
        }
    ).reset_index()
    return out
