"""Minimum detectable effect sizes, power and sample size for evaluation designs.

Designs (PowerUp!, Dong & Maynard 2013; names of the PowerUpR functions in brackets):

========================  =============================================  ===================
design                    sizes and parameters                           PowerUpR
========================  =============================================  ===================
``"individual"``          ``n``; ``p, r2, g``                            ``ira1r1``
``"blocked_individual"``  ``n`` per block, ``J`` blocks; ``p, r2, g``    ``bira2c1``
``"cluster2"``            ``n`` per cluster, ``J`` clusters; ``rho2``,   ``cra2r2``
                          ``p, r2, r2_2, g``
``"cluster3"``            ``n``, ``J`` per site, ``K`` sites; ``rho2``,  ``cra3r3``
                          ``rho3``, ``p, r2, r2_2, r2_3, g``
``"paired"``              ``n`` pairs; ``corr``                          (paired t test)
``"proportions"``         ``n`` in all; ``p``                            ``pwr.2p2n.test``
========================  =============================================  ===================

``p`` is the share randomised to treatment (0.5), ``r2`` the share of individual-level
outcome variance explained by covariates, ``r2_2``/``r2_3`` the same at levels 2 and 3,
``rho2``/``rho3`` the intraclass correlations and ``g`` the number of covariates at the level
of randomisation. Effect sizes are standardised mean differences (outcome SD units), except
for ``"proportions"``, where ``es`` is Cohen's h (:func:`cohens_h`) and the test is the normal
approximation of pwr's ``pwr.2p.test`` / ``pwr.2p2n.test`` (Cohen 1988, ch. 6).

Every design takes ``attrition=`` (0 by default), the share of the recruited individuals
expected to be lost before analysis: sizes are those recruited and the analysis uses
``n * (1 - attrition)`` (per cluster in the cluster designs). ``"cluster2"`` takes ``cv=``,
the coefficient of variation of cluster size, for unequal clusters (Eldridge, Ashby & Kerry
2006): the design effect is :math:`1 + ((cv^2 + 1)m - 1)\\rho`, with ``m`` the mean cluster
size, and the between-cluster variance term is multiplied by :math:`1 + cv^2`.

Every design has a standard error of the standardised effect :math:`SE` (its "SSE") and
degrees of freedom ``df``. PowerUp!'s MDES is :math:`M \\cdot SE` with
:math:`M = t_{1-\\alpha/2,\\,df} + t_{\\text{power},\\,df}` (:math:`t_{1-\\alpha}` one-tailed).
Power is computed as PowerUpR's ``power.*`` functions do: from the noncentral t distribution
with noncentrality :math:`\\lambda = ES/SE`,
:math:`1 - T_{df,\\lambda}(t_{1-\\alpha/2}) + T_{df,\\lambda}(-t_{1-\\alpha/2})`.
For the paired design the MDES is the exact inverse of that power (as statsmodels
``TTestPower``); pass ``exact=True`` to get the exact inverse for the other designs too.

>>> from evalkit import power
>>> round(power.mdes("individual", n=250).estimate, 3)
0.356
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from .errors import ParameterError
from .results import Result

__all__ = [
    "DESIGNS",
    "cohens_h",
    "PowerResult",
    "mdes",
    "power",
    "sample_size",
    "mdes_curve",
    "plot_mdes",
]


# -- designs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Design:
    label: str
    sizes: tuple[str, ...]
    solve_for: str
    required: tuple[str, ...]
    optional: dict[str, Any]
    df: Callable[[dict[str, Any]], float]
    sse: Callable[[dict[str, Any]], float]
    powerup: bool = True


def _pq(d: dict[str, Any]) -> float:
    return d["p"] * (1 - d["p"])


def _sse_cluster2(d: dict[str, Any]) -> float:
    # unequal cluster sizes (Eldridge et al. 2006): the ICC term grows by 1 + cv^2, which
    # turns the design effect 1 + (m - 1)rho into 1 + ((cv^2 + 1)m - 1)rho
    between = d["rho2"] * (1 - d["r2_2"]) * (1 + d["cv"] ** 2) / (_pq(d) * d["J"])
    within = (1 - d["rho2"]) * (1 - d["r2"]) / (_pq(d) * d["J"] * d["n"])
    return math.sqrt(between + within)


def _sse_cluster3(d: dict[str, Any]) -> float:
    pq, n, j, k = _pq(d), d["n"], d["J"], d["K"]
    level3 = d["rho3"] * (1 - d["r2_3"]) / (pq * k)
    level2 = d["rho2"] * (1 - d["r2_2"]) / (pq * j * k)
    level1 = (1 - d["rho2"] - d["rho3"]) * (1 - d["r2"]) / (pq * j * k * n)
    return math.sqrt(level3 + level2 + level1)


def _sse_paired(d: dict[str, Any]) -> float:
    # effect in SD of the change scores (dz); with corr, in SD of the outcome itself
    scale = 1.0 if d["corr"] is None else 2 * (1 - d["corr"])
    return math.sqrt(scale / d["n"])


_COMMON = {"p": 0.5, "r2": 0.0, "g": 0}

DESIGNS: dict[str, _Design] = {
    "individual": _Design(
        label="individual random assignment",
        sizes=("n",),
        solve_for="n",
        required=(),
        optional=dict(_COMMON),
        df=lambda d: d["n"] - d["g"] - 2,
        sse=lambda d: math.sqrt((1 - d["r2"]) / (_pq(d) * d["n"])),
    ),
    "blocked_individual": _Design(
        label="blocked individual random assignment (constant effects)",
        sizes=("n", "J"),
        solve_for="J",
        required=(),
        optional=dict(_COMMON),
        df=lambda d: d["J"] * (d["n"] - 1) - d["g"] - 1,
        sse=lambda d: math.sqrt((1 - d["r2"]) / (_pq(d) * d["J"] * d["n"])),
    ),
    "cluster2": _Design(
        label="two-level cluster random assignment",
        sizes=("n", "J"),
        solve_for="J",
        required=("rho2",),
        optional={**_COMMON, "r2_2": 0.0, "cv": 0.0},
        df=lambda d: d["J"] - d["g"] - 2,
        sse=_sse_cluster2,
    ),
    "cluster3": _Design(
        label="three-level cluster random assignment",
        sizes=("n", "J", "K"),
        solve_for="K",
        required=("rho2", "rho3"),
        optional={**_COMMON, "r2_2": 0.0, "r2_3": 0.0},
        df=lambda d: d["K"] - d["g"] - 2,
        sse=_sse_cluster3,
    ),
    "paired": _Design(
        label="paired pre-post (paired t test)",
        sizes=("n",),
        solve_for="n",
        required=(),
        optional={"corr": None},
        df=lambda d: d["n"] - 1,
        sse=_sse_paired,
        powerup=False,
    ),
    "proportions": _Design(
        label="two proportions (Cohen's h, normal approximation)",
        sizes=("n",),
        solve_for="n",
        required=(),
        optional={"p": 0.5},
        # pwr.2p2n.test: h * sqrt(n1 n2 / (n1 + n2)) with n1 = p n, n2 = (1 - p) n
        df=lambda d: math.inf,
        sse=lambda d: math.sqrt(1 / (_pq(d) * d["n"])),
        powerup=False,
    ),
}
for _spec in DESIGNS.values():
    _spec.optional["attrition"] = 0.0


def _analysed(d: dict[str, Any]) -> dict[str, Any]:
    """The sizes analysed after attrition (individuals lost at the lowest level)."""
    if not d.get("attrition"):
        return d
    return {**d, "n": d["n"] * (1 - d["attrition"])}


def _design_effect(design: str, d: dict[str, Any]) -> float | None:
    a = _analysed(d)
    if design == "cluster2":
        return 1 + ((a["cv"] ** 2 + 1) * a["n"] - 1) * a["rho2"]
    if design == "cluster3":
        return 1 + (a["n"] - 1) * a["rho2"] + (a["n"] * a["J"] - 1) * a["rho3"]
    if design in ("individual", "proportions"):
        return 1.0
    return None


def cohens_h(p1: float, p2: float) -> float:
    """Cohen's h, the effect size for two proportions (as pwr's ``ES.h``).

    .. math:: h = 2\\arcsin\\sqrt{p_1} - 2\\arcsin\\sqrt{p_2}

    Parameters
    ----------
    p1, p2
        Proportions strictly between 0 and 1 (service group first).

    References
    ----------
    Cohen J (1988). Statistical power analysis for the behavioral sciences, 2nd ed., ch. 6.

    Examples
    --------
    >>> round(cohens_h(0.65, 0.50), 6)
    0.304693
    """
    a = _between("p1", p1, 0.0, 1.0, lo_open=True)
    b = _between("p2", p2, 0.0, 1.0, lo_open=True)
    return 2 * math.asin(math.sqrt(a)) - 2 * math.asin(math.sqrt(b))


_SIZE_WORDS = {"n": "n", "J": "J", "K": "K"}


# -- checks -------------------------------------------------------------------------------------


def _number(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ParameterError(f"{key}={value!r} is not a number", key=key, expected="a number")
    return float(value)


def _between(key: str, value: Any, lo: float, hi: float, *, lo_open: bool = False) -> float:
    v = _number(key, value)
    ok = (lo < v if lo_open else lo <= v) and v < hi
    if not ok:
        bracket = "(" if lo_open else "["
        raise ParameterError(
            f"{key}={value!r} is out of range",
            key=key,
            expected=f"a number in {bracket}{lo:g}, {hi:g})",
        )
    return v


def _resolve(
    design: str, params: dict[str, Any], *, missing_ok: Sequence[str] = ()
) -> tuple[_Design, dict[str, Any]]:
    """Validate ``params`` for ``design`` and fill in defaults."""
    if design not in DESIGNS:
        raise ParameterError(
            f"design={design!r} is not one of the designs",
            key="design",
            expected=" or ".join(repr(d) for d in DESIGNS),
        )
    spec = DESIGNS[design]
    allowed = set(spec.sizes) | set(spec.required) | set(spec.optional)
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise ParameterError(
            f"{', '.join(unknown)} not used by the {design!r} design",
            key=unknown[0],
            expected="some of " + ", ".join(sorted(allowed)),
        )
    needed = [k for k in (*spec.sizes, *spec.required) if k not in params and k not in missing_ok]
    if needed:
        raise ParameterError(
            f"the {design!r} design needs {', '.join(needed)}",
            key=needed[0],
            expected="a value for each of " + ", ".join(needed),
        )
    d = {**spec.optional, **params}
    for key in spec.sizes:
        if key in d:
            d[key] = _between(key, d[key], 0.0, math.inf, lo_open=True)
    if "p" in d:
        d["p"] = _between("p", d["p"], 0.0, 1.0, lo_open=True)
    for key in ("r2", "r2_2", "r2_3", "rho2", "rho3"):
        if key in d:
            d[key] = _between(key, d[key], 0.0, 1.0)
    if design == "cluster3" and d["rho2"] + d["rho3"] >= 1:
        raise ParameterError(
            "rho2 + rho3 must be below 1",
            key="rho2, rho3",
            expected="intraclass correlations that sum to less than 1",
        )
    if "g" in d and (
        isinstance(d["g"], bool) or not isinstance(d["g"], numbers.Integral) or d["g"] < 0
    ):
        raise ParameterError(
            f"g={d['g']!r} is not allowed",
            key="g",
            expected="a whole number of covariates, 0 or more",
        )
    if d.get("corr") is not None:
        d["corr"] = _between("corr", d["corr"], -1.0, 1.0, lo_open=True)
    d["attrition"] = _between("attrition", d["attrition"], 0.0, 1.0)
    if "cv" in d:
        d["cv"] = _between("cv", d["cv"], 0.0, math.inf)
    return spec, d


def _check_test(alpha: Any, two_tailed: Any) -> tuple[float, bool]:
    alpha = _between("alpha", alpha, 0.0, 1.0, lo_open=True)
    if not isinstance(two_tailed, bool):
        raise ParameterError(
            f"two_tailed={two_tailed!r} is not allowed", key="two_tailed", expected="True or False"
        )
    return alpha, two_tailed


def _df_sse(design: str, spec: _Design, d: dict[str, Any]) -> tuple[float, float]:
    d = _analysed(d)
    df = spec.df(d)
    if df < 1:
        sizes = ", ".join(f"{k}={d[k]:g}" for k in spec.sizes)
        raise ParameterError(
            f"the sample is too small for the {design!r} design ({sizes} leaves {df:g} "
            "degrees of freedom)",
            key=spec.solve_for,
            expected="larger samples (or fewer covariates g)",
        )
    return df, spec.sse(d)


# -- the statistics ---------------------------------------------------------------------------


def _critical(alpha: float, df: float, two_tailed: bool) -> float:
    return float(stats.t.ppf(1 - alpha / 2 if two_tailed else 1 - alpha, df))


def _multiplier(alpha: float, target: float, df: float, two_tailed: bool) -> float:
    # PowerUp!: M = T1 + T2 for power >= .5 (T1 - |T2| below), i.e. T1 + t_power
    return _critical(alpha, df, two_tailed) + float(stats.t.ppf(target, df))


def _power_value(es: float, sse: float, df: float, alpha: float, two_tailed: bool) -> float:
    ncp = es / sse
    crit = _critical(alpha, df, two_tailed)
    if math.isinf(df):  # normal test (pwr.2p.test): both tails when two-sided
        value = stats.norm.sf(crit - ncp)
        if two_tailed:
            value += stats.norm.cdf(-crit - ncp)
        return float(value)
    value = stats.nct.sf(crit, df, ncp)
    if two_tailed:
        value += stats.nct.cdf(-crit, df, ncp)
    return float(value)


def _exact_mdes(sse: float, df: float, alpha: float, target: float, two_tailed: bool) -> float:
    if target <= alpha / (2 if two_tailed else 1):
        raise ParameterError(
            "power must exceed the significance level",
            key="power",
            expected=f"a number between {alpha:g} and 1",
        )
    upper = max(_multiplier(alpha, target, df, two_tailed), 1.0) * sse * 2
    while _power_value(upper, sse, df, alpha, two_tailed) < target:
        upper *= 2
    return float(
        optimize.brentq(
            lambda es: _power_value(es, sse, df, alpha, two_tailed) - target,
            0.0,
            upper,
            xtol=1e-12,
            rtol=1e-12,
        )
    )


# -- the result -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PowerResult(Result):
    """MDES, power or sample size for one design.

    ``estimate`` is the quantity asked for: the MDES (:func:`mdes`), the power
    (:func:`power`) or the required size (:func:`sample_size`, the parameter in
    ``solve_for``). ``mdes``, ``power`` and ``es`` hold all three views; ``se`` is the
    standard error of the standardised effect, ``df`` its degrees of freedom, ``multiplier``
    PowerUp!'s M and ``ncp`` the noncentrality at ``es`` (or at the MDES).
    """

    design: str
    quantity: str
    estimate: float
    mdes: float
    power: float
    es: float | None
    alpha: float
    two_tailed: bool
    df: float
    se: float
    multiplier: float
    ncp: float
    ci_low: float | None
    ci_high: float | None
    level: float | None
    method: str
    solve_for: str | None
    target_power: float
    params: dict[str, Any] = field(repr=False)
    design_effect: float | None = None

    _title = "Power analysis"

    def _scalar_fields(self) -> dict[str, Any]:
        out = super()._scalar_fields()
        out.update({k: v for k, v in self.params.items() if v is not None})
        return {k: v for k, v in out.items() if v is not None}

    def can_detect(self, es: float) -> bool:
        """True when an effect of size ``es`` is at least the MDES (power at least the
        target)."""
        return abs(_number("es", es)) >= self.mdes

    def summary_text(self, *, unit: str = "families") -> str:
        """One plain-English sentence for reports."""
        sizes, p = DESIGNS[self.design].sizes, self.params
        if sizes == ("n",):
            size_text = f"{p['n']:g} {unit}"
        elif sizes == ("n", "J"):
            size_text = f"{p['J']:g} groups of {p['n']:g}"
        else:
            size_text = f"{p['K']:g} sites, each with {p['J']:g} groups of {p['n']:g}"
        test = "two-sided" if self.two_tailed else "one-sided"
        scale = "(Cohen's h)" if self.design == "proportions" else "standard deviations"
        text = (
            f"With {size_text}, the smallest effect this evaluation could reliably detect "
            f"is {self.mdes:.2f} {scale} ({self.power:.0%} power, "
            f"{self.alpha:.0%} {test} significance)."
        )
        if self.es is not None and self.quantity != "mdes":
            verdict = "could" if self.can_detect(self.es) else "could not"
            text += (
                f" An effect of {self.es:.2f} {'(h)' if self.design == 'proportions' else 'SD'}"
                f" {verdict} be detected reliably "
                f"(power {_power_value(self.es, self.se, self.df, self.alpha, self.two_tailed):.0%})."
            )
        return text

    def plot(self, ax: Any = None, *, vary: str | None = None, sizes: Any = None) -> Any:
        """MDES against sample size (the parameter ``vary``), this design marked."""
        fixed = {k: v for k, v in self.params.items() if v is not None}
        vary = vary or self.solve_for or DESIGNS[self.design].solve_for
        return plot_mdes(
            self.design,
            vary=vary,
            sizes=sizes,
            es=self.es,
            alpha=self.alpha,
            power=self.target_power,
            two_tailed=self.two_tailed,
            ax=ax,
            **fixed,
        )


def _result(
    design: str,
    spec: _Design,
    d: dict[str, Any],
    *,
    quantity: str,
    estimate: float,
    mdes_value: float,
    power_value: float,
    es: float | None,
    alpha: float,
    two_tailed: bool,
    exact: bool,
    target_power: float = 0.8,
    solve_for: str | None = None,
) -> PowerResult:
    df, sse = _df_sse(design, spec, d)
    m = mdes_value / sse
    t1 = _critical(alpha, df, two_tailed)
    ci = (None, None)
    if quantity == "mdes" and not exact:
        # PowerUp!'s interval: where the estimate would fall if the true effect were the MDES
        ci = (mdes_value * (1 - t1 / m), mdes_value * (1 + t1 / m))
    method = "noncentral t (exact)" if exact else "PowerUp! (Dong & Maynard 2013)"
    if design == "proportions":
        method = "two proportions, Cohen's h, normal test (pwr.2p2n.test)"
    return PowerResult(
        design=design,
        quantity=quantity,
        estimate=estimate,
        mdes=mdes_value,
        power=power_value,
        es=es,
        alpha=alpha,
        two_tailed=two_tailed,
        df=df,
        se=sse,
        multiplier=m,
        ncp=(es if es is not None else mdes_value) / sse,
        ci_low=ci[0],
        ci_high=ci[1],
        level=None if ci[0] is None else 1 - alpha,
        method=method,
        solve_for=solve_for,
        target_power=target_power,
        params=dict(d),
        design_effect=_design_effect(design, d),
    )


def _mdes_value(
    design: str,
    spec: _Design,
    d: dict[str, Any],
    alpha: float,
    target: float,
    two_tailed: bool,
    exact: bool,
) -> float:
    df, sse = _df_sse(design, spec, d)
    if exact:
        return _exact_mdes(sse, df, alpha, target, two_tailed)
    return _multiplier(alpha, target, df, two_tailed) * sse


def _exact_flag(spec: _Design, exact: bool | None) -> bool:
    if exact is None:
        return not spec.powerup
    if not isinstance(exact, bool):
        raise ParameterError(
            f"exact={exact!r} is not allowed", key="exact", expected="True, False or None"
        )
    return exact


# -- public API -------------------------------------------------------------------------------


def mdes(
    design: str,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    two_tailed: bool = True,
    exact: bool | None = None,
    **params: Any,
) -> PowerResult:
    """Minimum detectable effect size (in SD units) of a design.

    PowerUp! (Dong & Maynard 2013): :math:`MDES = M \\cdot SE`,
    :math:`M = t_{1-\\alpha/2,\\,df} + t_{\\text{power},\\,df}`. For the two-level cluster design

    .. math::

        SE = \\sqrt{\\frac{\\rho_2(1-R^2_2)}{p(1-p)J} + \\frac{(1-\\rho_2)(1-R^2_1)}{p(1-p)Jn}},
        \\quad df = J - g - 2,

    and analogously for the other designs (see the module docstring). For ``"paired"`` (and
    with ``exact=True``) the MDES is the effect whose noncentral-t power equals ``power``.

    Parameters
    ----------
    design
        ``"individual"``, ``"blocked_individual"``, ``"cluster2"``, ``"cluster3"``,
        ``"paired"`` or ``"proportions"`` (``es`` is Cohen's h, ``n`` the total and ``p`` the
        share in the service group; the MDES is the exact inverse of pwr's power).
    alpha, power, two_tailed
        Significance level, target power and sidedness of the test.
    exact
        ``None`` (PowerUp!'s formula, exact for ``"paired"``), ``True`` or ``False``.
    **params
        Sample sizes (``n``, ``J``, ``K``) and design parameters (``p``, ``r2``, ``r2_2``,
        ``r2_3``, ``rho2``, ``rho3``, ``g``, ``corr``); ``attrition`` (every design, the share
        of recruited individuals lost before analysis, in [0, 1)); ``cv`` (``"cluster2"``,
        the coefficient of variation of cluster size, Eldridge et al. 2006).

    Returns
    -------
    PowerResult
        ``.estimate`` is the MDES; ``.ci_low``/``.ci_high`` PowerUp!'s interval around it;
        ``.design_effect`` the design effect of the cluster designs.

    References
    ----------
    Dong N, Maynard R (2013). PowerUp!: a tool for calculating minimum detectable effect sizes
    and minimum required sample sizes. J Res Educ Eff 6(1):24-67. Bulus M et al., PowerUpR.
    Eldridge SM, Ashby D, Kerry S (2006). Sample size for cluster randomized trials: effect of
    coefficient of variation of cluster size and analysis method. Int J Epidemiol 35:1292-1300.
    Cohen J (1988), ch. 6; Champely S, pwr (``pwr.2p.test``, ``pwr.2p2n.test``).

    Examples
    --------
    >>> round(mdes("cluster2", rho2=0.17, n=15, J=20).estimate, 3)
    0.629
    >>> mdes("cluster2", rho2=0.05, n=20, J=30, cv=0.5).design_effect
    2.2
    >>> round(mdes("paired", n=30).estimate, 3)
    0.529
    """
    alpha, two_tailed = _check_test(alpha, two_tailed)
    target = _between("power", power, 0.0, 1.0, lo_open=True)
    spec, d = _resolve(design, params)
    exact = _exact_flag(spec, exact)
    value = _mdes_value(design, spec, d, alpha, target, two_tailed, exact)
    return _result(
        design,
        spec,
        d,
        quantity="mdes",
        estimate=value,
        mdes_value=value,
        power_value=target,
        es=None,
        alpha=alpha,
        two_tailed=two_tailed,
        exact=exact,
        target_power=target,
    )


def power(
    design: str,
    *,
    es: float,
    alpha: float = 0.05,
    two_tailed: bool = True,
    **params: Any,
) -> PowerResult:
    """Statistical power to detect a standardised effect ``es``.

    As PowerUpR's ``power.*`` functions: with :math:`\\lambda = ES/SE` and the noncentral t
    distribution function :math:`T_{df,\\lambda}`,

    .. math::

        \\text{power} = 1 - T_{df,\\lambda}(t_{1-\\alpha/2,\\,df}) + T_{df,\\lambda}(-t_{1-\\alpha/2,\\,df})

    (one-tailed: :math:`1 - T_{df,\\lambda}(t_{1-\\alpha,\\,df})`).

    Parameters
    ----------
    design, alpha, two_tailed, **params
        As in :func:`mdes`.
    es
        The effect size hoped for, in SD units (Cohen's h for ``"proportions"``).

    Returns
    -------
    PowerResult
        ``.estimate`` is the power; ``.mdes`` the MDES at 80% power for comparison.

    Examples
    --------
    >>> round(power("cluster3", es=0.269, rho3=0.06, rho2=0.17, n=15, J=3, K=60).estimate, 2)
    0.8
    >>> round(power("proportions", es=0.3, n=160, two_tailed=False).estimate, 4)  # pwr.2p.test
    0.5997
    """
    alpha, two_tailed = _check_test(alpha, two_tailed)
    es = _number("es", es)
    spec, d = _resolve(design, params)
    df, sse = _df_sse(design, spec, d)
    value = _power_value(es, sse, df, alpha, two_tailed)
    exact = not spec.powerup
    ref = _mdes_value(design, spec, d, alpha, 0.8, two_tailed, exact)
    return _result(
        design,
        spec,
        d,
        quantity="power",
        estimate=value,
        mdes_value=ref,
        power_value=value,
        es=es,
        alpha=alpha,
        two_tailed=two_tailed,
        exact=exact,
    )


def _smallest_feasible(spec: _Design, d: dict[str, Any], key: str) -> int:
    value = 1
    while spec.df(_analysed({**d, key: value})) < 1:
        value += 1
        if value > 10_000:
            raise ParameterError("no sample size gives positive degrees of freedom", key=key)
    return value


def sample_size(
    design: str,
    *,
    es: float,
    power: float = 0.8,
    alpha: float = 0.05,
    two_tailed: bool = True,
    solve_for: str | None = None,
    **params: Any,
) -> PowerResult:
    """The smallest whole sample size at which power to detect ``es`` reaches ``power``.

    Solves for the top-level size by default (``n`` for ``"individual"`` and ``"paired"``,
    ``J`` blocks or clusters for ``"blocked_individual"`` and ``"cluster2"``, ``K`` sites for
    ``"cluster3"``), or for ``solve_for`` (e.g. ``"n"`` per cluster), holding the other sizes
    fixed. Power is the noncentral-t power of :func:`power`, so the answer is the smallest
    integer with ``power(...) >= power``. (PowerUpR's ``mrss.*`` iterate the MDES formula
    instead; both give the same answers on PowerUpR's cross-check examples.)

    Parameters
    ----------
    design, alpha, two_tailed, **params
        As in :func:`mdes`, without the size being solved for.
    es
        The effect size to detect (SD units, above 0).
    power
        Target power.
    solve_for
        Which size to solve for.

    Returns
    -------
    PowerResult
        ``.estimate`` is the required size, also in ``.params[solve_for]``; ``.power`` the
        power reached; ``.mdes`` the MDES at that size.

    Raises
    ------
    ParameterError
        When the target cannot be reached by increasing ``solve_for`` alone (for example,
        more families per cluster cannot make up for too few clusters).

    Examples
    --------
    >>> sample_size("paired", es=0.5).estimate
    34
    >>> sample_size("cluster2", es=0.629, rho2=0.17, n=15).estimate
    20
    """
    alpha, two_tailed = _check_test(alpha, two_tailed)
    target = _between("power", power, 0.0, 1.0, lo_open=True)
    es = _number("es", es)
    if design == "proportions":  # a fall (h < 0) needs as many as the same rise (pwr: "less")
        es = abs(es)
    if es <= 0:
        raise ParameterError(
            f"es={es!r} is not allowed", key="es", expected="an effect size above 0 (in SD units)"
        )
    spec = DESIGNS.get(design)
    if spec is None:
        _resolve(design, params)  # raises the standard message
    key = solve_for or spec.solve_for
    if key not in spec.sizes:
        raise ParameterError(
            f"solve_for={solve_for!r} is not a size of the {design!r} design",
            key="solve_for",
            expected=" or ".join(spec.sizes),
        )
    if key in params:
        raise ParameterError(f"{key} is being solved for, so do not pass it", key=key)
    spec, d = _resolve(design, params, missing_ok=(key,))

    def achieved(value: float) -> float:
        dd = {**d, key: float(value)}
        df, sse = _df_sse(design, spec, dd)
        return _power_value(es, sse, df, alpha, two_tailed)

    lo = _smallest_feasible(spec, d, key)
    if achieved(lo) >= target:
        best = lo
    else:
        hi = lo * 2
        while achieved(hi) < target:
            if hi > 10**8:
                limit = _mdes_value(
                    design, spec, {**d, key: 1e12}, alpha, target, two_tailed, not spec.powerup
                )
                raise ParameterError(
                    f"power {target:g} for es={es:g} cannot be reached by increasing {key} "
                    f"alone: however large {key} is, the MDES stays above {limit:.3g}",
                    key=key,
                    expected="a larger effect, more clusters/sites, or covariates",
                )
            lo, hi = hi, hi * 2
        while hi - lo > 1:  # power increases with every size: bisect on whole numbers
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if achieved(mid) < target else (lo, mid)
        best = hi
    d = {**d, key: float(best)}
    exact = not spec.powerup
    return _result(
        design,
        spec,
        d,
        quantity="sample_size",
        estimate=int(best),
        mdes_value=_mdes_value(design, spec, d, alpha, target, two_tailed, exact),
        power_value=achieved(best),
        es=es,
        alpha=alpha,
        two_tailed=two_tailed,
        exact=exact,
        target_power=target,
        solve_for=key,
    )


def mdes_curve(
    design: str,
    *,
    vary: str | None = None,
    sizes: Any = None,
    alpha: float = 0.05,
    power: float = 0.8,
    two_tailed: bool = True,
    exact: bool | None = None,
    **params: Any,
) -> pd.DataFrame:
    """MDES at a range of sample sizes (one column varied, the rest fixed).

    Returns a DataFrame with the varied size, ``mdes`` and ``df``. ``sizes`` defaults to a
    grid from the smallest feasible size to three times the given one (or 200).

    Examples
    --------
    >>> mdes_curve("individual", sizes=[100, 400])["mdes"].round(3).tolist()
    [0.566, 0.281]
    """
    alpha, two_tailed = _check_test(alpha, two_tailed)
    target = _between("power", power, 0.0, 1.0, lo_open=True)
    spec = DESIGNS.get(design)
    if spec is None:
        _resolve(design, params)
    vary = vary or spec.solve_for
    if vary not in spec.sizes:
        raise ParameterError(
            f"vary={vary!r} is not a size of the {design!r} design",
            key="vary",
            expected=" or ".join(spec.sizes),
        )
    fixed = {k: v for k, v in params.items() if k != vary}
    spec, d = _resolve(design, fixed, missing_ok=(vary,))
    exact = _exact_flag(spec, exact)
    if sizes is None:
        lo = _smallest_feasible(spec, d, vary)
        hi = max(3 * float(params.get(vary, 0)), lo + 10, 200 if vary == spec.solve_for else 50)
        sizes = np.unique(np.round(np.geomspace(lo, hi, 60)))
    sizes = [float(_between(vary, s, 0.0, math.inf, lo_open=True)) for s in np.atleast_1d(sizes)]
    rows = []
    for s in sizes:
        dd = {**d, vary: s}
        if spec.df(_analysed(dd)) < 1:
            continue
        rows.append(
            {
                vary: s,
                "mdes": _mdes_value(design, spec, dd, alpha, target, two_tailed, exact),
                "df": spec.df(_analysed(dd)),
            }
        )
    return pd.DataFrame(rows, columns=[vary, "mdes", "df"])


def plot_mdes(
    design: str,
    *,
    vary: str | None = None,
    sizes: Any = None,
    es: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    two_tailed: bool = True,
    ax: Any = None,
    **params: Any,
) -> Any:
    """Plot the MDES against sample size, marking the given design and the hoped-for ``es``.

    Returns a matplotlib Figure.

    Examples
    --------
    >>> fig = plot_mdes("cluster2", rho2=0.1, n=20, J=12, es=0.3)  # doctest: +SKIP
    """
    from .plots.power import mdes_plot

    spec = DESIGNS.get(design)
    if spec is None:
        _resolve(design, params)
    vary = vary or spec.solve_for
    curve = mdes_curve(
        design, vary=vary, sizes=sizes, alpha=alpha, power=power, two_tailed=two_tailed, **params
    )
    current = None
    if vary in params:
        current = mdes(design, alpha=alpha, power=power, two_tailed=two_tailed, **params)
    return mdes_plot(
        curve, vary=vary, current=current, es=es, label=spec.label, power=power, alpha=alpha, ax=ax
    )
