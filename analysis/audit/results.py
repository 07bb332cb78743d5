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

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis.audit import codes as C
from analysis.audit.engine import ActivityCounts
from analysis.audit.study import (
    Denominator,
    StudyArea,
    band_labels,
    choose_study_area,
    deprivation,
    deprivation_source,
    study_population,
    top_band_for,
)

PER = 100_000
RATE_UNIT = "per 100,000 a year"
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
    from analysis.stats.standardisation import (
        crude_rates,
        directly_standardised_rates,
        indirectly_standardised_ratios,
        reference_rates,
        standard_population,
    )

    if years <= 0 or not np.isfinite(years):
        raise ValueError(f"years is {years!r}: the period covered must be positive")
    cells = counts.cells
    placed = cells[cells["reason"].isna()]
    area_events = placed.groupby("area_code")["events"].sum()
    study = choose_study_area(area_events, area_code)
    denominator = study_population(study, population, population_source)
    top = top_band_for(denominator, placed["band"])
    inside = placed["area_code"].isin(study.small_areas)
    if population is not None:
        inside &= placed["area_code"].isin(denominator.table["area_code"])
    excluded = _excluded(cells, outside=int(placed.loc[~inside, "events"].sum()))
    included = placed[inside].copy()
    included["age_band"] = band_labels(included["band"], top)
    pop = denominator.table.copy()
    if top:
        pop["age_band"] = pop["age_band"].replace({"85-89": top, "90+": top})
    pop = pop.groupby(["area_code", "age_band", "sex"], as_index=False)["population"].sum()
    present = set(pd.unique(pop["age_band"]))
    bands = tuple(b for b in _band_order(top) if b in present)
    missing_bands = sorted(set(included["age_band"]) - set(bands))
    if missing_bands:
        raise ValueError(f"The population has no {', '.join(missing_bands)} age band, but "
                         "records fall in it")
    standard = standard_population(bands)
    depr = deprivation(study.country)
    per_year = PER / years

    area_band = _events_by(included, ["area_code", "age_band"])
    persons = pop.groupby(["area_code", "age_band"], as_index=False)["population"].sum()
    cells_ab = persons.merge(area_band, on=["area_code", "age_band"], how="left")
    cells_ab["events"] = cells_ab["events"].fillna(0)
    cells_ab = cells_ab.join(depr, on="area_code")
    reference = reference_rates(cells_ab, age="age_band")

    def dsr(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
        out = directly_standardised_rates(frame, by=by, age="age_band", standard=standard,
                                          multiplier=per_year)
        ratios = indirectly_standardised_ratios(frame, reference, by=by, age="age_band")
        ratios = ratios.rename(columns={"lower": "ratio_lower", "upper": "ratio_upper"})
        return out.merge(ratios.drop(columns=["observed"]), on=by, how="left")

    by_quintile = dsr(cells_ab.dropna(subset=["quintile"]), ["quintile"])
    by_decile = dsr(cells_ab.dropna(subset=["decile"]), ["decile"])
    age_rows = cells_ab.groupby("age_band", as_index=False)[["events", "population"]].sum()
    by_age = crude_rates(age_rows, by=["age_band"], multiplier=per_year)
    by_age["age_band"] = pd.Categorical(by_age["age_band"], bands, ordered=True)
    by_age = by_age.sort_values("age_band").reset_index(drop=True)
    by_sex = _by_sex(included, pop, denominator, standard, per_year)
    areas = _areas(cells_ab, reference, study)
    ethnicity, quintile_ethnicity = _ethnicity(counts.ethnicity, study, areas, depr, years)
    splits = {role: _split(table, study, top, pop, depr, standard, per_year)
              for role, table in counts.splits.items()}
    result = AuditResult(
        service=service, simulated=simulated, engine=counts.engine, rows=counts.rows,
        events=int(included["events"].sum()), excluded=excluded,
        quality=_quality(cells, counts, included), study=study,
        denominator_source=denominator.source, deprivation_source=deprivation_source(
            study.country), years=years, top_band=top, by_quintile=by_quintile,
        by_decile=by_decile, by_age=by_age, by_sex=by_sex, by_ethnicity=ethnicity,
        by_quintile_ethnicity=quintile_ethnicity, areas=areas, splits=splits)
    result.sii = _sii(by_quintile)
    return result


def _band_order(top: str | None) -> list[str]:
    from analysis.audit.engine import AGE_BAND_LABELS

    return [*AGE_BAND_LABELS[:17], top] if top else list(AGE_BAND_LABELS)


def _events_by(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    return frame.groupby(by, as_index=False, observed=True)["events"].sum()


def _excluded(cells: pd.DataFrame, *, outside: int) -> dict[str, int]:
    reasons = cells.dropna(subset=["reason"]).groupby("reason")["events"].sum()
    out = {reason: int(reasons.get(reason, 0)) for reason in C.EXCLUSION_REASONS
           if reasons.get(reason, 0) > 0}
    if outside:
        out[C.OUTSIDE_STUDY_AREA] = outside
    return out


def _quality(cells: pd.DataFrame, counts: ActivityCounts,
             included: pd.DataFrame) -> dict[str, Any]:
    sources = included.groupby("source")["events"].sum()
    ethnic = counts.ethnicity.groupby("ethnic_group")["events"].sum()
    return {
        "area_sources": {k: int(v) for k, v in sources.items() if v},
        "sex_not_known": int(included.loc[included["sex"] == "U", "events"].sum()),
        "ethnicity_not_stated": int(ethnic.get(C.NOT_STATED, 0)),
        "ethnicity_not_recognised": int(ethnic.get(C.NOT_RECOGNISED, 0)),
        "dates": dict(counts.dates),
        "columns": counts.mapping.describe(),
    }


def _by_sex(included: pd.DataFrame, pop: pd.DataFrame, denominator: Denominator,
            standard: pd.Series, per_year: float) -> pd.DataFrame:
    from analysis.stats.standardisation import directly_standardised_rates

    events = included.groupby("sex", as_index=False)["events"].sum()
    events["sex_label"] = events["sex"].map(C.SEX_LABELS)
    if not denominator.has_sex:
        events["dsr"] = np.nan
        return events
    by_band = _events_by(included[included["sex"].isin(["F", "M"])], ["sex", "age_band"])
    sexed = pop[pop["sex"].isin(["F", "M"])].groupby(["sex", "age_band"], as_index=False)[
        "population"].sum()
    frame = sexed.merge(by_band, on=["sex", "age_band"], how="left").fillna({"events": 0})
    rates = directly_standardised_rates(frame, by=["sex"], age="age_band", standard=standard,
                                        multiplier=per_year)
    out = events.merge(rates.drop(columns=["events"]), on="sex", how="left")
    return out


def _areas(cells_ab: pd.DataFrame, reference: pd.Series, study: StudyArea) -> pd.DataFrame:
    """Observed and expected (age-standardised) records per small area, with funnel flags."""
    from analysis.data.geography import load_pack_table, spec_for
    from analysis.stats.funnel import count_funnel_limits

    frame = cells_ab.assign(expected=cells_ab["population"] * cells_ab["age_band"].map(
        reference).astype(float))
    areas = frame.groupby("area_code").agg(observed=("events", "sum"),
                                           expected=("expected", "sum"),
                                           population=("population", "sum"))
    areas = areas.join(cells_ab.drop_duplicates("area_code").set_index("area_code")[
        ["decile", "quintile"]])
    table = load_pack_table(study.country)
    spec = spec_for(study.country)
    areas["area_name"] = table[spec.small_area.name_column].reindex(areas.index).astype(str)
    positive = areas["expected"] > 0
    areas["ratio"] = np.where(positive, 100 * areas["observed"] / areas["expected"].where(
        positive, 1), np.nan)
    for level, suffix in ((0.95, "95"), (0.998, "998")):
        limits = count_funnel_limits(areas.loc[positive, "expected"].to_numpy(), level)
        areas.loc[positive, f"lower{suffix}"] = limits.lower
        areas.loc[positive, f"upper{suffix}"] = limits.upper
    areas["flag"] = FLAG_WITHIN
    areas.loc[positive & (areas["observed"] < areas["lower998"]), "flag"] = FLAG_LOWER
    areas.loc[positive & (areas["observed"] > areas["upper998"]), "flag"] = FLAG_HIGHER
    return areas.reset_index()[["area_code", "area_name", "decile", "quintile", "population",
                                "observed", "expected", "ratio", "lower95", "upper95",
                                "lower998", "upper998", "flag"]]


def _ethnicity(events: pd.DataFrame, study: StudyArea, areas: pd.DataFrame,
               depr: pd.DataFrame, years: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Crude rates and ratios to expected by ethnic group (and by quintile × group)."""
    from analysis.data.populations import ethnic_population
    from analysis.stats.funnel import exact_poisson_ci

    inside = events[events["area_code"].isin(study.small_areas)]
    stated_share = _stated_share(inside)
    pop = ethnic_population(study.country)
    pop = pop[pop["area_code"].astype(str).isin(study.small_areas)].copy()
    pop["area_code"] = pop["area_code"].astype(str)
    totals = pop.groupby("area_code")["population"].transform("sum")
    pop["share"] = np.where(totals > 0, pop["population"] / totals.where(totals > 0, 1), 0)
    expected_area = areas.set_index("area_code")["expected"]
    pop["expected"] = pop["share"] * pop["area_code"].map(expected_area).fillna(0) * \
        stated_share
    pop = pop.join(depr, on="area_code")
    stated = inside[inside["ethnic_group"].isin(C.ETHNIC_GROUPS)]
    stated = stated.join(depr, on="area_code")

    def table(by: list[str]) -> pd.DataFrame:
        observed = stated.groupby(by, as_index=False)["events"].sum()
        denominators = pop.groupby(by, as_index=False)[["population", "expected"]].sum()
        out = denominators.merge(observed, on=by, how="left").fillna({"events": 0})
        out["rate"] = np.where(out["population"] > 0, out["events"] / years / out[
            "population"].where(out["population"] > 0, 1) * PER, np.nan)
        ci = exact_poisson_ci(out["events"].to_numpy())
        out["ratio"] = 100 * out["events"] / out["expected"].where(out["expected"] > 0)
        out["ratio_lower"] = 100 * ci.lower / out["expected"].where(out["expected"] > 0)
        out["ratio_upper"] = 100 * ci.upper / out["expected"].where(out["expected"] > 0)
        return out

    return table(["ethnic_group"]), table(["quintile", "ethnic_group"])


def _stated_share(events: pd.DataFrame) -> float:
    total = float(events["events"].sum())
    stated = float(events.loc[events["ethnic_group"].isin(C.ETHNIC_GROUPS), "events"].sum())
    return stated / total if total else 0.0


def _split(table: pd.DataFrame, study: StudyArea, top: str | None, pop: pd.DataFrame,
           depr: pd.DataFrame, standard: pd.Series, per_year: float) -> pd.DataFrame:
    """DSR by quintile for each site (or service): where each site's users come from."""
    from analysis.stats.standardisation import directly_standardised_rates

    inside = table[table["area_code"].isin(study.small_areas)].copy()
    inside["age_band"] = band_labels(inside["band"], top)
    inside = inside.join(depr, on="area_code")
    persons = pop.groupby(["area_code", "age_band"], as_index=False)["population"].sum().join(
        depr, on="area_code")
    quintile_pop = persons.groupby(["quintile", "age_band"], as_index=False)["population"].sum()
    rows = []
    for value, group in inside.groupby("value"):
        events = group.groupby(["quintile", "age_band"], as_index=False)["events"].sum()
        frame = quintile_pop.merge(events, on=["quintile", "age_band"], how="left").fillna(
            {"events": 0})
        rates = directly_standardised_rates(frame, by=["quintile"], age="age_band",
                                            standard=standard, multiplier=per_year)
        rates.insert(0, "value", value)
        rows.append(rates)
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def _sii(by_quintile: pd.DataFrame) -> Any:
    """The slope index of inequality of the DSRs across quintiles, or ``None`` when a quintile
    has no population or no published rate (phe_sii needs every quantile)."""
    from analysis.stats.sii import slope_index

    frame = by_quintile.sort_values("quintile")
    if len(frame) < 5 or frame["dsr"].isna().any() or (frame["population"] <= 0).any():
        return None
    return slope_index(frame["dsr"], frame["population"], lower_cl=frame["lower"],
                       upper_cl=frame["upper"], value_type="rate", seed=1)
