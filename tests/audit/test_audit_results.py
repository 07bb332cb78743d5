"""The audit's findings on simulated records with a known gradient: the standardised ratios
recover it, every record is accounted for, small counts are hidden in every output, and the
words say the direction with the figures."""

from __future__ import annotations

import json

import numpy as np
import pytest

from analysis.audit.outputs import audit_tables, write_audit
from analysis.audit.reading import SIMULATED_CAVEAT, sentences, suppressed_table, to_json
from analysis.audit.results import FLAG_LOWER
from analysis.audit.run import audit_activity, period_years, simulated_example
from analysis.audit.simulate import SimulationSpec, expected_rate_ratio

GM = "E54000057"
CLACKS = "S12000005"


@pytest.fixture(scope="module")
def gm_result():
    records = simulated_example(300_000, GM, seed=11)
    return audit_activity(records, area_code=GM, service="the simulated clinic")


def test_every_record_is_used_or_left_out_for_one_reason(gm_result):
    r = gm_result
    assert r.rows == 300_000
    assert r.events + sum(r.excluded.values()) == r.rows
    assert int(r.by_quintile["events"].sum()) == r.events
    assert int(r.areas["observed"].sum()) == r.events
    # 1% faulty rows, four kinds of which exclude (the others are "not known" values)
    assert 0.0060 < sum(r.excluded.values()) / r.rows < 0.0075


def test_the_known_gradient_is_recovered(gm_result):
    from analysis.data.geography import select_study_area

    spec = SimulationSpec(n_records=300_000, area_codes=tuple(
        select_study_area("england", GM, geometry=False).index), seed=11)
    truth = expected_rate_ratio(spec)
    q = gm_result.by_quintile.set_index("quintile")
    observed = q.loc[1, "dsr"] / q.loc[5, "dsr"]
    assert observed == pytest.approx(truth["quintile"]["ratio"][1], rel=0.04)
    for quintile in range(1, 6):
        assert q.loc[quintile, "ratio"] == pytest.approx(
            100 * truth["quintile"]["observed_expected"][quintile], rel=0.03)
    groups = gm_result.by_ethnicity.set_index("ethnic_group")
    for group in ("Asian", "Black", "White"):
        assert groups.loc[group, "ratio"] == pytest.approx(
            100 * truth["ethnic_group"]["observed_expected"][group], rel=0.05)
    # under-use where need is greatest, clear of chance
    assert q.loc[1, "ratio_upper"] < 100 < q.loc[5, "ratio_lower"]
    assert gm_result.sii is not None and gm_result.sii.sii > 0


def test_rates_are_per_year_of_the_records_period(gm_result):
    assert gm_result.years == pytest.approx(period_years("2024-04-01", "2025-03-31"), abs=0.01)
    total_population = gm_result.by_quintile["population"].sum()
    crude = gm_result.events / gm_result.years / total_population * 100_000
    assert gm_result.by_age["events"].sum() == gm_result.events
    assert 0.5 * crude < np.average(gm_result.by_quintile["dsr"]) < 2 * crude


def test_the_verdict_states_direction_figure_and_interval(gm_result):
    words = sentences(gm_result)
    assert words[0].startswith("Use of the simulated clinic by people living in the most "
                               "deprived fifth")
    assert "% lower than expected for their age (95% CI " in words[0]
    assert words[0].endswith("lower).")
    assert SIMULATED_CAVEAT in words
    assert any("were left out, most often because" in w for w in words)
    assert any("Ethnicity was not stated" in w for w in words)
    assert not any("nan" in w.lower() or "None" in w for w in words)


def test_ethnic_groups_and_small_areas(gm_result):
    groups = gm_result.by_ethnicity.set_index("ethnic_group")
    assert set(groups.index) == {"Asian", "Black", "Mixed", "White", "Other"}
    # the simulator gives Black residents the lowest relative use
    assert groups["ratio"].idxmin() == "Black"
    areas = gm_result.areas
    assert len(areas) == 1_702
    assert (areas["flag"] == FLAG_LOWER).sum() > 0
    assert areas["expected"].sum() == pytest.approx(gm_result.events, rel=1e-9)


def test_json_has_the_promised_keys_and_hides_small_counts(gm_result):
    data = to_json(gm_result)
    for key in ("rows", "events", "excluded", "by_deprivation_quintile", "by_age", "by_sex",
                "by_ethnicity", "by_site", "sii", "verdict", "simulated"):
        assert key in data
    row = data["by_deprivation_quintile"][0]
    assert set(row) >= {"quintile", "events", "population", "dsr", "lower", "upper"}
    json.dumps(data)  # plain data only
    # a table with small counts: 1 to 4 hidden, with the rates that would reveal them
    small = gm_result.by_age.assign(events=[3] + [100] * (len(gm_result.by_age) - 1))
    hidden = suppressed_table(small, ("events",), ("rate", "lower", "upper"))
    assert np.isnan(hidden.loc[0, "events"]) and np.isnan(hidden.loc[0, "rate"])
    assert hidden.loc[1, "events"] == 100 and bool(hidden.loc[0, "suppressed"])


def test_exports_are_csv_with_csvw_and_a_json_summary(gm_result, tmp_path):
    written = write_audit(gm_result, tmp_path / "out")
    names = {p.name for p in written}
    assert "audit.json" in names
    assert {t.name for t in audit_tables(gm_result)} <= {n[:-4] for n in names
                                                         if n.endswith(".csv")}
    header = (tmp_path / "out" / "by_deprivation_quintile.csv").read_text().splitlines()[0]
    assert header.startswith("quintile,events,population,dsr")
    sidecar = json.loads((tmp_path / "out" /
                          "by_deprivation_quintile.csv-metadata.json").read_text())
    assert "Simulated" in json.dumps(sidecar)


def test_scotland_uses_census_age_and_sex_bands():
    records = simulated_example(40_000, CLACKS, seed=2)
    result = audit_activity(records, area_code=CLACKS)
    assert result.top_band == "85+"
    assert result.study.name == "Clackmannanshire"
    sexes = result.by_sex.set_index("sex")
    assert np.isfinite(sexes.loc["F", "dsr"]) and np.isfinite(sexes.loc["M", "dsr"])
    assert "Scottish Index of Multiple Deprivation 2020" in result.deprivation_source


def test_the_study_area_is_inferred_from_where_records_are():
    records = simulated_example(20_000, "E08000010", seed=4)  # Wigan
    result = audit_activity(records)
    assert result.study.code == "E08000010" and result.study.inferred
    assert "inferred" in result.study.describe()
