"""Inverse care law test: does provision per head fall as need rises?

Tudor Hart's inverse care law says that "the availability of good medical care tends to vary
inversely with the need for it in the population served". Here it is tested by regressing
provision per head on need across areas, weighting each area by its population:

* ``model="wls"``: weighted least squares of provision per head on need (plus optional
  controls), weights = population, heteroskedasticity-robust HC3 standard errors.
* ``model="poisson"`` / ``"negative_binomial"``: a log-link GLM of provision *counts* with
  ``log(population)`` as offset, so coefficients are log rate ratios; robust (sandwich)
  standard errors.

Sign convention: need is always oriented so that a higher value means more need (worse);
pass ``need_polarity="higher_is_better"`` for indicators such as life expectancy and the
slope is reported per unit of *need* (the negated indicator). A negative slope therefore
always means provision falls as need rises: the inverse care pattern. Deprivation deciles
follow the product-wide convention that decile 1 is the **most** deprived.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import statsmodels.api as sm
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from analysis.stats.checks import finite_vector, reject_where

Model = Literal["wls", "poisson", "negative_binomial"]
NeedPolarity = Literal["higher_is_worse", "higher_is_better"]
Direction = Literal["inverse_care", "pro_need", "no_clear_relationship"]
FloatArray = NDArray[np.float64]

MODELS: tuple[str, ...] = ("wls", "poisson", "negative_binomial")
DECILES = np.arange(1, 11)


@dataclass(frozen=True)
class InverseCareResult:
    """Outcome of :func:`inverse_care_test`.

    ``slope`` and its CI are per unit increase in need, in model units: provision per head
    for ``"wls"``, log rate ratio for the count models. ``slope_per_sd`` re-expresses it as
    the change in provision per head for a one standard deviation rise in need (for count
    models evaluated at the overall provision per head, with ``rate_ratio_per_sd`` the
    multiplicative version). ``decile_gradient`` has one row per decile present: ``decile``
    (1 = most deprived / highest need), ``areas``, ``population``, ``provision_per_head``
    (population-weighted mean), ``lower_ci`` and ``upper_ci``.
    """

    model: Model
    n: int
    slope: float
    slope_se: float
    slope_ci: tuple[float, float]
    p_value: float
    slope_per_sd: float
    slope_per_sd_ci: tuple[float, float]
    rate_ratio_per_sd: float | None
    need_sd: float
    r_squared: float
    confidence: float
    direction: Direction
    verdict: str
    decile_gradient: pd.DataFrame
    decile_source: Literal["deprivation_decile", "need"]
    controls: tuple[str, ...]
    covariance: str
    fit: Any = field(repr=False, compare=False)


# --------------------------------------------------------------------------------------
# Input checking
# --------------------------------------------------------------------------------------


def _check_alignment(**inputs: Any) -> None:
    lengths = {name: len(value) for name, value in inputs.items() if value is not None}
    if len(set(lengths.values())) > 1:
        described = ", ".join(f"{name} has {size}" for name, size in lengths.items())
        raise ValueError(f"inputs must describe the same areas: {described}")
    indexes = {
        name: value.index
        for name, value in inputs.items()
        if isinstance(value, (pd.Series, pd.DataFrame))
    }
    if len(indexes) > 1:
        (first_name, first), *rest = indexes.items()
        for name, index in rest:
            if not first.equals(index):
                raise ValueError(
                    f"{name} and {first_name} have different indexes: align them (same areas, "
                    "same order) before testing"
                )


def _controls_matrix(controls: pd.DataFrame | None) -> tuple[FloatArray, tuple[str, ...]]:
    if controls is None:
        return np.empty((0, 0)), ()
    if not isinstance(controls, pd.DataFrame):
        raise ValueError("controls must be a pandas DataFrame with one column per control")
    names = tuple(str(c) for c in controls.columns)
    columns = []
    for name in controls.columns:
        column = finite_vector(f"controls[{name!r}]", controls[name])
        if np.ptp(column) == 0:
            raise ValueError(
                f"controls[{name!r}] is constant ({column[0]:g}): a constant control cannot be "
                "estimated alongside the intercept; drop it"
            )
        columns.append(column)
    return np.column_stack(columns) if columns else np.empty((len(controls), 0)), names


def _deciles(decile: ArrayLike) -> NDArray[np.int64]:
    values = finite_vector("deprivation_decile", decile)
    reject_where("deprivation_decile", decile, values,
            (values != np.round(values)) | (values < 1) | (values > 10),
            "deciles must be whole numbers from 1 (most deprived) to 10 (least deprived)")
    return values.astype(np.int64)


def need_deciles(need: ArrayLike) -> NDArray[np.int64]:
    """Deciles of need with decile 1 = highest need (the most-deprived convention).

    Areas are ranked by need, highest first (ties share their average rank), and split into
    ten groups of (as near as possible) equal numbers of areas, as IMD deciles are:
    :math:`d_i = \\lceil 10\\,r_i / n \\rceil` with :math:`r_i` the rank.

    Reference: MHCLG, The English Indices of Deprivation 2019, technical report (deciles of
    LSOAs ranked from most deprived).
    """
    values = finite_vector("need", need)
    if values.size == 0:
        raise ValueError("need is empty: at least one area is needed")
    ranks = stats.rankdata(-values, method="average")
    return np.clip(np.ceil(10.0 * ranks / values.size), 1, 10).astype(np.int64)


# --------------------------------------------------------------------------------------
# Decile gradient
# --------------------------------------------------------------------------------------


def decile_gradient(
    provision_per_head: ArrayLike,
    population: ArrayLike,
    decile: ArrayLike,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Population-weighted mean provision per head in each decile, with confidence limits.

    For decile :math:`d` with areas :math:`i`, values :math:`y_i` and populations
    :math:`w_i`: :math:`\\bar y_d = \\sum w_i y_i / \\sum w_i`, with the linearised
    (ratio-estimator) standard error

    .. math::

        SE(\\bar y_d) = \\sqrt{\\frac{k}{k-1}\\sum_i w_i^2 (y_i - \\bar y_d)^2} \\Big/ \\sum_i w_i

    over the :math:`k` areas in the decile, and a :math:`t_{k-1}` interval. The interval
    reflects between-area variation, so it stays honest when provision is over-dispersed. A
    decile holding a single area has no estimable spread: its limits are NaN (``areas``
    shows why). Decile 1 is the most deprived.

    Reference: Cochran WG (1977) Sampling techniques, 3rd edn, ch. 6 (ratio estimator).
    """
    values = finite_vector("provision_per_head", provision_per_head)
    weights = finite_vector("population", population)
    groups = _deciles(decile)
    _check_alignment(provision_per_head=values, population=weights, deprivation_decile=groups)
    level = _confidence(confidence)
    frame = pd.DataFrame({"decile": groups, "y": values, "w": weights})
    frame["wy"] = frame["w"] * frame["y"]
    grouped = frame.groupby("decile", sort=True)
    totals = grouped[["w", "wy"]].sum()
    mean = totals["wy"] / totals["w"]
    frame["residual_sq"] = (frame["w"] * (frame["y"] - frame["decile"].map(mean))) ** 2
    areas = grouped.size()
    spread = frame.groupby("decile")["residual_sq"].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(areas / (areas - 1) * spread) / totals["w"]
        t = stats.t.ppf(0.5 + level / 2.0, areas - 1)
    estimable = areas > 1
    return pd.DataFrame(
        {
            "decile": mean.index.astype(int),
            "areas": areas.to_numpy(),
            "population": totals["w"].to_numpy(),
            "provision_per_head": mean.to_numpy(),
            "lower_ci": np.where(estimable, mean - t * se, np.nan),
            "upper_ci": np.where(estimable, mean + t * se, np.nan),
        }
    ).reset_index(drop=True)


# --------------------------------------------------------------------------------------
# The test
# --------------------------------------------------------------------------------------


def _confidence(confidence: float) -> float:
    if not isinstance(confidence, (int, float)) or not 0.0 < float(confidence) < 1.0:
        raise ValueError(
            f"confidence is {confidence!r}: give a level strictly between 0 and 1, e.g. 0.95"
        )
    return float(confidence)


def format_p(p_value: float) -> str:
    """``"p < 0.001"``, ``"p = 0.003"`` (three places below 0.1) or ``"p = 0.41"``."""
    if p_value < 0.001:
        return "p < 0.001"
    if p_value < 0.1:
        return f"p = {p_value:.3f}"
    return f"p = {p_value:.2f}"


def _verdict(slope: float, p_value: float, alpha: float, *, higher_is_worse: bool = False,
             measure: str = "Provision") -> tuple[Direction, str]:
    shown = format_p(p_value)
    if higher_is_worse:
        # a measure of worse access (travel minutes): a rise with need is the inverse care
        # pattern, so the sign is read the other way round; the fit itself is unchanged
        lower = measure[:1].lower() + measure[1:]
        if p_value < alpha and slope > 0:
            return "inverse_care", (
                f"{measure} is longer where need is higher, so access is worse where it is "
                f"needed most: an inverse care pattern ({shown}).")
        if p_value < alpha and slope < 0:
            return "pro_need", (
                f"{measure} is shorter where need is higher, so access is better where it is "
                f"needed most: a pro-need pattern ({shown}).")
        return "no_clear_relationship", (
            f"No clear relationship between {lower} and need ({shown}).")
    if p_value < alpha and slope < 0:
        return "inverse_care", f"Provision falls as need rises: an inverse care pattern ({shown})."
    if p_value < alpha and slope > 0:
        return "pro_need", (
            f"Provision rises with need: a pro-need (proportionate) pattern ({shown})."
        )
    return "no_clear_relationship", (
        f"No clear relationship between provision and need ({shown})."
    )


def _nb_alpha(counts: FloatArray, mu: FloatArray) -> float:
    """NB2 dispersion from the Cameron-Trivedi auxiliary regression, floored near zero."""
    response = ((counts - mu) ** 2 - counts) / mu
    alpha = float(np.sum(response * mu) / np.sum(mu * mu))
    return max(alpha, 1e-8)


def inverse_care_test(
    provision: ArrayLike,
    need: ArrayLike,
    population: ArrayLike,
    *,
    controls: pd.DataFrame | None = None,
    deprivation_decile: ArrayLike | None = None,
    model: Model = "wls",
    confidence: float = 0.95,
    need_polarity: NeedPolarity = "higher_is_worse",
    provision_polarity: NeedPolarity = "higher_is_better",
    provision_name: str = "Provision",
) -> InverseCareResult:
    """Test the inverse care law: regress provision per head on need across areas.

    **WLS** (``model="wls"``; ``provision`` is provision per head, e.g. GP FTE per 100,000):

    .. math::

        y_i = \\beta_0 + \\beta_1\\,\\mathrm{need}_i + \\gamma^\\top c_i + \\varepsilon_i,
        \\qquad \\text{weights } w_i = \\mathrm{population}_i

    fitted by weighted least squares with HC3 heteroskedasticity-robust standard errors
    (MacKinnon & White 1985; Long & Ervin 2000) and normal-theory p-values and intervals;
    R² is the weighted R².

    **Count GLMs** (``model="poisson"`` or ``"negative_binomial"``; ``provision`` is a
    count, e.g. number of GPs):

    .. math::

        \\log E[Y_i] = \\log \\mathrm{population}_i + \\beta_0 + \\beta_1\\,\\mathrm{need}_i
        + \\gamma^\\top c_i

    with sandwich (HC0) standard errors — statsmodels' GLM has no leverage-corrected HC3 —
    and the NB2 dispersion from the Cameron & Trivedi (1990) auxiliary regression. R² is the
    deviance explained, :math:`1 - D/D_0`.

    ``slope_per_sd`` is :math:`\\beta_1 s` for WLS (:math:`s` = standard deviation of need
    across areas) and :math:`(e^{\\beta_1 s} - 1)\\,\\bar y` for the GLMs (:math:`\\bar y` =
    overall provision per head). The verdict is "inverse care" when the slope is negative
    and its p-value below :math:`1 - \\mathrm{confidence}`, "pro-need" when positive and
    significant, otherwise "no clear relationship". For a provision measure where higher is
    worse access (``provision_polarity="higher_is_worse"``, e.g. travel minutes to a GP) the
    fit is the same on the published values and the sign is read the other way round: a
    significant *positive* slope (longer journeys where need is higher) is inverse care;
    ``provision_name`` names the measure in the verdict. ``controls`` (e.g. rurality, share aged
    65+) enter linearly. The decile table uses ``deprivation_decile`` (1 = most deprived)
    or, if absent, deciles of need (see :func:`need_deciles`).

    References: Tudor Hart J (1971) The inverse care law, Lancet 297:405-412; MacKinnon JG,
    White H (1985) J Econometrics 29:305-325; Cameron AC, Trivedi PK (1990) J Econometrics
    46:347-364; McLean G et al. (2006) Br J Gen Pract 56:347-353 (inverse care in UK
    general practice).
    """
    if model not in MODELS:
        raise ValueError(f"model is {model!r}: use one of {', '.join(MODELS)}")
    if need_polarity not in ("higher_is_worse", "higher_is_better"):
        raise ValueError(
            f"need_polarity is {need_polarity!r}: use 'higher_is_worse' or 'higher_is_better'"
        )
    if provision_polarity not in ("higher_is_worse", "higher_is_better"):
        raise ValueError(f"provision_polarity is {provision_polarity!r}: use 'higher_is_worse' "
                         "or 'higher_is_better'")
    level = _confidence(confidence)
    outcome = finite_vector("provision", provision)
    raw_need = finite_vector("need", need)
    weights = finite_vector("population", population)
    _check_alignment(provision=provision, need=need, population=population, controls=controls,
                     deprivation_decile=deprivation_decile)
    if outcome.size == 0:
        raise ValueError("no areas given: provision, need and population are empty")
    reject_where("population", population, weights, weights <= 0, "populations must be positive")
    unit = "provision per head" if model == "wls" else "provision counts"
    reject_where("provision", provision, outcome, outcome < 0, f"{unit} cannot be negative")
    if np.ptp(raw_need) == 0:
        raise ValueError(
            f"need is constant ({raw_need[0]:g} in every area): the slope on need is undefined"
        )
    need_values = raw_need if need_polarity == "higher_is_worse" else -raw_need
    control_matrix, control_names = _controls_matrix(controls)
    clashes = {"const", "need"} & set(control_names)
    if clashes:
        raise ValueError(f"controls may not be named {sorted(clashes)}: rename those columns")
    parameters = 2 + len(control_names)
    if outcome.size <= parameters + 1:
        raise ValueError(
            f"only {outcome.size} areas for {parameters} coefficients: robust standard errors "
            f"need at least {parameters + 2} areas"
        )
    columns = [np.ones_like(need_values), need_values]
    if control_names:
        columns.append(control_matrix)
    design = pd.DataFrame(np.column_stack(columns), columns=["const", "need", *control_names])
    if np.linalg.matrix_rank(design.to_numpy()) < design.shape[1]:
        raise ValueError(
            "need and the controls are collinear (one is a linear combination of the others): "
            "drop the redundant control"
        )

    if model == "wls":
        fit = sm.WLS(outcome, design, weights=weights).fit(cov_type="HC3")
        r_squared = float(fit.rsquared)
        per_head = outcome
        covariance = "HC3"
    else:
        offset = np.log(weights)
        fit = sm.GLM(outcome, design, family=sm.families.Poisson(), offset=offset).fit(
            cov_type="HC0"
        )
        if model == "negative_binomial":
            alpha = _nb_alpha(outcome, np.asarray(fit.fittedvalues))
            family = sm.families.NegativeBinomial(alpha=alpha)
            fit = sm.GLM(outcome, design, family=family, offset=offset).fit(cov_type="HC0")
        explained = 1.0 - fit.deviance / fit.null_deviance if fit.null_deviance > 0 else 0.0
        r_squared = float(explained)
        per_head = outcome / weights
        covariance = "HC0"

    slope = float(fit.params["need"])
    slope_se = float(fit.bse["need"])
    if not np.isfinite(slope_se) or slope_se <= 0:
        raise ValueError(
            "the standard error of the need slope cannot be estimated (an area has leverage 1 "
            "or the model did not converge): check for an extreme area or too many controls"
        )
    p_value = float(fit.pvalues["need"])
    lower, upper = (float(v) for v in fit.conf_int(alpha=1.0 - level).loc["need"])
    need_sd = float(np.std(need_values, ddof=1))
    if model == "wls":
        per_sd = slope * need_sd
        per_sd_ci = (lower * need_sd, upper * need_sd)
        rate_ratio = None
    else:
        overall = float(np.sum(outcome) / np.sum(weights))
        rate_ratio = float(np.exp(slope * need_sd))
        per_sd = (rate_ratio - 1.0) * overall
        per_sd_ci = (
            float(np.expm1(lower * need_sd) * overall),
            float(np.expm1(upper * need_sd) * overall),
        )
    direction, verdict = _verdict(slope, p_value, 1.0 - level,
                                  higher_is_worse=provision_polarity == "higher_is_worse",
                                  measure=provision_name)

    if deprivation_decile is None:
        groups, source = need_deciles(need_values), "need"
    else:
        groups, source = _deciles(deprivation_decile), "deprivation_decile"
    gradient = decile_gradient(per_head, weights, groups, level)

    return InverseCareResult(
        model=model,
        n=int(outcome.size),
        slope=slope,
        slope_se=slope_se,
        slope_ci=(lower, upper),
        p_value=p_value,
        slope_per_sd=float(per_sd),
        slope_per_sd_ci=(float(per_sd_ci[0]), float(per_sd_ci[1])),
        rate_ratio_per_sd=rate_ratio,
        need_sd=need_sd,
        r_squared=r_squared,
        confidence=level,
        direction=direction,
        verdict=verdict,
        decile_gradient=gradient,
        decile_source=source,
        controls=control_names,
        covariance=covariance,
        fit=fit,
    )
