"""Soak run: repeated journeys over every page for a bounded time, with the server's garbage
collector off, printing the server's memory every minute.

The server is started through ``benchmarks/gc_disabled_server.py`` (``gc.disable()``, then
Streamlit's own CLI with ``fairshare dashboard``'s command line, whose
``--runner.postScriptGC false`` keeps Streamlit from collecting too): only reference counting
frees memory, so a session that leaves reference cycles behind shows as growth.

``--sessions`` virtual sessions run at once, each speaking Streamlit's websocket protocol
through ``bench_load.py``'s ``VirtualSession``. A journey opens a *new* session (a new
websocket, as a new browser tab does) on the next of ``bench_load.AREAS`` (eight ICBs) and
visits every page:

    overview → map → switch indicator → bivariate → inverse care → GP funding → profile →
    equity audit → allocation → add data → learning log

then closes the connection, so sessions are made and ended all the time. Every minute it
prints the server's RSS (and its children's), the journeys and reruns of that minute, their
p50/p95 seconds and errors; at the end the same for the whole run, the RSS growth after the
first minute (when the shared caches of the eight areas have filled) and per journey. A
plateau (growth near zero after the first minutes) means memory per session is bounded.

    .venv/bin/python benchmarks/bench_soak.py [--minutes 10] [--sessions 3] [--think 0.3]
        [--port 8613] [--keep-gc]

``--keep-gc`` is the control: the same run with the collector on, to tell memory that only
the cyclic collector frees (garbage in cycles) from memory that stays reachable (caches, a
real leak).

Traffic goes only to 127.0.0.1; the run stops by itself after ``--minutes``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_load import (  # noqa: E402  (the websocket session driver and its helpers)
    AREAS,
    RERUN_TIMEOUT,
    Tally,
    VirtualSession,
    load_average,
    percentile,
    server_rss_mb,
    wait_for_health,
)

ROOT = Path(__file__).resolve().parent.parent
WRAPPER = Path(__file__).resolve().parent / "gc_disabled_server.py"
# url paths of every page (dashboard/app.py); map widget steps are inserted after "map"
PAGES = ["overview", "map", "inverse-care", "gp-funding", "profile", "equity-audit",
         "allocation", "add-data", "learning"]


class Soak:
    """What the run measured, kept per minute and in total."""

    def __init__(self) -> None:
        self.minute = Tally()
        self.total = Tally()
        self.journeys = 0
        self.minute_journeys = 0

    def rerun(self, step: str, seconds: float) -> None:
        self.minute.times[step].append(seconds)
        self.total.times[step].append(seconds)

    def error(self, text: str) -> None:
        self.minute.errors.append(text)
        self.total.errors.append(text)


async def one_journey(url: str, index: int, loop: int, think: float, soak: Soak,
                      stop_at: float) -> None:
    """A new session on the loop's area, through every page, then disconnect."""
    rng = random.Random(index * 1000 + loop)
    stream = url.replace("http", "ws", 1) + "/_stcore/stream"
    area = AREAS[(index + loop) % len(AREAS)]

    async def step(session: VirtualSession, name: str, **request) -> None:
        try:
            run = await session.rerun(**request)
        except TimeoutError:
            soak.error(f"{name}: no script_finished within {RERUN_TIMEOUT:.0f} s")
            return
        soak.rerun(name, run.seconds)
        for problem in run.problems:
            soak.error(f"{name}: {problem}")

    async with websockets.connect(stream, subprotocols=["streamlit"], max_size=None,
                                  open_timeout=RERUN_TIMEOUT, ping_interval=None) as ws:
        session = VirtualSession(ws, f"s{index}-{loop}")
        session.query = f"area={area}"
        for page in PAGES:
            if time.monotonic() >= stop_at:
                return
            await step(session, page, page=page)
            if page == "map":
                if "ind" in session.widgets:
                    options = session.widgets["ind"][2]
                    await step(session, "switch-indicator",
                               widget=("ind", options[(index * 5 + loop * 3) % len(options)]))
                else:
                    soak.error("switch-indicator: no indicator picker on the map")
                modes = session.widgets.get("mode", ("", "", []))[2]
                if len(modes) > 1:
                    await step(session, "bivariate", widget=("mode", modes[1]))
                else:
                    soak.error("bivariate: no bivariate mode on the map")
            await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))
    soak.journeys += 1
    soak.minute_journeys += 1


async def virtual_user(url: str, index: int, think: float, soak: Soak, stop_at: float
                       ) -> None:
    await asyncio.sleep(index * think)  # do not all start in step
    loop = 0
    while time.monotonic() < stop_at:
        try:
            await one_journey(url, index, loop, think, soak, stop_at)
        except (OSError, websockets.WebSocketException) as exc:
            soak.error(f"connection: {type(exc).__name__}: {str(exc)[:100]}")
            await asyncio.sleep(1.0)
        loop += 1


def figures(tally: Tally) -> str:
    every = [t for times in tally.times.values() for t in times]
    if not every:
        return f"{'0':>7} {'-':>6} {'-':>6} {len(tally.errors):>6}"
    return (f"{len(every):>7} {statistics.median(every):>6.2f} "
            f"{percentile(every, 0.95):>6.2f} {len(tally.errors):>6}")


async def report_minutes(pid: int, soak: Soak, stop_at: float, rss: list[float]) -> None:
    minute = 0
    while time.monotonic() < stop_at:
        await asyncio.sleep(min(60.0, max(0.0, stop_at - time.monotonic())))
        minute += 1
        rss.append(server_rss_mb(pid))
        print(f"{minute:>6} {rss[-1]:>8.0f} {soak.minute_journeys:>8} {figures(soak.minute)}  "
              f"{load_average()}", flush=True)
        soak.minute, soak.minute_journeys = Tally(), 0


async def soak_run(url: str, pid: int, minutes: float, sessions: int, think: float
                   ) -> tuple[Soak, list[float]]:
    soak = Soak()
    stop_at = time.monotonic() + 60 * minutes
    rss: list[float] = []
    await asyncio.gather(report_minutes(pid, soak, stop_at, rss),
                         *(virtual_user(url, i, think, soak, stop_at)
                           for i in range(sessions)))
    return soak, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--sessions", type=int, default=3, help="concurrent virtual sessions")
    parser.add_argument("--think", type=float, default=0.3,
                        help="mean seconds between steps of a journey")
    parser.add_argument("--port", type=int, default=8613)
    parser.add_argument("--keep-gc", action="store_true",
                        help="control run: leave the server's garbage collector on")
    args = parser.parse_args()
    url = f"http://127.0.0.1:{args.port}"
    with tempfile.TemporaryDirectory(prefix="fairshare-soak-") as state:
        env = {**os.environ, "FAIRSHARE_STATE_DIR": state,
               "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
        log = Path(state) / "server.log"
        with log.open("w") as output:
            server = subprocess.Popen([sys.executable, str(WRAPPER), str(args.port),
                                       *(["--keep-gc"] if args.keep_gc else [])], cwd=ROOT,
                                      env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            wait_for_health(url)
            print(log.read_text().splitlines()[0])  # the wrapper's "gc enabled: False"
            rss_start = server_rss_mb(server.pid)
            print(f"load average at start: {load_average()} ({os.cpu_count()} cores); "
                  f"server RSS {rss_start:.0f} MB before the first session")
            print(f"{args.sessions} concurrent sessions, a new one per journey over "
                  f"{len(PAGES)} pages, think {args.think:g} s, {args.minutes:g} min")
            print(f"{'minute':>6} {'RSS MB':>8} {'journeys':>8} {'reruns':>7} {'p50':>6} "
                  f"{'p95':>6} {'errors':>6}  load 1/5/15 min")
            soak, rss = asyncio.run(soak_run(url, server.pid, args.minutes, args.sessions,
                                             args.think))
            cpu = sum(psutil.Process(server.pid).cpu_times()[:2])
        finally:
            server.terminate()
            server.wait(timeout=30)
    rss_end = rss[-1] if rss else float("nan")
    print(f"{'total':>6} {rss_end:>8.0f} {soak.journeys:>8} {figures(soak.total)}")
    if len(rss) >= 3:
        later = len(rss) - 1
        growth = rss[-1] - rss[0]
        print(f"RSS: {rss_start:.0f} MB at start, {rss[0]:.0f} MB after minute 1, "
              f"{rss_end:.0f} MB at the end, peak {max(rss):.0f} MB; growth after minute 1: "
              f"{growth:+.0f} MB over {later} min ({growth / later:+.1f} MB/min, "
              f"{growth / max(1, soak.journeys):+.2f} MB per journey of all "
              f"{soak.journeys})")
    print(f"server CPU {cpu:.0f} s in {60 * args.minutes:.0f} s; "
          f"load average at end: {load_average()}")
    steps = sorted(soak.total.times, key=lambda s: -percentile(soak.total.times[s], 0.95))
    print("p50/p95 seconds per step: " + ", ".join(
        f"{s} {statistics.median(soak.total.times[s]):.2f}/"
        f"{percentile(soak.total.times[s], 0.95):.2f}" for s in steps))
    for line in sorted(set(soak.total.errors))[:10]:
        print(f"  {soak.total.errors.count(line)} × {line}")


if __name__ == "__main__":
    main()
