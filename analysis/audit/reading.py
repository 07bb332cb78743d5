"""An audit in words and as plain data: the verdict a councillor reads, the caveats that could
change it, and the JSON and tables behind them (small counts suppressed throughout).

Every sentence states the direction in words, quotes observed values with their unit, and
keeps the caveat that matters: how many records were left out and why, how complete
ethnicity is, which population the rates use, and, for simulated records, that they are
simulated.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from analysis.audit import codes as C
from analysis.audit.results import FLAG_HIGHER, FLAG_LOWER, RATE_UNIT, AuditResult
from analysis.disclosure import DEFAULT_THRESHOLD, suppression_mask
from analysis.numbers import format_number, format_percent, interval_in_words

QUINTILE_NAMES = {1: "the most deprived fifth", 2: "the second most deprived fifth",
                  3: "the middle fifth", 4: "the second least deprived fifth",
                  5: "the least deprived fifth"}
SIMULATED_CAVEAT = ("These records are simulated (not real patients): drawn from real ONS/NRS "
                    "populations with a known gradient, to show how the audit works.")
#: Counts of people shown in any table or JSON: 1 to 4 are hidden.
THRESHOLD = DEFAULT_THRESHOLD


def ratio_sentence(row: pd.Series | None, group: str, service: str) -> str:
    """``"Use of the service is 19% lower in the most deprived fifth than expected for their
    age (95% CI 15% to 23% lower)."``: the indirectly standardised ratio read as a
    difference from 100."""
    if row is None or not _finite(row.get("ratio")):
        return f"There were no records from {group} to compare with the expected number."
    difference = float(row["ratio"]) - 100
    interval = interval_in_words(_minus100(row.get("ratio_lower")),
                                 _minus100(row.get("ratio_upper")), "%", 0)
    ci = f" ({interval})" if interval else ""
    clear = _finite(row.get("ratio_lower")) and (row["ratio_lower"] > 100
                                                  or row["ratio_upper"] < 100)
    if round(difference) == 0 or not clear:
        return (f"Use of {service} by {group} is about what their age would predict "
                f"(the difference is not clear{ci}).")
    word = "higher" if difference > 0 else "lower"
    # the interval is written as magnitudes; its direction is the sentence's
    ci = f" ({interval} {word})" if interval else ""
    return (f"Use of {service} by {group} is {format_percent(abs(difference), 0)} {word} than "
            f"expected for their age{ci}.")


def verdict(result: AuditResult) -> str:
    """The headline: the most deprived fifth's use against what its age structure predicts."""
    row = _quintile(result, 1)
    area = result.study.name
    sentence = ratio_sentence(row, f"people living in {QUINTILE_NAMES[1]} of {area}'s small "
                                   "areas", result.service)
    return sentence


def sentences(result: AuditResult) -> list[str]:
    """The verdict, the comparison with the least deprived fifth, the observed DSRs, the
    slope index and the caveats, in the order a briefing reads them."""
    out = [verdict(result)]
    least = _quintile(result, 5)
    if least is not None:
        out.append(ratio_sentence(least, QUINTILE_NAMES[5], result.service))
    most = _quintile(result, 1)
    if most is not None and least is not None and _finite(most.get("dsr")) and _finite(
            least.get("dsr")):
        out.append(
            f"Age-standardised, {QUINTILE_NAMES[1]} had {format_number(most['dsr'], 0)} "
            f"records {RATE_UNIT} (95% CI {format_number(most['lower'], 0)} to "
            f"{format_number(most['upper'], 0)}) and {QUINTILE_NAMES[5]} "
            f"{format_number(least['dsr'], 0)} ({format_number(least['lower'], 0)} to "
            f"{format_number(least['upper'], 0)}).")
    if result.sii is not None:
        sii = float(result.sii.sii)
        direction = "rises" if sii > 0 else "falls"
        interval = interval_in_words(result.sii.sii_lower, result.sii.sii_upper, "", 0,
                                     words=("rising", "falling"))
        detail = f", {interval}" if interval else ""
        out.append(f"Across the five fifths the rate {direction} by "
                   f"{format_number(abs(sii), 0)} {RATE_UNIT} from the most to the least "
                   f"deprived end (slope index of inequality{detail}).")
    lower = int((result.areas["flag"] == FLAG_LOWER).sum())
    higher = int((result.areas["flag"] == FLAG_HIGHER).sum())
    out.append(f"{lower:,} of {len(result.areas):,} small areas used the service less than "
               f"expected for their age beyond the 99.8% funnel limit, and {higher:,} more.")
    out += caveats(result)
    return out


def caveats(result: AuditResult) -> list[str]:
    """What could change the conclusion, each with its figure."""
    notes: list[str] = []
    if result.simulated:
        notes.append(SIMULATED_CAVEAT)
    left_out = sum(result.excluded.values())
    if left_out:
        top = max(result.excluded, key=result.excluded.get)
        notes.append(
            f"{format_number(left_out, 0)} of {format_number(result.rows, 0)} records "
            f"({format_percent(100 * left_out / result.rows, 1)}) were left out, most often "
            f"because: {C.EXCLUSION_REASONS[top]} ({format_number(result.excluded[top], 0)}); "
            "if those people differ from the rest, the rates above would change.")
    not_stated = result.quality["ethnicity_not_stated"] + result.quality[
        "ethnicity_not_recognised"]
    if result.events and not_stated:
        notes.append(f"Ethnicity was not stated or not recognised on "
                     f"{format_percent(100 * not_stated / result.events, 1)} of the records "
                     "used; ratios by ethnic group assume each group shares the age structure "
                     "of the small areas it lives in.")
    notes.append(f"Rates use {result.denominator_source} for {result.study.name}; lower use "
                 "where need is greater suggests unmet need but does not prove it (check who "
                 "the service is for and what other services meet the same need).")
    return notes


def _quintile(result: AuditResult, quintile: int) -> pd.Series | None:
    rows = result.by_quintile[result.by_quintile["quintile"] == quintile]
    return rows.iloc[0] if len(rows) else None


def _finite(value: Any) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _minus100(value: Any) -> float | None:
    return float(value) - 100 if _finite(value) else None


# ---- tables and JSON -------------------------------------------------------------------

def suppressed_table(frame: pd.DataFrame, count_columns: tuple[str, ...] = ("events",),
                     derived: tuple[str, ...] = ()) -> pd.DataFrame:
    """A copy with person counts of 1 to 4 blanked, and with them every figure that would
    let the count be worked out (``derived``: rates, ratios and their limits)."""
    out = frame.copy()
    if out.empty:
        return out
    hidden = np.zeros(len(out), dtype=bool)
    for column in count_columns:
        if column in out.columns:
            hidden |= np.asarray(suppression_mask(out[column].tolist(), THRESHOLD,
                                                  complementary=False))
    out["suppressed"] = hidden
    for column in (*count_columns, *derived):
        if column in out.columns:
            out[column] = out[column].astype("float64").mask(hidden)
    return out


RATE_COLUMNS = ("dsr", "lower", "upper", "rate", "ratio", "ratio_lower", "ratio_upper",
                "observed", "crude_rate", "crude_lower", "crude_upper")


def _records(frame: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    table = suppressed_table(frame, ("events", "observed"), RATE_COLUMNS)
    keep = [c for c in columns if c in table.columns] + ["suppressed"]
    rows = []
    for record in table[keep].to_dict("records"):
        rows.append({k: _plain(v) for k, v in record.items()})
    return rows


def _plain(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return round(float(value), 6) if math.isfinite(float(value)) else None
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return str(value)


GROUP_COLUMNS = ["events", "population", "dsr", "lower", "upper", "published", "expected",
                 "ratio", "ratio_lower", "ratio_upper"]


def to_json(result: AuditResult) -> dict[str, Any]:
    """The audit as plain data (``fairshare audit --json``): DSRs per 100,000 a year, ratios
    where 100 = as expected, counts of 1 to 4 as ``null`` with ``"suppressed": true``."""
    study = result.study
    return {
        "service": result.service,
        "simulated": result.simulated,
        "engine": result.engine,
        "rows": result.rows,
        "events": result.events,
        "excluded": dict(result.excluded),
        "excluded_reasons": {k: C.EXCLUSION_REASONS[k] for k in result.excluded},
        "study_area": {"code": study.code, "name": study.name, "level": study.level,
                       "country": study.country, "inferred": study.inferred,
                       "share_of_records": round(study.share_of_records, 6),
                       "small_areas": len(study.small_areas)},
        "population": result.denominator_source,
        "deprivation": result.deprivation_source,
        "years": result.years,
        "rate_unit": RATE_UNIT,
        "by_deprivation_quintile": _records(result.by_quintile, ["quintile", *GROUP_COLUMNS]),
        "by_deprivation_decile": _records(result.by_decile, ["decile", *GROUP_COLUMNS]),
        "by_age": _records(result.by_age, ["age_band", "events", "population", "rate",
                                           "lower", "upper"]),
        "by_sex": _records(result.by_sex, ["sex", "sex_label", "events", "population",
                                           "dsr", "lower", "upper", "published"]),
        "by_ethnicity": _records(result.by_ethnicity, ["ethnic_group", "events", "population",
                                                       "rate", "expected", "ratio",
                                                       "ratio_lower", "ratio_upper"]),
        "by_deprivation_and_ethnicity": _records(
            result.by_quintile_ethnicity, ["quintile", "ethnic_group", "events", "population",
                                           "rate", "expected", "ratio", "ratio_lower",
                                           "ratio_upper"]),
        **{f"by_{role}": _records(table, ["value", "quintile", *GROUP_COLUMNS])
           for role, table in result.splits.items()},
        "sii": None if result.sii is None else {
            "sii": _plain(result.sii.sii), "lower": _plain(_first(result.sii.sii_lower)),
            "upper": _plain(_first(result.sii.sii_upper)), "unit": RATE_UNIT},
        "areas": {"small_areas": int(len(result.areas)),
                  "lower_than_expected": int((result.areas["flag"] == FLAG_LOWER).sum()),
                  "higher_than_expected": int((result.areas["flag"] == FLAG_HIGHER).sum())},
        "quality": result.quality,
        "verdict": verdict(result),
        "sentences": sentences(result),
    }


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, tuple) else value
