"""Render the 20-area demo with evalkit and with the naive loop, in one run; print both and the ratio.

evalkit:     evalkit render data/demo/params --force   (parallel kernels, in-process export)
naive loop:  for each area, one after another:
                 papermill templates/area_report.ipynb X.ipynb -f params/X.yaml
                 jupyter nbconvert --to html --no-input X.ipynb
cached:      evalkit render data/demo/params            (everything up to date)

Run from the repository root: python benchmarks/bench_render.py [--areas N]
Target on a 2-core machine: evalkit at least 2.5x faster than the naive loop; cached run < 3 s.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--areas", type=int, default=20, help="how many demo areas (default 20)")
    args = ap.parse_args()

    from evalkit.reports.demo import demo_exists, write_demo

    if not demo_exists(ROOT / "data/demo"):
        write_demo(ROOT / "data/demo")
    params = sorted((ROOT / "data/demo/params").glob("*.yaml"))[: args.areas]
    work = Path(tempfile.mkdtemp(prefix="evalkit-bench-"))
    try:
        ek_cmd = [
            str(BIN / "evalkit"),
            "render",
            *map(str, params),
            "--out",
            str(work / "ek"),
            "--quiet",
        ]
        t_ek = timed([*ek_cmd, "--force"])
        t_cached = timed(ek_cmd)

        t0 = time.perf_counter()
        (work / "naive").mkdir()
        for p in params:
            nb = work / "naive" / f"{p.stem}.ipynb"
            subprocess.run(
                [
                    str(BIN / "papermill"),
                    "templates/area_report.ipynb",
                    str(nb),
                    "-f",
                    str(p),
                    "--no-progress-bar",
                ],
                cwd=ROOT,
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            subprocess.run(
                [str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(nb)],
                cwd=ROOT,
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        t_naive = time.perf_counter() - t0
    finally:
        shutil.rmtree(work, ignore_errors=True)

    n = len(params)
    print(f"areas:                      {n}")
    print(
        f"naive loop (papermill+nbconvert CLI, serial): {t_naive:7.1f} s  ({t_naive / n:.2f} s/area)"
    )
    print(f"evalkit render --force:                       {t_ek:7.1f} s  ({t_ek / n:.2f} s/area)")
    print(f"ratio naive / evalkit:                        {t_naive / t_ek:7.2f}x  (target >= 2.5x)")
    print(f"evalkit render, all cached:                   {t_cached:7.2f} s  (target < 3 s)")


if __name__ == "__main__":
    main()
