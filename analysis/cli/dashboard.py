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


def server_command(port: int, headless: bool, address: str) -> list[str]:
    """The ``streamlit run`` command line for the dashboard."""
    app_file = PACKAGE_ROOT / "dashboard" / "app.py"
    command = [sys.executable, "-m", "streamlit", "run", str(app_file), *settings_flags(),
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
