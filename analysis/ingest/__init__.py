"""Bringing in analysts" data: readers for CSV, Excel and Fingertips exports, automatic
geography detection with 2011 → 2021 conversion, a validation report naming file, row and
column, and atomic, kill-safe writes to the indicator registry.
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "indicator_io": [
            "GEOGRAPHY_LABELS",
            "IndicatorValidationError",
            "MAX_UPLOAD_BYTES",
            "ValidationReport",
            "add_indicator",
            "install_indicator",
            "load_indicator_file",
            "read_upload",
            "recover_registry",
            "registry_root",
            "remove_indicator",
            "shipped_ids",
        ],
    },
)
