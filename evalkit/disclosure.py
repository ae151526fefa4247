"""Disclosure control: small-number suppression and a leak check for rendered pages.

Reports are read by people who must never be able to identify a child or a family. Two tools:

- :func:`suppress` hides small counts in a published table (primary suppression), then hides
  enough other cells that no hidden count can be worked out from the row and column totals
  (secondary suppression), and hides percentages and rates built on hidden counts;
- :func:`scan_html_for_ids` looks for any value of the input data's ID column in a rendered
  page, so that a report that leaks an ID is stopped before it is shared.

Conventions (see ``shared/reference/published.md``, "Disclosure control conventions"):
the Department for Education shows counts of 1 to 5 as ``c`` with secondary suppression, and
shows zeros; NHS England did the same with ``*``. evalkit's default threshold is 10 (the
project's parameter, in line with ONS research outputs), so counts 1 to 9 are hidden; zeros are
shown by default (``hide_zero=False``, as DfE and NHS England do) and can be hidden too.
Hidden cells become ``pd.NA`` in the returned table; :mod:`evalkit.tables` shows them as ``c``
with a footnote.
"""

from __future__ import annotations

import html
import re
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from warnings import warn

import numpy as np
import pandas as pd

from ._validate import check_choice, check_positive_int
from .errors import DataError, EvalkitWarning, ParameterError

__all__ = ["Suppressed", "suppress", "scan_html_for_ids", "DEFAULT_MARKER"]

#: how a hidden cell is shown in a published table (the DfE convention)
DEFAULT_MARKER = "c"


@dataclass(frozen=True)
class Suppressed:
    """A table after disclosure control.

    Unpacks as ``table, mask = suppress(...)``.

    Attributes
    ----------
    table : DataFrame
        The input with hidden cells set to ``pd.NA`` (columns holding hidden cells become
        nullable ``Int64`` / ``Float64``); every other cell is unchanged.
    mask : DataFrame of bool
        Same shape as ``table``; True where a cell is hidden.
    primary : DataFrame of bool
        True where a count was hidden for being small (the rest of ``mask`` is secondary
        suppression or derived values).
    threshold : int
        Counts from 1 to ``threshold - 1`` were hidden.
    marker : str
        Shown in place of a hidden cell by :meth:`display`.
    unprotected : tuple
        ``(row label, column)`` of hidden cells that could not be protected by secondary
        suppression (a line with a single cell); empty in normal use.
    """

    table: pd.DataFrame
    mask: pd.DataFrame
    primary: pd.DataFrame
    threshold: int
    marker: str = DEFAULT_MARKER
    unprotected: tuple = ()

    def __iter__(self) -> Iterator[pd.DataFrame]:
        yield self.table
        yield self.mask

    @property
    def n_hidden(self) -> int:
        """Number of hidden cells."""
        return int(self.mask.to_numpy().sum())

    def display(self, marker: str | None = None) -> pd.DataFrame:
        """The table as objects, with ``marker`` (default ``"c"``) in every hidden cell."""
        out = self.table.astype(object)
        out = out.mask(self.mask, marker if marker is not None else self.marker)
        return out


# ----------------------------------------------------------------------------------------------
# Input checks
# ----------------------------------------------------------------------------------------------
def _as_frame(table: Any) -> pd.DataFrame:
    if isinstance(table, pd.Series):
        return table.to_frame(name=table.name if table.name is not None else "n")
    if isinstance(table, pd.DataFrame):
        return table
    raise DataError(f"table must be a pandas DataFrame or Series, got {type(table).__name__}")


def _derived_map(df: pd.DataFrame, derived: Mapping | None) -> dict[Any, list[Any]]:
    if derived is None:
        return {}
    if not isinstance(derived, Mapping):
        raise ParameterError(
            "derived must map each derived column to the count column(s) it is built on",
            key="derived",
            expected='a mapping such as {"pct": "n"} or {"rate": ["events", "births"]}',
        )
    out = {}
    for col, src in derived.items():
        sources = [src] if isinstance(src, (str, int)) or np.isscalar(src) else list(src)
        out[col] = sources
    missing = [c for c in [*out, *(s for v in out.values() for s in v)] if c not in df.columns]
    if missing:
        raise DataError(
            "derived names column(s) that are not in the table",
            columns=[str(c) for c in missing],
            allowed=", ".join(str(c) for c in df.columns),
        )
    return out


def _count_columns(df: pd.DataFrame, count_cols: Sequence | None, derived: dict) -> list[Any]:
    if count_cols is None:
        cols = [
            c
            for c in df.columns
            if c not in derived
            and pd.api.types.is_integer_dtype(df[c])
            and not pd.api.types.is_bool_dtype(df[c])
        ]
    else:
        if isinstance(count_cols, (str, int)):
            count_cols = [count_cols]
        cols = list(count_cols)
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise DataError(
                "count_cols names column(s) that are not in the table",
                columns=[str(c) for c in missing],
                allowed=", ".join(str(c) for c in df.columns),
            )
    for c in cols:
        raw = df[c]
        values = pd.to_numeric(raw, errors="coerce")
        bad = values.isna() | (values < 0) | (values != np.floor(values))
        if bad.any():
            raise DataError(
                "counts must be whole numbers of 0 or more, with none missing",
                column=str(c),
                rows=list(df.index[bad.to_numpy()]),
                values=list(raw[bad.to_numpy()])[:5],
                allowed="0, 1, 2, ... (write 0 where there were none)",
            )
    for col, sources in derived.items():
        not_counts = [s for s in sources if s not in cols]
        if not_counts:
            raise DataError(
                f"derived column {col!r} is built on column(s) that are not counts",
                columns=[str(s) for s in not_counts],
                allowed="columns listed in count_cols: " + ", ".join(str(c) for c in cols),
            )
    return cols


# ----------------------------------------------------------------------------------------------
# Secondary suppression
# ----------------------------------------------------------------------------------------------
def _bridges(hidden: set[tuple[int, int]]) -> list[tuple[int, int]]:
    """Hidden cells that are bridges of the row-column graph (Tarjan, iterative).

    Nodes are rows and columns; each hidden cell (i, j) is an edge between row i and column j.
    With every row and column total known, a hidden cell's value is fixed by the totals exactly
    when its edge lies on no cycle of hidden cells, i.e. when it is a bridge.
    """
    adj: dict[tuple[str, int], list[tuple[tuple[str, int], tuple[int, int]]]] = {}
    for i, j in hidden:
        adj.setdefault(("r", i), []).append((("c", j), (i, j)))
        adj.setdefault(("c", j), []).append((("r", i), (i, j)))
    disc: dict = {}
    low: dict = {}
    out = []
    timer = 0
    for start in sorted(adj):
        if start in disc:
            continue
        disc[start] = low[start] = timer
        timer += 1
        stack = [(start, None, iter(adj[start]))]
        while stack:
            v, via, it = stack[-1]
            for w, edge in it:
                if edge == via:
                    continue
                if w in disc:
                    low[v] = min(low[v], disc[w])
                else:
                    disc[w] = low[w] = timer
                    timer += 1
                    stack.append((w, edge, iter(adj[w])))
                    break
            else:
                stack.pop()
                if stack:
                    u = stack[-1][0]
                    low[u] = min(low[u], low[v])
                    if low[v] > disc[u]:
                        out.append(via)
    return sorted(out)


def _component(hidden: set[tuple[int, int]], start: tuple[str, int], skip: tuple[int, int]):
    """Nodes reachable from ``start`` through hidden cells other than ``skip``."""
    seen = {start}
    queue = deque([start])
    while queue:
        kind, k = queue.popleft()
        for i, j in hidden:
            if (i, j) == skip:
                continue
            if kind == "r" and i == k and ("c", j) not in seen:
                seen.add(("c", j))
                queue.append(("c", j))
            elif kind == "c" and j == k and ("r", i) not in seen:
                seen.add(("r", i))
                queue.append(("r", i))
    return seen


def _secondary(
    grid: np.ndarray,
    hidden: set[tuple[int, int]],
    *,
    rows: bool,
    cols: bool,
    is_total: np.ndarray,
) -> list[tuple[int, int]]:
    """Add cells to ``hidden`` until none can be recovered from known line totals.

    Returns the hidden cells that could not be protected (a line with nothing else to hide).
    """
    n_rows, n_cols = grid.shape

    def key(cell: tuple[int, int]) -> tuple:
        # prefer ordinary cells to totals, non-zero cells to zeros, then the smallest count
        v = grid[cell]
        return (bool(is_total[cell]), v == 0, v, cell)

    stuck: set[tuple[int, int]] = set()
    while True:
        if rows and cols:
            exposed = [e for e in _bridges(hidden) if e not in stuck]
        else:
            exposed = []
            for i, j in sorted(hidden):
                line = (
                    [(i, jj) for jj in range(n_cols)] if rows else [(ii, j) for ii in range(n_rows)]
                )
                if sum(c in hidden for c in line) == 1 and (i, j) not in stuck:
                    exposed.append((i, j))
        if not exposed:
            return sorted(stuck)
        i, j = exposed[0]
        line_cells = []
        if rows:
            line_cells += [(i, jj) for jj in range(n_cols)]
        if cols:
            line_cells += [(ii, j) for ii in range(n_rows)]
        free = [c for c in line_cells if c not in hidden]
        if rows and cols:
            # any visible cell joining the two sides of the bridge closes a cycle through it
            side_r = _component(hidden, ("r", i), (i, j))
            side_c = _component(hidden, ("c", j), (i, j))
            closing = [
                (a, b)
                for s1, s2 in ((side_r, side_c), (side_c, side_r))
                for kind_a, a in s1
                if kind_a == "r"
                for kind_b, b in s2
                if kind_b == "c" and (a, b) not in hidden
            ]
            free = closing or free
        if not free:
            stuck.add((i, j))
            continue
        hidden.add(min(free, key=key))


def _is_total_label(label: Any, totals: Iterable[str]) -> bool:
    names = {str(t).strip().casefold() for t in totals}
    parts = label if isinstance(label, tuple) else (label,)
    return any(str(p).strip().casefold() in names for p in parts)


def suppress(
    table: pd.DataFrame | pd.Series,
    *,
    threshold: int = 10,
    secondary: bool = True,
    count_cols: Sequence[Any] | None = None,
    derived: Mapping[Any, Any] | None = None,
    hide_zero: bool = False,
    protect: str = "auto",
    totals: Sequence[str] = ("Total", "All"),
    marker: str = DEFAULT_MARKER,
) -> Suppressed:
    """Hide small counts, and whatever would let a reader work them out.

    Parameters
    ----------
    table : DataFrame or Series
        A published table: a 1-D table (one count column, rows are categories, perhaps with a
        total row) or a 2-D table (several count columns, perhaps with a total row and a total
        column, as ``pd.crosstab(..., margins=True)`` makes).
    threshold : int
        Counts from 1 to ``threshold - 1`` are hidden (primary suppression). Default 10, so 1-9
        are hidden; DfE's convention (1-5 hidden) is ``threshold=6``.
    secondary : bool
        Also hide other cells so that no hidden count can be recovered from totals.
    count_cols : list, optional
        The columns holding counts. By default every integer column that is not in ``derived``.
        Other columns are left alone. Counts must be whole numbers of 0 or more (no missing).
    derived : mapping, optional
        Columns computed from counts, hidden wherever a count they use is hidden:
        ``{"pct": "n"}`` or ``{"rate": ["events", "births"]}``.
    hide_zero : bool
        Hide zeros as well (default False: zeros are shown, as by DfE and NHS England).
    protect : {"auto", "rows", "columns", "both"}
        Which totals a reader may know. ``"columns"``: each count column's total (down the
        rows); ``"rows"``: each row's total (across the count columns); ``"both"``. ``"auto"``
        protects column totals when there are two or more rows and row totals when there are
        two or more count columns. A total is assumed known whether or not it is in the table
        (it may be published elsewhere). When the count columns are not parts of a whole (say
        ``events`` and ``births``), row totals mean nothing: pass ``"columns"`` to avoid
        hiding more than needed.
    totals : sequence of str
        Row or column labels that are totals (case-insensitive). Used only to prefer ordinary
        cells over totals when choosing cells for secondary suppression.
    marker : str
        What :meth:`Suppressed.display` shows in hidden cells.

    Returns
    -------
    Suppressed
        ``table`` (hidden cells ``pd.NA``, every other cell unchanged), ``mask`` (True where
        hidden), ``primary``; unpacks as ``table, mask``.

    Notes
    -----
    Secondary suppression. Treat the known totals as linear equations over the cells. With
    totals in one direction only (say columns), a hidden cell can be recovered exactly when it
    is the only hidden cell in its column, so while such a column exists the smallest visible
    cell of that column is hidden too. With row and column totals both known, think of rows and
    columns as the nodes of a graph and hidden cells as its edges: a hidden cell is fixed by the
    totals exactly when its edge lies on no cycle (a bridge). Such a cell is repaired by hiding
    the smallest visible cell in its row or column that closes a cycle through it. A row or
    column with exactly one hidden cell is the simplest bridge, so the rule "never leave one
    hidden cell alone in a row or column" always holds, and so does the stronger property that
    no hidden cell is determined by the totals (checked in the tests with a rank test).
    Margins in the table take part as ordinary cells of their row and column.

    Candidates are chosen in this order: ordinary cells before totals, non-zero cells before
    zeros (a hidden zero that a reader can guess protects little), then the smallest count.
    Counts that only bounds can narrow (e.g. two hidden cells summing to 3) are not recoverable
    exactly; interval disclosure beyond that is not checked.

    References
    ----------
    Department for Education, *Statistics: guidance on disclosure control* (2022).
    Hundepool, A. et al. (2012). *Statistical Disclosure Control*, ch. 4 (tabular data). Wiley.

    Examples
    --------
    >>> t = pd.DataFrame({"n": [3, 25, 40, 68]}, index=["A", "B", "C", "Total"])
    >>> s = suppress(t)
    >>> s.display()["n"].tolist()
    ['c', 'c', 40, 68]
    """
    df = _as_frame(table)
    threshold = check_positive_int("threshold", threshold)
    check_choice("protect", protect, ["auto", "rows", "columns", "both"])
    dmap = _derived_map(df, derived)
    cols = _count_columns(df, count_cols, dmap)

    grid = df[cols].apply(pd.to_numeric).to_numpy(dtype=float) if cols else np.zeros((len(df), 0))
    low = 0 if hide_zero else 1
    small = (grid >= low) & (grid < threshold)
    hidden = {(int(i), int(j)) for i, j in zip(*np.nonzero(small))}

    stuck: list[tuple[int, int]] = []
    if secondary and hidden:
        n_rows, n_cols = grid.shape
        by_rows = protect in ("rows", "both") or (protect == "auto" and n_cols >= 2)
        by_cols = protect in ("columns", "both") or (protect == "auto" and n_rows >= 2)
        row_total = np.array([_is_total_label(x, totals) for x in df.index])
        col_total = np.array([_is_total_label(c, totals) for c in cols])
        is_total = row_total[:, None] | col_total[None, :]
        if by_rows or by_cols:
            stuck = _secondary(grid, hidden, rows=by_rows, cols=by_cols, is_total=is_total)
        if stuck:
            warn(
                f"{len(stuck)} hidden cell(s) are alone in a row or column with nothing else to "
                "hide, so a published total would reveal them: do not publish that total",
                EvalkitWarning,
                stacklevel=2,
            )

    mask = pd.DataFrame(False, index=df.index, columns=df.columns)
    primary = mask.copy()
    for i, j in hidden:
        mask.iloc[i, df.columns.get_loc(cols[j])] = True
    for i, j in zip(*np.nonzero(small)):
        primary.iloc[i, df.columns.get_loc(cols[j])] = True
    for col, sources in dmap.items():
        mask[col] = mask[col] | mask[sources].any(axis=1)

    out = df.copy()
    for c in df.columns:
        if not mask[c].any():
            continue
        col = out[c]
        if pd.api.types.is_integer_dtype(col) and not pd.api.types.is_bool_dtype(col):
            col = col.astype("Int64")
        elif pd.api.types.is_float_dtype(col):
            col = col.astype("Float64")
        else:
            col = col.astype(object)
        out[c] = col.mask(mask[c].to_numpy(), pd.NA)
    unprotected = tuple((df.index[i], cols[j]) for i, j in stuck)
    return Suppressed(out, mask, primary, threshold, marker, unprotected)


# ----------------------------------------------------------------------------------------------
# Leak check
# ----------------------------------------------------------------------------------------------
# numbers with decimals (0.123) or thousands separators (12,345) are single tokens, so an ID is
# never found inside another number
_TOKEN = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)+|\w+")
_BASE64 = re.compile(r"(;base64,)[A-Za-z0-9+/=\s]+")
_WORD = re.compile(r"\w+")


def _id_text(value: Any) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def scan_html_for_ids(
    html_text: str,
    ids: Iterable[Any],
    *,
    case_sensitive: bool = False,
) -> list[str]:
    """IDs from the input data that appear in a rendered page (empty list: no leak).

    Parameters
    ----------
    html_text : str
        The rendered page.
    ids : iterable
        The values of the input data's ID column (e.g. ``df["child_id"]``). Missing values are
        ignored; whole-number floats (``123.0``) are read as ``123``.
    case_sensitive : bool
        By default ``p000123`` in the page matches ``P000123``.

    Returns
    -------
    list of str
        The IDs found, once each, in the order given.

    Notes
    -----
    An ID matches as a whole token, never inside a longer word or number: ``P000123`` is found
    in ``child P000123,`` but ``123`` is not found in ``P000123``, ``41234``, ``0.123`` or
    ``12,123``. The page is read after HTML entities are decoded; base64 payloads of embedded
    images (``data:...;base64,``) are skipped, since random text there would give false alarms
    and an ID drawn in a picture cannot be found by a text search anyway. Short numeric IDs
    (``1``, ``27``) will match ordinary numbers in a report: use distinctive IDs.

    Examples
    --------
    >>> scan_html_for_ids("<td>P000123</td><td>41234</td>", ["P000123", "1234", "P9"])
    ['P000123']
    """
    if not isinstance(html_text, str):
        raise ParameterError(
            f"html_text must be text, got {type(html_text).__name__}", key="html_text"
        )
    if isinstance(ids, (str, bytes)):
        ids = [ids]
    text = html.unescape(_BASE64.sub(r"\1", html_text))
    fold = (lambda s: s) if case_sensitive else str.casefold
    tokens = {fold(t) for t in _TOKEN.findall(text)}
    found: list[str] = []
    seen: set[str] = set()
    for value in ids:
        ident = _id_text(value)
        if ident is None or ident in seen:
            continue
        seen.add(ident)
        if _WORD.fullmatch(ident):
            hit = fold(ident) in tokens
        else:
            pattern = r"(?<![\w])(?<!\d[.,])" + re.escape(ident) + r"(?![\w])(?![.,]\d)"
            flags = 0 if case_sensitive else re.IGNORECASE
            hit = re.search(pattern, text, flags) is not None
        if hit:
            found.append(ident)
    return found
