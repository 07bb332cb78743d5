"""What every Chromium test needs: the skip rules, a ``streamlit run`` server on a free
localhost port, Debian's Chromium through Playwright, and waits that know when Streamlit has
finished a script run.

Test modules call :func:`require_chromium` at import (skipped where Chromium is absent,
except in CI, where a missing browser is a failure) and build their fixtures from
:func:`streamlit_server`, :func:`chromium` and :func:`open_page`, so that one server set-up
serves them all.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync",
                 "--disable-quic", "--use-gl=swiftshader", "--enable-unsafe-swiftshader"]
CI = os.environ.get("CI") == "true"
#: The window the issues' accessibility and layout rules are stated for.
VIEWPORT = {"width": 1400, "height": 900}
DROPZONE = "[data-testid='stFileUploaderDropzoneInput']"
RUN_FINISHED = "[data-testid='stApp'][data-test-script-state='notRunning']"


def require_chromium() -> None:
    """Skip the calling module where Playwright or Chromium is missing; fail in CI."""
    pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        if CI:
            pytest.fail(f"{CHROMIUM} is missing in CI: .ci/run must install Debian's "
                        "chromium", pytrace=False)
        pytest.skip(f"{CHROMIUM} not installed", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def streamlit_server(env: Mapping[str, str] | None = None, *,
                     start_timeout: float = 90.0) -> Iterator[str]:
    """``streamlit run dashboard/app.py`` on a free localhost port, with ``env`` added to
    the environment; yields its URL once ``/_stcore/health`` answers, stops it afterwards."""
    port = free_port()
    environment = {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
                   **(env or {})}
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(REPO / "dashboard" / "app.py"),
         "--server.port", str(port), "--server.headless", "true",
         "--server.address", "127.0.0.1"],
        cwd=REPO, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + start_timeout
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.time() > deadline or process.poll() is not None:
                    process.kill()
                    output = process.stdout.read().decode(errors="replace")
                    pytest.fail(f"streamlit did not start on {url}:\n{output[-3000:]}")
                time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, with software WebGL (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                    headless=True)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def open_page(browser: Any, request: Any, *, timeout_ms: int = 120_000) -> Iterator[Any]:
    """A fresh 1400×900 page (own context: no shared cookies or storage) that screenshots
    itself into ``test-artifacts/`` when the test using it fails. A cold page on a loaded
    two-core machine can take 20 s, hence the long default timeout."""
    context = browser.new_context(accept_downloads=True, viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    try:
        yield page
    finally:
        failed = getattr(request.node, "rep_call", None)
        if failed is not None and failed.failed:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
        context.close()


def wait_for_script_run(page: Any) -> None:
    """Wait until Streamlit's script run has finished. The app root carries the run's state
    (``initial`` → ``running`` → ``notRunning``); a page that switches or reruns at once goes
    back to ``running``, hence the second look after a moment."""
    page.wait_for_selector(RUN_FINISHED)
    page.wait_for_timeout(500)
    page.wait_for_selector(RUN_FINISHED)


def upload_until(page: Any, path: Path, ready: Any, attempts: int = 3) -> None:
    """Give ``path`` to the page's first file uploader until ``ready`` (the control the
    upload unlocks) is enabled. A file set while a rerun is starting can be dropped by that
    rerun (under load the chip shows, then the uploader is empty again), so it is given
    again rather than waited on for ever."""
    from playwright.sync_api import expect

    for attempt in range(1, attempts + 1):
        wait_for_script_run(page)
        page.locator(DROPZONE).first.set_input_files(str(path))
        try:
            expect(ready).to_be_enabled(timeout=60_000)
            return
        except AssertionError:
            if attempt == attempts:
                raise


def choose(page: Any, label: str, option: str) -> None:
    """Pick ``option`` in the Streamlit selectbox labelled ``label``."""
    box = page.get_by_label(label, exact=True)
    box.click()
    box.fill(option)
    page.get_by_role("option", name=option).first.click()
