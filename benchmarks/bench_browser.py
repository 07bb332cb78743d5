"""Browser speed figures in headless Chromium against the real app (issue #15). Prints
each figure beside its target; asserts nothing:

- first load after a server start: home page of Greater Manchester ICB to visible map and
  legend ≤ 5 s, for the first visitor after the start-up warm-up that ``fairshare dashboard``
  (the README's start command) runs (``dashboard.warmup``, timed and printed); ``--cold``
  also prints the worst case, a visitor to a plain ``streamlit run`` with no warm-up;
- the whole-England LSOA map (``/map?area=E92000001``, all 33,755 LSOAs), warm: visible
  ≤ 5 s and ≤ 3 MB received over the websocket for that page view;
- an ICB map, warm: ≤ 0.6 MB over the websocket, for Greater Manchester (E54000057, the
  default study area) and for North East and North Cumbria (E54000050: 1,928 LSOAs over a
  large, intricate coast, the biggest map layer of the 42 ICBs).

    .venv/bin/python benchmarks/bench_browser.py [--port 8596] [--repeats 3] [--cold]

"Visible" is the deck.gl canvas and the legend below it shown; "last frame" is when the
last websocket frame of the page view arrived (server and transfer, without drawing).
Bytes are the payloads of the websocket frames received from navigation until Streamlit
reports the script run finished (the page's scripts and fonts come over HTTP and are not
counted). Warm runs follow one unmeasured visit that filled the server's caches; each is a
new Streamlit session, first in a new browser context every time (nothing cached in the
browser), then as a returning browser (one context, its HTTP cache kept). The browser runs
on the same machine as the server (software WebGL), so times include its drawing. Traffic
goes only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync",
                 "--disable-quic", "--use-gl=swiftshader", "--enable-unsafe-swiftshader"]
ENGLAND = "E92000001"
GREATER_MANCHESTER_ICB = "E54000057"
# the map page always draws LSOAs; the country code as study area makes that all of England
ENGLAND_MAP = f"/map?area={ENGLAND}&mode=single&ind=imd2025_score"
NORTH_EAST_ICB = "E54000050"
ICB_MAP = f"/map?area={GREATER_MANCHESTER_ICB}&mode=single&ind=imd2025_score"
LARGEST_ICB_MAP = f"/map?area={NORTH_EAST_ICB}&mode=single&ind=imd2025_score"
HOME = f"/?area={GREATER_MANCHESTER_ICB}"
MAP_CANVAS = "[data-testid='stDeckGlJsonChart'] canvas"
LEGEND = ".fs-legend"
RUN_FINISHED = "[data-testid='stApp'][data-test-script-state='notRunning']"
TIMEOUT_MS = 300_000

TARGET_FIRST_LOAD_S = 5.0
TARGET_ENGLAND_S = 5.0
TARGET_ENGLAND_MB = 3.0
TARGET_ICB_MB = 0.6


@dataclass
class PageView:
    seconds: float  # navigation → map canvas and legend visible
    received_bytes: int  # websocket payloads received until the script run finished
    received_seconds: float  # navigation → the last of those frames received


def start_server(port: int) -> subprocess.Popen:
    env = {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    return subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "app.py"),
         "--server.port", str(port), "--server.headless", "true",
         "--server.address", "127.0.0.1"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_for_health(url: str, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the dashboard did not answer at {url} within {seconds:.0f} s")


def warm_up(url: str) -> float:
    """Run the start-up warm-up ``fairshare dashboard`` starts beside the server (the same
    module, waited for here); its duration in seconds."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "dashboard.warmup", "--url", url], cwd=ROOT,
                   check=True)
    return time.perf_counter() - started


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()


def first_load(browser, url: str, label: str) -> None:
    first = fresh_view(browser, url + HOME)
    print(f"{label}:")
    print(f"  visible {first.seconds:.1f} s (last frame {first.received_seconds:.1f} s, "
          f"{first.received_bytes / 1e6:.2f} MB over the websocket)   "
          f"target ≤ {TARGET_FIRST_LOAD_S:.0f} s: {verdict(first.seconds, TARGET_FIRST_LOAD_S)}")


def cold_first_load(browser, port: int) -> None:
    """The worst case: the first visitor to a server started without the warm-up."""
    url = f"http://127.0.0.1:{port}"
    server = start_server(port)
    try:
        wait_for_health(url)
        first_load(browser, url, "Worst case, first visitor to a plain `streamlit run` (no "
                   "warm-up): home page to visible map and legend")
    finally:
        stop_server(server)


def new_context(browser):
    return browser.new_context(viewport={"width": 1400, "height": 900})


def view(context, url: str) -> PageView:
    """Open ``url`` in a new page (a new Streamlit session) of ``context``: time to visible
    map and legend, websocket bytes."""
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    received = [0]
    last_frame = [0.0]

    def count(payload) -> None:
        received[0] += len(payload.encode() if isinstance(payload, str) else payload)
        last_frame[0] = time.perf_counter()

    page.on("websocket", lambda ws: ws.on("framereceived", count))
    try:
        started = time.perf_counter()
        page.goto(url)
        page.locator(MAP_CANVAS).first.wait_for(state="visible")
        page.locator(LEGEND).first.wait_for(state="visible")
        seconds = time.perf_counter() - started
        page.wait_for_selector(RUN_FINISHED)
        # a page may rerun at once (URL parameters written back): look again after a moment
        page.wait_for_timeout(500)
        page.wait_for_selector(RUN_FINISHED)
        exceptions = page.locator("[data-testid='stException']").count()
        if exceptions:
            raise SystemExit(f"{url} showed {exceptions} exception box(es)")
        return PageView(seconds, received[0], last_frame[0] - started)
    finally:
        page.close()


def fresh_view(browser, url: str) -> PageView:
    """``view`` in a browser context of its own: nothing cached in the browser."""
    context = new_context(browser)
    try:
        return view(context, url)
    finally:
        context.close()


def spread(values: list[float], fmt: str, unit: str) -> str:
    return (f"median {format(statistics.median(values), fmt)} {unit} "
            f"(min {format(min(values), fmt)}, max {format(max(values), fmt)})")


def verdict(value: float, target: float) -> str:
    return "meets" if value <= target else "MISSES"


def report_warm(kind: str, warm: list[PageView], *, target_mb: float,
                target_s: float | None) -> None:
    seconds = [v.seconds for v in warm]
    megabytes = [v.received_bytes / 1e6 for v in warm]
    time_target = (f"   target ≤ {target_s:.0f} s: {verdict(statistics.median(seconds), target_s)}"
                   if target_s is not None else "")
    print(f"  warm server, {kind}:")
    print(f"    visible:        {spread(seconds, '.1f', 's')}{time_target}")
    print(f"    last frame in:  {spread([v.received_seconds for v in warm], '.1f', 's')}")
    print(f"    websocket:      {spread(megabytes, '.2f', 'MB')}   target ≤ {target_mb} MB: "
          f"{verdict(max(megabytes), target_mb)}")


def measure_map(browser, url: str, label: str, repeats: int, *, target_mb: float,
                target_s: float | None) -> None:
    cold = fresh_view(browser, url)
    print(f"{label}:")
    print(f"  first visit (fills the server's caches): visible {cold.seconds:.1f} s, "
          f"last frame {cold.received_seconds:.1f} s, {cold.received_bytes / 1e6:.2f} MB")
    report_warm("new browser context each run (nothing cached in the browser)",
                [fresh_view(browser, url) for _ in range(repeats)],
                target_mb=target_mb, target_s=target_s)
    returning = new_context(browser)
    try:
        view(returning, url)  # the browser's HTTP cache now holds the app's scripts
        report_warm("returning browser (HTTP cache kept, a new session each run)",
                    [view(returning, url) for _ in range(repeats)],
                    target_mb=target_mb, target_s=target_s)
    finally:
        returning.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8596)
    parser.add_argument("--repeats", type=int, default=3, help="warm runs per map and kind")
    parser.add_argument("--cold", action="store_true",
                        help="also measure a first visitor to a server with no warm-up")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: install Debian's chromium")
    from playwright.sync_api import sync_playwright

    url = f"http://127.0.0.1:{args.port}"
    started = time.perf_counter()
    server = start_server(args.port)
    try:
        wait_for_health(url)
        up = time.perf_counter() - started
        warmed = warm_up(url)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                         headless=True)
            print(f"Headless Chromium, {os.cpu_count()} cores, server and browser on one "
                  f"machine; warm figures over {args.repeats} runs")
            print(f"Server answering after {up:.1f} s; start-up warm-up (overview, map, "
                  f"inverse care) took a further {warmed:.1f} s")
            first_load(browser, url, "First load after the server starts and warms up, home "
                       "page (Greater Manchester ICB) to visible map and legend")
            measure_map(browser, url + ENGLAND_MAP,
                        "Map page, whole of England at LSOA level (33,755 areas)",
                        args.repeats, target_mb=TARGET_ENGLAND_MB, target_s=TARGET_ENGLAND_S)
            measure_map(browser, url + ICB_MAP,
                        "Map page, Greater Manchester ICB (E54000057, 1,702 LSOAs)",
                        args.repeats, target_mb=TARGET_ICB_MB, target_s=None)
            measure_map(browser, url + LARGEST_ICB_MAP,
                        "Map page, North East and North Cumbria ICB (E54000050, 1,928 LSOAs)",
                        args.repeats, target_mb=TARGET_ICB_MB, target_s=None)
            stop_server(server)
            if args.cold:
                cold_first_load(browser, args.port + 1)
            browser.close()
    finally:
        stop_server(server)

if __name__ == "__main__":
    main()
