"""Services as data: a service is a list of sites (pharmacies, libraries, family hubs,
hospitals…) with a location, optional capacity, opening hours and type, plus metadata
(``service.yaml``). This module reads one as people download it (an NHS ODS-style
pharmacy list, a council's library list, a CQC location list, CSV, XLSX or Parquet), finds
its columns, places every site in an LSOA 2021 / data zone (:mod:`.service_places`) and
reports every problem by file, row and column.

Columns are recognised case-insensitively by name (:data:`ALIASES`, e.g. ``Postcode``,
``Location Postal Code``, ``Latitude``, ``Easting``, ``Organisation Code``, ``Name``,
``Staffed hours``, day-of-week opening-hours columns, ``Address Line 1..5``); a metadata key
``<role>_column`` (or ``columns={"postcode": "Site PC"}``) names one explicitly, and naming
any location column turns off the guessing of the others.

Blocking errors: no location column, a postcode that does not exist (or is not a postcode)
with no coordinates, coordinates outside Great Britain, only one of a coordinate pair,
non-numeric or negative capacity, duplicate site ids, metadata problems. With
``skip_unplaced`` the sites that cannot be placed are left out instead, listed by row and
postcode in the report and in the package's ``not_placed`` metadata; negative capacity and
duplicate ids always block. Sites placed outside England and Scotland (Wales, Northern
Ireland) are kept as supply, since people cross borders, and listed as warnings.

Where postcodes are used, :data:`analysis.data.POSTCODE_ATTRIBUTION` must be shown; the
report's notes and the package metadata carry it.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from dataclasses import replace as dc_replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.data import POSTCODE_ATTRIBUTION, DataFileError, IndicatorError, resolve_area
from analysis.ingest.readers import _as_text, _parse_numbers, _read_bytes, _sniff_delimiter
from analysis.ingest.report import ValidationReport, _examples, _plain, _show, issue_lines
from analysis.ingest.service_columns import (
    LOCATION_ROLES,
    ROLES,
    _joined,
    _key,
    _pick,
    find_columns,
    is_headerless,
    roles_by_content,
)
from analysis.ingest.service_places import (
    BNG_EASTING,
    BNG_NORTHING,
    GB_LATITUDE,
    GB_LONGITUDE,
    MISMATCH_KM,
    grid_to_wgs84,
    place_sites,
)

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_FILE_BYTES = 1024 * 1024 * 1024
SERVICE_ID = re.compile(r"\A[a-z0-9][a-z0-9_-]{0,47}\Z")
REQUIRED_SERVICE_META = ("id", "title", "description", "service_kind", "source", "licence",
                         "period")
TEXT_COLUMNS = ("site_id", "name", "site_type", "address", "postcode", "opening_hours",
                "parent_code", "parent")
SITE_COLUMNS = (*TEXT_COLUMNS, "capacity", "latitude", "longitude", "area_code", "country",
                "located_by", "area_by", "row")
class ServiceError(IndicatorError):
    """Invalid service metadata or data, or a registry problem; the message names the file,
    key or id at fault."""


class ServiceValidationError(ServiceError):
    """The file did not pass validation; ``report`` says why."""

    def __init__(self, report: ServiceReport) -> None:
        first = report.errors[0].to_text() if report.errors else "invalid"
        super().__init__(f"{report.file}: {len(report.errors)} error(s); first: {first}")
        self.report = report


# --------------------------------------------------------------------------------------
# Metadata


@dataclass(frozen=True)
class ServiceMeta:
    """Metadata of a service (the keys of ``service.yaml``)."""

    id: str
    title: str
    description: str
    service_kind: str
    source: str
    licence: str
    period: str
    capacity_unit: str = ""
    publisher: str = ""
    source_url: str = ""
    area: str = ""
    catchment_km: float | None = None
    notes: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], *, origin: str = "metadata") -> ServiceMeta:
        """Validate a metadata mapping; raise :class:`ServiceError` naming ``origin``."""
        problems = meta_problems(raw)
        if problems:
            raise ServiceError(f"{origin}: " + "; ".join(p for _, p in problems))
        names = {f.name for f in fields(cls)} - {"extra", "catchment_km"}
        values: dict[str, Any] = {k: str(raw[k]).strip() for k in names if raw.get(k) is not None}
        catchment = raw.get("catchment_km")
        extra = {k: v for k, v in raw.items() if k not in names | {"catchment_km"}}
        return cls(**values, catchment_km=None if catchment in (None, "") else float(catchment),
                   extra=extra)

    def to_mapping(self) -> dict[str, Any]:
        """Plain mapping for YAML/JSON (``extra`` flattened back in, empty keys left out)."""
        out = {k: v for k, v in asdict(self).items()
               if k != "extra" and v not in ("", None)}
        out.update(dict(self.extra))
        return out


def meta_problems(raw: Any) -> list[tuple[str, str]]:
    """Every (key, problem) of a service metadata mapping, not just the first."""
    if not isinstance(raw, Mapping):
        return [("metadata", "metadata must be a mapping of keys to values")]
    problems = [(k, f"{k} is missing or empty") for k in REQUIRED_SERVICE_META
                if not str(raw.get(k, "") or "").strip()]
    ident = raw.get("id")
    if ident is not None and str(ident).strip() and not SERVICE_ID.match(str(ident)):
        problems.append(("id", f"id {_show(ident)} must be 1–48 characters of a-z, 0-9, _ or -, "
                               "starting with a letter or digit"))
    catchment = raw.get("catchment_km")
    if catchment not in (None, ""):
        try:
            number = float(catchment)
        except (TypeError, ValueError):
            number = float("nan")
        if isinstance(catchment, bool) or not 0 < number <= 200:
            problems.append(("catchment_km", f"catchment_km is {_show(catchment)}; it must be a "
                                             "number of km above 0 and at most 200"))
    for role in ROLES:
        value = raw.get(f"{role}_column")
        if value is not None and not isinstance(value, str):
            problems.append((f"{role}_column", f"{role}_column must be a column name"))
    return problems


def _resolve_meta(meta: Any, report: ValidationReport) -> tuple[ServiceMeta | None, dict]:
    """(metadata or None, the raw mapping read leniently for the import options)."""
    if meta is None:
        return None, {}
    origin, raw = "metadata", meta
    if isinstance(meta, ServiceMeta):
        raw = meta.to_mapping()
    elif isinstance(meta, str | os.PathLike):
        import yaml

        path = Path(meta)
        origin = str(path)
        try:
            if path.stat().st_size > 1024 * 1024:
                report.error("metadata", "metadata file is larger than 1 MB", file=origin)
                return None, {}
            raw = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            report.error("metadata", f"metadata file unreadable: {_plain(exc)}", file=origin)
            return None, {}
    problems = meta_problems(raw)
    for key, problem in problems:
        report.error("metadata", problem, file=origin, column=key)
    if problems:
        return None, dict(raw) if isinstance(raw, Mapping) else {}
    parsed = ServiceMeta.from_mapping(raw, origin=origin)
    if parsed.area:
        for code in [c.strip() for c in parsed.area.split(",") if c.strip()]:
            try:
                resolve_area(code)
            except ValueError as exc:
                report.error("metadata", f"area: {_plain(exc, 300)}", file=origin,
                             column="area")
    return parsed, dict(raw)


# --------------------------------------------------------------------------------------
# The dataset and its report


@dataclass(frozen=True)
class ServiceDataset:
    """A service: its metadata and its site table (columns :data:`SITE_COLUMNS`)."""

    meta: ServiceMeta
    sites: pd.DataFrame

    @property
    def has_capacity(self) -> bool:
        """Whether any site has a capacity (else every site counts as 1)."""
        return bool(self.sites["capacity"].notna().any())

    @property
    def placed(self) -> int:
        """Sites with a point and an LSOA 2021 / data zone."""
        return int(self.sites["area_code"].notna().sum())

    @property
    def not_placed(self) -> list[dict[str, Any]]:
        """Sites left out because they could not be placed (row, postcode, reason)."""
        return list(self.meta.extra.get("not_placed", []))

    def access(self, area: str | None = None, **options: Any):
        """Access to this service for a study area: :func:`analysis.access.access_to_service`
        with the metadata's coverage and catchment (``options`` override them)."""
        from analysis.access.service_access import access_to_service

        return access_to_service(self.sites, service=self.meta.to_mapping(), area=area,
                                 **options)


@dataclass
class ServiceReport(ValidationReport):
    """A :class:`ValidationReport` with what the placing found: sites placed, outside
    England and Scotland, and not placed (every one, by row and postcode)."""

    geocoded: int = 0
    outside: int = 0
    not_placed: list[dict[str, Any]] = field(default_factory=list)
    placement: dict[str, int] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)

    @property
    def placed_share(self) -> float | None:
        """Share of the rows placed in an LSOA 2021 / data zone."""
        return self.geocoded / self.rows if self.rows else None

    def to_dict(self) -> dict[str, Any]:
        """JSON form: the validation report plus ``rows``, ``geocoded``, ``not_placed``."""
        out = super().to_dict()
        out.update({"geocoded": self.geocoded, "outside": self.outside,
                    "placed_share": None if self.placed_share is None
                    else round(self.placed_share, 6),
                    "not_placed": list(self.not_placed), "placement": dict(self.placement),
                    "columns": dict(self.columns)})
        return out

    def to_text(self, limit: int = 50) -> str:
        """Plain text: columns used, sites placed and how, every site not placed (up to
        ``limit`` lines; ``--json`` lists them all), errors, warnings, the verdict."""
        lines = [f"Checked {self.file}" + (f" ({self.format})" if self.format else "")]
        lines += [f"  {note}" for note in self.notes]
        if self.columns:
            lines.append("  Columns: " + ", ".join(f"{role} = {_show(col)}"
                                                   for role, col in self.columns.items()))
        if self.rows:
            share = self.placed_share or 0.0
            lines.append(f"  Sites: {self.rows:,}; placed in an LSOA 2021 / data zone "
                         f"{self.geocoded:,} ({share:.1%}); outside England and Scotland "
                         f"{self.outside:,}; not placed {len(self.not_placed):,}")
            for how, count in self.placement.items():
                lines.append(f"    {how}: {count:,}")
        for item in self.not_placed[:limit]:
            lines.append(f"  not placed: row {item['row']}, postcode "
                         f"{_show(item.get('postcode') or '')}: {item['reason']}")
        if len(self.not_placed) > limit:
            lines.append(f"  … and {len(self.not_placed) - limit:,} more (--json lists all)")
        lines += issue_lines(self.errors, self.warnings)
        return "\n".join(lines)


# --------------------------------------------------------------------------------------
# The pipeline


def _flag(report: ValidationReport, mask: np.ndarray, rows: np.ndarray, labels: pd.Series,
          column: str | None, rule: str, text: str, *, error: bool = True) -> None:
    hits = np.flatnonzero(mask)
    if not len(hits):
        return
    message = f"{len(hits):,} {text}: {_examples(rows[hits].tolist(), labels.iloc[hits].tolist())}"
    (report.error if error else report.warning)(rule, message, row=int(rows[hits[0]]),
                                                column=column)


def _coordinates(frame: pd.DataFrame, cols: dict[str, str], rows: np.ndarray,
                 report: ValidationReport, decimal_comma: bool
                 ) -> tuple[np.ndarray, np.ndarray, str, np.ndarray]:
    """(lon, lat, what the file's coordinates are, mask of rows with bad coordinates)."""
    n = len(frame)
    lon, lat = np.full(n, np.nan), np.full(n, np.nan)
    bad_rows = np.zeros(n, dtype=bool)
    pairs = [("latitude", "longitude", "coordinates"), ("easting", "northing", "grid reference")]
    kind = "coordinates"
    for first, second, label in pairs:
        if first not in cols:
            continue
        kind = label
        a, a_missing, a_bad = _parse_numbers(frame[cols[first]], decimal_comma=decimal_comma)
        b, b_missing, b_bad = _parse_numbers(frame[cols[second]], decimal_comma=decimal_comma)
        for role, bad in ((first, a_bad), (second, b_bad)):
            cells = _as_text(frame[cols[role]]).map(_show)
            _flag(report, bad, rows, cells, cols[role], "non_numeric",
                  f"{role} value(s) that are not numbers")
            bad_rows |= bad
        half = (a_missing != b_missing) & ~a_bad & ~b_bad
        _flag(report, half, rows, pd.Series([f"{x:g} / {y:g}" for x, y in zip(a, b,
                                                                                strict=True)]),
              cols[first], "coordinates", f"row(s) with only one of {first} and {second}")
        bad_rows |= half
        given = np.isfinite(a) & np.isfinite(b)
        if label == "coordinates":
            x, y = b, a  # longitude, latitude
            inside = (given & (y >= GB_LATITUDE[0]) & (y <= GB_LATITUDE[1])
                      & (x >= GB_LONGITUDE[0]) & (x <= GB_LONGITUDE[1]))
            swapped = (given & ~inside & (x >= GB_LATITUDE[0]) & (x <= GB_LATITUDE[1])
                       & (y >= GB_LONGITUDE[0]) & (y <= GB_LONGITUDE[1]))
        else:
            x, y = grid_to_wgs84(np.where(given, a, np.nan), np.where(given, b, np.nan))
            inside = (given & (a >= BNG_EASTING[0]) & (a <= BNG_EASTING[1])
                      & (b >= BNG_NORTHING[0]) & (b <= BNG_NORTHING[1]))
            swapped = (given & ~inside & (b >= BNG_EASTING[0]) & (b <= BNG_EASTING[1])
                       & (a >= BNG_NORTHING[0]) & (a <= BNG_NORTHING[1]))
        shown = pd.Series([f"{p:g}, {q:g}" for p, q in zip(a, b, strict=True)])
        _flag(report, swapped, rows, shown, cols[first], "outside_gb",
              f"site(s) whose {first} and {second} look swapped (the values fit Great Britain "
              "the other way round); swap the columns or name them in the metadata")
        extent = ("latitude 49.8–60.9, longitude −8.7–1.8" if label == "coordinates" else
                  "easting 0–700,000 m, northing 0–1,300,000 m")
        _flag(report, given & ~inside & ~swapped, rows, shown, cols[first], "outside_gb",
              f"site(s) with {first}/{second} outside Great Britain ({extent})")
        bad_rows |= given & ~inside
        keep = given & inside
        lon = np.where(keep & ~np.isfinite(lon), x, lon)
        lat = np.where(keep & ~np.isfinite(lat), y, lat)
    return lon, lat, kind, bad_rows


REASONS = {"unknown": "postcode not in the postcode index (ONS May 2022 lookup and OS "
                      "Code-Point Open): check it",
           "invalid": "not a postcode",
           "missing": "no postcode and no coordinates",
           "outside": "postcode outside Great Britain's coordinates (Northern Ireland or the "
                      "islands)",
           "live": "the postcode has no position", "terminated": "the postcode has no position"}


Progress = Callable[[float, str], None]


def _with_header(data: bytes) -> tuple[bytes, bool]:
    """(the file with a header line "column 1,column 2,…" put in front, True) when a CSV's
    first line is a site rather than a header (one of its cells is a postcode, as in an ODS
    download such as ``edispensary.csv``); else (the file as it is, False)."""
    if data.startswith((b"PK\x03\x04", b"PAR1", b"\xd0\xcf\x11\xe0", b"\xff\xfe",
                        b"\xfe\xff")) or b"\x00" in data[:4096]:
        return data, False
    bom = b"\xef\xbb\xbf" if data.startswith(b"\xef\xbb\xbf") else b""
    head = data[len(bom):len(bom) + 65536]
    text = head.decode("utf-8", errors="replace")
    line = next((ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")), "")
    sep = _sniff_delimiter(line)
    cells = next(csv.reader([line], delimiter=sep), [])
    if not cells or not is_headerless(cells):
        return data, False
    # CSV text in any of the encodings the reader accepts here is ASCII-compatible
    header = sep.join(f'"column {i + 1}"' for i in range(len(cells))).encode("ascii")
    return bom + header + b"\n" + data[len(bom):], True


def _process(data: bytes, name: str, meta_source: Any, *, columns: Mapping[str, str] | None,
             skip_unplaced: bool, need_meta: bool, progress: Progress | None
             ) -> tuple[ServiceDataset | None, ServiceReport]:
    report = ServiceReport(file=name)
    try:
        return _checked(data, name, meta_source, report, columns=dict(columns or {}),
                        skip_unplaced=skip_unplaced, need_meta=need_meta,
                        progress=progress or (lambda fraction, stage: None))
    except DataFileError as exc:  # Fairshare's own data (postcode index, packs) missing
        report.error("data_files", f"Fairshare's reference data could not be read: "
                     f"{_plain(exc, 500)}")
    except Exception as exc:  # noqa: BLE001 - a check must report, never crash a page
        report.error("internal", f"the file could not be checked ({type(exc).__name__}: "
                     f"{_plain(exc)}); please report this")
    return None, report


def _checked(data: bytes, name: str, meta_source: Any, report: ServiceReport, *,
             columns: dict[str, str], skip_unplaced: bool, need_meta: bool,
             progress: Progress) -> tuple[ServiceDataset | None, ServiceReport]:
    progress(0.02, "Reading the file")
    meta, raw = _resolve_meta(meta_source, report)
    if meta_source is None and need_meta:
        report.error("metadata", "metadata missing: give the service.yaml keys ("
                     f"{', '.join(REQUIRED_SERVICE_META)})")
    elif meta_source is None:
        report.notes.append("No metadata given: the sites were checked on their own")
    named = bool(columns) or any(isinstance(raw.get(f"{role}_column"), str) for role in ROLES)
    data, headerless = (data, False) if named else _with_header(data)
    table = _read_bytes(data, name, report)
    if table is None:
        return None, report
    report.format = table.format
    if table.frame.empty:
        report.error("empty", "the file has a header row but no data rows", row=1)
        return None, report
    frame, rows = table.frame.reset_index(drop=True), table.rows - (1 if headerless else 0)
    explicit = {role: str(raw[f"{role}_column"]) for role in ROLES
                if isinstance(raw.get(f"{role}_column"), str) and raw[f"{role}_column"].strip()}
    unknown = [r for r in columns if r not in ROLES]
    if unknown:
        report.error("missing_columns", f"unknown column role(s) {', '.join(map(_show, unknown))};"
                     f" the roles are {', '.join(ROLES)}")
        return None, report
    explicit.update(columns)
    guessed: dict[str, str] = {}
    if not explicit and not any(_pick(list(frame.columns), role, set()) for role in
                                LOCATION_ROLES):
        guessed = roles_by_content(frame, headerless=headerless)
        if guessed:
            named = ", ".join(f"{role} = {_show(col)}" for role, col in guessed.items())
            why = ("the file has no header row (its first row is a site)" if headerless
                   else "no column name says where the sites are")
            report.warning("columns", f"{why}, so columns were recognised by their contents: "
                           f"{named}; name them in the metadata (<role>_column) if this is "
                           "wrong", row=1)
    found = find_columns(list(frame.columns), {**guessed, **explicit}, report)
    if found is None:
        return None, report
    cols, address_parts, day_columns = found
    n = report.rows = len(frame)
    progress(0.2, f"Checking {n:,} sites")
    # site ids
    ids = (_as_text(frame[cols["site_id"]]) if "site_id" in cols
           else pd.Series("", index=frame.index))
    blank = (ids == "").to_numpy()
    if "site_id" in cols and blank.any():
        _flag(report, blank, rows, pd.Series(["no id"] * n), cols["site_id"], "missing_id",
              "site(s) without an id were given one from their row number ('row-N')",
              error=False)
    ids = ids.where(~blank, pd.Series([f"row-{r}" for r in rows]))
    dup = ids.duplicated(keep=False).to_numpy()
    _flag(report, dup, rows, ids.map(_show), cols.get("site_id"), "duplicate_ids",
          f"row(s) share a site id with another row ({ids[dup].nunique():,} id(s) repeated); "
          "site ids must be unique")
    # capacity
    capacity = np.full(n, np.nan)
    if "capacity" in cols:
        values, missing, bad = _parse_numbers(frame[cols["capacity"]],
                                              decimal_comma=table.decimal_comma)
        if "capacity" not in explicit and bad.mean() > 0.5:
            report.notes.append(f"Column {_show(cols['capacity'])} is mostly text, so it was "
                                "read as opening hours, not as a capacity")
            cols["opening_hours"] = cols.pop("capacity")
        else:
            cells = _as_text(frame[cols["capacity"]]).map(_show)
            _flag(report, bad, rows, cells, cols["capacity"], "non_numeric",
                  "capacity value(s) that are not numbers (a blank cell means not known)")
            _flag(report, values < 0, rows, cells, cols["capacity"], "impossible_value",
                  "negative capacity value(s)")
            _flag(report, missing & ~missing.all(), rows, ids.map(_show), cols["capacity"],
                  "missing_values", "site(s) without a capacity add nothing to the "
                  "within-reach (E2SFCA) supply", error=False)
            capacity = values
    # location
    progress(0.4, "Placing the sites")
    lon, lat, kind, bad_xy = _coordinates(frame, cols, rows, report, table.decimal_comma)
    postcodes = _as_text(frame[cols["postcode"]]) if "postcode" in cols else None
    place = place_sites(postcodes, np.where(bad_xy, np.nan, lon), np.where(bad_xy, np.nan, lat),
                        kind)
    progress(0.8, "Reporting what was placed")
    status = place.postcode_status.to_numpy()
    shown_pc = (postcodes if postcodes is not None else pd.Series("", index=frame.index))
    has_file_xy = np.isfinite(lon) & ~bad_xy
    if postcodes is not None:
        _flag(report, has_file_xy & np.isin(status, ["unknown", "invalid"]), rows,
              shown_pc.map(_show), cols["postcode"], "postcode", "site(s) placed by their "
              "coordinates whose postcode is not in the postcode index", error=False)
    far = place.mismatch_km > MISMATCH_KM
    _flag(report, far, rows, pd.Series([f"{d:,.1f} km" for d in place.mismatch_km]),
          cols.get("latitude") or cols.get("easting"), "coordinates", f"site(s) whose "
          f"coordinates are more than {MISMATCH_KM:g} km from their postcode (the area comes "
          "from the postcode, the point from the coordinates): check one of them", error=False)
    unplaced = place.unplaced
    reasons = np.where(bad_xy, "coordinates not usable (see the errors above)",
                       pd.Series(status).map(REASONS).fillna("no location").to_numpy())
    not_placed = [{"row": int(rows[i]), "postcode": str(shown_pc.iloc[i]),
                   "site_id": str(ids.iloc[i]), "reason": str(reasons[i])}
                  for i in np.flatnonzero(unplaced)]
    report.not_placed = not_placed
    labels = pd.Series([f"{_show(p['postcode'])} ({p['reason']})" for p in not_placed])
    column = cols.get("postcode") or cols.get("latitude") or cols.get("easting")
    where = np.flatnonzero(unplaced)
    # sites left without a location; those with bad coordinates are reported above already
    lacking = ~bad_xy[where]
    text = ("site(s) could not be placed and are left out (skip_unplaced); they are listed in "
            "the package" if skip_unplaced else
            "site(s) could not be placed: fix their postcode or give coordinates (or add with "
            "--skip-unplaced to leave them out, listed)")
    _flag(report, lacking, rows[where], labels, column, "not_placed", text,
          error=not skip_unplaced)
    outside = place.outside
    country_names = {"W": "Wales", "N": "Northern Ireland", "L": "Channel Islands",
                     "M": "Isle of Man"}
    country_of = pd.Series(place.country).map(country_names).fillna(
        "outside England and Scotland")
    _flag(report, outside, rows, ids.map(_show) + " (" + country_of + ")", column, "outside",
          "site(s) stand outside England and Scotland: kept as sites people may travel to, "
          "but in no LSOA or data zone", error=False)
    report.geocoded = int(place.placed.sum())
    report.outside = int(outside.sum())
    report.columns = {role: cols[role] for role in ROLES if role in cols}
    if address_parts:
        report.columns["address"] = " + ".join(address_parts)
    if day_columns:
        report.columns["opening_hours"] = " + ".join(day_columns)
    counts = pd.Series([f"point from {a}, area by {b}" if b else f"point from {a}, no area"
                        for a, b in zip(place.located_by, place.area_by, strict=True)
                        if a is not None]).value_counts()
    report.placement = {str(k): int(v) for k, v in counts.items()}
    if postcodes is not None:
        report.notes.append("Postcodes placed with the embedded postcode index. "
                            + POSTCODE_ATTRIBUTION)
    if "close_date" in cols:
        closed = (_as_text(frame[cols["close_date"]]) != "").to_numpy()
        _flag(report, closed, rows, ids.map(_show), cols["close_date"], "closed",
              "site(s) have a close date: kept, but check they still provide the service",
              error=False)
    if not report.ok or meta is None:
        return None, report
    keep = ~unplaced & ~bad_xy
    sites = _site_table(frame, cols, address_parts, day_columns, ids, capacity, place, rows)
    sites = sites.loc[keep].reset_index(drop=True)
    extra = {k: v for k, v in dict(meta.extra).items()
             if not (k.endswith("_column") and k[:-7] in ROLES)}
    extra.update({"source_file": Path(name).name, "source_format": report.format,
                  "columns": dict(report.columns), "rows": n, "placed": report.geocoded,
                  "outside": report.outside, "not_placed": not_placed,
                  "placement": dict(report.placement)})
    if postcodes is not None:
        extra["attribution"] = POSTCODE_ATTRIBUTION
    unit = meta.capacity_unit
    if "capacity" in cols and not unit:
        unit = _plain(cols["capacity"], 60).lower()
        report.warning("metadata", f"capacity_unit is not given: the capacity column's name "
                       f"{_show(cols['capacity'])} is used as its unit", column="capacity_unit")
    final = dc_replace(meta, capacity_unit=unit if "capacity" in cols else "", extra=extra)
    progress(1.0, "Checked")
    return ServiceDataset(final, sites), report


def _site_table(frame: pd.DataFrame, cols: dict[str, str], address_parts: list[str],
                day_columns: list[str], ids: pd.Series, capacity: np.ndarray, place,
                rows: np.ndarray) -> pd.DataFrame:
    def text(role: str) -> pd.Series:
        if role == "address" and "address" not in cols:
            values = _joined(frame, address_parts).str.replace("; ", ", ", regex=False)
        elif role == "opening_hours" and "opening_hours" not in cols:
            labels = [_key(c)[:3].capitalize() for c in day_columns]
            values = _joined(frame, day_columns, labels)
        elif role in cols:
            values = _as_text(frame[cols[role]])
        else:
            return pd.Series([None] * len(frame), dtype=object)
        return values.where(values != "", None).astype(object)

    out = pd.DataFrame({role: text(role) for role in TEXT_COLUMNS})
    out["site_id"] = ids.to_numpy(dtype=object)
    out["name"] = out["name"].where(out["name"].notna(), out["site_id"])
    if "postcode" in cols:
        canonical = place.postcode.reset_index(drop=True)
        out["postcode"] = canonical.where(canonical.notna(), out["postcode"]).astype(object)
    out["capacity"] = capacity
    out["latitude"] = place.lat
    out["longitude"] = place.lon
    out["area_code"] = place.area_code
    out["country"] = place.country
    out["located_by"] = place.located_by
    out["area_by"] = place.area_by
    out["row"] = rows.astype("int64")
    return normalise_sites(out)


def normalise_sites(sites: pd.DataFrame) -> pd.DataFrame:
    """The site table with the stored dtypes (text as pandas strings with missing values,
    numbers as float64, ``row`` as int64), columns in :data:`SITE_COLUMNS` order, so a table
    read back from Parquet equals the one written."""
    out = pd.DataFrame(index=sites.index)
    for column in SITE_COLUMNS:
        values = sites[column]
        if column in ("capacity", "latitude", "longitude"):
            out[column] = pd.to_numeric(values, errors="coerce").astype("float64")
        elif column == "row":
            out[column] = values.astype("int64")
        else:
            text = values.astype(object).where(values.notna(), None)
            out[column] = pd.Series(text, index=sites.index, dtype="str")
    return out


# --------------------------------------------------------------------------------------
# Entry points


def read_service_bytes(data: bytes, name: str, meta: Any = None, *,
                       columns: Mapping[str, str] | None = None, skip_unplaced: bool = False,
                       need_meta: bool = False, progress: Progress | None = None
                       ) -> tuple[ServiceDataset | None, ServiceReport]:
    """Check a service file's bytes (``name`` chooses the reader and names the file) with
    its metadata (mapping, :class:`ServiceMeta`, YAML path or ``None`` to check the sites
    alone). Returns the dataset (``None`` when there are errors or no metadata) and the
    report. ``columns`` maps roles (:data:`ROLES`) to column names."""
    return _process(bytes(data), name, meta, columns=columns, skip_unplaced=skip_unplaced,
                    need_meta=need_meta, progress=progress)


def load_service_file(path: str | os.PathLike[str], meta: Any = None, *,
                      columns: Mapping[str, str] | None = None, skip_unplaced: bool = False,
                      max_bytes: int = MAX_FILE_BYTES
                      ) -> tuple[ServiceDataset | None, ServiceReport]:
    """Read and check a service file on disk (or a package folder: its ``sites.parquet``
    and, unless ``meta`` is given, its ``service.yaml``)."""
    target = Path(path)
    if target.is_dir():
        if meta is None and (target / "service.yaml").is_file():
            meta = target / "service.yaml"
        target = target / "sites.parquet"
    report = ServiceReport(file=str(target))
    try:
        size = target.stat().st_size
        if size > max_bytes:
            report.error("too_large", f"the file is {size:,} bytes; the limit is "
                         f"{max_bytes:,} bytes")
            return None, report
        data = target.read_bytes()
    except OSError as exc:
        report.error("unreadable", f"cannot read the file: {_plain(exc.strerror or exc)}")
        return None, report
    return read_service_bytes(data, str(target), meta, columns=columns,
                              skip_unplaced=skip_unplaced)


def read_service_upload(data: bytes, filename: str, meta: Mapping[str, Any] | None, *,
                        columns: Mapping[str, str] | None = None, skip_unplaced: bool = False,
                        max_bytes: int = MAX_UPLOAD_BYTES, progress: Progress | None = None
                        ) -> tuple[ServiceDataset | None, ServiceReport]:
    """Check an uploaded site list in memory (never written to disk) for a session service;
    metadata is required. Every message is plain text."""
    safe = _plain(Path(str(filename or "upload")).name, 120) or "upload"
    report = ServiceReport(file=safe)
    if not isinstance(data, bytes | bytearray | memoryview):
        report.error("unreadable", "no file content received")
        return None, report
    if len(data) > max_bytes:
        report.error("too_large", f"the file is {len(data):,} bytes; the limit is "
                     f"{max_bytes:,} bytes")
        return None, report
    return _process(bytes(data), safe, meta, columns=columns, skip_unplaced=skip_unplaced,
                    need_meta=True, progress=progress)
