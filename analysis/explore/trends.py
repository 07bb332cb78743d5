"""Inequality over time: for an indicator measured in several periods, the slope index of
inequality (SII) and the gap between the most and least deprived fifths in every period,
with 95% confidence intervals, and one plain-English trend statement.

Deprivation is the national decile of each small area (IMD 2025 in England, SIMD 2020 in
Scotland) for every period, and populations are the small areas' current populations
(Census 2021 in England), so a change over time is a change in the indicator, not in who
counts as deprived. The dashboard's *Trends* page and ``fairshare trends`` both call
:func:`inequality_trend` and :func:`trend_statement`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from analysis.data import IndicatorMeta, IndicatorRegistry
from analysis.explore.equity import MIN_DECILES_FOR_SII, SII_SEED
from analysis.explore.frames import SMALL_AREA_GEOGRAPHY, study_area_frame
from analysis.explore.summary import DEPRIVATION_INDEX_LABEL
from analysis.numbers import format_number, is_money
from analysis.stats import decile_gradient, gap_unit, quantile_difference, slope_index

#: Columns of :func:`inequality_trend`, in order.
TREND_COLUMNS = (
    "period", "areas", "population", "mean", "sii", "sii_lower", "sii_upper",
    "most_deprived_fifth", "least_deprived_fifth", "quintile_gap", "gap_lower", "gap_upper",
)
_Z95 = float(stats.norm.ppf(0.975))


def multi_period_indicators(registry: IndicatorRegistry, country: str) -> list[IndicatorMeta]:
    """Indicators on ``country``'s small areas with more than one period, by title."""
    metas = registry.metas(geography=SMALL_AREA_GEOGRAPHY[country])
    return sorted((m for m in metas if m.multi_period), key=lambda m: m.title)


def _nan_row(period: str, areas: int, population: float) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(TREND_COLUMNS, math.nan)
    row.update(period=period, areas=areas, population=population)
    return row


def period_inequality(values: np.ndarray, population: np.ndarray, decile: np.ndarray,
                      period: str, *, repetitions: int = 100_000) -> dict[str, object]:
    """The inequality measures of one period from small-area values.

    * **SII** (Low & Low 2004; OHID ``phe_sii``, :func:`analysis.stats.slope_index`) across
      the deprivation deciles present: population-weighted decile means
      (:func:`analysis.stats.decile_gradient`, linearised standard errors after Cochran
      1977, ch. 6) fitted against the relative rank of each decile; SII = fitted value at
      the least deprived end minus that at the most deprived end, with Monte Carlo 95%
      limits (seeded, so reruns agree). Needs at least 5 deciles with intervals, else NaN.
    * **Quintile gap** (Mackenbach & Kunst 1997; :func:`analysis.stats.quantile_difference`):
      the population-weighted mean of quintile 1 (deciles 1–2, most deprived) minus that of
      quintile 5 (deciles 9–10), with limits ``d ± 1.96·√(se₁² + se₅²)`` from each fifth's
      linearised standard error. NaN when either fifth is absent or holds one area.
    """
    areas, total = int(len(values)), float(np.sum(population))
    row = _nan_row(period, areas, total)
    if areas == 0:
        return row
    row["mean"] = float(np.sum(values * population) / total)
    gradient = decile_gradient(values, population, decile)
    usable = gradient.dropna(subset=["lower_ci", "upper_ci"])
    usable = usable[usable["upper_ci"] > usable["lower_ci"]]
    if len(usable) >= MIN_DECILES_FOR_SII:
        sii = slope_index(usable["provision_per_head"].to_numpy(),
                          usable["population"].to_numpy(),
                          lower_cl=usable["lower_ci"].to_numpy(),
                          upper_cl=usable["upper_ci"].to_numpy(),
                          value_type="normal", seed=SII_SEED, repetitions=repetitions)
        row.update(sii=sii.sii, sii_lower=sii.sii_lower, sii_upper=sii.sii_upper)
    fifths = decile_gradient(values, population, (np.asarray(decile) + 1) // 2)
    fifths = fifths.set_index("decile")
    if {1, 5} <= set(fifths.index) and fifths.loc[[1, 5], "areas"].min() > 1:
        ends = fifths.loc[[1, 5]]
        # each fifth's standard error back from its t interval (decile_gradient's own)
        t = stats.t.ppf(0.975, ends["areas"].to_numpy() - 1)
        errors = (ends["upper_ci"].to_numpy() - ends["provision_per_head"].to_numpy()) / t
        gap = quantile_difference(ends["provision_per_head"].to_numpy(),
                                  standard_errors=errors)
        row.update(most_deprived_fifth=float(ends["provision_per_head"].iloc[0]),
                   least_deprived_fifth=float(ends["provision_per_head"].iloc[1]),
                   quintile_gap=gap.value, gap_lower=gap.lower, gap_upper=gap.upper)
    return row


def trend_from_frame(frame: pd.DataFrame, periods: tuple[str, ...] | list[str], *,
                     repetitions: int = 100_000) -> pd.DataFrame:
    """:func:`period_inequality` for every period of a long frame with columns ``period``,
    ``value``, ``population`` and ``deprivation_decile`` (1 = most deprived); rows without a
    value, decile or positive population are left out. One row per period in ``periods``'
    order, columns :data:`TREND_COLUMNS`."""
    usable = frame.dropna(subset=["value", "deprivation_decile", "population"])
    usable = usable[usable["population"] > 0]
    rows = []
    for period in periods:
        part = usable[usable["period"].astype(str) == str(period)]
        rows.append(period_inequality(part["value"].to_numpy(float),
                                      part["population"].to_numpy(float),
                                      part["deprivation_decile"].to_numpy(int), str(period),
                                      repetitions=repetitions))
    return pd.DataFrame(rows, columns=list(TREND_COLUMNS))


def inequality_trend(country: str, area_code: str | None, indicator_id: str,
                     registry: IndicatorRegistry, *, repetitions: int = 100_000
                     ) -> pd.DataFrame:
    """SII and quintile gap (with 95% CIs), mean and population of ``indicator_id`` in every
    period, over the small areas of a study area (``area_code`` ``None`` = the whole
    country), against each small area's national deprivation decile (IMD 2025 / SIMD 2020)
    and current population. See :func:`period_inequality` for the formulas."""
    meta = registry.meta(indicator_id)
    base = study_area_frame(country, area_code, [], registry)
    values = registry.all_periods(indicator_id)
    values = values[values["area_code"].isin(base.index)]
    people = base[["population", "deprivation_decile"]]
    frame = values.join(people, on="area_code")
    frame["deprivation_decile"] = frame["deprivation_decile"].astype("float64")
    return trend_from_frame(frame, meta.all_periods, repetitions=repetitions)


#: The two measures as the Trends chart names them.
GAP_MEASURE = "Most minus least deprived fifth (observed)"
SII_MEASURE = "Slope index: least minus most deprived end (fitted)"


def trend_long(trend: pd.DataFrame) -> pd.DataFrame:
    """The two measures of :func:`inequality_trend` as one long table for a chart:
    ``period``, ``measure`` (:data:`GAP_MEASURE`, :data:`SII_MEASURE`), ``estimate``,
    ``lower``, ``upper``; periods without an estimate are left out."""
    parts = [trend[["period", value, low, high]].set_axis(
                 ["period", "estimate", "lower", "upper"], axis=1).assign(measure=name)
             for name, value, low, high in (
                 (GAP_MEASURE, "quintile_gap", "gap_lower", "gap_upper"),
                 (SII_MEASURE, "sii", "sii_lower", "sii_upper"))]
    long = pd.concat(parts, ignore_index=True).dropna(subset=["estimate"])
    return long[["period", "measure", "estimate", "lower", "upper"]].reset_index(drop=True)


# --------------------------------------------------------------------------------------
# The statement


def _amount(value: float, meta: IndicatorMeta) -> str:
    number = format_number(abs(value), meta.decimals)
    unit = gap_unit(meta.unit)
    if is_money(unit):
        rest = unit.lstrip("£").strip()
        return f"£{number} {rest}".strip()
    return f"{number} {unit}".strip()


def _gap_words(row: pd.Series, meta: IndicatorMeta) -> str:
    """"4.2 GPs per 100,000 residents more (95% CI +3.8 to +4.6)": the most deprived fifth
    against the least; the limits are signed (most minus least)."""
    gap = float(row["quintile_gap"])
    direction = "more" if gap > 0 else "less" if gap < 0 else ""
    ci = (f"95% CI {format_number(row['gap_lower'], meta.decimals, signed=True)} to "
          f"{format_number(row['gap_upper'], meta.decimals, signed=True)}")
    if not direction:
        return f"the same ({ci})"
    return f"{_amount(gap, meta)} {direction} ({ci})"


def _share_of_mean(row: pd.Series) -> str:
    return f"{abs(row['quintile_gap']) / row['mean']:.1%}"


def _change(first: pd.Series, last: pd.Series) -> tuple[str, bool, bool]:
    """(verb, whether the change is clear, whether the two intervals overlap).

    The gaps are compared as a difference of two independent estimates,
    ``z = (g₂ − g₁) / √(se₁² + se₂²)`` (Altman & Bland 2003, BMJ 326:219), with each
    period's standard error from its 95% limits; overlapping intervals alone do not mean
    "no change" (two intervals may overlap while the difference is clear)."""
    se = [(row["gap_upper"] - row["gap_lower"]) / (2 * _Z95) for row in (first, last)]
    change = float(last["quintile_gap"] - first["quintile_gap"])
    spread = math.hypot(*se)
    clear = spread > 0 and abs(change) > _Z95 * spread
    overlap = not (first["gap_upper"] < last["gap_lower"] or last["gap_upper"] <
                   first["gap_lower"])
    if not clear:
        return "did not change clearly", False, overlap
    sign = np.sign(first["quintile_gap"]) or np.sign(last["quintile_gap"])
    if np.sign(first["quintile_gap"]) * np.sign(last["quintile_gap"]) < 0:
        both_clear = all(row["gap_lower"] > 0 or row["gap_upper"] < 0 for row in (first, last))
        if both_clear:
            return "reversed", True, overlap
    return ("widened" if sign * change > 0 else "narrowed"), True, overlap


def trend_statement(trend: pd.DataFrame, meta: IndicatorMeta, *, area_name: str,
                    country: str = "england") -> str:
    """The trend in plain English: whether the gap between the most and least deprived
    fifths widened, narrowed or did not change clearly from the first to the last period
    with a gap (compared as a difference of two estimates, :func:`_change`), the observed
    first- and last-period gaps with units and 95% CIs, the SII at both ends, and the
    caveats that could change the conclusion (overlapping intervals, deprivation measured
    by one index for every year, fixed populations and boundaries, cash terms)."""
    index = DEPRIVATION_INDEX_LABEL.get(country, "the deprivation index")
    usable = trend.dropna(subset=["quintile_gap", "gap_lower", "gap_upper"])
    # "GP funding" keeps its capitals; "Qualified GPs" reads "qualified GPs" mid-sentence
    title = meta.title
    what = title[:1].lower() + title[1:] if title[1:2].islower() else title
    if len(usable) < 2:
        return (f"In {area_name}, {what} has fewer than two periods with both the most and "
                "the least deprived fifths present, so no trend in the gap can be stated.")
    first, last = usable.iloc[0], usable.iloc[-1]
    verb, clear, overlap = _change(first, last)
    sentences = [
        f"In {area_name}, the gap in {what} between the most and least deprived fifths "
        f"{verb} between {first['period']} and {last['period']}. In {first['period']} the "
        f"most deprived fifth had {_gap_words(first, meta)} than the least deprived fifth; "
        f"in {last['period']}, {_gap_words(last, meta)} (observed population-weighted "
        "averages of the small areas)."
    ]
    sii = trend.dropna(subset=["sii"])
    if len(sii) >= 2:
        a, b = sii.iloc[0], sii.iloc[-1]
        sentences.append(
            f"The slope index of inequality (fitted least minus most deprived end, in "
            f"{gap_unit(meta.unit)}) was "
            f"{format_number(a['sii'], meta.decimals, signed=True)} (95% CI "
            f"{format_number(a['sii_lower'], meta.decimals, signed=True)} to "
            f"{format_number(a['sii_upper'], meta.decimals, signed=True)}) in {a['period']} "
            f"and {format_number(b['sii'], meta.decimals, signed=True)} (95% CI "
            f"{format_number(b['sii_lower'], meta.decimals, signed=True)} to "
            f"{format_number(b['sii_upper'], meta.decimals, signed=True)}) in "
            f"{b['period']}.")
    if clear and overlap:
        sentences.append(
            "The two years' confidence intervals overlap, although the change between them "
            "is larger than chance alone would readily give; read it as likely, not certain.")
    elif not clear:
        sentences.append(
            "The change is within the uncertainty of the two estimates, so a real change of "
            "either direction cannot be ruled out.")
    sentences.append(
        f"Deprivation is measured by {index} for every year, so earlier years rank "
        "neighbourhoods by today's deprivation; populations and small-area boundaries are "
        "held at their current values, while practice lists, openings, closures and "
        "mergers change from year to year.")
    if is_money(meta.unit):
        sentences.append(
            "Amounts are in cash terms, not adjusted for inflation: a gap in pounds can widen "
            f"while staying the same share of the average (here {_share_of_mean(first)} of "
            f"the average in {first['period']} and {_share_of_mean(last)} in "
            f"{last['period']}).")
    return " ".join(sentences)
