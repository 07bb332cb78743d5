"""Plain English for briefings: the rules that turn numbers into words a councillor would use
(:func:`compare_in_words`: "about a fifth less than England"; :func:`compared_with`, which
takes the direction from the shared rule :func:`analysis.numbers.compare_with_reference`;
rounded head counts and money). Figures themselves are written by :mod:`analysis.numbers`
and small counts are hidden by :mod:`analysis.disclosure`.

Missing values are stated in words (:data:`NOT_AVAILABLE`), never as NaN, None or zero.
"""

from __future__ import annotations

import math

from analysis.numbers import MISSING, compare_with_reference
from analysis.numbers import is_finite as _finite

NOT_AVAILABLE = MISSING
NO_AREAS = "—"

COUNTRY_LABEL = {"england": "England", "scotland": "Scotland"}
NEIGHBOURHOOD = {"england": ("neighbourhood", "neighbourhoods", "LSOAs, 2021"),
                 "scotland": ("neighbourhood", "neighbourhoods", "data zones, 2011")}
VERDICT_LABEL = {"inverse_care": "Inverse care", "pro_need": "Follows need",
                 "no_clear_relationship": "No clear pattern"}


# =============================================================================================
# Plain English
# =============================================================================================

_FRACTIONS: tuple[tuple[float, str], ...] = (
    (0.1, "a tenth"), (0.2, "a fifth"), (0.25, "a quarter"), (1 / 3, "a third"),
    (0.4, "two fifths"),
)
_MULTIPLES: tuple[tuple[float, str], ...] = (
    (1.5, "one and a half times"), (2.0, "twice"), (2.5, "two and a half times"),
)
_NUMBER_WORDS = {3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight",
                 9: "nine", 10: "ten"}


def _nearest_fraction(share: float) -> str:
    return min(_FRACTIONS, key=lambda item: abs(item[0] - share))[1]


def compare_in_words(value: float | None, reference: float | None,
                     reference_label: str = "the national figure") -> str:
    """How ``value`` compares with ``reference``, in words a councillor would use.

    The ratio r = value ÷ reference is described by the nearest simple fraction or multiple:

    * |r − 1| < 5%: "about the same as …"; 5–7.5%: "slightly more/less than …";
    * up to 45% more or less: "about a tenth / a fifth / a quarter / a third / two fifths
      more (less) than …";
    * 0.45 < r < 0.55: "about half …"; below that "about a third of …", "less than a tenth
      of …";
    * from 1.45: "about one and a half times …", "about twice …", "about two and a half
      times …", then whole multiples ("about three times …") up to ten, "more than ten
      times …" beyond.

    Both numbers must be positive (ratios of negative or zero values are not meaningful):
    otherwise, and for missing values, the phrase says the comparison is not available.

    >>> compare_in_words(80, 100, "England")
    'about a fifth less than England'
    """
    if not (_finite(value) and _finite(reference)):
        return f"not comparable with {reference_label} (no data)"
    value, reference = float(value), float(reference)  # type: ignore[arg-type]
    if value <= 0 or reference <= 0:
        return f"not comparable with {reference_label}"
    ratio = value / reference
    change = ratio - 1.0
    if abs(change) < 0.05:
        return f"about the same as {reference_label}"
    if abs(change) < 0.075:
        return f"slightly {'more' if change > 0 else 'less'} than {reference_label}"
    if ratio > 1:
        if change < 0.45:
            return f"about {_nearest_fraction(change)} more than {reference_label}"
        if ratio < 2.75:
            words = min(_MULTIPLES, key=lambda item: abs(item[0] - ratio))[1]
            return f"about {words} {reference_label}"
        times = round(ratio)
        if times > 10:
            return f"more than ten times {reference_label}"
        return f"about {_NUMBER_WORDS[times]} times {reference_label}"
    if ratio >= 0.55:
        return f"about {_nearest_fraction(-change)} less than {reference_label}"
    if ratio > 0.45:
        return f"about half {reference_label}"
    if ratio >= 0.075:
        return f"about {_nearest_fraction(ratio)} of {reference_label}"
    return f"less than a tenth of {reference_label}"


def compared_with(value: float | None, reference: float | None, reference_label: str, *,
                  lower: float | None = None, upper: float | None = None) -> str:
    """:func:`compare_in_words`, with its direction decided by the one shared rule
    (:func:`analysis.numbers.compare_with_reference`: the confidence interval where there is
    one, else 5%), so that a briefing and the dashboard never disagree about the same number.

    Where the rule and the ratio's words would differ, the rule wins: a significant
    difference under 5% reads "slightly more/less than …", a large one whose interval
    includes the reference reads "not clearly different from …".
    """
    words = compare_in_words(value, reference, reference_label)
    comparison = compare_with_reference(value, reference, lower=lower, upper=upper)
    if comparison.direction == "unknown" or words.startswith("not comparable"):
        return words
    same = words.startswith("about the same")
    if comparison.direction == "similar":
        return words if same else f"not clearly different from {reference_label}"
    if same:
        return (f"slightly {'more' if comparison.direction == 'higher' else 'less'} than "
                f"{reference_label}")
    return words


def _round_sig(value: float, figures: int = 2) -> float:
    if value == 0:
        return 0.0
    return round(value, figures - 1 - int(math.floor(math.log10(abs(value)))))


def people_in_words(count: float | None) -> str:
    """A head count rounded for prose: ``2_867_735`` → ``"about 2.9 million"``,
    ``329_339`` → ``"about 330,000"``, ``51_540`` → ``"about 52,000"``, ``640`` → ``"640"``."""
    if not _finite(count):
        return NOT_AVAILABLE
    number = float(count)  # type: ignore[arg-type]
    if number >= 1_000_000:
        return f"about {number / 1_000_000:.1f} million"
    if number >= 1_000:
        return f"about {_round_sig(number, 2):,.0f}"
    return f"{number:,.0f}"


def money_in_words(amount: float | None) -> str:
    """Money rounded to three significant figures for prose: ``10_230_194_595`` →
    ``"£10.2 billion"``, ``173_830_628`` → ``"£174 million"``, ``5_412_345`` →
    ``"£5.41 million"``, ``776_400`` → ``"£776,000"``."""
    if not _finite(amount):
        return NOT_AVAILABLE
    number = float(amount)  # type: ignore[arg-type]
    sign = "\u2212" if number < 0 else ""
    number = abs(number)
    if number >= 1e9:
        return f"{sign}£{number / 1e9:.3g} billion"
    if number >= 1e6:
        return f"{sign}£{number / 1e6:.3g} million"
    if number >= 1e4:
        return f"{sign}£{_round_sig(number, 3):,.0f}"
    return f"{sign}£{number:,.0f}"
