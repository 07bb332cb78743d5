"""Indicators on a study area: the small-area frame of a study area, headline figures, the
equity panel of a need × provision pair (inverse-care test, decile gradient, SII, funnel,
clusters), area profiles and the map layers (classification, colours, compact deck.gl
encoding) that the dashboard and the briefings draw.
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "equity": [
            "EquityPanel",
            "HEADLINE_NEED",
            "HEADLINE_PROVISION",
            "MIN_DECILES_FOR_SII",
            "SII_SEED",
            "default_funnel_indicator",
            "denominator_label",
            "equity_panel",
            "fitted_band",
            "funnel_reading",
            "funnel_statistic",
            "funnel_table",
            "observed_gradient_sentence",
            "indicator_funnel",
            "need_provision_clusters",
        ],
        "frames": ["area_value", "indicator_choices", "person_counts", "study_area_frame"],
        "funnel_map": ["FUNNEL_CLASSES", "funnel_classes", "funnel_layer"],
        "maps": [
            "BIVARIATE_COLOURS",
            "CLUSTER_COLOURS",
            "Legend",
            "MapLayer",
            "SCHEMES",
            "VIRIDIS_10",
            "bivariate_classes",
            "bivariate_labels",
            "bivariate_layer",
            "build_layer",
            "change_classes",
            "change_layer",
            "change_legend",
            "choropleth_layer",
            "cluster_legend",
            "deprivation_layer",
            "fill_expression",
            "hex_to_rgb",
            "service_points",
            "suppress_small_counts",
        ],
        "profiles": ["profile_table"],
        "spine": ["NOT_COMPARED", "SIGNIFICANCE_STYLE", "parent_area", "significance",
                  "spine_chart", "spine_display", "spine_download", "spine_table"],
        "map_context": ["Basemap", "MapContext", "ScaleBar", "View", "basemap_setting",
                        "boundary_context", "context_caption", "fitted_view",
                        "metres_per_pixel", "scale_bar", "view_extent"],
        "summary": ["AreaSummary", "study_area_summary"],
    },
)
