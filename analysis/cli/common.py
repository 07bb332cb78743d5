"""What every command shares: one way to fail, and where the installed package lives."""

from __future__ import annotations

from pathlib import Path

import typer

PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the checkout, or site-packages


def fail(message: str, code: int = 1) -> None:
    """Print ``Error: message`` to standard error and exit with ``code``."""
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)
