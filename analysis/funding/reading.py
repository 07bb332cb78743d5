"""GP funding by practice deprivation as people read it: which payments total a figure uses,
when a deprivation group is too small to compare, the most- against least-deprived gap in
words with its direction and confidence interval, with and without dispensing practices, the
period a trend actually covers, and the table with plain headers and formatted figures.

The command line (``fairshare gp-funding``), the GP funding page and the briefing all take
their sentences from here, so they say the same thing about the same number. Comparisons use
the one shared rule, :func:`analysis.numbers.compare_with_reference` (by the gap's confidence
interval).

Totals (NHS England, *NHS Payments to General Practice, England*, 2020-21 onwards):
"Total NHS Payments to General Practice" leaves out the COVID-19 support and Primary Care
Network (PCN) payments that from 2020-21 are published in separate lines; "Total NHS Payments
to General Practice including Covid and PCN payments" adds them. The Health Equity Evidence
Centre's published quintile figures use the second; Fairshare's headline uses the first, which
covers every year from 2014-15.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

import pandas as pd

from analysis.funding.deprivation import PracticeFilter, funding_by_deprivation, funding_gap
from analysis.numbers import (
    Comparison,
    compare_with_reference,
    format_money,
    format_number,
    format_percent,
    interval_in_words,
)

#: A deprivation group with fewer practices than this is too small to compare: its rate is
#: a handful of practices' circumstances (one large dispensing or university practice can
#: set it), and with one practice it has no interval at all.
MIN_GROUP_PRACTICES = 5


@dataclass(frozen=True)
class PaymentTotal:
    """One of the published payment totals a figure can use."""

    key: str
    column: str
    label: str
    first_year: str


TOTALS: dict[str, PaymentTotal] = {
    "excluding": PaymentTotal(
        "excluding", "total_payments",
        "total NHS payments to general practice, excluding COVID and PCN payments", "2014-15"),
    "including": PaymentTotal(
        "including", "total_payments_incl_pcn_covid",
        "total NHS payments to general practice, including COVID and PCN payments", "2020-21"),
}
DEFAULT_TOTAL = "excluding"


def payment_total(key: str) -> PaymentTotal:
    """The :class:`PaymentTotal` called ``key`` ("excluding" or "including"); ValueError
    naming the choices otherwise."""
    if key not in TOTALS:
        raise ValueError(f"Unknown payments total {key!r}; choose one of {', '.join(TOTALS)}")
    return TOTALS[key]


def total_covers(total: PaymentTotal, year: str) -> bool:
    """Whether ``total`` is published for payment ``year`` (years sort as text)."""
    return str(year) >= total.first_year


@dataclass(frozen=True)
class GapReading:
    """The most- against least-deprived gap of one table, with what a reader needs to judge it.

    ``gap_pct`` = (most − least) ÷ least × 100 (negative: the most deprived group receives
    less), with its delta-method interval from :func:`analysis.funding.funding_gap`.
    """

    year: str
    groups: str
    total: str
    include_dispensing: bool
    most: float
    least: float
    gap_gbp: float
    gap_gbp_lower: float
    gap_gbp_upper: float
    gap_pct: float
    gap_pct_lower: float
    gap_pct_upper: float
    practices_most: int
    practices_least: int
    last_group: int
    overall: float
    practices: int
    direction: str
    rule: str

    @property
    def small_groups(self) -> list[int]:
        """The end groups (1 and n) with fewer than :data:`MIN_GROUP_PRACTICES` practices."""
        ends = ((1, self.practices_most), (self.last_group, self.practices_least))
        return [group for group, n in ends if n < MIN_GROUP_PRACTICES]

    @property
    def comparable(self) -> bool:
        """Both end groups are big enough to compare and the gap is defined."""
        return not self.small_groups and math.isfinite(self.gap_pct)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready: non-finite numbers become ``None``."""
        out: dict[str, object] = {}
        for key, value in asdict(self).items():
            if isinstance(value, float):
                out[key] = round(value, 4) if math.isfinite(value) else None
            else:
                out[key] = value
        out["small_groups"] = self.small_groups
        out["comparable"] = self.comparable
        return out


def _nan(value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return number


def read_gap(table: pd.DataFrame, total: str = DEFAULT_TOTAL) -> GapReading:
    """The gap of a :func:`analysis.funding.funding_by_deprivation` table as a
    :class:`GapReading`, compared by the shared rule: the most deprived group's rate against
    the least deprived group's, with the interval implied by the gap's 95% CI."""
    key = "quintile" if "quintile" in table.columns else "decile"
    t = table.set_index(key)
    last = int(t.index.max())
    gap = funding_gap(table)
    least = gap["least_deprived"]
    low, high = _nan(gap.get("gap_pct_ci_lower")), _nan(gap.get("gap_pct_ci_upper"))
    comparison: Comparison = compare_with_reference(
        gap["most_deprived"], least,
        lower=least * (1 + low / 100) if math.isfinite(low) else None,
        upper=least * (1 + high / 100) if math.isfinite(high) else None)
    weighted = float(t["weighted_patients"].sum())
    direction, rule = comparison.direction, comparison.rule
    if min(int(t.at[1, "practices"]), int(t.at[last, "practices"])) < MIN_GROUP_PRACTICES:
        direction, rule = "unknown", f"fewer than {MIN_GROUP_PRACTICES} practices in a group"
    return GapReading(
        year=str(table.attrs.get("year", "")), groups=key, total=total,
        include_dispensing=bool(table.attrs.get("include_dispensing", True)),
        most=_nan(gap["most_deprived"]), least=_nan(least), gap_gbp=_nan(gap["gap_gbp"]),
        gap_gbp_lower=_nan(gap.get("gap_gbp_ci_lower")),
        gap_gbp_upper=_nan(gap.get("gap_gbp_ci_upper")), gap_pct=_nan(gap["gap_pct"]),
        gap_pct_lower=low, gap_pct_upper=high,
        practices_most=int(t.at[1, "practices"]), practices_least=int(t.at[last, "practices"]),
        last_group=last,
        overall=float(t["payments"].sum()) / weighted if weighted > 0 else math.nan,
        practices=int(t["practices"].sum()), direction=direction, rule=rule)


def _group_name(reading: GapReading, group: int) -> str:
    share = "fifth" if reading.groups == "quintile" else "tenth"
    which = "most" if group == 1 else "least"
    return f"the {which} deprived {share}"


def _practices(n: int) -> str:
    return f"{format_number(n)} practice{'' if n == 1 else 's'}"


def gap_sentence(reading: GapReading, scope_name: str) -> str:
    """The headline: the two rates and the gap in words (direction, £, %, 95% CI), or, when an
    end group is too small, that it cannot be compared (and the area's overall rate instead).

    >>> # "Wigan, 2022-23: practices serving the most deprived fifth of patients received
    >>> # £137.42 per weighted patient, against £153.72 for the least deprived fifth: £16.30
    >>> # (10.6%) less (95% CI 5.2% to 15.7%)."
    """
    start = f"{scope_name}, {reading.year}: "
    if not reading.comparable:
        small = reading.small_groups or [1, reading.last_group]
        parts = []
        for group in small:
            n = reading.practices_most if group == 1 else reading.practices_least
            parts.append(f"{_group_name(reading, group)} of patients "
                         f"{'has no practices' if n == 0 else 'is served by only ' + _practices(n)}"
                         " here")
        return (start + "; ".join(parts) + f" (fewer than {MIN_GROUP_PRACTICES}), too few to "
                "compare the most with the least deprived practices. Across all "
                f"{_practices(reading.practices)} the average was "
                f"{format_money(reading.overall)} per weighted patient; the table gives every "
                "group.")
    more = reading.gap_pct > 0
    interval = interval_in_words(reading.gap_pct_lower, reading.gap_pct_upper, "%", 1,
                                 words=("more", "less"))
    verdict = (": not a clear difference" if reading.direction == "similar" else "")
    sized = (f"{format_money(abs(reading.gap_gbp))} "
             f"({format_percent(abs(reading.gap_pct))}) {'more' if more else 'less'}")
    if gap_in_words(reading) == "about the same":
        sized = "about the same"
    return (f"{start}practices serving {_group_name(reading, 1)} of patients received "
            f"{format_money(reading.most)} per weighted patient, against "
            f"{format_money(reading.least)} for {_group_name(reading, reading.last_group)}: "
            f"{sized}" + (f" ({interval}{verdict})" if interval else verdict) + ".")


def gap_in_words(reading: GapReading) -> str:
    """"9.2% less", "1.0% more" or "about the same" (the most against the least deprived)."""
    if format_percent(abs(reading.gap_pct)) == format_percent(0):
        return "about the same"
    return f"{format_percent(abs(reading.gap_pct))} {'more' if reading.gap_pct > 0 else 'less'}"


def dispensing_sentence(with_dispensing: GapReading, without: GapReading) -> str:
    """Whether dispensing practices drive the gap: the gap with and without them, by the
    shared comparison rule (a gap is "clear" when its 95% CI excludes zero). Empty when an
    end group is too small to compare (the headline says so)."""
    if not (with_dispensing.comparable and without.comparable):
        return ""

    def said(r: GapReading) -> str:
        return gap_in_words(r) + (" (not a clear difference)" if r.direction == "similar"
                                  else "")

    if with_dispensing.practices == without.practices:
        return "No practice here dispenses, so dispensing practices play no part in the gap."
    group = _group_name(with_dispensing, 1)
    both = (f"With dispensing practices {group} received {said(with_dispensing)}; without "
            f"them {said(without)}.")
    clear_with = with_dispensing.direction != "similar"
    clear_without = without.direction != "similar"
    same_side = (with_dispensing.gap_pct > 0) == (without.gap_pct > 0)
    if clear_with and not clear_without:
        why = ("Dispensing practices (mostly rural, and also paid for the drugs they "
               "dispense) drive the gap.")
    elif clear_with and clear_without and same_side:
        why = "The gap is not due to dispensing practices: it remains without them."
    elif clear_without and not clear_with:
        why = "Dispensing practices hide a gap that appears without them."
    elif clear_with and clear_without:
        why = "Without dispensing practices the gap reverses."
    else:
        why = "Neither is a clear difference."
    return f"{both} {why}"


def _year_ranges(years: list[str], every: list[str]) -> str:
    """Consecutive runs of ``years`` within the ordered ``every``: "2014-15 to 2016-17,
    2019-20"."""
    runs: list[list[str]] = []
    for year in years:
        if runs and every.index(year) == every.index(runs[-1][-1]) + 1:
            runs[-1].append(year)
        else:
            runs.append([year])
    return ", ".join(r[0] if len(r) == 1 else f"{r[0]} to {r[-1]}" for r in runs)


def trend_sentence(readings: Iterable[GapReading]) -> str:
    """How the gap moved over the years in which it can be compared, quoting exactly the
    period those years cover (never the whole series when a line starts later)."""
    readings = sorted(readings, key=lambda r: r.year)
    every = [r.year for r in readings]
    usable = [r for r in readings if r.comparable]
    if not usable:
        return (f"The gap cannot be followed over time here: in every year from {every[0]} to "
                f"{every[-1]} the most or least deprived group has fewer than "
                f"{MIN_GROUP_PRACTICES} practices.")
    years = [r.year for r in usable]
    period = _year_ranges(years, every)
    where = (f"From {years[0]} to {years[-1]}" if len(usable) == len(readings)
             or period == f"{years[0]} to {years[-1]}" else
             f"In {period} (the years in which both groups have at least "
             f"{MIN_GROUP_PRACTICES} practices)")
    if len(usable) == 1:
        r = usable[0]
        return (f"Only {r.year} can be compared: the most deprived group received "
                f"{gap_in_words(r)}.")
    low = min(usable, key=lambda r: r.gap_pct)
    high = max(usable, key=lambda r: r.gap_pct)

    if (low.gap_pct < 0) == (high.gap_pct < 0):
        near, far = sorted((low, high), key=lambda r: abs(r.gap_pct))
        side = "less" if low.gap_pct < 0 else "more"
        return (f"{where} the most deprived group received between "
                f"{format_percent(abs(near.gap_pct))} ({near.year}) and "
                f"{format_percent(abs(far.gap_pct))} ({far.year}) {side} than the least "
                "deprived.")
    return (f"{where} the gap ranged from {gap_in_words(low)} ({low.year}) to "
            f"{gap_in_words(high)} "
            f"({high.year}) for the most deprived group.")


def funding_trend(payments: pd.DataFrame, practice_imd: pd.DataFrame, *,
                  practices: PracticeFilter = None, include_dispensing: bool = True,
                  total: str = DEFAULT_TOTAL) -> pd.DataFrame:
    """Payments per weighted patient by quintile for every year the chosen ``total`` is
    published (the inclusive total from 2020-21), stacked with ``year`` and ``imd_year``."""
    chosen = payment_total(total)
    frames = []
    for year in sorted(payments["year"].astype(str).unique()):
        if not total_covers(chosen, year):
            continue
        t = funding_by_deprivation(payments, practice_imd, year=year, measure=chosen.column,
                                   include_dispensing=include_dispensing,
                                   practices=practices)
        t.insert(0, "imd_year", t.attrs["imd_year"])
        t.insert(0, "year", year)
        frames.append(t)
    return pd.concat(frames, ignore_index=True)


def trend_readings(trend: pd.DataFrame, total: str = DEFAULT_TOTAL,
                   include_dispensing: bool = True) -> list[GapReading]:
    """A :class:`GapReading` per year of a :func:`funding_trend` table."""
    out = []
    for year, table in trend.groupby("year", sort=True, observed=True):
        t = table.drop(columns=["year", "imd_year"]).reset_index(drop=True)
        t.attrs = {"year": str(year), "include_dispensing": include_dispensing}
        out.append(read_gap(t, total))
    return out


def group_rate_text(practices: int, value: float, lower: float, upper: float,
                    show: Callable[[float], str]) -> tuple[str, str]:
    """A practice group's figure and its interval as table text: "no practices", "not
    available (1 practice)" where no interval exists, and a warning on the interval of a
    group smaller than :data:`MIN_GROUP_PRACTICES`."""
    if practices == 0:
        return "no practices", "no practices"
    if practices < 2 or not math.isfinite(float(lower)):
        return show(value), "not available (1 practice)"
    interval = f"{show(lower)} to {show(upper)}"
    if practices < MIN_GROUP_PRACTICES:
        interval += f" (fewer than {MIN_GROUP_PRACTICES} practices)"
    return show(value), interval


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """The table as a reader sees it: plain headers, money as £, counts with separators,
    the interval as "£141.09 to £149.07" or in words where there is none (never "None")."""
    key = "quintile" if "quintile" in table.columns else "decile"
    rows = []
    for r in table.itertuples():
        n = int(r.practices)
        rate, interval = group_rate_text(n, r.per_weighted_patient, r.ci_lower, r.ci_upper,
                                         format_money)
        rows.append({
            f"{key.capitalize()} (1 = most deprived)": str(getattr(r, key)),
            "Practices": format_number(n),
            "Weighted patients": format_number(r.weighted_patients),
            "Payments": format_money(r.payments, compact=True),
            "£ per weighted patient": rate,
            "95% confidence interval": interval,
        })
    return pd.DataFrame(rows)
