"""NHS England's practice weighted populations: the build on small fixtures, the embedded
table's real totals, aggregation sums and the need index (registered-weighted mean 1)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.build.raw import RawDataError
from analysis.build.weighted_populations import NUMBER_COLUMNS, weighted_population_table
from analysis.funding.weighted_populations import (
    load_weighted_populations,
    weighted_population_index,
    weighted_populations_by,
)

GEOGRAPHY = pd.DataFrame({"sicbl_code_nhs": ["16C", "X2C4Y"],
                          "sicbl_code": ["E38000247", "E38000261"],
                          "icb_code_nhs": ["QHM", "QWO"],
                          "icb_code": ["E54000050", "E54000054"]})


def _raw(**changes) -> pd.DataFrame:
    raw = pd.DataFrame({"Practice_Code": ["A81001", "Y07275"], "CCG21": ["16C", "X2C4Y"],
                        "ICS22": ["QHM", "QWO"], "PCN_Code": [None, None]})
    for i, column in enumerate(NUMBER_COLUMNS):
        raw[column] = [f"{1000 + i:,}.5", "200"]
    for column, values in changes.items():
        raw[column] = values
    return raw


def test_build_reads_thousands_separators_and_maps_ods_to_gss():
    table = weighted_population_table(_raw(), "2024-25", GEOGRAPHY, "fixture.csv",
                                      pcn=pd.Series({"A81001": "U89141"}))
    first = table.iloc[0]
    assert first["registered"] == 1000.5  # "1,000.5"
    assert first["final_wp"] == 1008.5  # the ninth number column: "1,008.5"
    assert table["sicbl_code"].tolist() == ["E38000247", "E38000261"]
    assert table["icb_code"].tolist() == ["E54000050", "E54000054"]
    assert first["pcn_code"] == "U89141" and pd.isna(table.iloc[1]["pcn_code"])


@pytest.mark.parametrize(("changes", "words"), [
    ({"Practice_Code": ["A81001", "Total"]}, "line 3 ('Total')"),
    ({"Practice_Code": ["A81001", "A81001"]}, "listed twice"),
    ({"MH WP": ["12", "n/a"]}, "'MH WP' is not a number at line 3"),
    ({"Mat WP": ["-1", "2"]}, "'Mat WP' is negative at line 2"),
    ({"ICS22": ["QHM", "QZZ"]}, "'ICS22' holds ODS codes"),
])
def test_build_refuses_bad_rows_naming_line_and_column(changes, words):
    with pytest.raises(RawDataError, match="fixture.csv") as info:
        weighted_population_table(_raw(**changes), "2024-25", GEOGRAPHY, "fixture.csv")
    assert words in str(info.value)


def test_build_names_a_missing_column():
    with pytest.raises(RawDataError, match="missing column.*Prescr WP"):
        weighted_population_table(_raw().drop(columns="Prescr WP"), "2024-25", GEOGRAPHY,
                                  "fixture.csv")


def test_embedded_table_real_numbers():
    table = load_weighted_populations("2024-25")
    assert len(table) == 6553
    # NHS England scales every component to the registered list nationally
    total = table["registered"].sum()
    assert total == pytest.approx(62_154_630.3, abs=0.1)
    for column in ("ga_wp", "mh_wp", "pmc_wp", "final_wp"):
        assert table[column].sum() == pytest.approx(total, rel=1e-9)
    row = table.set_index("practice_code").loc["A81001"]  # The Densham Surgery, hand-read
    assert row["registered"] == pytest.approx(4068.906409)
    assert row["pmc_wp"] == pytest.approx(4606.377257)
    assert row["icb_code"] == "E54000050" and row["sicbl_code"] == "E38000247"
    assert load_weighted_populations("2023-24")["registered"].sum() == pytest.approx(
        61_903_547.3, abs=0.1)
    with pytest.raises(ValueError, match="2023-24, 2024-25"):
        load_weighted_populations("2025-26")


def test_aggregation_sums_and_index_mean_one():
    table = load_weighted_populations("2024-25")
    icb = weighted_populations_by(table, "icb")
    assert len(icb) == 42
    assert icb["pmc_wp"].sum() == pytest.approx(table["pmc_wp"].sum())
    tees = table.loc[table["icb_code"] == "E54000050", "pmc_wp"].sum()
    assert icb.loc["E54000050", "pmc_wp"] == pytest.approx(tees)
    pcn = weighted_populations_by(table, "pcn")
    assert len(pcn.attrs["without_area"]) == 148  # no PCN in the 2022-23 payments file
    assert len(weighted_populations_by(table, "sicbl")) == 106
    index = weighted_population_index(icb, "pmc")
    assert np.average(index, weights=icb["registered"]) == pytest.approx(1.0)
    hand = (icb.loc["E54000050", "pmc_wp"] / icb.loc["E54000050", "registered"]) / (
        icb["pmc_wp"].sum() / icb["registered"].sum())
    assert index["E54000050"] == pytest.approx(hand)
    assert index.min() == pytest.approx(0.9519, abs=1e-4)  # E54000015
    assert index.max() == pytest.approx(1.0608, abs=1e-4)  # E54000022
    practice = weighted_population_index(weighted_populations_by(table, "practice"), "pmc")
    assert practice["A81001"] == pytest.approx(4606.377257 / 4068.906409)
    with pytest.raises(ValueError, match="component"):
        weighted_population_index(icb, "dental")
