"""The synthesis page's sections (issue 10 items 2, 4; issue 13 item 5; issue 16 item 1)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from evalkit.reports.sections import synthesis as S

SECTIONS = ("summary", "effects", "small_studies", "moderators", "measurement", "indicators",
            "maturity_matrix", "methods")  # fmt: skip


def rec(aid: str, est: float, lo: float, hi: float, **extra) -> dict:
    out = {
        "area_id": aid, "area_name": f"Area {aid}", "synthetic": True, "design": "comparison",
        "outcome_tool": "epds", "higher_is_better": False, "n_records": 300, "n_treated": 120,
        "n_comparison": 130, "dropout_pct": 20.0,
        "effect": {"estimate": est, "se": (hi - lo) / 3.92, "df": None, "level": 0.95,
                   "method": "ANCOVA", "ci_low": lo, "ci_high": hi},
        "reliability": {"estimate": 0.88, "ci_low": 0.85, "ci_high": 0.9, "n": 250},
        "matrix": {"Plan": 2.0, "Lead": 2.5}, "problem": None, "suppressed": [],
    }  # fmt: skip
    out.update(extra)
    return out


def records() -> list[dict]:
    t = stats.t.ppf(0.975, 3)  # a t interval with G - 1 = 3 df, as an area with 4 settings
    return [
        rec("A01", -1.65, -1.65 - t * 0.2, -1.65 + t * 0.2,
            matrix={"Plan": 1.5, "Lead": 2.0}),  # fmt: skip
        rec("A02", -0.9, -2.1, 0.3, design="multilevel", matrix={"Plan": 3.0, "Lead": 3.0}),
        rec("A03", -0.4, -1.5, 0.7, matrix={"Plan": 2.5, "Lead": 2.5},
            effect={"estimate": -0.4, "se": 0.3, "df": 3.0, "level": 0.95, "method": "ANCOVA",
                    "ci_low": -1.5, "ci_high": 0.7, "se_method": "CR2 with Satterthwaite df"}),
        # hidden counts and no reliability: shown as c, not an error
        rec("A04", -1.2, -2.4, 0.0, n_treated=None, n_comparison=None, reliability=None,
            dropout_pct=None),
        # could not be estimated: listed, not pooled
        rec("A05", 0.0, 0.0, 0.0, problem="the records file holds no records", effect=None,
            reliability=None, n_treated=None, n_comparison=None, matrix=None),
        rec("A06", -1.5, -2.9, -0.1, design="prepost"),
    ]  # fmt: skip


def write(folder: Path, recs: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for r in recs:
        (folder / f"{r['area_id']}.json").write_text(json.dumps(r))
    return folder


def text_of(page_html: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<img[^>]*>", " ", page_html)))


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    folder = write(tmp_path_factory.mktemp("areas") / "areas", records())
    s = S.analyse({"results": str(folder), "moderators": ["maturity", "design"],
                   "synthetic": True})  # fmt: skip
    secs = {n: getattr(S, n)(s) for n in SECTIONS}
    return s, secs, text_of("".join(x.html for x in secs.values()))


def test_se_from_interval_is_the_cochrane_recovery():
    # Cochrane Handbook 6.5.2.2: for a 95% CI, SE = (upper limit - lower limit) / 3.92
    assert S.se_from_interval(-2.30, -0.99) == pytest.approx((-0.99 + 2.30) / 3.92, rel=1e-4)
    # 90% interval: divide by 2 x 1.645
    assert S.se_from_interval(0, 3.29, 0.90) == pytest.approx(1.0, rel=1e-3)


def test_each_area_is_pooled_and_shown_with_its_own_interval(synth):
    s, secs, text = synth
    want = {r["area_id"]: r["effect"] for r in records()}
    p = s.pooled.set_index("area_id")
    assert list(p.index) == ["A01", "A02", "A03", "A04"]
    studies = s.meta.studies()
    for aid, row in p.iterrows():
        lo, hi = want[aid]["ci_low"], want[aid]["ci_high"]
        assert (row["ci_low"], row["ci_high"]) == (lo, hi)
        # the pooling's normal interval from se_pool is the area's own (t) interval
        st = studies.loc[row["Area"]]
        assert st["ci_low"] == pytest.approx(lo, abs=1e-9)
        assert st["ci_high"] == pytest.approx(hi, abs=1e-9)
        assert f"{lo:.2f}" in text and f"{hi:.2f}" in text
    # A01's t interval (3 df), not the narrower normal one from the same SE
    t = stats.t.ppf(0.975, 3)
    row = re.search(r"Area A01\s+comparison\s+120\s+130\s+-1.65\s+(\S+)\s+(\S+)", text)
    assert row and row.groups() == (f"{-1.65 - t * 0.2:.2f}", f"{-1.65 + t * 0.2:.2f}")
    assert f"{-1.65 - 1.96 * 0.2:.2f}" not in row.groups()


def test_hidden_counts_problem_areas_and_missing_reliability(synth):
    s, secs, text = synth
    reg = s.register
    assert reg.hidden("n_treated.A04") and reg.hidden("n_comparison.A04")
    assert reg.audit() == [] and s.areas_register.audit() == []
    assert "Area A05: not estimated: the records file holds no records." in text
    assert "Area A06: before and after only" in text
    row = re.search(r"Area A04\s+comparison\s+(\S+)\s+(\S+)", text)
    assert row and row.groups() == ("c", "c")
    assert "Area A04" not in secs["measurement"].html  # no reliability: not listed
    assert "6 area reports" in text and "Across the 4 areas" in text


def test_every_count_shown_is_declared(synth):
    s, secs, _ = synth
    for sec in secs.values():
        for key in sec.counts:
            assert key in s.register.declared or key in s.areas_register.declared


def test_small_study_checks_speak_plainly(synth):
    s, secs, text = synth
    assert s.egger is not None
    assert "Egger's test:" in text and "funnel" in text.lower()
    assert "With only 4 areas, this check can easily miss a real problem" in text
    assert "10 or more" in text
    assert "Funnel plot" in secs["small_studies"].html  # alt text of the figure
    assert not re.search(r"\.\w+\(|\(see \.", text)  # no API hints for readers


def test_heterogeneity_intervals_beside_tau2_and_i2(synth):
    s, _, text = synth
    assert s.meta.tau2_ci is not None
    assert re.search(r"Between-area variance \(tau²\)\s+\S+\s+\S+\s+\S+", text)


def test_moderators_section_and_methods_name_se_method(synth):
    s, secs, text = synth
    assert set(s.regressions) == {"maturity", "design"}
    assert "Meta-regression on maturity" in text
    assert "Area A03: CR2 with Satterthwaite df" in secs["methods"].html


def test_no_moderators_named_no_section(tmp_path):
    folder = write(tmp_path / "areas", records()[:3])
    s = S.analyse({"results": str(folder)})
    assert S.moderators(s).blocks == ()
    assert S.effects(s).html


def test_moderator_table_reads_record_keys_and_maturity():
    t = S.moderator_table(records(), ["maturity", "design", "evidence_level"])
    assert t.loc["A01", "maturity"] == 1.75 and t.loc["A02", "design"] == "multilevel"
    assert np.isnan(t.loc["A05", "maturity"]) and t["evidence_level"].isna().all()


def test_fewer_than_two_pooled_areas(tmp_path):
    folder = write(tmp_path / "areas", [records()[0], records()[4]])
    s = S.analyse({"results": str(folder), "moderators": ["maturity"]})
    assert s.meta is None
    assert "at least two are needed" in text_of(S.effects(s).html)
    assert S.small_studies(s).blocks == ()


def test_moderator_from_a_table_of_area_features(tmp_path):
    import pandas as pd

    folder = write(tmp_path / "areas", records())
    table = tmp_path / "areas.csv"
    pd.DataFrame({"area_id": ["A01", "A02", "A03", "A04", "A05", "A06"],
                  "deprivation": [1.0, 3.0, 2.0, 4.0, 5.0, 1.0]}).to_csv(table, index=False)  # fmt: skip
    s = S.analyse({"results": str(folder), "moderators": ["deprivation"],
                   "areas_table": str(table)})  # fmt: skip
    assert list(s.regressions) == ["deprivation"]
    assert "Meta-regression on deprivation" in text_of(S.moderators(s).html)


def test_forest_plot_draws_the_reports_interval_and_funnel_plot_the_studies(synth):
    import matplotlib

    matplotlib.use("Agg")
    from evalkit.plots.meta import forest_plot, funnel_plot

    s, _, _ = synth
    wide = s.pooled[["ci_low", "ci_high"]].assign(ci_low=lambda d: d["ci_low"] - 1)
    fig = forest_plot(s.meta, intervals=wide)
    segs = fig.axes[0].collections[0].get_segments()  # one line per study, top to bottom
    assert [seg[0][0] for seg in segs] == pytest.approx(list(wide["ci_low"]))
    fig = funnel_plot(s.meta)
    pts = [c for c in fig.axes[0].collections if c.get_label() == "studies"][0].get_offsets()
    assert np.asarray(pts)[:, 0] == pytest.approx(list(s.meta.yi))


def test_plan_status_and_level_distribution_across_areas(tmp_path):
    """Issue 17: the synthesis says which areas deviated, and shows levels per element."""
    import json

    from evalkit.reports.sections import synthesis as syn

    base = {"area_name": "A", "outcome_tool": "epds", "design": "comparison"}
    plans = [
        {"registered": True, "locked": True, "locked_on": "2026-01-15", "followed": True,
         "deviations": []},
        {"registered": True, "locked": True, "locked_on": "2026-02-01", "followed": False,
         "deviations": ["design"]},
        None,
    ]  # fmt: skip
    for i, plan in enumerate(plans):
        rec = {**base, "area_id": f"X{i}", "area_name": f"Area {i}", "plan": plan}
        (tmp_path / f"X{i}.json").write_text(json.dumps(rec))
    s = syn.SynthesisAnalysis(
        params={}, register=None, areas_register=None, found=None,
        records=[json.loads(p.read_text()) for p in sorted(tmp_path.glob("*.json"))],
    )  # fmt: skip
    lines = syn.plan_status(s)
    assert lines == [
        "Area 0: followed its plan locked on 2026-01-15.",
        "Area 1: deviated from its plan locked on 2026-02-01 (design; the reasons are in its "
        "report).",
    ]


def test_maturity_section_shows_levels_per_element_across_areas():
    from pathlib import Path

    from evalkit.reports.sections import synthesis as syn

    matrix = Path(__file__).resolve().parents[2] / "data" / "demo" / "matrix.csv"
    s = syn.SynthesisAnalysis(
        params={"matrix": str(matrix)}, register=None, areas_register=None, found=None, records=[]
    )
    html = "".join(b.html for b in syn.maturity_matrix(s).blocks)
    assert "Levels of each element across areas" in html
    assert "the most mature element is" in html and "Counts of areas" in html


def test_records_of_a_national_run_keep_their_order(tmp_path):
    """Ids with more digits (A100) sort after A99, not between A10 and A11."""
    ids = [f"A{i:02d}" for i in (1, 9, 10, 11, 99, 100, 101, 175)]
    folder = write(tmp_path / "areas", [rec(a, -1.0, -2.0, 0.0) for a in reversed(ids)])
    assert [r["area_id"] for r in S.read_records(folder)] == ids


def test_forest_plot_of_many_areas_is_compact_and_shows_every_area():
    """Above COMPACT_ROWS studies: rows closer, the same studies, intervals and labels."""
    import matplotlib

    matplotlib.use("Agg")
    from evalkit.designs import meta_analysis
    from evalkit.plots.meta import COMPACT_ROWS, forest_plot

    rng = np.random.default_rng(3)
    for k in (COMPACT_ROWS, COMPACT_ROWS + 1, 175):
        y, se = rng.normal(-1, 0.5, k), rng.uniform(0.2, 0.6, k)
        m = meta_analysis(y, se=se, labels=[f"Area {i}" for i in range(k)])
        fig = forest_plot(m)
        ax = fig.axes[0]
        row = 0.32 if k <= COMPACT_ROWS else 0.2
        assert fig.get_size_inches()[1] == pytest.approx(1.2 + row * (k + 3))
        assert [t.get_text() for t in ax.get_yticklabels()] == [
            *(f"Area {i}" for i in range(k)),
            "Pooled",
        ]
        segs = ax.collections[0].get_segments()  # one line per study, top to bottom
        assert [seg[0][0] for seg in segs] == pytest.approx(list(m.studies()["ci_low"]))
        # the legend is drawn once, below the plot when compact (in axes units it would
        # drift far below a tall plot)
        legends = fig.legends + [lg for lg in [ax.get_legend()] if lg is not None]
        assert len(legends) == 1
        assert bool(fig.legends) == (k > COMPACT_ROWS)
