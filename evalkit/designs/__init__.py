"""Evaluation designs.

Individual-level: :func:`prepost`, :func:`ancova`, :func:`multilevel`, :func:`propensity`.
Area-level: :func:`did`, :func:`its`, :func:`synthetic_control`, :func:`meta_analysis`
(with meta-regression), and the small-study checks :func:`egger_test` and :func:`trim_and_fill`
(these three live in :mod:`evalkit.meta`, below both designs and reliability).

Each design lives in its own module. The functions are imported here eagerly: a
module and its function share a name (``designs.ancova``), and importing the
functions first keeps ``evalkit.designs.ancova`` the function whatever is
imported later. statsmodels is only imported when a model is fitted.
"""

from __future__ import annotations

from ..meta import egger_test, meta_analysis, trim_and_fill
from .ancova import ancova, baseline_equivalence
from .did import did
from .impute import pool_rubin
from .its import its
from .multilevel import multilevel
from .prepost import prepost
from .propensity import propensity
from .synth import synthetic_control

__all__ = [
    "ancova",
    "baseline_equivalence",
    "did",
    "egger_test",
    "its",
    "meta_analysis",
    "multilevel",
    "prepost",
    "pool_rubin",
    "propensity",
    "synthetic_control",
    "trim_and_fill",
]
