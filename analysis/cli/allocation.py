"""``fairshare allocate``: run an allocation scenario file."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from analysis.cli.common import checked_output, fail
from analysis.data import DataFileError


def allocate(
    scenario: Path = typer.Argument(..., help="Scenario JSON, e.g. "
                                    "data/scenarios/gp-funding-toward-need.json"),
    out: Path | None = typer.Option(None, help="Write the per-area result to this CSV."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Run an allocation scenario: move resources toward need within pace limits."""
    from analysis.allocation import ScenarioInfeasible, report_lines, run_scenario_file

    if not scenario.is_file():
        fail(f"Scenario file {scenario} not found")
    if out is not None:
        out = checked_output(out)
    try:
        result = run_scenario_file(scenario, out)
    except ScenarioInfeasible as exc:
        fail(f"The scenario's constraints cannot all hold:\n{exc}")
        return
    except (ValueError, DataFileError, OSError) as exc:
        fail(f"{scenario}: {exc}")
        return
    if as_json:
        typer.echo(json.dumps(result.summary(), indent=2, ensure_ascii=False))
        return
    for line in report_lines(result):
        typer.echo(line)
    if out is not None:
        typer.echo(f"  per-area result written to {out}")
