"""Headline figures of a study area, shared by the dashboard, the CLI and the briefings."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

from analysis.data import (
    COUNTRY_CODES,
    AreaRef,
    IndicatorRegistry,
    default_registry,
    load_pack_table,
    resolve_area,
    small_area_mask,
    spec_for,
)

#: The national small-area deprivation decile of each pack (1 = most deprived 10%).
DEPRIVATION_DECILE = {"england": "imd2025_decile", "scotland": "simd2020_decile"}
DEPRIVATION_INDEX_LABEL = {"england": "IMD 2025", "scotland": "SIMD 2020"}


@dataclass(frozen=True)
class AreaSummary:
    """Population and deprivation headline of a study area."""

    code: str
    name: str
    level: str
    country: str
    small_areas: int
    population: int
    population_most_deprived_quintile: int
    pct_most_deprived_quintile: float
    national_pct_most_deprived_quintile: float
    deprivation_index: str

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def sentence(self) -> str:
        """One plain-English sentence, e.g. for a briefing or the CLI."""
        ratio = self.pct_most_deprived_quintile / self.national_pct_most_deprived_quintile
        if ratio >= 1.15:
            compare = f"about {ratio:.1f} times the national share"
        elif ratio <= 0.85:
            compare = "less than the national share"
        else:
            compare = "close to the national share"
        return (
            f"{self.name} has {self.population:,} residents; "
            f"{self.pct_most_deprived_quintile:.1f}% of them live in the most deprived fifth "
            f"of neighbourhoods nationally "
            f"({self.deprivation_index}), {compare} of "
            f"{self.national_pct_most_deprived_quintile:.1f}%."
        )


def share_in_most_deprived_quintile(deciles: pd.Series, population: pd.Series) -> float:
    """Population share (%) living in national deprivation deciles 1–2 (the most deprived 20%).

    This is NHS England's *Core20* definition of the most deprived quintile (Core20PLUS5,
    NHS England 2021), computed on small-area deciles weighted by resident population.
    """
    aligned = population.reindex(deciles.index).astype(float)
    total = aligned.sum()
    if total <= 0:
        raise ValueError("The selection has no resident population")
    return float(100 * aligned[deciles <= 2].sum() / total)


def study_area_summary(area_code: str | None, *, country: str | None = None,
                       registry: IndicatorRegistry | None = None) -> AreaSummary:
    """Headline figures of ``area_code`` (any level; ``None`` with ``country`` = whole country)."""
    if area_code is not None:
        ref = resolve_area(area_code)
        country = ref.country
    elif country is None:
        raise ValueError("Give an area code or a country")
    else:
        code, name = COUNTRY_CODES[country]
        ref = AreaRef(country, "country", code, name)  # type: ignore[arg-type]
    registry = registry if registry is not None else default_registry()
    spec = spec_for(country)
    table = load_pack_table(country)
    population = table[spec.population_column]
    deciles = registry.get(DEPRIVATION_DECILE[country]).values
    mask = small_area_mask(country, area_code)
    selected = mask[mask].index
    pct = share_in_most_deprived_quintile(deciles.reindex(selected), population)
    national = share_in_most_deprived_quintile(deciles, population)
    pop = int(population[selected].sum())
    return AreaSummary(
        code=ref.code,
        name=ref.name,
        level=ref.level,
        country=country,
        small_areas=int(len(selected)),
        population=pop,
        population_most_deprived_quintile=int(round(pop * pct / 100)),
        pct_most_deprived_quintile=round(pct, 2),
        national_pct_most_deprived_quintile=round(national, 2),
        deprivation_index=DEPRIVATION_INDEX_LABEL[country],
    )
