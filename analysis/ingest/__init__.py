"""Bringing in analysts' data: readers for CSV, Excel, Parquet and Fingertips exports,
automatic geography detection with 2011 → 2021 conversion and practice attribution, a
validation report naming file, row and column, and atomic, kill-safe writes to the
indicator registry.

Modules, in import order (each imports only those before it): ``report`` (the validation
report and message helpers), ``metadata`` (indicator.yaml keys and import options),
``readers`` (bytes → cells, columns, codes and numbers), ``geography`` (detection,
LSOA 2011 → 2021 conversion, practice mapping, coverage), ``fingertips`` (filtering a
Fingertips export), ``validation`` (value rules, the check pipeline, file and upload entry
points), ``registry`` (atomic add, remove and recovery of packages) and ``sessions``
(session uploads kept per browser under ``$FAIRSHARE_STATE_DIR`` across page reloads).
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "geography": ["code_family", "detect_geography", "geography_universe"],
        "metadata": ["DEFAULT_POLARITY", "REQUIRED_META"],
        "registry": [
            "AddResult",
            "IndicatorExistsError",
            "add_indicator",
            "install_indicator",
            "recover_registry",
            "registry_root",
            "remove_indicator",
            "shipped_ids",
        ],
        "report": ["GEOGRAPHY_LABELS", "IndicatorValidationError", "Issue", "ValidationReport"],
        "sessions": [
            "STATE_DIR_ENV",
            "StateDirError",
            "discard_upload",
            "load_kept_scenarios",
            "load_uploads",
            "new_token",
            "save_kept_scenarios",
            "save_upload",
            "state_dir",
            "valid_token",
        ],
        "validation": [
            "MAX_FILE_BYTES",
            "MAX_UPLOAD_BYTES",
            "file_periods",
            "load_indicator_file",
            "read_upload",
            "validate_file",
        ],
    },
)
