"""The ``fairshare`` command line: one module per command group, calling the engine."""

from analysis.cli.main import app

__all__ = ["app"]
