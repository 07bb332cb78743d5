"""``fairshare access``: per-LSOA provision (access) indicators of a service."""

from __future__ import annotations

from pathlib import Path

import typer

from analysis.cli.common import checked_output, fail
from analysis.data import DataFileError, EmptySelectionError, UnknownAreaError

ACCESS_INDICATORS = {
    "gp": ["gp_access_gps_per_100k", "gp_access_list_places_per_1000",
           "gp_access_funding_per_resident", "gp_nearest_km"],
    "stroke": ["stroke_minutes_thrombolysis", "stroke_minutes_thrombectomy",
               "stroke_admissions_per_1000"],
}


def _gp_equity(area: str | None, registry) -> None:
    """The headline GP measure by IMD 2025 decile and its inverse care law test (the figures
    the Overview and the briefings quote)."""
    from analysis.explore import HEADLINE_NEED, HEADLINE_PROVISION, equity_panel
    from analysis.numbers import format_number

    try:
        panel = equity_panel("england", area, HEADLINE_NEED["england"],
                             HEADLINE_PROVISION["england"], registry)
    except ValueError as exc:
        typer.echo(f"Inverse care law test not run: {exc}")
        return
    meta = panel.provision
    typer.echo(f"{meta.title} by IMD 2025 decile (1 = most deprived), observed, 95% CI:")
    for row in panel.gradient.itertuples():
        typer.echo(f"  {int(row.decile):>4}  {format_number(row.provision_per_head, 1):>7}  "
                   f"({format_number(row.lower_ci, 1)} to {format_number(row.upper_ci, 1)})")
    readings = panel.readings()
    low, high = panel.test.slope_per_sd_ci
    typer.echo(f"Inverse care law test against the IMD 2025 score: {panel.test.verdict} "
               f"Slope {format_number(panel.test.slope_per_sd, 2, signed=True)} {meta.unit} "
               f"per standard deviation of need (95% CI {format_number(low, 2, signed=True)} "
               f"to {format_number(high, 2, signed=True)}), {panel.test.n:,} LSOAs.")
    typer.echo(readings["gradient"])
    typer.echo(readings["sii"])


def access(
    service: str = typer.Option(..., help="gp, stroke, or the id of a service dataset "
                                "(fairshare services list)."),
    area: str | None = typer.Option(None, help="Study area code (default: England)."),
    out: Path | None = typer.Option(None, help="Write the per-LSOA table to this CSV file "
                                    "(and its CSVW metadata to FILE.csv-metadata.json)."),
) -> None:
    """Per-LSOA provision (access) indicators of a service, with a deprivation summary."""
    from analysis.access import share_beyond
    from analysis.data import default_registry
    from analysis.explore import study_area_frame
    from analysis.exports import ColumnInfo, ExportInfo, write_csv
    from analysis.numbers import format_number

    if service not in ACCESS_INDICATORS:
        # a service brought as data: the same measures as `fairshare services access ID`
        from analysis.cli.services import access as service_access

        if out is None:
            fail(f"--service {service}: a service dataset's access table needs --out FILE.csv "
                 f"(the shipped ones are {', '.join(ACCESS_INDICATORS)})")
        service_access(service, area=area, measure=None, catchment_km=None, within_km=None,
                       road_factor=None, out=out, save_indicators=False,
                       indicators_root=None, root=None)
        return
    ids = ACCESS_INDICATORS[service]
    registry = default_registry()
    try:
        frame = study_area_frame("england", area, ids, registry)
    except (UnknownAreaError, EmptySelectionError, DataFileError, ValueError) as exc:
        fail(str(exc))
        return
    if out is not None:
        metas = [registry.meta(i) for i in ids]
        info = ExportInfo(
            title=f"{service} access by LSOA 2021" + (f", {area}" if area else ", England"),
            vintage="; ".join(f"{m.title}: {m.period}" for m in metas),
            source="; ".join(dict.fromkeys(m.source for m in metas)),
            columns={
                "code": ColumnInfo(title="LSOA 2021 code"),
                "name": ColumnInfo(title="LSOA 2021 name"),
                "population": ColumnInfo(title="Usual residents (Census 2021)", unit="people"),
                "deprivation_decile": ColumnInfo(title="IMD 2025 national decile",
                                                 unit="decile (1 = most deprived)"),
                **{m.id: ColumnInfo(title=m.title, unit=m.unit, description=m.description)
                   for m in metas}})
        try:
            sidecar = write_csv(checked_output(out), frame.reset_index(drop=True), info=info)
        except OSError as exc:
            fail(f"cannot write {out}: {exc.strerror or exc}")
            return
        typer.echo(f"Wrote {len(frame):,} LSOAs to {out} (metadata: {sidecar.name})")
    population = frame["population"]
    for indicator_id in ids:
        meta = registry.meta(indicator_id)
        values = frame[indicator_id]
        mean = (values * population).sum() / population[values.notna()].sum()
        shown = format_number(mean, meta.decimals)
        typer.echo(f"{meta.title}: population-weighted mean {shown} "
                   f"{meta.unit} ({values.notna().sum():,} of {len(frame):,} LSOAs)")
    if service == "gp":
        _gp_equity(area, registry)
    if service == "stroke":
        table = share_beyond(frame["stroke_minutes_thrombectomy"], population,
                             frame["deprivation_decile"])
        typer.echo("Share of residents more than 30 / 60 minutes from a thrombectomy centre, "
                   "by IMD 2025 decile (1 = most deprived):")
        for label, row in table.iterrows():
            typer.echo(f"  {label!s:>4}  {100 * row['share_beyond_30']:5.1f}%  "
                       f"{100 * row['share_beyond_60']:5.1f}%")
