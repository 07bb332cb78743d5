"""Councillor equity briefings: two to four plain-English pages for any area, in PDF, HTML or DOCX.

:func:`build_briefing` gathers everything a briefing says into a :class:`Briefing`, calling the
same analysis functions the dashboard calls, so the numbers always agree with it:

* population and the share living in the nationally most deprived 20% (the *Core20* measure):
  :func:`analysis.explore.summary.study_area_summary`;
* provision per head against the national figure: :func:`analysis.explore.frames.area_value`;
* the inverse care law test, with its confidence interval and p-value, and the slope index of
  inequality of provision: :func:`analysis.explore.equity.equity_panel` on the dashboard's default
  need and provision indicators;
* the slope index of inequality (SII) of a headline health outcome (England: the comparative
  illness and disability ratio) across national deprivation deciles:
  :func:`analysis.stats.inverse_care.decile_gradient` and
  :func:`analysis.stats.inequality.slope_index`,
  with the panel's rules (at least five deciles with intervals, the same seed);
* GP payments per weighted patient by practice deprivation quintile:
  :func:`analysis.funding.deprivation.funding_by_deprivation` and
  :func:`analysis.funding.deprivation.funding_gap`;
* a need × provision map in 3 × 3 classes: :func:`analysis.explore.maps.bivariate_classes`;
* optionally an allocation scenario: :func:`analysis.allocation.engine.allocate`.

The words are produced by rules from those numbers (templated sentences, no language model):
comparisons are phrased by :func:`compare_in_words` ("about a fifth less than England").
Counts below a threshold (default 5) are suppressed in every table (:func:`suppression_mask`)
and in sentences (:func:`count_in_words`), and the suppression is footnoted. Missing data are
stated in words; no table or sentence shows NaN, None or a made-up zero.

:func:`render` turns a briefing into bytes: HTML and PDF from one Jinja2 template
(``analysis/templates/briefing.html.j2``, autoescaped; PDF by WeasyPrint, A4, fonts embedded,
tagged PDF/UA), DOCX by python-docx (real table header rows, images with alt text).
"""

from __future__ import annotations

import base64
import functools
import io
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from analysis.data import (
    ATTRIBUTION,
    COUNTRY_CODES,
    OGL,
    OGL_URL,
    SOURCES,
    AreaRef,
    IndicatorMeta,
    IndicatorRegistry,
    UnknownAreaError,
    default_registry,
    load_pack_table,
    resolve_area,
    select_study_area,
    small_area_mask,
    spec_for,
)
from analysis.explore import (
    BIVARIATE_COLOURS,
    HEADLINE_NEED,
    HEADLINE_PROVISION,
    MIN_DECILES_FOR_SII,
    SII_SEED,
    VIRIDIS_10,
    AreaSummary,
    EquityPanel,
    area_value,
    bivariate_classes,
    equity_panel,
    study_area_frame,
    study_area_summary,
)
from analysis.stats import SlopeIndexResult, decile_gradient, format_p, slope_index

__all__ = [
    "BRIEFING_NEED",
    "BRIEFING_OUTCOME",
    "BRIEFING_PROVISION",
    "FORMATS",
    "MEDIA_TYPES",
    "SUPPRESSED",
    "Briefing",
    "BriefingTable",
    "Figure",
    "GlossaryEntry",
    "KeyNumber",
    "ScenarioPart",
    "SourceEntry",
    "briefing_bytes",
    "build_briefing",
    "compare_in_words",
    "count_in_words",
    "counts_in_words",
    "format_number",
    "money_in_words",
    "people_in_words",
    "render",
    "render_html",
    "run_scenario",
    "sentence_case",
    "suppress_counts",
    "suppression_mask",
    "suppression_note",
]

Format = Literal["pdf", "html", "docx"]
FORMATS: tuple[str, ...] = ("pdf", "html", "docx")
#: MIME type of each format (e.g. for a download button).
MEDIA_TYPES: dict[str, str] = {"pdf": "application/pdf", "html": "text/html; charset=utf-8",
               "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}

#: Need and provision of the inverse-care test: the same headline pair the dashboard uses.
BRIEFING_NEED = HEADLINE_NEED
BRIEFING_PROVISION = HEADLINE_PROVISION
#: Headline health outcome whose SII across deprivation deciles the briefing reports.
BRIEFING_OUTCOME = {"england": "iod2025_cidr"}
DEPRIVATION_DECILE_ID = {"england": "imd2025_decile", "scotland": "simd2020_decile"}
GP_PAYMENT_YEAR = "2022-23"

#: How a suppressed cell is shown (the Office for National Statistics' symbol for
#: "confidential"); the footnote explains it in words.
SUPPRESSED = "[c]"
NOT_AVAILABLE = "not available"
NO_AREAS = "—"

TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATE_NAME = "briefing.html.j2"
FONT_STACK = "DejaVu Sans"
INK = "#1a1a1a"
GREY = "#8c8c8c"

COUNTRY_LABEL = {"england": "England", "scotland": "Scotland"}
NEIGHBOURHOOD = {"england": ("neighbourhood", "neighbourhoods", "LSOAs, 2021"),
                 "scotland": ("neighbourhood", "neighbourhoods", "data zones, 2011")}
VERDICT_LABEL = {"inverse_care": "Inverse care", "pro_need": "Follows need",
                 "no_clear_relationship": "No clear pattern"}
MAP_LABEL_LEVEL = {"icb": "ltla", "sicbl": "ltla", "region": "icb"}
#: Every chart has the same outer size (axes and labels included), so charts set side by
#: side in print line up.
CHART_SIZE: dict[str, Any] = {"width": 340, "height": 190,
                              "autosize": {"type": "fit", "contains": "padding"}}


# =============================================================================================
# Plain English
# =============================================================================================

_FRACTIONS: tuple[tuple[float, str], ...] = (
    (0.1, "a tenth"), (0.2, "a fifth"), (0.25, "a quarter"), (1 / 3, "a third"),
    (0.4, "two fifths"),
)
_MULTIPLES: tuple[tuple[float, str], ...] = (
    (1.5, "one and a half times"), (2.0, "twice"), (2.5, "two and a half times"),
)
_NUMBER_WORDS = {3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight",
                 9: "nine", 10: "ten"}


def _finite(value: object) -> bool:
    try:
        return value is not None and math.isfinite(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def _nearest_fraction(share: float) -> str:
    return min(_FRACTIONS, key=lambda item: abs(item[0] - share))[1]


def compare_in_words(value: float | None, reference: float | None,
                     reference_label: str = "the national figure") -> str:
    """How ``value`` compares with ``reference``, in words a councillor would use.

    The ratio r = value ÷ reference is described by the nearest simple fraction or multiple:

    * |r − 1| < 5%: "about the same as …"; 5–7.5%: "slightly more/less than …";
    * up to 45% more or less: "about a tenth / a fifth / a quarter / a third / two fifths
      more (less) than …";
    * 0.45 < r < 0.55: "about half …"; below that "about a third of …", "less than a tenth
      of …";
    * from 1.45: "about one and a half times …", "about twice …", "about two and a half
      times …", then whole multiples ("about three times …") up to ten, "more than ten
      times …" beyond.

    Both numbers must be positive (ratios of negative or zero values are not meaningful):
    otherwise, and for missing values, the phrase says the comparison is not available.

    >>> compare_in_words(80, 100, "England")
    'about a fifth less than England'
    """
    if not (_finite(value) and _finite(reference)):
        return f"not comparable with {reference_label} (no data)"
    value, reference = float(value), float(reference)  # type: ignore[arg-type]
    if value <= 0 or reference <= 0:
        return f"not comparable with {reference_label}"
    ratio = value / reference
    change = ratio - 1.0
    if abs(change) < 0.05:
        return f"about the same as {reference_label}"
    if abs(change) < 0.075:
        return f"slightly {'more' if change > 0 else 'less'} than {reference_label}"
    if ratio > 1:
        if change < 0.45:
            return f"about {_nearest_fraction(change)} more than {reference_label}"
        if ratio < 2.75:
            words = min(_MULTIPLES, key=lambda item: abs(item[0] - ratio))[1]
            return f"about {words} {reference_label}"
        times = round(ratio)
        if times > 10:
            return f"more than ten times {reference_label}"
        return f"about {_NUMBER_WORDS[times]} times {reference_label}"
    if ratio >= 0.55:
        return f"about {_nearest_fraction(-change)} less than {reference_label}"
    if ratio > 0.45:
        return f"about half {reference_label}"
    if ratio >= 0.075:
        return f"about {_nearest_fraction(ratio)} of {reference_label}"
    return f"less than a tenth of {reference_label}"


def sentence_case(text: str) -> str:
    """Capitalise the first letter only (``str.capitalize`` would lower "England")."""
    return text[:1].upper() + text[1:]


def format_number(value: float | None, decimals: int = 0, *, signed: bool = False,
                  missing: str = NOT_AVAILABLE) -> str:
    """``1234.5`` → ``"1,235"``; a proper minus sign; ``missing`` for None/NaN (never "nan")."""
    if not _finite(value):
        return missing
    number = float(value)  # type: ignore[arg-type]
    if round(number, decimals) == 0:
        number = 0.0  # no "−0.0"
    text = f"{abs(number):,.{decimals}f}"
    if number < 0:
        return "\u2212" + text
    return ("+" + text) if signed and number > 0 else text


def _round_sig(value: float, figures: int = 2) -> float:
    if value == 0:
        return 0.0
    return round(value, figures - 1 - int(math.floor(math.log10(abs(value)))))


def people_in_words(count: float | None) -> str:
    """A head count rounded for prose: ``2_867_735`` → ``"about 2.9 million"``,
    ``329_339`` → ``"about 330,000"``, ``51_540`` → ``"about 52,000"``, ``640`` → ``"640"``."""
    if not _finite(count):
        return NOT_AVAILABLE
    number = float(count)  # type: ignore[arg-type]
    if number >= 1_000_000:
        return f"about {number / 1_000_000:.1f} million"
    if number >= 1_000:
        return f"about {_round_sig(number, 2):,.0f}"
    return f"{number:,.0f}"


def money_in_words(amount: float | None) -> str:
    """Money rounded to three significant figures for prose: ``10_230_194_595`` →
    ``"£10.2 billion"``, ``173_830_628`` → ``"£174 million"``, ``5_412_345`` →
    ``"£5.41 million"``, ``776_400`` → ``"£776,000"``."""
    if not _finite(amount):
        return NOT_AVAILABLE
    number = float(amount)  # type: ignore[arg-type]
    sign = "\u2212" if number < 0 else ""
    number = abs(number)
    if number >= 1e9:
        return f"{sign}£{number / 1e9:.3g} billion"
    if number >= 1e6:
        return f"{sign}£{number / 1e6:.3g} million"
    if number >= 1e4:
        return f"{sign}£{_round_sig(number, 3):,.0f}"
    return f"{sign}£{number:,.0f}"


# =============================================================================================
# Small-number suppression
# =============================================================================================


def suppression_mask(counts: Sequence[float | int | None], threshold: int = 5, *,
                     complementary: bool = True) -> list[bool]:
    """Which counts to hide: every count from 1 to ``threshold`` − 1 (primary suppression).

    Zero is shown (it discloses nothing about a person). With ``complementary`` (the default,
    for tables whose total is published elsewhere in the briefing) a lone suppressed cell would
    be recoverable as total − the others, so the smallest other non-zero count is hidden as
    well (secondary suppression). Missing counts are neither shown nor counted.
    """
    if threshold < 1:
        return [False] * len(counts)
    values = [float(c) if _finite(c) else math.nan for c in counts]
    mask = [0 < v < threshold for v in values]
    if complementary and sum(mask) == 1:
        others = [(v, i) for i, v in enumerate(values) if not mask[i] and v > 0]
        if others:
            mask[min(others)[1]] = True
    return mask


def suppress_counts(counts: Sequence[float | int | None], threshold: int = 5, *,
                    complementary: bool = True) -> list[str]:
    """Counts as table text, with suppressed ones shown as :data:`SUPPRESSED` ("[c]")."""
    mask = suppression_mask(counts, threshold, complementary=complementary)
    return [SUPPRESSED if hidden else format_number(c, 0, missing=NO_AREAS)
            for c, hidden in zip(counts, mask, strict=True)]


def count_in_words(count: float | int | None, threshold: int = 5, *,
                   zero: str = "no") -> str:
    """A count for a sentence: ``0`` → "no", 1 to threshold − 1 → "fewer than 5", else "1,234"."""
    if not _finite(count):
        return NOT_AVAILABLE
    number = float(count)  # type: ignore[arg-type]
    if number == 0:
        return zero
    if number < threshold:
        return f"fewer than {threshold}"
    return f"{number:,.0f}"


def counts_in_words(counts: Sequence[int], threshold: int = 5) -> list[str]:
    """Several counts that add up to a published total, for one sentence, suppressed as a
    table would be: a hidden small count reads "fewer than 5"; a count hidden only so that
    the small one cannot be worked out from the total reads "most" or "some"."""
    mask = suppression_mask(counts, threshold)
    total = sum(counts)
    words = []
    for count, hidden in zip(counts, mask, strict=True):
        if not hidden:
            words.append(count_in_words(count, threshold, zero="none"))
        elif count < threshold:
            words.append(f"fewer than {threshold}")
        else:
            words.append("most" if count > total / 2 else "some")
    return words


def suppression_note(threshold: int) -> str:
    """The footnote every briefing with a suppressed cell carries."""
    return (f"{SUPPRESSED} marks a count from 1 to {threshold - 1} that is hidden to protect "
            f"privacy (small-number suppression, threshold {threshold}). Where only one count "
            "in a column was hidden, one more is hidden too, so that it cannot be worked out "
            "from the total. Zero is shown.")


# =============================================================================================
# Content model
# =============================================================================================


@dataclass(frozen=True)
class KeyNumber:
    """One line of the key-numbers box: a label, the figure, and what it means in words."""

    label: str
    value: str
    detail: str


@dataclass(frozen=True)
class Figure:
    """A chart or map with its text alternative: PNG bytes (print and Word, rendered at
    build time) and SVG bytes (web page, rendered from ``spec`` on first use)."""

    key: str
    title: str
    alt_text: str
    reading: str
    png: bytes
    spec: Mapping[str, Any] = field(repr=False, compare=False)
    wide: bool = False

    @functools.cached_property
    def svg(self) -> bytes:
        """The chart as SVG (vl-convert), for the web page."""
        import vl_convert as vlc

        return vlc.vegalite_to_svg(dict(self.spec)).encode("utf-8")

    @property
    def png_base64(self) -> str:
        return base64.b64encode(self.png).decode("ascii")

    @property
    def svg_base64(self) -> str:
        return base64.b64encode(self.svg).decode("ascii")


@dataclass(frozen=True)
class BriefingTable:
    """A table as display text (suppression already applied) with its header and notes."""

    key: str
    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...]
    notes: tuple[str, ...] = ()
    suppressed: bool = False


@dataclass(frozen=True)
class GlossaryEntry:
    term: str
    meaning: str


@dataclass(frozen=True)
class SourceEntry:
    title: str
    publisher: str
    vintage: str
    url: str

    @property
    def site(self) -> str:
        """The URL's host, as short link text ("www.gov.uk"); the link keeps the full URL."""
        match = re.match(r"https?://([^/]+)", self.url)
        return match.group(1) if match else self.url


@dataclass(frozen=True)
class ScenarioPart:
    """What an allocation scenario would do for the area and for equity overall."""

    name: str
    title: str
    paragraphs: tuple[str, ...]
    tables: tuple[BriefingTable, ...]


@dataclass(frozen=True)
class Briefing:
    """Everything one briefing says; :func:`render` lays it out as PDF, HTML or DOCX.

    ``facts`` holds the underlying numbers (JSON-serialisable, ``None`` where undefined) for
    machine use and tests; everything else is display text.
    """

    area_code: str
    area_name: str
    level_label: str
    country: str
    country_label: str
    produced: date
    title: str
    headline: str
    key_numbers: tuple[KeyNumber, ...]
    meaning: tuple[str, ...]
    missing: tuple[str, ...]
    figures: tuple[Figure, ...]
    tables: tuple[BriefingTable, ...]
    scenario: ScenarioPart | None
    methods: tuple[str, ...]
    glossary: tuple[GlossaryEntry, ...]
    sources: tuple[SourceEntry, ...]
    attribution: str
    licence: str
    licence_url: str
    footnotes: tuple[str, ...]
    suppress_below: int
    facts: Mapping[str, Any] = field(default_factory=dict)

    @property
    def produced_text(self) -> str:
        """The date in words, e.g. "23 November 2025"."""
        return f"{self.produced.day} {self.produced:%B %Y}"


# =============================================================================================
# Tables with suppression
# =============================================================================================


@dataclass(frozen=True)
class _Column:
    header: str
    show: Callable[[Any], str]
    count: bool = False
    depends_on: int | None = None
    numeric: bool = True


def _make_table(key: str, title: str, columns: Sequence[_Column], rows: Sequence[Sequence[Any]],
                threshold: int, notes: Sequence[str] = ()) -> BriefingTable:
    """Format raw rows; hide small counts (and values derived from them) as [c]."""
    hidden: dict[int, list[bool]] = {}
    for index, column in enumerate(columns):
        if column.count:
            hidden[index] = suppression_mask([row[index] for row in rows], threshold)
    text_rows = []
    for r, row in enumerate(rows):
        cells = []
        for index, column in enumerate(columns):
            source = index if column.count else column.depends_on
            if source is not None and hidden.get(source, [False] * len(rows))[r]:
                cells.append(SUPPRESSED)
            else:
                cells.append(column.show(row[index]))
        text_rows.append(tuple(cells))
    suppressed = any(any(mask) for mask in hidden.values())
    all_notes = list(notes)
    if suppressed:
        all_notes.append(f"{SUPPRESSED} = a small count hidden to protect privacy (see the note "
                         "on small numbers at the end).")
    return BriefingTable(key, title, tuple(c.header for c in columns), tuple(text_rows),
                         tuple(c.numeric for c in columns), tuple(all_notes), suppressed)


def _range(lower: float, upper: float, decimals: int, prefix: str = "") -> str:
    """``"1,185–1,223"`` for positive limits, ``"−3.1 to 2.0"`` when a sign would be lost."""
    joiner = "\u2013" if lower >= 0 and upper >= 0 else " to "
    return (f"{prefix}{format_number(lower, decimals)}{joiner}"
            f"{prefix}{format_number(upper, decimals)}")


def _interval_text(value: float, lower: float, upper: float, decimals: int,
                   prefix: str = "") -> str:
    if not _finite(value):
        return NOT_AVAILABLE
    if not (_finite(lower) and _finite(upper)):
        return f"{prefix}{format_number(value, decimals)} (no interval)"
    return (f"{prefix}{format_number(value, decimals)} "
            f"({_range(lower, upper, decimals, prefix)})")


# =============================================================================================
# Charts and maps (Vega-Lite, rendered by vl-convert)
# =============================================================================================


def _vl_config() -> dict[str, Any]:
    return {"font": FONT_STACK, "view": {"stroke": None},
            "axis": {"labelFontSize": 11, "titleFontSize": 11, "titleFontWeight": "normal",
                     "labelColor": INK, "titleColor": INK, "gridColor": "#e4e4e4",
                     "domainColor": GREY, "tickColor": GREY},
            "legend": {"labelFontSize": 11, "titleFontSize": 11}}


def _render_spec(spec: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
    """PNG (2× for print) of a Vega-Lite spec, and the complete spec (for SVG later)."""
    import vl_convert as vlc

    full = {"$schema": "https://vega.github.io/schema/vega-lite/v5.json",
            "config": _vl_config(), "background": "white", **spec}
    return vlc.vegalite_to_png(full, scale=2), full


def _feature(geometry: Any, **properties: Any) -> dict[str, Any]:
    import shapely

    return {"type": "Feature", "geometry": json.loads(shapely.to_geojson(geometry)),
            "properties": properties}


def _map_geometry(country: str, area_code: str) -> tuple[Any, np.ndarray, tuple[float, ...]]:
    """Polygons of the study area, simplified together for a print map (shared edges kept)."""
    import shapely

    shapes = select_study_area(country, area_code)
    bounds = tuple(float(b) for b in shapes.total_bounds)
    tolerance = max(bounds[2] - bounds[0], bounds[3] - bounds[1]) / 700
    geoms = shapes.geometry.to_numpy()
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():  # a few published boundaries self-intersect; repair them for drawing
        geoms = geoms.copy()
        geoms[invalid] = shapely.make_valid(geoms[invalid], method="structure",
                                            keep_collapsed=False)
    try:
        simplified = shapely.coverage_simplify(geoms, tolerance)
    except (shapely.errors.GEOSException, TypeError):
        simplified = shapely.simplify(geoms, tolerance, preserve_topology=True)
    return shapes, simplified, bounds


def _dissolve(geoms: np.ndarray) -> Any:
    import shapely

    try:
        merged = shapely.coverage_union_all(geoms)
    except (shapely.errors.GEOSException, TypeError):
        merged = shapely.union_all(geoms)
    # pointwise rounding (about 1 m): enough for a printed map, and unlike the default
    # topology-preserving mode it cannot fail on the few invalid source polygons
    return shapely.set_precision(merged, 1e-5, mode="pointwise")


def _map_size(bounds: Sequence[float], width: int = 400) -> tuple[int, int]:
    minx, miny, maxx, maxy = bounds
    mid = math.radians((miny + maxy) / 2)
    dx = max((maxx - minx) * math.cos(mid), 1e-9)
    dy = maxy - miny
    return width, int(min(max(width * dy / dx, 220), 430))


def _short_name(name: str) -> str:
    return re.sub(r"^NHS |\s*Integrated Care Board$", "", name)


def _label_layers(country: str, area_code: str, level: str, shapes: Any,
                  simplified: np.ndarray) -> list[dict[str, Any]]:
    """Outlines and names of the areas one level down (e.g. the local authorities of an ICB)."""
    import shapely

    below = MAP_LABEL_LEVEL.get(level)
    if below is None or country != "england":
        return []
    column = spec_for(country).level(below)
    codes = shapes[column.code_column].astype(str).to_numpy()
    names = shapes[column.name_column].astype(str).to_numpy()
    unique = pd.unique(codes)
    if not 2 <= len(unique) <= 16:
        return []
    outlines, labels = [], []
    for code in unique:
        part = _dissolve(simplified[codes == code])
        point = shapely.point_on_surface(part)
        outlines.append(_feature(part))
        labels.append({"x": point.x, "y": point.y,
                       "name": _short_name(str(names[codes == code][0]))})
    text = {"type": "text", "fontSize": 10, "fontWeight": "bold"}
    position = {"longitude": {"field": "x", "type": "quantitative"},
                "latitude": {"field": "y", "type": "quantitative"},
                "text": {"field": "name", "type": "nominal"}}
    return [
        {"data": {"values": outlines},
         "mark": {"type": "geoshape", "filled": False, "stroke": INK, "strokeWidth": 0.9}},
        {"data": {"values": labels}, "mark": {**text, "stroke": "white", "strokeWidth": 3,
                                              "strokeOpacity": 0.9}, "encoding": position},
        {"data": {"values": labels}, "mark": {**text, "fill": INK}, "encoding": position},
    ]


def _bivariate_map(country: str, area_code: str, level: str, panel: EquityPanel,
                   threshold: int) -> tuple[Figure, dict[str, Any]]:
    """Need × provision map (3 × 3 population-weighted terciles within the area) and legend."""
    frame = panel.frame
    need, provision = panel.need, panel.provision
    cells = bivariate_classes(frame["need"], frame["provision"], frame["population"],
                              need_higher_is_worse=need.polarity != "higher_is_better",
                              provision_higher_is_better=provision.polarity != "higher_is_worse")
    shapes, simplified, bounds = _map_geometry(country, area_code)
    n = cells["need_tercile"].reindex(shapes.index).fillna(-1).astype(int).to_numpy()
    p = cells["provision_tercile"].reindex(shapes.index).fillna(-1).astype(int).to_numpy()
    key = np.where((n >= 0) & (p >= 0), n * 3 + p, -1)
    features = [_feature(_dissolve(simplified[key == k]), k=int(k)) for k in np.unique(key)]
    hot = [f for f in features if f["properties"]["k"] == 6]
    domain = [*range(9), -1]
    colours = [BIVARIATE_COLOURS[i // 3][i % 3] for i in range(9)] + ["#ffffff"]
    width, height = _map_size(bounds)
    layers: list[dict[str, Any]] = [
        {"data": {"values": features},
         "mark": {"type": "geoshape", "strokeWidth": 0},
         "encoding": {"color": {"field": "properties.k", "type": "nominal",
                                "scale": {"domain": domain, "range": colours},
                                "legend": None}}},
        {"data": {"values": hot},
         "mark": {"type": "geoshape", "filled": False, "stroke": "black", "strokeWidth": 1.6}},
        {"data": {"values": [_feature(_dissolve(simplified))]},
         "mark": {"type": "geoshape", "filled": False, "stroke": INK, "strokeWidth": 1.2}},
        *_label_layers(country, area_code, level, shapes, simplified),
    ]
    population = frame["population"].reindex(shapes.index).fillna(0).to_numpy(float)
    total = float(population[key >= 0].sum()) or 1.0
    legend_rows = []
    for cell in range(9):
        need_t, prov_t = divmod(cell, 3)
        share = 100 * float(population[key == cell].sum()) / total
        dark = need_t == 2 or (need_t >= 1 and prov_t == 2) or (need_t == 0 and prov_t == 2)
        legend_rows.append({"need": ["Low", "Middle", "High"][need_t],
                            "provision": ["Low", "Middle", "High"][prov_t],
                            "colour": BIVARIATE_COLOURS[need_t][prov_t],
                            "label": f"{share:.0f}%", "ink": "white" if dark else INK,
                            "hot": cell == 6})
    order = ["Low", "Middle", "High"]
    legend = {
        "width": 132, "height": 132, "data": {"values": legend_rows},
        "title": {"text": "% of residents", "fontSize": 11, "fontWeight": "normal"},
        "encoding": {
            "x": {"field": "provision", "type": "ordinal", "sort": order,
                  "title": "GP capacity →", "axis": {"labelAngle": 0, "domain": False,
                                                      "ticks": False}},
            "y": {"field": "need", "type": "ordinal", "sort": order[::-1],
                  "title": "Need (deprivation) →", "axis": {"domain": False, "ticks": False}}},
        "layer": [
            {"mark": {"type": "rect", "stroke": "white", "strokeWidth": 1},
             "encoding": {"color": {"field": "colour", "type": "nominal", "scale": None}}},
            {"transform": [{"filter": "datum.hot"}],
             "mark": {"type": "rect", "filled": False, "stroke": "black", "strokeWidth": 2.5}},
            {"mark": {"type": "text", "fontSize": 11},
             "encoding": {"text": {"field": "label"},
                          "color": {"field": "ink", "type": "nominal", "scale": None}}},
        ],
    }
    spec = {"hconcat": [{"width": width, "height": height,
                         "projection": {"type": "mercator"}, "layer": layers}, legend],
            "spacing": 18}
    png, spec = _render_spec(spec)
    hot_mask = key == 6
    hot_share = 100 * float(population[hot_mask].sum()) / total
    hot_count = int(hot_mask.sum())
    label = NEIGHBOURHOOD[country][1]
    alt = (f"Map of the {len(shapes):,} {label} of the area in nine classes: thirds of need "
           f"({need.title}) by thirds of GP capacity ({provision.title}), each third holding "
           f"about a third of residents. {sentence_case(count_in_words(hot_count, threshold))} "
           f"{label}, home to {hot_share:.0f}% of residents, combine high need with low "
           f"capacity; they are outlined in black. The grid beside the map gives the share of "
           f"residents in each class.")
    reading = (f"Outlined in black: {label} with high need and low GP capacity, home to "
               f"{hot_share:.0f}% of residents. Need and capacity are split into thirds within "
               f"the area, so 'high' means high for this area.")
    figure = Figure("map", "Where need is high and GP capacity is low", alt, reading, png, spec,
                    wide=True)
    return figure, {"map_high_need_low_provision_pct": round(hot_share, 1),
                    "map_high_need_low_provision_areas": hot_count}


def _decile_map(country: str, area_code: str, level: str, deciles: pd.Series,
                index_label: str) -> Figure:
    """Small areas coloured by national deprivation decile (darkest = most deprived)."""
    shapes, simplified, bounds = _map_geometry(country, area_code)
    decile = deciles.reindex(shapes.index).fillna(0).astype(int).to_numpy()
    features = [_feature(_dissolve(simplified[decile == d]), d=int(d))
                for d in np.unique(decile) if d > 0]
    labels = [f"{d}" + (" most deprived" if d == 1 else " least deprived" if d == 10 else "")
              for d in range(1, 11)]
    width, height = _map_size(bounds)
    layers: list[dict[str, Any]] = [
        {"data": {"values": [{**f, "properties": {"d": labels[f["properties"]["d"] - 1]}}
                             for f in features]},
         "mark": {"type": "geoshape", "stroke": "white", "strokeWidth": 0.3},
         "encoding": {"color": {"field": "properties.d", "type": "ordinal",
                                "scale": {"domain": labels, "range": list(VIRIDIS_10)},
                                "title": f"{index_label} decile",
                                "legend": {"symbolType": "square", "symbolSize": 120}}}},
        {"data": {"values": [_feature(_dissolve(simplified))]},
         "mark": {"type": "geoshape", "filled": False, "stroke": INK, "strokeWidth": 1.2}},
        *_label_layers(country, area_code, level, shapes, simplified),
    ]
    spec = {"width": width, "height": height, "projection": {"type": "mercator"},
            "layer": layers}
    png, spec = _render_spec(spec)
    counts = pd.Series(decile).value_counts()
    most = int(counts.reindex([1, 2]).fillna(0).sum())
    label = NEIGHBOURHOOD[country][1]
    alt = (f"Map of the {len(shapes):,} {label} of the area coloured by national "
           f"{index_label} decile, darkest for the most deprived; {most:,} of them are in the "
           f"most deprived 20% nationally.")
    reading = ("Darker areas are more deprived, measured against the whole country "
               f"({index_label}).")
    return Figure("map", f"Deprivation of each {NEIGHBOURHOOD[country][0]}", alt, reading,
                  png, spec, wide=True)


def _profile_chart(profile: pd.DataFrame, country_label: str, index_label: str) -> Figure:
    """Share of residents in each national deprivation decile, the area against the country."""
    rows = [{"decile": int(r.decile), "area": float(r.area_share),
             "national": float(r.national_share), "core": int(r.decile) <= 2}
            for r in profile.itertuples()]
    x = {"field": "decile", "type": "ordinal", "title": "Deprivation decile (1 = most deprived)",
         "axis": {"labelAngle": 0}}
    spec = {
        **CHART_SIZE, "data": {"values": rows},
        "layer": [
            {"mark": {"type": "bar", "stroke": INK, "strokeWidth": 0.6},
             "encoding": {"x": x,
                          "y": {"field": "area", "type": "quantitative",
                                "title": "% of residents"},
                          "color": {"field": "core", "type": "nominal",
                                    "scale": {"domain": [True, False],
                                              "range": ["#4d4d4d", "#d9d9d9"]},
                                    "legend": None}}},
            {"mark": {"type": "tick", "color": "black", "thickness": 2.5, "size": 22},
             "encoding": {"x": x, "y": {"field": "national", "type": "quantitative"}}},
        ],
    }
    png, spec = _render_spec(spec)
    core = profile.loc[profile["decile"] <= 2]
    alt = (f"Bar chart of the share of residents in each {index_label} decile. Deciles 1 and 2 "
           f"(dark bars) hold {core['area_share'].sum():.1f}% of residents, against "
           f"{core['national_share'].sum():.1f}% across {country_label} (black ticks). The "
           f"table 'By national deprivation decile' has the same figures.")
    reading = (f"Bars: this area. Black ticks: {country_label}. Dark bars: the most deprived "
               "20% (Core20).")
    return Figure("profile", "Where residents sit on the national deprivation scale", alt,
                  reading, png, spec)


def _gradient_chart(key: str, title: str, gradient: pd.DataFrame, *, y_title: str,
                    reference: float | None, reference_label: str,
                    fitted: list[dict[str, float]] | None, alt: str, reading: str) -> Figure:
    """Dot-and-interval chart by deprivation decile with a dashed reference line."""
    rows = [{"decile": int(r.decile), "value": float(r.provision_per_head),
             "lower": float(r.lower_ci) if _finite(r.lower_ci) else None,
             "upper": float(r.upper_ci) if _finite(r.upper_ci) else None}
            for r in gradient.itertuples()]
    x = {"field": "decile", "type": "ordinal", "title": "Deprivation decile (1 = most deprived)",
         "scale": {"domain": list(range(1, 11))}, "axis": {"labelAngle": 0}}
    y_scale = {"zero": False}
    layers: list[dict[str, Any]] = []
    if reference is not None and _finite(reference):
        layers.append({"data": {"values": [{"ref": reference, "text": reference_label}]},
                       "layer": [
                           {"mark": {"type": "rule", "strokeDash": [5, 4], "color": GREY,
                                     "strokeWidth": 1.5},
                            "encoding": {"y": {"field": "ref", "type": "quantitative"}}},
                           {"mark": {"type": "text", "align": "left", "baseline": "middle",
                                     "fontSize": 10, "color": INK,
                                     "x": {"expr": "width + 4"}},
                            "encoding": {"y": {"field": "ref", "type": "quantitative"},
                                         "text": {"field": "text"}}}]})
    if fitted:
        layers.append({"data": {"values": fitted},
                       "mark": {"type": "line", "color": GREY, "strokeWidth": 2},
                       "encoding": {"x": x, "y": {"field": "fit", "type": "quantitative"}}})
    layers += [
        {"data": {"values": [r for r in rows if r["lower"] is not None]},
         "mark": {"type": "rule", "color": INK, "strokeWidth": 1.5},
         "encoding": {"x": x, "y": {"field": "lower", "type": "quantitative"},
                      "y2": {"field": "upper"}}},
        {"data": {"values": rows},
         "mark": {"type": "point", "filled": True, "color": INK, "size": 55, "opacity": 1},
         "encoding": {"x": x, "y": {"field": "value", "type": "quantitative", "title": y_title,
                                    "scale": y_scale}}},
    ]
    png, spec = _render_spec({**CHART_SIZE, "layer": layers})
    return Figure(key, title, alt, reading, png, spec)


# =============================================================================================
# Analysis steps (each calls the analysis API; each may add a "missing" statement)
# =============================================================================================


@dataclass
class _Draft:
    """Mutable collector used while a briefing is assembled."""

    key_numbers: list[KeyNumber] = field(default_factory=list)
    meaning: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    tables: list[BriefingTable] = field(default_factory=list)
    glossary: list[str] = field(default_factory=list)
    sources: list[SourceEntry] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)


def _source_of_meta(meta: IndicatorMeta) -> SourceEntry:
    return SourceEntry(meta.source, meta.publisher or meta.source,
                       meta.vintage or meta.period, meta.source_url)


def _source(key: str) -> SourceEntry:
    p = SOURCES[key]
    return SourceEntry(p.title, p.publisher, p.vintage, p.source_url)


@functools.lru_cache(maxsize=4)
def _national_profile(country: str, data_root: str) -> pd.Series:
    """Share (%) of the country's residents in each national deprivation decile."""
    frame = study_area_frame(country, None, [], default_registry())
    return _decile_shares(frame)


def _decile_shares(frame: pd.DataFrame) -> pd.Series:
    valid = frame.dropna(subset=["deprivation_decile"])
    population = valid.groupby(valid["deprivation_decile"].astype(int))["population"].sum()
    population = population.reindex(range(1, 11), fill_value=0.0)
    return 100 * population / population.sum()


def _profile_table(frame: pd.DataFrame, national: pd.Series) -> pd.DataFrame:
    valid = frame.dropna(subset=["deprivation_decile"])
    grouped = valid.groupby(valid["deprivation_decile"].astype(int))
    out = pd.DataFrame({
        "decile": range(1, 11),
        "areas": grouped.size().reindex(range(1, 11), fill_value=0).to_numpy(),
        "population": grouped["population"].sum().reindex(range(1, 11),
                                                           fill_value=0.0).to_numpy(),
    })
    out["area_share"] = _decile_shares(frame).to_numpy()
    out["national_share"] = national.reindex(range(1, 11)).to_numpy()
    return out


def _outcome_sii(gradient: pd.DataFrame) -> tuple[SlopeIndexResult | None, str, pd.DataFrame]:
    """SII of an outcome's decile gradient, with the equity panel's rules and seed."""
    usable = gradient.dropna(subset=["lower_ci", "upper_ci"])
    usable = usable[usable["upper_ci"] > usable["lower_ci"]]
    if len(usable) < MIN_DECILES_FOR_SII:
        return None, (f"needs at least {MIN_DECILES_FOR_SII} deprivation deciles with "
                      f"confidence intervals; this area has {len(usable)}"), usable
    result = slope_index(usable["provision_per_head"].to_numpy(), usable["population"].to_numpy(),
                         lower_cl=usable["lower_ci"].to_numpy(),
                         upper_cl=usable["upper_ci"].to_numpy(), value_type="normal",
                         seed=SII_SEED)
    return result, "", usable


def _fitted_line(sii: SlopeIndexResult, usable: pd.DataFrame) -> list[dict[str, float]]:
    """Fitted SII line at each decile's relative rank (midpoint of its population slice)."""
    share = usable["population"].to_numpy(float) / usable["population"].sum()
    rank = np.cumsum(share) - share / 2
    fit = sii.intercept + (sii.sii / sii.multiplier) * rank
    return [{"decile": int(d), "fit": float(f)}
            for d, f in zip(usable["decile"], fit, strict=True)]


def _deprivation_step(d: _Draft, ref: AreaRef, summary: AreaSummary, frame: pd.DataFrame,
                      threshold: int) -> pd.DataFrame:
    country = ref.country
    label = COUNTRY_LABEL[country]
    national = _national_profile(country, str(_data_root()))
    profile = _profile_table(frame, national)
    pct, nat = summary.pct_most_deprived_quintile, summary.national_pct_most_deprived_quintile
    words = compare_in_words(pct, nat, "the national share")
    d.key_numbers.append(KeyNumber(
        "Residents", format_number(summary.population),
        f"{spec_for(country).population_source}; "
        f"{summary.small_areas:,} {NEIGHBOURHOOD[country][1]} ({NEIGHBOURHOOD[country][2]})."))
    measure = "Core20" if country == "england" else f"{summary.deprivation_index} quintile 1"
    d.key_numbers.append(KeyNumber(
        f"Living in the most deprived 20% nationally ({measure})", f"{pct:.1f}%",
        f"{sentence_case(words)} ({nat:.1f}%), by {summary.deprivation_index}."))
    programme = (" NHS England's Core20PLUS5 programme asks services to focus on this group."
                 if country == "england" else "")
    d.meaning.append(
        f"{pct:.1f}% of residents ({people_in_words(summary.population_most_deprived_quintile)}"
        f" people) live in neighbourhoods that are among the most deprived 20% in {label}. "
        f"That is {words} of {nat:.1f}%.{programme}")
    d.figures.append(_profile_chart(profile, label, summary.deprivation_index))
    d.facts.update(population=summary.population, small_areas=summary.small_areas,
                   pct_core20=summary.pct_most_deprived_quintile,
                   national_pct_core20=summary.national_pct_most_deprived_quintile,
                   population_core20=summary.population_most_deprived_quintile)
    d.glossary += ["neighbourhood", "decile", "core20", "index"]
    return profile


def _provision_step(d: _Draft, ref: AreaRef, name: str, registry: IndicatorRegistry,
                    threshold: int) -> EquityPanel | None:
    country = ref.country
    provision_id = BRIEFING_PROVISION.get(country)
    label = COUNTRY_LABEL[country]
    if provision_id is None:
        d.key_numbers.append(KeyNumber("GP capacity per head", NOT_AVAILABLE,
                                       f"Fairshare has no small-area provision data for {label} "
                                       "yet."))
        d.key_numbers.append(KeyNumber("Does provision follow need?", "Cannot be tested",
                                       "No provision data to test against need."))
        d.missing.append(
            f"There is no small-area measure of service provision for {label} in Fairshare "
            f"yet, so this briefing cannot say whether services in {name} follow need (the "
            "inverse care law test) or show a need and provision map. An analyst can add one "
            "(see docs/adding-indicators.md).")
        d.facts.update(provision_local=None, provision_national=None, verdict=None,
                       verdict_direction=None)
        return None
    meta = registry.meta(provision_id)
    local = area_value(country, ref.code, provision_id, registry)
    national = area_value(country, None, provision_id, registry)
    unit = meta.unit
    short_unit = re.sub(r" residents$", "", unit)
    words = compare_in_words(local, national, f"the {label} average")
    d.facts.update(provision_local=local if _finite(local) else None,
                   provision_national=national if _finite(national) else None)
    if _finite(local):
        d.key_numbers.append(KeyNumber(
            meta.title, f"{format_number(local, meta.decimals)} {short_unit}",
            f"{sentence_case(words)} ({format_number(national, meta.decimals)})."))
        d.meaning.append(
            f"{name} has {format_number(local, meta.decimals)} {unit}: {words} "
            f"({format_number(national, meta.decimals)}). This measure counts places at GP "
            "practices within 15 km, shared out between everyone who could use them; it is not "
            "a count of appointments or a measure of quality.")
    else:
        d.key_numbers.append(KeyNumber(meta.title, NOT_AVAILABLE,
                                       f"No value of this measure for {name}."))
        d.missing.append(f"There is no {meta.title} value for {name}.")
    need_id = BRIEFING_NEED[country]
    try:
        panel = equity_panel(country, ref.code, need_id, provision_id, registry)
    except ValueError:
        frame = study_area_frame(country, ref.code, [need_id, provision_id], registry)
        usable = int(frame[[need_id, provision_id]].notna().all(axis=1).sum())
        plural = NEIGHBOURHOOD[country][1]
        reason = (f"the test needs at least 3 {plural} with both need and provision values; "
                  f"{name} has {usable}")
        d.key_numbers.append(KeyNumber("Does provision follow need?", "Cannot be tested",
                                       sentence_case(reason) + "."))
        d.missing.append(f"The inverse care law test could not be run: {reason}.")
        d.facts.update(verdict=None, verdict_direction=None)
        return None
    test = panel.test
    low, high = test.slope_per_sd_ci
    p_text = format_p(test.p_value)
    decimals = 1
    d.key_numbers.append(KeyNumber(
        "Does provision follow need? (inverse care law test)", VERDICT_LABEL[test.direction],
        f"{test.verdict} {format_number(test.slope_per_sd, decimals, signed=True)} "
        f"{short_unit} per standard deviation of need (95% CI "
        f"{format_number(low, decimals, signed=True)} to "
        f"{format_number(high, decimals, signed=True)})."))
    need_words = panel.need.title.split(":")[0]
    if test.direction == "pro_need":
        d.meaning.append(
            f"Within {name}, more deprived neighbourhoods have more GP capacity within reach, "
            f"not less. For each step up in need (one standard deviation of the {need_words} "
            f"score), capacity is higher by about {format_number(test.slope_per_sd, 0)} places "
            f"per 1,000 residents (95% CI {format_number(low, 0)} to {format_number(high, 0)}; "
            f"{p_text}). On this measure the inverse care law does not hold here.")
    elif test.direction == "inverse_care":
        d.meaning.append(
            f"Within {name}, more deprived neighbourhoods have less GP capacity within reach. "
            f"For each step up in need (one standard deviation of the {need_words} score), "
            f"capacity is lower by about {format_number(abs(test.slope_per_sd), 0)} places per "
            f"1,000 residents (95% CI {format_number(low, 0)} to {format_number(high, 0)}; "
            f"{p_text}). This is the inverse care law: care is least available where it is "
            "needed most.")
    else:
        d.meaning.append(
            f"Within {name}, there is no clear link between deprivation and GP capacity within "
            f"reach ({p_text}; 95% CI {format_number(low, 0)} to {format_number(high, 0)} "
            "places per 1,000 per step up in need). The data cannot show a fair or an unfair "
            "pattern with confidence.")
    gradient = panel.gradient
    first, last = gradient.iloc[0], gradient.iloc[-1]
    if int(first["decile"]) != int(last["decile"]):
        gap_words = compare_in_words(first["provision_per_head"], last["provision_per_head"],
                                     f"decile {int(last['decile'])}")
        sentence = (
            f"In the most deprived {NEIGHBOURHOOD[country][1]} here (decile "
            f"{int(first['decile'])}) capacity averages "
            f"{format_number(first['provision_per_head'], 0)} per 1,000: {gap_words} "
            f"({format_number(last['provision_per_head'], 0)}).")
        if panel.sii is not None:
            s = panel.sii
            end = "least" if s.sii > 0 else "most"
            sentence += (
                f" Fitted across all deciles, capacity is "
                f"{format_number(abs(s.sii), 0)} places per 1,000 higher at the {end} deprived "
                f"end (slope index of inequality {format_number(s.sii, 0)}, 95% CI "
                f"{format_number(s.sii_lower, 0)} to {format_number(s.sii_upper, 0)}).")
        d.meaning.append(sentence)
    d.facts.update(
        verdict=test.verdict, verdict_direction=test.direction, verdict_label=
        VERDICT_LABEL[test.direction], p_value=float(test.p_value),
        slope_per_sd=float(test.slope_per_sd), slope_per_sd_lower=float(low),
        slope_per_sd_upper=float(high), test_areas=int(test.n),
        provision_sii=float(panel.sii.sii) if panel.sii is not None else None,
        provision_sii_lower=float(panel.sii.sii_lower) if panel.sii is not None else None,
        provision_sii_upper=float(panel.sii.sii_upper) if panel.sii is not None else None,
        concentration_index=float(panel.concentration.index))
    reference = national if _finite(national) else None
    d.figures.append(_gradient_chart(
        "provision", f"{meta.title} by deprivation decile", gradient,
        y_title=sentence_case(short_unit.replace("list places", "places")), reference=reference,
        reference_label=f"{label} {format_number(national, meta.decimals)}", fitted=None,
        alt=(f"Dot chart of {meta.title} ({unit}) in each national deprivation decile present "
             f"in the area, with 95% confidence intervals and a dashed line at the {label} "
             f"average of {format_number(national, meta.decimals)}. Decile "
             f"{int(first['decile'])}: {format_number(first['provision_per_head'], 0)}; decile "
             f"{int(last['decile'])}: {format_number(last['provision_per_head'], 0)}. The table "
             "'By national deprivation decile' has every figure."),
        reading=(f"Dots: average per decile, lines: 95% confidence intervals; dashed: "
                 f"{label} average.")))
    d.sources.append(_source_of_meta(meta))
    d.sources.append(_source_of_meta(panel.need))
    d.glossary += ["provision", "inverse_care", "ci", "p", "sd", "sii"]
    d.methods.append(
        f"Inverse care law test: {meta.title} regressed on the {panel.need.title} across the "
        f"area's {NEIGHBOURHOOD[country][1]}, weighted by population, robust (HC3) errors, "
        "5% level. Decile averages are population-weighted with 95% intervals; the slope "
        "index of inequality follows OHID's phe_sii method.")
    return panel


def _outcome_step(d: _Draft, ref: AreaRef, name: str, frame: pd.DataFrame,
                  registry: IndicatorRegistry) -> pd.DataFrame | None:
    country = ref.country
    outcome_id = BRIEFING_OUTCOME.get(country)
    label = COUNTRY_LABEL[country]
    if outcome_id is None:
        d.key_numbers.append(KeyNumber("Health gap (slope index of inequality)", NOT_AVAILABLE,
                                       f"No small-area health outcome for {label} in Fairshare "
                                       "yet."))
        d.missing.append(
            f"There is no small-area health outcome measure for {label} in Fairshare yet, so "
            "no health gap between the most and least deprived neighbourhoods is shown.")
        d.facts.update(outcome_sii=None)
        return None
    meta = registry.meta(outcome_id)
    values = registry.get(outcome_id).values.reindex(frame.index)
    usable = frame.assign(outcome=values).dropna(subset=["outcome", "deprivation_decile"])
    usable = usable[usable["population"] > 0]
    if len(usable) < 3:
        have = f"{len(usable)} {NEIGHBOURHOOD[country][1]}" if len(usable) else "none"
        d.key_numbers.append(KeyNumber("Health gap (slope index of inequality)", NOT_AVAILABLE,
                                       f"Too few {meta.title.lower()} values in {name} "
                                       f"({have})."))
        d.missing.append(f"There are too few {meta.title.lower()} values for {name} ({have} "
                         "with a value; at least 3 are needed), so no health gap is shown.")
        d.facts.update(outcome_sii=None)
        return None
    gradient = decile_gradient(usable["outcome"].to_numpy(float),
                               usable["population"].to_numpy(float),
                               usable["deprivation_decile"].to_numpy(int))
    sii, note, used = _outcome_sii(gradient)
    title = "Illness and disability ratio" if outcome_id == "iod2025_cidr" else meta.title
    if sii is None:
        d.key_numbers.append(KeyNumber(f"Health gap: {title.lower()}", NOT_AVAILABLE,
                                       f"The slope index of inequality {note}."))
        d.missing.append(f"The health gap (slope index of inequality) {note}.")
        d.facts.update(outcome_sii=None)
        fitted = None
    else:
        most, least = sii.intercept, sii.intercept + sii.sii
        worse_end = "most" if (sii.sii < 0) == meta.higher_is_worse else "least"
        d.key_numbers.append(KeyNumber(
            f"Health gap: {title.lower()} (slope index of inequality)",
            f"{format_number(sii.sii, 1, signed=True)} points",
            f"Least minus most deprived end, {label} = 100 (95% CI "
            f"{format_number(sii.sii_lower, 1, signed=True)} to "
            f"{format_number(sii.sii_upper, 1, signed=True)}). Illness is higher at the "
            f"{worse_end} deprived end."))
        d.meaning.append(
            f"Illness and disability are {'higher' if worse_end == 'most' else 'lower'} where "
            f"deprivation is higher. At the most deprived end of {name}, the {meta.title.lower()}"
            f" is {compare_in_words(most, least, 'the level at the least deprived end')} "
            f"({format_number(most, 0)} against {format_number(least, 0)}, where {label} = 100;"
            f" slope index of inequality {format_number(sii.sii, 1)} points, 95% CI "
            f"{format_number(sii.sii_lower, 1)} to {format_number(sii.sii_upper, 1)}).")
        d.facts.update(outcome_id=outcome_id, outcome_sii=float(sii.sii),
                       outcome_sii_lower=float(sii.sii_lower),
                       outcome_sii_upper=float(sii.sii_upper), outcome_rii=float(sii.rii))
        fitted = _fitted_line(sii, used)
    d.figures.append(_gradient_chart(
        "outcome", f"{title} by deprivation decile", gradient,
        y_title=f"Ratio ({label} = 100)", reference=100.0, reference_label=f"{label} = 100",
        fitted=fitted,
        alt=(f"Dot chart of the {meta.title.lower()} in each national deprivation decile "
             f"present, with 95% confidence intervals, a dashed line at the {label} value of "
             "100" + (" and a grey line showing the fitted slope index of inequality" if fitted
                      else "") + ". The table 'By national deprivation decile' has every "
             "figure."),
        reading=("Dots: average per decile, lines: 95% confidence intervals"
                 + ("; grey line: fitted gradient (slope index of inequality)" if fitted else "")
                 + f"; dashed: {label} = 100.")))
    d.sources.append(_source_of_meta(meta))
    d.glossary += ["sii", "cidr"]
    return gradient


def _decile_table(d: _Draft, ref: AreaRef, profile: pd.DataFrame, panel: EquityPanel | None,
                  outcome: pd.DataFrame | None, threshold: int) -> None:
    country = ref.country
    columns = [
        _Column("Decile (1 = most deprived)", str, numeric=False),
        _Column(NEIGHBOURHOOD[country][1].capitalize(), lambda v: format_number(v), count=True),
        _Column("Residents", lambda v: format_number(v), count=True),
        _Column("Share of residents", lambda v: f"{v:.1f}%" if _finite(v) else NO_AREAS,
                depends_on=2),
    ]
    rows: list[list[Any]] = [[int(r.decile), int(r.areas), float(r.population),
                              float(r.area_share) if r.areas else math.nan]
                             for r in profile.itertuples()]
    notes = [f"Deciles are national: decile 1 holds the most deprived 10% of "
             f"{NEIGHBOURHOOD[country][1]} in {COUNTRY_LABEL[country]}. {NO_AREAS} = no "
             f"{NEIGHBOURHOOD[country][1]} of this area in the decile."]
    for source, header, decimals in (
            (panel.gradient if panel is not None else None, "GP places per 1,000 (95% CI)", 0),
            (outcome, "Illness and disability ratio (95% CI)", 1)):
        if source is None:
            continue
        lookup = source.set_index("decile")
        columns.append(_Column(header, lambda v: v if isinstance(v, str) else NO_AREAS))
        for row in rows:
            decile = row[0]
            if decile in lookup.index:
                g = lookup.loc[decile]
                row.append(_interval_text(g["provision_per_head"], g["lower_ci"], g["upper_ci"],
                                          decimals))
            else:
                row.append(None)
    d.tables.append(_make_table("deciles", "By national deprivation decile", columns, rows,
                                threshold, notes))


def _gp_funding_step(d: _Draft, ref: AreaRef, name: str, threshold: int) -> None:
    if ref.country != "england":
        d.missing.append("NHS Payments to General Practice cover English practices only, so "
                         "GP funding by deprivation is not shown.")
        return
    from analysis.access import practices_in_area
    from analysis.funding import (
        funding_by_deprivation,
        funding_gap,
        load_gp_payments,
        load_practice_imd,
    )

    try:
        practices = practices_in_area(ref.code)
    except UnknownAreaError as exc:
        d.missing.append(f"GP funding by deprivation is not shown: {exc}.")
        return
    table = funding_by_deprivation(load_gp_payments(), load_practice_imd(),
                                   year=GP_PAYMENT_YEAR, practices=practices)
    gap = funding_gap(table)
    columns = [
        _Column("Practice deprivation quintile (1 = most deprived)", str, numeric=False),
        _Column("Practices", lambda v: format_number(v), count=True),
        _Column("£ per weighted patient (95% CI)", lambda v: v, numeric=True),
    ]
    rows = []
    for r in table.itertuples():
        if r.practices == 0:
            shown = "no practices"
        else:
            shown = _interval_text(r.per_weighted_patient, r.ci_lower, r.ci_upper, 2, "£")
        rows.append([int(r.quintile), int(r.practices), shown])
    note = (f"NHS payments {GP_PAYMENT_YEAR} per weighted (Carr-Hill) patient. Quintiles are "
            "national: quintile 1 is the practices serving the most deprived fifth of England's "
            "patients (IMD 2019 score of the practice population, OHID Fingertips 93553).")
    d.tables.append(_make_table("gp_funding", f"GP payments by practice deprivation, "
                                f"{GP_PAYMENT_YEAR}", columns, rows, threshold, [note]))
    counts = dict(zip(table["quintile"], table["practices"], strict=True))
    if _finite(gap["gap_pct"]):
        pct = gap["gap_pct"]
        low, high = gap.get("gap_pct_ci_lower"), gap.get("gap_pct_ci_upper")
        ci = (f" (95% CI {format_number(low, 1, signed=True)}% to "
              f"{format_number(high, 1, signed=True)}%)" if _finite(low) and _finite(high)
              else "")
        d.key_numbers.append(KeyNumber(
            f"GP funding, most against least deprived practices ({GP_PAYMENT_YEAR})",
            f"{format_number(pct, 1, signed=True)}%",
            f"£{format_number(gap['most_deprived'], 2)} against "
            f"£{format_number(gap['least_deprived'], 2)} per weighted patient{ci}; national "
            "quintiles of practice deprivation."))
        few = [q for q in (1, 5) if 0 < counts.get(q, 0) < threshold]
        caution = (" One of these groups has "
                   f"{count_in_words(min(counts[q] for q in few), threshold)} practices, so "
                   "treat the comparison with caution." if few else "")
        words = compare_in_words(gap["most_deprived"], gap["least_deprived"],
                                 "practices serving the least deprived fifth")
        d.meaning.append(
            f"In {GP_PAYMENT_YEAR}, practices in {name} serving the most deprived fifth of "
            f"patients received £{format_number(gap['most_deprived'], 2)} per weighted patient:"
            f" {words} (£{format_number(gap['least_deprived'], 2)}). The gap is "
            f"{format_number(pct, 1, signed=True)}%{ci}.{caution}")
        d.facts.update(gp_gap_pct=float(pct), gp_most_deprived=float(gap["most_deprived"]),
                       gp_least_deprived=float(gap["least_deprived"]))
    else:
        empty = [q for q in (1, 5) if counts.get(q, 0) == 0]
        d.missing.append(
            f"{name} has no practices in practice deprivation quintile "
            f"{' or '.join(map(str, empty))}, so the GP funding gap between the most and least "
            "deprived practices cannot be worked out.")
        d.facts.update(gp_gap_pct=None)
    d.sources += [_source("gp_payments"), _source("gp_practice_imd"), _source("gp_practices")]
    d.glossary.append("weighted")


# =============================================================================================
# Allocation scenario
# =============================================================================================


def _data_root() -> Path:
    from analysis.data import data_dir

    return data_dir().resolve()


@functools.lru_cache(maxsize=4)
def _cached_allocation(path: str, mtime_ns: int, data_root: str) -> Any:
    from analysis.allocation import run_scenario_file

    return run_scenario_file(path)


def run_scenario(path: str | Path, registry: IndicatorRegistry | None = None) -> Any:
    """Run an allocation scenario file (:func:`analysis.allocation.engine.run_scenario_file`).

    With the shipped registry the result is cached per file version, so a batch of briefings
    runs the scenario once. Raises ``ValueError`` for a missing, invalid or infeasible
    scenario.
    """
    from analysis.allocation import run_scenario_file

    file = Path(path).resolve()
    if not file.is_file():
        raise ValueError(f"Scenario file {path} does not exist")
    if registry is None or registry is default_registry():
        return _cached_allocation(str(file), file.stat().st_mtime_ns, str(_data_root()))
    return run_scenario_file(file, registry=registry)


_UNIT_WORDS = {"practice": ("practice", "practices"), "icb": ("ICB", "ICBs"),
               "sicbl": ("sub-ICB location", "sub-ICB locations"),
               "ltla": ("local authority", "local authorities"),
               "lsoa21": ("neighbourhood", "neighbourhoods")}


def _amount_noun(scenario: Any, registry: IndicatorRegistry | None) -> str:
    """What a non-money scenario shares, from its provision indicator's unit: "FTE GPs"."""
    indicator = getattr(scenario.current, "indicator", None)
    if indicator:
        try:
            unit = (registry or default_registry()).meta(indicator).unit
        except KeyError:
            return "units"
        if " per " in unit:
            return unit.split(" per ")[0]
    return "units"


def _scenario_sources(scenario: Any, registry: IndicatorRegistry | None) -> list[SourceEntry]:
    """Provenance of a scenario's current figures and need indicators (deduplicated later)."""
    from analysis.allocation import GP_PAYMENTS_SOURCE, PRACTICE_NEED_INDICATORS

    registry = registry or default_registry()
    out: list[SourceEntry] = []
    current = scenario.current
    if current.source == GP_PAYMENTS_SOURCE or scenario.level == "practice":
        out.append(_source("gp_payments"))
    if current.source == "indicator" and current.indicator:
        out.append(_source_of_meta(registry.meta(current.indicator)))
    elif current.source in ("csv", "table"):
        out.append(SourceEntry(f"Current figures supplied with scenario {scenario.name}",
                               "", "", ""))
    need = scenario.need
    ids = [c.indicator for c in need.components] + ([need.index] if need.index else [])
    for indicator in ids:
        if indicator in PRACTICE_NEED_INDICATORS:
            out.append(_source("gp_practice_imd"))
        else:
            try:
                out.append(_source_of_meta(registry.meta(indicator)))
            except KeyError:
                out.append(SourceEntry(indicator, "", "", ""))
    return out


def _scenario_units(result: Any, ref: AreaRef) -> tuple[pd.DataFrame, str]:
    """The scenario's areas that overlap the briefing area, and how they relate to it."""
    level = result.scenario.level
    areas = result.areas
    if level == "practice":
        from analysis.access import practices_in_area

        try:
            codes = set(practices_in_area(ref.code) or [])
        except UnknownAreaError:
            codes = set()
        return areas[areas["area_code"].isin(codes)], "inside"
    spec = spec_for("england")
    table = load_pack_table("england")
    mask = small_area_mask("england", ref.code).to_numpy()
    codes = set(table.loc[mask, spec.level(level).code_column].astype(str))
    keys = [lv.key for lv in spec.levels]
    relation = "within" if keys.index(level) > keys.index(ref.level) else (
        "same" if level == ref.level else "inside")
    return areas[areas["area_code"].isin(codes)], relation


def _rank_sentence(result: Any, units: pd.DataFrame) -> str:
    """" It has the 2nd-largest gain of the 42 ICBs." for one area that gains or loses."""
    if len(units) != 1:
        return ""
    unit = units.iloc[0]
    if unit["status"] not in ("winner", "loser"):
        return ""
    peers = result.winners if unit["status"] == "winner" else result.losers
    if unit["area_code"] not in peers:
        return ""
    rank = peers.index(unit["area_code"]) + 1
    ordinal = "" if rank == 1 else _ordinal(rank) + "-"
    kind = "gain" if unit["status"] == "winner" else "loss"
    return (f" That is the {ordinal}largest {kind} of the {len(peers):,} that would "
            f"{'gain' if kind == 'gain' else 'lose'}.")


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _scenario_step(d: _Draft, path: Path, ref: AreaRef, name: str,
                   registry: IndicatorRegistry | None, threshold: int) -> ScenarioPart:
    result = run_scenario(path, registry)
    scenario = result.scenario
    money = scenario.current.source == "gp_payments_2022_23"
    one, many = _UNIT_WORDS.get(scenario.level, ("area", "areas"))
    scale = scenario.per_head_scale

    noun = _amount_noun(scenario, registry)

    def amount(x: float) -> str:
        if money:
            return money_in_words(x)
        return f"{format_number(x, 1 if abs(x) < 100 else 0)} {noun}"

    summary = result.summary()
    paragraphs = []
    pace = ""
    if scenario.max_gain_pct is not None or scenario.max_loss_pct is not None:
        pace = (f", with no {one} gaining more than {format_number(scenario.max_gain_pct, 0)}% "
                f"or losing more than {format_number(scenario.max_loss_pct, 0)}% in a year"
                if scenario.max_gain_pct is not None and scenario.max_loss_pct is not None
                else ", with a limit on how fast any share may change")
    paragraphs.append(
        f"The scenario shares {amount(result.budget)} between {summary['areas_allocated']:,} "
        f"{many} in England over {scenario.years} years: "
        f"{100 * scenario.alpha:.0f}% in proportion to population and "
        f"{100 * (1 - scenario.alpha):.0f}% in proportion to need{pace}.")
    if ref.country != "england":
        paragraphs.append(f"This scenario covers England only, so it does not change anything "
                          f"in {name}.")
        return ScenarioPart(scenario.name, scenario.title or scenario.name, tuple(paragraphs), ())
    units, relation = _scenario_units(result, ref)
    alive = units[units["status"] != "zero population"]
    tables: list[BriefingTable] = []
    if alive.empty:
        paragraphs.append(f"None of the scenario's {many} lie in {name}, so it has no direct "
                          "effect here.")
    else:
        now, after = float(alive["current"].sum()), float(alive["allocation"].sum())
        change = after - now
        pct = 100 * change / now if now > 0 else math.nan
        direction = "more" if change > 0 else "less"
        if relation == "within" or relation == "same":
            unit_name = str(alive["area_name"].iloc[0])
            who = (f"{name} lies within {unit_name}, which" if relation == "within"
                   else f"{name}")
            paragraphs.append(
                f"{who} would receive {amount(after)} after {scenario.years} years, against "
                f"{amount(now)} now: {amount(abs(change))} {direction} "
                f"({format_number(pct, 1, signed=True)}%)." + _rank_sentence(result, alive))
        else:
            counts = [int((alive["status"] == s).sum()) for s in ("winner", "loser",
                                                                   "unchanged")]
            gain, lose, _ = counts_in_words(counts, threshold)
            gain, lose = (f"no {one}" if w == "none" else w for w in (gain, lose))
            how_many = count_in_words(len(alive), threshold)
            who = (f"the {how_many} {many} in {name}" if len(alive) >= threshold
                   else f"the {many} in {name} ({how_many})")
            paragraphs.append(
                f"After {scenario.years} years {who} would receive {amount(after)} in total, "
                f"against {amount(now)} now: {amount(abs(change))} {direction} "
                f"({format_number(pct, 1, signed=True)}%). {sentence_case(gain)} would gain "
                f"and {lose} would lose.")
        per_head = "£ per head" if money and scale == 1 else (
            f"per {format_number(scale, 0)} residents" if scale != 1 else "per head")
        if scenario.level == "practice":
            per_head = per_head.replace("head", "weighted patient")
        ordered = alive.sort_values("change", ascending=False)
        picked = pd.concat([ordered.head(3), ordered.tail(3)]).drop_duplicates("area_code")
        rows = [[str(r.area_name), amount(r.current), amount(r.allocation),
                 f"{format_number(r.change_pct, 1, signed=True)}%",
                 f"{format_number(r.current_per_head, 0 if scale == 1 and money else 1)} → "
                 f"{format_number(r.allocation_per_head, 0 if scale == 1 and money else 1)}"]
                for r in picked.itertuples()]
        title = ("Largest gains and losses in " + name) if len(alive) > len(picked) else (
            f"Every {one} in {name}" if relation == "inside" else f"{sentence_case(one)} "
            f"covering {name}")
        tables.append(_make_table(
            "scenario_areas", title,
            [_Column(sentence_case(one), str, numeric=False), _Column("Now", str),
             _Column(f"After {scenario.years} years", str), _Column("Change", str),
             _Column(per_head.capitalize(), str)], rows, threshold))
    before, after_m = result.before, result.after

    def ci_words(value: float) -> str:
        if not _finite(value):
            return "not available"
        if value < 0:
            return "favours needier areas"
        return "favours less needy areas" if value > 0 else "is even"

    everyone = result.areas[result.areas["status"] != "zero population"]
    national = [int((everyone["status"] == s).sum()) for s in ("winner", "loser", "unchanged")]
    gain, lose, _ = counts_in_words(national, threshold)
    paragraphs.insert(1, f"Across England, {gain} of the {len(everyone):,} {many} would gain "
                         f"and {lose} would lose.")
    closed = summary.get("share_of_gap_closed")
    paragraphs.append(
        f"Equity impact across England: the concentration index of funding by need goes from "
        f"{format_number(before.concentration_index, 3, signed=True)} "
        f"({ci_words(before.concentration_index)}) to "
        f"{format_number(after_m.concentration_index, 3, signed=True)} "
        f"({ci_words(after_m.concentration_index)}; 95% CI "
        f"{format_number(after_m.concentration_index_lower, 3, signed=True)} to "
        f"{format_number(after_m.concentration_index_upper, 3, signed=True)}). The slope index "
        f"of inequality of funding per head across deprivation deciles goes from "
        f"{format_number(before.sii, 1, signed=True)} to "
        f"{format_number(after_m.sii, 1, signed=True)} (95% CI "
        f"{format_number(after_m.sii_lower, 1, signed=True)} to "
        f"{format_number(after_m.sii_upper, 1, signed=True)}; negative means more at the most "
        f"deprived end)."
        + (f" About {100 * closed:.0f}% of the gap to the fair-share target would close."
           if _finite(closed) else ""))
    d.facts.update(scenario=scenario.name,
                   scenario_concentration_before=float(before.concentration_index),
                   scenario_concentration_after=float(after_m.concentration_index))
    d.sources += _scenario_sources(scenario, registry)
    d.glossary += ["fair_share", "proportionate", "concentration"]
    d.methods.append(
        "Scenario: target = budget × (α × share of population + (1 − α) × share of need), "
        "reached within the pace-of-change limits (analysis/allocation.py).")
    return ScenarioPart(scenario.name, scenario.title or scenario.name, tuple(paragraphs),
                        tuple(tables))


# =============================================================================================
# Glossary, methods, sources
# =============================================================================================

_GLOSSARY: dict[str, tuple[str, str]] = {
    "neighbourhood": ("Neighbourhood", "A small statistical area of about 1,500 people in "
                      "England (a lower layer super output area, LSOA) or 500 to 1,000 people "
                      "in Scotland (a data zone)."),
    "index": ("Index of Multiple Deprivation", "The official measure of how deprived a "
              "neighbourhood is: income, jobs, education, health, crime, housing and "
              "environment (IMD 2025 England, SIMD 2020 Scotland)."),
    "decile": ("Deprivation decile", "All neighbourhoods in the country ranked from most to "
               "least deprived and split into ten equal groups. Decile 1 is the most deprived "
               "tenth."),
    "core20": ("Core20", "The most deprived 20% of neighbourhoods nationally (deciles 1 and 2). "
               "NHS England's Core20PLUS5 programme targets this group."),
    "provision": ("Provision per head", "How much of a service there is for each resident; "
                  "here GP list places within reach per 1,000 residents."),
    "inverse_care": ("Inverse care law", "Julian Tudor Hart's observation (1971) that good care "
                     "tends to be least available where it is most needed."),
    "ci": ("95% confidence interval (CI)", "The range the true value is likely to lie in, "
           "allowing for chance. Narrow means precise."),
    "p": ("p-value", "How likely a pattern this strong would be by chance alone, with no real "
          "link. Below 0.05 counts as a clear pattern."),
    "sd": ("Standard deviation of need", "A typical step up in need between neighbourhoods."),
    "sii": ("Slope index of inequality (SII)", "The gap between the most and least deprived "
            "ends of the population, estimated from all deprivation deciles at once (OHID "
            "method). Its sign shows which end is higher."),
    "cidr": ("Illness and disability ratio", "The comparative illness and disability ratio "
             "counts people receiving disability and incapacity benefits, adjusted for age and "
             "sex. England = 100; higher means more illness."),
    "weighted": ("Weighted patients", "A practice's list size adjusted for the age, sex, "
                 "illness and rurality of its patients (Carr-Hill formula), not for "
                 "deprivation."),
    "fair_share": ("Fair share", "What an area would receive if funding followed need exactly. "
                   "Below fair share means less than need would justify."),
    "proportionate": ("Proportionate universalism", "Services for everyone, scaled up where "
                      "need is greater (Marmot Review, 2010)."),
    "concentration": ("Concentration index", "Whether funding goes more to needier (below 0) or "
                      "less needy (above 0) areas; 0 means even."),
}


def _glossary(keys: Sequence[str]) -> tuple[GlossaryEntry, ...]:
    seen = list(dict.fromkeys(k for k in keys if k in _GLOSSARY))
    return tuple(GlossaryEntry(*_GLOSSARY[k]) for k in seen)


def _unique_sources(entries: Sequence[SourceEntry]) -> tuple[SourceEntry, ...]:
    out: dict[str, SourceEntry] = {}
    for entry in entries:
        out.setdefault(entry.title, entry)
    return tuple(out.values())


def _base_methods(country: str, index_label: str) -> list[str]:
    label = COUNTRY_LABEL[country]
    plural, detail = NEIGHBOURHOOD[country][1], NEIGHBOURHOOD[country][2]
    return [
        f"Figures are for the area's {plural} ({detail}), from the same Fairshare functions as "
        f"the dashboard, on open data for {label}. Deprivation: {index_label} national "
        "deciles; the most deprived 20% is the share of residents in deciles 1 and 2. Words "
        "such as 'about a fifth more' round a ratio to the nearest simple fraction; exact "
        "figures are in the tables. Full methods and references: docs/methods.md.",
    ]


# =============================================================================================
# The briefing
# =============================================================================================


def _headline(name: str, summary: AreaSummary, country: str, panel: EquityPanel | None) -> str:
    label = COUNTRY_LABEL[country]
    words = compare_in_words(summary.pct_most_deprived_quintile,
                             summary.national_pct_most_deprived_quintile, "the national share")
    start = (f"In {name}, {summary.pct_most_deprived_quintile:.1f}% of residents live in "
             f"{label}'s most deprived 20% of neighbourhoods, {words}")
    if panel is None:
        if BRIEFING_PROVISION.get(country) is None:
            return (start + f"; there are no provision data for {label} yet, so whether "
                    "services follow need cannot be tested.")
        return start + "; whether GP capacity follows need could not be tested."
    phrase = {"pro_need": "and GP capacity within reach is higher where need is higher",
              "inverse_care": "and GP capacity within reach is lower where need is higher: "
                              "the inverse care law",
              "no_clear_relationship": "and GP capacity within reach shows no clear link with "
                                       "need"}[panel.test.direction]
    return f"{start}, {phrase}."


def build_briefing(area_code: str, *, scenario_path: str | Path | None = None,
                   registry: IndicatorRegistry | None = None, suppress_below: int = 5,
                   produced: date | None = None) -> Briefing:
    """Everything an equity briefing of ``area_code`` (any level) says, from the analysis API.

    ``scenario_path``: an allocation scenario JSON (``data/scenarios/*.json``) whose winners,
    losers and equity impact are added. ``suppress_below``: counts from 1 to this − 1 are
    hidden in tables (0 turns suppression off). ``produced``: the date printed (today).
    Raises :class:`analysis.data.geography.UnknownAreaError` (with the closest codes) for an
    unknown area, ``ValueError`` for a bad scenario.
    """
    if suppress_below < 0:
        raise ValueError(f"suppress_below is {suppress_below}: it must be 0 or more")
    ref = resolve_area(area_code)
    if ref.level == "country":
        ref = AreaRef(ref.country, "country", COUNTRY_CODES[ref.country][0],
                      COUNTRY_CODES[ref.country][1])
    shared = registry is None
    registry = registry if registry is not None else default_registry()
    summary = study_area_summary(ref.code, registry=registry)
    name = summary.name
    country = ref.country
    frame = study_area_frame(country, ref.code, [], registry)
    d = _Draft()
    d.methods += _base_methods(country, summary.deprivation_index)
    d.sources.append(_source("lsoa21_boundaries" if country == "england" else "dz11_boundaries"))
    d.sources.append(_source("census2021_population" if country == "england"
                             else "scotland_population_2021"))
    d.sources.append(_source_of_meta(registry.meta(DEPRIVATION_DECILE_ID[country])))

    profile = _deprivation_step(d, ref, summary, frame, suppress_below)
    panel = _provision_step(d, ref, name, registry, suppress_below)
    outcome = _outcome_step(d, ref, name, frame, registry)
    _gp_funding_step(d, ref, name, suppress_below)
    _decile_table(d, ref, profile, panel, outcome, suppress_below)

    if panel is not None:
        figure, facts = _bivariate_map(country, ref.code, ref.level, panel, suppress_below)
        d.facts.update(facts)
        d.methods.append(
            "Map: thirds of need by thirds of GP capacity within the area (each third about a "
            "third of residents); the high-need, low-capacity class is outlined so the map "
            "also reads in black and white.")
    else:
        deciles = registry.get(DEPRIVATION_DECILE_ID[country]).values
        figure = _decile_map(country, ref.code, ref.level, deciles, summary.deprivation_index)
    d.figures.insert(0, figure)

    scenario_part = None
    if scenario_path is not None:
        scenario_part = _scenario_step(d, Path(scenario_path), ref, name,
                                       None if shared else registry, suppress_below)
    d.meaning.append(
        "These figures describe patterns, not causes: a link between deprivation and provision "
        "does not show why it exists. Use them to ask questions of services, alongside local "
        "knowledge.")

    tables = list(d.tables) + list(scenario_part.tables if scenario_part else ())
    footnotes = []
    if any(t.suppressed for t in tables):
        footnotes.append(suppression_note(suppress_below))
    level_label = spec_for(country).level(ref.level).label
    return Briefing(
        area_code=ref.code, area_name=name, level_label=level_label, country=country,
        country_label=COUNTRY_LABEL[country], produced=produced or date.today(),
        title=f"Equity briefing: {name}", headline=_headline(name, summary, country, panel),
        key_numbers=tuple(d.key_numbers), meaning=tuple(d.meaning), missing=tuple(d.missing),
        figures=tuple(d.figures), tables=tuple(d.tables), scenario=scenario_part,
        methods=tuple(d.methods), glossary=_glossary(d.glossary),
        sources=_unique_sources(d.sources), attribution=ATTRIBUTION, licence=OGL,
        licence_url=OGL_URL, footnotes=tuple(footnotes), suppress_below=suppress_below,
        facts={"area_code": ref.code, "area_name": name, "level": ref.level,
               "country": country, **d.facts})


# =============================================================================================
# Rendering
# =============================================================================================


@functools.lru_cache(maxsize=1)
def _environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    return Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True,
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def render_html(briefing: Briefing, *, for_print: bool = False) -> str:
    """The briefing as one self-contained HTML page (images embedded; autoescaped).

    ``for_print`` selects PNG images (WeasyPrint) instead of SVG (browsers).
    """
    template = _environment().get_template(TEMPLATE_NAME)
    return template.render(b=briefing, for_print=for_print, suppressed=SUPPRESSED)


def _render_pdf(briefing: Briefing) -> bytes:
    from weasyprint import HTML

    html = render_html(briefing, for_print=True)
    return HTML(string=html, base_url=str(TEMPLATES)).write_pdf(pdf_variant="pdf/ua-1")


def _docx_header_row(row: Any) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    properties = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    properties.append(header)
    for cell in row.cells:
        for paragraph in cell.paragraphs:
            for run in paragraph.runs:
                run.bold = True


def _docx_table(document: Any, header: Sequence[str], rows: Sequence[Sequence[str]],
                numeric: Sequence[bool] | None = None, widths: Sequence[float] | None = None
                ) -> Any:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = text
    _docx_header_row(table.rows[0])
    for row in rows:
        cells = table.add_row().cells
        for index, (cell, text) in enumerate(zip(cells, row, strict=True)):
            cell.text = text
            if numeric and numeric[index]:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for row in table.rows:
        for index, cell in enumerate(row.cells):
            if widths:
                cell.width = Mm(widths[index])
            for paragraph in cell.paragraphs:
                paragraph.paragraph_format.space_after = Pt(0)
                for run in paragraph.runs:
                    run.font.size = Pt(9)
    return table


def _docx_picture(document: Any, figure: Figure, width_mm: float) -> None:
    from docx.shared import Mm

    document.add_picture(io.BytesIO(figure.png), width=Mm(width_mm))
    properties = document.inline_shapes[-1]._inline.docPr
    properties.set("descr", figure.alt_text)
    properties.set("title", figure.title)


def _render_docx(briefing: Briefing) -> bytes:
    from docx import Document
    from docx.shared import Mm, Pt

    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(18))
    normal = document.styles["Normal"]
    normal.font.name = "Arial"
    normal.font.size = Pt(10.5)
    properties = document.core_properties
    properties.title = briefing.title
    properties.author = "Fairshare"
    properties.language = "en-GB"
    properties.subject = "Equity briefing"

    document.add_paragraph(f"Equity briefing · {briefing.level_label} · "
                           f"{briefing.country_label} · {briefing.produced_text}")
    document.add_heading(briefing.area_name, level=0)
    lead = document.add_paragraph()
    lead_run = lead.add_run(briefing.headline)
    lead_run.bold = True
    lead_run.font.size = Pt(12.5)

    document.add_heading("Key numbers", level=1)
    _docx_table(document, ("Measure", "Figure", "What it means"),
                [(k.label, k.value, k.detail) for k in briefing.key_numbers],
                widths=(50, 30, 94))
    document.add_heading("What this means", level=1)
    for paragraph in briefing.meaning:
        document.add_paragraph(paragraph)
    if briefing.missing:
        document.add_heading("What this briefing cannot show", level=2)
        for paragraph in briefing.missing:
            document.add_paragraph(paragraph, style="List Bullet")

    document.add_heading("Maps and charts", level=1)
    for figure in briefing.figures:
        document.add_heading(figure.title, level=2)
        _docx_picture(document, figure, 170 if figure.wide else 120)
        document.add_paragraph(figure.reading, style="Caption")

    for table in briefing.tables:
        document.add_heading(table.title, level=2)
        _docx_table(document, table.header, table.rows, table.numeric)
        for note in table.notes:
            document.add_paragraph(note, style="Caption")

    if briefing.scenario is not None:
        document.add_heading(f"Scenario: {briefing.scenario.title}", level=1)
        for paragraph in briefing.scenario.paragraphs:
            document.add_paragraph(paragraph)
        for table in briefing.scenario.tables:
            document.add_heading(table.title, level=2)
            _docx_table(document, table.header, table.rows, table.numeric)
            for note in table.notes:
                document.add_paragraph(note, style="Caption")

    document.add_heading("Glossary", level=1)
    _docx_table(document, ("Term", "Meaning"),
                [(g.term, g.meaning) for g in briefing.glossary], widths=(45, 129))
    document.add_heading("Methods", level=1)
    for paragraph in briefing.methods:
        document.add_paragraph(paragraph)
    document.add_heading("Data sources", level=1)
    for source in briefing.sources:
        parts = [source.title]
        if source.publisher and source.publisher != source.title:
            parts.append(source.publisher)
        if source.vintage:
            parts.append(source.vintage)
        text = ". ".join(parts) + "." + (f" {source.url}" if source.url else "")
        document.add_paragraph(text, style="List Bullet")
    document.add_paragraph(f"{briefing.attribution} Licence: {briefing.licence} "
                           f"({briefing.licence_url}).")
    for note in briefing.footnotes:
        document.add_paragraph(note, style="Caption")
    document.add_paragraph(f"Produced by Fairshare on {briefing.produced_text}.",
                           style="Caption")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def render(briefing: Briefing, fmt: Format | str) -> bytes:
    """The briefing as ``"pdf"`` (A4, WeasyPrint, tagged PDF/UA), ``"html"`` (one
    self-contained UTF-8 page) or ``"docx"`` (python-docx) bytes."""
    if fmt == "pdf":
        return _render_pdf(briefing)
    if fmt == "html":
        return render_html(briefing).encode("utf-8")
    if fmt == "docx":
        return _render_docx(briefing)
    raise ValueError(f"Unknown briefing format {fmt!r}; choose one of {', '.join(FORMATS)}")


def briefing_bytes(area_code: str, fmt: Format | str, **kwargs: Any) -> bytes:
    """:func:`build_briefing` then :func:`render`: the briefing file's bytes."""
    if fmt not in FORMATS:
        raise ValueError(f"Unknown briefing format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return render(build_briefing(area_code, **kwargs), fmt)
