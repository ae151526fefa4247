"""The needs-assessment page in a reader's browser (issue 14 item 2).

The page of the first demo area, ``areas/A01-needs.html``, rendered by ``evalkit render``
beside the area report, passes the same checks as every page (the tests of
``test_browser_reports.py``, run here on this page): no serious or critical axe-core
violation, alt text on every image, headings in order, a caption on every table, no network
request, under 2 MB, and the rest. The area report and the index link to it.
"""

from __future__ import annotations

import pytest

from .conftest import AREAS
from .test_browser_reports import (  # noqa: F401 - collected again here, on the needs page
    test_a_phone_screen_needs_no_sideways_scrolling,
    test_axe_no_serious_or_critical_violations,
    test_every_image_loaded_with_alt_text,
    test_every_table_has_a_caption,
    test_first_tab_reaches_a_visible_skip_link,
    test_language_title_and_one_main,
    test_local_links_and_anchors_resolve,
    test_no_code_visible,
    test_no_console_errors,
    test_no_network_requests,
    test_one_h1_and_headings_never_skip_a_level,
    test_page_under_2_mb,
    test_prints_on_a4,
    test_readable_without_javascript,
)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

NEEDS = f"areas/{AREAS[0]}-needs.html"


@pytest.fixture
def page_rel(site) -> str:
    """The needs page (this module's checks all look at it)."""
    assert (site.root / NEEDS).is_file(), f"evalkit render did not write {NEEDS}"
    return NEEDS


def test_needs_page_has_its_sections_and_charts(audit, page_rel):
    facts = audit(page_rel)
    titles = [text for _, text in facts["headings"]]
    for head in ("What stands out", "Indicators compared with the benchmark",
                 "Inequality by deprivation decile", "Trends", "Methods and sources"):  # fmt: skip
        assert head in titles, titles
    assert len(facts["images"]) >= 3
    assert "better" in facts["main"] or "similar" in facts["main"]  # colours have words


def test_area_report_and_index_link_every_needs_page(site):
    index = (site.root / "index.html").read_text(encoding="utf-8")
    for area in AREAS:
        assert f'href="areas/{area}-needs.html"' in index, area
        assert (site.root / f"areas/{area}-needs.html").is_file()
        report = (site.root / f"areas/{area}.html").read_text(encoding="utf-8")
        assert f'href="{area}-needs.html"' in report, area
