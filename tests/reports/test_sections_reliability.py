"""The reliability page reads the areas' records, not their raw answers (issue 10 item 5)."""

from __future__ import annotations

import html
import json
import re

import numpy as np
import pandas as pd
import pytest

import evalkit as ek
from evalkit.reports.sections import reliability as R

ITEMS = [str(i) for i in range(1, 11)]


def answers(seed: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    latent = rng.normal(0, 1, n)
    x = np.clip(np.round(1 + latent[:, None] + rng.normal(0, 0.9, (n, 10))), 0, 3)
    return pd.DataFrame(x, columns=ITEMS)


def record(aid: str, df: pd.DataFrame | None, *, hide_n: bool = False, **extra) -> dict:
    """An area record as sections.area.record() writes it (items part: items_record)."""
    out = {"area_id": aid, "area_name": f"Area {aid}", "outcome_tool": "epds", "problem": None,
           "reliability": None, "items": None}  # fmt: skip
    if df is not None:
        a = ek.reliability.alpha(df, missing="listwise")
        n = None if hide_n else a.n
        out["reliability"] = {**a.to_dict(), "n": n}

        def safe(c):
            return [None if 1 <= int(v) < 10 else int(v) for v in c]

        out["items"] = {"names": ITEMS, "n": n, "scale_min": 0, "scale_max": 3,
                        "omega_total": 0.9, "means": None if hide_n else df.mean().tolist(),
                        "cov": None if hide_n else df.cov().to_numpy().tolist(),
                        "floor": None if hide_n else safe((df == 0).sum()),
                        "ceiling": None if hide_n else safe((df == 3).sum())}  # fmt: skip
    out.update(extra)
    return out


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rel") / "areas"
    folder.mkdir()
    raw = {"A01": answers(1, 80), "A02": answers(2, 120), "A03": answers(3, 60)}
    recs = [record(k, v) for k, v in raw.items()]
    recs += [record("A04", answers(4, 12), hide_n=True),  # hidden on its own page
             record("A05", None, problem="the records file holds no records"),
             record("A06", answers(6, 50), outcome_tool="wemwbs")]  # fmt: skip
    for r in recs:
        (folder / f"{r['area_id']}.json").write_text(json.dumps(r))
    r = R.analyse({"results": str(folder), "tool": "epds"})
    text = "".join(getattr(R, n)(r).html for n in ("summary", "by_area", "items", "methods"))
    return r, raw, html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<img[^>]*>", " ", text)))


def test_pooled_item_analysis_equals_item_analysis_of_the_pooled_answers(page):
    r, raw, _ = page
    want = ek.reliability.item_analysis(pd.concat(raw.values(), ignore_index=True),
                                        scale_min=0, scale_max=3)  # fmt: skip
    got = r.analysis
    for col in ("mean", "sd", "r_drop", "alpha_if_deleted"):
        np.testing.assert_allclose(got[col], want[col], rtol=1e-10)
    assert (got["n"] == 260).all()


def test_hidden_counts_and_areas_without_reliability(page):
    r, _, text = page
    reg = r.register
    assert reg.hidden("alpha_n.A04") and reg.audit() == []
    assert re.search(r"Area A04\s+c\s+0\.\d\d", text)
    assert "Area A04: too few people to publish, so not pooled." in text
    assert "Area A05: no reliability in its report." in text
    assert "Area A06" not in text  # another questionnaire
    assert reg.value("items.n") == 260
    assert r.pool is not None and len(r.pool.studies) == 3


def test_page_never_reads_raw_records(page, monkeypatch):
    import evalkit.reports.inputs as inputs

    def boom(*a, **k):
        raise AssertionError("raw records read")

    monkeypatch.setattr(inputs, "read_records", boom)
    r, _, _ = page
    R.analyse({"results": r.params["results"], "tool": "epds"})


def test_reliability_params_name_the_records_folder(tmp_path):
    from evalkit.reports.params import AreaJob, reliability_params

    jobs = [AreaJob(source=f"{a}.yaml", area_id=a, params={"outcome_tool": "epds",
                                                           "records": "x.csv"})
            for a in ("A01", "A02")]  # fmt: skip
    p = reliability_params(jobs, tmp_path)
    assert p["results"].endswith("areas") and p["areas"] == ["A01", "A02"]
    assert "records" not in json.dumps(p)


def test_area_record_carries_the_items_sufficient_statistics(tmp_path):
    from evalkit.reports import sections
    from evalkit.simulate import demo_area_records

    df, _ = demo_area_records(1)
    path = tmp_path / "records.csv"
    df.to_csv(path, index=False)
    a = sections.analyse({"area_id": "T01", "area_name": "Test", "records": str(path),
                          "second_tool": "", "synthetic": True})  # fmt: skip
    it = sections.items_record(a)
    complete = a.main.items.dropna()
    assert it["n"] == a.main.alpha.n == len(complete)
    np.testing.assert_allclose(it["means"], complete.mean(), rtol=1e-12)
    np.testing.assert_allclose(it["cov"], complete.cov(), rtol=1e-12)
    floor = (complete == 0).sum()
    assert [v for v in it["floor"] if v is not None] == [int(v) for v in floor if not 1 <= v < 10]
    assert all(v is None or v == 0 or v >= 10 for v in it["floor"] + it["ceiling"])
    assert sections.record(a)["items"] == it


def test_pooled_alpha_plot_of_many_areas_is_compact_and_shows_every_area():
    """Above COMPACT_ROWS areas the forest plot of alpha is compact: the same areas, values."""
    import matplotlib

    matplotlib.use("Agg")
    from evalkit.plots.meta import COMPACT_ROWS
    from evalkit.reliability import pool_alpha

    rng = np.random.default_rng(5)
    for k in (20, 175):
        alphas = np.clip(rng.normal(0.88, 0.02, k), 0.7, 0.97)
        res = pool_alpha(alphas, k=10, n=rng.integers(100, 400, k),
                         labels=[f"Area {i}" for i in range(k)])  # fmt: skip
        fig = res.plot()
        ax = fig.axes[0]
        row = 0.32 if k <= COMPACT_ROWS else 0.2
        assert fig.get_size_inches()[1] == pytest.approx(row * k + 1.6)
        labels = [t.get_text() for t in ax.get_yticklabels()]
        assert labels == [*(f"Area {i}" for i in range(k)), "Pooled"]
        drawn = ax.lines[0].get_xdata()  # the areas' alphas, top to bottom
        assert list(drawn) == pytest.approx(list(res.studies["alpha"]))
        if k > COMPACT_ROWS:  # one row of margin, not 5% of the range
            assert ax.get_ylim() == pytest.approx((-0.5, k + 2.0))
            assert len(fig.legends) == 1 and ax.get_legend() is None
