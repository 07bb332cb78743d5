"""Reading the raw open-data pack: missing files and unexpected shapes are errors that name
the file; the build log gathers row counts and join coverage for the manifest."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


class RawDataError(RuntimeError):
    """The raw pack is missing a file or a file has an unexpected shape."""


@dataclass
class BuildLog:
    """Counts and coverage gathered while building, written into the manifest."""

    coverage: dict[str, Any] = field(default_factory=dict)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)

    def cover(self, join: str, **facts: Any) -> None:
        self.coverage[join] = facts


def _raw(raw_dir: Path, relative: str) -> Path:
    path = raw_dir / relative
    if not path.exists():
        raise RawDataError(f"Raw file {path} is missing from the data pack")
    return path


def _read_csv(raw_dir: Path, relative: str, **kwargs: Any) -> pd.DataFrame:
    return pd.read_csv(_raw(raw_dir, relative), encoding="utf-8-sig", **kwargs)


def _require_unique(frame: pd.DataFrame, column: str, origin: str) -> None:
    dup = frame[column][frame[column].duplicated()]
    if len(dup):
        raise RawDataError(f"{origin}: duplicate {column}: {', '.join(map(str, dup[:10]))}")


def _coverage(left: pd.Index, right: pd.Index) -> dict[str, Any]:
    missing = left.difference(right)
    return {"rows": int(len(left)), "matched": int(len(left) - len(missing)),
            "unmatched": [str(c) for c in missing[:50]], "unmatched_count": int(len(missing))}


def _categorical(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    # repeated names/codes compress far better as dictionary-encoded categoricals
    for column in columns:
        frame[column] = frame[column].astype("category")
    return frame


#: An NHS practice code (ODS): a letter and five digits.
PRACTICE_CODE = r"[A-Z]\d{5}"


def bad_lines(mask: pd.Series, raw: pd.DataFrame, column: str) -> str:
    """The first five rows where ``mask`` is true, as the file's line numbers (header = line
    1) with the value found: ``line 7 ('TOTAL') and 3 more``, for a build error message."""
    rows = (np.flatnonzero(mask.to_numpy()) + 2).tolist()
    values = raw.loc[mask.to_numpy(), column].astype(str).tolist()
    shown = ", ".join(f"line {r} ({v!r})" for r, v in zip(rows[:5], values[:5], strict=True))
    return shown + (f" and {len(rows) - 5:,} more" if len(rows) > 5 else "")
