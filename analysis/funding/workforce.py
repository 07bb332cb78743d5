"""GP workforce by practice deprivation: fully qualified permanent GPs per 10,000 weighted
patients in each practice deprivation quintile, 2015-16 to 2023-24, with 95% confidence
intervals (the Health Equity Evidence Centre's headline workforce view), and how it reads.

Method
------
* **GPs**: NHS Digital *General Practice Workforce*, headcount of fully qualified permanent
  GPs excluding GPs in training and locums (``TOTAL_GP_EXTGL_HC``), the mean of each
  financial year's snapshots as compiled by the Health Equity Evidence Centre (HEEC). A
  headcount, not full-time equivalents. Practices whose headcount is missing that year are
  left out of the rates and counted (``attrs["practices_without_headcount"]``).
* **Weighted patients** (the denominator), the rule stated wherever the figures are shown:
  for 2015-16 to 2022-23, each practice's Carr-Hill weighted list from *NHS Payments to
  General Practice* for the same financial year (the embedded payments table, as HEEC does).
  For **2023-24**, which has no payments file in the pack, each practice's 2023-24
  registered list (workforce file) is multiplied by its own 2022-23 ratio of weighted to
  registered patients: Carr-Hill weights follow the age, sex, morbidity and rurality of the
  list, which change slowly, so the ratio carries over a year far better than switching to
  raw lists would (on the real data raw lists give 5.39 against 6.49 GPs per 10,000 for the
  most and least deprived fifths in 2023-24, against 5.16 and 6.70 with weights: a break in
  the series made by the denominator, not by GPs). Practices with no 2022-23 payments row
  have no ratio and are left out and counted. ``patients="registered"`` instead uses the
  registered list in every year (a sensitivity check, consistent but not need-weighted).
* **Deprivation quintiles** as on the GP funding page (:mod:`analysis.funding.deprivation`):
  practices ranked by the IMD score of their registered population (Fingertips 93553; the
  edition of :data:`IMD_EDITION_FOR_WORKFORCE_YEAR`), cut into patient-weighted fifths of
  England's registered patients with **1 = most deprived**, the boundaries set on every
  practice of the workforce file with patients and a score that year (before any area
  subset, so an area's practices keep their national quintile).
* **Rate and interval**: the ratio estimator Σ GPs ÷ Σ weighted patients × 10,000 over the
  group's practices, with the linearised (Taylor series) standard error and a Student-t
  interval (Cochran 1977, s.6.4), exactly as for payments per weighted patient.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from analysis.data import data_cache, read_parquet
from analysis.funding.deprivation import (
    _GROUPS,
    IMD_EDITION_FOR_PAYMENT_YEAR,
    PracticeFilter,
    _ratio_table,
    _select,
    assign_deprivation_groups,
    funding_gap,
)
from analysis.funding.reading import MIN_GROUP_PRACTICES, group_rate_text
from analysis.numbers import (
    compare_with_reference,
    format_number,
    format_percent,
    interval_in_words,
)

PER_PATIENTS = 10_000
WORKFORCE_YEARS = tuple(f"{y}-{(y + 1) % 100:02d}" for y in range(2015, 2024))
#: The IMD edition of each workforce year: the payment years' rule (the latest edition
#: published before the year ends), so IoD2019 for 2023-24 too (IoD2025 came in 2025).
IMD_EDITION_FOR_WORKFORCE_YEAR: dict[str, int] = {**IMD_EDITION_FOR_PAYMENT_YEAR,
                                                  "2023-24": 2019}
WORKFORCE_UNIT = "fully qualified GPs per 10,000 weighted patients"
GP_DEFINITION = ("fully qualified permanent GPs (headcount, excluding GPs in training and "
                 "locums)")

PatientBasis = Literal["weighted", "registered"]


@data_cache(maxsize=1)
def load_gp_workforce() -> pd.DataFrame:
    """Practice × financial year GP workforce, 2015-16 to 2023-24: ``practice_code``,
    ``year``, ``registered_patients``, ``qualified_gp_headcount`` (NaN where NHS Digital has
    no valid figure)."""
    return read_parquet("services/gp_workforce.parquet")


def _year_rows(workforce: pd.DataFrame, year: str) -> pd.DataFrame:
    rows = workforce.loc[workforce["year"].astype(str) == year]
    if rows.empty:
        raise ValueError(f"no GP workforce rows for year {year!r}; years present: "
                         f"{sorted(workforce['year'].astype(str).unique())}")
    if rows["practice_code"].duplicated().any():
        dup = rows.loc[rows["practice_code"].duplicated(keep=False), "practice_code"]
        raise ValueError(f"{year}: duplicate practice codes in the workforce table: "
                         f"{sorted(dup.unique())[:10]}")
    return rows


def patient_denominator(rows: pd.DataFrame, payments: pd.DataFrame, year: str,
                        patients: PatientBasis = "weighted") -> tuple[pd.Series, str]:
    """Each workforce row's denominator for ``year`` and the rule used, in words.

    ``"weighted"``: the payments file's Carr-Hill weighted patients of the same year; after
    the last payments year, the year's registered list × the practice's weighted/registered
    ratio in the last payments year (see the module docstring). ``"registered"``: the
    workforce file's registered patients. NaN where a practice has no denominator.
    """
    if patients == "registered":
        return rows["registered_patients"].astype(float), "registered patients"
    if patients != "weighted":
        raise ValueError(f"patients must be 'weighted' or 'registered', not {patients!r}")
    years = sorted(payments["year"].astype(str).unique())
    code = rows["practice_code"].astype(str)
    if year in years:
        pay = payments.loc[payments["year"].astype(str) == year].set_index("practice_code")
        return (code.map(pay["weighted_patients"]).astype(float),
                f"Carr-Hill weighted patients ({year} payments)")
    last = years[-1]
    if year < last:
        raise ValueError(f"no payments for {year}, before the embedded payments years; "
                         f"years available: {', '.join(years)}")
    pay = payments.loc[payments["year"].astype(str) == last].set_index("practice_code")
    ratio = (pay["weighted_patients"] / pay["registered_patients"]).where(
        (pay["registered_patients"] > 0) & (pay["weighted_patients"] > 0))
    return (rows["registered_patients"].astype(float) * code.map(ratio).astype(float),
            f"weighted patients estimated: the {year} registered list × each practice's "
            f"{last} weighted-to-registered ratio")


def workforce_by_deprivation(
    workforce: pd.DataFrame,
    payments: pd.DataFrame,
    practice_imd: pd.DataFrame,
    *,
    year: str,
    groups: Literal["quintile", "decile"] = "quintile",
    practices: PracticeFilter = None,
    patients: PatientBasis = "weighted",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Fully qualified GPs per 10,000 weighted patients by practice deprivation group.

    Rate R_g = 10,000 × Σ GPs ÷ Σ weighted patients over the group's practices (the ratio
    estimator), with the linearised standard error and Student-t interval of Cochran (1977,
    *Sampling Techniques*, s.6.4), as for payments per weighted patient.

    ``workforce`` is :func:`load_gp_workforce` (all of England: group boundaries are
    national), ``payments`` the canonical payments table (for the weighted patients),
    ``practice_imd`` the Fingertips 93553 scores. Returns one row per group 1..n:
    ``quintile``/``decile``, ``practices``, ``patients`` (Σ denominator), ``gps`` (Σ
    headcount), ``gps_per_10k``, ``se``, ``ci_lower``, ``ci_upper``; ``.attrs`` holds the
    year, IMD edition, the denominator rule and the practices left out and why.
    """
    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1")
    n_groups = _GROUPS.get(groups)
    if n_groups is None:
        raise ValueError(f"groups must be 'quintile' or 'decile', not {groups!r}")
    if year not in IMD_EDITION_FOR_WORKFORCE_YEAR:
        raise ValueError(f"no IMD edition is mapped for workforce year {year!r}; years: "
                         f"{', '.join(IMD_EDITION_FOR_WORKFORCE_YEAR)}")
    rows = _year_rows(workforce, year)
    edition = IMD_EDITION_FOR_WORKFORCE_YEAR[year]
    scores = practice_imd.loc[practice_imd["imd_year"] == edition].set_index(
        "practice_code")["imd_score"]
    code = rows["practice_code"].astype(str)
    score = code.map(scores)
    with_patients = rows["registered_patients"].fillna(0) > 0
    group = assign_deprivation_groups(score.where(with_patients),
                                      rows["registered_patients"], n_groups)
    denominator, basis = patient_denominator(rows, payments, year, patients)

    chosen, not_found = _select(rows, practices)
    headcount = rows["qualified_gp_headcount"].astype(float)
    has_headcount = headcount.notna()
    has_denominator = denominator.fillna(0) > 0
    has_group = group.notna()
    use = chosen & has_headcount & has_denominator & has_group
    table = _ratio_table(headcount[use].to_numpy(), denominator[use].to_numpy(),
                         group[use].astype("int64").to_numpy(), n_groups, confidence)
    table = table.rename(columns={"weighted_patients": "patients", "payments": "gps",
                                  "per_weighted_patient": "gps_per_10k"})
    for column in ("gps_per_10k", "se", "ci_lower", "ci_upper"):
        table[column] = table[column] * PER_PATIENTS
    table.index.name = groups
    table = table.reset_index()
    table.attrs = {
        "year": year, "imd_year": edition, "groups": groups, "patients": patients,
        "patients_basis": basis, "estimated": basis.startswith("weighted patients estimated"),
        "confidence": confidence,
        "practices_selected": int(chosen.sum()),
        "practices_without_headcount": int((chosen & ~has_headcount).sum()),
        "practices_without_patients": int((chosen & has_headcount & ~has_denominator).sum()),
        "practices_without_imd": int((chosen & has_headcount & has_denominator
                                      & ~has_group).sum()),
        "practice_codes_not_found": not_found,
    }
    return table


def workforce_trend(workforce: pd.DataFrame, payments: pd.DataFrame,
                    practice_imd: pd.DataFrame, *, practices: PracticeFilter = None,
                    patients: PatientBasis = "weighted",
                    groups: Literal["quintile", "decile"] = "quintile") -> pd.DataFrame:
    """:func:`workforce_by_deprivation` for every year of the workforce table, stacked with
    leading ``year``, ``imd_year`` and ``estimated`` (weighted patients estimated) columns."""
    frames = []
    for year in sorted(workforce["year"].astype(str).unique()):
        t = workforce_by_deprivation(workforce, payments, practice_imd, year=year,
                                     groups=groups, practices=practices, patients=patients)
        t.insert(0, "estimated", bool(t.attrs["estimated"]))
        t.insert(0, "imd_year", t.attrs["imd_year"])
        t.insert(0, "year", year)
        frames.append(t)
    if not frames:
        raise ValueError("the GP workforce table has no years")
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------------------------
# Reading: the gap in words, the trend, the table
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkforceGap:
    """Most against least deprived group of one year: both rates (GPs per 10,000 weighted
    patients), the gap (most − least) and (most − least) ÷ least × 100 with its delta-method
    95% interval (:func:`analysis.funding.funding_gap`), and the shared comparison."""

    year: str
    groups: str
    most: float
    least: float
    gap: float
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
    estimated: bool

    @property
    def comparable(self) -> bool:
        """Both end groups have at least :data:`MIN_GROUP_PRACTICES` practices and the gap
        is defined."""
        return (min(self.practices_most, self.practices_least) >= MIN_GROUP_PRACTICES
                and math.isfinite(self.gap_pct))


def _float(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def read_workforce_gap(table: pd.DataFrame) -> WorkforceGap:
    """A :func:`workforce_by_deprivation` table's gap as a :class:`WorkforceGap`, compared
    by :func:`analysis.numbers.compare_with_reference` (the most deprived group's rate against
    the least deprived group's, with the interval implied by the gap's 95% CI)."""
    key = "quintile" if "quintile" in table.columns else "decile"
    t = table.set_index(key)
    last = int(t.index.max())
    gap = funding_gap(table.rename(columns={"gps_per_10k": "per_weighted_patient"}))
    least, low, high = gap["least_deprived"], _float(gap.get("gap_pct_ci_lower")), _float(
        gap.get("gap_pct_ci_upper"))
    comparison = compare_with_reference(
        gap["most_deprived"], least,
        lower=least * (1 + low / 100) if math.isfinite(low) else None,
        upper=least * (1 + high / 100) if math.isfinite(high) else None)
    n_most, n_least = int(t.at[1, "practices"]), int(t.at[last, "practices"])
    direction, rule = comparison.direction, comparison.rule
    if min(n_most, n_least) < MIN_GROUP_PRACTICES:
        direction, rule = "unknown", f"fewer than {MIN_GROUP_PRACTICES} practices in a group"
    patients = float(t["patients"].sum())
    return WorkforceGap(
        year=str(table.attrs.get("year", "")), groups=key, most=_float(gap["most_deprived"]),
        least=_float(least), gap=_float(gap["gap_gbp"]), gap_pct=_float(gap["gap_pct"]),
        gap_pct_lower=low, gap_pct_upper=high, practices_most=n_most, practices_least=n_least,
        last_group=last,
        overall=float(t["gps"].sum()) / patients * PER_PATIENTS if patients > 0 else math.nan,
        practices=int(t["practices"].sum()), direction=direction, rule=rule,
        estimated=bool(table.attrs.get("estimated", False)))


def trend_gaps(trend: pd.DataFrame) -> list[WorkforceGap]:
    """A :class:`WorkforceGap` per year of a :func:`workforce_trend` table, oldest first."""
    out = []
    for year, table in trend.groupby("year", sort=True):
        t = table.drop(columns=["year", "imd_year", "estimated"]).reset_index(drop=True)
        t.attrs = {"year": str(year), "estimated": bool(table["estimated"].iloc[0])}
        out.append(read_workforce_gap(t))
    return out


def _share(reading: WorkforceGap, group: int) -> str:
    share = "fifth" if reading.groups == "quintile" else "tenth"
    return f"the {'most' if group == 1 else 'least'} deprived {share}"


def _rate(value: float) -> str:
    return format_number(value, 2)


def _gap_words(reading: WorkforceGap) -> str:
    """"23.0% fewer", "1.2% more" or "about the same"."""
    if format_percent(abs(reading.gap_pct)) == format_percent(0):
        return "about the same"
    return f"{format_percent(abs(reading.gap_pct))} {'more' if reading.gap_pct > 0 else 'fewer'}"


def workforce_gap_sentence(reading: WorkforceGap, scope_name: str) -> str:
    """The year's headline, e.g. "England, 2023-24: practices serving the most deprived fifth
    of patients had 5.16 fully qualified GPs per 10,000 weighted patients, against 6.70 for
    the least deprived fifth: 23.0% fewer (95% CI …)." Says so when an end group is too small
    to compare, and when the year's weighted patients are estimated."""
    start = f"{scope_name}, {reading.year}: "
    estimated = (f" Weighted patients for {reading.year} are estimated (no payments file yet)."
                 if reading.estimated else "")
    if not reading.comparable:
        small = [(group, n) for group, n in ((1, reading.practices_most),
                                             (reading.last_group, reading.practices_least))
                 if n < MIN_GROUP_PRACTICES] or [(1, reading.practices_most)]
        parts = [f"{_share(reading, group)} of patients "
                 + ("has no practices" if n == 0 else
                    f"is served by only {format_number(n)} practice{'' if n == 1 else 's'}")
                 + " here" for group, n in small]
        return (start + "; ".join(parts) + f" (fewer than {MIN_GROUP_PRACTICES}), too few to "
                f"compare the most with the least deprived practices. Across all "
                f"{format_number(reading.practices)} practices there were "
                f"{_rate(reading.overall)} {WORKFORCE_UNIT}." + estimated)
    interval = interval_in_words(reading.gap_pct_lower, reading.gap_pct_upper, "%", 1,
                                 words=("more", "fewer"))
    verdict = ", not a clear difference" if reading.direction == "similar" else ""
    if _gap_words(reading) == "about the same":
        sized = "about the same" + (f" ({interval}{verdict})" if interval else "")
    else:
        pct = format_percent(abs(reading.gap_pct))
        sized = (f"{_rate(abs(reading.gap))} {'more' if reading.gap > 0 else 'fewer'} ({pct}"
                 + (f"; {interval}" if interval else "") + f"{verdict})")
    return (f"{start}practices serving {_share(reading, 1)} of patients had "
            f"{_rate(reading.most)} {WORKFORCE_UNIT}, against {_rate(reading.least)} for "
            f"{_share(reading, reading.last_group)}: {sized}." + estimated)


def _change(first: float, last: float) -> str:
    pct = (last - first) / first * 100 if first else math.nan
    return (f"from {_rate(first)} to {_rate(last)} "
            f"({format_percent(pct, signed=True)})")


def workforce_trend_sentence(readings: list[WorkforceGap]) -> str:
    """How the most- against least-deprived gap moved over the years in which it can be
    compared, with both groups' rates in the first and last of those years and their change.

    The gap "widened" or "narrowed" when the last year's gap lies outside the first year's
    95% interval (the shared comparison rule), else it "stayed about the same".
    """
    readings = sorted(readings, key=lambda r: r.year)
    usable = [r for r in readings if r.comparable]
    if not usable:
        return (f"The gap cannot be followed over time here: in every year from "
                f"{readings[0].year} to {readings[-1].year} the most or least deprived group "
                f"has fewer than {MIN_GROUP_PRACTICES} practices.")
    first, last = usable[0], usable[-1]
    if first is last:
        return (f"Only {first.year} can be compared: the most deprived group had "
                f"{_gap_words(first)} GPs per 10,000 weighted patients.")
    span = (f"From {first.year} to {last.year}" if len(usable) == len(readings)
            else f"In the {len(usable)} years from {first.year} to {last.year} that can be "
                 f"compared")
    sides = {np.sign(round(r.gap_pct, 1)) for r in usable}
    if sides == {-1.0}:
        every = "fewer GPs per 10,000 weighted patients than the least deprived in every year"
    elif sides == {1.0}:
        every = "more GPs per 10,000 weighted patients than the least deprived in every year"
    else:
        every = "sometimes more and sometimes fewer GPs per 10,000 weighted patients than the "
        every += "least deprived"
    # the last year's gap against the first year's 95% interval (the shared rule)
    change = compare_with_reference(first.gap_pct, last.gap_pct, lower=first.gap_pct_lower,
                                    upper=first.gap_pct_upper)
    if change.direction == "similar":
        moved = "stayed about the same"
    elif (first.gap_pct < 0) != (last.gap_pct < 0):
        moved = "reversed"
    else:
        moved = "widened" if abs(last.gap_pct) > abs(first.gap_pct) else "narrowed"
    estimated = (f" ({last.year}: weighted patients estimated)" if last.estimated else "")
    return (f"{span} practices serving the most deprived fifth of patients had {every}; the "
            f"gap {moved}, from {_gap_words(first)} in {first.year} to {_gap_words(last)} in "
            f"{last.year}{estimated}. The most deprived fifth went {_change(first.most, last.most)}"
            f" {WORKFORCE_UNIT}, the least deprived fifth {_change(first.least, last.least)}.")


def workforce_display_table(table: pd.DataFrame) -> pd.DataFrame:
    """The table as a reader sees it: plain headers, counts with separators, the rate to two
    decimals and its interval (in words where there is none; never "None")."""
    key = "quintile" if "quintile" in table.columns else "decile"
    patients = ("Registered patients" if table.attrs.get("patients") == "registered" else
                "Weighted patients (estimated)" if table.attrs.get("estimated") else
                "Weighted patients")
    rows = []
    for r in table.itertuples():
        n = int(r.practices)
        rate, interval = group_rate_text(n, r.gps_per_10k, r.ci_lower, r.ci_upper, _rate)
        rows.append({
            f"{key.capitalize()} (1 = most deprived)": str(getattr(r, key)),
            "Practices": format_number(n),
            patients: format_number(r.patients),
            "Qualified GPs (headcount)": format_number(r.gps),
            "GPs per 10,000 patients": rate,
            "95% confidence interval": interval,
        })
    return pd.DataFrame(rows)
