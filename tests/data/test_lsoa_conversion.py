"""LSOA 2011 → 2021 conversion on real unchanged, split, merged and irregular cases."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.data.geography import load_pack_table
from analysis.data.lsoa_conversion import (
    convert_lsoa11_to_lsoa21,
    load_lookup,
    lsoa11_name_to_code,
)


def convert(rows: dict[str, tuple[float, float]]):
    frame = pd.DataFrame(
        [(code, count, rate) for code, (count, rate) in rows.items()],
        columns=["lsoa11_code", "count", "rate"],
    )
    return convert_lsoa11_to_lsoa21(frame, counts=["count"], rates=["rate"])


def test_unchanged_code_maps_one_to_one():
    out, report = convert({"E01000001": (100.0, 12.5)})
    assert out.loc["E01000001", "count"] == 100
    assert out.loc["E01000001", "rate"] == 12.5
    assert report.unchanged == 1 and report.output_codes == 1


def test_split_apportions_counts_by_2021_population_and_copies_rates():
    # Barking and Dagenham 015C (E01000010) split into E01034473 (1,267 residents in 2021)
    # and E01034474 (2,250 residents)
    out, report = convert({"E01000010": (3517.0, 40.0)})
    population = load_pack_table("england")["population"]
    assert population["E01034473"] == 1267 and population["E01034474"] == 2250
    assert out.loc["E01034473", "count"] == pytest.approx(1267.0)
    assert out.loc["E01034474", "count"] == pytest.approx(2250.0)
    assert (out["rate"] == 40.0).all()
    assert report.split == 1 and report.output_codes == 2


def test_merge_adds_counts_and_population_weights_rates():
    # Barking and Dagenham 021B (E01000048, mid-2020 pop 878) and 021F (E01033588, pop 1,641)
    # merged into E01034479
    out, report = convert({"E01000048": (10.0, 5.0), "E01033588": (20.0, 8.0)})
    assert out.loc["E01034479", "count"] == 30.0
    assert out.loc["E01034479", "rate"] == pytest.approx((878 * 5.0 + 1641 * 8.0) / (878 + 1641))
    assert report.merged == 2 and report.output_codes == 1


def test_irregular_case_keeps_totals():
    # Gateshead 024C and Northumberland 039D were redrawn (change code X): E01008187 goes
    # partly to E01035637, which also takes all of E01027506
    out, report = convert({"E01008187": (100.0, 1.0), "E01027506": (50.0, 3.0)})
    assert out["count"].sum() == pytest.approx(150.0)
    weight = load_lookup().set_index(["lsoa11_code", "lsoa21_code"])["weight"]
    share = weight[("E01008187", "E01035637")]
    assert out.loc["E01035637", "count"] == pytest.approx(100 * share + 50)
    assert report.irregular == 2


def test_unmatched_codes_are_reported_not_dropped_silently():
    out, report = convert({"E01000001": (1.0, 1.0), "W01000001": (2.0, 2.0),
                           "E01999999": (3.0, 3.0)})
    assert report.unmatched_codes == ("W01000001", "E01999999")
    assert "2 codes not in the lookup" in report.summary()
    assert list(out.index) == ["E01000001"]


def test_duplicates_and_missing_columns_raise():
    frame = pd.DataFrame({"lsoa11_code": ["E01000001", "E01000001"], "count": [1, 2]})
    with pytest.raises(ValueError, match="Duplicate"):
        convert_lsoa11_to_lsoa21(frame, counts=["count"])
    with pytest.raises(ValueError, match="not found"):
        convert_lsoa11_to_lsoa21(frame, counts=["nope"])


def test_whole_country_conversion_preserves_the_total():
    lookup = load_lookup()
    codes = lookup["lsoa11_code"].unique()
    frame = pd.DataFrame({"lsoa11_code": codes, "count": 1.0})
    out, report = convert_lsoa11_to_lsoa21(frame, counts=["count"])
    assert out["count"].sum() == pytest.approx(len(codes))
    assert len(out) == 33_755
    assert report.unmatched_codes == ()


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=30,
                max_size=30))
def test_counts_are_conserved_and_rates_stay_within_range(values):
    lookup = load_lookup()
    codes = (lookup[lookup["change_code"] != "U"]["lsoa11_code"].drop_duplicates()
             .iloc[:30].tolist())
    frame = pd.DataFrame({"lsoa11_code": codes, "count": values, "rate": values})
    out, _ = convert_lsoa11_to_lsoa21(frame, counts=["count"], rates=["rate"])
    assert out["count"].sum() == pytest.approx(sum(values), rel=1e-9, abs=1e-6)
    assert out["rate"].min() >= min(values) - 1e-6
    assert out["rate"].max() <= max(values) + 1e-6


def test_names_to_codes():
    codes = lsoa11_name_to_code(pd.Series(["Hartlepool 009A", "Nowhere 001A"]))
    assert codes.iloc[0] == "E01011949" and pd.isna(codes.iloc[1])
