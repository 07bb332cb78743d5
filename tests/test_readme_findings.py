"""Every finding in the README's "What the real data say" names a command, and that command
prints every number the finding quotes (so a changed result cannot leave the README stale)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from analysis.cli.main import app
from tests.conftest import REPO

#: Figures the README quotes from others (the Health Equity Evidence Centre's published
#: 2022-23 quintile figures), not printed by Fairshare.
PUBLISHED_ELSEWHERE = {"£168.51", "£182.60", "7.7%"}
NUMBER = re.compile(r"£\d[\d,]*\.\d+|\d+\.\d+%?|\d+%")
COMMAND = re.compile(r"`((?:\.venv/bin/)?(?:fairshare|python) [^`]+)`")


def _findings() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("### What the real data say", 1)[1].split("\n## ", 1)[0]
    bullets = re.split(r"\n- ", "\n" + section.split("\n", 1)[1])
    return [" ".join(b.split()) for b in bullets if b.strip().startswith("**")]


def _run(command: str) -> str:
    words = shlex.split(command)
    program = words[0].rsplit("/", 1)[-1]
    if program == "fairshare":
        done = CliRunner().invoke(app, words[1:])
        assert done.exit_code == 0, f"{command}: {done.output}"
        return done.output
    assert program == "python" and words[1] == "-c", command
    done = subprocess.run([sys.executable, "-c", words[2]], cwd=REPO, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


FINDINGS = _findings()


def test_the_readme_has_findings():
    assert len(FINDINGS) >= 4


@pytest.mark.parametrize("finding", FINDINGS, ids=[f.split("**")[1][:30] for f in FINDINGS])
def test_each_finding_names_a_command_that_prints_its_numbers(finding):
    commands = COMMAND.findall(finding)
    assert commands, f"no command named in: {finding[:80]}"
    output = " ".join(" ".join(_run(c).split()) for c in commands)
    prose = COMMAND.sub("", finding)
    numbers = [n for n in NUMBER.findall(prose) if n not in PUBLISHED_ELSEWHERE]
    assert numbers, finding[:80]
    missing = [n for n in numbers if n not in output]
    assert not missing, f"{missing} not printed by {commands}"
