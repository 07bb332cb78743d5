"""The embedded postcode index: normalising, geocoding and looking up UK postcodes.

One file, ``data/geography/postcodes.parquet``, built by ``analysis.build.postcodes`` from the
ONS postcode → OA → LSOA 2011 lookup (May 2022, live and terminated, UK) and OS Code-Point
Open (live GB postcodes with British National Grid coordinates). It serves record-level
equity audits (a patient's postcode → LSOA 2021 / data zone 2011), service sites (a pharmacy
list → coordinates and area) and area search ("WN1 1AA" opens its LSOA).

Columns (one row per postcode, sorted by ``postcode``):

* ``postcode``: canonical form, upper case with one space before the inward code ("WN1 1AA");
* ``area_code``: LSOA 2021 (England) or data zone 2011 (Scotland); null elsewhere;
* ``country``: ``E`` ``S`` ``W`` ``N`` (England, Scotland, Wales, Northern Ireland), ``L``
  (Channel Islands) or ``M`` (Isle of Man), the ONS pseudo-country letters; null when the
  postcode could not be placed at all (a postcode with a country and no area is therefore
  always outside England and Scotland);
* ``easting``/``northing``: Code-Point Open coordinates (EPSG:27700, metres); null for
  terminated postcodes, Northern Ireland and the few live ones OS has not yet positioned;
* ``live``: in Code-Point Open (GB) or, in Northern Ireland and the islands, no termination
  date in the ONS lookup;
* ``placement``: how ``area_code`` was found, see :data:`PLACEMENTS`.

Postcode shape (Royal Mail, *Postcode Address File Programmer's Guide*): an outward code of
2–4 characters beginning with a letter, then an inward code of one digit and two letters.
The generic outward rule (rather than the six classic patterns A9, A99, AA9, AA99, A9A,
AA9A) admits the non-geographic "GIR 0AA" and the historic Newport "NPT" postcodes that the
ONS lookup still lists.

Contains OS data © Crown copyright and database right. Contains Royal Mail data © Royal Mail
copyright and database right. Source: Office for National Statistics licensed under the Open
Government Licence v3.0.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis.data.datastore import DataFileError, data_cache, data_path, read_parquet

POSTCODE_ATTRIBUTION: str = (
    "Contains OS data © Crown copyright and database right. Contains Royal Mail data © "
    "Royal Mail copyright and database right. Source: Office for National Statistics "
    "licensed under the Open Government Licence v3.0."
)
POSTCODE_INDEX_FILE = "geography/postcodes.parquet"
INDEX_COLUMNS = ["postcode", "area_code", "country", "easting", "northing", "live",
                 "placement"]
GEOCODE_COLUMNS = ["postcode", "area_code", "country", "easting", "northing", "latitude",
                   "longitude", "live", "status"]
STATUSES = ("live", "terminated", "outside", "unknown", "invalid", "missing")
# countries whose postcodes the index keeps without an area: a record there is "outside
# England and Scotland", not an unknown postcode
OUTSIDE_COUNTRIES = ("W", "N", "L", "M")
COUNTRY_NAMES = {"E": "England", "S": "Scotland", "W": "Wales", "N": "Northern Ireland",
                 "L": "Channel Islands", "M": "Isle of Man"}
PLACEMENTS: dict[int, str] = {
    0: "no area: Wales, Northern Ireland, the islands, or no location known",
    1: "ONS LSOA 2011 with exactly one LSOA 2021 successor (unchanged or merged)",
    2: "Code-Point point within a 2021 LSOA polygon (the successors of its 2011 LSOA; any "
       "LSOA for a postcode missing from the ONS lookup)",
    3: "best fit: no coordinates, the 2011 LSOA's successor with the largest population share",
    4: "data zone 2011 from the ONS lookup (Scotland)",
    5: "no coordinates: the 2021 successor holding most located postcodes of its 2011 "
       "output area",
    6: "Code-Point point within no candidate polygon (generalised boundaries, coast): the "
       "nearest candidate LSOA 2021 / data zone",
    7: "data zone 2011 by Code-Point point in polygon (postcode missing from the ONS lookup)",
}

# whitespace of every kind, including no-break, thin and zero-width spaces pasted from
# spreadsheets and web pages (RE2 syntax: \s is ASCII-only there)
_SPACES = r"[\s\p{Z}\x{200B}\x{2060}\x{FEFF}]+"
_SHAPE = r"^[A-Z][A-Z0-9]{1,3}[0-9][A-Z]{2}$"
_CANONICAL = r"^[A-Z][A-Z0-9]{1,3} [0-9][A-Z]{2}$"
_KEY_WIDTH = 7  # outward code padded to 4 + inward code
_KINDS = {"easting": "integer metres", "northing": "integer metres", "live": "boolean",
          "placement": "a small integer code"}


def postcode_index_path() -> Path:
    """Absolute path of the embedded postcode index (it may not exist in a slim install)."""
    return data_path(POSTCODE_INDEX_FILE)


def _as_arrow_text(values: pd.Series) -> pa.Array:
    """The values as one Arrow string array; non-text values become their text."""
    if not isinstance(values, pd.Series):
        raise ValueError(f"expected a pandas Series of postcodes, got {type(values).__name__}")
    if not (isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"):
        values = values.astype("string[pyarrow]")
    arr = pa.array(values.array)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr.cast(pa.string()) if arr.type != pa.string() else arr


def _normalise(values: pd.Series) -> tuple[pa.Array, np.ndarray]:
    """(canonical postcodes with nulls for bad shapes, mask of empty or missing inputs)."""
    compact = pc.ascii_upper(pc.replace_substring_regex(_as_arrow_text(values), _SPACES, ""))
    empty = pc.fill_null(pc.equal(pc.utf8_length(compact), 0), True)
    canonical = pc.binary_join_element_wise(pc.utf8_slice_codeunits(compact, 0, -3),
                                            pc.utf8_slice_codeunits(compact, -3), " ")
    shaped = pc.fill_null(pc.match_substring_regex(compact, _SHAPE), False)
    return pc.if_else(shaped, canonical, None), empty.to_numpy(zero_copy_only=False)


def normalise_postcodes(values: pd.Series) -> pd.Series:
    """Canonical UK postcodes: every kind of whitespace removed, upper case, one space before
    the three-character inward code ("wn11aa", " WN1  1AA " → "WN1 1AA").

    Anything that does not have the postcode shape (Royal Mail PAF Programmer's Guide: outward
    code of 2–4 characters starting with a letter, inward code digit + two letters) becomes
    ``<NA>``. Vectorised in Arrow; the result keeps the input's index.
    """
    canonical, _ = _normalise(values)
    return pd.Series(pd.arrays.ArrowStringArray(canonical), index=values.index,
                     name=values.name)


def _keys(canonical: pa.Array) -> np.ndarray:
    """Order-preserving uint64 keys of canonical postcodes (0 for nulls).

    The outward code is padded with spaces to four characters, so every key is 7 ASCII bytes
    read big-endian. A space sorts before every digit and letter, so the keys sort exactly
    as the canonical strings do and a sorted index can be searched with ``searchsorted``.
    """
    valid = pc.is_valid(canonical).to_numpy(zero_copy_only=False)
    filled = pc.fill_null(canonical, "A0 0AA")
    padded = pc.binary_join_element_wise(
        pc.utf8_rpad(pc.utf8_slice_codeunits(filled, 0, -4), 4, " "),
        pc.utf8_slice_codeunits(filled, -3), "")
    fixed = pc.cast(pc.cast(padded, pa.binary()), pa.binary(_KEY_WIDTH))
    raw = np.frombuffer(fixed.buffers()[1], dtype=np.uint8,
                        count=_KEY_WIDTH * len(fixed), offset=_KEY_WIDTH * fixed.offset)
    wide = np.zeros((len(fixed), 8), dtype=np.uint8)
    wide[:, 8 - _KEY_WIDTH:] = raw.reshape(-1, _KEY_WIDTH)
    keys = wide.view(">u8").ravel().astype(np.uint64)
    keys[~valid] = 0
    return keys


@data_cache(maxsize=1)
def load_postcode_index() -> pd.DataFrame:
    """The embedded postcode index (columns :data:`INDEX_COLUMNS`, sorted by postcode), read
    once per data directory.

    Raises :class:`DataFileError` naming the file when it is missing, unreadable, lacks a
    column, or its postcodes are not canonical, unique and sorted.
    """
    return _lookup_table()["frame"]


@data_cache(maxsize=1)
def _lookup_table() -> dict[str, Any]:
    """The index frame, checked, with its search arrays: sorted keys and the columns as
    positional arrays."""
    frame = read_parquet(POSTCODE_INDEX_FILE, columns=INDEX_COLUMNS)
    path = postcode_index_path()
    if frame.empty:
        raise DataFileError(f"Data file {path} holds no postcodes")
    kinds = {"easting": pd.api.types.is_numeric_dtype, "northing": pd.api.types.is_numeric_dtype,
             "live": pd.api.types.is_bool_dtype, "placement": pd.api.types.is_integer_dtype}
    for column, is_kind in kinds.items():
        if not is_kind(frame[column].dtype) or pd.api.types.is_bool_dtype(
                frame[column].dtype) != (column == "live"):
            raise DataFileError(f"Data file {path}: column {column} has dtype "
                                f"{frame[column].dtype}, expected {_KINDS[column]}")
    stored = _as_arrow_text(frame["postcode"])
    shaped = pc.match_substring_regex(stored, _CANONICAL)
    bad = ~pc.fill_null(shaped, False).to_numpy(zero_copy_only=False)
    if bad.any():
        rows = np.flatnonzero(bad)[:5]
        raise DataFileError(f"Data file {path}: column postcode is not canonical at rows "
                            f"{', '.join(str(r) for r in rows)} "
                            f"({', '.join(repr(frame['postcode'].iloc[r]) for r in rows)})")
    keys = _keys(stored)
    unsorted = np.flatnonzero(keys[1:] <= keys[:-1])  # not np.diff: uint64 wraps round
    if len(unsorted):
        row = int(unsorted[0]) + 1
        raise DataFileError(f"Data file {path}: postcodes are not unique and sorted at row "
                            f"{row} ({frame['postcode'].iloc[row]!r})")
    area = frame["area_code"].astype("category")
    country = frame["country"].astype("category")
    return {
        "frame": frame,
        "keys": keys,
        "area_codes": area.cat.codes.to_numpy(), "area_categories": area.cat.categories,
        "country_codes": country.cat.codes.to_numpy(),
        "country_categories": country.cat.categories,
        # float32 holds every whole metre of the National Grid (< 2**24) exactly
        "easting": frame["easting"].to_numpy(dtype="float32", na_value=np.nan),
        "northing": frame["northing"].to_numpy(dtype="float32", na_value=np.nan),
        "live": frame["live"].to_numpy(dtype=bool),
        "placement": frame["placement"].to_numpy(dtype="int8"),
        "outside": np.isin(np.asarray(country.cat.categories, dtype=object),
                           OUTSIDE_COUNTRIES),
    }


@functools.cache
def _to_wgs84():
    import pyproj

    # without the OSTN15 grid PROJ picks "OSGB36 to WGS 84 (6)", a Helmert fit good to ~2 m
    return pyproj.Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)


def _positions(canonical: pa.Array, table: dict[str, Any]) -> np.ndarray:
    """Row of each canonical postcode in the index, −1 when absent or null."""
    keys = table["keys"]
    query = _keys(canonical)
    pos = np.searchsorted(keys, query).clip(max=len(keys) - 1)
    found = (keys[pos] == query) & (query != 0)
    return np.where(found, pos, -1)


def _categorical(codes: np.ndarray, pos: np.ndarray, categories: pd.Index) -> pd.Categorical:
    return pd.Categorical.from_codes(np.where(pos >= 0, codes[pos], -1), categories=categories)


def _geocode(values: pd.Series) -> tuple[pd.DataFrame, np.ndarray]:
    """The geocoded frame (input order, default index) and each input's row in the index."""
    canonical, empty = _normalise(values)
    table = _lookup_table()
    pos = _positions(canonical, table)
    found = pos >= 0
    take = np.where(found, pos, 0)
    easting = np.where(found, table["easting"][take], np.nan).astype("float64")
    northing = np.where(found, table["northing"][take], np.nan).astype("float64")
    latitude = np.full(len(pos), np.nan)
    longitude = np.full(len(pos), np.nan)
    located = np.flatnonzero(~np.isnan(easting))
    if len(located):
        longitude[located], latitude[located] = _to_wgs84().transform(
            easting[located], northing[located])
    country_codes = np.where(found, table["country_codes"][take], -1)
    outside = np.zeros(len(pos), dtype=bool)
    known = country_codes >= 0
    outside[known] = table["outside"][country_codes[known]]
    live = found & table["live"][take]
    invalid = pc.is_null(canonical).to_numpy(zero_copy_only=False)
    # the first true condition wins: an empty cell is missing before it is invalid
    status = np.select([empty, invalid, ~found, outside, live], [5, 4, 3, 2, 0], default=1)
    coords = pd.arrays.IntegerArray
    out = pd.DataFrame({
        "postcode": pd.arrays.ArrowStringArray(canonical),
        "area_code": _categorical(table["area_codes"], pos, table["area_categories"]),
        "country": pd.Categorical.from_codes(country_codes,
                                             categories=table["country_categories"]),
        "easting": coords(np.nan_to_num(easting).astype("int32"), np.isnan(easting)),
        "northing": coords(np.nan_to_num(northing).astype("int32"), np.isnan(northing)),
        "latitude": latitude,
        "longitude": longitude,
        "live": pd.arrays.BooleanArray(live, ~found),
        "status": pd.Categorical.from_codes(status, categories=list(STATUSES)),
    })
    return out, pos


def geocode_postcodes(values: pd.Series) -> pd.DataFrame:
    """Geocode postcodes through the embedded index, aligned to the input's index and order.

    Columns :data:`GEOCODE_COLUMNS`: the normalised ``postcode``; ``area_code`` (LSOA 2021 /
    data zone 2011), ``country``, ``easting``/``northing`` (EPSG:27700) and ``live`` from the
    index; ``latitude``/``longitude`` (WGS84, EPSG:4326, transformed with PROJ's OSGB36 →
    WGS 84 Helmert fit, ~2 m; NaN without coordinates); and ``status``, one of
    :data:`STATUSES`: ``live``/``terminated`` (in England, Scotland, or not placed),
    ``outside`` (Wales, Northern Ireland, the islands), ``unknown`` (postcode shape, not in
    the index), ``invalid`` (not a postcode shape), ``missing`` (empty or null).
    """
    out, _ = _geocode(values)
    out.index = values.index
    return out


def lookup_postcode(text: str) -> dict[str, Any] | None:
    """One postcode for search: its index row as plain Python values, or ``None`` when the
    text is not a postcode or the postcode is not in the index.

    Keys: ``postcode``, ``area_code``, ``country``, ``easting``, ``northing``, ``latitude``,
    ``longitude``, ``live``, ``placement``, ``status`` (missing values are ``None``).
    """
    if not isinstance(text, str):
        raise ValueError(f"lookup_postcode expects text, got {type(text).__name__}")
    frame, pos = _geocode(pd.Series([text], dtype="string[pyarrow]"))
    if pos[0] < 0:
        return None
    row = frame.iloc[0]
    result: dict[str, Any] = {c: (None if pd.isna(row[c]) else row[c]) for c in frame.columns}
    for column, kind in [("postcode", str), ("area_code", str), ("country", str),
                         ("easting", int), ("northing", int), ("latitude", float),
                         ("longitude", float), ("live", bool), ("status", str)]:
        if result[column] is not None:
            result[column] = kind(result[column])
    result["placement"] = int(_lookup_table()["placement"][pos[0]])
    return result
