"""Foundation speed figures (targets: `fairshare info` ≤ 2 s cold; England geography + IMD
for the whole country ≤ 1.5 s warm). Prints the figures; run with the project's Python:

    .venv/bin/python benchmarks/bench_foundation.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def time_cold_info(repeats: int = 5) -> list[float]:
    fairshare = Path(sys.executable).parent / "fairshare"
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([str(fairshare), "info", "--json"], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def time_warm_load(repeats: int = 5) -> list[float]:
    """Load England's polygons and IMD 2025 from disk; 'warm' = imports and OS cache ready."""
    from analysis.data import geography
    from analysis.data.indicators import IndicatorRegistry, _cached_data

    geography.load_pack("england")  # warm up imports and the OS file cache
    times = []
    for _ in range(repeats):
        geography.load_pack.cache_clear()
        _cached_data.cache_clear()
        start = time.perf_counter()
        pack = geography.load_pack("england")
        imd = IndicatorRegistry().get("imd2025_score").values
        joined = pack.assign(imd=imd.reindex(pack.index))
        times.append(time.perf_counter() - start)
    assert joined["imd"].notna().all()
    return times


def main() -> None:
    cold = time_cold_info()
    warm = time_warm_load()
    print(f"fairshare info --json, cold process: median {statistics.median(cold):.2f} s "
          f"(min {min(cold):.2f}, max {max(cold):.2f}; target ≤ 2 s)")
    print(f"England geography + IMD 2025, warm: median {statistics.median(warm):.2f} s "
          f"(min {min(warm):.2f}, max {max(warm):.2f}; target ≤ 1.5 s)")


if __name__ == "__main__":
    main()
