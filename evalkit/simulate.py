"""Deterministic synthetic data: the 20-area demo and generators for simulation tests.

Everything here is fictional and says so. Every generator takes a ``seed`` and
returns the same data for the same seed, with the true effects stored beside
the data so that estimators can be checked against them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__: list[str] = []

# ----------------------------------------------------------------------------------------------
# Generators for individual-level designs (prepost, ancova, multilevel, propensity)
# ----------------------------------------------------------------------------------------------

# ----------------------------------------------------------------------------------------------
# Generators for area-level designs (did, its, synthetic_control)
# ----------------------------------------------------------------------------------------------

# ----------------------------------------------------------------------------------------------
# The 20-area demo
# ----------------------------------------------------------------------------------------------
