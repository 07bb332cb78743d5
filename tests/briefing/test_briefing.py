"""Councillor equity briefings: content agrees with the analysis API, in PDF, HTML and DOCX.

Builds briefings for NHS Greater Manchester ICB, Wigan and Clackmannanshire on the embedded
data, extracts their text (pypdf, python-docx, the standard library's HTML parser) and checks
the key numbers against :mod:`analysis` directly, that no NaN/None leaks into the text, that
area names are escaped in the HTML, and the plain-English and suppression helpers.
"""

from __future__ import annotations

import dataclasses
import io
import re
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

from analysis.briefing import (
    BRIEFING_NEED,
    BRIEFING_PROVISION,
    VERDICT_LABEL,
    Briefing,
    build_briefing,
    compare_in_words,
    people_in_words,
    render,
)
from analysis.briefing import assembly as briefing_module
from analysis.data import UnknownAreaError, default_registry
from analysis.disclosure import (
    SUPPRESSED,
    count_in_words,
    counts_in_words,
    suppress_counts,
    suppression_mask,
)
from analysis.explore import area_value, equity_panel, study_area_summary
from analysis.numbers import format_number, interval_in_words

REPO = Path(__file__).resolve().parents[2]
AREAS = ("E54000057", "E08000010", "S12000005")
BAD_WORDS = re.compile(r"\b(nan|NaN|NAN|None|inf|Infinity)\b")


class _TextOf(HTMLParser):
    """Visible text of an HTML page (style and script left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0
        self.images: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script"):
            self._skip += 1
        if tag == "img":
            self.images.append(dict(attrs))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _squash(text: str) -> str:
    return " ".join(text.split())


def html_text(data: bytes) -> str:
    parser = _TextOf()
    parser.feed(data.decode("utf-8"))
    return _squash(" ".join(parser.parts))


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return _squash(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages))


def docx_text(data: bytes) -> str:
    from docx import Document

    document = Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts += [cell.text for cell in row.cells]
    return _squash(" ".join(parts))


EXTRACT = {"pdf": pdf_text, "html": html_text, "docx": docx_text}


@pytest.fixture(scope="module")
def built() -> dict[str, Briefing]:
    return {code: build_briefing(code) for code in AREAS}


@pytest.fixture(scope="module")
def rendered(built) -> dict[tuple[str, str], bytes]:
    return {(code, fmt): render(b, fmt) for code, b in built.items()
            for fmt in ("pdf", "html", "docx")}


# -- key numbers equal the analysis results, in every format ------------------------------


@pytest.mark.parametrize("fmt", ["pdf", "html", "docx"])
@pytest.mark.parametrize("code", AREAS)
def test_key_numbers_match_analysis(rendered, code, fmt):
    text = EXTRACT[fmt](rendered[(code, fmt)])
    summary = study_area_summary(code)
    assert summary.name in text
    assert f"{summary.population:,}" in text
    assert f"{summary.pct_most_deprived_quintile:.1f}%" in text
    assert f"{summary.national_pct_most_deprived_quintile:.1f}%" in text
    # both countries now have a headline provision measure (Scotland: travel time to a GP)
    country = summary.country
    registry = default_registry()
    panel = equity_panel(country, code, BRIEFING_NEED[country], BRIEFING_PROVISION[country],
                         registry)
    assert VERDICT_LABEL[panel.test.direction] in text
    assert panel.test.verdict in text  # the dashboard's verdict sentence, with its p
    low, high = panel.test.slope_per_sd_ci
    words = ("longer", "shorter") if panel.higher_is_worse else ("higher", "lower")
    assert interval_in_words(low, high, None, 1, words=words) in text  # direction in words
    local = area_value(country, code, BRIEFING_PROVISION[country], registry)
    national = area_value(country, None, BRIEFING_PROVISION[country], registry)
    decimals = registry.meta(BRIEFING_PROVISION[country]).decimals
    assert format_number(local, decimals) in text
    assert format_number(national, decimals) in text
    assert "Cannot be tested" not in text


@pytest.mark.parametrize("fmt", ["pdf", "html", "docx"])
@pytest.mark.parametrize("code", AREAS)
def test_no_nan_or_none_in_text(rendered, code, fmt):
    text = EXTRACT[fmt](rendered[(code, fmt)])
    assert not BAD_WORDS.findall(text)


def test_facts_are_the_analysis_numbers(built):
    gm = built["E54000057"]
    summary = study_area_summary("E54000057")
    assert gm.facts["population"] == summary.population
    assert gm.facts["pct_core20"] == summary.pct_most_deprived_quintile
    panel = equity_panel("england", "E54000057", "imd2025_score",
                         BRIEFING_PROVISION["england"], default_registry())
    assert gm.facts["verdict"] == panel.test.verdict
    assert gm.facts["p_value"] == pytest.approx(panel.test.p_value)
    assert gm.facts["provision_sii"] == pytest.approx(panel.sii.sii)
    low, high = gm.facts["outcome_sii_lower"], gm.facts["outcome_sii_upper"]
    assert low < gm.facts["outcome_sii"] < high
    clacks = built["S12000005"].facts
    assert clacks["verdict_direction"] == "pro_need"  # shorter journeys where need is higher
    assert clacks["provision_higher_is_worse"] is True


def test_profile_chart_agrees_with_core20(built):
    """The decile table's deciles 1–2 add up to the Core20 share of study_area_summary."""
    for code in AREAS:
        table = next(t for t in built[code].tables if t.key == "deciles")
        shares = [float(row[3].rstrip("%")) for row in table.rows[:2] if row[3] != SUPPRESSED]
        if len(shares) == 2:
            summary = study_area_summary(code)
            assert sum(shares) == pytest.approx(summary.pct_most_deprived_quintile, abs=0.11)


# -- format-specific checks ---------------------------------------------------------------


@pytest.mark.parametrize("code", AREAS)
def test_pdf_is_a4_two_to_four_pages_fonts_embedded(rendered, code):
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(rendered[(code, "pdf")]))
    assert 2 <= len(reader.pages) <= 4
    for page in reader.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert (round(width), round(height)) == (595, 842)  # A4 in points
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            if descriptor is None:
                descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            descriptor = descriptor.get_object()
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
    assert reader.trailer["/Root"]["/Lang"] == "en-GB"
    assert "/StructTreeRoot" in reader.trailer["/Root"]  # tagged (PDF/UA)


def test_pdf_with_scenario_stays_within_four_pages():
    from pypdf import PdfReader

    scenario = REPO / "data" / "scenarios" / "icb-gp-funding-health-need.json"
    b = build_briefing("E54000057", scenario_path=scenario)
    assert len(PdfReader(io.BytesIO(render(b, "pdf"))).pages) <= 4


def test_html_is_self_contained_with_alt_text(rendered, built):
    parser = _TextOf()
    html = rendered[("E54000057", "html")].decode("utf-8")
    parser.feed(html)
    assert '<html lang="en-GB">' in html
    assert len(parser.images) == len(built["E54000057"].figures) == 4
    for image in parser.images:
        assert image["src"].startswith("data:image/svg+xml;base64,")
        assert image["alt"] and len(image["alt"]) > 40


def test_docx_has_table_headers_and_image_alt_text(rendered, built):
    from docx import Document

    data = rendered[("E08000010", "docx")]
    document = Document(io.BytesIO(data))
    assert document.tables
    for table in document.tables:
        header = table.rows[0]._tr
        assert header.trPr is not None and header.trPr.xpath("./w:tblHeader")
    shapes = document.inline_shapes
    assert len(shapes) == len(built["E08000010"].figures)
    for shape in shapes:
        assert len(shape._inline.docPr.get("descr", "")) > 40
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert any(n.startswith("word/media/") and n.endswith(".png")
                   for n in archive.namelist())


def test_area_name_is_escaped_in_html(monkeypatch):
    evil = 'Tom & Jerry <script>alert("x")</script> O\'Brien'
    real = briefing_module.study_area_summary

    def renamed(*args, **kwargs):
        return dataclasses.replace(real(*args, **kwargs), name=evil)

    monkeypatch.setattr(briefing_module, "study_area_summary", renamed)
    b = build_briefing("S12000005")
    html = render(b, "html").decode("utf-8")
    assert evil not in html
    assert "<script>" not in html
    assert "Tom &amp; Jerry &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; O&#39;Brien" in html
    assert evil in html_text(html.encode("utf-8"))  # shown to the reader as written
    assert evil in docx_text(render(b, "docx"))


def test_render_rejects_unknown_format(built):
    with pytest.raises(ValueError, match="pdf, html, docx"):
        render(built["S12000005"], "odt")


# -- bad input ----------------------------------------------------------------------------


def test_unknown_area_lists_closest_matches():
    with pytest.raises(UnknownAreaError, match="Did you mean: E54000057"):
        build_briefing("E5400057")


def test_missing_data_is_said_in_words(built):
    scotland = built["S12000005"]
    # Scotland has no GP payments data: that gap is still said in words
    assert any("English practices only" in m for m in scotland.missing)
    assert not any("no small-area measure of service provision" in m for m in scotland.missing)
    values = {k.label: k.value for k in scotland.key_numbers}
    assert "GP capacity per head" not in values


def test_tiny_area_explains_what_cannot_be_computed():
    b = build_briefing("E06000053")  # Isles of Scilly: one LSOA
    assert any("inverse care law test could not be run" in m for m in b.missing)
    text = html_text(render(b, "html"))
    assert not BAD_WORDS.findall(text)


# -- plain English ------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "reference", "expected"), [
    (80, 100, "about a fifth less than England"),
    (100, 100, "about the same as England"),
    (104, 100, "about the same as England"),
    (106, 100, "slightly more than England"),
    (93, 100, "slightly less than England"),
    (110, 100, "about a tenth more than England"),
    (125, 100, "about a quarter more than England"),
    (133, 100, "about a third more than England"),
    (140, 100, "about two fifths more than England"),
    (150, 100, "about one and a half times England"),
    (39.49, 20.21, "about twice England"),
    (250, 100, "about two and a half times England"),
    (300, 100, "about three times England"),
    (1500, 100, "more than ten times England"),
    (75, 100, "about a quarter less than England"),
    (60, 100, "about two fifths less than England"),
    (50, 100, "about half England"),
    (33, 100, "about a third of England"),
    (5, 100, "less than a tenth of England"),
])
def test_compare_in_words(value, reference, expected):
    assert compare_in_words(value, reference, "England") == expected


@pytest.mark.parametrize(("value", "reference"), [
    (float("nan"), 1.0), (1.0, None), (None, None), (1.0, 0.0), (-1.0, 2.0)])
def test_compare_in_words_never_prints_nan(value, reference):
    words = compare_in_words(value, reference, "England")
    assert words.startswith("not comparable")
    assert not BAD_WORDS.findall(words)


def test_number_helpers():
    assert format_number(1234.4) == "1,234"
    assert format_number(1234.6) == "1,235"
    assert format_number(-3.14159, 1) == "\u22123.1"
    assert format_number(2.0, 1, signed=True) == "+2.0"
    assert format_number(-0.04, 1, signed=True) == "0.0"
    assert format_number(float("nan")) == "not available"
    assert format_number(None) == "not available"
    assert people_in_words(2_867_735) == "about 2.9 million"
    assert people_in_words(329_339) == "about 330,000"
    assert people_in_words(640) == "640"


# -- small-number suppression -------------------------------------------------------------


def test_suppression_mask_primary_and_complementary():
    # one small count: hidden, and the smallest other non-zero count too (else total − rest)
    assert suppression_mask([17, 21, 10, 5, 3]) == [False, False, False, True, True]
    # two small counts hide each other: no extra cell needed
    assert suppression_mask([2, 40, 3]) == [True, False, True]
    # zero is not disclosive and never used as the complementary cell
    assert suppression_mask([0, 4, 0]) == [False, True, False]
    assert suppression_mask([10, 20], threshold=5) == [False, False]
    assert suppression_mask([1, 2, 3], threshold=0) == [False, False, False]
    assert suppression_mask([4, 9], threshold=10) == [True, True]
    assert suppression_mask([3, 50], complementary=False) == [True, False]


def test_suppress_counts_and_words():
    assert suppress_counts([120, 4, 0, 30]) == ["120", SUPPRESSED, "0", SUPPRESSED]
    assert count_in_words(3) == "fewer than 5"
    assert count_in_words(0) == "no"
    assert count_in_words(1234) == "1,234"
    assert count_in_words(7, threshold=10) == "fewer than 10"
    # 52 + 4 + 0 = 56 published: "52" would reveal the 4
    assert counts_in_words([52, 4, 0]) == ["most", "fewer than 5", "none"]


def test_briefing_tables_publish_practice_and_area_counts(built):
    """Counts of practices and neighbourhoods are not personal data: never hidden."""
    wigan = built["E08000010"]
    funding = next(t for t in wigan.tables if t.key == "gp_funding")
    assert [row[1] for row in funding.rows] == ["17", "21", "10", "5", "3"]
    clacks = next(t for t in built["S12000005"].tables if t.key == "deciles")
    assert SUPPRESSED not in [row[1] for row in clacks.rows]
    assert not funding.suppressed and not wigan.footnotes


def test_briefing_tables_suppress_small_person_counts():
    from analysis.briefing.content import _Column, _make_table

    table = _make_table("t", "T", [_Column("Group", str, numeric=False),
                                   _Column("Residents", str, count=True),
                                   _Column("Share", str, depends_on=1)],
                        [["a", 120, "60%"], ["b", 3, "2%"], ["c", 77, "38%"]], 5)
    assert [row[1] for row in table.rows] == ["120", SUPPRESSED, SUPPRESSED]
    assert table.rows[1][2] == SUPPRESSED and table.suppressed


def test_suppression_threshold_is_configurable():
    with pytest.raises(ValueError):
        build_briefing("E08000010", suppress_below=-1)


# -- scenario -----------------------------------------------------------------------------


def test_scenario_section_reports_the_allocation(built):
    from analysis.briefing import run_scenario

    path = REPO / "data" / "scenarios" / "gp-funding-toward-need.json"
    b = build_briefing("E08000010", scenario_path=path)
    assert b.scenario is not None
    result = run_scenario(path)
    assert b.scenario.title == result.scenario.title
    text = " ".join(b.scenario.paragraphs)
    assert "6,463 practices" in text
    methods = " ".join(b.methods)  # signed statistics go to the methods, words to the text
    assert format_number(result.before.concentration_index, 3, signed=True) in methods
    assert format_number(result.after.concentration_index, 3, signed=True) in methods
    assert "funding goes more to less needy areas now" in text
    # Wigan's 56 practices: 52 gain, 4 lose; practices are not people, so counts are shown
    assert "the 56 practices in Wigan" in text and "52 would gain and 4 would lose" in text
    table = next(t for t in b.scenario.tables if t.key == "scenario_areas")
    assert table.header[0] == "Practice" and len(table.rows) == 6


def test_scenario_with_few_practices_shows_the_count():
    path = REPO / "data" / "scenarios" / "gp-funding-toward-need.json"
    b = build_briefing("E07000223", scenario_path=path)  # Adur: fewer than 5 practices
    text = " ".join(b.scenario.paragraphs)
    shown = re.search(r"the ([1-4]) practices in Adur", text)  # a count of practices is shown
    assert shown
    moved = re.search(r"(\d+|No practice) would gain and (\d+|no practice) would lose", text)
    assert moved, text
    counts = [0 if g.lower() == "no practice" else int(g) for g in moved.groups()]
    assert sum(counts) <= int(shown.group(1))
    assert not BAD_WORDS.findall(text)


def test_scenario_for_scotland_says_it_does_not_apply(built):
    path = REPO / "data" / "scenarios" / "icb-gp-funding-health-need.json"
    b = build_briefing("S12000005", scenario_path=path)
    assert "covers England only" in " ".join(b.scenario.paragraphs)


# -- defaults stay in step with the dashboard ---------------------------------------------


def test_defaults_match_dashboard():
    from dashboard import state

    assert state.DEFAULT_NEED == BRIEFING_NEED
    assert state.DEFAULT_PROVISION == BRIEFING_PROVISION


# -- command line -------------------------------------------------------------------------


def _cli():
    import typer

    from analysis.cli.briefing import briefing_command

    app = typer.Typer()
    app.command()(briefing_command)
    return app


def test_cli_single_area_and_bad_code(tmp_path):
    from typer.testing import CliRunner

    runner = CliRunner()
    out = tmp_path / "clacks.html"
    done = runner.invoke(_cli(), ["--area", "S12000005", "--format", "html", "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert "Clackmannanshire" in html_text(out.read_bytes())
    bad = runner.invoke(_cli(), ["--area", "S1200005", "--out", str(tmp_path / "x.pdf")])
    assert bad.exit_code == 2
    assert "Did you mean" in bad.output and "S12000005" in bad.output
    clash = runner.invoke(_cli(), ["--area", "S12000005", "--out", str(tmp_path / "x.pdf"),
                                   "--format", "docx"])
    assert clash.exit_code == 2


def test_cli_batch_continues_past_a_failure(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    import analysis.briefing as briefing
    from analysis.cli import briefing as cli_briefing

    areas = [("S12000005", "Clackmannanshire"), ("S12000013", "Na h-Eileanan Siar")]
    monkeypatch.setattr(cli_briefing, "areas_of_level", lambda level: areas)
    real = briefing.build_briefing

    def flaky(code, **kwargs):
        if code == "S12000005":
            raise RuntimeError("simulated failure")
        return real(code, **kwargs)

    # the CLI imports it from the room's public API when it runs
    monkeypatch.setattr(briefing, "build_briefing", flaky)
    done = CliRunner().invoke(_cli(), ["--all", "council", "--format", "html",
                                       "--out", str(tmp_path / "out")])
    assert done.exit_code == 1
    assert "Wrote 1 of 2 briefings" in done.output
    assert "S12000005 Clackmannanshire: RuntimeError: simulated failure" in done.output
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["S12000013-na-h-eileanan-siar.html"]


def test_cli_briefing_formats_match_the_engine():
    """The CLI keeps its own copy so that `fairshare info` need not import the engine."""
    from analysis.briefing import rendering as briefing
    from analysis.cli import briefing as cli_briefing

    assert cli_briefing.FORMATS == briefing.FORMATS
