"""Access to services: the service sites shipped with the data (GP practices, stroke units),
great-circle distances, the nearest site, floating catchments with distance decay (E2SFCA)
and travel times, all onto small areas.

Modules, lowest first: ``points`` (points and distances), ``nearest``, ``catchment``,
``stroke`` (stroke travel times and admissions), ``services`` (the shipped sites),
``service_access`` (access to any service brought as data), ``registrations`` (the
practice × LSOA registration matrix: registered, or estimated by a gravity model).
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "points": ["EARTH_MEAN_RADIUS_KM", "facility_points", "haversine_km",
                   "representative_points"],
        "nearest": ["NearestFacility", "nearest_by_travel_time", "nearest_facility"],
        "catchment": ["AreaAttribution", "CatchmentAccess", "Decay", "decay_weight", "e2sfca",
                      "facility_attribute_per_resident"],
        "stroke": ["StrokeAdmissions", "StrokeTravelTimes", "share_beyond",
                   "stroke_admissions_lsoa21", "stroke_travel_times_lsoa21"],
        "services": ["load_gp_practices", "load_stroke_units", "practices_in_area"],
        "service_access": ["SUGGESTED_ROAD_FACTOR", "ServiceAccess", "access_to_service",
                           "sites_within", "small_area_points"],
        "registrations": ["ESTIMATE_CAVEAT", "FlowEstimate", "PracticeWeights", "Registrations",
                          "RegistrationsError", "estimate_registrations", "gravity_flows",
                          "load_registrations", "lsoa_points", "practice_weights",
                          "read_registrations_csv", "remove_registrations",
                          "save_registrations"],
    },
)
