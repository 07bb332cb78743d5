"""Tests for analysis.allocation: scenarios, the constrained solver, equity impact, batch use."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.allocation import (
    AllocationResult,
    CurrentSpec,
    NeedComponent,
    NeedSpec,
    Scenario,
    ScenarioInfeasible,
    allocate,
    allocation_path,
    compare,
    equity_metrics,
    load_scenario,
    run_scenario_file,
    solve_year,
    target_allocation,
)

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "data" / "scenarios"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
GP_SCENARIO = SCENARIOS / "gp-funding-toward-need.json"

FAST = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------------------------


@st.composite
def instances(draw, min_size: int = 2, max_size: int = 25):
    """A feasible allocation problem: current itself satisfies every year-1 bound."""
    n = draw(st.integers(min_size, max_size))
    money = st.floats(1.0, 1e7, allow_nan=False, allow_infinity=False)
    current = np.array(draw(st.lists(money, min_size=n, max_size=n)))
    population = np.array(draw(st.lists(st.floats(1.0, 1e5), min_size=n, max_size=n)))
    need = population * np.array(draw(st.lists(st.floats(0.1, 5.0), min_size=n, max_size=n)))
    alpha = draw(st.floats(0.0, 1.0))
    gain = draw(st.one_of(st.none(), st.floats(0.0, 30.0)))
    loss = draw(st.one_of(st.none(), st.floats(0.0, 100.0)))
    floor = draw(st.one_of(st.none(), st.floats(0.0, 100.0)))
    cap = draw(st.one_of(st.none(), st.floats(100.0, 300.0)))
    min_ph = draw(st.one_of(st.none(), st.floats(0.0, 1.0)))
    if min_ph is not None:
        min_ph = float(min_ph * np.min(current / population))
    years = draw(st.integers(1, 4))
    return {
        "current": current, "population": population, "need": need, "alpha": alpha,
        "max_gain_pct": gain, "max_loss_pct": loss, "floor_pct": floor, "cap_pct": cap,
        "min_per_head": min_ph, "years": years,
    }


def _path(inst, objective: str = "quadratic", **override):
    budget = float(inst["current"].sum())
    target = target_allocation(inst["population"], inst["need"], inst["alpha"], budget)
    kwargs = {k: inst[k] for k in ("max_gain_pct", "max_loss_pct", "floor_pct", "cap_pct",
                                   "min_per_head", "years")}
    kwargs.update(override)
    path = allocation_path(inst["current"], target, inst["population"], budget,
                           objective=objective, **kwargs)
    return path, target, budget, kwargs


def _tol(value: np.ndarray | float) -> np.ndarray | float:
    return 1e-7 * np.maximum(1.0, np.abs(value))


# ---------------------------------------------------------------------------------------------
# Target and solver properties
# ---------------------------------------------------------------------------------------------


def test_target_formula_by_hand():
    target = target_allocation([100, 300], [100, 900], alpha=0.25, budget=1000)
    # per head: 0.25 * [250, 750]; by need: 0.75 * [100, 900]
    assert np.allclose(target, [62.5 + 75.0, 187.5 + 675.0])
    assert math.isclose(target.sum(), 1000)


def test_target_gives_nothing_to_areas_without_population():
    target = target_allocation([0, 10, 30], [5, 1, 1], alpha=0.5, budget=80)
    assert target[0] == 0 and math.isclose(target.sum(), 80)


@FAST
@given(instances())
def test_budget_is_conserved_and_every_bound_holds(inst):
    path, _target, budget, kw = _path(inst)
    current, pop = inst["current"], inst["population"]
    for year in range(1, path.shape[0]):
        x, prev = path[year], path[year - 1]
        assert abs(x.sum() - budget) < 1.0
        assert np.all(x >= -_tol(x))
        if kw["max_gain_pct"] is not None:
            assert np.all(x <= prev * (1 + kw["max_gain_pct"] / 100) + _tol(prev))
        if kw["max_loss_pct"] is not None:
            assert np.all(x >= prev * (1 - kw["max_loss_pct"] / 100) - _tol(prev))
        if kw["floor_pct"] is not None:
            assert np.all(x >= current * kw["floor_pct"] / 100 - _tol(current))
        if kw["cap_pct"] is not None:
            assert np.all(x <= current * kw["cap_pct"] / 100 + _tol(current))
        if kw["min_per_head"] is not None:
            assert np.all(x >= pop * kw["min_per_head"] - _tol(x))


@FAST
@given(instances())
def test_quadratic_solution_satisfies_kkt_and_is_l1_optimal(inst):
    """x = clip(t + lambda pop, lower, upper) for one lambda (optimal for the weighted
    quadratic), and its L1 distance equals the HiGHS LP optimum. This is the "nearest" rule;
    the toward-target rule (the default) is tested in test_toward_target.py."""
    path, target, budget, kw = _path(inst, years=1, convergence="nearest")
    x = path[1]
    current, pop = inst["current"], inst["population"]
    lower = np.zeros_like(x)
    upper = np.full_like(x, np.inf)
    if kw["max_loss_pct"] is not None:
        lower = np.maximum(lower, current * (1 - kw["max_loss_pct"] / 100))
    if kw["floor_pct"] is not None:
        lower = np.maximum(lower, current * kw["floor_pct"] / 100)
    if kw["min_per_head"] is not None:
        lower = np.maximum(lower, pop * kw["min_per_head"])
    if kw["max_gain_pct"] is not None:
        upper = np.minimum(upper, current * (1 + kw["max_gain_pct"] / 100))
    if kw["cap_pct"] is not None:
        upper = np.minimum(upper, current * kw["cap_pct"] / 100)
    lam = (x - target) / pop
    free = (x > lower + _tol(x)) & (x < upper - _tol(x))
    if free.sum() >= 2:
        assert np.ptp(lam[free]) <= 1e-6 * max(1.0, np.abs(lam[free]).max())
    if free.any():
        common = float(np.median(lam[free]))
        at_lower = ~free & (x <= lower + _tol(x))
        at_upper = ~free & (x >= upper - _tol(x))
        slack = 1e-6 * max(1.0, abs(common))
        assert np.all(lam[at_lower] >= common - slack)  # would go lower if allowed
        assert np.all(lam[at_upper] <= common + slack)  # would go higher if allowed
    lp = solve_year(target, pop, lower, upper, budget, objective="l1")
    assert abs(lp.sum() - budget) < 1.0
    l1_quadratic = np.abs(x - target).sum()
    l1_lp = np.abs(lp - target).sum()
    assert l1_quadratic <= l1_lp + 1e-6 * max(1.0, budget)


@FAST
@given(instances(), st.floats(0.0, 1.0))
def test_unlimited_pace_reaches_the_target_exactly(inst, alpha):
    budget = float(inst["current"].sum())
    target = target_allocation(inst["population"], inst["need"], alpha, budget)
    path = allocation_path(inst["current"], target, inst["population"], budget, years=1)
    assert np.allclose(path[1], target, rtol=1e-9, atol=1e-6)


@FAST
@given(instances())
def test_alpha_one_gives_per_head_shares(inst):
    budget = float(inst["current"].sum())
    pop = inst["population"]
    target = target_allocation(pop, inst["need"], 1.0, budget)
    path = allocation_path(inst["current"], target, pop, budget, years=1)
    assert np.allclose(path[1] / budget, pop / pop.sum(), rtol=1e-9, atol=1e-12)


@FAST
@given(instances())
def test_zero_pace_leaves_the_current_allocation(inst):
    path, _t, _b, _kw = _path(inst, max_gain_pct=0.0, max_loss_pct=0.0)
    for year in range(1, path.shape[0]):
        assert np.allclose(path[year], inst["current"], rtol=1e-12, atol=1e-6)


@FAST
@given(instances(), st.floats(1.01, 5.0))
def test_minimum_per_head_above_budget_is_explained(inst, factor):
    budget = float(inst["current"].sum())
    pop = inst["population"]
    target = target_allocation(pop, inst["need"], 0.5, budget)
    min_ph = factor * budget / pop.sum()
    with pytest.raises(ScenarioInfeasible) as info:
        allocation_path(inst["current"], target, pop, budget, min_per_head=min_ph)
    conflicts = info.value.conflicts
    first = next(c for c in conflicts if c.kind == "budget")
    assert "min_per_head" in first.constraints
    assert first.excess == pytest.approx(min_ph * pop.sum() - budget, rel=1e-9)
    assert "minimum per head" in str(info.value)


def test_infeasible_floors_above_caps_name_the_area_and_amount():
    current = np.array([100.0, 200.0, 300.0])
    pop = np.array([1.0, 1.0, 1.0])
    target = target_allocation(pop, pop, 1.0, 600.0)
    with pytest.raises(ScenarioInfeasible) as info:
        allocation_path(current, target, pop, 600.0, floor_pct=[90, 130, 90], cap_pct=110,
                        codes=["A", "B", "C"], scenario_name="demo")
    area = [c for c in info.value.conflicts if c.kind == "area"]
    assert len(area) == 1
    conflict = area[0]
    assert conflict.area == "B" and conflict.constraints == ("floor", "cap")
    assert conflict.required == pytest.approx(260) and conflict.allowed == pytest.approx(220)
    assert conflict.excess == pytest.approx(40)
    message = str(info.value)
    assert "'demo'" in message and "B: floor needs at least 260" in message
    assert "cap allows at most 220" in message
    json.dumps([c.to_dict() for c in info.value.conflicts])


def test_infeasible_budget_beyond_pace_names_the_pace_limit():
    current = np.array([100.0, 100.0])
    pop = np.array([1.0, 3.0])
    target = target_allocation(pop, pop, 1.0, 300.0)
    with pytest.raises(ScenarioInfeasible) as info:
        allocation_path(current, target, pop, 300.0, max_gain_pct=10, max_loss_pct=10)
    (conflict,) = info.value.conflicts
    assert conflict.kind == "budget" and "pace_gain" in conflict.constraints
    assert conflict.allowed == pytest.approx(220) and conflict.excess == pytest.approx(80)
    assert "upper bounds add up to 220" in str(info.value)


def test_infeasible_in_a_later_year_reports_that_year():
    # Area 0 must reach 150 (minimum per head), 20% a year: 100 -> 120 -> 144 -> 172.8.
    current = np.array([100.0, 300.0])
    pop = np.array([1.0, 1.0])
    target = np.array([200.0, 200.0])
    with pytest.raises(ScenarioInfeasible) as info:
        allocation_path(current, target, pop, 400.0, years=3, max_gain_pct=20,
                        min_per_head=150.0)
    assert info.value.conflicts[0].year == 1
    path = allocation_path(current, target, pop, 400.0, years=3, max_gain_pct=20,
                           max_loss_pct=50, min_per_head=100.0)
    assert np.allclose(path[-1], [172.8, 227.2])


def test_pace_moves_step_by_step_toward_target():
    current = np.array([100.0, 100.0])
    pop = np.array([1.0, 1.0])
    target = np.array([150.0, 50.0])
    path = allocation_path(current, target, pop, 200.0, years=8, max_gain_pct=10,
                           max_loss_pct=10)
    # The loser may lose 10% of its previous year's allocation: 100, 90, 81, 72.9, ...
    # and the budget is conserved, so the gainer gets the rest (below its 10% growth cap).
    assert np.allclose(path[1], [110, 90]) and np.allclose(path[2], [119, 81])
    assert np.allclose(path[3], [127.1, 72.9])
    assert np.allclose(path[-1], target)  # reached in year 7 (loser floor 47.8 < 50)


def test_solve_year_rejects_unknown_objective_and_bad_population():
    with pytest.raises(ValueError, match="objective"):
        solve_year([1.0], [1.0], [0.0], [2.0], 1.0, objective="l2")
    with pytest.raises(ValueError, match="positive populations"):
        solve_year([1.0], [0.0], [0.0], [2.0], 1.0)


def test_equity_metrics_of_a_pro_need_allocation_are_negative():
    pop = np.full(10, 100.0)
    need = pop * np.linspace(2.0, 0.5, 10)  # area 0 most in need
    deprivation = np.linspace(50, 5, 10)
    decile = np.arange(1, 11, dtype=float)
    quintile = np.ceil(decile / 2)
    pro_need = need * 3.0
    metrics = equity_metrics(pro_need, pop, need, deprivation, decile, quintile,
                             target=pro_need)
    assert metrics.concentration_index < 0 and metrics.sii < 0
    assert metrics.fair_share_shortfall == pytest.approx(0, abs=1e-9)
    assert metrics.most_deprived_quintile_below_fair_share == 0
    assert metrics.distance_to_target == 0
    flat = equity_metrics(pop * 3.0, pop, need, deprivation, decile, quintile)
    assert flat.concentration_index == pytest.approx(0, abs=1e-12)
    assert flat.most_deprived_quintile_below_fair_share == 1.0


# ---------------------------------------------------------------------------------------------
# Scenario: JSON and validation
# ---------------------------------------------------------------------------------------------


def _scenario(**changes) -> Scenario:
    base = Scenario(
        name="test", level="icb", current=CurrentSpec("gp_payments_2022_23"),
        need=NeedSpec(components=(NeedComponent("imd2025_score", 1.0),), spread=0.3),
        alpha=0.5, max_gain_pct=3, max_loss_pct=3, years=2,
    )
    return base.replace(**changes) if changes else base


finite = st.floats(0.0, 1e9, allow_nan=False, allow_infinity=False)
optional_pct = st.one_of(st.none(), st.floats(0.0, 100.0))
names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1,
                max_size=20).filter(lambda s: s.strip() != "")
current_specs = st.one_of(
    st.just(CurrentSpec("gp_payments_2022_23")),
    st.builds(lambda i: CurrentSpec("indicator", indicator=i),
              st.sampled_from(["iod2025_gps_per_100k_patients", "x"])),
    st.builds(lambda p, c: CurrentSpec("csv", path=p, column=c),
              st.sampled_from(["spend.csv", "/tmp/a b.csv"]), st.sampled_from(["value", "£"])),
    st.builds(lambda d: CurrentSpec("table", values=tuple(d.items())),
              st.dictionaries(st.sampled_from(["E54000008", "E54000010", "A81001"]),
                              st.floats(0, 1e9), min_size=1)),
)
need_specs = st.one_of(
    st.builds(
        lambda comps, spread, mult, missing: NeedSpec(
            "formula", components=tuple(NeedComponent(i, w) for i, w in comps.items()),
            spread=spread, multiply_by_population=mult, missing=missing),
        st.dictionaries(st.sampled_from(["imd2025_score", "iod2025_cidr", "practice_imd2019"]),
                        st.floats(0.1, 10.0), min_size=1),
        st.floats(0.01, 2.0), st.booleans(), st.sampled_from(["error", "impute_mean"])),
    st.builds(lambda i, mult, spread: NeedSpec("index", index=i, multiply_by_population=mult,
                                               spread=spread),
              st.sampled_from(["iod2025_cidr", "practice_imd2019"]), st.booleans(),
              st.floats(0.01, 2.0)),
)


@st.composite
def scenarios(draw):
    level = draw(st.sampled_from(["ltla", "sicbl", "icb", "practice", "lsoa21"]))
    current = draw(current_specs)
    if level == "lsoa21" and current.source == "gp_payments_2022_23":
        current = CurrentSpec("table", values=(("E01000001", 1.0),))
    if level == "practice" and current.source == "indicator":
        current = CurrentSpec("gp_payments_2022_23")
    floor = draw(optional_pct)
    cap = draw(st.one_of(st.none(), st.floats(100.0, 500.0)))
    return Scenario(
        name=draw(names), title=draw(st.text(max_size=30)),
        description=draw(st.text(max_size=60)), level=level, current=current,
        need=draw(need_specs), area=draw(st.sampled_from([None, "E54000057"])),
        budget=draw(st.one_of(st.none(), st.floats(1.0, 1e12))),
        alpha=draw(st.floats(0.0, 1.0)), max_gain_pct=draw(optional_pct),
        max_loss_pct=draw(optional_pct), floor_pct=floor, cap_pct=cap,
        min_per_head=draw(st.one_of(st.none(), finite)),
        per_head_scale=draw(st.sampled_from([1.0, 1000.0, 100000.0])),
        years=draw(st.integers(1, 50)), objective=draw(st.sampled_from(["quadratic", "l1"])),
        seed=draw(st.integers(0, 2**31)),
    )


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_scenario_round_trips_through_json_unchanged(scenario):
    text = scenario.to_json()
    again = Scenario.from_json(text)
    assert again == scenario
    assert again.to_json() == text
    assert json.loads(text)["schema_version"] == 2


def test_shipped_scenarios_are_canonical_and_valid():
    files = sorted(SCENARIOS.glob("*.json"))
    assert GP_SCENARIO in files and len(files) >= 3
    for file in files:
        scenario = load_scenario(file)
        raw = json.loads(file.read_text(encoding="utf-8"))
        assert scenario.to_dict() == raw, file.name
        assert scenario.name == file.stem
        assert scenario.title and scenario.description


def test_scenario_shorthand_current_and_components_mapping():
    raw = {"schema_version": 1, "name": "s", "level": "icb", "current": "x_spend.csv",
           "need": {"components": {"imd2025_score": 2, "iod2025_cidr": 1}}}
    scenario = Scenario.from_dict(raw)
    assert scenario.current == CurrentSpec("csv", path="x_spend.csv")
    assert scenario.need.components[0] == NeedComponent("imd2025_score", 2.0)
    assert Scenario.from_dict({**raw, "current": "iod2025_gps_per_100k_patients"}).current \
        == CurrentSpec("indicator", indicator="iod2025_gps_per_100k_patients")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"budget": -5.0}, "budget is -5: it must be positive"),
        ({"level": "icbs"}, "Unknown level 'icbs'.*Did you mean: icb"),
        ({"geography": "wales"}, "Unknown geography 'wales'"),
        ({"alpha": 1.5}, "alpha is 1.5"),
        ({"floor_pct": 120.0, "cap_pct": 110.0}, r"floor_pct \(120%\) is above cap_pct"),
        ({"max_loss_pct": 150.0}, "cannot lose more than 100%"),
        ({"years": 0}, "years is 0"),
        ({"years": 2.5}, "whole number"),
        ({"objective": "l2"}, "objective is 'l2'"),
        ({"alpha": True}, "must be a number"),
        ({"per_head_scale": 0.0}, "per_head_scale"),
        ({"level": "lsoa21"}, "GP payments are available by practice"),
    ],
)
def test_bad_scenarios_are_refused_clearly(changes, message):
    with pytest.raises(ValueError, match=message):
        _scenario(**changes)


def test_bad_need_specs_are_refused_clearly():
    with pytest.raises(ValueError, match="weights sum to zero"):
        NeedSpec(components=(NeedComponent("imd2025_score", 0.0),
                             NeedComponent("iod2025_cidr", 0.0)))
    with pytest.raises(ValueError, match="must not be negative"):
        NeedComponent("imd2025_score", -1.0)
    with pytest.raises(ValueError, match="more than once"):
        NeedSpec(components=(NeedComponent("a"), NeedComponent("a")))
    with pytest.raises(ValueError, match="no components"):
        NeedSpec()
    with pytest.raises(ValueError, match="id of the index"):
        NeedSpec(kind="index")


def test_bad_json_is_refused_clearly():
    good = _scenario().to_dict()
    with pytest.raises(ValueError, match="unknown key 'alpah'.*Did you mean: alpha"):
        Scenario.from_dict({**good, "alpah": 0.3})
    with pytest.raises(ValueError, match="schema_version is 3"):
        Scenario.from_dict({**good, "schema_version": 3})
    without = dict(good)
    del without["schema_version"]
    with pytest.raises(ValueError, match="no schema_version"):
        Scenario.from_dict(without)
    with pytest.raises(ValueError, match="not valid JSON"):
        Scenario.from_json("{")
    with pytest.raises(ValueError, match="current source is 'gp'"):
        Scenario.from_dict({**good, "current": {"source": "gp"}})


# ---------------------------------------------------------------------------------------------
# Real data
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gp_result() -> AllocationResult:
    return run_scenario_file(GP_SCENARIO)


@pytest.fixture(scope="module")
def icb_result() -> AllocationResult:
    return run_scenario_file(SCENARIOS / "icb-gp-funding-health-need.json")


def test_default_gp_scenario_reports_its_equity_impact(gp_result):
    summary = gp_result.summary()
    json.dumps(summary, allow_nan=False)
    for key in ("budget", "total_allocated", "areas", "winners", "losers",
                "concentration_index_before", "concentration_index_after", "sii_before",
                "sii_after", "fair_share_shortfall_before", "fair_share_shortfall_after",
                "most_deprived_quintile_below_fair_share_before",
                "most_deprived_quintile_below_fair_share_after"):
        value = summary[key]
        assert isinstance(value, int | float) and math.isfinite(value), key
    assert abs(summary["total_allocated"] - summary["budget"]) < 1.0
    assert summary["budget"] == pytest.approx(summary["current_total"])
    assert summary["areas"] > 6000 and summary["winners"] > 0 and summary["losers"] > 0
    # Allocation becomes more pro-deprived / pro-need.
    assert summary["concentration_index_after"] < summary["concentration_index_before"]
    assert summary["concentration_index_deprivation_after"] < \
        summary["concentration_index_deprivation_before"]
    assert summary["sii_after"] < summary["sii_before"]
    assert summary["fair_share_shortfall_after"] < summary["fair_share_shortfall_before"]
    assert summary["per_head_most_deprived_quintile_after"] > \
        summary["per_head_most_deprived_quintile_before"]
    assert 0 < summary["share_of_gap_closed"] < 1
    # 2022-23 published gap (docs/methods.md): £155.05 vs £170.77 per weighted patient.
    assert summary["per_head_most_deprived_quintile_before"] == pytest.approx(155.05, abs=0.01)
    assert summary["per_head_least_deprived_quintile_before"] == pytest.approx(170.77, abs=0.01)


def test_default_gp_scenario_respects_pace_every_year(gp_result):
    traj = gp_result.trajectory.pivot(index="area_code", columns="year", values="allocation")
    zero = set(gp_result.zero_population)
    alive = ~traj.index.isin(list(zero))
    t = traj[alive]
    for year in range(1, 6):
        prev, now = t[year - 1], t[year]
        assert (now <= prev * 1.03 + 1e-6).all() and (now >= prev * 0.97 - 1e-6).all()
    totals = gp_result.yearly["total"]
    assert np.allclose(totals, gp_result.budget, atol=1.0)
    assert list(gp_result.yearly["year"]) == list(range(6))


def test_zero_population_practices_get_nothing_and_are_reported(gp_result):
    areas = gp_result.areas.set_index("area_code")
    zero = list(gp_result.zero_population)
    assert len(zero) > 0
    assert (areas.loc[zero, "allocation"] == 0).all()
    assert (areas.loc[zero, "status"] == "zero population").all()
    assert any("released" in note and "not as losers" in note for note in gp_result.notes)
    summary = gp_result.summary()
    assert summary["areas_zero_population"] == len(zero)
    assert summary["winners"] + summary["losers"] + summary["unchanged"] == \
        summary["areas"] - len(zero)


def test_winners_and_losers_lists(gp_result):
    areas = gp_result.areas.set_index("area_code")
    winners, losers = gp_result.winners, gp_result.losers
    assert len(winners) == gp_result.summary()["winners"]
    assert (areas.loc[winners, "change"] > 0).all() and (areas.loc[losers, "change"] < 0).all()
    assert areas.loc[winners[0], "change"] == areas.loc[winners, "change"].max()


def test_icb_scenario_and_compare(icb_result, gp_result):
    summary = icb_result.summary()
    assert summary["areas"] == 42
    assert abs(summary["total_allocated"] - summary["budget"]) < 1.0
    areas = icb_result.areas
    assert (areas["allocation"] >= 0.97 * areas["current"] - 1e-6).all()  # floor 97%
    assert summary["concentration_index_after"] < summary["concentration_index_before"]
    table = compare([gp_result, icb_result])
    assert list(table.columns) == ["gp-funding-toward-need", "icb-gp-funding-health-need"]
    assert table.loc["areas", "icb-gp-funding-health-need"] == 42
    twice = compare([icb_result, icb_result])
    assert list(twice.columns) == ["icb-gp-funding-health-need", "icb-gp-funding-health-need #2"]
    with pytest.raises(ValueError, match="2 to 4"):
        compare([icb_result])


def test_csv_scenario_file_runs_and_exports(tmp_path):
    out = tmp_path / "result.csv"
    result = run_scenario_file(FIXTURES / "allocation_icb_csv_scenario.json", out)
    assert result.summary()["budget"] == pytest.approx(
        pd.read_csv(FIXTURES / "allocation_icb_current.csv", comment="#")["value"].sum())
    sidecar = json.loads((tmp_path / "result.csv-metadata.json").read_text(encoding="utf-8"))
    assert sidecar["dc:license"]["@id"].endswith("open-government-licence/version/3/")
    assert any(n["rdf:value"].startswith("test-icb-csv") for n in sidecar["notes"])
    back = pd.read_csv(out)
    assert len(back) == 42 and {"area_code", "current", "target", "allocation",
                                "change_pct", "status"} <= set(back.columns)
    assert back["allocation"].sum() == pytest.approx(result.budget)


def test_missing_areas_in_the_current_table_are_named(tmp_path):
    scenario = load_scenario(FIXTURES / "allocation_icb_csv_scenario.json")
    scenario = scenario.replace(current=CurrentSpec(
        "csv", path=str(FIXTURES / "allocation_icb_current_missing.csv")))
    with pytest.raises(ValueError, match=r"missing for 12 area\(s\): E54000008.* and 2 more"):
        allocate(scenario)


def test_unknown_codes_and_negative_values_in_a_current_table():
    scenario = _scenario(current=CurrentSpec("table", values=(("E54000999", 1.0),)))
    with pytest.raises(ValueError, match="not icb areas of the scenario.*E54000999"):
        allocate(scenario)
    table = pd.read_csv(FIXTURES / "allocation_icb_current.csv", comment="#")
    table.loc[3, "value"] = -1.0
    with pytest.raises(ValueError, match="negative for 1 area"):
        allocate(_scenario(), current=table)


def test_unknown_indicators_list_close_matches():
    bad = _scenario(need=NeedSpec(components=(NeedComponent("imd2025_scor"),)))
    with pytest.raises(ValueError, match="Unknown indicator 'imd2025_scor'.*imd2025_score"):
        allocate(bad)
    bad_current = _scenario(current=CurrentSpec("indicator", indicator="iod2025_gps_per_100k"))
    with pytest.raises(ValueError, match="Unknown indicator 'iod2025_gps_per_100k'"):
        allocate(bad_current)
    practice = _scenario(level="practice",
                         need=NeedSpec(components=(NeedComponent("practice_imd2091"),)))
    with pytest.raises(ValueError, match="practice_imd2019"):
        allocate(practice)


def test_min_per_head_above_budget_on_real_data_is_explained():
    scenario = _scenario(min_per_head=1000.0)  # £1,000 per resident is far above £10bn
    with pytest.raises(ScenarioInfeasible) as info:
        allocate(scenario)
    kinds = {c.constraints for c in info.value.conflicts}
    assert ("min_per_head", "budget") in kinds
    assert "minimum per head" in str(info.value)


def test_need_index_and_study_area_at_ltla_level():
    scenario = Scenario(
        name="gm", level="ltla", area="E54000057", current=CurrentSpec("gp_payments_2022_23"),
        need=NeedSpec(kind="index", index="iod2025_cidr"), alpha=0.0, years=1)
    result = allocate(scenario)
    areas = result.areas
    assert 8 <= len(areas) <= 12  # Greater Manchester's ten boroughs
    assert np.allclose(areas["allocation"], areas["target"], rtol=1e-9)  # no pace limit
    share = areas["target"] / areas["target"].sum()
    need = areas["population"] * areas["need_index"]
    assert np.allclose(share, need / need.sum())


def test_minimum_per_head_holds_and_is_reported_as_binding():
    result = allocate(_scenario(min_per_head=170.0, max_gain_pct=None, max_loss_pct=None,
                                years=1))
    areas = result.areas
    assert (areas["allocation_per_head"] >= 170.0 - 1e-9).all()
    assert (areas["binding"] == "min_per_head").any()
    assert abs(areas["allocation"].sum() - result.budget) < 1.0


def test_lsoa_scenario_uses_per_head_scale():
    result = run_scenario_file(SCENARIOS / "lsoa-gp-capacity-health-need.json")
    summary = result.summary()
    assert summary["areas"] == 33_755 and summary["areas_zero_population"] == 0
    # FTE GPs per 100,000 residents: England's average is about 52.
    assert 40 < result.areas["allocation_per_head"].median() < 65
    assert 40 < summary["per_head_most_deprived_quintile_after"] < 65
    assert summary["concentration_index_after"] < summary["concentration_index_before"]
    assert abs(summary["total_allocated"] - summary["budget"]) < 1e-6 * summary["budget"]
    traj = result.trajectory
    assert len(traj) == 6 * 33_755 and set(traj["year"]) == set(range(6))
