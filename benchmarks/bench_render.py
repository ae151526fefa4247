"""The render engine's figures, side by side in one run (issue 12).

1. the 20-area demo: ``evalkit render --force --no-synthesis`` against the naive loop, which
   renders the same pages (each area's report and its needs-assessment page) one by one:
       papermill templates/area_report.ipynb X.ipynb -f params/X.yaml
       jupyter nbconvert --to html --no-input X.ipynb
       (the same for templates/needs_assessment.ipynb with the needs parameters)
   target: evalkit at least 8x faster;
2. one area, stage by stage: kernel ready, cells, figures (savefig), export (HTML + checks);
3. a national run: ``evalkit demo --areas 175`` (target < 3 min on 2 cores, peak memory of
   the whole process tree < 4 GB), then the same command fully cached (target < 2 s);
4. the 20 areas through ``--dask-workers 2`` against the process pool.

Run from the repository root:
    python benchmarks/bench_render.py [--areas 20] [--national 175] [--skip naive,national,dask]
Note the machine's load (printed) when reading the figures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

# Cell 0 of the profiled notebook: time every savefig (the figure stage) in the kernel.
_TIMER = """
import time as _t, matplotlib.figure as _mf
_savefig, _fig_seconds = _mf.Figure.savefig, [0.0]
def _timed(self, *a, **k):
    _t0 = _t.perf_counter()
    try:
        return _savefig(self, *a, **k)
    finally:
        _fig_seconds[0] += _t.perf_counter() - _t0
_mf.Figure.savefig = _timed
"""
_REPORT = 'print("FIGURE_SECONDS", _fig_seconds[0])'


class PeakMemory:
    """Peak resident memory of a process and all its descendants (sampled every 0.2 s)."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self._stop.is_set():
            total = 0
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
            for p in procs:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            time.sleep(0.2)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run(cmd: list[str], *, memory: bool = False) -> tuple[float, int]:
    """Seconds a command took (and its process tree's peak memory in bytes)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    if memory:
        with PeakMemory(proc.pid) as pm:
            _, err = proc.communicate()
        peak = pm.peak
    else:
        _, err = proc.communicate()
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed:\n{err.decode()[-2000:]}")
    return time.perf_counter() - t0, peak


def naive_loop(params: list[Path], work: Path) -> float:
    """The same pages as ``evalkit render --no-synthesis``: each area's report and, for an
    area with needs data, its needs-assessment page; papermill, then nbconvert, one by one."""
    import yaml

    from evalkit.reports.render import AREA_PAGES

    t0 = time.perf_counter()
    folder = work / "naive"
    folder.mkdir()
    quiet = {"cwd": ROOT, "check": True, "capture_output": True}
    for p in params:
        pages = [("area_report.ipynb", p, p.stem)]
        values = yaml.safe_load(p.read_text())
        for spec in AREA_PAGES:
            if values.get(spec.requires):
                own = folder / f"{p.stem}-{spec.suffix}.yaml"
                own.write_text(yaml.safe_dump({k: values[k] for k in spec.keys if k in values}))
                pages.append((spec.template, own, f"{p.stem}-{spec.suffix}"))
        for template, values_file, name in pages:
            nb = folder / f"{name}.ipynb"
            papermill = [str(BIN / "papermill"), f"templates/{template}", str(nb)]
            subprocess.run([*papermill, "-f", str(values_file), "--no-progress-bar"], **quiet)
            subprocess.run(
                [str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(nb)], **quiet
            )
    return time.perf_counter() - t0


def stages(param_file: Path) -> dict[str, float]:
    """One area, stage by stage, in this process with a kernel from the factory."""
    import asyncio

    import nbformat
    import yaml

    from evalkit.reports import checks, kernels
    from evalkit.reports.export import to_html
    from evalkit.reports.paths import template_path
    from evalkit.reports.render import kernel_manager_class

    os.chdir(ROOT)
    params = yaml.safe_load(param_file.read_text())
    t0 = time.perf_counter()
    kernels.factory_socket()
    factory = time.perf_counter() - t0

    import papermill as pm

    nb = nbformat.read(template_path(), as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(_TIMER, metadata={"tags": []}))
    nb.cells.append(nbformat.v4.new_code_cell(_REPORT, metadata={"tags": []}))
    folder = Path(tempfile.mkdtemp(prefix="evalkit-stages-"))
    nbformat.write(nb, folder / "in.ipynb")

    async def ready_time() -> float:
        km = kernel_manager_class()()
        t0 = time.perf_counter()
        await km.start_kernel()
        kc = km.client()
        kc.start_channels()
        await kc.wait_for_ready(timeout=120)
        took = time.perf_counter() - t0
        kc.stop_channels()
        await km.shutdown_kernel(now=True)
        return took

    ready = asyncio.run(ready_time())
    t1 = time.perf_counter()
    nb = pm.execute_notebook(
        str(folder / "in.ipynb"),
        str(folder / "out.ipynb"),
        parameters=params,
        kernel_manager_class=kernel_manager_class(),
        progress_bar=False,
        cwd=str(ROOT),
    )
    run_all = time.perf_counter() - t1
    cells = sum(c.metadata.get("papermill", {}).get("duration") or 0 for c in nb.cells)
    shutil.rmtree(folder, ignore_errors=True)
    figures = 0.0
    for o in nb.cells[-1].outputs:
        if o.get("name") == "stdout" and "FIGURE_SECONDS" in o["text"]:
            figures = float(o["text"].split()[-1])
    t2 = time.perf_counter()
    html = to_html(nb, title="bench", footer="")
    checks.check_page(html, id_sources=[(params["records"], "id")], cwd=str(ROOT))
    export = time.perf_counter() - t2
    kernels.stop_factory()
    return {
        "factory start (once per worker)": factory,
        "kernel ready (forked)": ready,
        "cells (all, incl. figures)": cells,
        "  kernel start + cells + save (papermill)": run_all,
        "  of which figures (savefig)": figures,
        "export (HTML + ID/path checks)": export,
        "page size (MB)": len(html.encode()) / 1e6,
    }


class Rows(list):
    """The figures, printed as they come (a long run cut short still shows what it has)."""

    def append(self, row: tuple[str, str]) -> None:
        super().append(row)
        print(f"{row[0]:<58}  {row[1]}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--areas", type=int, default=20)
    ap.add_argument("--national", type=int, default=175)
    ap.add_argument(
        "--skip", default="", help="comma-separated: evalkit,naive,dask,stages,national"
    )
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    from evalkit.reports.demo import demo_exists, write_demo

    print(f"machine: {os.cpu_count()} cores, load average at start {os.getloadavg()}")
    if not demo_exists(ROOT / "data/demo"):
        write_demo(ROOT / "data/demo")
    params = sorted((ROOT / "data/demo/params").glob("*.yaml"))[: args.areas]
    n = len(params)
    work = Path(tempfile.mkdtemp(prefix="evalkit-bench-"))
    ek = [str(BIN / "evalkit"), "render", *map(str, params), "--quiet", "--no-synthesis"]
    rows = Rows()
    try:
        t_ek, peak20 = 0.0, 0
        if "evalkit" not in skip:
            t_ek, peak20 = run([*ek, "--out", str(work / "ek"), "--force"], memory=True)
            per_area = f"{t_ek:7.1f} s  ({t_ek / n:.2f} s/area)"
            rows.append((f"evalkit render --force, {n} areas", per_area))
            t_cached, _ = run([*ek, "--out", str(work / "ek")])
            rows.append((f"evalkit render, {n} areas all cached", f"{t_cached:7.2f} s"))
        if "naive" not in skip and t_ek:
            t_naive = naive_loop(params, work)
            rows.append(
                (
                    "naive loop (papermill + nbconvert CLI)",
                    f"{t_naive:7.1f} s  ({t_naive / n:.2f} s/area)",
                )
            )
            rows.append(("ratio naive / evalkit", f"{t_naive / t_ek:7.2f}x  (target >= 8x)"))
        if "dask" not in skip and t_ek:
            t_dask, _ = run([*ek, "--out", str(work / "dask"), "--force", "--dask-workers", "2"])
            rows.append((f"--dask-workers 2, {n} areas (incl. cluster start)", f"{t_dask:7.1f} s"))
            rows.append(("ratio dask / process pool", f"{t_dask / t_ek:7.2f}x"))
        if "stages" not in skip:
            for name, value in stages(params[0]).items():
                unit = "" if "MB" in name else " s"
                rows.append((f"one area ({params[0].stem}): {name}", f"{value:7.2f}{unit}"))
        if "national" not in skip:
            data, out = work / f"demo-{args.national}", work / "national"
            demo = [
                str(BIN / "evalkit"),
                "demo",
                "--areas",
                str(args.national),
                "--data",
                str(data),
                "--out",
                str(out),
                "--quiet",
            ]
            t_gen = time.perf_counter()
            from evalkit.reports.demo import write_demo as gen

            gen(data, n_areas=args.national)
            t_gen = time.perf_counter() - t_gen
            t_nat, peak = run(demo, memory=True)
            t_nat_cached, _ = run(demo)
            rows.append((f"national: generate {args.national} areas", f"{t_gen:7.1f} s"))
            rows.append(
                (
                    f"national: evalkit demo --areas {args.national}",
                    f"{t_nat:7.1f} s  (target < 180 s)",
                )
            )
            rows.append(
                ("national: peak memory, process tree", f"{peak / 2**30:7.2f} GB  (target < 4 GB)")
            )
            rows.append(("national: fully cached re-run", f"{t_nat_cached:7.2f} s  (target < 2 s)"))
        if peak20:
            rows.append((f"peak memory, {n}-area render", f"{peak20 / 2**30:7.2f} GB"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"load average at the end {os.getloadavg()}")


if __name__ == "__main__":
    main()
