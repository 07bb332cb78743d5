"""Charts and maps of a briefing, as Vega-Lite specs rendered to PNG by vl-convert (imported
when a chart is drawn): the need × provision (bivariate) map with its legend grid, the
deprivation decile map, the deprivation profile and the dot-and-interval decile charts. Each
comes back as a :class:`analysis.briefing.content.Figure` with its text alternative.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from analysis.briefing.content import Figure
from analysis.briefing.wording import NEIGHBOURHOOD, _finite
from analysis.data import select_study_area, spec_for
from analysis.explore import BIVARIATE_COLOURS, VIRIDIS_10, EquityPanel, bivariate_classes
from analysis.numbers import format_number

FONT_STACK = "DejaVu Sans"
INK = "#1a1a1a"
GREY = "#8c8c8c"

MAP_LABEL_LEVEL = {"icb": "ltla", "sicbl": "ltla", "region": "icb"}
#: Every chart has the same outer size (axes and labels included), so charts set side by
#: side in print line up.
CHART_SIZE: dict[str, Any] = {"width": 340, "height": 190,
                              "autosize": {"type": "fit", "contains": "padding"}}


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
    # a travel time reads the other way: its "low provision" third is the longest journeys
    worse_access = provision.polarity == "higher_is_worse"
    what = "access to a GP" if worse_access else "GP capacity"
    low = "long journeys to a GP" if worse_access else "low GP capacity"
    alt = (f"Map of the {len(shapes):,} {label} of the area in nine classes: thirds of need "
           f"({need.title}) by thirds of {what} ({provision.title}), each third holding "
           f"about a third of residents. {format_number(hot_count) if hot_count else 'No'} "
           f"{label}, home to {hot_share:.0f}% of residents, combine high need with "
           f"{low}; they are outlined in black. The grid beside the map gives the share of "
           f"residents in each class.")
    reading = (f"Outlined in black: {label} with high need and {low}, home to "
               f"{hot_share:.0f}% of residents. Need and {what} are split into thirds within "
               f"the area, so 'high' means high for this area.")
    title = ("Where need is high and journeys to a GP are long" if worse_access
             else "Where need is high and GP capacity is low")
    figure = Figure("map", title, alt, reading, png, spec, wide=True)
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
