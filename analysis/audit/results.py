"""From counts to findings: standardised rates by deprivation, age, sex, ethnicity and site,
and observed against expected use in every small area.

Methods (the statistics themselves are in :mod:`analysis.stats.standardisation`):

* **Directly standardised rates** per 100,000 with the European Standard Population 2013
  and Dobson's limits (OHID ``phe_dsr``); not published under 10 events.
* **Indirectly standardised ratios** (observed ÷ expected × 100) with exact Poisson limits
  (OHID ``calculate_ISRatio``). The expected count applies the study population's own
  age-specific rates to each group's population, so 100 means "used as much as the study
  area as a whole, once age is allowed for".
* **Ethnic groups**: the census gives ethnic group by small area for all ages only, so the
  expected count for a group assumes it shares the age structure of the small areas it lives
  in (each area's expected count × the group's share of its residents), scaled by the share of
  records with a stated ethnicity. The reading says so.
* **Slope index of inequality** of the DSRs across deprivation quintiles (OHID ``phe_sii``).
* **Small areas**: observed against expected with exact Poisson funnel limits (95% and
  99.8%, Spiegelhalter 2005).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis.audit import codes as C
from analysis.audit.engine import ActivityCounts, reference_tables
from analysis.audit.grid import Grid, StudyUnits, build_grid, study_units
from analysis.audit.study import (
    StudyArea,
    band_labels,
    choose_study_area,
    deprivation,
    deprivation_source,
    study_population,
    text_values,
    top_band_for,
)

PER = 100_000
RATE_UNIT = "per 100,000 a year"
SEXES = tuple(C.SEX_LABELS)  # F, M, U (not known)
FLAG_LOWER, FLAG_WITHIN, FLAG_HIGHER = "lower than expected", "as expected", "higher than expected"


@dataclass
class AuditResult:
    """Everything an audit found, as tables, plus what was left out and why."""

    service: str
    simulated: bool
    engine: str
    rows: int
    events: int
    excluded: dict[str, int]
    quality: dict[str, Any]
    study: StudyArea
    denominator_source: str
    deprivation_source: str
    years: float
    top_band: str | None
    by_quintile: pd.DataFrame
    by_decile: pd.DataFrame
    by_age: pd.DataFrame
    by_sex: pd.DataFrame
    by_ethnicity: pd.DataFrame
    by_quintile_ethnicity: pd.DataFrame
    areas: pd.DataFrame
    splits: dict[str, pd.DataFrame] = field(default_factory=dict)
    sii: Any = None
    notes: list[str] = field(default_factory=list)


def run_audit(counts: ActivityCounts, *, service: str = "the service",
              area_code: str | None = None, population: pd.DataFrame | None = None,
              population_source: str | None = None, years: float = 1.0,
              simulated: bool = False) -> AuditResult:
    """Turn the engine's counts into the audit's tables.

    ``years`` is the length of the period the records cover (rates are per year: events ÷
    years ÷ population), taken from the event dates when the caller has them.
    """
    from analysis.stats.standardisation import crude_rates, standard_population

    if years <= 0 or not np.isfinite(years):
        raise ValueError(f"years is {years!r}: the period covered must be positive")
    cells = counts.cells
    placed = cells[cells["reason"].isna()]
    area_events = pd.Series(counts.areas["events"].to_numpy(),
                            index=counts.areas["area_code"].astype(str).to_numpy())
    study = choose_study_area(area_events, area_code)
    plan = counts.plan
    if plan.study_code is not None and plan.study_code.strip().upper() != study.code:
        raise ValueError(f"The records were counted for {plan.study_code}, not {study.code}: "
                         "count them again with counting_plan(area_code)")
    denominator = study_population(study, population, population_source)
    top = top_band_for(denominator, placed["band"])
    present = {b if not top or b not in ("85-89", "90+") else top
               for b in denominator.labels}
    bands = tuple(b for b in _band_order(top) if b in present)
    grid = build_grid(study, denominator, top, deprivation(study.country), bands)
    units = study_units(plan, grid, reference_tables().areas.get_indexer(grid.areas))

    unit, inside = units.locate(placed["unit"])
    columns = grid.band_columns(placed["band"])
    events = placed["events"].to_numpy(dtype=np.float64)
    if (inside & (columns < 0)).any():
        missing = sorted(set(band_labels(placed.loc[inside & (columns < 0), "band"], top)))
        raise ValueError(f"The population has no {', '.join(missing)} age band, but records "
                         "fall in it")
    excluded = _excluded(cells, outside=int(events[~inside].sum()))
    by_band = np.bincount(columns[inside], weights=events[inside], minlength=len(bands))
    total_population = grid.population.sum(axis=0)
    reference = pd.Series(np.divide(by_band, total_population, out=np.zeros(len(bands)),
                                    where=total_population > 0), index=list(bands))
    standard = standard_population(bands)
    per_year = PER / years

    def by_deprivation(name: str, groups: range) -> pd.DataFrame:
        values = grid.quintile if name == "quintile" else grid.decile
        frame = grid.long(units.sums(unit, columns, events, name, len(bands)),
                          grid.by_group(grid.population, values, groups), name, groups)
        return _standardised(frame, [name], standard, reference, per_year)

    by_quintile = by_deprivation("quintile", range(1, 6))
    by_decile = by_deprivation("decile", range(1, 11))
    age_rows = pd.DataFrame({"age_band": list(bands), "events": by_band,
                             "population": total_population})
    by_age = crude_rates(age_rows, by=["age_band"], multiplier=per_year)
    by_age["age_band"] = pd.Categorical(by_age["age_band"], bands, ordered=True)
    by_age = by_age.sort_values("age_band").reset_index(drop=True)
    included = placed[inside]
    by_sex = _by_sex(included, grid, columns[inside], standard, per_year)
    rows = grid.positions(counts.areas["area_code"])
    known = rows >= 0
    observed = np.bincount(rows[known], weights=counts.areas["events"].to_numpy(
        dtype=np.float64)[known], minlength=len(grid.areas))
    areas = _areas(grid, observed, reference, study)
    ethnicity, quintile_ethnicity = _ethnicity(counts.ethnicity, grid, units, areas, years)
    splits = {role: _split_by_quintile(table, grid, units, standard, reference, per_year)
              for role, table in counts.splits.items()}
    result = AuditResult(
        service=service, simulated=simulated, engine=counts.engine, rows=counts.rows,
        events=int(events[inside].sum()), excluded=excluded,
        quality=_quality(counts, included), study=study,
        denominator_source=denominator.source, deprivation_source=deprivation_source(
            study.country), years=years, top_band=top, by_quintile=by_quintile,
        by_decile=by_decile, by_age=by_age, by_sex=by_sex, by_ethnicity=ethnicity,
        by_quintile_ethnicity=quintile_ethnicity, areas=areas, splits=splits)
    result.sii = _sii(by_quintile)
    return result


def _split_by_quintile(table: pd.DataFrame, grid: Grid, units: StudyUnits,
                       standard: pd.Series, reference: pd.Series, per_year: float
                       ) -> pd.DataFrame:
    """DSR and ISR by deprivation quintile for each site or service value, in one pass: the
    counts are summed straight into (value, quintile, band) cells and every value's rows are
    standardised together."""
    unit, inside = units.locate(table["unit"])
    columns = grid.band_columns(table["band"])
    values = table["value"].astype("category")
    codes = values.cat.codes.to_numpy()
    quintile = units.group_of(unit, "quintile")
    keep = inside & (columns >= 0) & (codes >= 0) & (quintile > 0)
    present = np.unique(codes[keep])
    if not len(present):
        return pd.DataFrame()
    slot = np.full(len(values.cat.categories), -1, dtype=np.int64)
    slot[present] = np.arange(len(present))
    quintiles = range(1, 6)
    bands = len(grid.bands)
    flat = np.bincount((slot[codes[keep]] * len(quintiles) + quintile[keep] - 1) * bands
                       + columns[keep],
                       weights=table["events"].to_numpy(dtype=np.float64)[keep],
                       minlength=len(present) * len(quintiles) * bands)
    population = grid.by_group(grid.population, grid.quintile, quintiles).reshape(-1)
    frame = pd.DataFrame({
        "value": np.repeat(np.asarray(values.cat.categories[present].astype(str), dtype=object),
                           len(quintiles) * bands),
        "quintile": np.tile(np.repeat(list(quintiles), bands), len(present)),
        "age_band": np.tile(grid.bands, len(present) * len(quintiles)),
        "events": flat, "population": np.tile(population, len(present))})
    return _standardised(frame, ["value", "quintile"], standard, reference, per_year)


def _standardised(frame: pd.DataFrame, by: list[str], standard: pd.Series,
                  reference: pd.Series, per_year: float) -> pd.DataFrame:
    """DSR per 100,000 a year and ISR (100 = as expected) of each group of a long table."""
    from analysis.stats.standardisation import (
        directly_standardised_rates,
        indirectly_standardised_ratios,
    )

    frame = frame[frame.groupby(by)["population"].transform("sum") > 0]
    out = directly_standardised_rates(frame, by=by, age="age_band", standard=standard,
                                      multiplier=per_year)
    ratios = indirectly_standardised_ratios(frame, reference, by=by, age="age_band")
    ratios = ratios.rename(columns={"lower": "ratio_lower", "upper": "ratio_upper"})
    return out.merge(ratios.drop(columns=["observed"]), on=by, how="left")


def _band_order(top: str | None) -> list[str]:
    from analysis.audit.engine import AGE_BAND_LABELS

    return [*AGE_BAND_LABELS[:17], top] if top else list(AGE_BAND_LABELS)


def _excluded(cells: pd.DataFrame, *, outside: int) -> dict[str, int]:
    reasons = cells.dropna(subset=["reason"]).groupby("reason", observed=True)["events"].sum()
    out = {reason: int(reasons.get(reason, 0)) for reason in C.EXCLUSION_REASONS
           if reasons.get(reason, 0) > 0}
    if outside:
        out[C.OUTSIDE_STUDY_AREA] = outside
    return out


def _quality(counts: ActivityCounts, included: pd.DataFrame) -> dict[str, Any]:
    sources = included.groupby("source", observed=True)["events"].sum()
    ethnic = counts.ethnicity.groupby("ethnic_group", observed=True)["events"].sum()
    return {
        "area_sources": {str(k): int(v) for k, v in sources.items() if v},
        "sex_not_known": int(included.loc[(included["sex"] == "U").to_numpy(), "events"].sum()),
        "ethnicity_not_stated": int(ethnic.get(C.NOT_STATED, 0)),
        "ethnicity_not_recognised": int(ethnic.get(C.NOT_RECOGNISED, 0)),
        "dates": dict(counts.dates),
        "columns": counts.mapping.describe(),
    }


def _by_sex(included: pd.DataFrame, grid: Grid, columns: np.ndarray, standard: pd.Series,
            per_year: float) -> pd.DataFrame:
    """Records by sex; DSRs too where the population is split by sex (Scotland's census)."""
    from analysis.stats.standardisation import directly_standardised_rates

    # each row's sex as 0/1/2 for F/M/U (the engine's counts carry only these after mapping)
    codes = included["sex"].astype("category")
    per_label = pd.Index(list(SEXES)).get_indexer(codes.cat.categories.astype(str))
    raw = codes.cat.codes.to_numpy()
    sex = np.where(raw >= 0, np.append(per_label, -1)[raw], -1)
    weights = included["events"].to_numpy(dtype=np.float64)
    totals = np.bincount(sex[sex >= 0], weights=weights[sex >= 0], minlength=len(SEXES))
    events = pd.DataFrame({"sex": list(SEXES), "events": totals})
    events = events[events["events"] > 0].reset_index(drop=True)
    events["sex_label"] = events["sex"].map(C.SEX_LABELS)
    if not grid.population_by_sex:
        events["dsr"] = np.nan
        return events
    frames = []
    for s, population in grid.population_by_sex.items():
        mine = sex == SEXES.index(s)
        counted = np.bincount(columns[mine], weights=weights[mine], minlength=len(grid.bands))
        frames.append(pd.DataFrame({"sex": s, "age_band": list(grid.bands),
                                    "events": counted, "population": population.sum(axis=0)}))
    rates = directly_standardised_rates(pd.concat(frames), by=["sex"], age="age_band",
                                        standard=standard, multiplier=per_year)
    return events.merge(rates.drop(columns=["events"]), on="sex", how="left")


def _areas(grid: Grid, observed: np.ndarray, reference: pd.Series,
           study: StudyArea) -> pd.DataFrame:
    """Observed (``observed``: records per grid row) and expected (age-standardised) records
    per small area, with funnel flags."""
    """Observed and expected (age-standardised) records per small area, with funnel flags."""
    from analysis.data.geography import load_pack_table, spec_for
    from analysis.stats.funnel import count_funnel_limits

    table = load_pack_table(study.country)
    spec = spec_for(study.country)
    areas = pd.DataFrame({
        "area_code": grid.areas.astype(str),
        "area_name": table[spec.small_area.name_column].reindex(grid.areas).astype(str)
        .to_numpy(),
        "decile": pd.array(grid.decile, dtype="Float64").astype("Int64"),
        "quintile": pd.array(grid.quintile, dtype="Float64").astype("Int64"),
        "population": grid.population.sum(axis=1),
        "observed": observed,
        "expected": grid.population @ reference.to_numpy(),
    })
    positive = (areas["expected"] > 0).to_numpy()
    areas["ratio"] = np.where(positive, 100 * areas["observed"] / areas["expected"].where(
        positive, 1), np.nan)
    expected = areas.loc[positive, "expected"].to_numpy()
    levels = ((0.95, "95"), (0.998, "998"))
    # the two levels on two threads: the limits are a root search per area in SciPy, which
    # releases the interpreter lock (England's 33,755 areas take a third of a second a level)
    with ThreadPoolExecutor(max_workers=len(levels)) as pool:
        found = list(pool.map(lambda level: count_funnel_limits(expected, level[0]), levels))
    for (_, suffix), limits in zip(levels, found, strict=True):
        areas[f"lower{suffix}"] = np.nan
        areas[f"upper{suffix}"] = np.nan
        areas.loc[positive, f"lower{suffix}"] = limits.lower
        areas.loc[positive, f"upper{suffix}"] = limits.upper
    areas["flag"] = FLAG_WITHIN
    areas.loc[positive & (areas["observed"] < areas["lower998"]), "flag"] = FLAG_LOWER
    areas.loc[positive & (areas["observed"] > areas["upper998"]), "flag"] = FLAG_HIGHER
    return areas


def _ethnicity(events: pd.DataFrame, grid: Grid, units: StudyUnits, areas: pd.DataFrame,
               years: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Crude rates and ratios to expected by ethnic group (and by quintile × group)."""
    from analysis.data.populations import ethnic_population
    from analysis.stats.funnel import exact_poisson_ci

    groups = list(C.ETHNIC_GROUPS)
    unit, inside = units.locate(events["unit"])
    group_of = pd.Index(groups).get_indexer(text_values(events["ethnic_group"]))
    weights = events["events"].to_numpy(dtype=np.float64)
    total = weights[inside].sum()
    stated = inside & (group_of >= 0)
    stated_share = weights[stated].sum() / total if total else 0.0
    observed = np.bincount(group_of[stated], weights=weights[stated], minlength=len(groups))
    observed_by_quintile = units.sums(np.where(stated, unit, -1), group_of, weights,
                                      "quintile", len(groups))
    country = "england" if str(grid.areas[0]).startswith("E") else "scotland"
    pop = ethnic_population(country)
    pop_rows = grid.positions(pop["area_code"])
    pop_groups = pd.Index(groups).get_indexer(text_values(pop["ethnic_group"]))
    keep = (pop_rows >= 0) & (pop_groups >= 0)
    population = grid.matrix(pop_rows[keep], pop_groups[keep].astype(np.int64),
                             pop["population"].to_numpy()[keep], width=len(groups))
    residents = population.sum(axis=1, keepdims=True)
    share = np.divide(population, residents, out=np.zeros_like(population),
                      where=residents > 0)
    expected = share * areas["expected"].to_numpy()[:, None] * stated_share

    def table(o: np.ndarray, n: np.ndarray, e: np.ndarray, extra: dict) -> pd.DataFrame:
        out = pd.DataFrame({**extra, "events": o.reshape(-1), "population": n.reshape(-1),
                            "expected": e.reshape(-1)})
        out["rate"] = np.where(out["population"] > 0, out["events"] / years / out[
            "population"].where(out["population"] > 0, 1) * PER, np.nan)
        ci = exact_poisson_ci(out["events"].to_numpy())
        with_expected = out["expected"].where(out["expected"] > 0)
        out["ratio"] = 100 * out["events"] / with_expected
        out["ratio_lower"] = 100 * ci.lower / with_expected
        out["ratio_upper"] = 100 * ci.upper / with_expected
        return out

    overall = table(observed, population.sum(axis=0), expected.sum(axis=0),
                    {"ethnic_group": groups})
    quintiles = range(1, 6)
    by_quintile = table(observed_by_quintile,
                        grid.by_group(population, grid.quintile, quintiles),
                        grid.by_group(expected, grid.quintile, quintiles),
                        {"quintile": np.repeat(list(quintiles), len(groups)),
                         "ethnic_group": groups * len(quintiles)})
    return overall, by_quintile


def _sii(by_quintile: pd.DataFrame) -> Any:
    """The slope index of inequality of the DSRs across quintiles, or ``None`` when a quintile
    has no population or no published rate (phe_sii needs every quantile)."""
    from analysis.stats.sii import slope_index

    frame = by_quintile.sort_values("quintile")
    if len(frame) < 5 or frame["dsr"].isna().any() or (frame["population"] <= 0).any():
        return None
    return slope_index(frame["dsr"], frame["population"], lower_cl=frame["lower"],
                       upper_cl=frame["upper"], value_type="rate", seed=1)
