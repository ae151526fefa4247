"""Result types shared by every statistic.

Every statistic returns a small frozen dataclass that mixes in :class:`Result`
(or, where the output is naturally a table, a DataFrame). A result has plain
attributes (``estimate``, ``se``, ``ci_low``, ``ci_high``, ``n``, ``level``,
``method`` and the statistic's own fields), and

- ``to_frame()``: a tidy DataFrame, one row per estimate (the shape R's broom gives);
- ``_repr_html_()``: a small table for notebooks;
- ``plot(ax=None)``: a matplotlib Figure, where a picture helps.

Results never round: rounding is presentation.

Example
-------
>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Mean(Result):
...     estimate: float
...     n: int
...     method: str = "mean"
>>> Mean(2.5, 4).to_frame()
   estimate  n method
0       2.5  4   mean
"""

from __future__ import annotations

import dataclasses
import html
import math
import numbers
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Result", "is_scalar_value", "TIDY_COLUMNS"]

#: the columns of one tidy row, as broom's ``tidy()`` gives them
TIDY_COLUMNS = ("term", "estimate", "se", "ci_low", "ci_high", "p")

# Fields shown first, in this order, when present.
_FRONT = ("term", "estimate", "se", "ci_low", "ci_high", "p", "n", "level", "method")


def is_scalar_value(value: Any) -> bool:
    """True for values that fit in one cell of a tidy table."""
    return value is None or isinstance(value, (numbers.Number, str, bool, np.generic))


class Result:
    """Mixin giving a frozen dataclass the results contract.

    Subclasses are ``@dataclass(frozen=True)``. Override :meth:`to_frame`
    when a result holds several estimates, and :meth:`plot` where a picture
    helps; fields holding DataFrames or arrays are left out of the default
    tidy row and stay available as attributes.
    """

    #: a short human title used by ``_repr_html_`` and ``__str__``
    _title: str = ""

    # -- tidy output -------------------------------------------------------------------------
    def _scalar_fields(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            if f.name.startswith("_") or not f.repr:
                continue
            value = getattr(self, f.name)
            if is_scalar_value(value):
                out[f.name] = value.item() if isinstance(value, np.generic) else value
        front = [k for k in _FRONT if k in out]
        rest = [k for k in out if k not in _FRONT]
        return {k: out[k] for k in front + rest}

    def to_frame(self) -> pd.DataFrame:
        """Return a tidy DataFrame with one row per estimate."""
        return pd.DataFrame([self._scalar_fields()])

    def _tidy(self, rows: Any, shared: tuple[str, ...] = ("n", "level", "method")) -> pd.DataFrame:
        """``rows`` (tuples or dicts of :data:`TIDY_COLUMNS`) as a tidy frame, with the
        result's ``shared`` fields repeated on every row (for results with several estimates).
        """
        out = pd.DataFrame(list(rows), columns=list(TIDY_COLUMNS))
        for name in shared:
            out[name] = getattr(self, name)
        return out

    def to_dict(self) -> dict[str, Any]:
        """The scalar fields as a plain dict (JSON-friendly; NaN becomes None)."""
        out = {}
        for k, v in self._scalar_fields().items():
            if isinstance(v, float) and not math.isfinite(v):
                v = None
            out[k] = v
        return out

    # -- display --------------------------------------------------------------------------------
    def _name(self) -> str:
        return self._title or type(self).__name__

    def __str__(self) -> str:
        lines = [self._name()]
        for k, v in self._scalar_fields().items():
            if isinstance(v, float):
                v = f"{v:.6g}"
            lines.append(f"  {k}: {v}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        frame = self.to_frame()
        body = frame.to_html(index=False, float_format=lambda x: f"{x:.4g}", escape=True, border=0)
        return (
            f"<div class='evalkit-result'><strong>{html.escape(self._name())}</strong>{body}</div>"
        )

    def plot(self, ax: Any = None) -> Any:
        """Draw the result; results without a natural picture raise ``NotImplementedError``."""
        raise NotImplementedError(f"{type(self).__name__} has no plot; use .to_frame() instead")
