"""Where each GP practice's patients live: the practice × LSOA 2021 registration matrix.

Two sources, the exact one preferred wherever it is present:

* **registered** (exact): NHS Digital's *Patients Registered at a GP Practice* "LSOA" file as
  published (``PRACTICE_CODE``, ``LSOA_CODE``, ``SEX``, ``NUMBER_OF_PATIENTS``…), read by
  :func:`read_registrations_csv` (LSOA 2011 codes converted to 2021 with the weights of
  :mod:`analysis.data.lsoa_conversion`) and kept in the data directory by
  :func:`save_registrations` (``fairshare data add-registrations FILE``);
* **estimated**: a doubly constrained spatial interaction model from the practices' locations
  and list sizes and the LSOAs' Census 2021 populations (:func:`gravity_flows`,
  :func:`estimate_registrations`), labelled "estimated" wherever it is shown
  (:data:`ESTIMATE_CAVEAT`).

References for the model: Wilson AG (1971). A family of spatial interaction models, and
associated developments. *Environment and Planning A* 3(1):1–32 (the doubly constrained
"production–attraction" model T_ij = A_i B_j O_i D_j f(d_ij)); Fotheringham AS, O'Kelly ME
(1989). *Spatial Interaction Models: Formulations and Applications*. Kluwer (calibration and
the balancing factors); Deming WE, Stephan FF (1940). On a least squares adjustment of a
sampled frequency table when the expected marginal totals are known. *Annals of Mathematical
Statistics* 11(4):427–444 (iterative proportional fitting, which computes A_i and B_j).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.spatial import cKDTree

from analysis.access.points import (
    _aligned,
    _arc_to_chord_km,
    _cartesian_km,
    _checked_points,
    _chord_to_arc_km,
    _examples,
)
from analysis.access.services import load_gp_practices
from analysis.data import data_cache, data_dir, load_pack_table
from analysis.util import fsync_folder, members

#: Exponential decay rate β (per km) of f(d) = exp(−β d). Calibrated on published data: the
#: IMD 2019 score of each practice's registered population (OHID Fingertips 93553, computed
#: by OHID from the registrations-by-LSOA file) is best reproduced from the estimated matrix
#: at β = 1.5–2 per km (r = 0.935 against 0.80 for "the LSOA where the practice stands";
#: ``docs/adding-indicators.md``, "Practice-level data"); 1.5 is the gentler end.
DEFAULT_BETA_PER_KM = 1.5
#: Pairs farther apart than this are not formed (f(10 km) = exp(−15) ≈ 3·10⁻⁷ of f(0)).
DEFAULT_CUTOFF_KM = 10.0
#: Every LSOA is linked to at least this many nearest practices, however far (rural LSOAs
#: with no practice within the cut-off), and every practice to its nearest LSOA.
MIN_PRACTICES = 3
#: Share σ of England's lists the model may leave unplaced (:func:`gravity_flows`).
UNPLACED_SHARE = 0.02
IPF_TOLERANCE = 1e-6
IPF_MAX_ITERATIONS = 500

ESTIMATE_CAVEAT = ("Estimated from practice locations and list sizes (distance-decay "
                   "catchment model), not from where patients are registered")
REGISTERED_NOTE = ("Attributed by where each practice's patients live (NHS Digital, Patients "
                   "Registered at a GP Practice by LSOA)")
REGISTRATIONS_FILE = "registrations/registrations.parquet"
METADATA_KEY = b"fairshare_registrations"
MAX_PROBLEMS = 10

REQUIRED_COLUMNS = ("PRACTICE_CODE", "LSOA_CODE", "SEX", "NUMBER_OF_PATIENTS")
SEXES = ("MALE", "FEMALE", "ALL")
PRACTICE_CODE = re.compile(r"^[A-Z]\d{5}$")
ENGLISH_LSOA = re.compile(r"^E01\d{6}$")
WELSH_LSOA = re.compile(r"^W01\d{6}$")
#: LSOA_CODE of patients whose postcode could not be placed ("NO2011", "NO2021", blank)
NO_LSOA = re.compile(r"^(NO\d{4}|NONE|UNKNOWN|)$")


# --------------------------------------------------------------------------------------------
# The doubly constrained model
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlowEstimate:
    """Result of :func:`gravity_flows`.

    ``flows``: one row per (origin, destination) pair with a flow: ``origin``,
    ``destination``, ``distance_km``, ``flow``. ``row_error`` / ``column_error``: the largest
    relative gap between the flows' sums and the constraints; ``iterations`` of the
    balancing; ``origins_widened``: origins with fewer than ``min_destinations`` destinations
    inside the cut-off, linked to their nearest ones instead; ``skipped_destinations``:
    destinations without coordinates or without a positive total (no flow to them).
    """

    flows: pd.DataFrame
    iterations: int
    row_error: float
    column_error: float
    origins_widened: int
    skipped_destinations: tuple[str, ...]
    beta_per_km: float
    cutoff_km: float
    decay: str
    scale: float
    unplaced: float = 0.0

    def summary(self) -> str:
        text = (f"doubly constrained gravity model, f(d) = "
                f"{'exp(−βd), β' if self.decay == 'exponential' else 'd^−β, β'} = "
                f"{self.beta_per_km:g}, cut-off {self.cutoff_km:g} km: {len(self.flows):,} "
                f"pairs, {self.iterations} balancing iterations (largest gap: rows "
                f"{self.row_error:.1e}, columns {self.column_error:.1e}); "
                f"{self.origins_widened:,} areas linked beyond the cut-off to their nearest "
                "practices")
        if self.unplaced:
            text += (f"; {self.unplaced:,.0f} registered patients not placed in an LSOA "
                     "(more listed than live in reach: Welsh border, list inflation)")
        if self.skipped_destinations:
            text += (f"; {len(self.skipped_destinations):,} practices without coordinates or "
                     f"list skipped: {_examples(self.skipped_destinations)}")
        return text


def _pairs(o_xyz: np.ndarray, d_xyz: np.ndarray, cutoff_km: float, k: int
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(origin, destination, distance) pairs: all within the cut-off, plus each origin's ``k``
    nearest destinations and each destination's nearest origin."""
    o_tree, d_tree = cKDTree(o_xyz), cKDTree(d_xyz)
    near = o_tree.sparse_distance_matrix(d_tree, _arc_to_chord_km(cutoff_km),
                                         output_type="ndarray")
    k = min(k, len(d_xyz))
    kd, kj = d_tree.query(o_xyz, k=k)
    kd, kj = kd.reshape(len(o_xyz), k), kj.reshape(len(o_xyz), k)
    rd, ri = o_tree.query(d_xyz, k=1)
    i = np.concatenate([near["i"], np.repeat(np.arange(len(o_xyz)), k), ri])
    j = np.concatenate([near["j"], kj.ravel(), np.arange(len(d_xyz))])
    chord = np.concatenate([near["v"], kd.ravel(), rd])
    _, first = np.unique(i.astype(np.int64) * len(d_xyz) + j, return_index=True)
    in_reach = np.bincount(near["i"], minlength=len(o_xyz))
    return i[first], j[first], _chord_to_arc_km(chord[first]), int((in_reach < k).sum())


def gravity_flows(
    origins: pd.DataFrame,
    origin_totals: pd.Series | ArrayLike,
    destinations: pd.DataFrame,
    destination_totals: pd.Series | ArrayLike,
    *,
    beta_per_km: float = DEFAULT_BETA_PER_KM,
    cutoff_km: float = DEFAULT_CUTOFF_KM,
    decay: str = "exponential",
    min_destinations: int = MIN_PRACTICES,
    tolerance: float = IPF_TOLERANCE,
    max_iterations: int = IPF_MAX_ITERATIONS,
    unplaced_share: float = 0.0,
) -> FlowEstimate:
    """Doubly constrained spatial interaction flows (Wilson 1971), balanced by IPF.

    T_ij = A_i B_j O_i D_j f(d_ij), with O_i the origin totals (an LSOA's population) scaled
    so that Σ O_i = Σ D_j, D_j the destination totals (a practice's list), d_ij the
    great-circle distance and f(d) = exp(−β d) (``decay="exponential"``) or d^−β
    (``"power"``, d floored at 0.1 km). A_i = 1 / Σ_j B_j D_j f(d_ij) and
    B_j = 1 / Σ_i A_i O_i f(d_ij) are found by iterative proportional fitting (Deming &
    Stephan 1940; Fotheringham & O'Kelly 1989 ch. 2) until Σ_i T_ij = D_j within
    ``tolerance`` (relative), Σ_j T_ij = O_i holding after every step. Pairs are formed within
    ``cutoff_km`` plus each origin's ``min_destinations`` nearest destinations (so a remote
    LSOA still has practices) and each destination's nearest origin; memory grows with the
    pairs, not origins × destinations. Points are ``DataFrame(lon, lat)``; totals Series
    aligned on their index or arrays in their order. Destinations without coordinates or a
    positive total get no flow and are listed.

    ``unplaced_share`` σ > 0 adds one extra origin, linked to every destination with the same
    weight, holding σ·Σ D_j (the O_i are then scaled to (1 − σ)·Σ D_j). It takes the part of
    a list that the population in reach cannot hold (a practice on the Welsh border with
    Welsh patients), which would otherwise make the constraints contradictory, and it takes
    it mostly from such practices (those with large B_j). Its flows are left out of
    ``flows`` and their total is ``unplaced``.
    """
    if not beta_per_km > 0 or not cutoff_km > 0:
        raise ValueError(f"beta_per_km and cutoff_km must be positive, got {beta_per_km}, "
                         f"{cutoff_km}")
    if decay not in ("exponential", "power"):
        raise ValueError(f"Unknown decay {decay!r}; use 'exponential' or 'power'")
    o_lon, o_lat, o_ok = _checked_points(origins, "areas")
    d_lon, d_lat, d_ok = _checked_points(destinations, "practices")
    o_total = _aligned(origin_totals, origins.index, "origin_totals")
    d_total = _aligned(destination_totals, destinations.index, "destination_totals")
    if not (np.isfinite(o_total) & (o_total >= 0)).all():
        bad = origins.index[np.flatnonzero(~(np.isfinite(o_total) & (o_total >= 0)))[0]]
        raise ValueError(f"origin totals must be finite and non-negative; bad value for {bad!r}")
    usable = d_ok & np.isfinite(d_total) & (d_total > 0)
    o_rows, d_rows = np.flatnonzero(o_ok), np.flatnonzero(usable)
    if not len(o_rows) or not len(d_rows) or o_total[o_rows].sum() <= 0:
        raise ValueError("no area with a population and coordinates, or no practice with a "
                         "list and coordinates")
    i, j, distance, widened = _pairs(_cartesian_km(o_lon[o_rows], o_lat[o_rows]),
                                     _cartesian_km(d_lon[d_rows], d_lat[d_rows]),
                                     cutoff_km, min_destinations)
    # f relative to each origin's nearest pair: a row factor absorbed by A_i, which keeps
    # the weights of remote LSOAs (nearest practice 40 km away) clear of underflow
    nearest = np.full(len(o_rows), np.inf)
    np.minimum.at(nearest, i, distance)
    if decay == "exponential":
        f = np.exp(-beta_per_km * (distance - nearest[i]))
    else:
        floor = np.maximum(distance, 0.1)
        f = (np.maximum(nearest[i], 0.1) / floor) ** beta_per_km
    target_d = d_total[d_rows]
    if not 0 <= unplaced_share < 1:
        raise ValueError(f"unplaced_share must be in [0, 1), got {unplaced_share}")
    scale = float((1 - unplaced_share) * target_d.sum() / o_total[o_rows].sum())
    target_o = o_total[o_rows] * scale
    n_o, n_d = len(o_rows), len(d_rows)
    if unplaced_share > 0:
        i = np.concatenate([i, np.full(n_d, n_o)])
        j = np.concatenate([j, np.arange(n_d)])
        distance = np.concatenate([distance, np.full(n_d, np.nan)])
        f = np.concatenate([f, np.ones(n_d)])
        target_o = np.append(target_o, unplaced_share * target_d.sum())
        n_o += 1
    from scipy.sparse import csr_matrix

    # F b and Fᵀ a as sparse products: ~4× faster than bincounts over the pairs
    weights = csr_matrix((f, (i, j)), shape=(n_o, n_d))
    transposed = weights.T.tocsr()
    b = np.full(n_d, 1.0 / target_d.mean())
    column_error = np.inf
    iterations = 0
    with np.errstate(divide="ignore", invalid="ignore"):
        for iterations in range(1, max_iterations + 1):  # noqa: B007 - reported
            row = weights @ b
            a = np.where(row > 0, target_o / row, 0.0)
            column = transposed @ a
            column_error = float(np.max(np.abs(column * b - target_d) / target_d))
            if column_error <= tolerance:
                break
            b = np.where(column > 0, target_d / column, b)
    if column_error > tolerance:
        # not balanced within max_iterations (local lists larger than the population in
        # reach, e.g. practices on the Welsh border): end on the columns, so every
        # practice's list is shared out exactly, and report how far the rows are
        b = np.where(column > 0, target_d / column, b)
    flow = a[i] * b[j] * f
    row_sum = np.bincount(i, weights=flow, minlength=n_o)
    column_sum = np.bincount(j, weights=flow, minlength=n_d)
    column_error = float(np.max(np.abs(column_sum - target_d) / target_d))
    positive = target_o > 0
    row_error = float(np.max(np.abs(row_sum[positive] - target_o[positive])
                             / target_o[positive])) if positive.any() else 0.0
    placed = i < len(o_rows)
    unplaced = float(flow[~placed].sum())
    keep = (flow > 0) & placed
    frame = pd.DataFrame({
        "origin": origins.index[o_rows][i[keep]],
        "destination": destinations.index[d_rows][j[keep]],
        "distance_km": distance[keep],
        "flow": flow[keep],
    })
    return FlowEstimate(
        flows=frame, iterations=iterations, row_error=row_error, column_error=column_error,
        origins_widened=widened,
        skipped_destinations=tuple(map(str, destinations.index[~usable])),
        beta_per_km=float(beta_per_km), cutoff_km=float(cutoff_km), decay=decay, scale=scale,
        unplaced=unplaced)


# --------------------------------------------------------------------------------------------
# England: LSOA points, the estimate, the stored exact file
# --------------------------------------------------------------------------------------------


@data_cache(maxsize=1)
def lsoa_points() -> pd.DataFrame:
    """Where people live in each LSOA 2021: ``DataFrame(lon, lat)`` indexed by code.

    The mean British National Grid position of the LSOA's live postcodes (the embedded
    postcode index, OS Code-Point Open): a postcode holds ~15 addresses, so this is close
    to an address-weighted centroid and, unlike a polygon's interior point, sits where
    people live in a large rural LSOA. LSOAs without a positioned live postcode fall back to
    the polygon's representative point (:func:`analysis.access.points.representative_points`).
    """
    import pyproj

    from analysis.data import load_postcode_index

    index = load_postcode_index()
    english = (index["country"] == "E").to_numpy() & index["live"].to_numpy(bool)
    english &= index["easting"].notna().to_numpy() & index["area_code"].notna().to_numpy()
    rows = index.loc[english, ["area_code", "easting", "northing"]]
    mean = rows.groupby(rows["area_code"].astype(str), observed=True)[
        ["easting", "northing"]].mean()
    transformer = pyproj.Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    lon, lat = transformer.transform(mean["easting"].to_numpy(float),
                                     mean["northing"].to_numpy(float))
    points = pd.DataFrame({"lon": lon, "lat": lat}, index=mean.index)
    codes = pd.Index(load_pack_table("england")["lsoa21_code"].astype(str), name="lsoa21_code")
    points = points.reindex(codes)
    missing = points["lon"].isna().to_numpy()
    if missing.any():
        from analysis.access.service_access import small_area_points

        fallback = small_area_points("england").reindex(codes[missing])
        points.loc[missing, ["lon", "lat"]] = fallback[["lon", "lat"]].to_numpy()
    return points


@data_cache(maxsize=4)
def estimate_registrations(beta_per_km: float = DEFAULT_BETA_PER_KM,
                           cutoff_km: float = DEFAULT_CUTOFF_KM,
                           decay: str = "exponential") -> tuple[pd.DataFrame, FlowEstimate]:
    """The **estimated** registration matrix of England: (practice_code, lsoa21_code,
    patients_estimated), sparse, from :func:`gravity_flows` with the LSOAs' Census 2021
    populations as origins (:func:`lsoa_points`) and the July 2023 practices' registered
    lists as destinations (their postcode positions). Each practice's column sums to its
    list; each LSOA's row to its population × (England's registered total ÷ its population),
    because lists exceed the resident population (list inflation, patients in Wales…).
    Cached per data directory and parameters.
    """
    practices = load_gp_practices()
    pack = load_pack_table("england")
    population = pd.Series(pack["population"].to_numpy(float),
                           index=pack["lsoa21_code"].astype(str))
    from analysis.access.points import facility_points

    sites = facility_points(practices, id_column="practice_code")
    estimate = gravity_flows(lsoa_points(), population, sites,
                             practices["registered_patients"].to_numpy(float),
                             beta_per_km=beta_per_km, cutoff_km=cutoff_km, decay=decay,
                             unplaced_share=UNPLACED_SHARE)
    flows = estimate.flows
    table = pd.DataFrame({"practice_code": flows["destination"].astype(str).to_numpy(),
                          "lsoa21_code": flows["origin"].astype(str).to_numpy(),
                          "patients_estimated": flows["flow"].to_numpy(float)})
    return table, estimate


class RegistrationsError(ValueError):
    """A registrations file that cannot be used; ``problems`` lists (row, column, message)."""

    def __init__(self, file: str, problems: list[tuple[int | None, str | None, str]]):
        self.file = file
        self.problems = problems
        shown = [f"{file}" + (f", row {r}" if r else "") + (f", column {c}" if c else "")
                 + f": {m}" for r, c, m in problems[:MAX_PROBLEMS]]
        more = len(problems) - MAX_PROBLEMS
        super().__init__("\n".join(shown) + (f"\n… and {more} more problem(s)" if more > 0
                                             else ""))


@dataclass(frozen=True)
class Registrations:
    """Patients of each practice by LSOA 2021: ``table`` (practice_code, lsoa21_code,
    patients) and ``meta`` (source, publication, extract date, rows, coverage…)."""

    table: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        m = self.meta
        text = (f"{m.get('patients', 0):,.0f} patients of {m.get('practices', 0):,} practices "
                f"in {m.get('lsoas', 0):,} LSOAs 2021 ({m.get('lsoa_coverage', 0):.1%} of "
                f"England's LSOAs; {m.get('practice_coverage', 0):.1%} of the July 2023 "
                f"practices); LSOA {m.get('lsoa_vintage', '')} codes, {m.get('sex_basis', '')}")
        if m.get("publication"):
            text += f"; publication {m['publication']}"
        if m.get("extract_date"):
            text += f", extract {m['extract_date']}"
        dropped = [f"{m[k]:,.0f} {label}" for k, label in (
            ("patients_outside_england", "patients living outside England"),
            ("patients_without_lsoa", "patients with no LSOA")) if m.get(k)]
        if dropped:
            text += "; left out: " + ", ".join(dropped)
        return text


def _first(frame: pd.DataFrame, column: str) -> str:
    if column not in frame.columns:
        return ""
    values = frame[column].astype(str).str.strip()
    values = values[values != ""]
    return str(values.iloc[0]) if len(values) else ""


def read_registrations_csv(path: str | os.PathLike[str]) -> Registrations:
    """Read NHS Digital's *Patients Registered at a GP Practice* LSOA file as published.

    Columns (any order, case-insensitive): ``PRACTICE_CODE``, ``LSOA_CODE``, ``SEX``
    (``MALE``/``FEMALE``/``ALL``) and ``NUMBER_OF_PATIENTS``; ``PUBLICATION`` and
    ``EXTRACT_DATE`` are kept as provenance. ``ALL`` rows are used when present, else
    ``MALE`` + ``FEMALE``. Welsh LSOAs (``W01…``) and patients without an LSOA (``NO2011``,
    ``NO2021``) are counted and left out. LSOA 2011 codes are converted to 2021 with the
    lookup's apportioning weights w (C21 = Σ w·C11, the counts rule of
    :mod:`analysis.data.lsoa_conversion`). Every bad row is reported by row (the file's line
    number), column and code in a :class:`RegistrationsError`.
    """
    path = Path(path)
    name = path.name
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise RegistrationsError(name, [(None, None, f"cannot read the file: {exc}")]) from None
    raw.columns = [str(c).strip().upper() for c in raw.columns]
    missing = [c for c in REQUIRED_COLUMNS if c not in raw.columns]
    if missing:
        raise RegistrationsError(name, [(1, None, f"missing column(s) {', '.join(missing)}; "
                                         f"the file has {', '.join(raw.columns[:12])}. Expected "
                                         "the published layout (PRACTICE_CODE, LSOA_CODE, SEX, "
                                         "NUMBER_OF_PATIENTS)")])
    if raw.empty:
        raise RegistrationsError(name, [(2, None, "the file has a header but no data rows")])
    rows = np.arange(len(raw)) + 2
    practice = raw["PRACTICE_CODE"].str.strip().str.upper()
    lsoa = raw["LSOA_CODE"].str.strip().str.upper()
    sex = raw["SEX"].str.strip().str.upper()
    patients = pd.to_numeric(raw["NUMBER_OF_PATIENTS"].str.strip().str.replace(",", ""),
                             errors="coerce")
    problems: list[tuple[int | None, str | None, str]] = []

    def flag(mask: np.ndarray, column: str, what: str, cells: pd.Series) -> None:
        for k in np.flatnonzero(mask)[:MAX_PROBLEMS]:
            problems.append((int(rows[k]), column, f"{cells.iloc[k]!r} {what}"))
        if mask.sum() > MAX_PROBLEMS:
            problems.append((None, column, f"{int(mask.sum()):,} rows in all {what}"))

    flag(~practice.str.match(PRACTICE_CODE.pattern).to_numpy(), "PRACTICE_CODE",
         "is not a GP practice code (a letter and five digits)", raw["PRACTICE_CODE"])
    english = lsoa.str.match(ENGLISH_LSOA.pattern).to_numpy()
    welsh = lsoa.str.match(WELSH_LSOA.pattern).to_numpy()
    no_lsoa = lsoa.str.match(NO_LSOA.pattern).to_numpy()
    flag(~(english | welsh | no_lsoa), "LSOA_CODE", "is not an LSOA code", raw["LSOA_CODE"])
    flag(~sex.isin(SEXES).to_numpy(), "SEX", "is not MALE, FEMALE or ALL", raw["SEX"])
    bad_count = ~(patients.notna() & (patients >= 0) & (patients == patients.round())).to_numpy()
    flag(bad_count, "NUMBER_OF_PATIENTS", "is not a whole number of patients (0 or more)",
         raw["NUMBER_OF_PATIENTS"])
    key = practice + "|" + lsoa + "|" + sex
    flag(key.duplicated().to_numpy(), "LSOA_CODE", "appears twice for the same practice and "
         "sex", practice + " " + lsoa + " " + sex)
    if problems:
        raise RegistrationsError(name, problems)

    use_all = (sex == "ALL").any()
    chosen = (sex == "ALL").to_numpy() if use_all else np.ones(len(raw), dtype=bool)
    sex_basis = "all patients (SEX = ALL)" if use_all else "MALE + FEMALE rows summed"
    counts = patients.to_numpy(float)
    outside = float(counts[chosen & welsh].sum())
    without = float(counts[chosen & no_lsoa].sum())
    keep = chosen & english
    frame = pd.DataFrame({"practice_code": practice[keep].to_numpy(),
                          "lsoa_code": lsoa[keep].to_numpy(), "patients": counts[keep]})
    frame, vintage = _to_lsoa21(frame, rows[keep], name)
    table = (frame.groupby(["practice_code", "lsoa21_code"], sort=True, observed=True)
             ["patients"].sum().reset_index())
    n_lsoa = len(load_pack_table("england"))
    practice_list = load_gp_practices()["practice_code"].astype(str)
    meta = {
        "source": "NHS Digital, Patients Registered at a GP Practice (LSOA file)",
        "source_file": name, "publication": _first(raw, "PUBLICATION"),
        "extract_date": _first(raw, "EXTRACT_DATE"), "rows_read": int(len(raw)),
        "rows": int(len(table)), "practices": int(table["practice_code"].nunique()),
        "lsoas": int(table["lsoa21_code"].nunique()),
        "patients": float(table["patients"].sum()),
        "lsoa_coverage": table["lsoa21_code"].nunique() / n_lsoa,
        "practice_coverage": float(members(practice_list, table["practice_code"]).mean()),
        "lsoa_vintage": vintage, "sex_basis": sex_basis,
        "patients_outside_england": outside, "patients_without_lsoa": without,
    }
    return Registrations(table, meta)


def _to_lsoa21(frame: pd.DataFrame, rows: np.ndarray, name: str
               ) -> tuple[pd.DataFrame, str]:
    from analysis.data import load_lookup

    codes = frame["lsoa_code"]
    in21 = members(codes, load_pack_table("england")["lsoa21_code"])
    lookup = load_lookup()
    in11 = members(codes, lookup["lsoa11_code"])
    unknown = ~in21 & ~in11
    if unknown.any():
        hits = np.flatnonzero(unknown)
        raise RegistrationsError(name, [(int(rows[k]), "LSOA_CODE",
                                         f"{codes.iloc[k]!r} is not an LSOA 2011 or 2021 code "
                                         "of England") for k in hits[:MAX_PROBLEMS]])
    only11, only21 = in11 & ~in21, in21 & ~in11
    if only11.any() and only21.any():
        k11, k21 = np.flatnonzero(only11)[0], np.flatnonzero(only21)[0]
        raise RegistrationsError(name, [(int(rows[k11]), "LSOA_CODE", (
            f"a mix of LSOA 2011 and 2021 codes: {codes.iloc[k11]!r} exists only in 2011, "
            f"{codes.iloc[k21]!r} (row {int(rows[k21])}) only in 2021; use one vintage"))])
    if not only11.any():
        return frame.rename(columns={"lsoa_code": "lsoa21_code"}), "2021"
    pairs = lookup[["lsoa11_code", "lsoa21_code", "weight"]]
    merged = frame.merge(pairs, left_on="lsoa_code", right_on="lsoa11_code", how="inner")
    merged["patients"] = merged["patients"] * merged["weight"]
    return merged[["practice_code", "lsoa21_code", "patients"]], "2011 (converted to 2021)"


def registrations_path() -> Path:
    """Where the exact registrations file is kept: ``<data dir>/registrations/…parquet``."""
    return data_dir() / REGISTRATIONS_FILE


def save_registrations(registrations: Registrations, path: Path | None = None) -> Path:
    """Write the registrations atomically (temporary file, fsync, ``os.replace``, fsync of the
    folder): a kill leaves the old file or the new one, never half of one. The metadata
    travel inside the Parquet file's key-value metadata, so they cannot drift from it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    target = Path(path) if path is not None else registrations_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    meta = dict(registrations.meta, added_on=date.today().isoformat())
    table = pa.Table.from_pandas(registrations.table, preserve_index=False)
    table = table.replace_schema_metadata(
        {**(table.schema.metadata or {}), METADATA_KEY: json.dumps(meta).encode("utf-8")})
    staging = target.with_name(f".{target.name}.{os.getpid()}.{os.urandom(4).hex()}")
    try:
        with open(staging, "wb") as handle:
            pq.write_table(table, handle, compression="zstd")
            handle.flush()
            os.fsync(handle.fileno())
        _read_stored(str(staging), 0)  # read back before it replaces anything
        os.replace(staging, target)
    finally:
        if staging.exists():
            staging.unlink()
    fsync_folder(target.parent)
    return target


def remove_registrations(path: Path | None = None) -> bool:
    """Delete the stored registrations (the estimate is used again); False if there were none."""
    target = Path(path) if path is not None else registrations_path()
    if not target.is_file():
        return False
    target.unlink()
    fsync_folder(target.parent)
    return True


@lru_cache(maxsize=2)
def _read_stored(path: str, mtime_ns: int) -> Registrations:
    import pyarrow.parquet as pq

    from analysis.data import DataFileError

    try:
        table = pq.read_table(path)
        meta = json.loads((table.schema.metadata or {})[METADATA_KEY])
    except (OSError, KeyError, ValueError) as exc:
        raise DataFileError(f"{path}: the stored registrations are unreadable ({exc}); add "
                            "the file again (fairshare data add-registrations FILE) or "
                            "remove it (--remove)") from None
    return Registrations(table.to_pandas(), meta)


def load_registrations() -> Registrations | None:
    """The stored exact registrations, or ``None`` when none were added (cached until the
    file changes, so a dashboard sees a file added from the command line)."""
    path = registrations_path()
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return None
    return _read_stored(str(path), mtime)


@dataclass(frozen=True)
class PracticeWeights:
    """w_ij, patients of practice j living in LSOA 2021 i (``pairs``: practice_code,
    lsoa21_code, patients), with ``attribution`` "registered" or "estimated" and the
    sentence to show with anything attributed through them (``note``)."""

    pairs: pd.DataFrame
    attribution: str
    note: str
    detail: str


def practice_weights() -> PracticeWeights:
    """The registration matrix to attribute practice values with: the exact file when one
    was added (:func:`load_registrations`), else :func:`estimate_registrations`."""
    stored = load_registrations()
    if stored is not None:
        return PracticeWeights(stored.table, "registered", REGISTERED_NOTE, stored.summary())
    table, estimate = estimate_registrations()
    return PracticeWeights(table.rename(columns={"patients_estimated": "patients"}),
                           "estimated", ESTIMATE_CAVEAT, estimate.summary())
