"""Hostile uploads benchmark: how long refusing each one takes, and the peak memory.

Files (written to a temporary folder by the generators of
``tests/ingest/test_hostile_uploads.py``):

- the audit's row bomb: a ~150 kB ``.xlsx`` whose sheet expands to 100 MB of ``<row/>``;
- a larger one of ~1.4 MB expanding to 1 GB;
- a sheet of 1 million numbered empty rows, with the ratio check lifted, so the streaming
  row cap is what stops it (the worst case the caps allow);
- a 2,000,001-row CSV (33 MB);
- for comparison, an honest workbook of 33,755 LSOA rows, which is read and accepted.

Each file is checked by ``analysis.ingest.read_upload`` in a fresh Python process, so the
peak resident memory printed is that process's own (``ru_maxrss``), imports included; the
first row ("import only") is that baseline. Target (issue #16): refused within 10 s and
500 MB.

    .venv/bin/python benchmarks/bench_hostile_uploads.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.ingest.test_hostile_uploads import (  # noqa: E402
    HEADER_ROW,
    big_csv,
    row_bomb,
    write_xlsx,
)

CHILD = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
from analysis.ingest import read_upload
from analysis.ingest import readers
path, lift_ratio = sys.argv[1], sys.argv[2] == "1"
if lift_ratio:
    readers.MAX_XLSX_INFLATE_RATIO = 10**9
meta = {{"id": "bench", "title": "Bench", "description": "Benchmark.", "unit": "score",
        "kind": "need", "polarity": "higher_is_worse", "period": "2024",
        "geography": "auto", "licence": "OGL", "source": "bench"}}
started = time.perf_counter()
if path != "-":
    data = open(path, "rb").read()
    indicator, report = read_upload(data, path.rsplit("/", 1)[-1], meta,
                                    max_bytes=10**9)
    verdict = "accepted" if report.ok else report.errors[0].to_text()
else:
    verdict = "imports only"
seconds = time.perf_counter() - started
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"seconds": seconds, "peak_mb": peak_mb, "verdict": verdict}}))
"""


def honest_workbook(path: Path) -> Path:
    """33,755 rows of real LSOA codes and values, as Excel would save them (with a size
    record)."""
    from analysis.data import load_pack_table

    codes = load_pack_table("england").index
    rows = "".join(f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>{code}</t></is></c>'
                   f'<c r="B{i}"><v>{i % 97}.5</v></c></row>'
                   for i, code in enumerate(codes, start=2))
    return write_xlsx(path, dimension=f"A1:B{len(codes) + 1}", head=HEADER_ROW + rows)


def measure(path: Path | None, *, lift_ratio: bool = False) -> dict:
    """Check one file in a fresh interpreter; its own timing and peak RSS."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD.format(root=str(ROOT)), str(path) if path else "-",
         "1" if lift_ratio else "0"],
        capture_output=True, text=True, check=True, timeout=600)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        cases = [
            ("import only", None, False),
            ("row bomb, sheet of 100 MB", row_bomb(tmp / "bomb-100mb.xlsx"), False),
            ("row bomb, sheet of 1 GB", row_bomb(tmp / "bomb-1gb.xlsx", 1_000_000_000),
             False),
            ("1 M empty numbered rows, ratio check lifted",
             write_xlsx(tmp / "rows-1m.xlsx", dimension="A1:B2",
                        tail="".join(f'<row r="{i}"/>' for i in range(2, 1_100_000))), True),
            ("CSV of 2,000,001 rows", big_csv(tmp / "rows-2m.csv"), False),
            ("honest workbook, 33,755 LSOAs", honest_workbook(tmp / "honest.xlsx"), False),
        ]
        print(f"{'file':<46} {'size':>10} {'seconds':>8} {'peak RSS':>9}  verdict")
        for label, path, lift in cases:
            result = measure(path, lift_ratio=lift)
            size = f"{path.stat().st_size / 1e3:,.0f} kB" if path else ""
            verdict = result["verdict"].split(": ", 1)[-1]
            print(f"{label:<46} {size:>10} {result['seconds']:>8.2f} "
                  f"{result['peak_mb']:>6.0f} MB  {verdict[:110]}")


if __name__ == "__main__":
    main()
