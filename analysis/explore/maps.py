"""Turning small-area values into compact, accessible map layers (no plotting library here).

The dashboard draws with deck.gl (pydeck, WebGL); this module prepares what it sends: only
the polygons of the view, simplified to the scale of the view, with coordinates rounded to
about a metre, and colours from colour-blind-safe palettes where "worse" is always the dark
end whatever the indicator's polarity.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from analysis.disclosure import SUPPRESSED
from analysis.numbers import format_percent, format_quantity
from analysis.util import IdentityMemo

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


def decile_legend() -> Legend:
    """Legend of national deprivation deciles (1 = most deprived = darkest)."""
    labels = tuple(
        "1 – most deprived 10%" if d == 1 else "10 – least deprived 10%" if d == 10 else str(d)
        for d in range(1, 11)
    )
    return Legend(labels, tuple(palette(10)))


def display_tolerance(bounds: tuple[float, float, float, float], *,
                      pixels: int = 2000) -> float:
    """Simplification tolerance (degrees) for a view: its larger side ÷ ``pixels``.

    At the ~1,000 px width of a dashboard map the default removes detail smaller than half a
    pixel; views of a whole country use :data:`CROWDED_PIXELS`, where an LSOA is a pixel or
    two across and its outline can't be seen anyway.
    """
    minx, miny, maxx, maxy = bounds
    return max(maxx - minx, maxy - miny) / pixels


def polygon_rings(geometries: pd.Series, *, tolerance: float | None = None,
                  precision: int = 5, origin: tuple[float, float] = (0.0, 0.0)
                  ) -> tuple[np.ndarray, list[list[int]]]:
    """(row of ``geometries`` that each polygon part comes from, the part's exterior ring as a
    flat integer list), as :func:`polygon_records` encodes them."""
    geoms = np.asarray(geometries.to_numpy(), dtype=object)
    if tolerance:
        geoms = shapely.simplify(geoms, tolerance, preserve_topology=True)
    parts, owner = shapely.get_parts(geoms, return_index=True)
    keep = ~shapely.is_empty(parts)  # an empty part has no ring to split on
    parts, owner = parts[keep], owner[keep]
    rings = shapely.get_exterior_ring(parts)
    coords, ring_index = shapely.get_coordinates(rings, return_index=True)
    scale = 10.0 ** precision
    quantised = np.rint((coords - np.asarray(origin)) * scale).astype(np.int64)
    repeated = np.r_[False, (np.diff(quantised, axis=0) == 0).all(axis=1)
                     & (np.diff(ring_index) == 0)]
    quantised, ring_index = quantised[~repeated], ring_index[~repeated]
    splits = np.flatnonzero(np.diff(ring_index)) + 1
    return owner, [ring.ravel().tolist() for ring in np.split(quantised, splits)]


def polygon_records(geometries: pd.Series, attributes: pd.DataFrame, *,
                    tolerance: float | None = None, precision: int = 5,
                    origin: tuple[float, float] = (0.0, 0.0)) -> pd.DataFrame:
    """One row per polygon part with its exterior ring as a flat integer list.

    ``g`` (geometry; keys are one letter because they repeat in every record) holds
    ``[x0, y0, x1, y1, …]`` with x = round((lon − origin_lon)·10^precision) and likewise y:
    integer offsets from the view's centre are a third shorter in JSON than decimal degrees,
    and deck.gl draws them exactly with ``lnglat-offsets`` coordinates from ``origin``, a
    10^-precision model matrix and ``positionFormat: XY`` (``dashboard.components``).
    ``geometries`` and ``attributes`` share an index; multipolygons yield one row per part
    (attributes repeated). Rings are simplified with ``tolerance`` (topology-preserving per
    polygon); consecutive points that round to the same position are dropped.
    """
    owner, polygons = polygon_rings(geometries, tolerance=tolerance, precision=precision,
                                    origin=origin)
    return _with_rings(attributes, owner, polygons)


def _with_rings(attributes: pd.DataFrame, owner: np.ndarray,
                polygons: list[list[int]]) -> pd.DataFrame:
    frame = attributes.iloc[owner].reset_index(drop=True)
    frame["g"] = polygons
    return frame


# Encoded rings by study-area GeoDataFrame (shared and read-only) and view: every indicator,
# scheme and class count mapped on one study area draws the same polygons, and simplifying
# and encoding them was half of building a layer. Readers share the ring lists: they are
# encoded to JSON, never changed.
_RINGS: IdentityMemo[tuple[np.ndarray, list[list[int]]]] = IdentityMemo()


def shared_rings(areas, *, tolerance: float | None, precision: int,
                 origin: tuple[float, float]) -> tuple[np.ndarray, list[list[int]]]:
    """:func:`polygon_rings` of ``areas.geometry``, computed once per GeoDataFrame object and
    view (callers must not change ``areas`` in place)."""
    return _RINGS.get(areas, (tolerance, precision, origin),
                      lambda: polygon_rings(areas.geometry, tolerance=tolerance,
                                            precision=precision, origin=origin))


SCHEMES = {"quantiles": "Quantiles", "natural_breaks": "Natural breaks (Fisher-Jenks)",
           "equal_interval": "Equal intervals"}
NO_DATA_COLOUR = (200, 200, 200)


@dataclass(frozen=True)
class Classes:
    """Class of every area (0 = worst end) with the legend that explains it."""

    index: pd.Series
    legend: Legend


def _grouped_fisher_jenks(counts: np.ndarray, sums: np.ndarray, squares: np.ndarray,
                          k: int, cells: int = 4_000_000) -> list[int]:
    """Last group index of each of ``k`` classes of consecutive groups minimising the total
    within-class sum of squares, given each group's count, sum and sum of squares.

    Dynamic programme of Fisher (1958): with S(i, j) the sum of squared deviations of groups
    i..j (from cumulative sums: Σx² − (Σx)²/n), D_c(j) = min_i D_{c−1}(i − 1) + S(i, j).
    Vectorised over i and blocks of j so that at most ``cells`` numbers are held at once:
    O(k·m²) arithmetic, O(m) memory beyond the block.
    """
    m = len(counts)
    n_cum = np.r_[0.0, np.cumsum(counts)]
    s_cum = np.r_[0.0, np.cumsum(sums)]
    q_cum = np.r_[0.0, np.cumsum(squares)]
    everything = np.arange(m)
    cost = q_cum[1:] - s_cum[1:] ** 2 / n_cum[1:]  # one class covering groups 0..j
    starts: list[np.ndarray] = []
    block = max(1, cells // max(m, 1))
    for _ in range(1, k):
        previous = np.r_[np.inf, cost[:-1]]  # best cost of the classes so far ending at i-1
        new_cost = np.full(m, np.inf)
        start = np.zeros(m, dtype=np.int64)
        for first in range(0, m, block):
            j = everything[first:first + block][None, :]
            i = everything[: j.max() + 1][:, None]
            with np.errstate(divide="ignore", invalid="ignore"):
                n = n_cum[j + 1] - n_cum[i]
                total = s_cum[j + 1] - s_cum[i]
                ssd = np.where(i <= j, (q_cum[j + 1] - q_cum[i]) - total * total / n, np.inf)
            candidates = previous[: i.shape[0], None] + ssd
            best = np.argmin(candidates, axis=0)
            start[first:first + block] = best
            new_cost[first:first + block] = candidates[best, np.arange(j.shape[1])]
        cost = new_cost
        starts.append(start)
    ends = [m - 1]
    end = m - 1
    for start in reversed(starts):
        first = int(start[end])
        ends.append(first - 1)
        end = first - 1
    return ends[::-1]


#: Up to this many distinct values natural breaks are exact (about 0.2 s at 1,700, 1-2 s
#: at 4,000); above it the values are pooled into this many equal-count bins first.
NATURAL_BREAKS_EXACT_LIMIT = 4_000


def natural_breaks(values: np.ndarray, k: int, *,
                   exact_limit: int = NATURAL_BREAKS_EXACT_LIMIT) -> tuple[np.ndarray, bool]:
    """Fisher-Jenks natural breaks: upper bounds of ``k`` classes and whether they are exact.

    With at most ``exact_limit`` distinct values the optimum is exact: the dynamic programme
    runs on the distinct values weighted by how often each occurs (an optimal grouping
    never splits equal values, so this is the same optimum as on the raw data). Above the
    limit the sorted values are pooled into ``exact_limit`` bins of equal count and the
    optimum is found over bin boundaries, with every bin's sum of squares kept, so the
    breaks can be off by at most one bin (a 1/``exact_limit`` share of the values); the
    result then says ``False`` and the legend is labelled approximate.

    References: Fisher WD (1958) On grouping for maximum homogeneity. J Am Stat Assoc
    53:789-798; Jenks GF (1977) Optimal data classification for choropleth maps;
    mapclassify ``FisherJenks`` (Rey et al., PySAL) computes the same exact optimum.
    """
    x = np.sort(np.asarray(values, dtype=float))
    if not 1 <= k <= len(x):
        raise ValueError(f"Cannot make {k} classes from {len(x)} values")
    distinct, counts = np.unique(x, return_counts=True)
    exact = len(distinct) <= exact_limit
    if exact:
        groups, n = distinct, counts.astype(float)
        sums, squares, upper = distinct * n, distinct * distinct * n, distinct
    else:
        edges = np.linspace(0, len(x), exact_limit + 1).round().astype(int)
        n = np.diff(edges).astype(float)
        sums = np.add.reduceat(x, edges[:-1])
        squares = np.add.reduceat(x * x, edges[:-1])
        groups, upper = n, x[edges[1:] - 1]
    k = min(k, len(groups))
    ends = _grouped_fisher_jenks(n, sums, squares, k)
    return upper[ends], exact


def fisher_jenks_breaks(values: np.ndarray, k: int) -> np.ndarray:
    """Upper bounds of the ``k`` classes minimising the total within-class sum of squares
    (Fisher 1958, Jenks' "natural breaks"), exact whatever the number of values. Slow above
    a few thousand distinct values; maps use :func:`natural_breaks`."""
    bins, _ = natural_breaks(values, k, exact_limit=max(len(values), 1))
    return bins


def natural_scheme_name(scheme: str, distinct_values: int) -> str:
    """The classification's name for a caption, saying when natural breaks are approximate
    (more than :data:`NATURAL_BREAKS_EXACT_LIMIT` distinct values, as in
    :func:`natural_breaks`)."""
    name = SCHEMES.get(scheme, scheme).lower()
    if scheme == "natural_breaks" and distinct_values > NATURAL_BREAKS_EXACT_LIMIT:
        return f"{name}, approximate: optimised over {NATURAL_BREAKS_EXACT_LIMIT:,} bins"
    return name


def class_breaks(values: np.ndarray, scheme: str, k: int) -> np.ndarray:
    """Upper bounds of ``k`` classes (ascending) by mapclassify's scheme (Rey et al., PySAL).

    Natural breaks are :func:`natural_breaks`: exact up to
    :data:`NATURAL_BREAKS_EXACT_LIMIT` distinct values, binned (and labelled approximate by
    :func:`natural_scheme_name`) above.
    """
    import mapclassify

    if scheme == "quantiles":
        return mapclassify.Quantiles(values, k=k).bins
    if scheme == "equal_interval":
        return mapclassify.EqualInterval(values, k=k).bins
    if scheme == "natural_breaks":
        bins, _ = natural_breaks(values, k)
        bins[-1] = values.max()
        return bins
    raise ValueError(f"Unknown classification {scheme!r}; choose one of {', '.join(SCHEMES)}")


def classify(values: pd.Series, *, scheme: str = "quantiles", classes: int = 5,
             higher_is_worse: bool = True, decimals: int = 1) -> Classes:
    """Classify values for a choropleth; class 0 (darkest colour) is always the worst end.

    ``higher_is_worse`` comes from the indicator's polarity (neutral indicators: pass True
    so that "more" is dark). Missing values get class -1 (grey, "no data").
    """
    decimals = min(max(int(decimals), 0), 6)  # metadata may ask for -1 or 1e9
    clean = values.astype(float)
    valid = clean.dropna()
    if valid.empty:
        raise ValueError("No values to classify")
    k = int(max(1, min(classes, valid.nunique())))
    if k == 1:
        ascending = pd.Series(0, index=valid.index)
        bins = np.array([valid.max()])
    else:
        bins = class_breaks(valid.to_numpy(), scheme, k)
        k = len(bins)
        ascending = pd.Series(np.searchsorted(bins, valid.to_numpy(), side="left"),
                              index=valid.index).clip(0, k - 1)
    worst_first = (k - 1 - ascending) if higher_is_worse else ascending
    index = worst_first.reindex(clean.index).fillna(-1).astype(int)
    lows = np.r_[valid.min(), bins[:-1]]
    labels = [f"{lo:,.{decimals}f} to {hi:,.{decimals}f}" for lo, hi in zip(lows, bins,
                                                                           strict=True)]
    if higher_is_worse:
        labels = labels[::-1]
    colours = palette(max(k, 2))[:k] if k > 1 else [hex_to_rgb(VIRIDIS_10[0])]
    return Classes(index, Legend(tuple(labels), tuple(colours)))


# Bivariate need × provision: 3 × 3 classes. Rows: need low→high; columns: provision
# low→high. Colours from Joshua Stevens' blue–pink bivariate scheme (2015), with the
# high-need/low-provision cell the strongest magenta so the inverse care pattern stands out;
# every cell also carries a text label, so no meaning depends on colour alone.
BIVARIATE_COLOURS = (
    ("#e8e8e8", "#b5c0da", "#6c83b5"),   # low need: low, mid, high provision
    ("#dfb0d6", "#b0aad0", "#5a6ea6"),   # mid need
    ("#be3c8f", "#9a4a8d", "#3b4994"),   # high need
)
TERCILE_NAMES = ("low", "middle", "high")


def bivariate_labels() -> list[list[str]]:
    """Plain-English label of each (need, provision) cell."""
    return [[f"{TERCILE_NAMES[n].capitalize()} need, {TERCILE_NAMES[p]} provision"
             for p in range(3)] for n in range(3)]


def terciles(values: pd.Series, weights: pd.Series) -> pd.Series:
    """Population-weighted terciles 0, 1, 2 (low → high) of ``values``; -1 where missing."""
    valid = values.dropna()
    order = valid.sort_values(kind="stable")
    cumulative = weights.reindex(order.index).fillna(0).cumsum()
    total = cumulative.iloc[-1] if len(cumulative) else 0
    if total <= 0:
        ranks = pd.Series(np.arange(len(order)) / max(len(order), 1), index=order.index)
    else:
        ranks = (cumulative - weights.reindex(order.index).fillna(0) / 2) / total
    out = pd.Series(np.minimum((ranks * 3).astype(int), 2), index=order.index)
    return out.reindex(values.index).fillna(-1).astype(int)


def bivariate_classes(need: pd.Series, provision: pd.Series, population: pd.Series, *,
                      need_higher_is_worse: bool = True,
                      provision_higher_is_better: bool = True) -> pd.DataFrame:
    """Need and provision terciles (population-weighted, within the areas given) and the
    cell label. Need is oriented so that "high" = more need, provision so that
    "high" = more provision, whatever the indicators' polarity.
    """
    oriented_need = need if need_higher_is_worse else -need
    oriented_provision = provision if provision_higher_is_better else -provision
    n = terciles(oriented_need, population)
    p = terciles(oriented_provision, population)
    labels = bivariate_labels()
    valid = (n >= 0) & (p >= 0)
    cell = pd.Series("No data", index=need.index, dtype=object)
    cell[valid] = [labels[a][b] for a, b in zip(n[valid], p[valid], strict=True)]
    return pd.DataFrame({"need_tercile": n, "provision_tercile": p, "cell": cell})


# Spatial cluster types (bivariate LISA). The inverse-care cell keeps the product's strong
# magenta; the others take clearly different hues and lightness from Okabe & Ito's
# colour-blind-safe palette (2008), so no two types can be mistaken (CIE76 ΔE > 25).
CLUSTER_COLOURS: dict[str, tuple[int, int, int]] = {
    "High need, low provision": (190, 60, 143),
    "High need, high provision": (0, 114, 178),
    "Low need, low provision": (230, 159, 0),
    "Low need, high provision": (86, 180, 233),
    "Not significant": (235, 235, 235),
    "No neighbours (island)": (130, 130, 130),
}


def cluster_legend(labels: tuple[str, ...], counts: pd.Series) -> Legend:
    """Legend of cluster types with the number of small areas of each (area counts are not
    personal data and are never suppressed)."""
    return Legend(tuple(f"{label} ({int(counts.get(label, 0)):,})" for label in labels),
                  tuple(CLUSTER_COLOURS[label] for label in labels))


def display_unit(title: str, unit: str) -> str:
    """The unit to print after a value of an indicator titled ``title``: none where the
    title already says it ("IMD 2025 score: 11.6", not "11.6 score"), else the unit."""
    text = (unit or "").strip()
    first = text.split(" ")[0].strip("()").lower() if text else ""
    if first and first in title.lower().replace("(", " ").replace(")", " ").split():
        return ""
    return text


DETAIL_LIMIT = 10_000  # above this many polygons, tooltips carry code and value only
CROWDED_PIXELS = 540  # crowded views: England fills ~500 px at its fitted view, so ~1 px


@dataclass(frozen=True)
class MapLayer:
    """Everything a page needs to draw one choropleth and describe it in words.

    ``records`` has a class index ``k`` (0 = first legend entry, -1 = no data) that the
    page turns into colours with :func:`fill_expression`, so colours are not repeated per
    polygon; ``origin`` and ``precision`` locate the quantised polygons.
    """

    records: pd.DataFrame
    legend: Legend
    bounds: tuple[float, float, float, float]
    title: str
    alt_text: str
    origin: tuple[float, float] = (0.0, 0.0)
    precision: int = 5
    code_prefix: str = ""

    @property
    def code_field(self) -> str:
        """Tooltip template text that shows an area's full code."""
        return f"{self.code_prefix}{{c}}"

    def full_code(self, code: str) -> str:
        """The full area code of a record's ``c``."""
        return f"{self.code_prefix}{code}"

    @property
    def detailed(self) -> bool:
        """Whether the records carry names and labels (small enough views)."""
        return "n" in self.records.columns


def fill_expression(colours: tuple[tuple[int, int, int], ...],
                    no_data: tuple[int, int, int] = NO_DATA_COLOUR) -> str:
    """A deck.gl accessor expression mapping the class index ``k`` to its colour."""
    expression = str(list(no_data))
    for index in reversed(range(len(colours))):
        expression = f"k=={index}?{list(colours[index])}:{expression}"
    return expression.replace(" ", "")


def view_precision(bounds: tuple[float, float, float, float]) -> int:
    """Decimal places of coordinates for a view: ~100 m for a country, ~10 m for an ICB,
    ~1 m below; finer than a pixel at the map's initial zoom."""
    minx, miny, maxx, maxy = bounds
    extent = max(maxx - minx, maxy - miny)
    return 3 if extent > 3 else 4 if extent > 0.3 else 5


# html.escape's replacements, ampersand first so that no entity is escaped twice
_HTML_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"),
                 ("'", "&#x27;"))
_HTML_SPECIAL = r"[&<>\"']"


def escape_text_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """HTML-escape every text column as :func:`html.escape` does (quotes included): deck.gl
    tooltips insert record values as HTML.

    Columns of a string dtype are escaped vectorised, and only when they hold a character
    to escape (area codes and most names don't); object columns value by value, leaving
    non-strings as they are.
    """
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if isinstance(values.dtype, pd.StringDtype):
            if values.str.contains(_HTML_SPECIAL, regex=True).any():
                for char, entity in _HTML_ESCAPES:
                    values = values.str.replace(char, entity, regex=False)
                out[column] = values
        elif values.dtype == object:
            out[column] = values.map(lambda v: html.escape(v) if isinstance(v, str) else v)
    return out


def build_layer(areas, attributes: pd.DataFrame, *, legend: Legend, title: str,
                alt_text: str, detail_columns: tuple[str, ...] = ("n",)) -> MapLayer:
    """Polygon records for ``areas`` (GeoDataFrame) carrying ``attributes``, sized to the view.

    Text is HTML-escaped here, once, because these records exist only to be drawn and
    tooltipped by deck.gl, which renders them as HTML. Views of more than
    :data:`DETAIL_LIMIT` polygons drop ``detail_columns`` (names, labels): at that scale a
    polygon is a pixel or two and the legend carries the labels.
    """
    crowded = len(areas) > DETAIL_LIMIT
    prefix = ""
    if crowded:
        attributes = attributes.drop(columns=[c for c in detail_columns
                                              if c in attributes.columns])
        codes = attributes["c"].astype(str)
        if codes.str[:3].nunique() == 1:
            # "E01" on 33,755 records is 0.1 MB; the tooltip puts it back
            prefix = codes.iloc[0][:3]
            attributes = attributes.assign(c=codes.str[3:])
    attributes = escape_text_columns(attributes)
    bounds = tuple(float(b) for b in areas.total_bounds)
    precision = view_precision(bounds)
    origin = (round((bounds[0] + bounds[2]) / 2, precision),
              round((bounds[1] + bounds[3]) / 2, precision))
    tolerance = display_tolerance(bounds, pixels=CROWDED_PIXELS if crowded else 2000)
    owner, rings = shared_rings(areas, tolerance=tolerance, precision=precision, origin=origin)
    records = _with_rings(attributes, owner, rings)
    return MapLayer(records, legend, bounds, title, alt_text, origin,  # type: ignore[arg-type]
                    precision, prefix)


def format_values(values: pd.Series, decimals: int, unit: str = "") -> pd.Series:
    """Numbers as display text with their unit (``18.3%``, ``1,615 list places per 1,000
    residents``; a true minus sign), "no data" for missing."""
    return values.map(lambda v: "no data" if pd.isna(v)
                      else format_quantity(float(v), unit, decimals))


def without_data_text(missing: int, plural: str = "small areas") -> str:
    """The end of a map's caption about gaps: "every area has a value" rather than "0
    without data"."""
    if missing == 0:
        return "every one of them has a value"
    return f"{missing:,} {plural if missing != 1 else plural.rstrip('s')} without data (grey)"


def suppressed_values(values: pd.Series, counts: pd.Series | None, threshold: int = 5
                      ) -> pd.Series:
    """Which small areas' figures would disclose a person count from 1 to ``threshold`` − 1:
    where ``counts`` (the indicator's numerator, or the value itself for a count of people)
    is that small. Such figures are shown as ``[c]`` in tooltips and tables
    (``analysis.disclosure``)."""
    if counts is None:
        return pd.Series(False, index=values.index)
    aligned = counts.reindex(values.index).astype(float)
    return ((aligned > 0) & (aligned < threshold)).fillna(False)


def suppress_small_counts(table: pd.DataFrame, column: str, counts: pd.Series | None, *,
                          index_column: str = "code", threshold: int = 5) -> pd.DataFrame:
    """A copy of ``table`` with ``column`` shown as ``[c]`` where the small area's person
    count (``counts``, indexed by area code) is from 1 to ``threshold`` − 1, as the map's
    tooltips show it."""
    if counts is None:
        return table
    codes = table[index_column].astype(str)
    hidden = suppressed_values(pd.Series(0.0, index=codes.to_numpy()), counts, threshold)
    out = table.astype({column: object})
    out.loc[hidden.to_numpy(), column] = SUPPRESSED
    return out


def choropleth_layer(areas, values: pd.Series, *, title: str, unit: str,
                     higher_is_worse: bool, scheme: str = "quantiles", classes: int = 5,
                     decimals: int = 1, extra: dict[str, pd.Series] | None = None,
                     person_counts: pd.Series | None = None) -> MapLayer:
    """Small-area choropleth of ``values`` (indexed like ``areas``).

    Record fields: ``c`` code, ``n`` name, ``v`` value text with its unit (``[c]`` where
    ``person_counts`` is from 1 to 4: see :func:`suppressed_values`), ``k`` class index
    (0 = worst), plus ``extra``.
    """
    classified = classify(values, scheme=scheme, classes=classes,
                          higher_is_worse=higher_is_worse, decimals=decimals)
    text = format_values(values, decimals, display_unit(title, unit))
    hidden = suppressed_values(values, person_counts)
    text = text.where(~hidden, f"{SUPPRESSED} (fewer than 5 people)")
    attributes = pd.DataFrame(
        {"c": areas.index.astype(str), "n": areas.iloc[:, 1].astype(str),
         "v": text, "k": classified.index},
        index=areas.index)
    for key, series in (extra or {}).items():
        attributes[key] = series.reindex(areas.index)
    shown = int(values.notna().sum())
    worst = "highest" if higher_is_worse else "lowest"
    alt = (f"Map of {len(areas):,} small areas coloured by {title} ({unit}) in "
           f"{len(classified.legend.labels)} classes "
           f"({natural_scheme_name(scheme, int(values.nunique()))}), "
           f"darkest for the {worst} values; {without_data_text(len(areas) - shown)}.")
    if hidden.any():
        alt += (f" {int(hidden.sum()):,} values based on fewer than 5 people are shown as "
                f"{SUPPRESSED} in tooltips (small-number suppression).")
    return build_layer(areas, attributes, legend=classified.legend, title=title, alt_text=alt,
                       detail_columns=("n", *(extra or {})))


def deprivation_layer(country: str, area_code: str | None, registry) -> MapLayer:
    """Small areas of a study area coloured by national deprivation decile (1 = darkest).

    England uses IMD 2025 deciles on LSOA 2021; Scotland SIMD 2020 deciles on data zones.
    Record fields: ``c`` code, ``n`` name, ``v`` decile, ``p`` population, ``k`` class.
    """
    from analysis.data import select_study_area, spec_for
    from analysis.explore.summary import DEPRIVATION_DECILE, DEPRIVATION_INDEX_LABEL

    spec = spec_for(country)
    areas = select_study_area(country, area_code)
    small = spec.small_area
    deciles = registry.get(DEPRIVATION_DECILE[country]).values.reindex(areas.index)
    legend = decile_legend()
    attributes = pd.DataFrame(
        {
            "c": areas[small.code_column].astype(str),
            "n": areas[small.name_column].astype(str),
            "v": deciles.astype("Int64").astype(str).replace("<NA>", "no data"),
            "p": areas[spec.population_column].map("{:,}".format),
            "k": (deciles.fillna(0).astype(int) - 1).clip(lower=-1),
        },
        index=areas.index,
    )
    counts = deciles.value_counts().reindex(range(1, 11), fill_value=0)
    label = DEPRIVATION_INDEX_LABEL[country]
    alt = (
        f"Map of {len(areas):,} {small.plural} coloured by national {label} decile, darkest "
        f"for the most deprived. {counts.loc[[1, 2]].sum():,} of them are in the most "
        f"deprived 20% nationally and {counts.loc[[9, 10]].sum():,} in the least deprived 20%."
    )
    return build_layer(areas, attributes, legend=legend, title=f"{label} decile",
                       alt_text=alt, detail_columns=("n", "p"))


BIVARIATE_LEGEND_ORDER = ((2, 0), (2, 1), (1, 0), (2, 2), (1, 1), (0, 0), (1, 2), (0, 1),
                          (0, 2))


def bivariate_layer(areas, need: pd.Series, provision: pd.Series, population: pd.Series, *,
                    need_title: str, provision_title: str, need_higher_is_worse: bool = True,
                    provision_higher_is_better: bool = True, need_decimals: int = 1,
                    provision_decimals: int = 1) -> MapLayer:
    """Need × provision map in 3 × 3 classes (population-weighted terciles of the view).

    The legend lists the nine cells worst first: high need with low provision, the local
    face of the inverse care law. Record fields: ``c``, ``n``, ``v`` need, ``w`` provision,
    ``l`` cell label, ``k`` legend index.
    """
    need_decimals = min(max(int(need_decimals), 0), 6)
    provision_decimals = min(max(int(provision_decimals), 0), 6)
    cells = bivariate_classes(need, provision, population,
                              need_higher_is_worse=need_higher_is_worse,
                              provision_higher_is_better=provision_higher_is_better)
    position = {cell: i for i, cell in enumerate(BIVARIATE_LEGEND_ORDER)}
    index = [position.get((a, b), -1)
             for a, b in zip(cells["need_tercile"], cells["provision_tercile"], strict=True)]
    need_text = format_values(need, need_decimals)
    provision_text = format_values(provision, provision_decimals)
    if len(areas) > DETAIL_LIMIT:
        # one text field instead of two: at this size every key costs ~0.2 MB of payload
        attributes = pd.DataFrame(
            {"c": areas.index.astype(str),
             "v": [f"{a:.{need_decimals}f}|{b:.{provision_decimals}f}"
                   if pd.notna(a) and pd.notna(b) else "no data"
                   for a, b in zip(need, provision, strict=True)],
             "k": index}, index=areas.index)
    else:
        attributes = pd.DataFrame(
            {"c": areas.index.astype(str), "n": areas.iloc[:, 1].astype(str), "v": need_text,
             "w": provision_text, "l": cells["cell"], "k": index},
            index=areas.index)
    labels = bivariate_labels()
    legend = Legend(tuple(labels[n][p] for n, p in BIVARIATE_LEGEND_ORDER),
                    tuple(hex_to_rgb(BIVARIATE_COLOURS[n][p])
                          for n, p in BIVARIATE_LEGEND_ORDER))
    hot = cells["cell"] == labels[2][0]
    total = float(population[cells["need_tercile"] >= 0].sum()) or 1.0
    alt = (f"Map of {len(areas):,} small areas in nine classes of {need_title} (need) by "
           f"{provision_title} (provision). {int(hot.sum()):,} areas, home to "
           f"{100 * float(population[hot].sum()) / total:.0f}% of residents, combine high "
           f"need with low provision (strong magenta).")
    return build_layer(areas, attributes, legend=legend,
                       title=f"{need_title} × {provision_title}", alt_text=alt,
                       detail_columns=("n", "l"))


def service_points(facilities: pd.DataFrame, bounds: tuple[float, float, float, float], *,
                   size_column: str | None, label_column: str, kind_column: str | None = None,
                   margin: float = 0.05) -> pd.DataFrame:
    """Facilities inside the view (with a margin), as records for a deck.gl scatter layer:
    ``lon``, ``lat``, ``r`` (radius in metres: √size scaled so the median is 250 m, or 250),
    ``n`` (label) and ``c`` (type text), both HTML-escaped for the tooltip."""
    minx, miny, maxx, maxy = bounds
    dx, dy = (maxx - minx) * margin, (maxy - miny) * margin
    inside = facilities["longitude"].between(minx - dx, maxx + dx) & facilities[
        "latitude"].between(miny - dy, maxy + dy)
    shown = facilities[inside]
    if size_column:
        size = shown[size_column].astype(float).clip(lower=0).fillna(0)
        median = float(np.sqrt(size).median()) or 1.0
        radius = 250 * np.sqrt(size) / median
    else:
        radius = pd.Series(250.0, index=shown.index)
    records = pd.DataFrame({
        "lon": shown["longitude"].round(5), "lat": shown["latitude"].round(5),
        "r": radius.round(0), "n": shown[label_column].astype(str),
        "c": shown[kind_column].astype(str) if kind_column else "",
    }).reset_index(drop=True)
    return escape_text_columns(records)


# ColorBrewer PuOr (Brewer 2003), colour-blind safe: orange = loss, purple = gain.
CHANGE_BREAKS = (-10.0, -5.0, -1.0, 1.0, 5.0, 10.0)
CHANGE_COLOURS = ("#b35806", "#f1a340", "#fee0b6", "#f7f7f7", "#d8daeb", "#998ec3", "#542788")


def change_legend() -> Legend:
    """Legend of % change classes, largest loss first."""
    edges = ("", *(format_percent(b, 0, signed=True) for b in CHANGE_BREAKS), "")
    labels = []
    for i in range(len(CHANGE_COLOURS)):
        lo, hi = edges[i], edges[i + 1]
        labels.append(f"below {hi}" if not lo else f"{lo} or more" if not hi else
                      f"{lo} to {hi}")
    labels[3] = "within ±1% (about unchanged)"
    return Legend(tuple(labels), tuple(hex_to_rgb(c) for c in CHANGE_COLOURS))


def change_classes(change_pct: pd.Series) -> pd.Series:
    """Class index of each % change in :data:`CHANGE_BREAKS` (-1 where missing)."""
    values = change_pct.astype(float)
    index = pd.Series(np.searchsorted(CHANGE_BREAKS, values.fillna(0), side="right"),
                      index=values.index)
    return index.where(values.notna(), -1).astype(int)


def change_layer(areas, change_pct: pd.Series, allocation_text: pd.Series, *,
                 title: str, area_names: pd.Series | None = None) -> MapLayer:
    """Small areas coloured by the % change of the area they belong to (diverging).

    ``change_pct`` and ``allocation_text`` are indexed like ``areas`` (the caller maps each
    small area to its parent's change); ``area_names`` labels the parent in the tooltip.
    """
    classes = change_classes(change_pct)
    attributes = pd.DataFrame({
        "c": areas.index.astype(str),
        "n": (area_names if area_names is not None else areas.iloc[:, 1]).astype(str),
        "v": change_pct.map(lambda v: format_percent(v, 1, signed=True, missing="no data")),
        "w": allocation_text, "k": classes}, index=areas.index)
    gains, losses = int((change_pct > 1).sum()), int((change_pct < -1).sum())
    alt = (f"Map of {len(areas):,} small areas coloured by the % change in {title}: "
           f"{gains:,} in areas that gain more than 1%, {losses:,} in areas that lose more "
           "than 1% (purple gain, orange loss).")
    return build_layer(areas, attributes, legend=change_legend(), title=title, alt_text=alt,
                       detail_columns=("n", "w"))
