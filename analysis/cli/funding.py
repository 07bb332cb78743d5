"""``fairshare gp-funding``: NHS payments per weighted patient by practice deprivation.

The output names the area, the payments total the figures use (``--total excluding``, the
default, or ``including`` COVID and PCN payments, published from 2020-21), the gap with its
95% confidence interval in words, whether dispensing practices drive it, and the
practice-level regression of payments on deprivation. ``--json`` carries the same numbers,
``null`` where a figure is undefined.

``--measure workforce`` prints instead fully qualified GPs (headcount, excluding GPs in
training and locums) per 10,000 weighted patients by practice deprivation quintile, for one
year and as a trend from 2015-16 to 2023-24 (the Health Equity Evidence Centre's headline
workforce view), with the rule used for the weighted patients.
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


def _workforce(year: str | None, area: str | None, groups: str, as_json: bool) -> None:
    """The ``--measure workforce`` output: GPs per 10,000 weighted patients by quintile."""
    from analysis.access import practices_in_area
    from analysis.data import resolve_area
    from analysis.funding import load_gp_payments, load_practice_imd
    from analysis.funding.workforce import (
        GP_DEFINITION,
        WORKFORCE_UNIT,
        load_gp_workforce,
        trend_gaps,
        workforce_gap_sentence,
        workforce_trend,
        workforce_trend_sentence,
    )
    from analysis.numbers import format_number

    try:
        ref = resolve_area(area) if area else None
        practices = practices_in_area(area)
        workforce = load_gp_workforce()
        years = sorted(workforce["year"].astype(str).unique())
        year = year or years[-1]
        if year not in years:
            fail(f"No GP workforce for year {year!r}; years available: {', '.join(years)}")
        trend = workforce_trend(workforce, load_gp_payments(), load_practice_imd(),
                                practices=practices, groups=groups)  # type: ignore[arg-type]
    except (UnknownAreaError, DataFileError, ValueError) as exc:
        fail(str(exc))
        return
    name = ref.name if ref else "England"
    code = ref.code if ref else "E92000001"
    gaps = trend_gaps(trend)
    reading = next(g for g in gaps if g.year == year)
    table = trend[trend["year"] == year]
    headline = workforce_gap_sentence(reading, name)
    over_time = workforce_trend_sentence(gaps)
    rows = [{groups: int(r[groups]), "practices": int(r["practices"]),
             "patients": _rounded(r["patients"], 2), "gps": _rounded(r["gps"], 1),
             "gps_per_10k": _rounded(r["gps_per_10k"], 4),
             "ci_lower": _rounded(r["ci_lower"], 4), "ci_upper": _rounded(r["ci_upper"], 4)}
            for _, r in table.iterrows()]
    result = {
        "year": year, "area": code, "area_name": name, "measure": "workforce",
        "unit": WORKFORCE_UNIT, "gps": GP_DEFINITION, "weighted_patients_estimated":
        reading.estimated, f"{groups}s": rows,
        "gap": _rounded(reading.gap, 4), "gap_pct": _rounded(reading.gap_pct, 4),
        "gap_pct_ci_lower": _rounded(reading.gap_pct_lower, 4),
        "gap_pct_ci_upper": _rounded(reading.gap_pct_upper, 4),
        "comparison": {"direction": reading.direction, "rule": reading.rule},
        "comparable": reading.comparable,
        "trend": [{"year": g.year, "most_deprived": _rounded(g.most, 4),
                   "least_deprived": _rounded(g.least, 4), "gap_pct": _rounded(g.gap_pct, 4),
                   "comparable": g.comparable, "weighted_patients_estimated": g.estimated}
                  for g in gaps],
        "reading": f"{headline} {over_time}",
        "licence": "Open Government Licence v3.0",
    }
    if as_json:
        typer.echo(json.dumps(result, indent=2, allow_nan=False))
        return
    typer.echo(f"GP workforce per 10,000 weighted patients: {name} ({code}), {year}")
    typer.echo(f"GPs: {GP_DEFINITION}, NHS Digital General Practice Workforce; weighted "
               "patients: Carr-Hill weighted lists (NHS Payments to General Practice), for "
               "2023-24 estimated from each practice's list and 2022-23 weighting")
    typer.echo(f"Groups: practice deprivation {groups}s of England (1 = most deprived)")
    typer.echo("")
    cells = [[groups.capitalize(), "Practices", "Weighted patients", "Qualified GPs",
              "GPs per 10,000", "95% CI"]]
    for r in rows:
        interval = ("not available" if r["ci_lower"] is None else
                    f"{format_number(r['ci_lower'], 2)} to {format_number(r['ci_upper'], 2)}")
        cells.append([str(r[groups]), format_number(r["practices"]),
                      format_number(r["patients"]), format_number(r["gps"]),
                      format_number(r["gps_per_10k"], 2) if r["practices"] else "—",
                      interval if r["practices"] else "no practices"])
    for line in _aligned(cells, [True, True, True, True, True, False]):
        typer.echo(line)
    typer.echo("")
    typer.echo(headline)
    typer.echo(over_time)


def gp_funding(
    year: str | None = typer.Option(
        None, help="Payment year, 2014-15 … 2022-23 (default 2022-23); with --measure "
                   "workforce 2015-16 … 2023-24 (default 2023-24)."),
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
    measure: str = typer.Option(
        "payments", "--measure",
        help="payments (NHS payments per weighted patient) or workforce (fully qualified GPs "
             "per 10,000 weighted patients, 2015-16 to 2023-24)."),
) -> None:
    """NHS payments (or GP workforce) per weighted patient by practice deprivation group,
    with 95% CIs."""
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
    if measure not in ("payments", "workforce"):
        fail("--measure must be payments or workforce")
    if measure == "workforce":
        _workforce(year, area, groups, as_json)
        return
    year = year or "2022-23"
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
