"""Charts of an audit (Altair): rates with their 95% intervals by deprivation, observed against
expected by ethnic group, and age-specific rates. Every chart is drawn from a suppressed table
(counts of 1 to 4 and figures derived from them are blank), with a line at the reference
(100 = as expected) where one applies and shapes as well as colour where groups differ.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from analysis.audit.reading import RATE_COLUMNS, suppressed_table
from analysis.audit.results import RATE_UNIT

INK = "#1a1a1a"
BAR = "#3b528b"


def _shown(frame: pd.DataFrame) -> pd.DataFrame:
    return suppressed_table(frame, ("events", "observed"), RATE_COLUMNS)


def rates_chart(frame: pd.DataFrame, group: str, title: str, *, value: str = "dsr",
                group_title: str | None = None) -> alt.Chart:
    """Dots and 95% interval bars of a rate per group (e.g. DSR by deprivation quintile)."""
    data = _shown(frame).dropna(subset=[value]).assign(
        label=lambda d: d[group].astype(str))
    order = list(data["label"])
    base = alt.Chart(data).encode(
        x=alt.X("label:N", title=group_title or group, sort=order,
                axis=alt.Axis(labelAngle=0)))
    tooltip = [alt.Tooltip("label:N", title=group_title or group),
               alt.Tooltip(f"{value}:Q", title=f"{title} ({RATE_UNIT})", format=",.0f"),
               alt.Tooltip("lower:Q", title="95% CI from", format=",.0f"),
               alt.Tooltip("upper:Q", title="95% CI to", format=",.0f")]
    bars = base.mark_rule(color=INK).encode(y=alt.Y("lower:Q", title=f"{title}, {RATE_UNIT}"),
                                            y2=alt.Y2("upper:Q"))
    dots = base.mark_point(filled=True, size=70, color=BAR).encode(
        y=alt.Y(f"{value}:Q"), tooltip=tooltip)
    return (bars + dots).properties(height=280)


def ratio_chart(frame: pd.DataFrame, group: str, title: str, *,
                group_title: str | None = None) -> alt.Chart:
    """Observed as % of expected (100 = as expected for the age structure), with 95% limits
    and the reference line at 100, one row per group."""
    data = _shown(frame).dropna(subset=["ratio"]).assign(label=lambda d: d[group].astype(str))
    base = alt.Chart(data).encode(y=alt.Y("label:N", title=group_title or group,
                                          sort=list(data["label"])))
    tooltip = [alt.Tooltip("label:N", title=group_title or group),
               alt.Tooltip("ratio:Q", title="Observed as % of expected", format=",.0f"),
               alt.Tooltip("ratio_lower:Q", title="95% CI from", format=",.0f"),
               alt.Tooltip("ratio_upper:Q", title="95% CI to", format=",.0f"),
               alt.Tooltip("events:Q", title="Records", format=",")]
    rules = base.mark_rule(color=INK).encode(
        x=alt.X("ratio_lower:Q", title=f"{title}: observed as % of expected (100 = as "
                "expected)", scale=alt.Scale(zero=False)), x2=alt.X2("ratio_upper:Q"))
    dots = base.mark_point(filled=True, size=70, color=BAR, shape="diamond").encode(
        x=alt.X("ratio:Q"), tooltip=tooltip)
    reference = alt.Chart(pd.DataFrame({"x": [100]})).mark_rule(
        strokeDash=[4, 3], color="#8c8c8c").encode(x=alt.X("x:Q"))
    return (reference + rules + dots).properties(height=max(120, 34 * len(data)))


def age_chart(frame: pd.DataFrame) -> alt.Chart:
    """Crude (age-specific) rate per age band, with 95% limits."""
    data = _shown(frame).dropna(subset=["rate"]).assign(label=lambda d: d["age_band"].astype(
        str))
    base = alt.Chart(data).encode(x=alt.X("label:N", title="Age band (years)",
                                          sort=list(data["label"])))
    bars = base.mark_bar(color=BAR).encode(
        y=alt.Y("rate:Q", title=f"Records {RATE_UNIT}"),
        tooltip=[alt.Tooltip("label:N", title="Age band"),
                 alt.Tooltip("rate:Q", title=f"Rate ({RATE_UNIT})", format=",.0f"),
                 alt.Tooltip("lower:Q", title="95% CI from", format=",.0f"),
                 alt.Tooltip("upper:Q", title="95% CI to", format=",.0f")])
    rules = base.mark_rule(color=INK).encode(y=alt.Y("lower:Q"), y2=alt.Y2("upper:Q"))
    return (bars + rules).properties(height=260)
