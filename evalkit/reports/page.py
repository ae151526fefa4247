"""Building blocks that report templates display: headings, text, callouts and figures.

Tables come from :func:`evalkit.tables.report_table` (which applies disclosure control).

Every block escapes the text it is given, so a name such as
``<script>alert(1)</script>`` typed into a parameter file is shown, never run.
Figures are embedded as inline SVG with alt text (required), so a report opens offline.

In a notebook, a block displays itself (it has ``_repr_html_``); ``show(*blocks)``
displays several from one cell.

>>> heading("Data & quality").html
'<h2 id="data-quality">Data &amp; quality</h2>'
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..simulate import SYNTHETIC_NOTICE

__all__ = [
    "Block",
    "Section",
    "title",
    "heading",
    "paragraph",
    "callout",
    "banner",
    "synthetic_banner",
    "bullets",
    "figure",
    "show",
    "record",
    "Findings",
    "summary_box",
]


@dataclass(frozen=True)
class Block:
    """A piece of already-escaped HTML."""

    html: str

    def _repr_html_(self) -> str:
        return self.html

    def __add__(self, other: Block) -> Block:
        return Block(self.html + other.html)


@dataclass(frozen=True)
class Section:
    """One section of a report, as a section function returns it.

    Attributes
    ----------
    name : str
        The section's name (``"outcomes"``).
    blocks : tuple
        What to show, in order (:class:`Block` objects or tables); empty when the section has
        nothing to show for this area.
    counts : tuple of str
        Names of the counts it publishes, every one read from the page's disclosure register
        (:class:`evalkit.disclosure.Register`).
    record : dict
        Its part of the area's JSON record (only published values).
    """

    name: str
    blocks: tuple = ()
    counts: tuple[str, ...] = ()
    record: dict = field(default_factory=dict)

    @property
    def html(self) -> str:
        """The section's blocks as one piece of HTML."""
        return "".join(_html(b) for b in self.blocks)

    def _repr_html_(self) -> str:
        return self.html


def _html(b: Any) -> str:
    if isinstance(b, (Block, Section)):
        return b.html
    if hasattr(b, "_repr_html_"):
        return b._repr_html_()
    return paragraph(str(b)).html


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def title(text: str, subtitle: str | None = None) -> Block:
    """The page's one ``<h1>``, with an optional line under it."""
    out = f"<h1>{html.escape(text)}</h1>"
    if subtitle:
        out += f'<p class="meta">{html.escape(subtitle)}</p>'
    return Block(out)


def heading(text: str, level: int = 2) -> Block:
    """A section heading (``level`` 2 or 3: the page has one h1, from :func:`title`)."""
    level = min(max(int(level), 2), 4)
    return Block(f'<h{level} id="{_slug(text)}">{html.escape(text)}</h{level}>')


def paragraph(*parts: str) -> Block:
    """A paragraph of plain text (parts are joined with spaces)."""
    return Block(f"<p>{html.escape(' '.join(parts))}</p>")


def callout(text: str, *, kind: str = "info", heading_text: str | None = None) -> Block:
    """A highlighted box; ``kind`` is ``info``, ``warning``, ``alert`` or ``good``."""
    kind = kind if kind in {"info", "warning", "alert", "good"} else "info"
    head = f"<strong>{html.escape(heading_text)}</strong> " if heading_text else ""
    role = ' role="alert"' if kind == "alert" else ""
    return Block(f'<div class="callout {kind}"{role}>{head}{html.escape(text)}</div>')


def banner(text: str) -> Block:
    """A notice across the top of the page."""
    return Block(f'<div class="banner"><strong>{html.escape(text)}</strong></div>')


def synthetic_banner() -> Block:
    """The notice every page built from the demo data carries."""
    return banner(SYNTHETIC_NOTICE)


def bullets(items: Iterable[str]) -> Block:
    """A bulleted list of plain-text items."""
    lis = "".join(f"<li>{html.escape(str(i))}</li>" for i in items)
    return Block(f"<ul>{lis}</ul>")


#: how figures are written (see :func:`figure`): text stays text (``svg.fonttype: none``,
#: drawn in the reader's browser with DejaVu Sans or the nearest sans-serif font it has), and
#: the clip-path ids and metadata carry no random salt or date, so a page rendered twice from
#: the same inputs is the same page
SVG_SETTINGS = {"svg.fonttype": "none", "svg.hashsalt": "evalkit"}
_SVG_SIZE = re.compile(r'width="([0-9.]+)pt" height="([0-9.]+)pt"')


def _px(match: re.Match[str], dpi: int) -> str:
    width, height = (float(v) * dpi / 72 for v in match.groups())
    return f'width="{width:.0f}" height="{height:.0f}"'


def figure(fig: Any, alt: str, caption: str | None = None, *, dpi: int = 110) -> Block:
    """Embed a matplotlib figure as an inline SVG image with alt text (and an optional caption).

    SVG rather than PNG: sharp at any zoom and in print, and on the demo's pages about half the
    bytes and about two fifths of the time of the PNG (glyphs are not rasterised, no image is
    encoded; measured in docs/architecture.md). The figure is shown as large as its PNG at
    ``dpi`` was (its size in inches times ``dpi`` CSS pixels); ``dpi`` is also the resolution
    of any artist a plot asks to rasterise.
    """
    if not alt or not alt.strip():
        from ..errors import ReportError

        raise ReportError("every figure needs alt text describing what it shows")
    import matplotlib as mpl

    buf = io.BytesIO()
    with mpl.rc_context(SVG_SETTINGS):
        fig.savefig(buf, format="svg", dpi=dpi, metadata={"Date": None, "Creator": None})
    # shown as large as a PNG at ``dpi`` would be (matplotlib sizes the SVG in points)
    svg = _SVG_SIZE.sub(lambda m: _px(m, dpi), buf.getvalue().decode("utf-8"), count=1)
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return Block(
        f'<figure><img src="data:image/svg+xml;base64,{data}" alt="{html.escape(alt)}">{cap}</figure>'
    )


def show(*blocks: Any) -> None:
    """Display blocks in a notebook, in order.

    Blocks are :class:`Block` or :class:`Section` objects, anything with ``_repr_html_``
    (such as :func:`evalkit.tables.report_table`), or plain strings (shown as paragraphs).
    """
    from IPython.display import HTML, display

    display(HTML("".join(_html(b) for b in blocks)))


def record(results: dict[str, Any], *, register: Any = None) -> None:
    """Hand the area's key results to ``evalkit render`` (written as ``areas/<id>.json``).

    The results travel inside the executed notebook as a display output of their
    own MIME type, never scraped from HTML; they are not shown in the report.

    With the page's disclosure ``register`` (:class:`evalkit.disclosure.Register`), the page
    is finalised first: its audit runs, and a page whose hidden counts could be worked out
    raises :class:`~evalkit.errors.ReportError`, so the run withholds it (as a page with an ID).
    """
    import json

    from IPython.display import display

    from .record import RESULTS_MIME

    if register is not None:
        register.check()

    clean = json.loads(json.dumps(results, default=_jsonable))
    display({RESULTS_MIME: clean}, raw=True)


def _jsonable(value: Any) -> Any:
    import math

    import numpy as np

    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return str(value) if not isinstance(value, (int, float, str, bool)) else value


class Findings:
    """Runs analyses for a report, keeping their warnings and errors per section.

    A section whose analysis fails shows why instead of stopping the whole report;
    warnings (few clusters, dropped rows...) are shown where they apply.

    >>> f = Findings()
    >>> f.run("outcomes", lambda: 1 / 2)
    0.5
    """

    def __init__(self) -> None:
        self.notes: dict[str, list[tuple[str, str]]] = {}
        self._reader: dict[tuple[str, str, str], str] = {}

    def run(self, section: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)``, or ``None`` when it raises an evalkit error."""
        import warnings

        from ..errors import EvalkitError

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = fn(*args, **kwargs)
            except EvalkitError as exc:
                self.add(section, str(exc), kind="alert", reader=_reader_text(exc))
                result = None
        for w in caught:
            if issubclass(w.category, UserWarning):
                self.add(section, str(w.message), kind="warning")
        return result

    def add(
        self, section: str, text: str, *, kind: str = "warning", reader: str | None = None
    ) -> None:
        """Keep a note for a section (duplicates are kept once).

        ``text`` is the analyst's (kept in ``notes`` for the notebook); ``reader`` is what a
        report shows instead, when it differs.
        """
        notes = self.notes.setdefault(section, [])
        if (kind, text) not in notes:
            notes.append((kind, text))
            if reader is not None:
                self._reader[(section, kind, text)] = reader

    def show(self, section: str) -> Block:
        """The section's notes as callouts (empty when there are none).

        An error is shown by its plain message only: never the data values, rows or labels
        generated from data values (such as ``id_P010002``) that the analyst's text names.
        """
        out = Block("")
        for kind, text in self.notes.get(section, []):
            label = "Could not be estimated:" if kind == "alert" else "Note:"
            shown = self._reader.get((section, kind, text), text)
            out = out + callout(shown, kind=kind, heading_text=label)
        return out


def _reader_text(exc: BaseException) -> str:
    """An error for a reader: a DataError's plain message, without columns, rows or values."""
    from ..errors import DataError

    return exc.message if isinstance(exc, DataError) else str(exc)


def summary_box(sentences: list[str], *, heading_text: str = "Summary") -> Block:
    """The boxed headline findings at the top of a report (plain-text sentences)."""
    items = "".join(f"<li>{html.escape(s)}</li>" for s in sentences if s)
    return Block(
        f'<section class="summary" aria-labelledby="summary-heading">'
        f'<h2 id="summary-heading">{html.escape(heading_text)}</h2><ul>{items}</ul>'
        "</section>"
    )
