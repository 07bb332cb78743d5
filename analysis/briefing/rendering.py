"""Rendering a briefing to bytes: HTML and PDF from one Jinja2 template
(``analysis/briefing/templates/briefing.html.j2``, autoescaped; PDF by WeasyPrint, A4, fonts
embedded, tagged PDF/UA), DOCX by python-docx (real table header rows, images with alt text).
Jinja2, WeasyPrint and python-docx are imported only when a briefing is rendered.
"""

from __future__ import annotations

import dataclasses
import functools
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from analysis.briefing.assembly import build_briefing
from analysis.briefing.content import Briefing, Figure, NotesPart
from analysis.briefing.notes import FIT_STEPS, fit_notes
from analysis.disclosure import SUPPRESSED

Format = Literal["pdf", "html", "docx"]
FORMATS: tuple[str, ...] = ("pdf", "html", "docx")
#: MIME type of each format (e.g. for a download button).
MEDIA_TYPES: dict[str, str] = {"pdf": "application/pdf", "html": "text/html; charset=utf-8",
               "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}

TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATE_NAME = "briefing.html.j2"
#: A briefing's PDF is at most this many pages: learning-log notes are cut to fit.
MAX_PAGES = 4


@functools.lru_cache(maxsize=1)
def _environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    return Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True,
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def render_html(briefing: Briefing, *, for_print: bool = False) -> str:
    """The briefing as one self-contained HTML page (images embedded; autoescaped).

    ``for_print`` selects PNG images (WeasyPrint) instead of SVG (browsers).
    """
    template = _environment().get_template(TEMPLATE_NAME)
    return template.render(b=briefing, for_print=for_print, suppressed=SUPPRESSED)


def _render_pdf(briefing: Briefing) -> bytes:
    from weasyprint import HTML

    options = {"pdf_variant": "pdf/ua-1"}

    def laid_out(b: Briefing) -> Any:
        html = render_html(b, for_print=True)
        return HTML(string=html, base_url=str(TEMPLATES)).render(**options)

    document = laid_out(briefing)
    current = briefing
    if briefing.notes is not None and len(document.pages) > MAX_PAGES:
        # the learning-log notes give way first: fewer and shorter notes (the "n more"
        # lines say how many are left out), down to those lines alone
        for voices, decisions, limit in FIT_STEPS[1:]:
            fitted = dataclasses.replace(
                briefing, notes=fit_notes(briefing.notes, voices, decisions, limit))
            document, current = laid_out(fitted), fitted
            if len(document.pages) <= MAX_PAGES:
                break
    if current.audit is not None and len(document.pages) > MAX_PAGES:
        # then an attached audit keeps its verdict and table, without the caveats paragraph
        shorter = dataclasses.replace(current.audit, paragraphs=current.audit.paragraphs[:2])
        document = laid_out(dataclasses.replace(current, audit=shorter))
    return document.write_pdf(**options)


def _docx_header_row(row: Any) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    properties = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    properties.append(header)
    for cell in row.cells:
        for paragraph in cell.paragraphs:
            for run in paragraph.runs:
                run.bold = True


def _docx_table(document: Any, header: Sequence[str], rows: Sequence[Sequence[str]],
                numeric: Sequence[bool] | None = None, widths: Sequence[float] | None = None
                ) -> Any:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = text
    _docx_header_row(table.rows[0])
    for row in rows:
        cells = table.add_row().cells
        for index, (cell, text) in enumerate(zip(cells, row, strict=True)):
            cell.text = text
            if numeric and numeric[index]:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for row in table.rows:
        for index, cell in enumerate(row.cells):
            if widths:
                cell.width = Mm(widths[index])
            for paragraph in cell.paragraphs:
                paragraph.paragraph_format.space_after = Pt(0)
                for run in paragraph.runs:
                    run.font.size = Pt(9)
    return table


def _docx_picture(document: Any, figure: Figure, width_mm: float) -> None:
    from docx.shared import Mm

    document.add_picture(io.BytesIO(figure.png), width=Mm(width_mm))
    properties = document.inline_shapes[-1]._inline.docPr
    properties.set("descr", figure.alt_text)
    properties.set("title", figure.title)


def _docx_note(document: Any, meta: Sequence[str], note: Any) -> None:
    """One note: a line saying what it is and where it came from, then its text. Every
    piece is a plain run (python-docx writes it as text: no markup is interpreted)."""
    from docx.shared import Pt

    head = document.add_paragraph()
    head.paragraph_format.space_after = Pt(0)
    head.paragraph_format.keep_with_next = True
    for index, piece in enumerate(meta):
        run = head.add_run(piece if index == 0 else f" · {piece}")
        run.bold = index == 0
        run.font.size = Pt(8.5)
    body = document.add_paragraph()
    body.add_run(note.text)
    if note.truncated:
        body.add_run(f" [continues in note {note.note_id}]").italic = True
    for label, text in (("What happened: ", note.outcome), ("What was learned: ", note.learned)):
        if text:
            line = document.add_paragraph()
            line.add_run(label).bold = True
            line.add_run(text)


def _docx_notes(document: Any, notes: NotesPart) -> None:
    """The learning-log sections: what people and practitioners told us (marked as
    qualitative evidence) and decisions under review."""
    if notes.voices or notes.voices_more:
        document.add_heading("What people and practitioners told us", level=1)
        caution = document.add_paragraph(style="Intense Quote")
        caution.add_run("Qualitative evidence, not statistics. ").bold = True
        caution.add_run(notes.caution)
        for note in notes.voices:
            _docx_note(document, (note.kind_label, note.source, note.date_text,
                                  note.area_name, f"note {note.note_id}"), note)
        if notes.voices_more_text:
            document.add_paragraph(notes.voices_more_text, style="Caption")
    if notes.decisions or notes.decisions_more:
        document.add_heading("Decisions under review", level=1)
        for note in notes.decisions:
            _docx_note(document, (note.status, note.kind_label, note.source, note.date_text,
                                  note.area_name, f"note {note.note_id}"), note)
        if notes.decisions_more_text:
            document.add_paragraph(notes.decisions_more_text, style="Caption")


def _render_docx(briefing: Briefing) -> bytes:
    from docx import Document
    from docx.shared import Mm, Pt

    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(18))
    normal = document.styles["Normal"]
    normal.font.name = "Arial"
    normal.font.size = Pt(10.5)
    properties = document.core_properties
    properties.title = briefing.title
    properties.author = "Fairshare"
    properties.language = "en-GB"
    properties.subject = "Equity briefing"

    document.add_paragraph(f"Equity briefing · {briefing.level_label} · "
                           f"{briefing.country_label} · {briefing.produced_text}")
    document.add_heading(briefing.area_name, level=0)
    lead = document.add_paragraph()
    lead_run = lead.add_run(briefing.headline)
    lead_run.bold = True
    lead_run.font.size = Pt(12.5)

    document.add_heading("Key numbers", level=1)
    _docx_table(document, ("Measure", "Figure", "What it means"),
                [(k.label, k.value, k.detail) for k in briefing.key_numbers],
                widths=(50, 30, 94))
    document.add_heading("What this means", level=1)
    for paragraph in briefing.meaning:
        document.add_paragraph(paragraph)
    if briefing.missing:
        document.add_heading("What this briefing cannot show", level=2)
        for paragraph in briefing.missing:
            document.add_paragraph(paragraph, style="List Bullet")

    document.add_heading("Maps and charts", level=1)
    for figure in briefing.figures:
        document.add_heading(figure.title, level=2)
        _docx_picture(document, figure, 170 if figure.wide else 120)
        document.add_paragraph(figure.reading, style="Caption")

    for table in briefing.tables:
        document.add_heading(table.title, level=2)
        _docx_table(document, table.header, table.rows, table.numeric)
        for note in table.notes:
            document.add_paragraph(note, style="Caption")

    if briefing.scenario is not None:
        document.add_heading(f"Scenario: {briefing.scenario.title}", level=1)
        for paragraph in briefing.scenario.paragraphs:
            document.add_paragraph(paragraph)
        for table in briefing.scenario.tables:
            document.add_heading(table.title, level=2)
            _docx_table(document, table.header, table.rows, table.numeric)
            for note in table.notes:
                document.add_paragraph(note, style="Caption")

    if briefing.audit is not None:
        document.add_heading(briefing.audit.title, level=1)
        if briefing.audit.simulated:
            document.add_paragraph("Simulated records, not real patients.")
        for paragraph in briefing.audit.paragraphs:
            document.add_paragraph(paragraph)
        if briefing.audit.figure is not None:
            _docx_picture(document, briefing.audit.figure, 120)
            document.add_paragraph(briefing.audit.figure.reading, style="Caption")
        for table in briefing.audit.tables:
            document.add_heading(table.title, level=2)
            _docx_table(document, table.header, table.rows, table.numeric)
            for note in table.notes:
                document.add_paragraph(note, style="Caption")

    if briefing.notes is not None:
        _docx_notes(document, briefing.notes)

    document.add_heading("Glossary", level=1)
    _docx_table(document, ("Term", "Meaning"),
                [(g.term, g.meaning) for g in briefing.glossary], widths=(45, 129))
    document.add_heading("Methods", level=1)
    for paragraph in briefing.methods:
        document.add_paragraph(paragraph)
    document.add_heading("Data sources", level=1)
    for source in briefing.sources:
        parts = [source.title]
        if source.publisher and source.publisher != source.title:
            parts.append(source.publisher)
        if source.vintage:
            parts.append(source.vintage)
        text = ". ".join(parts) + "." + (f" {source.url}" if source.url else "")
        document.add_paragraph(text, style="List Bullet")
    document.add_paragraph(f"{briefing.attribution} Licence: {briefing.licence} "
                           f"({briefing.licence_url}).")
    for note in briefing.footnotes:
        document.add_paragraph(note, style="Caption")
    document.add_paragraph(f"Produced by Fairshare on {briefing.produced_text}.",
                           style="Caption")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def render(briefing: Briefing, fmt: Format | str) -> bytes:
    """The briefing as ``"pdf"`` (A4, WeasyPrint, tagged PDF/UA), ``"html"`` (one
    self-contained UTF-8 page) or ``"docx"`` (python-docx) bytes."""
    if fmt == "pdf":
        return _render_pdf(briefing)
    if fmt == "html":
        return render_html(briefing).encode("utf-8")
    if fmt == "docx":
        return _render_docx(briefing)
    raise ValueError(f"Unknown briefing format {fmt!r}; choose one of {', '.join(FORMATS)}")


def briefing_bytes(area_code: str, fmt: Format | str, **kwargs: Any) -> bytes:
    """:func:`build_briefing` then :func:`render`: the briefing file's bytes."""
    if fmt not in FORMATS:
        raise ValueError(f"Unknown briefing format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return render(build_briefing(area_code, **kwargs), fmt)
