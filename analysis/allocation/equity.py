"""Equity of an allocation: concentration indices, slope index, fair-share shortfall.

**Equity impact** (before = current, after = final year; areas with population only):

* concentration index of allocation per head ranked by relative need per head (and by
  deprivation), :func:`analysis.stats.concentration_index`; negative = pro-need;
* slope index of inequality of allocation per head across deprivation deciles,
  :func:`analysis.stats.slope_index` on decile ratios ``sum x / sum pop`` with linearised
  standard errors between areas (seeded simulation); positive = more at the least deprived end;
* fair-share shortfall, :func:`analysis.stats.fair_share` with need as above, and the
  share of the most deprived quintile's population living in areas below fair share
  (:func:`analysis.stats.fair_share_by_quintile`). This *fair share* is need alone
  (``B need_i / sum need``); the scenario's *target* gives ``alpha`` of the budget per head, so
  for deprived areas it lies below the fair share, and an area above both that moves down to its
  target can cross below its fair share: this share can rise after a move toward the target;
* so the share of the most deprived quintile's population living in areas below their *target*
  is reported too (``most_deprived_quintile_below_target``). Under the toward-target rule it
  cannot rise: an area below its target stays at or below it, and one above stays at or above.

The deprivation scores, deciles and quintiles come from :mod:`analysis.allocation.inputs`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from analysis.stats import (
    concentration_index,
    fair_share,
    fair_share_by_quintile,
    fair_share_totals,
    slope_index,
)

__all__ = ["SII_REPETITIONS", "EquityMetrics", "equity_metrics"]

FloatArray = NDArray[np.float64]

SII_REPETITIONS = 10_000


@dataclass(frozen=True)
class EquityMetrics:
    """Equity of one allocation (areas with population; NaN where a measure is undefined).

    ``concentration_index`` (with 95% limits) ranks areas by relative need per head;
    ``concentration_index_deprivation`` by deprivation score. Negative = concentrated where
    need (deprivation) is higher. ``sii``/``rii``: slope/relative index of allocation per head
    across deprivation deciles (positive SII = more at the least deprived end).
    ``fair_share_shortfall``: sum of shortfalls below need-based fair share;
    ``share_of_need_below_fair_share``; ``most_deprived_quintile_below_fair_share``: share of
    the most deprived quintile's population in areas below fair share.
    ``distance_to_target``: ``sum |x - target|``; ``most_deprived_quintile_below_target``:
    share of the most deprived quintile's population in areas below the scenario's target.
    """

    concentration_index: float
    concentration_index_lower: float
    concentration_index_upper: float
    concentration_index_deprivation: float
    sii: float
    sii_lower: float
    sii_upper: float
    rii: float
    fair_share_shortfall: float
    share_of_need_below_fair_share: float
    most_deprived_quintile_below_fair_share: float
    per_head_most_deprived_quintile: float
    per_head_least_deprived_quintile: float
    distance_to_target: float
    most_deprived_quintile_below_target: float = math.nan

    def to_dict(self) -> dict[str, float | None]:
        """The measures as JSON values (``None`` where undefined)."""
        return {k: _json_float(v) for k, v in asdict(self).items()}


def _json_float(value: Any) -> float | int | None:
    if value is None:
        return None
    if isinstance(value, bool | np.bool_):
        return int(value)
    if isinstance(value, int | np.integer):
        return int(value)
    number = float(value)
    return number if math.isfinite(number) else None


def _decile_table(allocation: FloatArray, population: FloatArray,
                  decile: FloatArray) -> pd.DataFrame:
    """Per deprivation decile: population, allocation, per head and its linearised SE."""
    ok = np.isfinite(decile)
    frame = pd.DataFrame({"decile": decile[ok].astype(int), "x": allocation[ok],
                          "p": population[ok]})
    grouped = frame.groupby("decile", sort=True)
    agg = grouped.agg(areas=("x", "size"), allocation=("x", "sum"), population=("p", "sum"))
    agg["per_head"] = agg["allocation"] / agg["population"]
    resid = frame["x"] - frame["decile"].map(agg["per_head"]) * frame["p"]
    ss = (resid ** 2).groupby(frame["decile"]).sum()
    n = agg["areas"].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(n / (n - 1) * ss) / agg["population"]
    agg["se"] = se.where(n > 1, 0.0).fillna(0.0)
    return agg.reset_index()


def equity_metrics(allocation: ArrayLike, population: ArrayLike, need: ArrayLike,
                   deprivation: ArrayLike, decile: ArrayLike, quintile: ArrayLike, *,
                   target: ArrayLike | None = None, seed: int = 1,
                   repetitions: int = SII_REPETITIONS,
                   per_head_scale: float = 1.0) -> EquityMetrics:
    """Equity measures of one allocation (see :class:`EquityMetrics`; the measures and their
    references are those of :mod:`analysis.stats`).

    Arrays align by position. ``need`` is need per area (positive where population is);
    ``deprivation`` a score (higher = more deprived; NaN if unknown); ``decile``/``quintile``
    1 = most deprived (NaN if unknown). Areas without population are ignored. Per-head
    results (SII, quintile means) are multiplied by ``per_head_scale``.
    """
    x = np.asarray(allocation, dtype=float) * per_head_scale
    pop = np.asarray(population, dtype=float)
    need_arr = np.asarray(need, dtype=float)
    dep = np.asarray(deprivation, dtype=float)
    dec = np.asarray(decile, dtype=float)
    quin = np.asarray(quintile, dtype=float)
    alive = pop > 0
    x, pop, need_arr, dep, dec, quin = (a[alive] for a in (x, pop, need_arr, dep, dec, quin))
    per_head = x / pop
    need_per_head = need_arr / pop
    nan = math.nan

    ci = ci_lo = ci_hi = nan
    if np.ptp(need_per_head) > 0 and x.sum() > 0:
        result = concentration_index(per_head, need_per_head, pop,
                                     label="allocation per head")
        ci, ci_lo, ci_hi = result.index, result.lower, result.upper
    ci_dep = nan
    has_dep = np.isfinite(dep)
    if has_dep.sum() > 1 and np.ptp(dep[has_dep]) > 0 and x[has_dep].sum() > 0:
        ci_dep = concentration_index(per_head[has_dep], dep[has_dep], pop[has_dep]).index

    sii = sii_lo = sii_hi = rii = nan
    deciles = _decile_table(x, pop, dec)
    if len(deciles) >= 5:
        sii_result = slope_index(deciles["per_head"].to_numpy(), deciles["population"].to_numpy(),
                                 standard_errors=deciles["se"].to_numpy(),
                                 repetitions=repetitions, seed=seed)
        sii, rii = sii_result.sii, sii_result.rii
        sii_lo, sii_hi = float(sii_result.sii_lower), float(sii_result.sii_upper)  # type: ignore[arg-type]

    shortfall = share_need_below = most_below = nan
    positive_need = need_arr > 0
    if positive_need.any() and x[positive_need].sum() > 0:
        table = fair_share(x[positive_need], need_arr[positive_need])
        totals = fair_share_totals(table)
        shortfall = float(totals["total_shortfall"].iloc[0]) / per_head_scale
        share_need_below = float(totals["share_of_need_below"].iloc[0])
        has_q = np.isfinite(quin[positive_need])
        if has_q.any():
            by_q = fair_share_by_quintile(table.iloc[np.flatnonzero(has_q)],
                                          pop[positive_need][has_q],
                                          quin[positive_need][has_q])
            first = by_q.loc[by_q["quintile"] == 1, "share_below_fair_share"]
            most_below = float(first.iloc[0]) if len(first) else nan
    q_ok = np.isfinite(quin)
    q_most = q_least = nan
    if q_ok.any():
        q_vals = quin[q_ok]
        for label, slot in ((1, "most"), (5, "least")):
            sel = q_vals == label
            if sel.any():
                value = float(x[q_ok][sel].sum() / pop[q_ok][sel].sum())
                if slot == "most":
                    q_most = value
                else:
                    q_least = value
    distance = below_target = nan
    if target is not None:
        goal = np.asarray(target, dtype=float)[alive]
        gap = x / per_head_scale - goal
        distance = float(np.abs(gap).sum())
        first = quin == 1
        if first.any() and pop[first].sum() > 0:
            below = gap[first] < -1e-9 * np.maximum(np.abs(goal[first]), 1.0)
            below_target = float(pop[first][below].sum() / pop[first].sum())
    return EquityMetrics(ci, ci_lo, ci_hi, ci_dep, sii, sii_lo, sii_hi, rii, shortfall,
                         share_need_below, most_below, q_most, q_least, distance, below_target)
