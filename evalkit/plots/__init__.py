"""House-style matplotlib figures (presentation layer).

One module per topic (``reliability``, ``designs``, ``indicators``,
``matrix``...); :mod:`evalkit.plots.style` holds the shared palette and figure
helper. Results' ``.plot()`` methods import from here lazily, so matplotlib is
only loaded when a picture is drawn. Submodules load on first use:
``evalkit.plots.matrix.plot_profile(...)``.
"""

from __future__ import annotations

import importlib
from typing import Any

from .style import PALETTE, new_figure, use_house_style

__all__ = ["PALETTE", "new_figure", "use_house_style"]


def __getattr__(name: str) -> Any:
    try:
        module = importlib.import_module(f".{name}", __name__)
    except ModuleNotFoundError:
        raise AttributeError(f"module 'evalkit.plots' has no attribute {name!r}") from None
    globals()[name] = module
    return module
