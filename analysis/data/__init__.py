"""The data model: where the embedded data live and how they are read, the geography packs
(small areas and every level above them), the indicator model and its registry, the LSOA
2011 → 2021 conversion, area search by code, postcode or name, provenance of every source,
and the catalogue of what is embedded.

The lowest room: it imports no other room of the engine.
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "catalogue": ["dataset_info"],
        "datastore": ["DataFileError", "data_cache", "data_dir", "read_parquet"],
        "geography": [
            "AreaRef",
            "COUNTRY_CODES",
            "EmptySelectionError",
            "UnknownAreaError",
            "aggregate",
            "list_areas",
            "load_pack",
            "load_pack_table",
            "rate_multiplier",
            "resolve_area",
            "select_study_area",
            "small_area_mask",
            "spec_for",
        ],
        "indicators": [
            "GEOGRAPHIES",
            "INDICATOR_ID",
            "Indicator",
            "IndicatorError",
            "IndicatorMeta",
            "IndicatorRegistry",
            "KINDS",
            "POLARITIES",
            "default_registry",
            "validate_values",
        ],
        "integrity": [
            "checksum_problems",
            "file_checksums",
            "record_checksums",
            "sha256_file",
            "verify_file",
        ],
        "lsoa_conversion": [
            "ConversionReport",
            "apportioning_weights",
            "convert_lsoa11_to_lsoa21",
            "load_lookup",
            "lsoa11_name_to_code",
        ],
        "populations": [
            "AGE_BANDS",
            "ETHNIC_GROUPS",
            "POPULATION_SOURCES",
            "SCOTLAND_AGE_BANDS",
            "PopulationFileError",
            "age_band_of",
            "age_population",
            "ethnic_population",
            "parse_age_band",
            "read_population_file",
        ],
        "postcodes": [
            "POSTCODE_ATTRIBUTION",
            "POSTCODE_INDEX_FILE",
            "geocode_postcodes",
            "load_postcode_index",
            "lookup_postcode",
            "normalise_postcodes",
            "postcode_index_path",
        ],
        "search": ["AreaMatch", "normalise_name", "search_areas", "search_index"],
        "sources": ["ATTRIBUTION", "OGL", "OGL_URL", "SOURCES"],
    },
)
