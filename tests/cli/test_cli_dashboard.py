"""`fairshare dashboard` serves this machine only unless told otherwise, and becomes the
server process (no wrapper left running when it is stopped)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from analysis.cli.dashboard import LOCALHOST, server_command, settings_flags
from tests.conftest import REPO


def test_server_binds_to_localhost_by_default():
    command = server_command(8501, True, LOCALHOST)
    assert command[command.index("--server.address") + 1] == "127.0.0.1"
    assert command[command.index("--server.headless") + 1] == "true"


def test_installed_app_passes_its_settings_as_flags():
    flags = settings_flags(REPO / ".streamlit" / "config.toml")
    assert flags[flags.index("--server.maxUploadSize") + 1] == "50"
    assert flags[flags.index("--browser.gatherUsageStats") + 1] == "false"
    assert flags[flags.index("--theme.base") + 1] == "light"
    assert settings_flags() == []  # a source checkout: Streamlit reads the file itself


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_started_command_is_the_server_and_stops_cleanly():
    port = _free_port()
    fairshare = REPO / ".venv" / "bin" / "fairshare"
    executable = [str(fairshare)] if fairshare.exists() else [
        sys.executable, "-m", "analysis.cli.main"]
    server = subprocess.Popen([*executable, "dashboard", "--headless", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1)
                break
            except OSError:
                assert time.monotonic() < deadline, "the dashboard did not start"
                assert server.poll() is None, "the dashboard exited"
                time.sleep(0.5)
        # the process we started is Streamlit itself: its command line names streamlit
        cmdline = Path(f"/proc/{server.pid}/cmdline").read_bytes().split(b"\0")
        assert b"streamlit" in cmdline and b"run" in cmdline
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        group_alive = subprocess.run(["pgrep", "-g", str(server.pid)], capture_output=True)
        assert group_alive.stdout.strip() == b"", "a process of the server was left running"
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
