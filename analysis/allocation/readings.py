"""How an allocation result is read: the study area it covers, its units, counts that add up,
plain-English readings of gains and losses, and the settings in force.

Every figure carries the scenario's unit (:func:`analysis.numbers.format_quantity`: a budget of
FTE GPs reads ``29,238 FTE GPs``, money ``£10.9bn``, per-head money ``£167 per resident``) and
negative numbers a true minus sign. The dashboard's allocation page and ``fairshare allocate``
print these same sentences, so they cannot disagree.

* **Study area** (:func:`scope_to_study_area`): a scenario whose areas are finer than the study
  area (practices or neighbourhoods inside an ICB, local authorities inside a region) is run on
  the areas inside it, sharing their own current total; one whose areas are as large as the
  study area or larger (ICBs for an ICB or a borough) stays national, and says so.
* **Counts** (:func:`count_sentence`): every area is exactly one of gain, lose, unchanged or
  released (no population), and the sentence gives all four with their total.
* **Extreme percentages** (:func:`percent_change_text`): a change of 1,000% or more (an area
  starting from almost nothing) is written as a multiple with its amounts, never as a
  seven-digit percentage; a change from zero is "from zero".
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from analysis.allocation.model import AllocationResult
from analysis.allocation.scenario import Scenario
from analysis.numbers import (
    difference_in_words,
    format_number,
    format_percent,
    format_quantity,
    money_axis,
)

__all__ = [
    "EXTREME_PCT",
    "amount_text",
    "count_sentence",
    "change_reading",
    "column_units",
    "equity_reading",
    "largest_changes",
    "percent_change_text",
    "practice_map_caption",
    "report_lines",
    "scope_to_study_area",
    "settings_text",
    "trajectory_reading",
]

EXTREME_PCT = 1000.0
"""Changes of this many per cent or more are written as a multiple (``27,300 times``)."""

ENGLAND = "E92000001"


def amount_text(value: float, unit: str, *, signed: bool = False) -> str:
    """An amount in the scenario's unit, compact for money: ``£78.9m``, ``29,238 FTE GPs``,
    ``−£1.2m``, ``+4.5 FTE GPs``."""
    decimals = 1 if abs(value) < 100 and unit != "£" else 0
    return format_quantity(value, unit, decimals, compact=True, signed=signed)


def percent_change_text(pct: float | None, *, current: float | None = None,
                        allocation: float | None = None, unit: str = "£") -> str:
    """``+3.0%``; ``from zero to £1.3m``; past :data:`EXTREME_PCT` ``27,300 times its current amount
    (from £12 to £327k)`` (the amounts only when given)."""
    if pct is None or not math.isfinite(float(pct)):
        if current == 0 and allocation:
            return f"from zero to {amount_text(allocation, unit)}"
        return "from zero" if current == 0 else "not available"
    pct = float(pct)
    if abs(pct) < EXTREME_PCT:
        return format_percent(pct, 1, signed=True)
    times = format_number(1 + pct / 100, 0)
    amounts = "" if current is None or allocation is None else (
        f" (from {amount_text(current, unit)} to {amount_text(allocation, unit)})")
    return f"{times} times its current amount{amounts}"


def scope_to_study_area(scenario: Scenario, area_code: str | None,
                        area_name: str = "") -> tuple[Scenario, str]:
    """The scenario as it applies to a study area, and a sentence saying which areas it covers.

    A scenario file that names its own ``area`` keeps it. England, Scotland or no area: the
    scenario as written (England only). Otherwise the scenario is run on its areas inside the
    study area when they are finer than it (practices always are), else it stays national.
    """
    from analysis.data import UnknownAreaError, resolve_area, spec_for

    many = scenario.area_noun()
    name = area_name or area_code or ""
    if scenario.area is not None:
        return scenario, f"The scenario file limits it to {scenario.area}: only its {many}."
    national = f"National: England's {many} share the budget."
    if area_code is None or area_code.strip().upper() == ENGLAND:
        return scenario, national
    try:
        ref = resolve_area(area_code)
    except UnknownAreaError:
        ref = None
    if ref is None or ref.country != "england":
        return scenario, (f"{national} The scenario covers England only, so the study area "
                          f"({name}) is not applied.")
    keys = [lv.key for lv in spec_for("england").levels]
    if scenario.level not in ("practice", "pcn") and (
            keys.index(scenario.level) >= keys.index(ref.level)):
        return scenario, (f"{national} {many[0].upper() + many[1:]} are not smaller than "
                          f"{name}, so the study area is not applied.")
    return scenario.replace(area=area_code.strip().upper()), (
        f"Within {name}: its {many} share their own current total; the rest of England is "
        "left out.")


def count_sentence(result: AllocationResult) -> str:
    """``6,669 practices: 4,067 gain, 2,391 lose, 5 unchanged, and 206 released (no weighted
    patients; their £78.9m goes to the others).`` The four counts add up to the total."""
    s = result.summary()
    scenario = result.scenario
    parts = [f"{s['winners']:,} gain", f"{s['losers']:,} lose",
             f"{s['unchanged']:,} unchanged"]
    text = f"{s['areas']:,} {scenario.area_noun(s['areas'])}: " + ", ".join(parts)
    if s["released"]:
        text += (f", and {s['released']:,} released (no {scenario.population_noun()}; their "
                 f"{amount_text(s['released_amount'] or 0.0, result.unit)} goes to the others)")
    return text + "."


def _alive(result: AllocationResult) -> pd.DataFrame:
    return result.areas[result.areas["status"] != "zero population"]


def change_reading(result: AllocationResult) -> str:
    """The largest gain and loss, each with its amount, percentage (capped) and area."""
    alive = _alive(result)
    unit = result.unit
    out = [count_sentence(result)]
    for label, rows in (("gain", alive[alive["status"] == "winner"]),
                        ("loss", alive[alive["status"] == "loser"])):
        if rows.empty:
            out.append(f"No {result.scenario.area_noun(1)} would "
                       f"{'gain' if label == 'gain' else 'lose'}.")
            continue
        row = rows.loc[rows["change"].idxmax() if label == "gain" else rows["change"].idxmin()]
        pct = percent_change_text(row["change_pct"], current=row["current"],
                                  allocation=row["allocation"], unit=unit)
        text = (f"The largest {label} is {amount_text(row['change'], unit, signed=True)} "
                f"({pct}) at {row['area_name']}")
        ranked = rows["change_pct"].fillna(math.inf if label == "gain" else -math.inf)
        steep = rows.loc[ranked.idxmax() if label == "gain" else ranked.idxmin()]
        steep_pct = percent_change_text(steep["change_pct"], current=steep["current"],
                                        allocation=steep["allocation"], unit=unit)
        if steep["area_code"] != row["area_code"] and steep_pct != pct:
            text += f"; in proportion, {steep_pct} at {steep['area_name']}"
        out.append(text + ".")
    return " ".join(out)


def _pct(value: float) -> str:
    return format_percent(value, 0 if float(value).is_integer() else 1)


def settings_text(scenario: Scenario) -> str:
    """The settings in force, in words: ``α = 0.5 (50% per head, 50% by need); 5 years; at most
    +3% / −3% a year; floor 97% of current; toward target (NHS England convention)``."""
    parts = [f"α = {format_number(scenario.alpha, 2)} ({format_number(100 * scenario.alpha)}% "
             f"per head, {format_number(100 * (1 - scenario.alpha))}% by need)",
             f"{scenario.years} year{'s' if scenario.years != 1 else ''}"]
    gain, loss = scenario.max_gain_pct, scenario.max_loss_pct
    if gain is None and loss is None:
        parts.append("no pace limit")
    else:
        parts.append(f"at most {'no limit' if gain is None else _pct(gain)} gain "
                     f"and {'no limit' if loss is None else _pct(loss)} loss a year")
    if scenario.floor_pct:
        parts.append(f"floor {_pct(scenario.floor_pct)} of current")
    if scenario.cap_pct:
        parts.append(f"cap {_pct(scenario.cap_pct)} of current")
    parts.append("toward target (NHS England convention: no area moves away from its target)"
                 if scenario.convergence == "toward_target" else
                 "nearest allocation (residual spread per head; areas may move away from "
                 "their target)")
    return "; ".join(parts)


def equity_reading(result: AllocationResult) -> str:
    """Slope index before and after in per-head units, and the share of the most deprived fifth
    below their need-based fair share and below their target, with why the two can differ."""
    before, after = result.before, result.after
    unit = result.per_head_unit

    def share(value: float) -> str:
        return format_percent(100 * value, 0) if math.isfinite(value) else "not available"

    # the SII is least − most deprived: readers get the gap in words, the signed figure
    # stays in the result's summary (the methods)
    after_gap = difference_in_words(-after.sii, unit, 2, lower=-after.sii_upper,
                                    upper=-after.sii_lower)
    text = (f"Fitted across deprivation deciles, the amount per head was "
            f"{difference_in_words(-before.sii, unit, 2)} before the move and is {after_gap} "
            f"after it. People in the most deprived fifth living in areas below "
            f"their target: {share(before.most_deprived_quintile_below_target)} → "
            f"{share(after.most_deprived_quintile_below_target)}; below their need-only fair "
            f"share: {share(before.most_deprived_quintile_below_fair_share)} → "
            f"{share(after.most_deprived_quintile_below_fair_share)}.")
    if (after.most_deprived_quintile_below_fair_share
            > before.most_deprived_quintile_below_fair_share and result.scenario.alpha > 0):
        text += (" The fair share follows need alone while the target gives "
                 f"{format_number(100 * result.scenario.alpha)}% of the budget per head, so for "
                 "deprived areas the target lies below the fair share: areas above both move "
                 "down to their target and cross below their fair share.")
    return text


def largest_changes(result: AllocationResult, n: int = 10) -> tuple[pd.DataFrame, str]:
    """The ``n`` largest gains and losses among areas with population (released areas are not
    losers), with the change divided for a compact axis, and the axis title: for money
    ``"Change after the final year (£m)"``, else in the scenario's unit."""
    alive = _alive(result)
    top = pd.concat([alive.nlargest(n, "change"), alive.nsmallest(n, "change")])
    top = top[top["change"] != 0].drop_duplicates("area_code").copy()
    if result.unit == "£":
        divisor, suffix = money_axis(float(top["change"].abs().max()) if len(top) else 0.0)
    else:
        divisor, suffix = 1.0, result.unit
    top["change_shown"] = top["change"] / divisor
    top["change_text"] = [amount_text(v, result.unit, signed=True) for v in top["change"]]
    top["change_pct_text"] = [percent_change_text(p, current=c, allocation=a, unit=result.unit)
                              for p, c, a in zip(top["change_pct"], top["current"],
                                                 top["allocation"], strict=True)]
    return top, f"Change after the final year ({suffix})"


def report_lines(result: AllocationResult) -> list[str]:
    """What ``fairshare allocate`` prints: title, budget, settings, counts, largest changes,
    equity, notes, each with the scenario's unit."""
    s: dict[str, Any] = result.summary()
    unit = result.unit
    conc = (f"concentration index against need: "
            f"{format_number(s['concentration_index_before'], 4, signed=True)} before, "
            f"{format_number(s['concentration_index_after'], 4, signed=True)} after (negative "
            "= concentrated where need is higher)")
    lines = [s["title"] or s["scenario"],
             f"  budget {amount_text(result.budget, unit)}; allocated "
             f"{amount_text(s['total_allocated'], unit)}; per-head figures in "
             f"{result.per_head_unit}",
             f"  settings: {settings_text(result.scenario)}",
             f"  {change_reading(result)}",
             f"  {conc}",
             f"  {equity_reading(result)}"]
    lines += [f"  note: {note}" for note in result.notes]
    return lines


def column_units(result: AllocationResult) -> dict[str, str]:
    """The unit of each amount and per-head column of ``result.areas`` (for exports)."""
    per_head = {f"{c}_per_head": result.per_head_unit for c in ("current", "target",
                                                                "allocation")}
    return {**{c: result.unit for c in ("current", "target", "allocation", "change",
                                       "gap_to_target")}, "change_pct": "%", **per_head}


def practice_map_caption(result: AllocationResult, drawn: int) -> str:
    """Text alternative of the practice (or PCN) map, reconciling drawn, unlocated and
    released areas with the total."""
    s = result.summary()
    alive = s["areas"] - s["released"]
    left_out = [f"{alive - drawn:,} without a location"] if alive > drawn else []
    if s["released"]:
        left_out.append(f"{s['released']:,} released (no patients)")
    many = result.scenario.area_noun()
    where = (" (each at the mean position of its practices)"
             if result.scenario.level == "pcn" else "")
    return (f"Text alternative: {drawn:,} of the {alive:,} {many} with patients{where}, "
            f"coloured by % change (purple gain, orange loss)"
            + (f"; not drawn: {' and '.join(left_out)}" if left_out else "")
            + f". The table has all {s['areas']:,}.")


def trajectory_reading(result: AllocationResult) -> str:
    """How the concentration index moves over the years and how much of the distance to the
    target closes."""
    closed = result.summary().get("share_of_gap_closed")
    return (f"The concentration index moves from "
            f"{format_number(result.before.concentration_index, 3, signed=True)} to "
            f"{format_number(result.after.concentration_index, 3, signed=True)} over "
            f"{result.scenario.years} year(s); "
            f"{format_percent(100 * closed if closed is not None else None, 0)} of the "
            "distance to the target is closed.")
