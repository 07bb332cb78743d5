"""Area profile: every indicator of an area against its ICB (or council) and the country.

The table feeds a *spine chart* in the style of OHID's Fingertips profiles: for each
indicator the national distribution across areas of the same level (minimum, 25th and 75th
percentiles, maximum) is drawn as a bar centred on the national value and scaled so the
furthest area sits at the end; the area and its parent are marks on it. "Better" is always
to the right (polarity-aware).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.data import COUNTRY_CODES, IndicatorRegistry, load_pack_table, resolve_area, spec_for
from analysis.explore.frames import SMALL_AREA_GEOGRAPHY, area_value, level_values

PARENT_LEVEL = {"england": "icb", "scotland": "council"}


def parent_area(area_code: str) -> tuple[str, str] | None:
    """(code, name) of the ICB (England) or council area (Scotland) containing an area.

    ``None`` for areas at or above that level, or that straddle more than one parent.
    """
    area = resolve_area(area_code)
    spec = spec_for(area.country)
    parent = spec.level(PARENT_LEVEL[area.country])
    own_rank = [lv.key for lv in spec.levels].index(area.level)
    parent_rank = [lv.key for lv in spec.levels].index(parent.key)
    if own_rank >= parent_rank:
        return None
    table = load_pack_table(area.country)
    own = spec.level(area.level)
    rows = table.loc[table[own.code_column] == area.code, [parent.code_column,
                                                           parent.name_column]]
    pairs = rows.drop_duplicates()
    if len(pairs) != 1:
        return None
    return str(pairs.iloc[0, 0]), str(pairs.iloc[0, 1])


def profile_table(area_code: str, registry: IndicatorRegistry) -> pd.DataFrame:
    """One row per aggregatable small-area indicator of the area's country.

    Columns: ``id``, ``title``, ``unit``, ``kind``, ``polarity``, ``decimals``, ``area``,
    ``parent``, ``national``, ``level_min``, ``level_q25``, ``level_q75``, ``level_max``
    (across all areas of the same level in the country), ``areas_compared`` and the scaled
    positions ``pos_*`` in [-1, 1] with better to the right.
    """
    area = resolve_area(area_code)
    country = area.country
    parent = parent_area(area_code)
    national_code = COUNTRY_CODES[country][0]
    geography = SMALL_AREA_GEOGRAPHY[country]
    rows = []
    for meta in registry.metas(geography=geography):
        if meta.aggregation == "none" or meta.aggregation == "sum":
            continue  # ranks and deciles don't average; counts aren't comparable across areas
        own = area_value(country, area.code, meta.id, registry)
        national = area_value(country, None, meta.id, registry)
        parent_value = (area_value(country, parent[0], meta.id, registry) if parent
                        else np.nan)
        if area.level in ("country",):
            spread = pd.Series([national])
        elif area.level == spec_for(country).small_area.key:
            spread = registry.get(meta.id).values
        else:
            spread = level_values(country, meta.id, area.level, registry)["value"]
        spread = spread.dropna()
        rows.append({
            "id": meta.id, "title": meta.title, "unit": meta.unit, "kind": meta.kind,
            "polarity": meta.polarity, "decimals": meta.decimals,
            "area": own, "parent": parent_value, "national": national,
            "level_min": spread.min(), "level_q25": spread.quantile(0.25),
            "level_q75": spread.quantile(0.75), "level_max": spread.max(),
            "areas_compared": len(spread),
        })
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    half_width = np.maximum(np.abs(table["level_max"] - table["national"]),
                            np.abs(table["national"] - table["level_min"]))
    half_width = half_width.where(half_width > 0, 1.0)
    sign = np.where(table["polarity"] == "higher_is_worse", -1.0, 1.0)
    for column in ("area", "parent", "level_min", "level_q25", "level_q75", "level_max"):
        table[f"pos_{column}"] = sign * (table[column] - table["national"]) / half_width
    table["area_name"] = area.name
    table["parent_name"] = parent[1] if parent else ""
    table["national_name"] = COUNTRY_CODES[country][1]
    table["national_code"] = national_code
    table["comparison"] = [_compare(r) for r in table.itertuples()]
    return table.sort_values(["kind", "title"]).reset_index(drop=True)


SIMILAR_WITHIN = 0.1  # of the interquartile range across areas of the same level


def _compare(row) -> str:
    """Plain-English comparison of the area with the country (no meaning by colour alone).

    Judged against the spread between areas, so scores centred on zero compare as well as
    rates do: a difference under a tenth of the interquartile range counts as similar.
    """
    if pd.isna(row.area) or pd.isna(row.national):
        return "no data"
    spread = row.level_q75 - row.level_q25
    if spread > 0 and abs(row.area - row.national) < SIMILAR_WITHIN * spread:
        return "similar to national"
    direction = "higher" if row.area > row.national else "lower"
    if row.polarity == "neutral":
        return f"{direction} than national"
    return f"{direction} than national ({'better' if row.pos_area > 0 else 'worse'})"
