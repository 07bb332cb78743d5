"""The indicator model: metadata validation, packages on disk, session isolation."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from analysis.data.indicators import (
    Indicator,
    IndicatorError,
    IndicatorMeta,
    IndicatorRegistry,
    validate_values,
)

GOOD = {
    "id": "test_indicator",
    "title": "Test",
    "description": "A test indicator.",
    "unit": "%",
    "polarity": "higher_is_worse",
    "kind": "need",
    "geography": "lsoa21",
    "period": "2024",
    "source": "Unit test",
    "licence": "Open Government Licence v3.0",
}


def test_metadata_round_trip():
    meta = IndicatorMeta.from_mapping({**GOOD, "custom_key": "kept"})
    assert meta.higher_is_worse
    assert meta.to_mapping()["custom_key"] == "kept"
    assert IndicatorMeta.from_mapping(meta.to_mapping()) == meta


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"title": ""}, "missing metadata key"),
        ({"polarity": "up"}, "polarity is 'up'"),
        ({"kind": "spending"}, "kind is 'spending'"),
        ({"geography": "msoa"}, "geography is 'msoa'"),
        ({"id": "../etc/passwd"}, "must be 1–64 characters"),
        ({"id": "Bad Id"}, "must be 1–64 characters"),
        ({"decimals": "two"}, "decimals must be a whole number from 0 to 10"),
        ({"decimals": 1_000_000_000}, "decimals must be a whole number from 0 to 10"),
        ({"decimals": -1}, "decimals must be a whole number from 0 to 10"),
        ({"id": "evil\n"}, "must be 1–64 characters"),
    ],
)
def test_metadata_errors_name_the_field(change, message):
    with pytest.raises(IndicatorError, match=message):
        IndicatorMeta.from_mapping({**GOOD, **change}, origin="upload.yaml")


def test_metadata_must_be_a_mapping():
    with pytest.raises(IndicatorError, match="must be a mapping"):
        IndicatorMeta.from_mapping(["not", "a", "mapping"])  # type: ignore[arg-type]


def test_value_table_validation():
    with pytest.raises(IndicatorError, match="missing column"):
        validate_values(pd.DataFrame({"code": ["E01000001"], "value": [1]}), origin="f.csv")
    with pytest.raises(IndicatorError, match="duplicate area code"):
        validate_values(pd.DataFrame({"area_code": ["A", "A"], "value": [1, 2]}), origin="f")
    with pytest.raises(IndicatorError, match="row 3: 'abc'"):
        validate_values(pd.DataFrame({"area_code": ["A", "B"], "value": ["1", "abc"]}),
                        origin="f")
    with pytest.raises(IndicatorError, match="no rows"):
        validate_values(pd.DataFrame({"area_code": [], "value": []}), origin="f")


def write_package(root, meta, rows):
    folder = root / meta["id"]
    folder.mkdir(parents=True)
    (folder / "indicator.yaml").write_text(yaml.safe_dump(meta), encoding="utf-8")
    pd.DataFrame(rows).to_csv(folder / "data.csv", index=False)
    return folder


def test_registry_reads_packages_and_reports_broken_ones(tmp_path):
    write_package(tmp_path, GOOD, {"area_code": ["E01000001"], "value": [2.5]})
    write_package(tmp_path, {**GOOD, "id": "broken", "polarity": "sideways"},
                  {"area_code": ["E01000001"], "value": [1]})
    (tmp_path / ".staging-x").mkdir()  # a half-finished add is ignored
    registry = IndicatorRegistry(tmp_path)
    assert registry.ids() == ["test_indicator"]
    assert len(registry.errors) == 1 and "sideways" in registry.errors[0]
    assert registry.get("test_indicator").values["E01000001"] == 2.5


def test_folder_and_id_must_agree(tmp_path):
    folder = write_package(tmp_path, GOOD, {"area_code": ["E01000001"], "value": [1]})
    folder.rename(tmp_path / "other_name")
    registry = IndicatorRegistry(tmp_path)
    assert registry.ids() == [] and "differs from its folder" in registry.errors[0]


def test_unknown_indicator_suggests_close_ids():
    registry = IndicatorRegistry()
    with pytest.raises(KeyError, match="imd2025_score"):
        registry.get("imd2025_scor")


def test_session_indicators_stay_in_their_registry():
    mine, theirs = IndicatorRegistry(), IndicatorRegistry()
    upload = Indicator(IndicatorMeta.from_mapping({**GOOD, "id": "my_upload"}),
                       pd.DataFrame({"area_code": ["E01000001"], "value": [1.0]}))
    mine.add_session_indicator(upload)
    assert "my_upload" in mine.ids()
    assert "my_upload" not in theirs.ids()
    with pytest.raises(KeyError):
        theirs.get("my_upload")


def test_session_indicator_cannot_shadow_a_shipped_one():
    registry = IndicatorRegistry()
    clash = Indicator(IndicatorMeta.from_mapping({**GOOD, "id": "imd2025_score"}),
                      pd.DataFrame({"area_code": ["E01000001"], "value": [1.0]}))
    with pytest.raises(IndicatorError, match="already used"):
        registry.add_session_indicator(clash)
