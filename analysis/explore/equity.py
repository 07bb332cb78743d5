"""The inverse-care-law panel of a study area: every measure for one need × provision pair.

One call gathers what the dashboard's *Inverse care law* page, the briefings and the CLI
show, so that they always agree: the regression test and its verdict, the deprivation
gradient, SII/RII across national deprivation deciles, the concentration index and curve,
and the bivariate classes. Formulas and references are in the modules called here and in
``docs/methods.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.data import IndicatorMeta, IndicatorRegistry
from analysis.disclosure import SUPPRESSED, suppression_mask
from analysis.explore.frames import study_area_frame
from analysis.numbers import compare_with_reference, format_number, format_quantity
from analysis.stats import (
    ConcentrationCurve,
    ConcentrationIndexResult,
    FunnelResult,
    InverseCareResult,
    SlopeIndexResult,
    concentration_curve,
    concentration_index,
    gap_unit,
    inverse_care_test,
    quantity_text,
    slope_index,
)

#: The need and provision indicators every headline uses (dashboard overview, briefings):
#: IMD 2025 / SIMD 2020, and qualified GPs within reach (E2SFCA with each practice's
#: headcount of fully qualified GPs as supply). Registered-list places are not a headline:
#: a practice's list is the demand on it, not its capacity. Scotland has no GP capacity
#: measure in the open data, so its headline is access: the SIMD public-transport time to a
#: GP (higher is worse). Public transport rather than drive time, because people without a
#: car are concentrated in deprived areas and drive times hide their journeys.
HEADLINE_NEED = {"england": "imd2025_score", "scotland": "simd2020_rank"}
HEADLINE_PROVISION = {"england": "gp_access_gps_per_100k",
                      "scotland": "simd2020_gp_public_transport_minutes"}
MIN_DECILES_FOR_SII = 5
SII_SEED = 20251123


@dataclass(frozen=True)
class EquityPanel:
    """Inverse-care-law measures of one provision indicator against one need indicator."""

    need: IndicatorMeta
    provision: IndicatorMeta
    frame: pd.DataFrame
    test: InverseCareResult
    sii: SlopeIndexResult | None
    sii_note: str
    concentration: ConcentrationIndexResult
    curve: ConcentrationCurve

    @property
    def higher_is_worse(self) -> bool:
        """Whether more of the provision measure is worse access (e.g. travel minutes)."""
        return self.provision.polarity == "higher_is_worse"

    @property
    def gradient(self) -> pd.DataFrame:
        """Provision per head by national deprivation decile (1 = most deprived), with CIs."""
        return self.test.decile_gradient

    def readings(self) -> dict[str, str]:
        """One plain-English sentence per chart. Gaps are stated in words with their
        direction; sentences quote observed decile values, and fitted values (the SII and
        RII) say that they are fitted. The signed statistics are under ``"sii_details"``."""
        unit = self.provision.unit
        decimals = self.provision.decimals
        sii = self.sii
        return {
            "verdict": self.test.verdict,
            "scatter": (
                f"Each dot is a small area; the line is the population-weighted fit. "
                f"{self.test.verdict}"
            ),
            "gradient": observed_gradient_sentence(self.gradient, unit, decimals),
            "sii": (sii.describe(unit, decimals=decimals, what=self._what())
                    if sii is not None else self.sii_note),
            "rii": sii.rii_words() if sii is not None else self.sii_note,
            "sii_details": sii.details(unit) if sii is not None else self.sii_note,
            "concentration": self.concentration.reading + self._concentration_meaning(),
        }

    def _what(self) -> str:
        # "provision is 4 minutes higher" misreads a travel time; name the measure instead
        title = self.provision.title
        return (title[:1].lower() + title[1:]) if self.higher_is_worse else "provision"

    def _concentration_meaning(self) -> str:
        if not self.higher_is_worse:
            return ""
        ci = self.concentration
        if ci.lower <= 0 <= ci.upper:
            return ""
        worse = "more" if ci.index < 0 else "less"
        return (f" For this measure higher is worse, so access is worse among the {worse} "
                "deprived.")


    def headline(self) -> dict[str, str]:
        """Short metric texts for the SII, RII and concentration index, in words with a
        direction (e.g. SII "12.7 lower" with "FTE GPs per 100,000 patients at the most
        deprived end than at the least (fitted)"); true minus signs throughout."""
        ci = self.concentration
        out = {
            "concentration": format_number(ci.index, 3, signed=True),
            "concentration_ci": (f"95% CI {format_number(ci.lower, 3, signed=True)} to "
                                 f"{format_number(ci.upper, 3, signed=True)}"),
            "sii": "n/a", "sii_caption": self.sii_note, "rii": "n/a",
            "rii_caption": self.sii_note,
        }
        sii = self.sii
        if sii is None:
            return out
        word = {"most": "higher", "least": "lower", "neither": ""}[sii.higher_end]
        size = format_number(abs(sii.sii), self.provision.decimals)
        out["sii"] = f"{size} {word}" if word else "no gap"
        out["sii_caption"] = (f"{gap_unit(self.provision.unit)} at the most deprived end "
                              "than at the least (fitted)")
        most, least = sii.fitted_ends
        if most > 0 and least > 0:
            out["rii"] = f"{format_number(max(most, least) / min(most, least), 2)} times"
        out["rii_caption"] = sii.rii_words()
        return out


def funnel_reading(funnel: FunnelResult) -> str:
    """One sentence for a funnel plot: how many areas stand out, against which limits."""
    flags = funnel.flag_counts()
    high = flags["above 99.8%"] + flags["above 95%"]
    low = flags["below 99.8%"] + flags["below 95%"]
    return (f"Against the area's average of {format_number(funnel.target, 2)}, {high:,} of "
            f"{len(funnel.areas):,} small areas are significantly higher and {low:,} "
            f"significantly lower (95% and 99.8% {funnel.method}).")


def _decile_name(decile: int) -> str:
    return {1: "the most deprived tenth", 10: "the least deprived tenth"}.get(
        decile, f"deprivation decile {decile}")


def observed_gradient_sentence(gradient: pd.DataFrame, unit: str, decimals: int = 1) -> str:
    """The observed gap between the most and least deprived deciles present, in words.

    "In the most deprived tenth (decile 1) the observed average is 41.2 FTE GPs per 100,000
    patients, against 53.9 in the least deprived tenth (decile 10): 12.7 lower." Whether
    the two differ is decided by :func:`analysis.numbers.compare_with_reference` (the most
    deprived decile's confidence interval against the least deprived decile's value), the
    rule the briefings use.
    """
    first, last = gradient.iloc[0], gradient.iloc[-1]
    first_decile, last_decile = int(first["decile"]), int(last["decile"])
    most, least = float(first["provision_per_head"]), float(last["provision_per_head"])
    opening = (f"In {_decile_name(first_decile)} (decile {first_decile}) the observed "
               f"average is {format_quantity(most, unit, decimals)}")
    if first_decile == last_decile:
        return f"{opening}; no other decile is present to compare with."
    comparison = compare_with_reference(most, least, lower=first.get("lower_ci"),
                                        upper=first.get("upper_ci"))
    against = (f"against {format_number(least, decimals)} in {_decile_name(last_decile)} "
               f"(decile {last_decile})")
    if comparison.direction == "similar":
        verdict = "no clear difference (the confidence interval includes it)"
    else:
        there = ("in the most deprived tenth than in the least"
                 if (first_decile, last_decile) == (1, 10)
                 else f"in decile {first_decile} than in decile {last_decile}")
        verdict = (f"{quantity_text(abs(most - least), unit, decimals)} "
                   f"{comparison.direction} {there}")
    return f"{opening}, {against}: {verdict}."


def _sii_of_gradient(gradient: pd.DataFrame) -> tuple[SlopeIndexResult | None, str]:
    usable = gradient.dropna(subset=["lower_ci", "upper_ci"])
    usable = usable[usable["upper_ci"] > usable["lower_ci"]]
    if len(usable) < MIN_DECILES_FOR_SII:
        return None, (
            f"The slope index of inequality needs at least {MIN_DECILES_FOR_SII} deprivation "
            f"deciles with confidence intervals; this area has {len(usable)}.")
    result = slope_index(
        usable["provision_per_head"].to_numpy(),
        usable["population"].to_numpy(),
        lower_cl=usable["lower_ci"].to_numpy(),
        upper_cl=usable["upper_ci"].to_numpy(),
        value_type="normal",
        seed=SII_SEED,
    )
    return result, ""


def equity_panel(country: str, area_code: str | None, need_id: str, provision_id: str,
                 registry: IndicatorRegistry) -> EquityPanel:
    """All inverse-care measures of ``provision_id`` against ``need_id`` in a study area.

    Small areas without a value of either indicator, or without population, are left out
    (their number is ``len(frame) - test.n``). Need is read with its polarity. Provision is
    read with its polarity too: for a measure where higher is worse access (travel minutes
    to a GP) the regression is fitted on the published values, so slopes, gradients and
    gaps stay in the measure's own unit, and the verdict is turned round: a significant
    *positive* slope (longer journeys where need is higher) is the inverse care pattern
    (Tudor Hart 1971, read for access rather than supply).
    """
    need, provision = registry.meta(need_id), registry.meta(provision_id)
    frame = study_area_frame(country, area_code, [need_id, provision_id], registry)
    frame = frame.rename(columns={need_id: "need", provision_id: "provision"})
    usable = frame.dropna(subset=["need", "provision", "deprivation_decile"])
    usable = usable[usable["population"] > 0]
    if len(usable) < 3:
        raise ValueError(f"Only {len(usable)} small areas have both {need.title} and "
                         f"{provision.title}: too few to test")
    polarity = "higher_is_better" if need.polarity == "higher_is_better" else "higher_is_worse"
    test = inverse_care_test(
        usable["provision"].to_numpy(float), usable["need"].to_numpy(float),
        usable["population"].to_numpy(float),
        deprivation_decile=usable["deprivation_decile"].to_numpy(int),
        need_polarity=polarity,
        provision_polarity=("higher_is_worse" if provision.polarity == "higher_is_worse"
                            else "higher_is_better"),
        provision_name=provision.title,
    )
    sii, note = _sii_of_gradient(test.decile_gradient)
    oriented_need = usable["need"].to_numpy(float)
    if polarity == "higher_is_better":
        oriented_need = -oriented_need
    ci = concentration_index(usable["provision"].to_numpy(float), oriented_need,
                             usable["population"].to_numpy(float),
                             label=provision.title)
    curve = concentration_curve(usable["provision"].to_numpy(float), oriented_need,
                                usable["population"].to_numpy(float))
    return EquityPanel(need, provision, frame, test, sii, note, ci, curve)


def fitted_band(panel: EquityPanel, points: int = 50) -> pd.DataFrame:
    """The weighted fit of provision on need with its 95% confidence band, for the scatter."""
    model = panel.test.fit
    need = panel.frame["need"].dropna()
    grid = np.linspace(need.min(), need.max(), points)
    exog = np.column_stack([np.ones_like(grid), grid])
    prediction = model.get_prediction(exog).summary_frame(alpha=0.05)
    return pd.DataFrame({"need": grid, "fit": prediction["mean"].to_numpy(),
                         "lower": prediction["mean_ci_lower"].to_numpy(),
                         "upper": prediction["mean_ci_upper"].to_numpy()})


def funnel_statistic(meta: IndicatorMeta) -> tuple[str, float] | None:
    """How to funnel an indicator with numerator and denominator: (statistic, multiplier).

    Percentages are proportions × 100; "per 1,000" rates are rates × 1,000. ``None`` when
    the indicator has no numerator/denominator to funnel.
    """
    if meta.aggregation != "ratio":
        return None
    if meta.unit.startswith("%"):
        return "proportion", 100.0
    if "per 1,000" in meta.unit:
        return "rate", 1000.0
    return None


def indicator_funnel(country: str, area_code: str | None, indicator_id: str,
                     registry: IndicatorRegistry, *, overdispersion: str = "auto"
                     ) -> FunnelResult:
    """Funnel plot of an indicator's small areas within a study area (OHID method).

    The target is the study area's pooled value; areas with a zero denominator are left out.
    By default the limits are widened for overdispersion where it is present (Spiegelhalter
    2005, as OHID applies it): with small areas of ~1,500 people, plain binomial limits
    flag most areas. ``result.method`` says which limits were drawn.
    """
    from analysis.stats import funnel_plot

    meta = registry.meta(indicator_id)
    how = funnel_statistic(meta)
    if how is None:
        raise ValueError(f"{meta.title} has no numerator and denominator to draw a funnel")
    statistic, multiplier = how
    data = registry.get(indicator_id).data.set_index("area_code")
    frame = study_area_frame(country, area_code, [], registry)
    rows = data.reindex(frame.index)[["numerator", "denominator"]].dropna()
    rows = rows[rows["denominator"] > 0]
    if len(rows) < 3:
        raise ValueError(f"Only {len(rows)} small areas have {meta.title}: too few for a funnel")
    return funnel_plot(rows["numerator"], rows["denominator"], statistic=statistic,
                       multiplier=multiplier, area=rows.index.to_numpy(),
                       overdispersion=overdispersion)  # type: ignore[arg-type]


def default_funnel_indicator(candidates: list[str], *chosen: str) -> str | None:
    """The indicator a funnel plot opens on: the first of the chosen (need, provision)
    indicators that can be funnelled, else ``None`` (never an unrelated one)."""
    return next((indicator for indicator in chosen if indicator in candidates), None)


def denominator_label(meta: IndicatorMeta) -> str:
    """What a funnel's denominator counts, from the unit: "% of households" → households,
    "per 1,000 residents" → residents; "people" otherwise."""
    unit = meta.unit.strip()
    if " of " in unit:
        return unit.split(" of ", 1)[1].strip() or "people"
    words = unit.split()
    if "per" in words and words.index("per") + 2 < len(words) + 1:
        tail = words[words.index("per") + 1:]
        tail = [w for w in tail if not w.replace(",", "").isdigit()]
        if tail:
            return " ".join(tail)
    return "people"


FUNNEL_COLUMNS = {
    "area": "Area code", "numerator": "Numerator", "denominator": "Denominator",
    "value": "Value", "ci_lower": "95% CI lower", "ci_upper": "95% CI upper",
    "lower_95": "Lower 95% limit", "upper_95": "Upper 95% limit",
    "lower_998": "Lower 99.8% limit", "upper_998": "Upper 99.8% limit", "flag": "Flag",
}


def funnel_table(funnel: FunnelResult, threshold: int = 5) -> pd.DataFrame:
    """The funnel plot's areas as a table to show and download, disclosure-controlled.

    Numerators are counts of people: those from 1 to ``threshold`` − 1 are shown as
    ``[c]`` (``analysis.disclosure``), with secondary suppression because the study-area
    total can be worked out from the published target. The value and its confidence
    interval of a suppressed row are hidden too, since value × denominator would give the
    count back. Denominators (populations) and the control limits are published figures.
    """
    areas = funnel.areas
    hidden = suppression_mask(areas["numerator"].tolist(), threshold)
    table = areas.astype({c: object for c in ("numerator", "value", "ci_lower", "ci_upper")})
    mask = pd.Series(hidden, index=areas.index)
    for column in ("numerator", "value", "ci_lower", "ci_upper"):
        table.loc[mask, column] = SUPPRESSED
    return table.rename(columns=FUNNEL_COLUMNS)


LISA_FULL_PERMUTATIONS = 999
LISA_QUICK_PERMUTATIONS = 99
LISA_QUICK_ABOVE = 5_000


def need_provision_clusters(country: str, area_code: str | None, need_id: str,
                            provision_id: str, registry: IndicatorRegistry):
    """Bivariate LISA clusters of need against neighbouring provision in a study area.

    Uses 999 permutations up to 5,000 small areas and 99 above (the whole of England), where
    the pseudo p-values are then resolved to 0.01; returns the
    :class:`analysis.stats.spatial.BivariateClusterResult`.
    """
    from analysis.data import select_study_area
    from analysis.stats import bivariate_clusters

    shapes = select_study_area(country, area_code)
    frame = study_area_frame(country, area_code, [need_id, provision_id], registry)
    usable = frame[need_id].notna() & frame[provision_id].notna()
    need = registry.meta(need_id)
    need_values = frame.loc[usable, need_id]
    if need.polarity == "higher_is_better":
        need_values = -need_values
    provision_values = frame.loc[usable, provision_id]
    if registry.meta(provision_id).polarity == "higher_is_worse":
        provision_values = -provision_values
    permutations = (LISA_FULL_PERMUTATIONS if usable.sum() <= LISA_QUICK_ABOVE
                    else LISA_QUICK_PERMUTATIONS)
    return bivariate_clusters(shapes.loc[usable.to_numpy()], need_values.to_numpy(),
                              provision_values.to_numpy(), permutations=permutations)
