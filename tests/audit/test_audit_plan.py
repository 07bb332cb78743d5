"""Counting units: the engine counts by block × deprivation decile, and every study area the
audit can take is either a union of whole units or counted with one unit per small area; the
findings are the same whichever way the records were counted."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.audit.engine import (
    clean_activity,
    connect,
    count_activity,
    open_activity,
    reference_tables,
)
from analysis.audit.plan import counting_plan
from analysis.audit.results import run_audit
from analysis.audit.run import simulated_example
from analysis.data.geography import load_pack_table, spec_for

# Cumberland (an LTLA) lies partly in North East and North Cumbria ICB (E54000050) and
# partly in Lancashire and South Cumbria ICB (E54000048)
SPLIT_LTLA, ITS_ICB = "E06000063", "E54000050"


def test_every_area_of_the_levels_a_study_area_is_inferred_at_is_made_of_whole_units():
    plan = counting_plan()
    areas = reference_tables().areas
    for country, levels in (("england", ("ltla", "sicbl", "icb", "region")),
                            ("scotland", ("council",))):
        table = load_pack_table(country)
        spec = spec_for(country)
        for level in levels:
            column = spec.level(level).code_column
            for _, members in table.groupby(column).groups.items():
                ids = areas.get_indexer(pd.Index(members).astype(str))
                plan.units_inside(ids)  # raises if a unit straddles the boundary


def test_units_are_one_decile_each_and_cover_every_area_with_a_population():
    plan = counting_plan()
    units = plan.unit_of_area
    assert (units >= 0).sum() == 33_755 + 6_976
    assert 2_000 < plan.units < 4_000  # a few thousand, against 40,731 small areas
    from analysis.audit.study import deprivation

    decile = deprivation("england")["decile"].astype(float)
    england = reference_tables().areas[: reference_tables().england_areas]
    per_area = plan.unit_decile[units[: len(england)]]
    np.testing.assert_array_equal(per_area, decile.reindex(england.astype(str)).to_numpy())


def test_a_ward_is_counted_area_by_area_and_everything_else_is_outside():
    table = load_pack_table("england")
    ward = str(table["ward_code"].iloc[0])
    plan = counting_plan(ward)
    members = (table["ward_code"] == ward).sum()
    assert plan.per_area and plan.units == members
    assert (plan.unit_of_area >= 0).sum() == members


def test_a_plan_for_the_whole_country_cannot_describe_a_ward():
    table = load_pack_table("england")
    ward = table["ward_code"].iloc[0]
    ids = reference_tables().areas.get_indexer(
        table.index[table["ward_code"] == ward].astype(str))
    with pytest.raises(ValueError, match="count them again"):
        counting_plan().units_inside(ids)


@pytest.fixture(scope="module")
def cumbria_counts():
    records = simulated_example(6_000, ITS_ICB, seed=5)
    engine = connect("duckdb")
    try:
        cleaned = clean_activity(engine, open_activity(engine, records))
        return {key: count_activity(engine, cleaned, plan=counting_plan(key))
                for key in (None, ITS_ICB, SPLIT_LTLA)}
    finally:
        engine.close()


@pytest.mark.parametrize("study", [ITS_ICB, SPLIT_LTLA])
def test_findings_do_not_depend_on_how_the_records_were_counted(cumbria_counts, study):
    everywhere = run_audit(cumbria_counts[None], area_code=study)
    just_here = run_audit(cumbria_counts[study], area_code=study)
    assert everywhere.events == just_here.events > 0
    assert everywhere.excluded == just_here.excluded
    for name in ("by_quintile", "by_decile", "by_age", "by_sex", "by_ethnicity",
                 "by_quintile_ethnicity", "areas"):
        pd.testing.assert_frame_equal(getattr(everywhere, name), getattr(just_here, name))
    for role, table in everywhere.splits.items():
        pd.testing.assert_frame_equal(table, just_here.splits[role])


def test_counts_for_one_study_area_are_refused_for_another(cumbria_counts):
    with pytest.raises(ValueError, match=f"counted for {SPLIT_LTLA}"):
        run_audit(cumbria_counts[SPLIT_LTLA], area_code=ITS_ICB)
