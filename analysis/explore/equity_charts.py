"""Charts of the inverse care law page (Altair specifications; the dashboard draws them).

Built from an :class:`analysis.explore.equity.EquityPanel` and the two indicators' metadata
alone, so the dashboard can make them once per study area and pair and share them between
sessions. Colours: the viridis blue of the maps for observations, magenta for fitted lines.
"""

from __future__ import annotations

from dataclasses import dataclass

import altair as alt
import numpy as np
import pandas as pd

from analysis.data import IndicatorMeta
from analysis.explore.equity import EquityPanel, fitted_band
from analysis.util import title_lines

MAX_POINTS = 5_000  # above this the scatter becomes a density grid (browser stays quick)
OBSERVED, FITTED = "#3e4989", "#be3c8f"


@dataclass(frozen=True)
class EquityCharts:
    """The page's three charts of one panel, with what the scatter shows in words and the
    concentration curve's table (both go into the text alternatives and downloads)."""

    scatter: alt.LayerChart
    scatter_shows: str
    gradient: alt.LayerChart
    concentration: alt.LayerChart
    curve: pd.DataFrame


def provision_need_chart(panel: EquityPanel, need: IndicatorMeta, provision: IndicatorMeta
                         ) -> tuple[alt.LayerChart, str]:
    """Provision against need, one dot per small area sized by population (a density grid
    above :data:`MAX_POINTS` areas), with the population-weighted straight-line fit and its
    95% confidence band (:func:`analysis.explore.equity.fitted_band`); returns the chart and
    what it shows in words."""
    points = panel.frame.dropna(subset=["need", "provision"])
    # titles kept as lists: `alt.X(...).title` is Altair's setter method, not the title
    x_title = title_lines(f"{need.title} ({need.unit})", 60)
    y_title = title_lines(f"{provision.title} ({provision.unit})")
    if len(points) > MAX_POINTS:
        base = alt.Chart(points[["need", "provision"]]).mark_rect().encode(
            x=alt.X("need:Q", bin=alt.Bin(maxbins=60), title=x_title),
            y=alt.Y("provision:Q", bin=alt.Bin(maxbins=40), title=y_title),
            color=alt.Color("count():Q", scale=alt.Scale(scheme="greys"), title="Small areas"))
        shows = "a density grid (darker = more small areas)"
    else:
        base = alt.Chart(points[["name", "code", "need", "provision", "population"]]
                         ).mark_circle(opacity=0.45, color=OBSERVED).encode(
            x=alt.X("need:Q", title=x_title), y=alt.Y("provision:Q", title=y_title),
            size=alt.Size("population:Q", legend=None, scale=alt.Scale(range=[8, 60])),
            tooltip=[alt.Tooltip("name:N"), alt.Tooltip("code:N"),
                     alt.Tooltip("need:Q", format=",.2f"),
                     alt.Tooltip("provision:Q", format=",.2f")])
        shows = "one dot per small area, sized by population"
    band = fitted_band(panel)
    fit = alt.Chart(band).mark_area(opacity=0.25, color=FITTED).encode(
        x=alt.X("need:Q"), y=alt.Y("lower:Q"), y2=alt.Y2("upper:Q")) + alt.Chart(band).mark_line(
        color=FITTED, strokeWidth=2.5).encode(x=alt.X("need:Q"), y=alt.Y("fit:Q"))
    return (base + fit).properties(height=380, padding={"left": 24}), shows


def gradient_chart(panel: EquityPanel, provision: IndicatorMeta) -> alt.LayerChart:
    """Population-weighted provision per national deprivation decile with its 95% CIs
    (``panel.gradient``), drawn as quantitative rectangles so the bars fill the plot's width
    at any container size."""
    gradient = panel.gradient
    drawn = gradient.assign(left=gradient["decile"] - 0.4, right=gradient["decile"] + 0.4)
    decile_axis = alt.Axis(values=list(range(1, 11)), format="d", grid=False)
    bars = alt.Chart(drawn).mark_rect(color=OBSERVED).encode(
        x=alt.X("left:Q", title="Deprivation decile (1 = most deprived)", axis=decile_axis,
                scale=alt.Scale(domain=[0.5, 10.5], nice=False)),
        x2=alt.X2("right:Q"),
        y=alt.Y("provision_per_head:Q",
                title=title_lines(f"{provision.title} ({provision.unit}), observed")),
        tooltip=[alt.Tooltip("decile:O"), alt.Tooltip("areas:Q"),
                 alt.Tooltip("population:Q", format=",.0f"),
                 alt.Tooltip("provision_per_head:Q", format=",.2f"),
                 alt.Tooltip("lower_ci:Q", format=",.2f"),
                 alt.Tooltip("upper_ci:Q", format=",.2f")])
    errors = alt.Chart(drawn).mark_rule(color="black", strokeWidth=1.5).encode(
        x=alt.X("decile:Q"), y=alt.Y("lower_ci:Q"), y2=alt.Y2("upper_ci:Q"))
    return (bars + errors).properties(height=300, width="container")


def concentration_curve_table(panel: EquityPanel, points: int = 101) -> pd.DataFrame:
    """The concentration curve (``panel.curve``: cumulative population share, most needy
    first, against cumulative provision share; Wagstaff, Paci & van Doorslaer 1991)
    interpolated onto ``points`` evenly spaced population shares from 0 to 1."""
    grid = np.linspace(0, 1, points)
    return pd.DataFrame({
        "population_share": grid,
        "provision_share": np.interp(grid, panel.curve.population_share,
                                     panel.curve.value_share),
    })


def concentration_chart(curve: pd.DataFrame) -> alt.LayerChart:
    """The concentration curve of :func:`concentration_curve_table` with the dashed line of
    equality."""
    line = alt.Chart(curve).mark_line(color=FITTED, strokeWidth=2.5).encode(
        x=alt.X("population_share:Q", title="Cumulative share of population, most needy first",
                axis=alt.Axis(format="%")),
        y=alt.Y("provision_share:Q", title="Cumulative share of provision",
                axis=alt.Axis(format="%")))
    equality = alt.Chart(pd.DataFrame({"population_share": [0, 1], "provision_share": [0, 1]})
                         ).mark_line(color="grey", strokeDash=[4, 4]).encode(
        x=alt.X("population_share:Q"), y=alt.Y("provision_share:Q"))
    return (equality + line).properties(height=320)


def equity_charts(panel: EquityPanel, need: IndicatorMeta, provision: IndicatorMeta
                  ) -> EquityCharts:
    """The inverse care law page's scatter, decile gradient and concentration curve."""
    scatter, shows = provision_need_chart(panel, need, provision)
    curve = concentration_curve_table(panel)
    return EquityCharts(scatter, shows, gradient_chart(panel, provision),
                        concentration_chart(curve), curve)
