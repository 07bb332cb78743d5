"""Services as data: raw site lists as people download them (an NHS ODS-style pharmacy
list, a council's library list, a CQC location list, grid references) load, are placed in
LSOA 2021 / data zones, and bad input is reported by row and column; the service registry
writes atomically and survives interrupted writes; the shipped hospitals package."""

from __future__ import annotations

import io
import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.data import (
    POSTCODE_ATTRIBUTION,
    DataFileError,
    geocode_postcodes,
    load_pack_table,
    load_postcode_index,
    lookup_postcode,
)
from analysis.ingest import (
    SITE_COLUMNS,
    ServiceExistsError,
    ServiceMeta,
    ServiceRegistry,
    ServiceValidationError,
    add_service,
    install_service,
    load_service_file,
    read_service_bytes,
    read_service_package,
    read_service_upload,
    recover_service_registry,
    remove_service,
    shipped_service_ids,
)
from analysis.ingest.service_places import grid_to_wgs84, place_sites
from analysis.ingest.services import ServiceError
from tests.conftest import REPO

FIXTURES = REPO / "tests" / "fixtures" / "services"
PHARMACIES = FIXTURES / "pharmacies_wigan_ods.csv"
LIBRARIES = FIXTURES / "libraries_clackmannanshire.csv"
WIGAN, CLACKS = "E08000010", "S12000005"


def rules(report) -> dict[str, list]:
    out: dict[str, list] = {}
    for issue in report.issues:
        out.setdefault(issue.rule, []).append(issue)
    return out


def wigan_lsoas() -> set[str]:
    table = load_pack_table("england")
    return set(table.index[table["ltla_code"] == WIGAN])


def clacks_zones() -> set[str]:
    table = load_pack_table("scotland")
    return set(table.index[table["council_code"] == CLACKS])


def meta(**changes) -> dict:
    base = {"id": "test_service", "title": "Test service", "description": "A test.",
            "service_kind": "hub", "source": "test", "licence": "OGL", "period": "2024"}
    return {**base, **changes}


# --------------------------------------------------------------------------------------
# Raw files as people download them


def test_an_ods_pharmacy_list_with_postcodes_only_is_placed_in_wigan():
    dataset, report = load_service_file(PHARMACIES, FIXTURES / "pharmacies_wigan.yaml",
                                        skip_unplaced=True)
    assert report.ok, report.to_text()
    assert (report.rows, report.geocoded, report.outside) == (62, 61, 0)
    assert report.geocoded / report.rows >= 0.98
    assert report.not_placed == [{"row": 63, "postcode": "WN9 9ZZ", "site_id": "FX062",
                                  "reason": report.not_placed[0]["reason"]}]
    assert "not in the postcode index" in report.not_placed[0]["reason"]
    assert report.columns["site_id"] == "Organisation Code"
    assert report.columns["postcode"] == "Postcode"
    sites = dataset.sites
    assert list(sites.columns) == list(SITE_COLUMNS)
    assert len(sites) == 61 and sites["site_id"].is_unique
    assert set(sites["area_code"]) <= wigan_lsoas()
    # lower-case and unspaced postcodes are normalised
    assert sites["postcode"].str.fullmatch(r"[A-Z0-9]{2,4} [0-9][A-Z]{2}").all()
    raw = pd.read_csv(PHARMACIES, dtype=str)
    assert (raw["Postcode"] != raw["Postcode"].str.upper()).any()
    # two terminated postcodes: their area from the ONS lookup, their point the area's
    term = sites[sites["located_by"] == "postcode area point"]
    assert sorted(term["postcode"]) == ["WN1 1JA", "WN3 6XT"]
    for row in term.itertuples():
        assert lookup_postcode(row.postcode)["status"] == "terminated"
        assert row.area_code == lookup_postcode(row.postcode)["area_code"]
        assert np.isfinite(row.latitude) and np.isfinite(row.longitude)
    # live postcodes take their Code-Point position exactly
    live = sites[sites["located_by"] == "postcode"].head(5)
    coded = geocode_postcodes(live["postcode"].reset_index(drop=True))
    np.testing.assert_allclose(live["latitude"], coded["latitude"], atol=1e-9)
    first = sites.iloc[0]
    assert first["opening_hours"].startswith("Mon 09:00-18:00; Tue 09:00-18:00")
    assert first["opening_hours"].endswith("Sat Closed; Sun 10:00-16:00")
    assert first["address"] == "10 Test Fixture Street, WIGAN"
    assert np.isnan(first["capacity"]) and not dataset.has_capacity
    assert dataset.meta.extra["not_placed"][0]["row"] == 63
    assert dataset.meta.extra["attribution"] == POSTCODE_ATTRIBUTION
    closed = rules(report)["closed"][0]
    assert (closed.severity, closed.row, closed.column) == ("warning", 19, "Close Date")


def test_an_unplaced_site_blocks_the_file_unless_skipped():
    dataset, report = load_service_file(PHARMACIES, FIXTURES / "pharmacies_wigan.yaml")
    assert dataset is None and not report.ok
    issue = rules(report)["not_placed"][0]
    assert (issue.severity, issue.row, issue.column) == ("error", 63, "Postcode")
    assert "WN9 9ZZ" in issue.message and "--skip-unplaced" in issue.message
    assert "row 63" in report.to_text() and "WN9 9ZZ" in report.to_text()


def test_a_scottish_council_library_list_is_placed_in_data_zones():
    dataset, report = load_service_file(LIBRARIES, FIXTURES / "libraries_clackmannanshire.yaml")
    assert report.ok, report.to_text()
    assert (report.rows, report.geocoded, report.not_placed) == (9, 9, [])
    sites = dataset.sites
    assert set(sites["area_code"]) <= clacks_zones()
    assert set(sites["country"]) == {"S"}
    assert report.columns == {"name": "Library", "capacity": "Staffed hours",
                              "postcode": "Postcode", "address": "Address"}
    assert sites["capacity"].tolist() == [37.5, 20, 12, 20, 12, 16, 24, 24.5, 0]
    assert dataset.meta.capacity_unit == "staffed hours a week"
    # no id column: ids from the spreadsheet row
    assert sites["site_id"].tolist()[:2] == ["row-2", "row-3"]
    assert sites.loc[2, "located_by"] == "postcode area point"  # a terminated FK10 postcode


def test_a_cqc_location_list_uses_its_coordinates_and_provider():
    dataset, report = load_service_file(FIXTURES / "cqc_locations_wigan.csv", meta(
        id="wigan_cqc", capacity_unit="beds"))
    assert report.ok, report.to_text()
    assert report.columns["site_id"] == "Location ID"
    assert report.columns["latitude"] == "Location Latitude"
    assert report.columns["capacity"] == "Care homes beds"
    assert report.columns["parent"] == "Provider Name"
    sites = dataset.sites
    assert (sites["located_by"] == "coordinates").all()
    assert (sites["area_by"] == "postcode").all()
    raw = pd.read_csv(FIXTURES / "cqc_locations_wigan.csv")
    np.testing.assert_allclose(sites["latitude"], raw["Location Latitude"])
    assert sites["capacity"].notna().sum() == 10
    missing = rules(report)["missing_values"][0]
    assert missing.severity == "warning" and missing.column == "Care homes beds"


def test_grid_references_only_are_placed_by_point_in_polygon():
    dataset, report = load_service_file(FIXTURES / "family_hubs_clackmannanshire_bng.csv",
                                        meta(id="clacks_hubs", capacity_unit="staff (FTE)"))
    assert report.ok, report.to_text()
    sites = dataset.sites
    assert report.columns["site_id"] == "Hub ID" and report.columns["capacity"] == "Staff (FTE)"
    assert (sites["located_by"] == "grid reference").all()
    assert (sites["area_by"] == "point in polygon").all()
    assert set(sites["area_code"]) <= clacks_zones()
    raw = pd.read_csv(FIXTURES / "family_hubs_clackmannanshire_bng.csv")
    lon, lat = grid_to_wgs84(raw["Easting"].to_numpy(float), raw["Northing"].to_numpy(float))
    np.testing.assert_allclose(sites["longitude"], lon)
    np.testing.assert_allclose(sites["latitude"], lat)


def test_an_xlsx_site_list_reads_like_its_csv(tmp_path):
    frame = pd.read_csv(LIBRARIES, dtype=str)
    path = tmp_path / "libraries.xlsx"
    frame.to_excel(path, index=False)
    from_xlsx, report = load_service_file(path, FIXTURES / "libraries_clackmannanshire.yaml")
    from_csv, _ = load_service_file(LIBRARIES, FIXTURES / "libraries_clackmannanshire.yaml")
    assert report.ok and report.format.startswith("XLSX")
    pd.testing.assert_frame_equal(from_xlsx.sites, from_csv.sites)


def test_columns_can_be_named_explicitly():
    text = "Hub,Where,Lat?,Lng?\nA (test),FK10 1HT,,\nB (test),,56.11,-3.79\n"
    dataset, report = read_service_bytes(text.encode(), "hubs.csv", meta(
        postcode_column="Where", latitude_column="Lat?", longitude_column="Lng?"))
    assert report.ok, report.to_text()
    assert report.columns["postcode"] == "Where"
    assert dataset.sites["located_by"].tolist() == ["postcode area point", "coordinates"]
    _, report = read_service_bytes(text.encode(), "hubs.csv", None,
                                   columns={"postcode": "Site postcode"})
    issue = rules(report)["missing_columns"][0]
    assert issue.column == "Site postcode" and "'Where'" in issue.message
    _, report = read_service_bytes(text.encode(), "hubs.csv", None, columns={"ward": "Hub"})
    assert "unknown column role" in report.errors[0].message


# --------------------------------------------------------------------------------------
# Bad input


def test_bad_rows_are_reported_by_row_and_column():
    dataset, report = load_service_file(FIXTURES / "sites_bad_rows.csv")
    assert dataset is None and not report.ok
    found = {(i.rule, i.row, i.column) for i in report.errors}
    assert ("duplicate_ids", 2, "Site ID") in found
    assert ("non_numeric", 9, "Capacity") in found
    assert ("impossible_value", 7, "Capacity") in found
    assert ("coordinates", 10, "Latitude") in found          # latitude without longitude
    assert ("outside_gb", 6, "Latitude") in found            # swapped
    assert ("outside_gb", 5, "Latitude") in found            # Madrid
    assert ("not_placed", 3, "Postcode") in found
    by_rule = rules(report)
    assert "look swapped" in next(i.message for i in by_rule["outside_gb"] if i.row == 6)
    assert "row 2: 'S1'; row 8: 'S1'" in by_rule["duplicate_ids"][0].message
    placed = {p["row"]: p["reason"] for p in report.not_placed}
    assert placed[3].startswith("postcode not in the postcode index")
    assert placed[4] == "not a postcode"
    assert set(placed) == {3, 4, 5, 6, 10}
    # skipping unplaced sites never skips negative capacity or duplicate ids
    _, skipped = load_service_file(FIXTURES / "sites_bad_rows.csv", skip_unplaced=True)
    assert {"duplicate_ids", "impossible_value", "outside_gb"} <= set(rules(skipped))
    assert not skipped.ok


def test_a_file_without_a_location_column_says_which_columns_it_has():
    _, report = load_service_file(FIXTURES / "sites_no_location.csv")
    (issue,) = report.errors
    assert (issue.rule, issue.row) == ("missing_columns", 1)
    assert "no location column" in issue.message
    assert "'Name', 'Address', 'Telephone'" in issue.message


def test_metadata_problems_are_all_reported_at_once():
    _, report = read_service_bytes(b"Postcode\nWN1 1HZ\n", "x.csv", {
        "id": "Bad Id", "title": "", "catchment_km": -2, "postcode_column": 3})
    keys = {i.column for i in report.errors if i.rule == "metadata"}
    assert {"id", "title", "description", "service_kind", "source", "licence", "period",
            "catchment_km", "postcode_column"} <= keys
    _, report = read_service_bytes(b"Postcode\nWN1 1HZ\n", "x.csv", meta(area="E99999999"))
    assert any(i.column == "area" and "Unknown area code" in i.message for i in report.errors)
    _, report = read_service_upload(b"Postcode\nWN1 1HZ\n", "x.csv", None)
    assert any("metadata missing" in i.message for i in report.errors)
    with pytest.raises(ServiceError, match="title is missing"):
        ServiceMeta.from_mapping({**meta(), "title": ""})


def test_text_in_a_guessed_capacity_column_is_read_as_opening_hours():
    text = ("Library,Postcode,Staffed hours\nA (test),FK10 1HT,Mon-Fri 9-5\n"
            "B (test),FK10 4EZ,Sat 10-1\n")
    dataset, report = read_service_bytes(text.encode(), "libs.csv", meta())
    assert report.ok
    assert dataset.sites["opening_hours"].tolist() == ["Mon-Fri 9-5", "Sat 10-1"]
    assert not dataset.has_capacity


def test_sites_in_wales_are_kept_as_supply_and_reported():
    text = "Name,Postcode\nCardiff (test),CF10 1EP\nWigan (test),WN1 1HZ\nBelfast (test),BT1 1AA\n"
    dataset, report = read_service_bytes(text.encode(), "x.csv", meta(), skip_unplaced=True)
    assert report.ok
    assert (report.geocoded, report.outside) == (1, 1)
    assert report.not_placed[0]["row"] == 4 and "Northern Ireland" in report.not_placed[0][
        "reason"]
    wales = dataset.sites.iloc[0]
    assert wales["country"] == "W" and pd.isna(wales["area_code"])
    assert np.isfinite(wales["latitude"])
    assert "(Wales)" in rules(report)["outside"][0].message


def test_coordinates_far_from_their_postcode_are_a_warning():
    text = "Name,Postcode,Latitude,Longitude\nA (test),WN1 1HZ,56.11,-3.79\n"
    dataset, report = read_service_bytes(text.encode(), "x.csv", meta())
    assert report.ok
    issue = rules(report)["coordinates"][0]
    assert issue.severity == "warning" and "km from their postcode" in issue.message
    assert dataset.sites.loc[0, "area_code"] == lookup_postcode("WN1 1HZ")["area_code"]


# --------------------------------------------------------------------------------------
# Properties


INDEX_SAMPLE = None


def _real_postcodes() -> list[str]:
    global INDEX_SAMPLE
    if INDEX_SAMPLE is None:
        index = load_postcode_index()
        placed = index[index["area_code"].notna()]
        INDEX_SAMPLE = placed["postcode"].sample(400, random_state=3).tolist()
    return INDEX_SAMPLE


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_postcode_spelling_does_not_change_where_a_site_goes(data):
    postcodes = data.draw(st.lists(st.sampled_from(_real_postcodes()), min_size=1,
                                   max_size=8))
    styles = data.draw(st.lists(st.sampled_from(["lower", "compact", "spaced", "as is"]),
                                min_size=len(postcodes), max_size=len(postcodes)))
    written = [{"lower": p.lower(), "compact": p.replace(" ", ""),
                "spaced": p.replace(" ", "  "), "as is": p}[s]
               for p, s in zip(postcodes, styles, strict=True)]
    nan = np.full(len(postcodes), np.nan)
    messy = place_sites(pd.Series(written), nan, nan, "coordinates")
    clean = place_sites(pd.Series(postcodes), nan, nan, "coordinates")
    assert list(messy.area_code) == list(clean.area_code)
    np.testing.assert_array_equal(messy.lat, clean.lat)
    assert messy.placed.all()


@settings(max_examples=40, deadline=None)
@given(lat=st.floats(-90, 90), lon=st.floats(-180, 180))
def test_coordinates_are_accepted_exactly_inside_great_britain(lat, lon):
    text = f"Name,Latitude,Longitude\nA (test),{lat!r},{lon!r}\n"
    _, report = read_service_bytes(text.encode(), "x.csv", None, skip_unplaced=True)
    inside = 49.8 <= lat <= 60.9 and -8.7 <= lon <= 1.8
    assert ("outside_gb" in rules(report)) == (not inside)


def test_grid_references_transform_like_the_postcode_index():
    index = load_postcode_index()
    located = index[index["easting"].notna()].sample(200, random_state=5)
    lon, lat = grid_to_wgs84(located["easting"].to_numpy(float),
                             located["northing"].to_numpy(float))
    coded = geocode_postcodes(located["postcode"].reset_index(drop=True))
    np.testing.assert_allclose(lat, coded["latitude"], atol=1e-9)
    np.testing.assert_allclose(lon, coded["longitude"], atol=1e-9)


# --------------------------------------------------------------------------------------
# The registry


def _libraries():
    dataset, report = load_service_file(LIBRARIES, FIXTURES / "libraries_clackmannanshire.yaml")
    assert report.ok
    return dataset


def test_add_list_get_replace_and_remove(tmp_path):
    root = tmp_path / "registry"
    result = add_service(LIBRARIES, FIXTURES / "libraries_clackmannanshire.yaml", root=root)
    assert result.folder == root / "clacks_libraries_test" and not result.replaced
    assert sorted(p.name for p in result.folder.iterdir()) == ["service.yaml", "sites.parquet"]
    registry = ServiceRegistry(root)
    assert registry.ids() == ["clacks_libraries_test"]
    back = registry.get("clacks_libraries_test")
    pd.testing.assert_frame_equal(back.sites, result.dataset.sites)
    assert back.meta.extra["sites"] == 9 and len(back.meta.extra["data_sha256"]) == 64
    with pytest.raises(ServiceExistsError, match="--replace"):
        add_service(LIBRARIES, FIXTURES / "libraries_clackmannanshire.yaml", root=root)
    again = add_service(LIBRARIES, FIXTURES / "libraries_clackmannanshire.yaml", root=root,
                        replace=True)
    assert again.replaced
    assert not [p for p in root.iterdir() if p.name.startswith(".")]
    remove_service("clacks_libraries_test", root=root)
    assert ServiceRegistry(root).ids() == []
    with pytest.raises(ServiceError, match="No service"):
        remove_service("clacks_libraries_test", root=root)
    with pytest.raises(KeyError, match="Unknown service"):
        ServiceRegistry(root).get("clacks_libraries")


def test_nothing_is_written_until_the_whole_file_validates(tmp_path):
    root = tmp_path / "registry"
    with pytest.raises(ServiceValidationError) as caught:
        add_service(PHARMACIES, FIXTURES / "pharmacies_wigan.yaml", root=root)
    assert caught.value.report.not_placed[0]["postcode"] == "WN9 9ZZ"
    assert not root.exists() or not list(root.iterdir())
    with pytest.raises(ServiceValidationError, match="metadata missing"):
        add_service(LIBRARIES, None, root=root)


def test_an_interrupted_replace_is_served_then_put_back(tmp_path):
    root = tmp_path / "registry"
    folder, _ = install_service(_libraries(), root=root)
    aside = root / ".replaced-clacks_libraries_test-1a2b3c4d"
    os.replace(folder, aside)   # killed between the two renames of a replace
    (root / ".staging-clacks_libraries_test-99999999").mkdir()   # and a half-written package
    assert ServiceRegistry(root).get("clacks_libraries_test").meta.extra["sites"] == 9
    actions = recover_service_registry(root)
    assert "restored clacks_libraries_test from an interrupted replace" in actions
    assert any("staging" in a for a in actions)
    assert sorted(p.name for p in root.iterdir()) == ["clacks_libraries_test"]


def test_a_replaced_or_damaged_sites_file_fails_loudly(tmp_path):
    root = tmp_path / "registry"
    folder, _ = install_service(_libraries(), root=root)
    sites = pd.read_parquet(folder / "sites.parquet")
    sites.loc[0, "capacity"] = 999.0
    sites.to_parquet(folder / "sites.parquet", index=False)
    with pytest.raises(DataFileError, match="does not match the checksum"):
        ServiceRegistry(root).get("clacks_libraries_test")


def test_session_services_stay_in_their_registry(tmp_path):
    root = tmp_path / "registry"
    install_service(_libraries(), root=root)
    session, other = ServiceRegistry(root), ServiceRegistry(root)
    dataset, _ = load_service_file(PHARMACIES, FIXTURES / "pharmacies_wigan.yaml",
                                   skip_unplaced=True)
    session.add_session_service(dataset)
    assert session.ids() == ["clacks_libraries_test", "wigan_pharmacies_test"]
    assert session.is_session("wigan_pharmacies_test") and session.folder(
        "wigan_pharmacies_test") is None
    assert other.ids() == ["clacks_libraries_test"]
    assert not (root / "wigan_pharmacies_test").exists()
    with pytest.raises(ServiceError, match="already used"):
        session.add_session_service(_libraries())


def test_shipped_services_need_force(data_copy):
    root = data_copy / "services" / "registry"
    assert "nhs_hospitals_2022" in shipped_service_ids()
    with pytest.raises(ServiceError, match="force"):
        remove_service("nhs_hospitals_2022")
    hospitals = ServiceRegistry().get("nhs_hospitals_2022")
    with pytest.raises(ServiceError, match="force"):
        install_service(hospitals, replace=True)
    install_service(hospitals, replace=True, force=True)
    remove_service("nhs_hospitals_2022", force=True)
    assert not (root / "nhs_hospitals_2022").exists()
    assert shipped_service_ids(root.parent / "elsewhere" / "registry") == frozenset()


def test_a_package_folder_validates_as_it_was_stored(tmp_path):
    folder, _ = install_service(_libraries(), root=tmp_path)
    dataset, report = load_service_file(folder)
    assert report.ok, report.to_text()
    assert dataset.sites["area_code"].tolist() == _libraries().sites["area_code"].tolist()


# --------------------------------------------------------------------------------------
# The shipped hospitals


def test_the_shipped_hospitals_package():
    dataset = read_service_package(REPO / "data" / "services" / "registry" /
                                   "nhs_hospitals_2022")
    sites = dataset.sites
    assert len(sites) == 1_209 and sites["site_id"].is_unique
    assert dataset.placed == 1_208
    assert sites["country"].value_counts().to_dict() == {"E": 1_208, "W": 1}
    assert sites["site_type"].value_counts().to_dict() == {"NHS Sector": 742,
                                                          "Independent Sector": 467}
    assert {p["site_id"] for p in dataset.not_placed} == {"NMJ26", "RGT1W"}
    assert sites["area_code"].dropna().str.startswith("E01").all()
    bart = sites[sites["name"].str.contains("Bartholomew", na=False)]
    # the address line has a typographic apostrophe: decoded as UTF-8, not as mojibake
    assert bart["address"].str.startswith("St Bartholomew\u2019s Hospital").all()
    assert not sites["address"].str.contains("\u00e2\u20ac", na=False).any()
    assert dataset.meta.area == "E92000001" and dataset.meta.catchment_km == 20


def test_the_hospitals_build_reads_the_raw_list_through_the_reader(tmp_path):
    raw = REPO.parent / "shared" / "data"
    if not (raw / "england" / "nhs_hospitals_2022.csv").is_file():
        pytest.skip("the raw data pack is not beside the repository")
    from analysis.build.hospitals import build_hospitals, write_hospitals
    from analysis.build.raw import BuildLog

    log = BuildLog()
    dataset = build_hospitals(raw, log)
    assert log.coverage["hospitals_row_numbers"] == {"dropped": True, "rows": 1_211}
    assert log.coverage["hospitals"]["placed"] == 1_208
    files = write_hospitals(dataset, tmp_path)
    assert files == {"services/registry/nhs_hospitals_2022/sites.parquet": {"rows": 1_209}}
    shipped = REPO / "data" / "services" / "registry" / "nhs_hospitals_2022"
    built = tmp_path / "services" / "registry" / "nhs_hospitals_2022"
    pd.testing.assert_frame_equal(pd.read_parquet(built / "sites.parquet"),
                                  pd.read_parquet(shipped / "sites.parquet"))


def test_the_reader_keeps_uploads_in_memory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = LIBRARIES.read_bytes()
    dataset, report = read_service_upload(data, "../../libraries.csv", meta(), max_bytes=10)
    assert dataset is None and report.errors[0].rule == "too_large"
    dataset, report = read_service_upload(data, "../../libraries.csv", meta())
    assert report.ok and report.file == "libraries.csv"
    assert list(tmp_path.iterdir()) == []
    buffer = io.BytesIO()
    dataset.sites.to_parquet(buffer)
    assert buffer.getvalue()[:4] == b"PAR1"


def test_fixture_files_are_labelled_as_test_data():
    for path in FIXTURES.glob("*.csv"):
        frame = pd.read_csv(path, dtype=str, header=None if "headerless" in path.name else 0)
        if "headerless" in path.name:
            frame.columns = ["name" if c == 1 else str(c) for c in frame.columns]
        names = frame[[c for c in frame.columns if "name" in c.lower() or c in (
            "Library",)][0]]
        assert names.str.contains("test", case=False).all(), path.name


def test_an_ods_download_without_a_header_row_is_read_by_its_contents():
    dataset, report = load_service_file(FIXTURES / "pharmacies_wigan_ods_headerless.csv",
                                        FIXTURES / "pharmacies_wigan.yaml", skip_unplaced=True)
    assert report.ok, report.to_text()
    assert report.columns == {"site_id": "column 1", "name": "column 2",
                              "postcode": "column 10"}
    warning = rules(report)["columns"][0]
    assert warning.row == 1 and "no header row" in warning.message
    assert (report.rows, report.geocoded) == (62, 61)
    assert report.not_placed[0]["row"] == 62   # the header-less file's own row number
    with_header, _ = load_service_file(PHARMACIES, FIXTURES / "pharmacies_wigan.yaml",
                                       skip_unplaced=True)
    assert dataset.sites["site_id"].tolist() == with_header.sites["site_id"].tolist()
    assert dataset.sites["area_code"].tolist() == with_header.sites["area_code"].tolist()


def test_a_postcode_column_with_an_odd_name_is_found_by_its_contents():
    text = "Hub,PC\nA (test),FK10 1HT\nB (test),fk104ez\nC (test),\n"
    dataset, report = read_service_bytes(text.encode(), "hubs.csv", meta(),
                                         skip_unplaced=True)
    assert report.ok, report.to_text()
    assert report.columns["postcode"] == "PC"
    assert "recognised by their contents: postcode = 'PC'" in rules(report)["columns"][0].message
    assert len(dataset.sites) == 2 and report.not_placed[0]["row"] == 4
