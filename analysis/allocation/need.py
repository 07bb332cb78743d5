"""Need per area: a weighted formula of standardised indicators, or a need index as is.

**Need** (:class:`~analysis.allocation.scenario.NeedSpec`), two kinds:

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

* ``nhse_weighted_population``: NHS England's own need (*Technical Guide to the formulae for
  2023-24 to 2024-25 revenue allocations*): ``need_i = WP_c,i``, the weighted population of
  component ``c`` summed over the area's practices (population = registered list; see
  :mod:`analysis.allocation.inputs` and :mod:`analysis.funding.weighted_populations`), so with
  ``alpha = 0`` the target is NHS England's target share ``WP_c,i / sum WP_c``. With
  ``multiply_by_population = false`` need is the index ``(WP_c / registered)`` itself.

Indicators published for LSOAs are aggregated to the scenario's level as the indicator's
metadata says (population-weighted means for scores and rates, ratios of sums for
numerator/denominator indicators). Missing values raise an error unless ``missing =
"impute_mean"`` (z = 0, i.e. average need), and imputed areas are reported.

**Primary care networks** (``level = "pcn"``) take the same practice need indicators, as the
weighted-patient mean of their practices' values.

**GP practices** (``level = "practice"``; population = weighted patients, see
:mod:`analysis.allocation.inputs`). Need indicators available at practice level
are ``practice_imd2019`` (the IMD 2019 score of the practice's registered population, OHID
Fingertips indicator 93553, the edition :mod:`analysis.funding.deprivation` uses for 2022-23) and
``practice_imd2015``. Two documented choices:

* ``formula`` on ``practice_imd2019`` (the shipped default): ``need = weighted patients * (1 +
  spread * z(IMD))``: deprivation scales the Carr-Hill list, which lacks it;
* ``index`` on ``practice_imd2019``: ``need = weighted patients * IMD score``, i.e. need per
  weighted patient proportional to the IMD score itself (a 20-fold range, very steep).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from analysis.allocation.inputs import _Areas, _missing_message
from analysis.allocation.scenario import NHSE_WP_KIND, Scenario, _close
from analysis.data import IndicatorRegistry

__all__ = ["PRACTICE_NEED_INDICATORS"]

FloatArray = NDArray[np.float64]

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


def _indicator_at_level(indicator_id: str, level: str, registry: IndicatorRegistry,
                        *, purpose: str) -> tuple[pd.Series, Any]:
    """Values of an indicator for every area of ``level`` (index area code), and its meta."""
    from analysis.data import aggregate

    if level in ("practice", "pcn") and indicator_id in PRACTICE_NEED_INDICATORS:
        from analysis.funding import load_practice_imd

        imd = load_practice_imd()
        year = PRACTICE_NEED_INDICATORS[indicator_id]["imd_year"]
        sel = imd.loc[imd["imd_year"] == year]
        series = pd.Series(sel["imd_score"].astype(float).to_numpy(),
                           index=sel["practice_code"].astype(str).to_numpy())
        if level == "pcn":  # the weighted-patient mean of the network's practices' scores
            from analysis.allocation.inputs import pcn_weighted_mean

            series = pcn_weighted_mean(series)
        return series, None
    known = registry.ids()
    if indicator_id not in known:
        options = ([*known, *PRACTICE_NEED_INDICATORS] if level in ("practice", "pcn")
                   else known)
        raise ValueError(f"Unknown indicator {indicator_id!r} ({purpose})."
                         f"{_close(indicator_id, options)}")
    meta = registry.meta(indicator_id)
    data = registry.get(indicator_id).data.copy()
    data["area_code"] = data["area_code"].astype(str)
    data = data.set_index("area_code")
    if meta.geography == level:
        return data["value"].astype(float), meta
    if level in ("practice", "pcn"):
        raise ValueError(
            f"Indicator {indicator_id!r} is published for {meta.geography} areas; at {level} "
            f"level the need indicators are {', '.join(PRACTICE_NEED_INDICATORS)} (or a "
            f"registry indicator with geography '{level}')")
    if meta.geography != "lsoa21":
        raise ValueError(f"Indicator {indicator_id!r} is published for {meta.geography} and "
                         f"cannot be used at {level} level")
    if meta.aggregation == "none":
        raise ValueError(f"Indicator {indicator_id!r} ({meta.title}) cannot be aggregated to "
                         f"{level} (e.g. deciles or ranks): use a score instead")
    if meta.aggregation == "ratio" and {"numerator", "denominator"} <= set(data.columns):
        out = aggregate(data["numerator"], "england", level, how="ratio",
                        denominators=data["denominator"], unit=meta.unit)
    else:
        how = meta.aggregation if meta.aggregation != "ratio" else "population_weighted_mean"
        out = aggregate(data["value"], "england", level, how=how)  # type: ignore[arg-type]
    return pd.Series(out["value"].astype(float).to_numpy(),
                     index=out["code"].astype(str).to_numpy()), meta


def _weighted_z(values: FloatArray, weights: FloatArray, name: str) -> FloatArray:
    mean = float(np.sum(weights * values) / np.sum(weights))
    sd = math.sqrt(float(np.sum(weights * (values - mean) ** 2) / np.sum(weights)))
    if sd <= 0:
        raise ValueError(f"need indicator {name!r} is the same in every area: it cannot be "
                         "standardised")
    return (values - mean) / sd


def _how_many(scenario: Scenario, mask: NDArray[np.bool_]) -> str:
    """``"19 practices"``: a count with the scenario's noun for its areas."""
    n = int(mask.sum())
    return f"{n:,} {scenario.area_noun(n)}"


def _need(scenario: Scenario, areas: _Areas, registry: IndicatorRegistry) -> pd.Series:
    """Need per area (aligned to the areas; 0 where population is 0)."""
    spec = scenario.need
    frame = areas.frame
    pop = frame["population"].to_numpy(dtype=float)
    alive = pop > 0
    if spec.kind == NHSE_WP_KIND:
        wp = frame["nhse_wp"].to_numpy(dtype=float)
        per_head = np.divide(wp, pop, out=np.zeros_like(wp), where=alive)
    elif spec.kind == "formula":
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
                    f"{_how_many(scenario, missing)} without {component.indicator} were given "
                    f"average need (z = 0): {', '.join(frame.index[missing][:10])}")
            composite += component.weight * z / total_weight
            areas.sources.append(_indicator_source(component.indicator, meta))
        relative = 1.0 + spec.spread * composite
        clipped = alive & (relative < 0)
        if clipped.any():
            areas.notes.append(f"{_how_many(scenario, clipped)} had a negative need per head "
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
            areas.notes.append(f"{_how_many(scenario, missing)} without {spec.index} were given "
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
