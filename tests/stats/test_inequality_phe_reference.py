"""Reference tests: ``slope_index`` against outputs published by OHID/PHE's ``phe_sii``.

Sources (full citations in the CSV headers):

* Outputs: the tables printed by the rendered vignette "Worked examples for phe_sii function" of
  the R package PHEindicatormethods, from three package builds: 2.0.2.9001 (transform = TRUE for
  rates and proportions), 1.3.2 and 1.2.0 (before ``transform`` existed, i.e. transform = FALSE).
  ``tests/fixtures/phe_sii_reference_outputs.csv``.
* Inputs: the vignette uses the package datasets ``LE_data``, ``DSR_data`` and
  ``prevalence_data``, which ship only as binary ``.rda``. Their text sources are the CSVs
  ``LE_testdata.csv``, ``DSR_testdata.csv`` and ``NCMP_testdata.csv`` in the package repository's
  ``tests/testthat``; transcribed to
  ``tests/fixtures/phe_sii_reference_{le,dsr,prevalence}_data.csv``.
  That they are the same data is shown by the point estimates below agreeing to the printed
  precision (7 significant figures) for every one of the 56 published rows.

What is compared:

* SII and RII, to 1e-4 relative (printed to 7 significant figures; the observed agreement is
  better than 1e-6).
* Intercept: the vignette never prints it, but wherever it prints both SII and RII (the DSR
  example, multiplier 1) the intercept is implied: ``SII / (RII - 1)`` is ``beta0`` without
  transform and ``g^-1(beta0)`` with it, which is what ``slope_index`` returns in each case.
* Confidence limits are Monte Carlo order statistics, here from numpy's generator and there from
  R's, so they can only agree to simulation error. PHE's own tests (testSII.R, ``expect_equal(...,
  tolerance = 0.05)``, testthat edition 3, i.e. waldo's ``num_equal``) allow a 5% *relative*
  difference (mean absolute difference divided by the absolute mean expected value; it only
  becomes an absolute difference when that mean is 0.05 or less). That criterion is asserted, and
  also a much tighter one derived from the simulation error itself: the standard error of an
  order-statistic quantile estimate is ``sqrt(q (1 - q) / n) / f(x_q)``; ``f`` is estimated from
  our own run by a finite difference of limits at neighbouring confidence levels, and both runs'
  errors are combined. Limits are compared only where PHE's order statistic lies at least 20 draws
  from either end of its sample, so that this normal approximation holds: all limits of the
  100,000-repetition examples, and the 95% (not the 99.8%) limits of the 1,000-repetition life
  expectancy example. At 1,000 repetitions phe_sii's 99.8% limits are order statistics 1 and 999,
  i.e. nearly the extreme draws, too noisy to compare.
"""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path

import pandas as pd
import pytest

from analysis.stats.sii import SlopeIndexResult, slope_index

DATA = Path(__file__).resolve().parents[1] / "fixtures"
OUTPUTS = pd.read_csv(
    DATA / "phe_sii_reference_outputs.csv", comment="#", dtype={"group": str, "build": str}
)
LE_DATA = pd.read_csv(DATA / "phe_sii_reference_le_data.csv", comment="#")
DSR_DATA = pd.read_csv(DATA / "phe_sii_reference_dsr_data.csv", comment="#")
PREVALENCE_DATA = pd.read_csv(
    DATA / "phe_sii_reference_prevalence_data.csv", comment="#", dtype={"SchoolYear": str}
)

POINT_TOLERANCE = 1e-4  # relative
PHE_TEST_TOLERANCE = 0.05  # relative, as testSII.R's expect_equal(tolerance = 0.05)
MONTE_CARLO_SIGMAS = 4.0
MIN_ORDER_STATISTIC = 20  # smallest PHE order-statistic position whose limits are compared
DEFAULT_REPETITIONS = 100_000  # slope_index's default, used for every run here
SEED = 20_240_601
LEVEL = 0.95
LEVEL_STEP = 0.02  # neighbouring confidence levels used to estimate the density at a limit

CASES = [
    pytest.param(index, id=f"{row.build}-{row.example}-{row.group}")
    for index, row in OUTPUTS.iterrows()
]


def _row(index: int) -> pd.Series:
    return OUTPUTS.loc[index]


def _arguments(row: pd.Series) -> tuple[pd.Series, pd.Series, dict[str, object]]:
    """The phe_sii call of the vignette example, as slope_index arguments."""
    options: dict[str, object] = {
        "value_type": row["value_type"],
        "transform": bool(row["transform"]),
        "multiplier": float(row["multiplier"]),
    }
    if row["example"] == "le":
        data = LE_DATA[(LE_DATA["Sex"] == 1) & (LE_DATA["GeoCode"] == row["group"])]
        data = data.sort_values("Decile")
        return data["LifeExp"], data["Pop"], {**options, "standard_errors": data["SE"]}
    if row["example"] == "dsr":
        data = DSR_DATA[DSR_DATA["Period"] == int(row["group"])].sort_values("Quintile")
        limits = {"lower_cl": data["lowercl"], "upper_cl": data["uppercl"]}
        return data["value"], data["total_pop"], {**options, **limits}
    period, school_year = row["group"].split("/")
    selected = (PREVALENCE_DATA["Period"] == int(period)) & (
        PREVALENCE_DATA["SchoolYear"] == school_year
    )
    data = PREVALENCE_DATA[selected].sort_values("Decile")
    # The vignette divides the percentages by 100 before calling phe_sii.
    limits = {"lower_cl": data["LCL"] / 100, "upper_cl": data["UCL"] / 100}
    return data["Rate"] / 100, data["Measured"], {**options, **limits}


@cache
def _result(index: int) -> SlopeIndexResult:
    """One run per published row: 95% plus two neighbouring levels for the density estimate."""
    values, populations, options = _arguments(_row(index))
    levels = (LEVEL, LEVEL - LEVEL_STEP, LEVEL + LEVEL_STEP)
    return slope_index(
        values,
        populations,
        confidence=levels,
        repetitions=DEFAULT_REPETITIONS,
        seed=SEED,
        **options,  # type: ignore[arg-type]
    )


def _relative_error(actual: float, expected: float) -> float:
    return abs(actual - expected) / abs(expected)


# ---------------------------------------------------------------------------------------------
# Fixtures were transcribed completely
# ---------------------------------------------------------------------------------------------


def test_reference_inputs_have_every_quantile_once() -> None:
    le_counts = LE_DATA.groupby("GeoCode")["Decile"].apply(sorted)
    assert len(le_counts) == 10
    assert all(deciles == list(range(1, 11)) for deciles in le_counts)
    dsr_counts = DSR_DATA.groupby("Period")["Quintile"].apply(sorted)
    assert list(dsr_counts.index) == list(range(2010, 2016))
    assert all(quintiles == list(range(1, 6)) for quintiles in dsr_counts)
    prevalence_counts = PREVALENCE_DATA.groupby(["Period", "SchoolYear"])["Decile"].apply(sorted)
    assert len(prevalence_counts) == 10
    assert all(deciles == list(range(1, 11)) for deciles in prevalence_counts)
    assert set(PREVALENCE_DATA["AreaCode"]) == {"E92000001"}


def test_reference_outputs_cover_every_published_row() -> None:
    counts = OUTPUTS.groupby(["build", "example"]).size().to_dict()
    assert counts == {
        ("1.2.0", "dsr"): 6,
        ("1.3.2", "dsr"): 6,
        ("1.3.2", "le"): 10,
        ("1.3.2", "prevalence"): 10,
        ("2.0.2.9001", "dsr"): 6,
        ("2.0.2.9001", "le"): 10,
        ("2.0.2.9001", "prevalence"): 10,
    }


# ---------------------------------------------------------------------------------------------
# Point estimates
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("index", CASES)
def test_sii_matches_phe(index: int) -> None:
    row = _row(index)
    result = _result(index)
    assert result.sii == pytest.approx(row["sii"], rel=POINT_TOLERANCE), (result.sii, row["sii"])


@pytest.mark.parametrize(
    "index", [case for case in CASES if not math.isnan(_row(case.values[0])["rii"])]
)
def test_rii_matches_phe(index: int) -> None:
    row = _row(index)
    result = _result(index)
    assert result.rii == pytest.approx(row["rii"], rel=POINT_TOLERANCE), (result.rii, row["rii"])


@pytest.mark.parametrize(
    "index", [case for case in CASES if not math.isnan(_row(case.values[0])["rii"])]
)
def test_intercept_matches_the_one_implied_by_phe_sii_and_rii(index: int) -> None:
    row = _row(index)
    assert row["multiplier"] == 1  # the identity below needs an unscaled SII
    implied_intercept = row["sii"] / (row["rii"] - 1.0)
    result = _result(index)
    assert result.intercept == pytest.approx(implied_intercept, rel=POINT_TOLERANCE), (
        result.intercept,
        implied_intercept,
    )


# ---------------------------------------------------------------------------------------------
# Monte Carlo confidence limits
# ---------------------------------------------------------------------------------------------

_LIMITS = {
    "sii_lower95": ("sii_lower", 0),
    "sii_upper95": ("sii_upper", 0),
    "rii_lower95": ("rii_lower", 0),
    "rii_upper95": ("rii_upper", 0),
}


def _limit(result: SlopeIndexResult, name: str, level_index: int) -> float:
    return float(getattr(result, name)[level_index])


def _simulation_standard_error(result: SlopeIndexResult, name: str, phe_repetitions: int) -> float:
    """Combined simulation standard error of phe_sii's and our estimate of one limit.

    An order statistic estimating the quantile ``x_q`` from ``n`` draws has standard error
    ``sqrt(q (1 - q) / n) / f(x_q)``. The density ``f`` is a finite difference: the limits at
    confidence ``LEVEL -/+ LEVEL_STEP`` are the quantiles ``LEVEL_STEP`` apart in probability.
    """
    spread = abs(_limit(result, name, 2) - _limit(result, name, 1))
    density = LEVEL_STEP / spread
    tail = (1.0 - LEVEL) / 2.0
    per_draw = math.sqrt(tail * (1.0 - tail)) / density
    return per_draw * math.sqrt(1.0 / phe_repetitions + 1.0 / DEFAULT_REPETITIONS)


def _compared_limits(row: pd.Series) -> list[str]:
    """The published 95% limits of a row, if PHE's simulation was large enough to compare.

    The 99.8% limits (published only at 1,000 repetitions) are never compared.
    """
    tail = (1.0 - LEVEL) / 2.0
    if round(int(row["repetitions"]) * tail) < MIN_ORDER_STATISTIC:
        return []
    return [column for column in _LIMITS if not math.isnan(row[column])]


LIMIT_CASES = [case for case in CASES if _compared_limits(_row(case.values[0]))]


def test_every_published_row_has_its_95_percent_limits_compared() -> None:
    assert len(LIMIT_CASES) == len(OUTPUTS)


@pytest.mark.parametrize("index", LIMIT_CASES)
def test_limits_match_phe_within_simulation_error(index: int) -> None:
    row = _row(index)
    result = _result(index)
    for column in _compared_limits(row):
        name, level_index = _LIMITS[column]
        ours = _limit(result, name, level_index)
        published = float(row[column])
        # PHE's own acceptance criterion (testSII.R): 5% relative.
        assert _relative_error(ours, published) < PHE_TEST_TOLERANCE, (column, ours, published)
        # Much tighter: within a few combined simulation standard errors.
        bound = MONTE_CARLO_SIGMAS * _simulation_standard_error(
            result, name, int(row["repetitions"])
        )
        assert abs(ours - published) <= bound, (column, ours, published, bound)


def test_simulation_standard_error_matches_theory_for_a_normal_indicator() -> None:
    # For value_type "normal" the simulated SII is exactly normal, so the density at the 97.5%
    # quantile is phi(1.96) / sd; the finite-difference estimate must recover it.
    index = next(case.values[0] for case in CASES if _row(case.values[0])["example"] == "le")
    result = _result(index)
    sd = (_limit(result, "sii_upper", 0) - _limit(result, "sii_lower", 0)) / (2 * 1.959964)
    expected = math.sqrt(0.025 * 0.975) * sd / 0.05844094 * math.sqrt(1 / 1000 + 1e-5)
    estimated = _simulation_standard_error(result, "sii_upper", 1000)
    assert estimated == pytest.approx(expected, rel=0.1)
