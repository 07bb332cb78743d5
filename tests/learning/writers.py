"""Concurrent writers for the tests and the benchmark: ``run_writers`` starts N processes
that each add M notes (or edit one note M times) at the same moment, and collects every
write's duration."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

WORKER = r"""
import json, sys, time
from analysis.learning import LearningLog
url, worker, count, start_at, mode, note_id = sys.argv[1:7]
log = LearningLog(url)
log.engine  # open and migrate before the start line
from analysis.learning.validation import check_area
check_area("E08000010")
while time.time() < float(start_at):
    time.sleep(0.005)
timings = []
for i in range(int(count)):
    began = time.perf_counter()
    if mode == "add":
        log.add(area="E08000010", kind="practitioner_observation", author=f"writer {worker}",
                text=f"Observation {i} from writer {worker}: waits are long.",
                source="Practice managers' meeting", tags=[f"w{worker}"])
    else:
        log.edit(int(note_id), author=f"writer {worker}", text=f"Edit {i} by {worker}")
    timings.append(time.perf_counter() - began)
print(json.dumps(timings))
"""


def run_writers(url: str, processes: int, per_process: int, *, mode: str = "add",
                note_id: int = 0, lead: float = 4.0) -> list[float]:
    """Every write's seconds, from ``processes`` processes starting together."""
    start_at = time.time() + lead + processes * 0.6
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    children = [subprocess.Popen(
        [sys.executable, "-c", WORKER, url, str(k), str(per_process), str(start_at), mode,
         str(note_id)], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True) for k in range(processes)]
    timings: list[float] = []
    for child in children:
        out, err = child.communicate(timeout=600)
        if child.returncode != 0:
            raise RuntimeError(f"a writer failed:\n{err}")
        timings += json.loads(out.strip().splitlines()[-1])
    return timings
