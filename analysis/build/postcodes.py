"""The embedded postcode index, built once from the ONS postcode lookup and OS Code-Point Open.

Inputs (raw pack, ``gb/postcodes/``):

* ``PCD_OA_LSOA_MSOA_LAD_MAY22_UK_LU.7z``: ONS postcode → output area → LSOA/MSOA **2011**
  → local authority, May 2022, live and terminated, UK (in Scotland the LSOA field holds the
  data zone 2011; Northern Ireland has SOAs; ``L99``/``M99`` are the Channel Islands and the
  Isle of Man);
* ``codepo_gb.zip``: OS Code-Point Open, live GB postcodes with easting/northing (EPSG:27700).

The index holds every postcode of either source (their union), so a record with a terminated
postcode, or a postcode newer than May 2022, is still placed. How ``area_code`` is found is in
the ``placement`` column (codes in :data:`analysis.data.postcodes.PLACEMENTS`):

* England, postcode in the ONS lookup with an LSOA 2011 (and not reinstated, below):
  - **1** its 2011 LSOA has exactly one 2021 successor (ONS change U, M; 3 of the 9 X);
  - **2** a split or irregular 2011 LSOA and the postcode has Code-Point coordinates: the
    successor whose 2021 polygon contains the point (``within``), only successors being
    candidates, so a point that the generalised boundaries put across an outer edge still
    lands in its own 2011 LSOA's successors;
  - **6** the same, but the point lies within no successor's polygon: the nearest successor;
  - **5** no coordinates (terminated): the successor holding most located postcodes of the
    same 2011 output area (ONS built the 2021 LSOAs from whole output areas, so an output
    area's postcodes nearly always share a successor; measured in ``postcodes_split_rules``);
  - **3** no coordinates and no located postcode in its output area: the best-fit successor,
    the one receiving the largest share of the 2011 LSOA's population (``weight``).
* Scotland, postcode in the ONS lookup (not reinstated): **4**, the lookup's data zone 2011.
* Not in the ONS lookup (new since May 2022), without an LSOA there, or *reinstated*
  (terminated in the ONS lookup, live in Code-Point 2025: Royal Mail reuses postcodes, mostly
  elsewhere, so the ONS area of the old use is not trusted), with Code-Point coordinates:
  England **2** (the 2021 LSOA polygon containing the point) or **6** (the nearest LSOA);
  Scotland **7** (the data zone polygon containing the point) or **6** (the nearest).
* Wales, Northern Ireland, the Channel Islands, the Isle of Man: **0**, the postcode is kept
  with its country letter only, so a record there reads "outside England and Scotland" and
  not "unknown postcode". Postcodes with no location at all (terminated before the 2011
  census, or live without Code-Point coordinates) are **0** with a null country.

The LSOA polygons of the pack are generalised (a median of 8 vertices per LSOA), not full
resolution, so a point near a boundary can fall in the neighbour: ``postcodes_polygon_check``
measures how often point-in-polygon agrees with the ONS lookup where the answer is known
(unchanged LSOAs), which is why the ONS 2011 assignment is used wherever it settles the
2021 LSOA and polygons only choose among its successors.

Attribution: Contains OS data © Crown copyright and database right. Contains Royal Mail data ©
Royal Mail copyright and database right. Source: Office for National Statistics licensed
under the Open Government Licence v3.0.
"""

from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.build.raw import BuildLog, RawDataError, _raw
from analysis.data.postcodes import (
    INDEX_COLUMNS,
    POSTCODE_INDEX_FILE,
    normalise_postcodes,
)

ONS_LOOKUP = "gb/postcodes/PCD_OA_LSOA_MSOA_LAD_MAY22_UK_LU.7z"
CODE_POINT = "gb/postcodes/codepo_gb.zip"
# the README's row counts (~2.7 M, ~1.7 M): far outside them the wrong file was supplied
ONS_ROWS = (2_500_000, 2_900_000)
CODE_POINT_ROWS = (1_500_000, 1_900_000)
_ONS_COLUMNS = ["pcds", "doterm", "oa11cd", "lsoa11cd", "ladcd"]
_CODE_POINT_COUNTRY = {"E92000001": "E", "S92000003": "S", "W92000004": "W"}
_NO_COORDINATES = 90  # Code-Point positional quality 90: no coordinates (written as 0, 0)
_BNG = "EPSG:27700"


def _canonical(raw: pd.Series, origin: str, first_line: int) -> pd.Series:
    """Canonical postcodes of a raw column; ``first_line``: the file line of its first row."""
    canonical = normalise_postcodes(raw)
    bad = canonical.isna()
    if bad.any():
        line = first_line + int(np.flatnonzero(bad)[0])
        raise RawDataError(f"{origin}: {int(bad.sum())} rows are not postcodes, first at line "
                           f"{line}: {raw[bad].iloc[0]!r}")
    return _unique(canonical, origin)


def _unique(canonical: pd.Series, origin: str) -> pd.Series:
    dup = canonical[canonical.duplicated()]
    if len(dup):
        raise RawDataError(f"{origin}: duplicate postcodes {', '.join(dup[:10])}")
    return canonical


def _check_rows(n: int, bounds: tuple[int, int], origin: str) -> None:
    if not bounds[0] <= n <= bounds[1]:
        raise RawDataError(f"{origin}: {n:,} rows, expected {bounds[0]:,}–{bounds[1]:,} "
                           "(README of the data pack)")


def read_ons_postcodes(raw_dir: Path) -> pd.DataFrame:
    """The ONS postcode lookup (May 2022): ``postcode``, ``oa11``, ``lsoa11``, ``lad``,
    ``terminated`` (has a termination date), one row per postcode."""
    import py7zr  # build-time only (``pip install fairshare[build]``)
    from py7zr.io import BytesIOFactory

    path = _raw(raw_dir, ONS_LOOKUP)
    with py7zr.SevenZipFile(path) as archive:
        members = [m for m in archive.list() if m.filename.lower().endswith(".csv")]
        if len(members) != 1:
            raise RawDataError(f"{path}: expected one CSV inside, found "
                               f"{[m.filename for m in members]}")
        member = members[0]
        # the factory silently stops writing at its limit, so the size is checked below
        factory = BytesIOFactory(limit=member.uncompressed + 1)
        archive.extract(targets=[member.filename], factory=factory)
    buffer = factory.get(member.filename)
    if buffer.size() != member.uncompressed:
        raise RawDataError(f"{path}: {member.filename} unpacked to {buffer.size():,} of "
                           f"{member.uncompressed:,} bytes")
    buffer.seek(0)
    try:
        ons = pd.read_csv(buffer, usecols=_ONS_COLUMNS, dtype=str, encoding="utf-8-sig")
    except ValueError as exc:
        raise RawDataError(f"{path}: {member.filename} lacks columns ({exc})") from exc
    origin = f"{path.name}/{member.filename}"
    _check_rows(len(ons), ONS_ROWS, origin)
    return pd.DataFrame({
        "postcode": _canonical(ons["pcds"], origin, first_line=2),
        "oa11": ons["oa11cd"], "lsoa11": ons["lsoa11cd"], "lad": ons["ladcd"],
        "terminated": ons["doterm"].notna(),
    })


def _code_point_expected_rows(archive: zipfile.ZipFile) -> int | None:
    try:
        text = archive.read("Doc/metadata.txt").decode("utf-8", errors="replace")
    except KeyError:
        return None
    counts = re.findall(r"^\s*[A-Z]{1,2}\s+(\d+)\s*$", text, flags=re.MULTILINE)
    return sum(int(c) for c in counts) or None


def read_code_point(raw_dir: Path) -> pd.DataFrame:
    """OS Code-Point Open: ``postcode``, ``easting``, ``northing`` (nullable, metres,
    EPSG:27700; null at positional quality 90), ``cp_country`` (E/S/W)."""
    path = _raw(raw_dir, CODE_POINT)
    with zipfile.ZipFile(path) as archive:
        try:
            header = archive.read("Doc/Code-Point_Open_Column_Headers.csv")
        except KeyError as exc:
            raise RawDataError(f"{path}: Doc/Code-Point_Open_Column_Headers.csv missing") \
                from exc
        names = header.decode("utf-8-sig").splitlines()[1].strip().split(",")
        wanted = ["Postcode", "Positional_quality_indicator", "Eastings", "Northings",
                  "Country_code"]
        if missing := [w for w in wanted if w not in names]:
            raise RawDataError(f"{path}: column headers lack {', '.join(missing)}")
        files = sorted(n for n in archive.namelist()
                       if n.startswith("Data/CSV/") and n.endswith(".csv"))
        if not files:
            raise RawDataError(f"{path}: no CSV files under Data/CSV/")
        parts = []
        for name in files:
            with archive.open(name) as handle:
                part = pd.read_csv(handle, header=None, names=names, usecols=wanted,
                                   dtype={"Postcode": str, "Country_code": str})
            part["Postcode"] = _canonical(part["Postcode"], f"{path.name}/{name}", 1)
            parts.append(part)
        expected = _code_point_expected_rows(archive)
    cp = pd.concat(parts, ignore_index=True)
    _check_rows(len(cp), CODE_POINT_ROWS, str(path))
    if expected is not None and expected != len(cp):
        raise RawDataError(f"{path}: {len(cp):,} rows read, Doc/metadata.txt lists "
                           f"{expected:,}")
    country = cp["Country_code"].map(_CODE_POINT_COUNTRY)
    if country.isna().any():
        row = int(np.flatnonzero(country.isna())[0])
        raise RawDataError(f"{path}: unexpected Country_code {cp['Country_code'].iloc[row]!r} "
                           f"(postcode {cp['Postcode'].iloc[row]})")
    blank = (cp["Positional_quality_indicator"] == _NO_COORDINATES) | (
        (cp["Eastings"] == 0) & (cp["Northings"] == 0))
    return pd.DataFrame({
        "postcode": _unique(cp["Postcode"], str(path)),
        "easting": cp["Eastings"].astype("Int32").mask(blank),
        "northing": cp["Northings"].astype("Int32").mask(blank),
        "cp_country": country,
    })


def _points(frame: pd.DataFrame):
    import shapely

    return shapely.points(frame["easting"].to_numpy(dtype="float64"),
                          frame["northing"].to_numpy(dtype="float64"))


def _place_anywhere(frame: pd.DataFrame, polygons, codes: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(code, nearest?, distance m) of the polygon containing each point, else the nearest."""
    import shapely

    points = _points(frame)
    tree = shapely.STRtree(polygons)
    hit_point, hit_polygon = tree.query(points, predicate="within")
    # overlapping polygons (rare slivers of generalisation): the first, packs sort by code
    first = pd.Series(hit_polygon).groupby(hit_point).min()
    chosen = np.full(len(points), -1, dtype=np.int64)
    chosen[first.index.to_numpy()] = first.to_numpy()
    distance = np.zeros(len(points))
    miss = np.flatnonzero(chosen < 0)
    if len(miss):
        near_point, near_polygon = tree.query_nearest(points[miss], all_matches=False)
        chosen[miss[near_point]] = near_polygon
        distance[miss] = shapely.distance(points[miss], polygons[chosen[miss]])
    nearest = np.zeros(len(points), dtype=bool)
    nearest[miss] = True
    return codes[chosen], nearest, distance


def _place_among(frame: pd.DataFrame, successors: pd.DataFrame, polygons,
                 polygon_row: pd.Series) -> pd.DataFrame:
    """Each located postcode of a split LSOA → the successor polygon holding its point, else
    the nearest successor. ``frame``: postcode rows with lsoa11/easting/northing."""
    import shapely

    pairs = frame[["lsoa11"]].reset_index(names="row").merge(
        successors[["lsoa11_code", "lsoa21_code"]], left_on="lsoa11",
        right_on="lsoa11_code", how="inner")
    points = _points(frame)
    where = frame.index.get_indexer(pairs["row"])
    shapes = polygons[polygon_row.loc[pairs["lsoa21_code"]].to_numpy()]
    pairs["inside"] = shapely.within(points[where], shapes)
    pairs["distance"] = shapely.distance(points[where], shapes)
    best = (pairs.sort_values(["row", "inside", "distance", "lsoa21_code"],
                              ascending=[True, False, True, True])
            .drop_duplicates("row").set_index("row"))
    return pd.DataFrame({"area_code": best["lsoa21_code"], "nearest": ~best["inside"],
                         "distance": best["distance"]}).reindex(frame.index)


def _output_area_mode(located: pd.DataFrame, weights: pd.Series
                      ) -> tuple[pd.Series, dict[str, Any]]:
    """Per 2011 output area: the successor holding most of its located postcodes (ties: the
    larger population share, then the code) and, per located postcode, the same choice made
    without it (leave one out), to measure the rule."""
    counts = located.groupby(["oa11", "lsoa11", "area_code"], observed=True).size()
    counts = counts.rename("n").reset_index()
    counts["weight"] = weights.reindex(pd.MultiIndex.from_frame(
        counts[["lsoa11", "area_code"]])).to_numpy()
    order = ["n", "weight", "area_code"]
    mode = (counts.sort_values(order, ascending=[False, False, True])
            .drop_duplicates("oa11").set_index("oa11")["area_code"])
    others = located[["oa11", "area_code"]].reset_index(names="row").merge(
        counts, on="oa11", suffixes=("", "_other"))
    others["n"] -= (others["area_code"] == others["area_code_other"]).astype(int)
    others = others[others["n"] > 0].sort_values(
        ["row", "n", "weight", "area_code_other"], ascending=[True, False, False, True])
    loo = others.drop_duplicates("row").set_index("row")
    agree = loo["area_code"] == loo["area_code_other"]
    return mode, {"located_postcodes": int(len(located)),
                  "with_other_located_postcodes_in_output_area": int(len(loo)),
                  "output_area_rule_agrees_with_point": round(float(agree.mean()), 4)}


def _place_england(rows: pd.DataFrame, lookup: pd.DataFrame, england, log: BuildLog
                   ) -> pd.DataFrame:
    """``area_code``/``placement`` for England postcodes with an ONS LSOA 2011."""
    import shapely

    known = pd.Index(lookup["lsoa11_code"].unique())
    unknown = pd.Index(rows["lsoa11"].unique()).difference(known)
    if len(unknown):
        raise RawDataError(f"{ONS_LOOKUP}: LSOA 2011 codes not in the LSOA 2011 → 2021 "
                           f"lookup: {', '.join(unknown[:10])} ({len(unknown)} in all)")
    successors = lookup.groupby("lsoa11_code")["lsoa21_code"].nunique()
    single = lookup[lookup["lsoa11_code"].isin(successors.index[successors == 1])]
    single = single.drop_duplicates("lsoa11_code").set_index("lsoa11_code")["lsoa21_code"]
    out = pd.DataFrame({"area_code": rows["lsoa11"].map(single), "placement": 1},
                       index=rows.index)
    split = out["area_code"].isna()
    located = split & rows["easting"].notna()
    polygons = england.geometry.to_crs(_BNG).to_numpy()
    polygon_row = pd.Series(np.arange(len(england)), index=england["lsoa21_code"].to_numpy())
    placed = _place_among(rows[located], lookup[lookup["lsoa11_code"].isin(
        rows.loc[split, "lsoa11"].unique())], polygons, polygon_row)
    out.loc[located, "area_code"] = placed["area_code"]
    out.loc[located, "placement"] = np.where(placed["nearest"], 6, 2)

    weights = lookup.set_index(["lsoa11_code", "lsoa21_code"])["weight"]
    voters = rows.loc[located, ["oa11", "lsoa11"]].assign(area_code=placed["area_code"])
    mode, oa_check = _output_area_mode(voters, weights)
    blind = split & ~located
    by_area = rows.loc[blind, "oa11"].map(mode)
    best_fit = (lookup.sort_values(["weight", "lsoa21_code"], ascending=[False, True])
                .drop_duplicates("lsoa11_code").set_index("lsoa11_code")["lsoa21_code"])
    out.loc[blind, "area_code"] = by_area.fillna(rows.loc[blind, "lsoa11"].map(best_fit))
    out.loc[blind, "placement"] = np.where(by_area.notna(), 5, 3)
    fit_agrees = rows.loc[located, "lsoa11"].map(best_fit) == placed["area_code"]
    log.cover("postcodes_split_rules", **oa_check,
              best_fit_agrees_with_point=round(float(fit_agrees.mean()), 4),
              nearest_successor_distance_m_max=round(float(placed.loc[
                  placed["nearest"], "distance"].max() if placed["nearest"].any() else 0), 1))

    # where ONS settles the 2021 LSOA, how often would the generalised polygons agree?
    check = rows[~split & rows["easting"].notna()]
    codes, _, _ = _place_anywhere(check, polygons, england["lsoa21_code"].to_numpy())
    expected = out.loc[check.index, "area_code"].to_numpy()
    differ = np.flatnonzero(codes != expected)
    gap = shapely.distance(_points(check.iloc[differ]),
                           polygons[polygon_row.loc[expected[differ]].to_numpy()])
    log.cover("postcodes_polygon_check", postcodes=int(len(check)),
              point_in_polygon_agrees_with_ons=round(1 - len(differ) / max(len(check), 1), 4),
              # beyond any generalisation error: ONS and OS disagree on where the postcode is
              point_over_1km_outside_ons_area=int((gap > 1000).sum()))
    return out


def _place_by_point(rows: pd.DataFrame, pack, code_column: str, inside: int, log: BuildLog,
                    name: str) -> pd.DataFrame:
    codes, nearest, distance = _place_anywhere(rows, pack.geometry.to_crs(_BNG).to_numpy(),
                                               pack[code_column].to_numpy())
    log.cover(f"postcodes_by_coordinates_{name}", postcodes=int(len(rows)),
              within_polygon=int((~nearest).sum()), nearest_polygon=int(nearest.sum()),
              nearest_distance_m_max=round(float(distance.max()) if len(rows) else 0.0, 1))
    return pd.DataFrame({"area_code": codes, "placement": np.where(nearest, 6, inside)},
                        index=rows.index)


def _packs(raw_dir: Path, england, scotland, lookup):
    from analysis.build.geography import (
        build_england_pack,
        build_lsoa_lookup,
        build_scotland_pack,
    )

    scratch = BuildLog()  # the pipeline logs the packs' own coverage when it builds them
    england = build_england_pack(raw_dir, scratch) if england is None else england
    scotland = build_scotland_pack(raw_dir, scratch) if scotland is None else scotland
    lookup = build_lsoa_lookup(raw_dir, england, scratch) if lookup is None else lookup
    return england, scotland, lookup


def build_postcode_index(raw_dir: Path, log: BuildLog, *, england=None, scotland=None,
                         lookup: pd.DataFrame | None = None) -> pd.DataFrame:
    """The postcode index (columns :data:`analysis.data.postcodes.INDEX_COLUMNS`, sorted by
    postcode) by the placement rules of this module's docstring.

    ``england``, ``scotland`` (geography packs) and ``lookup`` (LSOA 2011 → 2021 with
    weights) are the pipeline's own tables; when absent they are built from ``raw_dir``.
    Row counts and coverage of every rule go to ``log``.
    """
    raw_dir = Path(raw_dir)
    england, scotland, lookup = _packs(raw_dir, england, scotland, lookup)
    ons = read_ons_postcodes(raw_dir)
    cp = read_code_point(raw_dir)
    rows = ons.merge(cp, on="postcode", how="outer", indicator="source")
    in_ons, in_cp = rows["source"] != "right_only", rows["source"] != "left_only"
    has_area = rows["lsoa11"].notna()
    has_xy = rows["easting"].notna()
    terminated = rows["terminated"].fillna(False).astype(bool)  # Code-Point only: live
    # LAD codes begin with the country letter (E06–E09, S12, W06, N09; L99/M99 the islands);
    # Royal Mail's BT area is Northern Ireland alone, which places the BT rows lacking a LAD
    ons_country = rows["lad"].str[0].where(
        rows["lad"].notna(), np.where(rows["postcode"].str.startswith("BT"), "N", None))
    area = pd.Series(None, index=rows.index, dtype=object)
    placement = pd.Series(0, index=rows.index, dtype="int64")
    country = pd.Series(None, index=rows.index, dtype=object)

    # terminated by ONS in 2022 but live in Code-Point 2025: a reused postcode, mostly
    # somewhere else (the ONS area agreed with the point for 39% of them), so the point rules
    reinstated = in_cp & terminated
    use_ons = has_area & ~reinstated
    eng = use_ons & rows["lsoa11"].str.startswith("E01", na=False)
    placed = _place_england(rows[eng], lookup, england, log)
    area[eng], placement[eng], country[eng] = placed["area_code"], placed["placement"], "E"
    sco = use_ons & rows["lsoa11"].str.startswith("S01", na=False)
    area[sco], placement[sco], country[sco] = rows.loc[sco, "lsoa11"], 4, "S"
    outside = ~eng & ~sco & ~reinstated & ons_country.isin(["W", "N", "L", "M"])
    country[outside] = ons_country[outside]

    new = ~eng & ~sco & ~outside & has_xy
    for letter, pack, column, inside, name in [("E", england, "lsoa21_code", 2, "england"),
                                               ("S", scotland, "dz11_code", 7, "scotland")]:
        mask = new & (rows["cp_country"] == letter)
        by_point = _place_by_point(rows[mask], pack, column, inside, log, name)
        area[mask], placement[mask], country[mask] = (by_point["area_code"],
                                                      by_point["placement"], letter)
    wales = new & (rows["cp_country"] == "W")
    country[wales] = "W"

    valid = set(england["lsoa21_code"]) | set(scotland["dz11_code"])
    stray = area.dropna()[~area.dropna().isin(valid)]
    if len(stray):
        raise RawDataError(f"postcode index: area codes outside the geography packs: "
                           f"{', '.join(map(str, stray.unique()[:10]))}")
    outside_letters = country.isin(["W", "N", "L", "M"])
    if (area.notna() & outside_letters).any() or (area.isna() & country.isin(["E", "S"])).any():
        raise RawDataError("postcode index: a country letter disagrees with its area")
    # Code-Point covers GB only: elsewhere the ONS termination date decides
    live = in_cp | (~in_cp & ~terminated & ons_country.isin(["N", "L", "M"]))
    index = pd.DataFrame({
        "postcode": rows["postcode"].astype("str"),
        "area_code": pd.Categorical(area.astype(object).where(area.notna(), None)),
        "country": pd.Categorical(country.where(country.notna(), None),
                                  categories=["E", "S", "W", "N", "L", "M"]),
        "easting": rows["easting"].astype("Int32"),
        "northing": rows["northing"].astype("Int32"),
        "live": live.to_numpy(dtype=bool),
        "placement": placement.astype("int8"),
    }).sort_values("postcode", ignore_index=True)

    log.cover("postcodes_sources",
              ons_rows=int(in_ons.sum()), ons_terminated=int(terminated.sum()),
              ons_without_lsoa=int((in_ons & ~has_area).sum()),
              code_point_rows=int(in_cp.sum()),
              code_point_without_coordinates=int((in_cp & ~has_xy).sum()),
              code_point_missing_from_ons=rows.loc[~in_ons, "cp_country"].value_counts()
              .sort_index().to_dict(),
              ons_live_gb_missing_from_code_point=int(
                  (in_ons & ~in_cp & ~terminated & ons_country.isin(["E", "S", "W"]))
                  .sum()),
              reinstated_placed_by_coordinates=int((reinstated & has_xy).sum()),
              index_rows=int(len(index)))
    for letter in ("E", "S"):
        chosen = index[(index["country"] == letter)]
        log.cover(f"postcodes_placement_{'england' if letter == 'E' else 'scotland'}",
                  live={str(k): int(v) for k, v in chosen.loc[chosen["live"], "placement"]
                        .value_counts().sort_index().items()},
                  terminated={str(k): int(v) for k, v in chosen.loc[~chosen["live"],
                              "placement"].value_counts().sort_index().items()})
    log.cover("postcodes_by_country", **_country_counts(index))
    return index


def _country_counts(frame: pd.DataFrame) -> dict[str, int]:
    counts = frame["country"].value_counts(dropna=False)
    return {("none" if pd.isna(k) else str(k)): int(v) for k, v in counts.items()}


def write_postcode_index(frame: pd.DataFrame, out_dir: Path) -> dict[str, Any]:
    """Write the index to ``<out_dir>/geography/postcodes.parquet`` (zstd; postcodes delta
    encoded, as sorted neighbours share prefixes; coordinates delta encoded, as neighbouring
    postcodes lie close together) atomically, and return its manifest facts."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if list(frame.columns) != INDEX_COLUMNS:
        raise ValueError(f"postcode index columns {list(frame.columns)}, expected "
                         f"{INDEX_COLUMNS}")
    if len(frame) == 0:
        raise ValueError("postcode index is empty")
    postcodes = frame["postcode"]
    if not postcodes.is_monotonic_increasing or postcodes.duplicated().any():
        raise ValueError("postcode index must be sorted by postcode without duplicates")
    path = Path(out_dir) / POSTCODE_INDEX_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        pq.write_table(table, partial, compression="zstd", compression_level=19,
                       use_dictionary=["area_code", "country", "placement"],
                       column_encoding={"postcode": "DELTA_BYTE_ARRAY",
                                        "easting": "DELTA_BINARY_PACKED",
                                        "northing": "DELTA_BINARY_PACKED"},
                       row_group_size=1 << 20)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return {"rows": int(len(frame)), "bytes": path.stat().st_size,
            "live": int(frame["live"].sum()),
            "countries": _country_counts(frame),
            "placements": {str(k): int(v) for k, v in frame["placement"]
                           .value_counts().sort_index().items()}}
