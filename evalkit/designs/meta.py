"""Kept so that ``evalkit.designs.meta`` still imports: meta-analysis lives in :mod:`evalkit.meta`.

It sits in the base layer because reliability (pooling alpha across areas) and the designs
(the cross-area synthesis) both use it.
"""

from ..meta import *  # noqa: F403
from ..meta import __all__  # noqa: F401
