"""``fairshare dashboard``: start the Streamlit app on the embedded data."""

from __future__ import annotations

import subprocess
import sys

import typer

from analysis.cli.common import PACKAGE_ROOT


def dashboard(
    port: int = typer.Option(8501, help="Port to serve on."),
    headless: bool = typer.Option(False, help="Don't open a browser."),
) -> None:
    """Start the Streamlit dashboard on the embedded data."""
    app_file = PACKAGE_ROOT / "dashboard" / "app.py"
    command = [sys.executable, "-m", "streamlit", "run", str(app_file),
               "--server.port", str(port)]
    if headless:
        command += ["--server.headless", "true"]
    raise typer.Exit(subprocess.call(command, cwd=PACKAGE_ROOT))
