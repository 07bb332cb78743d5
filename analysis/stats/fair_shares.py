"""Fair share of provision relative to need, per area, in total and by deprivation quintile.

An area's *fair share* of a resource is the share of the total it would get if provision followed
need exactly: ``fair_share_amount = total provision x need share``. The functions return tidy
pandas DataFrames (one row per area, per quintile, or one summary row) for tables and charts.
Inputs are aligned by position; pandas Series keep their index as the area identifier.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from analysis.stats.checks import (
    _as_float_array,
    _non_negative,
    _positive,
    _require,
    _same_length,
)

__all__ = [
    "FAIR_SHARE_COLUMNS",
    "fair_share",
    "fair_share_by_quintile",
    "fair_share_totals",
]

FAIR_SHARE_COLUMNS = (
    "provision",
    "need",
    "provision_share",
    "need_share",
    "fair_share_ratio",
    "fair_share_amount",
    "gap_to_fair_share",
    "shortfall",
    "below_fair_share",
)


def _area_index(
    provision: ArrayLike, need: ArrayLike, areas: ArrayLike | None, size: int
) -> pd.Index:
    if areas is not None:
        index = pd.Index(areas, name="area")
        if len(index) != size:
            raise ValueError(
                f"areas has {len(index)} entries but provision has {size}: they must be the same "
                "length"
            )
        return index
    for source in (provision, need):
        if isinstance(source, pd.Series):
            return pd.Index(source.index, name="area")
    return pd.RangeIndex(size, name="area")


def fair_share(
    provision: ArrayLike,
    need: ArrayLike,
    *,
    areas: ArrayLike | None = None,
) -> pd.DataFrame:
    """Fair-share table: one row per area.

    For area *i* with provision ``P_i`` (e.g. pounds spent, GP hours; non-negative) and need
    ``N_i`` (e.g. need-weighted population; positive)::

        provision_share   = P_i / sum P
        need_share        = N_i / sum N
        fair_share_ratio  = provision_share / need_share    (1 = exactly its fair share)
        fair_share_amount = sum P * need_share              (what it would get if P followed N)
        gap_to_fair_share = fair_share_amount - P_i         (positive: below fair share)
        shortfall         = max(gap_to_fair_share, 0)       (in the units of provision)
        below_fair_share  = fair_share_ratio < 1

    Both share columns sum to 1 and the gaps sum to 0: a fair share redistributes the same total.
    The area identifiers come from ``areas``, else the index of a pandas Series argument, else
    0..n-1. Reference: the "fair shares" principle of needs-based resource allocation, e.g. NHS
    England's weighted capitation (Technical Guide to Allocation Formulae and Pace of Change).
    """
    provided = _non_negative("provision", provision)
    needed = _positive("need", need)
    _same_length(provision=provided, need=needed)
    total_provision = float(provided.sum())
    if total_provision == 0:
        raise ValueError("provision is zero everywhere: shares of provision are undefined")
    provision_share = provided / total_provision
    need_share = needed / needed.sum()
    fair_share_amount = total_provision * need_share
    gap = fair_share_amount - provided
    ratio = provision_share / need_share
    table = pd.DataFrame(
        {
            "provision": provided,
            "need": needed,
            "provision_share": provision_share,
            "need_share": need_share,
            "fair_share_ratio": ratio,
            "fair_share_amount": fair_share_amount,
            "gap_to_fair_share": gap,
            "shortfall": np.clip(gap, 0.0, None),
            "below_fair_share": ratio < 1.0,
        },
        index=_area_index(provision, need, areas, provided.size),
    )
    return table


def _check_fair_share_table(table: pd.DataFrame) -> None:
    missing = [column for column in FAIR_SHARE_COLUMNS if column not in table.columns]
    if missing:
        raise ValueError(
            f"table is missing columns {missing}: pass the DataFrame returned by fair_share()"
        )
    if table.empty:
        raise ValueError("table is empty")


def fair_share_totals(table: pd.DataFrame) -> pd.DataFrame:
    """One-row summary of a :func:`fair_share` table.

    Columns: ``total_provision``, ``total_need``, ``total_shortfall`` (sum of the areas'
    shortfalls: the amount that would have to move to bring every area up to its fair share,
    which equals the total held above fair share elsewhere), ``areas`` (count),
    ``areas_below_fair_share``, ``share_of_areas_below`` and ``share_of_need_below`` (the share
    of total need that lives in areas below fair share). Formulas and reference as
    :func:`fair_share`; ``total_shortfall = sum_i max(fair_share_amount_i - P_i, 0)``.
    """
    _check_fair_share_table(table)
    below = table["below_fair_share"].to_numpy(dtype=bool)
    return pd.DataFrame(
        {
            "total_provision": [float(table["provision"].sum())],
            "total_need": [float(table["need"].sum())],
            "total_shortfall": [float(table["shortfall"].sum())],
            "areas": [len(table)],
            "areas_below_fair_share": [int(below.sum())],
            "share_of_areas_below": [float(below.mean())],
            "share_of_need_below": [float(table["need_share"].to_numpy()[below].sum())],
        }
    )


def fair_share_by_quintile(
    table: pd.DataFrame,
    populations: ArrayLike,
    quintiles: ArrayLike,
) -> pd.DataFrame:
    """Share of each deprivation quintile's population living in areas below fair share.

    ``populations`` and ``quintiles`` align by position with the rows of ``table`` (a
    :func:`fair_share` result); quintile labels are whole numbers, 1 = most deprived. One row per
    quintile, most deprived first, with ``population``, ``population_below_fair_share``,
    ``share_below_fair_share`` (= population below / population), ``provision``,
    ``fair_share_amount`` and ``shortfall`` (summed over the quintile's areas) and the quintile's
    ``fair_share_ratio`` (its provision share over its need share). Reference as
    :func:`fair_share`.
    """
    _check_fair_share_table(table)
    population = _positive("populations", populations)
    labels = _as_float_array("quintiles", quintiles)
    rows = len(table)
    if population.size != rows:
        raise ValueError(
            f"populations has {population.size} entries but table has {rows} rows: they must "
            "be the same length"
        )
    _same_length(populations=population, quintiles=labels)
    _require("quintiles", labels, labels != np.round(labels), "must be whole-number labels")

    unique_labels, group = np.unique(labels, return_inverse=True)
    below = table["below_fair_share"].to_numpy(dtype=bool)
    group_population = np.bincount(group, weights=population)
    group_below = np.bincount(group, weights=population * below)
    provision = np.bincount(group, weights=table["provision"].to_numpy(dtype=float))
    fair_amount = np.bincount(group, weights=table["fair_share_amount"].to_numpy(dtype=float))
    shortfall = np.bincount(group, weights=table["shortfall"].to_numpy(dtype=float))
    # Provision share / need share, and need share = fair amount / total provision.
    ratio = provision / fair_amount
    return pd.DataFrame(
        {
            "quintile": unique_labels.astype(int),
            "population": group_population,
            "population_below_fair_share": group_below,
            "share_below_fair_share": group_below / group_population,
            "provision": provision,
            "fair_share_amount": fair_amount,
            "shortfall": shortfall,
            "fair_share_ratio": ratio,
        }
    )
