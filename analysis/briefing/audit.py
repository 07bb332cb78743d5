"""The "Equity audit of <service>" section a briefing gains when an audit is attached: the
verdict and its caveats, a dot-and-interval chart of age-standardised rates by deprivation
quintile (web page and Word; the printed PDF keeps to four pages with the table alone, which
has the same figures), and the table (counts of 1 to 4, and the rates that would reveal
them, hidden)."""

from __future__ import annotations

from typing import Any

from analysis.briefing.charts import CHART_SIZE, INK, _render_spec
from analysis.briefing.content import AuditPart, Figure, _Column, _make_table
from analysis.briefing.wording import _finite
from analysis.numbers import format_number

AUDIT_METHOD = (
    "Equity audit: records placed in small areas and counted by national deprivation "
    "quintile; rates standardised to the European Standard Population 2013 (Dobson 95% "
    "limits; none under 10 records); 'than expected' uses the area's own age-specific rates.")


def audit_part(result: Any, threshold: int) -> AuditPart:
    """The section for an :class:`analysis.audit.results.AuditResult`."""
    from analysis.audit.reading import SIMULATED_CAVEAT, sentences
    from analysis.audit.reading import caveats as caveats_of
    from analysis.audit.results import RATE_UNIT

    rows = []
    for r in result.by_quintile.sort_values("quintile").itertuples():
        rows.append((int(r.quintile), r.events, r.population, _rate(r.dsr, r.lower, r.upper),
                     _ratio(r.ratio, r.ratio_lower, r.ratio_upper)))
    table = _make_table(
        "audit_quintiles", f"Equity audit of {result.service}: records by deprivation quintile",
        [_Column("Deprivation quintile (1 = most deprived)", str, numeric=False),
         _Column("Records", lambda v: format_number(v, 0), count=True),
         _Column("Population", lambda v: format_number(v, 0)),
         _Column(f"Age-standardised rate {RATE_UNIT} (95% CI)", str, depends_on=1),
         _Column("Records as % of expected (95% CI)", str, depends_on=1)],
        rows, threshold)
    words = sentences(result)
    # a briefing is short: the verdict with the least deprived fifth, the observed rates, and
    # the caveats in one paragraph (the simulated label is shown on its own)
    caveats = [c for c in caveats_of(result)
               if c != SIMULATED_CAVEAT and not c.startswith("Ethnicity")]
    paragraphs = (" ".join(words[:2]), words[2] if len(words) > 2 else "", " ".join(caveats))
    return AuditPart(title=f"Equity audit of {result.service}",
                     paragraphs=tuple(p for p in paragraphs if p), tables=(table,),
                     figure=_quintile_chart(result), simulated=result.simulated)


def _rate(value: float, lower: float, upper: float) -> str:
    if not _finite(value):
        return "not published (fewer than 10 records)"
    return f"{format_number(value, 0)} ({format_number(lower, 0)}–{format_number(upper, 0)})"


def _ratio(value: float, lower: float, upper: float) -> str:
    if not _finite(value):
        return "—"
    return f"{format_number(value, 0)}% ({format_number(lower, 0)}–{format_number(upper, 0)})"


def _quintile_chart(result: Any) -> Figure:
    from analysis.audit.reading import suppressed_table, verdict

    shown = suppressed_table(result.by_quintile, ("events",), ("dsr", "lower", "upper"))
    values = [{"quintile": int(r.quintile), "dsr": float(r.dsr), "lower": float(r.lower),
               "upper": float(r.upper)}
              for r in shown.itertuples() if _finite(r.dsr)]
    x = {"field": "quintile", "type": "ordinal", "title": "Deprivation quintile "
         "(1 = most deprived)", "scale": {"domain": [1, 2, 3, 4, 5]}, "axis": {"labelAngle": 0}}
    layers = [
        {"data": {"values": values}, "mark": {"type": "rule", "color": INK, "strokeWidth": 1.5},
         "encoding": {"x": x, "y": {"field": "lower", "type": "quantitative"},
                      "y2": {"field": "upper"}}},
        {"data": {"values": values},
         "mark": {"type": "point", "filled": True, "color": INK, "size": 55, "opacity": 1},
         "encoding": {"x": x, "y": {"field": "dsr", "type": "quantitative",
                                    "title": "Records per 100,000 a year (age-standardised)",
                                    "scale": {"zero": False}}}},
    ]
    png, spec = _render_spec({**CHART_SIZE, "layer": layers})
    alt = ("Dot-and-interval chart of age-standardised records per 100,000 a year by national "
           "deprivation quintile, most deprived on the left; the table has the same figures.")
    return Figure("audit_quintiles", f"Use of {result.service} by deprivation", alt,
                  verdict(result), png, spec)
