"""Turning small-area values into compact, accessible map layers (no plotting library here).

The dashboard draws with deck.gl (pydeck, WebGL); this module prepares what it sends: only
the polygons of the view, simplified to the scale of the view, with coordinates rounded to
about a metre, and colours from colour-blind-safe palettes where "worse" is always the dark
end whatever the indicator's polarity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

# Viridis (Smith & van der Walt, matplotlib 2015): perceptually uniform, readable with the
# common colour-vision deficiencies and in greyscale. Index 0 is the darkest.
VIRIDIS_10 = (
    "#440154", "#482878", "#3e4989", "#31688e", "#26828e",
    "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725",
)


def hex_to_rgb(colour: str) -> tuple[int, int, int]:
    """``"#440154"`` → ``(68, 1, 84)``."""
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def palette(classes: int) -> list[tuple[int, int, int]]:
    """``classes`` colours sampled evenly from viridis, darkest first."""
    if not 2 <= classes <= 10:
        raise ValueError(f"classes must be between 2 and 10, got {classes}")
    picks = np.linspace(0, len(VIRIDIS_10) - 1, classes).round().astype(int)
    return [hex_to_rgb(VIRIDIS_10[i]) for i in picks]


@dataclass(frozen=True)
class Legend:
    """Class labels and colours, worst class first."""

    labels: tuple[str, ...]
    colours: tuple[tuple[int, int, int], ...]


def decile_colours(deciles: pd.Series) -> tuple[pd.Series, Legend]:
    """Colours for national deprivation deciles (1 = most deprived = darkest)."""
    colours = palette(10)
    index = deciles.astype("Int64").clip(1, 10) - 1
    mapped = index.map(lambda i: colours[int(i)] if pd.notna(i) else (200, 200, 200))
    labels = tuple(
        "1 – most deprived 10%" if d == 1 else "10 – least deprived 10%" if d == 10 else str(d)
        for d in range(1, 11)
    )
    return mapped, Legend(labels, tuple(colours))


def quantile_colours(values: pd.Series, *, higher_is_worse: bool,
                     classes: int = 5) -> tuple[pd.Series, Legend]:
    """Quantile classes of ``values`` coloured so that the worst class is darkest.

    For neutral indicators pass ``higher_is_worse=True`` to keep "more" dark.
    """
    clean = values.astype(float)
    ranks = clean.rank(method="first", ascending=not higher_is_worse)
    valid = int(clean.notna().sum())
    if valid == 0:
        raise ValueError("No values to classify")
    k = max(1, min(classes, valid))
    cls = np.ceil(ranks / valid * k).clip(1, k) - 1
    colours = palette(max(k, 2))[:k]
    mapped = cls.map(lambda i: colours[int(i)] if pd.notna(i) else (200, 200, 200))
    edges = clean.quantile(np.linspace(0, 1, k + 1)).to_numpy()
    if higher_is_worse:
        edges = edges[::-1]
    labels = tuple(f"{edges[i]:,.4g} to {edges[i + 1]:,.4g}" for i in range(k))
    return mapped, Legend(labels, tuple(colours))


def display_tolerance(bounds: tuple[float, float, float, float]) -> float:
    """Simplification tolerance (degrees) for a view: about 1/2000 of its larger side.

    At the ~1,000 px width of a dashboard map this removes detail smaller than half a pixel.
    """
    minx, miny, maxx, maxy = bounds
    return max(maxx - minx, maxy - miny) / 2000


def polygon_records(geometries: pd.Series, attributes: pd.DataFrame, *,
                    tolerance: float | None = None, precision: int = 5) -> pd.DataFrame:
    """One row per polygon part with its exterior ring as ``[[lon, lat], ...]``.

    ``geometries`` and ``attributes`` share an index; multipolygons yield one row per part
    (attributes repeated). Rings are simplified with ``tolerance`` (topology-preserving per
    polygon) and rounded to ``precision`` decimals (5 ≈ 1 m).
    """
    geoms = np.asarray(geometries.to_numpy(), dtype=object)
    if tolerance:
        geoms = shapely.simplify(geoms, tolerance, preserve_topology=True)
    parts, owner = shapely.get_parts(geoms, return_index=True)
    keep = ~shapely.is_empty(parts)  # an empty part has no ring to split on
    parts, owner = parts[keep], owner[keep]
    rings = shapely.get_exterior_ring(parts)
    coords, ring_index = shapely.get_coordinates(rings, return_index=True)
    coords = np.round(coords, precision)
    splits = np.flatnonzero(np.diff(ring_index)) + 1
    polygons = [c.tolist() for c in np.split(coords, splits)]
    frame = attributes.iloc[owner].reset_index(drop=True)
    frame["polygon"] = polygons
    return frame


@dataclass(frozen=True)
class MapLayer:
    """Everything a page needs to draw one choropleth and describe it in words."""

    records: pd.DataFrame
    legend: Legend
    bounds: tuple[float, float, float, float]
    title: str
    alt_text: str


def deprivation_layer(country: str, area_code: str | None, registry) -> MapLayer:
    """Small areas of a study area coloured by national deprivation decile (1 = darkest).

    England uses IMD 2025 deciles on LSOA 2021; Scotland SIMD 2020 deciles on data zones.
    """
    from analysis.geography import select_study_area, spec_for
    from analysis.summary import DEPRIVATION_DECILE, DEPRIVATION_INDEX_LABEL

    spec = spec_for(country)
    areas = select_study_area(country, area_code)
    small = spec.small_area
    indicator = registry.get(DEPRIVATION_DECILE[country])
    deciles = indicator.values.reindex(areas.index)
    colours, legend = decile_colours(deciles)
    attributes = pd.DataFrame(
        {
            "code": areas[small.code_column].astype(str),
            "name": areas[small.name_column].astype(str),
            "decile": deciles.astype("Int64").astype(str).replace("<NA>", "no data"),
            "population": areas[spec.population_column].map("{:,}".format),
            "fill": colours.map(list),
        },
        index=areas.index,
    )
    bounds = tuple(float(b) for b in areas.total_bounds)
    records = polygon_records(areas.geometry, attributes, tolerance=display_tolerance(bounds))
    counts = deciles.value_counts().reindex(range(1, 11), fill_value=0)
    label = DEPRIVATION_INDEX_LABEL[country]
    alt = (
        f"Map of {len(areas):,} {small.plural} coloured by national {label} decile, darkest "
        f"for the most deprived. {counts.loc[[1, 2]].sum():,} of them are in the most "
        f"deprived 20% nationally and {counts.loc[[9, 10]].sum():,} in the least deprived 20%."
    )
    return MapLayer(records, legend, bounds, f"{label} decile", alt)  # type: ignore[arg-type]
