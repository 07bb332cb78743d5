"""Inequality-measure speed figures (target: SII with 100,000 repetitions in <= 0.2 s). Prints
the figures only; run with the project's Python:

    .venv/bin/python benchmarks/bench_inequality.py

The "every measure" figure is taken on real indicators of England's 33,755 LSOAs (2021) from
the embedded data (IMD 2025 score, stroke admissions, % disabled, GP funding within reach,
comparative illness ratio) and, for comparison, on random arrays of the same size.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import analysis.stats as ineq  # noqa: E402

AREAS = 33_755
REPEATS = 7


def best_and_median(task: Callable[[], object], repeats: int = REPEATS) -> tuple[float, float]:
    task()  # warm-up: imports, allocator, caches
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        task()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def decile_inputs() -> dict[str, np.ndarray]:
    generator = np.random.default_rng(2025)
    populations = generator.integers(40_000, 60_000, 10).astype(float)
    rates = np.linspace(900, 600, 10) * generator.uniform(0.95, 1.05, 10)
    errors = 1.96 * np.sqrt(rates / populations * 100_000) / 100_000 * rates
    return {
        "values": rates,
        "populations": populations,
        "lower_cl": rates - errors,
        "upper_cl": rates + errors,
    }


def synthetic_areas() -> dict[str, np.ndarray]:
    generator = np.random.default_rng(33_755)
    score = generator.gamma(2.0, 10.0, AREAS)  # IMD-like score, higher = more deprived
    population = generator.integers(1_000, 3_000, AREAS).astype(float)
    rate = np.clip(400 + 8 * score + generator.normal(0, 80, AREAS), 1, None)  # per 100,000
    proportion = np.clip(0.1 + 0.004 * score + generator.normal(0, 0.03, AREAS), 0.001, 0.999)
    order = np.argsort(-score)
    quintile = np.empty(AREAS, dtype=int)
    quintile[order] = np.arange(AREAS) * 5 // AREAS + 1  # 1 = most deprived
    decile = np.empty(AREAS, dtype=int)
    decile[order] = np.arange(AREAS) * 10 // AREAS + 1
    spend = generator.gamma(3.0, 50_000.0, AREAS)
    need = population * (1 + score / 40)
    return {
        "score": score,
        "population": population,
        "rate": rate,
        "proportion": proportion,
        "quintile": quintile,
        "decile": decile,
        "spend": spend,
        "need": need,
    }


def embedded_areas() -> dict[str, np.ndarray]:
    """One real indicator of every kind for England's 33,755 LSOAs, from the embedded data."""
    from analysis.data import IndicatorRegistry
    from analysis.explore import study_area_frame

    ids = ["imd2025_score", "stroke_admissions_per_1000", "census2021_disabled_pct",
           "gp_access_funding_per_resident", "iod2025_cidr"]
    frame = study_area_frame("england", None, ids, IndicatorRegistry()).dropna()
    population = frame["population"].to_numpy(float)
    decile = frame["deprivation_decile"].to_numpy(int)
    return {
        "score": frame["imd2025_score"].to_numpy(float),
        "population": population,
        "rate": np.clip(frame["stroke_admissions_per_1000"].to_numpy(float) * 100, 1e-3,
                        None),  # per 100,000
        "proportion": np.clip(frame["census2021_disabled_pct"].to_numpy(float) / 100, 1e-4,
                              1 - 1e-4),
        "quintile": (decile + 1) // 2,
        "decile": decile,
        "spend": frame["gp_access_funding_per_resident"].to_numpy(float) * population,
        "need": population * frame["iod2025_cidr"].to_numpy(float) / 100,
    }


def every_measure(areas: dict[str, np.ndarray]) -> None:
    score, population, rate = areas["score"], areas["population"], areas["rate"]
    proportion, quintile, decile = areas["proportion"], areas["quintile"], areas["decile"]

    deaths = rate * population / 100_000
    _, decile_population, decile_rate = ineq.quantile_means(rate, population, decile)
    decile_deaths = np.bincount(decile - 1, weights=deaths)
    decile_se = np.sqrt(decile_deaths) / decile_population * 100_000
    ineq.slope_index(
        decile_rate,
        decile_population,
        lower_cl=decile_rate - 1.96 * decile_se,
        upper_cl=decile_rate + 1.96 * decile_se,
        value_type="rate",
        transform=True,
        seed=1,
    )
    ineq.concentration_index(rate, score, population)
    ineq.concentration_index(proportion, score, population, "erreygers", (0, 1))
    ineq.concentration_index(proportion, score, population, "wagstaff", (0, 1))
    ineq.concentration_curve(rate, score, population)
    ineq.gini(rate, population)
    ineq.theil_t(rate, population)
    ineq.mean_log_deviation(rate, population)
    ineq.quantile_difference(rate, population, quantiles=quintile)
    ineq.quantile_ratio(rate, population, quantiles=quintile)
    ineq.population_attributable_risk(rate, population, quantiles=quintile, rate_per=100_000)
    ineq.index_of_disparity(rate, population, quantiles=quintile)
    table = ineq.fair_share(areas["spend"], areas["need"])
    ineq.fair_share_totals(table)
    ineq.fair_share_by_quintile(table, population, quintile)


def main() -> None:
    deciles = decile_inputs()
    print("Slope index of inequality, 10 deciles, 100,000 repetitions (best / median of 7):")
    cases: dict[str, dict[str, object]] = {
        "normal, standard errors": {
            "standard_errors": (deciles["upper_cl"] - deciles["lower_cl"]) / 3.92,
        },
        "rate, 95% limits": {
            "lower_cl": deciles["lower_cl"],
            "upper_cl": deciles["upper_cl"],
            "value_type": "rate",
        },
        "rate, log transform, 2 levels": {
            "lower_cl": deciles["lower_cl"],
            "upper_cl": deciles["upper_cl"],
            "value_type": "rate",
            "transform": True,
            "confidence": (0.95, 0.998),
        },
    }
    for name, arguments in cases.items():
        best, median = best_and_median(
            lambda arguments=arguments: ineq.slope_index(
                deciles["values"], deciles["populations"], seed=1, **arguments
            )
        )
        print(f"  {name:<32} {best * 1000:7.1f} ms / {median * 1000:7.1f} ms")

    for label, areas in (("England's LSOAs, embedded data", embedded_areas()),
                         ("synthetic arrays of that size", synthetic_areas())):
        best, median = best_and_median(lambda areas=areas: every_measure(areas))
        print(f"Every measure for one indicator over {len(areas['score']):,} areas, {label} "
              f"(best / median of {REPEATS}):")
        print(f"  {'all measures':<32} {best * 1000:7.1f} ms / {median * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
