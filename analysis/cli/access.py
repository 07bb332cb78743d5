"""``fairshare access``: per-LSOA provision (access) indicators of a service."""

from __future__ import annotations

from pathlib import Path

import typer

from analysis.cli.common import fail
from analysis.data import DataFileError, EmptySelectionError, UnknownAreaError

ACCESS_INDICATORS = {
    "gp": ["gp_access_list_places_per_1000", "gp_access_funding_per_resident", "gp_nearest_km"],
    "stroke": ["stroke_minutes_thrombolysis", "stroke_minutes_thrombectomy",
               "stroke_admissions_per_1000"],
}


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
        fail(f"--service must be one of: {', '.join(ACCESS_INDICATORS)}")
    ids = ACCESS_INDICATORS[service]
    registry = default_registry()
    try:
        frame = study_area_frame("england", area, ids, registry)
    except (UnknownAreaError, EmptySelectionError, DataFileError, ValueError) as exc:
        fail(str(exc))
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
