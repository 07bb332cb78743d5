"""A briefing's words: every gap stated with its direction (the signed statistic only in the
methods), observed deciles quoted rather than the fitted line's ends, the GP-funding gap with
and without dispensing practices and which total it uses, small groups said rather than led
with, one comparison rule shared with the dashboard, the attribution of the sources used."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.briefing import build_briefing, compare_in_words, compared_with
from analysis.numbers import MINUS, compare_with_reference
from tests.conftest import REPO


@pytest.fixture(scope="module")
def briefs():
    return {code: build_briefing(code)
            for code in ("E54000057", "E08000010", "E54000018", "S12000005")}


def _reader_text(b) -> str:
    parts = [b.headline, *b.meaning]
    for k in b.key_numbers:
        parts += [k.label, k.value, k.detail]
    return " ".join(parts)


@pytest.mark.parametrize("code", ["E54000057", "E08000010", "E54000018"])
def test_gaps_are_words_with_direction_and_signs_live_in_the_methods(briefs, code):
    b = briefs[code]
    text = _reader_text(b)
    assert MINUS not in text, [p for p in text.split(". ") if MINUS in p]
    assert "slope index of inequality −" not in text
    methods = " ".join(b.methods)
    assert f"{MINUS}" in methods and "least minus most deprived" in methods


def test_greater_manchester_capacity_gap_reads_higher_at_the_most_deprived_end(briefs):
    text = " ".join(briefs["E54000057"].meaning)
    assert ("puts capacity 3.9 GPs per 100,000 higher at the most deprived end than at the "
            "least deprived end (95% CI 1.6 to 6.1)") in text
    assert "relative index 0.94" in " ".join(briefs["E54000057"].methods)


def test_wigan_health_gap_quotes_the_observed_deciles_not_the_fitted_ends(briefs):
    wigan = briefs["E08000010"]
    sentence = next(m for m in wigan.meaning if m.startswith("Illness and disability"))
    assert "ratio is 209.7, about two and a half times the level in decile 10 (80.2)" in sentence
    assert "213" not in sentence and " 59" not in sentence and "four times" not in sentence
    assert "fitted gradient across all deciles (slope index of inequality) puts it 153.7 " \
           "points higher at the most deprived end" in sentence
    key = next(k for k in wigan.key_numbers if k.label.startswith("Health gap"))
    assert key.value == "153.7 points higher"
    assert "Observed: 209.7 in decile 1 against 80.2 in decile 10" in key.detail
    assert wigan.facts["outcome_decile_first"] == pytest.approx(209.7, abs=0.05)


def test_gp_funding_gap_with_and_without_dispensing_says_which_drives_it(briefs):
    coventry = briefs["E54000018"]  # a gap of about 18% that dispensing practices make
    key = next(k for k in coventry.key_numbers if k.label.startswith("GP funding"))
    assert key.value.endswith("% less")
    assert "excluding COVID and PCN payments" in key.detail
    assert "Without dispensing practices: " in key.detail
    text = " ".join(coventry.meaning)
    assert "Dispensing practices (mostly rural, and also paid for the drugs they dispense) " \
           "drive the gap." in text
    table = next(t for t in coventry.tables if t.key == "gp_funding")
    assert table.header[-1] == "Without dispensing practices"
    assert "excluding COVID and PCN payments" in table.notes[0]
    gm = " ".join(briefs["E54000057"].meaning)
    assert "No practice here dispenses" in gm


def test_a_group_too_small_to_compare_is_said_not_led_with(briefs):
    wigan = briefs["E08000010"]  # the least deprived fifth is 3 practices
    key = next(k for k in wigan.key_numbers if k.label.startswith("GP funding"))
    assert key.value == "Too few practices to compare"
    assert "only 3 practices here" in key.detail
    assert wigan.facts["gp_gap_pct"] is None and wigan.facts["gp_comparable"] is False


def test_scottish_attribution_names_only_the_sources_it_uses(briefs):
    attribution = briefs["S12000005"].attribution
    assert "Scottish Government" in attribution and "National Records of Scotland" in attribution
    for english in ("NHS England", "English Indices", "Ministry of Housing",
                    "Office for Health Improvement"):
        assert english not in attribution
    assert "NHS England" in briefs["E54000057"].attribution


# -- one voice: the direction comes from the shared rule ----------------------------------


def test_compared_with_follows_the_shared_rule():
    # −3.8% without an interval: within 5%, the same as the Overview's neutral colour
    assert compared_with(1066, 1108, "the England average") == "about the same as the " \
                                                               "England average"
    # −3.8% with an interval that excludes England: lower, so never "about the same"
    assert compared_with(96.2, 100, "England", lower=95, upper=97.5) == (
        "slightly less than England")
    # a big ratio whose interval includes the reference: not clearly different
    assert compared_with(130, 100, "England", lower=90, upper=170) == (
        "not clearly different from England")
    assert compared_with(None, 100, "England").startswith("not comparable")


@given(st.floats(min_value=0.01, max_value=1e4), st.floats(min_value=0.01, max_value=1e4),
       st.floats(min_value=0, max_value=0.5), st.floats(min_value=0, max_value=0.5),
       st.booleans())
def test_compared_with_never_contradicts_compare_with_reference(value, reference, below,
                                                                above, with_ci):
    lower, upper = (value * (1 - below), value * (1 + above)) if with_ci else (None, None)
    words = compared_with(value, reference, "X", lower=lower, upper=upper)
    direction = compare_with_reference(value, reference, lower=lower, upper=upper).direction
    up = any(w in words for w in ("more than", "times X", "twice X"))
    down = any(w in words for w in ("less than", " of X", "half X"))
    assert up == (direction == "higher")
    assert down == (direction == "lower")
    if direction == "similar":
        assert words in ("about the same as X", "not clearly different from X")
    assert compare_in_words(value, reference, "X")  # the magnitude words still exist


# -- command line: a bad code fails before the briefing room loads -------------------------


def test_cli_rejects_an_unknown_code_before_loading_the_briefing_room(tmp_path):
    script = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from analysis.cli.main import app\n"
        f"done = CliRunner().invoke(app, ['briefing', '--area', 'E99999999', '--out', "
        f"{str(tmp_path / 'x.pdf')!r}])\n"
        "print(done.exit_code, 'analysis.briefing.assembly' in sys.modules, "
        "'weasyprint' in sys.modules)\n"
        "print(done.output)\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True,
                          text=True, timeout=120, check=True)
    first, *rest = done.stdout.splitlines()
    assert first == "2 False False"
    assert "Unknown area code 'E99999999'" in "\n".join(rest)
