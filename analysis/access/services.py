"""Service sites shipped with the embedded data: GP practices (with list sizes) and stroke units."""

from __future__ import annotations

import pandas as pd

from analysis.data import UnknownAreaError, data_cache, read_parquet, resolve_area


@data_cache(maxsize=1)
def load_gp_practices() -> pd.DataFrame:
    """GP practices of July 2023 with location, list size, sub-ICB/ICB and 2022-23 payments."""
    return read_parquet("services/gp_practices.parquet")


@data_cache(maxsize=1)
def load_stroke_units() -> pd.DataFrame:
    """Acute stroke units (England and Wales) with thrombolysis/thrombectomy flags."""
    return read_parquet("services/stroke_units.parquet")


PRACTICE_AREA_COLUMNS = {"icb": "icb_code", "sicbl": "sicbl_code", "ltla": "ltla_code",
                         "lsoa21": "lsoa21_code"}


def practices_in_area(area_code: str | None) -> list[str] | None:
    """Codes of the GP practices of an English area, or ``None`` for all of England.

    ICBs and sub-ICB locations select by the practice's commissioning sub-ICB (July 2023 list,
    2024 boundaries); local authorities and LSOAs by where the practice stands; regions by
    the ICBs they contain. Practices that closed before July 2023 have no area and are only
    counted in England-wide figures.
    """
    if area_code is None or area_code.strip().upper() == "E92000001":
        return None
    area = resolve_area(area_code)
    if area.country != "england":
        raise UnknownAreaError(f"{area.code} ({area.name}) is not in England; GP payments "
                               "cover English practices only")
    practices = load_gp_practices()
    if area.level == "region":
        from analysis.data import load_pack_table

        table = load_pack_table("england")
        icbs = set(table.loc[table["region_code"] == area.code, "icb_code"].astype(str))
        mask = practices["icb_code"].isin(icbs)
    elif area.level in PRACTICE_AREA_COLUMNS:
        mask = practices[PRACTICE_AREA_COLUMNS[area.level]] == area.code
    else:
        raise UnknownAreaError(
            f"GP practices can be selected by ICB, sub-ICB, region, local authority or LSOA, "
            f"not by {area.level} ({area.code})")
    codes = practices.loc[mask, "practice_code"].astype(str).tolist()
    if not codes:
        raise UnknownAreaError(f"No GP practices in {area.code} ({area.name})")
    return codes
