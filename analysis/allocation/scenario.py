"""Allocation scenarios: the versioned, JSON-serialisable, validated description of a run.

A :class:`Scenario` (schema version :data:`SCHEMA_VERSION`) says which areas share a resource
(``level``, optional study ``area``), how it is distributed now (:class:`CurrentSpec`) and in
what ``unit``, how big the budget is, how need is measured (:class:`NeedSpec` of
:class:`NeedComponent`), how much of the budget is shared per head and how much by need
(``alpha``), how fast the distribution may change (pace of change, floors, caps, minimum per
head, years) and by which rule areas move (``convergence``). Construction validates every field
and names unknown keys with close matches; :meth:`Scenario.to_json` and
:meth:`Scenario.from_json` round-trip it unchanged; :func:`load_scenario` reads a file.

**Schema versions.** Version 2 (current) added ``convergence`` and ``unit``. A version 1 file
is still read: it gets the version 2 defaults, ``convergence = "toward_target"`` (NHS England's
convention that no area moves away from its target; version 1 spread the residual budget per
head, which is ``"nearest"`` now) and the unit its current source implies, and is written back
as version 2.
The need formulas are described in :mod:`analysis.allocation.need`, the constraints and the
solver in :mod:`analysis.allocation.solver`.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from analysis.funding.weighted_populations import WP_COMPONENTS, WP_YEARS

__all__ = [
    "GP_PAYMENTS_SOURCE",
    "LEVELS",
    "PRACTICE_LEVELS",
    "LEVEL_NOUNS",
    "OBJECTIVES",
    "SCHEMA_VERSION",
    "CONVERGENCE_RULES",
    "CurrentSpec",
    "NeedComponent",
    "NeedSpec",
    "Scenario",
    "load_scenario",
]

SCHEMA_VERSION = 2
READABLE_SCHEMA_VERSIONS: tuple[int, ...] = (1, 2)
CONVERGENCE_RULES: tuple[str, ...] = ("toward_target", "nearest")
GEOGRAPHIES: tuple[str, ...] = ("england",)
LEVELS: tuple[str, ...] = ("lsoa21", "ltla", "sicbl", "icb", "practice", "pcn")
#: Levels whose areas are GP practices or groups of them (no boundaries: drawn as points)
PRACTICE_LEVELS: tuple[str, ...] = ("practice", "pcn")
LEVEL_NOUNS: dict[str, tuple[str, str]] = {
    "practice": ("practice", "practices"), "icb": ("ICB", "ICBs"),
    "pcn": ("primary care network", "primary care networks"),
    "sicbl": ("sub-ICB location", "sub-ICB locations"),
    "ltla": ("local authority", "local authorities"),
    "lsoa21": ("neighbourhood (LSOA)", "neighbourhoods (LSOAs)"),
}
"""What the areas of each level are called in sentences (singular, plural)."""
OBJECTIVES: tuple[str, ...] = ("quadratic", "l1")
GP_PAYMENTS_SOURCE = "gp_payments_2022_23"
GP_PAYMENT_YEAR = "2022-23"
CURRENT_SOURCES: tuple[str, ...] = (GP_PAYMENTS_SOURCE, "indicator", "csv", "table")
NHSE_WP_KIND = "nhse_weighted_population"
NEED_KINDS: tuple[str, ...] = ("formula", "index", NHSE_WP_KIND)
# one list of components, names and years: the weighted populations' own
NHSE_WP_COMPONENTS: tuple[str, ...] = tuple(WP_COMPONENTS)
NHSE_WP_NAMES: dict[str, str] = {c: name for c, (_, name) in WP_COMPONENTS.items()}
NHSE_WP_YEARS: tuple[str, ...] = WP_YEARS
NHSE_WP_LEVELS: tuple[str, ...] = ("practice", "pcn", "sicbl", "icb")
MISSING_POLICIES: tuple[str, ...] = ("error", "impute_mean")
MAX_YEARS = 50


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
    """How need is measured (the formulas: :mod:`analysis.allocation.need`).

    ``kind="formula"``: ``components`` (indicator ids and weights) are standardised and
    combined, then mapped to relative need per head ``max(0, 1 + spread * composite)``.
    ``kind="index"``: the indicator ``index`` is need per head as it is.
    ``kind="nhse_weighted_population"``: need = NHS England's weighted population of
    ``component`` (one of :data:`NHSE_WP_COMPONENTS`; ``"final"`` = the core ICB formula) in
    allocation ``year`` (``"2023-24"`` or ``"2024-25"``), summed over the area's practices.
    ``multiply_by_population``: need = population x need per head (else need per head alone).
    ``missing``: ``"error"`` or ``"impute_mean"`` for areas without a need value.
    """

    kind: Literal["formula", "index"] = "formula"
    components: tuple[NeedComponent, ...] = ()
    index: str | None = None
    spread: float = 0.25
    multiply_by_population: bool = True
    missing: Literal["error", "impute_mean"] = "error"
    component: str | None = None
    year: str | None = None

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
        if self.kind != NHSE_WP_KIND and (self.component is not None or self.year is not None):
            raise ValueError(f"need component and year are only used with kind "
                             f"{NHSE_WP_KIND!r}")
        if self.kind == NHSE_WP_KIND:
            if components or self.index is not None:
                raise ValueError(f"need kind {NHSE_WP_KIND!r} takes component and year, not "
                                 "components or index")
            component = "final" if self.component is None else self.component
            if component not in NHSE_WP_COMPONENTS:
                raise ValueError(f"need component is {component!r}: choose one of "
                                 f"{', '.join(NHSE_WP_COMPONENTS)}"
                                 f"{_close(str(component), NHSE_WP_COMPONENTS)}")
            year = NHSE_WP_YEARS[-1] if self.year is None else self.year
            if year not in NHSE_WP_YEARS:
                raise ValueError(f"need year is {year!r}: NHS England's weighted populations "
                                 f"are for {', '.join(NHSE_WP_YEARS)}")
            object.__setattr__(self, "component", component)
            object.__setattr__(self, "year", year)
        elif self.kind == "formula":
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

    @staticmethod
    def nhse_choices(level: str) -> dict[str, str]:
        """The NHS England weighted-population needs offered at ``level`` (none at levels
        without them): component id -> ``"NHS England weighted population (maternity)"``."""
        if level not in NHSE_WP_LEVELS:
            return {}
        return {c: f"NHS England weighted population ({NHSE_WP_NAMES[c]})"
                for c in NHSE_WP_COMPONENTS}

    @staticmethod
    def nhse_years() -> tuple[str, ...]:
        """The allocation years of NHS England's weighted populations."""
        return NHSE_WP_YEARS

    def with_nhse(self, component: str | None, year: str | None) -> NeedSpec:
        """This need, or (``component`` given) NHS England's weighted population of
        ``component`` in ``year`` (need = that weighted population; see :mod:`need`)."""
        if component is None:
            return self
        return NeedSpec(kind=NHSE_WP_KIND, component=component, year=year,
                        multiply_by_population=True, missing=self.missing)

    def indicator_ids(self) -> list[str]:
        """The ids of the indicators this need uses (the components, or the index)."""
        if self.kind == NHSE_WP_KIND:
            return []
        return [c.indicator for c in self.components] if self.kind == "formula" else [
            str(self.index)]

    def to_dict(self) -> dict[str, Any]:
        """The need as plain JSON types (the ``need`` object of a scenario file)."""
        out: dict[str, Any] = {"kind": self.kind}
        if self.kind == NHSE_WP_KIND:
            out["component"] = self.component
            out["year"] = self.year
        elif self.kind == "formula":
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
        """Validate and build from a scenario file's ``need`` object (components may be a list
        of ``{indicator, weight}`` objects or ids, or an object ``{id: weight}``)."""
        _check_keys("need", raw, ("kind", "components", "index", "spread",
                                  "multiply_by_population", "missing", "component", "year"))
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
        for key in ("index", "spread", "multiply_by_population", "missing", "component",
                    "year"):
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
        """The ``current`` value of a scenario file (an object naming the source)."""
        if self.source == GP_PAYMENTS_SOURCE:
            return {"source": self.source}
        if self.source == "indicator":
            return {"source": "indicator", "indicator": self.indicator}
        if self.source == "csv":
            return {"source": "csv", "path": self.path, "column": self.column}
        return {"source": "table", "values": dict(self.values)}

    @classmethod
    def from_json_value(cls, raw: Any) -> CurrentSpec:
        """Build from a scenario file's ``current``: ``"gp_payments_2022_23"``, a ``.csv`` path
        or an indicator id as text, or an object (the source inferred from its keys)."""
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
                  "years", "objective", "seed", "convergence", "unit")
_V2_KEYS = ("convergence", "unit")


@dataclass(frozen=True)
class Scenario:
    """A resource-allocation scenario (schema version 2). Validated on construction.

    Fields: ``name`` (id), ``level`` (``lsoa21``, ``ltla``, ``sicbl``, ``icb`` or
    ``practice``), ``current`` (:class:`CurrentSpec`), ``need`` (:class:`NeedSpec`),
    ``geography`` (``"england"``), ``area`` (optional study area code: only the areas or
    practices inside it), ``budget`` (``None`` = current total), ``alpha`` (share of the budget
    allocated per head, 0-1), ``max_gain_pct``/``max_loss_pct`` (pace of change per year
    relative to the previous year; ``None`` = unlimited), ``floor_pct``/``cap_pct`` (no area
    below/above this % of its current allocation), ``min_per_head`` (in per-head units, see
    ``per_head_scale``), ``per_head_scale`` (per-head figures are reported per this many
    people: 1 for pounds per head, 100000 for FTE per 100,000), ``years`` (1-50),
    ``objective`` (``"quadratic"`` or ``"l1"``), ``seed`` (SII simulation),
    ``convergence`` (``"toward_target"``, the default: NHS England's convention that no area
    moves away from its target, so areas under target never lose and areas over it never gain;
    ``"nearest"``: the allocation nearest the target overall, which spreads the residual budget
    per head and may move an area away from its own target; see
    :mod:`analysis.allocation.solver`), ``unit`` (what the budget is counted in, e.g. ``"£"``
    or ``"FTE GPs"``; ``None`` = implied by the current source: pounds for GP payments, CSVs
    and tables, the indicator's unit without its "per ..." for a registry indicator).
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
    convergence: str = "toward_target"
    unit: str | None = None

    def __post_init__(self) -> None:
        if (isinstance(self.schema_version, bool)
                or self.schema_version not in READABLE_SCHEMA_VERSIONS):
            raise ValueError(f"schema_version is {self.schema_version!r}: this version of "
                             f"Fairshare reads scenario schema "
                             f"{' and '.join(map(str, READABLE_SCHEMA_VERSIONS))}")
        object.__setattr__(self, "schema_version", SCHEMA_VERSION)  # read as the current one
        if self.convergence not in CONVERGENCE_RULES:
            raise ValueError(f"convergence is {self.convergence!r}: choose one of "
                             f"{', '.join(CONVERGENCE_RULES)}"
                             f"{_close(self.convergence, CONVERGENCE_RULES)}")
        if self.unit is not None:
            unit = str(_text("unit", self.unit))
            if not unit.strip() or len(unit) > 40 or not unit.isprintable():
                raise ValueError(f"unit is {self.unit!r}: give a short unit such as '£' or "
                                 "'FTE GPs' (or null)")
            object.__setattr__(self, "unit", unit.strip())
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
        if self.need.kind == NHSE_WP_KIND and self.level not in NHSE_WP_LEVELS:
            raise ValueError(f"NHS England's weighted populations are by practice; scenarios "
                             f"on them run at level {', '.join(NHSE_WP_LEVELS)}, not "
                             f"{self.level}")
        if self.current.source == "indicator" and self.level in PRACTICE_LEVELS:
            raise ValueError(f"registry provision indicators are area-based: at {self.level} "
                             "level use gp_payments_2022_23, a CSV or a table by "
                             f"{self.level} code")
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

    # --- words and units ---------------------------------------------------------------------

    def area_noun(self, count: int = 2) -> str:
        """What the scenario's areas are called: ``"practice"``/``"practices"``, ``"ICBs"``."""
        one, many = LEVEL_NOUNS[self.level]
        return one if count == 1 else many

    def population_noun(self, count: int = 2) -> str:
        """Who the population counts: registered patients for NHS England weighted
        populations, weighted patients for practices, else residents."""
        word = ("registered patient" if self.need.kind == NHSE_WP_KIND else
                "weighted patient" if self.level in PRACTICE_LEVELS else "resident")
        return word if count == 1 else f"{word}s"

    def implied_unit(self, indicator_unit: str | None = None) -> str:
        """The unit of the budget: ``unit`` if given; else pounds for GP payments, CSVs and
        tables, or for a registry indicator its unit before " per " (``"FTE GPs per 100,000
        patients"`` -> ``"FTE GPs"``; ``"units"`` if it has none)."""
        if self.unit:
            return self.unit
        if self.current.source != "indicator":
            return "£"
        text = (indicator_unit or "").strip()
        return text.split(" per ")[0].strip() if " per " in text else "units"

    def per_head_unit(self, unit: str) -> str:
        """The unit of per-head figures: ``"£ per weighted patient"``, ``"FTE GPs per 100,000
        residents"`` (``per_head_scale`` people)."""
        if self.per_head_scale == 1:
            return f"{unit} per {self.population_noun(1)}"
        scale = f"{self.per_head_scale:,.0f}" if self.per_head_scale >= 1 else \
            f"{self.per_head_scale:g}"
        return f"{unit} per {scale} {self.population_noun()}"

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
        if raw["schema_version"] == 1:
            newer = [k for k in _V2_KEYS if k in raw]
            if newer:
                raise ValueError(f"{', '.join(newer)} came with scenario schema 2: set "
                                 "schema_version to 2")
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
