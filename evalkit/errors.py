"""Exception and warning types.

Every error a user can trigger is an :class:`EvalkitError`. Each subclass says
*where* the problem is (a file, a key, a column, some rows) and *what is allowed*,
so that a local evaluator can fix the input without reading a traceback.

>>> from evalkit.errors import DataError
>>> str(DataError("must be numeric", column="q1", rows=[3, 7], values=["yes"], allowed="numbers 0-3"))
"column 'q1', rows 3, 7: must be numeric (found 'yes'; allowed: numbers 0-3)"
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "EvalkitError",
    "DataError",
    "ParameterError",
    "SpecError",
    "ReportError",
    "EvalkitWarning",
    "format_list",
]


def format_list(values: Iterable[Any], limit: int = 10) -> str:
    """Join up to ``limit`` values with commas, saying how many more there are."""
    values = list(values)
    shown = ", ".join(str(v) for v in values[:limit])
    if len(values) > limit:
        shown += f" and {len(values) - limit} more"
    return shown


class EvalkitError(Exception):
    """Root of all evalkit errors."""


class DataError(EvalkitError, ValueError):
    """Input data that cannot be analysed as asked.

    Parameters
    ----------
    message
        What is wrong, in plain words.
    column, columns
        The offending column(s).
    rows
        Row labels (index values) where the problem occurs.
    values
        Offending values (a few are shown).
    allowed
        What would have been accepted.
    """

    def __init__(
        self,
        message: str,
        *,
        column: str | None = None,
        columns: Sequence[str] | None = None,
        rows: Sequence[Any] | None = None,
        values: Sequence[Any] | None = None,
        allowed: str | None = None,
        file: str | None = None,
    ) -> None:
        self.message = message
        self.column = column
        self.columns = list(columns) if columns is not None else None
        self.rows = list(rows) if rows is not None else None
        self.values = list(values) if values is not None else None
        self.allowed = allowed
        self.file = file
        super().__init__(self._compose())

    def _compose(self) -> str:
        where = []
        if self.file:
            where.append(f"{self.file}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        if self.columns:
            where.append("columns " + format_list(repr(c) for c in self.columns))
        if self.rows:
            where.append(("row " if len(self.rows) == 1 else "rows ") + format_list(self.rows))
        text = (", ".join(where) + ": " if where else "") + self.message
        extra = []
        if self.values:
            uniq = list(dict.fromkeys(repr(v) for v in self.values))
            extra.append("found " + format_list(uniq, limit=5))
        if self.allowed:
            extra.append(f"allowed: {self.allowed}")
        if extra:
            text += " (" + "; ".join(extra) + ")"
        return text


class ParameterError(EvalkitError, ValueError):
    """A parameter file (or a function argument) that is not acceptable.

    ``problems`` holds one line per problem so that all problems in all files
    can be reported at once.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        key: str | None = None,
        expected: str | None = None,
        problems: Sequence[str] | None = None,
    ) -> None:
        self.file = file
        self.key = key
        self.expected = expected
        if problems is None:
            parts = []
            if file:
                parts.append(str(file))
            if key:
                parts.append(f"key {key!r}")
            line = (": ".join(parts) + ": " if parts else "") + message
            if expected:
                line += f" (expected {expected})"
            problems = [line]
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class SpecError(EvalkitError, ValueError):
    """An instrument (tool) or maturity-matrix specification that is invalid."""

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None) -> None:
        self.file = file
        self.key = key
        prefix = []
        if file:
            prefix.append(str(file))
        if key:
            prefix.append(f"key {key!r}")
        super().__init__((": ".join(prefix) + ": " if prefix else "") + message)


class ReportError(EvalkitError, RuntimeError):
    """A report that could not be rendered or did not pass its checks."""


class EvalkitWarning(UserWarning):
    """Numbers that are legal but surprising (negative alpha, few clusters...)."""
