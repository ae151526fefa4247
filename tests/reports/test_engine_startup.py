"""Issue 12: a run's start-up and export, made faster without changing what is made.

- the workers start (and import everything) while the run checks the inputs, but only
  when something is to be rendered: a fully cached run starts none;
- input that fails the checks after the workers started still ends the run with the
  input error;
- the page exporter skips nbconvert's BeautifulSoup pass; the page is the same HTML.
"""

from __future__ import annotations

import os

import nbformat
from bs4 import BeautifulSoup
from nbconvert import HTMLExporter

from evalkit import __version__
from evalkit.reports import export
from evalkit.reports import render as render_mod
from evalkit.reports.render import WorkerPool, render_areas

from .test_faults import areas, render, tiny_template


def test_a_warmed_pool_has_its_kernel_factories_up_and_renders(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    areas(tmp_path, 2)
    from evalkit.reports.params import load_jobs

    jobs = load_jobs(["params"], enough_data=False)
    template = tiny_template(tmp_path, "x = 1\n")
    with WorkerPool(2) as pool:
        pool.warm()
        pool._warm_thread.join(timeout=120)  # it submits in the background
        warming = list(pool._warming)
        pool.warm()  # a second call submits nothing more
        pool._warm_thread.join(timeout=120)
        # a core is left to the run's input checks
        assert pool._warming == warming and len(warming) == min(2, max(1, os.cpu_count() - 1))
        assert all(f.result(timeout=120) for f in warming)  # the workers' factories are up
        outcomes = render_areas(jobs, tmp_path / "out", template=template, executor=pool)
    assert [o.status for o in outcomes] == ["rendered", "rendered"]


def test_workers_are_started_early_only_when_an_area_is_to_be_rendered(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    areas(tmp_path, 2)
    template = tiny_template(tmp_path, "x = 1\n")
    warmed = []
    real = WorkerPool.warm

    def spy(self):
        warmed.append(True)
        return real(self)

    monkeypatch.setattr(render_mod.WorkerPool, "warm", spy)
    assert render("params", "-o", "out", "--template", str(template)).exit_code == 0
    assert warmed  # areas to render: the workers started during the checks
    warmed.clear()
    result = render("params", "-o", "out", "--template", str(template))
    assert result.exit_code == 0 and "0 rendered, 2 up to date" in result.output
    assert warmed == []  # all up to date: no worker was started


def test_bad_input_found_after_the_workers_started_is_still_an_input_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    areas(tmp_path, 2)
    records = tmp_path / "records" / "X02.csv"
    text = records.read_text().splitlines()
    records.write_text("\n".join([text[0].replace("treated", "arm"), *text[1:]]) + "\n")
    result = render("params", "-o", "out", "--force")
    assert result.exit_code == 2, result.output
    assert "X02.csv" in result.output and "treated" in result.output
    assert not (tmp_path / "out" / "areas").exists()  # nothing was rendered


def _executed_notebook():
    nb = nbformat.v4.new_notebook()
    nb.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    md = nbformat.v4.new_markdown_cell("# Heading\n\nText with *emphasis* and 5 &le; 10.")
    code = nbformat.v4.new_code_cell("show()")
    code.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={
                "text/html": '<h2 id="a">Section &amp; more</h2><p>Rates &ge; 10&nbsp;%</p>'
                '<figure><img src="data:image/png;base64,iVBORw0KGgo=" alt="A chart">'
                "<figcaption>Caption</figcaption></figure><br>"
                '<div class="evalkit-table-scroll" role="region" tabindex="0">'
                "<table><tr><th>a</th><td>1</td></tr></table></div>"
            },
        ),
        nbformat.v4.new_output("stream", name="stdout", text="a line <b>\n"),
    ]
    nb.cells = [md, code]
    return nb


def test_the_page_is_what_nbconvert_html_exporter_makes():
    # peer: nbconvert's own HTMLExporter with the same template and options; its
    # BeautifulSoup pass re-serialises the page, so both are compared after parsing
    stock = HTMLExporter(**export.exporter_options())
    resources = {
        "evalkit_title": "T",
        "evalkit_footer": "F",
        "evalkit_version": __version__,
        "evalkit_css": export.house_css(),
    }
    nb = _executed_notebook()
    theirs, _ = stock.from_notebook_node(nb, resources=dict(resources))
    ours = export.to_html(nb, title="T", footer="F")
    assert ours != theirs  # not re-serialised...
    assert str(BeautifulSoup(ours, features="html.parser")) == theirs  # ...but the same page
    assert 'alt="A chart"' in ours and "Section &amp; more" in ours
