"""Small vectorised helpers shared by the engine."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd


def members(values: pd.Series | pd.Index, universe: Iterable) -> np.ndarray:
    """Boolean array: is each of ``values`` in ``universe``?

    Same result as ``Series.isin`` but by hash lookup in a ``pd.Index``; pandas 3's
    ``isin`` on Arrow-backed strings converts every element of ``universe`` to a Python
    object first, which costs ~0.3 s for a 33,000-code lookup.
    """
    index = pd.Index(pd.unique(pd.Index(universe)))
    return index.get_indexer(pd.Index(values)) >= 0


def fsync_folder(folder: Path) -> None:
    """Flush a folder's entries to disk after a rename into it, so an atomic replace survives
    a power cut (POSIX: ``rename`` is atomic, but durable only once the folder is synced)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms that cannot open folders
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)
