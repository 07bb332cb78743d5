"""``fairshare briefing``: equity briefings for one area, or for every area of a level.

The lead registers :func:`briefing_command` on the main Typer app::

    app.command("briefing")(briefing_command)

    fairshare briefing --area E54000057 --format pdf --out gm.pdf
    fairshare briefing --area E08000010 --format docx --scenario data/scenarios/x.json --out w.docx
    fairshare briefing --all icb --format pdf --out briefings/
    fairshare briefing --area E08000010 --no-notes --out wigan.pdf   # leave out the log

Where the learning log has notes for the area (or the areas it lies in, or inside it), a
briefing gains "What people and practitioners told us" and "Decisions under review"
(``--no-notes`` leaves them out). The log is read only, never created, and imported inside
the functions, so that registering the command stays fast.

A batch never stops at one failure: every area is attempted, a progress bar shows how far it
has got, and a summary at the end lists each area that failed and why. The exit code is 0
when every briefing was written, 1 when some failed, 2 for bad options.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import typer

from analysis.cli.common import checked_output, write_output

# the briefing room pulls in scipy, statsmodels and WeasyPrint (~3 s): imported inside
# the functions so that registering this command keeps `fairshare info` fast
FORMATS: tuple[str, ...] = ("pdf", "html", "docx")

#: Levels ``--all`` accepts, and the country whose areas they are.
ALL_LEVELS: dict[str, str] = {"icb": "england", "sicbl": "england", "ltla": "england",
                              "region": "england", "council": "scotland"}


@dataclass(frozen=True)
class BatchFailure:
    """One area whose briefing could not be written, and why."""

    code: str
    name: str
    error: str


@dataclass
class BatchResult:
    """What a batch wrote and what failed."""

    written: list[Path] = field(default_factory=list)
    failures: list[BatchFailure] = field(default_factory=list)
    seconds: float = 0.0


def slug(text: str) -> str:
    """A file-name-safe version of an area name: ``"St. Helens & Knowsley"`` →
    ``"st-helens-knowsley"`` (accents dropped, at most 60 characters)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    cleaned = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return cleaned[:60].rstrip("-") or "area"


def output_name(code: str, name: str, fmt: str) -> str:
    """File name of one briefing in a batch folder: ``E54000057-nhs-greater-manchester-….pdf``."""
    return f"{code}-{slug(name)}.{fmt}"


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.part")
    temporary.write_bytes(data)
    temporary.replace(path)


def areas_of_level(level: str) -> list[tuple[str, str]]:
    """(code, name) of every area of a ``--all`` level, in name order."""
    from analysis.data import list_areas

    if level not in ALL_LEVELS:
        raise ValueError(f"Unknown level {level!r} for --all; choose one of "
                         f"{', '.join(ALL_LEVELS)}")
    areas = list_areas(ALL_LEVELS[level], level)
    return list(zip(areas["code"].astype(str), areas["name"].astype(str), strict=True))


def _one_briefing(code: str, name: str, fmt: str, out_dir: Path, scenario: Path | None,
                  suppress_below: int, notes: bool = True
                  ) -> tuple[str, str, Path | None, str | None]:
    """Build, render and write one briefing; any error comes back as text, never raised,
    so that one area's failure cannot stop a batch (and pickles from a worker process)."""
    from analysis.briefing import build_briefing, render

    try:
        briefing = build_briefing(code, scenario_path=scenario, suppress_below=suppress_below,
                                  notes=notes)
        path = out_dir / output_name(code, name, fmt)
        _write_atomically(path, render(briefing, fmt))
        return code, name, path, None
    except Exception as exc:  # noqa: BLE001 - recorded and reported in the batch summary
        return code, name, None, f"{type(exc).__name__}: {exc}"


def write_briefings(areas: Sequence[tuple[str, str]], fmt: str, out_dir: Path, *,
                    scenario: Path | None = None, suppress_below: int = 5,
                    on_done: Callable[[str], None] | None = None,
                    jobs: int = 1, notes: bool = True) -> BatchResult:
    """Write one briefing per area into ``out_dir``; never stop at a failure.

    Any exception while building or rendering one area is recorded as a
    :class:`BatchFailure` (type and message) and the batch moves on. ``on_done`` is called
    with each area code after it is attempted (for a progress bar). ``jobs`` > 1 spreads the
    areas over that many worker processes (started fresh with "spawn": vl-convert's engine
    is not fork-safe); each worker pays the start-up (about 5 s) once. ``notes``: add the
    learning log's sections where it has notes for an area.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    result = BatchResult()
    started = time.perf_counter()

    def record(outcome: tuple[str, str, Path | None, str | None]) -> None:
        code, name, path, error = outcome
        if path is not None:
            result.written.append(path)
        else:
            result.failures.append(BatchFailure(code, name, error or "unknown error"))
        if on_done is not None:
            on_done(code)

    if jobs <= 1 or len(areas) < 2:
        for code, name in areas:
            record(_one_briefing(code, name, fmt, out_dir, scenario, suppress_below, notes))
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(jobs, len(areas)),
                                 mp_context=context) as pool:
            futures = {pool.submit(_one_briefing, code, name, fmt, out_dir, scenario,
                                   suppress_below, notes): (code, name)
                       for code, name in areas}
            for future in as_completed(futures):
                code, name = futures[future]
                try:
                    record(future.result())
                except Exception as exc:  # noqa: BLE001 - e.g. a worker process died
                    record((code, name, None, f"{type(exc).__name__}: {exc}"))
    order = {code: i for i, (code, _) in enumerate(areas)}
    result.written.sort(key=lambda p: order.get(p.name.split("-", 1)[0], 0))
    result.failures.sort(key=lambda f: order.get(f.code, 0))
    result.seconds = time.perf_counter() - started
    return result


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)


def _single_path(out: Path, code: str, name: str, fmt: str) -> Path:
    """``--out`` as a file, or a file inside it when it is a folder or has no suffix
    (``--out briefings/``: Typer's ``Path`` drops the trailing slash)."""
    if out.is_dir() or not out.suffix:
        return out / output_name(code, name, fmt)
    suffix = out.suffix.lower().lstrip(".")
    if suffix in FORMATS and suffix != fmt:
        _fail(f"--out {out} ends in .{suffix} but --format is {fmt}; use --format {suffix} or "
              f"an output name ending in .{fmt}")
    return out


def briefing_command(
    area: str | None = typer.Option(
        None, "--area", help="GSS code of one area at any level, e.g. E54000057 (an ICB), "
        "E08000010 (a council), S12000005 (a Scottish council area)."),
    all_level: str | None = typer.Option(
        None, "--all", help=f"Write a briefing for every area of a level: "
        f"{', '.join(ALL_LEVELS)}. --out is then a folder."),
    fmt: str = typer.Option("pdf", "--format", help="pdf, html or docx."),
    scenario: Path | None = typer.Option(
        None, "--scenario", help="Allocation scenario JSON (data/scenarios/*.json): adds its "
        "winners, losers and equity impact."),
    out: Path = typer.Option(..., "--out", help="Output file (one area) or folder (--all)."),
    suppress_below: int = typer.Option(
        5, "--suppress-below", min=0, help="Hide counts from 1 to this minus 1 in tables "
        "(0 = no suppression)."),
    jobs: int = typer.Option(
        1, "--jobs", min=1, help="With --all: worker processes to use (each starts in about "
        "5 s; worth it for more than a dozen areas)."),
    notes: bool = typer.Option(
        True, "--notes/--no-notes", help="Add the learning log's notes for the area (what "
        "people and practitioners told us; decisions under review) when there are any."),
) -> None:
    """Plain-English equity briefing (PDF, web page or Word) for an area, or for all areas of
    a level."""
    from analysis.data import EmptySelectionError, UnknownAreaError, resolve_area

    fmt = fmt.lower()
    if fmt not in FORMATS:
        _fail(f"--format {fmt!r} is not supported; choose one of {', '.join(FORMATS)}")
    if (area is None) == (all_level is None):
        _fail("give either --area CODE or --all LEVEL (not both)")
    # cheap checks first: a mistyped code or level fails in about a second, before the
    # briefing room (statistics, charts, WeasyPrint) and any scenario are loaded
    ref = None
    if area is not None:
        try:
            ref = resolve_area(area)
        except UnknownAreaError as exc:
            _fail(str(exc))
            return
    level = (all_level or "").lower()
    if all_level is not None and level not in ALL_LEVELS:
        _fail(f"--all {all_level!r} is not a level with briefings; choose one of "
              f"{', '.join(ALL_LEVELS)}")
    if all_level is not None and out.exists() and not out.is_dir():
        _fail(f"--out {out} is a file; with --all give a folder")
    if scenario is not None and not scenario.is_file():
        _fail(f"scenario {scenario}: the file does not exist")

    from analysis.briefing import build_briefing, render, run_scenario

    if scenario is not None:
        try:
            run_scenario(scenario)  # validate and run once, before any area
        except (ValueError, OSError) as exc:
            _fail(f"scenario {scenario}: {exc}")

    if ref is not None:
        try:
            briefing = build_briefing(ref.code, scenario_path=scenario,
                                      suppress_below=suppress_below, notes=notes)
        except (UnknownAreaError, EmptySelectionError) as exc:
            _fail(str(exc))
            return
        path = checked_output(_single_path(out, ref.code, briefing.area_name, fmt))
        write_output(path, render(briefing, fmt))
        shown = ""
        if briefing.notes is not None:
            told = len(briefing.notes.voices) + len(briefing.notes.decisions)
            shown = f"; {told} learning-log note{'' if told == 1 else 's'}"
        typer.echo(f"Wrote {path} ({briefing.area_name}{shown}).")
        return

    areas = areas_of_level(level)
    out = checked_output(out, folder=True)
    with typer.progressbar(length=len(areas), label=f"Briefings ({level})",
                           show_pos=True, file=None) as bar:
        result = write_briefings(areas, fmt, out, scenario=scenario,
                                 suppress_below=suppress_below, jobs=jobs, notes=notes,
                                 on_done=lambda _: bar.update(1))
    typer.echo(f"Wrote {len(result.written)} of {len(areas)} briefings to {out} in "
               f"{result.seconds:.0f} s.")
    if result.failures:
        typer.echo(f"{len(result.failures)} failed:", err=True)
        for failure in result.failures:
            typer.echo(f"  {failure.code} {failure.name}: {failure.error}", err=True)
        raise typer.Exit(1)


def main() -> None:  # pragma: no cover - convenience entry point
    """``python -m analysis.cli.briefing …`` until the command is registered."""
    app = typer.Typer(add_completion=False)
    app.command()(briefing_command)
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
