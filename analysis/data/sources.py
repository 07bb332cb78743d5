"""Provenance of every embedded dataset, and the attribution the app must show.

All of the default data are published under the Open Government Licence v3.0. The
attribution text below is the one the data pack asks for; the dashboard, the CLI exports and
the briefings show it wherever data are shown or exported.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

OGL = "Open Government Licence v3.0"
OGL_URL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"

ATTRIBUTION = (
    "Contains public sector information licensed under the Open Government Licence v3.0. "
    "Contains OS data © Crown copyright and database right. Source: Office for National "
    "Statistics; Ministry of Housing, Communities and Local Government (English Indices of "
    "Deprivation 2025); NHS England (NHS Payments to General Practice; Patients Registered at "
    "a GP Practice); Office for Health Improvement and Disparities (Fingertips); Scottish "
    "Government (SIMD 2020); National Records of Scotland."
)


@dataclass(frozen=True)
class Provenance:
    """Machine-readable provenance of one dataset."""

    id: str
    title: str
    publisher: str
    licence: str
    vintage: str
    geography: str
    source_url: str
    raw_file: str
    notes: str = ""

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def _p(id_: str, title: str, publisher: str, vintage: str, geography: str, url: str,
       raw: str, notes: str = "") -> Provenance:
    return Provenance(id_, title, publisher, OGL, vintage, geography, url, raw, notes)


SOURCES: dict[str, Provenance] = {
    p.id: p
    for p in [
        _p("lsoa21_boundaries", "Lower layer Super Output Areas (December 2021) boundaries, "
           "generalised", "Office for National Statistics", "December 2021", "lsoa21",
           "https://geoportal.statistics.gov.uk/", "england/lsoa21_boundaries.parquet",
           "Contains OS data © Crown copyright and database right."),
        _p("lsoa21_lookup", "LSOA 2021 to ward, local authority, sub-ICB location, ICB and "
           "region lookup", "Office for National Statistics", "2024 boundaries", "lsoa21",
           "https://geoportal.statistics.gov.uk/", "england/lsoa21_lookup.csv"),
        _p("census2021_population", "Census 2021: usual resident population (TS001)",
           "Office for National Statistics", "Census day, 21 March 2021", "lsoa21",
           "https://www.ons.gov.uk/census", "england/population_census2021_lsoa21.csv"),
        _p("lsoa11_lsoa21_lookup", "LSOA (2011) to LSOA (2021) to local authority district "
           "(2022) best-fit lookup, with change codes", "Office for National Statistics",
           "2021/2022", "lsoa11↔lsoa21", "https://geoportal.statistics.gov.uk/",
           "england/lsoa11_lsoa21_lookup.csv"),
        _p("mid2020_population_lsoa11", "Lower layer Super Output Area population estimates, "
           "mid-2020, by single year of age", "Office for National Statistics", "mid-2020",
           "lsoa11",
           "https://www.ons.gov.uk/peoplepopulationandcommunity/populationandmigration/"
           "populationestimates/datasets/lowersuperoutputareamidyearpopulationestimates",
           "england/population_mid2020_lsoa11_single_year_of_age.parquet"),
        _p("iod2025", "English Indices of Deprivation 2025: IMD and domain scores, ranks and "
           "deciles", "Ministry of Housing, Communities and Local Government", "2025 "
           "(indicators mostly 2022–2023)", "lsoa21",
           "https://www.gov.uk/government/statistics/english-indices-of-deprivation-2025",
           "england/imd2025_lsoa21.csv"),
        _p("iod2025_indicators", "English Indices of Deprivation 2025: underlying indicators",
           "Ministry of Housing, Communities and Local Government", "2025", "lsoa21",
           "https://www.gov.uk/government/statistics/english-indices-of-deprivation-2025",
           "england/imd2025_lsoa21_indicators.csv"),
        _p("census2021_disability", "Census 2021: disability under the Equality Act (TS038)",
           "Office for National Statistics", "Census day, 21 March 2021", "lsoa21",
           "https://www.ons.gov.uk/census", "england/census2021_disability_lsoa21.csv"),
        _p("census2021_household_deprivation", "Census 2021: households by deprivation "
           "dimensions (TS011)", "Office for National Statistics", "Census day, 21 March 2021",
           "lsoa21", "https://www.ons.gov.uk/census",
           "england/census2021_household_deprivation_lsoa21.csv"),
        _p("census2021_ethnic_group", "Census 2021: ethnic group (TS021), high-level groups",
           "Office for National Statistics", "Census day, 21 March 2021", "lsoa21",
           "https://www.ons.gov.uk/census", "england/census2021_ethnic_group_lsoa21.csv"),
        _p("ruc2021", "Rural-Urban Classification 2021 of LSOAs", "Office for National "
           "Statistics", "2021", "lsoa21",
           "https://www.ons.gov.uk/methodology/geography/geographicalproducts/"
           "ruralurbanclassifications", "england/ruc21_lsoa21.csv"),
        _p("gp_practices", "Patients Registered at a GP Practice, July 2023 (practice list "
           "with postcode-centroid coordinates)", "NHS England", "1 July 2023", "practice",
           "https://digital.nhs.uk/data-and-information/publications/statistical/"
           "patients-registered-at-a-gp-practice", "england/gp_practices_2023-07.csv",
           "Coordinates are postcode centroids; two practices have none."),
        _p("gp_workforce", "General Practice Workforce, practice level: headcount of fully "
           "qualified permanent GPs (excluding GPs in training and locums) and registered "
           "patients, 2015-16 to 2023-24 (compiled by the Health Equity Evidence Centre)",
           "NHS Digital (NHS England)", "financial years 2015-16 to 2023-24", "practice",
           "https://digital.nhs.uk/data-and-information/publications/statistical/"
           "general-and-personal-medical-services", "england/gp_workforce_headcount_2016-2024.csv",
           "Headcount, not FTE; 272 NA practice-years kept as missing."),
        _p("gp_practice_mapping", "GP practice to geography mapping 2023-24 (x-boundary "
           "mapping)", "NHS England", "2023-24", "practice",
           "https://www.england.nhs.uk/allocations/",
           "england/gp_practice_boundary_mapping_2023-24.csv"),
        _p("gp_payments", "NHS Payments to General Practice, England, 2014-15 to 2022-23",
           "NHS England", "financial years 2014-15 to 2022-23", "practice",
           "https://digital.nhs.uk/data-and-information/publications/statistical/"
           "nhs-payments-to-general-practice", "england/gp_payments/"),
        _p("nhse_weighted_populations", "NHS England practice weighted populations by "
           "allocation component (general and acute, community, mental health, maternity, "
           "health inequalities, prescribing, primary medical care, final), 2023-24 and "
           "2024-25", "NHS England", "allocations 2023-24 and 2024-25", "practice",
           "https://www.england.nhs.uk/allocations/",
           "england/nhse_practice_weighted_populations_2023-2024.csv; "
           "england/nhse_practice_weighted_populations_2024-2025.csv",
           "From NHS England's place-based allocation tool. Weighted populations, not "
           "indices; each component sums nationally to the registered list (pop 2022/23). "
           "PCN and LOC22 columns are empty in the pack."),
        _p("gp_practice_imd", "GP practice deprivation: IMD score of the registered "
           "population (Fingertips indicator 93553; IMD 2010, 2015 and 2019)",
           "Office for Health Improvement and Disparities", "IMD 2010, 2015, 2019", "practice",
           "https://fingertips.phe.org.uk/search/93553",
           "england/gp_practice_imd_fingertips_93553.csv"),
        _p("stroke_units", "Acute stroke units in England and Wales, with thrombolysis and "
           "thrombectomy provision", "as supplied in the Fairshare open data pack "
           "(NHS England / SSNAP stroke unit list)", "2024", "point",
           "https://www.strokeaudit.org/", "england/stroke_units_2024.csv"),
        _p("dz11_boundaries", "Data Zone boundaries 2011", "Scottish Government", "2011",
           "dz11", "https://www.data.gov.uk/dataset/ab9f1f20-3b7f-4efa-9bd2-239acf63b540/"
           "data-zone-boundaries-2011", "scotland/dz11_boundaries.parquet"),
        _p("dz11_lookup", "Data Zone 2011 to intermediate zone and council area lookup",
           "Scottish Government", "2011 zones, 2019 council areas", "dz11",
           "https://www.opendata.nhs.scot/dataset/geography-codes-and-labels",
           "scotland/dz11_lookup.csv"),
        _p("scotland_population_2021", "Small area population estimates, mid-2021, data zone "
           "2011", "National Records of Scotland", "mid-2021", "dz11",
           "https://www.nrscotland.gov.uk/statistics-and-data/statistics/statistics-by-theme/"
           "population/population-estimates/2011-based-special-area-population-estimates/"
           "small-area-population-estimates", "scotland/population_2021_dz11.csv"),
        _p("scotland_census_age", "Population by age band and sex, data zone 2011",
           "National Records of Scotland (Scotland's Census)",
           "Census 2022 (year inferred from the total)",
           "dz11", "https://www.scotlandscensus.gov.uk/",
           "scotland/census_age_gender_dz11.csv",
           "The pack does not state the census year; its total (5,439,618) matches Scotland's "
           "Census 2022 (about 5.44 million) far more closely than 2011 (5,295,403). Age "
           "'15.0' is the single year 15."),
        _p("scotland_census2022_ethnic_group", "Scotland's Census 2022: ethnic group by data "
           "zone 2011", "National Records of Scotland (Scotland's Census)", "Census 2022",
           "dz11", "https://www.scotlandscensus.gov.uk/",
           "scotland/census2022_ethnic_group_dz11.csv",
           "Statistical disclosure control: cells may not add to totals."),
        _p("ons_postcode_lookup", "Postcode to output area to LSOA/MSOA (2011) to local "
           "authority lookup, May 2022", "Office for National Statistics", "May 2022",
           "postcode", "https://geoportal.statistics.gov.uk/",
           "gb/postcodes/PCD_OA_LSOA_MSOA_LAD_MAY22_UK_LU.7z",
           "Live and terminated postcodes. Contains Royal Mail data © Royal Mail copyright and "
           "database right."),
        _p("codepoint_open", "OS Code-Point Open", "Ordnance Survey", "2025", "postcode",
           "https://www.ordnancesurvey.co.uk/products/code-point-open",
           "gb/postcodes/codepo_gb.zip",
           "Contains OS data © Crown copyright and database right. Contains Royal Mail data © "
           "Royal Mail copyright and database right."),
        _p("simd2020", "Scottish Index of Multiple Deprivation 2020 (v2)",
           "Scottish Government", "2020", "dz11",
           "https://www.gov.scot/collections/scottish-index-of-multiple-deprivation-2020/",
           "scotland/simd2020_dz11.csv"),
        _p("simd2020v2_indicators", "Scottish Index of Multiple Deprivation 2020v2: indicator "
           "data", "Scottish Government", "2020 (v2, 2020); indicators from earlier years",
           "dz11",
           "https://www.gov.scot/collections/scottish-index-of-multiple-deprivation-2020/",
           "scotland/simd2020v2_indicators_dz11.csv",
           "The indicators behind the SIMD domains (health, access, income, ...); "
           "'*' marks a suppressed value, percentages are stored as text with '%'."),
    ]
}
