"""``fairshare indicators …``: list, show, validate, add and remove indicator datasets.

Registered in :mod:`analysis.cli.main` with ``app.add_typer(indicators_app, name="indicators")``.
Every command works on the registry in ``data/indicators`` (``$FAIRSHARE_DATA_DIR/indicators``)
unless ``--root`` names another folder.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import typer

from analysis.data import DataFileError, IndicatorError, IndicatorRegistry
from analysis.ingest import (
    GEOGRAPHY_LABELS,
    IndicatorValidationError,
    ValidationReport,
    add_indicator,
    load_indicator_file,
    recover_registry,
    registry_root,
    remove_indicator,
    shipped_ids,
)

indicators_app = typer.Typer(
    help="List, check, add and remove indicator datasets (data/indicators/<id>/).",
    no_args_is_help=True,
    add_completion=False,
)

ROOT_HELP = "Registry folder (default: data/indicators, or $FAIRSHARE_DATA_DIR/indicators)."
JSON_HELP = "Print JSON."


def _fail(message: str, code: int = 1) -> None:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)


def _echo_json(payload: Any) -> None:
    typer.echo(json.dumps(payload, indent=2, ensure_ascii=False, default=str))


def _registry(root: Path | None) -> IndicatorRegistry:
    try:
        return IndicatorRegistry(registry_root(root))
    except DataFileError as exc:
        _fail(str(exc))
        raise  # unreachable: _fail exits


def _print_report(report: ValidationReport, as_json: bool) -> None:
    if as_json:
        _echo_json(report.to_dict())
    else:
        typer.echo(report.to_text())


@indicators_app.command("list")
def list_indicators(
    kind: str | None = typer.Option(None, help="Only this kind (need, provision, outcome, "
                                    "context)."),
    geography: str | None = typer.Option(None, help="Only this geography (lsoa21, practice …)."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    root: Path | None = typer.Option(None, help=ROOT_HELP),
) -> None:
    """Indicators in the registry: id, kind, geography, period and title."""
    registry = _registry(root)
    shipped, manifest_problem = _shipped(registry.root)
    metas = registry.metas(kind=kind, geography=geography)
    if as_json:
        _echo_json({
            "root": str(registry.root),
            "indicators": [
                {"id": m.id, "title": m.title, "kind": m.kind, "geography": m.geography,
                 "period": m.period, "unit": m.unit,
                 "shipped": None if shipped is None else m.id in shipped}
                for m in metas
            ],
            "errors": registry.errors + ([manifest_problem] if manifest_problem else []),
        })
        return
    typer.echo(f"{len(metas)} indicator(s) in {registry.root}")
    rows = [(m.id, m.kind, m.geography, m.period,
             m.title + ("" if shipped is None or m.id in shipped else "  (added)"))
            for m in metas]
    for line in aligned(("id", "kind", "geography", "period", "title"), rows):
        typer.echo(f"  {line}")
    for problem in registry.errors:
        typer.echo(f"  unreadable: {problem}")
    if manifest_problem:
        typer.echo(f"  warning: {manifest_problem}", err=True)


def aligned(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    """Text table lines: every column as wide as its widest cell, two spaces between
    columns, the last column left ragged."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows,
                                                                        strict=True)]
    lines = []
    for cells in (header, *rows):
        padded = [str(c).ljust(w) for c, w in zip(cells[:-1], widths[:-1], strict=True)]
        lines.append("  ".join([*padded, str(cells[-1])]).rstrip())
    return lines


def _shipped(root: Path) -> tuple[frozenset[str] | None, str]:
    """(shipped ids or None when unknown, the reason they are unknown)."""
    try:
        return shipped_ids(root), ""
    except DataFileError as exc:
        return None, str(exc)


@indicators_app.command("show")
def show(
    indicator_id: str = typer.Argument(..., help="Indicator id, e.g. imd2025_score."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    root: Path | None = typer.Option(None, help=ROOT_HELP),
) -> None:
    """Metadata of one indicator and a summary of its values."""
    registry = _registry(root)
    try:
        indicator = registry.get(indicator_id)
    except KeyError as exc:
        _fail(str(exc.args[0]) if exc.args else str(exc))
        return
    except (DataFileError, IndicatorError) as exc:
        _fail(str(exc))
        return
    values = indicator.data["value"].astype(float)
    summary = {
        "areas": len(indicator.data),
        "with_value": int(values.notna().sum()),
        "min": float(values.min()) if values.notna().any() else None,
        "median": float(values.median()) if values.notna().any() else None,
        "max": float(values.max()) if values.notna().any() else None,
        "columns": list(map(str, indicator.data.columns)),
    }
    meta = indicator.meta.to_mapping()
    if as_json:
        shipped, _ = _shipped(registry.root)
        _echo_json({"metadata": meta, "values": summary,
                    "shipped": None if shipped is None else indicator_id in shipped})
        return
    for key, value in meta.items():
        if value not in ("", None, [], {}):
            typer.echo(f"{key:<16} {value}")
    typer.echo(f"{'values':<16} {summary['with_value']:,} of {summary['areas']:,} areas have a "
               "value" + (f"; min {_fmt(summary['min'])}, median {_fmt(summary['median'])}, "
                          f"max {_fmt(summary['max'])}" if summary["with_value"] else ""))
    typer.echo(f"{'columns':<16} {', '.join(summary['columns'])}")


def _fmt(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "–"
    return f"{value:,.4g}"


@indicators_app.command("validate")
def validate(
    path: Path = typer.Argument(..., help="Data file (CSV, XLSX, Parquet, Fingertips export) "
                                "or a package folder."),
    meta: Path | None = typer.Option(None, "--meta", help="indicator.yaml with the metadata."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Check a data file (and its metadata); exit code 1 when there are errors."""
    _, report = load_indicator_file(path, meta)
    _print_report(report, as_json)
    if not report.ok:
        raise typer.Exit(1)


@indicators_app.command("add")
def add(
    path: Path = typer.Argument(..., help="Data file (CSV, XLSX, Parquet, Fingertips export)."),
    meta: Path = typer.Option(..., "--meta", help="indicator.yaml with the metadata."),
    replace: bool = typer.Option(False, "--replace", help="Overwrite an indicator with the "
                                 "same id."),
    force: bool = typer.Option(False, "--force", help="Allow replacing a shipped default."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    root: Path | None = typer.Option(None, help=ROOT_HELP),
) -> None:
    """Validate a data file and add it to the registry (atomically)."""
    try:
        result = add_indicator(path, meta, replace=replace, root=root, force=force)
    except IndicatorValidationError as exc:
        _print_report(exc.report, as_json)
        typer.echo("Not added: fix the errors above.", err=True)
        raise typer.Exit(1) from None
    except (IndicatorError, DataFileError, OSError) as exc:
        _fail(str(exc))
        return
    verb = "Replaced" if result.replaced else "Added"
    if as_json:
        _echo_json({"added": result.indicator.meta.id, "replaced": result.replaced,
                    "folder": str(result.folder), "report": result.report.to_dict()})
        return
    typer.echo(result.report.to_text())
    m = result.indicator.meta
    plural = GEOGRAPHY_LABELS.get(m.geography, ("", f"{m.geography} areas"))[1]
    typer.echo(f"{verb} {m.id} ({len(result.indicator.data):,} {plural}) in {result.folder}")


@indicators_app.command("remove")
def remove(
    indicator_id: str = typer.Argument(..., help="Indicator id."),
    force: bool = typer.Option(False, "--force", help="Allow removing a shipped default."),
    root: Path | None = typer.Option(None, help=ROOT_HELP),
) -> None:
    """Remove an indicator from the registry (shipped defaults need --force)."""
    try:
        folder = remove_indicator(indicator_id, root=root, force=force)
    except (IndicatorError, DataFileError, OSError) as exc:
        _fail(str(exc))
        return
    typer.echo(f"Removed {indicator_id} ({folder})")


@indicators_app.command("recover")
def recover(root: Path | None = typer.Option(None, help=ROOT_HELP)) -> None:
    """Tidy up after an interrupted add or remove (also done by every add and remove)."""
    try:
        actions = recover_registry(root)
    except OSError as exc:
        _fail(str(exc))
        return
    for action in actions:
        typer.echo(action)
    if not actions:
        typer.echo("Nothing to recover.")
