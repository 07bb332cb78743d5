"""Crude rates, directly standardised rates (DSRs) and indirectly standardised ratios (ISRs) of
small aggregated tables, computed as OHID (formerly PHE) computes them for Fingertips.

Every function takes a *long* DataFrame (one row per group x age band, e.g. deprivation quintile
x age band) and the names of its group columns, and returns one row per group, sorted by group.
Rows repeating the same group and age band are summed first, so a table by sex standardises for
persons when ``sex`` is left out of ``by``. Errors are :class:`ValueError` naming the column, the
row, the group and the age band at fault.

Methods reproduced (each docstring repeats its references):

* Crude rates and their limits as PHEindicatormethods ``phe_rate``: exact (chi-squared) Poisson
  limits below 10 events, Byar's approximation from 10 (OHID Fingertips technical guidance,
  "Rates"; Breslow & Day 1987; Armitage & Berry 2002).
* DSRs as ``phe_dsr``/``calculate_dsr``: the standard-weighted mean of age-specific rates, with
  Dobson et al. (1991) limits built on Byar's limits of the total count, and not published below
  10 events (Morris et al. 2018; OHID "Directly standardised rates").
* ISRs as ``calculate_ISRatio``: observed over expected events, expected from reference
  age-specific rates, with the ``phe_rate`` rule for the limits of the observed count and no
  minimum count (OHID "Indirectly standardised ratios").
* The 2013 European Standard Population (ESP2013): Eurostat (2013), *Revision of the European
  Standard Population: report of Eurostat's task force*, Luxembourg, doi:10.2785/11470.

The Poisson limits come from :mod:`analysis.stats.funnel`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from analysis.stats.checks import FloatArray, _confidence_level
from analysis.stats.funnel import (
    PoissonMethod,
    byars_ci,
    exact_poisson_ci,
    rate_ci,
    ratio_ci,
)

__all__ = [
    "AGE_BANDS",
    "CRUDE_RATE_COLUMNS",
    "DSR_COLUMNS",
    "ESP2013",
    "ISR_COLUMNS",
    "OHID_DSR_MIN_EVENTS",
    "DobsonMethod",
    "crude_rates",
    "directly_standardised_rates",
    "indirectly_standardised_ratios",
    "reference_rates",
    "standard_population",
]

DobsonMethod = Literal["byars", "exact"]
Groups = str | Sequence[str]

#: The 19 age bands of ESP2013 as OHID uses it: five-year bands to 85-89, then 90+.
AGE_BANDS: tuple[str, ...] = (*(f"{low}-{low + 4}" for low in range(0, 90, 5)), "90+")

#: European Standard Population 2013 on :data:`AGE_BANDS` (Eurostat 2013); sums to 100,000.
ESP2013: pd.Series = pd.Series(
    [5000, 5500, 5500, 5500, 6000, 6000, 6500, 7000, 7000, 7000,
     7000, 6500, 6000, 5500, 5000, 4000, 2500, 1500, 1000],
    index=pd.Index(AGE_BANDS, name="age_band"),
    name="esp2013",
    dtype="float64",
)

#: OHID does not publish a DSR from fewer events than this (Fingertips technical guidance).
OHID_DSR_MIN_EVENTS = 10

CRUDE_RATE_COLUMNS: tuple[str, ...] = ("events", "population", "rate", "lower", "upper")
DSR_COLUMNS: tuple[str, ...] = (
    "events", "population", "dsr", "lower", "upper", "published", "note")
ISR_COLUMNS: tuple[str, ...] = ("observed", "expected", "ratio", "lower", "upper")

# Eurostat publishes ESP2013 with under-1 and 1-4 apart and 90-94, 95+ apart; every coarser set
# of bands (OHID's 19, Scotland's 85+, ONS's <1 and 1-4) is a union of these.
_FINE_EDGES = np.array([0.0, 1.0, *range(5, 100, 5), np.inf])
_FINE_WEIGHTS = np.array(
    [1000, 4000, 5500, 5500, 5500, 6000, 6000, 6500, 7000, 7000, 7000,
     7000, 6500, 6000, 5500, 5000, 4000, 2500, 1500, 800, 200], dtype=np.float64)
_EDGE_TEXT = "0, 1, 5, 10, ..., 85, 90, 95"

_RANGE = re.compile(r"^(\d+)\s*(?:-|–|to)\s*(\d+)$")
_OPEN = re.compile(r"^(\d+)\s*(?:\+|plus|and over|and older)$")
_UNDER_ONE = re.compile(r"^(?:<\s*1|under\s*1)$")
_SINGLE = re.compile(r"^(\d+)$")

# Column name for the single group when no ``by`` is given; never shown.
_ALL = "__all_rows__"


# ---------------------------------------------------------------------------------------------
# The standard population
# ---------------------------------------------------------------------------------------------


def _band_interval(label: Any) -> tuple[float, float]:
    """``[low, high)`` in years for labels such as ``"0-4"``, ``"85+"``, ``"<1"`` or ``"0"``."""
    text = str(label).strip().lower()
    if match := _RANGE.match(text):
        low, high = float(match.group(1)), float(match.group(2)) + 1.0
        if high <= low:
            raise ValueError(f"age band {_shown(label)} ends before it starts")
        return low, high
    if match := _OPEN.match(text):
        return float(match.group(1)), np.inf
    if _UNDER_ONE.match(text):
        return 0.0, 1.0
    if match := _SINGLE.match(text):
        return float(match.group(1)), float(match.group(1)) + 1.0
    raise ValueError(
        f"age band {_shown(label)} is not a band this module can read: write bands as '0-4', "
        "'85+', '<1' or '0'")


def standard_population(bands: Sequence[str]) -> pd.Series:
    """The 2013 European Standard Population collapsed onto ``bands``, indexed by them.

    Each band's weight is the sum of the ESP2013 weights of the ages it covers, e.g. Scotland's
    ``"85+"`` = 85-89 + 90+ = 2,500 and ONS's ``"<1"`` = 1,000 and ``"1-4"`` = 4,000. The bands
    must start and end on ESP2013 boundaries (0, 1, 5, 10, ..., 90, 95) and must not overlap; they
    need not cover every age (an under-75 rate uses the bands up to 70-74 only, as OHID does).
    Labels are ``"0-4"``, ``"85+"``, ``"<1"`` or a single age ``"0"``.

    Reference: Eurostat (2013) *Revision of the European Standard Population: report of
    Eurostat's task force*, doi:10.2785/11470 (ESP2013 by five-year band, with under 1, 1-4, 90-94
    and 95+).
    """
    labels = list(bands)
    if not labels:
        raise ValueError("no age bands given: standard_population needs at least one band")
    seen: set[str] = set()
    for label in labels:
        if label in seen:
            raise ValueError(f"age band {_shown(label)} is given twice")
        seen.add(label)
    intervals = [_band_interval(label) for label in labels]
    for label, (low, high) in zip(labels, intervals, strict=True):
        if low not in _FINE_EDGES or high not in _FINE_EDGES:
            raise ValueError(
                f"age band {_shown(label)} does not line up with the ESP2013 bands, whose "
                f"boundaries are at ages {_EDGE_TEXT} (the last band is open)")
    order = np.argsort([low for low, _ in intervals])
    for first, second in zip(order[:-1], order[1:], strict=True):
        if intervals[second][0] < intervals[first][1]:
            raise ValueError(
                f"age bands {_shown(labels[first])} and {_shown(labels[second])} overlap")
    fine_low, fine_high = _FINE_EDGES[:-1], _FINE_EDGES[1:]
    weights = [float(_FINE_WEIGHTS[(fine_low >= low) & (fine_high <= high)].sum())
               for low, high in intervals]
    return pd.Series(weights, index=pd.Index(labels, name="age_band"),
                     name="standard_population", dtype="float64")


def _default_standard(table: pd.DataFrame, keys: list[str], age: str) -> pd.Series:
    """ESP2013 on the bands of the table; a band it cannot build is named with its first row."""
    labels = list(pd.unique(table[age]))
    for label in labels:
        try:
            standard_population([label])
        except ValueError as exc:
            position = int(np.flatnonzero((table[age] == label).to_numpy())[0])
            raise ValueError(f"{_row_text(table, position, keys, age)}: {exc}") from None
    return standard_population(labels)


def _standard_weights(standard: pd.Series | Mapping[str, float] | None,
                      table: pd.DataFrame, keys: list[str], age: str) -> pd.Series:
    if standard is None:
        return _default_standard(table, keys, age)
    weights = pd.Series(standard, dtype="object") if isinstance(standard, Mapping) else standard
    if not isinstance(weights, pd.Series):
        raise ValueError("standard must be a pandas Series (age band -> standard population)")
    if weights.empty:
        raise ValueError("standard is empty: it needs one weight per age band")
    if weights.index.has_duplicates:
        band = weights.index[weights.index.duplicated()][0]
        raise ValueError(f"standard lists age band {_shown(band)} more than once")
    values = pd.to_numeric(weights, errors="coerce").to_numpy(dtype=np.float64)
    for position, value in enumerate(values):
        band = weights.index[position]
        if not np.isfinite(value):
            raise ValueError(f"standard population of age band {_shown(band)} is "
                             f"{_shown(weights.iloc[position])}: weights must be finite "
                             "numbers")
        if value < 0:
            raise ValueError(f"standard population of age band {_shown(band)} is {value:g}: "
                             "weights must be zero or more")
    if values.sum() <= 0:
        raise ValueError("the standard population sums to 0: at least one weight must be positive")
    return pd.Series(values, index=weights.index, name="standard_population")


# ---------------------------------------------------------------------------------------------
# Input checks: every message names the column, the row, the group and the age band
# ---------------------------------------------------------------------------------------------


def _shown(value: Any) -> str:
    """A label or value as a person would write it: strings quoted, numbers plain."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return f"{value:g}"
    return repr(value)


def _keys(by: Groups) -> list[str]:
    keys = [by] if isinstance(by, str) else list(by)
    for key in keys:
        if not isinstance(key, str):
            raise ValueError(f"by must name columns, got {key!r}")
    if len(set(keys)) != len(keys):
        raise ValueError(f"by names a column twice: {keys}")
    return keys


def _group_text(keys: Sequence[str], values: Any) -> str:
    values = values if isinstance(values, tuple) else (values,)
    pairs = [(key, value) for key, value in zip(keys, values, strict=False) if key != _ALL]
    if not pairs:
        return "the whole table"
    return "group " + ", ".join(f"{key}={_shown(value)}" for key, value in pairs)


def _row_text(table: pd.DataFrame, position: int, keys: Sequence[str], age: str | None) -> str:
    row = table.iloc[position]
    parts = [_group_text(keys, tuple(row[key] for key in keys))] if keys else []
    if age is not None:
        parts.append(f"age band {_shown(row[age])}")
    return f"row {position}" + (f" ({', '.join(parts)})" if parts else "")


def _prepare(frame: pd.DataFrame, keys: list[str], age: str | None, counts: Sequence[str],
             ) -> pd.DataFrame:
    """The needed columns of ``frame``, counts as floats, checked; positions are row numbers."""
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    labels = [*keys, *([age] if age is not None else [])]
    needed = [*labels, *counts]
    if len(set(needed)) != len(needed):
        raise ValueError(f"the same column is used twice among groups, age band and counts: "
                         f"{needed}")
    missing = [column for column in needed if column not in frame.columns]
    if missing:
        raise ValueError(f"column(s) {missing} not in the table; its columns are "
                         f"{list(frame.columns)}")
    if frame.empty:
        raise ValueError("the table has no rows")
    table = frame[needed].reset_index(drop=True)
    for column in labels:
        absent = table[column].isna().to_numpy()
        if absent.any():
            position = int(np.flatnonzero(absent)[0])
            raise ValueError(f"{column} is missing at {_row_text(table, position, keys, None)}"
                             f": every row needs a {column}")
    for column in counts:
        values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=np.float64,
                                                                        na_value=np.nan)
        bad = ~np.isfinite(values)
        if bad.any():
            position = int(np.flatnonzero(bad)[0])
            shown = table[column].iloc[position]
            what = "missing (NaN)" if pd.isna(shown) else _shown(shown)
            raise ValueError(f"{column} is {what} at {_row_text(table, position, keys, age)}: "
                             "counts must be finite numbers")
        negative = values < 0
        if negative.any():
            position = int(np.flatnonzero(negative)[0])
            raise ValueError(f"{column} is {values[position]:g} at "
                             f"{_row_text(table, position, keys, age)}: counts must be zero "
                             "or more")
        table[column] = values
    return table


def _check_multiplier(multiplier: float) -> float:
    if isinstance(multiplier, bool) or not isinstance(multiplier, int | float) or not (
            np.isfinite(multiplier) and multiplier > 0):
        raise ValueError(f"multiplier is {multiplier!r}: it must be a positive number")
    return float(multiplier)


def _check_method(method: str, allowed: tuple[str, ...]) -> None:
    if method not in allowed:
        raise ValueError(f"method is {method!r}: use " + " or ".join(repr(m) for m in allowed))


def _cells(table: pd.DataFrame, keys: list[str], age: str, events: str,
           population: str) -> pd.DataFrame:
    """One row per group x age band with summed counts; events without people are refused."""
    cells = (table.groupby([*keys, age], sort=True, observed=True)[[events, population]]
             .sum().reset_index())
    stranded = ((cells[population] == 0) & (cells[events] > 0)).to_numpy()
    if stranded.any():
        position = int(np.flatnonzero(stranded)[0])
        row = cells.iloc[position]
        group = _group_text(keys, tuple(row[key] for key in keys))
        raise ValueError(
            f"{group}, age band {_shown(row[age])}: {row[events]:g} events but a population of 0; "
            "a band may have a population of 0 only if it has no events")
    return cells


def _grouped(table: pd.DataFrame, keys: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """``table`` with a constant group column when there are no ``keys``, and the keys to use."""
    if keys:
        return table, keys
    return table.assign(**{_ALL: 0}), [_ALL]


def _result(sums: pd.DataFrame, columns: dict[str, Any]) -> pd.DataFrame:
    out = pd.DataFrame(columns, index=sums.index).reset_index()
    return out.drop(columns=[_ALL]) if _ALL in out.columns else out


def _empty_groups(sums: pd.DataFrame, population: str, keys: list[str]) -> None:
    empty = (sums[population] <= 0).to_numpy()
    if empty.any():
        label = sums.index[int(np.flatnonzero(empty)[0])]
        raise ValueError(f"{_group_text(keys, label)} has a population of 0: a rate needs "
                         "people at risk")


# ---------------------------------------------------------------------------------------------
# Crude rates
# ---------------------------------------------------------------------------------------------


def crude_rates(
    frame: pd.DataFrame,
    *,
    events: str = "events",
    population: str = "population",
    by: Groups = (),
    multiplier: float = 100_000.0,
    confidence: float = 0.95,
    method: PoissonMethod = "ohid",
) -> pd.DataFrame:
    """Crude rate per ``multiplier`` with confidence limits, one row per group.

    With :math:`O` events and population (or person-years) :math:`n` summed over the group's
    rows, rate :math:`= m\\,O/n` and limits :math:`m\\,O_{lower}/n`, :math:`m\\,O_{upper}/n`. The
    count limits follow OHID by default (``method="ohid"``: exact chi-squared limits below 10
    events, Byar's approximation from 10); ``"byars"`` or ``"exact"`` force one method.

    Columns: the ``by`` columns, then :data:`CRUDE_RATE_COLUMNS` (``events``, ``population``,
    ``rate``, ``lower``, ``upper``). A group whose population sums to 0 is an error.

    References: OHID Fingertips public health technical guidance, "Rates"; PHEindicatormethods
    ``phe_rate``; Breslow NE, Day NE (1987) *Statistical methods in cancer research*, vol. II,
    IARC; Armitage P, Berry G (2002) *Statistical methods in medical research*, 4th edn.
    """
    keys = _keys(by)
    level = _confidence_level(confidence)
    scale = _check_multiplier(multiplier)
    _check_method(method, ("ohid", "byars", "exact"))
    table, group_keys = _grouped(_prepare(frame, keys, None, (events, population)), keys)
    sums = table.groupby(group_keys, sort=True, observed=True)[[events, population]].sum()
    _empty_groups(sums, population, group_keys)
    observed = sums[events].to_numpy()
    people = sums[population].to_numpy()
    limits = rate_ci(observed, people, multiplier=scale, confidence=level, method=method)
    return _result(sums, {
        "events": observed, "population": people, "rate": scale * observed / people,
        "lower": limits.lower, "upper": limits.upper})


# ---------------------------------------------------------------------------------------------
# Directly standardised rates
# ---------------------------------------------------------------------------------------------


def directly_standardised_rates(
    frame: pd.DataFrame,
    *,
    by: Groups = (),
    age: str = "age_band",
    events: str = "events",
    population: str = "population",
    standard: pd.Series | Mapping[str, float] | None = None,
    multiplier: float = 100_000.0,
    confidence: float = 0.95,
    min_events: float = OHID_DSR_MIN_EVENTS,
    method: DobsonMethod = "byars",
) -> pd.DataFrame:
    """Directly standardised rate per ``multiplier`` with Dobson limits, one row per group.

    With events :math:`e_i`, population :math:`n_i` and standard weight :math:`w_i` in age band
    :math:`i`, and :math:`O = \\sum e_i`:

    .. math::

        \\mathrm{DSR} = \\frac{\\sum_i w_i e_i / n_i}{\\sum_i w_i}, \\qquad
        \\mathrm{var} = \\frac{\\sum_i w_i^2 e_i / n_i^2}{(\\sum_i w_i)^2}, \\qquad
        \\mathrm{DSR}_{lower,\\,upper} = \\mathrm{DSR} + \\sqrt{\\mathrm{var}/O}\\,
        (O_{lower,\\,upper} - O)

    all times ``multiplier``. :math:`O_{lower}, O_{upper}` are Byar's limits of :math:`O`, as
    OHID uses (``method="exact"`` takes the exact chi-squared limits instead: Dobson et al.'s
    original method). As OHID, the lower limit is not clipped at 0.

    ``standard`` maps age band to weight; by default ESP2013 on the bands present in the frame
    (:func:`standard_population`), so a frame of under-75 bands gets the under-75 standard. Every
    band in the frame must be in the standard. :math:`\\sum w_i` runs over the whole standard, so
    a band that a group lacks counts as zero events in zero population (no contribution to the
    numerator), and so does a band with a population of 0; a band with events but a population of
    0 is an error naming the group and band.

    A DSR from fewer than ``min_events`` events (default 10) is not published, as OHID: ``dsr``,
    ``lower`` and ``upper`` are NaN, ``published`` is False and ``note`` says why; ``events`` and
    ``population`` are still reported. With ``min_events=0`` a group with no events gets DSR 0,
    lower limit 0 and an upper limit in which the one event of the upper Poisson limit
    :math:`O_{upper}(0)` carries the largest per-event weight :math:`\\max_i w_i/(n_i\\sum w)`
    among the bands with people, the limit of Dobson's :math:`\\sqrt{\\mathrm{var}/O}` as the
    events shrink into that band (OHID's formula is 0/0 there; this is Fay & Feuer's convention).

    Columns: the ``by`` columns, then :data:`DSR_COLUMNS` (``events``, ``population``, ``dsr``,
    ``lower``, ``upper``, ``published``, ``note``).

    References: Dobson AJ, Kuulasmaa K, Eberle E, Scherer J (1991) Confidence intervals for
    weighted sums of Poisson parameters, Stat Med 10:457-462; PHE Technical Guide: Confidence
    Intervals (2018), appendix 4; OHID Fingertips technical guidance, "Directly standardised
    rates"; PHEindicatormethods ``phe_dsr``/``calculate_dsr``; Morris JK, Tan J, Fryers P,
    Bestwick J (2018) Evaluation of stability of directly standardized rates for sparse data
    using simulation methods, Popul Health Metr 16, doi:10.1186/s12963-018-0177-1 (the 10-event
    threshold); Fay MP, Feuer EJ (1997) Stat Med 16:791-801 (the zero-count limit).
    """
    keys = _keys(by)
    level = _confidence_level(confidence)
    scale = _check_multiplier(multiplier)
    _check_method(method, ("byars", "exact"))
    if isinstance(min_events, bool) or not isinstance(min_events, int | float) or not (
            np.isfinite(min_events) and min_events >= 0):
        raise ValueError(f"min_events is {min_events!r}: it must be a number, 0 or more")
    table = _prepare(frame, keys, age, (events, population))
    weights = _standard_weights(standard, table, keys, age)
    known = table[age].isin(weights.index).to_numpy()
    if not known.all():
        position = int(np.flatnonzero(~known)[0])
        raise ValueError(
            f"{_row_text(table, position, keys, age)}: age band "
            f"{_shown(table[age].iloc[position])} "
            f"is not in the standard population, whose bands are {list(weights.index)}")
    table, group_keys = _grouped(table, keys)
    cells = _cells(table, group_keys, age, events, population)
    weight = cells[age].map(weights).to_numpy(dtype=np.float64)
    counts = cells[events].to_numpy()
    people = cells[population].to_numpy()
    has_people = people > 0
    safe = np.where(has_people, people, 1.0)
    # The weight one event carries in a band; a band without people carries no events.
    per_event = np.where(has_people, weight / safe, 0.0)
    cells["_weighted"] = per_event * counts
    cells["_squared"] = per_event**2 * counts
    cells["_per_event"] = per_event
    sums = cells.groupby(group_keys, sort=True, observed=True).agg(
        events=(events, "sum"), population=(population, "sum"), weighted=("_weighted", "sum"),
        squared=("_squared", "sum"), per_event=("_per_event", "max"))
    _empty_groups(sums, "population", group_keys)
    total = float(weights.sum())
    observed = sums["events"].to_numpy()
    value = sums["weighted"].to_numpy() / total
    variance = sums["squared"].to_numpy() / total**2
    limits = (byars_ci if method == "byars" else exact_poisson_ci)(observed, level)
    # Dobson's sqrt(var/O) is 0/0 without events; its limit is the weight of a lone event.
    spread = np.where(observed > 0, np.sqrt(variance / np.where(observed > 0, observed, 1.0)),
                      sums["per_event"].to_numpy() / total)
    lower = value + spread * (limits.lower - observed)
    upper = value + spread * (limits.upper - observed)
    published = observed >= min_events
    note = np.where(published, "",
                    [f"not published: {count:g} events, fewer than the {min_events:g} needed "
                     "for a reliable DSR (OHID)" for count in observed])
    hidden = np.where(published, 1.0, np.nan)
    return _result(sums, {
        "events": observed, "population": sums["population"].to_numpy(),
        "dsr": scale * value * hidden, "lower": scale * lower * hidden,
        "upper": scale * upper * hidden, "published": published, "note": note})


# ---------------------------------------------------------------------------------------------
# Indirectly standardised ratios
# ---------------------------------------------------------------------------------------------


def _reference_rates(table: pd.DataFrame, age: str, events: str, population: str) -> pd.Series:
    sums = table.groupby(age, sort=True, observed=True)[[events, population]].sum()
    empty = (sums[population] <= 0).to_numpy()
    if empty.any():
        band = sums.index[int(np.flatnonzero(empty)[0])]
        raise ValueError(f"age band {_shown(band)} has a population of 0 in the whole table: no "
                         "reference rate can be formed for it")
    rates = sums[events] / sums[population]
    rates.name = "reference_rate"
    return rates


def reference_rates(
    frame: pd.DataFrame,
    *,
    age: str = "age_band",
    events: str = "events",
    population: str = "population",
) -> pd.Series:
    """Age-specific rates per person of the whole table: age band -> :math:`\\sum e / \\sum n`.

    The usual reference for an indirectly standardised ratio is the whole population being
    compared (e.g. England, or all quintiles together); these are its rates. Rates are per
    person (not per 100,000). A band whose population sums to 0 is an error.

    Reference: OHID Fingertips technical guidance, "Indirectly standardised ratios"
    (:math:`\\lambda_i`, the crude age-specific rate in the standard population).
    """
    table = _prepare(frame, [], age, (events, population))
    _cells(table, [], age, events, population)
    return _reference_rates(table, age, events, population)


def _check_rates(rates: pd.Series | Mapping[str, float]) -> pd.Series:
    series = pd.Series(rates, dtype="object") if isinstance(rates, Mapping) else rates
    if not isinstance(series, pd.Series):
        raise ValueError("reference_rates must be a pandas Series (age band -> rate per person)")
    if series.empty:
        raise ValueError("reference_rates is empty: it needs one rate per age band")
    if series.index.has_duplicates:
        band = series.index[series.index.duplicated()][0]
        raise ValueError(f"reference_rates lists age band {_shown(band)} more than once")
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64)
    for position, value in enumerate(values):
        band = series.index[position]
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"reference rate of age band {_shown(band)} is "
                             f"{_shown(series.iloc[position])}: "
                             "rates must be finite numbers, zero or more")
    return pd.Series(values, index=series.index, name="reference_rate")


def indirectly_standardised_ratios(
    frame: pd.DataFrame,
    reference_rates: pd.Series | Mapping[str, float] | None = None,
    *,
    by: Groups = (),
    age: str = "age_band",
    events: str = "events",
    population: str = "population",
    confidence: float = 0.95,
    method: PoissonMethod = "ohid",
    multiplier: float = 100.0,
) -> pd.DataFrame:
    """Indirectly standardised ratio (observed / expected) x ``multiplier``, one row per group.

    With observed events :math:`O = \\sum_i e_i`, population :math:`n_i` and reference rate per
    person :math:`r_i` in age band :math:`i`:

    .. math::

        E = \\sum_i n_i r_i, \\qquad \\mathrm{ISR} = m\\,O/E, \\qquad
        \\mathrm{ISR}_{lower,\\,upper} = m\\,O_{lower,\\,upper}/E

    with ``multiplier`` :math:`m = 100` by default (100 = as many events as expected). The
    expected count is treated as exact. The limits of :math:`O` follow OHID
    (``method="ohid"``: exact chi-squared limits below 10 events, Byar's from 10); ``"exact"``
    or ``"byars"`` force one. OHID applies no minimum count to ISRs, and neither does this.

    ``reference_rates`` maps age band to rate per person; by default the rates of the whole
    frame (:func:`reference_rates`), so that the groups are compared with all of them together.
    Every band in the frame must have a reference rate. A group whose expected count is 0 is an
    error.

    Columns: the ``by`` columns, then :data:`ISR_COLUMNS` (``observed``, ``expected``,
    ``ratio``, ``lower``, ``upper``).

    References: OHID Fingertips technical guidance, "Indirectly standardised ratios";
    PHEindicatormethods ``calculate_ISRatio``; Breslow NE, Day NE (1987) *Statistical methods in
    cancer research*, vol. II, IARC, p. 69; Armitage P, Berry G (2002) *Statistical methods in
    medical research*, 4th edn.
    """
    keys = _keys(by)
    level = _confidence_level(confidence)
    scale = _check_multiplier(multiplier)
    _check_method(method, ("ohid", "byars", "exact"))
    table = _prepare(frame, keys, age, (events, population))
    rates = (_reference_rates(table, age, events, population) if reference_rates is None
             else _check_rates(reference_rates))
    known = table[age].isin(rates.index).to_numpy()
    if not known.all():
        position = int(np.flatnonzero(~known)[0])
        raise ValueError(
            f"{_row_text(table, position, keys, age)}: age band "
            f"{_shown(table[age].iloc[position])} "
            f"has no reference rate; the reference rates cover {list(rates.index)}")
    table, group_keys = _grouped(table, keys)
    cells = _cells(table, group_keys, age, events, population)
    cells["_expected"] = cells[population].to_numpy() * cells[age].map(rates).to_numpy(
        dtype=np.float64)
    sums = cells.groupby(group_keys, sort=True, observed=True).agg(
        observed=(events, "sum"), expected=("_expected", "sum"), population=(population, "sum"))
    _empty_groups(sums, "population", group_keys)
    expected: FloatArray = sums["expected"].to_numpy()
    nothing = expected <= 0
    if nothing.any():
        label = sums.index[int(np.flatnonzero(nothing)[0])]
        raise ValueError(f"{_group_text(group_keys, label)} expects 0 events: the reference "
                         "rates are 0 in every age band it has people in, so no ratio can be "
                         "formed")
    observed = sums["observed"].to_numpy()
    limits = ratio_ci(observed, expected, multiplier=scale, confidence=level, method=method)
    return _result(sums, {
        "observed": observed, "expected": expected, "ratio": scale * observed / expected,
        "lower": limits.lower, "upper": limits.upper})
