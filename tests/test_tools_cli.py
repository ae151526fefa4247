"""`evalkit tools list|show` and `evalkit score`, through a small typer app built here
(the lead registers the same objects in evalkit/cli.py), and reading CSV/XLSX/SPSS files."""

from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
import typer
import yaml
from typer.testing import CliRunner

from evalkit.cli_tools import score, tools_app
from evalkit.errors import DataError, ParameterError
from evalkit.tools import read_data, write_scores

app = typer.Typer()
app.add_typer(tools_app, name="tools")
app.command("score")(score)
runner = CliRunner()


def epds_frame():
    rows = [[1, 1, 2, 0, 1, 1, 2, 1, 0, 1], [0] * 10, [3] * 9 + [0]]
    df = pd.DataFrame(rows, columns=[f"epds_pre_{i}" for i in range(1, 11)])
    df.insert(0, "mum_id", ["m1", "m2", "m3"])
    return df


def test_tools_list_and_show():
    res = runner.invoke(app, ["tools", "list"])
    assert res.exit_code == 0
    assert "sdq" in res.stdout and "25 items" in res.stdout and "asq3" in res.stdout
    res = runner.invoke(app, ["tools", "show", "epds"])
    assert res.exit_code == 0
    assert "flag self_harm: item 10 above 0" in res.stdout
    assert "10-12: possible depression" in res.stdout and "Cox JL" in res.stdout
    assert "licence:" in res.stdout


def test_tools_show_unknown_is_one_line_exit_2():
    res = runner.invoke(app, ["tools", "show", "nope"])
    assert res.exit_code == 2
    assert res.stderr.startswith("error: key 'tool': no tool called 'nope'")
    assert "Traceback" not in res.stderr and res.stderr.count("\n") == 1


def test_score_csv_with_prefix_and_id(tmp_path):
    data = tmp_path / "epds.csv"
    epds_frame().to_csv(data, index=False)
    out = tmp_path / "scores.csv"
    res = runner.invoke(
        app, ["score", "epds", str(data), "-o", str(out), "--prefix", "epds_pre_", "--id", "mum_id"]
    )
    assert res.exit_code == 0, res.stderr
    assert "scored 3 rows with epds (columns read as scores)" in res.stdout
    assert "FLAG self_harm: 1 row(s) flagged" in res.stdout
    got = pd.read_csv(out)
    assert got["mum_id"].tolist() == ["m1", "m2", "m3"]
    assert got["total"].tolist() == [10, 0, 27]
    assert got["total_band"].tolist() == [
        "possible depression",
        "below threshold",
        "probable depression",
    ]
    assert got["flag_self_harm"].tolist() == [True, False, False]


def test_score_with_map_and_columns_file(tmp_path):
    df = epds_frame().rename(columns={"epds_pre_10": "harm", "epds_pre_1": "laugh"})
    data = tmp_path / "epds.xlsx"
    df.to_excel(data, index=False)
    cols = tmp_path / "cols.yaml"
    cols.write_text(yaml.safe_dump({1: "laugh"}))
    out = tmp_path / "scores.xlsx"
    res = runner.invoke(
        app,
        [
            "score",
            "epds",
            str(data),
            "-o",
            str(out),
            "--prefix",
            "epds_pre_",
            "--columns",
            str(cols),
            "--map",
            "10=harm",
        ],
    )
    assert res.exit_code == 0, res.stderr
    assert pd.read_excel(out)["total"].tolist() == [10, 0, 27]


def test_score_reads_the_specs_labels_and_other_text_needs_a_value_option(tmp_path):
    labels = {
        0: "Not at all",
        1: "Several days",
        2: "More than half the days",
        3: "Nearly every day",
    }
    df = pd.DataFrame({f"gad7_{i}": [labels[i % 4], labels[0]] for i in range(1, 8)})
    data = tmp_path / "gad.csv"
    df.to_csv(data, index=False)
    out = tmp_path / "o.csv"
    # the GAD-7 spec maps its printed answer labels to scores (issue 11, item 11)
    res = runner.invoke(app, ["score", "gad7", str(data), "-o", str(out)])
    assert res.exit_code == 0, res.stderr
    # items 1..7 -> i % 4 = 1, 2, 3, 0, 1, 2, 3 -> 12; second row 0
    assert pd.read_csv(out)["total"].tolist() == [12, 0]
    out.unlink()
    df["gad7_1"] = ["A bit", "Not at all"]  # a label the spec does not know
    df.to_csv(data, index=False)
    res = runner.invoke(app, ["score", "gad7", str(data), "-o", str(out)])
    assert res.exit_code == 2
    assert "text where numbers are expected" in res.stderr and "--value" in res.stderr
    assert "'A bit'" in res.stderr and "'Several days'" in res.stderr  # the known labels
    assert "Traceback" not in res.stderr and not out.exists()
    res = runner.invoke(app, ["score", "gad7", str(data), "-o", str(out), "--value", "A bit=1"])
    assert res.exit_code == 0, res.stderr
    assert pd.read_csv(out)["total"].tolist() == [12, 0]


def test_score_errors_exit_2(tmp_path):
    data = tmp_path / "epds.csv"
    epds_frame().to_csv(data, index=False)
    out = str(tmp_path / "o.csv")
    cases = [
        (["score", "epds", str(data), "-o", out], "not found: the epds item(s)"),
        (["score", "epds", str(tmp_path / "none.csv"), "-o", out], "no such file"),
        (["score", "epds", str(data), "-o", out, "--map", "10"], "is not KEY=VALUE"),
        (
            ["score", "epds", str(data), "-o", out, "--prefix", "epds_pre_", "--input", "raw"],
            "input='raw' is not one of the options",
        ),
        (
            ["score", "epds", str(data), "-o", str(tmp_path / "o.json"), "--prefix", "epds_pre_"],
            "cannot write .json",
        ),
    ]
    for args, text in cases:
        res = runner.invoke(app, args)
        assert res.exit_code == 2, (args, res.stdout, res.stderr)
        assert text in res.stderr, res.stderr
        assert "Traceback" not in res.stderr


def test_score_user_spec_and_cutoffs(tmp_path):
    df = pd.DataFrame({f"asq3_communication_{i}": [10, 0] for i in range(1, 7)})
    for d in ["gross_motor", "fine_motor", "problem_solving", "personal_social"]:
        for i in range(1, 7):
            df[f"asq3_{d}_{i}"] = [10, 10]
    data = tmp_path / "asq.csv"
    df.to_csv(data, index=False)
    cut = tmp_path / "cut.yaml"
    cut.write_text("communication: {cutoff: 20.5, monitoring: 35}\n")  # invented cut-offs
    out = tmp_path / "o.csv"
    res = runner.invoke(app, ["score", "asq3", str(data), "-o", str(out), "--cutoffs", str(cut)])
    assert res.exit_code == 0, res.stderr
    assert pd.read_csv(out)["communication_band"].tolist() == ["above cutoff", "below cutoff"]


# ------------------------------------------------------------------------------ files
def test_read_sav_keeps_codes_and_labels(tmp_path):
    df = pd.DataFrame({f"sdq_{i}": [1.0, 2.0, 3.0] for i in range(1, 26)})
    path = tmp_path / "sdq.sav"
    labels = {
        f"sdq_{i}": {1.0: "Not true", 2.0: "Somewhat true", 3.0: "Certainly true"}
        for i in range(1, 26)
    }
    pyreadstat.write_sav(df, str(path), variable_value_labels=labels)
    got = read_data(path)
    assert got["sdq_1"].tolist() == [1, 2, 3]  # codes kept, not replaced by labels
    assert got.attrs["value_labels"]["sdq_1"][3.0] == "Certainly true"
    from evalkit import tools

    # 1-3 coding is out of range for the SDQ: the message quotes the file's labels
    with pytest.raises(DataError, match=r"3=.Certainly true.*values=\{3: 2"):
        tools.get("sdq").score(got.assign(**{f"sdq_{i}": 0 for i in range(2, 26)}))
    out = tools.get("sdq").score(got, values={1: 0, 2: 1, 3: 2})
    assert out["prosocial"].tolist() == [0, 5, 10]


def test_cli_reads_sav_and_writes_sav(tmp_path):
    df = epds_frame()
    path = tmp_path / "epds.sav"
    pyreadstat.write_sav(df, str(path))
    out = tmp_path / "scores.sav"
    res = runner.invoke(
        app, ["score", "epds", str(path), "-o", str(out), "--prefix", "epds_pre_", "--id", "mum_id"]
    )
    assert res.exit_code == 0, res.stderr
    got, _ = pyreadstat.read_sav(str(out))
    assert got["total"].tolist() == [10, 0, 27]
    assert got["flag_self_harm"].tolist() == [1, 0, 0]
    assert got["total_band"].tolist()[0] == "possible depression"


def test_read_data_errors(tmp_path):
    with pytest.raises(ParameterError, match="no such file"):
        read_data(tmp_path / "x.csv")
    p = tmp_path / "x.json"
    p.write_text("{}")
    with pytest.raises(ParameterError, match="cannot read .json"):
        read_data(p)
    bad = tmp_path / "bad.sav"
    bad.write_text("not spss")
    with pytest.raises(DataError, match="bad.sav: could not be read"):
        read_data(bad)
    with pytest.raises(ParameterError, match="cannot write"):
        write_scores(pd.DataFrame({"a": [1]}), tmp_path / "o.txt")


# -- issue 11, item 10: `evalkit score DATA -o DATA` overwrote the raw data --------------------


def test_score_refuses_to_overwrite_its_input(tmp_path, monkeypatch):
    data = tmp_path / "epds.csv"
    epds_frame().to_csv(data, index=False)
    before = data.read_bytes()
    monkeypatch.chdir(tmp_path)
    for out in (str(data), "epds.csv", "./sub/../epds.csv"):
        (tmp_path / "sub").mkdir(exist_ok=True)
        res = runner.invoke(app, ["score", "epds", str(data), "-o", out, "--prefix", "epds_pre_"])
        assert res.exit_code == 2, res.stdout
        assert "is the input file" in res.stderr and "never overwrites" in res.stderr
        assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr
    assert data.read_bytes() == before
    cols = tmp_path / "cols.yaml"
    cols.write_text(yaml.safe_dump({str(i): f"epds_pre_{i}" for i in range(1, 11)}))
    res = runner.invoke(app, ["score", "epds", str(data), "-o", str(cols), "--columns", str(cols)])
    assert res.exit_code == 2 and "is the input file" in res.stderr


def test_score_reports_a_missing_output_folder(tmp_path):
    data = tmp_path / "epds.csv"
    epds_frame().to_csv(data, index=False)
    out = tmp_path / "no" / "such" / "scores.csv"
    res = runner.invoke(app, ["score", "epds", str(data), "-o", str(out), "--prefix", "epds_pre_"])
    assert res.exit_code == 2
    assert f"the folder {out.parent} does not exist" in res.stderr
    assert "Traceback" not in res.stderr


def test_score_writes_through_a_temporary_file(tmp_path, monkeypatch):
    """A write that fails half-way keeps the previous scores file and leaves no temporary file."""
    import errno

    import evalkit.tools

    data = tmp_path / "epds.csv"
    epds_frame().to_csv(data, index=False)
    out = tmp_path / "scores.csv"
    out.write_text("previous scores\n")

    def half_then_full(scores, path):
        Path(path).write_text("half a fi")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(evalkit.tools, "write_scores", half_then_full)
    res = runner.invoke(app, ["score", "epds", str(data), "-o", str(out), "--prefix", "epds_pre_"])
    assert res.exit_code == 2
    assert "cannot write" in res.stderr and "the disk is full" in res.stderr
    assert out.read_text() == "previous scores\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epds.csv", "scores.csv"]


def test_score_row_numbers_count_as_in_a_spreadsheet(tmp_path):
    df = epds_frame()
    df["mum_id"] = ["m1", "m2", "m1"]  # rows 2 and 4 of the file (the header is row 1)
    data = tmp_path / "epds.csv"
    df.to_csv(data, index=False)
    options = ["--prefix", "epds_pre_", "--id", "mum_id"]
    res = runner.invoke(app, ["score", "epds", str(data), "-o", str(tmp_path / "o.csv"), *options])
    assert res.exit_code == 2
    assert "spreadsheet rows 2 and 4" in res.stderr and "the header is row 1" in res.stderr
    assert "'m1'" not in res.stderr  # IDs are never shown (issue 11, item 2)
