"""``fairshare trends``: inequality in an indicator over its periods (the Trends page)."""

from __future__ import annotations

import typer

from analysis.cli.common import fail


def trends(
    indicator: str = typer.Argument(..., help="Indicator id with several periods, e.g. "
                                    "gp_access_gps_per_100k."),
    area: str | None = typer.Option(None, help="Study area code (default: England)."),
    as_json: bool = typer.Option(False, "--json", help="Print the table and statement as "
                                 "JSON."),
) -> None:
    """SII and the gap between the most and least deprived fifths in every period, with 95%
    confidence intervals, and the trend in words (the same figures as the Trends page)."""
    import json
    import math

    from analysis.data import DataFileError, UnknownAreaError, default_registry, resolve_area
    from analysis.explore.trends import inequality_trend, trend_statement
    from analysis.numbers import format_number

    registry = default_registry()
    try:
        meta = registry.meta(indicator)
    except KeyError as exc:
        fail(str(exc.args[0]))
        return
    if area is None:
        country, name = ("scotland" if meta.geography == "dz11" else "england"), None
    else:
        try:
            ref = resolve_area(area)
        except UnknownAreaError as exc:
            fail(str(exc))
            return
        country, name = ref.country, ref.name
    name = name or country.title()
    if not meta.multi_period:
        fail(f"{indicator} has one period ({meta.period}); a trend needs several. "
             "Indicators with several periods: " + ", ".join(
                 m.id for m in registry.metas() if m.multi_period))
        return
    try:
        trend = inequality_trend(country, area, indicator, registry)
    except (ValueError, DataFileError) as exc:
        fail(str(exc))
        return
    statement = trend_statement(trend, meta, area_name=name, country=country)
    if as_json:
        rows = [{k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                 for k, v in row.items()} for row in trend.to_dict(orient="records")]
        typer.echo(json.dumps({"indicator": indicator, "area": area, "area_name": name,
                               "unit": meta.unit, "periods": list(meta.all_periods),
                               "trend": rows, "statement": statement}, default=float))
        return
    places = meta.decimals

    def ci(row, low: str, high: str) -> str:
        return (f"({format_number(row[low], places, signed=True)} to "
                f"{format_number(row[high], places, signed=True)})")

    typer.echo(f"{meta.title} ({meta.unit}), {name}: SII (least minus most deprived end, "
               "fitted) and gap (most minus least deprived fifth, observed), 95% CI")
    for _, row in trend.iterrows():
        typer.echo(f"  {row['period']:<10} SII {format_number(row['sii'], places, signed=True):>7} "
                   f"{ci(row, 'sii_lower', 'sii_upper'):<20} gap "
                   f"{format_number(row['quintile_gap'], places, signed=True):>7} "
                   f"{ci(row, 'gap_lower', 'gap_upper'):<20} population "
                   f"{format_number(row['population'])}")
    typer.echo(statement)
