"""Single-group pre–post comparison: change, effect sizes, attrition and reliable change."""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._validate import check_choice, check_level, check_reliability, require_columns
from ..errors import DataError, EvalkitWarning, ParameterError
from ..reliability.change import reliable_change
from ..results import Result
from ._common import numeric_column, t_interval
from .impute import check_mi, mi_mean_change

__all__ = ["prepost", "PrePostResult"]


@dataclass(frozen=True)
class PrePostResult(Result):
    """Result of :func:`prepost`. Change is post − pre; see the function for formulas."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p: float
    n: int
    level: float
    method: str
    t: float
    df: int
    mean_pre: float
    mean_post: float
    sd_pre: float
    sd_post: float
    sd_change: float
    r_pre_post: float
    dz: float
    dz_ci_low: float
    dz_ci_high: float
    d_av: float
    d_av_ci_low: float
    d_av_ci_high: float
    g_av: float
    g_av_ci_low: float
    g_av_ci_high: float
    wilcoxon_w: float
    wilcoxon_p: float
    n_rows: int
    n_baseline_only: int
    n_followup_only: int
    n_neither: int
    attrition_rate: float
    reliability: float | None
    reliability_source: str | None
    rci_threshold: float | None
    n_improved: int | None
    n_unchanged: int | None
    n_deteriorated: int | None
    higher_is_better: bool
    attrition: pd.DataFrame = field(repr=False)
    pairs: pd.DataFrame = field(repr=False)
    missing: str = "listwise"
    m: int | None = None
    fmi: float = math.nan
    complete_case_estimate: float = math.nan
    complete_case_ci_low: float = math.nan
    complete_case_ci_high: float = math.nan

    _title = "Pre–post change"

    def to_frame(self) -> pd.DataFrame:
        """One row per estimate: mean change, dz, d_av, g_av."""
        rows = [
            ("mean_change", self.estimate, self.se, self.ci_low, self.ci_high, self.p),
            ("cohen_dz", self.dz, math.nan, self.dz_ci_low, self.dz_ci_high, self.p),
            ("cohen_d_av", self.d_av, math.nan, self.d_av_ci_low, self.d_av_ci_high, math.nan),
            ("hedges_g_av", self.g_av, math.nan, self.g_av_ci_low, self.g_av_ci_high, math.nan),
        ]
        return self._tidy(rows)

    def reliable_change(self) -> pd.DataFrame:
        """Counts and percentages of reliable improvement, no change and deterioration."""
        if self.rci_threshold is None:
            raise ParameterError(
                "no reliability was given, so reliable change was not computed",
                key="reliability",
                expected="tool= or reliability= in prepost()",
            )
        counts = [self.n_improved, self.n_unchanged, self.n_deteriorated]
        return pd.DataFrame(
            {
                "category": ["reliably improved", "no reliable change", "reliably deteriorated"],
                "n": counts,
                "percent": [100.0 * c / self.n for c in counts],
            }
        )

    def plot(self, ax: Any = None) -> Any:
        """Each person's pre and post score joined by a line, with the means and their CIs."""
        from ..plots.designs import prepost_plot

        return prepost_plot(self, ax=ax)


def _dz_interval(t: float, n: int, level: float) -> tuple[float, float]:
    """Exact CI for dz by inverting the noncentral t (Cumming & Finch 2001)."""
    from scipy import optimize, stats

    df = n - 1
    root_n = math.sqrt(n)
    alpha = 1 - level

    def bound(target: float) -> float:
        # find delta with P(T >= t | noncentrality delta) = target
        def f(delta: float) -> float:
            return stats.nct.sf(t, df, delta) - target

        lo, hi = t - 10.0, t + 10.0
        while f(lo) > 0:
            lo -= 10.0
        while f(hi) < 0:
            hi += 10.0
        return optimize.brentq(f, lo, hi, xtol=1e-10)

    return bound(alpha / 2) / root_n, bound(1 - alpha / 2) / root_n


def _published(value: Any) -> tuple[float, str]:
    """A tool's published reliability: a number, or records with ``value`` (and ``scale``,
    ``statistic``); the first record for the total score is used."""
    if isinstance(value, (int, float)):
        return float(value), "reliability"
    records = list(value)
    if not records:
        raise ValueError("the tool lists no published reliability")
    totals = [rec for rec in records if getattr(rec, "scale", "total") == "total"]
    rec = (totals or records)[0]
    return float(rec.value), str(getattr(rec, "statistic", "reliability"))


def _lookup_reliability(
    tool: str | None, reliability: float | None
) -> tuple[float | None, str | None]:
    if reliability is not None:
        r = check_reliability(reliability)
        return r, "given"
    if tool is None:
        return None, None
    try:
        from .. import tools  # built elsewhere; optional at this layer

        r, what = _published(tools.get(tool).published_reliability)
    except Exception as exc:  # unknown tool, no published value, or tools not available
        raise ParameterError(
            f"no published reliability was found for tool {tool!r} ({exc})",
            key="tool",
            expected="a tool known to evalkit.tools, or pass reliability= directly",
        ) from None
    return check_reliability(r, key="tool"), f"published {what} of {tool}"


def prepost(
    df: pd.DataFrame,
    *,
    pre: str,
    post: str,
    tool: str | None = None,
    reliability: float | None = None,
    higher_is_better: bool = True,
    level: float = 0.95,
    missing: str = "listwise",
    m: int = 20,
    seed: int | None = None,
) -> PrePostResult:
    r"""Compare the same people before and after a service (single-group pre–post design).

    A pre–post comparison without a comparison group shows change, not the effect of
    the service: regression to the mean, maturation and practice effects also change
    scores. Use it to describe change, and :func:`ancova` or :func:`propensity` when a
    comparison group exists.

    Parameters
    ----------
    df
        One row per person.
    pre, post
        Columns with the baseline and follow-up scores.
    tool
        Name of a measurement tool in :mod:`evalkit.tools`; its published reliability
        is used for reliable change unless ``reliability`` is given.
    reliability
        Test–retest or internal-consistency reliability *r* of the score (0 < r < 1).
    higher_is_better
        Direction of improvement, for the reliable-change categories (False for
        symptom scales such as EPDS or SDQ total difficulties).
    level
        Confidence level of the intervals.
    missing, m, seed
        ``"listwise"`` (default) analyses complete pairs. ``"mi"`` also imputes the missing
        score of people with only one of the two, ``m`` times by chained equations
        (predictive mean matching, :func:`evalkit.designs.impute.impute_chained`), and pools
        the mean change by Rubin's rules with Barnard–Rubin df (:func:`pool_rubin`, as
        ``mice::pool.scalar``): ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``p``, ``t``,
        ``df`` become the pooled values, ``fmi`` the fraction of missing information, and
        ``complete_case_estimate`` (with interval) keeps the complete-pairs result; the
        effect sizes, Wilcoxon test and reliable change stay on complete pairs.

    Returns
    -------
    PrePostResult
        ``estimate`` is the mean change (post − pre) among people with both scores,
        with the paired-t interval; effect sizes with intervals; the Wilcoxon
        signed-rank test; attrition counts and the ``attrition`` table (baseline of
        completers against non-completers); reliable-change counts.

    Notes
    -----
    With *n* pairs, differences :math:`d_i`, mean :math:`\bar d`, SD :math:`s_d`:

    - mean change :math:`\bar d \pm t_{n-1}\, s_d/\sqrt n`;
    - Cohen's :math:`d_z = \bar d / s_d`, exact interval by inverting the noncentral
      *t* with *n* − 1 df (Cumming & Finch 2001);
    - :math:`d_{av} = \bar d / \sqrt{(s_{pre}^2 + s_{post}^2)/2}` (Cumming 2012, as pingouin), with
      the large-sample variance :math:`(1/n + d^2/(2n))\cdot 2(1-r)` where *r* is the
      pre–post correlation (Borenstein et al. 2009, eq. 4.28) and a normal interval;
    - Hedges' :math:`g_{av} = J d_{av}`, :math:`J = 1 - 3/(4\cdot 2n - 9)` as in Lakens (2013)
      and pingouin; its interval is *J* times that of :math:`d_{av}`;
    - reliable change (Jacobson & Truax 1991): :math:`S_{diff} = \sqrt2\, s_{pre}\sqrt{1-r_{xx}}`,
      :math:`RCI_i = d_i / S_{diff}`; :math:`|RCI| > z_{0.975} = 1.96` is reliable change,
      in the direction set by ``higher_is_better``. :math:`s_{pre}` is the baseline SD of
      the people analysed. The counts come from :func:`evalkit.reliability.reliable_change`.

    Attrition: people with a baseline score but no follow-up are compared with the
    completers on the baseline (means, SDs, standardised difference with the pooled SD,
    Welch *t* test). People with a follow-up but no baseline are counted and not used.

    References
    ----------
    Jacobson, N. S. & Truax, P. (1991). Clinical significance. *J Consult Clin Psychol* 59, 12–19.
    Lakens, D. (2013). Calculating and reporting effect sizes. *Front Psychol* 4, 863.
    Borenstein, M. et al. (2009). *Introduction to Meta-Analysis*, ch. 4. Wiley.
    Cumming, G. & Finch, S. (2001). A primer on ... confidence intervals. *Educ Psychol Meas* 61, 532–574.

    Examples
    --------
    >>> import pandas as pd
    >>> from evalkit.designs.prepost import prepost
    >>> d = pd.DataFrame({"pre": [10, 12, 9, 14, 11, 13], "post": [12, 15, 9, 17, 12, 16]})
    >>> res = prepost(d, pre="pre", post="post", reliability=0.8)
    >>> round(res.estimate, 3), res.n
    (2.0, 6)
    """
    level = check_level(level)
    missing = check_choice("missing", missing, ("listwise", "mi"))
    require_columns(df, [pre, post], what="data")
    if missing == "mi":
        m = check_mi(m, df[post], column=post)
    if pre == post:
        raise ParameterError(
            "pre and post are the same column", key="post", expected="two different columns"
        )
    x_all = numeric_column(df, pre)
    y_all = numeric_column(df, post)
    r_xx, r_source = _lookup_reliability(tool, reliability)

    has_pre = ~np.isnan(x_all)
    has_post = ~np.isnan(y_all)
    both = has_pre & has_post
    n = int(both.sum())
    if n < 2:
        raise DataError(
            f"only {n} people have both a {pre!r} and a {post!r} score",
            columns=[pre, post],
            allowed="at least two complete pairs",
        )
    x, y = x_all[both], y_all[both]
    d = y - x
    n_base_only = int((has_pre & ~has_post).sum())
    n_follow_only = int((~has_pre & has_post).sum())
    n_neither = int((~has_pre & ~has_post).sum())

    mean_d = float(d.mean())
    sd_d = float(d.std(ddof=1))
    sd_pre, sd_post = float(x.std(ddof=1)), float(y.std(ddof=1))
    if sd_d == 0:
        raise DataError(
            "every pair changed by exactly the same amount; the variability of "
            "change is zero, so no interval or test is possible",
            columns=[pre, post],
            allowed="scores that vary",
        )
    dfree = n - 1
    se = sd_d / math.sqrt(n)
    t = mean_d / se
    from scipy import stats

    p = float(2 * stats.t.sf(abs(t), dfree))
    lo, hi = t_interval(mean_d, se, dfree, level)
    r = float(np.corrcoef(x, y)[0, 1]) if sd_pre > 0 and sd_post > 0 else math.nan

    dz = mean_d / sd_d
    dz_lo, dz_hi = _dz_interval(t, n, level)
    sd_av = math.sqrt((sd_pre**2 + sd_post**2) / 2)
    if sd_av > 0:
        d_av = mean_d / sd_av
        r_use = r if np.isfinite(r) else 0.0
        var_dav = (1 / n + d_av**2 / (2 * n)) * 2 * (1 - r_use)
        z = stats.norm.ppf(0.5 + level / 2)
        d_av_lo, d_av_hi = d_av - z * math.sqrt(var_dav), d_av + z * math.sqrt(var_dav)
    else:
        d_av = d_av_lo = d_av_hi = math.nan
    j = 1 - 3 / (4 * 2 * n - 9)  # Lakens (2013) / pingouin, with n_x + n_y = 2n
    g_av, g_lo, g_hi = j * d_av, j * d_av_lo, j * d_av_hi

    if np.all(d == 0):
        w_stat, w_p = math.nan, math.nan
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            w = stats.wilcoxon(y, x)
        w_stat, w_p = float(w.statistic), float(w.pvalue)

    # reliable change
    if r_xx is not None:
        if sd_pre == 0:
            raise DataError(
                "all baseline scores are equal, so the reliable change index cannot be computed",
                column=pre,
            )
        rc = reliable_change(
            x, y, reliability=r_xx, sd=sd_pre, higher_is_better=bool(higher_is_better)
        )
        threshold = rc.threshold
        counts = rc.summary.set_index("term")["n"]
        improved = int(counts["reliably improved"])
        deteriorated = int(counts["reliably deteriorated"])
        unchanged = int(counts["no reliable change"])
    else:
        threshold = improved = unchanged = deteriorated = None

    # attrition: baseline of completers v. people lost to follow-up
    comp = x_all[both]
    lost = x_all[has_pre & ~has_post]
    rows = []
    for name, v in (("completers", comp), ("lost to follow-up", lost)):
        rows.append(
            {
                "group": name,
                "n": len(v),
                "mean_pre": float(v.mean()) if len(v) else math.nan,
                "sd_pre": float(v.std(ddof=1)) if len(v) > 1 else math.nan,
            }
        )
    att = pd.DataFrame(rows).set_index("group")
    if len(lost) >= 2:
        pooled = math.sqrt(
            ((len(comp) - 1) * comp.var(ddof=1) + (len(lost) - 1) * lost.var(ddof=1))
            / (len(comp) + len(lost) - 2)
        )
        smd = (lost.mean() - comp.mean()) / pooled if pooled > 0 else math.nan
        welch = stats.ttest_ind(lost, comp, equal_var=False)
        att["smd_vs_completers"] = [0.0, float(smd)]
        att["welch_p"] = [math.nan, float(welch.pvalue)]
    else:
        att["smd_vs_completers"] = [0.0, math.nan]
        att["welch_p"] = [math.nan, math.nan]
    n_with_base = int(has_pre.sum())
    attrition_rate = n_base_only / n_with_base if n_with_base else math.nan
    if n_with_base and attrition_rate > 0.2:
        warnings.warn(
            f"{n_base_only} of {n_with_base} people with a baseline score ({attrition_rate:.0%}) "
            "have no follow-up; if they differ from the completers the change is biased "
            "(see .attrition).",
            EvalkitWarning,
            stacklevel=2,
        )

    pairs = pd.DataFrame({"pre": x, "post": y}, index=df.index[both])

    mi: dict[str, Any] = {}
    if missing == "mi":
        pooled = mi_mean_change(x_all, y_all, m=m, seed=seed, level=level)
        mi = {
            "estimate": pooled.estimate,
            "se": pooled.se,
            "ci_low": pooled.ci_low,
            "ci_high": pooled.ci_high,
            "p": pooled.p,
            "t": pooled.estimate / pooled.se,
            "df": pooled.df,
            "n": int((has_pre | has_post).sum()),
            "method": f"mean change post - pre, {m} imputations (chained equations), Rubin's rules",
            "missing": "mi",
            "m": m,
            "fmi": pooled.fmi,
            "complete_case_estimate": mean_d,
            "complete_case_ci_low": lo,
            "complete_case_ci_high": hi,
        }

    result = PrePostResult(
        estimate=mean_d,
        se=se,
        ci_low=lo,
        ci_high=hi,
        p=p,
        n=n,
        level=level,
        method="paired t (mean change post - pre)",
        t=float(t),
        df=dfree,
        mean_pre=float(x.mean()),
        mean_post=float(y.mean()),
        sd_pre=sd_pre,
        sd_post=sd_post,
        sd_change=sd_d,
        r_pre_post=r,
        dz=dz,
        dz_ci_low=dz_lo,
        dz_ci_high=dz_hi,
        d_av=d_av,
        d_av_ci_low=d_av_lo,
        d_av_ci_high=d_av_hi,
        g_av=g_av,
        g_av_ci_low=g_lo,
        g_av_ci_high=g_hi,
        wilcoxon_w=w_stat,
        wilcoxon_p=w_p,
        n_rows=len(df),
        n_baseline_only=n_base_only,
        n_followup_only=n_follow_only,
        n_neither=n_neither,
        attrition_rate=attrition_rate,
        reliability=r_xx,
        reliability_source=r_source,
        rci_threshold=threshold,
        n_improved=improved,
        n_unchanged=unchanged,
        n_deteriorated=deteriorated,
        higher_is_better=bool(higher_is_better),
        attrition=att,
        pairs=pairs,
    )
    return dataclasses.replace(result, **mi) if mi else result
