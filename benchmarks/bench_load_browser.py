"""Browser-side load benchmark: N concurrent Chromium sessions against one local dashboard
server (the server-side driver is ``bench_load.py``).

Each session is its own Chromium browser context (so its own Streamlit session) and cycles
through a journey of pages and study areas for a bounded time. For every page view it
measures the time to content: from navigation until the page title is shown and Streamlit
reports the script run finished. Prints errors (timeouts, page crashes), exception boxes
shown to the user, p50/p95 time to content per page and overall, and the server's resident
memory before and after. Targets (issue 17): 0 errors, 0 exception boxes, p95 ≤ 3 s.

    .venv/bin/python benchmarks/bench_load_browser.py [--sessions 25] [--seconds 180] [--port 8597]

The browsers run on the same 2-core machine as the server, so the figures include the
browsers' own CPU time (software WebGL): they bound the server's latency from above.
Traffic goes only to 127.0.0.1; the loop stops by itself after ``--seconds``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_load import wait_for_health  # noqa: E402  (one health wait for both benchmarks)

JOURNEY = [
    ("overview", "/overview?area=E54000057"),
    ("map", "/map?area=E54000057"),
    ("inverse-care", "/inverse-care?area=E08000010"),
    ("gp-funding", "/gp-funding?area=E54000057"),
    ("profile", "/profile?area=E08000010"),
    ("overview", "/overview?area=S12000005"),
    ("map", "/map?area=E08000010&mode=bivariate"),
    ("allocation", "/allocation?area=E54000057"),
]
PAGE_TIMEOUT_MS = 60_000


@dataclass
class Tally:
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    exception_boxes: int = 0
    views: int = 0


def server_rss_mb(pid: int) -> float:
    """Resident memory of the server process and its children, in MB (Linux /proc)."""
    total = 0
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    for proc in [str(pid), *children.stdout.split()]:
        try:
            status = Path(f"/proc/{proc}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


async def one_view(page, base: str, path: str) -> float:
    started = time.perf_counter()
    await page.goto(base + path, timeout=PAGE_TIMEOUT_MS)
    await page.wait_for_selector("h1", timeout=PAGE_TIMEOUT_MS)
    # Streamlit shows its status widget while a script run is in progress
    await page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
        timeout=PAGE_TIMEOUT_MS)
    return time.perf_counter() - started


async def session(browser, base: str, offset: int, stop_at: float, tally: Tally) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    step = offset
    try:
        while time.monotonic() < stop_at:
            name, path = JOURNEY[step % len(JOURNEY)]
            step += 1
            try:
                elapsed = await one_view(page, base, path)
            except Exception as exc:  # a timeout or crash is a result here, not a failure
                tally.errors.append(f"{name}: {type(exc).__name__}: {str(exc)[:120]}")
                continue
            tally.views += 1
            tally.times[name].append(elapsed)
            tally.exception_boxes += await page.locator("[data-testid='stException']").count()
    finally:
        await context.close()


async def drive(port: int, sessions: int, seconds: float) -> Tally:
    from playwright.async_api import async_playwright

    tally = Tally()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--use-gl=swiftshader",
                  "--enable-unsafe-swiftshader"])
        stop_at = time.monotonic() + seconds
        await asyncio.gather(*(session(browser, f"http://127.0.0.1:{port}", i, stop_at, tally)
                               for i in range(sessions)))
        await browser.close()
    return tally


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def report(tally: Tally, sessions: int, seconds: float, rss: tuple[float, float]) -> None:
    every = [t for times in tally.times.values() for t in times]
    print(f"Load: {sessions} concurrent browser sessions for {seconds:.0f} s, "
          f"{tally.views} page views")
    print(f"  errors: {len(tally.errors)}; exception boxes shown: {tally.exception_boxes}")
    for line in tally.errors[:10]:
        print(f"    {line}")
    print(f"  {'page':<14} {'views':>6} {'p50 s':>7} {'p95 s':>7} {'max s':>7}")
    for name, times in sorted(tally.times.items()):
        print(f"  {name:<14} {len(times):>6} {statistics.median(times):>7.2f} "
              f"{percentile(times, 0.95):>7.2f} {max(times):>7.2f}")
    if every:
        print(f"  {'all':<14} {len(every):>6} {statistics.median(every):>7.2f} "
              f"{percentile(every, 0.95):>7.2f} {max(every):>7.2f}")
    print(f"  server RSS: {rss[0]:.0f} MB before, {rss[1]:.0f} MB after")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=25)
    parser.add_argument("--seconds", type=float, default=180)
    parser.add_argument("--port", type=int, default=8597)
    args = parser.parse_args()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "app.py"),
         "--server.port", str(args.port), "--server.headless", "true",
         "--server.address", "127.0.0.1"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_health(f"http://127.0.0.1:{args.port}")
        before = server_rss_mb(server.pid)
        tally = asyncio.run(drive(args.port, args.sessions, args.seconds))
        after = server_rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    report(tally, args.sessions, args.seconds, (before, after))


if __name__ == "__main__":
    main()
