"""``evalkit demo --areas N`` (issue 12, item 4) and the engine options of the CLI."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

import evalkit.cli as cli
from evalkit.cli import app
from evalkit.reports.demo import demo_data, demo_exists, write_demo
from evalkit.reports.params import load_jobs

runner = CliRunner()


def test_a_national_demo_has_175_distinct_fictional_areas():
    d = demo_data(175)
    areas = d["areas"]
    assert len(areas) == 175 and areas["area_id"].is_unique and areas["area_name"].is_unique
    assert list(areas["area_id"][[0, 99, 174]]) == ["A01", "A100", "A175"]
    assert sorted(d["records"]) == sorted(areas["area_id"])
    assert set(d["truth"]["area_id"]) == set(areas["area_id"])
    assert "breastfeeding_6_8_weeks_start_month" in d["truth"]


def test_the_first_20_areas_are_the_committed_demo():
    small, big = demo_data(20), demo_data(23)
    pd.testing.assert_frame_equal(small["areas"], big["areas"].iloc[:20])
    pd.testing.assert_frame_equal(small["records"]["A07"], big["records"]["A07"])


def test_write_demo_of_other_sizes_and_their_parameters_check(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_demo("d", n_areas=22)
    assert demo_exists("d", n_areas=22) and not demo_exists("d", n_areas=20)
    jobs = load_jobs([Path("d/params")])
    assert [j.area_id for j in jobs][-2:] == ["A21", "A22"]
    write_demo("d", n_areas=3)  # a smaller demo replaces the parameter files
    assert demo_exists("d", n_areas=3)


def test_demo_areas_option_leaves_the_committed_demo_alone(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    calls = []
    monkeypatch.setattr(cli, "_render", lambda *a, **k: calls.append((a, k)) or 0)
    result = runner.invoke(app, ["demo", "--areas", "3", "--dask-workers", "2", "--out", "o"])
    assert result.exit_code == 0, result.output
    assert demo_exists("data/demo-3", n_areas=3) and not Path("data/demo").exists()
    (params,), out = calls[0][0][0], calls[0][0][1]
    assert params == Path("data/demo-3/params") and out == Path("o")
    assert calls[0][1]["dask_workers"] == 2
    result = runner.invoke(app, ["demo", "--areas", "2", "--data", "mine", "--out", "o"])
    assert result.exit_code == 0 and demo_exists("mine", n_areas=2)


def test_scheduler_and_dask_workers_are_exclusive(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(
        app, ["render", "p.yaml", "--scheduler", "tcp://127.0.0.1:1", "--dask-workers", "2"]
    )
    assert result.exit_code == 2 and "not both" in result.output


def test_render_help_names_the_engine_options():
    text = runner.invoke(app, ["render", "--help"], terminal_width=200).output
    assert "--scheduler" in text and "--dask-workers" in text
