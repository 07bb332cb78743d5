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


@data_app.command("add-registrations")
def data_add_registrations(
    file: Path | None = typer.Argument(None, help="NHS Digital's 'Patients Registered at a GP "
                                       "Practice' LSOA CSV, as published."),
    remove: bool = typer.Option(False, "--remove", help="Remove the stored file: practice "
                                "values are then attributed by the estimate again."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Store where each practice's patients live (used instead of the estimate everywhere)."""
    import json

    from analysis.access.registrations import (
        RegistrationsError,
        read_registrations_csv,
        registrations_path,
        remove_registrations,
        save_registrations,
    )

    if remove:
        removed = remove_registrations()
        payload = {"removed": removed, "path": str(registrations_path())}
        typer.echo(json.dumps(payload) if as_json else (
            f"Removed {registrations_path()}: practice values are attributed by the estimate"
            if removed else "No registrations file was stored; nothing removed"))
        return
    if file is None:
        fail("give the registrations CSV (or --remove)")
        return
    if not file.is_file():
        fail(f"{file}: no such file")
        return
    try:
        registrations = read_registrations_csv(file)
        path = save_registrations(registrations)
    except RegistrationsError as exc:
        if as_json:
            typer.echo(json.dumps({"ok": False, "file": exc.file, "problems": [
                {"row": r, "column": c, "message": m} for r, c, m in exc.problems]}))
            raise typer.Exit(1) from None
        fail(str(exc))
        return
    except OSError as exc:
        fail(f"cannot store the registrations: {exc.strerror or exc}")
        return
    if as_json:
        typer.echo(json.dumps({"ok": True, "path": str(path), **registrations.meta},
                              default=str))
    else:
        typer.echo(f"Stored {path}: {registrations.summary()}")
        typer.echo("Practice values are now attributed to LSOAs by registrations, not the "
                   "estimate.")
