"""Run a scenario: :func:`allocate` and the :class:`AllocationResult` it returns.

:func:`allocate` loads the scenario's areas and current provision
(:mod:`analysis.allocation.inputs`), measures need (:mod:`analysis.allocation.need`), sets the
proportionate-universalism target and solves the constrained year-by-year path
(:mod:`analysis.allocation.solver`), and measures equity before and after
(:mod:`analysis.allocation.equity`). The :class:`AllocationResult` holds per area current,
target and new allocation, the year-by-year path, winners and losers, and equity measures
before and after.
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
from analysis.allocation.inputs import _current, _load_areas
from analysis.allocation.need import _need
from analysis.allocation.scenario import Scenario
from analysis.allocation.solver import (
    _allocation_path,
    _fmt_amount,
    _tolerance,
    target_allocation,
)
from analysis.data import IndicatorRegistry, default_registry

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
    loser, unchanged, zero population) and ``binding`` (what holds the area in the final
    year)). ``trajectory``: long table year x area (year 0 = current). ``yearly``: per-year
    totals and equity. ``deciles``: per-head allocation by deprivation decile before and after.
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
            "budget": _json_float(self.budget),
            "current_total": _json_float(areas["current"].sum()),
            "total_allocated": _json_float(areas["allocation"].sum()),
            "areas": int(len(areas)),
            "areas_allocated": int(alive.sum()),
            "areas_zero_population": len(self.zero_population),
            "winners": int((status == "winner").sum()),
            "losers": int((status == "loser").sum()),
            "unchanged": int((status == "unchanged").sum()),
            "areas_at_target": int((areas.loc[alive, "binding"] == "at_target").sum()),
            "population": _json_float(areas["population"].sum()),
            "largest_gain_pct": _json_float(areas.loc[alive, "change_pct"].max()),
            "largest_loss_pct": _json_float(areas.loc[alive, "change_pct"].min()),
            "moved": _json_float(areas.loc[alive, "change"].clip(lower=0).sum()),
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
    zero_codes = tuple(codes[~alive])
    if zero_codes:
        areas.notes.append(
            f"{len(zero_codes)} area(s) have no population and are allocated nothing "
            f"(their current {_fmt_amount(float(cur[~alive].sum()))} is redistributed): "
            f"{', '.join(zero_codes[:10])}{' ...' if len(zero_codes) > 10 else ''}")
    stuck = alive & (cur <= 0) & (scenario.max_gain_pct is not None)
    if stuck.any():
        areas.notes.append(f"{int(stuck.sum())} area(s) have no current provision, so a "
                           "percentage pace-of-change limit keeps them at zero unless a "
                           "minimum per head applies")
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
                            scenario_name=scenario.name)
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
        solve_seconds=solve_seconds)
