"""Postcode index benchmark: load the embedded index, geocode 1 M and 50 k postcodes.

The inputs are real postcodes sampled from the index (with replacement, so live, terminated
and outside-England/Scotland ones in their real proportions), written the way records carry
them (lower case, no space, doubled or no-break spaces), plus 2% that are not in the index:
well-shaped unknown postcodes, bad shapes and empty cells. Prints the load time (reading,
checking and building the search keys), the geocode times, the file size and the peak
resident memory. Target: 1 M postcodes in ≤ 5 s on the project's 2-core machine.

    .venv/bin/python benchmarks/bench_postcodes.py [--rows 1000000] [--seed 7]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.data.postcodes import (  # noqa: E402
    geocode_postcodes,
    load_postcode_index,
    postcode_index_path,
)

BAD = ["ZZ9 9ZZ", "QQ1 1QQ", "hello", "12345", "WN1", "WN1 1A", "", "   ", None, "N/A"]


def sample(index: pd.DataFrame, rows: int, rng: np.random.Generator) -> pd.Series:
    """``rows`` record-like postcode cells: 98% real (messily written), 2% not in the index."""
    real = index["postcode"].to_numpy()[rng.integers(0, len(index), rows)].astype(object)
    style = rng.integers(0, 4, rows)
    lower = np.char.lower(real.astype(str)).astype(object)
    compact = np.char.replace(real.astype(str), " ", "").astype(object)
    spaced = np.char.replace(real.astype(str), " ", "\u00a0 ").astype(object)
    cells = np.select([style == 0, style == 1, style == 2], [real, lower, compact],
                      default=spaced)
    bad = rng.random(rows) < 0.02
    cells[bad] = np.array(BAD, dtype=object)[rng.integers(0, len(BAD), int(bad.sum()))]
    return pd.Series(cells, dtype="string[pyarrow]")


def timed(label: str, action):
    start = time.perf_counter()
    result = action()
    print(f"{label:<34} {time.perf_counter() - start:7.2f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    path = postcode_index_path()
    print(f"index file {path.relative_to(path.parents[2])}: "
          f"{path.stat().st_size / 1e6:.2f} MB")
    index = timed("load (read, check, search keys)", load_postcode_index)
    print(f"index rows {len(index):,}")

    big = sample(index, args.rows, rng)
    small = sample(index, 50_000, rng)
    timed("geocode 50,000 (first call)", lambda: geocode_postcodes(small))
    result = timed(f"geocode {args.rows:,}", lambda: geocode_postcodes(big))
    timed("geocode 50,000", lambda: geocode_postcodes(small))
    counts = result["status"].value_counts()
    print("statuses: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    print(f"placed in an area: {result['area_code'].notna().mean():.1%}; "
          f"with coordinates: {result['latitude'].notna().mean():.1%}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"peak RSS {peak:,.0f} MB")


if __name__ == "__main__":
    main()
