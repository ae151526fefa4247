"""Imported once by the process pool's fork server (see ``render._new_pool``).

Each worker is forked from the fork server, so it starts with papermill, nbconvert
(its HTML exporter built, templates loaded), pandas and evalkit's checks already in
memory, instead of paying for them in its first area. Nothing here starts a thread,
opens a socket or touches an area's data.
"""

from __future__ import annotations

import nbclient  # noqa: F401
import nbformat  # noqa: F401
import pandas  # noqa: F401
import papermill  # noqa: F401

from .. import disclosure  # noqa: F401
from . import checks, inputs, render  # noqa: F401
from .export import prepare

prepare()
