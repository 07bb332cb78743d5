"""``fairshare info`` and ``fairshare area``: what is embedded, and an area's headline figures."""

from __future__ import annotations

import json

import typer

from analysis.cli.common import fail
from analysis.data import DataFileError, EmptySelectionError, UnknownAreaError


def info(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Areas per geography, indicators by kind, services by type and data vintages; exits
    with 1 when an indicator's metadata or data file is unreadable, missing or truncated."""
    from analysis.data import dataset_info

    try:
        facts = dataset_info()
    except DataFileError as exc:
        fail(str(exc))
        return
    problems = facts["indicator_errors"] + facts["indicator_file_problems"]
    if as_json:
        typer.echo(json.dumps(facts, indent=2, ensure_ascii=False))
        if problems:
            raise typer.Exit(1)
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
        typer.echo(f"  unreadable metadata: {problem}")
    for problem in facts["indicator_file_problems"]:
        typer.echo(f"  damaged data file: {problem}")
    typer.echo("\nServices")
    for key, count in facts["services"].items():
        typer.echo(f"  {key:<24} {count:>8,}")
    typer.echo("\nVintages")
    for key, vintage in facts["vintages"].items():
        typer.echo(f"  {key:<34} {vintage}")
    typer.echo(f"\nLicence: {facts['licence']}")
    if problems:
        typer.echo(f"\n{len(problems)} indicator(s) cannot be read (listed above); restore "
                   "data/ with `git checkout -- data/` or rebuild it with `fairshare data "
                   "build`.", err=True)
        raise typer.Exit(1)


def area(code: str = typer.Argument(..., help="GSS code, e.g. E54000057 or S12000005"),
         as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Headline figures of a study area (population, share in the most deprived quintile)."""
    from analysis.explore import study_area_summary

    try:
        summary = study_area_summary(code)
    except (UnknownAreaError, EmptySelectionError, DataFileError) as exc:
        fail(str(exc))
        return
    if as_json:
        typer.echo(json.dumps(summary.to_dict(), indent=2, ensure_ascii=False))
    else:
        typer.echo(summary.sentence())
