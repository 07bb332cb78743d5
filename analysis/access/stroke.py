"""Stroke: travel time from each LSOA 2021 to the nearest thrombolysis and thrombectomy
centre, the share of residents beyond a threshold, and stroke admissions per 1,000.

The published inputs are on LSOA 2011 names; they are converted to 2021 codes with the ONS
change rules (:mod:`analysis.data.lsoa_conversion`), and every name or code that does not
convert is reported on the result.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.access.nearest import nearest_by_travel_time
from analysis.access.points import _aligned, _examples
from analysis.data import (
    ConversionReport,
    convert_lsoa11_to_lsoa21,
    lsoa11_name_to_code,
)
from analysis.util import members

_CONVERSION_BATCH = 50


def _normalised_postcode(values: Iterable[str]) -> list[str]:
    return [str(v).replace(" ", "").upper() for v in values]


def _names_to_codes(
    names: pd.Series, lookup: pd.DataFrame
) -> tuple[pd.Series, tuple[str, ...]]:
    codes = lsoa11_name_to_code(names, lookup)
    unmatched = tuple(names[codes.isna()].astype(str))
    return codes, unmatched


def _lsoa21_missing_parents(
    lookup: pd.DataFrame, converted_codes: pd.Series
) -> tuple[pd.Index, pd.Index]:
    """2021 codes with no 2011 parent among ``converted_codes``, and with only some of them."""
    present = members(lookup["lsoa11_code"], converted_codes)
    by_child = pd.Series(present).groupby(lookup["lsoa21_code"].to_numpy())
    any_present, all_present = by_child.any(), by_child.all()
    return any_present.index[~any_present], all_present.index[any_present & ~all_present]


@dataclass(frozen=True)
class StrokeTravelTimes:
    """Result of :func:`stroke_travel_times_lsoa21`.

    ``table`` (indexed by ``lsoa21_code``, every 2021 LSOA of the lookup): ``ivt_minutes``,
    ``ivt_unit`` (postcode of the nearest thrombolysis unit), ``mt_minutes``, ``mt_unit``
    (nearest thrombectomy centre). Reports: 2011 names not in the lookup (e.g. Welsh LSOAs,
    renamed areas), 2021 LSOAs without any time, 2021 LSOAs that had only some of their 2011
    parents, units in the unit list the matrix does not cover and matrix columns not in the
    unit list.
    """

    table: pd.DataFrame
    conversion: ConversionReport
    unmatched_names: tuple[str, ...]
    lsoa21_without_times: tuple[str, ...]
    lsoa21_partial_parents: tuple[str, ...]
    units_not_in_matrix: tuple[str, ...]
    matrix_units_not_in_list: tuple[str, ...]

    def summary(self) -> str:
        parts = [
            self.conversion.summary(),
            f"{len(self.unmatched_names):,} matrix rows with a 2011 name not in the lookup"
            + (f" ({_examples(self.unmatched_names)})" if self.unmatched_names else ""),
            f"{len(self.lsoa21_without_times):,} LSOA 2021 without travel times"
            + (f" ({_examples(self.lsoa21_without_times)})" if self.lsoa21_without_times else ""),
        ]
        if self.lsoa21_partial_parents:
            parts.append(
                f"{len(self.lsoa21_partial_parents):,} LSOA 2021 from only some of their 2011 "
                f"parents ({_examples(self.lsoa21_partial_parents)})"
            )
        if self.units_not_in_matrix:
            parts.append(
                f"thrombolysis/thrombectomy units with no matrix column: "
                f"{_examples(self.units_not_in_matrix)}"
            )
        if self.matrix_units_not_in_list:
            parts.append(
                f"matrix columns not in the unit list (unclassified, ignored): "
                f"{_examples(self.matrix_units_not_in_list)}"
            )
        return "; ".join(parts)


def stroke_travel_times_lsoa21(
    matrix: pd.DataFrame,
    units: pd.DataFrame,
    lookup: pd.DataFrame,
    *,
    name_column: str = "LSOA",
    postcode_column: str = "postcode",
) -> StrokeTravelTimes:
    """Minutes from each LSOA 2021 to the nearest thrombolysis and thrombectomy unit.

    ``matrix``: one row per LSOA 2011 *name* (``name_column``) and one column of modelled
    road travel minutes per stroke unit (column = unit postcode). ``units``: the unit list
    with ``postcode``, ``use_ivt`` (gives thrombolysis) and ``use_mt`` (gives thrombectomy).
    ``lookup``: LSOA 2011 ↔ 2021 pairs with ``lsoa11_name``, ``lsoa11_code``,
    ``lsoa21_code``, ``weight`` and ``population11`` (as ``load_lookup()``).

    Names become 2011 codes through the lookup, then every unit column is converted to 2021
    as a rate with :func:`convert_lsoa11_to_lsoa21`: a split's children inherit the parent's
    times and a merge takes the population-weighted mean t21 = Σ q·t11 / Σ q of its parents'
    times (q = apportioning weight × mid-2020 population). The nearest unit is then chosen on
    the 2021 times (min over the unit subset), so the reported minutes are those to the
    reported unit. Build-time helper: reads no file.
    """
    for column, frame, what in (
        (name_column, matrix, "matrix"),
        (postcode_column, units, "units"),
        ("use_ivt", units, "units"),
        ("use_mt", units, "units"),
    ):
        if column not in frame.columns:
            raise ValueError(f"{what} has no column {column!r}")
    unit_columns = [c for c in matrix.columns if c != name_column]
    matrix_postcodes = dict(zip(_normalised_postcode(unit_columns), unit_columns, strict=True))
    listed = pd.DataFrame(
        {
            "postcode": _normalised_postcode(units[postcode_column]),
            "ivt": units["use_ivt"].fillna(False).astype(bool).to_numpy(),
            "mt": units["use_mt"].fillna(False).astype(bool).to_numpy(),
        }
    )
    listed_set = set(listed["postcode"])
    treating = listed[listed["ivt"] | listed["mt"]]
    units_not_in_matrix = tuple(p for p in treating["postcode"] if p not in matrix_postcodes)
    not_in_list = tuple(matrix_postcodes[p] for p in matrix_postcodes if p not in listed_set)

    subsets = {
        flag: [matrix_postcodes[p] for p in listed.loc[listed[flag], "postcode"]
               if p in matrix_postcodes]
        for flag in ("ivt", "mt")
    }
    needed = [c for c in unit_columns if c in set(subsets["ivt"]) | set(subsets["mt"])]

    codes, unmatched = _names_to_codes(matrix[name_column], lookup)
    known = codes.notna().to_numpy()
    times11 = matrix.loc[known, needed].astype(float)
    times11.insert(0, "lsoa11_code", codes[known].to_numpy())
    all_lsoa21 = pd.Index(lookup["lsoa21_code"].unique(), name="lsoa21_code")
    # convert_lsoa11_to_lsoa21 adds output columns one by one; batches keep its frame from
    # fragmenting (pandas PerformanceWarning past 100 columns).
    batches = []
    for start in range(0, len(needed), _CONVERSION_BATCH):
        batch = needed[start : start + _CONVERSION_BATCH]
        converted, report = convert_lsoa11_to_lsoa21(
            times11[["lsoa11_code", *batch]], code_column="lsoa11_code", rates=batch,
            lookup=lookup,
        )
        batches.append(converted.reindex(all_lsoa21))
    times21 = pd.concat(batches, axis=1)

    table = pd.DataFrame(index=all_lsoa21)
    for label, flag in (("ivt", "ivt"), ("mt", "mt")):
        nearest = nearest_by_travel_time(times21, subsets[flag]).table
        table[f"{label}_minutes"] = nearest["minutes"]
        table[f"{label}_unit"] = nearest["facility_id"].astype("str")

    no_parent, partial = _lsoa21_missing_parents(lookup, codes[known])
    return StrokeTravelTimes(
        table=table,
        conversion=report,
        unmatched_names=unmatched,
        lsoa21_without_times=tuple(map(str, no_parent)),
        lsoa21_partial_parents=tuple(map(str, partial)),
        units_not_in_matrix=units_not_in_matrix,
        matrix_units_not_in_list=not_in_list,
    )


def share_beyond(
    minutes: pd.Series,
    population: pd.Series,
    decile: pd.Series,
    thresholds: Sequence[float] = (30, 60),
) -> pd.DataFrame:
    """Share of the population living more than each threshold away, by deprivation decile.

    For decile g and threshold T: share = Σ_{i ∈ g, t_i > T} P_i / Σ_{i ∈ g, t_i known} P_i
    (a fraction, 0–1). The three Series are aligned on ``minutes``' index. Rows: deciles in
    ascending order (1 = most deprived) and ``"All"``; columns ``areas``, ``population``
    (with a known time), ``population_without_time`` and ``share_beyond_<T>``. Areas with no
    decile are counted only in ``"All"``.
    """
    index = minutes.index
    pop = _aligned(population, index, "population")
    group = decile.reindex(index)
    if (~np.isfinite(pop)).any() or (pop < 0).any():
        raise ValueError("population must be finite and non-negative for every area")
    time = minutes.to_numpy(dtype=float, na_value=np.nan)
    known = ~np.isnan(time)
    frame = pd.DataFrame(
        {
            "areas": 1,
            "population": np.where(known, pop, 0.0),
            "population_without_time": np.where(known, 0.0, pop),
        },
        index=index,
    )
    columns = []
    for threshold in thresholds:
        column = f"beyond_{threshold:g}"
        frame[column] = np.where(known & (time > threshold), pop, 0.0)
        columns.append(column)
    by_decile = frame.groupby(group.to_numpy(), dropna=True).sum().sort_index()
    by_decile.index = by_decile.index.astype(int).astype(object)
    table = pd.concat([by_decile, frame.sum().to_frame("All").T])
    table.index.name = "imd_decile"
    denominator = table["population"].where(table["population"] > 0)
    for threshold, column in zip(thresholds, columns, strict=True):
        table[f"share_beyond_{threshold:g}"] = table.pop(column) / denominator
    table["areas"] = table["areas"].astype(int)
    return table


@dataclass(frozen=True)
class StrokeAdmissions:
    """Result of :func:`stroke_admissions_lsoa21`.

    ``table`` (indexed by ``lsoa21_code``): ``admissions_per_year``, ``population`` and
    ``admissions_per_1000``. LSOA 2021 that lack some or all of their 2011
    parents are NaN (an apportioned count would be an undercount) and listed.
    """

    table: pd.DataFrame
    conversion: ConversionReport
    unmatched_names: tuple[str, ...]
    lsoa21_without_admissions: tuple[str, ...]

    def summary(self) -> str:
        text = (
            f"{self.conversion.summary()}; {len(self.unmatched_names):,} 2011 names not in the "
            f"lookup"
        )
        if self.unmatched_names:
            text += f" ({_examples(self.unmatched_names)})"
        if self.lsoa21_without_admissions:
            text += (
                f"; {len(self.lsoa21_without_admissions):,} LSOA 2021 without a complete count "
                f"({_examples(self.lsoa21_without_admissions)})"
            )
        return text


def stroke_admissions_lsoa21(
    admissions_by_name: pd.DataFrame,
    lookup: pd.DataFrame,
    *,
    name_column: str = "lsoa11_name",
    value_column: str = "stroke_admissions_per_year_2017_2019",
    population: pd.Series | None = None,
) -> StrokeAdmissions:
    """Yearly stroke admissions per LSOA 2021 and per 1,000 residents (a need indicator).

    Counts on 2011 LSOA names go to codes through ``lookup`` and are apportioned to 2021 with
    :func:`convert_lsoa11_to_lsoa21` (``counts=``): C21(j) = Σ_i w(i, j)·C11(i), splits
    shared by 2021 population, merges summed. The rate is C21 × 1000 / P21. ``population``
    (indexed by 2021 code, e.g. Census 2021) defaults to the mid-2020 estimate carried to 2021
    by the same weights, Σ_i w(i, j)·P11(i) — closer in time to the 2017–2019 admissions, and
    a split's children then share the parent's rate exactly.
    """
    for column in (name_column, value_column):
        if column not in admissions_by_name.columns:
            raise ValueError(f"admissions have no column {column!r}")
    codes, unmatched = _names_to_codes(admissions_by_name[name_column], lookup)
    known = codes.notna().to_numpy()
    counts11 = pd.DataFrame(
        {
            "lsoa11_code": codes[known].to_numpy(),
            "admissions_per_year": pd.to_numeric(
                admissions_by_name.loc[known, value_column], errors="coerce"
            ).to_numpy(),
        }
    )
    counts21, report = convert_lsoa11_to_lsoa21(
        counts11, code_column="lsoa11_code", counts=["admissions_per_year"], lookup=lookup
    )
    all_lsoa21 = pd.Index(lookup["lsoa21_code"].unique(), name="lsoa21_code")
    no_parent, partial = _lsoa21_missing_parents(lookup, codes[known])
    incomplete = no_parent.append(partial)
    admissions = counts21["admissions_per_year"].reindex(all_lsoa21)
    admissions[members(all_lsoa21, incomplete)] = np.nan
    if population is None:
        carried = (lookup["weight"] * lookup["population11"].astype(float)).groupby(
            lookup["lsoa21_code"].to_numpy()
        ).sum()
        denominator = carried.reindex(all_lsoa21)
    else:
        denominator = population.astype(float).reindex(all_lsoa21)
    table = pd.DataFrame(
        {
            "admissions_per_year": admissions,
            "population": denominator,
            "admissions_per_1000": admissions * 1000 / denominator.where(denominator > 0),
        },
        index=all_lsoa21,
    )
    return StrokeAdmissions(
        table=table,
        conversion=report,
        unmatched_names=unmatched,
        lsoa21_without_admissions=tuple(sorted(map(str, incomplete))),
    )
