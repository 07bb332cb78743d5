"""Dashboard speed figures. Targets: map payload for the whole of England at LSOA level
≤ 3 MB and one ICB ≤ 0.6 MB; server time of a rerun after changing the indicator in an ICB
view ≤ 300 ms; home page to visible map in headless Chromium ≤ 5 s. Prints the figures:

    .venv/bin/python benchmarks/bench_dashboard.py [--no-browser]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis.data import (  # noqa: E402
    IndicatorRegistry,
    select_study_area,
)
from analysis.explore import (  # noqa: E402
    bivariate_layer,
    choropleth_layer,
    deprivation_layer,
    study_area_frame,  # noqa: E402
)
from analysis.explore.map_context import boundary_context  # noqa: E402
from dashboard.components import CompactDeck, polygon_layer  # noqa: E402
from dashboard.services import context_layers  # noqa: E402

GM = "E54000057"


def payload_bytes(layer, context=None) -> int:
    """Bytes of the deck.gl JSON spec Streamlit sends for one map layer (with its context
    outlines and names when given)."""
    layers = [polygon_layer(layer)]
    if context is not None:
        outlines, labels = context_layers(context)
        layers += [*outlines, *labels]
    return len(CompactDeck(layers=layers, map_style=None).to_json().encode())


def map_payloads() -> None:
    registry = IndicatorRegistry()
    print("Map payload (deck.gl JSON sent to the browser), without → with context:")
    for label, area in (("England, all 33,755 LSOAs", None), ("Greater Manchester ICB", GM),
                        ("Wigan", "E08000010")):
        shapes = select_study_area("england", area)
        frame = study_area_frame("england", area, ["imd2025_score",
                                                   "gp_access_list_places_per_1000"], registry)
        layers = {
            "deprivation deciles (overview)": deprivation_layer("england", area, registry),
            "IMD score choropleth (map page)": choropleth_layer(
                shapes, frame["imd2025_score"], title="IMD", unit="score",
                higher_is_worse=True, extra={"d": frame["deprivation_decile"].astype(str)}),
            "need × provision bivariate": bivariate_layer(
                shapes, frame["imd2025_score"], frame["gp_access_list_places_per_1000"],
                frame["population"], need_title="IMD", provision_title="GP places"),
        }
        context = boundary_context("england", area, tuple(shapes.total_bounds))
        for name, layer in layers.items():
            print(f"  {label:<28} {name:<34} {payload_bytes(layer) / 1e6:6.3f} → "
                  f"{payload_bytes(layer, context) / 1e6:6.3f} MB")


def rerun_times(repeats: int = 5) -> None:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=300)
    at.query_params["area"] = GM
    at.run()
    at.switch_page("views/map.py").run()
    indicators = [m.id for m in IndicatorRegistry().metas(geography="lsoa21")
                  if m.id != "imd2025_score"][:repeats]
    first_times, cached_times = [], []
    for timings in (first_times, cached_times):
        for indicator in indicators:
            at.selectbox(key="ind").set_value(indicator).run()
            timings.append(at.session_state["last_run_seconds"])
    assert not at.exception, at.exception
    print("Rerun after changing the indicator, Greater Manchester map page (AppTest, server "
          "side):")
    print(f"  first time each indicator: median {1000 * statistics.median(first_times):.0f} ms "
          f"(min {1000 * min(first_times):.0f}, max {1000 * max(first_times):.0f})")
    print(f"  indicator seen before:     median {1000 * statistics.median(cached_times):.0f} ms")


def browser_load(repeats: int = 3) -> None:
    from playwright.sync_api import sync_playwright

    port = 8599
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "app.py"),
         "--server.port", str(port), "--server.headless", "true"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(180):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        times = []
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                      "--disable-component-update", "--no-first-run",
                      "--use-gl=swiftshader", "--enable-unsafe-swiftshader"])
            for _ in range(repeats + 1):
                page = browser.new_context().new_page()
                started = time.perf_counter()
                page.goto(f"http://127.0.0.1:{port}/?area={GM}")
                page.wait_for_selector("[data-testid='stDeckGlJsonChart'] canvas",
                                       timeout=180_000)
                page.get_by_text("1 – most deprived 10%").first.wait_for(timeout=180_000)
                times.append(time.perf_counter() - started)
                page.context.close()
            browser.close()
        print("Headless Chromium, home page (Greater Manchester) to visible map and legend:")
        print(f"  first load after the server starts (cold caches): {times[0]:.1f} s")
        print(f"  later loads: median {statistics.median(times[1:]):.1f} s "
              f"(min {min(times[1:]):.1f}, max {max(times[1:]):.1f})")
    finally:
        server.terminate()


def main() -> None:
    map_payloads()
    rerun_times()
    if "--no-browser" not in sys.argv and Path("/usr/bin/chromium").exists():
        browser_load()


if __name__ == "__main__":
    main()
