"""Funding of general practice: reading NHS England's *NHS Payments to General Practice*
files year by year, the embedded practice × year table, and payments per weighted patient
by practice deprivation with confidence intervals, and how those figures are read
(which payments total, groups too small to compare, the gap in words).
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "weighted_populations": ["WP_COMPONENTS", "WP_LEVELS", "WP_YEARS", "component_column",
                                 "load_weighted_populations", "weighted_population_index",
                                 "weighted_populations_by"],
        "workforce": [
            "GP_DEFINITION",
            "IMD_EDITION_FOR_WORKFORCE_YEAR",
            "PER_PATIENTS",
            "WORKFORCE_UNIT",
            "WORKFORCE_YEARS",
            "WorkforceGap",
            "load_gp_workforce",
            "patient_denominator",
            "read_workforce_gap",
            "trend_gaps",
            "workforce_by_deprivation",
            "workforce_display_table",
            "workforce_gap_sentence",
            "workforce_trend",
            "workforce_trend_sentence",
        ],
        "deprivation": [
            "assign_deprivation_groups",
            "deprivation_groups",
            "funding_by_deprivation",
            "funding_by_deprivation_all_years",
            "funding_gap",
            "funding_gap_by_year",
            "funding_inverse_care_test",
            "practice_deprivation",
        ],
        "reading": [
            "DEFAULT_TOTAL",
            "MIN_GROUP_PRACTICES",
            "TOTALS",
            "GapReading",
            "PaymentTotal",
            "dispensing_sentence",
            "display_table",
            "funding_trend",
            "gap_in_words",
            "gap_sentence",
            "payment_total",
            "read_gap",
            "total_covers",
            "trend_readings",
            "trend_sentence",
        ],
        "payments": [
            "load_all_payments",
            "load_gp_payments",
            "load_practice_imd",
            "payments_files",
            "payments_quality_report",
            "read_payments_file",
        ],
    },
)
