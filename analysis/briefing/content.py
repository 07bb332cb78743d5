"""What a briefing holds: the content model (:class:`Briefing` and its key numbers, figures,
tables, scenario part, glossary and sources), tables formatted as display text with small
counts suppressed, and the glossary of terms a briefing may use.
"""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from analysis.briefing.wording import NOT_AVAILABLE, _finite
from analysis.disclosure import SUPPRESSED, suppression_mask
from analysis.numbers import format_number

# =============================================================================================
# Content model
# =============================================================================================


@dataclass(frozen=True)
class KeyNumber:
    """One line of the key-numbers box: a label, the figure, and what it means in words."""

    label: str
    value: str
    detail: str


@dataclass(frozen=True)
class Figure:
    """A chart or map with its text alternative: PNG bytes (print and Word, rendered at
    build time) and SVG bytes (web page, rendered from ``spec`` on first use)."""

    key: str
    title: str
    alt_text: str
    reading: str
    png: bytes
    spec: Mapping[str, Any] = field(repr=False, compare=False)
    wide: bool = False

    @functools.cached_property
    def svg(self) -> bytes:
        """The chart as SVG (vl-convert), for the web page."""
        import vl_convert as vlc

        return vlc.vegalite_to_svg(dict(self.spec)).encode("utf-8")

    @property
    def png_base64(self) -> str:
        """The PNG as base64 text, for embedding in the page."""
        return base64.b64encode(self.png).decode("ascii")

    @property
    def svg_base64(self) -> str:
        """The SVG as base64 text, for embedding in the page."""
        return base64.b64encode(self.svg).decode("ascii")


@dataclass(frozen=True)
class BriefingTable:
    """A table as display text (suppression already applied) with its header and notes."""

    key: str
    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...]
    notes: tuple[str, ...] = ()
    suppressed: bool = False


@dataclass(frozen=True)
class GlossaryEntry:
    """One glossary line: a term and its meaning in plain English."""

    term: str
    meaning: str


@dataclass(frozen=True)
class SourceEntry:
    """One data source of the briefing: title, publisher, vintage and link."""

    title: str
    publisher: str
    vintage: str
    url: str

    @property
    def site(self) -> str:
        """The URL's host, as short link text ("www.gov.uk"); the link keeps the full URL."""
        match = re.match(r"https?://([^/]+)", self.url)
        return match.group(1) if match else self.url


@dataclass(frozen=True)
class ScenarioPart:
    """What an allocation scenario would do for the area and for equity overall."""

    name: str
    title: str
    paragraphs: tuple[str, ...]
    tables: tuple[BriefingTable, ...]


@dataclass(frozen=True)
class AuditPart:
    """An equity audit of a service's own records attached to the briefing."""

    title: str
    paragraphs: tuple[str, ...]
    tables: tuple[BriefingTable, ...]
    figure: Figure | None
    simulated: bool = False


@dataclass(frozen=True)
class NoteItem:
    """One learning-log note as a briefing shows it: its text exactly as written (cut at
    ``text`` with "…" when long; ``full_text`` keeps all of it for re-fitting), where it came
    from, and for decisions the review status, what happened and what was learned."""

    note_id: int
    kind_label: str
    source: str
    date_text: str
    area_name: str
    area_code: str
    text: str
    truncated: bool = False
    status: str = ""
    due_first: bool = False
    outcome: str = ""
    learned: str = ""
    full_text: str = field(default="", repr=False)
    full_outcome: str = field(default="", repr=False)
    full_learned: str = field(default="", repr=False)


@dataclass(frozen=True)
class NotesPart:
    """The learning log in a briefing: "What people and practitioners told us" (the most
    recent qualitative notes) and "Decisions under review", with how many more notes the
    log holds for the area than are shown."""

    voices: tuple[NoteItem, ...]
    voices_total: int
    decisions: tuple[NoteItem, ...]
    decisions_total: int
    caution: str
    lookup: str

    @property
    def voices_more(self) -> int:
        """Qualitative notes in the log for the area that are not shown."""
        return self.voices_total - len(self.voices)

    @property
    def decisions_more(self) -> int:
        """Decision and learning-review notes for the area that are not shown."""
        return self.decisions_total - len(self.decisions)

    @property
    def voices_more_text(self) -> str:
        """The "n more notes" line of the qualitative section ('' when all are shown)."""
        return _more_text(self.voices_more, "note from people and practitioners",
                          "notes from people and practitioners", self.lookup)

    @property
    def decisions_more_text(self) -> str:
        """The "n more" line of the decisions section ('' when all are shown)."""
        return _more_text(self.decisions_more, "decision or learning review",
                          "decisions and learning reviews", self.lookup)


def _more_text(count: int, one: str, many: str, lookup: str) -> str:
    if count <= 0:
        return ""
    return (f"{format_number(count, 0)} more {one if count == 1 else many} for this area "
            f"{'is' if count == 1 else 'are'} in the learning log. {lookup}")


@dataclass(frozen=True)
class Briefing:
    """Everything one briefing says; :func:`analysis.briefing.rendering.render` lays it out as
    PDF, HTML or DOCX.

    ``facts`` holds the underlying numbers (JSON-serialisable, ``None`` where undefined) for
    machine use and tests; everything else is display text.
    """

    area_code: str
    area_name: str
    level_label: str
    country: str
    country_label: str
    produced: date
    title: str
    headline: str
    key_numbers: tuple[KeyNumber, ...]
    meaning: tuple[str, ...]
    missing: tuple[str, ...]
    figures: tuple[Figure, ...]
    tables: tuple[BriefingTable, ...]
    scenario: ScenarioPart | None
    methods: tuple[str, ...]
    glossary: tuple[GlossaryEntry, ...]
    sources: tuple[SourceEntry, ...]
    attribution: str
    licence: str
    licence_url: str
    footnotes: tuple[str, ...]
    suppress_below: int
    facts: Mapping[str, Any] = field(default_factory=dict)
    notes: NotesPart | None = None
    audit: AuditPart | None = None

    @property
    def produced_text(self) -> str:
        """The date in words, e.g. "23 November 2025"."""
        return f"{self.produced.day} {self.produced:%B %Y}"


# =============================================================================================
# Tables with suppression
# =============================================================================================


@dataclass(frozen=True)
class _Column:
    header: str
    show: Callable[[Any], str]
    count: bool = False
    depends_on: int | None = None
    numeric: bool = True


def _make_table(key: str, title: str, columns: Sequence[_Column], rows: Sequence[Sequence[Any]],
                threshold: int, notes: Sequence[str] = ()) -> BriefingTable:
    """Format raw rows; hide small counts (and values derived from them) as [c]."""
    hidden: dict[int, list[bool]] = {}
    for index, column in enumerate(columns):
        if column.count:
            hidden[index] = suppression_mask([row[index] for row in rows], threshold)
    text_rows = []
    for r, row in enumerate(rows):
        cells = []
        for index, column in enumerate(columns):
            source = index if column.count else column.depends_on
            if source is not None and hidden.get(source, [False] * len(rows))[r]:
                cells.append(SUPPRESSED)
            else:
                cells.append(column.show(row[index]))
        text_rows.append(tuple(cells))
    suppressed = any(any(mask) for mask in hidden.values())
    all_notes = list(notes)
    if suppressed:
        all_notes.append(f"{SUPPRESSED} = a small count hidden to protect privacy (see the note "
                         "on small numbers at the end).")
    return BriefingTable(key, title, tuple(c.header for c in columns), tuple(text_rows),
                         tuple(c.numeric for c in columns), tuple(all_notes), suppressed)


def _range(lower: float, upper: float, decimals: int, prefix: str = "") -> str:
    """``"1,185–1,223"`` for positive limits, ``"−3.1 to 2.0"`` when a sign would be lost."""
    joiner = "\u2013" if lower >= 0 and upper >= 0 else " to "
    return (f"{prefix}{format_number(lower, decimals)}{joiner}"
            f"{prefix}{format_number(upper, decimals)}")


def _interval_text(value: float, lower: float, upper: float, decimals: int,
                   prefix: str = "") -> str:
    if not _finite(value):
        return NOT_AVAILABLE
    if not (_finite(lower) and _finite(upper)):
        return f"{prefix}{format_number(value, decimals)} (no interval)"
    return (f"{prefix}{format_number(value, decimals)} "
            f"({_range(lower, upper, decimals, prefix)})")


# =============================================================================================
# Glossary and sources
# =============================================================================================

_GLOSSARY: dict[str, tuple[str, str]] = {
    "neighbourhood": ("Neighbourhood", "A small statistical area of about 1,500 people in "
                      "England (a lower layer super output area, LSOA) or 500 to 1,000 people "
                      "in Scotland (a data zone)."),
    "index": ("Index of Multiple Deprivation", "The official measure of how deprived a "
              "neighbourhood is: income, jobs, education, health, crime, housing and "
              "environment (IMD 2025 England, SIMD 2020 Scotland)."),
    "decile": ("Deprivation decile", "All neighbourhoods in the country ranked from most to "
               "least deprived and split into ten equal groups. Decile 1 is the most deprived "
               "tenth."),
    "core20": ("Core20", "The most deprived 20% of neighbourhoods nationally (deciles 1 and 2). "
               "NHS England's Core20PLUS5 programme targets this group."),
    "provision": ("Provision per head", "How much of a service there is for each resident; "
                  "here fully qualified GPs within reach per 100,000 residents."),
    "access_time": ("Travel time to a GP", "The modelled journey time from a neighbourhood "
                    "to the nearest GP surgery (Scottish Government, SIMD 2020). Longer means "
                    "worse access; it says how far away a surgery is, not how many GPs or "
                    "appointments it has."),
    "inverse_care": ("Inverse care law", "Julian Tudor Hart's observation (1971) that good care "
                     "tends to be least available where it is most needed."),
    "ci": ("95% confidence interval (CI)", "The range the true value is likely to lie in, "
           "allowing for chance. Narrow means precise."),
    "p": ("p-value", "How likely a pattern this strong would be by chance alone, with no real "
          "link. Below 0.05 counts as a clear pattern."),
    "sd": ("Standard deviation of need", "A typical step up in need between neighbourhoods."),
    "sii": ("Slope index of inequality (SII)", "The gap between the most and least deprived "
            "ends of the population, estimated from all deprivation deciles at once (OHID "
            "method). The text says which end is higher; the signed value (least minus most "
            "deprived) is in the methods."),
    "cidr": ("Illness and disability ratio", "The comparative illness and disability ratio "
             "counts people receiving disability and incapacity benefits, adjusted for age and "
             "sex. England = 100; higher means more illness."),
    "cif": ("Comparative illness factor", "People receiving benefits paid for ill health or "
            "disability, adjusted for age and sex (SIMD 2020 health domain). Scotland = 100; "
            "higher means more illness."),
    "weighted": ("Weighted patients", "A practice's list size adjusted for the age, sex, "
                 "illness and rurality of its patients (Carr-Hill formula), not for "
                 "deprivation."),
    "fair_share": ("Fair share", "What an area would receive if funding followed need exactly. "
                   "Below fair share means less than need would justify."),
    "proportionate": ("Proportionate universalism", "Services for everyone, scaled up where "
                      "need is greater (Marmot Review, 2010)."),
    "concentration": ("Concentration index", "Whether funding goes more to needier (below 0) or "
                      "less needy (above 0) areas; 0 means even."),
}


def _glossary(keys: Sequence[str]) -> tuple[GlossaryEntry, ...]:
    seen = list(dict.fromkeys(k for k in keys if k in _GLOSSARY))
    return tuple(GlossaryEntry(*_GLOSSARY[k]) for k in seen)


def _unique_sources(entries: Sequence[SourceEntry]) -> tuple[SourceEntry, ...]:
    out: dict[str, SourceEntry] = {}
    for entry in entries:
        out.setdefault(entry.title, entry)
    return tuple(out.values())

