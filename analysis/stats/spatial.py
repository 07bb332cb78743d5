"""Spatial clusters of need and provision: bivariate local Moran's I and global Moran's I.

Neighbours are contiguous areas (queen by default: sharing an edge or a corner) built from a
GeoDataFrame with libpysal; statistics come from esda with conditional-permutation inference
and a fixed seed, so a report can be reproduced. Areas with no neighbours ("islands", e.g.
the Isles of Scilly) cannot have a neighbourhood statistic: they are listed in the result,
labelled ``"No neighbours (island)"`` and left out of the calculation rather than silently
scored.

Labels of the bivariate analysis read "<own need>, <neighbours' provision>": a significant
``"High need, low provision"`` area has high need and sits among areas of low provision —
the spatial face of the inverse care law.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import geopandas as gpd
import libpysal
import numpy as np
import pandas as pd
from esda import fdr as esda_fdr
from esda.moran import Moran, Moran_Local_BV
from numpy.typing import ArrayLike, NDArray

Contiguity = Literal["queen", "rook"]
FloatArray = NDArray[np.float64]

HIGH_NEED_LOW_PROVISION = "High need, low provision"
HIGH_NEED_HIGH_PROVISION = "High need, high provision"
LOW_NEED_LOW_PROVISION = "Low need, low provision"
LOW_NEED_HIGH_PROVISION = "Low need, high provision"
NOT_SIGNIFICANT = "Not significant"
ISLAND = "No neighbours (island)"
CLUSTER_LABELS: tuple[str, ...] = (
    HIGH_NEED_LOW_PROVISION,
    HIGH_NEED_HIGH_PROVISION,
    LOW_NEED_LOW_PROVISION,
    LOW_NEED_HIGH_PROVISION,
    NOT_SIGNIFICANT,
    ISLAND,
)
# esda's PySAL quadrant codes 1-4 (geoda_quads=False): own value first, neighbours' lag second.
_QUADRANT_LABELS = np.array(
    [HIGH_NEED_HIGH_PROVISION, LOW_NEED_HIGH_PROVISION, LOW_NEED_LOW_PROVISION,
     HIGH_NEED_LOW_PROVISION],
    dtype=object,
)
DEFAULT_SEED = 12345


@dataclass(frozen=True)
class BivariateClusterResult:
    """Bivariate LISA of need (own area) against provision (neighbours).

    ``table`` is indexed like the input GeoDataFrame with columns ``need_z`` and
    ``provision_z`` (standardised with the mean and SD of the areas that have neighbours),
    ``provision_lag_z`` (mean standardised provision
    of the neighbours), ``local_i``, ``p_value`` (pseudo p-value from permutations),
    ``quadrant`` (label ignoring significance), ``significant`` and ``cluster`` (the
    label to map: one of :data:`CLUSTER_LABELS`). Islands carry NaN in the columns that
    need neighbours and the label ``"No neighbours (island)"``.
    """

    table: pd.DataFrame
    islands: tuple[object, ...]
    components: int
    contiguity: Contiguity
    permutations: int
    seed: int | None
    alpha: float
    fdr: bool
    p_threshold: float

    @property
    def labels(self) -> pd.Series:
        """The cluster label of each area (a categorical in :data:`CLUSTER_LABELS` order)."""
        return self.table["cluster"]

    def counts(self) -> dict[str, int]:
        """Number of areas with each cluster label."""
        tally = self.table["cluster"].value_counts()
        return {label: int(tally.get(label, 0)) for label in CLUSTER_LABELS}


@dataclass(frozen=True)
class GlobalMoranResult:
    """Global Moran's I of one indicator.

    ``z`` and ``p_sim`` come from the permutation distribution: ``p_sim`` is the pseudo
    p-value :math:`(m + 1)/(R + 1)`, with :math:`m` the number of the :math:`R` permuted
    statistics at least as extreme as the observed one in its own tail (esda's folded,
    one-sided convention). ``z_norm``/``p_norm`` (two-sided) assume normality.
    """

    i: float
    expected_i: float
    z: float
    p_sim: float
    z_norm: float
    p_norm: float
    n: int
    permutations: int
    seed: int | None
    islands: tuple[object, ...]
    contiguity: Contiguity

    @property
    def interpretation(self) -> str:
        """Plain-English reading of the statistic."""
        if self.p_sim >= 0.05:
            return (
                f"No clear spatial pattern: Moran's I = {self.i:.2f} "
                f"(p = {self.p_sim:.3f}); neighbouring areas are not reliably alike."
            )
        if self.i > self.expected_i:
            return (
                f"Clustered: Moran's I = {self.i:.2f} (p = {self.p_sim:.3f}); "
                "neighbouring areas tend to have similar values."
            )
        return (
            f"Dispersed: Moran's I = {self.i:.2f} (p = {self.p_sim:.3f}); "
            "neighbouring areas tend to differ, like a checkerboard."
        )


# --------------------------------------------------------------------------------------
# Inputs and weights
# --------------------------------------------------------------------------------------


def _geodataframe(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise ValueError("areas must be a GeoDataFrame with polygon geometries")
    if len(gdf) == 0:
        raise ValueError("the GeoDataFrame has no areas")
    geometry = gdf.geometry
    missing = np.flatnonzero(geometry.isna().to_numpy() | geometry.is_empty.to_numpy())
    if missing.size:
        position = int(missing[0])
        raise ValueError(
            f"geometry[{position}] (index {gdf.index[position]!r}) is missing or empty: every "
            "area needs a boundary"
        )
    polygonal = geometry.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    if not polygonal.all():
        position = int(np.flatnonzero(~polygonal)[0])
        raise ValueError(
            f"geometry[{position}] (index {gdf.index[position]!r}) is a "
            f"{geometry.iloc[position].geom_type}: contiguity needs polygons"
        )
    return gdf


def _values(gdf: gpd.GeoDataFrame, name: str, values: str | ArrayLike) -> FloatArray:
    if isinstance(values, str):
        if values not in gdf.columns:
            raise ValueError(f"{name} column {values!r} is not in the GeoDataFrame")
        source: object = gdf[values]
        label = f"{name} ({values!r})"
    else:
        source = values
        label = name
    try:
        array = np.asarray(source, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{label} must be numeric: {exc}") from None
    if array.ndim != 1 or array.size != len(gdf):
        raise ValueError(f"{label} has {array.size} values but there are {len(gdf)} areas")
    if isinstance(source, pd.Series) and not source.index.equals(gdf.index):
        raise ValueError(f"{label} is indexed differently from the GeoDataFrame: align it")
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        position = int(bad[0])
        what = "missing (NaN)" if np.isnan(array[position]) else f"{array[position]}"
        raise ValueError(
            f"{label}[{position}] (index {gdf.index[position]!r}) is {what}: "
            "every area needs a finite value"
        )
    return array


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence libpysal/esda chatter about islands and future defaults; we report islands."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*not fully connected.*")
        warnings.filterwarnings("ignore", message=".*island.*")
        warnings.filterwarnings("ignore", message=".*alternative hypothesis.*")
        warnings.filterwarnings("ignore", category=RuntimeWarning)
        yield


def contiguity_weights(
    gdf: gpd.GeoDataFrame, contiguity: Contiguity = "queen"
) -> tuple[libpysal.weights.W, tuple[object, ...]]:
    """Contiguity weights between the areas of ``gdf`` and the index labels of any islands.

    Queen contiguity makes areas neighbours when their boundaries share at least one point;
    rook when they share an edge. Weights are keyed by position (0..n-1) in ``gdf``.

    Reference: Anselin L, Rey SJ (2014) Modern spatial econometrics in practice, ch. 3;
    libpysal ``weights.Queen`` / ``weights.Rook``.
    """
    _geodataframe(gdf)
    if contiguity not in ("queen", "rook"):
        raise ValueError(f"contiguity is {contiguity!r}: use 'queen' or 'rook'")
    builder = libpysal.weights.Queen if contiguity == "queen" else libpysal.weights.Rook
    with _quiet():
        weights = builder.from_dataframe(gdf, use_index=False)
    islands = tuple(gdf.index[np.sort(np.asarray(weights.islands, dtype=np.int64))])
    return weights, islands


def _connected(
    gdf: gpd.GeoDataFrame, contiguity: Contiguity, minimum: int
) -> tuple[libpysal.weights.W, NDArray[np.int64], tuple[object, ...], int]:
    """Row-standardised weights on the areas that have neighbours, and their positions."""
    weights, islands = contiguity_weights(gdf, contiguity)
    keep = np.setdiff1d(np.arange(len(gdf)), np.asarray(weights.islands, dtype=np.int64))
    if keep.size < minimum:
        raise ValueError(
            f"only {keep.size} of {len(gdf)} areas have a neighbour: at least {minimum} are "
            "needed for a spatial statistic"
        )
    with _quiet():
        connected = weights if not islands else libpysal.weights.w_subset(weights, keep.tolist())
        connected.transform = "r"
    return connected, keep, islands, int(weights.n_components)


def _standardise(name: str, values: FloatArray) -> FloatArray:
    spread = float(np.std(values))
    if spread == 0:
        raise ValueError(
            f"{name} is constant ({values[0]:g} in every area with neighbours): it cannot be "
            "standardised"
        )
    return (values - values.mean()) / spread


def _check_inference(permutations: int, alpha: float) -> None:
    if not isinstance(permutations, int) or permutations < 1:
        raise ValueError(f"permutations is {permutations!r}: give a positive whole number")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha is {alpha!r}: give a significance level between 0 and 1")
    if 1.0 / (permutations + 1) >= alpha:
        raise ValueError(
            f"{permutations} permutations cannot give a pseudo p-value below {alpha}: "
            f"use at least {int(np.ceil(1.0 / alpha))} (999 is usual)"
        )


# --------------------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------------------


def bivariate_clusters(
    gdf: gpd.GeoDataFrame,
    need: str | ArrayLike,
    provision: str | ArrayLike,
    *,
    contiguity: Contiguity = "queen",
    permutations: int = 999,
    seed: int | None = DEFAULT_SEED,
    alpha: float = 0.05,
    fdr: bool = False,
) -> BivariateClusterResult:
    """Label each area by the bivariate local Moran's I of its need against nearby provision.

    With need and provision standardised over the areas that have neighbours
    (:math:`z_x`, :math:`z_y`) and row-standardised contiguity weights :math:`w_{ij}`:

    .. math::

        I_i = \\frac{n-1}{\\sum_k z_{x,k}^2}\\; z_{x,i} \\sum_j w_{ij} z_{y,j}

    Significance is a conditional-permutation pseudo p-value (``permutations`` reshuffles of
    the neighbours' provision, seeded), compared with ``alpha`` or, with ``fdr=True``, with
    the Benjamini-Hochberg false-discovery-rate threshold from ``esda.fdr`` (which falls back
    to Bonferroni, ``alpha / n``, when no area passes). Significant areas get the quadrant
    label — ``"High need, low provision"`` (own need above average, neighbours' provision
    below average), ``"High need, high provision"``, ``"Low need, low provision"``,
    ``"Low need, high provision"`` — the rest ``"Not significant"``; islands get
    ``"No neighbours (island)"``.

    ``need`` and ``provision`` are column names of ``gdf`` or arrays aligned with it. Orient
    need so that higher means more need.

    References: Anselin L (1995) Local indicators of spatial association — LISA, Geogr Anal
    27:93-115; Anselin L, Syabri I, Smirnov O (2002) Visualizing multivariate spatial
    correlation with dynamically linked windows; Benjamini Y, Hochberg Y (1995) J R Stat Soc B
    57:289-300; esda ``Moran_Local_BV``.
    """
    _geodataframe(gdf)
    need_values = _values(gdf, "need", need)
    provision_values = _values(gdf, "provision", provision)
    _check_inference(permutations, alpha)
    weights, keep, islands, components = _connected(gdf, contiguity, minimum=3)

    need_mean, need_sd = need_values[keep].mean(), need_values[keep].std()
    provision_mean, provision_sd = provision_values[keep].mean(), provision_values[keep].std()
    need_z = _standardise("need", need_values[keep])
    provision_z = _standardise("provision", provision_values[keep])
    with _quiet():
        lisa = Moran_Local_BV(
            need_z, provision_z, weights, transformation="r", permutations=permutations,
            seed=seed, n_jobs=1, keep_simulations=True,
        )
    lag = np.asarray(weights.sparse @ provision_z, dtype=np.float64)
    p_values = np.asarray(lisa.p_sim, dtype=np.float64)
    threshold = float(esda_fdr(p_values, alpha)) if fdr else alpha
    significant = p_values < threshold
    quadrant = _QUADRANT_LABELS[np.asarray(lisa.q, dtype=np.int64) - 1]
    cluster = np.where(significant, quadrant, NOT_SIGNIFICANT)

    table = pd.DataFrame(
        {
            "need_z": (need_values - need_mean) / need_sd,
            "provision_z": (provision_values - provision_mean) / provision_sd,
            "provision_lag_z": np.nan,
            "local_i": np.nan,
            "p_value": np.nan,
            "quadrant": ISLAND,
            "significant": False,
            "cluster": ISLAND,
        },
        index=gdf.index,
    )
    rows = table.index[keep]
    table.loc[rows, "provision_lag_z"] = lag
    table.loc[rows, "local_i"] = np.asarray(lisa.Is, dtype=np.float64)
    table.loc[rows, "p_value"] = p_values
    table.loc[rows, "quadrant"] = quadrant
    table.loc[rows, "significant"] = significant
    table.loc[rows, "cluster"] = cluster
    table["cluster"] = pd.Categorical(table["cluster"], categories=list(CLUSTER_LABELS))
    return BivariateClusterResult(
        table=table,
        islands=islands,
        components=components,
        contiguity=contiguity,
        permutations=permutations,
        seed=seed,
        alpha=alpha,
        fdr=fdr,
        p_threshold=threshold,
    )


def global_moran(
    gdf: gpd.GeoDataFrame,
    values: str | ArrayLike,
    *,
    contiguity: Contiguity = "queen",
    permutations: int = 999,
    seed: int | None = DEFAULT_SEED,
) -> GlobalMoranResult:
    """Global Moran's I of an indicator over contiguous areas.

    With :math:`z` the standardised values of the :math:`n` areas that have neighbours and
    row-standardised weights :math:`w_{ij}` (:math:`S_0 = \\sum_{ij} w_{ij}`):

    .. math::

        I = \\frac{n}{S_0} \\frac{\\sum_i \\sum_j w_{ij} z_i z_j}{\\sum_i z_i^2},
        \\qquad E[I] = -\\frac{1}{n-1}

    :math:`I > E[I]` means neighbours are alike (clustering), :math:`I < E[I]` that they
    differ (a checkerboard). ``p_sim`` is the permutation pseudo p-value in the observed
    direction (see :class:`GlobalMoranResult`); the permutations use a seeded NumPy
    generator that is restored afterwards. Islands are left out and listed.

    References: Moran PAP (1950) Biometrika 37:17-23; Cliff AD, Ord JK (1981) Spatial
    processes: models and applications; esda ``Moran``.
    """
    _geodataframe(gdf)
    raw = _values(gdf, "values", values)
    if not isinstance(permutations, int) or permutations < 1:
        raise ValueError(f"permutations is {permutations!r}: give a positive whole number")
    weights, keep, islands, _ = _connected(gdf, contiguity, minimum=3)
    standardised = _standardise("values", raw[keep])
    # esda's global Moran draws from NumPy's legacy global generator and takes no seed, so
    # the legacy API is the only way to make it reproducible; the caller's state is restored.
    state = np.random.get_state()  # noqa: NPY002
    try:
        if seed is not None:
            np.random.seed(seed)  # noqa: NPY002
        with _quiet():
            moran = Moran(standardised, weights, transformation="r", permutations=permutations)
    finally:
        np.random.set_state(state)  # noqa: NPY002
    return GlobalMoranResult(
        i=float(moran.I),
        expected_i=float(moran.EI),
        z=float(moran.z_sim),
        p_sim=float(moran.p_sim),
        z_norm=float(moran.z_norm),
        p_norm=float(moran.p_norm),
        n=int(keep.size),
        permutations=permutations,
        seed=seed,
        islands=islands,
        contiguity=contiguity,
    )
