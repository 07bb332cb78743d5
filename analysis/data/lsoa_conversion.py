"""Convert values on 2011 LSOAs to 2021 LSOAs through the ONS best-fit lookup.

ONS change codes (LSOA 2011 → LSOA 2021 lookup, ONS Open Geography Portal):

* ``U`` unchanged: the value carries over 1:1;
* ``S`` split: one 2011 LSOA became several 2021 LSOAs;
* ``M`` merged: several 2011 LSOAs became one 2021 LSOA;
* ``X`` irregular: boundaries redrawn, many-to-many.

All four are handled by one rule over the lookup's (2011, 2021) pairs. Each pair gets an
*apportioning weight* w = P21(child) / Σ P21(children of the parent), with P21 the Census 2021
population of the 2021 LSOA (a split apportions by 2021 population, an unchanged or merged
pair has w = 1). Then

* counts: C21(j) = Σ_i w(i, j) · C11(i) — splits apportion, merges add up;
* rates: R21(j) = Σ_i q(i, j) · R11(i) / Σ_i q(i, j), with q(i, j) = w(i, j) · P11(i) the
  estimated population the pair shares (P11 = ONS mid-2020 estimate on the 2011 LSOA) —
  a split copies the parent's rate, a merge population-weights the parents.

Codes that are not in the lookup are reported in :class:`ConversionReport`, never dropped
silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.data.datastore import data_cache, read_parquet
from analysis.util import members

LOOKUP_FILE = "geography/lsoa11_lsoa21.parquet"


@dataclass(frozen=True)
class ConversionReport:
    """What happened to the input codes during a 2011 → 2021 conversion."""

    input_codes: int
    output_codes: int
    unchanged: int
    split: int
    merged: int
    irregular: int
    unmatched_codes: tuple[str, ...] = field(default=())

    @property
    def converted(self) -> int:
        """Input codes whose LSOA changed between 2011 and 2021."""
        return self.split + self.merged + self.irregular

    def summary(self) -> str:
        text = (
            f"{self.input_codes:,} LSOA 2011 codes → {self.output_codes:,} LSOA 2021 codes "
            f"({self.unchanged:,} unchanged, {self.split:,} split, {self.merged:,} merged, "
            f"{self.irregular:,} irregular)"
        )
        if self.unmatched_codes:
            first = ", ".join(self.unmatched_codes[:10])
            text += f"; {len(self.unmatched_codes):,} codes not in the lookup: {first}"
        return text


@data_cache(maxsize=1)
def load_lookup() -> pd.DataFrame:
    """The embedded LSOA 2011 ↔ 2021 lookup with apportioning weights (England only).

    Columns: ``lsoa11_code``, ``lsoa11_name``, ``lsoa21_code``, ``change_code``, ``weight``
    (apportioning weight w), ``population11`` (mid-2020 on the 2011 LSOA).
    """
    return read_parquet(LOOKUP_FILE)


def apportioning_weights(pairs: pd.DataFrame, population21: pd.Series) -> pd.Series:
    """Weight w(i, j) = P21(j) / Σ_{j' child of i} P21(j') of each (2011 i, 2021 j) pair.

    ``pairs`` has columns ``lsoa11_code`` and ``lsoa21_code``; ``population21`` is indexed by
    2021 code. A parent whose children all have zero population shares equally.
    """
    child_pop = pairs["lsoa21_code"].map(population21).astype(float)
    if child_pop.isna().any():
        missing = pairs.loc[child_pop.isna(), "lsoa21_code"].unique()[:10]
        raise ValueError(f"No 2021 population for LSOA 2021 code(s): {', '.join(missing)}")
    parent_total = child_pop.groupby(pairs["lsoa11_code"]).transform("sum")
    children = pairs.groupby("lsoa11_code")["lsoa21_code"].transform("size").astype(float)
    share = child_pop / parent_total.where(parent_total > 0, 1)
    return pd.Series(
        np.where(parent_total > 0, share, 1 / children),
        index=pairs.index,
        name="weight",
    )


def convert_lsoa11_to_lsoa21(
    frame: pd.DataFrame,
    *,
    code_column: str = "lsoa11_code",
    counts: Sequence[str] = (),
    rates: Sequence[str] = (),
    lookup: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, ConversionReport]:
    """Convert columns of a frame keyed by LSOA 2011 code to LSOA 2021.

    ``counts`` are apportioned/summed, ``rates`` population-weighted (module docstring for the
    formulas). Returns a frame indexed by ``lsoa21_code`` and a :class:`ConversionReport`.
    A 2021 LSOA gets a value only from the 2011 LSOAs present in ``frame``; for a count, a
    2021 LSOA that is missing one of its parents is therefore an undercount, and is listed in
    the report via ``unmatched_codes`` of the parents only if those codes were given.
    """
    lookup = load_lookup() if lookup is None else lookup
    if code_column not in frame.columns:
        raise ValueError(f"Column {code_column!r} not found; columns are {list(frame.columns)}")
    missing_cols = [c for c in [*counts, *rates] if c not in frame.columns]
    if missing_cols:
        raise ValueError(f"Column(s) not found: {', '.join(missing_cols)}")
    codes = frame[code_column].astype(str).str.strip().str.upper()
    duplicated = codes[codes.duplicated()]
    if len(duplicated):
        raise ValueError(
            f"Duplicate LSOA 2011 code(s) in {code_column!r}: {', '.join(duplicated.unique()[:10])}"
        )
    values = frame.assign(**{code_column: codes}).set_index(code_column)
    known = members(codes, lookup["lsoa11_code"])
    unmatched = tuple(codes[~known])

    pairs = lookup[members(lookup["lsoa11_code"], codes[known])]
    # one factorisation of the 2021 codes, then per-column sums with bincount: grouping by
    # Arrow strings once per column costs ~40 ms a column on a 100-column travel matrix
    group, targets = pd.factorize(pairs["lsoa21_code"])
    n_groups = len(targets)
    position = pd.Index(values.index).get_indexer(pairs["lsoa11_code"])
    weight = pairs["weight"].to_numpy(float)

    def column_values(column: str) -> np.ndarray:
        return values[column].to_numpy(float, na_value=np.nan)[position]

    def grouped_sum(x: np.ndarray) -> np.ndarray:
        return np.bincount(group, weights=x, minlength=n_groups)

    converted: dict[str, np.ndarray] = {}
    for column in counts:
        x = column_values(column)
        present = grouped_sum(~np.isnan(x) * 1.0) > 0
        converted[column] = np.where(present, grouped_sum(np.nan_to_num(x) * weight), np.nan)
    if rates:
        shared_population = weight * pairs["population11"].to_numpy(float)
        for column in rates:
            rate = column_values(column)
            q = np.where(np.isnan(rate), 0.0, shared_population)
            numerator = grouped_sum(np.nan_to_num(rate) * q)
            denominator = grouped_sum(q)
            with np.errstate(invalid="ignore", divide="ignore"):
                converted[column] = np.where(denominator > 0, numerator / denominator, np.nan)
    out = pd.DataFrame(converted, index=pd.Index(targets, name="lsoa21_code"))
    out = out[[*counts, *rates]] if converted else out

    change = lookup.drop_duplicates("lsoa11_code").set_index("lsoa11_code")["change_code"]
    change_of_input = codes[known].map(change)
    report = ConversionReport(
        input_codes=len(codes),
        output_codes=len(out),
        unchanged=int((change_of_input == "U").sum()),
        split=int((change_of_input == "S").sum()),
        merged=int((change_of_input == "M").sum()),
        irregular=int((change_of_input == "X").sum()),
        unmatched_codes=unmatched,
    )
    return out, report


def lsoa11_name_to_code(names: pd.Series, lookup: pd.DataFrame | None = None) -> pd.Series:
    """Map LSOA 2011 *names* (e.g. "Hartlepool 009A") to codes; unknown names give NaN.

    Names in the ONS lookup are tried first, then the aliases the ONS population estimates
    use for the same codes (column ``lsoa11_alias``, e.g. "Shepway 015A" for E01024508).
    """
    lookup = load_lookup() if lookup is None else lookup
    table = lookup.drop_duplicates("lsoa11_name").set_index("lsoa11_name")["lsoa11_code"]
    clean = names.astype(str).str.strip()
    codes = clean.map(table)
    if "lsoa11_alias" in lookup.columns:
        aliases = (lookup.dropna(subset=["lsoa11_alias"]).drop_duplicates("lsoa11_alias")
                   .set_index("lsoa11_alias")["lsoa11_code"])
        codes = codes.fillna(clean.map(aliases))
    return codes
