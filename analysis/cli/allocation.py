"""``fairshare allocate``: run an allocation scenario file."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from analysis.cli.common import fail
from analysis.data import DataFileError


def allocate(
    scenario: Path = typer.Argument(..., help="Scenario JSON, e.g. "
                                    "data/scenarios/gp-funding-toward-need.json"),
    out: Path | None = typer.Option(None, help="Write the per-area result to this CSV."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Run an allocation scenario: move resources toward need within pace limits."""
    from analysis.allocation import ScenarioInfeasible, run_scenario_file

    if not scenario.is_file():
        fail(f"Scenario file {scenario} not found")
    try:
        result = run_scenario_file(scenario, out)
    except ScenarioInfeasible as exc:
        fail(f"The scenario's constraints cannot all hold:\n{exc}")
        return
    except (ValueError, DataFileError, OSError) as exc:
        fail(f"{scenario}: {exc}")
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
