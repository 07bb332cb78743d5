"""Allocation modelling: versioned scenarios, need formulas, proportionate universalism,
pace-of-change, floor and cap constraints solved exactly, equity before and after, and the
reports of winners and losers.
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "engine": [
            "AllocationResult",
            "CurrentSpec",
            "GP_PAYMENTS_SOURCE",
            "NeedComponent",
            "NeedSpec",
            "PRACTICE_NEED_INDICATORS",
            "Scenario",
            "ScenarioInfeasible",
            "allocate",
            "allocation_path",
            "compare",
            "load_scenario",
            "practice_change_points",
            "run_scenario_file",
            "small_area_changes",
        ],
    },
)
