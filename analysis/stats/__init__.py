"""Statistics on plain arrays: inequality measures, fair shares, funnel plots, the inverse-care
test, spatial clusters (bivariate LISA) and the input checks they share. Each measure cites its
reference; nothing here reads files or knows about areas.

The inequality measures come one family to a module, all returning small frozen results with a
plain-English ``reading``: ``sii`` (slope and relative index of inequality, as OHID's
``phe_sii``), ``concentration`` (concentration index and curve), ``distribution`` (Gini, Theil
T, mean log deviation) and ``gaps`` (most/least deprived difference and ratio, population
attributable risk, index of disparity); ``measure`` holds their shared result type and
conventions (groups run from most to least deprived). ``standardisation`` has crude rates,
directly standardised rates with Dobson's limits and indirectly standardised ratios, as OHID's
PHEindicatormethods computes them.
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "concentration": [
            "ConcentrationCurve",
            "ConcentrationIndexResult",
            "concentration_curve",
            "concentration_index",
        ],
        "distribution": ["gini", "mean_log_deviation", "theil_t"],
        "fair_shares": [
            "FAIR_SHARE_COLUMNS",
            "fair_share",
            "fair_share_by_quintile",
            "fair_share_totals",
        ],
        "funnel": ["FunnelResult", "funnel_plot"],
        "gaps": [
            "index_of_disparity",
            "population_attributable_risk",
            "quantile_difference",
            "quantile_means",
            "quantile_ratio",
        ],
        "inverse_care": ["InverseCareResult", "decile_gradient", "format_p", "inverse_care_test"],
        "measure": ["InequalityMeasure", "gap_unit", "quantity_text"],
        "overdispersion": ["Overdispersion"],
        "sii": ["SlopeIndexResult", "slope_index"],
        "spatial": ["CLUSTER_LABELS", "BivariateClusterResult", "bivariate_clusters"],
        "standardisation": [
            "AGE_BANDS",
            "ESP2013",
            "crude_rates",
            "directly_standardised_rates",
            "indirectly_standardised_ratios",
            "reference_rates",
            "standard_population",
        ],
    },
)
