"""Practice-level inverse care analysis of GP funding: payments per weighted patient by the
deprivation of each practice's registered population.

Method (following the published primary-care equity literature: Fisher R, Dunn P, Asaria M,
Thorlby R. *Level or not? Comparing general practice in areas of high and low socioeconomic
deprivation in England*, The Health Foundation, 2020; Levene LS et al. *Socioeconomic
deprivation scores as predictors of variations in NHS practice payments*, BJGP 2019;69:e546;
Tudor Hart J. *The inverse care law*, Lancet 1971)
--------------------------------------------------------------------------------------------
* **Practice deprivation**: OHID Fingertips indicator 93553, the IMD score of each practice's
  registered population (LSOA IMD scores averaged over the practice's patients by where they
  live), for IMD 2010, 2015 and 2019 (:func:`practice_deprivation`).
* **Which IMD edition for which payment year** (:data:`IMD_EDITION_FOR_PAYMENT_YEAR`): the
  latest edition published before the end of the financial year - IoD2015 (published
  30 September 2015) for 2015-16 to 2018-19 and IoD2019 (published 26 September 2019) for
  2019-20 to 2022-23 - and IoD2015 for 2014-15 as well, rather than IoD2010 (published March
  2011), because IoD2010's indicators date from 2008 while IoD2015's date from 2012-13, nearer
  that year, and the Fingertips 2015 scores cover more of the 2014-15 practices (98.5% of
  practices, 99.4% of weighted patients, against 98.0% and 98.4% for 2010). No edition after
  the payment year is used for 2015-16 onwards.
* **Deprivation groups** (:func:`assign_deprivation_groups`): practices are ranked within
  England by IMD score, highest (most deprived) first, and cut into quintiles or deciles with
  **1 = most deprived**. By default the groups are **patient-weighted**: each holds about a fifth
  (tenth) of England's registered patients in that year, so "quintile 1" means "the practices
  serving the most deprived fifth of patients". We prefer this to equal practice counts because
  the analysis is about patients' funding, practice list sizes differ systematically with
  deprivation, and equal-population groups make the group rates comparable in precision;
  ``weighting="practices"`` gives the equal-practice-count variant used in some papers. A
  practice is placed by the mid-point of its cumulative patient share, ties share a group, and
  the boundaries are always set on all of England's practices with patients and an IMD score
  in that year - before any subset, dispensing or size filter - so a sub-ICB's practices keep
  their national quintile.
* **Rate**: patient-weighted, i.e. sum of payments / sum of weighted (Carr-Hill) patients over
  the practices in the group (a ratio estimator, equal to the weighted-patient-weighted mean of
  practice rates). Practices with zero or missing patients are excluded (they cannot have a
  rate; see :func:`analysis.funding.payments.payments_quality_report`).
* **Confidence interval**: linearisation (Taylor series) standard error of the ratio estimator
  treating practices as the units (Cochran, *Sampling Techniques*, 3rd ed., 1977, s.6.4;
  Lumley, *Complex Surveys*, 2010): with ``R = sum(y)/sum(x)``, ``e_i = y_i - R x_i``,
  ``SE(R) = sqrt(n/(n-1) * sum(e_i^2)) / sum(x)``, and a Student-t interval with ``n-1``
  degrees of freedom (so that small groups - a sub-ICB's practices - are not over-confident).
  We chose it over a bootstrap because it is closed-form, deterministic and vectorised, agrees
  with a seeded percentile bootstrap to within a few percent on these data (see the tests), and
  gives the same answer for any caller. The payments are a census of practices, so the interval
  describes between-practice variability (how precisely the group's practices pin down the
  funding level a practice of that deprivation receives), not sampling error in a survey.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "IMD_EDITION_FOR_PAYMENT_YEAR",
    "IMD_PUBLICATION_DATES",
    "assign_deprivation_groups",
    "deprivation_groups",
    "funding_by_deprivation",
    "funding_by_deprivation_all_years",
    "funding_gap",
    "practice_deprivation",
]

FINGERTIPS_INDICATOR = 93553

#: Publication dates of the English Indices of Deprivation editions in indicator 93553
#: (MHCLG / DCLG statistical releases).
IMD_PUBLICATION_DATES: dict[int, str] = {
    2010: "2011-03-24",
    2015: "2015-09-30",
    2019: "2019-09-26",
}

#: The IMD edition used for each payment year (see the module docstring for the rule).
IMD_EDITION_FOR_PAYMENT_YEAR: dict[str, int] = {
    "2014-15": 2015,
    "2015-16": 2015,
    "2016-17": 2015,
    "2017-18": 2015,
    "2018-19": 2015,
    "2019-20": 2019,
    "2020-21": 2019,
    "2021-22": 2019,
    "2022-23": 2019,
}

_GROUPS = {"quintile": 5, "decile": 10}
_PRACTICE_CODE = r"[A-Z]\d{5}"

PracticeFilter = Iterable[str] | Callable[[pd.DataFrame], pd.Series] | None


def practice_deprivation(fingertips_frame: pd.DataFrame) -> pd.DataFrame:
    """Practice IMD scores from a Fingertips indicator 93553 extract.

    Accepts the compact long layout (``IndicatorID, Year, AreaCode, AreaName, IsAreaCurrent,
    Value``) or the raw Fingertips export (``Indicator ID, Area Code, Area Type, Time period,
    Value``). Keeps indicator 93553 rows for GP practices only (``Area Type`` "GPs" where the
    column exists, and practice-shaped codes such as ``A81001`` - England, region and CCG rows
    are dropped) and rows with a value.

    Returns ``practice_code`` (string), ``imd_year`` (int: 2010, 2015, 2019), ``imd_score``
    (float, higher = more deprived), sorted; one row per practice and IMD year.

    Raises ValueError if the columns are missing or a practice has two different scores for
    one IMD year.
    """
    norm = {c: "".join(ch for ch in str(c).lower() if ch.isalnum()) for c in fingertips_frame}
    aliases = {
        "indicator": ("indicatorid",),
        "code": ("areacode",),
        "year": ("year", "timeperiod"),
        "value": ("value",),
        "area_type": ("areatype",),
    }
    cols: dict[str, str] = {}
    for key, names in aliases.items():
        hit = [c for c, n in norm.items() if n in names]
        if hit:
            cols[key] = hit[0]
    missing = [k for k in ("code", "year", "value") if k not in cols]
    if missing:
        raise ValueError(f"Fingertips frame lacks column(s) for {missing}; columns found: "
                         f"{list(fingertips_frame.columns)}")
    df = fingertips_frame
    keep = pd.Series(True, index=df.index)
    if "indicator" in cols:
        keep &= pd.to_numeric(df[cols["indicator"]], errors="coerce") == FINGERTIPS_INDICATOR
    if "area_type" in cols:
        keep &= df[cols["area_type"]].astype(str).str.strip().str.lower().isin(
            ["gps", "gp", "gp practices"])
    code = df[cols["code"]].astype(str).str.strip().str.upper()
    keep &= code.str.fullmatch(_PRACTICE_CODE)
    year = pd.to_numeric(df[cols["year"]].astype(str).str.extract(r"(\d{4})")[0],
                         errors="coerce")
    value = pd.to_numeric(df[cols["value"]], errors="coerce")
    keep &= year.notna() & value.notna()
    out = pd.DataFrame({
        "practice_code": code[keep].astype("string"),
        "imd_year": year[keep].astype("int64"),
        "imd_score": value[keep].astype("float64"),
    }).drop_duplicates()
    clash = out.duplicated(["practice_code", "imd_year"], keep=False)
    if clash.any():
        raise ValueError("Fingertips 93553: practice(s) with two different IMD scores for one "
                         f"IMD year: {out.loc[clash].head(6).to_dict('records')}")
    return out.sort_values(["imd_year", "practice_code"]).reset_index(drop=True)


def assign_deprivation_groups(imd_score: pd.Series, weights: pd.Series | None = None,
                              n_groups: int = 5) -> pd.Series:
    """Deprivation group of each practice, **1 = most deprived** (highest IMD score).

    Practices are ordered by score, highest first; each practice's position is the mid-point
    of its cumulative share of the total weight (registered patients, or 1 per practice when
    ``weights`` is None), and group = floor(share * n_groups) + 1. Practices with equal scores
    are pooled so they always share a group. Rows with a missing score or a missing or
    non-positive weight get <NA> and do not count towards the boundaries.
    """
    if n_groups < 1:
        raise ValueError("n_groups must be at least 1")
    score = pd.to_numeric(imd_score, errors="coerce").astype("float64")
    w = (pd.Series(1.0, index=score.index) if weights is None
         else pd.to_numeric(weights, errors="coerce").astype("float64").reindex(score.index))
    ok = score.notna() & w.notna() & (w > 0)
    out = pd.Series(pd.NA, index=score.index, dtype="Int64")
    if not ok.any():
        return out
    by_score = w[ok].groupby(score[ok]).sum().sort_index(ascending=False)
    cum = by_score.cumsum()
    mid_share = (cum - by_score / 2.0) / cum.iloc[-1]
    group = np.minimum(np.floor(mid_share.to_numpy() * n_groups).astype(int) + 1, n_groups)
    lookup = pd.Series(group, index=by_score.index)
    out[ok] = score[ok].map(lookup).to_numpy()
    return out


def _year_rows(payments: pd.DataFrame, year: str) -> pd.DataFrame:
    rows = payments.loc[payments["year"].astype(str) == year]
    if rows.empty:
        raise ValueError(f"no payments rows for year {year!r}; years present: "
                         f"{sorted(payments['year'].astype(str).unique())}")
    dup = rows["practice_code"].duplicated(keep=False)
    if dup.any():
        raise ValueError(f"{year}: duplicate practice codes in payments: "
                         f"{sorted(rows.loc[dup, 'practice_code'].unique())[:10]}")
    return rows


def _has_patients(rows: pd.DataFrame) -> pd.Series:
    return (rows["registered_patients"].fillna(0) > 0) & (rows["weighted_patients"].fillna(0) > 0)


def _imd_for(practice_imd: pd.DataFrame, year: str) -> tuple[int, pd.Series]:
    if year not in IMD_EDITION_FOR_PAYMENT_YEAR:
        raise ValueError(f"no IMD edition is mapped for payment year {year!r}; add it to "
                         "IMD_EDITION_FOR_PAYMENT_YEAR")
    edition = IMD_EDITION_FOR_PAYMENT_YEAR[year]
    sel = practice_imd.loc[practice_imd["imd_year"] == edition]
    if sel.empty:
        raise ValueError(f"practice_imd has no IMD {edition} scores (needed for {year})")
    return edition, sel.set_index("practice_code")["imd_score"]


def deprivation_groups(payments: pd.DataFrame, practice_imd: pd.DataFrame, *, year: str,
                       groups: Literal["quintile", "decile"] = "quintile",
                       weighting: Literal["patients", "practices"] = "patients",
                       ) -> pd.DataFrame:
    """England-wide deprivation quintile/decile of every practice with patients in ``year``.

    ``payments`` must be the whole of England for that year (the canonical table from
    :mod:`analysis.funding.payments`); ``practice_imd`` is :func:`practice_deprivation` output.
    Returns ``practice_code``, ``imd_year``, ``imd_score`` and ``quintile``/``decile`` (<NA>
    for practices without an IMD score). ``weighting="patients"`` (default) makes groups of
    about equal registered population; ``"practices"`` makes groups of equal practice counts.
    """
    if groups not in _GROUPS:
        raise ValueError(f"groups must be 'quintile' or 'decile', not {groups!r}")
    if weighting not in ("patients", "practices"):
        raise ValueError(f"weighting must be 'patients' or 'practices', not {weighting!r}")
    rows = _year_rows(payments, year)
    rows = rows.loc[_has_patients(rows)]
    edition, scores = _imd_for(practice_imd, year)
    code = rows["practice_code"].astype(str)
    score = code.map(scores)
    weights = rows["registered_patients"] if weighting == "patients" else None
    group = assign_deprivation_groups(score, weights, _GROUPS[groups])
    return pd.DataFrame({
        "practice_code": code.astype("string").to_numpy(),
        "imd_year": edition,
        "imd_score": score.to_numpy(dtype="float64"),
        groups: group.to_numpy(),
    })


def _select(rows: pd.DataFrame, practices: PracticeFilter) -> tuple[pd.Series, list[str]]:
    if practices is None:
        return pd.Series(True, index=rows.index), []
    if callable(practices):
        mask = practices(rows)
        mask = pd.Series(mask, index=rows.index) if not isinstance(mask, pd.Series) else mask
        return mask.reindex(rows.index).fillna(False).astype(bool), []
    if isinstance(practices, str):
        practices = [practices]
    wanted = {str(p).strip().upper() for p in practices}
    code = rows["practice_code"].astype(str)
    return code.isin(wanted), sorted(wanted - set(code))


def _ratio_table(y: np.ndarray, x: np.ndarray, group: np.ndarray, n_groups: int,
                 confidence: float) -> pd.DataFrame:
    """Per group: n, sum x, sum y, ratio, linearised SE and t interval (vectorised)."""
    idx = pd.RangeIndex(1, n_groups + 1)
    frame = pd.DataFrame({"g": group, "x": x, "y": y})
    agg = frame.groupby("g").agg(n=("x", "size"), x=("x", "sum"), y=("y", "sum"))
    agg = agg.reindex(idx)
    agg["n"] = agg["n"].fillna(0).astype("int64")
    ratio = agg["y"] / agg["x"]
    resid = frame["y"] - frame["g"].map(ratio) * frame["x"]
    ss = (resid**2).groupby(frame["g"]).sum().reindex(idx)
    n = agg["n"].astype("float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(n / (n - 1) * ss) / agg["x"]
    se = se.where(n > 1)
    tq = pd.Series(stats.t.ppf(0.5 + confidence / 2, np.maximum(n - 1, 1)), index=idx)
    return pd.DataFrame({
        "practices": agg["n"],
        "weighted_patients": agg["x"].fillna(0.0),
        "payments": agg["y"].fillna(0.0),
        "per_weighted_patient": ratio,
        "se": se,
        "ci_lower": ratio - tq * se,
        "ci_upper": ratio + tq * se,
    }, index=idx)


def funding_by_deprivation(
    payments: pd.DataFrame,
    practice_imd: pd.DataFrame,
    *,
    year: str,
    groups: Literal["quintile", "decile"] = "quintile",
    include_dispensing: bool = True,
    practices: PracticeFilter = None,
    measure: str = "total_payments",
    exclude: Sequence[str] = (),
    weighting: Literal["patients", "practices"] = "patients",
    min_registered_patients: float = 0.0,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Patient-weighted payments per weighted patient by practice deprivation group.

    Parameters
    ----------
    payments:
        Canonical payments table (:func:`analysis.funding.payments.load_all_payments`) covering all
        of England for ``year`` - the deprivation groups are set nationally.
    practice_imd:
        :func:`practice_deprivation` output; the edition is chosen by
        :data:`IMD_EDITION_FOR_PAYMENT_YEAR`.
    year:
        Payment year, e.g. ``"2022-23"``.
    groups:
        ``"quintile"`` (5 groups) or ``"decile"`` (10); 1 = most deprived.
    include_dispensing:
        If False, practices flagged as dispensing are left out of the rates (their totals include
        drug reimbursement). Practices with unknown dispensing status are kept.
    practices:
        Restrict the rates to a subset: an iterable of practice codes, or a callable taking the
        year's payments rows and returning a boolean Series (e.g.
        ``lambda d: d["ccg_or_sicb_code"] == "15N"``). Quintiles stay national.
    measure:
        Numerator column (default the headline ``total_payments``; e.g.
        ``"total_payments_incl_pcn_covid"`` from 2020-21).
    exclude:
        Payment group columns subtracted from the numerator, e.g.
        ``("prescribing_dispensing", "premises")``.
    weighting:
        ``"patients"`` (default) or ``"practices"`` - how the group boundaries are set.
    min_registered_patients:
        Leave out practices with fewer registered patients (sensitivity analysis; 0 keeps every
        practice with patients).
    confidence:
        Confidence level of the interval.

    Returns
    -------
    One row per group 1..n (all groups, even if empty): ``quintile``/``decile``,
    ``practices``, ``weighted_patients``, ``payments``, ``per_weighted_patient`` (sum payments /
    sum weighted patients), ``se``, ``ci_lower``, ``ci_upper``. ``.attrs`` records the year,
    IMD edition, measure, filters and the practices excluded for want of an IMD score.
    """
    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1")
    for col in (measure, *exclude):
        if col not in payments.columns:
            raise ValueError(f"payments has no column {col!r}")
    n_groups = _GROUPS.get(groups)
    if n_groups is None:
        raise ValueError(f"groups must be 'quintile' or 'decile', not {groups!r}")
    rows = _year_rows(payments, year)
    dep = deprivation_groups(payments, practice_imd, year=year, groups=groups,
                             weighting=weighting).set_index("practice_code")

    chosen, not_found = _select(rows, practices)
    use = chosen & _has_patients(rows)
    if not include_dispensing:
        use &= ~rows["dispensing"].astype("boolean").fillna(False).astype(bool)
    if min_registered_patients > 0:
        use &= rows["registered_patients"] >= min_registered_patients
    sel = rows.loc[use]
    group = sel["practice_code"].astype(str).map(dep[groups])
    no_imd = group.isna()
    sel, group = sel.loc[~no_imd], group.loc[~no_imd].astype("int64")

    y = sel[measure].astype("float64")
    for col in exclude:
        y = y - sel[col].astype("float64").fillna(0.0)
    if y.isna().any():
        raise ValueError(f"{year}: {int(y.isna().sum())} practice(s) have no {measure!r} "
                         "(e.g. a total only published from 2020-21)")
    table = _ratio_table(y.to_numpy(), sel["weighted_patients"].to_numpy(dtype="float64"),
                         group.to_numpy(), n_groups, confidence)
    table.index.name = groups
    table = table.reset_index()
    table.attrs = {
        "year": year,
        "imd_year": IMD_EDITION_FOR_PAYMENT_YEAR[year],
        "groups": groups,
        "weighting": weighting,
        "measure": measure,
        "exclude": list(exclude),
        "include_dispensing": include_dispensing,
        "min_registered_patients": min_registered_patients,
        "confidence": confidence,
        "practices_selected": int(chosen.sum()),
        "practices_without_patients": int((chosen & ~_has_patients(rows)).sum()),
        "practices_without_imd": int(no_imd.sum()),
        "weighted_patients_without_imd": float(
            rows.loc[no_imd[no_imd].index, "weighted_patients"].sum()),
        "practice_codes_not_found": not_found,
    }
    return table


def funding_by_deprivation_all_years(payments: pd.DataFrame, practice_imd: pd.DataFrame,
                                     **kwargs) -> pd.DataFrame:
    """:func:`funding_by_deprivation` for every year in ``payments`` that has an IMD mapping,
    stacked with a leading ``year`` and ``imd_year`` column. Keyword arguments are passed on."""
    frames = []
    for year in sorted(payments["year"].astype(str).unique()):
        if year not in IMD_EDITION_FOR_PAYMENT_YEAR:
            continue
        t = funding_by_deprivation(payments, practice_imd, year=year, **kwargs)
        t.insert(0, "imd_year", t.attrs["imd_year"])
        t.insert(0, "year", year)
        frames.append(t)
    if not frames:
        raise ValueError("no payment year in `payments` has an IMD edition mapped")
    return pd.concat(frames, ignore_index=True)


def funding_gap(table: pd.DataFrame, confidence: float | None = None) -> dict[str, float]:
    """Most- vs least-deprived gap from a :func:`funding_by_deprivation` table.

    ``gap_gbp`` = rate(group 1) - rate(group n) in GBP per weighted patient and ``gap_pct`` =
    (group 1 - group n) / group n x 100, where n = 5 for quintiles and 10 for deciles; negative
    means practices serving the most deprived patients receive less. Also returns the two
    rates and approximate intervals: for ``gap_gbp`` from the two groups' standard errors
    (independent sets of practices), for ``gap_pct`` by the delta method on the log ratio.
    """
    key = "quintile" if "quintile" in table.columns else "decile"
    if key not in table.columns:
        raise ValueError("table needs a 'quintile' or 'decile' column")
    t = table.set_index(key)
    top, bottom = int(t.index.min()), int(t.index.max())
    if top != 1 or bottom < 2:
        raise ValueError(f"table must hold groups 1..n; has {list(t.index)}")
    most = float(t.at[top, "per_weighted_patient"])
    least = float(t.at[bottom, "per_weighted_patient"])
    conf = confidence or float(table.attrs.get("confidence", 0.95))
    z = float(stats.norm.ppf(0.5 + conf / 2))
    out = {
        "most_deprived": most,
        "least_deprived": least,
        "gap_gbp": most - least,
        "gap_pct": (most - least) / least * 100.0 if least else math.nan,
    }
    if "se" in t.columns:
        se1, se2 = float(t.at[top, "se"]), float(t.at[bottom, "se"])
        se_gap = math.hypot(se1, se2)
        out["gap_gbp_ci_lower"] = out["gap_gbp"] - z * se_gap
        out["gap_gbp_ci_upper"] = out["gap_gbp"] + z * se_gap
        if most > 0 and least > 0:
            s_log = math.hypot(se1 / most, se2 / least)
            log_r = math.log(most / least)
            out["gap_pct_ci_lower"] = (math.exp(log_r - z * s_log) - 1) * 100
            out["gap_pct_ci_upper"] = (math.exp(log_r + z * s_log) - 1) * 100
    return out


def funding_inverse_care_test(
    payments: pd.DataFrame,
    practice_imd: pd.DataFrame,
    *,
    year: str,
    include_dispensing: bool = True,
    practices: PracticeFilter = None,
    measure: str = "total_payments",
):
    """Inverse care law test of GP funding: payments per weighted patient on practice IMD.

    Each practice with patients, an IMD score (edition from
    :data:`IMD_EDITION_FOR_PAYMENT_YEAR`) and a non-negative ``measure`` is one observation:
    provision = ``measure`` ÷ weighted patients, need = the IMD score of its registered
    population, weight = weighted patients. The regression is
    :func:`analysis.stats.inverse_care.inverse_care_test` (WLS with HC3 errors; Hutt & Gilmour
    2010 and Fisher et al. 2020 use the same practice-level framing). Practices left out are
    counted in ``excluded`` of the returned dict, never dropped silently: negative totals
    (recoveries exceeding payments) cannot be a provision level.

    Returns ``{"result": InverseCareResult, "imd_year": int, "practices": int,
    "excluded": {...}}``.
    """
    from analysis.stats import inverse_care_test

    rows = _year_rows(payments, year)
    selected, missing_codes = _select(rows, practices)
    rows = rows.loc[selected]
    edition, scores = _imd_for(practice_imd, year)
    score = rows["practice_code"].astype(str).map(scores)
    has_patients = _has_patients(rows)
    dispensing = rows["dispensing"].fillna(False).astype(bool)
    value = rows[measure]
    keep = has_patients & score.notna() & (value >= 0)
    if not include_dispensing:
        keep &= ~dispensing
    excluded = {
        "without_patients": int((~has_patients).sum()),
        "without_imd": int((has_patients & score.isna()).sum()),
        "negative_payments": int((has_patients & score.notna() & (value < 0)).sum()),
        "dispensing": 0 if include_dispensing else int((has_patients & dispensing).sum()),
        "codes_not_found": missing_codes,
    }
    kept = rows.loc[keep]
    if len(kept) < 3:
        raise ValueError(f"Only {len(kept)} practices with patients and an IMD score in the "
                         "selection: too few for a regression")
    weighted = kept["weighted_patients"].to_numpy(dtype=float)
    result = inverse_care_test(
        kept[measure].to_numpy(dtype=float) / weighted,
        score.loc[keep].to_numpy(dtype=float),
        weighted,
    )
    return {"result": result, "imd_year": edition, "practices": int(len(kept)),
            "excluded": excluded}


def funding_gap_by_year(trend: pd.DataFrame) -> pd.DataFrame:
    """:func:`funding_gap` for every year of a :func:`funding_by_deprivation_all_years` table.

    Columns: ``year``, ``most_deprived``, ``least_deprived``, ``gap_gbp``, ``gap_pct``.
    """
    rows = []
    for year, table in trend.groupby("year", sort=True):
        gap = funding_gap(table.drop(columns=["year", "imd_year"]))
        rows.append({"year": year, **{k: gap[k] for k in ("most_deprived", "least_deprived",
                                                          "gap_gbp", "gap_pct")}})
    return pd.DataFrame(rows)
