"""Allocation modelling: versioned scenarios, need formulas, proportionate universalism,
pace-of-change, floor and cap constraints solved exactly, equity before and after, and the
reports of winners and losers.

Modules, in import order: ``scenario`` (the validated, versioned scenario schema), ``solver``
(target allocation, constraints, exact quadratic and HiGHS L1 solvers, infeasibility),
``equity`` (equity measures of an allocation), ``inputs`` (areas, population, deprivation and
current provision), ``need`` (need formula and need index), ``model`` (:func:`allocate` and
its result), ``reports`` (comparison, CSV export, batch runs, map layers) and ``readings``
(study-area scope, units, reconciled counts and plain-English readings for the page and CLI).
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "equity": ["EquityMetrics", "equity_metrics"],
        "model": ["AllocationResult", "allocate"],
        "need": ["PRACTICE_NEED_INDICATORS"],
        "readings": [
            "EXTREME_PCT",
            "amount_text",
            "change_reading",
            "column_units",
            "count_sentence",
            "equity_reading",
            "largest_changes",
            "percent_change_text",
            "practice_map_caption",
            "report_lines",
            "scope_to_study_area",
            "settings_text",
            "trajectory_reading",
        ],
        "reports": [
            "compare",
            "practice_change_points",
            "result_csv_bytes",
            "result_export_info",
            "run_scenario_file",
            "small_area_changes",
        ],
        "scenario": [
            "CONVERGENCE_RULES",
            "CurrentSpec",
            "GP_PAYMENTS_SOURCE",
            "LEVELS",
            "LEVEL_NOUNS",
            "NeedComponent",
            "NeedSpec",
            "OBJECTIVES",
            "PRACTICE_LEVELS",
            "SCHEMA_VERSION",
            "Scenario",
            "load_scenario",
        ],
        "solver": [
            "Conflict",
            "ScenarioInfeasible",
            "allocation_path",
            "solve_year",
            "target_allocation",
        ],
    },
)
