"""Fixtures for the browser tests: Debian's Chromium driven by Playwright, and a small site.

The site is three demo areas rendered with ``evalkit render`` (as a user would) into a
temporary folder: ``index.html``, ``areas/<id>.html`` and, when ``evalkit render``
builds it, ``synthesis.html``.

Chromium is Debian's ``/usr/bin/chromium`` (``make chromium`` installs it; Playwright's
own browser download does not work offline). Without it the tests are skipped, except
under ``CI=true``, where they fail: CI must run them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("EVALKIT_CHROMIUM", "/usr/bin/chromium"))
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: the demo areas rendered for the tests (three: the synthesis pools them)
AREAS = ("A01", "A02", "A03")
#: the pages checked one by one (a page that this evalkit does not build is skipped)
PAGES = {
    "index": "index.html",
    "area": f"areas/{AREAS[0]}.html",
    "synthesis": "synthesis.html",
    "reliability": "reliability.html",
}
#: what the A4 page leaves for content: 210 mm less house.css's 2 x 14 mm margins, in CSS px
A4_CONTENT_WIDTH = round((210 - 2 * 14) / 25.4 * 96)


def unavailable(reason: str) -> None:
    """Skip the browser tests, or fail them under ``CI=true`` (CI must run them)."""
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(
            f"{reason} (CI=true: the browser tests must run in CI; run 'make chromium')",
            pytrace=False,
        )
    pytest.skip(reason)


@pytest.fixture(scope="session")
def playwright_api():
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        unavailable(f"Chromium not found at {CHROMIUM} (install it with 'make chromium')")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_api):
    b = playwright_api.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
    yield b
    b.close()


@dataclass
class Site:
    """A rendered output folder and what the browser saw on each of its pages."""

    root: Path
    audits: dict[str, dict[str, Any]] = field(default_factory=dict)

    def url(self, rel: str) -> str:
        return (self.root / rel).as_uri()


@pytest.fixture(scope="session")
def site(browser, tmp_path_factory) -> Site:
    """Render two demo areas with ``evalkit render`` (from a fresh demo folder)."""
    from typer.testing import CliRunner

    from evalkit.cli import app
    from evalkit.reports.demo import write_demo

    folder = tmp_path_factory.mktemp("browser-site")
    old = os.getcwd()
    os.chdir(folder)  # the demo's parameter files hold paths relative to this folder
    try:
        params = write_demo(Path("data") / "demo")
        args = [
            "render",
            *(str(params / f"{a}.yaml") for a in AREAS),
            "--out",
            "site",
            "--jobs",
            "2",
            "--quiet",
        ]
        result = CliRunner().invoke(app, args)
    finally:
        os.chdir(old)
    if result.exit_code != 0:
        pytest.fail(
            f"evalkit {' '.join(args)} exited with {result.exit_code}:\n"
            f"{result.output}\n{result.exception!r}",
            pytrace=False,
        )
    return Site(folder / "site")


# What one page looks like to a reader, gathered in one visit (JavaScript on).
_PAGE_FACTS = r"""() => {
  const main = document.querySelector('main');
  const codeLike = /(^|\n)\s*(import \w|from [\w.]+ import |def \w+\(|print\()/;
  return {
    lang: document.documentElement.getAttribute('lang'),
    title: document.title,
    mains: document.querySelectorAll('main').length,
    headings: [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')]
      .map(h => [Number(h.tagName[1]), h.textContent.trim()]),
    images: [...document.images].map(i => ({
      src: (i.getAttribute('src') || '').slice(0, 40), complete: i.complete,
      width: i.naturalWidth, alt: i.getAttribute('alt')})),
    captions: [...document.querySelectorAll('table')]
      .map(t => t.caption ? t.caption.textContent.trim() : null),
    inputs: document.querySelectorAll(
      '.jp-InputArea, .jp-InputPrompt, .jp-CodeMirrorEditor, .input_area, .highlight').length,
    code: [...document.querySelectorAll('pre, code')].map(e => e.textContent)
      .filter(t => codeLike.test(t)).map(t => t.slice(0, 200)),
    text: document.body.innerText,
    main: main ? main.innerText : null,
    hrefs: [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href')),
    ids: [...document.querySelectorAll('[id]')].map(e => e.id),
  };
}"""


def audit_page(browser, url: str) -> dict[str, Any]:
    """Visit ``url`` once and gather what the tests check: console, requests, DOM facts,
    axe-core's violations, the A4 PDF and the page read with JavaScript off."""
    from axe_playwright_python.sync_playwright import Axe

    context = browser.new_context(viewport={"width": 1000, "height": 900})
    blocked: list[str] = []

    def route(r):  # never let a page reach the network, whatever it asks for
        if r.request.url.startswith(("file:", "data:")):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    console: list[str] = []
    requests: list[str] = []
    page.on(
        "console",
        lambda m: console.append(f"{m.type}: {m.text}") if m.type in ("error", "assert") else None,
    )
    page.on("pageerror", lambda e: console.append(f"uncaught: {e}"))
    page.on("request", lambda r: requests.append(r.url))
    page.on("requestfailed", lambda r: console.append(f"request failed: {r.url[:100]}"))
    page.goto(url, wait_until="load")
    facts = page.evaluate(_PAGE_FACTS)
    facts["requests"] = list(requests)
    facts["blocked"] = blocked
    facts["axe"] = Axe().run(page).response

    # as printed: the layout at the A4 content width, and the PDF itself
    page.emulate_media(media="print")
    page.set_viewport_size({"width": A4_CONTENT_WIDTH, "height": 1000})
    facts["print_overflow"] = page.evaluate(
        """(w) => [...document.querySelectorAll('main *')]
             .filter(e => e.getBoundingClientRect().right > w + 1)
             .slice(0, 5).map(e => e.tagName.toLowerCase() + '.' + e.className + ' ' +
                              Math.round(e.getBoundingClientRect().right) + 'px')""",
        A4_CONTENT_WIDTH,
    )
    pdf = page.pdf(format="A4", print_background=True)
    facts["pdf_pages"] = len(re.findall(rb"/Type\s*/Page\b", pdf))
    facts["pdf_boxes"] = {b.decode() for b in re.findall(rb"/MediaBox\s*\[[^\]]*\]", pdf)}
    facts["console"] = console  # everything up to and including printing
    context.close()

    nojs = browser.new_context(java_script_enabled=False, viewport={"width": 1000, "height": 900})
    page = nojs.new_page()
    page.goto(url, wait_until="load")
    main = page.locator("main")
    facts["nojs_main"] = main.first.inner_text() if main.count() else None
    facts["nojs_images"] = page.locator("img").evaluate_all(
        "imgs => imgs.map(i => i.complete && i.naturalWidth > 0)"
    )
    nojs.close()
    return facts


@pytest.fixture(scope="session")
def audit(site, browser):
    """``audit(rel)``: the facts of the page ``rel`` (gathered once per session)."""

    def get(rel: str) -> dict[str, Any]:
        if rel not in site.audits:
            site.audits[rel] = audit_page(browser, site.url(rel))
        return site.audits[rel]

    return get


@pytest.fixture(params=list(PAGES), ids=list(PAGES))
def page_rel(request, site) -> str:
    """Each page of the site in turn (one this evalkit does not build is skipped)."""
    rel = PAGES[request.param]
    if not (site.root / rel).exists():
        pytest.skip(f"{rel} is not built by this version of 'evalkit render'")
    return rel
