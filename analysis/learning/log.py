"""The learning log: add, edit, remove, list and search notes, and schedule and record
learning reviews, on SQLite or PostgreSQL (:mod:`analysis.learning.store`).

Every write is one transaction, checked in full before it starts (nothing half-written).
An edit adds a version and a removal is a soft delete with who, when and why: the
``note_versions`` table only ever grows, so no note is lost or overwritten.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from sqlalchemy import Engine, Float, Integer, and_, column, func, select, text
from sqlalchemy.orm import Session

from analysis.learning import store
from analysis.learning.models import NoteRow, NoteVersionRow, ReviewRow
from analysis.learning.records import Note, NoteVersion, Review, Saved, utc
from analysis.learning.screening import check_personal_data
from analysis.learning.validation import (
    MAX_AUTHOR,
    MAX_REF,
    MAX_SOURCE,
    NoteInputError,
    area_and_parents,
    check_area,
    check_date,
    check_indicator,
    check_link,
    check_review_date,
    check_short,
    check_tags,
    check_text,
    normalise_kind,
    parse_date,
)

#: The text PostgreSQL searches (the migration indexes the same expression).
SEARCH_VECTOR = ("to_tsvector('english', coalesce(notes.text, '') || ' ' || "
                 "coalesce(notes.source, '') || ' ' || coalesce(notes.tags, '') || ' ' || "
                 "coalesce(notes.area_name, ''))")
EDITABLE = ("area", "kind", "text", "source", "date", "tags", "link", "indicator", "service",
            "scenario", "audit")
_VERSIONED = ("area_code", "kind", "text", "source", "event_date", "tags", "link",
              "indicator_id", "service", "scenario_id", "audit_id")


class NoteNotFoundError(LookupError):
    """No note (or review) with that id."""


def _now() -> datetime:
    return datetime.now(UTC)


@lru_cache(maxsize=256)
def _scope(code: str) -> tuple[str, ...]:
    return tuple(area_and_parents(code))


def _note(row, review_due: date | None = None) -> Note:
    return Note(
        id=row.id, uid=row.uid, area_code=row.area_code, area_level=row.area_level,
        area_name=row.area_name, kind=row.kind, text=row.text, source=row.source,
        event_date=row.event_date, author=row.author, tags=tuple(row.tags.split()),
        link=row.link, indicator_id=row.indicator_id, service=row.service,
        scenario_id=row.scenario_id, audit_id=row.audit_id, version=row.version,
        created_at=utc(row.created_at), created_by=row.created_by,
        updated_at=utc(row.updated_at), updated_by=row.updated_by,
        removed_at=utc(row.removed_at), removed_by=row.removed_by,
        removed_reason=row.removed_reason, review_due=review_due)


def _version(row: NoteVersionRow) -> NoteVersion:
    return NoteVersion(
        note_id=row.note_id, version=row.version, change=row.change, area_code=row.area_code,
        kind=row.kind, text=row.text, source=row.source, event_date=row.event_date,
        tags=tuple(row.tags.split()), link=row.link, indicator_id=row.indicator_id,
        service=row.service, scenario_id=row.scenario_id, audit_id=row.audit_id,
        changed_at=utc(row.changed_at), changed_by=row.changed_by, reason=row.reason)


def _review(row: ReviewRow, note: Note | None = None) -> Review:
    return Review(
        id=row.id, note_id=row.note_id, due=row.due, created_by=row.created_by,
        completed_at=utc(row.completed_at), completed_by=row.completed_by,
        outcome=row.outcome, learned=row.learned, review_note_id=row.review_note_id,
        note=note)


def _snapshot(row: NoteRow, change: str, when: datetime, who: str,
              reason: str | None) -> NoteVersionRow:
    return NoteVersionRow(note_id=row.id, version=row.version, change=change,
                          changed_at=when, changed_by=who, reason=reason,
                          **{name: getattr(row, name) for name in _VERSIONED})


def _fts_query(query: str) -> str:
    """An FTS5 query from free text: every word must match, as a prefix; quoted so that no
    FTS5 syntax in the text can be injected."""
    return " ".join(f'"{word}"*' for word in _words(query))


def _words(query: str) -> list[str]:
    return re.findall(r"\w+", query or "")


def _like(value: str) -> str:
    escaped = value.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class LearningLog:
    """The learning log in one database (``url``; default :func:`store.database_url`).

    ``registry`` is the indicator registry notes are checked against (default: the shipped
    one); ``today`` fixes the date for tests.
    """

    def __init__(self, url: str | None = None, *, registry=None, today: date | None = None):
        self.url = store.database_url(url)
        self.registry = registry
        self._today = today
        self._engine: Engine | None = None
        self._fts: bool | None = None

    # -- plumbing -----------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (opened, and the schema upgraded, on first use)."""
        if self._engine is None:
            self._engine = store.get_engine(self.url)
        return self._engine

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def today(self) -> date:
        """Today's date (fixed in tests)."""
        return self._today or date.today()

    def has_fts5(self) -> bool:
        """Whether this SQLite database has its FTS5 search table (else search uses LIKE)."""
        if self._fts is None:
            if self.backend != "sqlite":
                self._fts = False
            else:
                with store.read_session(self.engine) as session:
                    found = session.execute(text(
                        "SELECT 1 FROM sqlite_master WHERE name = 'notes_fts'")).first()
                self._fts = found is not None
        return self._fts

    # -- checking a note before any write -----------------------------------------------

    def _checked(self, values: dict, author: str) -> tuple[dict, list[str]]:
        """Column values of a note from user input, every check done; and name warnings."""
        kind = normalise_kind(values.get("kind"))
        area = check_area(values.get("area"))
        event_date = check_date(values.get("date"), kind, today=self.today())
        columns = {
            "area_code": area.code, "area_level": area.level, "area_name": area.name,
            "kind": kind,
            "text": check_text(values.get("text")),
            "source": check_short(values.get("source"), "source", MAX_SOURCE, required=True),
            "event_date": event_date,
            "tags": " ".join(check_tags(values.get("tags"))),
            "link": check_link(values.get("link")),
            "indicator_id": check_indicator(values.get("indicator"), self.registry),
            "service": check_short(values.get("service"), "service", 100, required=False),
            "scenario_id": check_short(values.get("scenario"), "scenario", MAX_REF,
                                       required=False),
            "audit_id": check_short(values.get("audit"), "audit id", MAX_REF, required=False),
        }
        findings = check_personal_data({
            "text": columns["text"], "source": columns["source"], "tags": columns["tags"],
            "link": columns["link"], "service": columns["service"],
            "scenario": columns["scenario_id"], "audit id": columns["audit_id"]})
        check_short(author, "author", MAX_AUTHOR, required=True)
        return columns, [f.describe() for f in findings]

    # -- writing ----------------------------------------------------------------------

    def add(self, *, area: str, kind: str, text: str, source: str, author: str,
            date: date | str | None = None, tags: Iterable[str] | str = (),
            link: str | None = None, indicator: str | None = None,
            service: str | None = None, scenario: str | None = None,
            audit: str | None = None, review_date: date | str | None = None) -> Saved:
        """Check and save a new note (version 1), with its review if ``review_date`` is
        given (decisions only), in one transaction.

        Raises :class:`NoteInputError` for bad input and
        :class:`~analysis.learning.screening.PersonalDataError` for personal data; nothing
        is written then.
        """
        author = check_short(author, "author", MAX_AUTHOR, required=True)
        columns, warnings = self._checked(dict(
            area=area, kind=kind, text=text, source=source, date=date, tags=tags, link=link,
            indicator=indicator, service=service, scenario=scenario, audit=audit), author)
        due = check_review_date(review_date, columns["kind"], columns["event_date"])

        def work(session: Session) -> Note:
            when = _now()
            row = NoteRow(uid=str(uuid.uuid4()), author=author, version=1, created_at=when,
                          created_by=author, updated_at=when, updated_by=author, **columns)
            session.add(row)
            session.flush()
            session.add(_snapshot(row, "created", when, author, None))
            if due is not None:
                session.add(ReviewRow(note_id=row.id, due=due, created_at=when,
                                      created_by=author))
            return _note(row, due)

        return Saved(store.write(self.engine, work), tuple(warnings))

    def edit(self, note_id: int, *, author: str, reason: str | None = None,
             expected_version: int | None = None, **changes) -> Saved:
        """Save a new version of a note with ``changes`` (any of: area, kind, text, source,
        date, tags, link, indicator, service, scenario, audit; ``None`` leaves a field as
        it is, ``""`` clears an optional one). The earlier versions are kept.

        ``expected_version`` guards against lost updates: if someone saved a newer version
        since it was read, the edit fails instead of silently replacing theirs.
        """
        unknown = sorted(set(changes) - set(EDITABLE))
        if unknown:
            raise NoteInputError(f"Cannot change {', '.join(unknown)}; editable: "
                                 f"{', '.join(EDITABLE)}.")
        author = check_short(author, "author", MAX_AUTHOR, required=True)
        reason = check_short(reason, "reason", 500, required=False)
        check_personal_data({"reason": reason})
        current = self.get(note_id)
        if current.removed:
            raise NoteInputError(f"Note {note_id} was removed on "
                                 f"{current.removed_at:%Y-%m-%d} by {current.removed_by}; "
                                 "it cannot be edited.")
        merged = {"area": current.area_code, "kind": current.kind, "text": current.text,
                  "source": current.source, "date": current.event_date,
                  "tags": list(current.tags), "link": current.link,
                  "indicator": current.indicator_id, "service": current.service,
                  "scenario": current.scenario_id, "audit": current.audit_id}
        merged.update({k: v for k, v in changes.items() if v is not None})
        columns, warnings = self._checked(merged, author)
        before = {name: getattr(current, name) for name in columns}
        before["tags"] = " ".join(current.tags)
        # only the fields this edit changes are written: a concurrent edit of other fields
        # (saved between our read and our write) is kept, not reverted
        updates = {name: value for name, value in columns.items() if before[name] != value}
        if not updates:
            raise NoteInputError(f"Nothing to change in note {note_id}.")

        def work(session: Session) -> Note:
            row = self._locked(session, note_id)
            if row.removed_at is not None:
                raise NoteInputError(f"Note {note_id} was removed meanwhile; not edited.")
            if expected_version is not None and row.version != expected_version:
                raise NoteInputError(
                    f"Note {note_id} was changed by {row.updated_by} (version {row.version}) "
                    f"since you opened version {expected_version}: reload it and edit again.")
            when = _now()
            for key, value in updates.items():
                setattr(row, key, value)
            row.version += 1
            row.updated_at, row.updated_by = when, author
            session.add(_snapshot(row, "edited", when, author, reason))
            session.flush()
            return _note(row, self._open_due(session, row.id))

        return Saved(store.write(self.engine, work), tuple(warnings))

    def remove(self, note_id: int, *, author: str, reason: str | None = None) -> Note:
        """Soft-delete a note: it leaves lists and searches, but stays in the database with
        who removed it, when and why (a ``removed`` version is added)."""
        author = check_short(author, "author", MAX_AUTHOR, required=True)
        reason = check_short(reason, "reason", 500, required=False)
        check_personal_data({"reason": reason})

        def work(session: Session) -> Note:
            row = self._locked(session, note_id)
            if row.removed_at is not None:
                raise NoteInputError(f"Note {note_id} was already removed on "
                                     f"{utc(row.removed_at):%Y-%m-%d} by {row.removed_by}.")
            when = _now()
            row.version += 1
            row.removed_at, row.removed_by, row.removed_reason = when, author, reason
            row.updated_at, row.updated_by = when, author
            session.add(_snapshot(row, "removed", when, author, reason))
            session.flush()
            return _note(row)

        return store.write(self.engine, work)

    def _locked(self, session: Session, note_id: int) -> NoteRow:
        row = session.execute(select(NoteRow).where(NoteRow.id == int(note_id))
                              .with_for_update()).scalar_one_or_none()
        if row is None:
            raise NoteNotFoundError(f"No note {note_id}.")
        return row

    # -- reviews ------------------------------------------------------------------------

    def schedule_review(self, note_id: int, due: date | str, *, author: str) -> Review:
        """Give a decision a (new) review date; an open review is moved to that date."""
        author = check_short(author, "author", MAX_AUTHOR, required=True)
        note = self.get(note_id)
        if note.removed:
            raise NoteInputError(f"Note {note_id} was removed; it gets no review.")
        due_date = check_review_date(due, note.kind, note.event_date)
        if due_date is None:
            raise NoteInputError("No review date given.")

        def work(session: Session) -> Review:
            self._locked(session, note_id)
            row = self._open_review(session, note_id)
            if row is None:
                row = ReviewRow(note_id=note_id, due=due_date, created_at=_now(),
                                created_by=author)
                session.add(row)
            else:
                row.due = due_date
            session.flush()
            return _review(row, note)

        return store.write(self.engine, work)

    def record_review(self, note_id: int, *, outcome: str, learned: str, author: str,
                      date: date | str | None = None) -> tuple[Review, Saved]:
        """Record what happened after a decision and what was learned: closes its open
        review (or records an unscheduled one) and adds a learning-review note on the same
        area and links, in one transaction."""
        author = check_short(author, "author", MAX_AUTHOR, required=True)
        note = self.get(note_id)
        if note.removed:
            raise NoteInputError(f"Note {note_id} was removed; it cannot be reviewed.")
        outcome = check_text(outcome, "outcome")
        learned = check_text(learned, "learning")
        body = f"Outcome: {outcome}\n\nWhat we learned: {learned}"
        columns, warnings = self._checked(dict(
            area=note.area_code, kind="learning_review", text=body,
            source=f"Learning review of note {note.id}", date=date, tags=list(note.tags),
            link=note.link, indicator=note.indicator_id, service=note.service,
            scenario=note.scenario_id, audit=note.audit_id), author)

        def work(session: Session) -> tuple[Review, Note]:
            self._locked(session, note_id)
            when = _now()
            row = NoteRow(uid=str(uuid.uuid4()), author=author, version=1, created_at=when,
                          created_by=author, updated_at=when, updated_by=author, **columns)
            session.add(row)
            session.flush()
            session.add(_snapshot(row, "created", when, author, None))
            review = self._open_review(session, note_id)
            if review is None:
                review = ReviewRow(note_id=note_id, due=columns["event_date"],
                                   created_at=when, created_by=author)
                session.add(review)
            review.completed_at, review.completed_by = when, author
            review.outcome, review.learned, review.review_note_id = outcome, learned, row.id
            session.flush()
            return _review(review, note), _note(row)

        review, written = store.write(self.engine, work)
        return review, Saved(written, tuple(warnings))

    def reviews_due(self, *, on: date | str | None = None, within_days: int = 0,
                    area: str | None = None, include_parents: bool = True) -> list[Review]:
        """Open reviews due on or before ``on`` (default today) + ``within_days``, oldest
        first, each with its note; removed notes are left out."""
        day = parse_date(on, "date") if on else self.today()
        limit = day + timedelta(days=int(within_days))
        query = (select(ReviewRow, NoteRow).join(NoteRow, NoteRow.id == ReviewRow.note_id)
                 .where(ReviewRow.completed_at.is_(None), ReviewRow.due <= limit,
                        NoteRow.removed_at.is_(None))
                 .order_by(ReviewRow.due, ReviewRow.id))
        if area:
            query = query.where(NoteRow.area_code.in_(self._area_codes(area, include_parents)))
        with store.read_session(self.engine) as session:
            return [_review(r, _note(n, r.due)) for r, n in session.execute(query)]

    def reviews(self, note_id: int) -> list[Review]:
        """Every review of a note, open and done, in the order they were scheduled."""
        with store.read_session(self.engine) as session:
            rows = session.execute(select(ReviewRow).where(ReviewRow.note_id == note_id)
                                   .order_by(ReviewRow.id)).scalars().all()
            return [_review(r) for r in rows]

    @staticmethod
    def _open_review(session: Session, note_id: int) -> ReviewRow | None:
        return session.execute(select(ReviewRow).where(
            ReviewRow.note_id == note_id, ReviewRow.completed_at.is_(None))
            .order_by(ReviewRow.id.desc())).scalars().first()

    def _open_due(self, session: Session, note_id: int) -> date | None:
        row = self._open_review(session, note_id)
        return row.due if row else None

    # -- reading ------------------------------------------------------------------------

    def get(self, note_id: int) -> Note:
        """A note by id (removed ones too: check ``note.removed``)."""
        with store.read_session(self.engine) as session:
            row = session.get(NoteRow, int(note_id))
            if row is None:
                raise NoteNotFoundError(f"No note {note_id}.")
            return _note(row, self._open_due(session, row.id))

    def history(self, note_id: int) -> list[NoteVersion]:
        """Every version of a note, oldest first."""
        with store.read_session(self.engine) as session:
            rows = session.execute(select(NoteVersionRow).where(
                NoteVersionRow.note_id == int(note_id)).order_by(NoteVersionRow.version)
            ).scalars().all()
        if not rows:
            raise NoteNotFoundError(f"No note {note_id}.")
        return [_version(r) for r in rows]

    def _area_codes(self, area: str, include_parents: bool) -> tuple[str, ...]:
        code = check_area(area).code
        return _scope(code) if include_parents else (code,)

    def _filtered(self, query, *, area, include_parents, kind, since, until, tag, indicator,
                  service, scenario, audit, include_removed, areas=None):
        if area:
            query = query.where(NoteRow.area_code.in_(self._area_codes(area, include_parents)))
        if areas is not None:
            query = query.where(NoteRow.area_code.in_([str(code) for code in areas]))
        if kind:
            kinds = [kind] if isinstance(kind, str) else list(kind)
            query = query.where(NoteRow.kind.in_([normalise_kind(k) for k in kinds]))
        if since:
            query = query.where(NoteRow.event_date >= parse_date(since, "start date"))
        if until:
            query = query.where(NoteRow.event_date <= parse_date(until, "end date"))
        if tag:
            for one in check_tags(tag):
                query = query.where(
                    (" " + NoteRow.tags + " ").like(_like(f" {one} "), escape="\\"))
        for linked, value in ((NoteRow.indicator_id, indicator), (NoteRow.service, service),
                              (NoteRow.scenario_id, scenario), (NoteRow.audit_id, audit)):
            if value:
                query = query.where(linked == str(value).strip())
        if not include_removed:
            query = query.where(NoteRow.removed_at.is_(None))
        return query

    def list(self, area: str | None = None, *, include_parents: bool = True,
             kind: str | Iterable[str] | None = None, since: date | str | None = None,
             until: date | str | None = None, tag: str | None = None,
             indicator: str | None = None, service: str | None = None,
             scenario: str | None = None, audit: str | None = None,
             include_removed: bool = False, limit: int | None = None,
             areas: Iterable[str] | None = None) -> list[Note]:
        """Notes, newest first: for ``area`` and (``include_parents``) every area it lies in,
        or attached to any of the codes in ``areas`` (exactly those, in one query), filtered
        by kind, date range, tag and linked indicator, service, scenario or audit.
        """
        due = (select(ReviewRow.note_id, func.min(ReviewRow.due).label("due"))
               .where(ReviewRow.completed_at.is_(None)).group_by(ReviewRow.note_id)
               .subquery())
        # plain rows, not ORM objects: listing a thousand notes stays well under 100 ms
        query = (select(*NoteRow.__table__.c, due.c.due)
                 .outerjoin(due, due.c.note_id == NoteRow.id))
        query = self._filtered(query, area=area, include_parents=include_parents, kind=kind,
                               since=since, until=until, tag=tag, indicator=indicator,
                               service=service, scenario=scenario, audit=audit,
                               include_removed=include_removed, areas=areas)
        query = query.order_by(NoteRow.event_date.desc(), NoteRow.id.desc())
        if limit:
            query = query.limit(int(limit))
        with store.read_session(self.engine) as session:
            return [_note(row, row.due) for row in session.execute(query)]

    def search(self, query: str, *, area: str | None = None, include_parents: bool = True,
               kind: str | Iterable[str] | None = None, since: date | str | None = None,
               until: date | str | None = None, tag: str | None = None,
               indicator: str | None = None, service: str | None = None,
               scenario: str | None = None, audit: str | None = None,
               include_removed: bool = False, limit: int | None = 200) -> list[Note]:
        """Notes whose text, source, tags or area name hold every word of ``query`` (word
        prefixes match), best match first: SQLite FTS5 (porter stemming) where available,
        else LIKE; PostgreSQL ``to_tsvector``/``to_tsquery`` (English stemming)."""
        words = _words(query)
        if not words:
            raise NoteInputError("Nothing to search for: give one or more words.")
        base = select(*NoteRow.__table__.c)
        if self.backend == "postgresql":
            tsquery = " & ".join(f"{w}:*" for w in words)
            match = text(f"{SEARCH_VECTOR} @@ to_tsquery('english', :q)").bindparams(q=tsquery)
            rank = text(f"ts_rank({SEARCH_VECTOR}, to_tsquery('english', :q)) DESC"
                        ).bindparams(q=tsquery)
            base = base.where(match).order_by(rank)
        elif self.has_fts5():
            hits = (text("SELECT rowid AS id, rank FROM notes_fts WHERE notes_fts MATCH :q")
                    .bindparams(q=_fts_query(query))
                    .columns(column("id", Integer), column("rank", Float)).subquery())
            base = base.join(hits, hits.c.id == NoteRow.id).order_by(hits.c.rank)
        else:
            haystack = func.lower(NoteRow.text + " " + NoteRow.source + " " + NoteRow.tags
                                  + " " + NoteRow.area_name)
            base = base.where(and_(*[haystack.like(_like(w), escape="\\") for w in words]))
        base = self._filtered(base, area=area, include_parents=include_parents, kind=kind,
                              since=since, until=until, tag=tag, indicator=indicator,
                              service=service, scenario=scenario, audit=audit,
                              include_removed=include_removed)
        base = base.order_by(NoteRow.event_date.desc(), NoteRow.id.desc())
        if limit:
            base = base.limit(int(limit))
        with store.read_session(self.engine) as session:
            return [_note(row) for row in session.execute(base)]

    def areas_with_notes(self) -> dict[str, int]:
        """Area code → number of notes (not removed) attached to it (for a map layer)."""
        query = (select(NoteRow.area_code, func.count()).where(NoteRow.removed_at.is_(None))
                 .group_by(NoteRow.area_code))
        with store.read_session(self.engine) as session:
            return {code: int(n) for code, n in session.execute(query)}

    def count(self, *, include_removed: bool = False) -> int:
        """How many notes the log holds."""
        query = select(func.count()).select_from(NoteRow)
        if not include_removed:
            query = query.where(NoteRow.removed_at.is_(None))
        with store.read_session(self.engine) as session:
            return int(session.execute(query).scalar_one())


def open_log(url: str | None = None, **options) -> LearningLog:
    """The learning log at ``url`` (default ``$FAIRSHARE_DATABASE_URL`` or the SQLite file
    in the state folder)."""
    return LearningLog(url, **options)
