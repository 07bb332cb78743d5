"""The money sections of a briefing: GP payments per weighted patient by practice deprivation
quintile (:func:`analysis.funding.funding_by_deprivation`), and an optional allocation
scenario (:func:`run_scenario`) with the area's winners and losers and the equity impact
across England. The allocation and GP-payment loaders are imported when a section runs.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.briefing.content import (
    BriefingTable,
    KeyNumber,
    ScenarioPart,
    SourceEntry,
    _Column,
    _interval_text,
    _make_table,
)
from analysis.briefing.sections import _data_root, _Draft, _source, _source_of_meta
from analysis.briefing.wording import _finite, money_in_words
from analysis.data import (
    AreaRef,
    IndicatorRegistry,
    UnknownAreaError,
    default_registry,
    load_pack_table,
    small_area_mask,
    spec_for,
)
from analysis.numbers import (
    difference_in_words,
    format_money,
    format_number,
    format_percent,
    interval_in_words,
    sentence_case,
)

GP_PAYMENT_YEAR = "2022-23"


# =============================================================================================
# GP funding by practice deprivation
# =============================================================================================


def _gp_funding_step(d: _Draft, ref: AreaRef, name: str, threshold: int) -> None:
    if ref.country != "england":
        d.missing.append("NHS Payments to General Practice cover English practices only, so "
                         "GP funding by deprivation is not shown.")
        return
    from analysis.access import practices_in_area
    from analysis.funding import (
        DEFAULT_TOTAL,
        MIN_GROUP_PRACTICES,
        TOTALS,
        dispensing_sentence,
        funding_by_deprivation,
        gap_in_words,
        gap_sentence,
        load_gp_payments,
        load_practice_imd,
        read_gap,
    )

    try:
        practices = practices_in_area(ref.code)
    except UnknownAreaError as exc:
        d.missing.append(f"GP funding by deprivation is not shown: {exc}.")
        return
    payments, imd = load_gp_payments(), load_practice_imd()
    total = TOTALS[DEFAULT_TOTAL]
    tables = {flag: funding_by_deprivation(payments, imd, year=GP_PAYMENT_YEAR,
                                           practices=practices, include_dispensing=flag,
                                           measure=total.column)
              for flag in (True, False)}
    table = tables[True]
    readings = {flag: read_gap(t, DEFAULT_TOTAL) for flag, t in tables.items()}
    reading = readings[True]
    without = tables[False].set_index("quintile")
    columns = [
        _Column("Practice deprivation quintile (1 = most deprived)", str, numeric=False),
        _Column("Practices", lambda v: format_number(v)),
        _Column("£ per weighted patient (95% CI)", lambda v: v, numeric=True),
        _Column("Without dispensing practices", lambda v: v, numeric=True),
    ]
    rows = []
    for r in table.itertuples():
        if r.practices == 0:
            shown = "no practices"
        else:
            shown = _interval_text(r.per_weighted_patient, r.ci_lower, r.ci_upper, 2, "£")
        other = without.loc[int(r.quintile)]
        rows.append([int(r.quintile), int(r.practices), shown,
                     format_money(other["per_weighted_patient"]) if other["practices"]
                     else "no practices"])
    note = (f"NHS payments {GP_PAYMENT_YEAR} per weighted (Carr-Hill) patient: "
            f"{total.label}. Quintiles are national: quintile 1 is the practices serving the "
            "most deprived fifth of England's patients (IMD 2019 score of the practice "
            "population, OHID Fingertips 93553). A quintile of fewer than "
            f"{MIN_GROUP_PRACTICES} practices is too small to compare.")
    d.tables.append(_make_table("gp_funding", f"GP payments by practice deprivation, "
                                f"{GP_PAYMENT_YEAR}", columns, rows, threshold, [note]))
    label = f"GP funding, most against least deprived practices ({GP_PAYMENT_YEAR})"
    headline = gap_sentence(reading, f"GP funding in {name}")
    caveat = dispensing_sentence(readings[True], readings[False])
    if reading.comparable:
        interval = interval_in_words(reading.gap_pct_lower, reading.gap_pct_upper, "%", 1,
                                     words=("more", "less"))
        without_words = (f" Without dispensing practices: {gap_in_words(readings[False])}."
                         if readings[False].comparable
                         and readings[False].practices != reading.practices else "")
        d.key_numbers.append(KeyNumber(
            label, gap_in_words(reading),
            f"{format_money(reading.most)} against {format_money(reading.least)} per weighted "
            f"patient ({interval}"
            + ("; not a clear difference" if reading.direction == "similar" else "")
            + f"); {total.label}.{without_words}"))
    else:
        d.key_numbers.append(KeyNumber(label, "Too few practices to compare", headline))
    d.meaning.append(" ".join(part for part in (headline, caveat) if part))
    d.facts.update(gp_gap_pct=reading.gap_pct if reading.comparable else None,
                   gp_gap_pct_without_dispensing=(readings[False].gap_pct
                                                  if readings[False].comparable else None),
                   gp_comparable=reading.comparable, gp_total=total.key,
                   gp_most_deprived=reading.most, gp_least_deprived=reading.least)
    d.sources += [_source("gp_payments"), _source("gp_practice_imd"), _source("gp_practices")]
    d.glossary.append("weighted")


# =============================================================================================
# Allocation scenario
# =============================================================================================


@functools.lru_cache(maxsize=4)
def _cached_allocation(path: str, mtime_ns: int, data_root: str) -> Any:
    from analysis.allocation import run_scenario_file

    return run_scenario_file(path)


def run_scenario(path: str | Path, registry: IndicatorRegistry | None = None) -> Any:
    """Run an allocation scenario file (:func:`analysis.allocation.run_scenario_file`).

    With the shipped registry the result is cached per file version, so a batch of briefings
    runs the scenario once. Raises ``ValueError`` for a missing, invalid or infeasible
    scenario.
    """
    from analysis.allocation import run_scenario_file

    file = Path(path).resolve()
    if not file.is_file():
        raise ValueError(f"Scenario file {path} does not exist")
    if registry is None or registry is default_registry():
        return _cached_allocation(str(file), file.stat().st_mtime_ns, str(_data_root()))
    return run_scenario_file(file, registry=registry)


_UNIT_WORDS = {"practice": ("practice", "practices"), "icb": ("ICB", "ICBs"),
               "pcn": ("primary care network", "primary care networks"),
               "sicbl": ("sub-ICB location", "sub-ICB locations"),
               "ltla": ("local authority", "local authorities"),
               "lsoa21": ("neighbourhood", "neighbourhoods")}


def _amount_noun(scenario: Any, registry: IndicatorRegistry | None) -> str:
    """What a non-money scenario shares, from its provision indicator's unit: "FTE GPs"."""
    indicator = getattr(scenario.current, "indicator", None)
    if indicator:
        try:
            unit = (registry or default_registry()).meta(indicator).unit
        except KeyError:
            return "units"
        if " per " in unit:
            return unit.split(" per ")[0]
    return "units"


def _scenario_sources(scenario: Any, registry: IndicatorRegistry | None) -> list[SourceEntry]:
    """Provenance of a scenario's current figures and need indicators (deduplicated later)."""
    from analysis.allocation import GP_PAYMENTS_SOURCE, PRACTICE_NEED_INDICATORS

    registry = registry or default_registry()
    out: list[SourceEntry] = []
    current = scenario.current
    if current.source == GP_PAYMENTS_SOURCE or scenario.level in ("practice", "pcn"):
        out.append(_source("gp_payments"))
    if current.source == "indicator" and current.indicator:
        out.append(_source_of_meta(registry.meta(current.indicator)))
    elif current.source in ("csv", "table"):
        out.append(SourceEntry(f"Current figures supplied with scenario {scenario.name}",
                               "", "", ""))
    need = scenario.need
    ids = [c.indicator for c in need.components] + ([need.index] if need.index else [])
    for indicator in ids:
        if indicator in PRACTICE_NEED_INDICATORS:
            out.append(_source("gp_practice_imd"))
        else:
            try:
                out.append(_source_of_meta(registry.meta(indicator)))
            except KeyError:
                out.append(SourceEntry(indicator, "", "", ""))
    return out


def _scenario_units(result: Any, ref: AreaRef) -> tuple[pd.DataFrame, str]:
    """The scenario's areas that overlap the briefing area, and how they relate to it."""
    level = result.scenario.level
    areas = result.areas
    if level in ("practice", "pcn"):
        from analysis.access import practices_in_area

        try:
            codes = set(practices_in_area(ref.code) or [])
        except UnknownAreaError:
            codes = set()
        if level == "pcn":  # the networks with a practice in the area
            from analysis.allocation.inputs import practice_pcns

            codes = set(practice_pcns().reindex(sorted(codes)).dropna())
        return areas[areas["area_code"].isin(codes)], "inside"
    spec = spec_for("england")
    table = load_pack_table("england")
    mask = small_area_mask("england", ref.code).to_numpy()
    codes = set(table.loc[mask, spec.level(level).code_column].astype(str))
    keys = [lv.key for lv in spec.levels]
    relation = "within" if keys.index(level) > keys.index(ref.level) else (
        "same" if level == ref.level else "inside")
    return areas[areas["area_code"].isin(codes)], relation


def _rank_sentence(result: Any, units: pd.DataFrame) -> str:
    """" It has the 2nd-largest gain of the 42 ICBs." for one area that gains or loses."""
    if len(units) != 1:
        return ""
    unit = units.iloc[0]
    if unit["status"] not in ("winner", "loser"):
        return ""
    peers = result.winners if unit["status"] == "winner" else result.losers
    if unit["area_code"] not in peers:
        return ""
    rank = peers.index(unit["area_code"]) + 1
    ordinal = "" if rank == 1 else _ordinal(rank) + "-"
    kind = "gain" if unit["status"] == "winner" else "loss"
    return (f" That is the {ordinal}largest {kind} of the {len(peers):,} that would "
            f"{'gain' if kind == 'gain' else 'lose'}.")


def _count(n: int, one: str) -> str:
    """A count of practices or areas in words: "no practice", "1", "4,012"."""
    return f"no {one}" if n == 0 else format_number(n)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _scenario_step(d: _Draft, path: Path, ref: AreaRef, name: str,
                   registry: IndicatorRegistry | None, threshold: int) -> ScenarioPart:
    result = run_scenario(path, registry)
    scenario = result.scenario
    money = scenario.current.source == "gp_payments_2022_23"
    one, many = _UNIT_WORDS.get(scenario.level, ("area", "areas"))
    scale = scenario.per_head_scale

    noun = _amount_noun(scenario, registry)

    def amount(x: float) -> str:
        if money:
            return money_in_words(x)
        return f"{format_number(x, 1 if abs(x) < 100 else 0)} {noun}"

    summary = result.summary()
    paragraphs = []
    pace = ""
    if scenario.max_gain_pct is not None or scenario.max_loss_pct is not None:
        pace = (f", with no {one} gaining more than {format_number(scenario.max_gain_pct, 0)}% "
                f"or losing more than {format_number(scenario.max_loss_pct, 0)}% in a year"
                if scenario.max_gain_pct is not None and scenario.max_loss_pct is not None
                else ", with a limit on how fast any share may change")
    paragraphs.append(
        f"The scenario shares {amount(result.budget)} between {summary['areas_allocated']:,} "
        f"{many} in England over {scenario.years} years: "
        f"{100 * scenario.alpha:.0f}% in proportion to population and "
        f"{100 * (1 - scenario.alpha):.0f}% in proportion to need{pace}.")
    if ref.country != "england":
        paragraphs.append(f"This scenario covers England only, so it does not change anything "
                          f"in {name}.")
        return ScenarioPart(scenario.name, scenario.title or scenario.name, tuple(paragraphs), ())
    units, relation = _scenario_units(result, ref)
    alive = units[units["status"] != "zero population"]
    tables: list[BriefingTable] = []
    if alive.empty:
        paragraphs.append(f"None of the scenario's {many} lie in {name}, so it has no direct "
                          "effect here.")
    else:
        now, after = float(alive["current"].sum()), float(alive["allocation"].sum())
        change = after - now
        pct = 100 * change / now if now > 0 else math.nan
        direction = "more" if change > 0 else "less"
        if relation == "within" or relation == "same":
            unit_name = str(alive["area_name"].iloc[0])
            who = (f"{name} lies within {unit_name}, which" if relation == "within"
                   else f"{name}")
            paragraphs.append(
                f"{who} would receive {amount(after)} after {scenario.years} years, against "
                f"{amount(now)} now: {amount(abs(change))} {direction} "
                f"({format_percent(abs(pct))})." + _rank_sentence(result, alive))
        else:
            # practices and areas are not people: their counts are published as they are
            gain, lose = (_count(int((alive["status"] == s).sum()), one)
                          for s in ("winner", "loser"))
            who = (f"the {format_number(len(alive))} {many} in {name}" if len(alive) > 1
                   else f"the one {one} in {name}")
            paragraphs.append(
                f"After {scenario.years} years {who} would receive {amount(after)} in total, "
                f"against {amount(now)} now: {amount(abs(change))} {direction} "
                f"({format_percent(abs(pct))}). {sentence_case(gain)} would gain "
                f"and {lose} would lose.")
        per_head = "£ per head" if money and scale == 1 else (
            f"per {format_number(scale, 0)} residents" if scale != 1 else "per head")
        if scenario.level in ("practice", "pcn"):
            per_head = per_head.replace("head", "weighted patient")
        ordered = alive.sort_values("change", ascending=False)
        picked = pd.concat([ordered.head(3), ordered.tail(3)]).drop_duplicates("area_code")
        rows = [[str(r.area_name), amount(r.current), amount(r.allocation),
                 f"{format_number(r.change_pct, 1, signed=True)}%",
                 f"{format_number(r.current_per_head, 0 if scale == 1 and money else 1)} → "
                 f"{format_number(r.allocation_per_head, 0 if scale == 1 and money else 1)}"]
                for r in picked.itertuples()]
        title = ("Largest gains and losses in " + name) if len(alive) > len(picked) else (
            f"Every {one} in {name}" if relation == "inside" else f"{sentence_case(one)} "
            f"covering {name}")
        tables.append(_make_table(
            "scenario_areas", title,
            [_Column(sentence_case(one), str, numeric=False), _Column("Now", str),
             _Column(f"After {scenario.years} years", str), _Column("Change", str),
             _Column(per_head.capitalize(), str)], rows, threshold))
    before, after_m = result.before, result.after

    def ci_words(value: float) -> str:
        if not _finite(value):
            return "cannot be measured"
        if abs(value) < 0.0005:
            return "is spread evenly by need"
        return "goes more to needier areas" if value < 0 else "goes more to less needy areas"

    everyone = result.areas[result.areas["status"] != "zero population"]
    gain, lose = (_count(int((everyone["status"] == s).sum()), one)
                  for s in ("winner", "loser"))
    paragraphs.insert(1, f"Across England, {gain} of the {format_number(len(everyone))} "
                         f"{many} would gain and {lose} would lose.")
    closed = summary.get("share_of_gap_closed")
    per_head_unit = ("£ per head" if money and scale == 1 else
                     f"{noun} per {format_number(scale, 0)} residents" if scale != 1
                     else f"{noun} per head")
    if scenario.level in ("practice", "pcn"):
        per_head_unit = per_head_unit.replace("head", "weighted patient")
    digits = 2 if money else 1
    sii_after = difference_in_words(-after_m.sii, per_head_unit, digits,
                                    lower=-after_m.sii_upper, upper=-after_m.sii_lower)
    now_ci, then_ci = before.concentration_index, after_m.concentration_index
    if (_finite(now_ci) and _finite(then_ci) and abs(now_ci) >= 0.0005
            and abs(then_ci) >= 0.0005 and (now_ci < 0) == (then_ci < 0)):
        stronger = "more" if abs(then_ci) > abs(now_ci) else "less"
        follows = f"funding {ci_words(now_ci)} now, and {stronger} so after the change"
    else:
        follows = f"funding {ci_words(now_ci)} now and {ci_words(then_ci)} after the change"
    paragraphs.append(
        f"Equity impact across England: {follows}. Across deprivation "
        f"deciles, funding per head is now "
        f"{difference_in_words(-before.sii, per_head_unit, digits)}; after the change it would "
        f"be {sii_after}."
        + (f" About {100 * closed:.0f}% of the gap to the fair-share target would close."
           if _finite(closed) else ""))
    d.methods.append(
        f"Scenario equity (signed statistics): concentration index of funding by need "
        f"{format_number(before.concentration_index, 3, signed=True)} now, "
        f"{format_number(after_m.concentration_index, 3, signed=True)} after (95% CI "
        f"{format_number(after_m.concentration_index_lower, 3, signed=True)} to "
        f"{format_number(after_m.concentration_index_upper, 3, signed=True)}; negative = "
        f"more to needier areas); slope index of inequality of funding per head (least minus "
        f"most deprived) {format_number(before.sii, 1, signed=True)} now, "
        f"{format_number(after_m.sii, 1, signed=True)} after (95% CI "
        f"{format_number(after_m.sii_lower, 1, signed=True)} to "
        f"{format_number(after_m.sii_upper, 1, signed=True)}).")
    d.facts.update(scenario=scenario.name,
                   scenario_concentration_before=float(before.concentration_index),
                   scenario_concentration_after=float(after_m.concentration_index))
    d.sources += _scenario_sources(scenario, registry)
    d.glossary += ["fair_share", "proportionate", "concentration"]
    d.methods.append(
        "Scenario: target = budget × (α × share of population + (1 − α) × share of need), "
        "reached within the pace-of-change limits (analysis/allocation/solver.py).")
    return ScenarioPart(scenario.name, scenario.title or scenario.name, tuple(paragraphs),
                        tuple(tables))

