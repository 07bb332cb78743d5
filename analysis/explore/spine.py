"""Spine chart of an area profile, as OHID's Fingertips draws it.

For each indicator of the area's country: the area's value and its 95% confidence interval,
its parent's value (ICB in England, council area in Scotland), the national value, the
distribution across areas of the same level (min, quartiles, max) and the significance of
the difference from the national value.

Significance follows the PHE/OHID *Technical Guide: Assessing significant difference* (2018)
and Fingertips' "compared with England" convention: an area is significantly higher (or
lower) than the benchmark when its 95% confidence interval lies wholly above (or below) the
benchmark value, the benchmark itself being taken as fixed. The rule is the one of
:func:`analysis.numbers.compare_with_reference`; here it is applied only where there is an
interval (Fingertips marks the rest "not compared"), never through its 5% fall-back.
Better/worse follows the indicator's polarity; indicators without a polarity, and context
indicators, are "higher"/"lower" and left uncoloured, as Fingertips does.

Confidence intervals (PHE *Technical Guide: Confidence Intervals*, 2018): proportions by
Wilson's score method, rates by Byar's approximation (exact Poisson below 10 events), from
the summed numerators and denominators of the small areas in the area (OHID aggregates
crude rates and proportions as events over population, Fingertips technical guidance
"Rates"). Published limits (``lower_ci``/``upper_ci`` columns) are used for a small area
that has them.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis.data import (
    COUNTRY_CODES,
    IndicatorMeta,
    IndicatorRegistry,
    load_pack_table,
    rate_multiplier,
    resolve_area,
    small_area_mask,
    spec_for,
)
from analysis.explore.frames import (
    SMALL_AREA_GEOGRAPHY,
    area_value,
    data_multiplier,
    level_values,
)
from analysis.numbers import compare_with_reference, format_number, is_finite
from analysis.stats.funnel import rate_ci, wilson_ci

PARENT_LEVEL = {"england": "icb", "scotland": "council"}
NOT_COMPARED = "not compared"
SIGNIFICANCE_ORDER = ("better", "similar", "worse", "higher", "lower", NOT_COMPARED)
# colour-blind safe (Okabe-Ito blue and orange: dark and light in greyscale) and carried by
# shape as well: triangles point the way the area differs on the chart, right = better
SIGNIFICANCE_STYLE: dict[str, tuple[str, str]] = {
    "better": ("#0072B2", "triangle-right"),
    "similar": ("#FFFFFF", "circle"),
    "worse": ("#E69F00", "triangle-left"),
    "higher": ("#8C8C8C", "triangle-right"),
    "lower": ("#8C8C8C", "triangle-left"),
    NOT_COMPARED: ("#FFFFFF", "square"),
}
WHY_NO_CI = {
    "sum": "a count, which depends on the area's size",
    "none": "a rank or decile, which has no national value",
    "population_weighted_mean": "no confidence interval: a population-weighted mean of "
                                "small-area figures published without counts",
    "ratio": "no confidence interval: no numerator and denominator",
}


def parent_area(area_code: str) -> tuple[str, str] | None:
    """(code, name) of the ICB (England) or council area (Scotland) containing an area.

    ``None`` for areas at or above that level, or that straddle more than one parent.
    """
    area = resolve_area(area_code)
    spec = spec_for(area.country)
    parent = spec.level(PARENT_LEVEL[area.country])
    keys = [lv.key for lv in spec.levels]
    if keys.index(area.level) >= keys.index(parent.key):
        return None
    table = load_pack_table(area.country)
    own = spec.level(area.level)
    pairs = table.loc[table[own.code_column] == area.code,
                      [parent.code_column, parent.name_column]].drop_duplicates()
    if len(pairs) != 1:
        return None
    return str(pairs.iloc[0, 0]), str(pairs.iloc[0, 1])


def significance(value: float | None, reference: float | None, lower: float | None,
                 upper: float | None, polarity: str, kind: str = "need") -> str:
    """"better"/"similar"/"worse" (or "higher"/"similar"/"lower" for context indicators and
    those without a polarity) against ``reference``, by whether the 95% interval
    (``lower``, ``upper``) excludes it; "not compared" without an interval.

    The decision is :func:`analysis.numbers.compare_with_reference` (PHE *Technical Guide:
    Assessing significant difference*, 2018: the benchmark is fixed, the area's interval is
    checked against it).
    """
    if not (is_finite(lower) and is_finite(upper)) or not is_finite(reference):
        return NOT_COMPARED
    result = compare_with_reference(value, reference, lower=lower, upper=upper)
    if result.direction in ("similar", "unknown"):
        return "similar" if result.direction == "similar" else NOT_COMPARED
    better = result.better(polarity) if kind != "context" else None
    if better is None:
        return result.direction
    return "better" if better else "worse"


def _interval(meta: IndicatorMeta, data: pd.DataFrame, mask: pd.Series | None,
              code: str, small: bool) -> tuple[float, float, str]:
    """95% limits of the area's value and the method (or why there are none)."""
    if small and {"lower_ci", "upper_ci"} <= set(data.columns) and code in data.index:
        low, high = data.at[code, "lower_ci"], data.at[code, "upper_ci"]
        if is_finite(low) and is_finite(high):
            return float(low), float(high), "published"
    if meta.aggregation != "ratio" or not {"numerator", "denominator"} <= set(data.columns):
        return math.nan, math.nan, WHY_NO_CI.get(meta.aggregation, "no confidence interval")
    if small and code not in data.index:
        return math.nan, math.nan, "no value for this area"
    rows = data.loc[[code]] if small else data.reindex(mask.index[mask.to_numpy()])
    both = rows[["numerator", "denominator"]].dropna()
    events, people = float(both["numerator"].sum()), float(both["denominator"].sum())
    if people <= 0 or events < 0:
        return math.nan, math.nan, "no confidence interval: no denominator in the area"
    scale = data_multiplier(data.reset_index()) or rate_multiplier(meta.unit)
    if scale == 100 and events <= people:
        ci = wilson_ci(events, people)
        return float(ci.lower) * 100, float(ci.upper) * 100, "Wilson score"
    ci = rate_ci(events, people, multiplier=scale)
    return float(ci.lower), float(ci.upper), "Byar's (exact Poisson below 10 events)"


def spine_table(area_code: str, registry: IndicatorRegistry) -> pd.DataFrame:
    """One row per small-area indicator of the area's country (uploads included).

    Columns: ``id``, ``title``, ``kind``, ``polarity``, ``period``, ``unit``, ``decimals``,
    ``aggregation``, ``area``, ``lower``, ``upper``, ``ci_method``, ``parent``, ``national``,
    ``level_min``, ``level_q25``, ``level_median``, ``level_q75``, ``level_max`` (over all areas
    of the same level in the country: Fingertips' spine uses the range of areas of the same
    type; for the country itself, the level below), ``areas_compared``, ``worst``/``best``
    (lowest and highest without a polarity), ``significance`` (see :func:`significance`),
    ``reason`` (why not compared), the positions ``pos_*`` in [−1, 1] centred on the national
    value with better to the right, and the names ``area_name``, ``parent_name``,
    ``national_name``. Ranks and deciles appear only for a small area (they do not aggregate).
    Aggregation as :func:`analysis.explore.frames.area_value`.
    """
    area = resolve_area(area_code)
    country = area.country
    spec = spec_for(country)
    small = area.level == spec.small_area.key
    is_nation = area.level == "country"
    spread_level = spec.levels[-2].key if is_nation else area.level
    parent = parent_area(area_code)
    mask = None if small else small_area_mask(country, area.code)
    rows = []
    for meta in registry.metas(geography=SMALL_AREA_GEOGRAPHY[country]):
        if meta.aggregation == "none" and not small:
            continue
        data = registry.get(meta.id).data.set_index("area_code")
        national = area_value(country, None, meta.id, registry)
        if small:
            own = float(data["value"].get(area.code, math.nan))
            spread = data["value"]
        else:
            # one aggregation gives the area's own value and its level's spread
            levels = level_values(country, meta.id, spread_level, registry)
            spread = levels["value"]
            own = (national if is_nation else
                   float(levels.loc[levels["code"] == area.code, "value"].squeeze()))
        spread = spread.astype(float).dropna()
        low, high, method = _interval(meta, data, mask, area.code, small)
        if not is_finite(own):
            low, high, method = math.nan, math.nan, "no value for this area"
        elif is_nation:
            low, high, method = math.nan, math.nan, "this is the national value"
        verdict = significance(own, national, low, high, meta.polarity, meta.kind)
        rows.append({
            "id": meta.id, "title": meta.title, "kind": meta.kind, "polarity": meta.polarity,
            "period": meta.period, "unit": meta.unit, "decimals": meta.decimals,
            "aggregation": meta.aggregation, "area": own, "lower": low, "upper": high,
            "ci_method": method if is_finite(low) else "",
            "parent": area_value(country, parent[0], meta.id, registry) if parent else math.nan,
            "national": national,
            "level_min": spread.min(), "level_q25": spread.quantile(0.25),
            "level_median": spread.median(), "level_q75": spread.quantile(0.75),
            "level_max": spread.max(), "areas_compared": len(spread),
            "significance": verdict, "reason": method if verdict == NOT_COMPARED else "",
        })
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    worse_high = table["polarity"] == "higher_is_worse"
    table["worst"] = table["level_max"].where(worse_high, table["level_min"])
    table["best"] = table["level_min"].where(worse_high, table["level_max"])
    half = np.maximum(np.abs(table["level_max"] - table["national"]),
                      np.abs(table["national"] - table["level_min"]))
    half = half.where(half > 0, 1.0)
    sign = np.where(worse_high, -1.0, 1.0)
    for column in ("area", "parent", "level_min", "level_q25", "level_median", "level_q75",
                   "level_max"):
        table[f"pos_{column}"] = sign * (table[column] - table["national"]) / half
    table["area_name"] = area.name
    table["parent_name"] = parent[1] if parent else ""
    table["national_name"] = COUNTRY_CODES[country][1]
    return table.sort_values(["kind", "title"]).reset_index(drop=True)


def _value_text(value: float, decimals: int) -> str:
    return format_number(value, decimals, missing="–")


def spine_display(table: pd.DataFrame) -> pd.DataFrame:
    """The table beside the chart: Indicator, Period, Unit, Area value (CI), Parent,
    England/Scotland, Worst/lowest, Best/highest, Compared with England/Scotland. Values are
    rounded to the metadata's ``decimals`` (GSS guidance: no spurious precision)."""
    national = table["national_name"].iloc[0] if len(table) else "England"
    texts = []
    for row in table.itertuples():
        own = _value_text(row.area, row.decimals)
        if is_finite(row.lower):
            own += (f" ({_value_text(row.lower, row.decimals)} to "
                    f"{_value_text(row.upper, row.decimals)})")
        verdict = row.significance
        if verdict == NOT_COMPARED and row.reason:
            verdict = f"{verdict}: {row.reason}"
        texts.append({
            "Indicator": row.title, "Period": row.period, "Unit": row.unit,
            "Area value (95% CI)": own, "Parent": _value_text(row.parent, row.decimals),
            national: _value_text(row.national, row.decimals),
            "Worst/lowest": _value_text(row.worst, row.decimals),
            "Best/highest": _value_text(row.best, row.decimals),
            f"Compared with {national}": verdict,
        })
    return pd.DataFrame(texts)


def spine_download(table: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind the spine chart for CSV/XLSX, each rounded to its ``decimals``."""
    rounded = table.copy()
    numeric = ["area", "lower", "upper", "parent", "national", "worst", "level_q25",
               "level_median", "level_q75", "best"]
    for column in numeric:
        rounded[column] = [round(v, int(d)) if is_finite(v) else math.nan
                           for v, d in zip(table[column], table["decimals"], strict=True)]
    columns = ["title", "period", "unit", "area", "lower", "upper", "ci_method", "parent",
               "national", "worst", "level_q25", "level_median", "level_q75", "best",
               "areas_compared", "significance", "reason"]
    return rounded[columns]


def spine_chart(table: pd.DataFrame):
    """Altair spine chart: per indicator a bar from worst (left) to best (right), the darker
    band the interquartile range, the national value the vertical line at the centre, the
    area a marker whose colour *and* shape give the significance, the parent a hollow
    diamond. Counts and rows without a national value or spread are left out (they are in
    the table).
    """
    import altair as alt

    # counts are left out: a council of 300,000 against England's 56 million says nothing
    keep = (table["national"].map(is_finite) & table["areas_compared"].gt(1)
            & table["aggregation"].ne("sum"))
    plot = table[keep].assign(label=lambda t: t["title"]).copy()
    plot["area_text"] = [_value_text(v, d) for v, d in zip(plot["area"], plot["decimals"],
                                                           strict=True)]
    plot["national_text"] = [_value_text(v, d) for v, d in zip(plot["national"],
                                                               plot["decimals"], strict=True)]
    # a worse-is-higher bar runs max → min; min/max of the positions are the bar's ends
    plot["bar_left"] = plot[["pos_level_min", "pos_level_max"]].min(axis=1)
    plot["bar_right"] = plot[["pos_level_min", "pos_level_max"]].max(axis=1)
    plot["iqr_left"] = plot[["pos_level_q25", "pos_level_q75"]].min(axis=1)
    plot["iqr_right"] = plot[["pos_level_q25", "pos_level_q75"]].max(axis=1)
    national = table["national_name"].iloc[0]
    y = alt.Y("label:N", sort=None, title=None, axis=alt.Axis(labelLimit=320))
    base = alt.Chart(plot).encode(y=y)
    scale = alt.Scale(domain=[-1.08, 1.08])
    axis = alt.Axis(title=f"worst ← compared with {national} (centre line) → best",
                    labels=False, ticks=False, grid=False)
    colours = alt.Scale(domain=list(SIGNIFICANCE_ORDER),
                        range=[SIGNIFICANCE_STYLE[s][0] for s in SIGNIFICANCE_ORDER])
    shapes = alt.Scale(domain=list(SIGNIFICANCE_ORDER),
                       range=[SIGNIFICANCE_STYLE[s][1] for s in SIGNIFICANCE_ORDER])
    legend = alt.Legend(title=f"Compared with {national}", orient="bottom")
    layers = [
        base.mark_bar(color="#D9D9D9", height=14).encode(
            x=alt.X("bar_left:Q", scale=scale, axis=axis), x2=alt.X2("bar_right:Q")),
        base.mark_bar(color="#969696", height=14).encode(x=alt.X("iqr_left:Q"),
                                                         x2=alt.X2("iqr_right:Q")),
        alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(color="black", strokeWidth=2)
        .encode(x=alt.X("x:Q")),
    ]
    if plot["pos_parent"].map(is_finite).any():
        layers.append(base.mark_point(shape="diamond", size=60, color="black", filled=False,
                                      strokeWidth=1.5).encode(x=alt.X("pos_parent:Q")))
    layers.append(base.mark_point(size=150, filled=True, stroke="black", strokeWidth=1,
                                  opacity=1).encode(
        x=alt.X("pos_area:Q"),
        fill=alt.Fill("significance:N", scale=colours, legend=legend),
        shape=alt.Shape("significance:N", scale=shapes, legend=legend),
        tooltip=[alt.Tooltip("title:N", title="Indicator"),
                 alt.Tooltip("area_text:N", title="This area"),
                 alt.Tooltip("national_text:N", title=national),
                 alt.Tooltip("significance:N", title=f"Compared with {national}")]))
    return alt.layer(*layers).properties(height=30 * max(len(plot), 1) + 60)
