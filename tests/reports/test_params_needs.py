"""The needs-assessment keys of an area's parameters: needs_data, needs_indicators,
needs_benchmark (issue 14 item 2), checked like the other file keys."""

from __future__ import annotations

import pytest

from evalkit.errors import ParameterError
from evalkit.reports.params import AreaParams, load_jobs
from evalkit.simulate_needs import needs_data, needs_indicators

from .conftest import write_area


def problems_of(paths) -> list[str]:
    with pytest.raises(ParameterError) as info:
        load_jobs(paths)
    return info.value.problems


@pytest.fixture
def needs_folder(area_folder):
    needs_data(n_areas=2, seed=3).assign(area_id=lambda d: d["area_id"].str.replace("A", "X"))\
        .replace({"area_id": {"NXT": "NAT"}}).to_csv(area_folder / "needs.csv", index=False)  # fmt: skip
    needs_indicators().to_csv(area_folder / "needs_indicators.csv", index=False)
    return area_folder


def needs_area(folder, **keys):
    base = {"needs_data": "needs.csv", "needs_indicators": "needs_indicators.csv"}
    return write_area(folder, "X01", "First", 0, **{**base, **keys})


def test_defaults_are_no_page_and_the_national_benchmark():
    fields = AreaParams.model_fields
    assert fields["needs_data"].default == "" and fields["needs_indicators"].default == ""
    assert fields["needs_benchmark"].default == "NAT"
    assert {"needs_data", "needs_indicators"} <= set(AreaParams.FILE_KEYS)


def test_good_needs_keys_load_and_hash_the_files(needs_folder):
    (job,) = load_jobs([needs_area(needs_folder)])
    assert job.params["needs_benchmark"] == "NAT"
    assert {"needs.csv", "needs_indicators.csv"} <= set(job.input_files)


def test_missing_needs_file_names_the_key(needs_folder):
    (line,) = problems_of([needs_area(needs_folder, needs_data="gone.csv")])
    assert "key 'needs_data'" in line and "file not found: gone.csv" in line


def test_wrong_suffix_names_the_key(needs_folder):
    (line,) = problems_of([needs_area(needs_folder, needs_indicators="defs.txt")])
    assert "key 'needs_indicators'" in line and ".csv or .xlsx" in line


def test_data_without_definitions(needs_folder):
    (line,) = problems_of([needs_area(needs_folder, needs_indicators="")])
    assert "key 'needs_indicators'" in line and "is empty but 'needs_data'" in line


def test_missing_columns_are_named(needs_folder):
    (needs_folder / "bad.csv").write_text("area_id,indicator,year\nX01,a,2020\n")
    (line,) = problems_of([needs_area(needs_folder, needs_data="bad.csv")])
    assert "key 'needs_data'" in line
    assert "'decile'" in line and "'numerator'" in line and "'denominator'" in line


def test_benchmark_and_area_must_be_in_the_data(needs_folder):
    lines = problems_of([needs_area(needs_folder, needs_benchmark="ENG")])
    (line,) = lines
    assert "key 'needs_benchmark'" in line and "'ENG'" in line and "allowed" in line
    (line,) = problems_of([write_area(needs_folder, "X09", "Nine", 1, needs_data="needs.csv",
                                      needs_indicators="needs_indicators.csv")])  # fmt: skip
    assert "key 'area_id'" in line and "'X09'" in line and "needs.csv" in line


def test_indicator_without_a_definition(needs_folder):
    meta = needs_indicators().iloc[1:]
    meta.to_csv(needs_folder / "few.csv", index=False)
    (line,) = problems_of([needs_area(needs_folder, needs_indicators="few.csv")])
    assert "key 'needs_indicators'" in line and "'smoking_at_delivery'" in line
