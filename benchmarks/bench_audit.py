"""Time the equity audit on simulated records (drawn from real populations, labelled simulated).

Usage::

    python benchmarks/bench_audit.py [--records 1000000] [--large 100000000] [--keep DIR]

1. ``--records`` (default 1 M) simulated records for England written to one Parquet file and
   one CSV file; the whole audit (read, clean, count on DuckDB, standardise, words) is timed
   from each, and from the in-memory frame the dashboard would hold.
2. ``--large`` (default 0 = skip; the target run is 100 M) records streamed to a folder of
   Parquet parts in 5 M-row chunks, then audited in a fresh process capped at 3 GB of DuckDB
   memory; prints seconds and the child's peak RSS.

Targets (issue 12): 1 M records ≤ 5 s; 100 M records (Parquet) ≤ 90 s and ≤ 4 GB peak RSS.
Each run happens in its own process so the peak RSS is that run's alone.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {repo!r})
from analysis.audit.run import audit_activity
started = time.perf_counter()
result = audit_activity({source!r}, memory_limit={memory!r})
seconds = time.perf_counter() - started
print(json.dumps({{"seconds": seconds, "rows": result.rows, "events": result.events,
                   "study": result.study.name,
                   "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def run_child(source: str, memory: str | None = None) -> dict:
    """Audit ``source`` in a fresh Python process; its timing and peak RSS."""
    code = CHILD.format(repo=str(REPO), source=source, memory=memory)
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--large", type=int, default=0)
    parser.add_argument("--keep", type=Path, default=None,
                        help="write the simulated files here (default: a temporary folder)")
    args = parser.parse_args()

    from analysis.audit.run import audit_activity
    from analysis.audit.simulate import SimulationSpec, simulate_activity, write_simulated_parquet

    folder = args.keep or Path(tempfile.mkdtemp(prefix="fairshare-bench-audit-"))
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    records = simulate_activity(SimulationSpec(n_records=args.records, seed=1))
    simulated = time.perf_counter() - started
    parquet, csv = folder / "records.parquet", folder / "records.csv"
    records.to_parquet(parquet, index=False)
    records.to_csv(csv, index=False)
    megabytes = [path.stat().st_size / 2**20 for path in (parquet, csv)]
    sizes = f"Parquet {megabytes[0]:.0f} MB, CSV {megabytes[1]:.0f} MB"
    print(f"simulated {args.records:,} records for England in {simulated:.1f} s ({sizes})")

    missed = False
    for label, source in (("Parquet file", str(parquet)), ("CSV file", str(csv))):
        figures = run_child(source)
        ok = figures["seconds"] <= 5.0 or args.records > 1_000_000
        missed |= not ok
        print(f"{label:<14} {figures['seconds']:6.2f} s  peak RSS {figures['rss_mb']:,.0f} MB  "
              f"({figures['events']:,} of {figures['rows']:,} records used; study area "
              f"{figures['study']}){'' if ok else '  MISSED the 5 s target'}")
    started = time.perf_counter()
    audit_activity(records)
    print(f"{'in memory':<14} {time.perf_counter() - started:6.2f} s  (the dashboard's path: "
          "an upload held as a frame)")

    if args.large:
        large = folder / "large"
        spec = SimulationSpec(n_records=args.large, seed=2)
        started = time.perf_counter()
        write_simulated_parquet(spec, large, chunk_rows=5_000_000)
        size = sum(p.stat().st_size for p in large.rglob("*.parquet"))
        print(f"simulated {args.large:,} records in {time.perf_counter() - started:.0f} s "
              f"({size / 2**30:.2f} GB of Parquet parts)")
        figures = run_child(str(large), memory="3GB")
        ok = figures["seconds"] <= 90 and figures["rss_mb"] <= 4096
        missed |= not ok
        print(f"{'100M Parquet' if args.large == 100_000_000 else 'large Parquet':<14} "
              f"{figures['seconds']:6.1f} s  peak RSS {figures['rss_mb']:,.0f} MB"
              f"{'' if ok else '  MISSED the 90 s / 4 GB target'}")
    print(f"(this process: peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB)")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
