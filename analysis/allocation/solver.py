"""Target allocation, constraints, exact solvers and the explanation of infeasibility.

**Target** (NHS England's "fair shares" / target allocation: each area's share of the budget
that a need formula says it should receive; *Technical Guide to the formulae for ICB revenue
allocations*; combined with Marmot's *proportionate universalism*: "actions must be universal,
but with a scale and intensity that is proportionate to the level of disadvantage", *Fair
Society, Healthy Lives*, The Marmot Review, 2010)::

    target_i = B * [ alpha * pop_i / sum(pop) + (1 - alpha) * need_i / sum(need) ]

``alpha = 1`` shares everything per head, ``alpha = 0`` everything by need. ``sum(target) = B``.

**Constraints** (each year ``y``, on the areas with population; ``x^0`` = current)::

    sum_i x_i = B                                                  (budget conserved)
    x_i >= max(0, x_i^(y-1) (1 - max_loss), floor * current_i, m * pop_i)
    x_i <= min(x_i^(y-1) (1 + max_gain), cap * current_i)

with ``m = min_per_head / per_head_scale``. The pace of change is modelled on NHS England's
pace-of-change policy for ICB allocations, which moves areas toward their target shares over
several years instead of in one step, so that no area faces a sudden cut (NHS England,
*Technical Guide to the formulae for ICB revenue allocations* and the allocations' pace-of-
change notes); here it is a maximum gain and a maximum loss per year, in % of the previous
year. The target is fixed; each year's bounds are relative to the previous year's
allocation, so the ``years`` steps are solved in sequence.

**Convergence rule** (``convergence``). ``"toward_target"`` (the default) follows NHS
England's convention for allocations: each year an area moves only toward its target and never
past it, so an area under its target never loses and an area over it never gains, within the
pace limits (NHS England, *Technical Guide to the formulae for ICB revenue allocations*: areas
below target receive growth to close the gap, areas above it are held back; no area is moved
away from target). Each year this adds the bounds::

    min(x_i^(y-1), t_i) <= x_i <= max(x_i^(y-1), t_i)

projected onto the hard bounds above (a floor, cap or minimum per head that pushes an area
away from its target wins, and the area is reported as held by it). When the budget is
conserved, ``sum t = sum x^(y-1) = B`` and these bounds always admit the budget. When it is
not (a budget above or below the current total, or the current spend of practices with no
patients being released), the money that toward-target moves cannot absorb is spread, by the
same quadratic rule, over the areas with room: those areas are marked as moved away from their
target and the result says why (:mod:`analysis.allocation.model`). Under the rule, money
released by areas above target goes to the areas furthest below target per head first
(``x_i = clip(t_i + lambda pop_i, ...)`` with ``lambda <= 0``), each up to its pace limit or its
target. ``"nearest"`` drops these bounds: the allocation nearest the target overall (the
unconstrained optimum of the objective below), in which the residual budget is spread per
head over every area not held by a limit, so some areas under target lose and some over target
gain (kept as an option; the result counts and explains them).

**Solver.** ``objective = "quadratic"`` (default) minimises the population-weighted squared
distance from target per head, ``sum_i (x_i - t_i)^2 / pop_i``, under the constraints above.
Its KKT conditions give ``x_i = clip(t_i + lambda * pop_i, lower_i, upper_i)`` for one scalar
``lambda`` (the same amount per head added to, or taken from, every area not held by a bound);
``sum_i x_i(lambda)`` is piecewise linear and non-decreasing in ``lambda``, so the exact
solution is found by sorting its 2n breakpoints and interpolating (the breakpoint method for
the continuous quadratic knapsack problem: Helgason R, Kennington J, Lall H, Math Program
1980;18:338-343; Kiwiel KC, Math Program 2008;112:473-491). No external QP solver is
used; it is O(n log n) and vectorised. The solution is also an optimum of the L1 problem
``min sum |x_i - t_i|`` (every area moves from its clipped target in the direction of the
budget residual, so each pound of residual costs exactly one pound of L1 distance wherever it
goes); the L1 problem alone has many optima and the quadratic one picks the one that spreads
the residual evenly per head. ``objective = "l1"`` solves the L1 problem as a linear programme
with HiGHS (``scipy.optimize.linprog(method="highs")``), written with two segment variables
per area (below and above its clipped target, costs -1 and +1) and one sparse equality row;
HiGHS returns a vertex, so the residual may land on few areas.

**Infeasible scenarios** raise :class:`ScenarioInfeasible` (a ``ValueError``) with structured
``conflicts``: areas whose lower bound exceeds their upper bound (which constraints, by how
much), lower bounds that add up to more than the budget, upper bounds that add up to less.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse
from scipy.optimize import linprog

from analysis.allocation.scenario import CONVERGENCE_RULES, OBJECTIVES

__all__ = [
    "Conflict",
    "ScenarioInfeasible",
    "allocation_path",
    "solve_year",
    "target_allocation",
]

FloatArray = NDArray[np.float64]

_CONSTRAINT_LABELS = {
    "pace_loss": "pace of change (maximum loss)",
    "pace_gain": "pace of change (maximum gain)",
    "floor": "floor",
    "cap": "cap",
    "min_per_head": "minimum per head",
    "non_negative": "no negative allocation",
    "budget": "budget",
    "toward_target": "toward-target rule (held at last year's level)",
    "lower": "lower bound",
    "upper": "upper bound",
}


# ---------------------------------------------------------------------------------------------
# Infeasibility
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Conflict:
    """One reason a scenario cannot be satisfied.

    ``kind`` is ``"area"`` (an area's lower bound is above its upper bound) or ``"budget"``
    (bounds that cannot add up to the budget). ``constraints`` are ids from ``pace_loss``,
    ``pace_gain``, ``floor``, ``cap``, ``min_per_head``, ``non_negative`` and ``budget``.
    ``required`` is what the lower-side constraints need, ``allowed`` what the upper side
    allows, ``excess = required - allowed`` (> 0).
    """

    kind: Literal["area", "budget"]
    constraints: tuple[str, ...]
    year: int
    required: float
    allowed: float
    excess: float
    area: str | None = None
    message: str = ""

    def __post_init__(self) -> None:
        for key in ("required", "allowed", "excess"):
            object.__setattr__(self, key, float(getattr(self, key)))

    def to_dict(self) -> dict[str, Any]:
        """The conflict as plain JSON types."""
        out = asdict(self)
        out["constraints"] = list(self.constraints)
        return out


class ScenarioInfeasible(ValueError):  # noqa: N818 - the name the product uses
    """The constraints cannot all hold; ``conflicts`` lists which and by how much."""

    def __init__(self, conflicts: Sequence[Conflict], *, scenario: str = "") -> None:
        self.conflicts: list[Conflict] = list(conflicts)
        year = self.conflicts[0].year if self.conflicts else 0
        head = f"Scenario {scenario!r}" if scenario else "The scenario"
        areas = [c for c in self.conflicts if c.kind == "area"]
        budget = [c for c in self.conflicts if c.kind == "budget"]
        lines = [f"{head} is infeasible in year {year}: {len(self.conflicts)} conflict(s)."]
        lines += [f"- {c.message}" for c in budget]
        lines += [f"- {c.message}" for c in areas[:10]]
        if len(areas) > 10:
            lines.append(f"- ... and {len(areas) - 10} more area(s)")
        super().__init__("\n".join(lines))


def _fmt_amount(value: float) -> str:
    return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"


# ---------------------------------------------------------------------------------------------
# Core maths: target, bounds, solvers
# ---------------------------------------------------------------------------------------------


def target_allocation(population: ArrayLike, need: ArrayLike, alpha: float,
                      budget: float) -> FloatArray:
    """Proportionate-universalism target ``B [alpha p_i / sum p + (1 - alpha) n_i / sum n]``.

    NHS England's fair-shares target combined with Marmot's proportionate universalism (*Fair
    Society, Healthy Lives*, 2010); see the module docstring. Areas with zero population get 0
    (their need is ignored). Raises ``ValueError`` if no area has population, need is
    negative, or need is zero everywhere while ``alpha < 1``.
    """
    pop = np.asarray(population, dtype=float)
    need_arr = np.asarray(need, dtype=float)
    if pop.shape != need_arr.shape or pop.ndim != 1:
        raise ValueError("population and need must be 1-D arrays of the same length")
    if not (np.all(np.isfinite(pop)) and np.all(np.isfinite(need_arr))):
        raise ValueError("population and need must be finite")
    if np.any(pop < 0) or np.any(need_arr < 0):
        raise ValueError("population and need must not be negative")
    alive = pop > 0
    if not alive.any():
        raise ValueError("no area has population: nothing can be allocated")
    need_alive = np.where(alive, need_arr, 0.0)
    total_need = need_alive.sum()
    if total_need <= 0 and alpha < 1:
        raise ValueError("need is zero in every area with population: shares of need are "
                         "undefined")
    per_head = pop / pop.sum()
    by_need = need_alive / total_need if total_need > 0 else np.zeros_like(pop)
    return budget * (alpha * per_head + (1.0 - alpha) * by_need)


@dataclass(frozen=True)
class _Bounds:
    lower: FloatArray
    upper: FloatArray
    lower_parts: dict[str, FloatArray]
    upper_parts: dict[str, FloatArray]


def _as_fraction(pct: float | ArrayLike | None, n: int) -> FloatArray | None:
    if pct is None:
        return None
    arr = np.broadcast_to(np.asarray(pct, dtype=float), (n,)) / 100.0
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError("percentages must be finite and not negative")
    return arr


def _bounds(previous: FloatArray, current: FloatArray, population: FloatArray, *,
            max_gain_pct: float | None, max_loss_pct: float | None,
            floor_pct: float | ArrayLike | None, cap_pct: float | ArrayLike | None,
            min_per_head: float | None) -> _Bounds:
    n = previous.size
    lower_parts: dict[str, FloatArray] = {"non_negative": np.zeros(n)}
    upper_parts: dict[str, FloatArray] = {}
    if max_loss_pct is not None:
        lower_parts["pace_loss"] = previous * (1.0 - max_loss_pct / 100.0)
    floor = _as_fraction(floor_pct, n)
    if floor is not None:
        lower_parts["floor"] = current * floor
    if min_per_head is not None and min_per_head > 0:
        lower_parts["min_per_head"] = population * min_per_head
    if max_gain_pct is not None:
        upper_parts["pace_gain"] = previous * (1.0 + max_gain_pct / 100.0)
    cap = _as_fraction(cap_pct, n)
    if cap is not None:
        upper_parts["cap"] = current * cap
    lower = np.max(np.vstack(list(lower_parts.values())), axis=0)
    upper = (np.min(np.vstack(list(upper_parts.values())), axis=0) if upper_parts
             else np.full(n, np.inf))
    return _Bounds(lower, upper, lower_parts, upper_parts)


def _binding(parts: dict[str, FloatArray], *, lower: bool) -> NDArray:
    """Per area, the id of the constraint that sets the lower (upper) bound."""
    names = list(parts)
    stack = np.vstack([parts[k] for k in names])
    index = np.argmax(stack, axis=0) if lower else np.argmin(stack, axis=0)
    return np.asarray(names, dtype=object)[index]


def _tolerance(budget: float) -> float:
    """Slack allowed in budget feasibility checks: floating-point noise, 0.1p per £1bn."""
    return 1e-12 * max(abs(budget), 1.0)


def _conflicts(bounds: _Bounds, budget: float, year: int, codes: Sequence[str],
               population: FloatArray, min_per_head: float | None) -> list[Conflict]:
    """Every conflict between the bounds and the budget (empty when feasible)."""
    tol = _tolerance(budget)
    out: list[Conflict] = []
    lower, upper = bounds.lower, bounds.upper
    if min_per_head is not None and min_per_head > 0:
        need = float(min_per_head * population.sum())
        if need > budget + tol:
            out.append(Conflict(
                "budget", ("min_per_head", "budget"), year, need, budget, need - budget,
                message=(f"minimum per head {min_per_head:,.6g} x population "
                         f"{population.sum():,.0f} = {_fmt_amount(need)} exceeds the budget "
                         f"{_fmt_amount(budget)} by {_fmt_amount(need - budget)}")))
    finite_upper = np.where(np.isfinite(upper), np.abs(upper), 0.0)
    bad = np.flatnonzero(lower > upper + 1e-9 * np.maximum(1.0, finite_upper))
    if bad.size:
        low_name = _binding(bounds.lower_parts, lower=True)
        up_name = _binding(bounds.upper_parts, lower=False) if bounds.upper_parts else None
        order = bad[np.argsort(-(lower[bad] - upper[bad]), kind="stable")]
        for i in order:
            lo_id = str(low_name[i])
            up_id = str(up_name[i]) if up_name is not None else "none"
            out.append(Conflict(
                "area", (lo_id, up_id), year, float(lower[i]), float(upper[i]),
                float(lower[i] - upper[i]), area=str(codes[i]),
                message=(f"{codes[i]}: {_CONSTRAINT_LABELS[lo_id]} needs at least "
                         f"{_fmt_amount(lower[i])} but {_CONSTRAINT_LABELS.get(up_id, up_id)} "
                         f"allows at most {_fmt_amount(upper[i])} "
                         f"(short by {_fmt_amount(lower[i] - upper[i])})")))
    total_lower = float(lower.sum())
    if total_lower > budget + tol:
        names = _binding(bounds.lower_parts, lower=True)
        parts = {k: float(lower[names == k].sum()) for k in bounds.lower_parts
                 if k != "non_negative" and np.any(names == k)}
        detail = "; ".join(f"{_CONSTRAINT_LABELS[k]} {_fmt_amount(v)}"
                           for k, v in sorted(parts.items(), key=lambda kv: -kv[1]))
        out.append(Conflict(
            "budget", (*parts, "budget"), year, total_lower, budget, total_lower - budget,
            message=(f"lower bounds add up to {_fmt_amount(total_lower)}, more than the "
                     f"budget {_fmt_amount(budget)} by {_fmt_amount(total_lower - budget)} "
                     f"(binding: {detail})")))
    total_upper = float(upper.sum())
    if total_upper < budget - tol:
        names = _binding(bounds.upper_parts, lower=False)
        parts = {k: float(upper[names == k].sum()) for k in bounds.upper_parts
                 if np.any(names == k)}
        detail = "; ".join(f"{_CONSTRAINT_LABELS[k]} {_fmt_amount(v)}"
                           for k, v in sorted(parts.items(), key=lambda kv: -kv[1]))
        out.append(Conflict(
            "budget", (*parts, "budget"), year, budget, total_upper, budget - total_upper,
            message=(f"upper bounds add up to {_fmt_amount(total_upper)}, less than the "
                     f"budget {_fmt_amount(budget)} by {_fmt_amount(budget - total_upper)} "
                     f"(binding: {detail})")))
    return out


def _solve_quadratic(target: FloatArray, weight: FloatArray, lower: FloatArray,
                     upper: FloatArray, budget: float) -> FloatArray:
    """Exact minimiser of ``sum (x - t)^2 / w`` s.t. ``sum x = B``, ``lower <= x <= upper``.

    ``x(lam) = clip(t + lam w, lower, upper)``; ``g(lam) = sum x(lam)`` is evaluated at all
    breakpoints at once with sorted cumulative sums and the root is interpolated on its
    linear piece. Assumes feasibility (``sum lower <= B <= sum upper``) and ``w > 0``.
    """
    clipped = np.clip(target, lower, upper)
    tol = 1e-12 * max(abs(budget), 1.0)
    if abs(clipped.sum() - budget) <= tol:
        return clipped
    a = (lower - target) / weight  # lam where x leaves its lower bound
    b = (upper - target) / weight  # lam where x reaches its upper bound (inf if none)
    a_order = np.argsort(a, kind="stable")
    a_sorted = a[a_order]
    zero = np.zeros(1)
    cum_l_a = np.concatenate([zero, np.cumsum(lower[a_order])])
    cum_t_a = np.concatenate([zero, np.cumsum(target[a_order])])
    cum_w_a = np.concatenate([zero, np.cumsum(weight[a_order])])
    finite_b = np.isfinite(b)
    b_idx = np.flatnonzero(finite_b)
    b_order = b_idx[np.argsort(b[b_idx], kind="stable")]
    b_sorted = b[b_order]
    cum_u_b = np.concatenate([zero, np.cumsum(upper[b_order])])
    cum_t_b = np.concatenate([zero, np.cumsum(target[b_order])])
    cum_w_b = np.concatenate([zero, np.cumsum(weight[b_order])])
    total_lower = float(lower.sum())

    def g_and_slope(lam: FloatArray) -> tuple[FloatArray, FloatArray]:
        ka = np.searchsorted(a_sorted, lam, side="right")  # a_i <= lam: off the lower bound
        kb = np.searchsorted(b_sorted, lam, side="right")  # b_i <= lam: at the upper bound
        slope = cum_w_a[ka] - cum_w_b[kb]
        value = (total_lower - cum_l_a[ka] + cum_u_b[kb] + cum_t_a[ka] - cum_t_b[kb]
                 + lam * slope)
        return value, slope

    points = np.unique(np.concatenate([a_sorted, b_sorted]))
    values, slopes = g_and_slope(points)
    values = np.maximum.accumulate(values)  # guard against round-off
    k = int(np.searchsorted(values, budget, side="left"))
    if k == 0:
        lam = float(points[0])
    elif k == points.size:
        slope = float(slopes[-1])
        if slope <= 0:  # pragma: no cover - excluded by the feasibility check
            return np.clip(upper, lower, None)
        lam = float(points[-1] + (budget - values[-1]) / slope)
    else:
        left, right = points[k - 1], points[k]
        rise = values[k] - values[k - 1]
        lam = float(left + (budget - values[k - 1]) * (right - left) / rise) if rise > 0 \
            else float(right)
    x = np.clip(target + lam * weight, lower, upper)
    return _absorb_residual(x, lower, upper, weight, budget)


def _absorb_residual(x: FloatArray, lower: FloatArray, upper: FloatArray, weight: FloatArray,
                     budget: float) -> FloatArray:
    """Spread floating-point residue ``B - sum x`` (tiny by design) over the areas strictly
    between their bounds, in proportion to ``weight`` (i.e. a last nudge of ``lambda``); areas
    on a bound are only touched if no area is free."""
    for _ in range(3):
        residual = budget - float(x.sum())
        if abs(residual) <= 1e-13 * max(abs(budget), 1.0):
            break
        free = (x > lower) & (x < upper)
        room = free if free.any() else ((x < upper) if residual > 0 else (x > lower))
        if not room.any():
            break
        share = np.where(room, weight, 0.0)
        x = np.clip(x + residual * share / share.sum(), lower, upper)
    return x


def _solve_l1(target: FloatArray, lower: FloatArray, upper: FloatArray,
              budget: float) -> FloatArray:
    """``min sum |x - t|`` s.t. ``sum x = B``, bounds, as a sparse LP solved by HiGHS.

    ``x_i = lower_i + s_i + r_i`` with ``0 <= s_i <= c_i - lower_i`` (cost -1: moving up
    toward the clipped target ``c_i = clip(t_i, lower_i, upper_i)``) and
    ``0 <= r_i <= upper_i - c_i`` (cost +1: moving beyond it); one sparse equality row
    ``sum (s + r) = B - sum lower``. The objective equals ``sum |x - t|`` minus a constant.
    Segments of zero length are left out, so the LP has between n and 2n columns.
    """
    clipped = np.clip(target, lower, upper)
    down_len, up_len = clipped - lower, upper - clipped
    down = np.flatnonzero(down_len > 0)
    up = np.flatnonzero(up_len > 0)
    columns = down.size + up.size
    x = lower.copy()
    if columns == 0:
        return x
    cost = np.concatenate([-np.ones(down.size), np.ones(up.size)])
    row = sparse.csr_array((np.ones(columns), (np.zeros(columns, dtype=np.int64),
                                               np.arange(columns))), shape=(1, columns))
    bounds = np.column_stack([np.zeros(columns), np.concatenate([down_len[down], up_len[up]])])
    result = linprog(cost, A_eq=row, b_eq=np.array([budget - lower.sum()]), bounds=bounds,
                     method="highs")
    if result.status != 0:  # pragma: no cover - feasibility is checked before
        raise RuntimeError(f"HiGHS could not solve the allocation LP: {result.message}")
    np.add.at(x, down, result.x[:down.size])
    np.add.at(x, up, result.x[down.size:])
    x = np.clip(x, lower, upper)
    return _absorb_residual(x, lower, upper, np.maximum(target, 1e-12), budget)


def solve_year(target: ArrayLike, population: ArrayLike, lower: ArrayLike, upper: ArrayLike,
               budget: float, *, objective: str = "quadratic") -> FloatArray:
    """One year's allocation: as close to ``target`` as the bounds and budget allow.

    ``objective="quadratic"``: ``min sum (x_i - t_i)^2 / pop_i`` (exact breakpoint solver for
    the continuous quadratic knapsack problem, Helgason, Kennington & Lall 1980; Kiwiel 2008);
    ``"l1"``: ``min sum |x_i - t_i|`` (HiGHS LP). Both subject to ``sum x = budget`` and
    ``lower <= x <= upper``. Areas must have positive population. Raises
    :class:`ScenarioInfeasible` when ``sum lower > budget``, ``sum upper < budget`` or some
    ``lower_i > upper_i``.
    """
    t = np.asarray(target, dtype=float)
    pop = np.asarray(population, dtype=float)
    lo = np.asarray(lower, dtype=float)
    hi = np.asarray(upper, dtype=float)
    if np.any(pop <= 0):
        raise ValueError("solve_year needs positive populations")
    bounds = _Bounds(lo, hi, {"lower": lo}, {"upper": hi})
    conflicts = _conflicts(bounds, budget, 1, [str(i) for i in range(t.size)], pop, None)
    if conflicts:
        raise ScenarioInfeasible(conflicts)
    if objective == "quadratic":
        return _solve_quadratic(t, pop, lo, hi, budget)
    if objective == "l1":
        return _solve_l1(t, lo, hi, budget)
    raise ValueError(f"objective is {objective!r}: choose one of {', '.join(OBJECTIVES)}")


@dataclass(frozen=True)
class _Path:
    allocations: FloatArray  # (years + 1) x n, row 0 = current
    binding: NDArray  # years x n: which constraint holds each area (or at_target / free)
    forced: tuple[str, ...] = ()  # per year: "" or the way the budget broke toward-target


def allocation_path(
    current: ArrayLike,
    target: ArrayLike,
    population: ArrayLike,
    budget: float,
    *,
    years: int = 1,
    max_gain_pct: float | None = None,
    max_loss_pct: float | None = None,
    floor_pct: float | ArrayLike | None = None,
    cap_pct: float | ArrayLike | None = None,
    min_per_head: float | None = None,
    objective: str = "quadratic",
    codes: Sequence[str] | None = None,
    scenario_name: str = "",
    convergence: str = "toward_target",
) -> FloatArray:
    """Year-by-year constrained allocations, shape ``(years + 1, n)``; row 0 is ``current``.

    Year ``y`` solves :func:`solve_year` toward the fixed ``target`` with bounds relative to
    year ``y - 1`` (pace of change, modelled on NHS England's pace-of-change policy for ICB
    allocations) and to ``current`` (floors, caps; percentages may be
    per-area arrays). ``convergence="toward_target"`` (default) also keeps every area between
    its previous allocation and its target; ``"nearest"`` does not (see the module
    docstring). Every area must have positive population. Raises
    :class:`ScenarioInfeasible` at the first year whose constraints conflict.
    """
    return _allocation_path(current, target, population, budget, years=years,
                            max_gain_pct=max_gain_pct, max_loss_pct=max_loss_pct,
                            floor_pct=floor_pct, cap_pct=cap_pct, min_per_head=min_per_head,
                            objective=objective, codes=codes,
                            scenario_name=scenario_name, convergence=convergence).allocations


def _toward_target_bounds(hard: _Bounds, previous: FloatArray, target: FloatArray,
                          budget: float) -> tuple[_Bounds, str]:
    """The hard bounds narrowed to ``[min(prev, t), max(prev, t)]`` (projected onto them).

    Returns the bounds and ``""``, or, when the narrowed bounds cannot hold the budget, the
    bounds that take the smallest step away from the rule (every area at least at its
    toward-target upper bound, or at most at its lower bound, the difference spread by the
    solver) and ``"more"``/``"less"`` saying which way the budget forced areas."""
    low_t, high_t = np.minimum(previous, target), np.maximum(previous, target)
    lower = np.minimum(np.maximum(hard.lower, low_t), hard.upper)
    upper = np.maximum(np.minimum(hard.upper, high_t), hard.lower)
    lower_parts = {**hard.lower_parts, "toward_target": low_t}
    upper_parts = {**hard.upper_parts, "toward_target": high_t}
    tol = _tolerance(budget)
    if float(upper.sum()) < budget - tol:
        return _Bounds(upper, hard.upper, {"toward_target": upper}, hard.upper_parts), "more"
    if float(lower.sum()) > budget + tol:
        return _Bounds(hard.lower, lower, hard.lower_parts, {"toward_target": lower}), "less"
    return _Bounds(lower, upper, lower_parts, upper_parts), ""


def _allocation_path(current: ArrayLike, target: ArrayLike, population: ArrayLike,
                     budget: float, *, years: int, max_gain_pct: float | None,
                     max_loss_pct: float | None, floor_pct: float | ArrayLike | None,
                     cap_pct: float | ArrayLike | None, min_per_head: float | None,
                     objective: str, codes: Sequence[str] | None,
                     scenario_name: str, convergence: str = "toward_target") -> _Path:
    cur = np.asarray(current, dtype=float)
    t = np.asarray(target, dtype=float)
    pop = np.asarray(population, dtype=float)
    n = cur.size
    if t.shape != (n,) or pop.shape != (n,):
        raise ValueError("current, target and population must have the same length")
    if n == 0:
        raise ValueError("no areas to allocate to")
    if np.any(cur < 0) or not np.all(np.isfinite(cur)):
        raise ValueError("current allocations must be finite and not negative")
    if np.any(pop <= 0) or not np.all(np.isfinite(pop)):
        raise ValueError("every area in the path must have positive population")
    if not math.isfinite(budget) or budget <= 0:
        raise ValueError(f"budget is {budget!r}: it must be a positive number")
    if objective not in OBJECTIVES:
        raise ValueError(f"objective is {objective!r}: choose one of {', '.join(OBJECTIVES)}")
    if convergence not in CONVERGENCE_RULES:
        raise ValueError(f"convergence is {convergence!r}: choose one of "
                         f"{', '.join(CONVERGENCE_RULES)}")
    labels = list(codes) if codes is not None else [str(i) for i in range(n)]
    rows = [cur]
    binding_rows = []
    forced_years: list[str] = []
    tol = _tolerance(budget)
    previous = cur
    for year in range(1, years + 1):
        bounds = _bounds(previous, cur, pop, max_gain_pct=max_gain_pct,
                         max_loss_pct=max_loss_pct, floor_pct=floor_pct, cap_pct=cap_pct,
                         min_per_head=min_per_head)
        conflicts = _conflicts(bounds, budget, year, labels, pop, min_per_head)
        if conflicts:
            raise ScenarioInfeasible(conflicts, scenario=scenario_name)
        forced = ""
        if convergence == "toward_target":
            bounds, forced = _toward_target_bounds(bounds, previous, t, budget)
        forced_years.append(forced)
        if objective == "quadratic":
            x = _solve_quadratic(t, pop, bounds.lower, bounds.upper, budget)
        else:
            x = _solve_l1(t, bounds.lower, bounds.upper, budget)
        rows.append(x)
        labels = _binding_labels(x, t, bounds, tol)
        slack = 1e-9 * np.maximum(np.abs(x), 1.0) + tol
        away = (x < np.minimum(previous, t) - slack) | (x > np.maximum(previous, t) + slack)
        labels[away & (labels == "free")] = "residual"
        binding_rows.append(labels)
        previous = x
    return _Path(np.vstack(rows), np.vstack(binding_rows), tuple(forced_years))


def _binding_labels(x: FloatArray, target: FloatArray, bounds: _Bounds, tol: float) -> NDArray:
    """Per area: ``at_target``, the id of the bound it sits on (a hard limit rather than the
    toward-target rule where both hold), or ``free`` (moved to target plus the common per-head
    adjustment; :func:`_allocation_path` relabels ``residual`` a free area that this moved
    away from its target)."""
    scale = np.maximum(np.abs(x), 1.0)
    labels = np.full(x.size, "free", dtype=object)
    low_name = _binding(bounds.lower_parts, lower=True)
    at_low = (x <= bounds.lower + 1e-9 * scale) & (bounds.lower > 0)
    labels[at_low] = low_name[at_low]
    if bounds.upper_parts:
        up_name = _binding(bounds.upper_parts, lower=False)
        at_up = x >= bounds.upper - 1e-9 * scale
        labels[at_up] = up_name[at_up]
        rule_only = at_low & at_up & (up_name == "toward_target")
        labels[rule_only] = low_name[rule_only]
    labels[np.abs(x - target) <= max(tol, 0) + 1e-9 * scale] = "at_target"
    return labels
