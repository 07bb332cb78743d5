"""Run the dashboard's Streamlit server with Python's cyclic garbage collector switched off.

``benchmarks/bench_soak.py`` starts the server through this wrapper: with ``gc.disable()``
(and ``fairshare dashboard``'s ``--runner.postScriptGC false``, so Streamlit never collects
either) only reference counting frees memory, and anything a session leaves in a reference
cycle stays. If the server's memory still plateaus over a soak, sessions do not leak.

    .venv/bin/python benchmarks/gc_disabled_server.py PORT [--keep-gc]

``--keep-gc`` leaves the collector on (the control run: the same server as deployed).

The command line after the interpreter is the one ``fairshare dashboard`` would exec
(``analysis.cli.dashboard.server_command``), run in this process by Streamlit's own CLI.
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    if "--keep-gc" not in sys.argv[2:]:
        gc.disable()
    sys.path.insert(0, str(ROOT))
    from streamlit.web import cli

    from analysis.cli.dashboard import server_command

    port = int(sys.argv[1])
    # [python, -m, streamlit, run, app.py, flags…] → streamlit's argv: [streamlit, run, …]
    sys.argv = ["streamlit", *server_command(port, True, "127.0.0.1")[3:]]
    print(f"gc enabled: {gc.isenabled()}; {' '.join(sys.argv)}", file=sys.stderr, flush=True)
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
