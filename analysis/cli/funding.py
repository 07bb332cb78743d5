"""``fairshare gp-funding``: NHS payments per weighted patient by practice deprivation.

The output names the area, the payments total the figures use (``--total excluding``, the
default, or ``including`` COVID and PCN payments, published from 2020-21), the gap with its
95% confidence interval in words, whether dispensing practices drive it, and the
practice-level regression of payments on deprivation. ``--json`` carries the same numbers,
``null`` where a figure is undefined.
"""

from __future__ import annotations

import json
import math

import typer

from analysis.cli.common import fail
from analysis.data import DataFileError, UnknownAreaError


def _rounded(value: object, digits: int) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return round(number, digits) if math.isfinite(number) else None


def _aligned(rows: list[list[str]], numeric: list[bool]) -> list[str]:
    """Columns padded to their widest cell: numbers right-aligned, text left-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.rjust(w) if num else cell.ljust(w)
                      for cell, w, num in zip(row, widths, numeric, strict=True)).rstrip()
            for row in rows]


def _practice_test(payments, imd, year: str, include_dispensing: bool, practices,
                   column: str) -> dict[str, object] | None:
    from analysis.funding import funding_inverse_care_test
    from analysis.numbers import format_money, interval_in_words

    try:
        test = funding_inverse_care_test(payments, imd, year=year, measure=column,
                                         include_dispensing=include_dispensing,
                                         practices=practices)
    except ValueError:
        return None
    result = test["result"]
    low, high = result.slope_per_sd_ci
    slope = float(result.slope_per_sd)
    interval = interval_in_words(low, high, "£", 2, words=("more", "less"))
    words = (f"{format_money(abs(slope))} {'more' if slope > 0 else 'less'} per weighted "
             f"patient for each standard deviation more deprivation ({interval})")
    return {"verdict": result.verdict, "direction": result.direction,
            "slope_per_sd_gbp": _rounded(slope, 4), "slope_per_sd_ci_lower": _rounded(low, 4),
            "slope_per_sd_ci_upper": _rounded(high, 4), "p_value": _rounded(result.p_value, 6),
            "practices": test["practices"], "words": words}


def gp_funding(
    year: str = typer.Option("2022-23", help="Payment year, 2014-15 … 2022-23."),
    area: str | None = typer.Option(None, help="ICB, sub-ICB, region or local authority code."),
    groups: str = typer.Option("quintile", help="quintile or decile (1 = most deprived)."),
    dispensing: bool = typer.Option(True, "--dispensing/--no-dispensing",
                                    help="Include dispensing practices."),
    total: str = typer.Option(
        "excluding", "--total",
        help="Payments total: 'excluding' (Total NHS Payments to General Practice, without "
             "COVID and PCN payments; every year) or 'including' (with them, as the Health "
             "Equity Evidence Centre; from 2020-21)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """NHS payments per weighted patient by practice deprivation group, with 95% CIs."""
    from analysis.access import practices_in_area
    from analysis.data import resolve_area
    from analysis.funding import (
        MIN_GROUP_PRACTICES,
        dispensing_sentence,
        funding_by_deprivation,
        gap_sentence,
        load_gp_payments,
        load_practice_imd,
        payment_total,
        read_gap,
        total_covers,
    )
    from analysis.numbers import format_money, format_number, sentence_case

    if groups not in ("quintile", "decile"):
        fail("--groups must be quintile or decile")
    try:
        chosen = payment_total(total)
    except ValueError as exc:
        fail(str(exc))
        return
    try:
        ref = resolve_area(area) if area else None
        practices = practices_in_area(area)
        payments = load_gp_payments()
        if year not in set(payments["year"].astype(str)):
            known = ", ".join(sorted(set(payments["year"].astype(str))))
            fail(f"No payments for year {year!r}; years available: {known}")
        if not total_covers(chosen, year):
            fail(f"The {chosen.label} is published from {chosen.first_year}; for {year} use "
                 "--total excluding")
        imd = load_practice_imd()
        tables = {flag: funding_by_deprivation(payments, imd, year=year, groups=groups,
                                               include_dispensing=flag, practices=practices,
                                               measure=chosen.column)
                  for flag in (True, False)}
    except (UnknownAreaError, DataFileError, ValueError) as exc:
        fail(str(exc))
        return
    table = tables[dispensing]
    readings = {flag: read_gap(t, total) for flag, t in tables.items()}
    reading = readings[dispensing]
    name = ref.name if ref else "England"
    code = ref.code if ref else "E92000001"
    test = _practice_test(payments, imd, year, dispensing, practices, chosen.column)
    headline = gap_sentence(reading, name)
    caveat = dispensing_sentence(readings[True], readings[False])
    rows = [
        {
            groups: int(r[groups]),
            "practices": int(r["practices"]),
            "weighted_patients": _rounded(r["weighted_patients"], 2),
            "payments": _rounded(r["payments"], 2),
            "per_weighted_patient": _rounded(r["per_weighted_patient"], 4),
            "ci_lower": _rounded(r["ci_lower"], 4),
            "ci_upper": _rounded(r["ci_upper"], 4),
        }
        for _, r in table.iterrows()
    ]
    result = {
        "year": year,
        "area": code,
        "area_name": name,
        "total": chosen.key,
        "total_label": chosen.label,
        "measure": chosen.column,
        "imd_edition": f"IMD {table.attrs['imd_year']}",
        "practices_without_patients": table.attrs["practices_without_patients"],
        "practices_without_imd": table.attrs["practices_without_imd"],
        "include_dispensing": dispensing,
        f"{groups}s": rows,
        "gap_gbp": _rounded(reading.gap_gbp, 4),
        "gap_gbp_ci_lower": _rounded(reading.gap_gbp_lower, 4),
        "gap_gbp_ci_upper": _rounded(reading.gap_gbp_upper, 4),
        "gap_pct": _rounded(reading.gap_pct, 4),
        "gap_pct_ci_lower": _rounded(reading.gap_pct_lower, 4),
        "gap_pct_ci_upper": _rounded(reading.gap_pct_upper, 4),
        "comparison": {"direction": reading.direction, "rule": reading.rule},
        "comparable": reading.comparable,
        "small_groups": reading.small_groups,
        "min_group_practices": MIN_GROUP_PRACTICES,
        "gap_pct_with_dispensing": _rounded(readings[True].gap_pct, 4),
        "gap_pct_without_dispensing": _rounded(readings[False].gap_pct, 4),
        "practice_test": test,
        "reading": " ".join(s for s in (headline, caveat) if s),
        "licence": "Open Government Licence v3.0",
    }
    if as_json:
        typer.echo(json.dumps(result, indent=2, allow_nan=False))
        return
    typer.echo(f"NHS payments per weighted patient: {name} ({code}), {year}")
    typer.echo(f"Payments: {chosen.label}"
               + (" (--total including adds them, from 2020-21)" if chosen.key == "excluding"
                  else ""))
    typer.echo(f"Groups: practice deprivation {groups}s of England ({result['imd_edition']}; "
               f"1 = most deprived); dispensing practices "
               f"{'included' if dispensing else 'excluded'}")
    typer.echo("")
    cells = [[groups.capitalize(), "Practices", "Weighted patients", "£ per weighted patient",
              "95% CI"]]
    for r in rows:
        interval = ("not available" if r["ci_lower"] is None else
                    f"{format_money(r['ci_lower'])} to {format_money(r['ci_upper'])}")
        cells.append([str(r[groups]), format_number(r["practices"]),
                      format_number(r["weighted_patients"]),
                      format_money(r["per_weighted_patient"]) if r["practices"] else "—",
                      interval if r["practices"] else "no practices"])
    for line in _aligned(cells, [True, True, True, True, False]):
        typer.echo(line)
    typer.echo("")
    typer.echo(headline)
    if caveat:
        typer.echo(caveat)
    if test is not None:
        typer.echo(f"Practice-level test ({format_number(test['practices'])} practices, "
                   f"payments per weighted patient on the IMD score of each practice's "
                   f"patients): {test['verdict']} {sentence_case(str(test['words']))}.")
