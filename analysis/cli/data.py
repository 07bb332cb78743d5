"""``fairshare data build``: rebuild the embedded dataset from the raw open-data pack."""

from __future__ import annotations

from pathlib import Path

import typer

from analysis.cli.common import PACKAGE_ROOT, fail

data_app = typer.Typer(help="Build or inspect the embedded dataset.", no_args_is_help=True)


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
        fail(str(exc))
        return
    for name, facts in manifest["files"].items():
        typer.echo(f"{name:<60} {facts['rows']:>8,} rows")
    unmatched = {k: v for k, v in manifest["coverage"].items()
                 if isinstance(v, dict) and v.get("unmatched_count")}
    for join, facts in unmatched.items():
        typer.echo(f"coverage {join}: {facts['unmatched_count']} unmatched "
                   f"(first: {', '.join(facts['unmatched'][:5])})")
