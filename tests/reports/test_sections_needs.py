"""The needs-assessment page's sections (issue 14 item 2): evalkit.reports.sections.needs."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evalkit import indicators as ind
from evalkit.reports.paths import template_path
from evalkit.reports.sections import needs as N
from evalkit.simulate_needs import needs_data, needs_indicators

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = ("summary", "spine", "standardised", "inequality", "trends", "methods")


def text_of(page_html: str) -> str:
    body = re.sub(r"<img[^>]*>", " ", page_html)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("needs")
    data, meta = needs_data(n_areas=3, seed=7), needs_indicators()
    data.to_csv(folder / "needs.csv", index=False)
    meta.to_csv(folder / "needs_indicators.csv", index=False)
    return folder, data, meta


def params(folder: Path, **extra) -> dict:
    out = {"area_id": "A02", "area_name": "Test area", "synthetic": True,
           "needs_data": str(folder / "needs.csv"),
           "needs_indicators": str(folder / "needs_indicators.csv")}  # fmt: skip
    out.update(extra)
    return out


@pytest.fixture(scope="module")
def a02(files):
    folder, _, _ = files
    return N.analyse(params(folder, records="ignored.csv", design="prepost"))


@pytest.fixture(scope="module")
def page(a02):
    secs = [getattr(N, name)(a02) for name in SECTIONS]
    return secs, "".join(s.html for s in secs)


def test_parameters_are_the_needs_keys_only(a02):
    assert set(a02.params) == set(N.NEEDS_PARAMETERS)
    assert a02.params["needs_benchmark"] == "NAT" and a02.params["suppression_threshold"] == 10


def test_table_values_are_the_indicator_functions(files, a02, page):
    # the shown value is PHE's Wilson proportion of the area's latest-year counts
    _, data, _ = files
    last = data[(data["year"] == data["year"].max()) & (data["area_id"] == "A02")
                & (data["indicator"] == "breastfeeding_6_8_weeks")]  # fmt: skip
    p = ind.proportion(int(last["numerator"].sum()), int(last["denominator"].sum()),
                       multiplier=100)  # fmt: skip
    text = text_of(page[1])
    assert f"{p.estimate:.1f}%" in text
    assert f"{p.ci_low:.1f} to {p.ci_high:.1f}" in text


def test_every_section_has_its_heading_and_one_h1(page):
    _, body = page
    assert body.count("<h1>") == 1
    for head in ("Indicators compared with the benchmark", "Age-standardised rates",
                 "Inequality by deprivation decile", "Trends", "Methods and sources"):  # fmt: skip
        assert head in text_of(body), head


def test_figures_have_alt_text_and_tables_captions(page):
    _, body = page
    imgs = re.findall(r"<img [^>]*>", body)
    assert len(imgs) == 3  # spine, inequality, trends
    assert all(re.search(r'alt="[^"]{20,}"', i) for i in imgs)
    assert body.count("<table") == body.count("<caption")


def test_every_colour_has_a_word(page):
    _, body = page
    text = text_of(body)
    # the comparison and the trend are words in the table, not colours alone
    assert re.search(r"\b(better|similar|worse)\b", text)
    assert re.search(r"\b(increasing|decreasing|no significant change)\b", text)
    assert "Okabe-Ito" in text


def test_summary_says_what_stands_out_and_links_the_area_report(a02):
    s = N.summary(a02)
    assert 'href="A02.html"' in s.html
    assert "What stands out" in s.html
    assert "Synthetic data" in s.html


def test_methods_name_the_phe_method_of_each_indicator(a02, page):
    text = text_of(N.methods(a02).html)
    for name in ("phe_proportion", "phe_rate", "calculate_dsr", "phe_sii"):
        assert name in text, name


def test_counts_go_through_the_register(a02, page):
    reg = a02.register
    declared = reg.declared
    for sec in page[0]:
        assert set(sec.counts) <= declared, sec.name
    # every small numerator is hidden, and a value built on it with it
    small = [f"n.{name}.q{int(q)}" for name, dv in a02.deciles.items()
             for q, c in zip(dv["decile"], dv["count"]) if 0 < c < 10]  # fmt: skip
    assert small, "the demo has small decile counts (infant deaths)"
    for k in small:
        assert reg.hidden(k) and reg.hidden(k.replace("n.", "v.", 1))
    assert reg.audit() == []
    N.check(a02)


def test_small_numerators_are_not_shown_anywhere(files):
    # an area whose infant deaths are 1-9 in the latest year: count and value hidden
    folder, data, meta = files
    data = data.copy()
    rows = (
        (data["area_id"] == "A01")
        & (data["indicator"] == "infant_mortality")
        & (data["year"] == data["year"].max())
    )
    data.loc[rows, "numerator"] = 0
    data.loc[rows[rows].index[0], "numerator"] = 3
    data.to_csv(folder / "needs_small.csv", index=False)
    a = N.analyse(params(folder, area_id="A01", needs_data=str(folder / "needs_small.csv")))
    assert a.register.hidden("n.infant_mortality")
    assert not a.shown("infant_mortality")
    spine = N.spine(a).html
    row = re.search(r"Infant deaths.*?</tr>", spine, re.S).group(0)
    assert row.count(">c<") >= 3  # count, value, interval (and the words built on them)
    summary = text_of(N.summary(a).html)
    assert "1 indicator(s) are not shown" in summary
    assert not re.search(r"Infant deaths[^:]*: \d", summary)  # no value in a sentence


def test_a_missing_area_is_a_plain_problem(files):
    folder, _, _ = files
    a = N.analyse(params(folder, area_id="Z99"))
    assert a.problem and "Z99" in a.problem
    secs = [getattr(N, name)(a) for name in SECTIONS]
    assert "could not be made" in secs[0].html
    assert all(not s.blocks for s in secs[1:2])  # no spine without data


def test_demo_area_pages_are_under_2_mb():
    folder = ROOT / "data/demo"
    a = N.analyse({"area_id": "A01", "area_name": "Alderbrook Vale", "synthetic": True,
                   "needs_data": str(folder / "needs.csv"),
                   "needs_indicators": str(folder / "needs_indicators.csv")})  # fmt: skip
    size = sum(len(getattr(N, name)(a).html) for name in SECTIONS)
    assert size < 1_500_000


def code_lines(cell) -> int:
    src = "".join(cell["source"]).splitlines()
    return sum(1 for line in src if line.strip() and not line.strip().startswith("#"))


def test_template_is_short_with_a_cell_per_section():
    nb = json.loads(template_path("needs_assessment.ipynb").read_text())
    cells = nb["cells"]
    assert cells[0]["metadata"].get("tags") == ["parameters"]
    assert sum(code_lines(c) for c in cells[1:] if c["cell_type"] == "code") <= 60
    for name in (*SECTIONS, "analyse", "check"):
        assert any(f"sections.{name}(" in "".join(c["source"]) for c in cells), name
    assert all(not c.get("outputs") for c in cells if c["cell_type"] == "code")


def test_template_parameters_are_the_needs_keys():
    import papermill as pm

    from evalkit.reports.params import AreaParams

    declared = pm.inspect_notebook(str(template_path("needs_assessment.ipynb")))
    assert tuple(declared) == N.NEEDS_PARAMETERS
    for name in ("needs_benchmark", "suppression_threshold", "data_source", "synthetic"):
        default = AreaParams.model_fields[name].get_default()
        assert eval(declared[name]["default"]) == default, name  # noqa: S307 - our template


def test_benchmark_other_than_national(files):
    folder, _, _ = files
    a = N.analyse(params(folder, needs_benchmark="A01"))
    assert a.benchmark_name == "the benchmark (A01)"
    assert np.isfinite(a.summary["benchmark"]).all()
    assert isinstance(a.summary, pd.DataFrame)
