"""The kernel factory (issue 12, item 1): kernels forked from one pre-imported process per
worker are still one fresh kernel per area. Tiny templates keep these fast."""

from __future__ import annotations

import json
import os

import nbformat
import pytest

from evalkit.reports import kernels
from evalkit.reports.params import load_jobs
from evalkit.reports.render import render_areas

from .conftest import write_area
from .test_faults import tiny_template

pytestmark = pytest.mark.skipif(not kernels.enabled(), reason="needs fork()")

# What each kernel reports about itself (a cell after the tested one).
REPORT = """
import json as _json
import matplotlib as _mpl
print("KERNEL " + _json.dumps({"pid": os.getpid(), "parent": os.getppid()}))
"""


def areas(folder, n=2):
    for i in range(n):
        write_area(folder, f"X0{i + 1}", f"Area {i + 1}", i)
    return load_jobs([folder / "params"])


def kernel_of(out, area_id):
    nb = nbformat.read(out / "notebooks" / f"{area_id}.ipynb", as_version=4)
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if o.get("name") == "stdout" and o["text"].startswith("KERNEL "):
                return json.loads(o["text"][7:])
    raise AssertionError("no kernel line")


def test_two_areas_in_a_row_on_one_worker_share_no_variables_or_matplotlib_state(
    tmp_path, monkeypatch
):
    """Each area sets a variable, an rcParam and leaves a figure open; the next area, forked
    from the same factory on the same worker, sees none of them."""
    monkeypatch.chdir(tmp_path)
    body = (
        "import matplotlib\n"
        "import matplotlib.pyplot as plt\n"
        "if 'left_behind' in globals():\n"
        "    raise RuntimeError('a variable of another area is visible')\n"
        "if matplotlib.rcParams['lines.linewidth'] == 7.5 or plt.get_fignums():\n"
        "    raise RuntimeError('matplotlib state of another area is visible')\n"
        "left_behind = area_id\n"
        "matplotlib.rcParams['lines.linewidth'] = 7.5\n"
        "plt.style.use('ggplot')\n"
        "fig = plt.figure()\n" + REPORT
    )
    template = tiny_template(tmp_path, body)
    outcomes = render_areas(areas(tmp_path), tmp_path / "out", template=template, n_jobs=1)
    assert [o.status for o in outcomes] == ["rendered", "rendered"], [o.error for o in outcomes]
    first, second = kernel_of(tmp_path / "out", "X01"), kernel_of(tmp_path / "out", "X02")
    assert first["pid"] != second["pid"]  # a fresh kernel per area ...
    assert first["parent"] == second["parent"]  # ... forked from the one factory of the worker


def test_a_kernel_that_exits_fails_its_area_only_and_the_next_area_renders(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    body = "if area_id == 'X01':\n    os._exit(1)\n" + REPORT
    template = tiny_template(tmp_path, body)
    first, second = render_areas(
        areas(tmp_path), tmp_path / "out", template=template, n_jobs=1, timeout=60
    )
    assert first.status == "failed" and "stopped abruptly" in first.error
    assert second.status == "rendered", second.error
    assert kernel_of(tmp_path / "out", "X02")["parent"] != os.getpid()


def test_a_kernel_that_hangs_past_the_timeout_is_killed_and_its_area_fails(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    body = (
        "if area_id == 'X01':\n"
        "    open('hung.pid', 'w').write(str(os.getpid()))\n"
        "    time.sleep(120)\n" + REPORT
    )
    template = tiny_template(tmp_path, body)
    first, second = render_areas(
        areas(tmp_path), tmp_path / "out", template=template, n_jobs=1, timeout=3
    )
    assert first.status == "failed" and "time limit of 3 s" in first.error
    assert second.status == "rendered", second.error
    pid = int((tmp_path / "hung.pid").read_text())
    # the hung kernel is gone (killed, and reaped by its factory)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_factory_falls_back_to_fresh_kernels_when_disabled(monkeypatch):
    monkeypatch.setenv("EVALKIT_KERNEL_FACTORY", "0")
    cmd = kernels.kernel_command("/tmp/k.json", [])
    assert cmd[1:3] == ["-m", "ipykernel_launcher"]


def test_a_ready_kernel_has_its_iopub_connected_and_nothing_stale_behind(tmp_path, monkeypatch):
    """The engine's own readiness check (no 0.4 s of idle waiting per kernel): once ready,
    the first IOPub message is the "busy" status of the next request, and the kernel info
    reply has been read."""
    import asyncio

    from evalkit.reports.render import kernel_manager_class

    monkeypatch.chdir(tmp_path)

    async def run():
        km = kernel_manager_class()()
        await km.start_kernel()
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=60)
            msg_id = kc.execute("print('hello')")
            first = await kc.get_iopub_msg(timeout=10)
            seen = (first["msg_type"], first["parent_header"], first["content"])
            assert first["parent_header"].get("msg_id") == msg_id, seen
            assert first["msg_type"] == "status", seen
            assert first["content"]["execution_state"] == "busy", seen
        finally:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)

    # in a thread of its own: an earlier test in this process may have left an event loop
    # running in this one (asyncio.run refuses to nest)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, run()).result()
