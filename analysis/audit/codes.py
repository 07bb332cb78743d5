"""The coded values an activity record carries, and what each maps to.

* **Ethnic category**: the NHS Data Dictionary's *Ethnic Category* (2001 Census categories,
  codes A-S, Z "not stated", 99 "not known"), mapped to the Census 2021 high-level groups for
  England (ONS TS021) and to Scotland's Census 2022 high-level groups. The NHS codes predate
  the 2021 categories: code R (Chinese) sits under "Asian" in both censuses, and the "Other"
  group holds S only (Census 2021 moved Arab to "Other", which the NHS code list does not
  separate).
* **Person stated gender / sex**: NHS codes 1 male, 2 female, 9 indeterminate, 0 not known,
  and the letters M/F that extracts often carry instead.
* **Why a record was left out**: one reason per record, the first check it fails, so the
  reasons add up to the records excluded.
"""

from __future__ import annotations

from types import MappingProxyType

from analysis.data.populations import (  # noqa: F401  (ETHNIC_GROUPS is re-exported)
    ENGLAND_ETHNIC_GROUP_TITLES,
    ETHNIC_GROUPS,
    SCOTLAND_ETHNIC_GROUP_TITLES,
)

#: NHS ethnic category code → (NHS description, Census high-level group).
ETHNIC_CATEGORIES = MappingProxyType({
    "A": ("White: British", "White"),
    "B": ("White: Irish", "White"),
    "C": ("White: Any other White background", "White"),
    "D": ("Mixed: White and Black Caribbean", "Mixed"),
    "E": ("Mixed: White and Black African", "Mixed"),
    "F": ("Mixed: White and Asian", "Mixed"),
    "G": ("Mixed: Any other mixed background", "Mixed"),
    "H": ("Asian or Asian British: Indian", "Asian"),
    "J": ("Asian or Asian British: Pakistani", "Asian"),
    "K": ("Asian or Asian British: Bangladeshi", "Asian"),
    "L": ("Asian or Asian British: Any other Asian background", "Asian"),
    "M": ("Black or Black British: Caribbean", "Black"),
    "N": ("Black or Black British: African", "Black"),
    "P": ("Black or Black British: Any other Black background", "Black"),
    "R": ("Other ethnic groups: Chinese", "Asian"),
    "S": ("Other ethnic groups: Any other ethnic group", "Other"),
})
#: Codes meaning "not recorded" (kept in every count; shown as their own ethnicity row).
ETHNICITY_NOT_STATED_CODES = ("Z", "99")
NOT_STATED = "Not stated"
NOT_RECOGNISED = "Not recognised"

#: What the high-level groups are called in each country's census (for labels).
ETHNIC_GROUP_TITLES = MappingProxyType({"england": ENGLAND_ETHNIC_GROUP_TITLES,
                                        "scotland": SCOTLAND_ETHNIC_GROUP_TITLES})

#: Accepted sex codes (upper-cased, trimmed) → "M"/"F"; everything else is "U" (not known).
SEX_CODES = MappingProxyType({"1": "M", "M": "M", "MALE": "M", "2": "F", "F": "F",
                              "FEMALE": "F"})
SEX_LABELS = MappingProxyType({"F": "Female", "M": "Male", "U": "Not known"})

# Exclusion reasons: ids are stable (JSON keys); the text says what to fix.
AREA_MISSING = "area_missing"
AREA_NOT_RECOGNISED = "area_code_not_recognised"
POSTCODE_NOT_VALID = "postcode_not_valid"
POSTCODE_NOT_FOUND = "postcode_not_found"
POSTCODE_OUTSIDE = "postcode_outside_england_scotland"
OUTSIDE_STUDY_AREA = "outside_study_area"
AGE_MISSING = "age_missing"
AGE_NOT_VALID = "age_not_valid"

EXCLUSION_REASONS = MappingProxyType({
    AREA_MISSING: "no small area or postcode",
    AREA_NOT_RECOGNISED: "small-area code not recognised (not an LSOA 2011/2021 or data zone "
                         "2011 code)",
    POSTCODE_NOT_VALID: "postcode not in the shape of a UK postcode",
    POSTCODE_NOT_FOUND: "postcode not found in the postcode index (live or terminated)",
    POSTCODE_OUTSIDE: "postcode in Wales or Northern Ireland (outside the embedded geography)",
    OUTSIDE_STUDY_AREA: "lives outside the study area",
    AGE_MISSING: "age missing",
    AGE_NOT_VALID: "age not valid (not a number from 0 to 120, or an unrecognised age band)",
})

# How the record's small area was found (for the data-quality report).
SOURCE_LSOA21 = "lsoa21_code"
SOURCE_DZ11 = "dz11_code"
SOURCE_LSOA11 = "lsoa11_code"
SOURCE_POSTCODE_LIVE = "postcode_live"
SOURCE_POSTCODE_TERMINATED = "postcode_terminated"
AREA_SOURCES = MappingProxyType({
    SOURCE_LSOA21: "LSOA 2021 code as given",
    SOURCE_DZ11: "data zone 2011 code as given",
    SOURCE_LSOA11: "LSOA 2011 code converted to the best-fit LSOA 2021",
    SOURCE_POSTCODE_LIVE: "live postcode",
    SOURCE_POSTCODE_TERMINATED: "terminated postcode (placed by its last known area)",
})
