"""Numbers and tables for reports (presentation layer).

Results never round; this module does, once, when a number reaches a reader.

- :func:`fmt_number`, :func:`fmt_pct`, :func:`fmt_ci`, :func:`fmt_estimate`,
  :func:`fmt_result`: one number (or an estimate with its interval) as text;
- :func:`report_table`: a DataFrame (or a result) as an accessible HTML table with a caption,
  small counts suppressed (:func:`evalkit.disclosure.suppress`) and shown as ``c`` with a
  footnote. Templates print tables only through this function.

>>> fmt_estimate(0.4512, 0.1234, 0.7789)
'0.45 (95% CI 0.12 to 0.78)'
"""

from __future__ import annotations

import hashlib
import html
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .errors import ParameterError

__all__ = [
    "MISSING",
    "HTMLTable",
    "fmt_number",
    "fmt_pct",
    "fmt_ci",
    "fmt_estimate",
    "fmt_result",
    "report_table",
]

#: shown for a value that is missing (not for a suppressed one, which shows ``c``)
MISSING = "–"


def _is_missing(x: Any) -> bool:
    if x is None or x is pd.NA or x is pd.NaT:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def _is_int(x: Any) -> bool:
    return isinstance(x, (numbers.Integral, np.integer)) and not isinstance(x, (bool, np.bool_))


def _check_digits(digits: Any) -> int:
    if not _is_int(digits) or digits < 0:
        raise ParameterError(
            f"digits={digits!r} is not allowed",
            key="digits",
            expected="a whole number of 0 or more",
        )
    return int(digits)


def fmt_number(x: Any, digits: int = 2, *, thousands: bool = True, missing: str = MISSING) -> str:
    """A number as text: whole numbers without decimals, others with ``digits`` decimals.

    Parameters
    ----------
    x : number
        Integers (``int``, numpy integers) are shown whole; floats are rounded half-to-even
        to ``digits`` places (Python's formatting).
    digits : int
        Decimal places for non-integers.
    thousands : bool
        Group thousands with commas (``12,345``).
    missing : str
        Shown for None, NaN and ``pd.NA``.

    Examples
    --------
    >>> fmt_number(1234), fmt_number(0.12345), fmt_number(-0.001), fmt_number(float("nan"))
    ('1,234', '0.12', '0.00', '–')
    """
    digits = _check_digits(digits)
    if _is_missing(x):
        return missing
    sep = "," if thousands else ""
    if _is_int(x):
        return f"{int(x):{sep}d}"
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (numbers.Real, np.floating)):
        return str(x)
    value = float(x)
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    text = f"{value:{sep}.{digits}f}"
    if text.lstrip("-").replace("0", "").replace(".", "").replace(",", "") == "":
        text = text.lstrip("-")  # no "-0.00"
    return text


def fmt_pct(x: Any, digits: int = 1, *, proportion: bool = True, missing: str = MISSING) -> str:
    """A percentage: ``0.527`` (a proportion) or ``52.7`` (with ``proportion=False``) -> ``52.7%``.

    Examples
    --------
    >>> fmt_pct(0.5274), fmt_pct(52.74, proportion=False), fmt_pct(None)
    ('52.7%', '52.7%', '–')
    """
    if _is_missing(x):
        return missing
    value = float(x) * (100.0 if proportion else 1.0)
    return fmt_number(value, digits) + "%"


def fmt_ci(
    low: Any, high: Any, digits: int = 2, *, pct: bool = False, missing: str = MISSING
) -> str:
    """An interval as ``low to high`` ("to" rather than a dash, which reads badly with minus signs).

    With ``pct=True`` both ends are proportions shown as percentages.

    Examples
    --------
    >>> fmt_ci(-0.123, 0.456), fmt_ci(0.581, 0.716, 1, pct=True)
    ('-0.12 to 0.46', '58.1% to 71.6%')
    """
    if _is_missing(low) or _is_missing(high):
        return missing
    f = (lambda v: fmt_pct(v, digits)) if pct else (lambda v: fmt_number(float(v), digits))
    return f"{f(low)} to {f(high)}"


def fmt_estimate(
    estimate: Any,
    low: Any = None,
    high: Any = None,
    *,
    digits: int | None = None,
    level: float = 0.95,
    pct: bool = False,
    missing: str = MISSING,
) -> str:
    """An estimate with its interval: ``0.45 (95% CI 0.12 to 0.78)``.

    Without an interval (either end missing) only the estimate is shown. ``digits`` defaults
    to 2, or 1 with ``pct=True`` (proportions shown as percentages).

    Examples
    --------
    >>> fmt_estimate(0.65, 0.5839, 0.7161, pct=True, digits=1)
    '65.0% (95% CI 58.4% to 71.6%)'
    """
    if digits is None:
        digits = 1 if pct else 2
    est = (
        fmt_pct(estimate, digits)
        if pct
        else fmt_number(
            estimate if _is_missing(estimate) else float(estimate), digits, missing=missing
        )
    )
    if _is_missing(estimate) or _is_missing(low) or _is_missing(high):
        return est
    lv = fmt_number(float(level) * 100, 0 if float(level * 100).is_integer() else 1)
    return f"{est} ({lv}% CI {fmt_ci(low, high, digits, pct=pct)})"


def fmt_result(result: Any, digits: int | None = None, *, pct: bool = False) -> str:
    """A result's ``estimate`` with its interval (``ci_low``, ``ci_high``, ``level``).

    ``digits`` as in :func:`fmt_estimate`.

    Works with any evalkit result (or object with those attributes).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> fmt_result(SimpleNamespace(estimate=0.3, ci_low=0.1, ci_high=0.5, level=0.9))
    '0.30 (90% CI 0.10 to 0.50)'
    """
    if not hasattr(result, "estimate"):
        raise ParameterError(
            f"{type(result).__name__} has no estimate to format",
            key="result",
            expected="an evalkit result with estimate, ci_low, ci_high",
        )
    return fmt_estimate(
        result.estimate,
        getattr(result, "ci_low", None),
        getattr(result, "ci_high", None),
        digits=digits,
        level=getattr(result, "level", 0.95) or 0.95,
        pct=pct,
    )


class HTMLTable(str):
    """HTML text that Jupyter displays as HTML (a ``str``, so templates can also embed it)."""

    def _repr_html_(self) -> str:
        return str(self)


def _label(value: Any) -> str:
    if isinstance(value, tuple):
        return " ".join(str(v) for v in value if not _is_missing(v) and str(v) != "")
    return "" if _is_missing(value) else str(value)


def _formatter(
    col: Any, series: pd.Series, formats: Mapping, digits: int, *, count: bool
) -> Callable[[Any], str]:
    spec = formats.get(col)
    if callable(spec):
        return lambda v: str(spec(v))
    if spec == "pct":
        return lambda v: fmt_pct(v)
    if spec is not None and not _is_int(spec):
        raise ParameterError(
            f"format for column {col!r} must be a whole number of decimals, 'pct' or a function",
            key="formats",
            expected="e.g. {'pct': 'pct', 'mean': 1, 'p': fmt_p}",
        )
    d = int(spec) if spec is not None else digits
    if pd.api.types.is_integer_dtype(series) and not pd.api.types.is_bool_dtype(series):
        # counts get thousands separators; other whole numbers (years, codes) do not
        return lambda v: fmt_number(int(v) if not _is_missing(v) else v, thousands=count)
    if pd.api.types.is_float_dtype(series):
        return lambda v: fmt_number(v if _is_missing(v) else float(v), d)
    return lambda v: (
        MISSING
        if _is_missing(v)
        else (fmt_number(v, d) if isinstance(v, (numbers.Number, np.number)) else str(v))
    )


def report_table(
    data: Any,
    *,
    caption: str,
    suppress: bool = True,
    threshold: int = 10,
    count_cols: Sequence[Any] | None = None,
    derived: Mapping[Any, Any] | None = None,
    hide_zero: bool = False,
    protect: str = "auto",
    digits: int = 2,
    formats: Mapping[Any, Any] | None = None,
    index: bool | None = None,
    note: str | None = None,
    marker: str = "c",
    hidden: pd.DataFrame | None = None,
) -> HTMLTable:
    """An accessible HTML table for a report, with small counts suppressed.

    Parameters
    ----------
    data : DataFrame or result
        The table; a result is turned into one with ``.to_frame()``.
    caption : str
        What the table shows (required: every table in a report has a caption).
    suppress : bool
        Apply :func:`evalkit.disclosure.suppress` (default True). Turn it off only for tables
        with no counts of people (e.g. published reference values).
    threshold, count_cols, derived, hide_zero, protect
        Passed to :func:`evalkit.disclosure.suppress`. By default every integer column is a
        count: pass ``count_cols`` to be explicit (and ``count_cols=[]`` when no column is a
        count), and ``derived`` for percentages or rates built on counts.
    digits : int
        Decimal places for non-integer numbers. Whole numbers in count columns get thousands
        separators (``12,345``); other whole numbers (years, codes) do not.
    formats : mapping, optional
        Per column: a number of decimals, ``"pct"`` (proportions shown as percentages) or a
        function returning text.
    index : bool, optional
        Show the row labels as row headers; by default only when they are not 0, 1, 2, ...
    note : str, optional
        A footnote printed under the table.
    marker : str
        Shown in suppressed cells (DfE's ``c``), explained in a footnote.
    hidden : DataFrame of bool, optional
        Cells already hidden by a page's disclosure register
        (:class:`evalkit.disclosure.Register`), same shape as ``data``; the table is then not
        suppressed again (``suppress`` is ignored).

    Returns
    -------
    HTMLTable
        A ``str`` of HTML: a ``<table>`` with ``<caption>``, ``<th scope="col">`` column headers,
        ``<th scope="row">`` row headers, every value HTML-escaped, numbers right-aligned,
        suppressed cells shown as ``c`` and linked to the footnote with ``aria-describedby``.
        It displays itself in Jupyter; ``display(HTML(report_table(...)))`` also works.

    Examples
    --------
    >>> df = pd.DataFrame({"area": ["North", "South"], "n": [4, 120], "pct": [0.04, 0.6]})
    >>> html_text = report_table(df, caption="Families reached", derived={"pct": "n"},
    ...                          formats={"pct": "pct"})
    >>> ">Families reached</caption>" in html_text, html_text.count(">c<")
    (True, 4)
    """
    if hasattr(data, "to_frame") and not isinstance(data, (pd.DataFrame, pd.Series)):
        data = data.to_frame()
    if isinstance(data, pd.Series):
        data = data.to_frame()
    if not isinstance(data, pd.DataFrame):
        raise ParameterError(
            f"report_table needs a DataFrame, got {type(data).__name__}",
            key="data",
            expected="a DataFrame or an evalkit result",
        )
    if not isinstance(caption, str) or not caption.strip():
        raise ParameterError(
            "every table needs a caption",
            key="caption",
            expected="a short description of what the table shows",
        )
    digits = _check_digits(digits)
    formats = dict(formats or {})

    mask = pd.DataFrame(False, index=data.index, columns=data.columns)
    shown = data
    if hidden is not None:
        mask = hidden.reindex(index=data.index, columns=data.columns).fillna(False).astype(bool)
        shown = data.astype(object)
        if mask.to_numpy().any():  # (masking no cell changes nothing)
            shown = shown.mask(mask, pd.NA)
    elif suppress:
        from .disclosure import suppress as _suppress

        res = _suppress(
            data,
            threshold=threshold,
            count_cols=count_cols,
            derived=derived,
            hide_zero=hide_zero,
            protect=protect,
            marker=marker,
        )
        shown, mask = res.table, res.mask
    any_hidden = bool(mask.to_numpy().any())

    if index is None:
        index = not (
            isinstance(data.index, pd.RangeIndex) and data.index.start == 0 and data.index.step == 1
        )
    # the ids come from what is shown only: a hash of hidden counts could be brute-forced
    visible = data.astype(object)
    if any_hidden:
        visible = visible.mask(mask, marker)
    digest = hashlib.sha1((caption + visible.to_csv()).encode("utf-8")).hexdigest()[:10]
    note_id = f"evalkit-note-{digest}"
    caption_id = f"evalkit-caption-{digest}"
    esc = html.escape

    numeric = {
        c: pd.api.types.is_numeric_dtype(data[c]) and not pd.api.types.is_bool_dtype(data[c])
        for c in data.columns
    }
    right = ' style="text-align:right"'
    out = [
        f'<table class="evalkit-table"><caption id="{caption_id}">{esc(caption.strip())}</caption>',
        "<thead><tr>",
    ]
    if index:
        name = _label(data.index.names if data.index.nlevels > 1 else data.index.name)
        out.append(f'<th scope="col">{esc(name)}</th>' if name else "<td></td>")
    for c in data.columns:
        out.append(f'<th scope="col"{right if numeric[c] else ""}>{esc(_label(c))}</th>')
    out.append("</tr></thead><tbody>")

    if count_cols is None:
        counts = {c for c in data.columns if c not in (derived or {})}
    else:
        counts = set([count_cols] if isinstance(count_cols, str) else count_cols)
    fmts = {c: _formatter(c, data[c], formats, digits, count=c in counts) for c in data.columns}
    for pos, label in enumerate(data.index):
        out.append("<tr>")
        if index:
            out.append(f'<th scope="row">{esc(_label(label))}</th>')
        for j, c in enumerate(data.columns):
            align = right if numeric[c] else ""
            if mask.iat[pos, j]:
                out.append(
                    f'<td class="suppressed" aria-describedby="{note_id}"{align}>{esc(marker)}</td>'
                )
            else:
                out.append(f"<td{align}>{esc(fmts[c](shown.iat[pos, j]))}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")

    notes = []
    if any_hidden:
        smallest = "0" if hide_zero else "1"
        notes.append(
            f'<p class="evalkit-table-note" id="{note_id}">{esc(marker)}: hidden to protect '
            f"privacy (a count from {smallest} to {threshold - 1}, or a figure from which one "
            "could be worked out).</p>"
        )
    if note:
        notes.append(f'<p class="evalkit-table-note">{esc(note)}</p>')
    # A wide table scrolls on its own on a narrow screen (keyboard-reachable, named by its
    # caption) instead of making the whole page scroll sideways.
    scroll = (
        f'<div class="evalkit-table-scroll" role="region" tabindex="0" '
        f'aria-labelledby="{caption_id}">'
    )
    return HTMLTable(
        '<div class="evalkit-table-wrap">'
        + scroll
        + "".join(out)
        + "</div>"
        + "".join(notes)
        + "</div>"
    )
