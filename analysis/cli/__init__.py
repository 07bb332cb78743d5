"""The ``fairshare`` command line: one module per command group (``catalogue``, ``funding``,
``access``, ``allocation``, ``briefing``, ``indicators``, ``data``, ``dashboard``), assembled
in ``main``. It calls the engine; nothing in the engine imports it.
"""

from analysis.cli.main import app

__all__ = ["app"]
