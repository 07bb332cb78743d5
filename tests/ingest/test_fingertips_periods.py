"""A Fingertips export with several periods kept as one indicator with periods."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from analysis.data import IndicatorRegistry
from analysis.ingest import install_indicator, load_indicator_file
from analysis.ingest.fingertips import fingertips_all_periods

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "indicators"
EXPORT = FIXTURES / "fingertips_smoking_excerpt.csv"


def _meta(**changes) -> dict:
    raw = yaml.safe_load((FIXTURES / "meta_smoking.yaml").read_text(encoding="utf-8"))
    return {**raw, **changes}


def test_every_period_of_the_export_becomes_one_indicator(tmp_path):
    indicator, report = fingertips_all_periods(EXPORT.read_bytes(), EXPORT.name,
                                               _meta(period="all", drop_unknown_codes=True))
    assert report.ok, report.to_text()
    assert indicator.meta.periods == ("2022/23", "2023/24")
    assert indicator.meta.period == "2023/24"
    assert indicator.data.groupby("period").size().to_dict() == {"2022/23": 13, "2023/24": 15}
    assert "left out: 2020/21" in " ".join(report.notes)  # England rows only that year
    # the same rows as the one-period imports
    one, _ = load_indicator_file(EXPORT, _meta(period="2022/23", drop_unknown_codes=True))
    earlier = indicator.for_period("2022/23").by_area
    assert earlier.loc["A81001", "value"] == pytest.approx(
        one.data.set_index("area_code").loc["A81001", "value"])
    assert indicator.by_area.loc["P92033", "value"] == pytest.approx(18.37349398)
    # stored atomically with its checksum, read back as one indicator with periods
    folder, _ = install_indicator(indicator, root=tmp_path)
    registry = IndicatorRegistry(tmp_path)
    assert registry.meta(indicator.meta.id).periods == ("2022/23", "2023/24")
    assert len(registry.get(indicator.meta.id).data) == 15
    assert len(registry.get(indicator.meta.id, period="2022/23").data) == 13
    assert "data_sha256" in (folder / "indicator.yaml").read_text(encoding="utf-8")


def test_single_period_imports_are_unchanged():
    indicator, report = load_indicator_file(EXPORT, _meta())
    assert report.ok and indicator.meta.period == "2023/24"
    assert indicator.meta.periods == () and "period" not in indicator.data.columns


def test_period_all_in_a_yaml_file_reaches_every_reader(tmp_path):
    # the CLI and the Add data page pass metadata as a YAML file or a mapping: both route
    meta = tmp_path / "indicator.yaml"
    meta.write_text(yaml.safe_dump(_meta(period="all", drop_unknown_codes=True)),
                    encoding="utf-8")
    indicator, report = load_indicator_file(EXPORT, meta)
    assert report.ok, report.to_text()
    assert indicator.meta.periods == ("2022/23", "2023/24")
    from analysis.ingest import read_upload

    uploaded, upload_report = read_upload(EXPORT.read_bytes(), EXPORT.name,
                                          _meta(period="ALL", drop_unknown_codes=True))
    assert upload_report.ok and uploaded.meta.period == "2023/24"
    assert set(uploaded.data["period"]) == {"2022/23", "2023/24"}


def test_period_all_on_a_plain_csv_is_refused_with_a_reason(tmp_path):
    plain = tmp_path / "plain.csv"
    plain.write_text("area_code,value\nE01000001,1.5\n", encoding="utf-8")
    indicator, report = load_indicator_file(plain, _meta(period="all"))
    assert indicator is None
    assert "period: all is for Fingertips exports" in report.to_text()
