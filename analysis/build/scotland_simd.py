"""Scotland's small-area health need and GP access, from the SIMD 2020v2 indicator file.

The file (``scotland/simd2020v2_indicators_dz11.csv``, one row per 2011 data zone) carries
the indicators behind the SIMD domains. Two traps are handled here rather than hidden: a
suppressed cell is ``*`` (it becomes a missing value, and the data zone is left out of that
indicator and logged), and percentages are text such as ``"13%"``. Any other value that is
not a number is an error naming the file, row and column.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.build.indicators import IndicatorBuild, _meta, _table
from analysis.build.raw import BuildLog, RawDataError, _coverage, _read_csv, _require_unique

SIMD_INDICATORS_FILE = "scotland/simd2020v2_indicators_dz11.csv"
SUPPRESSED_MARK = "*"

_TRAVEL_NOTES = (
    "Modelled travel times published with SIMD 2020v2 (geographic access to services "
    "domain), in minutes, averaged over the data zone's output areas by the Scottish "
    "Government. They are times to the nearest GP surgery, not a measure of how many GPs "
    "or appointments it has (capacity), and say nothing about opening hours or waiting "
    "times. The road network, timetables and surgery list are those used for SIMD 2020 "
    "(published January 2020), so they predate the pandemic's changes to services; the "
    "indicator file does not restate their year (the SIMD 2020 technical notes give it). ")
_PT_NOTES = (
    "Public-transport time is the modelled journey by bus, rail or ferry plus walking; "
    "where no public-transport time could be modelled for an output area the Scottish "
    "Government used the drive time instead, so in remote data zones it can understate "
    "the real journey.")

#: column of the file → (id, title, description, unit, kind, notes)
SIMD_INDICATORS: dict[str, tuple[str, str, str, str, str, str]] = {
    "PT_GP": (
        "simd2020_gp_public_transport_minutes", "Public-transport time to a GP surgery",
        "Average modelled public-transport travel time (bus, rail or ferry and walking) to "
        "the nearest GP surgery. Higher means a longer journey: worse access, above all "
        "for people without a car.", "minutes", "provision", _TRAVEL_NOTES + _PT_NOTES),
    "drive_GP": (
        "simd2020_gp_drive_minutes", "Drive time to a GP surgery",
        "Average modelled drive time by car to the nearest GP surgery. Higher means a "
        "longer journey: worse access.", "minutes", "provision", _TRAVEL_NOTES),
    "CIF": (
        "simd2020_cif", "Comparative illness factor (SIMD 2020)",
        "People receiving benefits paid for ill health or disability, age- and "
        "sex-standardised. Scotland is 100; higher means more illness and disability.",
        "standardised ratio (Scotland = 100)", "need",
        "SIMD 2020 health domain indicator; suppressed data zones ('*') are left out."),
    "EMERG": (
        "simd2020_emergency_stays_sr", "Emergency hospital stays (SIMD 2020)",
        "Emergency stays in hospital, age- and sex-standardised. Scotland is 100; higher "
        "means more emergency admissions.", "standardised ratio (Scotland = 100)", "need",
        "SIMD 2020 health domain indicator; suppressed data zones ('*') are left out."),
    "SMR": (
        "simd2020_smr", "Standardised mortality ratio (SIMD 2020)",
        "Deaths, age- and sex-standardised. Scotland is 100; higher means more deaths than "
        "expected for the data zone's age and sex make-up.",
        "standardised ratio (Scotland = 100)", "need",
        "SIMD 2020 health domain indicator; small numbers make single data zones noisy. "
        "Suppressed data zones ('*') are left out."),
    "DEPRESS": (
        "simd2020_depression_pct", "Prescribed drugs for anxiety, depression or psychosis",
        "Share of the population being prescribed drugs for anxiety, depression or "
        "psychosis. Higher means more mental ill health (and more treatment of it).",
        "% of population", "need",
        "SIMD 2020 health domain indicator, published as a whole-number percentage; no "
        "numerator or denominator is published, so a larger area's value is the "
        "population-weighted mean of its data zones. Suppressed data zones ('*') are left "
        "out."),
}


def simd_number(column: pd.Series, name: str, origin: str = SIMD_INDICATORS_FILE) -> pd.Series:
    """One column of the SIMD indicator file as numbers: ``"13%"`` → 13.0, ``"*"`` → NaN.

    Raises :class:`RawDataError` naming the file, first bad row (1-based data row) and
    column for anything else that is not a number. Percentages stay on the 0–100 scale as
    published (the SIMD 2020v2 indicator spreadsheet).
    """
    text = column.astype("string").str.strip()
    suppressed = text.eq(SUPPRESSED_MARK) | text.isna() | text.eq("")
    numbers = pd.to_numeric(text.str.rstrip("%").where(~suppressed), errors="coerce")
    bad = numbers.isna() & ~suppressed
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise RawDataError(f"{origin}: row {row + 1}, column {name}: {text.iloc[row]!r} is not "
                           f"a number, a percentage or the suppression mark '*'")
    return numbers.astype(float)


def simd_indicator_builds(raw_dir: Path, scotland: pd.DataFrame,
                          log: BuildLog) -> list[IndicatorBuild]:
    """Indicator builds for GP travel times (provision, higher is worse) and health need
    from the SIMD 2020v2 indicator file; coverage against the data-zone pack and the
    number of suppressed cells of each column are logged for the manifest."""
    raw = _read_csv(raw_dir, SIMD_INDICATORS_FILE, dtype=str, keep_default_na=False)
    missing = [c for c in ["Data_Zone", *SIMD_INDICATORS] if c not in raw.columns]
    if missing:
        raise RawDataError(f"{SIMD_INDICATORS_FILE} lacks columns {missing}")
    _require_unique(raw, "Data_Zone", SIMD_INDICATORS_FILE)
    log.cover("simd2020v2_indicators_vs_pack",
              **_coverage(pd.Index(scotland["dz11_code"]), pd.Index(raw["Data_Zone"])))
    builds: list[IndicatorBuild] = []
    for column, (ident, title, description, unit, kind, notes) in SIMD_INDICATORS.items():
        values = simd_number(raw[column], column)
        log.cover(f"simd2020v2_{column}_suppressed", count=int(values.isna().sum()),
                  codes=raw.loc[values.isna(), "Data_Zone"].tolist()[:50])
        travel = unit == "minutes"
        builds.append(IndicatorBuild(
            _meta("simd2020v2_indicators", id=ident, title=title, description=description,
                  unit=unit, polarity="higher_is_worse", kind=kind, geography="dz11",
                  period="SIMD 2020" if travel else "SIMD 2020 (data mostly 2016–2019)",
                  decimals=1, notes=notes,
                  **({"short_title": title.replace(" surgery", "")} if travel else {})),
            lambda v=values: _table(raw["Data_Zone"], v),
        ))
    return builds
