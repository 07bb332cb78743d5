"""Tests for analysis.funding.payments on real-header fixtures
(tests/fixtures/gp_payments/README.md).

Nothing here reads /work/shared: each fixture is the real header of one published year plus
4-5 real rows copied from it.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.funding.payments import (
    CANONICAL_COLUMNS,
    PAYMENT_GROUPS,
    PAYMENT_LINES,
    YEARS,
    duplicate_practices,
    layout_for_year,
    load_all_payments,
    normalise_header,
    payments_quality_report,
    read_payments_file,
    zero_patient_practices,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "gp_payments"
BOM = b"\xef\xbb\xbf"
BOM_YEARS = {"2014-15", "2020-21", "2021-22", "2022-23"}
ZERO_PATIENT = {
    "2014-15": "Y02822", "2015-16": "K81667", "2016-17": "A81069", "2017-18": "A81008",
    "2018-19": "A81033", "2019-20": "E83629", "2020-21": "F82676", "2021-22": "A82034",
    "2022-23": "A81015",
}
TOTAL = "Total NHS Payments to General Practice"
WEIGHTED = "Number of Weighted Patients (Last Known Figure)"


def fixture(year: str) -> Path:
    return FIXTURES / f"nhs_payments_to_general_practice_{year}.csv"


def raw_frame(year: str) -> pd.DataFrame:
    """The fixture as published (numbers parsed by pandas, thousands separators allowed)."""
    df = pd.read_csv(fixture(year), encoding="utf-8-sig", thousands=",", na_values=["N/A"],
                     skipinitialspace=True)
    df.columns = [" ".join(c.split()) for c in df.columns]
    return df.set_index("Practice Code")


@pytest.fixture(scope="module")
def all_payments() -> pd.DataFrame:
    return load_all_payments(FIXTURES)


def edited_copy(tmp_path: Path, year: str, old: bytes, new: bytes, count: int = 1) -> Path:
    data = fixture(year).read_bytes()
    assert data.count(old) >= 1, old
    out = tmp_path / fixture(year).name
    out.write_bytes(data.replace(old, new, count))
    return out


# --- layouts -------------------------------------------------------------------------


@pytest.mark.parametrize("year", YEARS)
def test_each_layout_maps_to_canonical_columns(year: str) -> None:
    df = read_payments_file(fixture(year), year)
    assert tuple(df.columns) == CANONICAL_COLUMNS
    raw = raw_frame(year)
    assert len(df) == len(raw)
    assert list(df["practice_code"]) == list(raw.index)
    assert (df["year"] == year).all()
    assert df["practice_code"].str.fullmatch(r"[A-Z]\d{5}").all()
    assert df["dispensing"].dtype == "boolean"
    for col in ("registered_patients", "weighted_patients", "total_payments", *PAYMENT_GROUPS):
        assert df[col].dtype == np.float64, col
    pd.testing.assert_series_equal(
        df.set_index("practice_code")["total_payments"], raw[TOTAL].astype(float),
        check_names=False, check_index_type=False)
    # BOM really present in the fixtures that should have one, and handled
    assert fixture(year).read_bytes().startswith(BOM) == (year in BOM_YEARS)


@pytest.mark.parametrize("year", YEARS)
def test_rates_match_published_averages(year: str) -> None:
    """Our payments per patient reproduce NHS England's own 'Average payments per ...'."""
    df = read_payments_file(fixture(year), year).set_index("practice_code")
    raw = raw_frame(year)
    has = df["weighted_patients"] > 0
    for ours, theirs in [("payments_per_weighted_patient", "Average payments per weighted patient"),
                         ("payments_per_registered_patient",
                          "Average payments per registered patient")]:
        np.testing.assert_allclose(df.loc[has, ours], raw.loc[has[has].index, theirs].astype(float),
                                   atol=0.006)


def test_header_variants_drift_between_years() -> None:
    assert normalise_header("\ufeffNHS England (Region) code") == "nhs england (region) code"
    assert normalise_header("Doctors.Retainer.Scheme.Payments") == (
        "doctors retainer scheme payments")
    assert normalise_header("Deductions for Pensions,\n Levies and Prescription Charge Income") == (
        "deductions for pensions, levies and prescription charge income")
    assert normalise_header("  Appraisal Costs ") == "appraisal costs"
    for year in YEARS:
        layout = layout_for_year(year)
        assert ("rurality" in layout.fields) == (year >= "2016-17")
        assert ("pcn participation" in layout.lines) == (year >= "2019-20")
        assert bool(layout.outside) == (year >= "2020-21")


def test_2022_23_relabelled_geography_columns() -> None:
    df = read_payments_file(fixture("2022-23"), "2022-23").set_index("practice_code")
    assert df.at["A81006", "ccg_or_sicb_code"] == "16C"  # 'CCG Code' holds the sub-ICB code
    assert df.at["A83016", "ccg_or_sicb_code"] == "84H"
    assert df.at["A81006", "pcn_code"] == "U07032"  # the column headed just 'Code'
    assert pd.isna(df.at["A81015", "pcn_code"])  # 'Unknown or no PCN'


def test_categoricals_and_postcodes(all_payments: pd.DataFrame) -> None:
    df = all_payments
    assert set(df["contract_type"].dropna()) <= {"GMS", "PMS", "APMS"}
    assert set(df["rurality"].dropna()) <= {"Urban", "Rural"}
    assert df.loc[df["year"] < "2016-17", "rurality"].isna().all()
    assert df.loc[df["year"] >= "2016-17", "rurality"].notna().all()
    early = df.set_index(["year", "practice_code"])
    assert early.at[("2014-15", "N81049"), "postcode"] == "WA16 8HR"  # published 'WA168HR'
    assert early.at[("2022-23", "A83016"), "postcode"] == "DH9 8AD"  # published 'DH9  8AD'
    assert bool(early.at[("2014-15", "N81049"), "dispensing"]) is True
    assert pd.isna(early.at[("2022-23", "A81015"), "dispensing"])  # 'Unknown'
    assert pd.isna(early.at[("2022-23", "A81015"), "contract_type"])  # 'Unknown'


# --- numbers ------------------------------------------------------------------------


def test_thousands_separators_and_stray_spaces_parse() -> None:
    # the fixture row was written as "5,703" and "  1,082,142 " (see the fixture README)
    assert b'"5,703"' in fixture("2014-15").read_bytes()
    df = read_payments_file(fixture("2014-15"), "2014-15").set_index("practice_code")
    assert df.at["N81049", "registered_patients"] == 5703.0
    assert df.at["N81049", "total_payments"] == 1082142.0
    assert df.at["N81049", "deductions"] == -134813.0


def test_blank_payment_line_is_zero_and_parenthesised_negative(tmp_path: Path) -> None:
    # 2014-15 N81022 ends '...,826289,0,0,0,45025,35779,1287798,-85650,1202148': blank the
    # 'Non DES Item' line (0) and write the deductions as an accounting negative '(85,650)'
    path = edited_copy(tmp_path, "2014-15", b",826289,0,0,0,45025,35779,1287798,-85650,",
                       b',826289,,0,0,45025,35779,1287798,"(85,650)",')
    df = read_payments_file(path, "2014-15").set_index("practice_code")
    assert df.at["N81022", "total_payments"] == 1287798.0
    assert df.at["N81022", "other"] == pytest.approx(1287798.0 - 826289 - 45025 - 131804 - 87274)
    assert df.at["N81022", "deductions"] == -85650.0


def test_non_numeric_value_raises_with_file_row_and_column(tmp_path: Path) -> None:
    path = edited_copy(tmp_path, "2022-23", b",5163.25,", b",5163.25x,")
    with pytest.raises(ValueError) as err:
        read_payments_file(path, "2022-23")
    msg = str(err.value)
    assert path.name in msg and "2022-23" in msg
    assert "Number of Registered Patients (Last Known Figure)" in msg
    assert "data row 2" in msg and "A81066" in msg and "5163.25x" in msg


@pytest.mark.parametrize("bad", [b"abc", b"nan", b"inf", b"-", b"1_000", b"12..5"])
def test_non_numbers_are_rejected_not_coerced(tmp_path: Path, bad: bytes) -> None:
    path = edited_copy(tmp_path, "2022-23", b",5163.25,", b"," + bad + b",")
    with pytest.raises(ValueError, match="non-numeric value"):
        read_payments_file(path, "2022-23")


def test_malformed_thousands_separator_raises(tmp_path: Path) -> None:
    path = edited_copy(tmp_path, "2014-15", b'"5,703"', b'"57,03"')
    with pytest.raises(ValueError, match="non-numeric value '57,03'"):
        read_payments_file(path, "2014-15")


# --- fail loudly on an unknown layout -----------------------------------------------


def test_edited_header_raises_naming_missing_column(tmp_path: Path) -> None:
    path = edited_copy(tmp_path, "2022-23", b"Number of Weighted Patients",
                       b"Number of Need-Weighted Patients")
    with pytest.raises(ValueError) as err:
        read_payments_file(path, "2022-23")
    msg = str(err.value)
    assert path.name in msg and "2022-23" in msg
    assert "missing required column(s): weighted_patients" in msg
    assert "headers found" in msg and "Number of Need-Weighted Patients" in msg


def test_renamed_payment_line_raises(tmp_path: Path) -> None:
    path = edited_copy(tmp_path, "2018-19", b"Reimbursement of Drugs", b"Drug Reimbursement")
    with pytest.raises(ValueError, match="payment line 'reimbursement of drugs'"):
        read_payments_file(path, "2018-19")


def test_unrecognised_extra_column_raises(tmp_path: Path) -> None:
    path = edited_copy(tmp_path, "2019-20", b"Other Payments,", b"Other Payments,Surprise,")
    with pytest.raises(ValueError, match="unrecognised or out-of-year column"):
        read_payments_file(path, "2019-20")


def test_wrong_year_for_layout_raises() -> None:
    # the 2022-23 file read as 2014-15 has columns 2014-15 never had (and lacks others)
    with pytest.raises(ValueError, match="2014-15"):
        read_payments_file(fixture("2022-23"), "2014-15")
    with pytest.raises(ValueError, match="no NHS Payments to General Practice layout"):
        read_payments_file(fixture("2022-23"), "2023-24")


def test_line_sum_check_catches_mapping_errors(tmp_path: Path) -> None:
    data = fixture("2019-20").read_bytes()
    row = [ln for ln in data.split(b"\r\n") if b",E83012," in ln][0]
    fields = row.split(b",")
    i = len(fields) - 4  # 'Other Payments' is 4th from the end (total, deductions, net follow)
    fields[i] = str(float(fields[i]) + 1000).encode()
    out = tmp_path / "edited.csv"
    out.write_bytes(data.replace(row, b",".join(fields)))
    with pytest.raises(ValueError, match="do not add up"):
        read_payments_file(out, "2019-20")


# --- zero patients, groups, totals ---------------------------------------------------


def test_zero_patient_practices_excluded_from_rates_and_reported(all_payments) -> None:
    df = all_payments
    zero = zero_patient_practices(df)
    assert set(zip(zero["year"], zero["practice_code"], strict=True)) == set(ZERO_PATIENT.items())
    z = df["weighted_patients"] == 0
    assert df.loc[z, ["payments_per_weighted_patient",
                      "payments_per_registered_patient"]].isna().all().all()
    assert np.isfinite(df.loc[~z, "payments_per_weighted_patient"]).all()
    rep = payments_quality_report(df)
    assert list(rep.index) == list(YEARS)
    assert (rep["zero_or_missing_patients"] == 1).all()
    assert (rep["with_patients"] == rep["practices"] - 1).all()
    assert rep.at["2014-15", "payments_excluded"] == 1814130.0  # the walk-in centre
    # the report's rate uses only practices with patients
    y = df[(df["year"] == "2022-23") & ~z]
    assert rep.at["2022-23", "per_weighted_patient"] == pytest.approx(
        y["total_payments"].sum() / y["weighted_patients"].sum())


def test_missing_patients_are_excluded_too(tmp_path: Path) -> None:
    path = edited_copy(tmp_path, "2022-23", b",8041,9316.36,", b",8041,,")
    df = read_payments_file(path, "2022-23").set_index("practice_code")
    assert np.isnan(df.at["A81005", "weighted_patients"])
    assert np.isnan(df.at["A81005", "payments_per_weighted_patient"])
    assert df.at["A81005", "payments_per_registered_patient"] > 0
    assert "A81005" in set(zero_patient_practices(df.reset_index())["practice_code"])


def test_groups_sum_to_total(all_payments) -> None:
    df = all_payments
    np.testing.assert_allclose(df[list(PAYMENT_GROUPS)].sum(axis=1), df["total_payments"],
                               atol=1e-6)
    assert (payments_quality_report(df)["groups_sum_error"] < 1e-6).all()


@pytest.mark.parametrize("year", YEARS)
def test_named_groups_equal_their_raw_lines(year: str) -> None:
    df = read_payments_file(fixture(year), year).set_index("practice_code")
    raw = raw_frame(year)
    raw.columns = [normalise_header(c) for c in raw.columns]
    for group in PAYMENT_GROUPS[:-1]:
        lines = [k for k, (g, a, b) in PAYMENT_LINES.items() if g == group and a <= year <= b]
        expected = raw[lines].astype(float).sum(axis=1)
        np.testing.assert_allclose(df[group], expected.reindex(df.index), err_msg=group)
    assert (df["pcn"] == 0).all() == (year < "2019-20")


def test_pcn_and_covid_lines_outside_the_headline_total() -> None:
    early = read_payments_file(fixture("2019-20"), "2019-20")
    assert early[["pcn_network_payments", "covid_payments",
                  "total_payments_incl_pcn_covid"]].isna().all().all()
    for year in ("2021-22", "2022-23"):
        df = read_payments_file(fixture(year), year).set_index("practice_code")
        raw = raw_frame(year)
        published = raw["Total NHS Payments to General Practice including Covid and PCN payments"]
        np.testing.assert_allclose(df["total_payments_incl_pcn_covid"],
                                   published.reindex(df.index).astype(float), atol=0.01)
    df = read_payments_file(fixture("2020-21"), "2020-21").set_index("practice_code")
    raw = raw_frame("2020-21")
    with_pcn = raw["Total NHS Payments including PCN Workforce, Leadership and Support"]
    np.testing.assert_allclose(df["total_payments"] + df["pcn_network_payments"],
                               with_pcn.reindex(df.index).astype(float), atol=0.01)
    assert df.at["F82625", "pcn_network_payments"] > 0


# --- loading, duplicates -------------------------------------------------------------


def test_load_all_payments_reads_every_year_and_gzip(tmp_path: Path, all_payments) -> None:
    assert list(all_payments["year"].unique()) == list(YEARS)
    assert len(all_payments) == sum(len(raw_frame(y)) for y in YEARS)
    for year in ("2014-15", "2022-23"):  # one BOM file gzipped, as the raw pack ships them
        with fixture(year).open("rb") as src, gzip.open(
                tmp_path / f"{fixture(year).name}.gz", "wb") as dst:
            shutil.copyfileobj(src, dst)
    gz = load_all_payments(tmp_path)
    expected = all_payments[all_payments["year"].isin(["2014-15", "2022-23"])]
    pd.testing.assert_frame_equal(gz, expected.reset_index(drop=True))
    with pytest.raises(FileNotFoundError):
        load_all_payments(tmp_path / "nowhere")


def test_duplicate_practice_codes_are_reported(all_payments) -> None:
    one = all_payments[all_payments["year"] == "2022-23"]
    doubled = pd.concat([one, one.iloc[[1]]], ignore_index=True)
    dups = duplicate_practices(doubled)
    assert list(dups["practice_code"]) == ["A81066", "A81066"]
    assert payments_quality_report(doubled).at["2022-23", "duplicate_practice_codes"] == 2
    assert duplicate_practices(all_payments).empty
