"""The audit engine's cleaning rules, record by record, on DuckDB: every record is either
counted or left out with exactly one reason, whatever the file looks like."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis.audit import codes as C
from analysis.audit.columns import ColumnError, parse_mapping, recognise_columns
from analysis.audit.engine import (
    ActivityError,
    clean_activity,
    connect,
    count_activity,
    open_activity,
)

# (row, expected reason or None, expected area, band index, sex, ethnic group)
RECORDS = [
    ({"LSOA21_Code": "E01000001", "Age": "34", "Sex": "1", "Ethnic_Category": "A"},
     None, "E01000001", 6, "M", "White"),
    ({"LSOA21_Code": " e01000002 ", "Age": "7", "Sex": "F", "Ethnic_Category": "H - Indian"},
     None, "E01000002", 1, "F", "Asian"),
    ({"LSOA21_Code": "E01000003", "Age": "90", "Sex": "9", "Ethnic_Category": "99"},
     None, "E01000003", 18, "U", C.NOT_STATED),
    ({"LSOA21_Code": "E01000005", "Age": "120", "Sex": "", "Ethnic_Category": "ZZ"},
     None, "E01000005", 18, "U", C.NOT_RECOGNISED),
    ({"LSOA21_Code": "S01006506", "Age": "0", "Sex": "M", "Ethnic_Category": "R"},
     None, "S01006506", 0, "M", "Asian"),
    # a retired 2011 code (split in 2021) takes its best-fit 2021 LSOA
    ({"LSOA21_Code": "", "lsoa11_code": "E01000010", "Age": "50", "Sex": "2",
      "Ethnic_Category": "N"}, None, None, 10, "F", "Black"),
    ({"LSOA21_Code": "", "Age": "40", "Sex": "1", "Ethnic_Category": "A"},
     C.AREA_MISSING, None, 8, "M", "White"),
    ({"LSOA21_Code": "E99999999", "Age": "40", "Sex": "1", "Ethnic_Category": "A"},
     C.AREA_NOT_RECOGNISED, None, 8, "M", "White"),
    ({"LSOA21_Code": "E01000001", "Age": "", "Sex": "1", "Ethnic_Category": "A"},
     C.AGE_MISSING, "E01000001", None, "M", "White"),
    ({"LSOA21_Code": "E01000001", "Age": "150", "Sex": "1", "Ethnic_Category": "A"},
     C.AGE_NOT_VALID, "E01000001", None, "M", "White"),
    ({"LSOA21_Code": "E01000001", "Age": "-1", "Sex": "1", "Ethnic_Category": "A"},
     C.AGE_NOT_VALID, "E01000001", None, "M", "White"),
    ({"LSOA21_Code": "E01000001", "Age": "forty", "Sex": "1", "Ethnic_Category": "A"},
     C.AGE_NOT_VALID, "E01000001", None, "M", "White"),
    # the area check comes first: one reason per record
    ({"LSOA21_Code": "", "Age": "200", "Sex": "1", "Ethnic_Category": "A"},
     C.AREA_MISSING, None, None, "M", "White"),
]


def frame() -> pd.DataFrame:
    rows = [dict({"lsoa11_code": ""}, **r[0]) for r in RECORDS]
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def duck():
    engine = connect("duckdb")
    yield engine
    engine.close()


def cleaned_rows(engine, records: pd.DataFrame, **kwargs) -> pd.DataFrame:
    cleaned = clean_activity(engine, open_activity(engine, records), **kwargs)
    return cleaned.to_pandas()


def test_every_record_gets_its_reason_area_band_sex_and_group(duck):
    records = frame().assign(row=range(len(RECORDS)))
    cleaned = clean_activity(duck, open_activity(duck, records))
    table = cleaned.to_pandas()
    assert len(table) == len(RECORDS)
    reasons = sorted(str(r) for r in table["reason"].fillna("ok"))
    assert reasons == sorted(str(r[1] or "ok") for r in RECORDS)
    counts = count_activity(duck, cleaned)
    assert counts.rows == len(RECORDS)
    included = counts.cells[counts.cells["reason"].isna()]
    assert int(included["events"].sum()) == sum(r[1] is None for r in RECORDS)
    by_reason = counts.cells.dropna(subset=["reason"]).groupby("reason")["events"].sum()
    assert by_reason.to_dict() == {C.AREA_MISSING: 2, C.AREA_NOT_RECOGNISED: 1,
                                   C.AGE_MISSING: 1, C.AGE_NOT_VALID: 3}
    # individual records: area and band (the cleaned rows), sex (the counts)
    placed = table[table["reason"].isna()]
    first = placed[placed["area_code"] == "E01000001"].iloc[0]
    assert int(first["band"]) == 6
    top = placed[placed["area_code"] == "E01000005"].iloc[0]
    assert int(top["band"]) == 18  # 120 is in the 90+ band
    by_area = counts.areas.set_index("area_code")["events"]
    assert set(by_area.index.astype(str)) >= {"E01000001", "E01000002", "E01000003",
                                              "E01000005", "S01006506"}
    assert int(by_area.sum()) == len(placed)
    by_sex = included.groupby("sex", observed=True)["events"].sum().to_dict()
    assert by_sex == {"M": 2, "F": 2, "U": 2}
    # each placed record's unit is its small area's (a block within a deprivation decile)
    from analysis.audit.engine import reference_tables

    units = counts.plan.unit_of_area[reference_tables().areas.get_indexer(
        placed["area_code"].astype(str))]
    assert sorted(included["unit"].repeat(included["events"]).astype(int)) == sorted(units)
    ethnic = counts.ethnicity.groupby("ethnic_group")["events"].sum().to_dict()
    assert ethnic == {"White": 1, "Asian": 2, C.NOT_STATED: 1, C.NOT_RECOGNISED: 1,
                      "Black": 1}


def test_a_retired_lsoa11_code_takes_its_best_fit_2021_lsoa(duck):
    from analysis.data.lsoa_conversion import load_lookup

    lookup = load_lookup()
    split = lookup[lookup["change_code"] == "S"].sort_values(["lsoa11_code", "weight"])
    code = split["lsoa11_code"].iloc[0]
    best = split[split["lsoa11_code"] == code].sort_values("weight").iloc[-1]["lsoa21_code"]
    table = cleaned_rows(duck, pd.DataFrame({"lsoa11_code": [code], "age": ["30"]}))
    assert table["reason"].isna().all()
    assert table["area_code"].tolist() == [best]
    assert table["source"].tolist() == [C.SOURCE_LSOA11]


def test_age_bands_are_accepted_when_there_is_no_age(duck):
    records = pd.DataFrame({"lsoa21_code": ["E01000001"] * 5,
                            "age_band": ["0-4", "85 - 89", "90+", "85 and over", "old"]})
    table = cleaned_rows(duck, records)
    # rows come back in any order (the engine joins); "85 and over" is the coarse 85+ band
    assert sorted(table["band"].fillna(-1).astype(int)) == [-1, 0, 17, 18, 19]
    assert table["reason"].dropna().tolist() == [C.AGE_NOT_VALID]


def test_dates_in_iso_and_day_first_forms(duck):
    records = pd.DataFrame({"lsoa21_code": ["E01000001"] * 4, "age": ["1"] * 4,
                            "event_date": ["2024-01-02", "31/12/2023", "2024-13-01", ""]})
    engine_counts = count_activity(duck, clean_activity(duck, open_activity(duck, records)))
    assert engine_counts.dates == {"first": "2023-12-31", "last": "2024-01-02",
                                   "missing_or_invalid": 2}


def test_csv_parquet_folder_and_glob_give_the_same_counts(duck, tmp_path):
    records = frame()
    records.to_csv(tmp_path / "records.csv", index=False)
    parts = tmp_path / "parts"
    parts.mkdir()
    records.iloc[:6].to_parquet(parts / "a.parquet")
    records.iloc[6:].to_parquet(parts / "b.parquet")
    results = []
    for source in (tmp_path / "records.csv", parts, str(parts / "*.parquet"), records):
        cleaned = clean_activity(duck, open_activity(duck, source))
        counts = count_activity(duck, cleaned)
        results.append((counts.cells, counts.areas, counts.ethnicity))
    for other in results[1:]:
        for first, then in zip(results[0], other, strict=True):
            pd.testing.assert_frame_equal(first, then)


def test_unreadable_sources_name_the_file(duck, tmp_path):
    with pytest.raises(ActivityError, match="no such file"):
        open_activity(duck, tmp_path / "missing.csv")
    (tmp_path / "notes.docx").write_bytes(b"x")
    with pytest.raises(ActivityError, match="not a CSV or Parquet"):
        open_activity(duck, tmp_path / "notes.docx")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ActivityError, match="holds no"):
        open_activity(duck, tmp_path / "empty")
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1 not really")
    with pytest.raises(ActivityError, match="bad.parquet"):
        engine_table = open_activity(duck, bad)
        count_activity(duck, clean_activity(duck, engine_table))


def test_columns_are_recognised_whatever_their_case_and_punctuation():
    roles = recognise_columns(["LSOA21CD", "Age At Attendance", "GENDER", "Ethnicity",
                               "Site Name"]).roles
    assert roles == {"lsoa21_code": "LSOA21CD", "age": "Age At Attendance", "sex": "GENDER",
                     "ethnic_category": "Ethnicity", "site": "Site Name"}
    mapped = recognise_columns(["where", "years"], {"area_code": "where", "age": "YEARS"})
    assert mapped.roles == {"area_code": "where", "age": "years"}


@pytest.mark.parametrize(("columns", "mapping", "message"), [
    (["age", "sex"], None, "no small-area column"),
    (["lsoa21_code", "sex"], None, "no age column"),
    (["lsoa21_code", "age"], {"height": "age"}, "unknown role 'height'"),
    (["lsoa21_code", "age"], {"age": "years"}, "mapped column 'years'"),
    (["Age", "age", "lsoa"], None, "same name"),
])
def test_column_problems_are_named(columns, mapping, message):
    with pytest.raises(ColumnError, match=message):
        recognise_columns(columns, mapping, origin="visits.csv")


def test_mapping_pairs_are_parsed_and_checked():
    assert parse_mapping(["age=AgeYears", " sex = Gender "]) == {"age": "AgeYears",
                                                                 "sex": "Gender"}
    with pytest.raises(ColumnError, match="ROLE=COLUMN"):
        parse_mapping(["age"])


def test_postcodes_place_records_and_say_why_not(duck):
    from analysis.data.postcodes import load_postcode_index

    index = load_postcode_index()
    live = index[(index["country"] == "E") & index["live"] & index["area_code"].notna()].iloc[0]
    dead = index[(index["country"] == "S") & ~index["live"] & index["area_code"].notna()].iloc[0]
    welsh = index[index["country"] == "W"].iloc[0]
    records = pd.DataFrame({
        "postcode": [live["postcode"].lower().replace(" ", ""), f"  {dead['postcode']} ",
                     welsh["postcode"], "ZZ9 9ZZ", "12345", ""],
        "age": ["30"] * 6})
    cleaned = clean_activity(duck, open_activity(duck, records))
    table = cleaned.to_pandas()
    placed = table.dropna(subset=["area_code"])
    assert set(placed["area_code"]) == {live["area_code"], dead["area_code"]}
    assert set(placed["source"]) == {C.SOURCE_POSTCODE_LIVE, C.SOURCE_POSTCODE_TERMINATED}
    assert sorted(table["reason"].dropna()) == sorted([
        C.POSTCODE_OUTSIDE, C.POSTCODE_NOT_FOUND, C.POSTCODE_NOT_VALID, C.AREA_MISSING])


def test_values_as_written_are_tidied_after_counting_and_their_counts_merged(duck):
    """Codes, sex and site are counted as written and tidied once per distinct value: the
    spellings of one value add up to one row, and a blank first area column still falls
    through to the next."""
    records = pd.DataFrame({
        "lsoa21_code": ["E01000001", " e01000001", "   ", None, "E01000001", "E01000001"],
        "lsoa11_code": [None, None, "E01000002", None, None, None],
        "age": ["30", "31", "32", "33", "34", "30"],
        "sex": ["M", " m ", "1", "2", "f", None],
        "site": ["Hub A", " Hub A ", "Hub A", "", None, "Hub B"],
    })
    cleaned = clean_activity(duck, open_activity(duck, records))
    counts = count_activity(duck, cleaned)
    included = counts.cells[counts.cells["reason"].isna()]
    by_area = counts.areas.set_index("area_code")["events"]
    assert {str(k): int(v) for k, v in by_area.items()} == {"E01000001": 4, "E01000002": 1}
    by_sex = included.groupby("sex", observed=True)["events"].sum().to_dict()
    assert by_sex == {"M": 3, "F": 1, "U": 1}
    # one row per (unit, band, sex): the two spellings of male aged 30-34 in E01000001 add up
    from analysis.audit.engine import reference_tables

    unit = counts.plan.unit_of_area[reference_tables().areas.get_loc("E01000001")]
    male = included[(included["unit"] == unit) & (included["sex"] == "M")]
    assert male["events"].tolist() == [2]
    excluded = counts.cells.dropna(subset=["reason"])
    assert excluded.groupby("reason", observed=True)["events"].sum().to_dict() == {
        C.AREA_MISSING: 1}
    sites = counts.splits["site"].groupby("value", observed=True)["events"].sum().to_dict()
    assert sites == {"Hub A": 3, "Hub B": 1, "(not given)": 1}


def test_ages_padded_with_white_space_are_read_and_blank_ones_are_missing(duck):
    records = pd.DataFrame({"lsoa21_code": ["E01000001"] * 7,
                            "age": [" 30 ", "\t41", "52\n", "  ", "", None, "forty"]})
    table = cleaned_rows(duck, records)
    assert sorted(table["band"].dropna().astype(int)) == [6, 8, 10]
    assert table["reason"].dropna().value_counts().to_dict() == {C.AGE_MISSING: 3,
                                                                 C.AGE_NOT_VALID: 1}


def test_closing_the_engine_removes_its_spill_folder():
    engine = connect("duckdb")
    spill = Path(engine.spill_dir)
    assert spill.is_dir() and spill.name.startswith("fairshare-audit-")
    engine.close()
    assert not spill.exists()
    engine.close()  # closing twice is harmless


@pytest.mark.parametrize(("flags", "expected"), [
    ([True, True], True), (["True", "true"], True), ([True, False], False),
    (["yes", "True"], False), (None, False)])
def test_records_are_labelled_simulated_only_when_every_one_says_so(duck, flags, expected):
    records = pd.DataFrame({"lsoa21_code": ["E01000001", "E01000002"], "age": ["30", "40"]})
    if flags is not None:
        records["simulated"] = flags
    counts = count_activity(duck, clean_activity(duck, open_activity(duck, records)))
    assert counts.simulated is expected
