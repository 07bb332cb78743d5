"""Health equity audit of a service's own activity: record-level files (referrals,
attendances, appointments, admissions) counted on DuckDB or Spark, then standardised rates by
deprivation, ethnicity, age, sex and site, observed against expected use per small area, and
the verdict in plain words. Records never leave the user's session: only counts do.
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "columns": ["ColumnError", "ColumnMapping", "parse_mapping", "recognise_columns"],
        "engine": [
            "ActivityCounts",
            "ActivityError",
            "AuditEngine",
            "clean_activity",
            "connect",
            "count_activity",
            "open_activity",
        ],
        "simulate": [
            "SIMULATED_LABEL",
            "SimulationSpec",
            "expected_rate_ratio",
            "simulate_activity",
            "write_simulated_parquet",
        ],
    },
)
