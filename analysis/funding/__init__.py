"""Funding of general practice: reading NHS England's *NHS Payments to General Practice*
files year by year, the embedded practice × year table, and payments per weighted patient
by practice deprivation with confidence intervals.
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "deprivation": [
            "assign_deprivation_groups",
            "deprivation_groups",
            "funding_by_deprivation",
            "funding_by_deprivation_all_years",
            "funding_gap",
            "funding_gap_by_year",
            "practice_deprivation",
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
