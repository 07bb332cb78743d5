"""Overdispersion in funnel plots: Spiegelhalter's additive random-effects adjustment.

With large denominators (every LSOA has ~1,500 residents, a local authority 100,000 or more)
real differences between areas dwarf the sampling error that plain binomial or Poisson
control limits allow for, and most areas fall "outside" the funnel. Spiegelhalter (2005)
measures that overdispersion from winsorised z-scores and widens the limits by a
between-area variance τ²; OHID's funnel-plot guidance and tools apply the same method (APHO
Technical Briefing 2, 2008; PHE "Funnel plot tool" with overdispersion).

Steps, on a variance-stabilising scale (``y``, its target ``t`` and within-area standard
error ``s``):

* proportions: ``y = asin(√p)``, ``t = asin(√p₀)``, ``s = 1 / (2√n)``;
* rates and ratios (count ``O`` with expected ``E = n θ₀``): ``y = √(O/E)``, ``t = 1``,
  ``s = 1 / (2√E)``;

1. ``z_i = (y_i − t) / s_i``; winsorise: z-scores below the 10th percentile are set to it,
   above the 90th to it.
2. ``φ̂ = Σ z_i² / I`` over the ``I`` areas. Without overdispersion ``I φ̂ ~ χ²(I − 1)``;
   overdispersion is *present* when ``I φ̂`` exceeds its upper 5% point.
3. ``τ̂² = (I φ̂ − (I − 1)) / (Σ w_i − Σ w_i² / Σ w_i)`` with ``w_i = 1 / s_i²``
   (0 when ``I φ̂ ≤ I − 1``).
4. Limits ``t ± z_α √(s² + τ̂²)`` back-transformed: ``sin²(·)`` for proportions,
   ``θ₀ (·)²`` for rates and ratios.

References: Spiegelhalter DJ (2005) Handling over-dispersion of performance indicators.
Qual Saf Health Care 14:347-351; Spiegelhalter DJ (2005) Funnel plots for comparing
institutional performance. Stat Med 24:1185-1202; APHO Technical Briefing 2, "Statistical
process control methods in public health intelligence" (2008).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy import stats

FloatArray = NDArray[np.float64]
Scale = Literal["proportion", "count"]

#: Share of z-scores winsorised at each end (Spiegelhalter 2005: 10%).
WINSORISE = 0.10
#: Significance of the χ² test that decides whether overdispersion is present.
TEST_LEVEL = 0.05
METHOD_PLAIN = "binomial/Poisson control limits (no overdispersion adjustment)"
METHOD_ADJUSTED = ("overdispersion-adjusted control limits (Spiegelhalter 2005 additive "
                   "random effects, z-scores winsorised at 10%)")


@dataclass(frozen=True)
class Overdispersion:
    """How overdispersed a set of areas is, by Spiegelhalter's (2005) method.

    ``phi`` is the dispersion ratio φ̂ (1 = as binomial/Poisson variation predicts),
    ``statistic`` is ``I φ̂`` and ``p_value`` its upper tail on χ²(I − 1); ``present`` is
    whether ``p_value`` is below 5%; ``tau2`` is the between-area variance τ̂² on the
    transformed scale (0 when ``I φ̂ ≤ I − 1``).
    """

    phi: float
    tau2: float
    areas: int
    statistic: float
    p_value: float
    present: bool
    winsorised: float = WINSORISE

    def sentence(self) -> str:
        """Plain-English description of the dispersion and what was done about it."""
        if self.present:
            return (f"The areas vary {self.phi:,.1f} times as much as chance alone would "
                    "give (overdispersion), so the control limits are widened by the "
                    "between-area variation (Spiegelhalter 2005).")
        return (f"The areas vary about as much as chance alone would give (dispersion ratio "
                f"{self.phi:,.2f}), so plain control limits are used.")


def transformed(numerator: FloatArray, size: FloatArray, comparator: float,
                scale: Scale) -> tuple[FloatArray, float, FloatArray]:
    """Values ``y``, target ``t`` and standard errors ``s`` on the variance-stabilising scale.

    ``scale="proportion"``: ``numerator`` events out of ``size``, comparator a proportion.
    ``scale="count"``: ``numerator`` events over ``size`` person-units (or expected counts),
    comparator events per unit, so ``E = size × comparator``.
    """
    if scale == "proportion":
        y = np.arcsin(np.sqrt(numerator / size))
        return y, float(np.arcsin(np.sqrt(comparator))), 1.0 / (2.0 * np.sqrt(size))
    expected = size * comparator
    return np.sqrt(numerator / expected), 1.0, 1.0 / (2.0 * np.sqrt(expected))


def winsorise(z: FloatArray, share: float = WINSORISE) -> FloatArray:
    """Z-scores beyond the ``share`` and ``1 − share`` quantiles pulled in to them (linear
    quantiles, R's default type 7, as Spiegelhalter's and NHS-R's implementations)."""
    low, high = np.quantile(z, [share, 1.0 - share])
    return np.clip(z, low, high)


def estimate(y: FloatArray, target: float, s: FloatArray,
             share: float = WINSORISE) -> Overdispersion:
    """φ̂, the χ² test and τ̂² from transformed values (steps 1-3 of the module docstring)."""
    areas = int(y.size)
    if areas < 2:
        raise ValueError("overdispersion needs at least two areas")
    z = winsorise((y - target) / s, share)
    phi = float(np.sum(z * z) / areas)
    statistic = areas * phi
    p_value = float(stats.chi2.sf(statistic, areas - 1))
    weights = 1.0 / (s * s)
    spread = float(np.sum(weights) - np.sum(weights * weights) / np.sum(weights))
    excess = statistic - (areas - 1)
    tau2 = max(excess / spread, 0.0) if spread > 0 else 0.0
    return Overdispersion(phi=phi, tau2=tau2, areas=areas, statistic=statistic,
                          p_value=p_value, present=p_value < TEST_LEVEL, winsorised=share)


def adjusted_limits(size: FloatArray, comparator: float, scale: Scale, tau2: float,
                    z: float) -> tuple[FloatArray, FloatArray]:
    """Lower and upper control limits at ``size`` widened by ``tau2`` (step 4), in the units
    of the comparator (a proportion, or events per unit)."""
    size = np.asarray(size, dtype=float)
    if scale == "proportion":
        target = float(np.arcsin(np.sqrt(comparator)))
        s = 1.0 / (2.0 * np.sqrt(size))
        half = z * np.sqrt(s * s + tau2)
        low = np.sin(np.clip(target - half, 0.0, np.pi / 2)) ** 2
        high = np.sin(np.clip(target + half, 0.0, np.pi / 2)) ** 2
        return low, high
    s = 1.0 / (2.0 * np.sqrt(size * comparator))
    half = z * np.sqrt(s * s + tau2)
    return comparator * np.clip(1.0 - half, 0.0, None) ** 2, comparator * (1.0 + half) ** 2
