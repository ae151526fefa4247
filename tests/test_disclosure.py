"""Disclosure control: suppression (with property tests) and the ID leak scan."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evalkit.disclosure import scan_html_for_ids, suppress
from evalkit.errors import DataError, EvalkitWarning, ParameterError


# -- an independent oracle: which hidden cells do the published totals determine? -----------
def _determined(equations, hidden):
    """Hidden cells whose value follows from the linear equations (rank test).

    ``equations``: list of {cell: coefficient}; visible cells are known, so only the hidden
    cells' coefficients matter. Cell e is determined iff the unit vector e lies in the row space
    of the equations restricted to the hidden cells.
    """
    hidden = sorted(hidden)
    if not hidden:
        return []
    pos = {c: k for k, c in enumerate(hidden)}
    a = np.zeros((len(equations), len(hidden)))
    for r, eq in enumerate(equations):
        for cell, coef in eq.items():
            if cell in pos:
                a[r, pos[cell]] = coef
    rank = np.linalg.matrix_rank(a) if len(equations) else 0
    out = []
    for c in hidden:
        unit = np.zeros(len(hidden))
        unit[pos[c]] = 1
        if np.linalg.matrix_rank(np.vstack([a, unit])) == rank:
            out.append(c)
    return out


def _line_sums(n_rows, n_cols, *, rows=True, cols=True):
    """Every row and/or column total known (published here or elsewhere)."""
    eqs = []
    if rows:
        eqs += [{(i, j): 1 for j in range(n_cols)} for i in range(n_rows)]
    if cols:
        eqs += [{(i, j): 1 for i in range(n_rows)} for j in range(n_cols)]
    return eqs


def _margin_equations(n_rows, n_cols):
    """A grid whose last row and last column are the totals of the others."""
    eqs = []
    for i in range(n_rows):
        eq = {(i, j): 1 for j in range(n_cols - 1)}
        eq[(i, n_cols - 1)] = -1
        eqs.append(eq)
    for j in range(n_cols):
        eq = {(i, j): 1 for i in range(n_rows - 1)}
        eq[(n_rows - 1, j)] = -1
        eqs.append(eq)
    return eqs


def _hidden_cells(mask):
    m = mask.to_numpy()
    return {(int(i), int(j)) for i, j in zip(*np.nonzero(m))}


def _check_common(original, result, threshold, hide_zero=False):
    table, mask = result
    # unsuppressed cells unchanged
    visible = ~mask.to_numpy()
    assert (table.to_numpy()[visible] == original.to_numpy()[visible]).all()
    # every count from 1 to threshold - 1 is hidden
    small = (original.to_numpy() >= (0 if hide_zero else 1)) & (original.to_numpy() < threshold)
    assert mask.to_numpy()[small].all()
    assert result.primary.to_numpy().sum() == small.sum()
    # hidden cells are NA
    assert table.isna().to_numpy()[mask.to_numpy()].all()


def _no_single_hidden_in_a_line(mask, *, rows=True, cols=True):
    m = mask.to_numpy()
    if rows:
        assert not (m.sum(axis=1) == 1).any()
    if cols:
        assert not (m.sum(axis=0) == 1).any()


counts = st.one_of(st.integers(0, 12), st.integers(0, 200))


@st.composite
def grids(draw, min_rows=2, max_rows=5, min_cols=2, max_cols=5):
    n_rows = draw(st.integers(min_rows, max_rows))
    n_cols = draw(st.integers(min_cols, max_cols))
    values = draw(st.lists(counts, min_size=n_rows * n_cols, max_size=n_rows * n_cols))
    return np.array(values, dtype=np.int64).reshape(n_rows, n_cols)


FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(grids(), st.sampled_from([6, 10]))
def test_property_2d_without_margins(grid, threshold):
    df = pd.DataFrame(grid, columns=[f"c{j}" for j in range(grid.shape[1])])
    res = suppress(df, threshold=threshold)
    _check_common(df, res, threshold)
    _no_single_hidden_in_a_line(res.mask)
    hidden = _hidden_cells(res.mask)
    assert _determined(_line_sums(*grid.shape), hidden) == []
    assert res.unprotected == ()


@FAST
@given(grids(max_rows=4, max_cols=4))
def test_property_2d_with_margins(grid):
    df = pd.DataFrame(
        grid,
        index=[f"r{i}" for i in range(grid.shape[0])],
        columns=[f"c{j}" for j in range(grid.shape[1])],
    )
    df["Total"] = df.sum(axis=1)
    df.loc["Total"] = df.sum()
    res = suppress(df)
    _check_common(df, res, 10)
    _no_single_hidden_in_a_line(res.mask)
    assert _determined(_margin_equations(*df.shape), _hidden_cells(res.mask)) == []


@FAST
@given(st.lists(counts, min_size=2, max_size=8), st.booleans(), st.booleans())
def test_property_1d(values, with_total, hide_zero):
    df = pd.DataFrame({"n": values})
    if with_total:
        df.loc["Total"] = df["n"].sum()
    res = suppress(df, hide_zero=hide_zero)
    _check_common(df, res, 10, hide_zero)
    if hide_zero:
        assert res.mask["n"].to_numpy()[df["n"].to_numpy() == 0].all()
    _no_single_hidden_in_a_line(res.mask, rows=False)
    eqs = _margin_equations(len(df), 1)[-1:] if with_total else _line_sums(len(df), 1, rows=False)
    assert _determined(eqs, _hidden_cells(res.mask)) == []


def test_oracle_itself_detects_recoverable_cells():
    # one hidden cell in a line with a known total is determined; a 2x2 block of hidden cells
    # is not (each can shift by +d/-d)
    assert _determined(_line_sums(2, 2), {(0, 0)}) == [(0, 0)]
    assert _determined(_line_sums(3, 3), {(0, 0), (0, 1), (1, 0), (1, 1)}) == []
    # two cycles joined by a bridge: every line has two hidden cells, yet the bridge is fixed
    cycles = {(0, 0), (0, 1), (1, 0), (1, 1), (2, 2), (2, 3), (3, 2), (3, 3), (1, 2)}
    assert _determined(_line_sums(4, 4), cycles) == [(1, 2)]


def test_bridge_between_two_blocks_is_repaired():
    # rows 0-1 x cols 0-1 and rows 2-3 x cols 2-3 are small; (1, 2) is small too, joining them
    grid = np.full((4, 4), 50)
    for cell in [(0, 0), (0, 1), (1, 0), (1, 1), (2, 2), (2, 3), (3, 2), (3, 3), (1, 2)]:
        grid[cell] = 3
    res = suppress(pd.DataFrame(grid, columns=list("abcd")))
    assert _determined(_line_sums(4, 4), _hidden_cells(res.mask)) == []
    assert res.n_hidden == 10  # one extra cell closes a cycle through the bridge


# -- worked examples ------------------------------------------------------------------------------
def test_one_dimensional_with_total_hides_next_smallest():
    t = pd.DataFrame({"n": [3, 25, 40, 68]}, index=["A", "B", "C", "Total"])
    res = suppress(t)
    assert res.mask["n"].tolist() == [True, True, False, False]
    assert res.primary["n"].tolist() == [True, False, False, False]
    assert res.display()["n"].tolist() == ["c", "c", 40, 68]
    assert str(res.table["n"].dtype) == "Int64"


def test_crosstab_margins_hide_a_rectangle():
    ct = pd.DataFrame(
        {"x": [3, 20, 30], "y": [15, 12, 40], "z": [22, 18, 50]}, index=["a", "b", "c"]
    )
    ct["Total"] = ct.sum(axis=1)
    ct.loc["Total"] = ct.sum()
    res = suppress(ct)
    # 3 hidden; 12 (next smallest, closing the cycle) and its row/column partners 15 and 20
    assert sorted(_hidden_cells(res.mask)) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert res.table.loc["Total", "Total"] == 210


def test_dfe_convention_threshold_6_shows_zeros():
    # DfE: counts 1-5 shown as "c", zeros shown (published.md, disclosure control conventions)
    t = pd.DataFrame({"n": [0, 5, 6, 100]})
    res = suppress(t, threshold=6, secondary=False)
    assert res.display()["n"].tolist() == [0, "c", 6, 100]
    assert suppress(t, threshold=6, secondary=False, hide_zero=True).mask["n"].tolist() == [
        True,
        True,
        False,
        False,
    ]


def test_derived_columns_follow_their_counts():
    t = pd.DataFrame(
        {
            "area": ["A", "B", "C"],
            "n": [5, 50, 60],
            "pop": [100, 200, 20],
            "pct": [0.05, 0.25, 0.6],
            "rate": [1.0, 2.0, 3.0],
        }
    )
    # n and pop are not parts of a whole, so only column totals need protecting
    res = suppress(
        t, count_cols=["n", "pop"], derived={"pct": "n", "rate": ["n", "pop"]}, protect="columns"
    )
    assert res.mask["n"].tolist() == [True, True, False]
    assert res.mask["pct"].tolist() == [True, True, False]
    assert res.mask["rate"].tolist() == [True, True, False]
    assert not res.mask["area"].any() and not res.mask["pop"].any()
    assert res.table["area"].tolist() == ["A", "B", "C"]
    assert str(res.table["pct"].dtype) == "Float64"


def test_default_count_columns_are_integer_columns():
    t = pd.DataFrame({"n": [3, 40, 50], "score": [3.5, 1.0, 2.0], "label": ["a", "b", "c"]})
    res = suppress(t)
    assert res.mask["n"].tolist() == [True, True, False]
    assert not res.mask["score"].any()


def test_series_and_secondary_off():
    s = pd.Series([2, 30, 40], index=["a", "b", "c"], name="births")
    res = suppress(s, secondary=False)
    assert res.mask["births"].tolist() == [True, False, False]


def test_line_with_nothing_else_to_hide_warns():
    t = pd.DataFrame({"a": [4], "b": [40]})
    with pytest.warns(EvalkitWarning, match="do not publish that total"):
        res = suppress(t, protect="columns")
    assert res.unprotected == ((0, "a"),)


def test_bad_input():
    with pytest.raises(DataError) as err:
        suppress(pd.DataFrame({"n": [1, -2, 3.5, None]}), count_cols=["n"])
    assert err.value.column == "n" and err.value.rows == [1, 2, 3]
    with pytest.raises(DataError, match="not in the table"):
        suppress(pd.DataFrame({"n": [1]}), count_cols=["m"])
    with pytest.raises(DataError, match="not counts"):
        suppress(pd.DataFrame({"n": [1], "p": [0.1], "q": [2.0]}), derived={"p": "q"})
    with pytest.raises(ParameterError):
        suppress(pd.DataFrame({"n": [1]}), threshold=0)
    with pytest.raises(ParameterError):
        suppress(pd.DataFrame({"n": [1]}), protect="diagonal")
    with pytest.raises(DataError):
        suppress([1, 2, 3])


# -- leak scan ---------------------------------------------------------------------------------
def test_scan_matches_whole_tokens_only():
    page = (
        "<p>Child P000123, seen twice.</p><td>41234</td><td>0.5123</td><td>12,345</td>"
        "<td title='AB-77'>x</td><td>p000999</td>"
    )
    ids = ["P000123", "1234", "5123", "345", "AB-77", "P000999", "P0001", "AB-7"]
    assert scan_html_for_ids(page, ids) == ["P000123", "AB-77", "P000999"]
    assert scan_html_for_ids(page, ids, case_sensitive=True) == ["P000123", "AB-77"]


def test_scan_decodes_entities_and_skips_embedded_images():
    page = '<p>&#80;000123</p><img src="data:image/png;base64,iVBOR+P000777/xyz==" alt="chart">'
    assert scan_html_for_ids(page, ["P000123", "P000777"]) == ["P000123"]


def test_scan_reads_the_text_of_svg_figures():
    import base64

    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg"><title>Funnel</title>'
        '<path d="M 0 0 L P000321 1"/><g id="P000654"/>'
        '<text x="1" y="2" style="font-size: 10px">child P000123 &amp; <tspan>P000456</tspan>'
        "</text></svg>"
    )
    data = base64.b64encode(svg.encode()).decode()
    page = f'<p>Fine.</p><img src="data:image/svg+xml;base64,{data}" alt="chart">'
    # the figure's text is read (also inside a tspan); markup and attributes are not
    ids = ["P000123", "P000456", "P000321", "P000654", "Funnel"]
    assert scan_html_for_ids(page, ids) == ["P000123", "P000456", "Funnel"]
    broken = '<img src="data:image/svg+xml;base64,QUJDRA" alt="x">'  # bad padding: not read
    assert scan_html_for_ids(broken, ["P1"]) == []
    # an all-digit ID is looked for in the page's text, not in a figure's numbered axes
    ticks = base64.b64encode(b"<svg><text>10000</text><text>AB-77 20000</text></svg>").decode()
    page = f'<p>20000 people</p><img src="data:image/svg+xml;base64,{ticks}" alt="chart">'
    assert scan_html_for_ids(page, ["10000", "20000", "AB-77"]) == ["20000", "AB-77"]


def test_a_page_whose_figure_shows_an_id_is_caught(tmp_path):
    # a chart that labels a point with a person's ID: text in the SVG, found by the checks
    from evalkit.plots.style import new_figure
    from evalkit.reports import checks, page

    records = tmp_path / "records.csv"
    records.write_text("id,x\nP010001,1\nP010002,2\n")
    fig, ax = new_figure()
    ax.plot([0, 1], [1, 2])
    ax.annotate("P010002", (1, 2))
    html_text = f"<html><body>{page.figure(fig, alt='A chart').html}</body></html>"
    problems = checks.check_page(html_text, id_sources=[(str(records), "id")])
    assert problems and "ID" in " ".join(problems)
    assert "P010002" not in " ".join(problems)


def test_scan_handles_column_values():
    ids = pd.Series([123456.0, np.nan, "P1", "P1", None, " 777 "])
    assert scan_html_for_ids("ids 123456 and 777 and P1", ids) == ["123456", "P1", "777"]
    assert scan_html_for_ids("nothing here", ids) == []
    assert scan_html_for_ids("P1", "P1") == ["P1"]
    with pytest.raises(ParameterError):
        scan_html_for_ids(b"P1", ["P1"])


def test_scan_is_fast_enough_for_a_report():
    rng = np.random.default_rng(1)
    ids = [f"P{n:06d}" for n in rng.choice(999_999, 20_000, replace=False)]
    page = " ".join(f"<td>{x:.3f}</td>" for x in rng.random(100_000))  # ~1.5 MB
    start = time.perf_counter()
    assert scan_html_for_ids(page + f" {ids[-1]} ", ids) == [ids[-1]]
    assert time.perf_counter() - start < 5


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cells=st.lists(st.lists(st.integers(0, 30), min_size=3, max_size=3), min_size=2, max_size=3),
    hide=st.lists(st.booleans(), min_size=15, max_size=15),
    small=st.booleans(),
)
def test_audit_skips_no_disclosure_when_it_solves_one_side_only(cells, hide, small):
    # Issue 12: a hidden count whose lowest value is a whole number below its true one is
    # not solved for its highest. The findings must be those of solving both sides, on
    # linked two-way tables (rows, columns and grand total published or hidden)
    from evalkit import disclosure

    r, c = len(cells), len(cells[0])
    counts = {f"c{i}{j}": v for i, row in enumerate(cells) for j, v in enumerate(row)}
    counts |= {f"r{i}": sum(row) for i, row in enumerate(cells)}
    counts |= {f"k{j}": sum(row[j] for row in cells) for j in range(c)}
    counts["t"] = sum(counts[f"r{i}"] for i in range(r))
    rel = [{f"r{i}": -1, **{f"c{i}{j}": 1 for j in range(c)}} for i in range(r)]
    rel += [{f"k{j}": -1, **{f"c{i}{j}": 1 for i in range(r)}} for j in range(c)]
    rel.append({"t": -1, **{f"r{i}": 1 for i in range(r)}})
    names = sorted(counts)
    hidden = {k: counts[k] for k, h in zip(names, hide) if h}
    published = {k: v for k, v in counts.items() if k not in hidden}
    bounds = {k: (1, 9) for k, v in hidden.items() if small and 1 <= v <= 9}
    found = disclosure.audit(published, hidden, rel, bounds=bounds)
    real = disclosure._lp_range
    disclosure._lp_range = lambda *a, known=None, **k: real(*a, **k)  # both sides solved
    try:
        both = disclosure.audit(published, hidden, rel, bounds=bounds)
    finally:
        disclosure._lp_range = real
    assert [(d.key, d.how) for d in found] == [(d.key, d.how) for d in both]
