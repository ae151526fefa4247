"""Synthetic needs-assessment indicators for the 20 fictional demo areas and a national total.

Everything here is invented: the areas are :func:`evalkit.simulate.demo_areas`, the numbers
come from a random generator with a fixed seed, and :data:`NEEDS_NOTICE` says so in every
file written. The data feed the needs-assessment page: proportions and rates by deprivation
decile within each area over six years, two of them by ten-year age band (women 15-44) for
direct standardisation on the 2013 European Standard Population (each band's standard
population is the sum of its two five-year ESP bands).

- :func:`needs_indicators`: one row per indicator (label, statistic, multiplier, polarity,
  whether age-standardised, the source notice);
- :func:`needs_data`: the long table ``area_id, indicator, year, decile, ageband,
  numerator, denominator, standard_population`` (``ageband`` is ``"all"`` and
  ``standard_population`` empty for indicators that are not standardised; decile 1 is the
  most deprived);
- :func:`write_needs`: writes ``needs.csv`` and ``needs_indicators.csv`` to a folder.

>>> d = needs_data(n_areas=2)
>>> sorted(d["area_id"].unique())
['A01', 'A02', 'NAT']
"""

from __future__ import annotations

from itertools import repeat
from pathlib import Path

import numpy as np
import pandas as pd

from .indicators import standard_population
from .simulate import SYNTHETIC_NOTICE

__all__ = [
    "NEEDS_NOTICE",
    "NEEDS_YEARS",
    "NEEDS_NATIONAL_ID",
    "needs_indicators",
    "needs_data",
    "write_needs",
]

#: The notice carried by every needs file (the demo's notice)
NEEDS_NOTICE = SYNTHETIC_NOTICE
#: Financial years (by their end year) in the needs data
NEEDS_YEARS = tuple(range(2019, 2025))
#: ``area_id`` of the national total (the sum of the fictional areas)
NEEDS_NATIONAL_ID = "NAT"
NEEDS_NATIONAL_NAME = "National total (sum of the 20 fictional areas)"

# ten-year age bands; each band's standard population is the sum of its two ESP 2013 bands
_BANDS = ("15-24", "25-34", "35-44")
_BAND_PARTS = {
    "15-24": ("15-19", "20-24"),
    "25-34": ("25-29", "30-34"),
    "35-44": ("35-39", "40-44"),
}

# id: label, statistic, multiplier, polarity, base level, deprivation gradient (log-odds or
# log-rate from least to most deprived), yearly change, denominator (per birth cohort), bands
_SPEC = {
    "smoking_at_delivery": (
        "Mothers smoking at the time of delivery", "proportion", 100, "low is good",
        0.09, 1.6, -0.05, "births", None,
    ),
    "breastfeeding_6_8_weeks": (
        "Babies totally or partially breastfed at 6-8 weeks", "proportion", 100,
        "high is good", 0.50, -0.9, 0.02, "births", None,
    ),
    "low_birth_weight_term": (
        "Low birth weight of term babies", "proportion", 100, "low is good",
        0.029, 0.7, 0.0, "births", None,
    ),
    "good_level_of_development": (
        "Children with a good level of development at the end of reception", "proportion",
        100, "high is good", 0.66, -0.8, 0.03, "reception", None,
    ),
    "infant_mortality": (
        "Infant deaths under 1 year per 1,000 live births", "rate", 1000, "low is good",
        0.0039, 0.8, -0.02, "births", None,
    ),
    "a_and_e_attendances_0_4": (
        "A&E attendances, children aged 0-4, per 1,000", "rate", 1000, "low is good",
        0.62, 0.35, 0.015, "children_0_4", None,
    ),
    "mental_health_admissions_15_44": (
        "Hospital admissions for mental health conditions, women aged 15-44, "
        "directly standardised per 100,000", "dsr", 100_000, "low is good",
        0.0024, 0.9, 0.03, "women", _BANDS,
    ),
    "alcohol_admissions_15_44": (
        "Admission episodes for alcohol-specific conditions, women aged 15-44, "
        "directly standardised per 100,000", "dsr", 100_000, "low is good",
        0.0011, 1.1, -0.01, "women", _BANDS,
    ),
}  # fmt: skip

# relative rates by age band for the standardised indicators
_AGE_PROFILE = {
    "mental_health_admissions_15_44": (1.4, 0.95, 0.8),
    "alcohol_admissions_15_44": (0.65, 0.95, 1.45),
}


def needs_indicators() -> pd.DataFrame:
    """The needs indicators: ``indicator, label, statistic, multiplier, polarity,
    standardised, source``.

    ``statistic`` is ``"proportion"``, ``"rate"`` (crude) or ``"dsr"`` (directly
    standardised on the ESP 2013); ``polarity`` is ``"high is good"`` or ``"low is good"``.

    Examples
    --------
    >>> needs_indicators().set_index("indicator").loc["infant_mortality", "polarity"]
    'low is good'
    """
    rows = []
    for key, (label, statistic, mult, polarity, *_rest) in _SPEC.items():
        rows.append(
            {
                "indicator": key,
                "label": label,
                "statistic": statistic,
                "multiplier": mult,
                "polarity": polarity,
                "standardised": statistic == "dsr",
                "source": NEEDS_NOTICE,
            }
        )
    return pd.DataFrame(rows)


def _logit(p: float) -> float:
    return float(np.log(p / (1 - p)))


def needs_data(*, n_areas: int = 20, seed: int = 2026) -> pd.DataFrame:
    """Synthetic indicator counts by area, indicator, year, deprivation decile and age band.

    Each fictional area has its own size, deprivation profile (how its births spread over
    the national deciles), level and trend for every indicator; decile 1 is the most
    deprived. Proportions are binomial draws and rates Poisson draws around those levels.
    The national total (``area_id = "NAT"``) is the sum over the areas.

    Parameters
    ----------
    n_areas
        Number of fictional areas (1-20).
    seed
        Random seed (the demo uses 2026).

    Returns
    -------
    pandas.DataFrame
        ``area_id, indicator, year, decile, ageband, numerator, denominator,
        standard_population`` (whole numbers; ``standard_population`` is empty where
        ``ageband == "all"``).
    """
    # the demo's area codes (A01, A02, ...), for any number of areas (evalkit demo --areas N)
    area_ids = [f"A{a + 1:02d}" for a in range(n_areas)]
    esp = standard_population("esp2013").set_index("ageband")["esp2013"]
    # each ten-year band's standard population, looked up once (not per row)
    band_pop = {band: int(esp[list(parts)].sum()) for band, parts in _BAND_PARTS.items()}
    rng = np.random.default_rng([seed, 14])
    deciles = np.arange(1, 11)
    # position 0 (least deprived) .. 1 (most deprived)
    depriv = (10 - deciles) / 9
    rows = []
    for area in area_ids:
        births = rng.integers(1800, 6500)
        # how deprived the area is: weights tilt towards the high (most deprived) deciles
        tilt = rng.normal(0, 0.9)
        share = np.exp(tilt * (depriv - 0.5) * 2)
        share = rng.dirichlet(share / share.sum() * 40)
        area_shift = {k: rng.normal(0, 0.18) for k in _SPEC}
        area_trend = {k: rng.normal(0, 0.03) for k in _SPEC}
        for key, (_, statistic, _, _, base, grad, yearly, denom, bands) in _SPEC.items():
            for y, year in enumerate(NEEDS_YEARS):
                size = births * (1 + 0.01 * y)
                sizes = {
                    "births": size,
                    "reception": size * 1.03,
                    "children_0_4": size * 5.1,
                    "women": size * 20,
                }
                # the ten deciles at once (numpy draws them in the same order as one by one)
                n_decile = sizes[denom] * share[deciles - 1]
                lin = (
                    grad * (depriv - 0.5)
                    + area_shift[key]
                    + (yearly + area_trend[key]) * (y - len(NEEDS_YEARS) + 1)
                )
                if statistic in ("proportion", "rate"):
                    n = np.maximum(np.round(n_decile).astype(int), 1)
                    if statistic == "proportion":
                        x = rng.binomial(n, 1 / (1 + np.exp(-(_logit(base) + lin))))
                    else:
                        x = rng.poisson(base * np.exp(lin) * n)
                    rows += zip(repeat(area), repeat(key), repeat(year), deciles.tolist(),
                                repeat("all"), x.tolist(), n.tolist(), repeat(None))  # fmt: skip
                else:
                    # decile by decile, each decile's bands in turn
                    rel = np.asarray(_AGE_PROFILE[key])[None, :]
                    n = np.maximum(np.round(n_decile / len(bands)).astype(int), 1)[:, None]
                    n = np.broadcast_to(n, (len(deciles), len(bands)))
                    x = rng.poisson(base * rel * np.exp(lin)[:, None] * n)
                    for d, xs, ns in zip(deciles.tolist(), x.tolist(), n.tolist()):
                        rows += [(area, key, year, d, band, xb, nb, band_pop[band])
                                 for band, xb, nb in zip(bands, xs, ns)]  # fmt: skip
    cols = ["area_id", "indicator", "year", "decile", "ageband", "numerator", "denominator",
            "standard_population"]  # fmt: skip
    data = pd.DataFrame(rows, columns=cols)
    keys = ["indicator", "year", "decile", "ageband"]
    national = data.groupby(keys, sort=False, as_index=False).agg(
        numerator=("numerator", "sum"),
        denominator=("denominator", "sum"),
        standard_population=("standard_population", "first"),
    )
    national.insert(0, "area_id", NEEDS_NATIONAL_ID)
    out = pd.concat([data, national[cols]], ignore_index=True)
    out["standard_population"] = out["standard_population"].astype("Int64")
    return out


def write_needs(
    folder: str | Path = "data/demo", *, n_areas: int = 20, seed: int = 2026
) -> list[Path]:
    """Write ``needs.csv`` and ``needs_indicators.csv`` to ``folder``; return their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    data_path, meta_path = folder / "needs.csv", folder / "needs_indicators.csv"
    needs_data(n_areas=n_areas, seed=seed).to_csv(data_path, index=False, lineterminator="\n")
    needs_indicators().to_csv(meta_path, index=False, lineterminator="\n")
    return [data_path, meta_path]
