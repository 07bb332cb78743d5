"""``fairshare gp-funding``: NHS payments per weighted patient by practice deprivation."""

from __future__ import annotations

import json

import typer

from analysis.cli.common import fail
from analysis.data import DataFileError, UnknownAreaError


def gp_funding(
    year: str = typer.Option("2022-23", help="Payment year, 2014-15 … 2022-23."),
    area: str | None = typer.Option(None, help="ICB, sub-ICB, region or local authority code."),
    groups: str = typer.Option("quintile", help="quintile or decile (1 = most deprived)."),
    dispensing: bool = typer.Option(True, "--dispensing/--no-dispensing",
                                    help="Include dispensing practices."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """NHS payments per weighted patient by practice deprivation group, with 95% CIs."""
    from analysis.access import practices_in_area
    from analysis.funding import (
        funding_by_deprivation,
        funding_gap,
        load_gp_payments,
        load_practice_imd,
    )

    if groups not in ("quintile", "decile"):
        fail("--groups must be quintile or decile")
    try:
        practices = practices_in_area(area)
        payments = load_gp_payments()
        if year not in set(payments["year"].astype(str)):
            known = ", ".join(sorted(set(payments["year"].astype(str))))
            fail(f"No payments for year {year!r}; years available: {known}")
        table = funding_by_deprivation(payments, load_practice_imd(), year=year,
                                       groups=groups, include_dispensing=dispensing,
                                       practices=practices)
    except (UnknownAreaError, DataFileError, ValueError) as exc:
        fail(str(exc))
        return
    gap = funding_gap(table)
    rows = [
        {
            groups: int(r[groups]),
            "practices": int(r["practices"]),
            "weighted_patients": round(float(r["weighted_patients"]), 2),
            "payments": round(float(r["payments"]), 2),
            "per_weighted_patient": round(float(r["per_weighted_patient"]), 4),
            "ci_lower": round(float(r["ci_lower"]), 4),
            "ci_upper": round(float(r["ci_upper"]), 4),
        }
        for _, r in table.iterrows()
    ]
    result = {
        "year": year,
        "area": area or "E92000001",
        "imd_edition": f"IMD {table.attrs['imd_year']}",
        "practices_without_patients": table.attrs["practices_without_patients"],
        "practices_without_imd": table.attrs["practices_without_imd"],
        "include_dispensing": dispensing,
        f"{groups}s": rows,
        "gap_gbp": round(gap["gap_gbp"], 4),
        "gap_pct": round(gap["gap_pct"], 4),
        "licence": "Open Government Licence v3.0",
    }
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    label = groups.capitalize()
    typer.echo(f"NHS payments per weighted patient, {year}, by practice deprivation {groups} "
               f"({result['imd_edition']}; 1 = most deprived)"
               + ("" if dispensing else ", excluding dispensing practices"))
    typer.echo(f"{label:>8} {'practices':>9} {'weighted patients':>18} {'£/weighted':>11} "
               f"{'95% CI':>17}")
    for r in rows:
        typer.echo(f"{r[groups]:>8} {r['practices']:>9,} {r['weighted_patients']:>18,.0f} "
                   f"{r['per_weighted_patient']:>11.2f} "
                   f"{r['ci_lower']:>8.2f}–{r['ci_upper']:<8.2f}")
    typer.echo(f"Most vs least deprived: £{gap['gap_gbp']:+.2f} per weighted patient "
               f"({gap['gap_pct']:+.1f}%)")
