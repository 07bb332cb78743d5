"""Scotland's GP access (SIMD 2020v2 travel times) in the equity panel and the briefing.

Checked: the shipped travel-time package equals a population-weighted mean worked by hand
with pandas from the embedded files; the inverse care test reads a measure where higher is
worse the right way round (shorter journeys where need is higher = pro-need, and a made-up
reversal flips it to inverse care); Clackmannanshire's briefing quotes the figure, the
fifths comparison and the verdict in words; the SIMD file reader turns '*' and '13%' into
numbers and names file, row and column for anything else.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from analysis.briefing import build_briefing
from analysis.briefing.sections import BRIEFING_PROVISION, provision_headline_phrase
from analysis.build.raw import BuildLog, RawDataError
from analysis.build.scotland_simd import simd_indicator_builds, simd_number
from analysis.data import data_dir, default_registry
from analysis.explore import HEADLINE_PROVISION, area_value, equity_panel

PT = "simd2020_gp_public_transport_minutes"
CLACKS = "S12000005"


@pytest.fixture(scope="module")
def registry():
    return default_registry()


@pytest.fixture(scope="module")
def clacks_briefing():
    return build_briefing(CLACKS)


def _hand_mean(indicator: str, council: str | None) -> float:
    geo = pd.read_parquet(data_dir() / "geography" / "scotland_dz11.parquet",
                          columns=["dz11_code", "council_code", "population"])
    values = pd.read_parquet(data_dir() / "indicators" / indicator / "data.parquet")
    frame = geo.merge(values, left_on="dz11_code", right_on="area_code")
    if council is not None:
        frame = frame[frame["council_code"] == council]
    return float(np.average(frame["value"], weights=frame["population"]))


def test_headline_provision_for_scotland_is_public_transport_time(registry):
    assert HEADLINE_PROVISION["scotland"] == PT == BRIEFING_PROVISION["scotland"]
    meta = registry.meta(PT)
    assert (meta.kind, meta.polarity, meta.unit) == ("provision", "higher_is_worse", "minutes")
    assert meta.aggregation == "population_weighted_mean"
    assert "not" in meta.notes and "capacity" in meta.notes  # nearest surgery, not capacity
    assert len(registry.get(PT).data) == 6976


@pytest.mark.parametrize(("code", "expected"), [(CLACKS, 9.6180), ("S12000010", 10.7483),
                                                (None, 10.4945)])
def test_area_value_is_the_hand_worked_population_weighted_mean(registry, code, expected):
    value = area_value("scotland", code, PT, registry)
    assert value == pytest.approx(_hand_mean(PT, code), rel=1e-9)
    assert value == pytest.approx(expected, abs=1e-3)


def test_need_packages_keep_suppressed_zones_out(registry):
    assert len(registry.get("simd2020_cif").data) == 6973  # three '*' in the file
    assert len(registry.get("simd2020_depression_pct").data) == 6975
    assert registry.meta("simd2020_emergency_stays_sr").unit == (
        "standardised ratio (Scotland = 100)")
    assert area_value("scotland", None, "simd2020_cif", registry) == pytest.approx(100.686,
                                                                                   abs=1e-3)


def test_clackmannanshire_travel_time_follows_need(registry):
    panel = equity_panel("scotland", CLACKS, "simd2020_rank", PT, registry)
    assert panel.higher_is_worse
    assert panel.test.n == 72
    # fitted on the published minutes: the slope is negative (shorter where need is higher)
    assert panel.test.slope_per_sd == pytest.approx(-1.2665, abs=1e-3)
    assert panel.test.p_value == pytest.approx(0.026, abs=0.001)
    assert panel.test.direction == "pro_need"
    assert panel.test.verdict.startswith(
        "Public-transport time to a GP surgery is shorter where need is higher")
    first = panel.gradient.iloc[0]
    assert (int(first["decile"]), round(first["provision_per_head"], 2)) == (1, 11.54)
    assert "journeys to a GP" in provision_headline_phrase(panel)
    assert "shorter" in provision_headline_phrase(panel)


def test_reversed_measure_reads_as_inverse_care(registry):
    """The same minutes with the sign of need flipped must give the opposite verdict."""
    panel = equity_panel("scotland", CLACKS, "simd2020_rank", PT, registry)
    flipped = replace(registry.meta("simd2020_rank"), polarity="higher_is_worse")

    class Flipped:
        def meta(self, ident):
            return flipped if ident == "simd2020_rank" else registry.meta(ident)

        def __getattr__(self, name):
            return getattr(registry, name)

    reversed_panel = equity_panel("scotland", CLACKS, "simd2020_rank", PT, Flipped())
    assert reversed_panel.test.slope == pytest.approx(-panel.test.slope)
    assert reversed_panel.test.direction == "inverse_care"
    assert "longer where need is higher" in reversed_panel.test.verdict


def test_glasgow_has_no_clear_relationship(registry):
    panel = equity_panel("scotland", "S12000049", "simd2020_rank", PT, registry)
    assert panel.test.n == 743
    assert panel.test.direction == "no_clear_relationship"
    assert panel.test.verdict.startswith(
        "No clear relationship between public-transport time to a GP surgery and need")


def test_briefing_gives_gp_access_figure_fifths_and_verdict(clacks_briefing):
    b = clacks_briefing
    keys = {k.label: (k.value, k.detail) for k in b.key_numbers}
    assert keys["Public-transport time to a GP surgery"][0] == "9.6 minutes"
    assert "(10.5)" in keys["Public-transport time to a GP surgery"][1]
    value, detail = keys["Does provision follow need? (inverse care law test)"]
    assert value == "Follows need"
    assert "1.3 minutes shorter for each standard deviation more need" in detail
    meaning = " ".join(b.meaning)
    assert "more deprived neighbourhoods have shorter journeys to a GP" in meaning
    assert ("average of 8.9 minutes against 11.6 in the least deprived fifth (deciles 9–10): "
            "2.7 minutes shorter in the most deprived fifth") in meaning
    assert "not how many GPs or appointments" in meaning  # the caveat
    assert "more GP capacity" not in meaning
    assert b.facts["verdict_direction"] == "pro_need"
    assert b.facts["provision_local"] == pytest.approx(9.618, abs=1e-3)
    assert not any("service provision" in m for m in b.missing)


def test_fifths_sentence_is_the_hand_worked_means(clacks_briefing):
    geo = pd.read_parquet(data_dir() / "geography" / "scotland_dz11.parquet",
                          columns=["dz11_code", "council_code", "population"])
    geo = geo[geo["council_code"] == CLACKS]
    pt = pd.read_parquet(data_dir() / "indicators" / PT / "data.parquet")
    dec = pd.read_parquet(data_dir() / "indicators" / "simd2020_decile" / "data.parquet")
    frame = (geo.merge(pt, left_on="dz11_code", right_on="area_code")
             .merge(dec.rename(columns={"value": "decile"})[["area_code", "decile"]],
                    on="area_code"))
    most = frame[frame["decile"] <= 2]
    least = frame[frame["decile"] >= 9]
    assert np.average(most["value"], weights=most["population"]) == pytest.approx(8.9, abs=0.05)
    assert np.average(least["value"], weights=least["population"]) == pytest.approx(11.6,
                                                                                    abs=0.05)


def test_briefing_health_gap_uses_the_comparative_illness_factor(clacks_briefing):
    keys = {k.label: k.value for k in clacks_briefing.key_numbers}
    assert keys["Health gap: comparative illness factor, most against least deprived end"] == (
        "165.3 points higher")
    assert clacks_briefing.facts["outcome_decile_first"] == pytest.approx(197.8, abs=0.05)


# -- the build reader, on a fixture written here -------------------------------------------


def _pack(tmp_path, rows: list[str]):
    folder = tmp_path / "scotland"
    folder.mkdir()
    header = "Data_Zone,CIF,SMR,DEPRESS,EMERG,drive_GP,PT_GP"
    (folder / "simd2020v2_indicators_dz11.csv").write_text(
        "\ufeff" + "\n".join([header, *rows]) + "\n", encoding="utf-8")
    return tmp_path


def test_build_reads_suppressed_cells_and_percentages(tmp_path):
    raw = _pack(tmp_path, ["S01000001,65,70,13%,74,3.1,8.9",
                           "S01000002,*,*,*,*,4.3,10"])
    log = BuildLog()
    zones = pd.DataFrame({"dz11_code": ["S01000001", "S01000002", "S01000003"]})
    builds = {b.meta["id"]: b for b in simd_indicator_builds(raw, zones, log)}
    depression = builds["simd2020_depression_pct"].make()
    assert depression["value"].tolist()[0] == 13.0 and np.isnan(depression["value"].iloc[1])
    assert builds[PT].make()["value"].tolist() == [8.9, 10.0]
    assert builds[PT].meta["polarity"] == "higher_is_worse"
    assert log.coverage["simd2020v2_indicators_vs_pack"]["unmatched"] == ["S01000003"]
    assert log.coverage["simd2020v2_CIF_suppressed"] == {"count": 1, "codes": ["S01000002"]}


def test_build_names_file_row_and_column_of_a_bad_cell(tmp_path):
    raw = _pack(tmp_path, ["S01000001,65,70,13%,74,3.1,8.9",
                           "S01000002,65,70,13%,74,n/a,8.9"])
    zones = pd.DataFrame({"dz11_code": ["S01000001", "S01000002"]})
    with pytest.raises(RawDataError, match=r"simd2020v2_indicators_dz11.csv: row 2, column "
                                           r"drive_GP: 'n/a'"):
        simd_indicator_builds(raw, zones, BuildLog())


def test_simd_number_rejects_text():
    with pytest.raises(RawDataError, match="column CIF"):
        simd_number(pd.Series(["1", "x"]), "CIF")
