"""Reliability and agreement for measurement tools.

Internal consistency (:func:`alpha`, :func:`omega`, :func:`split_half`, :func:`item_analysis`),
agreement between raters (:func:`icc`, :func:`cohen_kappa`, :func:`fleiss_kappa`,
:func:`krippendorff_alpha`, :func:`gwet_ac1`), polychoric correlations of ordinal items
(:func:`polychoric`; ``alpha``/``omega`` with ``ordinal=True``) and between methods (:func:`bland_altman`), measurement error and
individual change (:func:`sem`, :func:`mdc`, :func:`reliable_change`), one table for a
report (:func:`reliability_summary`), and alpha pooled across areas (:func:`pool_alpha`). Numbers agree with R psych, irr and lavaan and with
pingouin where the method is the same.

>>> import evalkit as ek
>>> ek.reliability.icc([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8]])["icc"].size
6
"""

from __future__ import annotations

from .agreement import BlandAltmanResult, bland_altman
from .alpha import AlphaResult, alpha
from .change import ReliableChangeResult, mdc, reliable_change, sem
from .gwet import GwetResult, gwet_ac1
from .icc import icc
from .kappa import FleissKappaResult, KappaResult, cohen_kappa, fleiss_kappa
from .krippendorff import KrippendorffResult, krippendorff_alpha
from .moments import item_analysis_from_moments, pool_moments
from .omega import OmegaResult, omega
from .polychoric import PolychoricResult, polychoric
from .pooling import PooledAlphaResult, alpha_back_transform, alpha_transform, pool_alpha
from .summary import SplitHalfResult, item_analysis, reliability_summary, split_half

__all__ = [
    "alpha",
    "omega",
    "split_half",
    "item_analysis",
    "item_analysis_from_moments",
    "pool_moments",
    "icc",
    "cohen_kappa",
    "fleiss_kappa",
    "krippendorff_alpha",
    "bland_altman",
    "sem",
    "mdc",
    "reliable_change",
    "reliability_summary",
    "pool_alpha",
    "alpha_transform",
    "alpha_back_transform",
    "PooledAlphaResult",
    "AlphaResult",
    "OmegaResult",
    "SplitHalfResult",
    "KappaResult",
    "FleissKappaResult",
    "KrippendorffResult",
    "BlandAltmanResult",
    "ReliableChangeResult",
    "polychoric",
    "PolychoricResult",
    "gwet_ac1",
    "GwetResult",
]
