"""Indicator values of a study area: the tables every map, chart and briefing starts from."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis.data import (
    IndicatorMeta,
    IndicatorRegistry,
    aggregate,
    load_pack_table,
    small_area_mask,
    spec_for,
)
from analysis.explore.summary import DEPRIVATION_DECILE

SMALL_AREA_GEOGRAPHY = {"england": "lsoa21", "scotland": "dz11"}


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
    deciles = registry.get(DEPRIVATION_DECILE[country]).values
    frame["deprivation_decile"] = deciles.reindex(frame.index).astype("Int64")
    for indicator_id in indicator_ids:
        meta = registry.meta(indicator_id)
        if meta.geography != SMALL_AREA_GEOGRAPHY[country]:
            raise ValueError(
                f"Indicator {indicator_id!r} is on {meta.geography} areas, not the "
                f"{spec.small_area.plural} of {spec.label}")
        frame[indicator_id] = registry.get(indicator_id).values.reindex(frame.index)
    return frame


def area_value(country: str, area_code: str | None, indicator_id: str,
               registry: IndicatorRegistry) -> float:
    """An indicator's value for a whole study area, aggregated as its metadata says.

    Ratio indicators use Σ numerator ÷ Σ denominator (× 100 where the value is a percentage
    of them); others the population-weighted mean or the sum. Returns NaN for indicators that
    cannot be aggregated (ranks, deciles) or have no value in the area.
    """
    meta = registry.meta(indicator_id)
    if meta.aggregation == "none":
        return math.nan
    data = registry.get(indicator_id).data.set_index("area_code")
    mask = small_area_mask(country, area_code)
    codes = mask.index[mask.to_numpy()]
    if meta.aggregation == "ratio" and {"numerator", "denominator"} <= set(data.columns):
        sub = data.reindex(codes)[["numerator", "denominator", "value"]].dropna()
        if sub.empty or sub["denominator"].sum() <= 0:
            return math.nan
        scale = _ratio_scale(data)
        return float(scale * sub["numerator"].sum() / sub["denominator"].sum())
    values = data["value"].reindex(codes)
    if values.isna().all():
        return math.nan
    if meta.aggregation == "sum":
        return float(values.sum())
    population = load_pack_table(country).loc[codes, spec_for(country).population_column]
    present = values.notna()
    weights = population[present].astype(float)
    return float(np.average(values[present], weights=weights)) if weights.sum() > 0 else math.nan


def _ratio_scale(data: pd.DataFrame) -> float:
    """100 for percentage indicators stored as value = 100 × numerator ÷ denominator, else 1."""
    sample = data[["numerator", "denominator", "value"]].dropna()
    sample = sample[sample["denominator"] > 0].head(50)
    if sample.empty:
        return 1.0
    ratio = (sample["value"] / (sample["numerator"] / sample["denominator"])).median()
    return 100.0 if abs(ratio - 100) < 1 else 1.0


def level_values(country: str, indicator_id: str, level: str,
                 registry: IndicatorRegistry) -> pd.DataFrame:
    """An indicator aggregated to every area of ``level`` (code, name, value, population)."""
    meta = registry.meta(indicator_id)
    data = registry.get(indicator_id).data.set_index("area_code")
    if meta.aggregation == "ratio" and {"numerator", "denominator"} <= set(data.columns):
        out = aggregate(data["numerator"], country, level, how="ratio",
                        denominators=data["denominator"])
        out["value"] = out["value"] * _ratio_scale(data)
        return out
    return aggregate(data["value"], country, level, how=meta.aggregation)  # type: ignore[arg-type]
