"""Learning-log speed and load figures (targets: 1,000 notes for one area listed ≤ 100 ms;
8 concurrent writer processes × 100 notes on SQLite: every note kept, p95 write ≤ 200 ms).
Prints the figures; run with the project's Python:

    .venv/bin/python benchmarks/bench_learning.py [--postgres URL]

Uses a throwaway SQLite file (and, with ``--postgres`` or ``$FAIRSHARE_TEST_POSTGRES_URL``,
a PostgreSQL database whose learning-log tables it drops first).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis.learning import LearningLog, dispose_engines  # noqa: E402
from tests.learning.writers import run_writers  # noqa: E402


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def bench_listing(url: str, notes: int = 1_000, repeats: int = 30) -> dict:
    """Write ``notes`` notes to Wigan in one process, then time listing them."""
    log = LearningLog(url)
    writes = []
    for i in range(notes):
        began = time.perf_counter()
        log.add(area="E08000010", kind="community_voice", author="Benchmark",
                text=f"Note {i}: residents said the evening buses to the clinic are too rare.",
                source="Wigan residents' forum", tags=["transport", f"batch{i % 10}"])
        writes.append(time.perf_counter() - began)
    log.list("E08000010")  # warm: the area's parents are looked up once
    listing, lsoa, search = [], [], []
    for _ in range(repeats):
        began = time.perf_counter()
        assert len(log.list("E08000010")) == notes
        listing.append(time.perf_counter() - began)
        began = time.perf_counter()
        assert len(log.list("E01006233")) == notes  # an LSOA inside: notes of its parents
        lsoa.append(time.perf_counter() - began)
        began = time.perf_counter()
        log.search("evening buses", area="E08000010", limit=None)
        search.append(time.perf_counter() - began)
    return {"single_write_median": statistics.median(writes), "single_write_p95": _p95(writes),
            "list_median": statistics.median(listing), "list_p95": _p95(listing),
            "list_lsoa_median": statistics.median(lsoa), "search_median":
            statistics.median(search)}


def bench_writers(url: str, processes: int = 8, per_process: int = 100) -> dict:
    """``processes`` writers × ``per_process`` notes at once; every write timed."""
    timings = run_writers(url, processes, per_process)
    kept = LearningLog(url).count()
    return {"writes": len(timings), "kept": kept, "median": statistics.median(timings),
            "p95": _p95(timings), "max": max(timings)}


def report(name: str, listing_url: str, url: str, reset=None) -> None:
    """Run both benchmarks on one backend and print the figures (``reset`` empties the
    database between them when both use the same one)."""
    listed = bench_listing(listing_url)
    print(f"{name}: 1,000 notes for one area listed: median {_ms(listed['list_median'])}, "
          f"p95 {_ms(listed['list_p95'])} (target ≤ 100 ms); "
          f"for an LSOA inside it (parents' notes): median {_ms(listed['list_lsoa_median'])}; "
          f"search 'evening buses': median {_ms(listed['search_median'])}")
    print(f"{name}: one writer, 1,000 notes: median {_ms(listed['single_write_median'])}, "
          f"p95 {_ms(listed['single_write_p95'])} per write")
    if reset:
        reset()
    load = bench_writers(url)
    verdict = "all kept" if load["kept"] == load["writes"] == 800 else "NOTES LOST"
    print(f"{name}: 8 writer processes × 100 notes: {load['kept']:,} of {load['writes']:,} "
          f"kept ({verdict}); write median {_ms(load['median'])}, p95 {_ms(load['p95'])} "
          f"(target ≤ 200 ms), max {_ms(load['max'])}")


def main() -> None:
    """Run the benchmark on SQLite, and on PostgreSQL when a URL is given."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("FAIRSHARE_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        report("SQLite", f"sqlite:///{folder}/list.sqlite3",
               f"sqlite:///{folder}/load.sqlite3")
    if args.postgres:
        from tests.learning.conftest import reset_postgres

        reset_postgres(args.postgres)
        report("PostgreSQL", args.postgres, args.postgres,
               reset=lambda: reset_postgres(args.postgres))
        reset_postgres(args.postgres)
        dispose_engines()


if __name__ == "__main__":
    main()
