"""Statistics on plain arrays: inequality measures (slope and relative index of inequality,
concentration index and curve, Gini, Theil, mean log deviation, gaps, fair shares), funnel
plots, the inverse-care test, spatial clusters (bivariate LISA) and the input checks they
share. Each measure cites its reference; nothing here reads files or knows about areas.
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "fair_share": ["fair_share", "fair_share_by_quintile", "fair_share_totals"],
        "funnel": ["funnel_plot"],
        "inequality": [
            "ConcentrationCurve",
            "ConcentrationIndexResult",
            "SlopeIndexResult",
            "concentration_curve",
            "concentration_index",
            "slope_index",
        ],
        "inverse_care": ["InverseCareResult", "decile_gradient", "format_p", "inverse_care_test"],
        "spatial": ["CLUSTER_LABELS", "bivariate_clusters"],
    },
)
