"""Server-side load benchmark: N concurrent Streamlit sessions driven through the websocket.

Each virtual session speaks Streamlit's own protocol on ``/_stcore/stream`` (protobuf
``BackMsg`` in, ``ForwardMsg`` out), as the browser's frontend does, but renders nothing: the
figures are the server's. A session replays an analyst's journey in a loop:

    overview → change area (the area selectbox) → map → switch indicator (the indicator
    selectbox) → bivariate (the map-mode selectbox) → inverse-care page

Page moves are reruns with the page's script hash and the URL's query string; widget changes
are reruns carrying the new widget value, as the frontend sends them. For every rerun it
records the time from sending the request to the server's ``script_finished`` and counts as
errors: exception elements, error boxes (``st.error``, which is how the page boundary reports a
failure), page-not-found, timeouts and dropped connections. Between steps a session waits a
"think time" (uniform in [0.5, 1.5] × ``--think``), as a person reads the page.

For each N in ``--sessions`` it runs for ``--seconds`` against one server started with
``fairshare dashboard`` and prints p50/p95/max seconds per rerun, errors, the server's RSS and
its CPU use, and the machine's load average (the machine is shared; say so next to figures).
Targets (issue 16): p95 ≤ 1.5 s at N = 10, ≤ 3 s at N = 25, 0 errors.

    .venv/bin/python benchmarks/bench_load.py [--sessions 1,10,25,50] [--seconds 60]
        [--think 2] [--port 8597] [--by-step] [--url URL of an already running server]

Traffic goes only to the given server; every phase stops by itself after ``--seconds``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import time
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import websockets
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

ROOT = Path(__file__).resolve().parent.parent
FAIRSHARE = ROOT / ".venv" / "bin" / "fairshare"
RERUN_TIMEOUT = 60.0
START_AREA = "E54000057"  # NHS Greater Manchester ICB
# ICBs the journey moves between (codes looked up in the picker's own options)
AREAS = ["E54000057", "E54000048", "E54000008", "E54000050", "E54000027", "E54000029",
         "E54000054", "E54000051"]
WIDGET_KINDS = {"selectbox", "radio", "checkbox", "slider", "text_input", "multiselect"}


@dataclass
class Tally:
    """What one phase (one N) measured."""

    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    rss_peak_mb: float = 0.0


@dataclass
class Run:
    """What one rerun sent back."""

    seconds: float
    widgets: dict[str, tuple[str, str, list[str]]]  # user key → (widget id, kind, options)
    problems: list[str]


class VirtualSession:
    """One Streamlit session on one websocket, as a browser tab would hold it."""

    def __init__(self, ws, name: str) -> None:
        self.ws = ws
        self.name = name
        self.pages: dict[str, str] = {}  # url path → page script hash
        self.page = "overview"
        self.query = f"area={START_AREA}"
        self.widgets: dict[str, tuple[str, str, list[str]]] = {}

    async def rerun(self, *, page: str | None = None, widget: tuple[str, str] | None = None
                    ) -> Run:
        """Ask for a rerun (of ``page``, or of the current page with ``widget`` = (user key,
        option text) changed) and read messages until the run finishes."""
        if page is not None:
            self.page = page
        message = BackMsg()
        state = message.rerun_script
        state.query_string = self.query
        # the default page's url path is "" (the app's root)
        state.page_name = "" if self.page == "overview" else self.page
        state.page_script_hash = self.pages.get(self.page, "")
        if widget is not None:
            key, option = widget
            widget_id, kind, options = self.widgets[key]
            one = state.widget_states.widgets.add()
            one.id = widget_id
            one.string_value = option
        started = time.perf_counter()
        await self.ws.send(message.SerializeToString())
        widgets: dict[str, tuple[str, str, list[str]]] = {}
        problems: list[str] = []
        async with asyncio.timeout(RERUN_TIMEOUT):
            while True:
                forward = ForwardMsg()
                forward.ParseFromString(await self.ws.recv())
                kind = forward.WhichOneof("type")
                if kind == "delta" and forward.delta.WhichOneof("type") == "new_element":
                    self._read_element(forward.delta.new_element, widgets, problems)
                elif kind == "navigation":
                    self.pages = {(p.url_pathname or "overview"): p.page_script_hash
                                  for p in forward.navigation.app_pages}
                elif kind == "page_info_changed":
                    self.query = forward.page_info_changed.query_string  # the URL's state
                elif kind == "page_not_found":
                    problems.append(f"page not found: {self.page}")
                elif kind == "script_finished":
                    status = forward.script_finished
                    if status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                        problems.append("script compile error")
                    if status != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                        break
        self.widgets = widgets
        return Run(time.perf_counter() - started, widgets, problems)

    @staticmethod
    def _read_element(element, widgets: dict, problems: list[str]) -> None:
        kind = element.WhichOneof("type")
        if kind == "exception":
            problems.append(f"exception: {element.exception.type}: "
                            f"{element.exception.message[:100]}")
        elif kind == "alert" and element.alert.format == Alert.ERROR:
            problems.append(f"error box: {element.alert.body[:100]}")
        elif kind == "heading" and element.heading.tag == "h1":
            widgets["#title"] = ("", "heading", [element.heading.body])
        elif kind in WIDGET_KINDS:
            widget = getattr(element, kind)
            key = widget.id.rsplit("-", 1)[-1]
            widgets[key] = (widget.id, kind, list(getattr(widget, "options", [])))


def option_for(options: list[str], wanted: str) -> str | None:
    """The option text that names ``wanted`` (an area code in brackets, or a label)."""
    return next((o for o in options if o.endswith(f"({wanted})") or o == wanted), None)


async def journey(session: VirtualSession, index: int, stop_at: float, think: float,
                  tally: Tally) -> None:
    """Replay the journey until ``stop_at``, recording every rerun."""
    rng = random.Random(index)
    loop = 0

    async def step(name: str, **request) -> Run | None:
        try:
            run = await session.rerun(**request)
        except TimeoutError:
            tally.errors.append(f"{name}: no script_finished within {RERUN_TIMEOUT:.0f} s")
            return None
        tally.times[name].append(run.seconds)
        tally.errors.extend(f"{name}: {p}" for p in run.problems)
        return run

    await asyncio.sleep(rng.uniform(0, think))  # sessions do not all start in step
    while time.monotonic() < stop_at:
        area = AREAS[(index + loop) % len(AREAS)]
        loop += 1
        plan = ["overview", "change-area", "map", "switch-indicator", "bivariate",
                "inverse-care"]
        for name in plan:
            if time.monotonic() >= stop_at:
                return
            if name in {"overview", "map", "inverse-care"}:
                await step(name, page=name)
            elif name == "change-area":
                key = "area_england_icb"
                if key not in session.widgets:
                    tally.errors.append(f"{name}: no area picker on the page")
                    continue
                option = option_for(session.widgets[key][2], area)
                if option is None:
                    tally.errors.append(f"{name}: {area} not offered by the picker")
                    continue
                await step(name, widget=(key, option))
            elif name == "switch-indicator":
                if "ind" not in session.widgets and "mode" in session.widgets:
                    # the map kept bivariate mode from the last loop: back to one indicator
                    await step("map-mode", widget=("mode", session.widgets["mode"][2][0]))
                if "ind" not in session.widgets:
                    tally.errors.append(f"{name}: no indicator picker on the map")
                    continue
                options = session.widgets["ind"][2]
                await step(name, widget=("ind", options[(index * 5 + loop * 3) % len(options)]))
            elif name == "bivariate":
                if "mode" not in session.widgets or len(session.widgets["mode"][2]) < 2:
                    tally.errors.append(f"{name}: no bivariate mode on the map")
                    continue
                await step(name, widget=("mode", session.widgets["mode"][2][1]))
            await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))


async def one_session(url: str, index: int, stop_at: float, think: float, tally: Tally
                      ) -> None:
    stream = url.replace("http", "ws", 1).rstrip("/") + "/_stcore/stream"
    try:
        async with websockets.connect(stream, subprotocols=["streamlit"], max_size=None,
                                      open_timeout=RERUN_TIMEOUT, ping_interval=None) as ws:
            await journey(VirtualSession(ws, f"s{index}"), index, stop_at, think, tally)
    except (OSError, websockets.WebSocketException) as exc:
        tally.errors.append(f"connection: {type(exc).__name__}: {str(exc)[:100]}")


def server_rss_mb(pid: int) -> float:
    """Resident memory of the server process and its children, in MB."""
    try:
        proc = psutil.Process(pid)
        return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2**20
    except psutil.Error:
        return float("nan")


async def watch_rss(pid: int | None, tally: Tally, stop_at: float) -> None:
    while pid is not None and time.monotonic() < stop_at:
        tally.rss_peak_mb = max(tally.rss_peak_mb, server_rss_mb(pid))
        await asyncio.sleep(1.0)


async def phase(url: str, sessions: int, seconds: float, think: float, pid: int | None
                ) -> Tally:
    tally = Tally()
    stop_at = time.monotonic() + seconds
    await asyncio.gather(watch_rss(pid, tally, stop_at),
                         *(one_session(url, i, stop_at, think, tally) for i in range(sessions)))
    return tally


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def wait_for_health(url: str, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the dashboard did not answer at {url} within {seconds:.0f} s")


def wait_for_warmup(port: int, seconds: float = 300) -> None:
    """Wait until the server's start-up warm-up process (``dashboard.warmup``) has exited."""
    deadline = time.monotonic() + seconds
    marker = f"127.0.0.1:{port}"
    while time.monotonic() < deadline:
        running = False
        for proc in psutil.process_iter(["cmdline"]):
            cmdline = proc.info["cmdline"] or []
            if "dashboard.warmup" in cmdline and any(marker in part for part in cmdline):
                running = True
        if not running:
            return
        time.sleep(0.5)


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def first_visit(url: str) -> float:
    """Seconds of the very first rerun on the server (cold or start-up-warmed caches)."""
    tally = Tally()

    async def once() -> float:
        stream = url.replace("http", "ws", 1) + "/_stcore/stream"
        async with websockets.connect(stream, subprotocols=["streamlit"], max_size=None,
                                      ping_interval=None) as ws:
            session = VirtualSession(ws, "first")
            run = await session.rerun(page="map")
            tally.errors.extend(run.problems)
            return run.seconds

    seconds = asyncio.run(once())
    for problem in tally.errors:
        print(f"  first visit: {problem}")
    return seconds


def report_row(n: int, tally: Tally, rss_before: float, cpu: float, seconds: float) -> None:
    every = [t for times in tally.times.values() for t in times]
    if not every:
        print(f"{n:>4} {'no reruns':>8} {len(tally.errors):>6}")
        return
    growth = (tally.rss_peak_mb - rss_before) / n
    print(f"{n:>4} {len(every):>7} {len(tally.errors):>6} {statistics.median(every):>7.2f} "
          f"{percentile(every, 0.95):>7.2f} {max(every):>7.2f} {tally.rss_peak_mb:>8.0f} "
          f"{growth:>+9.1f} {100 * cpu / seconds:>6.0f}%  {load_average()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", default="1,10,25,50",
                        help="comma-separated numbers of concurrent sessions")
    parser.add_argument("--seconds", type=float, default=60, help="duration of each phase")
    parser.add_argument("--think", type=float, default=2.0,
                        help="mean seconds a session waits between steps")
    parser.add_argument("--port", type=int, default=8597)
    parser.add_argument("--url", help="drive an already running server instead of starting one")
    parser.add_argument("--cold", action="store_true",
                        help="start the server without its start-up cache warm-up")
    parser.add_argument("--server-pid", type=int,
                        help="with --url: the server's process id, for its RSS and CPU")
    parser.add_argument("--by-step", action="store_true", help="also print p95 per step")
    args = parser.parse_args()
    counts = [int(n) for n in args.sessions.split(",")]

    server = None
    url = args.url.rstrip("/") if args.url else f"http://127.0.0.1:{args.port}"
    if not args.url:
        started = time.perf_counter()
        server = subprocess.Popen([str(FAIRSHARE), "dashboard", "--port", str(args.port),
                                   "--headless", *(["--no-warm"] if args.cold else [])],
                                  cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_health(url)
        print(f"server up in {time.perf_counter() - started:.1f} s (pid {server.pid})")
        if not args.cold:
            wait_for_warmup(args.port)
            print(f"start-up warm-up done {time.perf_counter() - started:.1f} s after start")
    pid = server.pid if server else args.server_pid
    try:
        print(f"load average at start: {load_average()} ({os.cpu_count()} cores)")
        rss_start = server_rss_mb(pid) if pid else float("nan")
        print(f"first visit (map of {START_AREA}): {first_visit(url):.2f} s; "
              f"server RSS {rss_start:.0f} MB before it")
        print(f"\nphases of {args.seconds:.0f} s, think time {args.think:g} s (mean); "
              "seconds per rerun, server side")
        print(f"{'N':>4} {'reruns':>7} {'errors':>6} {'p50':>7} {'p95':>7} {'max':>7} "
              f"{'RSS MB':>8} {'MB/sess':>9} {'CPU':>7}  load 1/5/15 min")
        by_step: list[tuple[int, Tally]] = []
        for n in counts:
            rss_before = server_rss_mb(pid) if pid else float("nan")
            cpu_before = sum(psutil.Process(pid).cpu_times()[:2]) if pid else 0.0
            tally = asyncio.run(phase(url, n, args.seconds, args.think, pid))
            cpu = (sum(psutil.Process(pid).cpu_times()[:2]) - cpu_before) if pid else 0.0
            report_row(n, tally, rss_before, cpu, args.seconds)
            for line in sorted(set(tally.errors))[:8]:
                print(f"       {tally.errors.count(line)} × {line}")
            by_step.append((n, tally))
        if args.by_step:
            steps = sorted({s for _, t in by_step for s in t.times})
            print("\np95 seconds per step")
            print(f"{'N':>4} " + " ".join(f"{s:>16}" for s in steps))
            for n, tally in by_step:
                print(f"{n:>4} " + " ".join(
                    f"{percentile(tally.times[s], 0.95):>16.2f}" if tally.times.get(s)
                    else f"{'-':>16}" for s in steps))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
