"""``fairshare audit``: a health equity audit of a service's own record-level activity."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from analysis.cli.common import checked_output, fail

#: Where ``--example`` simulates records unless ``--area`` says otherwise.
EXAMPLE_AREA = "E54000057"  # NHS Greater Manchester ICB


def audit(
    activity: Path | None = typer.Argument(
        None, help="Records: a CSV or Parquet file, a folder of Parquet parts, or a glob "
        "(quote it). Omit with --example."),
    population: Path | None = typer.Option(
        None, help="Your own denominator: CSV with area_code,age_band,population[,sex] "
        "(bands 0-4, 5-9, ..., 85-89, 90+). Default: ONS/NRS residents."),
    area: str | None = typer.Option(None, help="Study area code (any level). Default: the "
                                    "smallest area holding 95% of the records."),
    by: str = typer.Option("ethnicity,age,sex,site",
                           help="Panels to report: any of ethnicity, age, sex, site, service."),
    mapping: list[str] = typer.Option([], "--map", help="ROLE=COLUMN for a column under "
                                      "another name, e.g. --map age=AgeAtAttendance."),
    service: str | None = typer.Option(None, help="The service's name for the wording."),
    engine: str = typer.Option("duckdb", help="duckdb (embedded) or spark."),
    years: float | None = typer.Option(None, help="Years the records cover (default: the "
                                       "span of their event dates, else 1)."),
    example: int | None = typer.Option(None, help="Audit N simulated records (from real "
                                       "populations, labelled simulated) instead of a file."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    out: Path | None = typer.Option(None, help="Write every table (CSV + CSVW) and "
                                    "audit.json into this folder."),
    briefing: Path | None = typer.Option(None, help="Also write the study area's equity "
                                         "briefing with this audit as a section (.pdf, .html "
                                         "or .docx)."),
) -> None:
    """Is use of a service in proportion to need? Standardised rates by deprivation,
    ethnicity, age and sex from the service's own records."""
    from analysis.audit import ActivityError, ColumnError, parse_mapping
    from analysis.audit.outputs import write_audit
    from analysis.audit.reading import sentences, to_json
    from analysis.audit.run import audit_activity
    from analysis.data import DataFileError, UnknownAreaError

    panels = [p.strip() for p in by.split(",") if p.strip()]
    unknown = sorted(set(panels) - {"ethnicity", "age", "sex", "site", "service"})
    if unknown:
        fail(f"--by: unknown panel {', '.join(unknown)} (use ethnicity, age, sex, site, "
             "service)")
    if engine not in ("duckdb", "spark"):
        fail("--engine must be duckdb or spark")
    if (activity is None) == (example is None):
        fail("give either ACTIVITY (a file of records) or --example N")
    if example is not None and not 1_000 <= example <= 50_000_000:
        fail("--example: give from 1,000 to 50,000,000 simulated records")
    out_dir = checked_output(out, folder=True) if out is not None else None
    briefing_path = checked_output(briefing) if briefing is not None else None
    briefing_format = briefing.suffix.lower().lstrip(".") if briefing is not None else ""
    if briefing is not None and briefing_format not in ("pdf", "html", "docx"):
        fail("--briefing must end in .pdf, .html or .docx")
    try:
        user_population = source_text = None
        if population is not None:
            from analysis.data.populations import read_population_file

            user_population = read_population_file(population)
            source_text = f"the population in {population.name}"
        source = activity
        if example is not None:
            from analysis.audit.run import simulated_example

            area = area or EXAMPLE_AREA
            source = simulated_example(example, area)
        result = audit_activity(
            source, engine=engine, mapping=parse_mapping(mapping), area_code=area,
            population=user_population, population_source=source_text,
            service=service or ("the simulated service" if example else None),
            splits=[p for p in panels if p in ("site", "service")], years=years,
            simulated=True if example is not None else None)
    except (ActivityError, ColumnError, UnknownAreaError, DataFileError, ValueError,
            OSError) as exc:
        fail(str(exc))
        return
    if out_dir is not None:
        try:
            written = write_audit(result, out_dir)
        except OSError as exc:
            fail(f"cannot write into {out}: {exc.strerror or exc}")
            return
        typer.echo(f"Wrote {len(written)} files to {out}", err=as_json)
    if briefing_path is not None:
        from analysis.briefing import briefing_bytes
        from analysis.cli.common import write_output

        if result.study.level == "country":
            fail("a briefing is written for a region, ICB, council or smaller area: give "
                 "--area")
        write_output(briefing_path, briefing_bytes(result.study.code, briefing_format,
                                                   audit=result))
        typer.echo(f"Wrote the briefing to {briefing}", err=as_json)
    if as_json:
        typer.echo(json.dumps(to_json(result), indent=2, ensure_ascii=False))
        return
    typer.echo(f"Equity audit of {result.service}: {result.study.describe()}")
    typer.echo(f"{result.rows:,} records, {result.events:,} used"
               + (f"; left out: {', '.join(f'{k} {v:,}' for k, v in result.excluded.items())}"
                  if result.excluded else ""))
    for sentence in sentences(result):
        typer.echo(f"- {sentence}")
