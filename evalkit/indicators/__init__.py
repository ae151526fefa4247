"""Population indicators as OHID Fingertips and R PHEindicatormethods compute them.

- :func:`proportion`: a proportion with a Wilson score interval (``phe_proportion``);
- :func:`rate`: a crude rate with Byar's interval (10 or more events) or the exact Poisson
  interval (fewer than 10 events) (``phe_rate``);
- :func:`mean`: a mean with a Student's t interval (``phe_mean``);
- :func:`dsr`: a directly standardised rate with Dobson's interval (``calculate_dsr``), and
  :func:`standard_population` (the 2013 European Standard Population, ``esp2013``);
- :func:`isr`: an indirectly standardised ratio or rate (``calculate_ISRatio``,
  ``calculate_ISRate``);
- :func:`quantiles`: quantiles within groups (``phe_quantile``);
- :func:`sii`: the slope (and relative) index of inequality (``phe_sii``);
- :func:`funnel_limits` and :func:`funnel`: funnel plots for proportions, rates and ratios
  (``calculate_funnel_limits``, ``assign_funnel_significance``, ``calculate_funnel_points``);
- :func:`compare`: better / similar / worse than a benchmark, as the Fingertips profiles;
- :func:`trend`: the Fingertips recent-trend marker on the last five points.

Shapes: :func:`proportion` and :func:`rate` take scalars (a small result object) or arrays
(a DataFrame, one row per area). The grouped functions take a DataFrame, column names and
optional ``groups``, and return a result whose ``.to_frame()`` has one row per group.

>>> from evalkit import indicators
>>> r = indicators.proportion(65, 100)
>>> round(r.ci_low, 4), round(r.ci_high, 4)
(0.5525, 0.7364)
"""

from __future__ import annotations

from ._common import Indicator, IndicatorTable
from .benchmark import POLARITIES, TREND_POINTS, compare, trend
from .funnels import FUNNEL_LEVELS, FUNNEL_STATISTICS, Funnel, funnel, funnel_limits
from .inequality import SII, quantiles, sii
from .simple import mean, proportion, rate
from .standardised import ESP2013_AGE_BANDS, dsr, isr, standard_population

__all__ = [
    "Indicator",
    "IndicatorTable",
    "Funnel",
    "SII",
    "proportion",
    "rate",
    "mean",
    "dsr",
    "isr",
    "standard_population",
    "ESP2013_AGE_BANDS",
    "quantiles",
    "sii",
    "funnel",
    "funnel_limits",
    "compare",
    "trend",
    "FUNNEL_LEVELS",
    "FUNNEL_STATISTICS",
    "POLARITIES",
    "TREND_POINTS",
]
