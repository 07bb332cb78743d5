"""NHS England's practice weighted populations as need indices, 2023-24 and 2024-25.

NHS England's *Technical Guide to the formulae for 2023-24 to 2024-25 revenue allocations*
(NHS England, 2023) sets each ICB's target allocation from **weighted populations**: the
registered list weighted, component by component, for the need of its patients (age, sex,
morbidity, deprivation) and for unavoidable costs. The components shipped here are:

* ``ga``: general and acute (the largest: hospital care; age, need and the market forces
  factor);
* ``cs``: community services;
* ``mh``: mental health;
* ``mat``: maternity (births expected from women of childbearing age; zero for 113 practices
  with no such patients);
* ``health_ineq``: the health inequalities adjustment (avoidable mortality, the ``AM`` part
  of the formula; steeper than the others);
* ``prescr``: prescribing;
* ``pmc``: primary medical care (the GP formula: age, sex, list turnover, morbidity,
  deprivation, rurality, as NHS England weights the primary care allocation);
* ``final``: the weighted population of the core ICB allocation (components combined with
  their shares of the budget).

NHS England scales every component to the registered list nationally, so
``sum(WP_c) = sum(registered)`` in each year (checked at build: the ratio is 1 to 12 digits).
The **need index per head** of component ``c`` for an area ``a`` (a practice, PCN, sub-ICB or
ICB: the sums of its practices) is

    index_a = (WP_c,a / registered_a) / (sum WP_c / sum registered)

over the areas compared (England: the denominator is 1), so that its registered-weighted
mean is 1: an index of 1.2 means 20% more need per registered patient than the average.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from analysis.data import read_parquet

__all__ = [
    "WP_COMPONENTS",
    "WP_LEVELS",
    "WP_YEARS",
    "component_column",
    "load_weighted_populations",
    "weighted_population_index",
    "weighted_populations_by",
]

WP_YEARS: tuple[str, ...] = ("2023-24", "2024-25")
#: Component id -> (embedded column, plain-English name).
WP_COMPONENTS: dict[str, tuple[str, str]] = {
    "ga": ("ga_wp", "general and acute"),
    "cs": ("cs_wp", "community services"),
    "mh": ("mh_wp", "mental health"),
    "mat": ("mat_wp", "maternity"),
    "health_ineq": ("health_ineq_wp", "health inequalities"),
    "prescr": ("prescr_wp", "prescribing"),
    "pmc": ("pmc_wp", "primary medical care"),
    "final": ("final_wp", "final (core ICB allocation)"),
}
WP_LEVELS: dict[str, str] = {"practice": "practice_code", "pcn": "pcn_code",
                             "sicbl": "sicbl_code", "icb": "icb_code"}
Level = Literal["practice", "pcn", "sicbl", "icb"]


def _check_year(year: str) -> str:
    if year not in WP_YEARS:
        raise ValueError(f"weighted populations year is {year!r}: choose one of "
                         f"{', '.join(WP_YEARS)}")
    return year


def component_column(component: str) -> str:
    """The embedded column of a component id (``"pmc"`` -> ``"pmc_wp"``)."""
    if component not in WP_COMPONENTS:
        raise ValueError(f"weighted population component is {component!r}: choose one of "
                         f"{', '.join(WP_COMPONENTS)}")
    return WP_COMPONENTS[component][0]


def load_weighted_populations(year: str) -> pd.DataFrame:
    """NHS England's practice weighted populations of ``year`` ("2023-24" or "2024-25"): one
    row per practice, ``practice_code``, ``registered`` (the list, ``pop 2022/23`` of the
    file), the eight weighted populations (``ga_wp`` … ``final_wp``), ``pcn_code`` (from the
    2022-23 payments file; missing for 148 practices), ``sicbl_code`` (E38), ``icb_code``
    (E54). Source: NHS England, allocations 2023-24 to 2024-25 (see the module docstring)."""
    table = read_parquet("services/nhse_weighted_populations.parquet")
    rows = table.loc[table["year"].astype(str) == _check_year(year)].copy()
    for column in ("year", "pcn_code", "sicbl_code", "icb_code"):
        rows[column] = rows[column].astype("string")
    return rows.reset_index(drop=True)


def weighted_populations_by(table: pd.DataFrame, level: Level) -> pd.DataFrame:
    """Sums of ``registered`` and every weighted population by ``level`` (``practice``,
    ``pcn``, ``sicbl`` or ``icb``), indexed by the area code; practices without a code of
    that level (no PCN) are left out of the sums and counted in ``attrs["without_area"]``."""
    if level not in WP_LEVELS:
        raise ValueError(f"level is {level!r}: weighted populations are summed by "
                         f"{', '.join(WP_LEVELS)}")
    key = WP_LEVELS[level]
    numbers = ["registered", *(c for c, _ in WP_COMPONENTS.values())]
    codes = table[key].astype("string")
    known = codes.notna().to_numpy()
    out = table.loc[known, numbers].groupby(codes[known].to_numpy()).sum()
    out.index.name = key
    out.attrs["without_area"] = tuple(table.loc[~known, "practice_code"].astype(str))
    return out


def weighted_population_index(sums: pd.DataFrame, component: str) -> pd.Series:
    """Need index per head of ``component`` for each row of ``sums`` (a table of
    :func:`weighted_populations_by`): ``(WP_c / registered) / (sum WP_c / sum registered)``
    (NHS England, *Technical Guide*, 2023-24 to 2024-25: weighted population per head relative
    to the mean); registered-weighted mean 1; NaN where the list is zero."""
    column = component_column(component)
    wp = sums[column].to_numpy(dtype=float)
    registered = sums["registered"].to_numpy(dtype=float)
    mean = wp.sum() / registered.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        index = np.where(registered > 0, wp / registered / mean, np.nan)
    return pd.Series(index, index=sums.index, name=f"{component}_index")
