"""The result type shared by the inequality measures, and how they word their readings.

The measures live in :mod:`analysis.stats.sii` (slope and relative index of inequality),
:mod:`analysis.stats.concentration` (concentration index and curve),
:mod:`analysis.stats.distribution` (Gini, Theil T, mean log deviation) and
:mod:`analysis.stats.gaps` (quantile gaps, population attributable risk, index of disparity).
They are plain, vectorised functions over numpy arrays (pandas Series work too). Every measure
documents its formula, reference and reading in its docstring; ``docs/methods.md`` has the long
form.

Conventions shared by every inequality measure:

* **Grouped data run from most to least deprived.** Where a function takes one value per
  deprivation group (quintile, decile...), position 0 is the most deprived group and the last
  position the least deprived, exactly as in OHID's ``phe_sii``.
* **Quantile labels:** where a function takes area values with a deprivation quantile per area,
  label 1 is the most deprived quantile and the largest label the least deprived (the IMD
  convention).
* **Continuous rankings:** ``rank_by`` is a deprivation *score*: higher means more deprived (IMD
  score). To rank by IMD rank or decile (1 = most deprived) pass its negative.
* Bad input raises ``ValueError`` naming the argument and the 0-based position of the first
  offending entry; no function returns NaN for bad input.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from scipy.stats import norm

__all__ = ["InequalityMeasure"]

_EMPTY_DETAILS: Mapping[str, float] = MappingProxyType({})


@dataclass(frozen=True)
class InequalityMeasure:
    """One summary measure of inequality, ready for a table or a briefing.

    ``lower``/``upper`` are confidence limits at ``confidence`` when the measure has them, else
    ``None``. ``details`` holds supporting numbers (for example the absolute and percentage forms
    of the population attributable risk).
    """

    name: str
    value: float
    lower: float | None
    upper: float | None
    reading: str
    confidence: float | None = None
    details: Mapping[str, float] = field(default_factory=lambda: _EMPTY_DETAILS)


def _z(confidence: float) -> float:
    return float(norm.ppf(0.5 + confidence / 2.0))


# ---------------------------------------------------------------------------------------------
# Wording helpers
# ---------------------------------------------------------------------------------------------


def _fmt(number: float) -> str:
    """A number rounded for prose: about three significant figures, no scientific notation,
    a true minus sign (U+2212) and never "−0"."""
    if not math.isfinite(number):
        return str(number)
    text = _fmt_magnitude(abs(number))
    return f"\u2212{text}" if number < 0 and text.strip("0.,") else text


def _fmt_magnitude(number: float) -> str:
    magnitude = abs(number)
    if magnitude >= 1000:
        return f"{number:,.0f}"
    if magnitude >= 100:
        return f"{number:.0f}"
    if magnitude >= 10:
        return f"{number:.1f}"
    if magnitude >= 1:
        return f"{number:.2f}"
    if magnitude == 0:
        return "0"
    return f"{number:.2g}"


def _interval(lower: float, upper: float, confidence: float) -> str:
    return f"{confidence * 100:g}% CI {_fmt(lower)} to {_fmt(upper)}"


_POINT_UNITS = ("score", "ratio", "index", "rank", "standardised", "proportion", "decile")


def gap_unit(unit: str | None) -> str:
    """How a difference between two values of ``unit`` is named in a sentence.

    A difference of percentages is in *percentage points*; of scores, standardised ratios
    and indices in *points*; anything else keeps its unit ("FTE GPs per 100,000 patients").
    (GSS guidance, "Writing about statistics": say percentage points for differences of
    percentages.)
    """
    text = (unit or "").strip()
    lowered = text.lower()
    if not text:
        return ""
    if lowered.startswith("%") or lowered.startswith("percent"):
        return "percentage points"
    if any(word in lowered for word in _POINT_UNITS):
        return "points"
    return text


def quantity_text(value: float, unit: str | None, decimals: int | None = None) -> str:
    """``value`` (a magnitude) with its unit for prose, e.g. ``148 points``, ``12.7 FTE GPs
    per 100,000 patients``; three significant figures unless ``decimals`` is given."""
    from analysis.numbers import format_number

    number = _fmt(value) if decimals is None else format_number(value, decimals)
    name = gap_unit(unit)
    return f"{number} {name}".strip()
