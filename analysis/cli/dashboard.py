"""``fairshare dashboard``: start the Streamlit app on the embedded data."""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path

import typer

from analysis.cli.common import PACKAGE_ROOT

LOCALHOST = "127.0.0.1"


SOURCE_SETTINGS = PACKAGE_ROOT / ".streamlit" / "config.toml"
INSTALLED_SETTINGS = PACKAGE_ROOT / "dashboard" / "settings" / "config.toml"


def settings_flags(config: Path | None = None) -> list[str]:
    """The app's Streamlit settings as ``--section.option value`` flags.

    A source checkout needs none (Streamlit reads ``.streamlit/config.toml`` from the working
    folder); an installed wheel carries the same file as ``dashboard/settings/config.toml``,
    which Streamlit would not find on its own.
    """
    if config is None:
        if SOURCE_SETTINGS.is_file():
            return []
        config = INSTALLED_SETTINGS
    if not config.is_file():
        return []
    flags: list[str] = []
    for section, options in tomllib.loads(config.read_text(encoding="utf-8")).items():
        for option, value in options.items():
            text = str(value).lower() if isinstance(value, bool) else str(value)
            flags += [f"--{section}.{option}", text]
    return flags


# Serving settings for many concurrent sessions (docs/scaling.md). Streamlit's defaults suit
# editing an app: a full gen-2 garbage collection after every script run (57% of the
# server's GIL time with 10 sessions: every run walks the whole heap of cached frames and
# polygons) and a watcher per session that rescans sys.modules after every run.
SERVING_FLAGS = ["--runner.postScriptGC", "false", "--server.fileWatcherType", "none"]


def server_command(port: int, headless: bool, address: str) -> list[str]:
    """The ``streamlit run`` command line for the dashboard."""
    app_file = PACKAGE_ROOT / "dashboard" / "app.py"
    command = [sys.executable, "-m", "streamlit", "run", str(app_file), *settings_flags(),
               *SERVING_FLAGS, "--server.port", str(port), "--server.address", address]
    if headless:
        command += ["--server.headless", "true"]
    return command


def warmup_command(port: int, address: str) -> list[str]:
    """The command that warms the server's shared caches once it answers
    (``dashboard/warmup.py``: one session runs the overview, map and inverse-care pages)."""
    host = LOCALHOST if address in {"0.0.0.0", "::", ""} else address
    return [sys.executable, "-m", "dashboard.warmup", "--url", f"http://{host}:{port}"]


def start_detached(command: list[str]) -> None:
    """Run ``command`` in a grandchild that init adopts: the server this process is about to
    become never has to reap it, and stopping the server does not wait for it."""
    child = os.fork()
    if child == 0:
        try:
            if os.fork() == 0:
                os.setsid()
                devnull = os.open(os.devnull, os.O_RDONLY)
                os.dup2(devnull, 0)
                os.execv(command[0], command)
        finally:
            os._exit(0)
    os.waitpid(child, 0)


def dashboard(
    port: int = typer.Option(8501, help="Port to serve on."),
    headless: bool = typer.Option(False, help="Don't open a browser."),
    address: str = typer.Option(
        LOCALHOST, help="Network interface to listen on. The default serves this machine "
        "only; a deployment behind a reverse proxy sets e.g. 0.0.0.0."),
    warm: bool = typer.Option(
        True, help="Warm the shared caches at start-up (one scripted session runs the "
        "overview, map and inverse-care pages), so the first visitor does not wait."),
) -> None:
    """Start the Streamlit dashboard on the embedded data (this process becomes the server)."""
    command = server_command(port, headless, address)
    os.chdir(PACKAGE_ROOT)  # Streamlit reads .streamlit/config.toml from here
    if warm:
        start_detached(warmup_command(port, address))
    # exec, not a child process: Ctrl-C, kill and service managers reach the server itself,
    # and stopping `bash scripts/start` leaves no orphaned server behind
    os.execv(sys.executable, command)
