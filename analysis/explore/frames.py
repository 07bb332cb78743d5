"""Indicator values of a study area: the tables every map, chart and briefing starts from."""

from __future__ import annotations

import math

import pandas as pd

from analysis.data import (
    IndicatorMeta,
    IndicatorRegistry,
    aggregate,
    load_pack_table,
    resolve_area,
    small_area_mask,
    spec_for,
)
from analysis.explore.summary import DEPRIVATION_DECILE
from analysis.util import IdentityMemo

SMALL_AREA_GEOGRAPHY = {"england": "lsoa21", "scotland": "dz11"}

# Level aggregates by an indicator's value table, which the registry caches per file and
# never changes in place: an area's headline value aggregated every area of its level on
# every rerun. A replaced upload is a new table.
_LEVELS: IdentityMemo[pd.DataFrame] = IdentityMemo()


def indexed_data(registry: IndicatorRegistry, indicator_id: str) -> pd.DataFrame:
    """An indicator's value table indexed by area code (:attr:`Indicator.by_area`, built once
    per table; read-only: callers must not change it)."""
    return registry.get(indicator_id).by_area


def indicator_choices(registry: IndicatorRegistry, country: str,
                      kinds: tuple[str, ...] | None = None) -> list[IndicatorMeta]:
    """Indicators that can be mapped on ``country``'s small areas, optionally of some kinds."""
    geography = SMALL_AREA_GEOGRAPHY[country]
    metas = registry.metas(geography=geography)
    if kinds is not None:
        metas = [m for m in metas if m.kind in kinds]
    return sorted(metas, key=lambda m: (m.kind, m.title))


def study_area_frame(country: str, area_code: str | None, indicator_ids: list[str],
                     registry: IndicatorRegistry) -> pd.DataFrame:
    """One row per small area of the study area: code, name, population, national deprivation
    decile (1 = most deprived) and one column per indicator id (NaN where no value).
    """
    spec = spec_for(country)
    table = load_pack_table(country)
    mask = small_area_mask(country, area_code)
    small = spec.small_area
    selected = table.loc[mask.to_numpy()]
    frame = pd.DataFrame(
        {
            "code": selected[small.code_column].astype(str),
            "name": selected[small.name_column].astype(str),
            "population": selected[spec.population_column].astype(float),
        },
        index=selected.index,
    )
    deciles = indexed_data(registry, DEPRIVATION_DECILE[country])["value"]
    frame["deprivation_decile"] = deciles.reindex(frame.index).astype("Int64")
    for indicator_id in indicator_ids:
        meta = registry.meta(indicator_id)
        if meta.geography != SMALL_AREA_GEOGRAPHY[country]:
            raise ValueError(
                f"Indicator {indicator_id!r} is on {meta.geography} areas, not the "
                f"{spec.small_area.plural} of {spec.label}")
        frame[indicator_id] = indexed_data(registry, indicator_id)["value"].reindex(frame.index)
    return frame


def area_value(country: str, area_code: str | None, indicator_id: str,
               registry: IndicatorRegistry) -> float:
    """An indicator's value for a whole study area, aggregated as its metadata says.

    Ratio indicators use Σ numerator ÷ Σ denominator × the unit's multiplier (100 for a
    percentage, 1,000 for a rate per 1,000); others the population-weighted mean or the sum
    (:func:`analysis.data.aggregate`, the same rule as every level of a map). Returns NaN for
    indicators that cannot be aggregated (ranks, deciles) or have no value in the area.
    """
    meta = registry.meta(indicator_id)
    if meta.aggregation == "none":
        return math.nan
    spec = spec_for(country)
    if area_code is None:
        level, code = "country", None
    else:
        small_area_mask(country, area_code)  # an unknown code or another country's raises
        area = resolve_area(area_code)
        level, code = area.level, area.code
    out = level_values(country, indicator_id, level, registry)
    if code is None:
        row = out
        if len(out) != 1:
            raise ValueError(f"{spec.label} has {len(out)} country rows; expected one")
    else:
        row = out[out["code"] == code]
    if row.empty:
        return math.nan
    value = float(row["value"].iloc[0])
    return value if math.isfinite(value) else math.nan


def data_multiplier(data: pd.DataFrame) -> float | None:
    """The power of ten that turns numerator ÷ denominator into the published values.

    Published values are the truth where the metadata's unit text is loose (an analyst's
    "rate" that is per 1,000); ``None`` when no row has a positive numerator and denominator.
    """
    sample = data[["numerator", "denominator", "value"]].dropna()
    sample = sample[(sample["denominator"] > 0) & (sample["numerator"] > 0)].head(200)
    if sample.empty:
        return None
    ratio = float((sample["value"] / (sample["numerator"] / sample["denominator"])).median())
    if not math.isfinite(ratio) or ratio <= 0:
        return None
    power = 10.0 ** round(math.log10(ratio))
    return power if abs(ratio / power - 1) < 0.01 else None


def level_values(country: str, indicator_id: str, level: str,
                 registry: IndicatorRegistry) -> pd.DataFrame:
    """An indicator aggregated to every area of ``level`` (code, name, value, population,
    coverage): ratio indicators as Σ numerator ÷ Σ denominator × the unit's multiplier.
    Computed once per value table, level and aggregation; each call returns a copy."""
    meta = registry.meta(indicator_id)
    indicator = registry.get(indicator_id)
    data = indicator.by_area

    def aggregated() -> pd.DataFrame:
        if meta.aggregation == "ratio" and {"numerator", "denominator"} <= set(data.columns):
            return aggregate(data["numerator"], country, level, how="ratio",
                             denominators=data["denominator"], unit=meta.unit,
                             multiplier=data_multiplier(data))
        return aggregate(data["value"], country, level,
                         how=meta.aggregation)  # type: ignore[arg-type]

    out = _LEVELS.get(indicator.data, (country, level, meta.aggregation), aggregated)
    return out.copy()


PERSON_UNITS = ("people", "persons", "residents", "patients", "households", "admissions",
                "deaths", "births", "cases")


def person_counts(indicator_id: str, registry: IndicatorRegistry) -> pd.Series | None:
    """The count of people behind each small area's figure, for disclosure control: the
    numerator of a ratio indicator, the value of a count of people (unit "people",
    "residents"...), else ``None`` (scores, distances: nothing to suppress)."""
    meta = registry.meta(indicator_id)
    data = indexed_data(registry, indicator_id)
    if meta.aggregation == "ratio" and "numerator" in data.columns:
        return data["numerator"].astype(float)
    unit = meta.unit.strip().lower()
    if meta.aggregation == "sum" and unit.split(" ")[0] in PERSON_UNITS:
        return data["value"].astype(float)
    return None
