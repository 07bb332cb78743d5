"""Time the ingest of the nine raw "NHS Payments to General Practice" files.

Usage::

    python benchmarks/bench_gp_payments.py [RAW_DIR] [--repeat N]

RAW_DIR defaults to ``../shared/data/england/gp_payments`` relative to the repository root.
Prints the wall time of :func:`analysis.funding.payments.load_all_payments` (each run and the best)
against the 5-second target; exits 1 if the best run misses it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from analysis.funding import load_all_payments, payments_files  # noqa: E402

TARGET_SECONDS = 5.0
DEFAULT_RAW = REPO / ".." / "shared" / "data" / "england" / "gp_payments"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw_dir", nargs="?", type=Path, default=DEFAULT_RAW,
                        help="folder holding nhs_payments_to_general_practice_YYYY-YY.csv.gz")
    parser.add_argument("--repeat", type=int, default=3, help="number of timed runs")
    args = parser.parse_args(argv)

    files = payments_files(args.raw_dir)
    times = []
    for _ in range(max(1, args.repeat)):
        start = time.perf_counter()
        table = load_all_payments(args.raw_dir)
        times.append(time.perf_counter() - start)
    best = min(times)
    print(f"raw dir: {args.raw_dir.resolve()}")
    print(f"files:   {len(files)} ({', '.join(files)})")
    print(f"rows:    {len(table):,} practice-years, {table.shape[1]} columns")
    print(f"runs:    {', '.join(f'{t:.2f}s' for t in times)}")
    status = "OK" if best <= TARGET_SECONDS else "SLOWER THAN TARGET"
    print(f"best:    {best:.2f}s (target <= {TARGET_SECONDS:.0f}s) {status}")
    return 0 if best <= TARGET_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
