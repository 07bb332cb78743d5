"""Councillor equity briefings: every figure computed by the same engine calls the dashboard
makes, plain-English sentences written by rule, charts and the bivariate map, rendered from
one template to HTML and PDF, and to Word.
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "engine": ["briefing_bytes", "build_briefing", "render", "run_scenario"],
    },
)
