"""The GP workforce table: qualified GP headcount and registered patients per practice and
financial year (2015-16 to 2023-24), and the latest year's headcount as the supply of the
GP access indicator.

Source: NHS Digital, *General Practice Workforce* (practice-level CSVs), Open Government
Licence v3.0, as compiled by the Health Equity Evidence Centre (HEEC,
github.com/HealthEquityEvidenceCentre/HEEC, ``data/workforce``) into one row per practice and
financial year. The compilation assigns each monthly/quarterly snapshot to the financial year
it falls in (April to March; ``fiscal_year`` 24 = 2023-24), averages ``TOTAL_PATIENTS`` over
the year's snapshots and rounds the mean ``TOTAL_GP_EXTGL_HC`` to whole GPs. Up to 2019-20
there is one snapshot a year (September); from 2020-21 several.

``TOTAL_GP_EXTGL_HC`` is the **headcount of fully qualified permanent GPs, excluding GPs in
training and locums**. It is a headcount, not full-time equivalents: a GP working two days
a week counts as one. ``NA`` (272 rows) means no valid figure for any snapshot of the year;
it is kept as missing, never read as zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.build.raw import (
    PRACTICE_CODE,
    BuildLog,
    RawDataError,
    _coverage,
    _read_csv,
    bad_lines,
)

RAW_FILE = "england/gp_workforce_headcount_2016-2024.csv"
RAW_COLUMNS = {"Practice.Code": "practice_code", "fiscal_year": "fiscal_year",
               "TOTAL_PATIENTS": "registered_patients",
               "TOTAL_GP_EXTGL_HC": "qualified_gp_headcount"}
#: Financial years the pack covers (``fiscal_year`` 16 … 24).
FIRST_FISCAL_YEAR, LAST_FISCAL_YEAR = 16, 24
LATEST_YEAR = "2023-24"
_EXAMPLES = 10


def _examples_of(ids: list[str]) -> str:
    if not ids:
        return "none"
    return ", ".join(ids[:_EXAMPLES]) + (", …" if len(ids) > _EXAMPLES else "")


def financial_year_label(fiscal_year: pd.Series) -> pd.Series:
    """"2023-24" for ``fiscal_year`` 24: the year ending in March 20YY (NHS financial years
    run April to March, and HEEC numbers a year by the calendar year it ends in)."""
    end = fiscal_year.astype("int64")
    return ("20" + (end - 1).map("{:02d}".format) + "-" + end.map("{:02d}".format)).astype(str)


def gp_workforce_table(raw: pd.DataFrame, origin: str = RAW_FILE) -> pd.DataFrame:
    """The practice × year workforce table from the raw HEEC compilation.

    Returns ``practice_code``, ``year`` ("2015-16" … "2023-24"), ``registered_patients``
    (float: the mean of the year's snapshots can be fractional) and
    ``qualified_gp_headcount`` (float, NaN where the file has ``NA``), sorted by practice and
    year. Raises :class:`~analysis.build.raw.RawDataError` naming ``origin``, the line and
    the column for a missing column, a malformed practice code, a year outside 16 … 24, a
    non-numeric or negative count, or a practice listed twice in one year.
    """
    missing = [c for c in RAW_COLUMNS if c not in raw.columns]
    if missing:
        raise RawDataError(f"{origin}: missing column(s) {missing}; columns are "
                           f"{list(raw.columns)}")
    code = raw["Practice.Code"].astype(str).str.strip().str.upper()
    bad_code = ~code.str.fullmatch(PRACTICE_CODE)
    if bad_code.any():
        raise RawDataError(f"{origin}: column Practice.Code is not a practice code (a letter "
                           f"and five digits) at {bad_lines(bad_code, raw, 'Practice.Code')}")
    fiscal = pd.to_numeric(raw["fiscal_year"], errors="coerce")
    bad_year = ~fiscal.between(FIRST_FISCAL_YEAR, LAST_FISCAL_YEAR) | (fiscal % 1 != 0)
    if bad_year.any():
        raise RawDataError(f"{origin}: column fiscal_year must be a whole number from "
                           f"{FIRST_FISCAL_YEAR} to {LAST_FISCAL_YEAR} at "
                           f"{bad_lines(bad_year, raw, 'fiscal_year')}")
    counts = {}
    for column in ("TOTAL_PATIENTS", "TOTAL_GP_EXTGL_HC"):
        text = raw[column].astype(str).str.strip()
        absent = raw[column].isna() | text.isin(["", "NA", "nan"])
        value = pd.to_numeric(raw[column].where(~absent), errors="coerce")
        unreadable = ~absent & value.isna()
        if unreadable.any():
            raise RawDataError(f"{origin}: column {column} is not a number at "
                               f"{bad_lines(unreadable, raw, column)}")
        if (value < 0).any():
            raise RawDataError(f"{origin}: column {column} is negative at "
                               f"{bad_lines(value < 0, raw, column)}")
        counts[column] = value.astype("float64")
    if counts["TOTAL_PATIENTS"].isna().any():
        raise RawDataError(f"{origin}: column TOTAL_PATIENTS is empty at "
                           f"{bad_lines(counts['TOTAL_PATIENTS'].isna(), raw, 'TOTAL_PATIENTS')}")
    out = pd.DataFrame({
        "practice_code": code.to_numpy(),
        "year": financial_year_label(fiscal).to_numpy(),
        "registered_patients": counts["TOTAL_PATIENTS"].to_numpy(),
        "qualified_gp_headcount": counts["TOTAL_GP_EXTGL_HC"].to_numpy(),
    })
    twice = out.duplicated(["practice_code", "year"], keep=False)
    if twice.any():
        raise RawDataError(f"{origin}: a practice appears twice in one year at "
                           f"{bad_lines(twice, raw, 'Practice.Code')}")
    return out.sort_values(["practice_code", "year"]).reset_index(drop=True)


def workforce_quality(table: pd.DataFrame) -> dict[str, object]:
    """What the build reports about the table: rows and practices per year, missing and
    zero headcounts per year (with examples), and practices absent from the latest year."""
    by_year = table.groupby("year")
    missing = table[table["qualified_gp_headcount"].isna()]
    latest = set(table.loc[table["year"] == LATEST_YEAR, "practice_code"])
    gone = sorted(set(table["practice_code"]) - latest)
    return {
        "rows": int(len(table)),
        "practices": int(table["practice_code"].nunique()),
        "practices_by_year": {str(k): int(v) for k, v in by_year.size().items()},
        "headcount_missing": int(len(missing)),
        "headcount_missing_by_year": {str(k): int(v)
                                      for k, v in missing.groupby("year").size().items()},
        "headcount_missing_examples": _examples_of(
            (missing["practice_code"] + " " + missing["year"]).tolist()),
        "headcount_zero": int((table["qualified_gp_headcount"] == 0).sum()),
        "patients_zero": int((table["registered_patients"] == 0).sum()),
        "practices_not_in_latest_year": len(gone),
        "practices_not_in_latest_year_examples": _examples_of(gone),
        "headcount_total_by_year": {str(k): float(v) for k, v in
                                    by_year["qualified_gp_headcount"].sum().items()},
    }


def build_gp_workforce(raw_dir: Path, log: BuildLog) -> pd.DataFrame:
    """The embedded ``services/gp_workforce.parquet`` from the raw pack, with its quality
    report (missing headcounts kept as missing and counted) in the build log."""
    raw = _read_csv(Path(raw_dir), RAW_FILE, dtype={"Practice.Code": str},
                    keep_default_na=False, na_values=[])
    table = gp_workforce_table(raw, RAW_FILE)
    log.cover("gp_workforce", **workforce_quality(table))
    return table


@dataclass(frozen=True)
class HeadcountSupply:
    """The latest year's qualified GP headcount of every practice on the July 2023 list.

    * ``supply``: headcount per July 2023 practice code (NaN where there is none);
    * ``carried_forward``: practices whose ``year`` headcount is missing and which take their
      headcount of the year before (a one-year carry-forward);
    * ``without_headcount``: practices on the list with no usable headcount (not in the
      workforce file that year, or missing in both years): they add no supply;
    * ``not_on_practice_list``: practices in the workforce file that year that are not on the
      July 2023 list, so have no location (opened later, or closed/merged during the year),
      with the GPs and patients they carry.
    """

    year: str
    supply: pd.Series
    carried_forward: tuple[str, ...]
    without_headcount: tuple[str, ...]
    not_on_practice_list: tuple[str, ...]
    gps_not_on_practice_list: float
    patients_not_on_practice_list: float

    def summary(self) -> str:
        return (f"{self.year}: {int(self.supply.notna().sum()):,} of {len(self.supply):,} "
                f"July 2023 practices with a qualified GP headcount "
                f"({self.supply.sum():,.0f} GPs); {len(self.carried_forward):,} carried "
                f"forward from the year before ({_examples_of(list(self.carried_forward))}); "
                f"{len(self.without_headcount):,} without a headcount "
                f"({_examples_of(list(self.without_headcount))}); "
                f"{len(self.not_on_practice_list):,} workforce practices not on the July 2023 "
                f"list, not located ({self.gps_not_on_practice_list:,.0f} GPs, "
                f"{self.patients_not_on_practice_list:,.0f} patients: "
                f"{_examples_of(list(self.not_on_practice_list))})")


def _previous_year(year: str) -> str:
    start = int(year[:4]) - 1
    return f"{start}-{(start + 1) % 100:02d}"


def headcount_supply(workforce: pd.DataFrame, practice_codes: pd.Series,
                     year: str = LATEST_YEAR) -> HeadcountSupply:
    """Qualified GP headcount of ``year`` for each practice in ``practice_codes``.

    A practice whose headcount is missing in ``year`` takes its headcount of the year before
    when there is one (last observation carried forward one year: practices keep most of
    their GPs from one year to the next, so this is nearer the truth than leaving them out,
    which would count them as having no GPs); otherwise it has none and is listed.
    """
    rows = workforce.loc[workforce["year"] == year].set_index("practice_code")
    if rows.empty:
        raise ValueError(f"GP workforce has no rows for {year!r}; years present: "
                         f"{sorted(workforce['year'].unique())}")
    before = workforce.loc[workforce["year"] == _previous_year(year)].set_index(
        "practice_code")["qualified_gp_headcount"]
    codes = pd.Index(practice_codes.astype(str), name="practice_code")
    current = rows["qualified_gp_headcount"].reindex(codes)
    fill = current.isna() & codes.isin(rows.index) & codes.map(before).notna()
    supply = current.where(~fill, codes.to_series(index=codes).map(before))
    outside = rows.index.difference(codes)
    return HeadcountSupply(
        year=year,
        supply=supply.rename("qualified_gp_headcount"),
        carried_forward=tuple(codes[fill]),
        without_headcount=tuple(codes[supply.isna().to_numpy()]),
        not_on_practice_list=tuple(outside),
        gps_not_on_practice_list=float(rows.loc[outside, "qualified_gp_headcount"].sum()),
        patients_not_on_practice_list=float(rows.loc[outside, "registered_patients"].sum()),
    )


def cover_supply(log: BuildLog, supply: HeadcountSupply, practice_codes: pd.Series) -> None:
    """Write the supply's matching to the build log (as join coverage)."""
    log.cover("gp_workforce_vs_practices",
              **_coverage(pd.Index(practice_codes.astype(str)),
                          pd.Index(supply.supply.dropna().index)),
              carried_forward=list(supply.carried_forward),
              not_on_practice_list=list(supply.not_on_practice_list),
              gps_not_on_practice_list=supply.gps_not_on_practice_list,
              summary=supply.summary())
