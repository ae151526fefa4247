"""Areas on a Dask distributed cluster (issue 12, item 3): a real ``LocalCluster`` with two
worker processes, started by the test. Workers get the inputs as bytes and return the
pages as bytes; this process alone writes the output folder."""

from __future__ import annotations

import json
import re

import pytest

from evalkit.reports.executors import dask_client, ship
from evalkit.reports.params import load_jobs
from evalkit.reports.render import render_areas

from .conftest import write_area
from .test_faults import tiny_template

pytest.importorskip("distributed")

pytestmark = pytest.mark.xdist_group("dask")

# Reads the area's records (shipped to the worker) and draws a figure.
BODY = """
import pandas as pd
import matplotlib.pyplot as plt
df = pd.read_csv(records)
print("rows:", len(df), "mean age:", round(df["mother_age"].mean(), 3))
import io
from IPython.display import Image, display
fig, ax = plt.subplots(figsize=(3, 2))
ax.hist(df["mother_age"], bins=8)
buf = io.BytesIO()
fig.savefig(buf, format="png")  # explicit: the tests run with MPLBACKEND=Agg
display(Image(buf.getvalue()))
"""


@pytest.fixture(scope="module")
def client():
    with dask_client(workers=2) as c:
        yield c


def date_free(html: str) -> str:
    """The page without its date line and the random ID papermill gives its injected cell
    (which differs between any two runs, local or not)."""
    html = re.sub(r"cell-id=[0-9a-f-]+", "cell-id=ID", html)
    # ipykernel may send one print as one or two stream messages (timing): join them
    html = re.sub(
        r"</pre>\s*</div>\s*</div>\s*<div class=\"jp-OutputArea-child\">\s*"
        r"(?:<div class=\"jp-OutputPrompt[^>]*>\s*</div>\s*)?"  # no prompt in the house template
        r"<div class=\"jp-RenderedText[^>]*>\s*<pre>",
        "",
        html,
    )
    return re.sub(r"Rendered \d{4}-\d{2}-\d{2}\.", "Rendered DATE.", html)


def test_dask_render_equals_the_process_pool_render(tmp_path, monkeypatch, client):
    monkeypatch.chdir(tmp_path)
    for i in range(3):
        write_area(tmp_path, f"X0{i + 1}", f"Area {i + 1}", i)
    jobs = load_jobs([tmp_path / "params"])
    template = tiny_template(tmp_path, BODY)
    local = render_areas(jobs, tmp_path / "local", template=template, n_jobs=2)
    seen = []
    remote = render_areas(
        jobs, tmp_path / "dask", template=template, executor=client, on_done=seen.append
    )
    assert [o.status for o in local] == [o.status for o in remote] == ["rendered"] * 3
    assert sorted(o.area_id for o in seen) == ["X01", "X02", "X03"]  # progress, per area
    for area in ("X01", "X02", "X03"):
        a = (tmp_path / "local" / "areas" / f"{area}.html").read_text()
        b = (tmp_path / "dask" / "areas" / f"{area}.html").read_text()
        nb = json.loads((tmp_path / "dask" / "notebooks" / f"{area}.ipynb").read_text())
        seen_outputs = [(c["source"][:2], c.get("outputs")) for c in nb["cells"]]
        assert "rows:" in b and "data:image/png;base64" in b, str(seen_outputs)[:3000]
        assert date_free(a) == date_free(b)
        for kind in (".json", ".sha256"):  # the record (if any), and the client's cache key
            mine, theirs = (
                tmp_path / "local" / "areas" / f"{area}{kind}",
                tmp_path / "dask" / "areas" / f"{area}{kind}",
            )
            assert mine.exists() == theirs.exists()
            assert not mine.exists() or mine.read_bytes() == theirs.read_bytes()
        assert (tmp_path / "dask" / "notebooks" / f"{area}.ipynb").exists()
    assert json.loads((tmp_path / "dask" / "status.json").read_text())
    # a second run finds every area up to date, on the client alone
    again = render_areas(jobs, tmp_path / "dask", template=template, executor=client)
    assert [o.status for o in again] == ["cached"] * 3


def test_a_worker_killed_mid_area_is_retried_once_then_fails_that_area_only(
    tmp_path, monkeypatch, client
):
    """X02 kills its worker every time (lost twice: failed); X03 kills it the first time
    only (retried on another worker: rendered); X01 renders."""
    monkeypatch.chdir(tmp_path)
    for i in range(3):
        write_area(tmp_path, f"X0{i + 1}", f"Area {i + 1}", i)
    jobs = load_jobs([tmp_path / "params"])
    marks = tmp_path / "marks"
    marks.mkdir()
    body = (
        f"mark = {str(marks)!r} + '/' + area_id\n"
        "first = not os.path.exists(mark)\n"
        "open(mark, 'a').write('x')\n"
        "if area_id == 'X02' or (area_id == 'X03' and first):\n"
        "    os.kill(int(os.environ['JPY_PARENT_PID']), 9)  # the Dask worker process\n"
        "    time.sleep(60)\n"
    )
    template = tiny_template(tmp_path, body)
    outcomes = render_areas(jobs, tmp_path / "out", template=template, executor=client)
    by_id = {o.area_id: o for o in outcomes}
    assert by_id["X01"].status == "rendered", by_id["X01"].error
    assert by_id["X03"].status == "rendered", by_id["X03"].error
    assert by_id["X02"].status == "failed"
    assert "lost" in by_id["X02"].error and "tried again" in by_id["X02"].error
    assert (marks / "X02").read_text() == "xx"  # the first run and one retry
    assert (marks / "X03").read_text() == "xx"
    assert not (tmp_path / "out" / "areas" / "X02.html").exists()
    status = json.loads((tmp_path / "out" / "status.json").read_text())
    assert status["X02"]["status"] == "failed" and status["X03"]["status"] == "rendered"


def test_inputs_outside_the_working_folder_are_shipped_under_inputs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_area(tmp_path / "sub", "X01", "Area 1", 0)
    elsewhere = tmp_path / "sub" / "records" / "X01.csv"
    monkeypatch.chdir(tmp_path / "sub" / "params")
    task = {
        "params": {"records": str(elsewhere), "area_id": "X01", "n": 3},
        "cwd": str(tmp_path / "sub" / "params"),
        "template": str(tiny_template(tmp_path, "x = 1")),
    }
    payload = ship(task)
    assert payload["task"]["params"]["records"] == "_inputs/0/X01.csv"
    assert payload["files"]["_inputs/0/X01.csv"] == elsewhere.read_bytes()
    assert payload["template_name"] == "tiny.ipynb"


def test_date_free_joins_a_print_sent_in_two_stream_messages():
    # the comparison above must not depend on how ipykernel split a print: the page as the
    # exporter writes it (the house template, no prompts) with one print in one or two parts
    import nbformat

    from evalkit.reports.export import to_html

    def page(parts: list[str]) -> str:
        nb = nbformat.v4.new_notebook()
        cell = nbformat.v4.new_code_cell("x")
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=t) for t in parts]
        nb.cells = [cell]
        return to_html(nb, title="T")

    assert date_free(page(["report for", " Area 1\n"])) == date_free(page(["report for Area 1\n"]))
