"""A briefing with an equity audit attached gains "Equity audit of <service>" in HTML, PDF and
DOCX: the verdict with its figures, the simulated label, the quintile table with small counts
hidden, and still at most four pages."""

from __future__ import annotations

import pytest

from analysis.audit.run import audit_activity, simulated_example
from analysis.briefing import MAX_PAGES, build_briefing, render
from tests.briefing.test_briefing import docx_text, html_text, pdf_text
from tests.briefing.test_briefing_notes import pdf_pages

WIGAN = "E08000010"


@pytest.fixture(scope="module")
def audited():
    result = audit_activity(simulated_example(50_000, WIGAN, seed=9), area_code=WIGAN,
                            service="the family hubs")
    briefing = build_briefing(WIGAN, audit=result, notes=False)
    return result, briefing, {fmt: render(briefing, fmt) for fmt in ("html", "pdf", "docx")}


@pytest.mark.parametrize(("fmt", "extract"), [("html", html_text), ("pdf", pdf_text),
                                               ("docx", docx_text)])
def test_the_section_is_in_every_format(audited, fmt, extract):
    result, briefing, files = audited
    text = extract(files[fmt])
    assert "Equity audit of the family hubs" in text
    assert "Simulated records, not real patients." in text
    assert "most deprived fifth" in text
    assert "Records as % of expected" in text


def test_the_section_reads_the_result(audited):
    result, briefing, _ = audited
    assert briefing.audit is not None and briefing.audit.simulated
    assert briefing.audit.paragraphs[0].startswith("Use of the family hubs by people living in")
    table = briefing.audit.tables[0]
    assert [row[0] for row in table.rows] == ["1", "2", "3", "4", "5"]
    assert briefing.facts["audit"]["events"] == result.events
    assert any("Equity audit:" in m for m in briefing.methods)


def test_still_four_pages(audited):
    assert pdf_pages(audited[2]["pdf"]) <= MAX_PAGES


def test_small_counts_are_hidden_in_the_table():
    result = audit_activity(simulated_example(2_000, WIGAN, seed=1), area_code=WIGAN)
    small = result.by_quintile.copy()
    small.loc[small.index[0], "events"] = 3
    result.by_quintile = small
    table = build_briefing(WIGAN, audit=result, notes=False).audit.tables[0]
    assert table.suppressed
    assert table.rows[0][1] == "[c]" and table.rows[0][3] == "[c]" and table.rows[0][4] == "[c]"


def test_without_an_audit_nothing_changes():
    assert build_briefing(WIGAN, notes=False).audit is None
