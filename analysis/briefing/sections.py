"""The area sections of a briefing, each from the same analysis calls the dashboard makes:
deprivation profile (population, Core20 share), GP capacity per head (qualified GPs within
reach) and the inverse care law test, the health outcome's slope index of inequality, and the
table by national deprivation decile. Each step adds key numbers, sentences, figures, tables,
sources and glossary terms to a :class:`_Draft`, and a "missing" statement where the data cannot
support it.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.briefing.charts import _gradient_chart, _profile_chart
from analysis.briefing.content import (
    BriefingTable,
    Figure,
    KeyNumber,
    SourceEntry,
    _Column,
    _interval_text,
    _make_table,
)
from analysis.briefing.wording import (
    COUNTRY_LABEL,
    NEIGHBOURHOOD,
    NO_AREAS,
    NOT_AVAILABLE,
    VERDICT_LABEL,
    _finite,
    compared_with,
    people_in_words,
)
from analysis.data import (
    SOURCES,
    AreaRef,
    IndicatorMeta,
    IndicatorRegistry,
    default_registry,
    spec_for,
)
from analysis.explore import (
    HEADLINE_NEED,
    HEADLINE_PROVISION,
    MIN_DECILES_FOR_SII,
    SII_SEED,
    AreaSummary,
    EquityPanel,
    area_value,
    equity_panel,
    study_area_frame,
)
from analysis.numbers import (
    difference_in_words,
    format_number,
    interval_in_words,
    sentence_case,
)
from analysis.stats import SlopeIndexResult, decile_gradient, format_p, slope_index

#: Need and provision of the inverse-care test: the same headline pair the dashboard uses.
BRIEFING_NEED = HEADLINE_NEED
BRIEFING_PROVISION = HEADLINE_PROVISION
#: Headline health outcome whose SII across deprivation deciles the briefing reports.
BRIEFING_OUTCOME = {"england": "iod2025_cidr", "scotland": "simd2020_cif"}
#: How each outcome is named in sentences, and its glossary entry.
#: (heading, name in sentences, glossary key)
OUTCOME_TITLE = {
    "iod2025_cidr": ("Illness and disability ratio", "comparative illness and disability ratio",
                     "cidr"),
    "simd2020_cif": ("Comparative illness factor", "comparative illness factor", "cif")}
#: What each GP provision measure counts, said once after its figure (a reader must not take
#: a registered list for capacity, or a headcount for hours).
PROVISION_EXPLAINED = {
    "gp_access_gps_per_100k": (
        "This measure counts fully qualified permanent GPs (a headcount, not full-time "
        "equivalents; GPs in training and locums are not counted) at practices within 15 km, "
        "shared out between everyone who could use them and weighted by straight-line "
        "distance; it is not a count of appointments or a measure of quality."),
    "gp_access_list_places_per_1000": (
        "This measure counts registered-patient places at GP practices within 15 km, shared "
        "out between everyone who could use them; a practice's list is the demand on it, so "
        "it measures registration, not capacity."),
    "simd2020_gp_public_transport_minutes": (
        "This measure is the Scottish Government's modelled public-transport journey (bus, "
        "rail or ferry and walking) to the nearest GP surgery, from SIMD 2020; it measures how "
        "far away a surgery is, not how many GPs or appointments it has. Shorter is better."),
    "simd2020_gp_drive_minutes": (
        "This measure is the Scottish Government's modelled drive time to the nearest GP "
        "surgery, from SIMD 2020; it measures how far away a surgery is, not how many GPs or "
        "appointments it has. Shorter is better."),
}
#: Column header of the decile table for each provision measure.
PROVISION_HEADER = {"gp_access_gps_per_100k": "Qualified GPs per 100,000 (95% CI)",
                    "gp_access_list_places_per_1000": "GP list places per 1,000 (95% CI)",
                    "simd2020_gp_public_transport_minutes":
                        "Public-transport minutes to a GP (95% CI)",
                    "simd2020_gp_drive_minutes": "Drive minutes to a GP (95% CI)"}
DEPRIVATION_DECILE_ID = {"england": "imd2025_decile", "scotland": "simd2020_decile"}


# =============================================================================================
# Analysis steps (each calls the analysis API; each may add a "missing" statement)
# =============================================================================================


@dataclass
class _Draft:
    """Mutable collector used while a briefing is assembled."""

    key_numbers: list[KeyNumber] = field(default_factory=list)
    meaning: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    tables: list[BriefingTable] = field(default_factory=list)
    glossary: list[str] = field(default_factory=list)
    sources: list[SourceEntry] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)


def _source_of_meta(meta: IndicatorMeta) -> SourceEntry:
    return SourceEntry(meta.source, meta.publisher or meta.source,
                       meta.vintage or meta.period, meta.source_url)


def _source(key: str) -> SourceEntry:
    p = SOURCES[key]
    return SourceEntry(p.title, p.publisher, p.vintage, p.source_url)


def _data_root() -> Path:
    from analysis.data import data_dir

    return data_dir().resolve()


@functools.lru_cache(maxsize=4)
def _national_profile(country: str, data_root: str) -> pd.Series:
    """Share (%) of the country's residents in each national deprivation decile."""
    frame = study_area_frame(country, None, [], default_registry())
    return _decile_shares(frame)


def _decile_shares(frame: pd.DataFrame) -> pd.Series:
    valid = frame.dropna(subset=["deprivation_decile"])
    population = valid.groupby(valid["deprivation_decile"].astype(int))["population"].sum()
    population = population.reindex(range(1, 11), fill_value=0.0)
    return 100 * population / population.sum()


def _profile_table(frame: pd.DataFrame, national: pd.Series) -> pd.DataFrame:
    valid = frame.dropna(subset=["deprivation_decile"])
    grouped = valid.groupby(valid["deprivation_decile"].astype(int))
    out = pd.DataFrame({
        "decile": range(1, 11),
        "areas": grouped.size().reindex(range(1, 11), fill_value=0).to_numpy(),
        "population": grouped["population"].sum().reindex(range(1, 11),
                                                           fill_value=0.0).to_numpy(),
    })
    out["area_share"] = _decile_shares(frame).to_numpy()
    out["national_share"] = national.reindex(range(1, 11)).to_numpy()
    return out


def _outcome_sii(gradient: pd.DataFrame) -> tuple[SlopeIndexResult | None, str, pd.DataFrame]:
    """SII of an outcome's decile gradient, with the equity panel's rules and seed."""
    usable = gradient.dropna(subset=["lower_ci", "upper_ci"])
    usable = usable[usable["upper_ci"] > usable["lower_ci"]]
    if len(usable) < MIN_DECILES_FOR_SII:
        return None, (f"needs at least {MIN_DECILES_FOR_SII} deprivation deciles with "
                      f"confidence intervals; this area has {len(usable)}"), usable
    result = slope_index(usable["provision_per_head"].to_numpy(), usable["population"].to_numpy(),
                         lower_cl=usable["lower_ci"].to_numpy(),
                         upper_cl=usable["upper_ci"].to_numpy(), value_type="normal",
                         seed=SII_SEED)
    return result, "", usable


def _fitted_line(sii: SlopeIndexResult, usable: pd.DataFrame) -> list[dict[str, float]]:
    """Fitted SII line at each decile's relative rank (midpoint of its population slice)."""
    share = usable["population"].to_numpy(float) / usable["population"].sum()
    rank = np.cumsum(share) - share / 2
    fit = sii.intercept + (sii.sii / sii.multiplier) * rank
    return [{"decile": int(d), "fit": float(f)}
            for d, f in zip(usable["decile"], fit, strict=True)]


def _deprivation_step(d: _Draft, ref: AreaRef, summary: AreaSummary, frame: pd.DataFrame,
                      threshold: int) -> pd.DataFrame:
    country = ref.country
    label = COUNTRY_LABEL[country]
    national = _national_profile(country, str(_data_root()))
    profile = _profile_table(frame, national)
    pct, nat = summary.pct_most_deprived_quintile, summary.national_pct_most_deprived_quintile
    words = compared_with(pct, nat, "the national share")
    d.key_numbers.append(KeyNumber(
        "Residents", format_number(summary.population),
        f"{spec_for(country).population_source}; "
        f"{summary.small_areas:,} {NEIGHBOURHOOD[country][1]} ({NEIGHBOURHOOD[country][2]})."))
    measure = "Core20" if country == "england" else f"{summary.deprivation_index} quintile 1"
    d.key_numbers.append(KeyNumber(
        f"Living in the most deprived 20% nationally ({measure})", f"{pct:.1f}%",
        f"{sentence_case(words)} ({nat:.1f}%), by {summary.deprivation_index}."))
    programme = (" NHS England's Core20PLUS5 programme asks services to focus on this group."
                 if country == "england" else "")
    d.meaning.append(
        f"{pct:.1f}% of residents ({people_in_words(summary.population_most_deprived_quintile)}"
        f" people) live in neighbourhoods that are among the most deprived 20% in {label}. "
        f"That is {words} of {nat:.1f}%.{programme}")
    d.figures.append(_profile_chart(profile, label, summary.deprivation_index))
    d.facts.update(population=summary.population, small_areas=summary.small_areas,
                   pct_core20=summary.pct_most_deprived_quintile,
                   national_pct_core20=summary.national_pct_most_deprived_quintile,
                   population_core20=summary.population_most_deprived_quintile)
    d.glossary += ["neighbourhood", "decile", "core20", "index"]
    return profile


def _provision_step(d: _Draft, ref: AreaRef, name: str, registry: IndicatorRegistry,
                    threshold: int) -> EquityPanel | None:
    country = ref.country
    provision_id = BRIEFING_PROVISION.get(country)
    label = COUNTRY_LABEL[country]
    if provision_id is None:
        d.key_numbers.append(KeyNumber("GP capacity per head", NOT_AVAILABLE,
                                       f"Fairshare has no small-area provision data for {label} "
                                       "yet."))
        d.key_numbers.append(KeyNumber("Does provision follow need?", "Cannot be tested",
                                       "No provision data to test against need."))
        d.missing.append(
            f"There is no small-area measure of service provision for {label} in Fairshare "
            f"yet, so this briefing cannot say whether services in {name} follow need (the "
            "inverse care law test) or show a need and provision map. An analyst can add one "
            "(see docs/adding-indicators.md).")
        d.facts.update(provision_local=None, provision_national=None, verdict=None,
                       verdict_direction=None)
        return None
    meta = registry.meta(provision_id)
    local = area_value(country, ref.code, provision_id, registry)
    national = area_value(country, None, provision_id, registry)
    unit, places = meta.unit, meta.decimals
    short_unit = re.sub(r" residents$", "", unit)
    explained = PROVISION_EXPLAINED.get(provision_id, meta.description)
    words = compared_with(local, national, f"the {label} average")
    d.facts.update(provision_local=local if _finite(local) else None,
                   provision_national=national if _finite(national) else None)
    if _finite(local):
        d.key_numbers.append(KeyNumber(
            meta.title, f"{format_number(local, places)} {short_unit}",
            f"{sentence_case(words)} ({format_number(national, places)})."))
        d.meaning.append(
            f"{name} has {format_number(local, places)} {unit}: {words} "
            f"({format_number(national, places)}). {explained}")
    else:
        d.key_numbers.append(KeyNumber(meta.title, NOT_AVAILABLE,
                                       f"No value of this measure for {name}."))
        d.missing.append(f"There is no {meta.title} value for {name}.")
    need_id = BRIEFING_NEED[country]
    try:
        panel = equity_panel(country, ref.code, need_id, provision_id, registry)
    except ValueError:
        frame = study_area_frame(country, ref.code, [need_id, provision_id], registry)
        usable = int(frame[[need_id, provision_id]].notna().all(axis=1).sum())
        plural = NEIGHBOURHOOD[country][1]
        reason = (f"the test needs at least 3 {plural} with both need and provision values; "
                  f"{name} has {usable}")
        d.key_numbers.append(KeyNumber("Does provision follow need?", "Cannot be tested",
                                       sentence_case(reason) + "."))
        d.missing.append(f"The inverse care law test could not be run: {reason}.")
        d.facts.update(verdict=None, verdict_direction=None)
        return None
    test = panel.test
    low, high = test.slope_per_sd_ci
    p_text = format_p(test.p_value)
    w = _provision_words(meta)
    d.key_numbers.append(KeyNumber(
        "Does provision follow need? (inverse care law test)", VERDICT_LABEL[test.direction],
        f"{test.verdict} " + sentence_case(difference_in_words(
            test.slope_per_sd, short_unit, 1, lower=low, upper=high,
            here="for each standard deviation more need", there="", words=w["slope"]))
        + "."))
    need_words = panel.need.title.split(":")[0]
    need_noun = "rank" if "rank" in panel.need.unit else "score"
    step = (f"For each step up in need (one standard deviation of the {need_words} "
            f"{need_noun}), {w['noun']} is ")
    slope_words = difference_in_words(test.slope_per_sd, unit, places, here="", there="",
                                      words=w["gap"])
    interval = interval_in_words(low, high, None, places, words=w["gap"])
    if test.direction == "pro_need":
        d.meaning.append(
            f"Within {name}, more deprived neighbourhoods have {w['pro']}. {step}about "
            f"{slope_words} ({interval}; {p_text}). On this measure the inverse care law does "
            "not hold here.")
    elif test.direction == "inverse_care":
        d.meaning.append(
            f"Within {name}, more deprived neighbourhoods have {w['inverse']}. {step}about "
            f"{slope_words} ({interval}; {p_text}). This is the inverse care law: {w['law']}.")
    else:
        d.meaning.append(
            f"Within {name}, there is no clear link between deprivation and {w['link']} "
            f"({p_text}; {interval} {short_unit} per step up in need). The data "
            "cannot show a fair or an unfair pattern with confidence.")
    # the access measure's headline comparison (England's capacity page is full: four pages)
    fifths = _fifths_sentence(panel, name, country, places, w) if meta.higher_is_worse else ""
    if fifths:
        d.meaning.append(fifths)
    gradient = panel.gradient
    first, last = gradient.iloc[0], gradient.iloc[-1]
    if int(first["decile"]) != int(last["decile"]):
        gap_words = compared_with(first["provision_per_head"], last["provision_per_head"],
                                  f"the average in decile {int(last['decile'])}",
                                  lower=first["lower_ci"], upper=first["upper_ci"])
        sentence = (
            f"In the most deprived {NEIGHBOURHOOD[country][1]} here (decile "
            f"{int(first['decile'])}) {w['noun']} averages "
            f"{format_number(first['provision_per_head'], places)} {unit}, "
            f"{gap_words} ({format_number(last['provision_per_head'], places)}).")
        if panel.sii is not None:
            s = panel.sii
            sentence += (
                " The fitted gradient across all deciles (slope index of inequality) puts "
                f"{w['noun']} " + difference_in_words(
                    -s.sii, short_unit, places, lower=-s.sii_upper, upper=-s.sii_lower,
                    words=w["gap"])
                + ".")
            d.methods.append(
                f"Slope index of inequality of {meta.title}, least minus most "
                f"deprived end (OHID convention: negative means higher at the most deprived "
                f"end): "
                f"{format_number(s.sii, 1, signed=True)} (95% CI "
                f"{format_number(s.sii_lower, 1, signed=True)} to "
                f"{format_number(s.sii_upper, 1, signed=True)}); relative index "
                f"{format_number(s.rii, 2)}.")
        d.meaning.append(sentence)
    d.facts.update(
        provision_id=provision_id, provision_higher_is_worse=meta.higher_is_worse,
        verdict=test.verdict, verdict_direction=test.direction, verdict_label=
        VERDICT_LABEL[test.direction], p_value=float(test.p_value),
        slope_per_sd=float(test.slope_per_sd), slope_per_sd_lower=float(low),
        slope_per_sd_upper=float(high), test_areas=int(test.n),
        provision_sii=float(panel.sii.sii) if panel.sii is not None else None,
        provision_sii_lower=float(panel.sii.sii_lower) if panel.sii is not None else None,
        provision_sii_upper=float(panel.sii.sii_upper) if panel.sii is not None else None,
        concentration_index=float(panel.concentration.index))
    reference = national if _finite(national) else None
    d.figures.append(_gradient_chart(
        "provision", f"{meta.title} by deprivation decile", gradient,
        y_title=sentence_case(short_unit.replace("list places", "places")), reference=reference,
        reference_label=f"{label} {format_number(national, meta.decimals)}", fitted=None,
        alt=(f"Dot chart of {meta.title} ({unit}) in each national deprivation decile present "
             f"in the area, with 95% confidence intervals and a dashed line at the {label} "
             f"average of {format_number(national, meta.decimals)}. Decile "
             f"{int(first['decile'])}: {format_number(first['provision_per_head'], places)}; "
             f"decile {int(last['decile'])}: "
             f"{format_number(last['provision_per_head'], places)}. The table "
             "'By national deprivation decile' has every figure."),
        reading=(f"Dots: average per decile, lines: 95% confidence intervals; dashed: "
                 f"{label} average.")))
    d.sources.append(_source_of_meta(meta))
    d.sources.append(_source_of_meta(panel.need))
    d.glossary += ["access_time" if meta.higher_is_worse else "provision", "inverse_care",
                   "ci", "p", "sd", "sii"]
    d.methods.append(
        f"Inverse care law test: {meta.title} regressed on the {panel.need.title} across the "
        f"area's {NEIGHBOURHOOD[country][1]}, weighted by population, robust (HC3) errors, "
        "5% level. Decile averages are population-weighted with 95% intervals; the slope "
        "index of inequality follows OHID's phe_sii method.")
    return panel


def provision_headline_phrase(panel: EquityPanel) -> str:
    """The headline's clause on the inverse care test, worded by the provision measure's
    polarity ("GP capacity within reach is higher where need is higher"; for a travel time,
    "journeys to a GP are shorter where need is higher")."""
    if panel.provision.polarity == "higher_is_worse":
        what = panel.provision.title[:1].lower() + panel.provision.title[1:]
        return {"pro_need": f"and journeys to a GP ({what}) are shorter where need is higher",
                "inverse_care": f"and journeys to a GP ({what}) are longer where need is "
                                "higher: the inverse care law",
                "no_clear_relationship": f"and {what} shows no clear link with need",
                }[panel.test.direction]
    return {"pro_need": "and GP capacity within reach is higher where need is higher",
            "inverse_care": "and GP capacity within reach is lower where need is higher: "
                            "the inverse care law",
            "no_clear_relationship": "and GP capacity within reach shows no clear link with "
                                     "need"}[panel.test.direction]


def _provision_words(meta: IndicatorMeta) -> dict[str, Any]:
    """The words a provision measure is described in, by its polarity: GP capacity where
    more is more, a journey where higher is worse (so that "more" never praises a longer
    trip)."""
    if meta.polarity == "higher_is_worse":
        what = meta.title[:1].lower() + meta.title[1:]
        return {"noun": "the journey", "slope": ("longer", "shorter"),
                "gap": ("longer", "shorter"),
                "pro": f"shorter journeys to a GP ({what}), not longer",
                "inverse": f"longer journeys to a GP ({what})",
                "law": "GP surgeries are hardest to reach where they are needed most",
                "link": what}
    return {"noun": "capacity", "slope": ("more", "fewer"), "gap": ("higher", "lower"),
            "pro": "more GP capacity within reach, not less",
            "inverse": "less GP capacity within reach",
            "law": "care is least available where it is needed most",
            "link": "GP capacity within reach"}


def _fifths_sentence(panel: EquityPanel, name: str, country: str, places: int,
                     w: dict[str, Any]) -> str:
    """Observed population-weighted mean in the area's residents of the most deprived fifth
    (national deciles 1–2) against the least deprived fifth (9–10); "" where either is
    empty."""
    frame = panel.frame.dropna(subset=["provision", "deprivation_decile"])
    frame = frame[frame["population"] > 0]
    decile = frame["deprivation_decile"].astype(int)
    groups = {"most": frame[decile <= 2], "least": frame[decile >= 9]}
    if any(g.empty for g in groups.values()):
        return ""
    mean = {k: float(np.average(g["provision"], weights=g["population"]))
            for k, g in groups.items()}
    unit = panel.provision.unit
    gap = difference_in_words(mean["most"] - mean["least"], unit, places,
                              here="in the most deprived fifth",
                              there="than in the least deprived fifth", words=w["gap"])
    return (f"Residents of {name}'s most deprived fifth of {NEIGHBOURHOOD[country][1]} "
            f"(national deciles 1–2) have an average of "
            f"{format_number(mean['most'], places)} {unit} against "
            f"{format_number(mean['least'], places)} in the least deprived fifth (deciles "
            f"9–10): {gap} (observed, population-weighted).")


def _outcome_step(d: _Draft, ref: AreaRef, name: str, frame: pd.DataFrame,
                  registry: IndicatorRegistry) -> pd.DataFrame | None:
    country = ref.country
    outcome_id = BRIEFING_OUTCOME.get(country)
    label = COUNTRY_LABEL[country]
    if outcome_id is None:
        d.key_numbers.append(KeyNumber("Health gap (slope index of inequality)", NOT_AVAILABLE,
                                       f"No small-area health outcome for {label} in Fairshare "
                                       "yet."))
        d.missing.append(
            f"There is no small-area health outcome measure for {label} in Fairshare yet, so "
            "no health gap between the most and least deprived neighbourhoods is shown.")
        d.facts.update(outcome_sii=None)
        return None
    meta = registry.meta(outcome_id)
    values = registry.get(outcome_id).values.reindex(frame.index)
    usable = frame.assign(outcome=values).dropna(subset=["outcome", "deprivation_decile"])
    usable = usable[usable["population"] > 0]
    if len(usable) < 3:
        have = f"{len(usable)} {NEIGHBOURHOOD[country][1]}" if len(usable) else "none"
        d.key_numbers.append(KeyNumber("Health gap (slope index of inequality)", NOT_AVAILABLE,
                                       f"Too few {meta.title.lower()} values in {name} "
                                       f"({have})."))
        d.missing.append(f"There are too few {meta.title.lower()} values for {name} ({have} "
                         "with a value; at least 3 are needed), so no health gap is shown.")
        d.facts.update(outcome_sii=None)
        return None
    gradient = decile_gradient(usable["outcome"].to_numpy(float),
                               usable["population"].to_numpy(float),
                               usable["deprivation_decile"].to_numpy(int))
    sii, note, used = _outcome_sii(gradient)
    title, named, glossary_key = OUTCOME_TITLE.get(outcome_id,
                                                   (meta.title, meta.title.lower(), ""))
    if sii is None:
        d.key_numbers.append(KeyNumber(f"Health gap: {title.lower()}", NOT_AVAILABLE,
                                       f"The slope index of inequality {note}."))
        d.missing.append(f"The health gap (slope index of inequality) {note}.")
        d.facts.update(outcome_sii=None)
        fitted = None
    else:
        gap = -sii.sii  # fitted most − least deprived end (the SII is least − most)
        worse_end = "most" if (gap > 0) == meta.higher_is_worse else "least"
        first, last = used.iloc[0], used.iloc[-1]
        observed = (f"{format_number(first['provision_per_head'], 1)} in decile "
                    f"{int(first['decile'])} against "
                    f"{format_number(last['provision_per_head'], 1)} in decile "
                    f"{int(last['decile'])}")
        fitted_words = difference_in_words(gap, "points", 1, lower=-sii.sii_upper,
                                           upper=-sii.sii_lower)
        d.key_numbers.append(KeyNumber(
            f"Health gap: {title.lower()}, most against least deprived end",
            f"{format_number(abs(gap), 1)} points {'higher' if gap > 0 else 'lower'}",
            f"Fitted gap across all deciles (slope index of inequality), {label} = 100: "
            f"{fitted_words}. Observed: {observed}. Illness is higher at the {worse_end} "
            "deprived end."))
        ratio_words = compared_with(first["provision_per_head"], last["provision_per_head"],
                                    f"the level in decile {int(last['decile'])}",
                                    lower=first["lower_ci"], upper=first["upper_ci"])
        d.meaning.append(
            f"Illness and disability are {'higher' if worse_end == 'most' else 'lower'} where "
            f"deprivation is higher. In the most deprived {NEIGHBOURHOOD[country][1]} of "
            f"{name} (decile {int(first['decile'])}) the {named} is "
            f"{format_number(first['provision_per_head'], 1)}, {ratio_words} "
            f"({format_number(last['provision_per_head'], 1)}), where {label} = 100. The "
            f"fitted gradient across all deciles (slope index of inequality) puts it "
            f"{fitted_words}.")
        d.methods.append(
            f"Slope index of inequality of the {named} (least minus most deprived "
            f"end): {format_number(sii.sii, 1, signed=True)} (95% CI "
            f"{format_number(sii.sii_lower, 1, signed=True)} to "
            f"{format_number(sii.sii_upper, 1, signed=True)}); relative index "
            f"{format_number(sii.rii, 2)}. The fitted line's ends are extrapolated: sentences "
            "quote the observed deciles, and the grey line in the chart is the fit.")
        d.facts.update(outcome_id=outcome_id, outcome_sii=float(sii.sii),
                       outcome_sii_lower=float(sii.sii_lower),
                       outcome_sii_upper=float(sii.sii_upper), outcome_rii=float(sii.rii),
                       outcome_decile_first=float(first["provision_per_head"]),
                       outcome_decile_last=float(last["provision_per_head"]))
        fitted = _fitted_line(sii, used)
    d.figures.append(_gradient_chart(
        "outcome", f"{title} by deprivation decile", gradient,
        y_title=f"Ratio ({label} = 100)", reference=100.0, reference_label=f"{label} = 100",
        fitted=fitted,
        alt=(f"Dot chart of the {named} in each national deprivation decile "
             f"present, with 95% confidence intervals, a dashed line at the {label} value of "
             "100" + (" and a grey line showing the fitted slope index of inequality" if fitted
                      else "") + ". The table 'By national deprivation decile' has every "
             "figure."),
        reading=("Dots: average per decile, lines: 95% confidence intervals"
                 + ("; grey line: fitted gradient (slope index of inequality)" if fitted else "")
                 + f"; dashed: {label} = 100.")))
    d.sources.append(_source_of_meta(meta))
    d.glossary += ["sii", glossary_key]
    return gradient


def _outcome_title(country: str) -> str:
    outcome_id = BRIEFING_OUTCOME.get(country, "")
    return OUTCOME_TITLE.get(outcome_id, ("Health outcome", "", ""))[0]


def _decile_table(d: _Draft, ref: AreaRef, profile: pd.DataFrame, panel: EquityPanel | None,
                  outcome: pd.DataFrame | None, threshold: int) -> None:
    country = ref.country
    columns = [
        _Column("Decile (1 = most deprived)", str, numeric=False),
        _Column(NEIGHBOURHOOD[country][1].capitalize(), lambda v: format_number(v)),
        _Column("Residents", lambda v: format_number(v), count=True),
        _Column("Share of residents", lambda v: f"{v:.1f}%" if _finite(v) else NO_AREAS,
                depends_on=2),
    ]
    rows: list[list[Any]] = [[int(r.decile), int(r.areas), float(r.population),
                              float(r.area_share) if r.areas else math.nan]
                             for r in profile.itertuples()]
    notes = [f"Deciles are national: decile 1 holds the most deprived 10% of "
             f"{NEIGHBOURHOOD[country][1]} in {COUNTRY_LABEL[country]}. {NO_AREAS} = no "
             f"{NEIGHBOURHOOD[country][1]} of this area in the decile."]
    provision_header, provision_places = "", 0
    if panel is not None:
        provision_header = PROVISION_HEADER.get(panel.provision.id,
                                                f"{panel.provision.title} (95% CI)")
        provision_places = panel.provision.decimals
    for source, header, decimals in (
            (panel.gradient if panel is not None else None, provision_header, provision_places),
            (outcome, f"{_outcome_title(country)} (95% CI)", 1)):
        if source is None:
            continue
        lookup = source.set_index("decile")
        columns.append(_Column(header, lambda v: v if isinstance(v, str) else NO_AREAS))
        for row in rows:
            decile = row[0]
            if decile in lookup.index:
                g = lookup.loc[decile]
                row.append(_interval_text(g["provision_per_head"], g["lower_ci"], g["upper_ci"],
                                          decimals))
            else:
                row.append(None)
    d.tables.append(_make_table("deciles", "By national deprivation decile", columns, rows,
                                threshold, notes))

