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
            "VERDICT_LABEL",
            "compare_in_words",
            "compared_with",
            "money_in_words",
            "people_in_words",
        ],
    },
)
