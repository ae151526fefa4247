"""Presentation: number formatting and accessible, suppressed HTML tables."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from evalkit import tables
from evalkit.errors import ParameterError
from evalkit.tables import fmt_ci, fmt_estimate, fmt_number, fmt_pct, fmt_result, report_table


class _Cells(HTMLParser):
    """Collects the text of every th/td, the caption and tag attributes."""

    def __init__(self):
        super().__init__()
        self.cells, self.caption, self.tags, self._cur = [], None, [], None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("th", "td", "caption"):
            self._cur = (tag, [])

    def handle_endtag(self, tag):
        if self._cur and tag == self._cur[0]:
            text = "".join(self._cur[1])
            if tag == "caption":
                self.caption = text
            else:
                self.cells.append(text)
            self._cur = None

    def handle_data(self, data):
        if self._cur:
            self._cur[1].append(data)


def _parse(text):
    p = _Cells()
    p.feed(text)
    return p


# -- numbers -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value, kwargs, expected",
    [
        (1234, {}, "1,234"),
        (np.int64(608217), {}, "608,217"),
        (1234.5678, {}, "1,234.57"),
        (0.125, {"digits": 2}, "0.12"),  # Python rounds half to even on the binary value
        (-0.0004, {}, "0.00"),
        (-1.5, {"digits": 1}, "-1.5"),
        (1234.5, {"thousands": False, "digits": 1}, "1234.5"),
        (float("nan"), {}, "–"),
        (pd.NA, {"missing": ""}, ""),
        (None, {}, "–"),
        (float("inf"), {}, "∞"),
        ("text", {}, "text"),
    ],
)
def test_fmt_number(value, kwargs, expected):
    assert fmt_number(value, **kwargs) == expected


def test_fmt_pct_ci_estimate():
    # England good level of development 67.7% (published.md); funnel limits 58.39-71.61
    assert fmt_pct(0.677) == "67.7%"
    assert fmt_pct(67.7, proportion=False) == "67.7%"
    assert fmt_ci(0.5839, 0.7161, 1, pct=True) == "58.4% to 71.6%"
    assert fmt_ci(-0.13, 0.72) == "-0.13 to 0.72"
    assert fmt_ci(np.nan, 0.72) == "–"
    assert fmt_estimate(0.289764, 0.018787, 0.761084) == "0.29 (95% CI 0.02 to 0.76)"
    assert fmt_estimate(0.5, 0.1, 0.9, level=0.998, digits=1) == "0.5 (99.8% CI 0.1 to 0.9)"
    assert fmt_estimate(0.5, None, None) == "0.50"
    with pytest.raises(ParameterError):
        fmt_number(1.0, digits=-1)


def test_fmt_result_uses_result_fields():
    from evalkit.matrix import Agreement

    res = Agreement(
        estimate=0.7275,
        ci_low=0.43,
        ci_high=0.93,
        n=8,
        n_raters=4,
        level=0.95,
        method="ICC",
        area="A",
        date="2024-01-01",
        interpretation="moderate",
    )
    assert fmt_result(res) == "0.73 (95% CI 0.43 to 0.93)"
    assert (
        fmt_result(SimpleNamespace(estimate=0.1, ci_low=0.05, ci_high=0.2, level=0.9), pct=True)
        == "10.0% (90% CI 5.0% to 20.0%)"
    )
    with pytest.raises(ParameterError):
        fmt_result(object())


# -- report tables ---------------------------------------------------------------------------
def test_report_table_is_accessible_and_escaped():
    df = pd.DataFrame(
        {"area <x>": ["North & <script>alert(1)</script>", "South"], "mean": [1.23456, 2.5]}
    )
    text = report_table(df, caption="Scores <by> area", suppress=False)
    assert isinstance(text, str) and text._repr_html_() == str(text)
    assert "<script>" not in text and "&lt;script&gt;" in text
    p = _parse(text)
    assert p.caption == "Scores <by> area"
    ths = [a for t, a in p.tags if t == "th"]
    assert ths and all(a.get("scope") == "col" for a in ths)  # RangeIndex: no row headers
    assert p.cells == [
        "area <x>",
        "mean",
        "North & <script>alert(1)</script>",
        "1.23",
        "South",
        "2.50",
    ]
    assert [t for t, _ in p.tags].count("table") == 1


def test_report_table_suppresses_with_footnote():
    df = pd.DataFrame(
        {"n": [4, 25, 40], "pct": [0.058, 0.362, 0.58]},
        index=pd.Index(["North", "South", "East"], name="area"),
    )
    text = report_table(
        df, caption="Families reached", derived={"pct": "n"}, formats={"pct": "pct"}
    )
    p = _parse(text)
    assert p.cells == [
        "area",
        "n",
        "pct",
        "North",
        "c",
        "c",
        "South",
        "c",
        "c",
        "East",
        "40",
        "58.0%",
    ]
    row_headers = [a for t, a in p.tags if t == "th" and a.get("scope") == "row"]
    assert len(row_headers) == 3
    note_ids = {a["aria-describedby"] for t, a in p.tags if t == "td" and "aria-describedby" in a}
    assert len(note_ids) == 1
    note = re.search(r'<p class="evalkit-table-note" id="([^"]+)">(.*?)</p>', text)
    assert note.group(1) in note_ids
    assert "from 1 to 9" in note.group(2)
    # the same data twice gives the same HTML (reports are reproducible)
    assert (
        report_table(df, caption="Families reached", derived={"pct": "n"}, formats={"pct": "pct"})
        == text
    )


def test_report_table_nothing_hidden_has_no_footnote_and_counts_can_be_named():
    df = pd.DataFrame({"year": [2023, 2024], "n": [40, 50]})
    text = report_table(df, caption="Births", count_cols=["n"], note="Source: demo data.")
    assert "hidden to protect" not in text and "Source: demo data." in text
    # year is not a count: no thousands separator
    assert _parse(text).cells == ["year", "n", "2023", "40", "2024", "50"]
    big = report_table(pd.DataFrame({"n": [608217, 20]}), caption="England", count_cols=["n"])
    assert _parse(big).cells[:2] == ["n", "608,217"]


def test_report_table_from_a_result_and_formats():
    res = SimpleNamespace(
        to_frame=lambda: pd.DataFrame({"term": ["x"], "estimate": [0.123456], "p": [0.0001]})
    )
    text = report_table(res, caption="Model", formats={"estimate": 3, "p": lambda v: "<0.001"})
    assert _parse(text).cells == ["term", "estimate", "p", "x", "0.123", "<0.001"]
    with pytest.raises(ParameterError, match="caption"):
        report_table(pd.DataFrame({"a": [1]}), caption=" ")
    with pytest.raises(ParameterError):
        report_table([1, 2], caption="x")
    with pytest.raises(ParameterError, match="format"):
        report_table(pd.DataFrame({"a": [1.0]}), caption="x", formats={"a": "bold"})


def test_public_names():
    assert set(tables.__all__) >= {"fmt_number", "fmt_ci", "fmt_pct", "report_table"}
