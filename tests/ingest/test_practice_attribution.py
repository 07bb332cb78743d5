"""A practice-level Fingertips export attributed to LSOAs 2021 by where patients live: the
estimate (labelled), then the exact registrations file when one is stored; on the Map frame
and in the inverse-care test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.access import registrations
from analysis.access.registrations import (
    ESTIMATE_CAVEAT,
    read_registrations_csv,
    save_registrations,
)
from analysis.data import IndicatorRegistry, load_pack_table
from analysis.explore import equity_panel, study_area_frame
from analysis.ingest import add_indicator
from analysis.ingest.validation import load_indicator_file
from tests.conftest import REPO

WIGAN_FILE = REPO / "tests" / "fixtures" / "indicators" / "fingertips_smoking_wigan.csv"
META = {"id": "qof_smoking_wigan", "title": "Smoking prevalence (QOF, 15+)",
        "description": "Share of registered patients aged 15+ recorded as current smokers",
        "unit": "% of registered patients aged 15+", "polarity": "higher_is_worse",
        "kind": "need", "geography": "auto", "period": "2023/24",
        "source": "OHID Fingertips indicator 91547 (QOF)", "licence": "OGL v3.0",
        "aggregation": "ratio", "map_practices_to": "auto"}


@pytest.fixture
def no_stored_file(tmp_path, monkeypatch):
    path = tmp_path / "registrations" / "registrations.parquet"
    monkeypatch.setattr(registrations, "registrations_path", lambda: path)
    return path


def wigan_lsoas() -> list[str]:
    table = load_pack_table("england")
    return table.loc[table["ltla_code"] == "E08000010", "lsoa21_code"].astype(str).tolist()


def test_practice_export_is_estimated_onto_lsoas_and_labelled(no_stored_file, tmp_path):
    indicator, report = load_indicator_file(WIGAN_FILE, META)
    assert report.ok, report.to_text()
    assert report.attribution == "estimated" and "Attribution: estimated" in report.to_text()
    meta = indicator.meta
    assert meta.geography == "lsoa21" and meta.extra["source_geography"] == "practice"
    assert meta.extra["attribution"] == "estimated"
    # the title, which every chart, legend and heading shows, says it is an estimate
    assert meta.title.endswith("(estimated from GP practices)")
    assert meta.extra["caveats"] == [ESTIMATE_CAVEAT]
    assert ESTIMATE_CAVEAT in meta.description and ESTIMATE_CAVEAT in meta.notes
    assert meta.source.endswith("(practice values attributed to LSOAs 2021: estimated)")
    mapping = [i for i in report.warnings if i.rule == "practice_mapping"]
    assert mapping and mapping[0].message.startswith(ESTIMATE_CAVEAT)
    data = indicator.data.set_index("area_code")
    wigan = wigan_lsoas()
    # the 56 Wigan practices' real 2023/24 values: every LSOA value lies within their range
    source = pd.read_csv(WIGAN_FILE)
    assert data["value"].between(source["Value"].min(), source["Value"].max()).all()
    assert data.index.isin(wigan).sum() >= 0.95 * len(wigan)
    # counts are apportioned: the numerators add back to the practices' (less the few
    # patients in LSOAs left without a value, and the unplaced 2 %)
    assert data["numerator"].sum() == pytest.approx(source["Count"].sum(), rel=0.05)

    added = add_indicator(WIGAN_FILE, META, root=tmp_path / "indicators")
    stored = IndicatorRegistry(tmp_path / "indicators").get("qof_smoking_wigan")
    assert stored.meta.extra["attribution"] == "estimated" and added.report.ok
    registry = IndicatorRegistry()
    registry.add_session_indicator(stored)
    frame = study_area_frame("england", "E08000010", ["qof_smoking_wigan"], registry)
    assert frame["qof_smoking_wigan"].notna().mean() >= 0.95
    panel = equity_panel("england", "E08000010", "qof_smoking_wigan",
                         "gp_access_gps_per_100k", registry)
    assert panel.test.n >= 190
    # and as the need of an allocation across Wigan's LSOAs
    import json

    from analysis.allocation.model import allocate
    from analysis.allocation.scenario import load_scenario

    raw = json.loads((REPO / "data" / "scenarios" / "lsoa-gp-capacity-health-need.json")
                     .read_text(encoding="utf-8"))
    raw["need"].update(components=[{"indicator": "qof_smoking_wigan", "weight": 1.0}],
                       missing="impute_mean")
    raw["area"] = "E08000010"
    (tmp_path / "scenario.json").write_text(json.dumps(raw), encoding="utf-8")
    result = allocate(load_scenario(tmp_path / "scenario.json"), registry=registry)
    assert any("5 neighbourhoods (LSOAs) without qof_smoking_wigan" in n for n in result.notes)


def test_the_registered_file_replaces_the_estimate(no_stored_file, tmp_path):
    # two Wigan practices, all their patients in two LSOAs each (published layout)
    a, b, c = wigan_lsoas()[:3]
    csv = tmp_path / "gp-reg-pat-prac-lsoa-all.csv"
    csv.write_text(
        "PUBLICATION,EXTRACT_DATE,PRACTICE_CODE,PRACTICE_NAME,LSOA_CODE,SEX,NUMBER_OF_PATIENTS\n"
        f"GP_PRAC_PAT_LIST,2024-04-01,P92015,ASPULL,{a},ALL,300\n"
        f"GP_PRAC_PAT_LIST,2024-04-01,P92015,ASPULL,{b},ALL,100\n"
        f"GP_PRAC_PAT_LIST,2024-04-01,P92637,ASTLEY,{b},ALL,100\n"
        f"GP_PRAC_PAT_LIST,2024-04-01,P92637,ASTLEY,{c},ALL,50\n", encoding="utf-8")
    save_registrations(read_registrations_csv(csv))
    assert no_stored_file.is_file()
    indicator, report = load_indicator_file(WIGAN_FILE, META)
    assert report.ok and report.attribution == "registered"
    assert indicator.meta.extra["attribution"] == "registered"
    assert ESTIMATE_CAVEAT not in indicator.meta.description
    data = indicator.data.set_index("area_code")["value"]
    values = pd.read_csv(WIGAN_FILE).set_index("Area Code")["Value"]
    assert data[a] == pytest.approx(values["P92015"])
    assert data[c] == pytest.approx(values["P92637"])
    # b: 100 patients of each practice, so the plain mean of the two values
    assert data[b] == pytest.approx((values["P92015"] + values["P92637"]) / 2)
    assert sorted(data.index) == sorted([a, b, c])
    assert np.isfinite(data).all()
