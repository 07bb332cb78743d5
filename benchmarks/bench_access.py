"""Access-model speed and memory (target: E2SFCA for all England in <= 3 s and <= 2 GB on 2 cores).

Prints the figures only; run with the project's Python:

    .venv/bin/python benchmarks/bench_access.py
    .venv/bin/python benchmarks/bench_access.py --stroke-matrix \\
        /work/shared/data/england/stroke_unit_travel_minutes_lsoa11.parquet

E2SFCA: 33,755 LSOA 2021 representative points × the GP practices with coordinates,
registered patients as supply, Census 2021 population as demand, Gaussian decay, 15 km.
Memory is reported two ways: the process's peak resident set (``ru_maxrss``, which also
counts the loaded data) before and after the runs, and the tracemalloc peak of one run
(numpy buffers; scipy's k-d tree keeps its own C++ arrays outside tracemalloc's view).
The stroke figure (optional) converts the raw 2011-name-keyed travel-time matrix to LSOA 2021
and finds the nearest thrombolysis and thrombectomy units; the raw file is read only here.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import analysis.access as access  # noqa: E402
from analysis.data import (  # noqa: E402
    load_lookup,
    load_pack,
    read_parquet,
)

REPEATS = 5


def peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(task: Callable[[], object], repeats: int = REPEATS) -> tuple[float, float, object]:
    result = task()  # warm-up: imports, allocator, caches
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = task()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stroke-matrix", type=Path, default=None,
                        help="raw stroke_unit_travel_minutes_lsoa11.parquet (optional)")
    args = parser.parse_args()

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"cores available: {cores}")

    start = time.perf_counter()
    pack = load_pack("england")
    practices = read_parquet("services/gp_practices.parquet")
    print(f"load pack + practices: {time.perf_counter() - start:.2f} s")

    best, median, points = timed(lambda: access.representative_points(pack))
    print(f"representative points ({len(pack):,} polygons): best {best:.3f} s, "
          f"median {median:.3f} s")

    sites = access.facility_points(practices, id_column="practice_code")
    supply = practices.set_index("practice_code")["registered_patients"]
    population = pack["population"]

    def run():
        return access.e2sfca(points, population, sites, supply, catchment_km=15.0)

    rss_before = peak_rss_mb()
    best, median, result = timed(run)
    rss_after = peak_rss_mb()
    tracemalloc.start()
    run()
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"E2SFCA England ({len(points):,} LSOAs × {len(result.supply_ratio):,} practices, "
        f"15 km, {result.pairs_in_reach:,} pairs): best {best:.3f} s, median {median:.3f} s"
    )
    print(
        f"  peak RSS {rss_after:,.0f} MB (before E2SFCA {rss_before:,.0f} MB, "
        f"+{rss_after - rss_before:,.0f} MB); tracemalloc peak {traced_peak / 2**20:,.0f} MB"
    )
    print(f"  {result.summary()}")

    best, median, _ = timed(lambda: access.nearest_facility(points, sites))
    print(f"nearest practice (k-d tree): best {best:.3f} s, median {median:.3f} s")

    if args.stroke_matrix is not None:
        start = time.perf_counter()
        matrix = pd.read_parquet(args.stroke_matrix)
        read_seconds = time.perf_counter() - start
        units = read_parquet("services/stroke_units.parquet")
        lookup = load_lookup()
        best, median, stroke = timed(
            lambda: access.stroke_travel_times_lsoa21(matrix, units, lookup), repeats=2
        )
        print(f"stroke matrix read: {read_seconds:.2f} s ({matrix.shape[0]:,} × "
              f"{matrix.shape[1] - 1} units)")
        print(f"stroke conversion to LSOA 2021 + nearest units: best {best:.2f} s, "
              f"median {median:.2f} s")
        print(f"  {stroke.summary()}")
    print(f"final peak RSS {peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
