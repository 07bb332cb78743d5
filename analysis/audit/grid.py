"""The study area as dense arrays: small areas × age bands of population and of records, so
that every grouping the audit needs (deprivation quintile or decile, site, ethnic group) is a
sum over rows of a matrix instead of a join of long tables. England has 33,755 LSOAs × 19
bands: the arrays are a few megabytes and every sum takes milliseconds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.audit.engine import AGE_BAND_LABELS, BAND_85_PLUS
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
