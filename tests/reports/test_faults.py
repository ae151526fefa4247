"""Fault injection: the render pipeline under dead kernels, dead workers, timeouts,
concurrent runs, broken status files, unusable output folders and leaking IDs.

Each test reproduces a defect of issue 11 (the item number is in the test's docstring)
with a tiny template of a few cells instead of the full area report, to stay fast.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from typer.testing import CliRunner

from evalkit.cli import app
from evalkit.errors import ParameterError
from evalkit.reports import files as files_mod
from evalkit.reports.build import build
from evalkit.reports.files import LOCK_NAME, OutputError, OutputLock
from evalkit.reports.index import write_index
from evalkit.reports.params import load_jobs, template_parameter_names
from evalkit.reports.render import render_page
from evalkit.reports.status import merge_status, read_status

from .conftest import ROOT, write_area

runner = CliRunner()


def tiny_template(folder: Path, body: str, name: str = "tiny.ipynb") -> Path:
    """A template of three cells: parameters, ``body``, and a line of output."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    params = nbformat.v4.new_code_cell(
        "\n".join(f"{name} = None" for name in template_parameter_names())
    )
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        params,
        nbformat.v4.new_code_cell("import os\nimport time\n\n" + body),
        nbformat.v4.new_code_cell('print("A tiny report for", area_name)'),
    ]
    path = folder / name
    nbformat.write(nb, path)
    return path


def areas(folder: Path, n: int) -> None:
    for i in range(n):
        write_area(folder, f"X0{i + 1}", f"Area {i + 1}", i)


def render(*args: str):
    return runner.invoke(app, ["render", *args, "--no-synthesis"])


def status_of(out: Path) -> dict:
    return json.loads((out / "status.json").read_text())


def first_id(folder: Path, area: str = "X01") -> str:
    return str(pd.read_csv(folder / "records" / f"{area}.csv")["id"].iloc[0])


def what_people_see(out: Path, result) -> list[str]:
    """The terminal output, the index and the status file of a run."""
    return [result.output, (out / "index.html").read_text(), (out / "status.json").read_text()]


def leftovers(out: Path) -> list[str]:
    """Temporary files a run must not leave behind."""
    return [
        str(p.relative_to(out))
        for p in out.rglob(".*")
        if p.name != LOCK_NAME and (p.suffix in {".tmp", ".ipynb"} or ".tmp" in p.name)
    ]


# -- item 5: a dead kernel, a cell that runs too long ----------------------------------------------


@pytest.fixture(scope="module")
def kernel_faults(tmp_path_factory):
    """X01 renders, X02's cell sleeps past --timeout 3, X03's kernel is killed (kill -9)."""
    folder = tmp_path_factory.mktemp("kernel_faults")
    old = os.getcwd()
    os.chdir(folder)
    try:
        areas(folder, 3)
        template = tiny_template(
            folder,
            'if area_id == "X02":\n    time.sleep(60)\n'
            'if area_id == "X03":\n    os.kill(os.getpid(), 9)\n',
        )
        result = render(
            "params", "-o", "out", "--template", str(template), "--timeout", "3", "-j", "2"
        )
        yield folder, result
    finally:
        os.chdir(old)


def test_cell_timeout_fires(kernel_faults):
    """Item 5: a ``time.sleep(60)`` cell with ``--timeout 3`` fails its area (it came back
    "rendered" after the sleep, as the synchronous kernel manager never let the timeout run)."""
    folder, result = kernel_faults
    assert result.exit_code == 1, result.output
    entry = status_of(folder / "out")["X02"]
    assert entry["status"] == "failed"
    assert "time limit of 3 s" in entry["error"] and "--timeout" in entry["error"]


def test_dead_kernel_fails_its_area(kernel_faults):
    """Item 5: ``kill -9`` of a kernel mid-render fails its area; it used to hang the run."""
    folder, result = kernel_faults
    entry = status_of(folder / "out")["X03"]
    assert entry["status"] == "failed" and "stopped abruptly" in entry["error"]
    assert status_of(folder / "out")["X01"]["status"] == "rendered"
    assert "1 rendered, 0 up to date, 2 failed" in result.output
    assert "Traceback" not in result.output


def test_executed_notebooks_carry_no_absolute_paths(kernel_faults):
    """Item 12: papermill's metadata held the template's and the notebook's absolute paths."""
    folder, _ = kernel_faults
    text = (folder / "out" / "notebooks" / "X01.ipynb").read_text()
    meta = json.loads(text)["metadata"]["papermill"]
    assert meta["input_path"] == "tiny.ipynb"
    assert meta["output_path"] == "notebooks/X01.ipynb"
    assert str(folder) not in text and str(ROOT) not in text


def test_no_temporary_files_or_kernel_folders_left(kernel_faults):
    folder, _ = kernel_faults
    assert leftovers(folder / "out") == []
    assert not (folder / "out" / LOCK_NAME).exists()


def test_render_help_documents_timeout_and_exit_codes():
    result = runner.invoke(app, ["render", "--help"], terminal_width=200)
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "--timeout" in text and "--wait" in text
    assert "Exit codes: 0" in text and "1 some area" in text and "2 the parameters" in text


# -- item 6: a dead worker process ---------------------------------------------------------------


def test_dead_worker_fails_only_its_area_after_one_retry(tmp_path, monkeypatch):
    """Item 6: one worker that dies (BrokenProcessPool) used to fail every area."""
    monkeypatch.chdir(tmp_path)
    areas(tmp_path, 2)
    template = tiny_template(
        tmp_path,
        'if area_id == "X02":\n'
        '    with open("attempts.txt", "a") as fh:\n'
        '        fh.write("x")\n'
        "    os.kill(os.getppid(), 9)  # the kernel's parent: the worker process\n"
        "    time.sleep(30)\n",
    )
    result = render("params", "-o", "out", "--template", str(template), "-j", "2")
    assert result.exit_code == 1, result.output
    status = status_of(tmp_path / "out")
    assert status["X01"]["status"] == "rendered"
    assert status["X02"]["status"] == "failed"
    assert "stopped abruptly" in status["X02"]["error"] and "tried again" in status["X02"]["error"]
    assert (tmp_path / "attempts.txt").read_text() == "xx"  # the first run and one retry
    assert (tmp_path / "out" / "areas" / "X01.html").exists()


# -- item 7: two runs into one output folder ----------------------------------------------------


def test_second_run_stops_with_a_clear_message_while_the_folder_is_locked(tmp_path, monkeypatch):
    """Item 7: two runs into one folder at once lost index entries (the last writer won)."""
    monkeypatch.chdir(tmp_path)
    areas(tmp_path, 1)
    (tmp_path / "out").mkdir()
    with OutputLock(tmp_path / "out"):  # a live run (this process) holds the folder
        result = render("params", "-o", "out", "--wait", "0")
    assert result.exit_code == 2
    assert "another evalkit run (process" in result.output and "--out" in result.output
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
    assert not (tmp_path / "out" / "status.json").exists()


def test_stale_lock_of_a_dead_process_is_taken_over(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    areas(tmp_path, 1)
    template = tiny_template(tmp_path, "")
    (tmp_path / "out").mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock = {"pid": dead.pid, "host": os.uname().nodename, "started": "2026-01-01T00:00:00"}
    (tmp_path / "out" / LOCK_NAME).write_text(json.dumps(lock))
    result = render("params", "-o", "out", "--template", str(template), "--wait", "0")
    assert result.exit_code == 0, result.output
    assert f"took over the lock of an earlier run (process {dead.pid})" in result.output
    assert not (tmp_path / "out" / LOCK_NAME).exists()


def test_status_is_merged_with_what_another_run_wrote_meanwhile(tmp_path, monkeypatch):
    """Item 7: the status read at the start was written back whole at the end."""
    monkeypatch.chdir(tmp_path)
    areas(tmp_path, 1)
    template = tiny_template(tmp_path, "")
    out = tmp_path / "out"
    other = {"area_id": "Z09", "area_name": "Other run", "status": "rendered"}
    other["html"] = "areas/Z09.html"

    def another_run_writes(_outcome) -> None:  # called while this run is going on
        (out / "areas" / "Z09.html").write_text("<p>report</p>")
        merge_status(out, {"Z09": other})

    result = build(
        load_jobs(["params"]), out, template=template, cross_area=False, on_done=another_run_writes
    )
    status = status_of(out)
    assert set(status) == {"X01", "Z09"}
    index = result.index.read_text()
    assert 'href="areas/X01.html"' in index and 'href="areas/Z09.html"' in index


def test_two_runs_at_once_keep_both_areas_in_the_index(tmp_path):
    """Item 7, as a user meets it: two ``evalkit render`` processes into one folder."""
    areas(tmp_path, 2)
    template = tiny_template(tmp_path, "")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [
        sys.executable,
        "-m",
        "evalkit.cli",
        "render",
        "-o",
        "out",
        "--no-synthesis",
        "--template",
        str(template),
        "--wait",
        "300",
        "-j",
        "1",
    ]
    runs = [
        subprocess.Popen(
            [*cmd, f"params/X0{i}.yaml"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i in (1, 2)
    ]
    outputs = [r.communicate(timeout=600)[0] for r in runs]
    assert [r.returncode for r in runs] == [0, 0], outputs
    assert set(status_of(tmp_path / "out")) == {"X01", "X02"}
    index = (tmp_path / "out" / "index.html").read_text()
    assert 'href="areas/X01.html"' in index and 'href="areas/X02.html"' in index


# -- item 8: a corrupted status.json ------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ['{"X01": {"area_id": "X0', "[]", "\x00\xff garbage", '{"X01": 3}']
)
def test_unreadable_status_is_rebuilt_from_the_files_present(tmp_path, text):
    """Item 8: a corrupted status.json gave a traceback, or areas dropped from the index."""
    out = tmp_path / "out"
    (out / "areas").mkdir(parents=True)
    (out / "notebooks").mkdir()
    (out / "areas" / "X01.html").write_text("<p>report</p>")
    (out / "areas" / "X01.json").write_text(json.dumps({"area_name": "First area"}))
    (out / "notebooks" / "X02.failed.ipynb").write_text("{}")
    (out / "status.json").write_text(text)
    found = read_status(out)
    assert found.rebuilt and "could not be read; it was rebuilt" in found.note
    assert found.entries["X01"]["status"] == "found"
    assert found.entries["X01"]["area_name"] == "First area"
    assert found.entries["X02"]["status"] == "failed"
    index = write_index(out).read_text()
    assert 'href="areas/X01.html"' in index and "X02" in index and "Report found" in index


def test_render_says_it_rebuilt_a_corrupted_status(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    areas(tmp_path, 2)
    template = tiny_template(tmp_path, "")
    assert render("params", "-o", "out", "--template", str(template)).exit_code == 0
    (tmp_path / "out" / "status.json").write_text('{"X01": {"area_')
    result = render("params/X01.yaml", "-o", "out", "--template", str(template))
    assert result.exit_code == 0, result.output
    assert "status.json in" in result.output and "rebuilt" in result.output
    assert set(status_of(tmp_path / "out")) == {"X01", "X02"}  # X02 was not dropped
    index = (tmp_path / "out" / "index.html").read_text()
    assert 'href="areas/X02.html"' in index


# -- item 9: output folder problems -------------------------------------------------------------


def _mount_tmpfs(where: Path, options: str) -> bool:
    where.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)],
            capture_output=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


@contextlib.contextmanager
def tmpfs(where: Path, options: str):
    """A small tmpfs at ``where`` while the block runs; yields False where mount is refused."""
    mounted = _mount_tmpfs(where, options)
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(where)], capture_output=True, timeout=10)


def test_output_path_that_is_a_file(tmp_path, monkeypatch):
    """Item 9: each output folder problem ended in a traceback."""
    monkeypatch.chdir(tmp_path)
    areas(tmp_path, 1)
    (tmp_path / "out").write_text("not a folder")
    result = render("params", "-o", "out")
    assert result.exit_code == 2
    assert (
        result.output
        == "error: output folder out: is a file, not a folder (choose another --out)\n"
    )


def test_read_only_output_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    areas(tmp_path, 1)
    out = tmp_path / "ro"
    with tmpfs(out, "ro,size=64k") as mounted:
        if not mounted:  # no mount here: the operating system's answer, patched in
            out.mkdir(exist_ok=True)

            def refuse(*args, **kwargs):
                raise OSError(errno.EROFS, "Read-only file system")

            monkeypatch.setattr(files_mod.tempfile, "mkstemp", refuse)
        result = render("params", "-o", str(out))
    assert result.exit_code == 2
    assert "cannot write there: the file system is read-only" in result.output
    assert result.output.count("\n") == 1 and "Traceback" not in result.output


def test_full_disk(tmp_path, monkeypatch):
    """A disk that fills up mid-run: one line, exit 2, no temporary file, nothing "rendered"."""
    monkeypatch.chdir(tmp_path)
    areas(tmp_path, 1)
    template = tiny_template(tmp_path, "print('x' * 200_000)")  # a page too big for the disk
    out = tmp_path / "full"
    with tmpfs(out, "size=120k") as mounted:
        if not mounted:
            monkeypatch.setattr(files_mod.os, "fdopen", _full_disk(files_mod.os.fdopen))
        result = render("params", "-o", str(out), "--template", str(template), "-j", "1")
        assert result.exit_code == 2, result.output
        errors = [line for line in result.output.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and "the disk is full" in errors[0], result.output
        assert "Traceback" not in result.output
        assert leftovers(out) == []
        if (out / "index.html").exists():
            assert "Rendered now" not in (out / "index.html").read_text()
        if (out / "status.json").exists():
            assert status_of(out)["X01"]["status"] == "failed"
        if mounted:  # (the patched write reaches this process only, not the workers)
            assert not (out / "areas" / "X01.sha256").exists()


def _full_disk(real_fdopen):
    """``os.fdopen`` whose files refuse every write, as on a full disk."""

    class Full:
        def __init__(self, *a, **k):
            self.fh = real_fdopen(*a, **k)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

    return Full


# -- item 2: person IDs in errors, the index and status.json -------------------------------------


def test_duplicated_ids_are_not_shown_in_terminal_index_or_status(tmp_path, monkeypatch):
    """Item 2: "found 'P010005'" reached the terminal, index.html and status.json."""
    monkeypatch.chdir(tmp_path)
    areas(tmp_path, 1)
    records = tmp_path / "records" / "X01.csv"
    df = pd.read_csv(records)
    df.loc[1, "id"] = df.loc[0, "id"]
    df.to_csv(records, index=False)
    dup = str(df.loc[0, "id"])
    template = tiny_template(
        tmp_path,
        "from evalkit.reports.inputs import read_records\nread_records(records, id_column=id_column)",
    )
    result = render("params", "-o", "out", "--template", str(template))
    # validation reads the records with the report's reader, so the run stops before any
    # kernel starts (exit 2), naming rows and counts, never the ID
    assert result.exit_code == 2, result.output
    assert "spreadsheet rows 2 and 3" in result.output and "on 2 rows" in result.output
    assert dup not in result.output
    assert not (tmp_path / "out" / "index.html").exists()  # nothing rendered, nothing to leak


def test_an_error_that_names_a_person_is_withheld(tmp_path, monkeypatch):
    """Item 2: any error text with an ID from the data is withheld before anyone sees it."""
    monkeypatch.chdir(tmp_path)
    areas(tmp_path, 1)
    person = first_id(tmp_path)
    template = tiny_template(
        tmp_path,
        "import pandas as pd\n"
        "raise ValueError('bad row for ' + str(pd.read_csv(records)[id_column].iloc[0]))",
    )
    result = render("params", "-o", "out", "--template", str(template))
    assert result.exit_code == 1
    error = status_of(tmp_path / "out")["X01"]["error"]
    assert "withheld" in error and "person ID" in error
    assert all(person not in text for text in what_people_see(tmp_path / "out", result))


def test_page_across_areas_showing_an_id_of_any_area_is_withheld(tmp_path, monkeypatch):
    """Item 2: pages across areas were not scanned for IDs."""
    monkeypatch.chdir(tmp_path)
    areas(tmp_path, 2)
    person = first_id(tmp_path, "X02")
    template = tiny_template(tmp_path, f"print('someone: {person}')")
    jobs = load_jobs(["params"])
    sources = [(j.params["records"], j.params["id_column"]) for j in jobs]
    page = render_page(
        "synthesis",
        "out",
        template=template,
        params={"area_name": "All"},
        title="All",
        sources=sources,
    )
    assert page.status == "failed" and page.error.startswith("report withheld")
    assert "person ID" in page.error and person not in page.error
    assert not (tmp_path / "out" / "synthesis.html").exists()


def test_index_and_status_are_scanned_before_they_are_written(tmp_path):
    out = tmp_path / "out"
    (out / "areas").mkdir(parents=True)
    records = tmp_path / "r.csv"
    pd.DataFrame({"id": ["P123456", "P654321"], "x": [1, 2]}).to_csv(records, index=False)
    entry = {"area_id": "X01", "area_name": "Named after P123456", "status": "failed"}
    (out / "status.json").write_text(json.dumps({"X01": entry}))  # an earlier run's leak
    with pytest.raises(OutputError, match="index.html was not written: .*1 person ID"):
        write_index(out, sources=[(str(records), "id")])
    assert not (out / "index.html").exists()
    # the next run's merge withholds the entry's texts, and the index can be written again
    other = {"area_id": "X02", "area_name": "Fine", "status": "failed", "error": "no"}
    merged = merge_status(out, {"X02": other}, check=lambda text: _scan(text, records))
    assert "P123456" not in (out / "status.json").read_text()
    assert merged.entries["X01"]["area_name"] == "X01" and merged.entries["X02"] == other
    assert "P123456" not in write_index(out, sources=[(str(records), "id")]).read_text()


def _scan(text: str, records: Path) -> list[str]:
    from evalkit.reports.checks import check_page

    return check_page(text, id_sources=[(str(records), "id")])


# -- item 12: reserved names, Ctrl-C --------------------------------------------------------------


@pytest.mark.parametrize("name", ["synthesis", "Reliability", "index", "STATUS"])
def test_names_of_pages_across_areas_are_reserved(tmp_path, monkeypatch, name):
    """Item 12: an area called ``synthesis`` overwrote the synthesis notebook."""
    monkeypatch.chdir(tmp_path)
    write_area(tmp_path, name, "An area", 0)
    with pytest.raises(ParameterError, match="is the name of a page across areas"):
        load_jobs(["params"])


def test_ctrl_c_leaves_no_kernel_folders(tmp_path):
    """Item 12: ``evalkit-kernel-*`` folders remained in the temporary folder after SIGINT."""
    areas(tmp_path, 1)
    template = tiny_template(tmp_path, "time.sleep(120)")
    # a short folder: multiprocessing's forkserver puts an AF_UNIX socket under TMPDIR, and
    # pytest's nested tmp_path (with xdist's popen-gwN) can pass the 107-byte socket path limit
    scratch = Path(tempfile.mkdtemp(prefix="ek-", dir="/tmp"))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(scratch)}
    cmd = [
        sys.executable,
        "-m",
        "evalkit.cli",
        "render",
        "params",
        "-o",
        "out",
        "--no-synthesis",
        "--template",
        str(template),
    ]
    proc = subprocess.Popen(
        cmd,
        cwd=tmp_path,
        env=env,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # as from a terminal: a shell starts a background job (`make test &`) with Ctrl-C
        # ignored, every child inherits that, and Python then leaves it ignored
        preexec_fn=functools.partial(signal.signal, signal.SIGINT, signal.SIG_DFL),
    )
    try:
        for _ in range(600):  # until the kernel has its socket folder
            if any(p.name.startswith("k-") for p in scratch.glob("evalkit-kernel-*/*")):
                break
            time.sleep(0.2)
        try:
            sigstate = [
                line
                for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines()
                if line.startswith(("SigBlk", "SigIgn", "SigCgt"))
            ]
        except OSError:
            sigstate = []
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole process group
        try:
            output = proc.communicate(timeout=120)[0]
        except subprocess.TimeoutExpired:
            raise AssertionError(f"no exit within 120 s of Ctrl-C; {sigstate}") from None
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130 and "Interrupted." in output, output
    assert list(scratch.glob("evalkit-kernel-*")) == []
    assert not (tmp_path / "out" / LOCK_NAME).exists()
    shutil.rmtree(scratch, ignore_errors=True)
