"""Disclosure control: small-number suppression and a leak check for rendered pages.

Reports are read by people who must never be able to identify a child or a family. Two tools:

- :func:`suppress` hides small counts in a published table (primary suppression), then hides
  enough other cells that no hidden count can be worked out from the row and column totals
  (secondary suppression), and hides percentages and rates built on hidden counts;
- :class:`Register` is a page's disclosure register: every count a page publishes (table cell,
  sentence, note, figure label, JSON record) is declared once, with the sums that link it to
  other counts; the register suppresses across the whole page at once, as linked tables, and
  :func:`audit` then tries to rebuild every hidden count from what is published, as an intruder
  would;
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
from fractions import Fraction
from typing import Any
from warnings import warn

import numpy as np
import pandas as pd

from ._validate import check_choice, check_positive_int
from .errors import DataError, EvalkitWarning, ParameterError, ReportError

__all__ = [
    "Suppressed",
    "suppress",
    "Register",
    "Disclosed",
    "audit",
    "scan_html_for_ids",
    "DEFAULT_MARKER",
]

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
# A page's disclosure register and its audit
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Disclosed:
    """A hidden count that an intruder can rebuild from what a page publishes.

    Attributes
    ----------
    key : str
        The count's name in the register.
    low, high : float
        The narrowest range the published counts and relations allow (``low == high``: the
        count is known exactly).
    how : str
        ``"exact"`` (fixed by the linear relations alone) or ``"bounds"`` (pinned by the
        relations together with the counts being 0 or more, and "fewer than the threshold").
    """

    key: str
    low: float
    high: float
    how: str


def _rref_rows(matrix: list[dict[int, Fraction]]) -> list[tuple[int, dict[int, Fraction]]]:
    """Reduced row echelon form over the rationals of sparse rows (column -> value):
    ``(pivot column, row)`` pairs."""
    pivots: list[tuple[int, dict[int, Fraction]]] = []
    for raw in matrix:
        row = dict(raw)
        for c, prow in pivots:  # reduce the new row by the pivots found so far
            f = row.get(c)
            if f:
                for k, v in prow.items():
                    row[k] = row.get(k, 0) - f * v
                row = {k: v for k, v in row.items() if v != 0}
        if not row:
            continue
        c = min(row)
        p = row[c]
        row = {k: v / p for k, v in row.items()}
        for i, (pc, prow) in enumerate(pivots):  # and the old pivots by the new one
            f = prow.get(c)
            if f:
                for k, v in row.items():
                    prow[k] = prow.get(k, 0) - f * v
                pivots[i] = (pc, {k: v for k, v in prow.items() if v != 0})
        pivots.append((c, row))
    return pivots


def _in_row_space(rref: list[tuple[int, dict[int, Fraction]]], k: int) -> bool:
    """Whether the unit vector e_k is a rational combination of the (reduced) rows."""
    v: dict[int, Fraction] = {k: Fraction(1)}
    for c, row in rref:
        f = v.get(c)
        if f:
            for j, x in row.items():
                v[j] = v.get(j, 0) - f * x
            v = {j: x for j, x in v.items() if x != 0}
    return not v


def audit(
    published: Mapping[str, int],
    hidden: Mapping[str, int],
    relations: Sequence[Mapping[str, int]],
    *,
    bounds: Mapping[str, tuple[float, float | None]] | None = None,
    use_bounds: bool = True,
    keys: Iterable[str] | None = None,
) -> list[Disclosed]:
    """Try to rebuild every hidden count from the published counts, as an intruder would.

    Parameters
    ----------
    published : mapping
        Counts a reader can see, by name.
    hidden : mapping
        Hidden counts, by name, with their true values (used only to set up the bounds check
        and to report; an intruder does not know them).
    relations : sequence of mappings
        Known linear relations ``sum(coefficient * count) == 0`` between counts, as integer
        coefficients by name: ``{"with_follow_up": -1, "improved": 1, "unchanged": 1,
        "deteriorated": 1}`` says the three add up to ``with_follow_up``. Names that are
        neither published nor hidden are counts the page never shows; they are unknowns too.
    bounds : mapping, optional
        What a reader knows about a hidden count's range, ``{name: (low, high)}`` (``high``
        ``None`` for no upper limit): a count shown as "fewer than 10" is in ``(1, 9)``.
        Every unknown is at least 0.
    use_bounds : bool
        Also check bounds with linear programming (default True); False checks exact
        determination and the presolve only.
    keys : iterable of str, optional
        Check only these hidden counts (the others are still unknowns); default all.

    Returns
    -------
    list of Disclosed
        The hidden counts that can be rebuilt (an empty list: the page is safe).

    Notes
    -----
    Exact disclosure: with the published values substituted, the relations are a linear
    system ``A x = b`` in the unknown counts ``x``. A hidden count ``x_k`` is fixed by the system
    exactly when the unit vector ``e_k`` lies in the row space of ``A`` (whatever the other
    unknowns are). This is checked with exact rational arithmetic (Gauss-Jordan elimination
    over :class:`fractions.Fraction`), so no rounding can hide or invent a disclosure.

    Bounds (interval) disclosure: first a cheap exact presolve fixes unknowns that a relation
    pins at their bounds (``a + b = 0`` with both 0 or more), then the smallest and largest value of ``x_k`` over the linear
    programme ``A x = b``, ``low <= x <= high`` (scipy's ``linprog``). When no more than one
    whole number lies in that range the count is known. This is the LP relaxation, so a
    range that only integer reasoning narrows further is not caught.

    References
    ----------
    Hundepool, A. et al. (2012). *Statistical Disclosure Control*, §4.2 (linked tables and
    the attacker's linear programme). Wiley.

    Examples
    --------
    The issue's A01 example: a table hid "deteriorated", but the summary published
    "improved" and a note gave the numbers with a baseline and without follow-up.

    >>> rel = [{"baseline": -1, "follow_up": 1, "dropped": 1},
    ...        {"follow_up": -1, "improved": 1, "unchanged": 1, "deteriorated": 1}]
    >>> seen = {"baseline": 129, "dropped": 29, "improved": 35, "unchanged": 58}
    >>> [d.key for d in audit(seen, {"deteriorated": 7}, rel)]
    ['deteriorated']
    >>> seen.pop("improved")
    35
    >>> audit(seen, {"deteriorated": 7, "improved": 35}, rel)
    []
    """
    bounds = dict(bounds or {})
    keys = set(keys) if keys is not None else None
    names: list[str] = []
    for rel in relations:
        for name in rel:
            if name not in published and name not in names:
                names.append(name)
    for name in hidden:
        if name not in names:
            names.append(name)
    index = {name: i for i, name in enumerate(names)}
    n = len(names)
    rows: list[dict[int, Fraction]] = []
    rhs: list[Fraction] = []
    for rel in relations:
        row: dict[int, Fraction] = {}
        const = Fraction(0)
        for name, coef in rel.items():
            if name in published:
                const -= Fraction(int(coef)) * Fraction(int(published[name]))
            else:
                row[index[name]] = row.get(index[name], 0) + Fraction(int(coef))
        row = {k: v for k, v in row.items() if v != 0}
        if row:
            rows.append(row)
            rhs.append(const)
    box = [bounds.get(name, (0, None)) for name in names]
    fixed = _fix_at_bounds(rows, rhs, box)
    rref = _rref_rows(rows) if rows else []
    found: list[Disclosed] = []
    lp_ready = use_bounds and bool(rows)
    # the true counts, when they are all given and meet the relations and bounds, are one
    # point of the programme: a count whose lowest value leaves room below the true one is
    # then not pinned, and its highest value need not be solved for
    truth = [hidden.get(name) for name in names]
    feasible = (
        lp_ready
        and all(v is not None for v in truth)
        and all(sum(c * truth[j] for j, c in row.items()) == r for row, r in zip(rows, rhs))
        and all((lo is None or lo <= v) and (hi is None or v <= hi)
                for v, (lo, hi) in zip(truth, box))
    )  # fmt: skip
    for name, value in hidden.items():
        if keys is not None and name not in keys:
            continue
        k = index[name]
        if k in fixed:
            found.append(Disclosed(name, float(fixed[k]), float(fixed[k]), "bounds"))
            continue
        if rows and _in_row_space(rref, k):
            found.append(Disclosed(name, float(value), float(value), "exact"))
            continue
        if not lp_ready:
            continue
        lo, hi = _lp_range(rows, rhs, names, k, bounds, n, known=value if feasible else None)
        if lo is not None and hi is not None and np.ceil(lo - 1e-7) >= np.floor(hi + 1e-7):
            found.append(Disclosed(name, lo, hi, "bounds"))
    return found


def _fix_at_bounds(rows: list[dict[int, Fraction]], rhs: list[Fraction], box: list) -> dict:
    """Unknowns that the bounds alone pin (a cheap, exact presolve before linear programming).

    A relation whose unknowns all have coefficients of one sign, and whose total equals its
    smallest (or largest) possible value, holds only with every unknown at that bound:
    ``a + b = 0`` with ``a, b >= 0`` gives ``a = b = 0``. Fixed unknowns are substituted
    (``rows`` and ``rhs`` are changed in place) and the search repeats.
    """
    fixed: dict[int, Fraction] = {}
    changed = True
    while changed:
        changed = False
        for i, row in enumerate(rows):
            if not row:
                continue
            sign = 1 if all(v > 0 for v in row.values()) else -1
            if any(v * sign <= 0 for v in row.values()):
                continue
            lows = [box[j][0] for j in row]
            highs = [box[j][1] for j in row]
            target = rhs[i] * sign
            at = None
            if all(lo is not None for lo in lows):
                if sum(v * sign * Fraction(lo) for v, lo in zip(row.values(), lows)) == target:
                    at = [Fraction(lo) for lo in lows]
            if at is None and all(hi is not None for hi in highs):
                if sum(v * sign * Fraction(hi) for v, hi in zip(row.values(), highs)) == target:
                    at = [Fraction(hi) for hi in highs]
            if at is None:
                continue
            for j, val in zip(list(row), at):
                fixed[j] = val
                for r, other in enumerate(rows):
                    if j in other:
                        rhs[r] -= other.pop(j) * val
            changed = True
    return fixed


def _lp_range(
    rows, rhs, names, k, bounds, n, known: float | None = None
) -> tuple[float | None, float | None]:
    """The lowest and highest value of unknown ``k`` (None: unbounded on that side).

    With ``known``, a feasible value of ``k`` (its true count), the highest is not solved
    for when the lowest is a whole number or more below it, since the range then holds
    two whole numbers: ``(lowest, None)`` is returned.
    """
    from scipy.optimize import linprog

    a = np.zeros((len(rows), n))
    for i, r in enumerate(rows):
        for j, v in r.items():
            a[i, j] = float(v)
    b = np.array([float(v) for v in rhs])
    box = [bounds.get(name, (0, None)) for name in names]
    c = np.zeros(len(names))
    c[k] = 1.0
    out = []
    for sign in (1.0, -1.0):
        res = linprog(sign * c, A_eq=a, b_eq=b, bounds=box, method="highs")
        if res.status == 3:  # unbounded: no limit on that side
            out.append(None)
        elif res.status != 0:
            return None, None
        else:
            out.append(sign * res.fun)
            if known is not None and sign > 0 and np.ceil(res.fun - 1e-7) < known:
                return out[0], None
    return out[0], out[1]


class Register:
    """A page's disclosure register: every count a page publishes, suppressed together.

    A section declares each count once, by name, with :meth:`count`, and says how counts are
    linked with :meth:`total` (a total and its parts) or :meth:`relation` (any integer linear
    relation), and which shown figures are built on counts with :meth:`derived` (percentages,
    rates, differences). Then every place that shows a count asks the register for it:
    :meth:`value` (``None`` when hidden), :meth:`text` (``"c"`` when hidden) or
    :meth:`words` (``"fewer than 10"`` for a small count). A count hidden in one place is
    therefore hidden everywhere.

    On first use (or :meth:`finalise`) the register hides counts from 1 to ``threshold - 1``
    (primary suppression), then hides more counts until :func:`audit` can rebuild none of the
    hidden ones from what is published and the declared relations (secondary suppression, as
    for linked tables). No more counts can be declared after that.

    Parameters
    ----------
    threshold : int
        Counts from 1 to ``threshold - 1`` are hidden (default 10).
    hide_zero : bool
        Hide zeros too (default False, as DfE and NHS England).

    Examples
    --------
    >>> reg = Register(threshold=10)
    >>> for key, n in [("baseline", 129), ("follow_up", 100), ("dropped", 29),
    ...                ("improved", 35), ("unchanged", 58), ("deteriorated", 7)]:
    ...     _ = reg.count(key, n)
    >>> reg.total("baseline", ["follow_up", "dropped"])
    >>> reg.total("follow_up", ["improved", "unchanged", "deteriorated"])
    >>> reg.text("deteriorated"), reg.text("improved"), reg.words("deteriorated")
    ('c', 'c', 'fewer than 10')
    >>> reg.audit()
    []
    """

    def __init__(self, threshold: int = 10, *, hide_zero: bool = False) -> None:
        self.threshold = check_positive_int("threshold", threshold)
        self.hide_zero = bool(hide_zero)
        self._values: dict[str, int] = {}
        self._relations: list[dict[str, int]] = []
        self._totals: set[str] = set()
        self._derived: dict[str, tuple[str, ...]] = {}
        self._forced: set[str] = set()
        self._hidden: set[str] | None = None
        self._primary: set[str] = set()
        # the last full audit: (everything it was computed from, what it found)
        self._last_audit: tuple[Any, tuple[Disclosed, ...]] | None = None

    # -- declaring ---------------------------------------------------------------------------
    def _open(self) -> None:
        if self._hidden is not None:
            raise ReportError(
                "the page's disclosure register is already settled: declare every count "
                "before any is shown"
            )

    def count(self, key: str, value: Any, *, hide: bool = False) -> str:
        """Declare a published count (a whole number of people, 0 or more); returns ``key``.

        ``hide=True`` hides it whatever its size. Declaring the same name twice with the same
        value is allowed (the same people counted in two places); a different value is an error.
        """
        self._open()
        n = check_positive_int(key, value, minimum=0)
        if key in self._values and self._values[key] != n:
            raise ReportError(f"the count {key!r} was declared twice with different values")
        if key in self._derived:
            raise ReportError(f"{key!r} is already declared as a derived figure")
        self._values[key] = n
        if hide:
            self._forced.add(key)
        return key

    def relation(self, terms: Mapping[str, int]) -> None:
        """Declare ``sum(coefficient * count) == 0`` (integer coefficients, by count name).

        A name not declared with :meth:`count` is a count the page never shows (it still
        links the others). The relation must hold for the declared values.
        """
        self._open()
        rel = {str(k): int(v) for k, v in terms.items() if int(v) != 0}
        known = [k for k in rel if k in self._values]
        if len(known) == len(rel) and sum(c * self._values[k] for k, c in rel.items()) != 0:
            raise ReportError(f"the relation between {', '.join(rel)} does not hold")
        if rel:
            self._relations.append(rel)

    def total(self, total: str, parts: Iterable[str]) -> None:
        """Declare ``total == sum(parts)`` (a table's margin, or people split into groups)."""
        parts = list(parts)
        terms: dict[str, int] = {total: -1}
        for p in parts:
            terms[p] = terms.get(p, 0) + 1
        self.relation(terms)
        self._totals.add(total)

    def derived(self, key: str, sources: Iterable[str]) -> str:
        """Declare a figure built on counts (a percentage, rate or difference); returns ``key``.

        It is hidden whenever any of its ``sources`` is hidden; when shown, a reader may be
        able to work its sources back out, so the audit treats them as published.
        """
        self._open()
        srcs = tuple(sources)
        missing = [s for s in srcs if s not in self._values]
        if missing:
            raise ReportError(f"{key!r} is built on undeclared count(s) {', '.join(missing)}")
        self._derived[key] = tuple(dict.fromkeys(self._derived.get(key, ()) + srcs))
        return key

    # -- settling ----------------------------------------------------------------------------
    def _small(self, n: int) -> bool:
        return (n < self.threshold and n >= (0 if self.hide_zero else 1)) and self.threshold > 1

    def _bounds(self, hidden: set[str]) -> dict[str, tuple[float, float | None]]:
        low = 0 if self.hide_zero else 1
        return {k: (low, self.threshold - 1) for k in hidden & self._primary}

    def _audit(
        self, hidden: set[str], keys: set[str] | None = None, *, lp: bool = True
    ) -> list[Disclosed]:
        # A page audits its register while settling it and again before it is written; the
        # same counts, hidden set, relations and bounds give the same answer, so a full
        # audit of an unchanged register is not solved twice (any change: a new audit).
        bounds = self._bounds(hidden)
        whole = None
        if keys is None:
            whole = (
                tuple(self._values.items()),
                tuple(sorted(hidden)),
                tuple(tuple(r.items()) for r in self._relations),
                tuple(sorted(bounds.items())),
                lp,
            )
            if self._last_audit is not None and self._last_audit[0] == whole:
                return list(self._last_audit[1])
        published = {k: v for k, v in self._values.items() if k not in hidden}
        secret = {k: self._values[k] for k in sorted(hidden)}
        found = audit(
            published,
            secret,
            self._relations,
            bounds=bounds,
            keys=keys,
            use_bounds=lp,
        )
        if whole is not None:
            self._last_audit = (whole, tuple(found))
        return found

    def finalise(self) -> None:
        """Apply primary and secondary suppression (once); later calls do nothing.

        Raises
        ------
        ReportError
            When no choice of extra counts to hide protects every hidden one.
        """
        if self._hidden is not None:
            return
        self._primary = {k for k, v in self._values.items() if self._small(v)}
        hidden = set(self._primary) | self._forced
        for _ in range(len(self._values) + 1):
            exposed = self._audit(hidden)
            if not exposed:
                self._hidden = hidden
                return
            target = exposed[0].key
            candidates = self._candidates(target, hidden)
            if not candidates:
                break
            hidden |= self._best(hidden, candidates, self._linked(target, hidden))
        raise ReportError(
            "a small count on this page could be worked out from the others, and hiding more "
            "counts did not prevent it; the page is withheld"
        )

    def _best(self, hidden: set[str], candidates: list[str], near: set[str]) -> set[str]:
        """The extra count(s) to hide: the one that leaves fewest counts exposed near the
        target (ties go to the first candidate); when no single count helps, the best pair."""
        # Greedy with a one-step look-ahead: two hidden cells in the same line are often
        # protected only together (a cell and its complement), so one at a time can cascade.
        n_exposed = len(self._audit(hidden, near & hidden, lp=False))

        def score(extra: set[str]) -> int:
            return len(self._audit(hidden | extra, (near & hidden) | extra, lp=False))

        scored = [(score({c}), i, c) for i, c in enumerate(candidates)]
        best = min(scored)
        if best[0] < n_exposed:
            return {best[2]}
        top = candidates[:8]
        pairs = [
            (score({c, d}), i, j) for i, c in enumerate(top) for j, d in enumerate(top) if i < j
        ]
        if pairs:
            n, i, j = min(pairs)
            if n < n_exposed:
                return {top[i], top[j]}
        return {best[2]}

    def _linked(self, target: str, hidden: set[str]) -> set[str]:
        """``target`` and the unknowns (hidden or never shown) linked to it by relations."""
        linked = {target}
        changed = True
        while changed:
            changed = False
            for rel in self._relations:
                if linked & set(rel):
                    for k in rel:
                        if k not in linked and (k in hidden or k not in self._values):
                            linked.add(k)
                            changed = True
        return linked

    def _candidates(self, target: str, hidden: set[str]) -> list[str]:
        """Visible counts linked to ``target`` through relations, best to hide first."""
        linked = self._linked(target, hidden)
        near = [
            k
            for rel in self._relations
            if linked & set(rel)
            for k in rel
            if k in self._values and k not in hidden
        ]
        near = list(dict.fromkeys(near))
        # ordinary cells before totals, non-zero before zeros, then the smallest
        return sorted(
            near, key=lambda k: (k in self._totals, self._values[k] == 0, self._values[k], k)
        )

    # -- reading -----------------------------------------------------------------------------
    @property
    def hidden_keys(self) -> frozenset[str]:
        """Names of every hidden count and derived figure."""
        self.finalise()
        assert self._hidden is not None  # noqa: S101 (set by finalise)
        hidden = set(self._hidden)
        hidden |= {d for d, src in self._derived.items() if set(src) & self._hidden}
        return frozenset(hidden)

    def _known(self, key: str) -> None:
        if key not in self._values and key not in self._derived:
            raise ReportError(f"{key!r} was never declared in the page's disclosure register")

    def hidden(self, key: str) -> bool:
        """Whether a count or derived figure is hidden on this page."""
        self._known(key)
        return key in self.hidden_keys

    def small(self, key: str) -> bool:
        """Whether a count is hidden for being small (primary suppression)."""
        self.finalise()
        return key in self._primary

    def value(self, key: str) -> int | None:
        """The count, or ``None`` when it is hidden."""
        return None if self.hidden(key) else self._values[key]

    def shown(self, key: str, value: Any) -> Any:
        """``value`` for a derived figure (or count) that may be shown, else ``None``."""
        return None if self.hidden(key) else value

    def text(self, key: str, *, marker: str = DEFAULT_MARKER) -> str:
        """The count as text (``"1,234"``), or ``marker`` when hidden."""
        v = self.value(key)
        return marker if v is None else f"{v:,}"

    def words(self, key: str) -> str | None:
        """The count for a sentence: ``"35"``, ``"fewer than 10"`` for a small count, or
        ``None`` when it is hidden only to protect another (leave it out of the sentence)."""
        if not self.hidden(key):
            return f"{self._values[key]:,}"
        if key in self._primary:
            return f"fewer than {self.threshold:,}"
        return None

    @property
    def declared(self) -> frozenset[str]:
        """Names of every declared count and derived figure."""
        return frozenset(self._values) | frozenset(self._derived)

    @property
    def published(self) -> dict[str, int]:
        """Every count a reader may see, by name."""
        hidden = self.hidden_keys
        return {k: v for k, v in self._values.items() if k not in hidden}

    def audit(self) -> list[Disclosed]:
        """Run :func:`audit` on this page's published counts (an empty list: safe)."""
        self.finalise()
        assert self._hidden is not None  # noqa: S101 (set by finalise)
        return self._audit(self._hidden)

    def check(self) -> None:
        """Raise :class:`~evalkit.errors.ReportError` when :meth:`audit` finds a hidden count
        that can be rebuilt (names the counts, never their values)."""
        found = self.audit()
        if found:
            raise ReportError(
                f"{len(found)} hidden count(s) could be worked out from the page "
                f"({', '.join(d.key for d in found)}); the page is withheld"
            )


def _disclosed(found: list[Disclosed], key: str) -> bool:
    return any(d.key == key for d in found)


# ----------------------------------------------------------------------------------------------
# Leak check
# ----------------------------------------------------------------------------------------------
_BASE64 = re.compile(r"(;base64,)[A-Za-z0-9+/=\s]+")
# an SVG figure embedded in the page; its text (labels, ticks, legends) is read as the page's
_SVG_DATA = re.compile(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=\s]+)")
_SVG_TEXT = re.compile(r"<(text|title|desc)\b[^>]*>(.*?)</\1>", re.S)
_TAG = re.compile(r"<[^>]*>")
# element ids that evalkit itself generates from a hash (tables' captions and notes)
_GENERATED_ID = re.compile(r"evalkit-[a-z]+-[0-9a-f]{10}\b")


_ALNUM = re.compile(r"[^\W_]+")
# a word: a number with decimals or thousands separators (kept whole), or a run of letters and
# digits; inside a word, runs of one kind (letters, or digits)
_WORDS = re.compile(r"\d+(?:[.,]\d+)+|[^\W_]+")
_RUNS = re.compile(r"\d+|[^\W\d_]+")
_MAX_RUNS = 8


def _pieces(text: str, fold: Any) -> set[str]:
    """Every stretch of whole runs within a word: what :func:`_id_pattern` would match."""
    out: set[str] = set()
    for word in _WORDS.findall(text):
        if not word[0].isalpha() and not word.isalnum():  # 0.123 or 12,345: one number
            out.add(fold(word))
            continue
        runs = _RUNS.findall(word)
        for i in range(len(runs)):
            for j in range(i + 1, min(len(runs), i + _MAX_RUNS) + 1):
                out.add(fold("".join(runs[i:j])))
    return out


def _id_pattern(ident: str) -> str:
    """A regular expression for ``ident`` wherever it appears, even inside a longer word.

    Only the same kind of character may not touch it: an ID ending in a digit is not found
    where more digits follow (``P000123`` is not in ``P0001234``, and a number's decimals or
    thousands do not count), an ID ending in a letter not where more letters follow. So
    ``P010002`` is found in ``id_P010002``, ``C(id)[T.P010002]`` and ``P010002's``.
    """
    before, after = "", ""
    if ident[0].isdigit():
        before = r"(?<!\d)(?<!\d[.,])"
    elif ident[0].isalpha():
        before = r"(?<![^\W\d_])"
    if ident[-1].isdigit():
        after = r"(?!\d)(?![.,]\d)"
    elif ident[-1].isalpha():
        after = r"(?![^\W\d_])"
    return before + re.escape(ident) + after


def _id_text(value: Any) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _svg_texts(html_text: str) -> Iterator[str]:
    """The text of every embedded SVG figure: what its ``<text>``, ``<title>`` and ``<desc>``
    elements say, as a reader of the figure sees (or copies) it."""
    import base64
    import binascii

    for match in _SVG_DATA.finditer(html_text):
        try:
            svg = base64.b64decode(match.group(1)).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            continue  # not an SVG that a browser could show either
        for found in _SVG_TEXT.finditer(svg):
            yield _TAG.sub(" ", found.group(2))


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
    An ID matches wherever it appears, also inside a longer word such as a label generated
    from data values (``id_P010002``), but never as part of a longer run of digits or of
    letters: ``P000123`` is found in ``child P000123,`` and ``id_P000123``, but ``123`` is
    not found in ``P000123``, ``41234``, ``0.123`` or ``12,123``. The page is read after HTML
    entities are decoded. The text of embedded SVG figures (``data:image/svg+xml;base64,``:
    their titles, axis and tick labels, legends and annotations) is searched too, for IDs
    with a letter or a sign in them (an all-digit ID there would match the axes' numbers);
    other base64 payloads (``data:...;base64,``) are skipped, since random text there would
    give false alarms and an ID drawn in a bitmap cannot be found by a text search. Short
    numeric IDs (``1``, ``27``) will match ordinary numbers in a report: use distinctive IDs.

    Examples
    --------
    >>> scan_html_for_ids("<td>P000123</td><td>41234</td>", ["P000123", "1234", "P9"])
    ['P000123']
    >>> scan_html_for_ids("could not be estimated: id_P010002, id_P010005", ["P010005"])
    ['P010005']
    """
    if not isinstance(html_text, str):
        raise ParameterError(
            f"html_text must be text, got {type(html_text).__name__}", key="html_text"
        )
    if isinstance(ids, (str, bytes)):
        ids = [ids]
    text = html.unescape(_GENERATED_ID.sub(" ", _BASE64.sub(r"\1", html_text)))
    drawn = html.unescape(" ".join(_svg_texts(html_text)))
    fold = (lambda t: t) if case_sensitive else str.casefold
    pieces = _pieces(text, fold)
    drawn_pieces = _pieces(drawn, fold)
    flags = 0 if case_sensitive else re.IGNORECASE
    found: list[str] = []
    seen: set[str] = set()
    for value in ids:
        ident = _id_text(value)
        if ident is None or ident in seen:
            continue
        seen.add(ident)
        # in a figure, an all-digit ID is not looked for: its axes are numbered (a tick label
        # "12000" is not the person 12000), and a bitmap figure was never searched at all
        in_figure = not ident.isdigit()
        if _ALNUM.fullmatch(ident):
            hit = fold(ident) in pieces or (in_figure and fold(ident) in drawn_pieces)
        else:
            pattern = _id_pattern(ident)
            hit = re.search(pattern, text, flags) is not None or (
                in_figure and re.search(pattern, drawn, flags) is not None
            )
        if hit:
            found.append(ident)
    return found
