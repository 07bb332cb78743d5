"""Coded values mapped after counting: the engine counts records by the sex, ethnic-category
and date text as written, which take a few dozen or a few hundred distinct values, and these
functions tidy (trim, upper-case) and map each distinct value once. Mapping the counts instead of
every record keeps the engine's pass over the records to joins and arithmetic (on 1 M
records, the per-record regular expressions cost more than everything else together) and
gives DuckDB and Spark the same rules by construction."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from analysis.audit import codes as C

_ETHNIC_CODE = re.compile(r"^(99|[A-Z])(\b|$)")
_DAY_FIRST = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})")


def _per_distinct(raw: pd.Series, rule) -> pd.Series:
    """Apply ``rule`` to each distinct value of ``raw`` (categorical or text) once."""
    values = raw.astype("category") if not isinstance(raw.dtype, pd.CategoricalDtype) else raw
    mapped = [rule(v) for v in values.cat.categories.astype(str)]
    codes = values.cat.codes.to_numpy()
    table = np.asarray([*mapped, rule(None)], dtype=object)
    return pd.Series(table[np.where(codes >= 0, codes, len(mapped))], index=raw.index)


def sex_of(raw: pd.Series) -> pd.Series:
    """NHS person stated gender codes (1 male, 2 female; 0, 9 and anything else not known) and
    M/F/MALE/FEMALE → "M", "F" or "U"."""
    return _per_distinct(raw, lambda v: C.SEX_CODES.get((v or "").strip().upper(), "U"))


def _ethnic_group(value: str | None) -> str:
    text = (value or "").strip().upper()
    if not text:
        return C.NOT_STATED
    match = _ETHNIC_CODE.match(text)
    if match is None:
        return C.NOT_RECOGNISED
    code = match.group(1)
    if code in C.ETHNICITY_NOT_STATED_CODES:
        return C.NOT_STATED
    category = C.ETHNIC_CATEGORIES.get(code)
    return category[1] if category else C.NOT_RECOGNISED


def ethnic_group_of(raw: pd.Series) -> pd.Series:
    """NHS ethnic category (``"A"``, ``"A - White British"``, ``"99"``) → Census high-level
    group, "Not stated" (Z, 99, blank) or "Not recognised"."""
    return _per_distinct(raw, _ethnic_group)


def _date(value: str | None) -> pd.Timestamp | None:
    text = (value or "").strip()
    match = _DAY_FIRST.match(text)
    if match:
        day, month, year = match.groups()
        text = f"{year}-{int(month):02d}-{int(day):02d}"
    try:
        return pd.Timestamp(text[:10]) if re.match(r"^\d{4}-\d{2}-\d{2}$", text[:10]) else None
    except ValueError:
        return None


def dates_of(raw: pd.Series) -> pd.Series:
    """Event dates from ISO text (``2024-03-31``, with or without a time) or ``31/03/2024``
    (day first, as UK extracts write them); anything else is missing."""
    return _per_distinct(raw, _date)
