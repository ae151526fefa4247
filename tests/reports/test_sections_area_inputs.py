"""The area report's inputs (issue 11 item 11 follow-ups): the reader's sheet and encoding,
printed answer labels, an item everyone answered the same way, and render's handling of an
area with too little data.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from evalkit.cli import app
from evalkit.reports import sections as S
from evalkit.reports.checks import check_page, leaked_ids
from evalkit.simulate import demo_area_records

from .conftest import write_area

ALL = ("summary", "data_quality", "measurement", "outcomes", "indicators", "maturity_matrix",
       "strength_of_evidence", "provenance")  # fmt: skip


def params(records: Path | str, **extra) -> dict:
    out = {"area_id": "T01", "area_name": "Test area", "records": str(records), "synthetic": True,
           "covariates": ["mother_age", "first_baby"]}  # fmt: skip
    out.update(extra)
    return out


def text_of(a) -> str:
    body = "".join(getattr(S, name)(a).html for name in ALL)
    return html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<img[^>]*>", " ", body)))


def test_records_on_the_second_sheet(tmp_path):
    # validate read the active sheet and render the first: both now read sheet=
    df, _ = demo_area_records(1)
    path = tmp_path / "records.xlsx"
    with pd.ExcelWriter(path) as xl:
        pd.DataFrame({"note": ["read me first"]}).to_excel(xl, sheet_name="About", index=False)
        df.to_excel(xl, sheet_name="Data", index=False)
    a = S.analyse(params(path, sheet="Data"))
    assert a.problem is None and a.register.value("records.all") == len(df)
    # the ID scan reads the same sheet: an ID in the page is found
    page = f"<p>{df['id'].iloc[0]}</p>"
    assert leaked_ids(page, str(path), "id", sheet="Data") == [df["id"].iloc[0]]
    problems = check_page(page, id_sources=[(str(path), "id", "Data", "")])
    assert problems and "1 person ID" in problems[-1]


def test_latin1_records(tmp_path):
    df, _ = demo_area_records(1)
    df["setting"] = df["setting"].astype(str) + " café"
    path = tmp_path / "records.csv"
    df.to_csv(path, index=False, encoding="latin-1")
    a = S.analyse(params(path, encoding="latin-1"))
    assert a.problem is None and a.n_settings == df["setting"].nunique()
    assert leaked_ids(f"<p>{df['id'].iloc[3]}</p>", str(path), "id", encoding="latin-1")


def test_printed_answer_labels_are_scored(tmp_path):
    # "Not at all" is an EPDS answer label (score 3 on item 1): it scores, and is not out of range
    df, _ = demo_area_records(1)
    df["epds_pre_1"] = df["epds_pre_1"].astype(object)
    rows = df.index[df["epds_pre_1"] == 3][:4]
    df.loc[rows, "epds_pre_1"] = "Not at all"
    path = tmp_path / "records.csv"
    df.to_csv(path, index=False)
    a = S.analyse(params(path))
    assert a.problem is None
    assert a.register.value("bad.total") == 0
    demo_area_records(1)[0].to_csv(tmp_path / "plain.csv", index=False)
    plain = S.analyse(params(tmp_path / "plain.csv"))
    assert a.effect.estimate == pytest.approx(plain.effect.estimate, abs=1e-12)


def test_item_everyone_answered_the_same_does_not_stop_the_page(tmp_path):
    # alpha fails, so reliable change has no reliability: the page says why, in plain words
    df, _ = demo_area_records(1)
    df["epds_pre_1"] = 1
    df["epds_post_1"] = 1
    path = tmp_path / "records.csv"
    df.to_csv(path, index=False)
    a = S.analyse(params(path))
    assert a.problem is None and a.prepost.n_improved is None
    text = text_of(a)
    assert "everyone gave the same answer" in text
    assert "Reliable change is not reported" in text
    assert a.register.audit() == []


runner = CliRunner()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """Two areas, one with six people: render renders both, validate refuses the small one."""
    import os

    folder = tmp_path_factory.mktemp("enough")
    old = os.getcwd()
    os.chdir(folder)
    try:
        write_area(folder, "X01", "Enough people", 0)
        write_area(folder, "X02", "Six people", 1)
        small = pd.read_csv(folder / "records" / "X02.csv")
        small = pd.concat([small[small.treated == 1].head(3), small[small.treated == 0].head(3)])
        small.to_csv(folder / "records" / "X02.csv", index=False)
        render = runner.invoke(
            app, ["render", "params", "--out", "out", "--jobs", "2", "--no-synthesis"]
        )
        validate = runner.invoke(app, ["validate", "params"])
        yield folder, render, validate
    finally:
        os.chdir(old)


def test_render_renders_an_area_with_too_little_data(rendered):
    folder, render, _ = rendered
    assert render.exit_code == 0, render.output
    small = (folder / "out" / "areas" / "X02.html").read_text()
    assert "could not be estimated" in small
    assert (folder / "out" / "areas" / "X01.html").stat().st_size > 10_000


def test_validate_still_reports_too_little_data(rendered):
    _, _, validate = rendered
    assert validate.exit_code != 0
    assert "X02" in validate.output and "at least" in validate.output
