"""``fairshare services …``: list, show, validate, add and remove services (site lists such
as pharmacies, libraries, hospitals), and measure access to one for every LSOA 2021 / data
zone of an area.

Registered in :mod:`analysis.cli.main` with ``app.add_typer(services_app, name="services")``.
Every command works on the registry in ``data/services/registry``
(``$FAIRSHARE_DATA_DIR/services/registry``) unless ``--root`` names another folder. Output
follows ``fairshare indicators …``: a plain-text report or ``--json``, exit code 1 when a
file does not validate, ``Error: …`` on standard error for anything else.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import typer

from analysis.cli.common import checked_output, fail

services_app = typer.Typer(
    help="List, check, add and remove services (site lists: pharmacies, libraries, "
         "hospitals …) and measure access to them.",
    no_args_is_help=True,
    add_completion=False,
)

ROOT_HELP = ("Registry folder (default: data/services/registry, or "
             "$FAIRSHARE_DATA_DIR/services/registry).")
JSON_HELP = "Print JSON."
COLUMN_HELP = ("Name a file's column for a role, ROLE=COLUMN (repeatable); roles: site_id, "
               "name, site_type, capacity, opening_hours, postcode, latitude, longitude, "
               "easting, northing, address, parent_code, parent, close_date.")
SKIP_HELP = ("Leave out the sites that cannot be placed (listed in the report and in the "
             "package's not_placed metadata) instead of refusing the file.")


def _echo_json(payload: Any) -> None:
    typer.echo(json.dumps(payload, indent=2, ensure_ascii=False, default=str))


def _columns(pairs: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs or []:
        role, sep, column = pair.partition("=")
        if not sep or not role.strip() or not column.strip():
            fail(f"--column {pair!r}: write ROLE=COLUMN, e.g. --column postcode='Site PC'")
        out[role.strip()] = column.strip()
    return out


def _registry(root: Path | None):
    from analysis.ingest import ServiceRegistry

    return ServiceRegistry(root)


def _shipped(root: Path | None) -> tuple[frozenset[str] | None, str]:
    from analysis.data import DataFileError
    from analysis.ingest import shipped_service_ids

    try:
        return shipped_service_ids(root), ""
    except DataFileError as exc:
        return None, str(exc)


def _placement(report) -> dict[str, Any]:
    return {"rows": report.rows, "geocoded": report.geocoded, "outside": report.outside,
            "not_placed": report.not_placed}


@services_app.command("list")
def list_services(
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    root: Path | None = typer.Option(None, help=ROOT_HELP),
) -> None:
    """Services in the registry: id, kind, sites, period and title."""
    from analysis.cli.indicators import aligned

    registry = _registry(root)
    shipped, problem = _shipped(root)
    metas = registry.metas()
    if as_json:
        _echo_json({"root": str(registry.root), "services": [
            {"id": m.id, "title": m.title, "service_kind": m.service_kind,
             "sites": m.extra.get("sites"), "placed": m.extra.get("placed"),
             "period": m.period, "capacity_unit": m.capacity_unit,
             "shipped": None if shipped is None else m.id in shipped} for m in metas],
            "errors": registry.errors + ([problem] if problem else [])})
        return
    typer.echo(f"{len(metas)} service(s) in {registry.root}")
    rows = [(m.id, m.service_kind, f"{m.extra.get('sites', '?')}", m.period,
             m.title + ("" if shipped is None or m.id in shipped else "  (added)"))
            for m in metas]
    for line in aligned(("id", "kind", "sites", "period", "title"), rows):
        typer.echo(f"  {line}")
    for item in registry.errors:
        typer.echo(f"  unreadable: {item}")
    if problem:
        typer.echo(f"  warning: {problem}", err=True)


@services_app.command("show")
def show(
    service_id: str = typer.Argument(..., help="Service id, e.g. nhs_hospitals_2022."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    root: Path | None = typer.Option(None, help=ROOT_HELP),
) -> None:
    """Metadata of one service and a summary of its sites."""
    from analysis.data import DataFileError, IndicatorError

    registry = _registry(root)
    try:
        dataset = registry.get(service_id)
    except KeyError as exc:
        fail(str(exc.args[0]) if exc.args else str(exc))
        return
    except (DataFileError, IndicatorError) as exc:
        fail(str(exc))
        return
    sites = dataset.sites
    summary = {
        "sites": len(sites), "placed": dataset.placed,
        "outside_england_scotland": int(sites["area_code"].isna().sum()),
        "not_placed": len(dataset.not_placed),
        "with_capacity": int(sites["capacity"].notna().sum()),
        "capacity_total": float(sites["capacity"].sum()) if dataset.has_capacity else None,
        "by_country": sites["country"].fillna("none").value_counts().to_dict(),
        "by_type": sites["site_type"].fillna("none").value_counts().head(10).to_dict(),
    }
    meta = {k: v for k, v in dataset.meta.to_mapping().items() if k != "not_placed"}
    if as_json:
        shipped, _ = _shipped(root)
        _echo_json({"metadata": {**meta, "not_placed": dataset.not_placed}, "sites": summary,
                    "shipped": None if shipped is None else service_id in shipped})
        return
    for key, value in meta.items():
        if value not in ("", None, [], {}):
            typer.echo(f"{key:<16} {value}")
    typer.echo(f"{'sites':<16} {summary['sites']:,}: {summary['placed']:,} in an LSOA 2021 / "
               f"data zone, {summary['outside_england_scotland']:,} outside England and "
               f"Scotland; {summary['not_placed']:,} left out as not placed")
    for item in dataset.not_placed:
        typer.echo(f"{'':<16} not placed: row {item['row']}, postcode "
                   f"{item.get('postcode')!r}: {item['reason']}")
    if summary["capacity_total"] is not None:
        typer.echo(f"{'capacity':<16} {summary['capacity_total']:,.4g} "
                   f"{dataset.meta.capacity_unit} over {summary['with_capacity']:,} sites")


@services_app.command("validate")
def validate(
    path: Path = typer.Argument(..., help="Site list (CSV, XLSX, Parquet) or a package folder."),
    meta: Path | None = typer.Option(None, "--meta", help="service.yaml with the metadata."),
    column: list[str] | None = typer.Option(None, "--column", help=COLUMN_HELP),
    skip_unplaced: bool = typer.Option(False, "--skip-unplaced", help=SKIP_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Check a site list (and its metadata); exit code 1 when there are errors."""
    from analysis.ingest import load_service_file

    _, report = load_service_file(path, meta, columns=_columns(column),
                                  skip_unplaced=skip_unplaced)
    if as_json:
        _echo_json(report.to_dict())
    else:
        typer.echo(report.to_text())
    if not report.ok:
        raise typer.Exit(1)


@services_app.command("add")
def add(
    path: Path = typer.Argument(..., help="Site list (CSV, XLSX, Parquet)."),
    meta: Path = typer.Option(..., "--meta", help="service.yaml with the metadata."),
    column: list[str] | None = typer.Option(None, "--column", help=COLUMN_HELP),
    skip_unplaced: bool = typer.Option(False, "--skip-unplaced", help=SKIP_HELP),
    replace: bool = typer.Option(False, "--replace", help="Overwrite a service with the "
                                 "same id."),
    force: bool = typer.Option(False, "--force", help="Allow replacing a shipped service."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    root: Path | None = typer.Option(None, help=ROOT_HELP),
) -> None:
    """Validate a site list and add it to the registry (atomically; nothing is written
    unless the whole file validates)."""
    from analysis.data import DataFileError, IndicatorError
    from analysis.ingest import ServiceValidationError, add_service

    try:
        result = add_service(path, meta, replace=replace, root=root, force=force,
                             columns=_columns(column), skip_unplaced=skip_unplaced)
    except ServiceValidationError as exc:
        if as_json:
            _echo_json({"added": None, **_placement(exc.report), "report": exc.report.to_dict()})
        else:
            typer.echo(exc.report.to_text())
        typer.echo("Not added: fix the errors above.", err=True)
        raise typer.Exit(1) from None
    except (IndicatorError, DataFileError, OSError) as exc:
        fail(str(exc))
        return
    if as_json:
        _echo_json({"added": result.dataset.meta.id, "replaced": result.replaced,
                    "folder": str(result.folder), **_placement(result.report),
                    "report": result.report.to_dict()})
        return
    typer.echo(result.report.to_text())
    verb = "Replaced" if result.replaced else "Added"
    typer.echo(f"{verb} {result.dataset.meta.id} ({len(result.dataset.sites):,} sites) in "
               f"{result.folder}")


@services_app.command("remove")
def remove(
    service_id: str = typer.Argument(..., help="Service id."),
    force: bool = typer.Option(False, "--force", help="Allow removing a shipped service."),
    root: Path | None = typer.Option(None, help=ROOT_HELP),
) -> None:
    """Remove a service from the registry (shipped services need --force)."""
    from analysis.data import DataFileError, IndicatorError
    from analysis.ingest import remove_service

    try:
        folder = remove_service(service_id, root=root, force=force)
    except (IndicatorError, DataFileError, OSError) as exc:
        fail(str(exc))
        return
    typer.echo(f"Removed {service_id} ({folder})")


@services_app.command("recover")
def recover(root: Path | None = typer.Option(None, help=ROOT_HELP)) -> None:
    """Tidy up after an interrupted add or remove (also done by every add and remove)."""
    from analysis.ingest import recover_service_registry

    try:
        actions = recover_service_registry(root)
    except OSError as exc:
        fail(str(exc))
        return
    for action in actions or ["Nothing to recover."]:
        typer.echo(action)


def _fmt(value: float) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:,.1f}"


@services_app.command("access")
def access(
    service_id: str = typer.Argument(..., help="Service id."),
    area: str | None = typer.Option(None, help="Study area code (default: the service's "
                                    "coverage, e.g. the local authorities its sites are in)."),
    measure: list[str] | None = typer.Option(None, help="nearest, within or e2sfca "
                                             "(repeatable; default all three)."),
    catchment_km: float | None = typer.Option(None, help="E2SFCA catchment (default: the "
                                              "service's catchment_km, else 10)."),
    within_km: float | None = typer.Option(None, help="Distance for 'sites within' "
                                           "(default: the catchment)."),
    road_factor: float | None = typer.Option(None, help="Multiply straight-line distances by "
                                             "this road-circuity factor (e.g. 1.3); default: "
                                             "straight line."),
    out: Path = typer.Option(..., help="CSV file for the per-area table (with its CSVW "
                             "metadata in FILE.csv-metadata.json)."),
    save_indicators: bool = typer.Option(False, "--save-indicators", help="Also add the "
                                         "access indicators to the indicator registry "
                                         "(replacing this service's earlier ones), for "
                                         "allocation scenarios and briefings."),
    indicators_root: Path | None = typer.Option(None, help="Indicator registry for "
                                                "--save-indicators (default: data/indicators)."),
    root: Path | None = typer.Option(None, help=ROOT_HELP),
) -> None:
    """Access to a service for every LSOA 2021 / data zone of an area: distance to the
    nearest site, sites within reach and E2SFCA with the service's capacity as supply.
    Distances are straight-line unless --road-factor is given."""
    from analysis.access.service_access import MEASURES
    from analysis.data import DataFileError, IndicatorError
    from analysis.exports import ColumnInfo, ExportInfo, write_csv

    measures = list(dict.fromkeys(measure or MEASURES))
    bad = [m for m in measures if m not in MEASURES]
    if bad:
        fail(f"--measure must be one of: {', '.join(MEASURES)} (got {', '.join(bad)})")
    target = checked_output(out)
    registry = _registry(root)
    try:
        dataset = registry.get(service_id)
        result = dataset.access(area, catchment_km=catchment_km, within_km=within_km,
                                road_factor=road_factor)
    except KeyError as exc:
        fail(str(exc.args[0]) if exc.args else str(exc))
        return
    except (ValueError, IndicatorError, DataFileError) as exc:
        fail(str(exc))
        return
    indicators = result.indicators(measures)
    columns = {"nearest": ["nearest_km", "nearest_site"], "within": ["sites_within"],
               "e2sfca": ["e2sfca"]}
    frame = result.frame()[["code", "name", "population",
                            *[c for m in measures for c in columns[m]]]]
    by_measure = dict(zip(measures, indicators, strict=True))
    small = "LSOA 2021" if result.geography == "lsoa21" else "Data zone 2011"
    info_columns = {"code": ColumnInfo(title=f"{small} code"),
                    "name": ColumnInfo(title=f"{small} name"),
                    "population": ColumnInfo(title="Residents", unit="people")}
    for m, indicator in by_measure.items():
        meta = indicator.meta
        info_columns[columns[m][0]] = ColumnInfo(title=meta.title, unit=meta.unit,
                                                 description=meta.description)
    if "nearest" in by_measure:
        info_columns["nearest_site"] = ColumnInfo(title="Nearest site")
    service = dataset.meta
    info = ExportInfo(title=f"Access to {service.title}, {result.where}",
                      vintage=service.period, source=service.source,
                      description=result.summary(), columns=info_columns,
                      extra={"Method": " ".join(dict.fromkeys(
                          i.meta.notes for i in indicators)),
                             **({"Postcodes": str(service.extra["attribution"])}
                                if service.extra.get("attribution") else {})})
    try:
        sidecar = write_csv(target, frame, info=info)
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}")
        return
    typer.echo(result.summary())
    population = frame["population"]
    for m, indicator in by_measure.items():
        values = frame[columns[m][0]].astype(float)
        known = values.notna()
        mean = (values[known] * population[known]).sum() / population[known].sum()
        typer.echo(f"{indicator.meta.title}: population-weighted mean {_fmt(mean)} "
                   f"{indicator.meta.unit} ({int(known.sum()):,} of {len(frame):,} areas)")
    typer.echo(f"Wrote {len(frame):,} areas to {out} (metadata: {sidecar.name})")
    if save_indicators:
        from analysis.ingest import install_indicator

        for indicator in indicators:
            try:
                folder, _ = install_indicator(indicator, replace=True, root=indicators_root)
            except (IndicatorError, DataFileError, OSError) as exc:
                fail(str(exc))
                return
            typer.echo(f"Saved indicator {indicator.meta.id} in {folder}")
