"""Audit denominators: the embedded population files, age-band labels, a user's own file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.data.datastore import DataFileError
from analysis.data.geography import load_pack_table
from analysis.data.lsoa_conversion import load_lookup
from analysis.data.populations import (
    AGE_BANDS,
    ENGLAND_ETHNIC_GROUP_TITLES,
    ETHNIC_GROUPS,
    FILES,
    POPULATION_SOURCES,
    SCOTLAND_AGE_BANDS,
    PopulationFileError,
    age_band_of,
    age_population,
    ethnic_population,
    parse_age_band,
    read_population_file,
)

# ONS mid-2020 estimate for England (persons), the sum of the pack's single years of age
ENGLAND_MID2020 = 56_550_138
# Census 2021 TS021 (England) by group, as in the pack's census2021_ethnic_group_lsoa21.csv
ENGLAND_TS021 = {"Asian": 5_426_498, "Black": 2_381_670, "Mixed": 1_669_304,
                 "White": 45_783_622, "Other": 1_229_014}
# Scotland's Census 2022: female + male over every band, and the file's "All people" rows
SCOTLAND_FEMALE_PLUS_MALE = 5_439_899
SCOTLAND_ALL_PEOPLE = 5_439_618


def test_band_constants():
    assert len(AGE_BANDS) == 19 and AGE_BANDS[0] == "0-4" and AGE_BANDS[-1] == "90+"
    assert AGE_BANDS[17] == "85-89"
    assert len(SCOTLAND_AGE_BANDS) == 18 and SCOTLAND_AGE_BANDS[-1] == "85+"
    # the data room's bands are the statistics room's (ESP 2013) bands, in the same order
    from analysis.stats.standardisation import AGE_BANDS as ESP_BANDS

    assert AGE_BANDS == ESP_BANDS


def test_england_age_total_is_the_mid2020_estimate():
    frame = age_population("england")
    assert list(frame.columns) == ["area_code", "age_band", "sex", "population"]
    total = frame["population"].sum()
    assert 56.3e6 < total < 56.6e6
    assert total == pytest.approx(ENGLAND_MID2020, abs=1.0)
    assert set(frame["sex"].astype(str)) == {"all"}
    assert (frame["population"] >= 0).all()


def test_every_lsoa21_has_all_19_bands_once():
    frame = age_population("england")
    pack = pd.Index(load_pack_table("england").index.astype(str))
    assert len(frame) == len(pack) * 19 == 33_755 * 19
    counts = frame.groupby("area_code", observed=True)["age_band"].nunique()
    assert counts.index.sort_values().equals(pack.sort_values())
    assert (counts == 19).all()
    assert list(frame["age_band"].cat.categories) == list(AGE_BANDS)


def test_unchanged_and_split_lsoas_keep_their_mid2020_counts():
    by_area = age_population("england").groupby("area_code", observed=True)["population"].sum()
    # E01000001 (City of London 001A) is unchanged in 2021: 1,749 residents at mid-2020
    assert by_area["E01000001"] == pytest.approx(1749)
    lookup = load_lookup()
    split = lookup[lookup["lsoa11_code"] == "E01000010"]  # split into two 2021 LSOAs
    assert len(split) == 2
    children = by_area[split["lsoa21_code"].astype(str)].to_numpy()
    np.testing.assert_allclose(children, 3650 * split["weight"].to_numpy(), rtol=1e-6)
    assert children.sum() == pytest.approx(3650, abs=1e-3)


def test_scotland_age_sex_totals_against_the_census():
    frame = age_population("scotland")
    assert frame["population"].sum() == pytest.approx(SCOTLAND_FEMALE_PLUS_MALE)
    # disclosure control: the sexes add up to within 0.01% of "All people"
    assert abs(frame["population"].sum() / SCOTLAND_ALL_PEOPLE - 1) < 1e-4
    assert list(frame["age_band"].cat.categories) == list(SCOTLAND_AGE_BANDS)
    assert len(frame) == 6976 * 18 * 2
    cells = frame.groupby("area_code", observed=True).size()
    assert (cells == 36).all() and len(cells) == 6976
    zone = frame[frame["area_code"] == "S01006506"].set_index(["age_band", "sex"])["population"]
    # raw rows: 15.0 → F 2, M 8; 16 - 17 → F 12, M 8; 18 - 19 → F 7, M 11
    assert zone[("15-19", "F")] == 21 and zone[("15-19", "M")] == 27
    assert zone[("0-4", "F")] == 16 and zone[("0-4", "M")] == 13


def test_ethnicity_totals_equal_the_census():
    england = ethnic_population("england")
    assert list(england.columns) == ["area_code", "ethnic_group", "population"]
    by_group = england.groupby("ethnic_group", observed=True)["population"].sum()
    assert by_group.to_dict() == pytest.approx(ENGLAND_TS021)
    assert england["population"].sum() == pytest.approx(56_490_108)
    assert len(england) == 33_755 * 5
    # TS021 and TS001 are perturbed separately: per LSOA they agree to a few people
    per_area = england.groupby("area_code", observed=True)["population"].sum()
    pack = load_pack_table("england")["population"]
    assert (per_area - pack.reindex(per_area.index)).abs().max() <= 20
    scotland = ethnic_population("scotland")
    groups = scotland.groupby("ethnic_group", observed=True)["population"].sum()
    assert groups["Black"] == 58_726 + 6_772  # African + Caribbean or Black
    assert groups["White"] == 5_051_999
    assert scotland["population"].sum() == pytest.approx(5_439_816)
    assert scotland["area_code"].nunique() == 6976
    assert set(ENGLAND_ETHNIC_GROUP_TITLES) == set(ETHNIC_GROUPS)


def test_loaders_are_cached_and_refuse_unknown_countries():
    assert age_population("england") is age_population("england")
    with pytest.raises(ValueError, match="wales"):
        age_population("wales")


def test_missing_or_damaged_file_names_the_file(data_copy):
    (data_copy / FILES[("scotland", "age")]).unlink()
    with pytest.raises(DataFileError, match="scotland_dz11_age_sex.parquet"):
        age_population("scotland")
    (data_copy / FILES[("england", "ethnicity")]).write_bytes(b"not parquet")
    with pytest.raises(DataFileError, match="england_lsoa21_ethnicity.parquet"):
        ethnic_population("england")


def test_population_sources_name_source_and_year():
    assert "mid-2020" in POPULATION_SOURCES["england_age"]
    assert "2011" in POPULATION_SOURCES["england_age"]
    assert "TS021" in POPULATION_SOURCES["england_ethnicity"]
    assert "Census 2022" in POPULATION_SOURCES["scotland_age"]
    assert "Census 2022" in POPULATION_SOURCES["scotland_ethnicity"]


# --- age bands ----------------------------------------------------------------------------

def test_age_band_of_examples():
    ages = pd.Series([0, 4, 4.9, 5, 89, 90, 120, 121, -1, None, "x", "17"])
    out = age_band_of(ages).astype(object).where(lambda s: s.notna(), None).tolist()
    assert out == ["0-4", "0-4", "0-4", "5-9", "85-89", "90+", "90+", None, None, None, None,
                   "15-19"]
    scot = age_band_of(pd.Series([84, 85, 99]), SCOTLAND_AGE_BANDS)
    assert scot.astype(str).tolist() == ["80-84", "85+", "85+"]
    assert age_band_of(pd.Series([3])).cat.ordered


@given(st.integers(min_value=0, max_value=120))
def test_age_band_contains_the_age(age):
    band = str(age_band_of(pd.Series([age])).iloc[0])
    if band.endswith("+"):
        assert age >= int(band[:-1])
    else:
        low, high = (int(x) for x in band.split("-"))
        assert low <= age <= high and high - low == 4


@given(st.integers(min_value=-1000, max_value=-1) | st.integers(min_value=121, max_value=10**6))
def test_ages_out_of_range_have_no_band(age):
    assert age_band_of(pd.Series([age])).isna().all()


def test_parse_age_band_variants():
    labels = pd.Series(["0-4", "0 - 4", "00-04", "0 to 4", "90+", "90 and over", "85+",
                        "85 - 89", "Aged 5-9", "5-10", "abc", None, "95+"])
    out = parse_age_band(labels).tolist()
    assert out == ["0-4", "0-4", "0-4", "0-4", "90+", "90+", "85+", "85-89", "5-9", pd.NA,
                   pd.NA, pd.NA, pd.NA]


# --- a user's own denominator -------------------------------------------------------------

def _write(tmp_path: Path, text: str, name: str = "pop.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_good_population_file(tmp_path):
    path = _write(tmp_path, "\ufeffArea_Code,Age_Band,SEX,Population\n"
                            "E01000001,0-4,F,40\nE01000001,0 - 4,M,\"1,038\"\n"
                            "s01006506,90+,2,12.5\nE01000001,90 and over,F,3\n\n")
    frame = read_population_file(path)
    assert list(frame.columns) == ["area_code", "age_band", "sex", "population"]
    assert frame["area_code"].tolist() == ["E01000001", "E01000001", "S01006506", "E01000001"]
    assert frame["age_band"].astype(str).tolist() == ["0-4", "0-4", "90+", "90+"]
    assert frame["sex"].astype(str).tolist() == ["F", "M", "F", "F"]
    assert frame["population"].tolist() == [40, 1038, 12.5, 3]


def test_population_file_without_sex_and_with_85_plus(tmp_path):
    frame = read_population_file(_write(tmp_path, "area_code,age_band,population\n"
                                                  "S01006506,85+,30\nS01006506,80-84,20\n"))
    assert frame["sex"].astype(str).tolist() == ["all", "all"]
    assert list(frame["age_band"].cat.categories) == list(SCOTLAND_AGE_BANDS)


@pytest.mark.parametrize(("text", "expected"), [
    ("area,age_band,population\nE01000001,0-4,5\n", ["missing column(s) 'area_code'"]),
    ("area_code,age_band,population\nE01000001,0-4,5\nE01000001,0-4,6\n",
     ["data rows 1, 2", "duplicate (E01000001, 0-4, all)"]),
    ("area_code,age_band,population\nE01000001,0-4,5\nE01000001,5-9,-3\n",
     ["data row 2 (line 3 counting the header), column 'population': negative"]),
    ("area_code,age_band,population\nE01000001,0-4,five\n",
     ["data row 1 (line 2 counting the header), column 'population': not a number"]),
    ("area_code,age_band,population\nE01000001,0-4,\n",
     ["data row 1", "column 'population': not a number"]),
    ("area_code,age_band,population\nE01000001,0-4,1\nE01000001,3-7,1\n",
     ["data row 2", "column 'age_band': unknown age band", "'3-7'"]),
    ("area_code,age_band,population\nE01000001,85+,1\nE01000001,90+,1\n",
     ["data row 1", "85+ mixed with 85-89/90+"]),
    ("area_code,age_band,population\nE01000001,0-4,1\nE09999999,0-4,1\nW01000001,0-4,1\n",
     ["column 'area_code': 2 code(s) are not LSOA 2021 or data zone 2011", "E09999999 (data row 2)",
      "W01000001 (data row 3)"]),
    ("area_code,age_band,population,sex\nE01000001,0-4,1,Q\n",
     ["data row 1", "column 'sex': unknown sex"]),
    ("area_code,age_band,population\n,0-4,1\n", ["data row 1", "area code is blank"]),
    ("area_code,age_band,population\n", ["no data rows"]),
])
def test_bad_population_files_name_file_row_and_column(tmp_path, text, expected):
    path = _write(tmp_path, text)
    with pytest.raises(ValueError) as info:
        read_population_file(path)
    assert isinstance(info.value, PopulationFileError)
    message = str(info.value)
    assert str(path) in message
    for part in expected:
        assert part in message, message


def test_every_problem_is_listed(tmp_path):
    path = _write(tmp_path, "area_code,age_band,population\nE01000001,0-4,x\n"
                            "E01000001,zzz,1\nE01000002,5-9,-1\n")
    with pytest.raises(PopulationFileError) as info:
        read_population_file(path)
    assert len(info.value.problems) == 3
    assert "3 problem(s)" in str(info.value)


def test_empty_file_is_refused(tmp_path):
    with pytest.raises(PopulationFileError, match="empty"):
        read_population_file(_write(tmp_path, ""))
