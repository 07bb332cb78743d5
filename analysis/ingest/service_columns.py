"""Recognising the columns of a service file: each *role* (site id, name, type, capacity,
opening hours, postcode, latitude/longitude, easting/northing, address, parent organisation,
close date) by the column's name compared case-insensitively on its letters and digits
(:data:`ALIASES`, then :data:`SUFFIXES`), or named explicitly; an address spread over
``Address Line 1..5``/``City``/``County`` columns and opening hours over day-of-week columns
are joined into one text each.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from analysis.ingest.readers import _as_text
from analysis.ingest.report import ValidationReport, _show

ROLES = ("site_id", "name", "site_type", "capacity", "opening_hours", "postcode", "latitude",
         "longitude", "easting", "northing", "address", "parent_code", "parent", "close_date")
LOCATION_ROLES = ("postcode", "latitude", "longitude", "easting", "northing")
#: Spellings of each role, compared with letters and digits only ("Location Postal Code" →
#: "locationpostalcode"); the first that a file has wins.
ALIASES: dict[str, tuple[str, ...]] = {
    "site_id": ("siteid", "sitecode", "organisationcode", "orgcode", "odscode", "locationid",
                "practicecode", "pharmacycode", "librarycode", "facilityid", "facilitycode",
                "serviceid", "premisesid", "uprn", "id", "code", "ref", "reference"),
    "name": ("name", "sitename", "organisationname", "orgname", "locationname", "library",
             "libraryname", "pharmacyname", "tradingname", "hospitalname", "practicename",
             "facilityname", "servicename", "premisesname", "hub", "hubname", "venue",
             "title"),
    "site_type": ("type", "sitetype", "servicetype", "locationtypesector", "sector",
                  "subtype", "facilitytype", "organisationsubtype", "organisationtype",
                  "category"),
    "capacity": ("capacity", "beds", "carehomesbeds", "numberofbeds", "staff", "staffcount",
                 "fte", "wte", "headcount", "staffedhours", "staffedhoursperweek",
                 "hoursperweek", "weeklyhours", "openinghoursperweek", "listsize",
                 "registeredpatients", "places", "seats"),
    "opening_hours": ("openinghours", "openingtimes", "opening", "hours", "times"),
    "postcode": ("postcode", "postalcode", "pcd", "pcds", "pcd2", "pcode", "sitepostcode",
                 "locationpostalcode", "locationpostcode", "addresspostcode", "zip",
                 "zipcode"),
    "latitude": ("latitude", "lat", "locationlatitude", "ylat", "wgs84latitude"),
    "longitude": ("longitude", "lon", "long", "lng", "locationlongitude", "xlong",
                  "wgs84longitude"),
    "easting": ("easting", "eastings", "oseasting", "bngeasting", "xcoordinate", "x"),
    "northing": ("northing", "northings", "osnorthing", "bngnorthing", "ycoordinate", "y"),
    "address": ("address", "fulladdress", "siteaddress", "locationaddress",
                "streetaddress"),
    "parent_code": ("parentodscode", "parentcode", "parentorganisationcode", "providerid",
                    "trustcode"),
    "parent": ("parentname", "parentorganisation", "parentorganisationname", "providername",
               "trustname", "trust", "provider"),
    "close_date": ("closedate", "closingdate", "dateclosed", "enddate"),
}
# a column ending like this is the role when no alias matched ("Site Postcode", "Hub ID",
# "Staff (FTE)"); a column that is another role's alias is never taken this way
SUFFIXES = {"site_id": ("id", "code"), "postcode": ("postcode", "postalcode"),
            "latitude": ("latitude",), "longitude": ("longitude",), "easting": ("easting",),
            "northing": ("northing",), "capacity": ("fte", "wte", "beds", "capacity",
                                                    "perweek")}
ADDRESS_PART = re.compile(r"\A(?:address(?:line)?\d+|addressline\d*|street|locality|town|"
                          r"city|county|district)\Z")
DAY_COLUMN = re.compile(r"\A(mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun|monday|tuesday|"
                        r"wednesday|thursday|friday|saturday|sunday)(?:openinghours|hours|"
                        r"opening|openingtimes|times)?\Z")


def _key(name: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def _pick(columns: list[str], role: str, taken: set[str]) -> str | None:
    keys = {c: _key(c) for c in columns if c not in taken}
    for alias in ALIASES[role]:
        hit = next((c for c, k in keys.items() if k == alias), None)
        if hit is not None:
            return hit
    others = {a for other, aliases in ALIASES.items() if other != role for a in aliases}
    for suffix in SUFFIXES.get(role, ()):
        hit = next((c for c, k in keys.items() if k.endswith(suffix) and k not in others),
                   None)
        if hit is not None:
            return hit
    return None


def find_columns(columns: list[str], explicit: Mapping[str, str], report: ValidationReport
                 ) -> tuple[dict[str, str], list[str], list[str]] | None:
    """(role → column, address-part columns, day-of-week hours columns), or ``None`` with
    errors when a named column is missing or the file has no location column."""
    errors_before = len(report.errors)
    chosen: dict[str, str] = {}
    for role, wanted in explicit.items():
        hit = next((c for c in columns if c == wanted), None) or next(
            (c for c in columns if _key(c) == _key(wanted)), None)
        if hit is None:
            report.error("missing_columns", f"the metadata names column {_show(wanted)} for "
                         f"{role}, but the file has no such column; its columns are: "
                         f"{', '.join(map(_show, columns[:30]))}", column=wanted)
        else:
            chosen[role] = hit
    if len(report.errors) > errors_before:
        return None
    location_named = any(role in chosen for role in LOCATION_ROLES)
    taken = set(chosen.values())
    for role in ROLES:
        if role in chosen or (location_named and role in LOCATION_ROLES):
            continue
        hit = _pick(columns, role, taken)
        if hit is not None:
            chosen[role] = hit
            taken.add(hit)
    for first, second in (("latitude", "longitude"), ("easting", "northing")):
        if (first in chosen) != (second in chosen):
            have, lack = (first, second) if first in chosen else (second, first)
            report.error("missing_columns", f"the file has a {have} column "
                         f"({_show(chosen[have])}) but no {lack} column: give both, or name "
                         f"it with {lack}_column", column=chosen[have], row=1)
    if not any(role in chosen for role in LOCATION_ROLES):
        report.error("missing_columns", "no location column: the file needs a postcode column "
                     "(e.g. 'Postcode', 'Location Postal Code'), latitude and longitude "
                     "columns, or British National Grid easting and northing columns; name "
                     "one with postcode_column (or latitude_column …) in the metadata. The "
                     f"file's columns are: {', '.join(map(_show, columns[:30]))}", row=1)
    if len(report.errors) > errors_before:
        return None
    address = ([] if "address" in chosen else
               [c for c in columns if c not in taken and ADDRESS_PART.match(_key(c))])
    days = ([] if "opening_hours" in chosen else
            [c for c in columns if c not in taken and DAY_COLUMN.match(_key(c))])
    return chosen, address, days


def _joined(frame: pd.DataFrame, columns: list[str], labels: list[str] | None = None
            ) -> pd.Series:
    """Cells of several columns joined with "; " (empty parts skipped), '' when none; each
    part prefixed with its label ("Mon 09:00-18:00") when ``labels`` are given."""
    out = pd.Series("", index=frame.index, dtype=object)
    for i, column in enumerate(columns):
        text = _as_text(frame[column])
        if labels:
            text = text.where(text == "", labels[i] + " " + text)
        both = (out != "") & (text != "")
        out = (out + np.where(both, "; ", "") + text).astype(object)
    return out.astype(str)


# a postcode written the usual ways ("WN1 1HZ", "wn11hz"); Royal Mail's outward-code shape
POSTCODE_SHAPE = re.compile(r"\A[A-Z][A-Z0-9]{1,3} *[0-9][A-Z]{2}\Z")
CONTENT_SHARE = 0.8


def _postcode_share(values: pd.Series) -> float:
    text = _as_text(values).str.upper()
    text = text[text != ""]
    return float(text.str.match(POSTCODE_SHAPE.pattern).mean()) if len(text) else 0.0


def is_headerless(columns: list[str]) -> bool:
    """Whether the first row is data, not a header: one of its cells is a postcode (an ODS
    download such as ``edispensary.csv`` comes without a header row)."""
    return any(POSTCODE_SHAPE.match(str(c).strip().upper()) for c in columns)


def roles_by_content(frame: pd.DataFrame, *, headerless: bool) -> dict[str, str]:
    """Roles guessed from the cells when the names say nothing: the postcode column (at
    least :data:`CONTENT_SHARE` of its non-empty cells are postcodes) and, in a file without
    a header, the site id (a first column of unique codes without spaces) and the name (the
    next column)."""
    shares = {c: _postcode_share(frame[c]) for c in frame.columns}
    best = max(shares, key=lambda c: shares[c]) if shares else None
    roles: dict[str, str] = {}
    if best is not None and shares[best] >= CONTENT_SHARE:
        roles["postcode"] = best
    if headerless and len(frame.columns) >= 2:
        first, second = frame.columns[0], frame.columns[1]
        codes = _as_text(frame[first])
        if first != best and codes.is_unique and not codes.str.contains(" ").any():
            roles["site_id"] = first
        if second != best:
            roles["name"] = second
    return roles
