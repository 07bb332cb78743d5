"""The inverse care law page's charts (analysis.explore.equity_charts) and their one-off
conversion, once per chart object, to the spec Streamlit draws (dashboard.components
.drawn_chart, used by chart_with_text)."""

from __future__ import annotations

import json

import altair as alt
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from analysis.data import IndicatorRegistry
from analysis.explore import equity_panel
from analysis.explore.equity_charts import (
    MAX_POINTS,
    concentration_curve_table,
    equity_charts,
)

WIGAN = "E08000010"
ENGLAND_NEED, ENGLAND_PROVISION = "imd2025_score", "gp_access_gps_per_100k"


@pytest.fixture(scope="module")
def registry() -> IndicatorRegistry:
    return IndicatorRegistry()


@pytest.fixture(scope="module")
def wigan(registry):
    panel = equity_panel("england", WIGAN, ENGLAND_NEED, ENGLAND_PROVISION, registry)
    return panel, equity_charts(panel, registry.meta(ENGLAND_NEED),
                                registry.meta(ENGLAND_PROVISION))


def chart_dict(chart) -> dict:
    with alt.data_transformers.disable_max_rows():  # England's grid has 33,755 rows
        return chart.to_dict()


def layer_marks(chart) -> list[str]:
    def marks(spec):
        if "layer" in spec:
            return [m for layer in spec["layer"] for m in marks(layer)]
        mark = spec["mark"]
        return [mark["type"] if isinstance(mark, dict) else mark]

    return marks(chart_dict(chart))


def layer_data(chart, index: int):
    data = chart.layer[index].data
    return chart.data if data is alt.Undefined else data  # Altair lifts shared data up


def test_wigan_scatter_has_a_dot_per_small_area_and_the_fitted_band(wigan, registry):
    panel, charts = wigan
    assert charts.scatter_shows == "one dot per small area, sized by population"
    assert layer_marks(charts.scatter) == ["circle", "area", "line"]
    dots = layer_data(charts.scatter, 0)
    assert len(dots) == panel.frame.dropna(subset=["need", "provision"]).shape[0]
    assert len(dots) <= MAX_POINTS
    spec = chart_dict(charts.scatter)
    # titles carry the units, in lines short enough not to be cut off
    need, provision = registry.meta(ENGLAND_NEED), registry.meta(ENGLAND_PROVISION)
    x_title = spec["layer"][0]["encoding"]["x"]["title"]
    y_title = spec["layer"][0]["encoding"]["y"]["title"]
    assert " ".join(x_title) == f"{need.title} ({need.unit})"
    assert " ".join(y_title) == f"{provision.title} ({provision.unit})"
    assert max(map(len, x_title)) <= 60 and max(map(len, y_title)) <= 42
    assert len(y_title) > 1  # the provision title is long enough to need wrapping


def test_above_the_point_limit_the_scatter_is_a_density_grid(registry):
    panel = equity_panel("england", None, ENGLAND_NEED, ENGLAND_PROVISION, registry)
    charts = equity_charts(panel, registry.meta(ENGLAND_NEED),
                           registry.meta(ENGLAND_PROVISION))
    assert panel.frame.dropna(subset=["need", "provision"]).shape[0] > MAX_POINTS
    assert charts.scatter_shows == "a density grid (darker = more small areas)"
    assert layer_marks(charts.scatter) == ["rect", "area", "line"]


def test_gradient_has_ten_deciles_with_intervals_around_the_observed_values(wigan):
    panel, charts = wigan
    bars = layer_data(charts.gradient, 0)
    assert sorted(bars["decile"]) == sorted(panel.gradient["decile"])
    assert (bars["right"] - bars["left"]).round(9).eq(0.8).all()
    assert (bars["lower_ci"] <= bars["provision_per_head"]).all()
    assert (bars["provision_per_head"] <= bars["upper_ci"]).all()


def test_concentration_curve_runs_from_nothing_to_everything(wigan):
    panel, charts = wigan
    curve = charts.curve
    assert len(curve) == 101
    assert curve["population_share"].iloc[[0, -1]].tolist() == [0.0, 1.0]
    assert curve["provision_share"].iloc[0] == pytest.approx(0.0, abs=1e-12)
    assert curve["provision_share"].iloc[-1] == pytest.approx(1.0)
    assert (np.diff(curve["provision_share"]) >= -1e-12).all()  # cumulative: never falls
    # at each grid point, the straight-line interpolation of the panel's own curve
    half = np.interp(0.5, panel.curve.population_share, panel.curve.value_share)
    assert curve.loc[50, "provision_share"] == pytest.approx(half)
    assert concentration_curve_table(panel, 11)["population_share"].round(9).tolist() == [
        round(0.1 * i, 9) for i in range(11)]


def _draw(converted: bool) -> AppTest:
    def page():
        import streamlit as st

        from analysis.data import IndicatorRegistry
        from analysis.explore import equity_panel
        from analysis.explore.equity_charts import equity_charts
        from dashboard.components import chart_with_text

        registry = IndicatorRegistry()
        panel = equity_panel("england", "E08000010", "imd2025_score",
                             "gp_access_gps_per_100k", registry)
        charts = equity_charts(panel, registry.meta("imd2025_score"),
                               registry.meta("gp_access_gps_per_100k"))
        if st.session_state["converted"]:
            chart_with_text(charts.gradient, reading="r", alt_text="a", data=panel.gradient,
                            name="n", key="k")
        else:  # what Streamlit draws from the Altair chart itself
            st.altair_chart(charts.gradient.properties(
                usermeta={"embedOptions": {"actions": False}}), width="stretch")

    at = AppTest.from_function(page, default_timeout=120)
    at.session_state["converted"] = converted
    at.run()
    assert not at.exception, at.exception
    return at


def _chart_proto(at: AppTest):
    charts = [e.proto for e in at.get("vega_lite_chart")]
    assert len(charts) == 1
    return charts[0]


def _without_dataset_names(spec_json: str) -> str:
    # datasets are named by the id of a table, different in two runs
    spec = json.loads(spec_json)
    names = {}

    def rename(node):
        if isinstance(node, dict):
            if set(node) == {"name"} and isinstance(node["name"], str):
                return {"name": names.setdefault(node["name"], f"data-{len(names)}")}
            return {k: rename(v) for k, v in node.items()}
        if isinstance(node, list):
            return [rename(v) for v in node]
        return node

    return json.dumps(rename(spec), sort_keys=True)


def test_a_converted_chart_is_drawn_exactly_as_streamlit_draws_the_altair_chart():
    drawn, plain = _chart_proto(_draw(True)), _chart_proto(_draw(False))
    assert _without_dataset_names(drawn.spec) == _without_dataset_names(plain.spec)
    assert [d.data.data for d in drawn.datasets] == [d.data.data for d in plain.datasets]
    # bars and error bars draw one table, which Altair lifts to the layer chart
    assert len(drawn.datasets) == 1 and drawn.datasets[0].data.data


def test_a_converted_spec_survives_being_drawn_many_times(wigan):
    from dashboard.components import drawn_chart

    _, charts = wigan
    once = drawn_chart(charts.scatter)
    assert once.spec is not None
    assert drawn_chart(charts.scatter) is once  # converted once per chart object
    before = json.dumps({k: v for k, v in once.spec.items() if k != "datasets"},
                        sort_keys=True)
    names = sorted(once.spec["datasets"])
    assert all(isinstance(data, bytes) for data in once.spec["datasets"].values())

    def page():
        import streamlit as st

        st.vega_lite_chart(spec=st.session_state["spec"], width="stretch")

    at = AppTest.from_function(page, default_timeout=60)
    at.session_state["spec"] = once.spec
    for _ in range(3):
        at.run()
        assert not at.exception, at.exception
    # Streamlit moves datasets out of its own copy of the spec, never out of the shared one
    assert sorted(once.spec["datasets"]) == names
    assert json.dumps({k: v for k, v in once.spec.items() if k != "datasets"},
                      sort_keys=True) == before
