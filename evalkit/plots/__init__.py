"""House-style matplotlib figures (presentation layer).

One module per topic (``reliability``, ``designs``, ``indicators``, ``matrix``...);
:mod:`evalkit.plots.style` holds the shared palette and figure helper. Results'
``.plot()`` methods import from here lazily, so matplotlib is only loaded when a
picture is drawn.
"""

from .style import PALETTE, new_figure, use_house_style

__all__ = ["PALETTE", "new_figure", "use_house_style"]
