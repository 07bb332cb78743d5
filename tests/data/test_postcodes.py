"""The embedded postcode index: known postcodes, normalisation properties, geocoding.

The expected areas were checked against the raw files while building (ONS May 2022 lookup,
Code-Point Open 2025, the LSOA 2011 → 2021 lookup and a point-in-polygon join on the raw
LSOA 2021 boundaries); the tests themselves read only the embedded data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.data.datastore import DataFileError, read_parquet
from analysis.data.postcodes import (
    GEOCODE_COLUMNS,
    INDEX_COLUMNS,
    PLACEMENTS,
    POSTCODE_ATTRIBUTION,
    POSTCODE_INDEX_FILE,
    STATUSES,
    _keys,
    _normalise,
    geocode_postcodes,
    load_postcode_index,
    lookup_postcode,
    normalise_postcodes,
    postcode_index_path,
)
from tests.conftest import DATA


@pytest.fixture(scope="module")
def index() -> pd.DataFrame:
    return load_postcode_index()


def one(postcode: str) -> pd.Series:
    return geocode_postcodes(pd.Series([postcode])).iloc[0]


# --- the file -------------------------------------------------------------------------------

def test_file_is_small_complete_and_sorted(index):
    path = DATA / POSTCODE_INDEX_FILE
    assert postcode_index_path() == path.resolve()
    assert path.stat().st_size <= 15_000_000
    assert list(index.columns) == INDEX_COLUMNS
    # the ONS lookup has 2,676,240 rows; Code-Point adds 28,488 postcodes newer than it
    assert len(index) == 2_704_728
    assert index["postcode"].is_monotonic_increasing and index["postcode"].is_unique
    assert index["postcode"].str.match(r"^[A-Z][A-Z0-9]{1,3} [0-9][A-Z]{2}$").all()
    assert index["live"].sum() == 1_804_443
    assert set(index["placement"].unique()) == set(PLACEMENTS)
    assert "Royal Mail" in POSTCODE_ATTRIBUTION and "Open Government Licence" in \
        POSTCODE_ATTRIBUTION


def test_every_area_code_is_a_fairshare_area(index):
    england = set(read_parquet("geography/england_lsoa21.parquet", ["lsoa21_code"])
                  ["lsoa21_code"])
    scotland = set(read_parquet("geography/scotland_dz11.parquet", ["dz11_code"])["dz11_code"])
    areas = index.dropna(subset=["area_code"])
    codes = areas["area_code"].astype(str)
    assert codes.isin(england | scotland).all()
    assert (codes.str.startswith("E01") == (areas["country"] == "E")).all()
    assert (codes.str.startswith("S01") == (areas["country"] == "S")).all()
    # every LSOA 2021 and data zone holds at least one postcode
    assert set(codes) == england | scotland


def test_placement_codes_agree_with_country_and_area(index):
    by = index.groupby("placement", observed=True)
    assert set(index.loc[index["placement"].isin([1, 2, 3, 5]), "country"]) == {"E"}
    assert set(index.loc[index["placement"].isin([4, 7]), "country"]) == {"S"}
    assert set(index.loc[index["placement"] == 6, "country"]) <= {"E", "S"}
    assert index.loc[index["placement"] == 0, "area_code"].isna().all()
    assert by["area_code"].count().drop(0).eq(by.size().drop(0)).all()
    # a country without an area is always outside England and Scotland
    no_area = index[index["area_code"].isna()]
    assert set(no_area["country"].dropna()) == {"W", "N", "L", "M"}
    # points decide placements 2, 6, 7; rules 3 and 5 are for postcodes without coordinates
    assert index.loc[index["placement"].isin([2, 6, 7]), "easting"].notna().all()
    assert index.loc[index["placement"].isin([3, 5]), "easting"].isna().all()
    assert index.loc[index["country"] == "N", "easting"].isna().all()


def test_coordinates_are_in_great_britain(index):
    located = index.dropna(subset=["easting"])
    assert located["easting"].between(0, 700_000).all()
    assert located["northing"].between(0, 1_300_000).all()
    assert (located["live"]).all()  # only Code-Point (live postcodes) has coordinates


# --- known postcodes ------------------------------------------------------------------------

def test_wigan_postcode_is_in_a_wigan_lsoa():
    row = one("wn1 1aa")
    assert row["postcode"] == "WN1 1AA"
    assert row["area_code"] == "E01006369"  # Wigan 008C, unchanged 2011 → 2021
    assert (row["easting"], row["northing"]) == (358016, 405780)
    assert row["latitude"] == pytest.approx(53.54697, abs=1e-4)
    assert row["longitude"] == pytest.approx(-2.63509, abs=1e-4)
    assert row["status"] == "live" and row["live"]
    pack = read_parquet("geography/england_lsoa21.parquet", ["lsoa21_code", "ltla_code"])
    assert pack.set_index("lsoa21_code").loc["E01006369", "ltla_code"] == "E08000010"


def test_clackmannanshire_postcode_is_in_an_alloa_data_zone():
    row = one("FK10 1AA")
    assert row["area_code"] == "S01007467"  # Alloa North - 01
    assert row["country"] == "S" and row["status"] == "live"
    pack = read_parquet("geography/scotland_dz11.parquet", ["dz11_code", "council_code"])
    assert pack.set_index("dz11_code").loc["S01007467", "council_code"] == "S12000005"
    assert lookup_postcode("fk101aa")["placement"] == 4


def test_terminated_postcode_has_an_area_but_no_coordinates():
    row = one("WN1 1AB")  # terminated January 2008
    assert row["status"] == "terminated" and not row["live"]
    assert row["area_code"] == "E01006369"
    assert pd.isna(row["easting"]) and np.isnan(row["latitude"])


@pytest.mark.parametrize(("postcode", "country"), [
    ("CF10 1AA", "W"), ("BT1 1AA", "N"), ("JE2 3QA", "L")])
def test_wales_northern_ireland_and_islands_are_outside(postcode, country):
    row = one(postcode)
    assert row["status"] == "outside"
    assert row["country"] == country
    assert pd.isna(row["area_code"])


def test_split_lsoa_postcodes_are_placed_among_the_successors():
    # M1: 2011 LSOA E01033659 split into E01034129 and E01034130
    live = lookup_postcode("M1 1AE")
    assert (live["area_code"], live["placement"]) == ("E01034129", 2)
    terminated = lookup_postcode("M1 1AG")  # same output area E00175823 as live neighbours
    assert (terminated["area_code"], terminated["placement"]) == ("E01034129", 5)
    assert terminated["easting"] is None
    beyond = lookup_postcode("M1 1BA")  # its point falls just outside both successors
    assert (beyond["area_code"], beyond["placement"]) == ("E01034129", 6)


def test_best_fit_is_the_largest_population_share():
    row = lookup_postcode("SE3 9PB")  # terminated 2012; 2011 LSOA E01033726 split four ways
    assert (row["area_code"], row["placement"]) == ("E01034176", 3)
    lookup = read_parquet("geography/lsoa11_lsoa21.parquet")
    parts = lookup[lookup["lsoa11_code"] == "E01033726"]
    assert parts.loc[parts["weight"].idxmax(), "lsoa21_code"] == "E01034176"


def test_postcode_newer_than_the_ons_lookup_is_placed_by_its_point():
    row = lookup_postcode("M1 1AS")  # in Code-Point 2025, not in the ONS lookup of May 2022
    assert (row["area_code"], row["placement"], row["live"]) == ("E01034129", 2, True)


def test_coordinates_match_the_gp_practice_list():
    # an independent source: NHS Digital's practice list gives each postcode's centroid
    practices = read_parquet("services/gp_practices.parquet",
                             ["postcode", "latitude", "longitude"])
    found = geocode_postcodes(practices["postcode"])
    assert found["status"].isin(["live", "terminated"]).all()
    both = found["latitude"].notna() & practices["latitude"].notna()
    assert both.sum() > 6_300
    metres = 6_371_000 * np.hypot(
        np.radians(found["latitude"] - practices["latitude"]),
        np.radians(found["longitude"] - practices["longitude"])
        * np.cos(np.radians(practices["latitude"])))[both]
    assert metres.median() < 10
    assert metres.quantile(0.95) < 100


# --- normalisation --------------------------------------------------------------------------

OUTWARD = st.one_of(
    st.from_regex(r"[A-Z][0-9]", fullmatch=True),
    st.from_regex(r"[A-Z][0-9]{2}", fullmatch=True),
    st.from_regex(r"[A-Z]{2}[0-9]", fullmatch=True),
    st.from_regex(r"[A-Z]{2}[0-9]{2}", fullmatch=True),
    st.from_regex(r"[A-Z][0-9][A-Z]", fullmatch=True),
    st.from_regex(r"[A-Z]{2}[0-9][A-Z]", fullmatch=True),
)
INWARD = st.from_regex(r"[0-9][A-Z]{2}", fullmatch=True)
SPACES = st.text(alphabet=" \t\u00a0\u2009\u202f\u200b\ufeff\n", max_size=3)


@st.composite
def messy(draw) -> tuple[str, str]:
    """(a postcode written as a record might carry it, its canonical form)."""
    canonical = f"{draw(OUTWARD)} {draw(INWARD)}"
    chars = [c for c in canonical if c != " "]
    cased = [c.lower() if draw(st.booleans()) else c for c in chars]
    text = draw(SPACES) + "".join(c + draw(SPACES) for c in cased)
    return text, canonical


@settings(max_examples=300, deadline=None)
@given(st.lists(messy(), min_size=1, max_size=20))
def test_spacing_and_case_variants_map_to_the_canonical_form(cases):
    texts = pd.Series([t for t, _ in cases], index=np.arange(len(cases)) * 3 + 5)
    result = normalise_postcodes(texts)
    assert list(result) == [c for _, c in cases]
    assert result.index.equals(texts.index)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=12), st.none()), max_size=20))
def test_normalisation_is_idempotent(texts):
    once = normalise_postcodes(pd.Series(texts, dtype=object))
    twice = normalise_postcodes(once)
    assert once.isna().equals(twice.isna())
    assert once.dropna().equals(twice.dropna())
    assert once.dropna().str.match(r"^[A-Z][A-Z0-9]{1,3} [0-9][A-Z]{2}$").all()


@settings(max_examples=200, deadline=None)
@given(st.one_of(
    st.from_regex(r"[A-Z0-9]{0,4}", fullmatch=True),            # too short
    st.from_regex(r"[A-Z][A-Z0-9]{4,7}[0-9][A-Z]{2}", fullmatch=True),  # outward too long
    st.from_regex(r"[0-9][A-Z0-9]{1,3}[0-9][A-Z]{2}", fullmatch=True),  # starts with a digit
    st.from_regex(r"[A-Z][A-Z0-9]{1,3}[A-Z][A-Z0-9]{2}", fullmatch=True),  # inward no digit
    st.from_regex(r"[A-Z][A-Z0-9]{1,3}[0-9][A-Z]?[0-9]", fullmatch=True),  # inward digits
    st.from_regex(r"[A-Z]{1,2}[0-9][-/.,][0-9][A-Z]{2}", fullmatch=True),  # punctuation
))
def test_invalid_shapes_become_na(text):
    assert normalise_postcodes(pd.Series([text])).isna().all()


def test_normalisation_of_awkward_cells():
    cells = pd.Series(["  sw1a\u00a02aa ", "EC1A1BB", "gir 0aa", None, np.nan, "", " \t ",
                       12345, "ﬀ1 1AA", "wnı 1aa"], index=list("abcdefghij"))
    result = normalise_postcodes(cells)
    assert result.tolist()[:3] == ["SW1A 2AA", "EC1A 1BB", "GIR 0AA"]
    assert result.iloc[3:].isna().all()  # non-ASCII letters are not folded into A–Z
    assert list(result.index) == list("abcdefghij")
    _, empty = _normalise(cells)
    assert empty.tolist() == [False] * 3 + [True] * 4 + [False] * 3


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(OUTWARD, INWARD), min_size=2, max_size=30))
def test_search_keys_sort_as_the_postcodes_do(parts):
    canonical = pd.Series([f"{o} {i}" for o, i in parts], dtype="string[pyarrow]")
    keys = _keys(_normalise(canonical)[0])
    by_text = np.argsort(canonical.to_numpy(dtype=object), kind="stable")
    assert (keys[by_text][1:] >= keys[by_text][:-1]).all()
    assert len(set(keys)) == canonical.nunique()


# --- geocoding ------------------------------------------------------------------------------

def test_geocode_keeps_order_index_and_length(index):
    sample = index["postcode"].iloc[np.arange(0, len(index), 9_973)].tolist()
    cells = sample + ["", None, "not a postcode", "ZZ9 9ZZ"] + sample[:3]
    labels = [f"r{i % 7}" for i in range(len(cells))]  # repeated labels too
    values = pd.Series(cells, index=labels)
    result = geocode_postcodes(values)
    assert list(result.columns) == GEOCODE_COLUMNS
    assert len(result) == len(values) and list(result.index) == labels
    assert result["postcode"].iloc[: len(sample)].tolist() == sample
    n = len(sample)
    assert result["status"].iloc[n: n + 4].tolist() == ["missing", "missing", "invalid",
                                                        "unknown"]
    assert result["postcode"].iloc[n + 3] == "ZZ9 9ZZ"
    assert pd.isna(result["live"].iloc[n + 3])
    assert result.iloc[-3:].reset_index(drop=True).equals(
        result.iloc[:3].reset_index(drop=True))
    expected = index.set_index("postcode").loc[sample]
    got = result.iloc[:n]
    assert got["area_code"].astype(object).fillna("-").tolist() == \
        expected["area_code"].astype(object).fillna("-").tolist()
    assert got["easting"].tolist() == expected["easting"].tolist()
    assert got["live"].astype(bool).tolist() == expected["live"].tolist()


def test_geocode_statuses_cover_every_row(index):
    values = index["postcode"].iloc[::50]
    result = geocode_postcodes(values)
    assert set(result["status"].cat.categories) == set(STATUSES)
    assert not result["status"].isin(["unknown", "invalid", "missing"]).any()
    outside = result["country"].isin(["W", "N", "L", "M"])
    assert (result.loc[outside, "status"] == "outside").all()
    inside = ~outside
    assert (result.loc[inside, "status"] == np.where(result.loc[inside, "live"], "live",
                                                      "terminated")).all()
    located = result["easting"].notna()
    assert (result["latitude"].notna() == located).all()
    assert result.loc[located, "latitude"].between(49.8, 61).all()
    assert result.loc[located, "longitude"].between(-8.7, 1.8).all()


def test_geocode_of_an_empty_series():
    result = geocode_postcodes(pd.Series([], dtype=object))
    assert result.empty and list(result.columns) == GEOCODE_COLUMNS


def test_lookup_returns_plain_values_or_none():
    row = lookup_postcode(" Wn1 1aA ")
    assert row == {"postcode": "WN1 1AA", "area_code": "E01006369", "country": "E",
                   "easting": 358016, "northing": 405780, "latitude": row["latitude"],
                   "longitude": row["longitude"], "live": True, "placement": 1,
                   "status": "live"}
    assert type(row["latitude"]) is float and type(row["easting"]) is int
    assert lookup_postcode("ZZ9 9ZZ") is None
    assert lookup_postcode("hello") is None
    assert lookup_postcode("") is None
    with pytest.raises(ValueError, match="expects text"):
        lookup_postcode(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="pandas Series"):
        normalise_postcodes(["WN1 1AA"])  # type: ignore[arg-type]


# --- damaged files --------------------------------------------------------------------------

def test_missing_index_is_named(data_copy):
    (data_copy / POSTCODE_INDEX_FILE).unlink()
    with pytest.raises(DataFileError, match="postcodes.parquet is missing"):
        geocode_postcodes(pd.Series(["WN1 1AA"]))


def replace_index(data_copy, frame: pd.DataFrame) -> None:
    """Put ``frame`` in place of the copy's postcode index, as a rebuild would (recording its
    checksum), so that the loader's own checks are what the test meets."""
    from analysis.data.integrity import record_checksums

    frame.to_parquet(data_copy / POSTCODE_INDEX_FILE)
    record_checksums(data_copy)


def tiny_index(postcodes: list[str]) -> pd.DataFrame:
    n = len(postcodes)
    return pd.DataFrame({"postcode": postcodes, "area_code": ["E01006369"] * n,
                         "country": ["E"] * n, "easting": pd.array([1] * n, dtype="Int32"),
                         "northing": pd.array([1] * n, dtype="Int32"), "live": [True] * n,
                         "placement": np.ones(n, dtype="int8")})


def test_unsorted_index_is_named(data_copy):
    replace_index(data_copy, tiny_index(["WN1 1AE", "WN1 1AA"]))
    with pytest.raises(DataFileError, match=r"postcodes.parquet: postcodes are not unique and "
                                            r"sorted at row 1 \('WN1 1AA'\)"):
        lookup_postcode("WN1 1AA")


def test_non_canonical_index_is_named(data_copy):
    replace_index(data_copy, tiny_index(["WN1 1AA", "wn1 1ae"]))
    with pytest.raises(DataFileError, match=r"postcodes.parquet: column postcode is not "
                                            r"canonical at rows 1 \('wn1 1ae'\)"):
        geocode_postcodes(pd.Series(["WN1 1AA"]))


def test_index_with_a_wrong_dtype_is_named(data_copy):
    replace_index(data_copy, tiny_index(["WN1 1AA"]).assign(placement="test"))
    with pytest.raises(DataFileError, match=r"postcodes.parquet: column placement has dtype "
                                            r"str, expected a small integer code"):
        load_postcode_index()


def test_index_without_a_column_is_named(data_copy):
    replace_index(data_copy, pd.DataFrame({"postcode": ["WN1 1AA"]}))
    with pytest.raises(DataFileError, match="postcodes.parquet lacks column"):
        load_postcode_index()


def test_writer_checks_its_frame_and_reports_facts(tmp_path, index):
    from analysis.build.postcodes import write_postcode_index

    small = index.iloc[::1000].reset_index(drop=True)
    facts = write_postcode_index(small, tmp_path)
    assert facts["rows"] == len(small)
    assert facts["bytes"] == (tmp_path / POSTCODE_INDEX_FILE).stat().st_size
    assert sum(facts["placements"].values()) == len(small)
    back = pd.read_parquet(tmp_path / POSTCODE_INDEX_FILE)
    assert back["postcode"].tolist() == small["postcode"].tolist()
    assert back["easting"].equals(small["easting"])
    with pytest.raises(ValueError, match="sorted by postcode"):
        write_postcode_index(small.iloc[::-1], tmp_path)
    with pytest.raises(ValueError, match="columns"):
        write_postcode_index(small.drop(columns="live"), tmp_path)


# --- the build's readers on tiny fakes (the raw pack itself is never read in tests) ---------

def fake_code_point(folder, rows: str):
    import zipfile

    path = folder / "gb" / "postcodes" / "codepo_gb.zip"
    path.parent.mkdir(parents=True)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("Doc/Code-Point_Open_Column_Headers.csv",
                         "PC,PQ,EA,NO,CY,RH,LH,CC,DC,WC\nPostcode,Positional_quality_indicator,"
                         "Eastings,Northings,Country_code,NHS_regional_HA_code,NHS_HA_code,"
                         "Admin_county_code,Admin_district_code,Admin_ward_code\n")
        archive.writestr("Data/CSV/wn.csv", rows)
    return path


def test_build_readers_name_the_raw_file_at_fault(tmp_path):
    from analysis.build.postcodes import read_code_point, read_ons_postcodes
    from analysis.build.raw import RawDataError

    with pytest.raises(RawDataError, match="PCD_OA_LSOA_MSOA_LAD_MAY22_UK_LU.7z is missing"):
        read_ons_postcodes(tmp_path)
    good = '"WN1 1AA",10,358016,405780,"E92000001","","","","E08000010","E05015010"\n'
    bad = '"WN1 1A",10,358016,405780,"E92000001","","","","E08000010","E05015010"\n'
    fake_code_point(tmp_path / "a", good + bad)
    with pytest.raises(RawDataError, match=r"codepo_gb.zip/Data/CSV/wn.csv: 1 rows are not "
                                           r"postcodes, first at line 2: 'WN1 1A'"):
        read_code_point(tmp_path / "a")
    fake_code_point(tmp_path / "b", good)
    with pytest.raises(RawDataError, match=r"1 rows, expected 1,500,000–1,900,000"):
        read_code_point(tmp_path / "b")
