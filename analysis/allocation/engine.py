"""Allocation modeller: redirect a resource toward need and show the equity impact.

A :class:`Scenario` (versioned, JSON-serialisable, validated) says which areas share a
resource, how it is distributed now, how big the budget is, how need is measured, how much of
the budget is shared per head and how much by need, and how fast the distribution may change.
:func:`allocate` turns it into an :class:`AllocationResult`: per area current, target and new
allocation, the year-by-year path, winners and losers, and equity measures before and after.

Method
------
**Target** (NHS England's "fair shares" / target allocation: each area's share of the budget
that a need formula says it should receive; *Technical Guide to the formulae for ICB revenue
allocations*; combined with Marmot's *proportionate universalism*: "actions must be universal,
but with a scale and intensity that is proportionate to the level of disadvantage", *Fair
Society, Healthy Lives*, The Marmot Review, 2010)::

    target_i = B * [ alpha * pop_i / sum(pop) + (1 - alpha) * need_i / sum(need) ]

``alpha = 1`` shares everything per head, ``alpha = 0`` everything by need. ``sum(target) = B``.

**Need** (``NeedSpec``), two kinds:

* ``formula``: a weighted composite of standardised need indicators. Each indicator is turned
  into a population-weighted z-score over the scenario's areas,
  ``z_ik = s_k (v_ik - mu_k) / sigma_k`` with ``mu_k = sum p v / sum p``,
  ``sigma_k^2 = sum p (v - mu_k)^2 / sum p`` and ``s_k = -1`` for indicators where higher is
  better (so a higher z always means more need). The composite is
  ``I_i = sum_k w_k z_ik / sum_k w_k`` (weights non-negative, not all zero). Because z-scores
  have no unit, the composite is mapped to a *relative need per head* with an explicit
  ``spread``: ``h_i = max(0, 1 + spread * I_i)``: an area one standard deviation above the
  composite average needs ``(1 + spread)`` times the average per head. Need is
  ``need_i = pop_i * h_i`` (``multiply_by_population``, the default) or ``h_i`` alone.
* ``index``: an existing need index used as is (e.g. the comparative illness and disability
  ratio, England = 100): ``need_i = pop_i * v_i`` (or ``v_i``). The index must be
  non-negative and oriented so that more means more need.

Indicators published for LSOAs are aggregated to the scenario's level as the indicator's
metadata says (population-weighted means for scores and rates, ratios of sums for
numerator/denominator indicators). Missing values raise an error unless ``missing =
"impute_mean"`` (z = 0, i.e. average need), and imputed areas are reported.

**GP practices** (``level = "practice"``): the areas are the practices with a 2022-23 row in
*NHS Payments to General Practice* (NHS England). Population is the practice's **weighted
patients** (Carr-Hill weighted list, 2022-23: already adjusted for age, sex, list turnover,
morbidity and rurality, but not for deprivation). Need indicators available at practice level
are ``practice_imd2019`` (the IMD 2019 score of the practice's registered population, OHID
Fingertips indicator 93553, the edition :mod:`analysis.funding.deprivation` uses for 2022-23) and
``practice_imd2015``. Two documented choices:

* ``formula`` on ``practice_imd2019`` (the shipped default): ``need = weighted patients * (1 +
  spread * z(IMD))``: deprivation scales the Carr-Hill list, which lacks it;
* ``index`` on ``practice_imd2019``: ``need = weighted patients * IMD score``, i.e. need per
  weighted patient proportional to the IMD score itself (a 20-fold range, very steep).

Practices with no weighted patients (closed or merged during the year) have zero population:
they receive nothing and are listed in ``zero_population``; their current spend stays in the
default budget and is redistributed. Negative totals (recoveries larger than payments) are
read as zero current provision. At ``sicbl``/``icb`` level GP payments are summed by the
practice's 2022-23 commissioning sub-ICB location; at ``ltla`` level by the local authority
where the practice stands (July 2023 practice list; practices not on it are reported and left
out). Population at area levels is the Census 2021 resident population.

**Current provision from a registry indicator** (``current = {"indicator": id}``, kind
``provision``): counts (aggregation ``sum``) are used as they are; rates where higher is better
become amounts ``value * pop / N`` (``N`` from a unit such as "per 100,000", else 1: e.g. FTE
GPs per 100,000 patients -> FTE GPs); ratios where higher is worse (people per unit, e.g.
patients per GP) become ``pop / value``.

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

**Equity impact** (before = current, after = final year; areas with population only):

* concentration index of allocation per head ranked by relative need per head (and by
  deprivation), :func:`analysis.stats.inequality.concentration_index`; negative = pro-need;
* slope index of inequality of allocation per head across deprivation deciles,
  :func:`analysis.stats.inequality.slope_index` on decile ratios ``sum x / sum pop`` with linearised
  standard errors between areas (seeded simulation); positive = more at the least deprived end;
* fair-share shortfall, :func:`analysis.stats.fair_share.fair_share` with need as above, and the
  share of the most deprived quintile's population living in areas below fair share
  (:func:`analysis.stats.fair_share.fair_share_by_quintile`).

Deprivation: IMD 2025 score (LSOA deciles as published; at ``ltla``/``sicbl``/``icb`` the
population-weighted mean score, with population-weighted deciles over England's areas of that
level); practices: IMD 2019 of the registered population, national registered-patient deciles
(:func:`analysis.funding.deprivation.deprivation_groups`).
"""

from __future__ import annotations

import difflib
import json
import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import sparse
from scipy.optimize import linprog

from analysis.data import IndicatorRegistry, default_registry
from analysis.stats import (
    concentration_index,
    fair_share,
    fair_share_by_quintile,
    fair_share_totals,
    slope_index,
)

__all__ = [
    "GP_PAYMENTS_SOURCE",
    "LEVELS",
    "OBJECTIVES",
    "PRACTICE_NEED_INDICATORS",
    "SCHEMA_VERSION",
    "AllocationResult",
    "Conflict",
    "CurrentSpec",
    "EquityMetrics",
    "NeedComponent",
    "NeedSpec",
    "Scenario",
    "ScenarioInfeasible",
    "allocate",
    "allocation_path",
    "compare",
    "equity_metrics",
    "load_scenario",
    "result_csv_bytes",
    "run_scenario_file",
    "solve_year",
    "target_allocation",
]

FloatArray = NDArray[np.float64]

SCHEMA_VERSION = 1
GEOGRAPHIES: tuple[str, ...] = ("england",)
LEVELS: tuple[str, ...] = ("lsoa21", "ltla", "sicbl", "icb", "practice")
OBJECTIVES: tuple[str, ...] = ("quadratic", "l1")
GP_PAYMENTS_SOURCE = "gp_payments_2022_23"
GP_PAYMENT_YEAR = "2022-23"
CURRENT_SOURCES: tuple[str, ...] = (GP_PAYMENTS_SOURCE, "indicator", "csv", "table")
NEED_KINDS: tuple[str, ...] = ("formula", "index")
MISSING_POLICIES: tuple[str, ...] = ("error", "impute_mean")
MAX_YEARS = 50
SII_REPETITIONS = 10_000
DEPRIVATION_INDICATOR = "imd2025_score"

#: Need indicators available for GP practices (OHID Fingertips 93553: IMD score of the
#: practice's registered population), keyed by the id a scenario uses.
PRACTICE_NEED_INDICATORS: dict[str, dict[str, Any]] = {
    "practice_imd2019": {
        "imd_year": 2019,
        "title": "IMD 2019 score of the practice population (Fingertips 93553)",
    },
    "practice_imd2015": {
        "imd_year": 2015,
        "title": "IMD 2015 score of the practice population (Fingertips 93553)",
    },
}

_CONSTRAINT_LABELS = {
    "pace_loss": "pace of change (maximum loss)",
    "pace_gain": "pace of change (maximum gain)",
    "floor": "floor",
    "cap": "cap",
    "min_per_head": "minimum per head",
    "non_negative": "no negative allocation",
    "budget": "budget",
    "lower": "lower bound",
    "upper": "upper bound",
}


# ---------------------------------------------------------------------------------------------
# Scenario
# ---------------------------------------------------------------------------------------------


def _close(word: str, options: Sequence[str]) -> str:
    hits = difflib.get_close_matches(str(word), list(options), n=5, cutoff=0.5)
    return f" Did you mean: {', '.join(hits)}?" if hits else ""


def _number(name: str, value: Any, *, allow_none: bool = False) -> float | None:
    if value is None:
        if allow_none:
            return None
        raise ValueError(f"{name} is missing: give a number")
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{name} is {value!r}: it must be a number")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} is {value!r}: it must be a finite number")
    return number


def _text(name: str, value: Any, *, allow_none: bool = False) -> str | None:
    if value is None and allow_none:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name} is {value!r}: it must be text")
    return value


def _check_keys(where: str, raw: Mapping[str, Any], allowed: Sequence[str]) -> None:
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where} must be a JSON object, not {type(raw).__name__}")
    for key in raw:
        if key not in allowed:
            raise ValueError(f"{where}: unknown key {key!r}.{_close(key, allowed)} "
                             f"Known keys: {', '.join(allowed)}")


@dataclass(frozen=True)
class NeedComponent:
    """One indicator of a need formula and its (non-negative) weight."""

    indicator: str
    weight: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.indicator, str) or not self.indicator.strip():
            raise ValueError("need component: indicator must be a non-empty id")
        weight = _number(f"weight of {self.indicator!r}", self.weight)
        if weight < 0:  # type: ignore[operator]
            raise ValueError(f"weight of {self.indicator!r} is {weight}: weights must not be "
                             "negative (the indicator's polarity already sets its direction)")
        object.__setattr__(self, "weight", weight)


@dataclass(frozen=True)
class NeedSpec:
    """How need is measured (see the module docstring for the formulas).

    ``kind="formula"``: ``components`` (indicator ids and weights) are standardised and
    combined, then mapped to relative need per head ``max(0, 1 + spread * composite)``.
    ``kind="index"``: the indicator ``index`` is need per head as it is.
    ``multiply_by_population``: need = population x need per head (else need per head alone).
    ``missing``: ``"error"`` or ``"impute_mean"`` for areas without a need value.
    """

    kind: Literal["formula", "index"] = "formula"
    components: tuple[NeedComponent, ...] = ()
    index: str | None = None
    spread: float = 0.25
    multiply_by_population: bool = True
    missing: Literal["error", "impute_mean"] = "error"

    def __post_init__(self) -> None:
        if self.kind not in NEED_KINDS:
            raise ValueError(f"need kind is {self.kind!r}: choose one of {', '.join(NEED_KINDS)}")
        if self.missing not in MISSING_POLICIES:
            raise ValueError(f"need missing is {self.missing!r}: choose one of "
                             f"{', '.join(MISSING_POLICIES)}")
        if not isinstance(self.multiply_by_population, bool):
            raise ValueError("need multiply_by_population must be true or false")
        components = tuple(
            c if isinstance(c, NeedComponent) else NeedComponent(*c) for c in self.components
        )
        object.__setattr__(self, "components", components)
        spread = _number("need spread", self.spread)
        if spread <= 0:  # type: ignore[operator]
            raise ValueError(f"need spread is {spread}: it must be positive")
        object.__setattr__(self, "spread", spread)
        if self.kind == "formula":
            if not components:
                raise ValueError("need formula has no components: give at least one indicator")
            if self.index is not None:
                raise ValueError("need formula takes components, not index")
            ids = [c.indicator for c in components]
            dup = sorted({i for i in ids if ids.count(i) > 1})
            if dup:
                raise ValueError(f"need formula lists {', '.join(dup)} more than once")
            total = sum(c.weight for c in components)
            if total <= 0:
                raise ValueError("need formula weights sum to zero: give at least one positive "
                                 "weight")
        else:
            if not isinstance(self.index, str) or not self.index.strip():
                raise ValueError("need kind 'index' needs the id of the index indicator")
            if components:
                raise ValueError("need kind 'index' takes index, not components")

    def indicator_ids(self) -> list[str]:
        return [c.indicator for c in self.components] if self.kind == "formula" else [
            str(self.index)]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        if self.kind == "formula":
            out["components"] = [{"indicator": c.indicator, "weight": c.weight}
                                 for c in self.components]
        else:
            out["index"] = self.index
        out["spread"] = self.spread
        out["multiply_by_population"] = self.multiply_by_population
        out["missing"] = self.missing
        return out

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> NeedSpec:
        _check_keys("need", raw, ("kind", "components", "index", "spread",
                                  "multiply_by_population", "missing"))
        kind = raw.get("kind", "formula")
        components_raw = raw.get("components", [])
        if isinstance(components_raw, Mapping):
            components_raw = [{"indicator": k, "weight": v} for k, v in components_raw.items()]
        if not isinstance(components_raw, list):
            raise ValueError("need components must be a list of {indicator, weight} objects")
        components = []
        for item in components_raw:
            if isinstance(item, str):
                item = {"indicator": item}
            _check_keys("need component", item, ("indicator", "weight"))
            if "indicator" not in item:
                raise ValueError("need component without an indicator")
            components.append(NeedComponent(_text("need component indicator",
                                                  item["indicator"]),  # type: ignore[arg-type]
                                            item.get("weight", 1.0)))
        kwargs: dict[str, Any] = {"kind": kind, "components": tuple(components)}
        for key in ("index", "spread", "multiply_by_population", "missing"):
            if key in raw:
                kwargs[key] = raw[key]
        return cls(**kwargs)


@dataclass(frozen=True)
class CurrentSpec:
    """Where the current distribution comes from.

    ``source``: ``"gp_payments_2022_23"`` (practices' 2022-23 total NHS payments, summed to the
    level), ``"indicator"`` (a provision indicator id, ``indicator``), ``"csv"`` (``path`` to
    a CSV with ``area_code`` and ``column``; relative paths are read from the scenario file's
    folder) or ``"table"`` (``values``: (area code, amount) pairs kept in the scenario).
    """

    source: str
    indicator: str | None = None
    path: str | None = None
    column: str = "value"
    values: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        if self.source not in CURRENT_SOURCES:
            raise ValueError(f"current source is {self.source!r}: choose one of "
                             f"{', '.join(CURRENT_SOURCES)}{_close(self.source, CURRENT_SOURCES)}")
        need = {"indicator": self.indicator, "csv": self.path}
        for source, value in need.items():
            if self.source == source and (not isinstance(value, str) or not value.strip()):
                key = "indicator" if source == "indicator" else "path"
                raise ValueError(f"current source {source!r} needs {key}")
        if self.source != "indicator" and self.indicator is not None:
            raise ValueError("current: indicator is only used with source 'indicator'")
        if self.source != "csv" and self.path is not None:
            raise ValueError("current: path is only used with source 'csv'")
        if not isinstance(self.column, str) or not self.column:
            raise ValueError("current column must be a column name")
        pairs = []
        for pair in self.values:
            code, amount = pair
            amount = _number(f"current value of {code!r}", amount)
            pairs.append((str(code), amount))
        object.__setattr__(self, "values", tuple(pairs))
        if self.source == "table" and not pairs:
            raise ValueError("current source 'table' needs values {area code: amount}")
        if self.source != "table" and pairs:
            raise ValueError("current: values are only used with source 'table'")

    def to_json_value(self) -> Any:
        if self.source == GP_PAYMENTS_SOURCE:
            return {"source": self.source}
        if self.source == "indicator":
            return {"source": "indicator", "indicator": self.indicator}
        if self.source == "csv":
            return {"source": "csv", "path": self.path, "column": self.column}
        return {"source": "table", "values": dict(self.values)}

    @classmethod
    def from_json_value(cls, raw: Any) -> CurrentSpec:
        if isinstance(raw, str):
            if raw == GP_PAYMENTS_SOURCE:
                return cls(GP_PAYMENTS_SOURCE)
            if raw.lower().endswith(".csv"):
                return cls("csv", path=raw)
            return cls("indicator", indicator=raw)
        _check_keys("current", raw, ("source", "indicator", "path", "column", "values"))
        source = raw.get("source")
        if source is None:
            source = next((s for s, k in (("indicator", "indicator"), ("csv", "path"),
                                          ("table", "values")) if k in raw), None)
        if source is None:
            raise ValueError("current needs a source: 'gp_payments_2022_23', an indicator, a "
                             "CSV path or a table of values")
        values = raw.get("values", {})
        if not isinstance(values, Mapping):
            raise ValueError("current values must be an object {area code: amount}")
        return cls(source, indicator=raw.get("indicator"), path=raw.get("path"),
                   column=raw.get("column", "value"), values=tuple(values.items()))


_SCENARIO_KEYS = ("schema_version", "name", "title", "description", "geography", "area",
                  "level", "current", "budget", "need", "alpha", "max_gain_pct",
                  "max_loss_pct", "floor_pct", "cap_pct", "min_per_head", "per_head_scale",
                  "years", "objective", "seed")


@dataclass(frozen=True)
class Scenario:
    """A resource-allocation scenario (schema version 1). Validated on construction.

    Fields: ``name`` (id), ``level`` (``lsoa21``, ``ltla``, ``sicbl``, ``icb`` or
    ``practice``), ``current`` (:class:`CurrentSpec`), ``need`` (:class:`NeedSpec`),
    ``geography`` (``"england"``), ``area`` (optional study area code: only the areas or
    practices inside it), ``budget`` (``None`` = current total), ``alpha`` (share of the budget
    allocated per head, 0-1), ``max_gain_pct``/``max_loss_pct`` (pace of change per year
    relative to the previous year; ``None`` = unlimited), ``floor_pct``/``cap_pct`` (no area
    below/above this % of its current allocation), ``min_per_head`` (in per-head units, see
    ``per_head_scale``), ``per_head_scale`` (per-head figures are reported per this many
    people: 1 for pounds per head, 100000 for FTE per 100,000), ``years`` (1-50),
    ``objective`` (``"quadratic"`` or ``"l1"``), ``seed`` (SII simulation).
    """

    name: str
    level: str
    current: CurrentSpec
    need: NeedSpec
    title: str = ""
    description: str = ""
    geography: str = "england"
    area: str | None = None
    budget: float | None = None
    alpha: float = 0.5
    max_gain_pct: float | None = None
    max_loss_pct: float | None = None
    floor_pct: float | None = None
    cap_pct: float | None = None
    min_per_head: float | None = None
    per_head_scale: float = 1.0
    years: int = 1
    objective: str = "quadratic"
    seed: int = 1
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        if self.schema_version != SCHEMA_VERSION or isinstance(self.schema_version, bool):
            raise ValueError(f"schema_version is {self.schema_version!r}: this version of "
                             f"Fairshare reads scenario schema {SCHEMA_VERSION}")
        for key in ("name", "title", "description"):
            _text(key, getattr(self, key))
        if not self.name.strip():
            raise ValueError("name must not be empty")
        if self.geography not in GEOGRAPHIES:
            raise ValueError(f"Unknown geography {self.geography!r}: allocation scenarios cover "
                             f"{', '.join(GEOGRAPHIES)}{_close(self.geography, GEOGRAPHIES)}")
        if self.level not in LEVELS:
            raise ValueError(f"Unknown level {self.level!r}: choose one of {', '.join(LEVELS)}."
                             f"{_close(self.level, LEVELS)}")
        if self.area is not None and (not isinstance(self.area, str) or not self.area.strip()):
            raise ValueError("area must be an area code or null")
        if not isinstance(self.current, CurrentSpec):
            raise ValueError("current must be a CurrentSpec")
        if not isinstance(self.need, NeedSpec):
            raise ValueError("need must be a NeedSpec")
        if self.current.source == GP_PAYMENTS_SOURCE and self.level == "lsoa21":
            raise ValueError("GP payments are available by practice, sub-ICB location, ICB or "
                             "local authority, not by LSOA")
        if self.current.source == "indicator" and self.level == "practice":
            raise ValueError("registry provision indicators are area-based: at practice level "
                             "use gp_payments_2022_23, a CSV or a table by practice code")
        budget = _number("budget", self.budget, allow_none=True)
        if budget is not None and budget <= 0:
            raise ValueError(f"budget is {budget:g}: it must be positive (or null for the "
                             "current total)")
        alpha = _number("alpha", self.alpha)
        if not 0 <= alpha <= 1:  # type: ignore[operator]
            raise ValueError(f"alpha is {alpha:g}: it must lie between 0 (all by need) and 1 "
                             "(all per head)")
        values: dict[str, Any] = {"budget": budget, "alpha": alpha}
        for key in ("max_gain_pct", "max_loss_pct", "floor_pct", "cap_pct", "min_per_head"):
            number = _number(key, getattr(self, key), allow_none=True)
            if number is not None and number < 0:
                raise ValueError(f"{key} is {number:g}: it must not be negative")
            values[key] = number
        scale = _number("per_head_scale", self.per_head_scale)
        if scale <= 0:  # type: ignore[operator]
            raise ValueError(f"per_head_scale is {scale:g}: it must be positive")
        values["per_head_scale"] = scale
        if values["max_loss_pct"] is not None and values["max_loss_pct"] > 100:
            raise ValueError(f"max_loss_pct is {values['max_loss_pct']:g}: an area cannot lose "
                             "more than 100% a year")
        if values["cap_pct"] is not None and values["cap_pct"] <= 0:
            raise ValueError("cap_pct must be positive")
        floor, cap = values["floor_pct"], values["cap_pct"]
        if floor is not None and cap is not None and floor > cap:
            raise ValueError(f"floor_pct ({floor:g}%) is above cap_pct ({cap:g}%): no area "
                             "could satisfy both")
        for key in ("years", "seed"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int | np.integer):
                raise ValueError(f"{key} is {value!r}: it must be a whole number")
            values[key] = int(value)
        if not 1 <= values["years"] <= MAX_YEARS:
            raise ValueError(f"years is {values['years']}: it must be between 1 and {MAX_YEARS}")
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective is {self.objective!r}: choose one of "
                             f"{', '.join(OBJECTIVES)}")
        for key, value in values.items():
            object.__setattr__(self, key, value)

    # --- serialisation -----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The scenario as plain JSON types (canonical form; schema version first)."""
        out: dict[str, Any] = {"schema_version": self.schema_version}
        for f in fields(self):
            if f.name == "schema_version":
                continue
            value = getattr(self, f.name)
            if f.name == "current":
                value = value.to_json_value()
            elif f.name == "need":
                value = value.to_dict()
            out[f.name] = value
        return out

    def to_json(self, *, indent: int | None = 2) -> str:
        """JSON text of :meth:`to_dict` (``Scenario.from_json`` reads it back unchanged)."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Scenario:
        """Validate and build a scenario from a mapping (strict: unknown keys are refused)."""
        _check_keys("scenario", raw, _SCENARIO_KEYS)
        if "schema_version" not in raw:
            raise ValueError(f"scenario has no schema_version (this Fairshare reads version "
                             f"{SCHEMA_VERSION})")
        missing = [k for k in ("name", "level", "current", "need") if k not in raw]
        if missing:
            raise ValueError(f"scenario is missing {', '.join(missing)}")
        if not isinstance(raw["need"], Mapping):
            raise ValueError("need must be an object")
        kwargs = {k: v for k, v in raw.items() if k not in ("current", "need")}
        return cls(current=CurrentSpec.from_json_value(raw["current"]),
                   need=NeedSpec.from_dict(raw["need"]), **kwargs)

    @classmethod
    def from_json(cls, text: str) -> Scenario:
        """Parse JSON text written by :meth:`to_json` or by hand."""
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"scenario is not valid JSON: {exc}") from exc
        return cls.from_dict(raw)

    def replace(self, **changes: Any) -> Scenario:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario JSON file (errors name the file)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"cannot read scenario {file}: {exc}") from exc
    try:
        return Scenario.from_json(text)
    except ValueError as exc:
        raise ValueError(f"{file}: {exc}") from exc


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

    Areas with zero population get 0 (their need is ignored). Raises ``ValueError`` if no
    area has population, need is negative, or need is zero everywhere while ``alpha < 1``.
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

    ``objective="quadratic"``: ``min sum (x_i - t_i)^2 / pop_i`` (exact breakpoint solver);
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
) -> FloatArray:
    """Year-by-year constrained allocations, shape ``(years + 1, n)``; row 0 is ``current``.

    Year ``y`` solves :func:`solve_year` toward the fixed ``target`` with bounds relative to
    year ``y - 1`` (pace of change) and to ``current`` (floors, caps; percentages may be
    per-area arrays). Every area must have positive population. Raises
    :class:`ScenarioInfeasible` at the first year whose constraints conflict.
    """
    return _allocation_path(current, target, population, budget, years=years,
                            max_gain_pct=max_gain_pct, max_loss_pct=max_loss_pct,
                            floor_pct=floor_pct, cap_pct=cap_pct, min_per_head=min_per_head,
                            objective=objective, codes=codes,
                            scenario_name=scenario_name).allocations


def _allocation_path(current: ArrayLike, target: ArrayLike, population: ArrayLike,
                     budget: float, *, years: int, max_gain_pct: float | None,
                     max_loss_pct: float | None, floor_pct: float | ArrayLike | None,
                     cap_pct: float | ArrayLike | None, min_per_head: float | None,
                     objective: str, codes: Sequence[str] | None,
                     scenario_name: str) -> _Path:
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
    labels = list(codes) if codes is not None else [str(i) for i in range(n)]
    rows = [cur]
    binding_rows = []
    tol = _tolerance(budget)
    previous = cur
    for year in range(1, years + 1):
        bounds = _bounds(previous, cur, pop, max_gain_pct=max_gain_pct,
                         max_loss_pct=max_loss_pct, floor_pct=floor_pct, cap_pct=cap_pct,
                         min_per_head=min_per_head)
        conflicts = _conflicts(bounds, budget, year, labels, pop, min_per_head)
        if conflicts:
            raise ScenarioInfeasible(conflicts, scenario=scenario_name)
        if objective == "quadratic":
            x = _solve_quadratic(t, pop, bounds.lower, bounds.upper, budget)
        else:
            x = _solve_l1(t, bounds.lower, bounds.upper, budget)
        rows.append(x)
        binding_rows.append(_binding_labels(x, t, bounds, tol))
        previous = x
    return _Path(np.vstack(rows), np.vstack(binding_rows))


def _binding_labels(x: FloatArray, target: FloatArray, bounds: _Bounds, tol: float) -> NDArray:
    """Per area: ``at_target``, the id of the bound it sits on, or ``free`` (moved to target
    plus the common per-head adjustment)."""
    scale = np.maximum(np.abs(x), 1.0)
    labels = np.full(x.size, "free", dtype=object)
    low_name = _binding(bounds.lower_parts, lower=True)
    at_low = (x <= bounds.lower + 1e-9 * scale) & (bounds.lower > 0)
    labels[at_low] = low_name[at_low]
    if bounds.upper_parts:
        up_name = _binding(bounds.upper_parts, lower=False)
        at_up = x >= bounds.upper - 1e-9 * scale
        labels[at_up] = up_name[at_up]
    labels[np.abs(x - target) <= max(tol, 0) + 1e-9 * scale] = "at_target"
    return labels


# ---------------------------------------------------------------------------------------------
# Equity measures
# ---------------------------------------------------------------------------------------------


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
    ``distance_to_target``: ``sum |x - target|``.
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

    def to_dict(self) -> dict[str, float | None]:
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
    """Equity measures of one allocation (see :class:`EquityMetrics`).

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
    distance = nan
    if target is not None:
        gap = x / per_head_scale - np.asarray(target, dtype=float)[alive]
        distance = float(np.abs(gap).sum())
    return EquityMetrics(ci, ci_lo, ci_hi, ci_dep, sii, sii_lo, sii_hi, rii, shortfall,
                         share_need_below, most_below, q_most, q_least, distance)


# ---------------------------------------------------------------------------------------------
# Data: areas, current provision, need
# ---------------------------------------------------------------------------------------------


@dataclass
class _Areas:
    frame: pd.DataFrame  # index area_code: name, population, deprivation, decile, quintile
    notes: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)


def _england_level_frame(level: str) -> pd.DataFrame:
    from analysis.data import aggregate, load_pack_table, spec_for

    spec = spec_for("england")
    lv = spec.level(level)
    table = load_pack_table("england")
    registry = default_registry()
    imd = registry.get(DEPRIVATION_INDICATOR).data.set_index("area_code")
    if level == "lsoa21":
        frame = pd.DataFrame({
            "name": table[lv.name_column].astype(str).to_numpy(),
            "population": table[spec.population_column].astype(float).to_numpy(),
        }, index=pd.Index(table[lv.code_column].astype(str).to_numpy(), name="area_code"))
        frame["deprivation"] = imd["value"].reindex(frame.index).astype(float)
        if "decile" in imd.columns:
            decile = imd["decile"].reindex(frame.index).astype(float)
        else:
            decile = registry.get("imd2025_decile").data.set_index("area_code")["value"]
            decile = decile.reindex(frame.index).astype(float)
        frame["decile"] = decile
        frame["quintile"] = np.ceil(decile / 2.0)
        return frame
    from analysis.funding import assign_deprivation_groups

    agg = aggregate(imd["value"], "england", level, how="population_weighted_mean")
    frame = pd.DataFrame({
        "name": agg["name"].astype(str).to_numpy(),
        "population": agg["population"].astype(float).to_numpy(),
        "deprivation": agg["value"].astype(float).to_numpy(),
    }, index=pd.Index(agg["code"].astype(str).to_numpy(), name="area_code"))
    weights = frame["population"]
    frame["decile"] = assign_deprivation_groups(frame["deprivation"], weights, 10).astype(
        "Float64").astype(float)
    frame["quintile"] = assign_deprivation_groups(frame["deprivation"], weights, 5).astype(
        "Float64").astype(float)
    return frame


def _payments_year() -> pd.DataFrame:
    from analysis.funding import load_gp_payments

    payments = load_gp_payments()
    rows = payments.loc[payments["year"].astype(str) == GP_PAYMENT_YEAR]
    return rows


def _practice_frame() -> pd.DataFrame:
    from analysis.funding import deprivation_groups, load_gp_payments, load_practice_imd

    rows = _payments_year()
    codes = rows["practice_code"].astype(str).to_numpy()
    frame = pd.DataFrame({
        "name": rows["practice_name"].astype(str).to_numpy(),
        "population": rows["weighted_patients"].astype(float).fillna(0.0).to_numpy(),
    }, index=pd.Index(codes, name="area_code"))
    imd = load_practice_imd()
    groups = {}
    for group in ("decile", "quintile"):
        table = deprivation_groups(load_gp_payments(), imd, year=GP_PAYMENT_YEAR,
                                   groups=group)  # type: ignore[arg-type]
        groups[group] = table.set_index(table["practice_code"].astype(str))
    score = groups["decile"]["imd_score"]
    frame["deprivation"] = score.reindex(frame.index).astype(float)
    for group in ("decile", "quintile"):
        frame[group] = groups[group][group].astype("Float64").astype(float).reindex(frame.index)
    return frame


def _study_area_codes(scenario: Scenario, frame: pd.DataFrame) -> pd.Index:
    if scenario.area is None or scenario.area.strip().upper() == "E92000001":
        return frame.index
    if scenario.level == "practice":
        from analysis.access import practices_in_area

        wanted = practices_in_area(scenario.area) or []
        keep = frame.index.intersection(pd.Index(wanted))
    else:
        from analysis.data import load_pack_table, small_area_mask, spec_for

        mask = small_area_mask("england", scenario.area)
        column = spec_for("england").level(scenario.level).code_column
        inside = load_pack_table("england").loc[mask.to_numpy(), column].astype(str).unique()
        keep = frame.index.intersection(pd.Index(inside))
    if keep.empty:
        raise ValueError(f"No {scenario.level} areas in {scenario.area}")
    return keep


def _load_areas(scenario: Scenario) -> _Areas:
    if scenario.level == "practice":
        frame = _practice_frame()
        sources = [f"NHS Payments to General Practice {GP_PAYMENT_YEAR} (weighted patients)",
                   "OHID Fingertips 93553 (IMD 2019 of practice populations)"]
    else:
        frame = _england_level_frame(scenario.level)
        sources = ["Census 2021 population (ONS)", "English Indices of Deprivation 2025"]
    keep = _study_area_codes(scenario, frame)
    return _Areas(frame.loc[keep].copy(), [], sources)


def _per_unit(unit: str) -> float:
    match = re.search(r"per\s+([\d,]+)", unit or "")
    if not match:
        return 1.0
    return float(match.group(1).replace(",", "")) or 1.0


def _indicator_at_level(indicator_id: str, level: str, registry: IndicatorRegistry,
                        *, purpose: str) -> tuple[pd.Series, Any]:
    """Values of an indicator for every area of ``level`` (index area code), and its meta."""
    from analysis.data import aggregate

    if level == "practice" and indicator_id in PRACTICE_NEED_INDICATORS:
        from analysis.funding import load_practice_imd

        imd = load_practice_imd()
        year = PRACTICE_NEED_INDICATORS[indicator_id]["imd_year"]
        sel = imd.loc[imd["imd_year"] == year]
        series = pd.Series(sel["imd_score"].astype(float).to_numpy(),
                           index=sel["practice_code"].astype(str).to_numpy())
        return series, None
    known = registry.ids()
    if indicator_id not in known:
        options = [*known, *PRACTICE_NEED_INDICATORS] if level == "practice" else known
        raise ValueError(f"Unknown indicator {indicator_id!r} ({purpose})."
                         f"{_close(indicator_id, options)}")
    meta = registry.meta(indicator_id)
    data = registry.get(indicator_id).data.copy()
    data["area_code"] = data["area_code"].astype(str)
    data = data.set_index("area_code")
    if meta.geography == level:
        return data["value"].astype(float), meta
    if level == "practice":
        raise ValueError(
            f"Indicator {indicator_id!r} is published for {meta.geography} areas; at practice "
            f"level the need indicators are {', '.join(PRACTICE_NEED_INDICATORS)} (or a "
            "registry indicator with geography 'practice')")
    if meta.geography != "lsoa21":
        raise ValueError(f"Indicator {indicator_id!r} is published for {meta.geography} and "
                         f"cannot be used at {level} level")
    if meta.aggregation == "none":
        raise ValueError(f"Indicator {indicator_id!r} ({meta.title}) cannot be aggregated to "
                         f"{level} (e.g. deciles or ranks): use a score instead")
    if meta.aggregation == "ratio" and {"numerator", "denominator"} <= set(data.columns):
        out = aggregate(data["numerator"], "england", level, how="ratio",
                        denominators=data["denominator"])
    else:
        how = meta.aggregation if meta.aggregation != "ratio" else "population_weighted_mean"
        out = aggregate(data["value"], "england", level, how=how)  # type: ignore[arg-type]
    return pd.Series(out["value"].astype(float).to_numpy(),
                     index=out["code"].astype(str).to_numpy()), meta


def _missing_message(what: str, codes: Sequence[str]) -> str:
    shown = ", ".join(map(str, list(codes)[:10]))
    more = f" and {len(codes) - 10} more" if len(codes) > 10 else ""
    return f"{what} for {len(codes)} area(s): {shown}{more}"


def _current_gp_payments(scenario: Scenario, areas: _Areas) -> pd.Series:
    rows = _payments_year()
    amount = rows["total_payments"].astype(float)
    negative = amount < 0
    if negative.any():
        areas.notes.append(
            f"{int(negative.sum())} practice(s) had a negative 2022-23 total (recoveries larger "
            f"than payments, {_fmt_amount(float(-amount[negative].sum()))} in all); read as "
            "zero current provision")
    amount = amount.clip(lower=0.0)
    codes = rows["practice_code"].astype(str)
    by_practice = pd.Series(amount.to_numpy(), index=codes.to_numpy())
    if scenario.level == "practice":
        return by_practice
    from analysis.data import load_pack_table

    table = load_pack_table("england")
    if scenario.level in ("sicbl", "icb"):
        lookup = (table[["sicbl_code_nhs", "sicbl_code", "icb_code"]].drop_duplicates()
                  .set_index("sicbl_code_nhs"))
        column = "sicbl_code" if scenario.level == "sicbl" else "icb_code"
        area = rows["ccg_or_sicb_code"].astype(str).map(lookup[column]).to_numpy()
        basis = "the practice's 2022-23 commissioning sub-ICB location"
    else:
        from analysis.access import load_gp_practices

        practices = load_gp_practices()
        mapping = pd.Series(practices["ltla_code"].astype(str).to_numpy(),
                            index=practices["practice_code"].astype(str).to_numpy())
        area = codes.map(mapping).to_numpy()
        basis = "the local authority where the practice stands (July 2023 practice list)"
    area_series = pd.Series(area, index=codes.to_numpy())
    unmapped = area_series.isna() | area_series.isin(["nan", "None", ""])
    if unmapped.any():
        lost = _fmt_amount(float(by_practice[unmapped].sum()))
        areas.notes.append(
            f"{int(unmapped.sum())} practice(s) with {lost} "
            f"of 2022-23 payments have no {scenario.level} (not on the July 2023 list) and are "
            "left out")
    areas.notes.append(f"GP payments summed by {basis}")
    summed = by_practice[~unmapped].groupby(area_series[~unmapped].to_numpy()).sum()
    return summed.reindex(areas.frame.index, fill_value=0.0)


def _current_indicator(indicator_id: str, scenario: Scenario, areas: _Areas,
                       registry: IndicatorRegistry) -> pd.Series:
    from analysis.data import aggregate, load_pack_table

    if indicator_id not in registry.ids():
        provision = [m.id for m in registry.metas(kind="provision")]
        raise ValueError(f"Unknown indicator {indicator_id!r} (current provision)."
                         f"{_close(indicator_id, registry.ids())} Provision indicators: "
                         f"{', '.join(provision) or 'none'}")
    meta = registry.meta(indicator_id)
    if meta.kind != "provision":
        provision = [m.id for m in registry.metas(kind="provision")]
        raise ValueError(f"Indicator {indicator_id!r} is a {meta.kind} indicator, not "
                         f"provision; provision indicators: {', '.join(provision) or 'none'}")
    if meta.geography != "lsoa21":
        raise ValueError(f"Provision indicator {indicator_id!r} is published for "
                         f"{meta.geography}; only LSOA-based provision indicators are supported")
    data = registry.get(indicator_id).data.copy()
    values = data.set_index(data["area_code"].astype(str))["value"].astype(float)
    table = load_pack_table("england")
    population = table["population"].astype(float)
    values = values.reindex(table.index)
    missing = values.index[values.isna()]
    if len(missing):
        raise ValueError(_missing_message(f"current provision {indicator_id!r} is missing",
                                          list(missing)))
    if meta.aggregation == "sum":
        amount = values
        rule = "counts used as published"
    elif meta.polarity == "higher_is_worse":
        if (values <= 0).any():
            raise ValueError(f"{indicator_id!r} has zero or negative values: cannot invert "
                             "people-per-unit into units")
        amount = population / values
        rule = "population / value (people per unit -> units)"
    else:
        per = _per_unit(meta.unit)
        amount = values * population / per
        rule = f"value x population / {per:,.0f}" if per != 1 else "value x population"
    areas.notes.append(f"Current provision from {meta.title} ({meta.unit}): {rule}")
    areas.sources.append(f"{meta.title} ({meta.source}, {meta.period})")
    if scenario.level == "lsoa21":
        return amount.reindex(areas.frame.index)
    out = aggregate(amount, "england", scenario.level, how="sum")
    return pd.Series(out["value"].to_numpy(), index=out["code"].astype(str).to_numpy()
                     ).reindex(areas.frame.index)


def _current_from_table(raw: pd.DataFrame | pd.Series, column: str, origin: str) -> pd.Series:
    if isinstance(raw, pd.Series):
        series = raw.copy()
        series.index = series.index.astype(str)
    else:
        if "area_code" not in raw.columns or column not in raw.columns:
            raise ValueError(f"{origin}: needs columns area_code and {column!r}; found "
                             f"{', '.join(map(str, raw.columns))}")
        codes = raw["area_code"].astype(str).str.strip()
        dup = codes[codes.duplicated()]
        if len(dup):
            raise ValueError(f"{origin}: duplicate area codes: {', '.join(dup.unique()[:10])}")
        series = pd.Series(pd.to_numeric(raw[column], errors="coerce").to_numpy(),
                           index=codes.to_numpy())
        bad = raw[column].notna() & series.isna().to_numpy()
        if bad.any():
            raise ValueError(f"{origin}: column {column!r} is not numeric (e.g. "
                             f"{raw.loc[bad, column].iloc[0]!r})")
    return series.astype(float)


def _current(scenario: Scenario, areas: _Areas, registry: IndicatorRegistry,
             base_dir: Path | None, override: pd.DataFrame | pd.Series | None) -> pd.Series:
    spec = scenario.current
    if override is not None:
        series = _current_from_table(override, spec.column, "current table")
        areas.sources.append("current provision supplied by the user")
    elif spec.source == GP_PAYMENTS_SOURCE:
        series = _current_gp_payments(scenario, areas)
        areas.sources.append(f"NHS Payments to General Practice {GP_PAYMENT_YEAR} (NHS England)")
    elif spec.source == "indicator":
        series = _current_indicator(str(spec.indicator), scenario, areas, registry)
    elif spec.source == "csv":
        path = Path(str(spec.path))
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        try:
            raw = pd.read_csv(path, dtype={"area_code": str}, comment="#")
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read current provision CSV {path}: {exc}") from exc
        series = _current_from_table(raw, spec.column, str(path))
        areas.sources.append(f"current provision from {path.name}")
    else:
        series = pd.Series(dict(spec.values), dtype=float)
        areas.sources.append("current provision from the scenario's table")
    if override is not None or spec.source in ("csv", "table"):
        unknown = series.index.difference(areas.frame.index)
        if len(unknown):
            raise ValueError(_missing_message(
                f"current provision names codes that are not {scenario.level} areas of the "
                "scenario", list(unknown)))
    series = series.reindex(areas.frame.index)
    missing = series.index[series.isna()]
    if len(missing):
        raise ValueError(_missing_message("current provision is missing", list(missing)))
    negative = series.index[series < 0]
    if len(negative):
        raise ValueError(_missing_message("current provision is negative", list(negative)))
    return series.astype(float)


def _weighted_z(values: FloatArray, weights: FloatArray, name: str) -> FloatArray:
    mean = float(np.sum(weights * values) / np.sum(weights))
    sd = math.sqrt(float(np.sum(weights * (values - mean) ** 2) / np.sum(weights)))
    if sd <= 0:
        raise ValueError(f"need indicator {name!r} is the same in every area: it cannot be "
                         "standardised")
    return (values - mean) / sd


def _need(scenario: Scenario, areas: _Areas, registry: IndicatorRegistry) -> pd.Series:
    """Need per area (aligned to the areas; 0 where population is 0)."""
    spec = scenario.need
    frame = areas.frame
    pop = frame["population"].to_numpy(dtype=float)
    alive = pop > 0
    if spec.kind == "formula":
        composite = np.zeros(len(frame))
        total_weight = sum(c.weight for c in spec.components)
        for component in spec.components:
            series, meta = _indicator_at_level(component.indicator, scenario.level, registry,
                                               purpose="need")
            if meta is not None and meta.polarity == "neutral":
                raise ValueError(f"need indicator {component.indicator!r} has neutral polarity: "
                                 "it does not say whether more means more need")
            values = series.reindex(frame.index).to_numpy(dtype=float)
            missing = alive & ~np.isfinite(values)
            ok = alive & np.isfinite(values)
            if not ok.any():
                raise ValueError(f"need indicator {component.indicator!r} has no value for any "
                                 "area of the scenario")
            z = np.zeros(len(frame))
            z[ok] = _weighted_z(values[ok], pop[ok], component.indicator)
            if meta is not None and meta.polarity == "higher_is_better":
                z = -z
            if missing.any():
                if spec.missing == "error":
                    raise ValueError(_missing_message(
                        f"need indicator {component.indicator!r} has no value",
                        list(frame.index[missing])) + " (set need missing to 'impute_mean' to "
                        "give them average need)")
                areas.notes.append(
                    f"{int(missing.sum())} area(s) without {component.indicator} were given "
                    f"average need (z = 0): {', '.join(frame.index[missing][:10])}")
            composite += component.weight * z / total_weight
            areas.sources.append(_indicator_source(component.indicator, meta))
        relative = 1.0 + spec.spread * composite
        clipped = alive & (relative < 0)
        if clipped.any():
            areas.notes.append(f"{int(clipped.sum())} area(s) had a negative need per head "
                               f"(1 + {spec.spread:g} x composite < 0) and were set to zero")
        per_head = np.clip(relative, 0.0, None)
    else:
        series, meta = _indicator_at_level(str(spec.index), scenario.level, registry,
                                           purpose="need index")
        if meta is not None and meta.polarity == "higher_is_better":
            raise ValueError(f"need index {spec.index!r} is 'higher is better': an index used "
                             "as is must grow with need (use a formula, which flips it)")
        values = series.reindex(frame.index).to_numpy(dtype=float)
        missing = alive & ~np.isfinite(values)
        if missing.any():
            if spec.missing == "error":
                raise ValueError(_missing_message(f"need index {spec.index!r} has no value",
                                                  list(frame.index[missing])))
            ok = alive & np.isfinite(values)
            mean = float(np.average(values[ok], weights=pop[ok]))
            values = np.where(missing, mean, values)
            areas.notes.append(f"{int(missing.sum())} area(s) without {spec.index} were given "
                               f"the population-weighted mean {mean:.3g}")
        if np.any(values[alive] < 0):
            bad = frame.index[alive & (values < 0)]
            raise ValueError(_missing_message(f"need index {spec.index!r} is negative",
                                              list(bad)) + "; use a need formula instead")
        per_head = np.where(alive, values, 0.0)
        areas.sources.append(_indicator_source(str(spec.index), meta))
    need = per_head * pop if spec.multiply_by_population else per_head
    need = np.where(alive, need, 0.0)
    if need.sum() <= 0:
        raise ValueError("need is zero in every area of the scenario")
    return pd.Series(need, index=frame.index)


def _indicator_source(indicator_id: str, meta: Any) -> str:
    if meta is None:
        return PRACTICE_NEED_INDICATORS[indicator_id]["title"]
    return f"{meta.title} ({meta.source}, {meta.period})"


# ---------------------------------------------------------------------------------------------
# Result
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# Comparison and batch use
# ---------------------------------------------------------------------------------------------

COMPARE_METRICS: tuple[str, ...] = (
    "level", "years", "alpha", "budget", "total_allocated", "areas", "areas_zero_population",
    "winners", "losers", "unchanged", "areas_at_target", "largest_gain_pct", "largest_loss_pct",
    "moved", "concentration_index_before", "concentration_index_after",
    "concentration_index_deprivation_before", "concentration_index_deprivation_after",
    "sii_before", "sii_after", "fair_share_shortfall_before", "fair_share_shortfall_after",
    "most_deprived_quintile_below_fair_share_before",
    "most_deprived_quintile_below_fair_share_after",
    "distance_to_target_before", "distance_to_target_after", "share_of_gap_closed",
)


def compare(results: Sequence[AllocationResult]) -> pd.DataFrame:
    """Summary metrics of 2-4 results side by side: one row per metric, one column per scenario.

    Columns are the scenario names (suffixed ``#2``... when names repeat).
    """
    if not 2 <= len(results) <= 4:
        raise ValueError(f"compare takes 2 to 4 results, got {len(results)}")
    columns: dict[str, list[Any]] = {}
    for result in results:
        if not isinstance(result, AllocationResult):
            raise ValueError("compare takes AllocationResult objects")
        name = result.scenario.name
        label, k = name, 2
        while label in columns:
            label, k = f"{name} #{k}", k + 1
        summary = result.summary()
        columns[label] = [summary.get(metric) for metric in COMPARE_METRICS]
    return pd.DataFrame(columns, index=pd.Index(COMPARE_METRICS, name="metric"))


def _vintage(result: AllocationResult) -> str:
    return "; ".join(result.sources)


def result_csv_bytes(result: AllocationResult) -> bytes:
    """The per-area table as an attributed, formula-injection-safe CSV."""
    from analysis.exports import to_csv_bytes

    scenario = result.scenario
    extra = {
        "Scenario": f"{scenario.name} ({scenario.title})" if scenario.title else scenario.name,
        "Method": (f"target = B[alpha pop share + (1 - alpha) need share], alpha = "
                   f"{scenario.alpha:g}; {scenario.years} year(s); objective "
                   f"{scenario.objective}; Fairshare allocation schema {SCHEMA_VERSION}"),
    }
    if result.notes:
        extra["Notes"] = " | ".join(result.notes)
    return to_csv_bytes(result.to_frame(), vintage=_vintage(result), extra=extra)


def run_scenario_file(path: str | Path, out_csv: str | Path | None = None, *,
                      registry: IndicatorRegistry | None = None) -> AllocationResult:
    """Load a scenario JSON file, run it, and optionally write the per-area CSV.

    A relative CSV path inside the scenario is read from the scenario file's folder. The CSV
    goes through :func:`analysis.exports.to_csv_bytes` (provenance lines, OGL attribution,
    formula-injection safe).
    """
    file = Path(path)
    scenario = load_scenario(file)
    result = allocate(scenario, registry=registry, base_dir=file.resolve().parent)
    if out_csv is not None:
        Path(out_csv).write_bytes(result_csv_bytes(result))
    return result


LEVEL_COLUMNS = {"lsoa21": "lsoa21_code", "ltla": "ltla_code", "sicbl": "sicbl_code",
                 "icb": "icb_code"}


def small_area_changes(result: AllocationResult) -> pd.DataFrame:
    """Each LSOA 2021 in the scenario's areas with its area's change, for mapping.

    Indexed by LSOA code: ``area_code``, ``area_name``, ``change_pct`` and ``allocation``
    (final-year £ of the area). Only for area levels; practices are points, not areas.
    """
    level = result.scenario.level
    if level not in LEVEL_COLUMNS:
        raise ValueError(f"level {level!r} has no polygons; map practices as points")
    from analysis.data import load_pack_table

    table = load_pack_table("england")
    parent = table[LEVEL_COLUMNS[level]].astype(str)
    areas = result.areas.set_index("area_code")
    keep = parent.isin(areas.index)
    parent = parent[keep]
    return pd.DataFrame({
        "area_code": parent,
        "area_name": parent.map(areas["area_name"]),
        "change_pct": parent.map(areas["change_pct"]).astype(float),
        "allocation": parent.map(areas["allocation"]).astype(float),
    }, index=parent.index)


def practice_change_points(result: AllocationResult) -> pd.DataFrame:
    """Practices of a practice-level result as map points: ``lon``, ``lat``, ``c`` (code),
    ``n`` (name, HTML-escaped for the tooltip), ``v`` (change text) and ``k`` (class index of
    :func:`analysis.explore.maps.change_classes`). Practices without coordinates are left out."""
    import html

    from analysis.access import load_gp_practices
    from analysis.explore import change_classes

    practices = load_gp_practices().dropna(subset=["latitude"]).set_index("practice_code")
    moved = result.areas.set_index("area_code").join(practices[["latitude", "longitude"]],
                                                     how="inner")
    return pd.DataFrame({
        "lon": moved["longitude"].round(5), "lat": moved["latitude"].round(5),
        "c": moved.index.astype(str), "n": moved["area_name"].astype(str).map(html.escape),
        "v": moved["change_pct"].map(lambda v: f"{v:+.1f}%"),
        "k": change_classes(moved["change_pct"]),
    }).reset_index(drop=True)
