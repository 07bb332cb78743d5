"""Area search benchmark: build the name index, then time queries of every kind.

Prints the index build time (every area of England and Scotland, cold), the postcode index
load (first postcode query), and the median and worst time per query over ``--repeat`` runs
of a fixed mix: exact names, prefixes, missing words, typos (fuzzy), codes, postcodes and
nonsense, plus a random sample of real area names typed in lower case. Target: every query
≤ 50 ms on the project's 2-core machine.

    .venv/bin/python benchmarks/bench_search.py [--repeat 5] [--names 200] [--seed 7]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.data.search import search_areas, search_index  # noqa: E402

QUERIES = [
    "wigan", "Wigan 001A", "greater manchester", "NHS Greater Manchester ICB", "Clackmannanshire",
    "St Helens", "Brighton & Hove", "wig", "a", "kingston thames", "clackmanan", "manchestr",
    "wigan borough", "birmingam", "E08000010", "e54000057 ", "QOP", "WN1 1AA", "FK10 1AD",
    "WN1 1AB", "CF10 1AA", "ZZ9 9ZZ", "qwxzv plimth",
]


def timed(query: str) -> float:
    start = time.perf_counter()
    search_areas(query)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--names", type=int, default=200, help="random real names to time")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    start = time.perf_counter()
    index = search_index()
    build = time.perf_counter() - start
    entries = index["entries"]
    print(f"name index: {len(entries):,} areas, {len(index['sorted_keys']):,} name keys, "
          f"built in {build:.2f} s")
    start = time.perf_counter()
    search_areas("WN1 1AA")
    print(f"first postcode query (loads the postcode index): {time.perf_counter() - start:.2f} s")
    search_areas("clackmanan")  # imports RapidFuzz once

    print(f"\n{'query':<30} {'results':>7} {'median ms':>10} {'worst ms':>9}")
    worst_all = 0.0
    for query in QUERIES:
        times = [timed(query) for _ in range(args.repeat)]
        worst_all = max(worst_all, max(times))
        print(f"{query!r:<30} {len(search_areas(query)):>7} "
              f"{statistics.median(times) * 1e3:>10.1f} {max(times) * 1e3:>9.1f}")

    rng = np.random.default_rng(args.seed)
    names = entries["name"].to_numpy()[rng.integers(0, len(entries), args.names)]
    times = [timed(str(name).lower()) for name in names]
    worst_all = max(worst_all, max(times))
    print(f"\n{args.names} random real names: median {statistics.median(times) * 1e3:.1f} ms, "
          f"95th percentile {np.percentile(times, 95) * 1e3:.1f} ms, "
          f"worst {max(times) * 1e3:.1f} ms")
    print(f"worst query overall: {worst_all * 1e3:.1f} ms (target ≤ 50 ms)")


if __name__ == "__main__":
    main()
