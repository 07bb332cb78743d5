"""Exports of the learning log: CSV (plain RFC 4180, header first, through
:mod:`analysis.exports`, so text cells are safe against formula injection; with a CSVW
sidecar) and JSON (``{"notes": [...]}``)."""

from __future__ import annotations

import json
from collections.abc import Iterable

import pandas as pd

from analysis.learning.records import Note, Review

COLUMNS = {
    "id": "Note id", "uid": "Stable note identifier (UUID)", "area_code": "Area code (GSS)",
    "area_level": "Level of the area", "area_name": "Area name", "kind": "Kind of note",
    "kind_label": "Kind of note, as read", "event_date": "Date of what the note records",
    "text": "Text of the note (qualitative evidence, shown as typed)",
    "source": "Source: the event or organisation (never a person)", "author": "Author",
    "tags": "Tags, separated by spaces", "link": "Link (http or https)",
    "indicator_id": "Linked indicator", "service": "Linked service",
    "scenario_id": "Linked allocation scenario", "audit_id": "Linked equity audit",
    "review_due": "Learning review due", "version": "Version number (edits add versions)",
    "created_at": "Created (UTC)", "created_by": "Created by",
    "updated_at": "Last changed (UTC)", "updated_by": "Last changed by",
    "removed_at": "Removed (UTC)", "removed_by": "Removed by",
    "removed_reason": "Why it was removed",
}
TITLE = "Fairshare learning log"
DESCRIPTION = ("Qualitative evidence (community voices, practitioners' observations, survey "
               "findings, case studies, decisions and learning reviews) recorded against "
               "areas. It is qualitative: it describes what people said and what was "
               "decided, not measured figures.")


def notes_frame(notes: Iterable[Note]) -> pd.DataFrame:
    """One row per note, the columns of :data:`COLUMNS` (tags joined by spaces)."""
    rows = []
    for note in notes:
        record = note.to_dict()
        record["tags"] = " ".join(note.tags)
        rows.append({key: record.get(key) for key in COLUMNS})
    return pd.DataFrame(rows, columns=list(COLUMNS))


def notes_csv(notes: Iterable[Note]) -> bytes:
    """The notes as plain CSV bytes (UTF-8, header row first), text cells neutralised."""
    from analysis.exports import to_csv_bytes

    return to_csv_bytes(notes_frame(notes))


def notes_csv_with_metadata(notes: Iterable[Note], name: str = "learning-log.csv"
                            ) -> tuple[bytes, bytes]:
    """(CSV bytes, CSVW sidecar bytes) of the notes, through :mod:`analysis.exports`."""
    from analysis.exports import ColumnInfo, ExportInfo, csv_with_metadata

    info = ExportInfo(title=TITLE, description=DESCRIPTION, source="Fairshare learning log",
                      columns={key: ColumnInfo(title=key, description=text)
                               for key, text in COLUMNS.items()})
    return csv_with_metadata(notes_frame(notes), name, info=info, title=TITLE)


def notes_json(notes: Iterable[Note], **extra) -> str:
    """``{"notes": [...]}`` (plus any ``extra`` keys) as indented JSON text."""
    payload = {**extra, "notes": [note.to_dict() for note in notes]}
    return json.dumps(payload, indent=2, ensure_ascii=False)


def reviews_json(reviews: Iterable[Review], **extra) -> str:
    """``{"reviews": [...]}`` (plus any ``extra`` keys) as indented JSON text."""
    payload = {**extra, "reviews": [review.to_dict() for review in reviews]}
    return json.dumps(payload, indent=2, ensure_ascii=False)
