"""Personal-data screening: the learning log holds aggregate learning, never case records.

Before a note is saved its text (and source, tags, outcome …) is screened for:

* **NHS numbers**: ten digits, spaced (``943 476 5919``), hyphenated or not, whose tenth
  digit is the modulus-11 check digit of the first nine (NHS Digital, "NHS number" data
  dictionary: weights 10 to 2, check = 11 − (Σ mod 11), 11 → 0, 10 → not a valid number);
* **dates of birth**: a date written after "DOB", "date of birth" or "born (on)";
* **phone numbers**: UK numbers, ``07700 900123``, ``+44 (0)20 7946 0958``, ``0161 496 0000``;
* **e-mail addresses**;
* **full UK postcodes** (``SW1A 1AA``; a district alone such as ``SW1A`` is aggregate and
  allowed).

Any of these refuses the note with a message that says what was found, in which field and
where (character positions and a masked excerpt, so the message itself does not repeat the
personal data). Likely personal names (a title followed by a capitalised word: "Mrs Smith",
"Dr. Patel") are warned about, not refused: they may be an organisation ("Dr Foster").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

RULE = ("The learning log is for aggregate learning, not case records. Notes must not "
        "contain NHS numbers, dates of birth, phone numbers, e-mail addresses or full "
        "postcodes, and should not name people: describe groups, settings and events "
        "(\"parents at the Tuesday drop-in\"), and name the event or organisation as the "
        "source, not a person.")

_NHS = re.compile(r"(?<![\d\w])(\d{3})[ \-]?(\d{3})[ \-]?(\d{4})(?![\d\w])")
_DATE = (r"(?:\d{1,2}[/\-.]\d{1,2}[/\-.]\d{2,4}|\d{4}-\d{1,2}-\d{1,2}"
         r"|\d{1,2}(?:st|nd|rd|th)?\s+[A-Za-z]{3,9}\.?,?\s+\d{2,4}"
         r"|[A-Za-z]{3,9}\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{2,4})")
_DOB = re.compile(r"\b(?:d\.?\s?o\.?\s?b\.?|date\s+of\s+birth|birth\s*date|born(?:\s+on)?)"
                  r"\s*[:\-]?\s*(" + _DATE + r")", re.IGNORECASE)
_PHONE = re.compile(r"(?<![\d\w+])(?:(?:\+|00)\s?44\s?(?:\(0\)\s?)?|\(?0)"
                    r"(?:[\s\-().]*\d){9,10}(?!\d)")
_EMAIL = re.compile(r"(?<![\w.+\-])[\w.+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
_POSTCODE = re.compile(r"\b(?:GIR\s?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-HJKPSTUW\d]?\s?"
                       r"\d[ABD-HJLNP-UW-Z]{2})\b", re.IGNORECASE)
_TITLE_NAME = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Dame|Lady|Lord|Rev|Cllr)"
                         r"\.?\s+[A-Z][a-z'’\-]+(?:\s+[A-Z][a-z'’\-]+)?")
_MY_NAME = re.compile(r"\b(?:my name is|named|called)\s+[A-Z][a-z'’\-]+", re.IGNORECASE)


@dataclass(frozen=True)
class Finding:
    """Something personal in a field: what (``kind``), where (``start``–``end``, 0-based,
    end exclusive) and a masked excerpt safe to show."""

    kind: str
    field: str
    start: int
    end: int
    excerpt: str
    refuse: bool = True

    def describe(self) -> str:
        """One sentence: what was found, in which field and at which characters."""
        where = f"characters {self.start + 1}–{self.end}"
        field = "the text" if self.field == "text" else f"the {self.field}"
        if self.refuse:
            return f"{field} contains {self.kind} at {where} ({self.excerpt})"
        return f"{field} may name a person at {where} ({self.excerpt})"


class PersonalDataError(ValueError):
    """A note refused because it holds personal data; ``findings`` say what and where."""

    def __init__(self, findings: list[Finding]):
        self.findings = findings
        what = "; ".join(f.describe() for f in findings)
        super().__init__(f"Not saved: {what}. The learning log is for aggregate learning, "
                         "not case records: remove it and save again.")


def nhs_check_digit_ok(digits: str) -> bool:
    """Whether ten digits form a valid NHS number (modulus 11, NHS Digital data dictionary).

    The first nine digits are weighted 10, 9, …, 2 and summed; the check digit is
    11 − (sum mod 11), with 11 read as 0; a result of 10 means the number is not valid.
    """
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def mask(value: str) -> str:
    """``value`` with all but its first and last two letters or digits replaced by ``•``."""
    positions = [i for i, ch in enumerate(value) if ch.isalnum()]
    keep = set(positions[:2] + positions[-2:]) if len(positions) > 6 else set(positions[:1])
    return "".join(ch if (not ch.isalnum() or i in keep) else "•" for i, ch in enumerate(value))


def _phone_ok(match: str) -> bool:
    digits = re.sub(r"\D", "", match)
    if digits.startswith("0044"):
        digits = digits[4:]
    elif digits.startswith("44") and match.lstrip().startswith("+"):
        digits = digits[2:]
    digits = digits.removeprefix("0")
    return len(digits) in (9, 10) and digits[0] in "123578"


def screen_text(text: str, field: str = "text") -> list[Finding]:
    """Everything personal found in ``text`` (refusals first, then name warnings)."""
    if not text:
        return []
    found: list[Finding] = []
    taken: list[tuple[int, int]] = []

    def add(kind: str, match: re.Match, group: int = 0, refuse: bool = True) -> None:
        start, end = match.span(group)
        if any(start < e and s < end for s, e in taken):
            return
        taken.append((start, end))
        found.append(Finding(kind, field, start, end, mask(match.group(group)), refuse))

    for m in _EMAIL.finditer(text):
        add("an e-mail address", m)
    for m in _DOB.finditer(text):
        add("a date of birth", m, 1)
    for m in _NHS.finditer(text):
        if nhs_check_digit_ok("".join(m.groups())):
            add("an NHS number", m)
    for m in _PHONE.finditer(text):
        if _phone_ok(m.group(0)):
            add("a phone number", m)
    for m in _POSTCODE.finditer(text):
        add("a full postcode", m)
    for pattern in (_TITLE_NAME, _MY_NAME):
        for m in pattern.finditer(text):
            add("a name", m, refuse=False)
    return sorted(found, key=lambda f: (not f.refuse, f.start))


def screen_fields(fields: Mapping[str, str | None]) -> list[Finding]:
    """Screen several fields (name → text); see :func:`screen_text`."""
    out: list[Finding] = []
    for name, value in fields.items():
        out += screen_text(value or "", name)
    return sorted(out, key=lambda f: not f.refuse)


def check_personal_data(fields: Mapping[str, str | None]) -> list[Finding]:
    """Raise :class:`PersonalDataError` if any field holds personal data; else return the
    name warnings (possibly none)."""
    findings = screen_fields(fields)
    refusals = [f for f in findings if f.refuse]
    if refusals:
        raise PersonalDataError(refusals)
    return findings
