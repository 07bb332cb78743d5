"""Area profile: every indicator of an area against its ICB (or council) and the country.

The table is the spine table of :mod:`analysis.explore.spine` (OHID Fingertips' area
profiles: the area's value and 95% confidence interval, its parent, the national value, the
spread across areas of the same level and the significance against the national value).
"""

from __future__ import annotations

import pandas as pd

from analysis.data import IndicatorRegistry
from analysis.explore.spine import PARENT_LEVEL, parent_area, spine_table

__all__ = ["PARENT_LEVEL", "parent_area", "profile_table"]


def profile_table(area_code: str, registry: IndicatorRegistry) -> pd.DataFrame:
    """The area profile of ``area_code``: :func:`analysis.explore.spine.spine_table`
    (Fingertips spine chart conventions; PHE *Technical Guide: Assessing significant
    difference*, 2018)."""
    return spine_table(area_code, registry)
