"""Geography of an added indicator: detected from the codes (GSS prefixes; membership of the
packs; LSOA 2011 vs 2021, which share the prefix ``E01``, by membership of the 2021 pack and
the 2011 lookup; GP practice codes by membership of the practice list), mixtures and unknown
codes reported, LSOA 2011 data converted to LSOA 2021 (:mod:`analysis.data.lsoa_conversion`:
counts apportioned, rates population-weighted), practice values attributed to LSOAs 2021 by
where each practice's patients live (:mod:`analysis.access.registrations`: the registered
file when one was added, else the distance-decay estimate, labelled) or to the larger areas
where the practices stand, and the coverage of the result.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.ingest.metadata import PRACTICE_TARGETS, _Options
from analysis.ingest.readers import _normalise_codes
from analysis.ingest.report import (
    EXAMPLES,
    GEOGRAPHY_LABELS,
    ValidationReport,
    _examples,
    _pct,
    _show,
)
from analysis.util import members

COVERAGE_WARNING = 0.95
#: An LSOA gets an attributed practice value only when at least this share of its patients
#: are at practices with a value
MIN_PATIENT_SHARE = 0.5

# Code families recognised from the code alone (GSS prefix or practice-code pattern)
SUPPORTED_FAMILIES = ("lsoa", "dz11", "practice", "ward", "ltla", "sicbl", "icb")
FAMILY_LABELS = {
    "lsoa": "LSOA", "dz11": "data zone", "practice": "GP practice", "ward": "ward",
    "ltla": "local authority", "sicbl": "sub-ICB location", "icb": "ICB",
}
PREFIX_FAMILY = {
    "E01": "lsoa", "E05": "ward", "E06": "ltla", "E07": "ltla", "E08": "ltla", "E09": "ltla",
    "E38": "sicbl", "E54": "icb", "S01": "dz11",
}
UNSUPPORTED_PREFIXES = {
    "E02": "MSOA", "E04": "parish", "E10": "county", "E11": "metropolitan county",
    "E12": "region", "E13": "inner/outer London", "E39": "NHS region (2019)",
    "E40": "NHS England region", "E45": "PHE centre", "E47": "combined authority",
    "E92": "country", "K02": "United Kingdom", "K03": "Great Britain",
    "K04": "England and Wales", "N92": "country", "S02": "intermediate zone",
    "S12": "council area", "S92": "country", "W01": "Welsh LSOA", "W02": "Welsh MSOA",
    "W05": "Welsh ward", "W06": "Welsh local authority", "W92": "country",
}
GEOGRAPHY_FAMILY = {
    "lsoa11": "lsoa", "lsoa21": "lsoa", "dz11": "dz11", "ward": "ward", "ltla": "ltla",
    "sicbl": "sicbl", "icb": "icb", "practice": "practice",
}
GSS_CODE = re.compile(r"^[EKLMNSW]\d{8}$")
PRACTICE_CODE = re.compile(r"^[A-Z]\d{5}$")


def code_family(code: str) -> str:
    """``lsoa``, ``ward`` … for a supported code, ``other:<what>`` or ``unrecognised``."""
    if GSS_CODE.match(code):
        prefix = code[:3]
        if prefix in PREFIX_FAMILY:
            return PREFIX_FAMILY[prefix]
        return "other:" + UNSUPPORTED_PREFIXES.get(prefix, f"{prefix} code")
    if PRACTICE_CODE.match(code):
        return "practice"
    return "unrecognised"


def _families(codes: pd.Series) -> pd.Series:
    prefix = codes.str[:3]
    family = prefix.map(PREFIX_FAMILY)
    gss = codes.str.match(GSS_CODE.pattern)
    other = prefix.map(lambda p: "other:" + UNSUPPORTED_PREFIXES.get(p, f"{p} code"))
    family = family.where(family.notna() | ~gss, other)
    practice = codes.str.match(PRACTICE_CODE.pattern) & ~gss
    family = family.where(~practice, "practice")
    return family.fillna("unrecognised").astype(str)


def _family_label(family: str) -> str:
    if family.startswith("other:"):
        return family[6:]
    return FAMILY_LABELS.get(family, "unrecognised")


def geography_universe(geography: str) -> pd.Index:
    """All codes Fairshare knows for a geography (the packs, the lookup, the practice list)."""
    from analysis.data import load_pack_table

    if geography == "lsoa11":
        from analysis.data import load_lookup

        codes = load_lookup()["lsoa11_code"]
    elif geography == "practice":
        from analysis.access import load_gp_practices

        codes = load_gp_practices()["practice_code"]
    elif geography == "dz11":
        codes = load_pack_table("scotland")["dz11_code"]
    elif geography in ("lsoa21", "ward", "ltla", "sicbl", "icb"):
        codes = load_pack_table("england")[f"{geography}_code"]
    else:
        raise ValueError(f"Unknown geography {geography!r}")
    return pd.Index(pd.unique(codes.dropna().astype(str)))


def detect_geography(codes: Sequence[str] | pd.Series) -> str | None:
    """The geography of a set of area codes, or ``None`` when they do not show one.

    GSS prefixes decide the family (``E01`` LSOA, ``E05`` ward, ``E06``–``E09`` local
    authority, ``E38`` sub-ICB location, ``E54`` ICB, ``S01`` data zone; a letter and five
    digits a GP practice). LSOA 2011 and 2021 codes share ``E01``: codes that exist only in
    the 2011 lookup mean 2011, only in the 2021 pack mean 2021, codes in both (unchanged
    LSOAs) are taken as 2021. A mix of both vintages returns ``None``.
    """
    report = ValidationReport("codes")
    series = _normalise_codes(pd.Series(list(codes), dtype=object), fingertips=False)
    geography, _ = _check_geography(series, np.arange(len(series)) + 2, _Options(), report,
                                    column="area_code")
    return geography if report.ok else None


def _check_geography(codes: pd.Series, rows: np.ndarray, options: _Options,
                     report: ValidationReport, *, column: str
                     ) -> tuple[str | None, np.ndarray]:
    """Decide the geography and which codes it knows; report mixtures and unknown codes."""
    known = np.zeros(len(codes), dtype=bool)
    if not len(codes):
        return None, known
    family = _families(codes)
    counts = family.value_counts()
    supported = [f for f in counts.index if f in SUPPORTED_FAMILIES]
    declared = options.geography
    if declared != "auto":
        main = GEOGRAPHY_FAMILY[declared]
        if main not in counts.index:
            found = ", ".join(f"{n:,} {_family_label(f)}" for f, n in counts.items())
            report.error("geography_mismatch",
                         f"the metadata says geography {declared} "
                         f"({GEOGRAPHY_LABELS[declared][0]}) but none of the codes is one: "
                         f"{found} code(s). Fix the geography or set it to auto",
                         row=int(rows[0]), column=column)
            return None, known
    elif supported:
        main = max(supported, key=lambda f: (counts[f], -SUPPORTED_FAMILIES.index(f)))
    else:
        first = codes.iloc[0]
        report.error("unknown_geography",
                     f"the area codes are not codes of a geography Fairshare supports "
                     f"(first: {_show(first)}, {_family_label(family.iloc[0])}); supported: "
                     "LSOA 2011/2021, data zone 2011, ward, local authority, sub-ICB location, "
                     "ICB, GP practice", row=int(rows[0]), column=column)
        return None, known
    others = [f for f in counts.index if f not in (main, "unrecognised")]
    if others:
        mask = family.isin(others).to_numpy()
        parts = ", ".join(f"{counts[f]:,} {_family_label(f)}" for f in others)
        first = np.flatnonzero(mask)[:EXAMPLES]
        report.error("mixed_geographies",
                     f"codes from more than one geography: {counts[main]:,} "
                     f"{FAMILY_LABELS[main]} code(s) and {parts} code(s) "
                     f"({_examples(rows[first].tolist(), [codes.iloc[i] for i in first])}). "
                     "Keep one geography per file (remove total rows such as England)",
                     row=int(rows[first[0]]), column=column)
    in_family = (family == main).to_numpy()
    geography = declared if declared != "auto" else None
    if main == "lsoa" and geography is None:
        lsoa = codes[in_family]
        in21 = members(lsoa, geography_universe("lsoa21"))
        in11 = members(lsoa, geography_universe("lsoa11"))
        only11, only21 = in11 & ~in21, in21 & ~in11
        if only11.any() and only21.any():
            rows_f = rows[in_family]
            i11, i21 = np.flatnonzero(only11)[:5], np.flatnonzero(only21)[:5]
            report.error(
                "mixed_geographies",
                f"a mix of LSOA 2011 and LSOA 2021 codes: {int(only11.sum()):,} exist only "
                f"in 2011 ({_examples(rows_f[i11].tolist(), lsoa.iloc[i11].tolist())}) and "
                f"{int(only21.sum()):,} only in 2021 "
                f"({_examples(rows_f[i21].tolist(), lsoa.iloc[i21].tolist())}). Use one "
                "vintage per file", row=int(rows_f[i11[0]]), column=column)
            return None, known
        geography = "lsoa11" if only11.any() else "lsoa21"
    elif geography is None:
        geography = {"lsoa": "lsoa21"}.get(main, main)
    known = in_family & members(codes, geography_universe(geography))
    unknown = np.flatnonzero(~known & (in_family | (family == "unrecognised").to_numpy()))
    if len(unknown):
        label = GEOGRAPHY_LABELS[geography][1]
        hint = ""
        if geography in ("lsoa21", "lsoa11"):
            other = "lsoa11" if geography == "lsoa21" else "lsoa21"
            if members(codes.iloc[unknown], geography_universe(other)).any():
                hint = (f" Some are {GEOGRAPHY_LABELS[other][0]} codes: set geography: "
                        f"{other} (or auto) in the metadata.")
        elif geography == "practice":
            hint = (" Practices that closed before the July 2023 practice list are not "
                    "known.")
        message = (f"{len(unknown):,} area code(s) are not {label} Fairshare knows: "
                   f"{_examples(rows[unknown].tolist(), [_show(codes.iloc[i]) for i in unknown])}"
                   f".{hint}")
        if options.drop_unknown_codes:
            report.warning("unknown_codes", message + " Left out (drop_unknown_codes: true).",
                           row=int(rows[unknown[0]]), column=column)
        else:
            report.error("unknown_codes", message + " Fix or remove them (or set "
                         "drop_unknown_codes: true to leave them out).",
                         row=int(rows[unknown[0]]), column=column)
    return geography, known


# --------------------------------------------------------------------------------------
# Conversion and practice mapping


def _convert_lsoa11(out: pd.DataFrame, options: _Options, report: ValidationReport,
                    column: str) -> pd.DataFrame:
    from analysis.data import convert_lsoa11_to_lsoa21

    counts = [c for c in ("numerator", "denominator") if c in out.columns]
    rates = [c for c in ("lower_ci", "upper_ci", "decile", "rank") if c in out.columns]
    (counts if options.aggregation == "sum" else rates).insert(0, "value")
    if "category" in out.columns:
        report.warning("conversion", "the category column cannot be converted from LSOA 2011 "
                       "to 2021 and was left out")
    converted, conversion = convert_lsoa11_to_lsoa21(
        out, code_column="area_code", counts=counts, rates=rates)
    how = "; ".join(
        part for part in (
            f"counts ({', '.join(counts)}) apportioned by 2021 population" if counts else "",
            f"rates ({', '.join(rates)}) population-weighted" if rates else "",
        ) if part)
    text = (f"LSOA 2011 codes converted to LSOA 2021 with the ONS best-fit lookup: "
            f"{conversion.summary()}; {how}")
    if options.aggregation == "none" and conversion.merged + conversion.irregular:
        text += ("; values of merged LSOAs are population-weighted means, so deciles or ranks "
                 "there are no longer whole numbers")
    report.warning("converted_2011", text, column=column)
    return converted.reset_index().rename(columns={"lsoa21_code": "area_code"})


def _practices_to_lsoa(out: pd.DataFrame, options: _Options, report: ValidationReport
                       ) -> tuple[pd.DataFrame, str, str]:
    """Attribute practice values to LSOAs 2021 by where the practices' patients live.

    With w_ij the patients of practice j living in LSOA i (:func:`practice_weights`: the
    registered file, else the estimate): rates and percentages get the registered-population
    weighted mean v_i = Σ_j w_ij v_j / Σ_j w_ij over the practices with a value; counts
    (``aggregation: sum``) and numerators/denominators are apportioned,
    c_i = Σ_j c_j · w_ij / Σ_i' w_i'j. Returns the table, the attribution ("estimated" or
    "registered") and the sentence that must travel with the indicator.
    """
    from analysis.access.registrations import practice_weights

    weights = practice_weights()
    pairs = weights.pairs
    frame = out.loc[out["value"].notna()] if "value" in out.columns else out
    values = frame.set_index("area_code")
    in_matrix = members(values.index, pairs["practice_code"])
    if (~in_matrix).any():
        lost = values.index[~in_matrix].tolist()
        report.warning("practice_mapping", f"{len(lost):,} practice(s) are not in the "
                       f"{weights.attribution} registration matrix and were left out: "
                       f"{', '.join(lost[:EXAMPLES])}")
    practice = pairs["practice_code"].astype(str)
    patients = pairs["patients"].to_numpy(float)
    lsoa_all = pairs["lsoa21_code"].astype(str)
    lsoa_total = pd.Series(patients).groupby(lsoa_all.to_numpy()).sum()
    practice_total = pd.Series(patients).groupby(practice.to_numpy()).sum()
    valued = members(practice, values.index[in_matrix])
    p, lsoa, w = practice[valued].to_numpy(), lsoa_all[valued].to_numpy(), patients[valued]
    share = w / practice_total.reindex(p).to_numpy(float)
    result = pd.DataFrame(index=pd.Index(pd.unique(lsoa), name="area_code"))
    if options.aggregation == "sum":
        v = values["value"].reindex(p).to_numpy(float)
        result["value"] = pd.Series(v * share).groupby(lsoa).sum()
        basis = "counts apportioned by each practice's patients living in each LSOA"
    else:
        v = values["value"].reindex(p).to_numpy(float)
        num = pd.Series(v * w).groupby(lsoa).sum()
        den = pd.Series(w).groupby(lsoa).sum()
        result["value"] = num / den.where(den > 0)
        basis = ("the mean of the practices' values weighted by their patients living in "
                 "each LSOA")
    for column in ("numerator", "denominator"):
        if column in values.columns and values[column].notna().any():
            c = values[column].reindex(p).to_numpy(float)
            result[column] = pd.Series(c * share).groupby(lsoa).sum(min_count=1)
    covered = pd.Series(w).groupby(lsoa).sum() / lsoa_total.reindex(result.index)
    # an LSOA whose patients are mostly at practices without a value gets none: a rim of
    # LSOAs far from the file's practices would otherwise take a few practices' values
    thin = int((covered < MIN_PATIENT_SHARE).sum())
    result, covered = result[covered >= MIN_PATIENT_SHARE], covered[covered >= MIN_PATIENT_SHARE]
    dropped = [c for c in ("lower_ci", "upper_ci", "decile", "rank", "category")
               if c in out.columns]
    label = "Estimated" if weights.attribution == "estimated" else "Registered"
    note = (f"{weights.note}. {label} attribution of practice values to LSOAs 2021: "
            f"{int(in_matrix.sum()):,} practices into {len(result):,} LSOAs; values are "
            f"{basis}; in those LSOAs on average {covered.mean():.0%} of the patients are at "
            f"a practice with a value; {thin:,} LSOAs with under {MIN_PATIENT_SHARE:.0%} of "
            "their patients at such practices were left without a value")
    report.warning("practice_mapping", note + (
        f"; {', '.join(dropped)} cannot be attributed and were left out" if dropped else ""))
    report.notes.append(f"Registration matrix: {weights.detail}")
    return result.sort_index().reset_index(), weights.attribution, weights.note


def _practices_to_areas(out: pd.DataFrame, target: str, options: _Options,
                        report: ValidationReport) -> pd.DataFrame:
    """Aggregate practice values to the (larger) areas where the practices stand."""
    from analysis.access import load_gp_practices

    practices = load_gp_practices().set_index("practice_code")
    area = out["area_code"].map(practices[PRACTICE_TARGETS[target]])
    located = area.notna()
    if (~located).any():
        lost = out.loc[~located, "area_code"].tolist()
        report.warning("practice_mapping", f"{len(lost):,} practice(s) have no "
                       f"{GEOGRAPHY_LABELS[target][0]} in the practice list and were left "
                       f"out: {', '.join(lost[:EXAMPLES])}")
    frame = out.loc[located].assign(_area=area[located].astype(str))
    if "denominator" in frame.columns and frame["denominator"].notna().any():
        weight = frame["denominator"].astype(float)
        basis = "weighted by the denominator"
    else:
        weight = frame["area_code"].map(practices["registered_patients"]).astype(float)
        basis = "weighted by registered patients"
    grouped = frame.groupby("_area")
    result = pd.DataFrame(index=pd.Index(sorted(grouped.groups), name="area_code"))
    if options.aggregation == "sum":
        result["value"] = grouped["value"].sum(min_count=1)
        basis = "summed"
    else:
        valid = frame["value"].notna() & weight.notna() & (weight > 0)
        num = (frame["value"] * weight).where(valid, 0.0).groupby(frame["_area"]).sum()
        den = weight.where(valid, 0.0).groupby(frame["_area"]).sum()
        result["value"] = num / den.where(den > 0)
    for column in ("numerator", "denominator"):
        if column in frame.columns:
            result[column] = grouped[column].sum(min_count=1)
    dropped = [c for c in ("lower_ci", "upper_ci", "decile", "rank", "category")
               if c in frame.columns]
    report.warning(
        "practice_mapping",
        f"practice values assigned to the {GEOGRAPHY_LABELS[target][0]} where each practice "
        f"stands ({int(located.sum()):,} practices into {len(result):,} areas; values {basis})"
        ". Patients registered at a practice may live elsewhere"
        + (f"; {', '.join(dropped)} cannot be aggregated and were left out" if dropped else ""))
    return result.reset_index()


def _coverage(out: pd.DataFrame, geography: str, report: ValidationReport, column: str
              ) -> None:
    universe = geography_universe(geography)
    with_value = out.loc[out["value"].notna(), "area_code"]
    covered = int(members(with_value, universe).sum())
    report.areas = covered
    report.universe = len(universe)
    report.coverage = covered / len(universe) if len(universe) else None
    if report.coverage is not None and report.coverage < COVERAGE_WARNING:
        label = GEOGRAPHY_LABELS[geography][1]
        report.warning("low_coverage",
                       f"values for {covered:,} of {len(universe):,} {label} "
                       f"({_pct(report.coverage)}, below {COVERAGE_WARNING:.0%}); areas "
                       "without a value show as 'no data' and are left out of summaries",
                       column=column)
