"""``fairshare notes …`` and ``fairshare reviews …``: the learning log from the command line.

Registered in :mod:`analysis.cli.main` with ``app.add_typer(notes_app, name="notes")`` and
``app.add_typer(reviews_app, name="reviews")``. The log is the SQLite file in the state
folder (``$FAIRSHARE_STATE_DIR``) unless ``$FAIRSHARE_DATABASE_URL`` or ``--database-url``
names another database. The author is ``--author``, else ``$FAIRSHARE_AUTHOR``, else the
login name.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from pathlib import Path
from typing import Any

import typer

from analysis.cli.common import fail

notes_app = typer.Typer(
    help="The learning log: what people and practitioners say, and the decisions taken, "
    "kept beside the numbers.", no_args_is_help=True, add_completion=False)
reviews_app = typer.Typer(help="Learning reviews of decisions: what is due, and what was "
                          "learned.", no_args_is_help=True, add_completion=False)

DB_HELP = "Database URL (default: $FAIRSHARE_DATABASE_URL, else SQLite in the state folder)."
AUTHOR_HELP = "Who is writing (default: $FAIRSHARE_AUTHOR, else the login name)."
JSON_HELP = "Print JSON."
KIND_HELP = ("community_voice, practitioner_observation, survey_finding, case_study, "
             "decision or learning_review.")


def _log(database_url: str | None):
    from analysis.learning import LearningLog

    return LearningLog(database_url)


def _author(author: str | None) -> str:
    if author and author.strip():
        return author
    from_env = os.environ.get("FAIRSHARE_AUTHOR", "").strip()
    if from_env:
        return from_env
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        fail("No author: give --author or set FAIRSHARE_AUTHOR.")
        raise  # unreachable


def _echo_json(payload: Any) -> None:
    typer.echo(json.dumps(payload, indent=2, ensure_ascii=False, default=str))


def _run(action):
    """Run ``action()``, turning the learning log's errors into ``Error: …`` and exit 1."""
    from analysis.learning import (
        NoteInputError,
        NoteNotFoundError,
        PersonalDataError,
        StorageError,
    )

    try:
        return action()
    except (NoteInputError, NoteNotFoundError, PersonalDataError, StorageError) as exc:
        fail(str(exc.args[0]) if isinstance(exc, LookupError) and exc.args else str(exc))


def _read_text(text: str | None, text_file: Path | None) -> str | None:
    if text_file is None:
        return text
    if text is not None:
        fail("Give --text or --text-file, not both.")
    try:
        return sys.stdin.read() if str(text_file) == "-" else text_file.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"Cannot read {text_file}: {exc}")
        raise  # unreachable


def _warn(warnings) -> None:
    for warning in warnings:
        typer.echo(f"Warning: {warning}: check it is not a person's name "
                   "(edit the note if it is).", err=True)


def _line(note) -> str:
    removed = f"  [removed {note.removed_at:%Y-%m-%d} by {note.removed_by}]" if note.removed else ""
    due = f"  review due {note.review_due}" if note.review_due else ""
    first = " ".join(note.text.split())
    short = first if len(first) <= 100 else first[:99] + "…"
    return (f"#{note.id:<5} {note.event_date}  {note.kind_label:<24} {note.area_name} "
            f"({note.area_code})  source: {note.source}{due}{removed}\n        {short}")


def _details(note) -> list[str]:
    rows = [("note", f"#{note.id} (version {note.version}, {note.uid})"),
            ("kind", note.kind_label), ("area", f"{note.area_name} ({note.area_code}, "
                                                f"{note.area_level})"),
            ("date", note.event_date), ("source", note.source), ("author", note.author),
            ("tags", " ".join(note.tags)), ("link", note.link),
            ("indicator", note.indicator_id), ("service", note.service),
            ("scenario", note.scenario_id), ("audit", note.audit_id),
            ("review due", note.review_due),
            ("created", f"{note.created_at:%Y-%m-%d %H:%M} UTC by {note.created_by}"),
            ("changed", f"{note.updated_at:%Y-%m-%d %H:%M} UTC by {note.updated_by}")]
    if note.removed:
        rows.append(("removed", f"{note.removed_at:%Y-%m-%d %H:%M} UTC by {note.removed_by}"
                     + (f": {note.removed_reason}" if note.removed_reason else "")))
    return [f"{k:<11} {v}" for k, v in rows if v not in (None, "")] + ["", note.text]


@notes_app.command("add")
def add(
    area: str = typer.Option(..., "--area", help="Area code at any level (LSOA, ward, "
                             "council, sub-ICB, ICB, region; data zone …)."),
    kind: str = typer.Option(..., "--kind", help=KIND_HELP),
    source: str = typer.Option(..., "--source", help="Who or what event: an organisation, "
                               "forum or survey, never a person's name."),
    text: str | None = typer.Option(None, "--text", help="The note (up to 10,000 characters)."),
    text_file: Path | None = typer.Option(None, "--text-file", help="Read the text from a "
                                          "file ('-' for standard input)."),
    event_date: str | None = typer.Option(None, "--date", help="YYYY-MM-DD (default today)."),
    indicator: str | None = typer.Option(None, "--indicator", help="Linked indicator id."),
    tags: list[str] = typer.Option([], "--tag", help="A tag (repeat for more)."),
    link: str | None = typer.Option(None, "--link", help="An http(s) link to the evidence."),
    service: str | None = typer.Option(None, "--service", help="Linked service."),
    scenario: str | None = typer.Option(None, "--scenario", help="Linked scenario."),
    audit: str | None = typer.Option(None, "--audit", help="Linked equity audit id."),
    review_date: str | None = typer.Option(None, "--review-date", help="Decisions: when to "
                                           "review what happened (YYYY-MM-DD)."),
    author: str | None = typer.Option(None, "--author", help=AUTHOR_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    database_url: str | None = typer.Option(None, "--database-url", help=DB_HELP),
) -> None:
    """Add a note (screened for personal data first; refused with the reason if found)."""
    body = _read_text(text, text_file)
    saved = _run(lambda: _log(database_url).add(
        area=area, kind=kind, text=body, source=source, author=_author(author),
        date=event_date, tags=tags, link=link, indicator=indicator, service=service,
        scenario=scenario, audit=audit, review_date=review_date))
    _warn(saved.warnings)
    if as_json:
        _echo_json({"note": saved.note.to_dict(), "warnings": list(saved.warnings)})
        return
    typer.echo(f"Added note #{saved.note.id} ({saved.note.kind_label}, "
               f"{saved.note.area_name} {saved.note.area_code}).")


def _filters(area, kind, since, until, tag, indicator, scenario, audit, no_parents, removed):
    return dict(area=area, kind=kind or None, since=since, until=until, tag=tag,
                indicator=indicator, scenario=scenario, audit=audit,
                include_parents=not no_parents, include_removed=removed)


AREA_OPT = typer.Option(None, "--area", help="Notes for this area and the areas it lies in.")
KIND_OPT = typer.Option([], "--kind", help="Only this kind (repeat for more).")
SINCE_OPT = typer.Option(None, "--since", help="Dated on or after YYYY-MM-DD.")
UNTIL_OPT = typer.Option(None, "--until", help="Dated on or before YYYY-MM-DD.")
TAG_OPT = typer.Option(None, "--tag", help="Only notes with this tag.")
IND_OPT = typer.Option(None, "--indicator", help="Only notes linked to this indicator.")
SCEN_OPT = typer.Option(None, "--scenario", help="Only notes linked to this scenario.")
AUDIT_OPT = typer.Option(None, "--audit", help="Only notes linked to this audit.")
NOPAR_OPT = typer.Option(False, "--no-parents", help="Only the area itself, not its parents.")
REM_OPT = typer.Option(False, "--removed", help="Include removed notes.")


@notes_app.command("list")
def list_notes(
    area: str | None = AREA_OPT, kind: list[str] = KIND_OPT, since: str | None = SINCE_OPT,
    until: str | None = UNTIL_OPT, tag: str | None = TAG_OPT, indicator: str | None = IND_OPT,
    scenario: str | None = SCEN_OPT, audit: str | None = AUDIT_OPT,
    no_parents: bool = NOPAR_OPT, removed: bool = REM_OPT,
    limit: int | None = typer.Option(None, "--limit", min=1, help="At most this many."),
    as_json: bool = typer.Option(False, "--json", help='Print {"notes": [...]}.'),
    database_url: str | None = typer.Option(None, "--database-url", help=DB_HELP),
) -> None:
    """Notes, newest first, for an area and the areas it lies in."""
    filters = _filters(area, kind, since, until, tag, indicator, scenario, audit, no_parents,
                       removed)
    notes = _run(lambda: _log(database_url).list(limit=limit, **filters))
    if as_json:
        _echo_json({"notes": [n.to_dict() for n in notes]})
        return
    typer.echo(f"{len(notes)} note(s)")
    for note in notes:
        typer.echo(_line(note))


@notes_app.command("show")
def show(
    note_id: int = typer.Argument(..., help="Note id."),
    history: bool = typer.Option(False, "--history", help="Every version too."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    database_url: str | None = typer.Option(None, "--database-url", help=DB_HELP),
) -> None:
    """One note in full (and its versions with --history)."""
    log = _log(database_url)
    note = _run(lambda: log.get(note_id))
    versions = _run(lambda: log.history(note_id)) if history else []
    if as_json:
        _echo_json({"note": note.to_dict(), "versions": [v.to_dict() for v in versions]})
        return
    typer.echo("\n".join(_details(note)))
    for v in versions:
        typer.echo(f"\n-- version {v.version}: {v.change} {v.changed_at:%Y-%m-%d %H:%M} UTC "
                   f"by {v.changed_by}" + (f" ({v.reason})" if v.reason else ""))
        typer.echo(v.text)


@notes_app.command("edit")
def edit(
    note_id: int = typer.Argument(..., help="Note id."),
    text: str | None = typer.Option(None, "--text", help="New text."),
    text_file: Path | None = typer.Option(None, "--text-file", help="New text from a file "
                                          "('-' for standard input)."),
    kind: str | None = typer.Option(None, "--kind", help=KIND_HELP),
    area: str | None = typer.Option(None, "--area", help="Move to another area."),
    source: str | None = typer.Option(None, "--source", help="New source."),
    event_date: str | None = typer.Option(None, "--date", help="New date (YYYY-MM-DD)."),
    tags: list[str] = typer.Option([], "--tag", help="Replace the tags (repeat for more)."),
    link: str | None = typer.Option(None, "--link", help="New link ('' removes it)."),
    indicator: str | None = typer.Option(None, "--indicator", help="New indicator ('' "
                                         "removes it)."),
    reason: str | None = typer.Option(None, "--reason", help="Why (kept with the version)."),
    author: str | None = typer.Option(None, "--author", help=AUTHOR_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    database_url: str | None = typer.Option(None, "--database-url", help=DB_HELP),
) -> None:
    """Save a new version of a note (earlier versions are kept)."""
    body = _read_text(text, text_file)
    saved = _run(lambda: _log(database_url).edit(
        note_id, author=_author(author), reason=reason, text=body, kind=kind, area=area,
        source=source, date=event_date, tags=tags or None, link=link, indicator=indicator))
    _warn(saved.warnings)
    if as_json:
        _echo_json({"note": saved.note.to_dict(), "warnings": list(saved.warnings)})
        return
    typer.echo(f"Saved note #{note_id} as version {saved.note.version}.")


@notes_app.command("remove")
def remove(
    note_id: int = typer.Argument(..., help="Note id."),
    reason: str | None = typer.Option(None, "--reason", help="Why it is removed."),
    author: str | None = typer.Option(None, "--author", help=AUTHOR_HELP),
    database_url: str | None = typer.Option(None, "--database-url", help=DB_HELP),
) -> None:
    """Remove a note (kept in the database, marked with who, when and why)."""
    note = _run(lambda: _log(database_url).remove(note_id, author=_author(author),
                                                   reason=reason))
    typer.echo(f"Removed note #{note.id} (kept in the history; removed by {note.removed_by}).")


@notes_app.command("search")
def search(
    query: str = typer.Argument(..., help="Words to find (every word must match)."),
    area: str | None = AREA_OPT, kind: list[str] = KIND_OPT, since: str | None = SINCE_OPT,
    until: str | None = UNTIL_OPT, tag: str | None = TAG_OPT, indicator: str | None = IND_OPT,
    scenario: str | None = SCEN_OPT, audit: str | None = AUDIT_OPT,
    no_parents: bool = NOPAR_OPT, removed: bool = REM_OPT,
    limit: int = typer.Option(200, "--limit", min=1, help="At most this many."),
    as_json: bool = typer.Option(False, "--json", help='Print {"notes": [...]}.'),
    database_url: str | None = typer.Option(None, "--database-url", help=DB_HELP),
) -> None:
    """Full-text search of the notes, best match first."""
    filters = _filters(area, kind, since, until, tag, indicator, scenario, audit, no_parents,
                       removed)
    notes = _run(lambda: _log(database_url).search(query, limit=limit, **filters))
    if as_json:
        _echo_json({"query": query, "notes": [n.to_dict() for n in notes]})
        return
    typer.echo(f"{len(notes)} note(s) match {query!r}")
    for note in notes:
        typer.echo(_line(note))


@notes_app.command("export")
def export(
    out: Path = typer.Option(..., "--out", help="FILE.csv (with FILE.csv-metadata.json "
                             "beside it) or FILE.json."),
    area: str | None = AREA_OPT, kind: list[str] = KIND_OPT, since: str | None = SINCE_OPT,
    until: str | None = UNTIL_OPT, tag: str | None = TAG_OPT, indicator: str | None = IND_OPT,
    scenario: str | None = SCEN_OPT, audit: str | None = AUDIT_OPT,
    no_parents: bool = NOPAR_OPT, removed: bool = REM_OPT,
    database_url: str | None = typer.Option(None, "--database-url", help=DB_HELP),
) -> None:
    """Export notes as CSV (plain, header first, with a CSVW sidecar) or JSON."""
    from analysis.learning import notes_csv_with_metadata, notes_json

    filters = _filters(area, kind, since, until, tag, indicator, scenario, audit, no_parents,
                       removed)
    notes = _run(lambda: _log(database_url).list(**filters))
    suffix = out.suffix.lower()
    try:
        if suffix == ".json":
            out.write_text(notes_json(notes) + "\n", encoding="utf-8")
        elif suffix == ".csv":
            data, metadata = notes_csv_with_metadata(notes, out.name)
            out.write_bytes(data)
            out.with_name(out.name + "-metadata.json").write_bytes(metadata)
        else:
            fail("--out must end in .csv or .json")
    except OSError as exc:
        fail(f"Cannot write {out}: {exc}")
    typer.echo(f"Wrote {len(notes)} note(s) to {out}")


@reviews_app.command("due")
def due(
    on: str | None = typer.Option(None, "--on", help="As of this date (default today)."),
    within: int = typer.Option(0, "--within", min=0, help="Also those due in the next N days."),
    area: str | None = AREA_OPT,
    as_json: bool = typer.Option(False, "--json", help='Print {"reviews": [...]}.'),
    database_url: str | None = typer.Option(None, "--database-url", help=DB_HELP),
) -> None:
    """Learning reviews that are due (oldest first)."""
    reviews = _run(lambda: _log(database_url).reviews_due(on=on, within_days=within,
                                                           area=area))
    if as_json:
        _echo_json({"reviews": [r.to_dict() for r in reviews]})
        return
    typer.echo(f"{len(reviews)} review(s) due")
    for review in reviews:
        note = review.note
        first = " ".join(note.text.split())
        typer.echo(f"  due {review.due}  note #{note.id} {note.kind_label} "
                   f"({note.area_name} {note.area_code}, {note.event_date}): "
                   f"{first[:80] + ('…' if len(first) > 80 else '')}")


@reviews_app.command("schedule")
def schedule(
    note_id: int = typer.Argument(..., help="The decision's note id."),
    due_date: str = typer.Option(..., "--date", help="When to review (YYYY-MM-DD)."),
    author: str | None = typer.Option(None, "--author", help=AUTHOR_HELP),
    database_url: str | None = typer.Option(None, "--database-url", help=DB_HELP),
) -> None:
    """Give a decision a review date (moves an open review)."""
    review = _run(lambda: _log(database_url).schedule_review(note_id, due_date,
                                                              author=_author(author)))
    typer.echo(f"Review of note #{note_id} due {review.due}.")


@reviews_app.command("record")
def record(
    note_id: int = typer.Argument(..., help="The decision's note id."),
    outcome: str = typer.Option(..., "--outcome", help="What happened."),
    learned: str = typer.Option(..., "--learned", help="What was learned."),
    review_date: str | None = typer.Option(None, "--date", help="Date of the review."),
    author: str | None = typer.Option(None, "--author", help=AUTHOR_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    database_url: str | None = typer.Option(None, "--database-url", help=DB_HELP),
) -> None:
    """Record a learning review: what happened and what was learned."""
    review, saved = _run(lambda: _log(database_url).record_review(
        note_id, outcome=outcome, learned=learned, author=_author(author), date=review_date))
    _warn(saved.warnings)
    if as_json:
        _echo_json({"review": review.to_dict(), "note": saved.note.to_dict()})
        return
    typer.echo(f"Recorded the review of note #{note_id} as note #{saved.note.id}.")
