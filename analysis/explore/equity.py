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
from analysis.explore.frames import study_area_frame
from analysis.stats import (
    ConcentrationCurve,
    ConcentrationIndexResult,
    InverseCareResult,
    SlopeIndexResult,
    concentration_curve,
    concentration_index,
    inverse_care_test,
    slope_index,
)

#: The need and provision indicators every headline uses (dashboard overview, briefings):
#: IMD 2025 / SIMD 2020, and GP list places within reach. Scotland has no provision yet.
HEADLINE_NEED = {"england": "imd2025_score", "scotland": "simd2020_rank"}
HEADLINE_PROVISION = {"england": "gp_access_list_places_per_1000"}
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
    def gradient(self) -> pd.DataFrame:
        """Provision per head by national deprivation decile (1 = most deprived), with CIs."""
        return self.test.decile_gradient

    def readings(self) -> dict[str, str]:
        """One plain-English sentence per chart."""
        gradient = self.gradient
        first, last = gradient.iloc[0], gradient.iloc[-1]
        unit = self.provision.unit
        return {
            "verdict": self.test.verdict,
            "scatter": (
                f"Each dot is a small area; the line is the population-weighted fit. "
                f"{self.test.verdict}"
            ),
            "gradient": (
                f"In deprivation decile {int(first['decile'])} (the most deprived present) "
                f"the average is {first['provision_per_head']:,.1f} {unit}, against "
                f"{last['provision_per_head']:,.1f} in decile {int(last['decile'])}."
            ),
            "sii": self.sii.reading if self.sii is not None else self.sii_note,
            "concentration": self.concentration.reading,
        }


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
    (their number is ``len(frame) - test.n``). Provision must be oriented so that more is
    more (polarity ``higher_is_better`` or ``neutral``); need is read with its polarity.
    """
    need, provision = registry.meta(need_id), registry.meta(provision_id)
    if provision.polarity == "higher_is_worse":
        raise ValueError(
            f"Provision indicator {provision_id!r} is 'higher is worse'; the inverse care test "
            "needs provision where more is more (e.g. GPs per 100,000, not patients per GP)")
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
                     registry: IndicatorRegistry):
    """Funnel plot of an indicator's small areas within a study area (OHID method).

    The target is the study area's pooled value; areas with a zero denominator are left out.
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
                       multiplier=multiplier, area=rows.index.to_numpy())


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
