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

from analysis.explore import study_area_frame
from analysis.indicators import IndicatorMeta, IndicatorRegistry
from analysis.inequality import (
    ConcentrationCurve,
    ConcentrationIndexResult,
    SlopeIndexResult,
    concentration_curve,
    concentration_index,
    slope_index,
)
from analysis.inverse_care import InverseCareResult, inverse_care_test

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
