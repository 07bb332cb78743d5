"""Charts of an allocation result (Altair specifications; the dashboard draws them)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from analysis.allocation.model import AllocationResult
from analysis.allocation.readings import largest_changes

GAIN_COLOUR, LOSS_COLOUR = "#542788", "#b35806"  # purple/orange: safe for colour blindness


def largest_changes_chart(result: AllocationResult, n: int = 10) -> tuple[alt.Chart, pd.DataFrame]:
    """Bars of the ``n`` largest gains (purple, right) and losses (orange, left) among areas
    with population, from :func:`analysis.allocation.readings.largest_changes`; returns the
    chart and the table it draws."""
    top, axis_title = largest_changes(result, n)
    bars = alt.Chart(top).mark_bar().encode(
        x=alt.X("change_shown:Q", title=axis_title),
        y=alt.Y("area_name:N", sort="-x", title=None, axis=alt.Axis(labelLimit=260)),
        color=alt.condition("datum.change > 0", alt.value(GAIN_COLOUR), alt.value(LOSS_COLOUR)),
        tooltip=[alt.Tooltip("area_name:N", title="Name"),
                 alt.Tooltip("change_text:N", title="Change"),
                 alt.Tooltip("change_pct_text:N", title="Change (%)")])
    return bars.properties(height=24 * len(top) + 40), top
