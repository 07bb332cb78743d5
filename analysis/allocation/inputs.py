"""Inputs of a scenario run: the areas (population, deprivation) and their current provision.

**Areas.** At ``lsoa21``/``ltla``/``sicbl``/``icb`` level the areas are England's areas of
that level (or those inside the scenario's study ``area``); population is the Census 2021
resident population.

**GP practices** (``level = "practice"``): the areas are the practices with a 2022-23 row in
*NHS Payments to General Practice* (NHS England). Population is the practice's **weighted
patients** (Carr-Hill weighted list, 2022-23: already adjusted for age, sex, list turnover,
morbidity and rurality, but not for deprivation); the need indicators available at practice
level are described in :mod:`analysis.allocation.need`.
Practices with no weighted patients (closed or merged during the year) have zero population:
they receive nothing and are listed in ``zero_population``; their current spend stays in the
default budget and is redistributed. Negative totals (recoveries larger than payments) are
read as zero current provision. At ``sicbl``/``icb`` level GP payments are summed by the
practice's 2022-23 commissioning sub-ICB location; at ``ltla`` level by the local authority
where the practice stands (July 2023 practice list; practices not on it are reported and left
out).

**Primary care networks** (``level = "pcn"``): the areas are the PCNs of the 2022-23
*NHS Payments to General Practice* rows (each practice's PCN code in that file; PCNs have no
published boundaries, so they are drawn as points at the mean position of their practices).
Population is the sum of their practices' weighted patients (registered patients with NHS
England's weighted populations), deprivation the weighted-patient mean of their practices'
IMD 2019 scores, with weighted deciles over England's PCNs; current GP payments are summed
over the practices. Practices without a PCN code are reported and left out. In a study area,
the PCNs are those with at least one practice in it.

**Current provision from a registry indicator** (``current = {"indicator": id}``, kind
``provision``): counts (aggregation ``sum``) are used as they are; rates where higher is better
become amounts ``value * pop / N`` (``N`` from a unit such as "per 100,000", else 1: e.g. FTE
GPs per 100,000 patients -> FTE GPs); ratios where higher is worse (people per unit, e.g.
patients per GP) become ``pop / value``. Current provision may also come from a CSV, a table
kept in the scenario, or a table passed to :func:`analysis.allocation.model.allocate`.

**NHS England weighted populations** (need kind ``nhse_weighted_population``): population is
the registered list of NHS England's weighted-population file of the scenario's ``year``
(``pop 2022/23``), summed over each area's practices by the file's own sub-ICB location and
ICB (ODS codes mapped to GSS); the weighted population of the chosen component is kept beside it
(column ``nhse_wp``) as the need. At practice level, practices with 2022-23 payments but no
weighted population get no population (released, listed in the notes), and practices in the
file without 2022-23 payments are left out and listed (no current provision to move).
At ``sicbl``/``icb`` level the payments of practices missing from the file still count in
their area's current provision; the notes say how many and how much.

Deprivation: IMD 2025 score (LSOA deciles as published; at ``ltla``/``sicbl``/``icb`` the
population-weighted mean score, with population-weighted deciles over England's areas of that
level); practices: IMD 2019 of the registered population, national registered-patient deciles
(:func:`analysis.funding.deprivation.deprivation_groups`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.allocation.scenario import (
    GP_PAYMENT_YEAR,
    GP_PAYMENTS_SOURCE,
    NHSE_WP_KIND,
    Scenario,
    _close,
)
from analysis.data import IndicatorRegistry, default_registry
from analysis.numbers import format_money

DEPRIVATION_INDICATOR = "imd2025_score"


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


def practice_pcns() -> pd.Series:
    """Each practice's primary care network code in the 2022-23 payments file (index practice
    code; practices without one are left out)."""
    rows = _payments_year()
    codes = rows["pcn_code"].astype("string").str.strip()
    keep = codes.notna() & (codes != "")
    return pd.Series(codes[keep].to_numpy(dtype=object),
                     index=rows.loc[keep, "practice_code"].astype(str).to_numpy())


def pcn_weighted_mean(values: pd.Series) -> pd.Series:
    """The weighted-patient mean of practice values (index practice code) over each primary
    care network's practices: sum(w * v) / sum(w) with w the 2022-23 weighted patients, over
    the practices with a value and patients (index PCN code; networks with none are left
    out)."""
    rows = _payments_year()
    weight = pd.Series(rows["weighted_patients"].astype(float).fillna(0.0).to_numpy(),
                       index=rows["practice_code"].astype(str).to_numpy())
    values = pd.Series(values.astype(float).to_numpy(), index=values.index.astype(str))
    network = practice_pcns().reindex(values.index)
    w = weight.reindex(values.index)
    usable = (network.notna() & (w > 0) & values.notna()).to_numpy()
    keys = network[usable].to_numpy()
    mean = (values * w)[usable].groupby(keys).sum() / w[usable].groupby(keys).sum()
    mean.index = mean.index.astype(str)
    return mean


def _pcn_frame() -> pd.DataFrame:
    from analysis.funding import assign_deprivation_groups

    practices = _practice_frame()
    pcn = practice_pcns().reindex(practices.index)
    practices = practices[pcn.notna().to_numpy()].assign(pcn=pcn.dropna())
    grouped = practices.groupby("pcn")
    frame = pd.DataFrame({"population": grouped["population"].sum(),
                          "practices": grouped.size()})
    frame["deprivation"] = pcn_weighted_mean(practices["deprivation"]).reindex(frame.index)
    # PCN names are not in the payments file: named by their code and largest practice
    largest = practices.sort_values("population", ascending=False).groupby("pcn")["name"].first()
    frame.insert(0, "name", [f"PCN {code} ({largest[code].title()} and others)"
                             if n > 1 else f"PCN {code} ({largest[code].title()})"
                             for code, n in frame["practices"].items()])
    frame.index = pd.Index(frame.index.astype(str), name="area_code")
    for group, n in (("decile", 10), ("quintile", 5)):
        frame[group] = assign_deprivation_groups(frame["deprivation"], frame["population"],
                                                 n).astype("Float64").astype(float)
    return frame.drop(columns=["practices"])


def _study_area_codes(scenario: Scenario, frame: pd.DataFrame) -> pd.Index:
    if scenario.area is None or scenario.area.strip().upper() == "E92000001":
        return frame.index
    if scenario.level == "practice":
        from analysis.access import practices_in_area

        wanted = practices_in_area(scenario.area) or []
        keep = frame.index.intersection(pd.Index(wanted))
    elif scenario.level == "pcn":
        from analysis.access import practices_in_area

        wanted = practices_in_area(scenario.area) or []
        networks = practice_pcns().reindex(pd.Index(wanted)).dropna().unique()
        keep = frame.index.intersection(pd.Index(networks))
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
    elif scenario.level == "pcn":
        frame = _pcn_frame()
        sources = [f"NHS Payments to General Practice {GP_PAYMENT_YEAR} (weighted patients "
                   "and PCN codes)", "OHID Fingertips 93553 (IMD 2019 of practice populations)"]
    else:
        frame = _england_level_frame(scenario.level)
        sources = ["Census 2021 population (ONS)", "English Indices of Deprivation 2025"]
    keep = _study_area_codes(scenario, frame)
    areas = _Areas(frame.loc[keep].copy(), [], sources)
    if scenario.level == "pcn":
        areas.notes.append("PCNs have no published boundaries: each is shown at the mean "
                           "position of its practices, and a PCN belongs to a study area when "
                           "one of its practices does")
    if scenario.need.kind == NHSE_WP_KIND:
        _weighted_population_areas(scenario, areas)
    return areas


def _examples(codes: Sequence[str]) -> str:
    codes = list(codes)
    return ", ".join(codes[:10]) + (f" and {len(codes) - 10:,} more" if len(codes) > 10 else "")


def _weighted_population_areas(scenario: Scenario, areas: _Areas) -> None:
    """Population = registered list and ``nhse_wp`` = the component's weighted population, by
    area, from NHS England's file of the scenario's year (see the module docstring)."""
    from analysis.funding.weighted_populations import (
        WP_COMPONENTS,
        load_weighted_populations,
        weighted_populations_by,
    )

    year, component = str(scenario.need.year), str(scenario.need.component)
    column, title = WP_COMPONENTS[component]
    table = load_weighted_populations(year)
    sums = weighted_populations_by(table, scenario.level)  # type: ignore[arg-type]
    frame = areas.frame
    registered = sums["registered"].reindex(frame.index)
    absent = frame.index[registered.isna().to_numpy()]
    frame["population"] = registered.fillna(0.0).to_numpy()
    frame["nhse_wp"] = sums[column].reindex(frame.index).fillna(0.0).to_numpy()
    areas.sources.append(f"NHS England practice weighted populations {year} ({title} "
                         "component; allocations 2023-24 to 2024-25)")
    summed = "" if scenario.level == "practice" else (
        f" (summed over each {scenario.area_noun(1)}'s practices)")
    areas.notes.append(f"Population = registered patients and need = NHS England's {title} "
                       f"weighted population, {year}{summed}")
    paid = set(_payments_year()["practice_code"].astype(str))
    listed = set(table["practice_code"].astype(str))
    not_paid = sorted(listed - paid)
    if scenario.level == "practice":
        if len(absent):
            areas.notes.append(f"{len(absent):,} practices with 2022-23 payments are not in NHS "
                               f"England's {year} weighted populations: no population, so "
                               f"their payments are released ({_examples(list(absent))})")
        outside = sorted(set(not_paid) - set(frame.index))
        if outside:
            wp = float(table.loc[table["practice_code"].isin(outside), column].sum())
            areas.notes.append(
                f"{len(outside):,} practices in NHS England's {year} weighted populations have "
                f"no 2022-23 payments and are left out ({wp:,.0f} weighted patients, "
                f"{wp / float(table[column].sum()):.2%} of England's): "
                f"{_examples(outside)}")
        return
    missing = sorted(paid - listed)
    if missing:
        rows = _payments_year()
        amount = float(rows.loc[rows["practice_code"].astype(str).isin(missing),
                                "total_payments"].clip(lower=0).sum())
        areas.notes.append(f"{len(missing):,} practices with 2022-23 payments "
                           f"({format_money(amount, compact=True)}) are not in NHS England's "
                           f"{year} file: their payments count in their area's current "
                           f"provision, they add no need ({_examples(missing)})")
    if not_paid:
        areas.notes.append(f"{len(not_paid):,} practices in NHS England's {year} file have no "
                           f"2022-23 payments: their need counts in their area "
                           f"({_examples(not_paid)})")
    if len(absent):
        areas.notes.append(f"{len(absent):,} {scenario.area_noun(len(absent))} have no "
                           f"practice in NHS England's file: {_examples(list(absent))}")


def _per_unit(unit: str) -> float:
    match = re.search(r"per\s+([\d,]+)", unit or "")
    if not match:
        return 1.0
    return float(match.group(1).replace(",", "")) or 1.0


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
            f"{int(negative.sum()):,} practices had a negative 2022-23 total (recoveries larger "
            f"than payments, {format_money(float(-amount[negative].sum()), compact=True)} in "
            "all); read as zero current provision")
    amount = amount.clip(lower=0.0)
    codes = rows["practice_code"].astype(str)
    by_practice = pd.Series(amount.to_numpy(), index=codes.to_numpy())
    if scenario.level == "practice":
        return by_practice
    from analysis.data import load_pack_table

    table = load_pack_table("england")
    if scenario.level == "pcn":
        area = codes.map(practice_pcns()).to_numpy()
        basis = "the practice's primary care network (2022-23 payments file)"
    elif scenario.level in ("sicbl", "icb"):
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
        lost = format_money(float(by_practice[unmapped].sum()), compact=True)
        why = ("no PCN code in the payments file" if scenario.level == "pcn" else
               f"no {scenario.level} (not on the July 2023 list)")
        areas.notes.append(
            f"{int(unmapped.sum())} practice(s) with {lost} of 2022-23 payments have {why} "
            "and are left out")
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
