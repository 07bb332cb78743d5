"""Access to services: the service sites shipped with the data (GP practices, stroke units),
distances to the nearest site, catchment measures (enhanced two-step floating catchment
area) and travel times, all onto small areas.
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "models": [
            "e2sfca",
            "facility_points",
            "nearest_facility",
            "representative_points",
            "share_beyond",
            "stroke_admissions_lsoa21",
            "stroke_travel_times_lsoa21",
        ],
        "services": ["load_gp_practices", "load_stroke_units", "practices_in_area"],
    },
)
