"""Who the audit is about: the study area, its population by small area and age band, and the
deprivation of each small area.

The population is the denominator of every rate, so it must describe the people the service
is for. By default it is the resident population of a study area (ONS mid-2020 estimates by
age, moved onto 2021 LSOAs; NRS Census 2022 by age and sex for Scotland); a user may give
their own instead (e.g. a registered list by LSOA and age band). When no study area is given
the audit takes the smallest area (local authority, ICB, region or country; council area or
Scotland) that holds at least 95% of the records, and says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.audit.engine import AGE_BAND_LABELS, BAND_85_PLUS

#: The levels tried, smallest first, when the study area is inferred.
INFERRED_LEVELS = {"england": ("ltla", "icb", "region"), "scotland": ("council",)}
INFERRED_SHARE = 0.95
SCOTLAND_TOP_BAND = "85+"


@dataclass(frozen=True)
class StudyArea:
    """The study area and how it was chosen."""

    country: str
    code: str
    name: str
    level: str
    inferred: bool
    share_of_records: float  # of the records with a recognised small area
    small_areas: pd.Index  # codes of its small areas

    def describe(self) -> str:
        how = (f"inferred: it holds {self.share_of_records:.1%} of the records placed in a "
               "small area (set another with --area)" if self.inferred else "as chosen")
        return f"{self.name} ({self.code}), {how}"


def choose_study_area(area_events: pd.Series, area_code: str | None = None) -> StudyArea:
    """The study area from a code (any level), or inferred from where the records are.

    ``area_events`` is the number of included records per small-area code.
    """
    from analysis.data.geography import COUNTRY_CODES, load_pack_table, resolve_area, spec_for

    if area_code:
        area = resolve_area(area_code)
        table = load_pack_table(area.country)
        spec = spec_for(area.country)
        if area.level == "country":
            members = table.index
        else:
            members = table.index[table[spec.level(area.level).code_column] == area.code]
        held = float(area_events.reindex(members).fillna(0).sum())
        total = float(area_events.sum())
        return StudyArea(area.country, area.code, area.name, area.level, False,
                         held / total if total else 0.0, pd.Index(members))
    if area_events.sum() <= 0:
        raise ValueError("No record could be placed in a small area of England or Scotland, "
                         "so there is no study area; see the excluded records by reason")
    by_country = {c: float(area_events[area_events.index.str[0] == c[0].upper()].sum())
                  for c in ("england", "scotland")}
    country = max(by_country, key=by_country.get)
    table = load_pack_table(country)
    spec = spec_for(country)
    events = area_events.reindex(table.index).fillna(0)
    total = float(area_events.sum())
    for level in INFERRED_LEVELS[country]:
        lv = spec.level(level)
        held = events.groupby(table[lv.code_column].to_numpy()).sum()
        best = held.idxmax()
        if held[best] >= INFERRED_SHARE * total:
            members = table.index[table[lv.code_column] == best]
            name = str(table.loc[members[0], lv.name_column])
            return StudyArea(country, str(best), name, level, True, float(held[best]) / total,
                             pd.Index(members))
    code, name = COUNTRY_CODES[country]
    return StudyArea(country, code, name, "country", True, by_country[country] / total,
                     table.index)


def deprivation(country: str) -> pd.DataFrame:
    """National deprivation decile and quintile of every small area (1 = most deprived):
    IMD 2025 for England's LSOAs 2021, SIMD 2020 for Scotland's data zones."""
    from analysis.data.indicators import default_registry

    indicator = "imd2025_decile" if country == "england" else "simd2020_decile"
    data = default_registry().get(indicator).data
    decile = pd.to_numeric(data.set_index("area_code")["value"], errors="coerce")
    out = pd.DataFrame({"decile": decile.astype("Int64")})
    out["quintile"] = ((out["decile"] + 1) // 2).astype("Int64")
    out.index = out.index.astype(str)
    return out


def deprivation_source(country: str) -> str:
    return ("English Indices of Deprivation 2025 (MHCLG), national deciles of LSOAs 2021"
            if country == "england" else
            "Scottish Index of Multiple Deprivation 2020 (Scottish Government), national "
            "deciles of data zones 2011")


@dataclass(frozen=True)
class Denominator:
    """Population by small area × age band (× sex when known) and where it comes from."""

    table: pd.DataFrame  # area_code, age_band, sex ("all" or F/M), population
    source: str
    user_supplied: bool

    @property
    def has_sex(self) -> bool:
        return bool(set(self.table["sex"].unique()) & {"F", "M"})

    @property
    def bands(self) -> tuple[str, ...]:
        present = self.labels
        return tuple(b for b in (*AGE_BAND_LABELS[:17], "85-89", "90+", SCOTLAND_TOP_BAND)
                     if b in present)

    @property
    def labels(self) -> set[str]:
        """The age-band labels that occur in the table."""
        bands = self.table["age_band"].astype("category")
        used = np.unique(bands.cat.codes.to_numpy())
        return {str(bands.cat.categories[code]) for code in used if code >= 0}


def study_population(study: StudyArea, user_table: pd.DataFrame | None = None,
                     user_source: str | None = None) -> Denominator:
    """The denominator restricted to the study area's small areas. A user's table (already
    read and checked by :func:`analysis.data.populations.read_population_file`) replaces the
    embedded one; its areas outside the study area are left out."""
    from analysis.data.populations import POPULATION_SOURCES, age_population

    if user_table is not None:
        table = user_table.copy()
        if "sex" not in table.columns:
            table["sex"] = "all"
        source, user = user_source or "population file supplied by the user", True
    else:
        table = age_population(study.country).copy()
        source, user = _source_text(POPULATION_SOURCES, study.country), False
    table = table[member(table["area_code"], study.small_areas)]
    if table.empty:
        raise ValueError(f"The population has no rows for the small areas of {study.name} "
                         f"({study.code})")
    for column in ("area_code", "age_band", "sex"):
        # categorical: a few dozen labels over hundreds of thousands of rows
        if not isinstance(table[column].dtype, pd.CategoricalDtype):
            table[column] = table[column].astype(str).astype("category")
    return Denominator(table[["area_code", "age_band", "sex", "population"]]
                       .reset_index(drop=True), source, user)


def text_values(values: pd.Series) -> np.ndarray:
    """A column's values as Python strings (None where missing), cheaply for a categorical
    column: each category is converted once."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        categories = np.asarray(values.cat.categories.astype(str), dtype=object)
        codes = values.cat.codes.to_numpy()
        return np.where(codes >= 0, categories[np.maximum(codes, 0)], None)
    return values.astype(str).to_numpy(dtype=object)


def member(values: pd.Series, allowed: pd.Index) -> np.ndarray:
    """Which ``values`` are in ``allowed`` (a hash lookup over Arrow strings: pandas'
    ``isin`` converts every allowed value to a Python object first, slow for England's
    33,755 codes)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    value_set = pa.array(pd.Index(allowed).astype(str))
    if isinstance(values.dtype, pd.CategoricalDtype):
        known = pc.is_in(pa.array(values.cat.categories.astype(str)), value_set=value_set)
        known = np.append(known.to_numpy(zero_copy_only=False).astype(bool), False)
        codes = values.cat.codes.to_numpy()
        return known[np.where(codes >= 0, codes, len(known) - 1)]
    found = pc.is_in(pa.array(values.astype(str)), value_set=value_set)
    return found.to_numpy(zero_copy_only=False).astype(bool)


def _source_text(sources: object, country: str) -> str:
    if isinstance(sources, Mapping):
        value = sources.get(country) or sources.get(f"{country}_age") or next(
            (v for k, v in sources.items() if k.startswith(country)), None)
        if value:
            return str(value)
    return str(sources)


def band_labels(bands: pd.Series, top_band: str | None) -> pd.Series:
    """Band indices from the engine → labels; with ``top_band == "85+"`` the 85-89, 90+ and
    85+ bands collapse into one (Scotland's census, or data given with an 85+ band)."""
    labels = [*AGE_BAND_LABELS, SCOTLAND_TOP_BAND, None]
    if top_band == SCOTLAND_TOP_BAND:
        labels[17] = labels[18] = SCOTLAND_TOP_BAND
    index = bands.astype("float64").fillna(len(labels) - 1).astype(int).to_numpy()
    return pd.Series(np.asarray(labels, dtype=object)[index], index=bands.index, dtype="string")


def top_band_for(denominator: Denominator, bands_seen: pd.Series) -> str | None:
    """"85+" when either the population or the records stop at an 85+ band."""
    if SCOTLAND_TOP_BAND in denominator.bands or (bands_seen == BAND_85_PLUS).any():
        return SCOTLAND_TOP_BAND
    return None
