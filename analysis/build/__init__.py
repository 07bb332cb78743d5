"""The data build: turns the raw open-data pack into the compact embedded dataset in ``data/``
with its manifest (provenance, row counts, join coverage). Run by ``fairshare data build``;
the app and the tests never run it.

Modules: ``raw`` (reading the pack, the build log), ``geography`` (packs and the LSOA
lookup), ``indicators`` (default indicators and the package writer), ``provision``
(indicators measured from facilities), ``services`` (practices, payments, stroke units),
``populations`` (audit denominators by age band, sex and ethnic group), ``postcodes`` (the
postcode index), ``workforce`` (GP headcounts by practice and year), ``pipeline`` (the
whole build in order). The build is the one room that may use every room below it (data,
access, funding).
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "pipeline": ["MANIFEST_VERSION", "build"],
        "populations": ["build_populations", "write_populations"],
        "outlines": ["build_outlines", "dissolve_outlines", "write_outlines"],
        "postcodes": ["build_postcode_index", "write_postcode_index"],
        "raw": ["BuildLog", "RawDataError"],
        "workforce": ["HeadcountSupply", "build_gp_workforce", "gp_workforce_table",
                      "headcount_supply"],
    },
)
