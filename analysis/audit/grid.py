"""The study area as dense arrays: small areas × age bands of population and of records, so
that every grouping the audit needs (deprivation quintile or decile, site, ethnic group) is a
sum over rows of a matrix instead of a join of long tables. England has 33,755 LSOAs × 19
bands: the arrays are a few megabytes and every sum takes milliseconds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.audit.engine import AGE_BAND_LABELS, BAND_85_PLUS
from analysis.audit.plan import CountingPlan
from analysis.audit.study import (
    SCOTLAND_TOP_BAND,
    Denominator,
    StudyArea,
    member,
)


@dataclass(frozen=True)
class Grid:
    """Population and deprivation of a study area's small areas, with the age bands used."""

    areas: pd.Index  # small-area codes, one row of every matrix each
    bands: tuple[str, ...]
    population: np.ndarray  # (areas, bands), persons
    population_by_sex: dict[str, np.ndarray]  # "F"/"M" → (areas, bands); empty if not known
    decile: np.ndarray  # (areas,), NaN where unknown
    quintile: np.ndarray  # (areas,), NaN where unknown

    def positions(self, codes: pd.Series) -> np.ndarray:
        """Row of each code in the grid, -1 for codes outside it (vectorised, and cheap for a
        categorical column: one lookup per distinct code)."""
        if isinstance(codes.dtype, pd.CategoricalDtype):
            lookup = self.areas.get_indexer(codes.cat.categories.astype(str))
            raw = codes.cat.codes.to_numpy()
            return np.where(raw >= 0, lookup[np.maximum(raw, 0)], -1)
        return self.areas.get_indexer(codes.astype(str))

    def band_columns(self, engine_bands: pd.Series) -> np.ndarray:
        """Column of each engine band index (0-18, 19 for "85+"), -1 where the grid has none."""
        lookup = np.full(BAND_85_PLUS + 1, -1, dtype=np.int64)
        for index, label in enumerate([*AGE_BAND_LABELS, SCOTLAND_TOP_BAND]):
            target = label
            if self.bands[-1] == SCOTLAND_TOP_BAND and index >= 17:
                target = SCOTLAND_TOP_BAND
            if target in self.bands:
                lookup[index] = self.bands.index(target)
        raw = engine_bands.astype("float64").fillna(-1).astype(np.int64).to_numpy()
        return np.where(raw >= 0, lookup[np.clip(raw, 0, BAND_85_PLUS)], -1)

    def matrix(self, rows: np.ndarray, columns: np.ndarray, weights: np.ndarray,
               width: int | None = None) -> np.ndarray:
        """(areas, width) sums of ``weights`` at (row, column); width defaults to the bands."""
        width = len(self.bands) if width is None else width
        flat = np.bincount(rows * width + columns, weights=weights.astype(np.float64),
                           minlength=len(self.areas) * width)
        return flat.reshape(len(self.areas), width)

    def by_group(self, values: np.ndarray, group: np.ndarray, labels: range | list
                 ) -> np.ndarray:
        """(groups, …) sums of a per-area array over areas with each group label."""
        out = np.zeros((len(labels), *values.shape[1:]))
        for i, label in enumerate(labels):
            out[i] = values[group == label].sum(axis=0)
        return out

    def long(self, events: np.ndarray, population: np.ndarray, name: str,
             labels: range | list) -> pd.DataFrame:
        """Group × band rows (``name``, ``age_band``, ``events``, ``population``): the shape the
        standardisation functions take."""
        bands = len(self.bands)
        return pd.DataFrame({
            name: np.repeat(list(labels), bands),
            "age_band": np.tile(self.bands, len(labels)),
            "events": events.reshape(-1), "population": population.reshape(-1)})


def build_grid(study: StudyArea, denominator: Denominator, top: str | None,
               deprivation: pd.DataFrame, bands: tuple[str, ...]) -> Grid:
    """The grid of the study area's small areas that have a population.

    The denominator's columns are categorical (:func:`analysis.audit.study.study_population`):
    each area code, band and sex label is looked up once per category, not once per row."""
    table = denominator.table
    band_labels = _categories(table["age_band"])
    if top:
        band_labels = np.where(np.isin(band_labels, ["85-89", "90+"]), top, band_labels)
    columns = _per_row(table["age_band"], pd.Index(list(bands)).get_indexer(band_labels))
    codes = table["area_code"].astype("category")
    used = np.zeros(len(codes.cat.categories), dtype=bool)
    used[codes.cat.codes.to_numpy()[codes.cat.codes.to_numpy() >= 0]] = True
    order = pd.Index(study.small_areas)
    areas = order[member(order.to_series(), codes.cat.categories[used].astype(str))]
    rows = _per_row(codes, areas.get_indexer(codes.cat.categories.astype(str)))
    keep = (rows >= 0) & (columns >= 0)
    values = table["population"].to_numpy(dtype=np.float64)
    width = len(bands)

    def dense(mask: np.ndarray) -> np.ndarray:
        flat = np.bincount(rows[mask] * width + columns[mask], weights=values[mask],
                           minlength=len(areas) * width)
        return flat.reshape(len(areas), width)

    sex = _categories(table["sex"])
    sex_codes = table["sex"].astype("category").cat.codes.to_numpy()
    by_sex = {}
    for s in ("F", "M"):
        if s in sex:
            mine = sex_codes == int(np.flatnonzero(sex == s)[0])
            if mine.any():
                by_sex[s] = dense(keep & mine)
    decile = deprivation["decile"].astype("float64").reindex(areas).to_numpy()
    quintile = deprivation["quintile"].astype("float64").reindex(areas).to_numpy()
    return Grid(areas, bands, dense(keep), by_sex, decile, quintile)


def _categories(values: pd.Series) -> np.ndarray:
    """The distinct labels of a categorical (or any) column, as Python strings."""
    return np.asarray(values.astype("category").cat.categories.astype(str), dtype=object)


def _per_row(values: pd.Series, per_category: np.ndarray) -> np.ndarray:
    """``per_category[code]`` for every row of a categorical column; -1 where it is missing."""
    raw = values.astype("category").cat.codes.to_numpy()
    lookup = np.asarray(per_category, dtype=np.int64)
    return np.where(raw >= 0, lookup[np.maximum(raw, 0)], -1)


@dataclass(frozen=True)
class StudyUnits:
    """The engine's counting units (:mod:`analysis.audit.plan`) seen from one study area: which
    lie inside it and the deprivation decile of each, so that counts by unit sum straight
    into the audit's groups."""

    inside: np.ndarray  # bool per unit
    decile: np.ndarray  # float per unit, NaN where unknown

    def locate(self, units: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """(unit number, inside the study area) of each row; -1 and False where none."""
        raw = units.astype("float64").fillna(-1).to_numpy().astype(np.int64)
        inside = (raw >= 0) & self.inside[np.maximum(raw, 0)]
        return raw, inside

    def group_of(self, units: np.ndarray, by: str) -> np.ndarray:
        """Decile (1-10) or quintile (1-5) of each unit number, 0 where unknown or none."""
        decile = np.where(units >= 0, self.decile[np.maximum(units, 0)], np.nan)
        decile = np.where(np.isfinite(decile), decile, 0).astype(np.int64)
        return (decile + 1) // 2 if by == "quintile" else decile

    def sums(self, units: np.ndarray, columns: np.ndarray, weights: np.ndarray, by: str,
             width: int) -> np.ndarray:
        """(groups, width) sums of ``weights`` at (group of the unit, column) over the rows
        inside the study area with a known group."""
        groups = 5 if by == "quintile" else 10
        group = self.group_of(units, by)
        keep = self.inside[np.maximum(units, 0)] & (units >= 0) & (group > 0) & (columns >= 0)
        flat = np.bincount((group[keep] - 1) * width + columns[keep],
                           weights=weights[keep].astype(np.float64), minlength=groups * width)
        return flat.reshape(groups, width)


def study_units(plan: CountingPlan, grid: Grid, area_ids: np.ndarray) -> StudyUnits:
    """The units inside the study area whose grid rows are the small areas ``area_ids``.

    Raises ``ValueError`` when the counts cannot describe this study area: a small area of it
    has no unit (counted with another population), or a unit lies partly outside it
    (counted for another study area)."""
    if (area_ids < 0).any() or (plan.unit_of_area[area_ids] < 0).any():
        raise ValueError("The records were counted with another population or study area: "
                         "count them again with counting_plan(area_code, population)")
    return StudyUnits(plan.units_inside(area_ids), plan.unit_decile)
