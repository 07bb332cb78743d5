"""Numbers as people read them: one set of rules for every page, briefing, CLI line and chart.

* Negative numbers carry a true minus sign before any currency symbol (``−£15.72``, never
  ``£-15.72``), and a value that rounds to zero prints as ``0`` (never ``-0.0%``).
* Money is compact where a page has little room (``£477.8m``, ``−£1.2bn``) and exact where it
  has room (``£155.05``).
* Every quantity carries its unit: a budget of FTE GPs reads ``29,238 FTE GPs``, not
  ``£29,238``.
* A value is compared with a reference by one rule (:func:`compare_with_reference`): by its
  confidence interval where there is one, else by a stated threshold of 5%. The dashboard's
  colours and the briefing's words both come from it, so they cannot disagree.

Style follows the GSS guidance on presenting numbers (Government Analysis Function,
"Writing about statistics", 2021): thousands separators, no spurious precision, units on
every figure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

MINUS = "\u2212"
MISSING = "not available"
MONEY_UNITS = ("£", "gbp", "pounds")
SIMILAR_WITHIN = 0.05
"""Relative difference under which two values without intervals are 'similar' (5%)."""

Direction = Literal["higher", "lower", "similar", "unknown"]


def is_finite(value: object) -> bool:
    """Whether ``value`` is a finite number (not None, NaN, ±inf or text)."""
    try:
        return value is not None and math.isfinite(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def _signed_text(magnitude_text: str, negative: bool, signed: bool, prefix: str = "") -> str:
    if negative:
        return f"{MINUS}{prefix}{magnitude_text}"
    return f"{'+' if signed else ''}{prefix}{magnitude_text}"


def _is_negative_after_rounding(value: float, decimals: int) -> bool:
    return round(value, max(decimals, 0)) < 0 and round(abs(value), max(decimals, 0)) != 0


def format_number(value: float | None, decimals: int = 0, *, signed: bool = False,
                  missing: str = MISSING) -> str:
    """``12,345.6``, ``−3``, ``+4.0`` (with ``signed``); ``0`` rather than ``−0``.

    ``decimals`` is clamped to 0–6: metadata asking for more precision than that is not
    printed (a value of 1e9 decimals would exhaust memory).
    """
    if not is_finite(value):
        return missing
    number = float(value)  # type: ignore[arg-type]
    decimals = min(max(int(decimals), 0), 6)
    negative = _is_negative_after_rounding(number, decimals)
    text = f"{abs(number):,.{decimals}f}"
    if float(text.replace(",", "")) == 0:
        return f"{0:.{decimals}f}"
    return _signed_text(text, negative, signed)


def format_percent(value: float | None, decimals: int = 1, *, signed: bool = False,
                   missing: str = MISSING) -> str:
    """A percentage already in percent units: ``−9.2%``, ``+3.0%`` (``signed``), ``0.0%``."""
    text = format_number(value, decimals, signed=signed, missing=missing)
    return text if text == missing else f"{text}%"


def format_money(value: float | None, decimals: int = 2, *, compact: bool = False,
                 signed: bool = False, missing: str = MISSING) -> str:
    """Pounds: ``£155.05``, ``−£15.72``; ``compact`` gives ``£950k``, ``£477.8m``, ``£1.2bn``.

    Compact figures keep one decimal from a million up (``£32.0m``) and none in thousands.
    """
    if not is_finite(value):
        return missing
    number = float(value)  # type: ignore[arg-type]
    magnitude = abs(number)
    if compact and magnitude >= 1e9:
        text, negative = f"{magnitude / 1e9:,.1f}bn", number < 0
    elif compact and magnitude >= 1e6:
        text, negative = f"{magnitude / 1e6:,.1f}m", number < 0
    elif compact and magnitude >= 1e4:
        text, negative = f"{magnitude / 1e3:,.0f}k", number < 0
    else:
        digits = 0 if compact and magnitude >= 100 else min(max(int(decimals), 0), 6)
        text = f"{magnitude:,.{digits}f}"
        negative = _is_negative_after_rounding(number, digits)
        if float(text.replace(",", "")) == 0:
            return f"£{0:.{digits}f}"
    return _signed_text(text, negative, signed, prefix="£")


def is_money(unit: str | None) -> bool:
    """Whether a unit names pounds sterling (``£``, ``£ per resident``, ``GBP``)."""
    text = (unit or "").strip().lower()
    return text.startswith(MONEY_UNITS) or text.startswith("£")


def format_quantity(value: float | None, unit: str | None, decimals: int = 0, *,
                    compact: bool = False, signed: bool = False,
                    missing: str = MISSING) -> str:
    """A value with its unit: ``£477.8m`` for money, else ``29,238 FTE GPs``.

    A money unit with a qualifier keeps it after the figure: ``£167 per resident`` (not
    ``167 £ per resident``).
    """
    if not is_finite(value):
        return missing
    unit = (unit or "").strip()
    if is_money(unit):
        rest = unit.lstrip("£").strip()
        for word in ("gbp", "pounds"):
            if rest.lower().startswith(word):
                rest = rest[len(word):].strip()
        money = format_money(value, decimals, compact=compact, signed=signed)
        return f"{money} {rest}".strip()
    number = format_number(value, decimals, signed=signed)
    if not unit:
        return number
    return f"{number}{unit}" if unit == "%" else f"{number} {unit}"


def sentence_case(text: str) -> str:
    """Capitalise the first letter only (``str.capitalize`` would lower "England", "CI")."""
    return text[:1].upper() + text[1:]


def money_axis(values_abs_max: float) -> tuple[float, str]:
    """Divisor and label suffix for a chart axis of pounds: (1e6, "£m") for millions.

    Charts divide their values by the divisor and title the axis with the suffix, so axes
    read ``−34`` (£m) instead of ``−34,000,000``.
    """
    magnitude = abs(float(values_abs_max)) if is_finite(values_abs_max) else 0.0
    if magnitude >= 1e9:
        return 1e9, "£bn"
    if magnitude >= 1e6:
        return 1e6, "£m"
    if magnitude >= 1e4:
        return 1e3, "£k"
    return 1.0, "£"


@dataclass(frozen=True)
class Comparison:
    """How a value compares with a reference, decided by :func:`compare_with_reference`."""

    direction: Direction
    rule: str
    """``"confidence interval"`` or ``"5% threshold"``: the rule that decided."""

    def better(self, polarity: str | None) -> bool | None:
        """Whether the difference is good news under an indicator's polarity (None: neither
        or unknown). ``higher_is_worse`` (the registry's spelling for travel times and
        distances) reads as ``lower_is_better``."""
        polarity = {"higher_is_worse": "lower_is_better",
                    "lower_is_worse": "higher_is_better"}.get(polarity or "", polarity)
        if self.direction in ("similar", "unknown") or polarity not in (
                "higher_is_better", "lower_is_better"):
            return None
        return (self.direction == "higher") == (polarity == "higher_is_better")


def compare_with_reference(value: float | None, reference: float | None, *,
                           lower: float | None = None, upper: float | None = None,
                           threshold: float = SIMILAR_WITHIN) -> Comparison:
    """Is ``value`` higher than, lower than or similar to ``reference``?

    With a confidence interval (``lower``, ``upper``) for ``value`` the answer is by
    significance: higher if the interval lies wholly above the reference, lower if wholly
    below, similar otherwise (the convention of OHID's Fingertips comparisons against
    England). Without one, values within ``threshold`` (relative, default 5%) of the
    reference are similar. Missing or non-finite inputs give ``"unknown"``.
    """
    if not (is_finite(value) and is_finite(reference)):
        return Comparison("unknown", "no data")
    value, reference = float(value), float(reference)  # type: ignore[arg-type]
    if is_finite(lower) and is_finite(upper):
        if float(lower) > reference:  # type: ignore[arg-type]
            return Comparison("higher", "confidence interval")
        if float(upper) < reference:  # type: ignore[arg-type]
            return Comparison("lower", "confidence interval")
        return Comparison("similar", "confidence interval")
    rule = f"{threshold:.0%} threshold"
    scale = abs(reference)
    if scale == 0:
        direction: Direction = "similar" if value == 0 else ("higher" if value > 0 else "lower")
        return Comparison(direction, rule)
    change = (value - reference) / scale
    if abs(change) < threshold:
        return Comparison("similar", rule)
    return Comparison("higher" if change > 0 else "lower", rule)


def difference_in_words(difference: float | None, unit: str | None = None, decimals: int = 0,
                        *, lower: float | None = None, upper: float | None = None,
                        here: str = "at the most deprived end",
                        there: str = "than at the least deprived end",
                        words: tuple[str, str] = ("higher", "lower")) -> str:
    """A signed gap as words with its direction: ``"148 places per 1,000 higher at the most
    deprived end than at the least deprived end (95% CI 118 to 177)"``.

    ``difference`` is ``here − there`` (e.g. most − least deprived; note that the slope index
    of inequality is least − most, so pass ``−SII``). The interval (``lower``, ``upper``) of
    the difference is written as magnitudes in the same direction when it lies on one side
    of zero, and as "from 12 lower to 30 higher" when it spans zero (then the sentence says
    the difference is not clear). A value that rounds to zero reads "about the same …".
    Signed statistics belong in a methods note; readers get this sentence (GSS guidance,
    "Writing about statistics", 2021: say which way a difference goes).
    """
    if not is_finite(difference):
        return MISSING
    value = float(difference)  # type: ignore[arg-type]
    up, down = words
    magnitude = format_quantity(abs(value), unit, decimals)
    if format_number(abs(value), decimals) == format_number(0, decimals):
        body = f"about the same {here} as {there.removeprefix('than ')}"
    else:
        body = " ".join(part for part in (magnitude, up if value > 0 else down, here, there)
                        if part)
    interval = interval_in_words(lower, upper, None, decimals, words=words)
    if not interval:
        return body
    if "from" in interval:
        return f"{body} ({interval}: not a clear difference)"
    return f"{body} ({interval})"


def interval_in_words(lower: float | None, upper: float | None, unit: str | None = None,
                      decimals: int = 0, *,
                      words: tuple[str, str] = ("higher", "lower")) -> str:
    """The 95% interval of a signed difference in magnitudes: ``"95% CI 2.5% to 15.1%"`` when
    it lies on one side of zero (the sentence around it gives the direction), ``"95% CI from
    1.3% lower to 3.3% higher"`` when it spans zero; ``""`` without finite limits (so that no
    "None" or "nan" is ever printed)."""
    if not (is_finite(lower) and is_finite(upper)):
        return ""
    low, high = sorted((float(lower), float(upper)))  # type: ignore[arg-type]
    up, down = words
    if low > 0 or high < 0:
        near, far = sorted((abs(low), abs(high)))
        return (f"95% CI {format_quantity(near, unit, decimals)} to "
                f"{format_quantity(far, unit, decimals)}")
    return (f"95% CI from {format_quantity(abs(low), unit, decimals)} {down} to "
            f"{format_quantity(abs(high), unit, decimals)} {up}")
