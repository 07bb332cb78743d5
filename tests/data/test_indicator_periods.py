"""Indicators with several periods: one indicator, a ``period`` column, the latest by
default, another on request, all of them together."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from analysis.data import Indicator, IndicatorError, IndicatorMeta, IndicatorRegistry

BASE = {"id": "trend_demo", "title": "Demo", "description": "d", "unit": "%",
        "polarity": "higher_is_worse", "kind": "outcome", "geography": "lsoa21",
        "source": "s", "licence": "OGL"}


def _package(root, meta: dict, data: pd.DataFrame) -> None:
    folder = root / meta["id"]
    folder.mkdir(parents=True)
    (folder / "indicator.yaml").write_text(yaml.safe_dump(meta), encoding="utf-8")
    data.to_parquet(folder / "data.parquet", index=False)


@pytest.fixture
def registry(tmp_path):
    data = pd.DataFrame({
        "area_code": ["E01000001", "E01000002"] * 3,
        "period": ["2019", "2019", "2021", "2021", "2020", "2020"],
        "value": pd.Series([1.0, 2.0, 5.0, 6.0, 3.0, 4.0], dtype="float32"),
    })
    _package(tmp_path, {**BASE, "period": "2021", "periods": ["2019", "2020", "2021"]}, data)
    _package(tmp_path, {**BASE, "id": "one_period", "period": "2024"},
             pd.DataFrame({"area_code": ["E01000001"], "value": [7.5]}))
    return IndicatorRegistry(tmp_path)


def test_latest_period_by_default_and_others_on_request(registry):
    latest = registry.get("trend_demo")
    assert "period" not in latest.data.columns
    assert latest.values.to_dict() == {"E01000001": 5.0, "E01000002": 6.0}
    assert latest.data["value"].dtype == "float64"  # stored float32, read as float64
    assert registry.get("trend_demo", period="2019").values.tolist() == [1.0, 2.0]
    # one table object per period, so memos keyed by identity stay warm
    assert registry.get("trend_demo").data is registry.get("trend_demo").data
    meta = registry.meta("trend_demo")
    assert meta.periods == ("2019", "2020", "2021") and meta.period == "2021"
    assert meta.multi_period and not registry.meta("one_period").multi_period


def test_unknown_period_names_the_indicator_and_its_periods(registry):
    with pytest.raises(IndicatorError, match=r"'trend_demo' has no period '2018'; its periods "
                                             r"are: 2019, 2020, 2021"):
        registry.get("trend_demo", period="2018")
    with pytest.raises(IndicatorError, match="its periods are: 2024"):
        registry.get("one_period", period="2023")
    assert registry.get("one_period", period="2024").values.tolist() == [7.5]


def test_all_periods_oldest_first(registry):
    every = registry.all_periods("trend_demo")
    assert every["period"].tolist() == ["2019", "2019", "2020", "2020", "2021", "2021"]
    assert every["value"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    single = registry.all_periods("one_period")
    assert single["period"].tolist() == ["2024"] and single["value"].tolist() == [7.5]


def test_metadata_periods_are_checked():
    with pytest.raises(IndicatorError, match="period must be the last of periods"):
        IndicatorMeta.from_mapping({**BASE, "period": "2019", "periods": ["2019", "2020"]})
    with pytest.raises(IndicatorError, match="2020 more than once"):
        IndicatorMeta.from_mapping({**BASE, "period": "2021",
                                    "periods": ["2020", "2020", "2021"]})
    with pytest.raises(IndicatorError, match="list of period labels"):
        IndicatorMeta.from_mapping({**BASE, "period": "2021", "periods": "2021"})
    meta = IndicatorMeta.from_mapping({**BASE, "period": 2021, "periods": [2020, 2021]})
    assert meta.periods == ("2020", "2021")
    assert meta.to_mapping()["periods"] == ["2020", "2021"]
    assert "periods" not in IndicatorMeta.from_mapping({**BASE, "period": "x"}).to_mapping()


def test_data_must_hold_the_listed_periods(tmp_path):
    data = pd.DataFrame({"area_code": ["E01000001", "E01000001"], "period": ["2019", "2022"],
                         "value": [1.0, 2.0]})
    _package(tmp_path, {**BASE, "period": "2021", "periods": ["2019", "2021"]}, data)
    with pytest.raises(IndicatorError, match="periods not in the metadata: 2022; periods "
                                             "without rows: 2021"):
        IndicatorRegistry(tmp_path).get("trend_demo")


def test_a_code_may_repeat_across_periods_but_not_within_one(tmp_path):
    data = pd.DataFrame({"area_code": ["E01000001", "E01000001"], "period": ["2021", "2021"],
                         "value": [1.0, 2.0]})
    _package(tmp_path, {**BASE, "period": "2021", "periods": ["2021"]}, data)
    with pytest.raises(IndicatorError, match="1 duplicate area code"):
        IndicatorRegistry(tmp_path).get("trend_demo")


def test_session_indicator_with_periods(registry):
    meta = IndicatorMeta.from_mapping({**BASE, "id": "upload", "period": "b",
                                       "periods": ["a", "b"]})
    data = pd.DataFrame({"area_code": ["E01000001", "E01000001"], "period": ["a", "b"],
                         "value": [1.0, 2.0]})
    registry.add_session_indicator(Indicator(meta, data))
    assert registry.get("upload").values.tolist() == [2.0]
    assert registry.get("upload").data is registry.get("upload").data
    assert registry.get("upload", period="a").values.tolist() == [1.0]
    assert registry.all_periods("upload")["value"].tolist() == [1.0, 2.0]


def test_shipped_gp_access_indicators_carry_every_year():
    registry = IndicatorRegistry()
    gps = registry.meta("gp_access_gps_per_100k")
    assert gps.periods[0] == "2015-16" and gps.period == "2023-24" and len(gps.periods) == 9
    funding = registry.meta("gp_access_funding_per_resident")
    assert funding.periods == tuple(f"20{y}-{y + 1}" for y in range(14, 23))
    latest = registry.get("gp_access_gps_per_100k")
    assert len(latest.data) == 33_755 and latest.data["area_code"].is_unique
    assert len(registry.all_periods("gp_access_funding_per_resident")) == 9 * 33_755
