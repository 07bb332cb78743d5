"""The tables of the learning log (SQLAlchemy 2 declarative models).

* ``notes``: one row per note, holding its current version (what lists and searches read);
* ``note_versions``: every version of every note, append-only: an edit adds a row, a removal
  adds a row marked ``removed``; nothing is updated or deleted there;
* ``reviews``: learning reviews scheduled on a decision (or a scenario's note), completed
  later with what happened and what was learned.

The Alembic scripts in ``migrations/versions`` create the same tables; a test compares them.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of the learning-log tables (constraint names fixed by ``NAMING``)."""

    metadata = MetaData(naming_convention=NAMING)


class NoteRow(Base):
    """A note as it is now: its current text and links, who made it, whether it is removed."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    area_code: Mapped[str] = mapped_column(String(12))
    area_level: Mapped[str] = mapped_column(String(12))
    area_name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(300))
    event_date: Mapped[date] = mapped_column(Date)
    author: Mapped[str] = mapped_column(String(200))
    tags: Mapped[str] = mapped_column(String(1000), default="")
    link: Mapped[str | None] = mapped_column(String(2000))
    indicator_id: Mapped[str | None] = mapped_column(String(100))
    service: Mapped[str | None] = mapped_column(String(100))
    scenario_id: Mapped[str | None] = mapped_column(String(200))
    audit_id: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(200))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    removed_by: Mapped[str | None] = mapped_column(String(200))
    removed_reason: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (
        Index(None, "area_code", "event_date"),
        Index(None, "kind"),
        Index(None, "indicator_id"),
        Index(None, "scenario_id"),
        Index(None, "audit_id"),
    )


class NoteVersionRow(Base):
    """One version of a note, never changed once written (``change``: created, edited,
    removed)."""

    __tablename__ = "note_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    note_id: Mapped[int] = mapped_column(ForeignKey("notes.id"))
    version: Mapped[int] = mapped_column(Integer)
    change: Mapped[str] = mapped_column(String(16))
    area_code: Mapped[str] = mapped_column(String(12))
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(300))
    event_date: Mapped[date] = mapped_column(Date)
    tags: Mapped[str] = mapped_column(String(1000), default="")
    link: Mapped[str | None] = mapped_column(String(2000))
    indicator_id: Mapped[str | None] = mapped_column(String(100))
    service: Mapped[str | None] = mapped_column(String(100))
    scenario_id: Mapped[str | None] = mapped_column(String(200))
    audit_id: Mapped[str | None] = mapped_column(String(200))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    changed_by: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (UniqueConstraint("note_id", "version"),)


class ReviewRow(Base):
    """A learning review of a note: due on ``due``; done when ``completed_at`` is set, with
    the outcome, what was learned and the learning-review note that records it."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    note_id: Mapped[int] = mapped_column(ForeignKey("notes.id"))
    due: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_by: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str | None] = mapped_column(Text)
    learned: Mapped[str | None] = mapped_column(Text)
    review_note_id: Mapped[int | None] = mapped_column(ForeignKey("notes.id"))

    __table_args__ = (Index(None, "due"), Index(None, "note_id"))
