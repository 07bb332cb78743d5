"""What the learning log hands back: notes, their versions and learning reviews, as plain
frozen dataclasses (no database session needed to read them)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime

from analysis.learning.validation import KINDS


def utc(value: datetime | None) -> datetime | None:
    """``value`` as an aware UTC datetime (SQLite returns naive ones)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


@dataclass(frozen=True)
class Note:
    """A note as it is now (its latest version), with its open review date if any."""

    id: int
    uid: str
    area_code: str
    area_level: str
    area_name: str
    kind: str
    text: str
    source: str
    event_date: date
    author: str
    tags: tuple[str, ...] = ()
    link: str | None = None
    indicator_id: str | None = None
    service: str | None = None
    scenario_id: str | None = None
    audit_id: str | None = None
    version: int = 1
    created_at: datetime | None = None
    created_by: str = ""
    updated_at: datetime | None = None
    updated_by: str = ""
    removed_at: datetime | None = None
    removed_by: str | None = None
    removed_reason: str | None = None
    review_due: date | None = None

    @property
    def kind_label(self) -> str:
        """The kind as people read it ("Community voice")."""
        return KINDS.get(self.kind, self.kind)

    @property
    def removed(self) -> bool:
        """Whether the note has been removed (it is kept, marked with who and when)."""
        return self.removed_at is not None

    def to_dict(self) -> dict:
        """JSON-ready mapping (dates as ISO text, tags as a list)."""
        out = {key: _plain(value) for key, value in asdict(self).items()}
        out["kind_label"] = self.kind_label
        return out


@dataclass(frozen=True)
class NoteVersion:
    """One version of a note, as it was written (``change``: created, edited or removed)."""

    note_id: int
    version: int
    change: str
    area_code: str
    kind: str
    text: str
    source: str
    event_date: date
    tags: tuple[str, ...]
    link: str | None
    indicator_id: str | None
    service: str | None
    scenario_id: str | None
    audit_id: str | None
    changed_at: datetime
    changed_by: str
    reason: str | None

    def to_dict(self) -> dict:
        """JSON-ready mapping."""
        return {key: _plain(value) for key, value in asdict(self).items()}


@dataclass(frozen=True)
class Review:
    """A learning review of a note: due when, and once done, what happened and what was
    learned (also kept as a learning-review note, ``review_note_id``)."""

    id: int
    note_id: int
    due: date
    created_by: str
    completed_at: datetime | None = None
    completed_by: str | None = None
    outcome: str | None = None
    learned: str | None = None
    review_note_id: int | None = None
    note: Note | None = None

    @property
    def done(self) -> bool:
        """Whether the review has been recorded."""
        return self.completed_at is not None

    def to_dict(self) -> dict:
        """JSON-ready mapping (the reviewed note nested under ``note``)."""
        out = {key: _plain(value) for key, value in asdict(self).items() if key != "note"}
        out["note"] = self.note.to_dict() if self.note else None
        return out


@dataclass(frozen=True)
class Saved:
    """A note just written and the warnings about it (likely personal names)."""

    note: Note
    warnings: tuple[str, ...] = field(default=())
