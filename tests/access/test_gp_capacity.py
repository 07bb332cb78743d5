"""The headline GP access indicator, qualified GPs within reach per 100,000 residents (E2SFCA
with each practice's 2023-24 qualified GP headcount as supply): what its metadata says, its
coverage and range, that the shipped values are reproduced from the embedded data, the Greater
Manchester and Wigan values, and that every headline uses it. Reads only ``data/``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from analysis.access import e2sfca, facility_points, representative_points
from analysis.build.workforce import headcount_supply
from analysis.cli import app
from analysis.data import IndicatorRegistry, load_pack, read_parquet
from analysis.explore import HEADLINE_PROVISION, area_value
from analysis.funding.workforce import load_gp_workforce

GPS = "gp_access_gps_per_100k"
LIST_PLACES = "gp_access_list_places_per_1000"


@pytest.fixture(scope="module")
def registry():
    return IndicatorRegistry()


@pytest.fixture(scope="module")
def values(registry):
    return registry.get(GPS).values


def test_metadata_says_exactly_what_is_counted(registry):
    meta = registry.meta(GPS)
    assert meta.title == "Qualified GPs within reach per 100,000 residents (E2SFCA)"
    assert meta.kind == "provision" and meta.polarity == "higher_is_better"
    assert meta.unit == "GPs per 100,000 residents" and meta.period == "2023-24"
    text = f"{meta.description} {meta.notes}"
    for words in ("fully qualified permanent GPs", "excluding GPs in training and locums",
                  "not full-time equivalent", "straight-line", "15 km", "Luo & Qi 2009",
                  "45 whose 2023-24 headcount is missing take their 2022-23 headcount",
                  "51 practices of the 2023-24 workforce file are not on the July 2023 list",
                  "2 have no coordinates (N81119, N83018)"):
        assert words in text, words
    assert "NHS Digital" in meta.publisher and "General Practice Workforce" in meta.source
    assert len(meta.extra["short_title"]) <= 40  # the Overview's metric label


def test_list_places_are_labelled_as_registration_not_capacity(registry):
    meta = registry.meta(LIST_PLACES)
    assert meta.title == ("Registered-list places within reach (E2SFCA; registration, not "
                          "capacity)")
    assert "measures registration, not capacity" in meta.description
    assert meta.unit == "list places per 1,000 residents"


def test_every_lsoa_has_a_plausible_value(values):
    pack = load_pack("england")
    assert len(values) == len(pack) == 33_755
    assert set(values.index) == set(pack.index)
    assert np.isfinite(values).all() and (values > 0).all()
    low, high = np.percentile(values, [1, 99])
    assert 25 < low < 40 and 90 < high < 110  # GPs per 100,000 residents
    # the highest is the Isles of Scilly: 6 GPs for 2,055 residents, no one else in reach
    assert values.idxmax() == "E01019077"
    # stored as float32 (seven significant figures), read back as float64
    assert values.max() == pytest.approx(6 / 2_055 * 100_000, rel=1e-6)


def test_shipped_values_are_reproduced_and_every_located_gp_shared_once(values):
    pack = load_pack("england")
    practices = read_parquet("services/gp_practices.parquet")
    supply = headcount_supply(load_gp_workforce(), practices["practice_code"])
    assert len(supply.carried_forward) == 45 and len(supply.without_headcount) == 48
    assert supply.supply.sum() == 36_457
    result = e2sfca(representative_points(pack), pack["population"],
                    facility_points(practices, id_column="practice_code"),
                    supply.supply, catchment_km=15.0, per=100_000.0)
    assert result.accessibility.reindex(values.index).to_numpy() == pytest.approx(
        values.to_numpy(), rel=1e-6)
    located = supply.supply.drop(["N81119", "N83018"]).sum()
    shared = (values * pack["population"].reindex(values.index)).sum() / 100_000
    assert shared == pytest.approx(located, rel=1e-6)
    assert result.unreached_supply.empty


def test_england_greater_manchester_and_wigan_values(registry):
    assert area_value("england", None, GPS, registry) == pytest.approx(64.53, abs=0.01)
    assert area_value("england", "E54000057", GPS, registry) == pytest.approx(67.87, abs=0.01)
    assert area_value("england", "E08000010", GPS, registry) == pytest.approx(55.60, abs=0.01)


def test_every_headline_uses_qualified_gps():
    from analysis.briefing.sections import BRIEFING_PROVISION
    from analysis.cli.access import ACCESS_INDICATORS
    from dashboard.state import DEFAULT_PROVISION

    assert HEADLINE_PROVISION == {"england": GPS,
                                  "scotland": "simd2020_gp_public_transport_minutes"}
    assert BRIEFING_PROVISION == DEFAULT_PROVISION == HEADLINE_PROVISION
    assert ACCESS_INDICATORS["gp"][0] == GPS and LIST_PLACES in ACCESS_INDICATORS["gp"]


def test_access_command_prints_the_headline_by_decile_and_its_test():
    result = CliRunner().invoke(app, ["access", "--service", "gp"])
    assert result.exit_code == 0, result.output
    assert ("Qualified GPs within reach per 100,000 residents (E2SFCA): population-weighted "
            "mean 64.5 GPs per 100,000 residents (33,755 of 33,755 LSOAs)") in result.output
    lines = result.output.splitlines()
    start = lines.index("Qualified GPs within reach per 100,000 residents (E2SFCA) by IMD "
                        "2025 decile (1 = most deprived), observed, 95% CI:")
    deciles = pd.Series([float(line.split()[1]) for line in lines[start + 1:start + 11]],
                        index=range(1, 11))
    assert deciles[1] == 67.4 and deciles[10] == 64.0
    assert ("Provision rises with need: a pro-need (proportionate) pattern (p < 0.001)"
            in result.output)
    assert "3.3 GPs per 100,000 residents higher at the most deprived end" in result.output
