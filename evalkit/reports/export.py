"""Executed notebook -> self-contained HTML, in-process, with no code showing.

One :class:`nbconvert.HTMLExporter` per process is built on first use and reused
for every area (building it, and loading its Jinja templates, is the slow part).
The house template (``templates/html/evalkit``) has no scripts and no web fonts;
figures are inline SVG, so a report opens offline and from e-mail.
"""

from __future__ import annotations

import functools
from typing import Any

from .._version import __version__
from .paths import html_template_dir

__all__ = ["to_html", "strip_for_report", "house_css", "prepare"]


def _exporter_class() -> type:
    """nbconvert's HTML exporter without its BeautifulSoup pass over the finished page.

    That pass parses and re-serialises the whole page (four fifths of the export time
    of a page: 92 against 19 ms) to add two things, neither of which a report needs:
    alt text on images that lack it (every evalkit figure has its own;
    :func:`evalkit.reports.page.figure` refuses one without), and ``tabindex="0"`` on
    the cells inside a ``.jp-Notebook`` element (the house template has none, so the
    pass added nothing). The page is the template's output as nbconvert renders it.
    """
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class PageExporter(HTMLExporter):
        def from_notebook_node(self, nb: Any, resources: Any = None, **kw: Any) -> Any:
            info = nb.metadata.get("language_info", {})
            lexer = info.get("pygments_lexer", info.get("name", None))
            resources = self._init_resources(resources)
            self.register_filter(
                "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)
            )
            self.register_filter(
                "filter_data_type",
                WidgetsDataTypeFilter(
                    notebook_metadata=self._nb_metadata, parent=self, resources=resources
                ),
            )
            html_text, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            return html_text, resources

    return PageExporter


def exporter_options() -> dict[str, Any]:
    """The HTML exporter's settings: the house template, no code, no prompts, images inline."""
    return {
        "extra_template_basedirs": [str(html_template_dir())],
        "template_name": "evalkit",
        "exclude_input": True,
        "exclude_input_prompt": True,
        "exclude_output_prompt": True,
        "embed_images": True,
    }


@functools.lru_cache(maxsize=1)
def _exporter() -> Any:
    return _exporter_class()(**exporter_options())


def prepare() -> None:
    """Build the exporter now (a process that forks workers does it once for all of them)."""
    _exporter()


@functools.lru_cache(maxsize=1)
def house_css() -> str:
    """The house stylesheet (``templates/html/evalkit/house.css``), shared with the index."""
    return (html_template_dir() / "evalkit" / "house.css").read_text(encoding="utf-8")


def _for_reader(output: Any) -> bool:
    if output.get("output_type") == "stream" and output.get("name") == "stderr":
        return False
    return not any(m.startswith("application/vnd.evalkit.") for m in output.get("data", {}))


def strip_for_report(nb: Any) -> Any:
    """Remove what a reader must not see: stderr (warnings, logs), machine-readable
    results and cells tagged ``remove``.

    The executed notebook kept beside the report still has them, for the analyst.
    """
    import copy

    nb = copy.deepcopy(nb)
    kept = []
    for cell in nb.cells:
        if "remove" in cell.get("metadata", {}).get("tags", []):
            continue
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if _for_reader(o)]
        kept.append(cell)
    nb.cells = kept
    return nb


def to_html(nb: Any, *, title: str, footer: str = "") -> str:
    """Render an executed notebook (nbformat node) to one self-contained HTML page."""
    resources = {
        "evalkit_title": title,
        "evalkit_footer": footer,
        "evalkit_version": __version__,
        "evalkit_css": house_css(),
    }
    body, _ = _exporter().from_notebook_node(strip_for_report(nb), resources=resources)
    return body
