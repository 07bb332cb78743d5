"""The learning log in a briefing: "What people and practitioners told us" and "Decisions
under review".

The notes shown are those of the briefing's area, of the areas it lies in (an LSOA's ward,
local authority, sub-ICB location, ICB and region; a data zone's council area; the country
only in a country's own briefing) and of the areas inside it (a council's neighbourhoods and
wards), read through :class:`analysis.learning.LearningLog`: removed notes never appear and
an edited note shows its latest version. Text is kept exactly as written; long notes are cut
with "…" and their note number, so a reader can look them up.

The log is only read, never created: without ``$FAIRSHARE_DATABASE_URL`` the SQLite file in
the state folder is opened read-only, and only if it exists; a missing or read-only state
folder, or a log that cannot be read, leaves the briefing as it would be without notes.
The learning room (SQLAlchemy, Alembic) is imported inside the functions that read it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date
from typing import Any
from urllib.parse import quote

from analysis.briefing.content import NoteItem, NotesPart
from analysis.data import AreaRef, load_pack_table, spec_for

LOG = logging.getLogger(__name__)

#: Kinds shown under "What people and practitioners told us" (qualitative evidence).
QUALITATIVE_KINDS: tuple[str, ...] = ("community_voice", "practitioner_observation",
                                      "survey_finding", "case_study")
#: Kinds shown under "Decisions under review".
DECISION_KINDS: tuple[str, ...] = ("decision", "learning_review")

#: How much the sections show by default: (qualitative notes, decisions, characters a note's
#: text is cut at). A PDF that would run past four pages steps down this list.
FIT_STEPS: tuple[tuple[int, int, int], ...] = (
    (5, 3, 320), (5, 3, 200), (4, 2, 160), (3, 2, 120), (2, 1, 100), (1, 1, 80), (0, 0, 0))
MAX_LINES = 4

CAUTION = ("What people, practitioners and services recorded in Fairshare's learning log, "
           "shown exactly as written, most recent first. These accounts are not counted, "
           "weighted or checked against the figures in this briefing; read them beside the "
           "numbers, not instead of them.")
LOOKUP = ("Look a note up by its number on the Learning log page or with "
          "`fairshare notes show NUMBER`.")


def _day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def clip(text: str, limit: int, max_lines: int = MAX_LINES) -> tuple[str, bool]:
    """``text`` cut to about ``limit`` characters and ``max_lines`` lines at a word break,
    ending in "…", and whether it was cut. Nothing else about the text is changed."""
    lines = text.split("\n")
    cut = False
    if len(lines) > max_lines:
        text, cut = "\n".join(lines[:max_lines]).rstrip(), True
    if limit > 0 and len(text) > limit:
        head = text[:limit]
        space = max(head.rfind(" "), head.rfind("\n"))
        if space >= limit * 0.6:
            head = head[:space]
        text, cut = head.rstrip(" \n\t,;:–-"), True
    return (text + "…", True) if cut else (text, False)


# =============================================================================================
# Reading the log without creating it
# =============================================================================================


def log_urls(url: str | None = None) -> list[str]:
    """The URLs to try, in order, to read the learning log without ever creating it: for the
    SQLite file, a read-only URL (and an ``immutable`` one for a read-only folder) if the
    file exists, else none; for a team database (PostgreSQL), its URL."""
    from analysis.learning import database_url, sqlite_path

    resolved = database_url(url)
    path = sqlite_path(resolved)
    if path is None:
        from sqlalchemy.engine import make_url

        parsed = make_url(resolved)
        if parsed.get_backend_name() == "sqlite" and (parsed.database or ":memory:") in (
                ":memory:", ""):
            return []  # a fresh in-memory database holds no notes
        return [resolved]
    try:
        if not path.is_file():
            return []
    except OSError:
        return []
    uri = quote(str(path.resolve()))
    return [f"sqlite:///file:{uri}?mode=ro&uri=true",
            f"sqlite:///file:{uri}?mode=ro&immutable=1&uri=true"]


def open_learning_log(url: str | None = None) -> Any | None:
    """The learning log to read notes from, or ``None`` when there is none yet (the SQLite
    file does not exist) or it cannot be read. Never creates a file or a folder."""
    from analysis.learning import LearningLog

    for candidate in log_urls(url):
        log = LearningLog(candidate)
        try:
            log.count()
        except Exception as exc:  # noqa: BLE001 - a briefing never fails for its notes
            LOG.info("learning log at %s not readable: %s", candidate, exc)
            continue
        return log
    return None


# =============================================================================================
# Which areas, which notes
# =============================================================================================


def note_scope(ref: AreaRef) -> list[str]:
    """Codes whose notes a briefing of ``ref`` shows: the area, the areas it lies in (not
    the country, unless the briefing is of the country) and every area inside it."""
    spec = spec_for(ref.country)
    keys = [level.key for level in spec.levels]
    table = load_pack_table(ref.country)
    if ref.level not in keys:
        return [ref.code]
    own = spec.level(ref.level)
    rows = table.loc[table[own.code_column].astype(str) == ref.code]
    codes = [ref.code]
    position = keys.index(ref.level)
    for index, level in enumerate(spec.levels):
        if index == position or (level.key == "country" and ref.level != "country"):
            continue
        for code in dict.fromkeys(rows[level.code_column].astype(str)):
            if code and code != "nan" and code not in codes:
                codes.append(code)
    return codes


#: How a note's area level is named beside its area's name.
LEVEL_WORDS: dict[str, str] = {
    "lsoa21": "neighbourhood", "ward": "ward", "ltla": "council", "sicbl": "sub-ICB location",
    "icb": "ICB", "region": "region", "dz11": "data zone", "iz11": "intermediate zone",
    "council": "council area", "country": "country"}


def _area_text(note: Any, ref: AreaRef) -> str:
    if note.area_code == ref.code:
        return note.area_name
    return f"{note.area_name} ({LEVEL_WORDS.get(note.area_level, note.area_level)})"


def _voice(note: Any, ref: AreaRef, limit: int) -> NoteItem:
    text, cut = clip(note.text, limit)
    return NoteItem(note_id=note.id, kind_label=note.kind_label, source=note.source,
                    date_text=_day(note.event_date), area_name=_area_text(note, ref),
                    area_code=note.area_code, text=text, truncated=cut,
                    full_text=note.text)


def _decision(note: Any, ref: AreaRef, reviews: Sequence[Any], today: date,
              limit: int) -> tuple[tuple, NoteItem]:
    """A decision (or a learning review) as a briefing item, with its sort key: open
    reviews due or overdue first (oldest first), then those coming (soonest first), then
    the rest, newest first."""
    outcome = learned = ""
    if note.kind == "learning_review":
        status, key = f"Learning review recorded {_day(note.event_date)}", (2,)
    elif note.review_due is not None:
        due = note.review_due
        if due < today:
            status = f"Review overdue: it was due {_day(due)}"
        elif due == today:
            status = "Review due today"
        else:
            status = f"Review due {_day(due)}"
        key = (0 if due <= today else 1, due.toordinal())
    else:
        done = [r for r in reviews if r.done]
        if done:
            last = done[-1]
            status = f"Reviewed {_day(last.completed_at.date())} (review date {_day(last.due)})"
            outcome, learned = last.outcome or "", last.learned or ""
        else:
            status = "No review date set"
        key = (2,)
    if key[0] == 2:
        key = (2, -note.event_date.toordinal())
    item = NoteItem(note_id=note.id, kind_label=note.kind_label, source=note.source,
                    date_text=_day(note.event_date), area_name=_area_text(note, ref),
                    area_code=note.area_code, text="", status=status,
                    due_first=key[0] == 0, full_text=note.text, full_outcome=outcome,
                    full_learned=learned)
    return (*key, -note.id), _fitted(item, limit)


def _fitted(item: NoteItem, limit: int) -> NoteItem:
    """``item`` with its text (and outcome and learning) cut to ``limit`` characters."""
    text, cut = clip(item.full_text, limit)
    outcome, cut_outcome = clip(item.full_outcome, max(limit // 2, 60), 2)
    learned, cut_learned = clip(item.full_learned, max(limit // 2, 60), 2)
    return replace(item, text=text, outcome=outcome if item.full_outcome else "",
                   learned=learned if item.full_learned else "",
                   truncated=cut or (cut_outcome and bool(item.full_outcome))
                   or (cut_learned and bool(item.full_learned)))


def fit_notes(part: NotesPart, voices: int, decisions: int, limit: int) -> NotesPart:
    """``part`` showing at most ``voices`` qualitative notes and ``decisions`` decisions,
    each cut to ``limit`` characters (the totals, and so the "n more" lines, stay right)."""
    return replace(part, voices=tuple(_fitted(i, limit) for i in part.voices[:voices]),
                   decisions=tuple(_fitted(i, limit) for i in part.decisions[:decisions]))


def _notes_in(log: Any, codes: Iterable[str]) -> list[Any]:
    with_notes = log.areas_with_notes()
    noted = [code for code in codes if with_notes.get(code)]
    return log.list(areas=noted) if noted else []  # one query, newest first


def notes_part(ref: AreaRef, *, today: date, log: Any | None = None) -> NotesPart | None:
    """The learning-log sections of a briefing of ``ref``, or ``None`` when the log has no
    notes for it (or does not exist, or cannot be read: the briefing is then unchanged).

    ``log``: a :class:`analysis.learning.LearningLog` to read (default: the configured
    one, opened read-only, never created). ``today``: the date reviews are due against.
    """
    log = log if log is not None else open_learning_log()
    if log is None:
        return None
    try:
        notes = _notes_in(log, note_scope(ref))
        voices = [n for n in notes if n.kind in QUALITATIVE_KINDS]
        decided = [n for n in notes if n.kind in DECISION_KINDS]
        reviews = {n.id: log.reviews(n.id) for n in decided if n.kind == "decision"}
    except Exception as exc:  # noqa: BLE001 - a briefing never fails for its notes
        LOG.warning("learning log not read for the briefing of %s: %s", ref.code, exc)
        return None
    # a learning review recorded on a decision shown here is told with that decision
    folded = {r.review_note_id for rs in reviews.values() for r in rs if r.review_note_id}
    decided = [n for n in decided if n.id not in folded]
    if not voices and not decided:
        return None
    most_voices, most_decisions, limit = FIT_STEPS[0]
    ranked = sorted(_decision(n, ref, reviews.get(n.id, ()), today, limit) for n in decided)
    return NotesPart(
        voices=tuple(_voice(n, ref, limit) for n in voices[:most_voices]),
        voices_total=len(voices),
        decisions=tuple(item for _, item in ranked[:most_decisions]),
        decisions_total=len(decided), caution=CAUTION, lookup=LOOKUP)


NOTES_METHOD = ("Notes from people and practitioners, decisions and learning reviews come "
                "from Fairshare's learning log: those recorded for this area, for the areas "
                "it lies in and for the areas inside it. Removed notes are left out and "
                "edited ones show their latest version. Long notes are cut (…) and the rest "
                "can be read in the log by the note's number.")
