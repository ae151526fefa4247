"""The maturity matrix: local partners' self-assessment of their early intervention system.

The framework (dimensions, elements and levels) is data: by default
``evalkit/matrix/framework.yaml``, modelled on the Early Intervention Foundation's early
intervention system maturity matrix, with four dimensions (Plan, Lead, Deliver, Evaluate),
nine elements and five levels, 1 (basic) to 5 (mature). A local version is a copy of that
file passed to :func:`load_framework`.

Ratings are a long table, one row per partner, element and assessment date::

    area        partner          element        level  date
    Northshire  Health visiting  strategy           3  2024-03-01
    Northshire  Early years      strategy           2  2024-03-01

- :func:`load_framework` reads and checks a framework file;
- :func:`read_ratings` checks a ratings table against the framework;
- :func:`profile` summarises the levels per element, dimension and overall;
- :func:`agreement` measures agreement between partners (ICC(A,1) or weighted kappa);
- :func:`change` compares the two most recent assessments (or, with ``since="baseline"``,
  the first and the latest);
- :func:`write_template` writes the XLSX workbook partners fill in (one sheet per partner,
  levels from drop-down lists, evidence, barriers and priority actions); :func:`read_ratings`
  reads it back (``notes=True`` keeps the evidence, barriers and actions) and
  :func:`read_actions` lists its priority actions;
- :func:`priority_actions` (agreed at the last assessment, with their status),
  :func:`disagreement` (where partners disagree most) and :func:`level_distribution` (areas at
  each level per element) serve the yearly cycle.

Pictures are in :mod:`evalkit.plots.matrix` (``plot_profile``, ``plot_heatmap``,
``plot_level_distribution``).

References
----------
Early Intervention Foundation (2014, revised 2021). *EIF maturity matrix: early years.*
McGraw, K. O. & Wong, S. P. (1996). Forming inferences about some intraclass correlation
coefficients. *Psychological Methods*, 1(1), 30-46.
Cohen, J. (1968). Weighted kappa. *Psychological Bulletin*, 70(4), 213-220.
Koo, T. K. & Li, M. Y. (2016). A guideline of selecting and reporting intraclass correlation
coefficients for reliability research. *J Chiropractic Medicine*, 15(2), 155-163.

The package has one module per job: :mod:`~evalkit.matrix.framework`,
:mod:`~evalkit.matrix.ratings` (reading, through :mod:`evalkit.tools.io`),
:mod:`~evalkit.matrix.profile` (profile and change) and :mod:`~evalkit.matrix.agreement`
(which calls :func:`evalkit.reliability.icc` and :func:`evalkit.reliability.cohen_kappa`).
"""

from __future__ import annotations

from .agreement import Agreement, agreement
from .cycle import disagreement, level_distribution, priority_actions
from .framework import DEFAULT_FRAMEWORK, Dimension, Element, Framework, load_framework
from .profile import change, profile
from .ratings import ACTION_STATUSES, NOTE_COLUMNS, RATING_COLUMNS, read_actions, read_ratings
from .workbook import write_template

__all__ = [
    "DEFAULT_FRAMEWORK",
    "RATING_COLUMNS",
    "NOTE_COLUMNS",
    "ACTION_STATUSES",
    "Framework",
    "Dimension",
    "Element",
    "Agreement",
    "load_framework",
    "read_ratings",
    "read_actions",
    "write_template",
    "profile",
    "agreement",
    "change",
    "priority_actions",
    "disagreement",
    "level_distribution",
]
