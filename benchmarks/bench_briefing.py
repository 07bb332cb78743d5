"""Time councillor equity briefings on the embedded data.

Usage::

    python benchmarks/bench_briefing.py [--sample N] [--out DIR] [--scenario FILE]

1. **Cold**: a fresh Python process builds and renders one ICB briefing PDF (NHS Greater
   Manchester, E54000057), timed from before ``import analysis.briefing`` to the bytes: what
   ``fairshare briefing --area E54000057`` costs, including loading the data and starting
   the chart and PDF engines.
2. **Warm**: the same briefing again in this process, split into build (analysis, map and
   charts) and PDF rendering; also HTML and DOCX.
3. **Batch**: PDF briefings for all 42 ICBs through the batch writer that ``fairshare
   briefing --all icb`` uses (``--sample N`` times the first N instead and extrapolates,
   saying so).

Targets: one ICB briefing PDF <= 5 s, all 42 ICBs <= 3 min. The one-briefing target is judged
on the warm figure (a running dashboard or batch); the cold figure is printed beside it with a
plain "met"/"not met", because about 4 s of it is one-off process start-up outside the briefing
code (importing scipy/statsmodels, scanning the indicator registry, starting vl-convert and
WeasyPrint). Exits 1 if the warm or the batch target is missed or a briefing fails.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

ICB = "E54000057"
ONE_TARGET_S = 5.0
ALL_TARGET_S = 180.0

COLD = f"""
import time
started = time.perf_counter()
from analysis.briefing import briefing_bytes
pdf = briefing_bytes({ICB!r}, "pdf")  # what `fairshare briefing --area` does
print(time.perf_counter() - started, len(pdf))
"""


def cold_seconds() -> tuple[float, int]:
    """Seconds for one ICB PDF in a fresh interpreter (imports and data loading included)."""
    done = subprocess.run([sys.executable, "-c", COLD], cwd=REPO, capture_output=True,
                          text=True, check=True)
    seconds, size = done.stdout.split()
    return float(seconds), int(size)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=0,
                        help="time only the first N ICBs and extrapolate (0 = all 42)")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for the batch PDFs (default: a temporary folder)")
    parser.add_argument("--scenario", type=Path, default=None,
                        help="add an allocation scenario to every briefing")
    args = parser.parse_args()

    cold, size = cold_seconds()
    print(f"cold: one ICB briefing PDF in a fresh process   {cold:6.2f} s  ({size:,} bytes)")

    from analysis.briefing import build_briefing, render
    from analysis.cli.briefing import areas_of_level, write_briefings

    started = time.perf_counter()
    render(build_briefing(ICB), "pdf")  # warm-up: data, chart and PDF engines
    warm_up = time.perf_counter() - started
    started = time.perf_counter()
    briefing = build_briefing(ICB)
    built = time.perf_counter() - started
    timings = {}
    for fmt in ("pdf", "html", "docx"):
        started = time.perf_counter()
        data = render(briefing, fmt)
        timings[fmt] = (time.perf_counter() - started, len(data))
    print(f"warm-up in this process (first briefing)        {warm_up:6.2f} s")
    print(f"warm: build (analysis, map, charts)              {built:6.2f} s")
    for fmt, (seconds, length) in timings.items():
        print(f"warm: render {fmt:<4}                              {seconds:6.2f} s  "
              f"({length:,} bytes)")
    one_warm = built + timings["pdf"][0]
    print(f"warm: one ICB briefing PDF                       {one_warm:6.2f} s")

    areas = areas_of_level("icb")
    chosen = areas[: args.sample] if args.sample else areas
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        result = write_briefings(chosen, "pdf", out, scenario=args.scenario)
    per_area = result.seconds / len(chosen)
    if args.sample:
        total = per_area * len(areas)
        print(f"batch: {len(chosen)} of {len(areas)} ICBs in {result.seconds:.1f} s "
              f"({per_area:.2f} s each); EXTRAPOLATED to all {len(areas)}: {total:.0f} s")
    else:
        total = result.seconds
        print(f"batch: all {len(areas)} ICBs (PDF) in {total:.1f} s ({per_area:.2f} s each, "
              "measured)")
    for failure in result.failures:
        print(f"  failed: {failure.code} {failure.name}: {failure.error}")

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    print(f"target one ICB <= {ONE_TARGET_S:.0f} s: warm {one_warm:.2f} s "
          f"{verdict(one_warm <= ONE_TARGET_S)}; cold {cold:.2f} s "
          f"{verdict(cold <= ONE_TARGET_S)} (includes one-off process start-up)")
    print(f"target all ICBs <= {ALL_TARGET_S:.0f} s: {total:.0f} s "
          f"{verdict(total <= ALL_TARGET_S)}")
    ok = one_warm <= ONE_TARGET_S and total <= ALL_TARGET_S and not result.failures
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
