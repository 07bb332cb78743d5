"""Adding indicator datasets: readers, validation rules, atomic registry operations, CLI.

Fixtures live in ``tests/fixtures/indicators/`` (README there); registries are always temporary
(``tmp_path``), never the repository's ``data/``.
"""

from __future__ import annotations

import builtins
import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from analysis.cli.indicators import indicators_app
from analysis.data import Indicator, IndicatorError, IndicatorRegistry, validate_values
from analysis.ingest import (
    IndicatorExistsError,
    IndicatorValidationError,
    add_indicator,
    detect_geography,
    install_indicator,
    load_indicator_file,
    read_upload,
    recover_registry,
    registry_root,
    remove_indicator,
    shipped_ids,
    validate_file,
)
from analysis.ingest import registry as ingest_registry

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "indicators"
FINGERTIPS = FIXTURES / "fingertips_smoking_excerpt.csv"


def meta(name: str, **changes) -> dict:
    """A metadata fixture as a mapping, with changes."""
    raw = yaml.safe_load((FIXTURES / name).read_text(encoding="utf-8"))
    raw.update(changes)
    return {k: v for k, v in raw.items() if v is not None}


SMOKING = "meta_smoking.yaml"
GENERIC = "meta_generic.yaml"
PLAIN = {k: v for k, v in meta(GENERIC).items() if k != "numerator_column"}


def rules(report, severity: str = "error") -> set[str]:
    items = report.errors if severity == "error" else report.warnings
    return {i.rule for i in items}


def issue(report, rule: str):
    return next(i for i in report.issues if i.rule == rule)


@pytest.fixture
def root(tmp_path) -> Path:
    folder = tmp_path / "data" / "indicators"
    folder.mkdir(parents=True)
    return folder


# ----------------------------------------------------------------------------------------
# Readers: every format and geography


@pytest.mark.parametrize(
    ("fixture", "geography", "areas", "fmt"),
    [
        ("generic_lsoa21.csv", "lsoa21", 12, "CSV"),
        ("ward_values.xlsx", "ward", 8, "XLSX, sheet 'wards'"),
        ("ltla_semicolon.csv", "ltla", 6, "CSV (semicolon-separated)"),
        ("sicbl_tab.tsv", "sicbl", 5, "CSV (tab-separated)"),
        ("icb.csv", "icb", 4, "CSV"),
        ("dz11.csv", "dz11", 6, "CSV"),
        ("practice_generic.csv", "practice", 4, "CSV"),
    ],
)
def test_generic_readers_detect_the_geography(fixture, geography, areas, fmt):
    indicator, report = load_indicator_file(FIXTURES / fixture, PLAIN)
    assert report.ok, report.to_text()
    assert report.geography == geography == indicator.meta.geography
    assert report.format == fmt
    assert len(indicator.data) == areas
    assert indicator.data["area_code"].is_unique
    validate_values(indicator.data, origin=fixture)
    assert "low_coverage" in rules(report, "warning")


def test_generic_csv_tolerates_bom_crlf_spellings_and_thousands_separators():
    indicator, report = load_indicator_file(FIXTURES / "generic_lsoa21.csv", meta(GENERIC))
    assert report.ok, report.to_text()
    data = indicator.data.set_index("area_code")
    assert list(data.columns) == ["value", "numerator", "denominator", "lower_ci", "upper_ci"]
    assert data.loc["E01000005", "numerator"] == 1180  # written "1,180"
    assert data.loc["E01000005", "denominator"] == 12034  # written "12,034"
    assert data.loc["E01000001", "value"] == pytest.approx(10.31)
    assert indicator.meta.numerator_column == ""  # column names are not kept once normalised


def test_semicolon_files_read_decimal_commas():
    indicator, _ = load_indicator_file(FIXTURES / "ltla_semicolon.csv", PLAIN)
    assert indicator.data["value"].tolist() == pytest.approx([10.05, 11.15, 12.25, 13.35,
                                                              14.45, 15.55])


def test_xlsx_reads_numbers_and_text_and_counts_rows_as_the_spreadsheet(tmp_path):
    indicator, _ = load_indicator_file(FIXTURES / "ward_values.xlsx", PLAIN)
    assert sorted(indicator.data["value"]) == pytest.approx(
        [10.5, 11.5, 12.5, 13.5, 14.5, 15.5, 16.5, 17.5])
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Area Code", "Value"])
    sheet.append(["E01000001", 1.5])
    sheet.append([None, None])
    sheet.append(["E01000002", "n.a.!"])
    path = tmp_path / "bad.xlsx"
    book.save(path)
    report = validate_file(path)
    bad = issue(report, "non_numeric")
    assert (bad.row, bad.column) == (4, "Value")


def test_parquet_and_package_folders_are_read(tmp_path, root):
    frame = pd.DataFrame({"area_code": ["E01000001", "E01000002"], "value": [1.0, 2.0]})
    frame.to_parquet(tmp_path / "values.parquet")
    indicator, report = load_indicator_file(tmp_path / "values.parquet", PLAIN)
    assert report.ok and report.format == "Parquet"
    folder, _ = install_indicator(indicator, root=root)
    again = validate_file(folder)  # package folder: its data.parquet with its indicator.yaml
    assert again.ok, again.to_text()
    assert not any(n.startswith("No metadata") for n in again.notes)


def test_comment_lines_utf16_and_windows_1252_are_read():
    text = "# Produced by: Fairshare\n# Licence: OGL\narea_code,value\nE01000001,1\nE01000002,x1\n"
    report = read_upload(text.encode("utf-8"), "export.csv", PLAIN)[1]
    assert issue(report, "non_numeric").row == 5  # the comment lines are rows 1-2
    indicator, report = read_upload("area_code\tvalue\nE01000001\t2\n".encode("utf-16"),
                                    "unicode.txt", PLAIN)
    assert report.ok and indicator.data["value"].tolist() == [2.0]
    indicator, report = read_upload("area_code,value,category\nE01000001,2,Café\n"
                                    .encode("cp1252"), "legacy.csv", PLAIN)
    assert report.ok and "encoding" in rules(report, "warning")
    assert indicator.data["category"].tolist() == ["Café"]


LSOA21 = ["E01000001", "E01000002", "E01000003", "E01000005", "E01000006", "E01000007",
          "E01000008", "E01000009", "E01000011", "E01000012"]


def test_number_spellings():
    values = ['"1,234"', "12.5%", "£3", "−2", "1 234", " 7 ", "[c]", "", "..", "1e3"]
    body = "".join(f"{code},{v}\n" for code, v in zip(LSOA21, values, strict=True))
    indicator, report = read_upload(f"area_code,value\n{body}".encode(), "n.csv",
                                    dict(PLAIN, unit="score"))
    assert report.ok, report.to_text()
    got = indicator.data.set_index("area_code")["value"].reindex(LSOA21).tolist()
    assert got[:6] == [1234, 12.5, 3, -2, 1234, 7] and got[9] == 1000
    assert np.isnan(got[6:9]).all()  # suppressed / blank
    assert "missing_values" in rules(report, "warning")
    ambiguous = read_upload(b'area_code,value\nE01000001,"0,123"\n', "a.csv", PLAIN)[1]
    assert "non_numeric" in rules(ambiguous)  # 0,123 is not a thousands separator


def test_detect_geography_from_codes():
    assert detect_geography(["E01000001", "E01000002"]) == "lsoa21"
    assert detect_geography(["E01000010", "E01000001"]) == "lsoa11"  # E01000010 split in 2021
    assert detect_geography(["E01034473"]) == "lsoa21"
    assert detect_geography(["E01000010", "E01034473"]) is None  # both vintages
    assert detect_geography(["E06000001", "E09000001"]) == "ltla"
    assert detect_geography(["A81001", "K84066"]) == "practice"
    assert detect_geography(["S01006506"]) == "dz11"
    assert detect_geography(["E92000001"]) is None


# ----------------------------------------------------------------------------------------
# Fingertips exports


def test_fingertips_practices_latest_period_without_limits():
    indicator, report = load_indicator_file(FINGERTIPS, meta(SMOKING))
    assert report.ok, report.to_text()
    assert report.format == "Fingertips export, CSV"
    assert indicator.meta.geography == "practice" and indicator.meta.period == "2023/24"
    data = indicator.data.set_index("area_code")
    assert len(data) == 15 and "lower_ci" not in data.columns  # 2023/24 has no limits
    assert data.loc["P92033", "value"] == pytest.approx(18.37349398)  # "The Surgery, Tyldesley"
    assert data.loc["K84066", ["numerator", "denominator"]].tolist() == [390, 496]
    outlier = issue(report, "outlier")
    assert (outlier.row, outlier.column) == (34, "Value") and "K84066" in outlier.message
    latest = load_indicator_file(FINGERTIPS, meta(SMOKING, period="latest"))[0]
    assert latest.meta.period == "2023/24"


def test_fingertips_keeps_confidence_limits_and_reports_closed_practices():
    report = validate_file(FINGERTIPS, meta(SMOKING, period="2022/23"))
    unknown = issue(report, "unknown_codes")
    assert unknown.severity == "error" and (unknown.row, unknown.column) == (17, "Area Code")
    assert "A82058" in unknown.message
    indicator, report = load_indicator_file(
        FINGERTIPS, meta(SMOKING, period="2022/23", drop_unknown_codes=True))
    assert report.ok and "unknown_codes" in rules(report, "warning")
    data = indicator.data.set_index("area_code")
    assert len(data) == 13 and "A82058" not in data.index
    assert data.loc["A81001", ["lower_ci", "upper_ci"]].tolist() == pytest.approx(
        [14.22242703, 16.67249633])
    assert indicator.meta.extra["confidence_level"] == "95%"


def test_fingertips_other_area_types():
    ltla, report = load_indicator_file(FINGERTIPS, meta(SMOKING, geography="ltla",
                                                        period="2022/23"))
    assert report.ok and set(ltla.data["area_code"]) == {
        "E06000001", "E06000002", "E06000003", "E07000008", "E07000009"}  # UA + District
    report = validate_file(FINGERTIPS, meta(SMOKING, geography="sicbl", period="2022/23"))
    unknown = issue(report, "unknown_codes")  # "nE38000246" read as E38000246, not in the pack
    assert "E38000246" in unknown.message and "nE38" not in unknown.message
    icb, report = load_indicator_file(FINGERTIPS, meta(SMOKING, geography="icb",
                                                       period="2022/23"))
    assert report.ok and icb.data["area_code"].tolist() == ["E54000008", "E54000010"]
    county = validate_file(FINGERTIPS, meta(SMOKING, area_type="County", period="2022/23"))
    assert "unknown_geography" in rules(county)
    missing = validate_file(FINGERTIPS, meta(SMOKING, period="2019/20"))
    assert "2022/23, 2023/24" in issue(missing, "fingertips").message
    nothing = validate_file(FINGERTIPS, meta(SMOKING, area_type="PCN"))
    assert "fingertips" in rules(nothing)


def test_practice_values_mapped_to_areas():
    indicator, report = load_indicator_file(
        FINGERTIPS, meta(SMOKING, period="2022/23", drop_unknown_codes=True,
                         map_practices_to="sicbl"))
    assert report.ok and indicator.meta.geography == "sicbl"
    assert indicator.meta.extra["source_geography"] == "practice"
    assert "practice_mapping" in rules(report, "warning")
    # ratio of sums: Σ numerator / Σ denominator of the practices in each sub-ICB location
    data = indicator.data.set_index("area_code")
    assert np.allclose(data["value"], 100 * data["numerator"] / data["denominator"],
                       rtol=1e-6)
    assert "lower_ci" not in data.columns
    bad = validate_file(FINGERTIPS, meta(SMOKING, map_practices_to="msoa"))
    assert issue(bad, "metadata").column == "map_practices_to"


# ----------------------------------------------------------------------------------------
# LSOA 2011 → 2021


def test_lsoa11_counts_are_converted_to_lsoa21():
    indicator, report = load_indicator_file(FIXTURES / "lsoa11_counts.csv",
                                            meta("meta_lsoa11_counts.yaml"))
    assert report.ok, report.to_text()
    assert report.geography == "lsoa11" and indicator.meta.geography == "lsoa21"
    assert indicator.meta.extra["source_geography"] == "lsoa11"
    converted = issue(report, "converted_2011")
    assert converted.severity == "warning" and converted.column == "LSOA11CD"
    assert "1 split, 2 merged, 1 irregular" in converted.message
    data = indicator.data.set_index("area_code")["value"]
    assert data.sum() == pytest.approx(455 + 394 + 600 + 310 + 290 + 240 + 120 + 130)
    assert data["E01035711"] == 600  # merge of E01000852 and E01000854
    assert data[["E01034473", "E01034474"]].sum() == pytest.approx(600)  # split


def test_lsoa11_rates_are_population_weighted():
    body = "lsoa11cd,value,numerator,denominator\nE01000852,10,21,210\nE01000854,20,42,210\n"
    indicator, report = read_upload(body.encode(), "rates.csv", meta(GENERIC, unit="%",
                                                                     numerator_column=None))
    assert report.ok, report.to_text()
    row = indicator.data.set_index("area_code").loc["E01035711"]
    assert 10 < row["value"] < 20 and row["numerator"] == 63 and row["denominator"] == 420


def test_declared_lsoa21_with_2011_codes_hints_at_the_vintage():
    report = validate_file(FIXTURES / "lsoa11_counts.csv",
                           meta("meta_lsoa11_counts.yaml", geography="lsoa21"))
    assert "set geography: lsoa11" in issue(report, "unknown_codes").message


# ----------------------------------------------------------------------------------------
# Validation rules: errors and warnings name the file, row and column


@pytest.mark.parametrize(
    ("fixture", "rule", "row", "column"),
    [
        ("bad_empty.csv", "empty", None, None),
        ("bad_header_only.csv", "empty", 1, None),
        ("bad_binary.csv", "unreadable", None, None),
        ("bad_ragged.csv", "unreadable", 3, None),
        ("bad_old_excel.xls", "unreadable", None, None),
        ("bad_corrupt.xlsx", "unreadable", None, None),
        ("bad_missing_value.csv", "missing_columns", 1, None),
        ("bad_unknown_codes.csv", "unknown_codes", 7, "area_code"),
        ("bad_duplicates.csv", "duplicate_codes", 4, "area_code"),
        ("bad_non_numeric.csv", "non_numeric", 3, "value"),
        ("bad_negative_counts.csv", "impossible_value", 3, "numerator"),
        ("bad_numerator_above_denominator.csv", "impossible_value", 3, "numerator"),
        ("bad_mixed_geographies.csv", "mixed_geographies", 2, "area_code"),
        ("bad_mixed_lsoa_vintages.csv", "mixed_geographies", 3, "area_code"),
        ("bad_ci_order.csv", "impossible_value", 3, "lower_ci"),
    ],
)
def test_bad_files_are_refused_with_file_row_and_column(fixture, rule, row, column):
    report = validate_file(FIXTURES / fixture, dict(PLAIN, unit="score"))
    assert not report.ok
    found = next(i for i in report.errors if (i.rule, i.row, i.column) == (rule, row, column))
    assert found.file.endswith(fixture)
    assert fixture in found.to_text() and "ERROR" in report.to_text()
    assert json.loads(json.dumps(report.to_dict()))["ok"] is False


def test_unknown_codes_count_and_first_ten():
    body = "area_code,value\n" + "".join(f"E0199{i:04d},1\n" for i in range(25))
    report = read_upload(body.encode(), "many.csv", PLAIN)[1]
    message = issue(report, "unknown_codes").message
    assert message.startswith("25 area code(s)") and "and 15 more" in message
    assert message.count("row ") == 10


def test_duplicates_after_normalising_case_and_spaces():
    message = issue(validate_file(FIXTURES / "bad_duplicates.csv"), "duplicate_codes").message
    assert "E01000002" in message and "row 5" in message  # "e01000002 " is E01000002


@pytest.mark.parametrize(
    ("unit", "aggregation", "body", "rule", "severity"),
    [
        ("proportion", "ratio", "E01000001,0.2\nE01000002,1.4\n", "impossible_value", "error"),
        ("%", "ratio", "E01000001,20\nE01000002,140\n", "impossible_value", "error"),
        ("% change", "ratio", "E01000001,20\nE01000002,140\n", None, None),
        ("people", "sum", "E01000001,20\nE01000002,-1\n", "impossible_value", "error"),
        ("score", "population_weighted_mean", "E01000001,20\nE01000002,-1\n", None, None),
    ],
)
def test_impossible_values_depend_on_the_unit(unit, aggregation, body, rule, severity):
    mapping = dict(PLAIN, unit=unit, aggregation=aggregation)
    report = read_upload(f"area_code,value\n{body}".encode(), "u.csv", mapping)[1]
    if rule is None:
        assert report.ok, report.to_text()
    else:
        found = issue(report, rule)
        assert (found.severity, found.row, found.column) == (severity, 3, "value")


def test_numerator_above_denominator_is_a_warning_for_rates_per_population():
    body = b"area_code,value,numerator,denominator\nE01000001,1500,150,100\n"
    report = read_upload(body, "r.csv", dict(PLAIN, unit="attendances per 1,000"))[1]
    assert report.ok and "numerator_above_denominator" in rules(report, "warning")


def test_value_outside_ci_and_bad_deciles():
    body = b"area_code,value,lower_ci,upper_ci,decile\nE01000001,10,11,12,1\nE01000002,5,4,6,11\n"
    report = read_upload(body, "c.csv", PLAIN)[1]
    assert issue(report, "value_outside_ci").row == 2
    assert issue(report, "impossible_value").column == "decile"


def test_outliers_and_coverage_are_warnings():
    report = validate_file(FIXTURES / "warn_outlier.csv", dict(PLAIN, unit="score"))
    assert report.ok
    outlier = issue(report, "outlier")
    assert (outlier.row, outlier.column) == (13, "value") and "E01000014 = 1000" in outlier.message
    assert report.coverage == pytest.approx(12 / 33755)


def test_full_coverage_has_no_coverage_warning():
    from analysis.data import load_pack_table

    codes = sorted(load_pack_table("england")["ltla_code"].unique())
    body = "area_code,value\n" + "".join(f"{c},{i % 7}\n" for i, c in enumerate(codes))
    report = read_upload(body.encode(), "all.csv", PLAIN)[1]
    assert report.ok and report.coverage == 1.0 and "low_coverage" not in rules(report, "warning")


def test_metadata_problems_are_all_listed():
    report = validate_file(FIXTURES / "generic_lsoa21.csv", FIXTURES / "meta_invalid.yaml")
    keys = {i.column for i in report.errors if i.rule == "metadata"}
    assert keys == {"id", "polarity", "licence"}
    assert report.geography == "lsoa21"  # the data were still checked
    assert 'meta_invalid.yaml, key "polarity"' in report.to_text()
    assert not validate_file(FIXTURES / "generic_lsoa21.csv", FIXTURES / "nope.yaml").ok
    report = read_upload(b"area_code,value\nE01000001,1\n", "a.csv", ["not", "a", "mapping"])[1]
    assert "metadata" in rules(report)


def test_metadata_can_name_columns_and_declare_the_geography():
    body = b"where,how much\nE01000001,4\n"
    mapping = dict(PLAIN, area_code_column="where", value_column="How Much")
    indicator, report = read_upload(body, "named.csv", mapping)
    assert report.ok and indicator.data["value"].tolist() == [4.0]
    wrong = read_upload(body, "named.csv", dict(mapping, value_column="amount"))[1]
    assert issue(wrong, "missing_columns").column == "amount"
    mismatch = read_upload(b"area_code,value\nE01000001,4\n", "g.csv",
                           dict(PLAIN, geography="ltla"))[1]
    assert "geography_mismatch" in rules(mismatch)


def test_period_column_is_filtered_by_the_metadata_period():
    body = b"area_code,period,value\nE01000001,2023,1\nE01000001,2024,2\nE01000002,2024,3\n"
    several = read_upload(body, "p.csv", dict(PLAIN, period="2022"))[1]
    assert "period" in rules(several)
    indicator, report = read_upload(body, "p.csv", dict(PLAIN, period="2024"))
    assert report.ok and indicator.data["value"].tolist() == [2.0, 3.0]
    latest, _ = read_upload(body, "p.csv", dict(PLAIN, period="latest"))
    assert latest.meta.period == "2024"


def test_validation_without_metadata_checks_the_data_only():
    report = validate_file(FIXTURES / "icb.csv")
    assert report.ok and report.geography == "icb"
    assert any("No metadata" in n for n in report.notes)
    assert load_indicator_file(FIXTURES / "icb.csv")[0] is None


# ----------------------------------------------------------------------------------------
# Uploads: in memory only, plain-text messages


def test_read_upload_never_writes_to_disk(monkeypatch):
    real_open = builtins.open

    def read_only_open(file, mode="r", *args, **kwargs):
        if any(flag in mode for flag in "wax+"):
            raise AssertionError(f"read_upload wrote to {file}")
        return real_open(file, mode, *args, **kwargs)

    def refuse(*args, **kwargs):
        raise AssertionError("read_upload touched the file system")

    data = {name: (FIXTURES / name).read_bytes() for name in
            ("ward_values.xlsx", "fingertips_smoking_excerpt.csv", "lsoa11_counts.csv")}
    monkeypatch.setattr(builtins, "open", read_only_open)
    for attr in ("replace", "rename", "mkdir", "makedirs"):
        monkeypatch.setattr(os, attr, refuse)
    for name, blob in data.items():
        mapping = {"fingertips_smoking_excerpt.csv": meta(SMOKING),
                   "lsoa11_counts.csv": meta("meta_lsoa11_counts.yaml")}.get(name, PLAIN)
        indicator, report = read_upload(blob, name, mapping)
        assert report.ok and isinstance(indicator, Indicator), report.to_text()


def test_read_upload_limits_and_plain_messages():
    report = read_upload(b"x" * 2000, "big.csv", PLAIN, max_bytes=1000)[1]
    assert issue(report, "too_large").message == "the file is 2.0 kB; the limit is 1.0 kB"
    assert "unreadable" in rules(read_upload(None, "none.csv", PLAIN)[1])  # type: ignore[arg-type]
    assert "metadata" in rules(read_upload(b"area_code,value\nE01000001,1\n", "a.csv", None)[1])
    hostile = b'area_code,value\n"=HYPERLINK(""http://x"")\n<b>",1\nE01000001,<script>\n'
    indicator, report = read_upload(hostile, "../../etc/passwd\r\n<i>.csv", PLAIN)
    assert indicator is None and report.file == "passwd  <i>.csv"
    for found in report.issues:
        assert found.message.isprintable() and found.to_text().isprintable()


# ----------------------------------------------------------------------------------------
# Registry: add, replace, remove, atomicity


def test_add_fingertips_practices_and_lsoa11_into_a_temporary_registry(root):
    result = add_indicator(FINGERTIPS, FIXTURES / SMOKING, root=root)
    assert result.folder == root / "qof_smoking_prevalence" and not result.replaced
    result = add_indicator(FIXTURES / "lsoa11_counts.csv", FIXTURES / "meta_lsoa11_counts.yaml",
                           root=root)
    registry = IndicatorRegistry(root)
    assert registry.ids() == ["people_65_plus_2011", "qof_smoking_prevalence"]
    assert not registry.errors
    smoking = registry.get("qof_smoking_prevalence")
    assert smoking.meta.geography == "practice" and len(smoking.data) == 15
    assert smoking.meta.extra["source_file"] == "fingertips_smoking_excerpt.csv"
    converted = registry.get("people_65_plus_2011")
    assert converted.meta.geography == "lsoa21" and len(converted.data) == 9
    text = (root / "people_65_plus_2011" / "indicator.yaml").read_text(encoding="utf-8")
    assert "value_column" not in text and "source_geography: lsoa11" in text
    assert sorted(p.name for p in root.iterdir()) == [
        "people_65_plus_2011", "qof_smoking_prevalence"]  # nothing else: no lock file


def test_add_uses_fairshare_data_dir(tmp_path, monkeypatch):
    import shutil

    from analysis.access import services
    from analysis.data import geography, lsoa_conversion

    data = tmp_path / "data"
    (data / "indicators").mkdir(parents=True)
    shutil.copytree(REPO / "data" / "geography", data / "geography")
    shutil.copy(REPO / "data" / "services" / "gp_practices.parquet", data / "practices.parquet")
    (data / "services").mkdir()
    (data / "practices.parquet").rename(data / "services" / "gp_practices.parquet")
    monkeypatch.setenv("FAIRSHARE_DATA_DIR", str(data))
    caches = [geography.load_pack_table, lsoa_conversion.load_lookup, services.load_gp_practices]
    for cache in caches:
        cache.cache_clear()
    try:
        assert registry_root() == data / "indicators"
        add_indicator(FIXTURES / "icb.csv", dict(PLAIN, id="icb_values"))
        assert IndicatorRegistry().ids() == ["icb_values"]
    finally:
        monkeypatch.delenv("FAIRSHARE_DATA_DIR")
        for cache in caches:
            cache.cache_clear()


def test_add_refuses_duplicates_and_invalid_files(root):
    add_indicator(FIXTURES / "icb.csv", dict(PLAIN, id="icb_values"), root=root)
    with pytest.raises(IndicatorExistsError, match="already exists"):
        add_indicator(FIXTURES / "icb.csv", dict(PLAIN, id="icb_values"), root=root)
    with pytest.raises(IndicatorValidationError) as caught:
        add_indicator(FIXTURES / "bad_duplicates.csv", dict(PLAIN, id="dups"), root=root)
    assert "duplicate_codes" in rules(caught.value.report)
    with pytest.raises(IndicatorValidationError):
        add_indicator(FIXTURES / "icb.csv", None, root=root)
    with pytest.raises(IndicatorValidationError):
        add_indicator(FIXTURES / "icb.csv", dict(PLAIN, id="../escape"), root=root)
    assert IndicatorRegistry(root).ids() == ["icb_values"]
    assert not (root.parent / "escape").exists()


def test_replace_and_remove(root):
    add_indicator(FIXTURES / "icb.csv", dict(PLAIN, id="values"), root=root)
    result = add_indicator(FIXTURES / "sicbl_tab.tsv", dict(PLAIN, id="values"), root=root,
                           replace=True)
    assert result.replaced
    assert IndicatorRegistry(root).get("values").meta.geography == "sicbl"
    assert remove_indicator("values", root=root) == root / "values"
    assert IndicatorRegistry(root).ids() == []
    with pytest.raises(IndicatorError, match="No indicator"):
        remove_indicator("values", root=root)
    for bad in ("../data", ".staging-x", "", "A"):
        with pytest.raises(IndicatorError, match="must be 1–64"):
            remove_indicator(bad, root=root)


def test_shipped_defaults_need_force(root):
    (root.parent / "manifest.json").write_text(json.dumps(
        {"files": {"indicators/shipped": {}, "geography/x.parquet": {}}}), encoding="utf-8")
    assert shipped_ids(root) == frozenset({"shipped"})
    add_indicator(FIXTURES / "icb.csv", dict(PLAIN, id="shipped"), root=root)
    with pytest.raises(IndicatorError, match="shipped default"):
        remove_indicator("shipped", root=root)
    with pytest.raises(IndicatorError, match="shipped default"):
        add_indicator(FIXTURES / "icb.csv", dict(PLAIN, id="shipped"), root=root, replace=True)
    add_indicator(FIXTURES / "icb.csv", dict(PLAIN, id="shipped"), root=root, replace=True,
                  force=True)
    remove_indicator("shipped", root=root, force=True)
    assert IndicatorRegistry(root).ids() == []
    assert "shipped_one" not in shipped_ids(root.parent / "elsewhere")


def _values(root: Path, indicator_id: str) -> list[float]:
    return IndicatorRegistry(root).get(indicator_id).data["value"].tolist()


def test_failed_swap_restores_the_previous_package(root, monkeypatch):
    add_indicator(FIXTURES / "icb.csv", dict(PLAIN, id="values"), root=root)
    before = _values(root, "values")
    real_replace = os.replace
    calls: list[tuple[str, str]] = []

    def failing_replace(src, dst):
        calls.append((Path(src).name, Path(dst).name))
        if len(calls) == 2:  # staging → values, after values was set aside
            raise OSError("disk full")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        add_indicator(FIXTURES / "sicbl_tab.tsv", dict(PLAIN, id="values"), root=root,
                      replace=True)
    monkeypatch.undo()
    assert calls[0][0] == "values" and calls[0][1].startswith(".replaced-values-")
    assert calls[2] == (calls[0][1], "values")  # put back
    assert _values(root, "values") == before
    assert [p.name for p in root.iterdir() if p.is_dir()] == ["values"]


def test_failed_write_leaves_no_trace(root, monkeypatch):
    add_indicator(FIXTURES / "icb.csv", dict(PLAIN, id="values"), root=root)

    def half_write(folder, indicator):
        (folder / "data.parquet").write_bytes(b"PAR1 half")
        raise OSError("killed")

    monkeypatch.setattr(ingest_registry, "_write_package", half_write)
    with pytest.raises(OSError):
        add_indicator(FIXTURES / "dz11.csv", dict(PLAIN, id="other"), root=root)
    with pytest.raises(OSError):
        add_indicator(FIXTURES / "dz11.csv", dict(PLAIN, id="values"), root=root, replace=True)
    assert IndicatorRegistry(root).ids() == ["values"]
    assert [p.name for p in root.iterdir() if p.is_dir()] == ["values"]


KILL_SCRIPT = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from analysis.ingest import registry

    root, point = Path(sys.argv[1]), sys.argv[2]
    real_replace, real_fsync = os.replace, os.fsync

    def kill():
        os.kill(os.getpid(), signal.SIGKILL)

    def replace(src, dst):
        if point == "between_renames" and Path(dst).name == "values":
            kill()
        return real_replace(src, dst)

    def fsync(fd):
        if point == "while_writing":
            kill()
        return real_fsync(fd)

    os.replace, os.fsync = replace, fsync
    meta = dict(id="values", title="t", description="d", unit="%", polarity="neutral",
                kind="context", geography="auto", period="2024", source="s", licence="OGL")
    registry.add_indicator(sys.argv[3], meta, root=root, replace=True)
    print("not killed")
""")


@pytest.mark.parametrize("point", ["while_writing", "between_renames"])
def test_killed_add_leaves_the_registry_with_its_previous_contents(root, point):
    add_indicator(FIXTURES / "icb.csv", dict(PLAIN, id="values"), root=root)
    before = _values(root, "values")
    done = subprocess.run(
        [sys.executable, "-c", KILL_SCRIPT, str(root), point, str(FIXTURES / "sicbl_tab.tsv")],
        cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == -9, done.stderr  # SIGKILL
    leftovers = [p.name for p in root.iterdir() if p.name.startswith(".") and p.is_dir()]
    assert leftovers  # the kill left a staging or set-aside folder behind …
    registry = IndicatorRegistry(root)  # … yet the registry loads its previous contents
    assert registry.ids() == ["values"] and not registry.errors
    assert _values(root, "values") == before
    assert recover_registry(root)
    assert sorted(p.name for p in root.iterdir()) == ["values"]
    assert _values(root, "values") == before
    add_indicator(FIXTURES / "sicbl_tab.tsv", dict(PLAIN, id="values"), root=root, replace=True)
    assert IndicatorRegistry(root).get("values").meta.geography == "sicbl"


# ----------------------------------------------------------------------------------------
# CLI


def test_cli_commands(root):
    runner = CliRunner()
    at = ["--root", str(root)]

    def run(*args):
        return runner.invoke(indicators_app, list(args))

    done = run("validate", str(FINGERTIPS), "--meta", str(FIXTURES / SMOKING))
    assert done.exit_code == 0 and "Result: OK" in done.output
    done = run("validate", str(FIXTURES / "bad_unknown_codes.csv"))
    assert done.exit_code == 1 and "row 7" in done.output and "E01999999" in done.output
    done = run("validate", str(FIXTURES / "bad_duplicates.csv"), "--json")
    assert done.exit_code == 1 and json.loads(done.output)["errors"][0]["row"] == 4
    done = run("add", str(FINGERTIPS), "--meta", str(FIXTURES / SMOKING), *at)
    assert done.exit_code == 0 and "Added qof_smoking_prevalence" in done.output
    done = run("add", str(FINGERTIPS), "--meta", str(FIXTURES / SMOKING), *at)
    assert done.exit_code == 1 and "already exists" in done.output
    done = run("add", str(FINGERTIPS), "--meta", str(FIXTURES / SMOKING), "--replace", *at)
    assert done.exit_code == 0 and "Replaced" in done.output
    done = run("add", str(FIXTURES / "bad_duplicates.csv"), "--meta", str(FIXTURES / GENERIC),
               *at)
    assert done.exit_code == 1 and "Not added" in done.output
    done = run("list", *at)
    assert done.exit_code == 0 and "qof_smoking_prevalence" in done.output
    listing = json.loads(run("list", "--json", "--geography", "practice", *at).output)
    assert [i["id"] for i in listing["indicators"]] == ["qof_smoking_prevalence"]
    done = run("show", "qof_smoking_prevalence", *at)
    assert done.exit_code == 0 and "15 of 15 areas have a value" in done.output
    shown = json.loads(run("show", "qof_smoking_prevalence", "--json", *at).output)
    assert shown["metadata"]["geography"] == "practice"
    done = run("show", "qof_smoking", *at)
    assert done.exit_code == 1 and "Did you mean" in done.output
    done = run("remove", "../qof_smoking_prevalence", *at)
    assert done.exit_code == 1
    done = run("remove", "qof_smoking_prevalence", *at)
    assert done.exit_code == 0 and IndicatorRegistry(root).ids() == []
    assert run("recover", *at).output.strip() == "Nothing to recover."


def test_cli_as_a_subcommand_of_a_larger_app():
    import typer

    app = typer.Typer()
    app.add_typer(indicators_app, name="indicators")

    @app.command()
    def other() -> None:  # a second command, as in analysis.cli.main
        """Another command."""

    done = CliRunner().invoke(app, ["indicators", "validate", str(FIXTURES / "icb.csv")])
    assert done.exit_code == 0, done.output


# ----------------------------------------------------------------------------------------
# Fuzzing: readers and validator never raise, they report


FUZZ = settings(max_examples=120, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
CODES = ["E01000001", "E01000002", "E01000010", "E01034473", "E05009288", "E06000001",
         "E38000255", "E54000029", "S01006506", "A81001", "K84066", "E92000001", "E02000001",
         "nE38000006", "e01000003 ", "", "X", "=1+1", "E01999999", "A8100"]
CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-10**6, 10**12).map(str),
    st.integers(0, 10**7).map(lambda n: f'"{n:,}"'),
    st.sampled_from(["", "..", "[c]", "x", "12.5%", "£3", "−2", "1,5", "abc", "NaN", '"a,b"']),
    st.text(max_size=8),
)
HEADERS = ["area_code", "Area Code", "code", "LSOA21CD", "value", "Value", "Count",
           "denominator", "Lower CI 95.0 limit", "upper_ci", "period", "decile", "category",
           "Area Type", "Time period", "", "value"]
METAS = st.fixed_dictionaries({}, optional={
    "geography": st.sampled_from(["auto", "lsoa21", "lsoa11", "practice", "ltla", "msoa"]),
    "unit": st.sampled_from(["%", "proportion", "per 1,000", "people", ""]),
    "aggregation": st.sampled_from(["sum", "ratio", "none", "population_weighted_mean", "x"]),
    "period": st.sampled_from(["2024", "latest", "2022/23", ""]),
    "map_practices_to": st.sampled_from(["sicbl", "lsoa21", "keep", "msoa"]),
    "drop_unknown_codes": st.sampled_from([True, False, "yes"]),
    "value_column": st.sampled_from(["value", "nope"]),
})


def _check(indicator, report) -> None:
    assert "internal" not in rules(report), report.to_text()
    assert isinstance(report.to_text(), str) and json.dumps(report.to_dict())
    if report.ok and indicator is not None:
        validate_values(indicator.data, origin="fuzz")
        assert indicator.data["area_code"].is_unique
    if not report.ok:
        assert indicator is None


@FUZZ
@given(data=st.binary(max_size=3000),
       name=st.sampled_from(["f.csv", "f.xlsx", "f.parquet", "f.xls", "f.txt", "f"]))
def test_fuzz_random_bytes(data, name):
    _check(*read_upload(data, name, PLAIN))


@FUZZ
@given(header=st.lists(st.sampled_from(HEADERS), min_size=1, max_size=6),
       rows=st.lists(st.tuples(st.sampled_from(CODES), st.lists(CELLS, max_size=6)),
                     max_size=25),
       sep=st.sampled_from([",", ";", "\t"]), bom=st.booleans(), extra=METAS)
def test_fuzz_structured_csv(header, rows, sep, bom, extra):
    lines = [sep.join(header)]
    lines += [sep.join([code, *cells]) for code, cells in rows]
    data = ("\ufeff" if bom else "") + "\n".join(lines) + "\n"
    _check(*read_upload(data.encode("utf-8"), "fuzz.csv", dict(PLAIN, **extra)))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.tuples(
    st.sampled_from(CODES + [None]),
    st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=False), st.booleans(),
              st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=6),
              st.integers(-5, 5))), max_size=15))
def test_fuzz_xlsx(rows):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Area Code", "Value"])
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    _check(*read_upload(buffer.getvalue(), "fuzz.xlsx", PLAIN))


def test_fingertips_fixture_is_a_real_excerpt():
    lines = FINGERTIPS.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("Indicator ID,Indicator Name,Parent Code")
    assert len(lines) == 46
