"""Bringing in analysts' data: readers for CSV, Excel, Parquet and Fingertips exports,
automatic geography detection with 2011 → 2021 conversion and practice attribution, a
validation report naming file, row and column, and atomic, kill-safe writes to the
indicator registry; and services as data: site lists (pharmacies, libraries, hospitals…)
placed in LSOA 2021 / data zones by postcode or coordinates, in a service registry kept by
the same rules.

Modules, in import order (each imports only those before it): ``report`` (the validation
report and message helpers), ``metadata`` (indicator.yaml keys and import options),
``readers`` (bytes → cells, columns, codes and numbers), ``geography`` (detection,
LSOA 2011 → 2021 conversion, practice mapping, coverage), ``fingertips`` (filtering a
Fingertips export), ``validation`` (value rules, the check pipeline, file and upload entry
points), ``registry`` (atomic add, remove and recovery of packages) and ``sessions``
(session uploads kept per browser under ``$FAIRSHARE_STATE_DIR`` across page reloads);
then for services ``service_columns`` (recognising a site list's columns),
``service_places`` (postcodes and coordinates → points and areas), ``services`` (the
service model and reader) and ``service_registry`` (``data/services/registry/<id>/``).
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
        "report": ["ESTIMATED_LABEL", "GEOGRAPHY_LABELS", "IndicatorValidationError", "Issue",
                   "ValidationReport"],
        "service_registry": [
            "BUILT_SERVICES",
            "ServiceAddResult",
            "ServiceExistsError",
            "ServiceRegistry",
            "add_service",
            "default_service_registry",
            "install_service",
            "read_service_package",
            "recover_service_registry",
            "remove_service",
            "service_registry_root",
            "shipped_service_ids",
        ],
        "services": [
            "REQUIRED_SERVICE_META",
            "SITE_COLUMNS",
            "ServiceDataset",
            "ServiceError",
            "ServiceMeta",
            "ServiceReport",
            "ServiceValidationError",
            "load_service_file",
            "read_service_bytes",
            "read_service_upload",
        ],
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
