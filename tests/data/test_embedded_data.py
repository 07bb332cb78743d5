"""The embedded default dataset: row counts, totals, coverage and provenance."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from analysis.data.datastore import read_json, read_parquet
from analysis.data.geography import load_pack_table
from analysis.data.indicators import IndicatorRegistry
from tests.conftest import DATA, REPO

REQUIRED_PROVENANCE = ("title", "publisher", "licence", "vintage", "geography", "source_url")


def test_england_pack_counts_and_population():
    table = load_pack_table("england")
    assert len(table) == 33_755
    assert table["lsoa21_code"].is_unique
    assert table["population"].sum() == 56_490_091
    assert table["icb_code"].nunique() == 42
    assert table["ltla_code"].nunique() == 296
    assert table["region_code"].nunique() == 9
    assert table["lsoa21_code"].str.match(r"^E01\d{6}$").all()
    assert table["icb_code"].astype(str).str.startswith("E54").all()
    assert not table.drop(columns=[]).isna().any().any()


def test_scotland_pack_counts_and_population():
    table = load_pack_table("scotland")
    assert len(table) == 6_976
    assert table["council_code"].nunique() == 32
    assert table["population"].sum() == 5_479_900
    clack = table[table["council_code"] == "S12000005"]
    assert set(clack["council_name"]) == {"Clackmannanshire"}
    assert len(clack) == 72


def test_geometries_are_valid_wgs84_polygons():
    from analysis.data.geography import load_pack

    for country in ("england", "scotland"):
        pack = load_pack(country)
        assert pack.crs.to_epsg() == 4326
        assert pack.geometry.notna().all()
        assert set(pack.geom_type) <= {"Polygon", "MultiPolygon"}
        minx, miny, maxx, maxy = pack.total_bounds
        assert -9 < minx < maxx < 2 and 49 < miny < maxy < 61


def test_every_indicator_package_loads_and_covers_its_geography():
    registry = IndicatorRegistry()
    assert registry.errors == []
    sizes = {"lsoa21": 33_755, "dz11": 6_976}
    for meta in registry.metas():
        data = registry.get(meta.id).data
        assert data["area_code"].is_unique, meta.id
        assert data["value"].notna().all(), meta.id
        expected = sizes[meta.geography]
        # a published value can be missing (zero denominator); never more than a handful
        assert expected - 5 <= len(data) <= expected, (meta.id, len(data))
        assert meta.licence == "Open Government Licence v3.0"
        assert meta.source_url.startswith("https://")


def test_registry_has_the_default_indicators():
    registry = IndicatorRegistry()
    ids = set(registry.ids())
    expected = {
        "imd2025_score", "imd2025_decile", "iod2025_cidr", "iod2025_acute_morbidity",
        "iod2025_mental_health", "iod2025_ypll", "census2021_disabled_pct",
        "census2021_households_deprived_2plus_pct", "population_aged_65_plus_pct",
        "ruc2021_rural", "simd2020_decile", "simd2020_rank",
    }
    for domain in ("income", "employment", "education", "health", "crime",
                   "housing_services", "environment"):
        expected |= {f"imd2025_{domain}_score", f"imd2025_{domain}_decile"}
    assert expected <= ids
    assert len(ids) >= 15
    assert registry.counts_by_kind()["need"] >= 10


def test_imd_deciles_follow_the_convention_one_is_most_deprived():
    registry = IndicatorRegistry()
    score = registry.get("imd2025_score").data.set_index("area_code")
    # decile 1 holds the highest (most deprived) scores
    by_decile = score.groupby("decile")["value"].mean()
    assert by_decile.is_monotonic_decreasing
    assert score.loc[score["rank"] == 1, "decile"].item() == 1
    assert (score["decile"].value_counts().sort_index() >= 3_375).all()


def test_known_values_from_the_raw_files():
    registry = IndicatorRegistry()
    imd = registry.get("imd2025_score").data.set_index("area_code")
    # first row of imd2025_lsoa21.csv: E01000001, IMD score 8.742, rank 26525, decile 8
    assert imd.loc["E01000001", "value"] == pytest.approx(8.742)
    assert imd.loc["E01000001", "rank"] == 26525
    assert imd.loc["E01000001", "decile"] == 8
    disabled = registry.get("census2021_disabled_pct").data.set_index("area_code")
    # census2021_disability_lsoa21.csv: E01000001 has 152 disabled of 1475 residents
    assert disabled.loc["E01000001", "value"] == pytest.approx(100 * 152 / 1475)
    simd = registry.get("simd2020_decile").data.set_index("area_code")
    assert simd.loc["S01006506", "value"] == 7


def test_percent_aged_65_plus_national_figure_is_plausible():
    data = IndicatorRegistry().get("population_aged_65_plus_pct").data
    share = data["numerator"].sum() / data["denominator"].sum()
    # ONS mid-2020 estimate for England: 18.5% aged 65+
    assert share == pytest.approx(0.185, abs=0.003)
    # the conversion to 2021 LSOAs keeps the mid-2020 total exactly
    assert data["denominator"].sum() == pytest.approx(56_550_138, rel=1e-9)


def test_services():
    practices = read_parquet("services/gp_practices.parquet")
    assert len(practices) == 6_378
    assert practices["practice_code"].is_unique
    assert practices["registered_patients"].sum() == 62_581_556
    # join coverage: reported in the manifest, and practices are kept, not dropped
    assert practices["latitude"].isna().sum() == 2
    assert practices["total_payments_2022_23"].notna().sum() == 6_378 - 24
    assert practices["icb_code"].notna().all()
    units = read_parquet("services/stroke_units.parquet")
    assert len(units) == 141
    assert units["use_ivt"].sum() == 113 and units["use_mt"].sum() == 25


def test_manifest_has_provenance_and_coverage():
    manifest = read_json("manifest.json")
    for source_id, source in manifest["sources"].items():
        for key in REQUIRED_PROVENANCE:
            assert source[key], (source_id, key)
        assert source["licence"] == "Open Government Licence v3.0"
    coverage = manifest["coverage"]
    assert coverage["gp_practices_vs_payments_2022_23"]["unmatched_count"] == 24
    assert coverage["gp_practices_with_coordinates"]["unmatched"] == ["N81119", "N83018"]
    assert coverage["mid2020_ages_to_lsoa21"]["split"] == 834
    assert coverage["indicator_scotland_aged_65_plus_pct_without_value"]["count"] == 4


def test_embedded_data_is_compact():
    total = sum(p.stat().st_size for p in DATA.rglob("*") if p.is_file())
    assert total < 40 * 1024 * 1024


def test_runtime_code_never_reads_the_raw_pack():
    pattern = re.compile(r"shared/data|\.\./shared")
    for folder in ("analysis", "dashboard"):
        for path in (REPO / folder).rglob("*.py"):
            relative = path.relative_to(REPO).as_posix()
            if relative.startswith("analysis/build/") or relative == "analysis/cli/data.py":
                continue  # the build step and its CLI default are the only raw-pack readers
            assert not pattern.search(path.read_text(encoding="utf-8")), path


def test_pack_tables_have_no_missing_values():
    for country in ("england", "scotland"):
        table = pd.DataFrame(load_pack_table(country))
        assert not table.isna().any().any(), country


def test_provision_indicators_from_services():
    registry = IndicatorRegistry()
    provision = {m.id for m in registry.metas(kind="provision")}
    assert {"gp_access_list_places_per_1000", "gp_access_funding_per_resident", "gp_nearest_km",
            "stroke_minutes_thrombolysis", "stroke_minutes_thrombectomy",
            "iod2025_gps_per_100k_patients"} <= provision
    places = registry.get("gp_access_list_places_per_1000").data
    table = load_pack_table("england")
    weighted = (places.set_index("area_code")["value"] * table["population"]).sum()
    # E2SFCA shares every reached list place exactly once: Σ A_i·D_i / 1000 = Σ lists of
    # practices with coordinates (62,581,556 minus the two practices without coordinates)
    practices = read_parquet("services/gp_practices.parquet")
    located = practices.loc[practices["latitude"].notna(), "registered_patients"].sum()
    assert weighted / 1000 == pytest.approx(located, rel=1e-6)
    minutes = registry.get("stroke_minutes_thrombectomy").data
    assert len(minutes) == 33_754  # only the Isles of Scilly (E01019077) has no modelled time
    assert "E01019077" not in set(minutes["area_code"])
    assert (registry.get("stroke_minutes_thrombolysis").data["value"]
            <= minutes.set_index("area_code")["value"].reindex(
                registry.get("stroke_minutes_thrombolysis").data["area_code"]).to_numpy()
            + 1e-9).all()


def test_lsoa11_names_resolve_through_aliases():
    from analysis.data.lsoa_conversion import lsoa11_name_to_code

    names = pd.Series(["Shepway 015A", "Shepway 014E", "Hartlepool 009A"])
    assert lsoa11_name_to_code(names).tolist() == ["E01024508", "E01024508", "E01011949"]
