"""Councillor equity briefings: two to four plain-English pages for any area, in PDF, HTML or
DOCX. Every figure is computed by the same engine calls the dashboard makes; sentences are
written by rule from those numbers (no language model); small counts are suppressed in tables
and sentences; charts and the bivariate map are drawn by vl-convert; one Jinja2 template gives
HTML and PDF (WeasyPrint), python-docx gives Word.

Figures are written by :mod:`analysis.numbers` and small counts hidden by
:mod:`analysis.disclosure`, the rules every page shares. Modules, in import order: ``wording``
(plain English),
``content`` (the :class:`Briefing` model, suppressed tables, glossary), ``charts`` (charts and
maps), ``sections`` (deprivation, provision and inverse care, health outcome, decile table),
``funding`` (GP payments by deprivation, allocation scenario), ``notes`` (the learning log's
notes for the area: what people and practitioners told us, decisions under review; read-only,
imported lazily), ``assembly`` (:func:`build_briefing`) and ``rendering`` (:func:`render` to
HTML, PDF and DOCX; a PDF stays within four pages by cutting notes).
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "assembly": ["build_briefing"],
        "content": [
            "Briefing",
            "BriefingTable",
            "Figure",
            "GlossaryEntry",
            "KeyNumber",
            "NoteItem",
            "NotesPart",
            "ScenarioPart",
            "SourceEntry",
        ],
        "funding": ["GP_PAYMENT_YEAR", "run_scenario"],
        "notes": ["DECISION_KINDS", "QUALITATIVE_KINDS", "fit_notes", "note_scope",
                  "notes_part", "open_learning_log"],
        "rendering": ["FORMATS", "MAX_PAGES", "MEDIA_TYPES", "briefing_bytes", "render",
                      "render_html"],
        "sections": ["BRIEFING_NEED", "BRIEFING_OUTCOME", "BRIEFING_PROVISION"],
        "wording": [
            "VERDICT_LABEL",
            "compare_in_words",
            "compared_with",
            "money_in_words",
            "people_in_words",
        ],
    },
)
