"""The committed demo data are exactly what the generator makes (so they can never go stale)."""

from pathlib import Path

import pandas as pd

from evalkit.reports.demo import write_demo
from evalkit.simulate import SYNTHETIC_NOTICE, demo

ROOT = Path(__file__).resolve().parents[1]


def test_committed_demo_matches_the_generator(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_demo("data/demo")
    fresh = sorted(
        p.relative_to(tmp_path) for p in (tmp_path / "data/demo").rglob("*") if p.is_file()
    )
    # data/demo/needs*.csv come from evalkit.simulate_needs, written by write_demo too
    committed = sorted(p.relative_to(ROOT) for p in (ROOT / "data/demo").rglob("*") if p.is_file())
    assert fresh == committed
    for rel in fresh:
        assert (tmp_path / rel).read_bytes() == (ROOT / rel).read_bytes(), rel


def test_demo_is_deterministic_and_says_it_is_synthetic():
    a, b = demo(n_areas=2, seed=5), demo(n_areas=2, seed=5)
    pd.testing.assert_frame_equal(a["records"]["A01"], b["records"]["A01"])
    assert "fictional" in SYNTHETIC_NOTICE
    assert (ROOT / "data/demo/README.md").read_text().count(SYNTHETIC_NOTICE) == 1


def test_demo_shape():
    d = demo()
    assert len(d["areas"]) == 20 and d["areas"]["area_name"].is_unique
    months = d["indicators"].groupby(["area_id", "indicator"])["month"].agg(["min", "max", "count"])
    assert (months["count"] == 48).all()
    partners = d["matrix"].groupby("area")["partner"].nunique()
    assert partners.between(3, 6).all() and d["matrix"]["date"].nunique() == 2
    records = d["records"]["A01"]
    assert records["id"].is_unique and set(records["treated"]) == {0, 1}
    assert records.filter(like="epds_pre_").shape[1] == 10
    assert records.filter(like="wemwbs_post_").shape[1] == 14
    # some answers are missing and some people dropped out, as in routine data
    assert records.filter(like="epds_pre_").isna().any().any()
    assert records.filter(like="epds_post_").isna().all(axis=1).mean() > 0.05


def test_earlier_demo_columns_never_change():
    """Columns added later (matrix notes, sessions, fidelity, their truth) come from separate
    random streams and are appended: the earlier columns keep their exact text. The digest was
    taken from data/demo before those columns were added."""
    import hashlib

    earlier = {"matrix.csv": 5, "truth.csv": 10, "records": 54}
    digest = hashlib.sha256()
    for name in ["matrix.csv", "truth.csv", *[f"records/A{i:02d}.csv" for i in range(1, 21)]]:
        k = earlier["records"] if name.startswith("records") else earlier[name]
        df = pd.read_csv(ROOT / "data/demo" / name, dtype=str, keep_default_na=False)
        digest.update(df.iloc[:, :k].to_csv(index=False).encode())
    assert digest.hexdigest() == "40add65cb22cbfc66858b538951adc5304ff4f7de4cf5ca2f1818832018d3ee2"


def test_fast_paths_of_the_generator_equal_the_slow_ones():
    """write_demo builds Int64 columns directly and reuses the EPDS totals for the dose slope
    (speed for a national demo of 175 areas): the same as astype("Int64") and as
    demo_dose_slope on the finished records."""
    import numpy as np

    from evalkit.simulate import _whole_numbers, demo_area_records, demo_dose_slope

    values = np.array([0.0, 3.0, np.nan, 2.0, np.nan, 1.0])
    pd.testing.assert_series_equal(
        pd.Series(_whole_numbers(values)), pd.Series(values).astype("Int64")
    )
    for area in (0, 7, 120):
        df, truth = demo_area_records(area)
        assert truth["epds_dose_slope"] == demo_dose_slope(df)  # exactly
        items = df.filter(like="fidelity_").columns.tolist() + ["sessions", "epds_pre_1"]
        assert all(str(df[c].dtype) == "Int64" for c in items)


def test_a_national_demo_has_the_areas_of_the_committed_one(tmp_path):
    """More areas add areas: the first 20 areas' records and needs rows are unchanged."""
    from evalkit.reports.demo import demo_data
    from evalkit.simulate_needs import needs_data

    big = demo_data(23)
    for area in ("A01", "A20"):
        pd.testing.assert_frame_equal(big["records"][area], demo()["records"][area])
    small, large = needs_data(n_areas=20), needs_data(n_areas=23)
    first = large[large["area_id"].isin(small["area_id"]) & (large["area_id"] != "NAT")]
    pd.testing.assert_frame_equal(
        first.reset_index(drop=True), small[small["area_id"] != "NAT"].reset_index(drop=True)
    )
