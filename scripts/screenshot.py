"""Screenshots of an area report and the index for the README.

    python scripts/screenshot.py                      # render a few demo areas, then shoot
    python scripts/screenshot.py --reports reports    # shoot an existing output folder

Writes ``docs/screenshot-area.png`` and ``docs/screenshot-index.png``: 1000 px wide,
the first 1400 px of the page, each under 400 KB (colours are reduced if needed).
Needs Debian's Chromium at /usr/bin/chromium (``make chromium``) and Playwright for Python.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("EVALKIT_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDTH, HEIGHT, MAX_BYTES = 1000, 1400, 400_000


def render_demo(folder: Path, n_areas: int) -> Path:
    """Render the first ``n_areas`` demo areas into ``folder/site``; return that folder."""
    from evalkit.reports.demo import write_demo

    # the demo's parameter files hold paths relative to the folder evalkit runs from
    params = write_demo(folder / "data" / "demo").relative_to(folder)
    files = [str(f.relative_to(folder)) for f in sorted((folder / params).glob("*.yaml"))]
    cmd = [
        sys.executable,
        "-m",
        "evalkit.cli",
        "render",
        *files[:n_areas],
        "--out",
        "site",
        "--force",
        "--quiet",
    ]
    done = subprocess.run(cmd, cwd=folder, check=False, stdout=subprocess.DEVNULL)
    if done.returncode != 0:
        sys.exit(f"rendering the demo failed (exit code {done.returncode})")
    return folder / "site"


def small_png(png: bytes) -> bytes:
    """``png`` itself if under the budget, else the same picture with 256 colours."""
    if len(png) <= MAX_BYTES:
        return png
    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=256, dither=Image.Dither.NONE)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def shoot(site: Path, area: str | None, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    if area is None:
        # the first area report ("A01-needs.html", its needs page, sorts before "A01.html")
        reports = (p for p in (site / "areas").glob("*.html") if not p.stem.endswith("-needs"))
        area = sorted(reports)[0].stem
    pages = {
        "screenshot-index.png": site / "index.html",
        "screenshot-area.png": site / "areas" / f"{area}.html",
    }
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": WIDTH, "height": 900})
        for name, html in pages.items():
            page.goto(html.resolve().as_uri(), wait_until="load")
            bottom = page.evaluate("Math.ceil(document.body.getBoundingClientRect().bottom)")
            height = min(HEIGHT, bottom)
            png = page.screenshot(
                full_page=True, clip={"x": 0, "y": 0, "width": WIDTH, "height": height}
            )
            png = small_png(png)
            if len(png) > MAX_BYTES:
                sys.exit(f"{name} is {len(png)} bytes even with 256 colours")
            (out / name).write_bytes(png)
            written.append(out / name)
        browser.close()
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--reports",
        type=Path,
        help="an 'evalkit render' output folder to shoot "
        "(default: render demo areas into a temporary folder)",
    )
    ap.add_argument("--areas", type=int, default=4, help="demo areas to render (default 4)")
    ap.add_argument("--area", help="the area report to shoot (default: the first)")
    ap.add_argument("--out", type=Path, default=ROOT / "docs", help="where the PNGs go")
    a = ap.parse_args()
    out = a.out.resolve()
    with tempfile.TemporaryDirectory(prefix="evalkit-shots-") as tmp:
        site = a.reports.resolve() if a.reports else render_demo(Path(tmp), a.areas)
        for path in shoot(site, a.area, out):
            print(f"{path} ({path.stat().st_size // 1000} KB)")


if __name__ == "__main__":
    main()
