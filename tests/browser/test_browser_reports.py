"""The rendered reports as a reader's browser shows them (Chromium via Playwright).

Each page (the index, an area report and the synthesis when built) is opened from
``file://`` and must: log no console errors; make no request other than file: and
data: URIs; load every image; show no code; have a language, one h1 and headings that
never skip a level; give every image alt text and every table a caption; read the
same with JavaScript off; weigh under 2 MB; print on A4; and pass axe-core with no
serious or critical violation.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

import pytest

from .conftest import A4_CONTENT_WIDTH, AREAS

# one worker renders the site once under 'pytest -n N --dist loadgroup'
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

MAX_BYTES = 2 * 1024 * 1024
MAX_PDF_PAGES = 40
#: what must never reach a reader: tracebacks and Python reprs of objects
LEAKS = re.compile(
    r"Traceback \(most recent call last\)|<Figure size \d|"
    r"<matplotlib\.|object at 0x[0-9a-f]+>|^\s*(In|Out)\s*\[\d*\]:",
    re.M,
)


def test_no_console_errors(audit, page_rel):
    console = audit(page_rel)["console"]
    assert not console, "console errors:\n" + "\n".join(console)


def test_no_network_requests(audit, page_rel):
    facts = audit(page_rel)
    others = [u for u in facts["requests"] if not u.startswith(("file:", "data:"))]
    assert not others and not facts["blocked"], (
        f"requests beyond file:/data: {others + facts['blocked']}"
    )


def test_every_image_loaded_with_alt_text(audit, page_rel):
    images = audit(page_rel)["images"]
    broken = [i for i in images if not (i["complete"] and i["width"] > 0)]
    assert not broken, f"images that did not load: {broken}"
    no_alt = [i["src"] for i in images if not (i["alt"] or "").strip()]
    assert not no_alt, f"images without alt text: {no_alt}"


def test_no_code_visible(audit, page_rel):
    facts = audit(page_rel)
    assert facts["inputs"] == 0, "notebook input cells are on the page"
    assert not facts["code"], f"code shown to the reader: {facts['code']}"
    leak = LEAKS.search(facts["text"])
    assert leak is None, f"a traceback or Python repr on the page: {leak.group(0)!r}"


def test_language_title_and_one_main(audit, page_rel):
    facts = audit(page_rel)
    assert (facts["lang"] or "").strip(), "<html> has no lang attribute"
    assert facts["title"].strip(), "the page has no <title>"
    assert facts["mains"] == 1, f"{facts['mains']} <main> landmarks"


def test_one_h1_and_headings_never_skip_a_level(audit, page_rel):
    headings = audit(page_rel)["headings"]
    levels = [level for level, _ in headings]
    assert levels.count(1) == 1, f"{levels.count(1)} <h1> on the page: {headings}"
    assert levels[0] == 1, f"the first heading is not the h1: {headings[0]}"
    skips = [(a, b) for a, b in zip(headings, headings[1:]) if b[0] > a[0] + 1]
    assert not skips, f"headings that skip a level: {skips}"
    empty = [h for h in headings if not h[1]]
    assert not empty, f"empty headings: {empty}"


def test_every_table_has_a_caption(audit, page_rel):
    captions = audit(page_rel)["captions"]
    missing = [i for i, c in enumerate(captions) if not c]
    assert not missing, f"tables (0-based, in page order) without a caption: {missing}"


def test_readable_without_javascript(audit, page_rel):
    facts = audit(page_rel)
    assert facts["nojs_main"] is not None, "no <main> with JavaScript off"
    assert facts["main"] and len(facts["main"]) > 200
    assert facts["nojs_main"] == facts["main"], "the text differs with JavaScript off"
    assert all(facts["nojs_images"]), "some images do not load with JavaScript off"
    assert len(facts["nojs_images"]) == len(facts["images"])


def test_page_under_2_mb(site, page_rel):
    size = (site.root / page_rel).stat().st_size
    assert size < MAX_BYTES, f"{page_rel} is {size / 1e6:.2f} MB"


def test_prints_on_a4(audit, page_rel):
    facts = audit(page_rel)
    assert 1 <= facts["pdf_pages"] <= MAX_PDF_PAGES, f"{facts['pdf_pages']} A4 pages"
    # A4 is 595.28 x 841.89 pt; Chromium writes it rounded to whole CSS pixels
    for box in facts["pdf_boxes"]:
        w, h = (float(x) for x in box.split("[")[1].rstrip("]").split()[2:4])
        assert abs(w - 595.3) < 2 and abs(h - 841.9) < 2, f"not A4: {box}"
    assert not facts["print_overflow"], (
        f"content wider than the A4 text width ({A4_CONTENT_WIDTH} px) is cut off in print: "
        f"{facts['print_overflow']}"
    )


def _describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        for node in v["nodes"][:5]:
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"    {node['target']}: {summary[:300]}")
    return "\n".join(lines)


def test_axe_no_serious_or_critical_violations(audit, page_rel):
    violations = [
        v for v in audit(page_rel)["axe"]["violations"] if v["impact"] in ("serious", "critical")
    ]
    assert not violations, f"axe-core on {page_rel}:\n{_describe(violations)}"


def test_local_links_and_anchors_resolve(site, audit, page_rel):
    facts = audit(page_rel)
    base = (site.root / page_rel).parent
    broken = []
    for href in facts["hrefs"]:
        parts = urlsplit(href)
        if parts.scheme or parts.netloc:
            continue  # an external link is a link, not a request
        if not parts.path:
            if parts.fragment and parts.fragment not in facts["ids"]:
                broken.append(href)
        elif not (base / unquote(parts.path)).is_file():
            broken.append(href)
    assert not broken, f"links to nothing: {broken}"


def test_first_tab_reaches_a_visible_skip_link(site, browser, page_rel):
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    try:
        page = context.new_page()
        page.goto(site.url(page_rel))
        page.keyboard.press("Tab")
        focused = page.evaluate("""() => { const a = document.activeElement;
            const r = a.getBoundingClientRect();
            return {href: a.getAttribute('href'), text: a.textContent.trim(),
                    visible: r.width > 0 && r.height > 0 && r.top >= 0 && r.left >= 0 &&
                             r.right <= innerWidth && r.bottom <= innerHeight}; }""")
    finally:
        context.close()
    assert (focused["href"] or "").startswith("#") and focused["text"], (
        f"the first Tab does not reach a skip link: {focused}"
    )
    assert focused["visible"], "the skip link stays hidden when focused"


def test_index_lists_the_areas_and_its_links_open_them(site, browser):
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(site.url("index.html"))
        links = page.locator("main table a[href^='areas/']")  # the needs pages are listed apart
        hrefs = links.evaluate_all("as => as.map(a => a.getAttribute('href'))")
        assert sorted(hrefs) == sorted(f"areas/{a}.html" for a in AREAS)
        first = links.first
        name, href = first.inner_text().strip(), first.get_attribute("href")
        with page.expect_navigation():
            first.click()
        assert page.url == site.url(href)
        assert name and name in page.title(), f"{page.title()!r} does not name {name!r}"
        assert page.locator("h1").count() == 1
    finally:
        context.close()


def test_index_links_the_synthesis_when_built(site):
    index = (site.root / "index.html").read_text(encoding="utf-8")
    if not (site.root / "synthesis.html").exists():
        pytest.skip("synthesis.html is not built by this version of 'evalkit render'")
    assert 'href="synthesis.html"' in index


def test_a_phone_screen_needs_no_sideways_scrolling(site, browser, page_rel):
    """At 360 px wide the page fits; a wide table scrolls in its own keyboard-reachable box."""
    context = browser.new_context(viewport={"width": 360, "height": 800})
    try:
        page = context.new_page()
        page.goto(site.url(page_rel))
        overflow = page.evaluate("() => document.documentElement.scrollWidth - innerWidth")
        boxes = page.evaluate("""() => [...document.querySelectorAll('.evalkit-table-scroll')]
            .map(b => ({tab: b.tabIndex, label: b.getAttribute('aria-labelledby'),
                        named: !!document.getElementById(b.getAttribute('aria-labelledby'))}))""")
    finally:
        context.close()
    assert overflow <= 1, f"the page is {overflow}px wider than a 360px screen"
    assert all(b["tab"] == 0 and b["named"] for b in boxes), boxes
