"""Deterministic synthetic data: the 20-area demo and generators for simulation tests.

Everything here is fictional and says so. Every generator takes a ``seed`` and
returns the same data for the same seed, with the true effects stored beside
the data so that estimators can be checked against them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "demo",
    "demo_areas",
    "demo_area_records",
    "demo_indicators",
    "demo_matrix",
    "demo_dose_slope",
    "DEMO_PLANNED_SESSIONS",
    "DEMO_FIDELITY_ITEMS",
    "individual_trial",
    "staggered_panel",
    "interrupted_series",
    "synthetic_panel",
    "SYNTHETIC_NOTICE",
]

# ----------------------------------------------------------------------------------------------
# Generators for individual-level designs (prepost, ancova, multilevel, propensity)
# ----------------------------------------------------------------------------------------------


def individual_trial(
    n: int,
    effect: float = 0.3,
    *,
    seed: int,
    clusters: int | None = None,
    icc: float = 0.1,
    confounding: float = 0.0,
    treated_share: float = 0.5,
    attrition: float = 0.0,
) -> pd.DataFrame:
    """Fictional person-level evaluation data with a known treatment effect.

    Each of ``n`` people has a continuous covariate ``x1`` ~ N(0, 1), a binary covariate
    ``x2`` ~ Bernoulli(0.4), a stable level ``a = 0.5·x1 + 0.5·(x2 − 0.4) + N(0, 0.5)``
    and, with ``clusters``, a cluster effect ``u`` (variance chosen so that the outcome's
    intraclass correlation within an arm is ``icc``). Then

    - ``baseline = a + u + N(0, 0.5)`` (variances, not SDs);
    - ``outcome = a + u + effect·treatment + N(0, 0.5)``.

    So ``outcome − baseline`` has mean ``effect`` among the treated and 0 among the
    untreated, and the effect is the same for everyone (ATE = ATT = ``effect``).
    Treatment: without clusters,
    ``P(T = 1) = logistic(logit(treated_share) + confounding·(x1 + x2 − 0.4))``
    (``treated_share`` each when ``confounding = 0``; larger values make treated people
    differ on ``x1`` and ``x2``, which also drive the outcome); with clusters, half the clusters
    (at random) are treated, people are spread evenly across clusters and
    ``confounding`` is not used. ``attrition`` is the share of outcomes (follow-up
    scores) set missing completely at random.

    The truth is stored in ``df.attrs["truth"]``: ``effect``, ``icc`` and ``design``.

    >>> d = individual_trial(200, 0.5, seed=3)
    >>> d.attrs["truth"]["effect"], len(d)
    (0.5, 200)
    """
    if n < 4:
        raise ValueError("n must be at least 4")
    rng = np.random.default_rng(seed)
    x1 = rng.normal(0.0, 1.0, n)
    x2 = (rng.random(n) < 0.4).astype(float)
    a = 0.5 * x1 + 0.5 * (x2 - 0.4) + rng.normal(0.0, np.sqrt(0.5), n)
    person_var = 0.25 + 0.25 * 0.24 + 0.5 + 0.5  # var(a) + residual variance of the outcome
    if clusters is not None:
        if clusters < 4:
            raise ValueError("clusters must be at least 4")
        cl = np.arange(n) % clusters
        rng.shuffle(cl)
        tau2 = icc / (1.0 - icc) * person_var
        u = rng.normal(0.0, np.sqrt(tau2), clusters)[cl]
        treated_clusters = rng.permutation(clusters)[: clusters // 2]
        treat = np.isin(cl, treated_clusters).astype(int)
    else:
        cl = None
        u = np.zeros(n)
        lin = np.log(treated_share / (1 - treated_share)) + confounding * (x1 + x2 - 0.4)
        treat = (rng.random(n) < 1.0 / (1.0 + np.exp(-lin))).astype(int)
    baseline = a + u + rng.normal(0.0, np.sqrt(0.5), n)
    outcome = a + u + effect * treat + rng.normal(0.0, np.sqrt(0.5), n)
    if attrition > 0:
        outcome[rng.random(n) < attrition] = np.nan
    data = {"id": np.arange(1, n + 1)}
    if cl is not None:
        data["cluster"] = cl + 1
    data.update(
        {
            "x1": x1,
            "x2": x2.astype(int),
            "baseline": baseline,
            "treatment": treat,
            "outcome": outcome,
        }
    )
    df = pd.DataFrame(data)
    df.attrs["truth"] = {
        "effect": float(effect),
        "icc": float(icc) if clusters else 0.0,
        "design": "cluster" if clusters else "individual",
        "note": "fictional data from evalkit.simulate.individual_trial",
    }
    return df


# ----------------------------------------------------------------------------------------------
# Generators for area-level designs (did, its, synthetic_control)
# ----------------------------------------------------------------------------------------------
def staggered_panel(
    *,
    n_units: int = 300,
    n_periods: int = 8,
    cohorts: tuple[int, ...] = (3, 5, 7),
    never_share: float = 0.3,
    effect: float = 1.0,
    growth: float = 1.0,
    cohort_shift: float = 1.0,
    noise: float = 1.0,
    seed: int = 0,
) -> pd.DataFrame:
    """A staggered-adoption panel with effects that differ by cohort and grow with exposure.

    Periods are numbered 1..``n_periods``; each treated unit belongs to one of
    ``cohorts`` (its first treated period), the rest (``never_share``) are never treated
    (``first_treated`` = 0). The untreated outcome follows parallel trends,
    ``unit effect + period effect + noise``; the effect in period t for cohort g is
    ``effect + growth * (t - g) + cohort_shift * (index of g)`` for t >= g. With
    ``growth > 0`` two-way fixed effects are biased (already-treated units act as
    controls), which the Callaway & Sant'Anna estimator avoids.

    ``df.attrs["truth"]`` holds ``att_gt`` (dict (g, t) -> true sample ATT),
    ``att_simple`` (the group-size weighted average over post-treatment cells) and
    ``att_event`` (dict event time -> effect).
    """
    rng = np.random.default_rng([seed, 6001])
    n_never = int(round(n_units * never_share))
    groups = np.concatenate(
        [
            np.zeros(n_never, dtype=int),
            rng.choice(np.asarray(cohorts, dtype=int), n_units - n_never),
        ]
    )
    unit_fe = rng.normal(0, 1, n_units) + 0.5 * (groups > 0) * np.asarray(groups) / n_periods
    time_fe = np.cumsum(rng.normal(0.3, 0.2, n_periods))
    periods = np.arange(1, n_periods + 1)
    rank = {g: i for i, g in enumerate(sorted(cohorts))}
    rows = []
    truth_cells: dict[tuple[int, int], float] = {}
    for g in sorted(cohorts):
        for t in periods:
            if t >= g:
                truth_cells[(int(g), int(t))] = effect + growth * (t - g) + cohort_shift * rank[g]
    for i in range(n_units):
        g = groups[i]
        te = np.array([truth_cells.get((int(g), int(t)), 0.0) if g > 0 else 0.0 for t in periods])
        y = unit_fe[i] + time_fe + te + rng.normal(0, noise, n_periods)
        rows.append(pd.DataFrame({"unit": i + 1, "time": periods, "first_treated": g, "y": y}))
    df = pd.concat(rows, ignore_index=True)
    sizes = {g: int((groups == g).sum()) for g in cohorts}
    num = sum(sizes[g] * v for (g, _), v in truth_cells.items())
    den = sum(sizes[g] for (g, _) in truth_cells)
    events: dict[int, float] = {}
    for e in range(0, n_periods):
        cells = [(g, t) for (g, t) in truth_cells if t - g == e]
        if cells:
            events[e] = sum(sizes[c[0]] * truth_cells[c] for c in cells) / sum(
                sizes[c[0]] for c in cells
            )
    df.attrs["truth"] = {
        "att_gt": truth_cells,
        "att_simple": num / den,
        "att_event": events,
        "cohort_sizes": sizes,
    }
    return df


def interrupted_series(
    *,
    n: int = 48,
    interruption: int = 25,
    family: str = "gaussian",
    baseline: float | None = None,
    trend: float = 0.0,
    level_change: float | None = None,
    slope_change: float | None = None,
    seasonal_amplitude: float = 0.0,
    period: float = 12,
    noise: float = 1.0,
    population: int = 20000,
    seed: int = 0,
) -> pd.DataFrame:
    """A monthly series (``month`` 1..n) with a known level and slope change.

    The change starts at month ``interruption``. The linear predictor is
    ``baseline + trend*tau + level_change*post + slope_change*(tau - tau0)*post +
    seasonal_amplitude*sin(2*pi*tau/period)`` with ``tau = month - 1``.
    ``family="gaussian"`` adds normal noise (column ``y``); ``"poisson"`` draws counts
    (``count``) with mean ``population * exp(predictor)`` (column ``population``);
    ``"binomial"`` draws ``successes`` out of ``trials`` with the logit link.
    Defaults give sensible scales for each family. ``df.attrs["truth"]`` holds the
    true coefficients on the linear-predictor scale.
    """
    defaults = {
        "gaussian": (50.0, 5.0, -0.3),
        "poisson": (np.log(0.01), 0.2, 0.01),
        "binomial": (0.0, 0.3, 0.02),
    }
    if family not in defaults:
        from .errors import ParameterError

        raise ParameterError(
            f"family={family!r} is not simulated",
            key="family",
            expected=" or ".join(sorted(defaults)),
        )
    b0, lc, sc = defaults[family]
    baseline = b0 if baseline is None else baseline
    level_change = lc if level_change is None else level_change
    slope_change = sc if slope_change is None else slope_change
    rng = np.random.default_rng([seed, 6002])
    month = np.arange(1, n + 1)
    tau = month - 1.0
    post = month >= interruption
    tau0 = interruption - 1.0
    lin = (
        baseline
        + trend * tau
        + level_change * post
        + slope_change * (tau - tau0) * post
        + seasonal_amplitude * np.sin(2 * np.pi * tau / period)
    )
    df = pd.DataFrame({"month": month})
    if family == "gaussian":
        df["y"] = lin + rng.normal(0, noise, n)
    elif family == "poisson":
        pop = rng.integers(int(population * 0.9), int(population * 1.1) + 1, n)
        df["population"] = pop
        df["count"] = rng.poisson(pop * np.exp(lin))
    else:
        trials = rng.integers(150, 250, n)
        df["trials"] = trials
        df["successes"] = rng.binomial(trials, 1 / (1 + np.exp(-lin)))
    df.attrs["truth"] = {
        "level_change": level_change,
        "slope_change": slope_change,
        "baseline": baseline,
        "trend": trend,
        "interruption": interruption,
    }
    return df


def synthetic_panel(
    *,
    n_donors: int = 19,
    n_periods: int = 48,
    intervention_time: int = 31,
    weights: dict[str, float] | None = None,
    effect: float = -5.0,
    noise: float = 0.0,
    seed: int = 0,
) -> pd.DataFrame:
    """Areas on distinct paths, one treated area built as a known convex mix of donors.

    Donors ``D01``..: smooth, distinct trajectories (level, trend, curvature and a
    seasonal phase drawn at random). The treated unit ``T`` equals the weighted sum of
    donors (default weights 0.5, 0.3, 0.2 on ``D01``, ``D02``, ``D03``) plus ``noise``,
    plus ``effect`` from ``intervention_time`` on. ``df.attrs["truth"]`` holds the weights
    (a dict over all donors) and the effect.
    """
    rng = np.random.default_rng([seed, 6003])
    donors = [f"D{j + 1:02d}" for j in range(n_donors)]
    if weights is None:
        weights = {donors[0]: 0.5, donors[1]: 0.3, donors[2]: 0.2}
    t = np.arange(1, n_periods + 1, dtype=float)
    paths = {}
    for d in donors:
        level = rng.uniform(40, 80)
        slope = rng.normal(0, 0.4)
        curve = rng.normal(0, 0.01)
        amp, phase = rng.uniform(1, 4), rng.uniform(0, 2 * np.pi)
        paths[d] = (
            level
            + slope * t
            + curve * (t - n_periods / 2) ** 2
            + amp * np.sin(2 * np.pi * t / 12 + phase)
            + rng.normal(0, 0.3, n_periods)
        )
    treated = (
        sum(w * paths[d] for d, w in weights.items()) + rng.normal(0, noise, n_periods)
        if noise > 0
        else sum(w * paths[d] for d, w in weights.items())
    )
    treated = treated + effect * (t >= intervention_time)
    frames = [
        pd.DataFrame({"area": d, "month": t.astype(int), "outcome": paths[d]}) for d in donors
    ]
    frames.insert(0, pd.DataFrame({"area": "T", "month": t.astype(int), "outcome": treated}))
    df = pd.concat(frames, ignore_index=True)
    df.attrs["truth"] = {
        "weights": {d: float(weights.get(d, 0.0)) for d in donors},
        "effect": effect,
        "treated": "T",
        "intervention_time": intervention_time,
    }
    return df


# ----------------------------------------------------------------------------------------------
# The 20-area demo
# ----------------------------------------------------------------------------------------------

#: Fictional area names: tree names with made-up endings, chosen not to be real places.
DEMO_AREA_NAMES = [
    "Alderbrook Vale",
    "Birchmere",
    "Cedarholt",
    "Damsonford",
    "Elderwick",
    "Firthorne",
    "Gorseby Reach",
    "Hazelmouth",
    "Ivyhallow",
    "Juniperleigh",
    "Kestrel Larchcombe",
    "Lindenmarsh",
    "Maplestow",
    "Nutwood Cross",
    "Oakhaven Moor",
    "Poplarwell",
    "Quincebury",
    "Rowanshire Dales",
    "Sallowfield",
    "Thornbeam",
]
_REGIONS = [
    "North East",
    "North West",
    "Yorkshire and the Humber",
    "East Midlands",
    "West Midlands",
    "East of England",
    "London",
    "South East",
    "South West",
    "Wales",
]
_PARTNERS = [
    "Local authority",
    "NHS trust",
    "Health visiting",
    "Midwifery",
    "Voluntary sector",
    "Public health",
]
#: Maturity-matrix elements of the default framework (dimension, element id).
DEMO_MATRIX_ELEMENTS = [
    ("plan", "strategy"),
    ("plan", "commissioning"),
    ("plan", "workforce_planning"),
    ("lead", "governance"),
    ("lead", "leaders_community"),
    ("deliver", "services_interventions"),
    ("deliver", "information_sharing"),
    ("evaluate", "understanding_impact"),
    ("evaluate", "using_evidence"),
]
DEMO_ASSESSMENT_DATES = ("2024-03-01", "2025-03-01")
DEMO_INDICATORS = {
    "breastfeeding_6_8_weeks": "Babies totally or partially breastfed at 6-8 weeks",
    "two_year_review_asq": "Children receiving a 2-2½ year review with ASQ-3",
}
DEMO_FIRST_MONTH = "2021-04-01"
DEMO_MONTHS = 48
from .notices import SYNTHETIC_NOTICE  # noqa: E402 - re-exported here, where it was first


def _item_shifts(
    k: int, rng, *, center: float = 0.0, item_shift: dict[int, float] | None = None
) -> np.ndarray:
    """Item difficulties of one tool in one area: drawn once, used before and after.

    ``center`` moves every threshold (a positive value makes high answers rarer);
    ``item_shift`` moves the thresholds of single items (0-based index).
    """
    shift = rng.normal(center, 0.3, size=k)
    for j, extra in (item_shift or {}).items():
        shift[j] += extra
    return shift


def _ordinal_items(
    latent: np.ndarray, shift: np.ndarray, low: int, high: int, rng, *, loading: float = 0.75
) -> np.ndarray:
    """Items on ``low..high`` from a one-factor model (graded thresholds shifted per item)."""
    n, k = latent.shape[0], shift.shape[0]
    cats = high - low + 1
    base = np.linspace(-1.2, 1.2, cats - 1)
    noise = rng.normal(0.0, np.sqrt(1 - loading**2), size=(n, k))
    y = loading * latent[:, None] + noise
    thresholds = base[None, :] + shift[:, None]  # (k, cats-1)
    scores = (y[:, :, None] > thresholds[None, :, :]).sum(axis=2)
    return (scores + low).astype(float)


def _whole_numbers(values: np.ndarray) -> pd.arrays.IntegerArray:
    """Whole numbers held as floats (NaN for missing) as an ``Int64`` array.

    The same as ``pd.Series(values).astype("Int64")`` for whole numbers, without its checks
    per column (the demo's answers are whole by construction).
    """
    missing = np.isnan(values)
    return pd.arrays.IntegerArray(np.where(missing, 0, values).astype("int64"), missing)


def _blank_at_random(values: np.ndarray, rate: float, rng) -> np.ndarray:
    out = values.copy()
    out[rng.random(out.shape) < rate] = np.nan
    return out


def demo_area_records(area_index: int, *, seed: int = 2026) -> tuple[pd.DataFrame, dict]:
    """Person-level records for one fictional area, and the true effects behind them.

    Each row is one parent with an ID, the setting (family hub) they attended, whether
    they received the service (``treated`` = 1) or are in the comparison group (0),
    covariates, and answers before and after to an EPDS-like 10-item 0-3 scale (item
    scores, higher = more symptoms) and a WEMWBS-like 14-item 1-5 scale (higher =
    better wellbeing). A few answers are missing and some parents have no follow-up.

    The true effect of the service is stored in the returned dict: ``epds_effect_sd``
    and ``wemwbs_effect_sd`` are shifts of the latent trait in standard-deviation units.

    Implementation columns come last: ``sessions`` (sessions attended, 0 to
    :data:`DEMO_PLANNED_SESSIONS` = 8, the planned dose; service group only, empty for the
    comparison group) and a fidelity checklist ``fidelity_1`` .. ``fidelity_5`` (1 = the element
    was delivered as designed in the person's sessions; service group only). They come from a
    separate random stream, ``np.random.default_rng([seed, area_index, 17])``, so every earlier
    column is the same as before they were added. The eligible population is the births
    (``denominator``) of the indicators file.

    **What is known about the dose-response.** The outcomes are not changed: sessions are drawn
    from them, ``sessions = clip(round(c - 0.6 z + e), 0, 8)`` with ``z`` the standardised
    residual of the EPDS follow-up total given the baseline total (OLS in the service group),
    ``e ~ N(0, 1.8^2)`` and ``c`` = 5.5 (3.5 for people with no follow-up). So, given the
    baseline score, more sessions go with fewer symptoms at follow-up, by construction. The
    exact value is ``truth["epds_dose_slope"]`` (:func:`demo_dose_slope`): the sessions coefficient
    of ``epds_post_total ~ epds_pre_total + sessions`` by OLS in the service group with both
    totals (item sums with no missing item), in EPDS points per session (in the 20-area demo
    from -0.94 to 0.34, mean -0.57: small areas are noisy). A baseline-adjusted linear dose-response must recover it. It is an
    association, not a causal effect (dose is not randomised; here it is drawn from the
    outcome). Fidelity differs between settings (setting adherence ``logit ~ N(1.2, 0.8^2)``);
    ``truth["fidelity_pct"]`` is the % of checklist items adhered to in the service group.
    """
    rng = np.random.default_rng([seed, area_index])
    area_id = f"A{area_index + 1:02d}"
    n = int(rng.integers(140, 380))
    n_settings = int(rng.integers(4, 9))
    setting_effect = rng.normal(0.0, 0.3, size=n_settings)
    setting = rng.integers(0, n_settings, size=n)

    mother_age = np.clip(rng.normal(29.5, 5.5, size=n), 16, 46).round()
    first_baby = (rng.random(n) < 0.42).astype(int)
    imd_quintile = rng.integers(1, 6, size=n)
    # Families in more deprived quintiles are more likely to be offered the service.
    logit = -0.4 + 0.35 * (3 - imd_quintile) + 0.3 * first_baby
    treated = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)

    # Latent distress at baseline: higher with deprivation and in some settings.
    distress = 0.15 * (3 - imd_quintile) + setting_effect[setting] + rng.normal(0.0, 1.0, size=n)
    effect_epds = float(-0.35 + rng.normal(0.0, 0.12))  # service lowers distress
    effect_wemwbs = float(0.30 + rng.normal(0.0, 0.10))  # and raises wellbeing
    time_trend = -0.10  # everyone improves a little
    distress_post = (
        0.6 * distress + time_trend + effect_epds * treated + rng.normal(0.0, 0.8, size=n)
    )
    wellbeing = -0.6 * distress + rng.normal(0.0, 0.8, size=n)
    wellbeing_post = (
        0.6 * wellbeing
        - 0.3 * distress_post
        + effect_wemwbs * treated
        + rng.normal(0.0, 0.7, size=n)
    )

    frame = {
        "id": [f"P{area_index + 1:02d}{i + 1:04d}" for i in range(n)],
        "setting": [f"Setting {s + 1}" for s in setting],
        "treated": treated,
        "mother_age": mother_age.astype(int),
        "first_baby": first_baby,
        "imd_quintile": imd_quintile,
    }
    # EPDS-like: total around 8-10 at baseline; item 10 (self-harm) answered above 0 rarely.
    # The same item difficulties before and after, so a change in scores is a change in people.
    epds = _item_shifts(10, rng, center=0.7, item_shift={9: 2.3})
    wem = _item_shifts(14, rng, center=-0.5)
    # A few blank answers (0.6% of items): with whole-scale scoring rules about 6% of
    # EPDS totals are then missing, as in routine data.
    epds_pre = _blank_at_random(_ordinal_items(distress, epds, 0, 3, rng), 0.006, rng)
    epds_post = _blank_at_random(_ordinal_items(distress_post, epds, 0, 3, rng), 0.006, rng)
    wem_pre = _blank_at_random(_ordinal_items(wellbeing, wem, 1, 5, rng), 0.006, rng)
    wem_post = _blank_at_random(_ordinal_items(wellbeing_post, wem, 1, 5, rng), 0.006, rng)

    # Drop-out: about 12-25% have no follow-up, more often those more distressed at baseline.
    p_drop = 1 / (1 + np.exp(-(-1.6 + 0.35 * distress + rng.normal(0, 0.3))))
    dropped = rng.random(n) < p_drop
    epds_post[dropped] = np.nan
    wem_post[dropped] = np.nan

    for prefix, block in (
        ("epds_pre_", epds_pre),
        ("epds_post_", epds_post),
        ("wemwbs_pre_", wem_pre),
        ("wemwbs_post_", wem_post),
    ):
        for j in range(block.shape[1]):
            frame[f"{prefix}{j + 1}"] = _whole_numbers(block[:, j])
    df = pd.DataFrame(frame)
    truth = {
        "area_id": area_id,
        "n": n,
        "n_settings": n_settings,
        "epds_effect_sd": effect_epds,
        "wemwbs_effect_sd": effect_wemwbs,
        "dropout_rate": float(dropped.mean()),
    }
    implementation, implementation_truth = _demo_implementation(
        df, setting, n_settings, seed, area_index
    )
    df = pd.concat([df, implementation], axis=1)
    truth.update(implementation_truth)
    return df, truth


#: the planned number of sessions of the demo's service
DEMO_PLANNED_SESSIONS = 8
#: columns of the demo's fidelity checklist (1 = the session element was delivered as designed)
DEMO_FIDELITY_ITEMS = tuple(f"fidelity_{j}" for j in range(1, 6))


def _epds_totals(df: pd.DataFrame, prefix: str) -> np.ndarray:
    """Item sums of the demo's EPDS answers (missing when any item is missing)."""
    items = df.filter(like=prefix).to_numpy(dtype="float64", na_value=np.nan)
    return items.sum(axis=1)  # NaN where any item is missing (sums of whole numbers: exact)


def demo_dose_slope(df: pd.DataFrame) -> float:
    """The demo's dose-response as a number: the sessions coefficient of
    ``epds_post_total ~ epds_pre_total + sessions`` by ordinary least squares, in the service
    group (``treated`` = 1) among people with both EPDS totals (item sums, complete items).

    This is ``truth["epds_dose_slope"]`` of :func:`demo_area_records` (EPDS points per session;
    negative: more sessions, fewer symptoms at follow-up given the baseline score).
    """
    pre, post = _epds_totals(df, "epds_pre_"), _epds_totals(df, "epds_post_")
    sessions = df["sessions"].astype("float64").to_numpy()
    return _dose_slope(pre, post, sessions, df["treated"].to_numpy() == 1)


def _dose_slope(
    pre: np.ndarray, post: np.ndarray, sessions: np.ndarray, treated: np.ndarray
) -> float:
    """:func:`demo_dose_slope` from the EPDS totals, sessions and the service group (bool)."""
    keep = treated & np.isfinite(pre) & np.isfinite(post)
    x = np.column_stack([np.ones(keep.sum()), pre[keep], sessions[keep]])
    coef, *_ = np.linalg.lstsq(x, post[keep], rcond=None)
    return float(coef[2])


def _demo_implementation(
    df: pd.DataFrame, setting: np.ndarray, n_settings: int, seed: int, area_index: int
) -> tuple[pd.DataFrame, dict]:
    """Sessions attended and a fidelity checklist for the service group (separate random stream).

    Drawn from ``np.random.default_rng([seed, area_index, 17])`` after every other column, so
    the demo's earlier columns are unchanged. See :func:`demo_area_records` for what is known.
    """
    rng = np.random.default_rng([seed, area_index, 17])
    n = len(df)
    treated = df["treated"].to_numpy() == 1
    pre, post = _epds_totals(df, "epds_pre_"), _epds_totals(df, "epds_post_")
    both = treated & np.isfinite(pre) & np.isfinite(post)
    # z: standardised residual of the follow-up total given the baseline total (service group)
    z = np.zeros(n)
    x = np.column_stack([np.ones(both.sum()), pre[both]])
    coef, *_ = np.linalg.lstsq(x, post[both], rcond=None)
    resid = post[both] - x @ coef
    z[both] = resid / resid.std(ddof=1)
    # people with no follow-up attended fewer sessions on average
    centre = np.where(np.isfinite(post), 5.5, 3.5)
    raw = centre - 0.6 * z + rng.normal(0.0, 1.8, n)
    sessions = np.clip(np.rint(raw), 0, DEMO_PLANNED_SESSIONS)
    # fidelity: each setting delivers the checklist's elements with its own adherence
    setting_logit = rng.normal(1.2, 0.8, n_settings)
    item_logit = rng.normal(0.0, 0.4, len(DEMO_FIDELITY_ITEMS))
    p = 1 / (1 + np.exp(-(setting_logit[setting][:, None] + item_logit[None, :])))
    checklist = (rng.random((n, len(DEMO_FIDELITY_ITEMS))) < p).astype(float)
    columns = {"sessions": _whole_numbers(np.where(treated, sessions, np.nan))}
    for j, name in enumerate(DEMO_FIDELITY_ITEMS):
        columns[name] = _whole_numbers(np.where(treated, checklist[:, j], np.nan))
    out = pd.DataFrame(columns, index=df.index)
    truth = {
        "planned_sessions": DEMO_PLANNED_SESSIONS,
        # demo_dose_slope(df with the new columns), from the totals already summed
        "epds_dose_slope": _dose_slope(pre, post, sessions, treated),
        "fidelity_pct": float(100 * checklist[treated].mean()),
    }
    return out, truth


def demo_indicators(*, n_areas: int = 20, seed: int = 2026) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Monthly indicator counts for every area (48 months) and their true intervention effects.

    Columns: ``area_id, indicator, month, date, numerator, denominator, intervention``.
    The intervention (a family hub opening) starts in a month between 25 and 32; the
    true change on the log-odds scale is returned in the second frame.
    """
    rng = np.random.default_rng([seed, 999])
    months = np.arange(1, DEMO_MONTHS + 1)
    dates = pd.date_range(DEMO_FIRST_MONTH, periods=DEMO_MONTHS, freq="MS").strftime("%Y-%m-%d")
    rows, truths = [], []
    for a in range(n_areas):
        area_id = f"A{a + 1:02d}"
        start = int(rng.integers(25, 33))
        births = rng.integers(60, 320)
        for indicator, base_p in (
            ("breastfeeding_6_8_weeks", rng.uniform(0.38, 0.62)),
            ("two_year_review_asq", rng.uniform(0.70, 0.92)),
        ):
            level = float(rng.normal(0.15, 0.06))
            slope = float(rng.normal(0.004, 0.002))
            after = months >= start
            logit = (
                np.log(base_p / (1 - base_p))
                + 0.003 * (months - 1)
                + 0.06 * np.sin(2 * np.pi * months / 12)
                + after * (level + slope * (months - start))
            )
            denom = rng.poisson(births, size=DEMO_MONTHS)
            num = rng.binomial(denom, 1 / (1 + np.exp(-logit)))
            rows.append(
                pd.DataFrame(
                    {
                        "area_id": area_id,
                        "indicator": indicator,
                        "month": months,
                        "date": dates,
                        "numerator": num,
                        "denominator": denom,
                        "intervention": after.astype(int),
                    }
                )
            )
            truths.append(
                {
                    "area_id": area_id,
                    "indicator": indicator,
                    "start_month": start,
                    "level_change_logodds": level,
                    "slope_change_logodds": slope,
                }
            )
    return pd.concat(rows, ignore_index=True), pd.DataFrame(truths)


def demo_matrix(*, n_areas: int = 20, seed: int = 2026) -> pd.DataFrame:
    """Maturity-matrix self-assessments: 3-6 partners per area rate each element 1-5 at two dates.

    Columns: ``area, partner, element, level, date`` (as :func:`evalkit.matrix.read_ratings` reads them),
    then the notes ``evidence, barriers, action, owner, due_date, status`` (fictional; blank
    where none), drawn from a separate random stream so the ratings are unchanged: 2-3
    priority actions per area and assessment (see :func:`evalkit.matrix.read_actions`).
    """
    rng = np.random.default_rng([seed, 4242])
    rows = []
    for a in range(n_areas):
        area_id = f"A{a + 1:02d}"
        partners = rng.choice(_PARTNERS, size=int(rng.integers(3, 7)), replace=False)
        area_level = rng.uniform(1.6, 3.6)
        element_level = {e: rng.normal(0.0, 0.5) for _, e in DEMO_MATRIX_ELEMENTS}
        gain = rng.uniform(0.0, 0.8)
        leniency = {p: rng.normal(0.0, 0.35) for p in partners}  # each partner's own tendency
        for t, date in enumerate(DEMO_ASSESSMENT_DATES):
            for partner in partners:
                for _dim, element in DEMO_MATRIX_ELEMENTS:
                    value = area_level + element_level[element] + leniency[partner] + t * gain
                    level = int(np.clip(np.rint(value + rng.normal(0.0, 0.45)), 1, 5))
                    rows.append(
                        {
                            "area": area_id,
                            "partner": str(partner),
                            "element": element,
                            "level": level,
                            "date": date,
                        }
                    )
    ratings = pd.DataFrame(rows)
    return pd.concat([ratings, _demo_matrix_notes(ratings, seed)], axis=1)


_EVIDENCE = {
    "plan": ["Joint strategy document", "Needs assessment refreshed", "Commissioning plan"],
    "lead": ["Board minutes", "Shared priorities agreed", "Parent panel feedback"],
    "deliver": ["Service directory", "Referral data", "Information-sharing agreement"],
    "evaluate": ["Outcomes dashboard", "Local evaluation report", "Audit of practice"],
}
_BARRIERS = [
    "Staff turnover",
    "No shared data system",
    "Short-term funding",
    "Competing priorities",
    "Little time for training",
    "Unclear accountability",
]
_ACTIONS = {
    "strategy": "Agree a joint early-years strategy",
    "commissioning": "Align commissioning cycles across partners",
    "workforce_planning": "Map workforce skills and training needs",
    "governance": "Set up a joint early-years board",
    "leaders_community": "Involve parents in setting priorities",
    "services_interventions": "Review the evidence base of local services",
    "information_sharing": "Sign an information-sharing agreement",
    "understanding_impact": "Agree a common outcomes framework",
    "using_evidence": "Plan a local evaluation with the research partner",
}
_OWNERS = [
    "Early help lead",
    "Public health team",
    "Family hub manager",
    "Commissioning team",
    "Health visiting lead",
    "Data and insight team",
]


def _demo_matrix_notes(ratings: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Fictional evidence, barriers and priority actions beside the demo's ratings.

    A separate random stream (``[seed, 4242, 17]``), so the ratings are unchanged. At each
    assessment an area agrees 2 or 3 priority actions, on the elements with the lowest mean
    level, each owned by one partner; actions agreed at the first assessment have been
    followed up (done, in progress or dropped), those agreed at the latest are planned or in
    progress.
    """
    rng = np.random.default_rng([seed, 4242, 17])
    n = len(ratings)
    dims = ratings["element"].map(dict((e, d) for d, e in DEMO_MATRIX_ELEMENTS))
    evidence = [rng.choice(_EVIDENCE[d]) if u < 0.5 else "" for d, u in zip(dims, rng.random(n))]
    barriers = [rng.choice(_BARRIERS) if u < 0.3 else "" for u in rng.random(n)]
    # the actions' columns, filled by position and made into the frame once at the end
    # (setting cells of a frame one row at a time costs a copy of the column each time)
    action, owner, due_date, status_col = ([""] * n for _ in range(4))
    elements = ratings["element"].to_numpy()
    levels = ratings["level"].to_numpy(dtype=float)
    latest = max(DEMO_ASSESSMENT_DATES)
    # each assessment's rows by position, in the order of (area, date), as groupby(sort=True)
    groups = ratings.groupby(["area", "date"], sort=True).indices
    for (_area, date), part in sorted(groups.items()):
        # its elements by mean level, lowest first (ties in order of first appearance)
        rows_of = {e: part[elements[part] == e] for e in dict.fromkeys(elements[part])}
        means = {e: levels[rows].sum() / len(rows) for e, rows in rows_of.items()}
        lowest = sorted(rows_of, key=means.__getitem__)  # stable, as sort_values(kind="stable")
        for element in lowest[: int(rng.integers(2, 4))]:
            rows = rows_of[element]
            i = int(rows[int(rng.integers(0, len(rows)))])
            due = (
                pd.Timestamp(date)
                + pd.DateOffset(months=int(rng.integers(6, 13)))
                - pd.Timedelta(days=1)
            )
            if date == latest:
                status = rng.choice(["planned", "in progress"], p=[0.6, 0.4])
            else:
                status = rng.choice(["done", "in progress", "dropped"], p=[0.5, 0.3, 0.2])
            action[i] = _ACTIONS[element]
            owner[i] = str(rng.choice(_OWNERS))
            due_date[i] = due.date().isoformat()
            status_col[i] = str(status)
    return pd.DataFrame(
        {
            "evidence": evidence,
            "barriers": barriers,
            "action": action,
            "owner": owner,
            "due_date": due_date,
            "status": status_col,
        },
        index=ratings.index,
    )


def demo_areas(*, n_areas: int = 20, seed: int = 2026) -> pd.DataFrame:
    """The list of fictional areas: ``area_id, area_name, region``."""
    rng = np.random.default_rng([seed, 7])
    regions = rng.choice(_REGIONS, size=n_areas)
    return pd.DataFrame(
        {
            "area_id": [f"A{a + 1:02d}" for a in range(n_areas)],
            "area_name": DEMO_AREA_NAMES[:n_areas],
            "region": regions,
        }
    )


def demo(*, n_areas: int = 20, seed: int = 2026) -> dict[str, object]:
    """The whole synthetic demo in memory.

    Returns a dict with ``areas`` (DataFrame), ``records`` (dict area_id -> DataFrame),
    ``indicators``, ``matrix`` and ``truth`` (DataFrame of true effects per area).

    Examples
    --------
    >>> d = demo(n_areas=2)
    >>> sorted(d["records"])
    ['A01', 'A02']
    """
    if not 1 <= n_areas <= len(DEMO_AREA_NAMES):
        from .errors import ParameterError

        raise ParameterError(
            f"n_areas={n_areas!r} is not allowed",
            key="n_areas",
            expected=f"1 to {len(DEMO_AREA_NAMES)}",
        )
    areas = demo_areas(n_areas=n_areas, seed=seed)
    records, truths = {}, []
    for a in range(n_areas):
        df, truth = demo_area_records(a, seed=seed)
        records[truth["area_id"]] = df
        truths.append(truth)
    indicators, indicator_truth = demo_indicators(n_areas=n_areas, seed=seed)
    truth = pd.DataFrame(truths).merge(
        indicator_truth.pivot(
            index="area_id", columns="indicator", values=["start_month", "level_change_logodds"]
        )
        .pipe(lambda t: t.set_axis([f"{b}_{a}" for a, b in t.columns], axis=1))
        .reset_index(),
        on="area_id",
    )
    # the implementation truth (added later) goes after the earlier columns
    later = [c for c in ("planned_sessions", "epds_dose_slope", "fidelity_pct") if c in truth]
    truth = truth[[c for c in truth.columns if c not in later] + later]
    return {
        "areas": areas,
        "records": records,
        "indicators": indicators,
        "matrix": demo_matrix(n_areas=n_areas, seed=seed),
        "truth": truth,
    }
