"""Which column of an activity file holds what: names matched case-insensitively (and ignoring
spaces, dots and underscores) against the names extracts commonly use, or mapped explicitly
by the user (``--map age=AgeAtAttendance``)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

#: role → accepted column names (already normalised: lower case, letters and digits only).
#: Order matters for small areas: an LSOA 2021 code wins over a 2011 one on the same row.
ROLE_ALIASES: Mapping[str, tuple[str, ...]] = {
    "lsoa21_code": ("lsoa21code", "lsoa21cd", "lsoa2021", "lsoa2021code", "lsoa21"),
    "dz11_code": ("dz11code", "dz11cd", "datazone", "datazonecode", "datazone2011", "dz11",
                  "dz2011"),
    "lsoa11_code": ("lsoa11code", "lsoa11cd", "lsoa2011", "lsoa2011code", "lsoa11"),
    "area_code": ("areacode", "lsoacode", "lsoa", "smallarea", "smallareacode"),
    "postcode": ("postcode", "postcodes", "pcd", "pcds", "patientpostcode", "postalcode"),
    "age": ("age", "ageyears", "ageinyears", "ageatevent", "ageatactivity", "ageatattendance",
            "ageatappointment", "ageatreferral", "ageatadmission"),
    "age_band": ("ageband", "agegroup", "agebands", "agerange"),
    "sex": ("sex", "gender", "sexcode", "gendercode", "personstatedgendercode",
            "personstatedgender"),
    "ethnic_category": ("ethniccategory", "ethniccategorycode", "ethnicity", "ethnicgroup",
                        "ethniccode", "ethnicitycode"),
    "event_date": ("eventdate", "date", "activitydate", "attendancedate", "appointmentdate",
                   "referraldate", "admissiondate", "contactdate"),
    "site": ("site", "sitecode", "sitename", "location", "venue"),
    "service": ("service", "servicename", "servicecode", "clinic", "specialty"),
}
AREA_ROLES = ("lsoa21_code", "dz11_code", "lsoa11_code", "area_code")
ROLE_TITLES: Mapping[str, str] = {
    "lsoa21_code": "LSOA 2021 code", "dz11_code": "data zone 2011 code",
    "lsoa11_code": "LSOA 2011 code", "area_code": "small-area code", "postcode": "postcode",
    "age": "age in years", "age_band": "age band", "sex": "sex", "ethnic_category":
    "ethnic category", "event_date": "event date", "site": "site", "service": "service",
}


def normalised_name(name: str) -> str:
    """A column name reduced for matching: lower case, letters and digits only."""
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


@dataclass(frozen=True)
class ColumnMapping:
    """The source column playing each role (``None`` when the file has none)."""

    roles: Mapping[str, str] = field(default_factory=dict)

    def get(self, role: str) -> str | None:
        return self.roles.get(role)

    @property
    def area_columns(self) -> list[tuple[str, str]]:
        """(role, column) of every small-area column present, in priority order."""
        return [(r, self.roles[r]) for r in AREA_ROLES if r in self.roles]

    def describe(self) -> list[str]:
        """One line per recognised role, e.g. ``"age in years: AgeAtAttendance"``."""
        return [f"{ROLE_TITLES[r]}: {c}" for r, c in self.roles.items()]


class ColumnError(ValueError):
    """The activity file's columns cannot be used (names the file and the columns)."""


def parse_mapping(pairs: Sequence[str]) -> dict[str, str]:
    """``["age=AgeYears", "sex=Gender"]`` → ``{"age": "AgeYears", "sex": "Gender"}``."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        role, sep, column = pair.partition("=")
        if not sep or not role.strip() or not column.strip():
            raise ColumnError(f"Column mapping {pair!r} is not ROLE=COLUMN "
                              f"(roles: {', '.join(ROLE_ALIASES)})")
        mapping[role.strip()] = column.strip()
    return mapping


def recognise_columns(columns: Sequence[str], mapping: Mapping[str, str] | None = None, *,
                      origin: str = "the activity file") -> ColumnMapping:
    """Assign a column to each role: explicit ``mapping`` first, then the first column whose
    normalised name is an alias of the role. A file must have a small area (an area code column
    or a postcode) and an age (in years or as a band); a column used twice, an unknown role or
    a mapped column that is not in the file is an error naming it."""
    by_name: dict[str, str] = {}
    for column in columns:
        key = normalised_name(column)
        if key in by_name:
            raise ColumnError(f"{origin}: columns {by_name[key]!r} and {column!r} have the same "
                              "name once case and punctuation are ignored; rename one")
        by_name[key] = column
    roles: dict[str, str] = {}
    for role, column in (mapping or {}).items():
        if role not in ROLE_ALIASES:
            raise ColumnError(f"{origin}: unknown role {role!r} in the column mapping "
                              f"(roles: {', '.join(ROLE_ALIASES)})")
        found = by_name.get(normalised_name(column))
        if found is None:
            raise ColumnError(f"{origin}: mapped column {column!r} (for {role}) is not in the "
                              f"file; its columns are {', '.join(map(repr, columns))}")
        roles[role] = found
    taken = set(roles.values())
    for role, aliases in ROLE_ALIASES.items():
        if role in roles:
            continue
        for alias in aliases:
            column = by_name.get(alias)
            if column is not None and column not in taken:
                roles[role] = column
                taken.add(column)
                break
    used = [c for c in roles.values()]
    duplicated = {c for c in used if used.count(c) > 1}
    if duplicated:
        raise ColumnError(f"{origin}: column {sorted(duplicated)[0]!r} is mapped to two roles")
    if not any(r in roles for r in (*AREA_ROLES, "postcode")):
        raise ColumnError(
            f"{origin}: no small-area column. Expected one of lsoa21_code, lsoa11_code, "
            f"dz11_code, area_code or postcode (any case); the file has "
            f"{', '.join(map(repr, columns)) or 'no columns'}. Map one with area_code=COLUMN.")
    if "age" not in roles and "age_band" not in roles:
        raise ColumnError(
            f"{origin}: no age column. Expected age (years) or age_band (any case); the file "
            f"has {', '.join(map(repr, columns))}. Map one with age=COLUMN.")
    ordered = {r: roles[r] for r in ROLE_ALIASES if r in roles}
    return ColumnMapping(ordered)
