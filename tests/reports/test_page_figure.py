"""Figures on a page: inline SVG, deterministic, shown as large as the PNG they replace."""

from __future__ import annotations

import base64
import re

import pytest

from evalkit.errors import ReportError
from evalkit.plots.style import new_figure
from evalkit.reports import page


def _chart():
    fig, ax = new_figure(figsize=(6.4, 3.6))
    ax.plot([0, 1, 2], [1.0, 2.5, 2.0], label="rate")
    ax.set(title="Breastfeeding at 6 to 8 weeks (95% CI)", xlabel="year")
    ax.legend()
    return fig


def _svg(block: page.Block) -> str:
    src = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', block.html)
    assert src, block.html[:200]
    return base64.b64decode(src.group(1)).decode("utf-8")


def test_a_figure_is_an_inline_svg_with_its_text_as_text():
    block = page.figure(_chart(), alt="A line chart", caption="The rate by year")
    assert 'alt="A line chart"' in block.html and "<figcaption>The rate by year" in block.html
    svg = _svg(block)
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "Breastfeeding at 6 to 8 weeks (95% CI)" in svg  # text, not glyph outlines
    assert "sans-serif" in svg  # a reader without DejaVu Sans gets a sans-serif font
    assert "<dc:date>" not in svg and "Matplotlib" not in svg


def test_the_same_figure_gives_the_same_bytes():
    # no date and no random clip-path ids: an unchanged page is byte-for-byte unchanged
    assert page.figure(_chart(), alt="x").html == page.figure(_chart(), alt="x").html


@pytest.mark.parametrize("dpi", [110, 150])
def test_shown_as_large_as_the_png_at_dpi(dpi):
    svg = _svg(page.figure(_chart(), alt="x", dpi=dpi))
    size = re.search(r'<svg[^>]*\bwidth="(\d+)" height="(\d+)"', svg)
    assert size, svg[:400]
    assert (int(size.group(1)), int(size.group(2))) == (round(6.4 * dpi), round(3.6 * dpi))
    assert 'viewBox="0 0 460.8 259.2"' in svg  # scales with the page


def test_a_figure_without_alt_text_is_refused():
    with pytest.raises(ReportError, match="alt text"):
        page.figure(_chart(), alt="  ")
