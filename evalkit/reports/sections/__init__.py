"""Report sections as tested package code: one function per section of the area report.

A template is its parameters cell, one cell that runs :func:`analyse` (load, score and analyse
once, and declare every count in the page's disclosure register), and one short cell per
section::

    a = sections.analyse(globals())
    page.show(sections.summary(a))
    ...
    page.record(sections.record(a, *shown))

Each section function returns a :class:`~evalkit.reports.page.Section`: the blocks to show,
the names of the counts it publishes (all read from ``a.register``) and its part of the
area's record.
"""

from __future__ import annotations

from . import area
from .analysis import AreaAnalysis, analyse, area_parameters, reader_reason
from .area import *  # noqa: F403 (the section functions, listed in area.__all__)

__all__ = ["AreaAnalysis", "analyse", "area_parameters", "reader_reason", *area.__all__]
