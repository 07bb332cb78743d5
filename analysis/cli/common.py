"""What every command shares: one way to fail, and where the installed package lives."""

from __future__ import annotations

import contextlib
from pathlib import Path

import typer

PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the checkout, or site-packages


def fail(message: str, code: int = 1) -> None:
    """Print ``Error: message`` to standard error and exit with ``code``."""
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)


def checked_output(path: Path, *, folder: bool = False) -> Path:
    """Check an ``--out`` path before any work is done, so that a command never computes
    for minutes and then fails (or prints a traceback) at the write.

    ``path`` must not be an existing folder when a file is wanted (nor a device such as
    ``/dev/full``, nor a file when ``folder``). A missing parent folder is created only when
    it lies inside the working folder; elsewhere (``/nonexistent/x.csv``) it is an error,
    never a folder made at the filesystem root. An output folder asked for by name
    (``folder``) is created when the folder it goes in exists. Failures exit with one
    ``Error:`` line.
    """
    target = path.expanduser()
    if folder:
        if target.exists() and not target.is_dir():
            fail(f"cannot write into {path}: it is a file, not a folder")
        wanted = target
    else:
        if target.is_dir():
            fail(f"cannot write {path}: it is a folder; give a file name")
        if target.exists() and not target.is_file():
            fail(f"cannot write {path}: it is not a regular file")
        wanted = target.parent
    if wanted.exists() and not wanted.is_dir():
        fail(f"cannot write {path}: {wanted} is not a folder")
    if not wanted.exists():
        inside = Path.cwd().resolve()
        resolved = wanted.resolve()
        named = folder and wanted.parent.is_dir()  # the folder asked for, in one that exists
        if resolved != inside and inside not in resolved.parents and not named:
            fail(f"cannot write {path}: the folder {wanted} does not exist")
        try:
            wanted.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            fail(f"cannot create the folder {wanted}: {exc.strerror or exc}")
    return target


def write_output(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (a temporary file beside it, then a rename): a
    failed or interrupted write leaves the old file, never half a new one. Errors such as a
    full disk or a read-only folder exit with one ``Error:`` line."""
    temporary = path.with_name(f".{path.name}.part")
    try:
        temporary.write_bytes(data)
        temporary.replace(path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        fail(f"cannot write {path}: {exc.strerror or exc}")
