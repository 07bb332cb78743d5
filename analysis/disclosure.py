"""Small-number suppression (statistical disclosure control) for every output: tables,
exports, map tooltips and sentences.

Counts of people from 1 to ``threshold`` − 1 are hidden (primary suppression); where a total
is published, one more count is hidden so the small one cannot be worked out from it
(secondary suppression). Zero is shown: it discloses nothing about a person. Counts of
practices, areas or sites are not personal data and are never suppressed.

The default threshold of 5 follows NHS England's and ONS's usual practice for published
health statistics (NHS Digital, "Disclosure control" guidance; ONS, "Statistical disclosure
control for tables"); :data:`SUPPRESSED` is the GSS symbol ``[c]`` for confidential.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from analysis.numbers import format_number
from analysis.numbers import is_finite as _finite

#: How a suppressed cell is shown (the Office for National Statistics' symbol for
#: "confidential"); the footnote explains it in words.
SUPPRESSED = "[c]"
DEFAULT_THRESHOLD = 5
NOT_AVAILABLE = "not available"
NO_VALUE = "—"


def suppression_mask(counts: Sequence[float | int | None], threshold: int = 5, *,
                     complementary: bool = True) -> list[bool]:
    """Which counts to hide: every count from 1 to ``threshold`` − 1 (primary suppression).

    Zero is shown (it discloses nothing about a person). With ``complementary`` (the default,
    for tables whose total is published elsewhere in the briefing) a lone suppressed cell would
    be recoverable as total − the others, so the smallest other non-zero count is hidden as
    well (secondary suppression). Missing counts are neither shown nor counted.
    """
    if threshold < 1:
        return [False] * len(counts)
    values = [float(c) if _finite(c) else math.nan for c in counts]
    mask = [0 < v < threshold for v in values]
    if complementary and sum(mask) == 1:
        others = [(v, i) for i, v in enumerate(values) if not mask[i] and v > 0]
        if others:
            mask[min(others)[1]] = True
    return mask


def suppress_counts(counts: Sequence[float | int | None], threshold: int = 5, *,
                    complementary: bool = True) -> list[str]:
    """Counts as table text, with suppressed ones shown as :data:`SUPPRESSED` ("[c]")."""
    mask = suppression_mask(counts, threshold, complementary=complementary)
    return [SUPPRESSED if hidden else format_number(c, 0, missing=NO_VALUE)
            for c, hidden in zip(counts, mask, strict=True)]


def count_in_words(count: float | int | None, threshold: int = 5, *,
                   zero: str = "no") -> str:
    """A count for a sentence: ``0`` → "no", 1 to threshold − 1 → "fewer than 5", else "1,234"."""
    if not _finite(count):
        return NOT_AVAILABLE
    number = float(count)  # type: ignore[arg-type]
    if number == 0:
        return zero
    if number < threshold:
        return f"fewer than {threshold}"
    return f"{number:,.0f}"


def counts_in_words(counts: Sequence[int], threshold: int = 5) -> list[str]:
    """Several counts that add up to a published total, for one sentence, suppressed as a
    table would be: a hidden small count reads "fewer than 5"; a count hidden only so that
    the small one cannot be worked out from the total reads "most" or "some"."""
    mask = suppression_mask(counts, threshold)
    total = sum(counts)
    words = []
    for count, hidden in zip(counts, mask, strict=True):
        if not hidden:
            words.append(count_in_words(count, threshold, zero="none"))
        elif count < threshold:
            words.append(f"fewer than {threshold}")
        else:
            words.append("most" if count > total / 2 else "some")
    return words


def suppression_note(threshold: int) -> str:
    """The footnote every briefing with a suppressed cell carries."""
    return (f"{SUPPRESSED} marks a count from 1 to {threshold - 1} that is hidden to protect "
            f"privacy (small-number suppression, threshold {threshold}). Where only one count "
            "in a column was hidden, one more is hidden too, so that it cannot be worked out "
            "from the total. Zero is shown.")
