"""Run a scenario: :func:`allocate` and the :class:`AllocationResult` it returns.

:func:`allocate` loads the scenario's areas and current provision
(:mod:`analysis.allocation.inputs`), measures need (:mod:`analysis.allocation.need`), sets the
proportionate-universalism target and solves the constrained year-by-year path
(:mod:`analysis.allocation.solver`), and measures equity before and after
(:mod:`analysis.allocation.equity`). The :class:`AllocationResult` holds per area current,
target and new allocation, the year-by-year path, winners and losers, and equity measures
before and after.

**Default rule: toward target.** Since scenario schema 2 the path follows NHS England's
convention (``convergence = "toward_target"``): no area moves away from its target, so an area
under target never loses and one over target never gains; ``"nearest"`` keeps the earlier
behaviour (the allocation nearest the target overall, residual spread per head). Either way
each area's ``direction`` (toward target, at target, held, away from target, released) and a
plain-English ``reason`` are reported, and the summary counts areas under target that lose and
areas over target that gain (``under_target_losers``, ``over_target_gainers``), with notes
saying why any area moved away from its target.

**Released.** Areas with no population (practices closed or merged during the year) receive
nothing; their current spend is *released* to the other areas. They are reported apart
(status ``"zero population"``, direction ``"released"``, ``released`` and ``released_amount`` in
the summary), never as winners or losers, and excluded from every gain, loss and equity figure.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from analysis.allocation.equity import EquityMetrics, _decile_table, _json_float, equity_metrics
from analysis.allocation.inputs import _current, _examples, _load_areas
from analysis.allocation.need import _need
from analysis.allocation.scenario import NHSE_WP_KIND, Scenario
from analysis.allocation.solver import (
    _allocation_path,
    _tolerance,
    target_allocation,
)
from analysis.data import IndicatorRegistry, default_registry
from analysis.numbers import format_quantity

__all__ = ["AllocationResult", "allocate"]

FloatArray = NDArray[np.float64]

@dataclass(frozen=True)
class AllocationResult:
    """The outcome of :func:`allocate`.

    ``areas``: one row per area (``area_code``, ``area_name``, ``population``, ``need``,
    ``need_index`` (relative need per head, population-weighted mean 1), ``deprivation``,
    ``decile``, ``quintile``, ``current``, ``target``, ``allocation`` (final year),
    ``change``, ``change_pct``, ``current_per_head``, ``target_per_head``,
    ``allocation_per_head``, ``gap_to_target`` (allocation - target), ``status`` (winner,
    loser, unchanged, zero population), ``binding`` (what holds the area in the final
    year), ``direction`` (``toward target``, ``at target``, ``held``, ``away from target``,
    ``released``) and ``reason`` (plain English)). ``trajectory``: long table year x area (year
    0 = current). ``yearly``: per-year totals and equity. ``deciles``: per-head allocation by
    deprivation decile before and after. ``unit``: what the budget is counted in (``"£"``,
    ``"FTE GPs"``); ``per_head_unit``: the unit of the per-head columns. ``forced``: per year,
    ``"more"``/``"less"`` where the budget could not be met by toward-target moves alone.
    """

    scenario: Scenario
    budget: float
    areas: pd.DataFrame
    trajectory: pd.DataFrame
    yearly: pd.DataFrame
    deciles: pd.DataFrame
    before: EquityMetrics
    after: EquityMetrics
    notes: tuple[str, ...]
    sources: tuple[str, ...]
    zero_population: tuple[str, ...]
    solve_seconds: float
    unit: str = "£"
    per_head_unit: str = "£ per resident"
    forced: tuple[str, ...] = ()

    @property
    def winners(self) -> list[str]:
        """Area codes that gain, largest gain first."""
        rows = self.areas[self.areas["status"] == "winner"]
        return rows.sort_values("change", ascending=False)["area_code"].tolist()

    @property
    def losers(self) -> list[str]:
        """Area codes that lose, largest loss first."""
        rows = self.areas[self.areas["status"] == "loser"]
        return rows.sort_values("change")["area_code"].tolist()

    def to_frame(self) -> pd.DataFrame:
        """The per-area table (what the CSV export contains)."""
        return self.areas.copy()

    def summary(self) -> dict[str, Any]:
        """Headline numbers as JSON-serialisable values (``None`` where undefined)."""
        areas = self.areas
        alive = areas["status"] != "zero population"
        status = areas["status"]
        before, after = self.before.to_dict(), self.after.to_dict()
        out: dict[str, Any] = {
            "scenario": self.scenario.name,
            "title": self.scenario.title,
            "level": self.scenario.level,
            "area": self.scenario.area,
            "years": self.scenario.years,
            "alpha": self.scenario.alpha,
            "objective": self.scenario.objective,
            "convergence": self.scenario.convergence,
            "unit": self.unit,
            "per_head_unit": self.per_head_unit,
            "budget": _json_float(self.budget),
            "current_total": _json_float(areas["current"].sum()),
            "total_allocated": _json_float(areas["allocation"].sum()),
            "areas": int(len(areas)),
            "areas_allocated": int(alive.sum()),
            "areas_zero_population": len(self.zero_population),
            "released": len(self.zero_population),
            "released_amount": _json_float(areas.loc[~alive, "current"].sum()),
            "winners": int((status == "winner").sum()),
            "losers": int((status == "loser").sum()),
            "unchanged": int((status == "unchanged").sum()),
            "areas_at_target": int((areas.loc[alive, "binding"] == "at_target").sum()),
            "population": _json_float(areas["population"].sum()),
            "largest_gain_pct": _json_float(areas.loc[alive, "change_pct"].max()),
            "largest_loss_pct": _json_float(areas.loc[alive, "change_pct"].min()),
            "moved": _json_float(areas.loc[alive, "change"].clip(lower=0).sum()),
            "moved_away_from_target": int((areas["direction"] == "away from target").sum()),
            "under_target_losers": int((alive & (areas["current"] < areas["target"])
                                        & (status == "loser")).sum()),
            "over_target_gainers": int((alive & (areas["current"] > areas["target"])
                                        & (status == "winner")).sum()),
        }
        for key, value in before.items():
            out[f"{key}_before"] = value
        for key, value in after.items():
            out[f"{key}_after"] = value
        d0, d1 = self.before.distance_to_target, self.after.distance_to_target
        out["share_of_gap_closed"] = _json_float(1.0 - d1 / d0) if d0 > 0 else None
        out["top_winners"] = self.winners[:10]
        out["top_losers"] = self.losers[:10]
        out["notes"] = list(self.notes)
        return out


def _status(change: FloatArray, alive: NDArray[np.bool_], budget: float) -> NDArray:
    tol = 1e-9 * max(abs(budget), 1.0)  # changes below a billionth of the budget: unchanged
    status = np.where(change > tol, "winner", np.where(change < -tol, "loser", "unchanged"))
    return np.where(alive, status, "zero population").astype(object)


def allocate(scenario: Scenario, *, current: pd.DataFrame | pd.Series | None = None,
             registry: IndicatorRegistry | None = None,
             base_dir: str | Path | None = None) -> AllocationResult:
    """Run a scenario on the embedded data (see the module docstring for the method).

    ``current`` overrides the scenario's current distribution with a table (``area_code`` and
    the scenario's ``current.column``, or a Series indexed by area code). ``base_dir`` is where
    a relative CSV path is read from. Raises ``ValueError`` for bad input and
    :class:`ScenarioInfeasible` when the constraints conflict.
    """
    registry = registry or default_registry()
    areas = _load_areas(scenario)
    folder = Path(base_dir) if base_dir is not None else None
    current_series = _current(scenario, areas, registry, folder, current)
    need_series = _need(scenario, areas, registry)
    frame = areas.frame
    codes = frame.index.to_numpy(dtype=str)
    pop = frame["population"].to_numpy(dtype=float)
    pop = np.where(np.isfinite(pop), pop, 0.0)
    alive = pop > 0
    if not alive.any():
        raise ValueError("no area of the scenario has population")
    cur = current_series.to_numpy(dtype=float)
    need = need_series.to_numpy(dtype=float)
    budget = float(scenario.budget) if scenario.budget is not None else float(cur.sum())
    if budget <= 0:
        raise ValueError("the current total is zero: give a positive budget")
    unit = scenario.implied_unit(_indicator_unit(scenario, registry))
    zero_codes = tuple(codes[~alive])
    if zero_codes:
        areas.notes.append(_released_note(scenario, zero_codes, float(cur[~alive].sum()),
                                          int(alive.sum()), unit))
    stuck = alive & (cur <= 0) & (scenario.max_gain_pct is not None)
    if stuck.any():
        areas.notes.append(f"{int(stuck.sum()):,} {scenario.area_noun(int(stuck.sum()))} have "
                           "no current provision, so a percentage pace-of-change limit keeps "
                           "them at zero unless a minimum per head applies")
    target = np.zeros(len(codes))
    target[alive] = target_allocation(pop[alive], need[alive], scenario.alpha, budget)
    scale = scenario.per_head_scale
    min_per_head = None if scenario.min_per_head is None else scenario.min_per_head / scale
    started = time.perf_counter()
    path = _allocation_path(cur[alive], target[alive], pop[alive], budget,
                            years=scenario.years, max_gain_pct=scenario.max_gain_pct,
                            max_loss_pct=scenario.max_loss_pct, floor_pct=scenario.floor_pct,
                            cap_pct=scenario.cap_pct, min_per_head=min_per_head,
                            objective=scenario.objective, codes=list(codes[alive]),
                            scenario_name=scenario.name, convergence=scenario.convergence)
    solve_seconds = time.perf_counter() - started
    allocations = np.zeros((scenario.years + 1, len(codes)))
    allocations[0] = cur
    allocations[1:, alive] = path.allocations[1:]
    binding = np.full((scenario.years, len(codes)), "zero population", dtype=object)
    binding[:, alive] = path.binding
    final = allocations[-1]

    need_per_head = np.divide(need, pop, out=np.zeros_like(need), where=alive)
    mean_nph = float(need[alive].sum() / pop[alive].sum())
    need_index = np.where(alive, need_per_head / mean_nph, np.nan) if mean_nph > 0 else \
        np.full(len(codes), np.nan)
    safe_pop = np.where(alive, pop, 1.0)

    def per_head(values: FloatArray) -> FloatArray:
        return np.where(alive, values / safe_pop * scale, np.nan)

    with np.errstate(divide="ignore", invalid="ignore"):
        change = final - cur
        change_pct = np.where(cur > 0, change / np.where(cur > 0, cur, 1.0) * 100.0, np.nan)
    table = pd.DataFrame({
        "area_code": codes,
        "area_name": frame["name"].to_numpy(dtype=object),
        "population": pop,
        "need": need,
        "need_index": need_index,
        "deprivation": frame["deprivation"].to_numpy(dtype=float),
        "decile": frame["decile"].to_numpy(dtype=float),
        "quintile": frame["quintile"].to_numpy(dtype=float),
        "current": cur,
        "target": target,
        "allocation": final,
        "change": change,
        "change_pct": change_pct,
        "current_per_head": per_head(cur),
        "target_per_head": per_head(target),
        "allocation_per_head": per_head(final),
        "gap_to_target": final - target,
        "status": _status(change, alive, budget),
        "binding": binding[-1],
    })
    table["direction"] = _directions(cur, final, target, alive, budget)
    table["reason"] = _reasons(table, scenario, path.forced)
    areas.notes.extend(_direction_notes(table, scenario, path.forced))
    for column in ("decile", "quintile"):
        table[column] = table[column].astype("Int64")

    dep = table["deprivation"].to_numpy(dtype=float)
    dec = frame["decile"].to_numpy(dtype=float)
    quin = frame["quintile"].to_numpy(dtype=float)
    need_for_equity = need_per_head * pop  # need per area, consistent with need_index
    yearly_rows = []
    metrics: list[EquityMetrics] = []
    for year in range(scenario.years + 1):
        m = equity_metrics(allocations[year], pop, need_for_equity, dep, dec, quin,
                           target=target, seed=scenario.seed, per_head_scale=scale)
        metrics.append(m)
        row: dict[str, Any] = {"year": year, "total": float(allocations[year].sum())}
        if year > 0:
            labels = binding[year - 1][alive]
            row["areas_at_target"] = int((labels == "at_target").sum())
            row["areas_at_pace_limit"] = int(np.isin(labels, ["pace_gain", "pace_loss"]).sum())
        else:
            row["areas_at_target"] = int((np.abs(cur - target)[alive]
                                          <= _tolerance(budget)).sum())
            row["areas_at_pace_limit"] = 0
        row.update(asdict(m))
        yearly_rows.append(row)
    yearly = pd.DataFrame(yearly_rows)

    years_idx = np.repeat(np.arange(scenario.years + 1), len(codes))
    previous = np.vstack([allocations[:1], allocations[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        step_pct = np.where(previous > 0, (allocations - previous) / np.where(
            previous > 0, previous, 1.0) * 100.0, np.nan)
        per_head_path = np.where(alive, allocations / np.where(alive, pop, 1.0) * scale, np.nan)
    binding_path = np.vstack([np.full((1, len(codes)), "current", dtype=object), binding])
    trajectory = pd.DataFrame({
        "year": years_idx,
        "area_code": np.tile(codes, scenario.years + 1),
        "allocation": allocations.ravel(),
        "per_head": per_head_path.ravel(),
        "change_from_previous_pct": step_pct.ravel(),
        "binding": binding_path.ravel(),
    })

    before_dec = _decile_table(cur[alive], pop[alive], dec[alive])
    after_dec = _decile_table(final[alive], pop[alive], dec[alive])
    target_dec = _decile_table(target[alive], pop[alive], dec[alive])
    deciles = pd.DataFrame({
        "decile": before_dec["decile"].astype(int),
        "areas": before_dec["areas"],
        "population": before_dec["population"],
        "current_per_head": before_dec["per_head"] * scale,
        "target_per_head": target_dec["per_head"].to_numpy() * scale,
        "allocation_per_head": after_dec["per_head"].to_numpy() * scale,
    })
    return AllocationResult(
        scenario=scenario, budget=budget, areas=table, trajectory=trajectory, yearly=yearly,
        deciles=deciles, before=metrics[0], after=metrics[-1], notes=tuple(areas.notes),
        sources=tuple(dict.fromkeys(areas.sources)), zero_population=zero_codes,
        solve_seconds=solve_seconds, unit=unit, per_head_unit=scenario.per_head_unit(unit),
        forced=path.forced)


def _indicator_unit(scenario: Scenario, registry: IndicatorRegistry) -> str | None:
    indicator = scenario.current.indicator
    if scenario.current.source != "indicator" or not indicator:
        return None
    try:
        return registry.meta(indicator).unit
    except KeyError:
        return None


def _released_note(scenario: Scenario, codes: tuple[str, ...], amount: float, others: int,
                   unit: str) -> str:
    """"206 practices have no weighted patients (closed or merged): their £78.9m is released
    to the other 6,463 practices; they are not counted as losers." """
    n = len(codes)
    closed = " (closed or merged during the year)" if scenario.level == "practice" else ""
    if scenario.need.kind == NHSE_WP_KIND:
        closed = " in NHS England's weighted populations"
    shown = _examples(codes)
    return (f"{n:,} {scenario.area_noun(n)} have no {scenario.population_noun()}{closed}: "
            f"they receive nothing and their current "
            f"{format_quantity(amount, unit, compact=True)} is released to the other "
            f"{others:,} {scenario.area_noun(others)}; they are reported as released, not as "
            f"losers ({shown})")


def _directions(cur: FloatArray, final: FloatArray, target: FloatArray,
                alive: NDArray[np.bool_], budget: float) -> NDArray:
    """Per area: ``released`` (no population), ``at target``, ``held`` (unchanged, not at
    target), ``toward target`` (between its current allocation and its target) or ``away from
    target`` (under target and lower, over target and higher, or past its target)."""
    tol = 1e-9 * max(abs(budget), 1.0)
    slack = tol + 1e-9 * np.abs(cur)
    away = (final < np.minimum(cur, target) - slack) | (final > np.maximum(cur, target) + slack)
    out = np.where(np.abs(final - cur) <= tol, "held", "toward target").astype(object)
    out[np.abs(final - target) <= slack] = "at target"
    out[away] = "away from target"
    out[~alive] = "released"
    return out


_REASONS = {
    "at_target": "reached its target",
    "pace_gain": "moved toward its target as fast as the maximum gain a year allows",
    "pace_loss": "moved toward its target as fast as the maximum loss a year allows",
    "floor": "held up by the floor",
    "cap": "held down by the cap",
    "min_per_head": "held up by the minimum per head",
    "non_negative": "at zero",
    "free": "moved toward its target as far as the budget allowed",
}


def _reasons(table: pd.DataFrame, scenario: Scenario, forced: tuple[str, ...]) -> list[str]:
    """A plain-English reason for each area's final allocation (see :data:`_REASONS`)."""
    spread = ("the budget is more than toward-target moves can use, and the rest is spread per "
              "head" if "more" in forced else "the budget is less than toward-target moves "
              "need, and the shortfall is spread per head") if any(forced) else (
        "the residual budget is spread per head over every area not held by a limit "
        "(the nearest-allocation rule)")
    out = []
    for direction, binding, cur, target in zip(table["direction"], table["binding"],
                                               table["current"], table["target"], strict=True):
        if direction == "released":
            out.append(f"no {scenario.population_noun()}: its current allocation is released "
                       "to the others")
        elif direction == "away from target":
            held = f", then {_REASONS[binding]}" if binding in _REASONS and binding not in (
                "free", "at_target") else ""
            out.append(f"moved away from its target: {spread}{held}")
        elif binding == "toward_target" or direction == "held":
            when = ("kept at its current level" if direction == "held" else
                    "moved toward it, then held at the previous year's level")
            out.append(f"below its target, {when}: the money released by areas above target "
                       "did not reach it" if cur < target else
                       f"above its target, {when}: under the toward-target rule it cannot "
                       "gain")
        else:
            out.append(_REASONS.get(str(binding), "moved toward its target"))
    return out


def _direction_notes(table: pd.DataFrame, scenario: Scenario,
                     forced: tuple[str, ...]) -> list[str]:
    """Notes on areas moved away from their target: how many and why."""
    away = table["direction"] == "away from target"
    n = int(away.sum())
    if n == 0:
        return [] if scenario.convergence == "nearest" else [
            f"Toward target (NHS England convention): no {scenario.area_noun(1)} moves away "
            f"from its target; {scenario.area_noun()} under target never lose and those over "
            "it never gain"]
    cur, final, goal = table["current"], table["allocation"], table["target"]
    lost = int((away & (cur < goal) & (final < cur)).sum())
    gained = int((away & (cur > goal) & (final > cur)).sum())
    noun = scenario.area_noun(n)
    if scenario.convergence == "nearest":
        why = ("the nearest-allocation rule spreads the residual budget per head over every "
               f"{scenario.area_noun(1)} not held by a limit")
    else:
        years = [str(y) for y, f in enumerate(forced, start=1) if f]
        why = (f"in year {', '.join(years)} the budget differed from what toward-target moves "
               "could absorb, and the difference was spread per head")
    return [f"{n:,} {noun} moved away from their target ({lost:,} under target lose, "
            f"{gained:,} over target gain, {n - lost - gained:,} overshoot it): {why}; the "
            "table's reason column names each"]
