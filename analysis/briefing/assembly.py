"""Assembling a briefing: :func:`build_briefing` gathers everything a briefing says into a
:class:`analysis.briefing.content.Briefing`, calling the same analysis functions the dashboard
calls, so the numbers always agree with it:

* population and the share living in the nationally most deprived 20% (the *Core20* measure):
  :func:`analysis.explore.study_area_summary`;
* provision per head against the national figure: :func:`analysis.explore.area_value`;
* the inverse care law test, with its confidence interval and p-value, and the slope index of
  inequality of provision: :func:`analysis.explore.equity_panel` on the dashboard's default
  need and provision indicators;
* the slope index of inequality (SII) of a headline health outcome (England: the comparative
  illness and disability ratio) across national deprivation deciles:
  :func:`analysis.stats.decile_gradient` and :func:`analysis.stats.slope_index`, with the
  panel's rules (at least five deciles with intervals, the same seed);
* GP payments per weighted patient by practice deprivation quintile:
  :func:`analysis.funding.funding_by_deprivation` and :func:`analysis.funding.funding_gap`;
* a need × provision map in 3 × 3 classes: :func:`analysis.explore.bivariate_classes`;
* optionally an allocation scenario: :func:`analysis.allocation.allocate`;
* where the learning log has notes for the area, the areas it lies in or the areas inside
  it: what people and practitioners told us, and decisions under review
  (:mod:`analysis.briefing.notes`, reading :class:`analysis.learning.LearningLog`).

The sections themselves live in :mod:`analysis.briefing.sections` and
:mod:`analysis.briefing.funding`; this module runs them in order and writes the headline and
methods.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from analysis.briefing.charts import _bivariate_map, _decile_map
from analysis.briefing.content import Briefing, SourceEntry, _glossary, _unique_sources
from analysis.briefing.funding import _gp_funding_step, _scenario_step
from analysis.briefing.notes import NOTES_METHOD, notes_part
from analysis.briefing.sections import (
    BRIEFING_PROVISION,
    DEPRIVATION_DECILE_ID,
    _decile_table,
    _deprivation_step,
    _Draft,
    _outcome_step,
    _provision_step,
    _source,
    _source_of_meta,
    provision_headline_phrase,
)
from analysis.briefing.wording import COUNTRY_LABEL, NEIGHBOURHOOD, compared_with
from analysis.data import (
    COUNTRY_CODES,
    OGL,
    OGL_URL,
    AreaRef,
    IndicatorRegistry,
    default_registry,
    resolve_area,
    spec_for,
)
from analysis.disclosure import suppression_note
from analysis.explore import AreaSummary, EquityPanel, study_area_frame, study_area_summary


def _attribution(sources: tuple[SourceEntry, ...]) -> str:
    """The OGL attribution naming only the publishers this briefing's sources come from (a
    Scottish briefing does not credit English datasets it does not use)."""
    publishers = list(dict.fromkeys(s.publisher for s in sources if s.publisher))
    return ("Contains public sector information licensed under the Open Government Licence "
            "v3.0. Contains OS data © Crown copyright and database right. Source: "
            + "; ".join(publishers) + ".")


def _notes_facts(part) -> dict:
    """How many learning-log notes the briefing has and shows (nothing without notes, so a
    briefing without notes is unchanged)."""
    if part is None:
        return {}
    return {"learning_notes": {"voices_total": part.voices_total,
                               "voices_shown": len(part.voices),
                               "decisions_total": part.decisions_total,
                               "decisions_shown": len(part.decisions)}}


def _base_methods(country: str, index_label: str) -> list[str]:
    label = COUNTRY_LABEL[country]
    plural, detail = NEIGHBOURHOOD[country][1], NEIGHBOURHOOD[country][2]
    return [
        f"Figures are for the area's {plural} ({detail}), from the same Fairshare functions as "
        f"the dashboard, on open data for {label}. Deprivation: {index_label} national "
        "deciles; the most deprived 20% is the share of residents in deciles 1 and 2. Words "
        "such as 'about a fifth more' round a ratio to the nearest simple fraction; exact "
        "figures are in the tables. 'About the same' follows the rule the dashboard uses: "
        "not significantly different where a 95% confidence interval is known, else within "
        "5%. Full methods and references: docs/methods.md.",
    ]


# =============================================================================================
# The briefing
# =============================================================================================


def _headline(name: str, summary: AreaSummary, country: str, panel: EquityPanel | None) -> str:
    label = COUNTRY_LABEL[country]
    words = compared_with(summary.pct_most_deprived_quintile,
                          summary.national_pct_most_deprived_quintile, "the national share")
    start = (f"In {name}, {summary.pct_most_deprived_quintile:.1f}% of residents live in "
             f"{label}'s most deprived 20% of neighbourhoods, {words}")
    if panel is None:
        if BRIEFING_PROVISION.get(country) is None:
            return (start + f"; there are no provision data for {label} yet, so whether "
                    "services follow need cannot be tested.")
        return start + "; whether GP capacity follows need could not be tested."
    phrase = provision_headline_phrase(panel)
    return f"{start}, {phrase}."


def build_briefing(area_code: str, *, scenario_path: str | Path | None = None,
                   registry: IndicatorRegistry | None = None, suppress_below: int = 5,
                   produced: date | None = None, notes: bool = True,
                   learning_log: Any | None = None, audit: Any | None = None) -> Briefing:
    """Everything an equity briefing of ``area_code`` (any level) says, from the analysis API.

    ``scenario_path``: an allocation scenario JSON (``data/scenarios/*.json``) whose winners,
    losers and equity impact are added. ``suppress_below``: counts from 1 to this − 1 are
    hidden in tables (0 turns suppression off). ``produced``: the date printed (today).
    ``notes``: add the learning log's sections when it has notes for the area (``False``:
    never read the log); ``learning_log``: the :class:`analysis.learning.LearningLog` to
    read (default: the configured one, read-only; a log that does not exist yet is never
    created and leaves the briefing unchanged). ``audit``: an
    :class:`analysis.audit.results.AuditResult` to add as "Equity audit of <service>".
    Raises :class:`analysis.data.geography.UnknownAreaError` (with the closest codes) for an
    unknown area, ``ValueError`` for a bad scenario.
    """
    if suppress_below < 0:
        raise ValueError(f"suppress_below is {suppress_below}: it must be 0 or more")
    ref = resolve_area(area_code)
    if ref.level == "country":
        ref = AreaRef(ref.country, "country", COUNTRY_CODES[ref.country][0],
                      COUNTRY_CODES[ref.country][1])
    shared = registry is None
    registry = registry if registry is not None else default_registry()
    summary = study_area_summary(ref.code, registry=registry)
    name = summary.name
    country = ref.country
    frame = study_area_frame(country, ref.code, [], registry)
    d = _Draft()
    d.methods += _base_methods(country, summary.deprivation_index)
    d.sources.append(_source("lsoa21_boundaries" if country == "england" else "dz11_boundaries"))
    d.sources.append(_source("census2021_population" if country == "england"
                             else "scotland_population_2021"))
    d.sources.append(_source_of_meta(registry.meta(DEPRIVATION_DECILE_ID[country])))

    profile = _deprivation_step(d, ref, summary, frame, suppress_below)
    panel = _provision_step(d, ref, name, registry, suppress_below)
    outcome = _outcome_step(d, ref, name, frame, registry)
    _gp_funding_step(d, ref, name, suppress_below)
    _decile_table(d, ref, profile, panel, outcome, suppress_below)

    if panel is not None:
        figure, facts = _bivariate_map(country, ref.code, ref.level, panel, suppress_below)
        d.facts.update(facts)
        what, low = (("access to a GP", "poor-access") if panel.higher_is_worse
                     else ("GP capacity", "low-capacity"))
        d.methods.append(
            f"Map: thirds of need by thirds of {what} within the area (each third about a "
            f"third of residents); the high-need, {low} class is outlined so the map "
            "also reads in black and white.")
    else:
        deciles = registry.get(DEPRIVATION_DECILE_ID[country]).values
        figure = _decile_map(country, ref.code, ref.level, deciles, summary.deprivation_index)
    d.figures.insert(0, figure)

    scenario_part = None
    if scenario_path is not None:
        scenario_part = _scenario_step(d, Path(scenario_path), ref, name,
                                       None if shared else registry, suppress_below)
    d.meaning.append(
        "These figures describe patterns, not causes: a link between deprivation and provision "
        "does not show why it exists. Use them to ask questions of services, alongside local "
        "knowledge.")

    produced = produced or date.today()
    notes_section = notes_part(ref, today=produced, log=learning_log) if notes else None
    if notes_section is not None:
        d.methods.append(NOTES_METHOD)

    audit_section = None
    if audit is not None:
        from analysis.briefing.audit import AUDIT_METHOD, audit_part

        audit_section = audit_part(audit, suppress_below)
        d.methods.append(AUDIT_METHOD)
        d.facts["audit"] = {"service": audit.service, "simulated": audit.simulated,
                            "events": audit.events, "study_area": audit.study.code}
    tables = (list(d.tables) + list(scenario_part.tables if scenario_part else ())
              + list(audit_section.tables if audit_section else ()))
    footnotes = []
    if any(t.suppressed for t in tables):
        footnotes.append(suppression_note(suppress_below))
    level_label = spec_for(country).level(ref.level).label
    sources = _unique_sources(d.sources)
    return Briefing(
        area_code=ref.code, area_name=name, level_label=level_label, country=country,
        country_label=COUNTRY_LABEL[country], produced=produced,
        title=f"Equity briefing: {name}", headline=_headline(name, summary, country, panel),
        key_numbers=tuple(d.key_numbers), meaning=tuple(d.meaning), missing=tuple(d.missing),
        figures=tuple(d.figures), tables=tuple(d.tables), scenario=scenario_part,
        methods=tuple(d.methods), glossary=_glossary(d.glossary),
        sources=sources, attribution=_attribution(sources), licence=OGL,
        licence_url=OGL_URL, footnotes=tuple(footnotes), suppress_below=suppress_below,
        notes=notes_section, audit=audit_section,
        facts={"area_code": ref.code, "area_name": name, "level": ref.level,
               "country": country, **d.facts, **_notes_facts(notes_section)})


