"""The activity simulator: reproducible, realistic faults at known rates, and a gradient the
audit can recover."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.audit.simulate import (
    ERROR_KINDS,
    SIMULATED_LABEL,
    SimulationSpec,
    expected_rate_ratio,
    simulate_activity,
    write_simulated_parquet,
)
from analysis.data import default_registry, load_lookup
from analysis.data.geography import load_pack_table
from analysis.data.populations import (
    AGE_BANDS,
    SCOTLAND_AGE_BANDS,
    age_band_of,
    age_population,
    ethnic_population,
)
from analysis.stats.standardisation import ESP2013

ENGLAND_COLUMNS = ["record_id", "lsoa21_code", "lsoa11_code", "postcode", "age", "sex",
                   "ethnic_category", "event_date", "site", "simulated"]


@pytest.fixture(scope="module")
def million() -> pd.DataFrame:
    return simulate_activity(SimulationSpec(n_records=1_000_000, seed=7))


def _quintiles(country: str) -> pd.Series:
    indicator = "imd2025_decile" if country == "england" else "simd2020_decile"
    decile = default_registry().get(indicator).values
    decile.index = decile.index.astype(str)
    return np.ceil(decile / 2).astype(int)


def _dsr_by(records: pd.DataFrame, country: str, group_of_area: pd.Series,
            bands: tuple[str, ...]) -> pd.Series:
    """ESP 2013 directly standardised rate of each group of areas (the audit's calculation,
    written out independently of the simulator)."""
    area_column = "lsoa21_code" if country == "england" else "dz11_code"
    known = records[records[area_column].isin(group_of_area.index)]
    band = age_band_of(known["age"], bands)
    events = pd.DataFrame({"group": known[area_column].map(group_of_area).to_numpy(),
                           "band": band.to_numpy()}).dropna().value_counts()
    pop = age_population(country)
    pop = pop.assign(group=pop["area_code"].map(group_of_area).to_numpy())
    people = pop.groupby(["group", "age_band"], observed=True)["population"].sum()
    rate = (events.reindex(people.index, fill_value=0) / people).unstack()
    esp = dict(ESP2013)
    esp["85+"] = esp["85-89"] + esp["90+"]
    weights = pd.Series({b: esp[b] for b in bands})
    return (rate[list(bands)] * weights).sum(axis=1) / weights.sum()


def test_columns_types_and_label(million):
    assert list(million.columns) == ENGLAND_COLUMNS
    assert len(million) == 1_000_000
    assert million["record_id"].tolist()[:3] == [1, 2, 3] and million["record_id"].is_unique
    assert str(million["age"].dtype) == "Int16"
    assert set(million["sex"].cat.categories) == {"1", "2", "9", "0", "X"}
    assert set(million["ethnic_category"].dropna().unique()) <= set(
        "ABCDEFGHJKLMNPRS") | {"Z", "99", "ZZ"}
    assert million["event_date"].min() >= pd.Timestamp("2024-04-01")
    assert million["event_date"].max() <= pd.Timestamp("2025-03-31")
    assert set(million["site"].cat.categories) == {"Central Hospital", "North Road Clinic",
                                                   "Riverside Health Centre"}
    assert million["simulated"].all()
    assert million.attrs["label"] == SIMULATED_LABEL
    assert "not real patients" in SIMULATED_LABEL


def test_reproducible_for_a_seed():
    spec = SimulationSpec(n_records=20_000, seed=3)
    first, again = simulate_activity(spec), simulate_activity(spec)
    pd.testing.assert_frame_equal(first, again)
    other = simulate_activity(SimulationSpec(n_records=20_000, seed=4))
    assert not first["lsoa21_code"].equals(other["lsoa21_code"])


def test_faults_at_the_stated_fraction(million):
    n = len(million)
    code = million["lsoa21_code"]
    unknown = code.str.startswith("E0199").fillna(False)
    blank = (code == "").fillna(False)
    counts = {
        "unknown_area": int(unknown.sum()),
        "blank_area": int(blank.sum()),
        "missing_age": int(million["age"].isna().sum()),
        "age_150": int((million["age"] == 150).sum()),
        "sex_x": int((million["sex"] == "X").sum()),
        "ethnic_zz": int((million["ethnic_category"] == "ZZ").sum()),
    }
    assert set(counts) == set(ERROR_KINDS)
    assert sum(counts.values()) == round(0.01 * n)  # exactly one fault per faulty row
    for kind, count in counts.items():
        assert abs(count - n * 0.01 / 6) <= 1, kind
    pack = pd.Index(load_pack_table("england").index.astype(str))
    assert not pack.isin(code[unknown]).any()
    faulty_area = unknown | blank
    assert million.loc[faulty_area, ["lsoa11_code", "postcode"]].isna().all().all()
    # ages outside faults are whole years from 0 to 109
    ages = million["age"][million["age"] != 150].dropna()
    assert ages.min() == 0 and ages.max() <= 109


def test_not_stated_ethnicity_and_unknown_sex(million):
    share = million["ethnic_category"].isin(["Z", "99"]).mean()
    assert share == pytest.approx(0.05, abs=0.002)
    assert million["sex"].isin(["0", "9"]).mean() == pytest.approx(0.002, abs=0.0005)


def test_lsoa11_rows_carry_a_2011_parent(million):
    lsoa11 = million["lsoa11_code"].dropna()
    assert len(lsoa11) / len(million) == pytest.approx(0.02, abs=0.002)
    assert million.loc[lsoa11.index, "lsoa21_code"].isna().all()
    assert lsoa11.isin(load_lookup()["lsoa11_code"].astype(str)).all()
    # each row has exactly one locator (or a faulty area code)
    locators = million[["lsoa21_code", "lsoa11_code", "postcode"]].notna().sum(axis=1)
    assert (locators == 1).all()


def test_merged_lsoa_names_its_parents_by_shared_population():
    lookup = load_lookup()
    merged = lookup[lookup["change_code"] == "M"]
    child = merged.groupby("lsoa21_code").size().loc[lambda s: s == 2].index[0]
    parents = lookup[lookup["lsoa21_code"] == child]
    share = parents["weight"] * parents["population11"]
    share = pd.Series((share / share.sum()).to_numpy(), index=parents["lsoa11_code"].astype(str))
    spec = SimulationSpec(n_records=40_000, area_codes=(str(child),), lsoa11_fraction=1.0,
                          postcode_fraction=0.0, error_fraction=0.0)
    records = simulate_activity(spec)
    assert records["lsoa21_code"].isna().all()
    observed = records["lsoa11_code"].value_counts(normalize=True)
    assert set(observed.index) == set(share.index)
    for code, p in share.items():
        assert observed[code] == pytest.approx(p, abs=0.01)


def test_ages_fall_in_the_drawn_band():
    rates = dict.fromkeys(AGE_BANDS, 0.0) | {"20-24": 1.0, "90+": 1.0}
    spec = SimulationSpec(n_records=50_000, age_rate=rates, error_fraction=0.0)
    ages = simulate_activity(spec)["age"].astype(int)
    young, old = ages[ages < 90], ages[ages >= 90]
    assert set(young) == {20, 21, 22, 23, 24}
    assert old.max() <= 109 and old.mean() == pytest.approx(93.6, abs=0.3)


@settings(max_examples=8, deadline=None)
@given(n=st.integers(min_value=1, max_value=3_000), seed=st.integers(0, 2**32 - 1),
       fraction=st.sampled_from([0.0, 0.01, 0.2, 1.0]))
def test_row_and_fault_counts(n, seed, fraction):
    spec = SimulationSpec(n_records=n, seed=seed, error_fraction=fraction,
                          area_codes=("E01000001", "E01000002", "E01000003"))
    records = simulate_activity(spec)
    assert len(records) == n and records["record_id"].tolist() == list(range(1, n + 1))
    faults = ((records["lsoa21_code"].fillna("-").str.startswith("E0199"))
              | records["lsoa21_code"].eq("").fillna(False) | records["age"].isna()
              | records["age"].eq(150).fillna(False) | records["sex"].eq("X")
              | records["ethnic_category"].eq("ZZ"))
    assert int(faults.sum()) == round(n * fraction)


def test_postcodes_used_when_the_index_exists(million):
    postcodes = million["postcode"].dropna()
    if million.attrs["postcodes"].startswith("live postcodes"):
        assert len(postcodes) / len(million) == pytest.approx(0.05, abs=0.005)
    else:  # no postcode index in this tree yet: rows keep their area code
        assert postcodes.empty
        assert "area code" in million.attrs["postcodes"]


def test_postcodes_come_from_the_records_area(data_copy):
    index = pd.DataFrame({
        "postcode": ["EC1A 1AA", "EC1A 1AB", "EC1A 1AC", "EC1A 1AD", "EC1A 1AE"],
        "area_code": ["E01000001", "E01000001", "E01000002", "E01000002", "E01000005"],
        "country": ["E"] * 5, "easting": [532000.0] * 5, "northing": [181000.0] * 5,
        "live": [True, True, True, False, True], "placement": [1] * 5})
    index.to_parquet(data_copy / "geography" / "postcodes.parquet", index=False)
    from analysis.data.integrity import record_checksums

    record_checksums(data_copy)  # as a rebuild would
    areas = ("E01000001", "E01000002", "E01000003")
    spec = SimulationSpec(n_records=20_000, area_codes=areas, postcode_fraction=0.5,
                          lsoa11_fraction=0.0, error_fraction=0.0)
    records = simulate_activity(spec)
    assert records.attrs["postcodes"].startswith("live postcodes")
    with_postcode = records.dropna(subset=["postcode"])
    assert records.loc[with_postcode.index, "lsoa21_code"].isna().all()
    # terminated EC1A 1AD and E01000005 (outside the study area) are never used
    assert set(with_postcode["postcode"]) == {"EC1A 1AA", "EC1A 1AB", "EC1A 1AC"}
    # E01000003 has no postcode in the index: its records all keep their area code
    assert records["lsoa21_code"].eq("E01000003").sum() > 1000
    share = len(with_postcode) / (len(records) - records["lsoa21_code"].eq("E01000003").sum())
    assert share == pytest.approx(0.5, abs=0.03)


def test_quintile_gradient_is_recovered(million):
    spec = SimulationSpec(n_records=1_000_000, seed=7)
    expected = expected_rate_ratio(spec)["quintile"]
    dsr = _dsr_by(million, "england", _quintiles("england"), AGE_BANDS)
    ratio = dsr / dsr[5]
    given = np.array(spec.quintile_rate_ratio) / spec.quintile_rate_ratio[4]
    for q in range(1, 6):
        # the true gradient, ethnic mix of deprived areas included, within sampling error
        assert ratio[q] == pytest.approx(expected["ratio"][q], rel=0.02)
        # and the stated one within 5%
        assert ratio[q] == pytest.approx(given[q - 1], rel=0.05)
    assert ratio[1] < ratio[2] < ratio[3] < ratio[4] < ratio[5]


def test_ethnic_gradient_is_recovered(million):
    expected = expected_rate_ratio(SimulationSpec(n_records=1_000_000, seed=7))["ethnic_group"]
    groups = {"Asian": "HJKLR", "Black": "MNP", "Mixed": "DEFG", "White": "ABC", "Other": "S"}
    code_group = {c: g for g, codes in groups.items() for c in codes}
    events = million["ethnic_category"].astype(str).map(code_group).value_counts()
    people = ethnic_population("england").groupby("ethnic_group", observed=True)[
        "population"].sum()
    crude = events / people
    for group in groups:
        assert crude[group] / crude["White"] == pytest.approx(expected["ratio"][group],
                                                              rel=0.03), group
    assert expected["ratio"]["Black"] < expected["ratio"]["Asian"] < 1


def test_expected_rates_are_consistent():
    spec = SimulationSpec(n_records=1_000_000)
    expected = expected_rate_ratio(spec)
    assert expected["label"] == SIMULATED_LABEL
    assert expected["sex"]["ratio"] == pytest.approx(1.1)  # England: cells half female
    assert expected["quintile"]["ratio"][5] == 1.0
    assert expected["ethnic_group"]["ratio"]["White"] == 1.0
    ages = expected["age_band"]
    assert ages["0-4"] > ages["10-14"] < ages["85-89"]  # U-shaped
    # all events over all person-years: the population-weighted age rates give n / T
    pop = age_population("england").groupby("age_band", observed=True)["population"].sum()
    total = sum(ages[b] * pop[b] for b in AGE_BANDS) * spec.years
    assert total == pytest.approx(spec.n_records)
    doubled = expected_rate_ratio(SimulationSpec(n_records=2_000_000))
    assert doubled["overall_dsr"] == pytest.approx(2 * expected["overall_dsr"])


def test_scotland_records_and_sex_gradient():
    spec = SimulationSpec(n_records=400_000, country="scotland", seed=1, sex_ratio_female=1.3)
    records = simulate_activity(spec)
    assert "dz11_code" in records.columns and "lsoa11_code" not in records.columns
    codes = records["dz11_code"].dropna()
    assert codes[codes != ""].str.startswith("S01").all()  # "" is the blank-area fault
    expected = expected_rate_ratio(spec)
    known = records[records["dz11_code"].isin(load_pack_table("scotland").index.astype(str))]
    band = age_band_of(known["age"], SCOTLAND_AGE_BANDS)
    sex = known["sex"].astype(str).map({"2": "F", "1": "M"})
    events = pd.DataFrame({"sex": sex.to_numpy(), "band": band.to_numpy()}).dropna()
    counts = events.value_counts()
    people = age_population("scotland").groupby(["sex", "age_band"], observed=True)[
        "population"].sum()
    rate = (counts.reindex(people.index, fill_value=0) / people).unstack()
    esp = dict(ESP2013)
    esp["85+"] = esp["85-89"] + esp["90+"]
    w = pd.Series({b: esp[b] for b in SCOTLAND_AGE_BANDS})
    dsr = (rate[list(SCOTLAND_AGE_BANDS)] * w).sum(axis=1) / w.sum()
    assert dsr["F"] / dsr["M"] == pytest.approx(expected["sex"]["ratio"], rel=0.02)
    assert expected["sex"]["ratio"] == pytest.approx(1.3, rel=0.01)
    ratio = _dsr_by(records, "scotland", _quintiles("scotland"), SCOTLAND_AGE_BANDS)
    ratio = ratio / ratio[5]
    for q in range(1, 6):
        assert ratio[q] == pytest.approx(expected["quintile"]["ratio"][q], rel=0.03)


def test_study_area_subset():
    pack = load_pack_table("england")
    icb = pack[pack["icb_code"] == pack["icb_code"].iloc[0]].index.astype(str)
    spec = SimulationSpec(n_records=5_000, area_codes=tuple(icb), error_fraction=0,
                          lsoa11_fraction=0, postcode_fraction=0)
    records = simulate_activity(spec)
    assert records["lsoa21_code"].isin(icb).all()
    assert expected_rate_ratio(spec)["areas"] == len(icb)
    with pytest.raises(ValueError, match="E01999999"):
        simulate_activity(SimulationSpec(n_records=10, area_codes=("E01000001", "E01999999")))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"n_records": 0}, "n_records"),
    ({"n_records": 10, "country": "wales"}, "wales"),
    ({"n_records": 10, "quintile_rate_ratio": (1, 1, 1, 1)}, "5 positive"),
    ({"n_records": 10, "ethnic_rate_ratio": {"Purple": 1.0}}, "Purple"),
    ({"n_records": 10, "error_fraction": 1.5}, "error_fraction"),
    ({"n_records": 10, "start": dt.date(2025, 1, 2), "end": dt.date(2025, 1, 1)}, "before"),
    ({"n_records": 10, "sites": ()}, "sites"),
])
def test_spec_is_checked(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SimulationSpec(**kwargs)


def test_age_rate_must_cover_every_band():
    spec = SimulationSpec(n_records=10, age_rate={"0-4": 1.0})
    with pytest.raises(ValueError, match="5-9"):
        simulate_activity(spec)


def test_single_parquet_file_equals_the_frame(tmp_path):
    spec = SimulationSpec(n_records=30_000, seed=11)
    path = write_simulated_parquet(spec, tmp_path / "activity.parquet")
    table = pq.read_table(path)
    assert table.schema.metadata[b"fairshare_label"].decode() == SIMULATED_LABEL
    assert b"fairshare_simulation" in table.schema.metadata
    frame = table.to_pandas()
    expected = simulate_activity(spec)
    pd.testing.assert_frame_equal(frame, expected, check_dtype=False, check_categorical=False)
    assert not (tmp_path / "activity.parquet.tmp").exists()


def test_chunked_parquet_file_and_directory(tmp_path):
    spec = SimulationSpec(n_records=25_000, seed=2)
    path = write_simulated_parquet(spec, tmp_path / "big.parquet", chunk_rows=10_000)
    file = pq.ParquetFile(path)
    assert file.metadata.num_rows == 25_000 and file.metadata.num_row_groups == 3
    ids = file.read(columns=["record_id"]).column(0).to_numpy()
    np.testing.assert_array_equal(ids, np.arange(1, 25_001))
    folder = write_simulated_parquet(spec, tmp_path / "parts", chunk_rows=10_000)
    parts = sorted(p.name for p in folder.iterdir())
    assert parts == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    both = pd.concat([pd.read_parquet(folder / p) for p in parts], ignore_index=True)
    assert both["record_id"].tolist() == list(range(1, 25_001))
    assert both["simulated"].all()
    with pytest.raises(ValueError, match="not an empty directory"):
        write_simulated_parquet(spec, folder)
