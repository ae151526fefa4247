"""evalkit: evaluation for maternity and early-years services.

>>> import evalkit as ek
>>> ek.indicators.proportion(65, 100).ci_low  # doctest: +SKIP

Submodules are imported on first use, so ``import evalkit`` stays light
(statsmodels and matplotlib are paid for only by the code that needs them).

- :mod:`evalkit.reliability`  alpha, omega, ICC, kappa, Krippendorff's alpha, SEM, reliable change
- :mod:`evalkit.tools`        registry of early-years measures and their scoring
- :mod:`evalkit.designs`      pre-post, ANCOVA, multilevel, propensity, DiD, ITS, synthetic control, meta-analysis
- :mod:`evalkit.power`        minimum detectable effects, power and sample size
- :mod:`evalkit.indicators`   Wilson and Byar intervals, funnel plots
- :mod:`evalkit.matrix`       the maturity matrix (Plan, Lead, Deliver, Evaluate)
- :mod:`evalkit.disclosure`   small-number suppression
- :mod:`evalkit.plan`         analysis plans: lock before the outcomes are seen, show deviations
- :mod:`evalkit.implementation` reach, dose and fidelity
- :mod:`evalkit.simulate`     the synthetic 20-area demo
- :mod:`evalkit.sharing`      pseudonymise, link and minimise personal data before sharing
- :mod:`evalkit.tables`, :mod:`evalkit.plots`  presentation helpers for reports
"""

from __future__ import annotations

import importlib
from typing import Any

from ._version import __version__
from .errors import DataError, EvalkitError, EvalkitWarning, ParameterError, ReportError, SpecError

_SUBMODULES = {
    "reliability",
    "tools",
    "designs",
    "power",
    "indicators",
    "matrix",
    "disclosure",
    "simulate",
    "tables",
    "plots",
    "reports",
    "results",
    "errors",
    "describe",
    "evidence",
    "narrative",
    "plan",
    "implementation",
    "sharing",
}

__all__ = [
    "__version__",
    "EvalkitError",
    "DataError",
    "ParameterError",
    "SpecError",
    "ReportError",
    "EvalkitWarning",
    *sorted(_SUBMODULES),
]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'evalkit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _SUBMODULES)
