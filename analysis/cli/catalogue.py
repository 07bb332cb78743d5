"""``fairshare info`` and ``fairshare area``: what is embedded, and an area's headline figures."""

from __future__ import annotations

import json

import typer

from analysis.cli.common import fail
from analysis.data import DataFileError, EmptySelectionError, UnknownAreaError


def _checksum_problems(registry, reported: list[str]) -> list[str]:
    """Data files that do not match their recorded SHA-256, except those already reported
    as missing, unreadable or truncated (one line per file is enough)."""
    from analysis.data.integrity import checksum_problems

    packages = {}
    for meta in registry.metas():
        folder = registry.folder(meta.id)
        if folder is not None:
            packages[folder] = meta.extra
    fresh = []
    for problem in checksum_problems(registry.root.parent, packages):
        # "data/indicators/x/data.parquet does not match …": the path inside the data folder
        inside = problem.split(" does not match", 1)[0].split("/", 1)[-1]
        if not any(inside in line for line in reported):
            fresh.append(problem)
    return fresh


def info(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Areas per geography, indicators by kind, services by type and data vintages; exits
    with 1 when an indicator's metadata or data file is unreadable, missing or truncated, or
    a data file does not match the SHA-256 recorded for it (replaced or damaged)."""
    from analysis.data import IndicatorRegistry, dataset_info

    try:
        registry = IndicatorRegistry()
        facts = dataset_info(registry)
        facts["checksum_problems"] = _checksum_problems(
            registry, facts["indicator_errors"] + facts["indicator_file_problems"])
    except DataFileError as exc:
        fail(str(exc))
        return
    problems = (facts["indicator_errors"] + facts["indicator_file_problems"]
                + facts["checksum_problems"])
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
    for problem in facts["checksum_problems"]:
        typer.echo(f"  replaced or damaged: {problem}")
    typer.echo("\nServices")
    for key, count in facts["services"].items():
        typer.echo(f"  {key:<24} {count:>8,}")
    typer.echo("\nVintages")
    for key, vintage in facts["vintages"].items():
        typer.echo(f"  {key:<34} {vintage}")
    typer.echo(f"\nLicence: {facts['licence']}")
    if problems:
        typer.echo(f"\n{len(problems)} data file(s) cannot be trusted (listed above); "
                   "restore data/ with `git checkout -- data/` or rebuild it with `fairshare "
                   "data build`.", err=True)
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
