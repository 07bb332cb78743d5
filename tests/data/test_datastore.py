"""Missing or corrupt data files give a clear message naming the file."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from analysis.cli import app
from analysis.data.catalogue import dataset_info
from analysis.data.datastore import DataFileError, data_path, read_parquet
from analysis.data.geography import load_pack_table


def test_missing_file_is_named(data_copy):
    (data_copy / "geography" / "england_lsoa21.parquet").unlink()
    with pytest.raises(DataFileError, match="england_lsoa21.parquet is missing"):
        load_pack_table("england")


def test_corrupt_file_is_named(data_copy):
    (data_copy / "services" / "gp_practices.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(DataFileError, match="gp_practices.parquet is not a readable Parquet"):
        read_parquet("services/gp_practices.parquet")


def test_missing_column_is_named(data_copy):
    with pytest.raises(DataFileError, match="lacks column"):
        read_parquet("services/stroke_units.parquet", columns=["no_such_column"])


def test_paths_cannot_escape_the_data_directory():
    with pytest.raises(DataFileError, match="outside the data directory"):
        data_path("../pyproject.toml")


def test_cli_reports_a_corrupt_file_without_a_traceback(data_copy):
    (data_copy / "manifest.json").write_text("{ not json", encoding="utf-8")
    result = CliRunner().invoke(app, ["info"])
    assert result.exit_code == 1
    assert "manifest.json is not valid JSON" in result.output
    assert "Traceback" not in result.output


def test_broken_indicator_package_is_reported_by_info(data_copy):
    meta = data_copy / "indicators" / "ruc2021_rural" / "indicator.yaml"
    meta.write_text("id: ruc2021_rural\npolarity: [unclosed", encoding="utf-8")
    facts = dataset_info()
    assert any("ruc2021_rural" in e for e in facts["indicator_errors"])
    assert facts["indicators"] >= 15
