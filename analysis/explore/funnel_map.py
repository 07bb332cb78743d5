"""A map of where use is lower or higher than expected: small areas coloured by where their
observed count falls against the funnel limits of its expected count (Spiegelhalter 2005).

It takes any table with ``observed``, ``expected`` and the 95% and 99.8% limits of the
observed count (an equity audit's small areas, for one), so it knows nothing of where the
counts came from.
"""

from __future__ import annotations

import pandas as pd

from analysis.disclosure import SUPPRESSED
from analysis.explore.maps import Legend, MapLayer, build_layer
from analysis.numbers import format_number

#: Worst first (fewest records for the need), diverging so that "as expected" is neutral.
FUNNEL_CLASSES = (
    ("lower than expected (beyond 99.8% limit)", (33, 102, 172)),
    ("lower than expected (beyond 95% limit)", (103, 169, 207)),
    ("as expected", (235, 235, 235)),
    ("higher than expected (beyond 95% limit)", (239, 138, 98)),
    ("higher than expected (beyond 99.8% limit)", (178, 24, 43)),
)


def funnel_classes(table: pd.DataFrame) -> pd.Series:
    """Class index (0 = far below expected … 4 = far above; -1 without an expected count)."""
    observed, expected = table["observed"].astype(float), table["expected"].astype(float)
    k = pd.Series(2, index=table.index)
    k[observed < table["lower95"]] = 1
    k[observed < table["lower998"]] = 0
    k[observed > table["upper95"]] = 3
    k[observed > table["upper998"]] = 4
    k[~(expected > 0)] = -1
    return k


def funnel_layer(areas, table: pd.DataFrame, *, title: str, threshold: int = 5) -> MapLayer:
    """Small areas (GeoDataFrame ``areas`` indexed by code) coloured by funnel class.

    ``table`` is indexed by area code. Tooltips show observed ÷ expected as a percentage;
    where fewer than ``threshold`` records were observed (1 to 4), both the count and the
    percentage are shown as ``[c]``: with the expected count published, either would
    disclose it.
    """
    rows = table.reindex(areas.index)
    k = funnel_classes(rows).where(rows["expected"].notna(), -1)
    small = (rows["observed"] > 0) & (rows["observed"] < threshold)
    ratio = (100 * rows["observed"] / rows["expected"]).map(
        lambda v: "no data" if pd.isna(v) else f"{format_number(v, 0)}% of expected")
    ratio = ratio.where(~small, f"{SUPPRESSED} (fewer than {threshold} records)")
    attributes = pd.DataFrame({
        "c": areas.index.astype(str), "n": areas.iloc[:, 1].astype(str), "v": ratio,
        "e": rows["expected"].map(lambda v: "" if pd.isna(v) else format_number(v, 1)),
        "k": k.astype(int)}, index=areas.index)
    counts = k.value_counts()
    legend = Legend(tuple(f"{label} ({int(counts.get(i, 0)):,})"
                          for i, (label, _) in enumerate(FUNNEL_CLASSES)),
                    tuple(colour for _, colour in FUNNEL_CLASSES))
    alt_text = (f"Map of {len(areas):,} small areas coloured by whether their records are "
                f"lower or higher than expected for their age structure: "
                f"{int(counts.get(0, 0)):,} beyond the lower 99.8% limit (dark blue), "
                f"{int(counts.get(4, 0)):,} beyond the upper 99.8% limit (dark red); the rest "
                "within or between the limits.")
    return build_layer(areas, attributes, legend=legend, title=title, alt_text=alt_text,
                       detail_columns=("n", "e"))
