"""The ``fairshare`` command line: the same engine the dashboard uses, scriptable."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import typer

from analysis.cli.briefing import briefing_command
from analysis.cli.indicators import indicators_app
from analysis.data import DataFileError, EmptySelectionError, UnknownAreaError

app = typer.Typer(
    help="Fairshare: where is need high and provision low, and what would redirecting "
    "resources toward need do?",
    no_args_is_help=True,
    add_completion=False,
)
data_app = typer.Typer(help="Build or inspect the embedded dataset.", no_args_is_help=True)
app.add_typer(data_app, name="data")
app.add_typer(indicators_app, name="indicators")
app.command("briefing")(briefing_command)

PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the checkout, or site-packages


def _fail(message: str, code: int = 1) -> None:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)


@app.command()
def info(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Areas per geography, indicators by kind, services by type and data vintages."""
    from analysis.data import dataset_info

    try:
        facts = dataset_info()
    except DataFileError as exc:
        _fail(str(exc))
        return
    if as_json:
        typer.echo(json.dumps(facts, indent=2, ensure_ascii=False))
        return
    areas = facts["areas"]
    typer.echo("Fairshare embedded dataset")
    typer.echo("\nAreas")
    for key, count in areas.items():
        typer.echo(f"  {key:<24} {count:>8,}")
    typer.echo(f"\nIndicators: {facts['indicators']}")
    for kind, count in facts["indicators_by_kind"].items():
        typer.echo(f"  {kind:<24} {count:>8,}")
    for problem in facts["indicator_errors"]:
        typer.echo(f"  unreadable: {problem}")
    typer.echo("\nServices")
    for key, count in facts["services"].items():
        typer.echo(f"  {key:<24} {count:>8,}")
    typer.echo("\nVintages")
    for key, vintage in facts["vintages"].items():
        typer.echo(f"  {key:<34} {vintage}")
    typer.echo(f"\nLicence: {facts['licence']}")


@app.command()
def area(code: str = typer.Argument(..., help="GSS code, e.g. E54000057 or S12000005"),
         as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Headline figures of a study area (population, share in the most deprived quintile)."""
    from analysis.explore import study_area_summary

    try:
        summary = study_area_summary(code)
    except (UnknownAreaError, EmptySelectionError, DataFileError) as exc:
        _fail(str(exc))
        return
    if as_json:
        typer.echo(json.dumps(summary.to_dict(), indent=2, ensure_ascii=False))
    else:
        typer.echo(summary.sentence())


@app.command("gp-funding")
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
        _fail("--groups must be quintile or decile")
    try:
        practices = practices_in_area(area)
        payments = load_gp_payments()
        if year not in set(payments["year"].astype(str)):
            known = ", ".join(sorted(set(payments["year"].astype(str))))
            _fail(f"No payments for year {year!r}; years available: {known}")
        table = funding_by_deprivation(payments, load_practice_imd(), year=year,
                                       groups=groups, include_dispensing=dispensing,
                                       practices=practices)
    except (UnknownAreaError, DataFileError, ValueError) as exc:
        _fail(str(exc))
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


ACCESS_INDICATORS = {
    "gp": ["gp_access_list_places_per_1000", "gp_access_funding_per_resident", "gp_nearest_km"],
    "stroke": ["stroke_minutes_thrombolysis", "stroke_minutes_thrombectomy",
               "stroke_admissions_per_1000"],
}


@app.command()
def access(
    service: str = typer.Option(..., help="gp or stroke."),
    area: str | None = typer.Option(None, help="Study area code (default: England)."),
    out: Path | None = typer.Option(None, help="Write the per-LSOA table to this CSV file."),
) -> None:
    """Per-LSOA provision (access) indicators of a service, with a deprivation summary."""
    from analysis.access import share_beyond
    from analysis.data import default_registry
    from analysis.explore import study_area_frame
    from analysis.exports import to_csv_bytes

    if service not in ACCESS_INDICATORS:
        _fail(f"--service must be one of: {', '.join(ACCESS_INDICATORS)}")
    ids = ACCESS_INDICATORS[service]
    registry = default_registry()
    try:
        frame = study_area_frame("england", area, ids, registry)
    except (UnknownAreaError, EmptySelectionError, DataFileError, ValueError) as exc:
        _fail(str(exc))
        return
    if out is not None:
        vintage = "; ".join(f"{registry.meta(i).title}: {registry.meta(i).period}" for i in ids)
        out.write_bytes(to_csv_bytes(frame.reset_index(drop=True), vintage=vintage))
        typer.echo(f"Wrote {len(frame):,} LSOAs to {out}")
    population = frame["population"]
    for indicator_id in ids:
        meta = registry.meta(indicator_id)
        values = frame[indicator_id]
        mean = (values * population).sum() / population[values.notna()].sum()
        typer.echo(f"{meta.title}: population-weighted mean {mean:,.{meta.decimals}f} "
                   f"{meta.unit} ({values.notna().sum():,} of {len(frame):,} LSOAs)")
    if service == "stroke":
        table = share_beyond(frame["stroke_minutes_thrombectomy"], population,
                             frame["deprivation_decile"])
        typer.echo("Share of residents more than 30 / 60 minutes from a thrombectomy centre, "
                   "by IMD 2025 decile (1 = most deprived):")
        for label, row in table.iterrows():
            typer.echo(f"  {label!s:>4}  {100 * row['share_beyond_30']:5.1f}%  "
                       f"{100 * row['share_beyond_60']:5.1f}%")


@app.command()
def allocate(
    scenario: Path = typer.Argument(..., help="Scenario JSON, e.g. "
                                    "data/scenarios/gp-funding-toward-need.json"),
    out: Path | None = typer.Option(None, help="Write the per-area result to this CSV."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Run an allocation scenario: move resources toward need within pace limits."""
    from analysis.allocation import ScenarioInfeasible, run_scenario_file

    if not scenario.is_file():
        _fail(f"Scenario file {scenario} not found")
    try:
        result = run_scenario_file(scenario, out)
    except ScenarioInfeasible as exc:
        _fail(f"The scenario's constraints cannot all hold:\n{exc}")
        return
    except (ValueError, DataFileError, OSError) as exc:
        _fail(f"{scenario}: {exc}")
        return
    summary = result.summary()
    if as_json:
        typer.echo(json.dumps(summary, indent=2, ensure_ascii=False))
        return
    typer.echo(f"{summary['title'] or summary['scenario']}")
    typer.echo(f"  areas {summary['areas']:,}; budget £{summary['budget']:,.0f}; allocated "
               f"£{summary['total_allocated']:,.0f}")
    typer.echo(f"  winners {summary['winners']:,}; losers {summary['losers']:,}")
    typer.echo(f"  concentration index against need: {summary['concentration_index_before']:+.4f}"
               f" before, {summary['concentration_index_after']:+.4f} after "
               "(negative = concentrated where need is higher)")
    if out is not None:
        typer.echo(f"  per-area result written to {out}")


@app.command()
def dashboard(
    port: int = typer.Option(8501, help="Port to serve on."),
    headless: bool = typer.Option(False, help="Don't open a browser."),
) -> None:
    """Start the Streamlit dashboard on the embedded data."""
    app_file = PACKAGE_ROOT / "dashboard" / "app.py"
    command = [sys.executable, "-m", "streamlit", "run", str(app_file),
               "--server.port", str(port)]
    if headless:
        command += ["--server.headless", "true"]
    raise typer.Exit(subprocess.call(command, cwd=PACKAGE_ROOT))


@data_app.command("build")
def data_build(
    raw: Path = typer.Option(PACKAGE_ROOT.parent / "shared" / "data",
                             help="The raw open-data pack."),
    out: Path = typer.Option(PACKAGE_ROOT / "data", help="Where to write the embedded dataset."),
) -> None:
    """Rebuild the embedded dataset from the raw open-data pack (build time only)."""
    from analysis.build import RawDataError, build

    try:
        manifest = build(raw, out)
    except RawDataError as exc:
        _fail(str(exc))
        return
    for name, facts in manifest["files"].items():
        typer.echo(f"{name:<60} {facts['rows']:>8,} rows")
    unmatched = {k: v for k, v in manifest["coverage"].items()
                 if isinstance(v, dict) and v.get("unmatched_count")}
    for join, facts in unmatched.items():
        typer.echo(f"coverage {join}: {facts['unmatched_count']} unmatched "
                   f"(first: {', '.join(facts['unmatched'][:5])})")


if __name__ == "__main__":  # pragma: no cover
    app()
