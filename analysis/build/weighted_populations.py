"""NHS England's practice weighted populations, 2023-24 and 2024-25, by allocation component.

Source: NHS England, *Allocations 2023-24 to 2024-25*: practice-level weighted populations
from the place-based allocation tool (``england/nhse_practice_weighted_populations_*.csv``),
Open Government Licence v3.0. The components are those of NHS England's *Technical Guide to
the formulae for 2023-24 to 2024-25 revenue allocations*: general and acute, community
services, mental health, maternity, the health inequalities adjustment, prescribing and
primary medical care, and the ``Final WP`` that combines the core ICB components.

Traps handled here: ``Patients`` is empty and the registered list is ``pop 2022/23`` (the same
header in both years' files); each ``… WP`` column is a weighted population, not an index;
``PCN_Code``/``PCN_Name``/``LOC22`` are empty in the pack, so the sub-ICB location is the
file's ``CCG21`` ODS code and the ICB its ``ICS22`` ODS code, both mapped to the GSS codes
(E38…/E54…) of the geography pack; the PCN is the practice's PCN in the 2022-23 payments file
when one is given. Numbers may carry thousands separators; rows without a practice code
(totals) are refused with their line number, never summed in.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.build.raw import PRACTICE_CODE, BuildLog, RawDataError, _read_csv, bad_lines

YEARS: tuple[str, ...] = ("2023-24", "2024-25")
RAW_FILES = {year: f"england/nhse_practice_weighted_populations_{year[:4]}-20{year[5:]}.csv"
             for year in YEARS}
#: Raw column -> embedded column: the registered list, then each component's weighted population.
NUMBER_COLUMNS: dict[str, str] = {
    "pop 2022/23": "registered",
    "G&A WP": "ga_wp",
    "CS WP": "cs_wp",
    "MH WP": "mh_wp",
    "Mat WP": "mat_wp",
    "Health Ineq WP": "health_ineq_wp",
    "Prescr WP": "prescr_wp",
    "Primary Medical Care WP": "pmc_wp",
    "Final WP": "final_wp",
}
CODE_COLUMNS = ("Practice_Code", "CCG21", "ICS22")


def weighted_population_table(raw: pd.DataFrame, year: str, geography: pd.DataFrame,
                              origin: str, pcn: pd.Series | None = None) -> pd.DataFrame:
    """One year's table: ``practice_code``, ``year``, ``registered``, the eight weighted
    populations (:data:`NUMBER_COLUMNS`), ``pcn_code``, ``sicbl_code``, ``icb_code``.

    ``geography``: rows with ``sicbl_code_nhs``, ``sicbl_code``, ``icb_code_nhs``,
    ``icb_code`` (the England geography pack). ``pcn``: PCN code by practice code (optional).
    Raises :class:`~analysis.build.raw.RawDataError` naming ``origin``, the line and the column
    for a missing column, a malformed or repeated practice code (a totals row), a number that
    cannot be read or is negative, or a sub-ICB/ICB code the geography pack does not know.
    """
    missing = [c for c in (*CODE_COLUMNS, *NUMBER_COLUMNS) if c not in raw.columns]
    if missing:
        raise RawDataError(f"{origin}: missing column(s) {missing}; columns are "
                           f"{list(raw.columns)}")
    code = raw["Practice_Code"].astype(str).str.strip().str.upper()
    bad = ~code.str.fullmatch(PRACTICE_CODE)
    if bad.any():
        raise RawDataError(f"{origin}: column Practice_Code is not a practice code (a letter "
                           f"and five digits; totals rows are not data) at "
                           f"{bad_lines(bad, raw, 'Practice_Code')}")
    twice = code.duplicated(keep=False)
    if twice.any():
        raise RawDataError(f"{origin}: practice listed twice at "
                           f"{bad_lines(twice, raw, 'Practice_Code')}")
    out = pd.DataFrame({"practice_code": code.to_numpy(), "year": year})
    for column, name in NUMBER_COLUMNS.items():
        text = raw[column].astype(str).str.strip().str.replace(",", "", regex=False)
        value = pd.to_numeric(text, errors="coerce")
        unreadable = value.isna() | ~np.isfinite(value)
        if unreadable.any():
            raise RawDataError(f"{origin}: column {column!r} is not a number at "
                               f"{bad_lines(unreadable, raw, column)}")
        if (value < 0).any():
            raise RawDataError(f"{origin}: column {column!r} is negative at "
                               f"{bad_lines(value < 0, raw, column)}")
        out[name] = value.astype("float64").to_numpy()
    sicbl = geography[["sicbl_code_nhs", "sicbl_code"]].drop_duplicates().astype(str)
    icb = geography[["icb_code_nhs", "icb_code"]].drop_duplicates().astype(str)
    for column, table, name in (("CCG21", sicbl, "sicbl_code"), ("ICS22", icb, "icb_code")):
        nhs = raw[column].astype(str).str.strip()
        mapped = nhs.map(pd.Series(table.iloc[:, 1].to_numpy(), index=table.iloc[:, 0]))
        unknown = mapped.isna()
        if unknown.any():
            raise RawDataError(f"{origin}: column {column!r} holds ODS codes the geography "
                               f"pack does not know at {bad_lines(unknown, raw, column)}")
        out[name] = mapped.to_numpy()
    out["pcn_code"] = (out["practice_code"].map(pcn) if pcn is not None
                       else pd.Series(pd.NA, index=out.index)).astype("string").to_numpy()
    return out


def weighted_population_quality(table: pd.DataFrame) -> dict[str, object]:
    """What the build reports per year: practices, the registered total, each component's
    national total over the registered total (NHS England scales every component to the
    registered list nationally, so these are 1), zero values, practices without a PCN."""
    facts: dict[str, object] = {}
    for year, rows in table.groupby("year", observed=True):
        registered = float(rows["registered"].sum())
        facts[str(year)] = {
            "practices": int(len(rows)),
            "registered_total": registered,
            "component_total_over_registered": {
                name: float(rows[name].sum() / registered)
                for name in NUMBER_COLUMNS.values() if name != "registered"},
            "zero_values": {name: int((rows[name] == 0).sum())
                            for name in NUMBER_COLUMNS.values() if (rows[name] == 0).any()},
            "without_pcn": int(rows["pcn_code"].isna().sum()),
            "sicbls": int(rows["sicbl_code"].nunique()),
            "icbs": int(rows["icb_code"].nunique()),
        }
    return facts


def build_weighted_populations(raw_dir: Path, england: pd.DataFrame, log: BuildLog,
                               payments: pd.DataFrame | None = None) -> pd.DataFrame:
    """The embedded ``services/nhse_weighted_populations.parquet`` (both years, long), with
    its quality report in the build log. ``england``: the England geography pack;
    ``payments``: the GP payments table (PCN codes are taken from its 2022-23 rows)."""
    pcn = None
    if payments is not None:
        rows = payments.loc[payments["year"].astype(str) == "2022-23"]
        rows = rows.dropna(subset=["pcn_code"])
        pcn = pd.Series(rows["pcn_code"].astype(str).to_numpy(),
                        index=rows["practice_code"].astype(str).to_numpy())
        pcn = pcn[~pcn.index.duplicated()]
    frames = []
    for year, relative in RAW_FILES.items():
        raw = _read_csv(Path(raw_dir), relative, dtype=str, keep_default_na=False,
                        na_values=[""])
        frames.append(weighted_population_table(raw, year, england, relative, pcn))
    table = pd.concat(frames, ignore_index=True)
    for column in ("year", "sicbl_code", "icb_code", "pcn_code"):
        table[column] = table[column].astype("category")
    log.cover("nhse_weighted_populations", **weighted_population_quality(table))
    if payments is not None:
        paid = set(payments.loc[payments["year"].astype(str) == "2022-23",
                                "practice_code"].astype(str))
        listed = set(table["practice_code"])
        log.cover("nhse_weighted_populations_vs_payments_2022_23",
                  in_file_not_in_payments=sorted(listed - paid),
                  in_payments_not_in_file=sorted(paid - listed))
    return table
