"""The validation report: every problem found in a file, naming the file, the row (1-based as
in a spreadsheet: the header is row 1) and the column. *Errors* block an add; *warnings* do
not. Also the plain-text helpers every check uses to quote cells and list examples.

Every message is plain text (no markup); a web page showing one must still escape it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from analysis.data import IndicatorError

Severity = Literal["error", "warning"]

EXAMPLES = 10

GEOGRAPHY_LABELS: dict[str, tuple[str, str]] = {
    "lsoa11": ("LSOA 2011", "LSOAs (2011)"),
    "lsoa21": ("LSOA 2021", "LSOAs (2021)"),
    "dz11": ("data zone 2011", "data zones (2011)"),
    "ward": ("ward", "wards"),
    "ltla": ("local authority", "local authorities"),
    "sicbl": ("sub-ICB location", "sub-ICB locations"),
    "icb": ("integrated care board", "ICBs"),
    "practice": ("GP practice", "GP practices"),
}


@dataclass(frozen=True)
class Issue:
    """One problem found in a file: an error (blocks) or a warning (does not)."""

    severity: Severity
    rule: str
    message: str
    file: str
    row: int | None = None
    column: str | None = None

    def location(self) -> str:
        """``file, row 12, column "Value"`` (the parts that are known)."""
        parts = [self.file]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            what = "key" if self.rule == "metadata" else "column"
            parts.append(f'{what} "{self.column}"')
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return {"severity": self.severity, "rule": self.rule, "file": self.file,
                "row": self.row, "column": self.column, "message": self.message}

    def to_text(self) -> str:
        """One line: ``ERROR file, row 3, column "value": message``."""
        return f"{self.severity.upper()} {self.location()}: {self.message}"


#: The label of practice values attributed by the estimate (the same sentence as
#: ``analysis.access.registrations.ESTIMATE_CAVEAT``, which a test keeps equal)
ESTIMATED_LABEL = ("Estimated from practice locations and list sizes (distance-decay "
                   "catchment model), not from where patients are registered")


@dataclass
class ValidationReport:
    """Everything a check of one file found, plus what was detected about it."""

    file: str
    issues: list[Issue] = field(default_factory=list)
    format: str = ""
    geography: str | None = None
    stored_geography: str | None = None
    rows: int = 0
    areas: int = 0
    coverage: float | None = None
    universe: int | None = None
    notes: list[str] = field(default_factory=list)
    #: "estimated" or "registered" when practice values were attributed to LSOAs
    attribution: str | None = None

    @property
    def errors(self) -> list[Issue]:
        """Issues that block adding the indicator."""
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        """Issues worth reading that do not block."""
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when there are no errors (warnings allowed)."""
        return not self.errors

    def error(self, rule: str, message: str, *, row: int | None = None,
              column: str | None = None, file: str | None = None) -> None:
        """Record an error."""
        self.issues.append(Issue("error", rule, message, file or self.file, row, column))

    def warning(self, rule: str, message: str, *, row: int | None = None,
                column: str | None = None, file: str | None = None) -> None:
        """Record a warning."""
        self.issues.append(Issue("warning", rule, message, file or self.file, row, column))

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (what ``fairshare indicators validate --json`` prints)."""
        return {
            "file": self.file,
            "ok": self.ok,
            "format": self.format,
            "geography": self.geography,
            "stored_geography": self.stored_geography,
            "rows": self.rows,
            "areas": self.areas,
            "coverage": None if self.coverage is None else round(self.coverage, 6),
            "universe": self.universe,
            "attribution": self.attribution,
            "notes": list(self.notes),
            "errors": [i.to_dict() for i in self.errors],
            "warnings": [i.to_dict() for i in self.warnings],
        }

    def to_text(self) -> str:
        """Plain-text report: what was read, then errors, warnings and the verdict."""
        lines = [f"Checked {self.file}" + (f" ({self.format})" if self.format else "")]
        lines += [f"  {note}" for note in self.notes]
        if self.geography:
            label = GEOGRAPHY_LABELS.get(self.geography, (self.geography,))[0]
            text = f"  Geography: {label}"
            if self.stored_geography and self.stored_geography != self.geography:
                text += f", stored as {GEOGRAPHY_LABELS[self.stored_geography][0]}"
            lines.append(text)
        if self.rows:
            lines.append(f"  Rows read: {self.rows:,}")
        if self.areas and self.coverage is not None and self.universe:
            plural = GEOGRAPHY_LABELS.get(self.stored_geography or "", ("", "areas"))[1]
            lines.append(f"  Areas with a value: {self.areas:,} of {self.universe:,} {plural} "
                         f"({_pct(self.coverage)})")
        if self.attribution == "estimated":
            lines.append(f"  Attribution: estimated. {ESTIMATED_LABEL}")
        elif self.attribution == "registered":
            lines.append("  Attribution: registered (NHS Digital registrations by LSOA)")
        lines += issue_lines(self.errors, self.warnings)
        return "\n".join(lines)


class IndicatorValidationError(IndicatorError):
    """The file did not pass validation; ``report`` says why."""

    def __init__(self, report: ValidationReport) -> None:
        first = report.errors[0].to_text() if report.errors else "invalid"
        super().__init__(f"{report.file}: {len(report.errors)} error(s); first: {first}")
        self.report = report


def _show(value: Any, limit: int = 40) -> str:
    """A cell value quoted for a message: control characters escaped, long text cut."""
    text = str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return repr(text)


def _plain(text: str, limit: int = 200) -> str:
    """Text from the file made safe for a one-line message."""
    clean = "".join(ch if ch.isprintable() else " " for ch in str(text)).strip()
    return clean[:limit]


def _examples(rows: Sequence[int], labels: Sequence[str]) -> str:
    shown = [f"row {r}: {lab}" for r, lab in zip(rows[:EXAMPLES], labels[:EXAMPLES],
                                                 strict=False)]
    more = f" and {len(rows) - EXAMPLES:,} more" if len(rows) > EXAMPLES else ""
    return "; ".join(shown) + more


def _pct(share: float) -> str:
    return f"{share:.2%}" if 0 < share < 0.01 else f"{share:.1%}"


def issue_lines(errors: list, warnings: list) -> list[str]:
    """The end of a validation report as text: errors, then warnings, then the result line
    (shared by the indicator and the service reports)."""
    lines: list[str] = []
    for title, items in (("Errors", errors), ("Warnings", warnings)):
        if items:
            lines.append(f"{title} ({len(items)}):")
            lines += [f"  - {i.to_text()}" for i in items]
    if not errors:
        extra = f" ({len(warnings)} warning(s) to read)" if warnings else ""
        lines.append(f"Result: OK, no errors{extra}.")
    else:
        lines.append(f"Result: NOT VALID, {len(errors)} error(s) to fix.")
    return lines
