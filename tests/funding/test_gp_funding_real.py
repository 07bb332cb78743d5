"""GP funding and the inverse care law on the embedded 2014-15 … 2022-23 payments."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from analysis.access import practices_in_area
from analysis.cli import app
from analysis.data import UnknownAreaError
from analysis.funding.deprivation import funding_inverse_care_test
from analysis.funding.payments import load_gp_payments, load_practice_imd

runner = CliRunner()


def test_embedded_payments_cover_nine_years():
    payments = load_gp_payments()
    counts = payments.groupby("year", observed=True).size()
    assert list(counts.index) == [f"{y}-{str(y + 1)[2:]}" for y in range(2014, 2023)]
    assert counts["2022-23"] == 6_669 and counts["2014-15"] == 7_959
    year = payments[payments["year"] == "2022-23"]
    assert year["weighted_patients"].sum() == pytest.approx(62_130_228, rel=1e-6)
    # rates are never divided by zero patients
    no_patients = year["weighted_patients"].fillna(0) <= 0
    assert year.loc[no_patients, "payments_per_weighted_patient"].isna().all()


def test_gp_funding_cli_json_2022_23():
    result = runner.invoke(app, ["gp-funding", "--year", "2022-23", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    quintiles = out["quintiles"]
    assert [q["quintile"] for q in quintiles] == [1, 2, 3, 4, 5]
    total = sum(q["weighted_patients"] for q in quintiles)
    year = load_gp_payments().query("year == '2022-23'")
    with_imd = year[year["practice_code"].isin(
        load_practice_imd().query("imd_year == 2019")["practice_code"])]
    assert total == pytest.approx(with_imd["weighted_patients"].sum(), rel=0.01)
    assert total == pytest.approx(62_130_228, rel=0.01)
    q1, q5 = quintiles[0], quintiles[-1]
    assert q1["per_weighted_patient"] == pytest.approx(155.05, abs=0.01)
    assert q5["per_weighted_patient"] == pytest.approx(170.77, abs=0.01)
    assert out["gap_pct"] == pytest.approx(
        (q1["per_weighted_patient"] - q5["per_weighted_patient"])
        / q5["per_weighted_patient"] * 100, abs=1e-3)
    assert out["gap_pct"] == pytest.approx(-9.20, abs=0.01)
    for q in quintiles:
        assert q["ci_lower"] < q["per_weighted_patient"] < q["ci_upper"]
    assert out["imd_edition"] == "IMD 2019"


def test_gp_funding_without_dispensing_practices_closes_the_gap():
    result = runner.invoke(app, ["gp-funding", "--json", "--no-dispensing"])
    out = json.loads(result.output)
    assert abs(out["gap_pct"]) < 1.5


def test_gp_funding_for_an_icb_and_bad_input():
    result = runner.invoke(app, ["gp-funding", "--json", "--area", "E54000057"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    practices = sum(q["practices"] for q in out["quintiles"])
    assert 300 < practices < 500  # Greater Manchester has about 420 practices
    bad_year = runner.invoke(app, ["gp-funding", "--year", "2031-32"])
    assert bad_year.exit_code == 1 and "years available" in bad_year.output
    scottish = runner.invoke(app, ["gp-funding", "--area", "S12000005"])
    assert scottish.exit_code == 1 and "not in England" in scottish.output


def test_practices_in_area():
    assert practices_in_area(None) is None
    wigan = practices_in_area("E08000010")
    assert 40 < len(wigan) < 80
    gm = set(practices_in_area("E54000057"))
    assert set(wigan) <= gm | set()  # Wigan's practices are Greater Manchester's
    with pytest.raises(UnknownAreaError):
        practices_in_area("E05013673")  # a ward: not a practice geography


def test_inverse_care_test_of_gp_funding_2022_23():
    outcome = funding_inverse_care_test(load_gp_payments(), load_practice_imd(),
                                        year="2022-23")
    result = outcome["result"]
    assert outcome["imd_year"] == 2019
    assert outcome["practices"] == 6_441
    assert outcome["excluded"] == {"without_patients": 206, "without_imd": 19,
                                   "negative_payments": 3, "dispensing": 0,
                                   "codes_not_found": []}
    assert result.slope == pytest.approx(-0.544, abs=0.001)
    assert result.slope_ci[1] < 0 and result.p_value < 0.001
    assert result.verdict.startswith("Provision falls as need rises: an inverse care pattern")
    assert "p < 0.001" in result.verdict
    gradient = result.decile_gradient
    assert list(gradient["decile"]) == list(range(1, 11))


def test_without_dispensing_practices_no_clear_relationship():
    outcome = funding_inverse_care_test(load_gp_payments(), load_practice_imd(),
                                        year="2022-23", include_dispensing=False)
    result = outcome["result"]
    assert outcome["excluded"]["dispensing"] == 944
    assert result.p_value > 0.05
    assert result.verdict.startswith("No clear relationship")
