"""``fairshare dashboard``: start the Streamlit app on the embedded data."""

from __future__ import annotations

import os
import sys

import typer

from analysis.cli.common import PACKAGE_ROOT

LOCALHOST = "127.0.0.1"


def server_command(port: int, headless: bool, address: str) -> list[str]:
    """The ``streamlit run`` command line for the dashboard."""
    app_file = PACKAGE_ROOT / "dashboard" / "app.py"
    command = [sys.executable, "-m", "streamlit", "run", str(app_file),
               "--server.port", str(port), "--server.address", address]
    if headless:
        command += ["--server.headless", "true"]
    return command


def dashboard(
    port: int = typer.Option(8501, help="Port to serve on."),
    headless: bool = typer.Option(False, help="Don't open a browser."),
    address: str = typer.Option(
        LOCALHOST, help="Network interface to listen on. The default serves this machine "
        "only; a deployment behind a reverse proxy sets e.g. 0.0.0.0."),
) -> None:
    """Start the Streamlit dashboard on the embedded data (this process becomes the server)."""
    command = server_command(port, headless, address)
    os.chdir(PACKAGE_ROOT)  # Streamlit reads .streamlit/config.toml from here
    # exec, not a child process: Ctrl-C, kill and service managers reach the server itself,
    # and stopping `bash scripts/start` leaves no orphaned server behind
    os.execv(sys.executable, command)
