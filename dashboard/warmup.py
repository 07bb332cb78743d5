"""Warm a freshly started dashboard server's shared caches, so the first analyst does not pay.

``fairshare dashboard`` runs this in a detached process: it waits until the server answers,
opens one session over Streamlit's websocket (as a browser tab would) and runs the pages
most people open first on the default study area. That imports the heavy libraries and
fills the cross-session caches (study-area frames, map layers, the equity panel) once per
process. It never changes anything, prints nothing unless it fails, and gives up quietly
after ``--wait`` seconds (the server then simply warms on its first visitor).

    python -m dashboard.warmup --url http://127.0.0.1:8501
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import urllib.request

PAGES = ("overview", "map", "inverse-care")
DEFAULT_AREA = "E54000057"  # keep in step with dashboard.state.DEFAULT_AREA (no import:
# this process should not load the engine it is warming in another process)
RUN_TIMEOUT = 300.0


async def _run_pages(url: str, pages: tuple[str, ...], area: str) -> list[str]:
    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    problems: list[str] = []
    stream = url.replace("http", "ws", 1).rstrip("/") + "/_stcore/stream"
    async with websockets.connect(stream, subprotocols=["streamlit"], max_size=None,
                                  ping_interval=None) as ws:
        for page in pages:
            message = BackMsg()
            message.rerun_script.query_string = f"area={area}"
            message.rerun_script.page_name = "" if page == "overview" else page
            await ws.send(message.SerializeToString())
            async with asyncio.timeout(RUN_TIMEOUT):
                while True:
                    forward = ForwardMsg()
                    forward.ParseFromString(await ws.recv())
                    kind = forward.WhichOneof("type")
                    if kind == "delta" and forward.delta.WhichOneof("type") == "new_element":
                        element = forward.delta.new_element
                        if element.WhichOneof("type") == "exception":
                            problems.append(f"{page}: {element.exception.message[:200]}")
                    if (kind == "script_finished"
                            and forward.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN):
                        break
    return problems


def wait_until_up(url: str, seconds: float) -> bool:
    """Whether the server answered its health check within ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url.rstrip('/')}/_stcore/health", timeout=2)
            return True
        except OSError:
            time.sleep(0.5)
    return False


def warm(url: str, *, pages: tuple[str, ...] = PAGES, area: str = DEFAULT_AREA,
         wait: float = 180.0) -> list[str]:
    """Run ``pages`` on ``area`` once against the server at ``url``; returns problems seen
    (an unreachable server is one)."""
    if not wait_until_up(url, wait):
        return [f"the dashboard did not answer at {url} within {wait:.0f} s"]
    try:
        return asyncio.run(_run_pages(url, pages, area))
    except (OSError, TimeoutError, ValueError) as exc:
        return [f"{type(exc).__name__}: {exc}"]
    except Exception as exc:  # noqa: BLE001 - websockets' own errors: report, never raise
        return [f"{type(exc).__name__}: {exc}"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8501")
    parser.add_argument("--wait", type=float, default=180.0)
    args = parser.parse_args(argv)
    problems = warm(args.url, wait=args.wait)
    for problem in problems:
        print(f"fairshare dashboard warm-up: {problem}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
