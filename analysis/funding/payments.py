"""Ingest the annual "NHS Payments to General Practice" files into one canonical long table.

Source
------
NHS England (formerly NHS Digital), *NHS Payments to General Practice, England*, annual
practice-level CSV files for the financial years 2014-15 to 2022-23, Open Government Licence
v3.0: https://digital.nhs.uk/data-and-information/publications/statistical/nhs-payments-to-general-practice

This is a **build-time** module: the data build calls :func:`load_all_payments` (or
:func:`read_payments_file`) with the raw directory and writes the result to ``data/`` as
Parquet. Nothing here knows where the raw files live.

What the raw files look like (checked against all nine published files)
-----------------------------------------------------------------------
* Header names drift between years (``PracticeRurality`` in 2016-17, ``Practice Rurality``
  later; ``Doctors.Retainer.Scheme.Payments`` in 2015-16 and 2016-17; ``Practice type`` vs
  ``PracticeType`` vs ``Practice Type``; ``Appraisal Costs`` became ``Appraisal - Appraiser Costs
  in Respect of Locums`` in 2022-23; ``Total Local Enhanced Services`` became ``Total Local
  Incentive Schemes`` in 2018-19 and ``Local Incentive Schemes`` in 2022-23). Some headers
  contain line breaks inside quotes; 2014-15 and 2020-21 onwards start with a UTF-8 BOM.
* 2022-23 relabels its geography columns: ``CCG Code`` holds the **sub-ICB location** code,
  ``Sub ICB NAME`` its name, and the columns headed ``Code`` and ``CCG NAME`` hold the **PCN**
  code and name. Other years have ``CCG Code``/``CCG NAME`` and, from 2019-20, ``PCN Code``.
* Closed practices and walk-in centres appear with 0 registered and 0 weighted patients
  (36 to 206 rows a year) while still carrying payments; the published "average payments"
  columns show 0 or ``N/A`` for them.
* Patient counts are "last known figure" quarterly averages and can be fractional.
* From 2020-21 the PCN network payments (leadership, support, workforce/ARRS, extended hours,
  investment and impact fund, care home premium and, in 2022-23, enhanced access) and the
  Covid payments are published **outside** the headline ``Total NHS Payments to General
  Practice`` (which is why 2022-23 has 60+ payment columns). The headline total is the sum of
  the itemised payment lines in every year (to within GBP 5 of rounding in 2014-15, whose
  values are whole pounds); 2015-16's ``Total Local Enhanced Services`` is a subtotal of its two
  components ``LocalEnhancedServices_NHAIS_`` and ``LocalEnhancedServices_ISFE_``.

Canonical payment groups (``total_payments`` = the headline total, comparable across years)
------------------------------------------------------------------------------------------
* ``global_sum`` - core contract funding: ``Global Sum`` + ``MPIG Correction factor`` +
  ``Balance of PMS Expenditure``. PMS (and many APMS) practices receive their core funding as
  "Balance of PMS Expenditure" and show a Global Sum of 0, so the PMS balance is counted here to
  make the group comparable across contract types (all years).
* ``qof`` - ``Total QOF Payments`` (all years).
* ``premises`` - ``Premises Payments`` (all years).
* ``prescribing_dispensing`` - ``Prescribing Fee Payments`` + ``Dispensing Fee Payments`` +
  ``Reimbursement of Drugs`` (all years).
* ``pcn`` - ``PCN Participation`` (the network participation payment, inside the headline
  total; 2019-20 onwards, 0 before).
* ``other`` - ``total_payments`` minus the five groups above, so the six groups sum to the
  total exactly. It holds enhanced services (DES/NES/LES/LIS lines), seniority, locum and
  retainer allowances, appraisal, PCO admin, IM&T, GP Forward View / Transformation, Winter
  Access Fund and "Other Payments" (see :data:`PAYMENT_LINES` for the exact lines by year).

Outside the headline total (2020-21 onwards; NaN in earlier years, where they are not
published): ``pcn_network_payments`` (the ``PCN ...`` lines other than PCN Participation),
``covid_payments`` (``Covid Immunisation``, ``Covid Support and Expansion``, ``Long Covid``) and
``total_payments_incl_pcn_covid`` = total + both (equal to the files' own "including Covid and
PCN payments" totals in 2021-22 and 2022-23).

Other canonical columns
-----------------------
``year`` ("2022-23"), ``practice_code``, ``practice_name``, ``postcode`` (upper case, one space
before the inward code), ``ccg_or_sicb_code`` (the file's own CCG code; sub-ICB location code in
2022-23), ``pcn_code`` (2019-20 on; NA for "Unknown or no PCN"), ``contract_type``
(GMS/PMS/APMS, NA for "Unknown"), ``dispensing`` (nullable bool; NA for "Unknown", which in
these files is on rows without patients except for one practice in 2021-22), ``rurality``
(Urban/Rural; NA before 2016-17 and for "MISSING"), ``practice_type`` (2016-17 on),
``registered_patients``, ``weighted_patients`` (Carr-Hill), ``payments_per_registered_patient`` and
``payments_per_weighted_patient`` (total / patients; NaN when patients are 0 or missing),
``deductions`` (pensions, levies and prescription charge income; negative).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.data import data_cache, read_parquet

__all__ = [
    "CANONICAL_COLUMNS",
    "HEADER_VARIANTS",
    "IGNORED_HEADERS",
    "OUTSIDE_TOTAL_LINES",
    "PAYMENT_GROUPS",
    "PAYMENT_LINES",
    "YEARS",
    "duplicate_practices",
    "layout_for_year",
    "load_all_payments",
    "normalise_header",
    "payments_files",
    "payments_quality_report",
    "read_payments_file",
    "zero_patient_practices",
]

#: Financial years with a known file layout, oldest first.
YEARS: tuple[str, ...] = (
    "2014-15", "2015-16", "2016-17", "2017-18", "2018-19",
    "2019-20", "2020-21", "2021-22", "2022-23",
)

#: The named payment groups; ``other`` is the residual so that the groups sum to the total.
PAYMENT_GROUPS: tuple[str, ...] = (
    "global_sum", "qof", "premises", "prescribing_dispensing", "pcn", "other",
)

FILE_PATTERN = re.compile(r"nhs_payments_to_general_practice_(\d{4}-\d{2})\.csv(\.gz)?$")

_FIRST, _LAST = YEARS[0], YEARS[-1]


@dataclass(frozen=True)
class _Field:
    """One canonical field: every known raw header variant and the years it is published."""

    variants: tuple[str, ...]
    first: str = _FIRST
    last: str = _LAST
    numeric: bool = False


# ---------------------------------------------------------------------------------------
# The explicit mapping. Keys of the raw side are *normalised* headers (see normalise_header:
# BOM removed, NFKC, dots/underscores -> space, whitespace collapsed, lower case); each entry
# lists every variant seen in the nine published files, with the years it appears in.

#: canonical identity/patient/total column -> raw header variants and years present.
HEADER_VARIANTS: dict[str, _Field] = {
    # 'CCG Code' in every year; in 2022-23 this column holds the sub-ICB location code.
    "ccg_or_sicb_code": _Field(("ccg code",)),
    "practice_code": _Field(("practice code",)),
    "practice_name": _Field(("practice name",)),
    "postcode": _Field(("practice postcode",)),
    "contract_type": _Field(("contract type",)),
    "dispensing": _Field(("dispensing practice",)),
    # 'PracticeType' 2016-17; 'Practice Type' 2017-18..2019-20; 'Practice type' 2020-21 on.
    "practice_type": _Field(("practicetype", "practice type"), first="2016-17"),
    # 'PracticeRurality' 2016-17; 'Practice Rurality' 2017-18 on. Not published before.
    "rurality": _Field(("practicerurality", "practice rurality"), first="2016-17"),
    # 'PCN Code' 2019-20..2021-22; 2022-23 heads the PCN code column just 'Code'.
    "pcn_code": _Field(("pcn code", "code"), first="2019-20"),
    "registered_patients": _Field(
        ("number of registered patients (last known figure)",), numeric=True),
    "weighted_patients": _Field(
        ("number of weighted patients (last known figure)",), numeric=True),
    "total_payments": _Field(("total nhs payments to general practice",), numeric=True),
    "deductions": _Field(
        ("deductions for pensions, levies and prescription charge income",), numeric=True),
}

#: raw payment line inside the headline total -> (group, first year, last year).
PAYMENT_LINES: dict[str, tuple[str, str, str]] = {
    "global sum": ("global_sum", _FIRST, _LAST),
    "mpig correction factor": ("global_sum", _FIRST, _LAST),
    "balance of pms expenditure": ("global_sum", _FIRST, _LAST),
    "total qof payments": ("qof", _FIRST, _LAST),
    "premises payments": ("premises", _FIRST, _LAST),
    "prescribing fee payments": ("prescribing_dispensing", _FIRST, _LAST),
    "dispensing fee payments": ("prescribing_dispensing", _FIRST, _LAST),
    "reimbursement of drugs": ("prescribing_dispensing", _FIRST, _LAST),
    "pcn participation": ("pcn", "2019-20", _LAST),
    # --- everything below is in `other` (computed as the residual) ---
    "seniority": ("other", _FIRST, _LAST),
    # 'Doctors.Retainer.Scheme.Payments' in 2015-16 and 2016-17 normalises to this.
    "doctors retainer scheme payments": ("other", _FIRST, _LAST),
    "total locum allowances": ("other", _FIRST, _LAST),
    "prolonged study leave": ("other", _FIRST, _LAST),
    "appraisal costs": ("other", _FIRST, "2021-22"),
    "appraisal - appraiser costs in respect of locums": ("other", "2022-23", _LAST),
    "pco admin other": ("other", _FIRST, _LAST),
    "information management and technology": ("other", _FIRST, _LAST),
    "non des item pneumococcal vaccine, childhood immunisation main programme":
        ("other", _FIRST, _LAST),
    "other payments": ("other", _FIRST, _LAST),
    # national / directed enhanced services
    "alcohol": ("other", _FIRST, "2015-16"),
    "childhood vaccination and immunisation scheme": ("other", _FIRST, _LAST),
    "gp extended hours access": ("other", _FIRST, _LAST),
    "facilitating timely diagnosis and support for people with dementia":
        ("other", _FIRST, "2017-18"),
    "improving patient online access": ("other", _FIRST, "2015-16"),
    "influenza and pneumococcal immunisations": ("other", _FIRST, _LAST),
    "learning disabilities": ("other", _FIRST, _LAST),
    "minor surgery": ("other", _FIRST, _LAST),
    "patient participation": ("other", _FIRST, "2015-16"),
    "remote care monitoring": ("other", _FIRST, "2015-16"),
    "risk profiling and case management": ("other", _FIRST, "2015-16"),
    "rotavirus and shingles immunisation": ("other", _FIRST, _LAST),
    "services for violent patients": ("other", _FIRST, _LAST),
    "unplanned admissions": ("other", _FIRST, "2017-18"),
    "out of area in hours urgent care": ("other", "2015-16", _LAST),
    "meningitis": ("other", "2015-16", _LAST),
    "pertussis": ("other", "2017-18", _LAST),
    "medical assessment reviews": ("other", "2021-22", _LAST),
    "weight management service": ("other", "2021-22", _LAST),
    "total national enhanced services": ("other", _FIRST, "2016-17"),
    # local schemes: LES -> LIS -> 'Local Incentive Schemes' (2015-16: subtotal of two parts)
    "total local enhanced services": ("other", _FIRST, "2017-18"),
    "total local incentive schemes": ("other", "2018-19", "2021-22"),
    "local incentive schemes": ("other", "2022-23", _LAST),
    # transformation / access funds
    "general practice forward view": ("other", "2016-17", "2020-21"),
    "general practice transformation": ("other", "2021-22", _LAST),
    "winter access fund": ("other", "2021-22", _LAST),
}

#: raw payment line published outside the headline total -> (kind, first year, last year).
OUTSIDE_TOTAL_LINES: dict[str, tuple[str, str, str]] = {
    "pcn leadership": ("pcn_network", "2020-21", _LAST),
    "pcn support": ("pcn_network", "2020-21", _LAST),
    "pcn extended hours access": ("pcn_network", "2020-21", _LAST),
    "pcn workforce": ("pcn_network", "2020-21", _LAST),
    "pcn investment and impact fund": ("pcn_network", "2020-21", _LAST),
    "pcn care home premium": ("pcn_network", "2020-21", _LAST),
    "pcn enhanced access": ("pcn_network", "2022-23", _LAST),
    "covid immunisation": ("covid", "2020-21", _LAST),
    "covid support and expansion": ("covid", "2020-21", _LAST),
    "long covid": ("covid", "2021-22", _LAST),
}

#: Known headers that are deliberately not carried into the canonical table.
IGNORED_HEADERS: frozenset[str] = frozenset({
    "nhs england (region) code",
    "nhs england (region) name",
    "ccg name",  # in 2022-23 this column holds the PCN name
    "sub icb name",  # 2022-23
    "pcn name",  # 2019-20..2021-22
    "practice address",
    "practice open date",
    "practice close date",
    "quarter used for patient data",  # 2014-15..2017-18
    "atypicalcharacteristics",  # 2016-17
    "atypical characteristics",  # 2017-18 on
    # published averages (we recompute them; they show 0 or 'N/A' for zero-patient rows)
    "average payments per registered patient",
    "average payments per weighted patient",
    "average payments per registered patient including pcn workforce, leadership and support",
    "average payments per weighted patient including pcn workforce, leadership and support",
    "average payments per registered patient including covid vaccination and covid support "
    "and expansion payments",
    "average payments per weighted patient including covid vaccination and covid support "
    "and expansion payments",
    "average payments per registered patient including covid vaccination, covid support and "
    "long covid payments",
    "average payments per weighted patient including covid vaccination, covid support and "
    "long covid payments",
    # derived totals (we recompute what we need from the lines)
    "total nhs payments to general practice minus deductions",
    "total nhs payments including covid vaccination and covid support and expansion payments",
    "total nhs payments including pcn workforce, leadership and support",
    "total nhs payments to general practice including covid vaccination, covid support and "
    "long covid payments",
    "total nhs payments to general practice including covid and pcn payments",
    "total nhs payments to general practice including covid and pcn payments minus deductions",
    # 2015-16 only: the two components of 'Total Local Enhanced Services' (which we keep)
    "localenhancedservices nhais",
    "localenhancedservices isfe",
})

#: Output columns, in order.
CANONICAL_COLUMNS: tuple[str, ...] = (
    "year", "practice_code", "practice_name", "postcode", "ccg_or_sicb_code", "pcn_code",
    "contract_type", "dispensing", "rurality", "practice_type",
    "registered_patients", "weighted_patients", "total_payments",
    "payments_per_registered_patient", "payments_per_weighted_patient",
    *PAYMENT_GROUPS,
    "pcn_network_payments", "covid_payments", "total_payments_incl_pcn_covid", "deductions",
)

#: Largest tolerated |headline total - sum of its payment lines| for one practice (GBP).
#: 2014-15 publishes whole pounds and is out by up to GBP 5; every later year is exact.
LINE_SUM_TOLERANCE = 10.0

_THOUSANDS = r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?$"
_NA_CATEGORIES = {"", "unknown", "missing", "n/a", "na"}


def normalise_header(raw: str) -> str:
    """Normalise a raw header for matching: NFKC, no BOM, dots/underscores as spaces, one
    space between words, lower case. The mapping tables above are keyed on this form."""
    text = unicodedata.normalize("NFKC", str(raw)).replace("\ufeff", "")
    text = re.sub(r"[._]+", " ", text)
    return re.sub(r"\s+", " ", text).strip().lower()


def _in_years(year: str, first: str, last: str) -> bool:
    return first <= year <= last


@dataclass(frozen=True)
class Layout:
    """What one year's file must contain: canonical fields, payment lines and extra lines."""

    year: str
    fields: dict[str, tuple[str, ...]]  # canonical -> accepted normalised variants
    lines: dict[str, str]  # normalised payment line (inside total) -> group
    outside: dict[str, str]  # normalised line outside the total -> kind


def layout_for_year(year: str) -> Layout:
    """The expected layout of the file for ``year`` ("2022-23"); ValueError if unknown."""
    if year not in YEARS:
        raise ValueError(
            f"no NHS Payments to General Practice layout is defined for year {year!r}; "
            f"known years: {', '.join(YEARS)}. Add the year's headers to "
            "analysis/funding/payments.py")
    return Layout(
        year=year,
        fields={k: f.variants for k, f in HEADER_VARIANTS.items()
                if _in_years(year, f.first, f.last)},
        lines={k: g for k, (g, a, b) in PAYMENT_LINES.items() if _in_years(year, a, b)},
        outside={k: g for k, (g, a, b) in OUTSIDE_TOTAL_LINES.items()
                 if _in_years(year, a, b)},
    )


def _resolve_headers(headers: list[str], layout: Layout, path: Path) -> dict[str, str]:
    """Map canonical field / payment line -> raw header, failing loudly on any mismatch."""
    normalised = [normalise_header(h) for h in headers]
    by_norm: dict[str, str] = {}
    for raw, norm in zip(headers, normalised, strict=True):
        if norm in by_norm:
            raise ValueError(f"{path}: year {layout.year}: headers {by_norm[norm]!r} and "
                             f"{raw!r} both normalise to {norm!r}")
        by_norm[norm] = raw
    found = f"headers found: {headers}"

    resolved: dict[str, str] = {}
    missing: list[str] = []
    for canonical, variants in layout.fields.items():
        hits = [v for v in variants if v in by_norm]
        if len(hits) > 1:
            raise ValueError(f"{path}: year {layout.year}: column {canonical!r} is ambiguous, "
                             f"matched by {[by_norm[h] for h in hits]}; {found}")
        if hits:
            resolved[canonical] = by_norm[hits[0]]
        else:
            missing.append(f"{canonical} (raw header one of {list(variants)})")
    for line in (*layout.lines, *layout.outside):
        if line in by_norm:
            resolved[line] = by_norm[line]
        else:
            missing.append(f"payment line {line!r}")
    if missing:
        raise ValueError(f"{path}: year {layout.year}: unknown file layout, missing required "
                         f"column(s): {'; '.join(missing)}. {found}")

    expected = {v for vs in layout.fields.values() for v in vs}
    expected |= set(layout.lines) | set(layout.outside) | IGNORED_HEADERS
    unexpected = [by_norm[n] for n in normalised if n not in expected]
    if unexpected:
        raise ValueError(f"{path}: year {layout.year}: unknown file layout, unrecognised or "
                         f"out-of-year column(s) {unexpected}; map them in "
                         f"analysis/funding/payments.py. {found}")
    return resolved


def _read_raw(path: Path, **kwargs) -> pd.DataFrame:
    """Read without NA conversion; UTF-8 (BOM stripped), falling back to Windows-1252."""
    kwargs = {"keep_default_na": False, "na_filter": False, **kwargs}
    try:
        return pd.read_csv(path, encoding="utf-8-sig", **kwargs)
    except UnicodeDecodeError:
        return pd.read_csv(path, encoding="cp1252", **kwargs)


def _parse_numbers(raw: pd.DataFrame, columns: dict[str, str], path: Path, year: str,
                   codes: pd.Series) -> pd.DataFrame:
    """Parse numeric columns strictly.

    Columns the CSV parser already read as numbers (every cell a plain number - true of all
    nine published files) are used as they are. Any other column is parsed from text: spaces
    and '£' stripped, 1,234,567.89 thousands separators and (123) negatives accepted, blank ->
    NaN. Anything else - including 'nan'/'inf' text - raises naming file, row and column.
    """
    out = {}
    for key, col in columns.items():
        series = raw[col]
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            values = series.to_numpy(dtype=np.float64)
            bad = pd.Series(~np.isfinite(values), index=raw.index)
        else:
            text = series.astype(str).str.strip().str.replace("£", "", regex=False)
            paren = text.str.startswith("(") & text.str.endswith(")")
            text = text.where(~paren, "-" + text.str.slice(1, -1).str.strip())
            comma = text.str.contains(",", regex=False)
            bad = comma & ~text.str.match(_THOUSANDS)
            text = text.str.replace(",", "", regex=False)
            blank = text == ""
            parsed = pd.to_numeric(text.where(~blank), errors="coerce").astype("float64")
            values = parsed.to_numpy()
            bad = (bad | (~np.isfinite(values) & ~blank)).astype(bool)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise ValueError(
                f"{path}: year {year}: non-numeric value {str(series.iloc[i])!r} in column "
                f"{col!r} at data row {i + 1} (practice {codes.iloc[i]!r}); "
                f"{int(bad.sum())} bad value(s) in that column")
        out[key] = values
    return pd.DataFrame(out, index=raw.index)


def _category(values: pd.Series, mapping: dict[str, str]) -> pd.Series:
    """Map case-insensitive text to canonical labels; 'Unknown'/'MISSING'/blank -> NA."""
    key = values.astype(str).str.strip().str.lower()
    out = key.map(mapping)
    unmapped = out.isna() & ~key.isin(_NA_CATEGORIES)
    if unmapped.any():
        raise ValueError(f"unexpected value(s) {sorted(values[unmapped].unique())[:10]}")
    return out.astype("string")


def _postcode(values: pd.Series) -> pd.Series:
    """Upper case with one space before the inward code ('SK116JL' -> 'SK11 6JL')."""
    compact = values.astype(str).str.upper().str.replace(r"\s+", "", regex=True)
    spaced = compact.str.slice(0, -3) + " " + compact.str.slice(-3)
    return spaced.where(compact.str.len() >= 5, compact.where(compact != "")).astype("string")


def with_patient_rates(payments: pd.DataFrame) -> pd.DataFrame:
    """Add payments per registered and per weighted patient (NaN where patients are 0 or missing).

    Practices with no patients (closed practices, walk-in centres) are never divided by.
    """
    registered = payments["registered_patients"]
    weighted = payments["weighted_patients"]
    total = payments["total_payments"]
    return payments.assign(
        payments_per_registered_patient=total / registered.where(registered > 0),
        payments_per_weighted_patient=total / weighted.where(weighted > 0),
    )


def read_payments_file(path: str | Path, year: str) -> pd.DataFrame:
    """Read one raw annual file (``.csv`` or ``.csv.gz``) into the canonical practice table.

    Parameters
    ----------
    path:
        A raw "NHS Payments to General Practice" file as published by NHS England.
    year:
        Its financial year, e.g. ``"2022-23"``; selects the expected layout.

    Returns
    -------
    DataFrame with :data:`CANONICAL_COLUMNS`, one row per row of the file. Payments per
    patient are NaN where the patient count is zero or missing (never a division by zero).

    Raises
    ------
    ValueError
        If the layout does not match the year (a required column missing - the message names
        the file, year, missing canonical column(s) and the headers found - or an unrecognised
        column), a numeric cell is not a number (file, row, column), a categorical value is
        unexpected, or the payment lines do not add up to the headline total.
    """
    path = Path(path)
    layout = layout_for_year(year)
    headers = list(_read_raw(path, nrows=0).columns)
    cols = _resolve_headers(headers, layout, path)
    # read only the mapped columns; text fields as text, numbers left to the fast C parser
    text_cols = {cols[k] for k in layout.fields if not HEADER_VARIANTS[k].numeric}
    raw = _read_raw(path, usecols=sorted(set(cols.values())),
                    dtype={c: object for c in text_cols})
    raw = raw[[h for h in headers if h in raw.columns]]
    codes = raw[cols["practice_code"]].astype(str).str.strip()

    numeric_fields = [k for k in layout.fields if HEADER_VARIANTS[k].numeric]
    line_keys = [*layout.lines, *layout.outside]
    num = _parse_numbers(raw, {k: cols[k] for k in [*numeric_fields, *line_keys]},
                         path, year, codes)
    lines = num[line_keys].fillna(0.0)  # a blank payment line means nothing was paid

    out = pd.DataFrame(index=raw.index)
    out["year"] = pd.Series(year, index=raw.index, dtype="string")
    out["practice_code"] = codes.str.upper().astype("string")
    out["practice_name"] = raw[cols["practice_name"]].str.strip().astype("string")
    out["postcode"] = _postcode(raw[cols["postcode"]])
    out["ccg_or_sicb_code"] = raw[cols["ccg_or_sicb_code"]].str.strip().astype("string")
    if "pcn_code" in cols:
        pcn = raw[cols["pcn_code"]].str.strip()
        # 'Unknown or no PCN' (and blanks) -> NA
        out["pcn_code"] = pcn.where(pcn.str.fullmatch(r"U\d{5}")).astype("string")
    else:
        out["pcn_code"] = pd.Series(pd.NA, index=raw.index, dtype="string")
    try:
        out["contract_type"] = _category(raw[cols["contract_type"]],
                                         {"gms": "GMS", "pms": "PMS", "apms": "APMS"})
        out["dispensing"] = _category(raw[cols["dispensing"]],
                                      {"yes": "yes", "no": "no"}).map(
            {"yes": True, "no": False}).astype("boolean")
        if "rurality" in cols:
            out["rurality"] = _category(raw[cols["rurality"]],
                                        {"urban": "Urban", "rural": "Rural"})
        else:
            out["rurality"] = pd.Series(pd.NA, index=raw.index, dtype="string")
    except ValueError as exc:
        raise ValueError(f"{path}: year {year}: {exc}") from None
    if "practice_type" in cols:
        out["practice_type"] = raw[cols["practice_type"]].str.strip().replace(
            "", pd.NA).astype("string")
    else:
        out["practice_type"] = pd.Series(pd.NA, index=raw.index, dtype="string")

    registered = num["registered_patients"]
    weighted = num["weighted_patients"]
    total = num["total_payments"]
    out["registered_patients"] = registered
    out["weighted_patients"] = weighted
    out["total_payments"] = total
    out = with_patient_rates(out)

    named = 0.0
    for group in PAYMENT_GROUPS[:-1]:
        keys = [k for k, g in layout.lines.items() if g == group]
        out[group] = lines[keys].sum(axis=1) if keys else 0.0
        named = named + out[group]
    out["other"] = total - named

    residual = (total - lines[list(layout.lines)].sum(axis=1)).abs()
    if (residual > LINE_SUM_TOLERANCE).any():
        i = int(residual.to_numpy().argmax())
        raise ValueError(
            f"{path}: year {year}: payment lines do not add up to 'Total NHS Payments to "
            f"General Practice' for {int((residual > LINE_SUM_TOLERANCE).sum())} practice(s), "
            f"worst {codes.iloc[i]!r} out by {residual.iloc[i]:,.2f}; the layout mapping is "
            "probably wrong (a subtotal counted as a line, or a line missing)")

    if layout.outside:
        pcn_keys = [k for k, g in layout.outside.items() if g == "pcn_network"]
        covid_keys = [k for k, g in layout.outside.items() if g == "covid"]
        out["pcn_network_payments"] = lines[pcn_keys].sum(axis=1)
        out["covid_payments"] = lines[covid_keys].sum(axis=1)
        out["total_payments_incl_pcn_covid"] = (
            total + out["pcn_network_payments"] + out["covid_payments"])
    else:
        for col in ("pcn_network_payments", "covid_payments", "total_payments_incl_pcn_covid"):
            out[col] = np.nan
    out["deductions"] = num["deductions"]
    return out[list(CANONICAL_COLUMNS)].reset_index(drop=True)


def payments_files(raw_dir: str | Path) -> dict[str, Path]:
    """The raw files in ``raw_dir``, keyed by financial year (sorted)."""
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise FileNotFoundError(f"{raw_dir} is not a directory")
    found: dict[str, Path] = {}
    for p in sorted(raw_dir.iterdir()):
        m = FILE_PATTERN.fullmatch(p.name)
        if m:
            if m.group(1) in found:
                raise ValueError(f"two files for {m.group(1)} in {raw_dir}: "
                                 f"{found[m.group(1)].name}, {p.name}")
            found[m.group(1)] = p
    if not found:
        raise FileNotFoundError(
            f"no nhs_payments_to_general_practice_YYYY-YY.csv[.gz] files in {raw_dir}")
    return dict(sorted(found.items()))


def load_all_payments(raw_dir: str | Path) -> pd.DataFrame:
    """Read every ``nhs_payments_to_general_practice_YYYY-YY.csv[.gz]`` in ``raw_dir``.

    Returns the long practice x year table (:data:`CANONICAL_COLUMNS`), oldest year first.
    Each file is validated against its year's layout (see :func:`read_payments_file`).
    """
    frames = [read_payments_file(p, y) for y, p in payments_files(raw_dir).items()]
    out = pd.concat(frames, ignore_index=True)
    out["dispensing"] = out["dispensing"].astype("boolean")
    return out


# ---------------------------------------------------------------------------------------
# Coverage and quality


def _no_patients(payments: pd.DataFrame) -> pd.Series:
    reg, wtd = payments["registered_patients"], payments["weighted_patients"]
    return reg.isna() | wtd.isna() | (reg <= 0) | (wtd <= 0)


def zero_patient_practices(payments: pd.DataFrame) -> pd.DataFrame:
    """Rows with zero or missing registered or weighted patients (excluded from rates)."""
    cols = ["year", "practice_code", "practice_name", "practice_type", "registered_patients",
            "weighted_patients", "total_payments"]
    return payments.loc[_no_patients(payments), cols].reset_index(drop=True)


def duplicate_practices(payments: pd.DataFrame) -> pd.DataFrame:
    """Rows whose practice code occurs more than once within a year."""
    dup = payments.duplicated(["year", "practice_code"], keep=False)
    return payments.loc[dup].sort_values(["year", "practice_code"]).reset_index(drop=True)


def payments_quality_report(payments: pd.DataFrame) -> pd.DataFrame:
    """Per-year coverage and quality summary of a canonical payments table.

    Columns: ``practices`` (rows), ``with_patients`` (rows used for rates),
    ``zero_or_missing_patients`` (rows excluded from rates), ``payments_excluded`` (GBP paid to
    them), ``duplicate_practice_codes``, ``dispensing_unknown``, ``rurality_missing``,
    ``contract_type_unknown``, ``registered_patients``, ``weighted_patients``,
    ``total_payments``, ``per_weighted_patient`` (sum of payments / sum of weighted patients over
    practices with patients) and ``groups_sum_error`` (max |sum of groups - total|, should be 0).
    """
    df = payments.assign(
        _nopat=_no_patients(payments),
        _dup=payments.duplicated(["year", "practice_code"], keep=False),
        _disp_na=payments["dispensing"].isna(),
        _rur_na=payments["rurality"].isna(),
        _ct_na=payments["contract_type"].isna(),
        _gerr=(payments[list(PAYMENT_GROUPS)].sum(axis=1) - payments["total_payments"]).abs(),
    )
    df["_pay_ok"] = df["total_payments"].where(~df["_nopat"], 0.0)
    df["_pay_ex"] = df["total_payments"].where(df["_nopat"], 0.0)
    df["_w_ok"] = df["weighted_patients"].where(~df["_nopat"], 0.0)
    g = df.groupby("year", sort=True)
    rep = pd.DataFrame({
        "practices": g.size(),
        "with_patients": g["_nopat"].apply(lambda s: int((~s).sum())),
        "zero_or_missing_patients": g["_nopat"].sum().astype(int),
        "payments_excluded": g["_pay_ex"].sum(),
        "duplicate_practice_codes": g["_dup"].sum().astype(int),
        "dispensing_unknown": g["_disp_na"].sum().astype(int),
        "rurality_missing": g["_rur_na"].sum().astype(int),
        "contract_type_unknown": g["_ct_na"].sum().astype(int),
        "registered_patients": g["registered_patients"].sum(),
        "weighted_patients": g["weighted_patients"].sum(),
        "total_payments": g["total_payments"].sum(),
        "per_weighted_patient": g["_pay_ok"].sum() / g["_w_ok"].sum(),
        "groups_sum_error": g["_gerr"].max(),
    })
    rep.index = rep.index.astype(str)
    rep.index.name = "year"
    return rep


@data_cache(maxsize=1)
def load_gp_payments() -> pd.DataFrame:
    """NHS Payments to General Practice 2014-15 … 2022-23, practice × year, with per-patient
    rates (NaN for practices without patients)."""
    return with_patient_rates(read_parquet("services/gp_payments.parquet"))


@data_cache(maxsize=1)
def load_practice_imd() -> pd.DataFrame:
    """Practice population IMD scores (Fingertips 93553): practice_code, imd_year, imd_score."""
    return read_parquet("services/gp_practice_imd.parquet")
