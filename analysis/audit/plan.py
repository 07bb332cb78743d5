"""How the engine groups small areas before it counts: one *counting unit* per piece of the
study area that every table of the audit can be summed from.

Every finding of an audit is a sum over small areas: records by deprivation decile × age
band, by sex, by ethnic group, by site. Only the observed-against-expected map needs each
small area on its own, and it needs just its total. Counting by small area × age band × sex
would bring about as many rows back from the engine as there are records (33,755 LSOAs × 19
bands × 3 sexes in England). The engine therefore counts by unit, and by small area for the
totals only.

A unit is a *block* of small areas within one national deprivation decile. A block is the
finest piece that every level a study area can be inferred at is made of whole:

* England: one local authority district (LTLA) within one sub-ICB location. ICBs, sub-ICB
  locations, regions and LTLAs are unions of these blocks; ICBs alone are not unions of LTLAs
  (13 LTLAs straddle two ICBs).
* Scotland: a council area.

So a unit is wholly inside or wholly outside any such study area, and the in-study counts are
the sums over the units inside it. A study area chosen at a finer level (a ward, an
intermediate zone, one small area) is counted with one unit per small area. Small areas
with no population in the denominator get no unit (``-1``): their records count as outside
the study area, as they always have.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

#: The levels whose every area is a union of blocks (a block is one combination of them).
BLOCK_LEVELS = {"england": ("ltla", "sicbl", "icb", "region"), "scotland": ("council",)}
NO_UNIT = -1


@dataclass(frozen=True)
class CountingPlan:
    """The unit of every small area and what each unit is."""

    unit_of_area: np.ndarray  # int32 per area id (ReferenceTables.areas order); -1 = none
    unit_decile: np.ndarray  # float per unit: national decile (1 = most deprived), NaN unknown
    study_code: str | None  # the study area the plan was made for (None: any union of blocks)
    per_area: bool  # one unit per small area (a study area finer than a block)

    @property
    def units(self) -> int:
        return len(self.unit_decile)

    def units_inside(self, area_ids: np.ndarray) -> np.ndarray:
        """Which units lie inside the study area made of ``area_ids`` (a boolean per unit).

        Raises ``ValueError`` if a unit is partly inside: the records were counted for another
        study area, and must be counted again for this one."""
        units = self.unit_of_area[area_ids]
        units = units[units >= 0]
        inside = np.bincount(units, minlength=self.units)
        every = np.bincount(self.unit_of_area[self.unit_of_area >= 0], minlength=self.units)
        partly = (inside > 0) & (inside < every)
        if partly.any():
            raise ValueError("The records were counted for another study area: count them again "
                             "with a plan for this one (counting_plan(area_code))")
        return inside > 0


def counting_plan(area_code: str | None = None,
                  population: pd.DataFrame | None = None) -> CountingPlan:
    """The counting units for an audit of ``area_code`` (``None``: the study area is inferred
    after counting, so every small area of both countries gets a unit) with the denominator
    ``population`` (a user's table with an ``area_code`` column; ``None``: the embedded
    populations, and the plan is built once per process)."""
    if population is None:
        return _embedded_plan(area_code.strip().upper() if area_code else None)
    return _plan(area_code, population)


@lru_cache(maxsize=16)
def _embedded_plan(area_code: str | None) -> CountingPlan:
    return _plan(area_code, None)


@lru_cache(maxsize=1)
def _blocks() -> tuple[pd.Index, np.ndarray, np.ndarray, np.ndarray]:
    """(area codes, national decile, block number, has an embedded population) of every
    small area id; they depend only on the embedded data."""
    from analysis.audit.engine import reference_tables
    from analysis.audit.study import deprivation, member
    from analysis.data.geography import load_pack_table, spec_for
    from analysis.data.populations import age_population

    areas = reference_tables().areas
    decile = np.full(len(areas), np.nan)
    block = np.full(len(areas), -1, dtype=np.int64)
    with_people = np.zeros(len(areas), dtype=bool)
    offset = 0
    for country in ("england", "scotland"):
        table = load_pack_table(country)
        spec = spec_for(country)
        ids = areas.get_indexer(table.index.astype(str))
        known = ids >= 0
        deciles = deprivation(country)["decile"].astype("float64")
        decile[ids[known]] = deciles.reindex(table.index[known].astype(str)).to_numpy()
        columns = [spec.level(level).code_column for level in BLOCK_LEVELS[country]]
        combined = np.zeros(len(table), dtype=np.int64)
        for column in columns:  # one mixed-radix integer per distinct combination of codes
            codes, distinct = pd.factorize(table[column], use_na_sentinel=False)
            combined = combined * (len(distinct) + 1) + codes
        _, numbered = np.unique(combined, return_inverse=True)
        block[ids[known]] = numbered[known] + offset
        offset += int(numbered.max(initial=-1)) + 1
        codes = age_population(country)["area_code"]
        present = (codes.cat.categories if isinstance(codes.dtype, pd.CategoricalDtype)
                   else pd.Index(codes.astype(str)).unique())
        with_people |= member(pd.Series(areas), pd.Index(present).astype(str))
    for array in (decile, block, with_people):
        array.setflags(write=False)
    return areas, decile, block, with_people


def _plan(area_code: str | None, population: pd.DataFrame | None) -> CountingPlan:
    from analysis.audit.study import member
    from analysis.data.geography import load_pack_table, resolve_area, spec_for

    areas, decile, block, with_people = _blocks()
    if population is not None:
        with_people = member(pd.Series(areas), pd.Index(population["area_code"].astype(str))
                             .unique())
    wanted = np.ones(len(areas), dtype=bool)
    per_area = False
    if area_code is not None:
        area = resolve_area(area_code)
        table = load_pack_table(area.country)
        spec = spec_for(area.country)
        members = (table.index if area.level == "country" else
                   table.index[table[spec.level(area.level).code_column] == area.code])
        member_ids = areas.get_indexer(members.astype(str))
        wanted = np.zeros(len(areas), dtype=bool)
        wanted[member_ids[member_ids >= 0]] = True
        # finer than a block: a block holding some of its areas is split by it
        per_area = bool(np.isin(block[~wanted], np.unique(block[wanted])).any())
    counted = wanted & with_people
    if per_area:
        key = np.where(counted, np.arange(len(areas)), -1)
    else:
        tens = np.where(np.isfinite(decile), decile, 0).astype(np.int64)
        key = np.where(counted, block * 11 + tens, -1)
    present, unit = np.unique(key[counted], return_inverse=True)
    unit_of_area = np.full(len(areas), NO_UNIT, dtype=np.int32)
    unit_of_area[counted] = unit
    first_area = np.zeros(len(present), dtype=np.int64)
    first_area[unit] = np.flatnonzero(counted)
    return CountingPlan(unit_of_area, decile[first_area], area_code, per_area)
