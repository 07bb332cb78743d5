"""Councillor equity briefings: two to four plain-English pages for any area, in PDF, HTML or
DOCX. Every figure is computed by the same engine calls the dashboard makes; sentences are
written by rule from those numbers (no language model); small counts are suppressed in tables
and sentences; charts and the bivariate map are drawn by vl-convert; one Jinja2 template gives
HTML and PDF (WeasyPrint), python-docx gives Word.

Modules, in import order: ``wording`` (plain English and small-number suppression),
``content`` (the :class:`Briefing` model, suppressed tables, glossary), ``charts`` (charts and
maps), ``sections`` (deprivation, provision and inverse care, health outcome, decile table),
``funding`` (GP payments by deprivation, allocation scenario), ``assembly``
(:func:`build_briefing`) and ``rendering`` (:func:`render` to HTML, PDF and DOCX).
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
            "ScenarioPart",
            "SourceEntry",
        ],
        "funding": ["GP_PAYMENT_YEAR", "run_scenario"],
        "rendering": ["FORMATS", "MEDIA_TYPES", "briefing_bytes", "render", "render_html"],
        "sections": ["BRIEFING_NEED", "BRIEFING_OUTCOME", "BRIEFING_PROVISION"],
        "wording": [
            "SUPPRESSED",
            "VERDICT_LABEL",
            "compare_in_words",
            "count_in_words",
            "counts_in_words",
            "format_number",
            "money_in_words",
            "people_in_words",
            "sentence_case",
            "suppress_counts",
            "suppression_mask",
            "suppression_note",
        ],
    },
)
