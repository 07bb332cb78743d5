"""Checks on what a note may hold, each failing with a message that says how to fix it.

Kinds, areas (resolved against the embedded geography, with the closest codes offered for an
unknown one) and the areas above them, indicator ids (against the registry), dates, text,
sources, tags and links.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from datetime import date
from urllib.parse import urlsplit

from analysis.data import UnknownAreaError, load_pack_table, resolve_area, spec_for

MAX_TEXT = 10_000
MAX_SOURCE = 300
MAX_AUTHOR = 200
MAX_LINK = 2_000
MAX_TAGS = 20
MAX_TAG = 40
MAX_REF = 200

KINDS: dict[str, str] = {
    "community_voice": "Community voice",
    "practitioner_observation": "Practitioner observation",
    "survey_finding": "Survey finding",
    "case_study": "Case study",
    "decision": "Decision",
    "learning_review": "Learning review",
}
#: Kinds that record something that has happened: their date cannot be in the future.
PAST_EVENT_KINDS = frozenset(KINDS) - {"decision"}
#: Kinds that may carry a learning review date.
REVIEWABLE_KINDS = frozenset({"decision"})


class NoteInputError(ValueError):
    """A note that cannot be saved as given; the message says what to change."""


def normalise_kind(kind: str | None) -> str:
    """The kind key (``community_voice`` …) from a key, a label or a hyphenated spelling."""
    raw = (kind or "").strip()
    key = re.sub(r"[\s\-]+", "_", raw.lower())
    if key in KINDS:
        return key
    by_label = {label.lower(): k for k, label in KINDS.items()}
    if raw.lower() in by_label:
        return by_label[raw.lower()]
    close = difflib.get_close_matches(key, list(KINDS), n=2, cutoff=0.5)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    raise NoteInputError(f"Unknown kind {raw!r}: use one of {', '.join(KINDS)}.{hint}")


def check_area(code: str | None):
    """The :class:`~analysis.data.AreaRef` of ``code`` (any level, any pack); an unknown
    code fails with the closest known codes."""
    if not code or not str(code).strip():
        raise NoteInputError("No area given: every note belongs to an area (a GSS code such "
                             "as E08000010 or S12000036).")
    try:
        return resolve_area(str(code))
    except UnknownAreaError as exc:
        raise NoteInputError(str(exc)) from None


def area_and_parents(code: str) -> list[str]:
    """``code`` and the codes of every area it lies in, finest first (an LSOA's ward, local
    authority, sub-ICB location, ICB, region and country). An area that straddles several
    areas of a higher level (a council in two sub-ICB locations) has all of them."""
    area = check_area(code)
    spec = spec_for(area.country)
    table = load_pack_table(area.country)
    keys = [level.key for level in spec.levels]
    own = spec.level(area.level)
    rows = table.loc[table[own.code_column] == area.code]
    codes = [area.code]
    for level in spec.levels[keys.index(area.level) + 1:]:
        for parent in dict.fromkeys(rows[level.code_column].astype(str)):
            if parent and parent not in codes:
                codes.append(parent)
    return codes


def check_indicator(indicator_id: str | None, registry=None) -> str | None:
    """``indicator_id`` if the registry has it (``None`` stays ``None``)."""
    if indicator_id is None or not str(indicator_id).strip():
        return None
    if registry is None:
        from analysis.data import default_registry

        registry = default_registry()
    known = registry.ids()
    clean = str(indicator_id).strip()
    if clean in known:
        return clean
    close = difflib.get_close_matches(clean, known, n=3, cutoff=0.5)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    raise NoteInputError(f"Unknown indicator {clean!r}.{hint} (`fairshare indicators list` "
                         "shows them all.)")


def _no_controls(value: str, what: str) -> None:
    for ch in value:
        if ch not in "\n\r\t" and unicodedata.category(ch) == "Cc":
            raise NoteInputError(f"The {what} contains a control character "
                                 f"(U+{ord(ch):04X}); remove it.")


def check_text(text: str | None, what: str = "text", limit: int = MAX_TEXT) -> str:
    """``text`` stripped; empty, over-long or control characters fail. HTML and markdown
    are kept as typed (they are shown as text everywhere)."""
    value = (text or "").strip()
    if not value:
        raise NoteInputError(f"The {what} is empty: write what was said, seen or decided.")
    if len(value) > limit:
        raise NoteInputError(f"The {what} is {len(value):,} characters long; the limit is "
                             f"{limit:,}. Shorten it or link to the full document.")
    _no_controls(value, what)
    return value


def check_short(value: str | None, what: str, limit: int, *, required: bool) -> str | None:
    """A one-line field (source, author, service, scenario or audit id)."""
    clean = " ".join((value or "").split())
    if not clean:
        if required:
            raise NoteInputError(f"The {what} is empty.")
        return None
    if len(clean) > limit:
        raise NoteInputError(f"The {what} is {len(clean):,} characters long; the limit is "
                             f"{limit:,}.")
    _no_controls(clean, what)
    return clean


def check_date(value: date | str | None, kind: str, *, today: date | None = None) -> date:
    """The note's date (default today); a past-event kind cannot be dated in the future."""
    today = today or date.today()
    if value is None or value == "":
        return today
    parsed = parse_date(value, "date")
    if kind in PAST_EVENT_KINDS and parsed > today:
        raise NoteInputError(f"The date {parsed.isoformat()} is in the future; a "
                             f"{KINDS[kind].lower()} records something that has happened.")
    if parsed.year < 1900:
        raise NoteInputError(f"The date {parsed.isoformat()} is before 1900.")
    return parsed


def parse_date(value: date | str, what: str = "date") -> date:
    """A date from a :class:`date` or ``YYYY-MM-DD`` text."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise NoteInputError(f"The {what} {value!r} is not a date: write YYYY-MM-DD.") from None


def check_review_date(value: date | str | None, kind: str, event_date: date) -> date | None:
    """A review date for a decision, on or after the decision's date."""
    if value is None or value == "":
        return None
    if kind not in REVIEWABLE_KINDS:
        raise NoteInputError(f"Only a decision gets a review date, not a "
                             f"{KINDS[kind].lower()}.")
    due = parse_date(value, "review date")
    if due < event_date:
        raise NoteInputError(f"The review date {due.isoformat()} is before the decision's "
                             f"date {event_date.isoformat()}.")
    return due


def check_link(link: str | None) -> str | None:
    """An ``http``/``https`` address with a host (anything else fails)."""
    clean = (link or "").strip()
    if not clean:
        return None
    if len(clean) > MAX_LINK or any(ch.isspace() for ch in clean):
        raise NoteInputError("The link must be one web address without spaces, at most "
                             f"{MAX_LINK:,} characters.")
    parts = urlsplit(clean)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise NoteInputError(f"The link {clean[:80]!r} is not an http:// or https:// address.")
    return clean


def check_tags(tags) -> list[str]:
    """Tags lower-cased, spaces as hyphens, duplicates dropped: letters, digits, ``-`` and
    ``_`` only, at most 20 of at most 40 characters."""
    if isinstance(tags, str):
        tags = [tags]
    out: list[str] = []
    for raw in tags or []:
        for piece in str(raw).split(","):
            tag = re.sub(r"\s+", "-", piece.strip().lower())
            if not tag:
                continue
            if len(tag) > MAX_TAG or not re.fullmatch(r"[\w\-]+", tag):
                raise NoteInputError(f"The tag {piece.strip()[:60]!r} must be letters, digits, "
                                     f"- or _, at most {MAX_TAG} characters.")
            if tag not in out:
                out.append(tag)
    if len(out) > MAX_TAGS:
        raise NoteInputError(f"{len(out)} tags given; at most {MAX_TAGS}.")
    return out
