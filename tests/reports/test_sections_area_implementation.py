"""The area report's implementation section, analysis plan and checklist rows (issue 17), and
the few-cluster interval and multiple imputation in the report (issue 13 item 5).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evalkit.reports import sections as S
from evalkit.reports.sections.analysis import dose_bands, pre_specified
from evalkit.simulate import demo_area_records

ROOT = Path(__file__).resolve().parents[2]
ALL = ("summary", "data_quality", "measurement", "outcomes", "indicators", "maturity_matrix",
       "implementation", "strength_of_evidence", "provenance")  # fmt: skip
PLANNED = 8


def page_of(a) -> tuple[list, str]:
    secs = [getattr(S, name)(a) for name in ALL]
    return secs, "".join(s.html for s in secs)


def text_of(page_html: str) -> str:
    body = re.sub(r"<img[^>]*>", " ", page_html)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


def with_implementation(index: int = 1, *, slope: float = -1.0, seed: int = 7) -> pd.DataFrame:
    """Demo records with sessions attended (service group) and a five-item fidelity checklist.

    The EPDS after the service falls by up to ``-slope`` points per session (less where an
    item is already 0), so the dose-response is known to be negative; fidelity differs by
    setting.
    """
    rng = np.random.default_rng(seed)
    df, _ = demo_area_records(index)
    treated = df["treated"] == 1
    sessions = rng.integers(0, PLANNED + 1, size=len(df)).astype(float)
    df["sessions"] = np.where(treated, sessions, np.nan)
    post = [c for c in df.columns if c.startswith("epds_post_")]
    # a known dose-response: one point less on round(-slope * sessions) of the items
    k = np.round(-slope * df["sessions"].fillna(0))
    for j, c in enumerate(post):
        df[c] = (df[c] - (j < k)).clip(lower=0)
    settings = sorted(df["setting"].unique())
    p_by = {s: 0.6 + 0.1 * i for i, s in enumerate(settings)}
    for k in range(1, 6):
        p = df["setting"].map(p_by).to_numpy()
        df[f"fidelity_{k}"] = np.where(treated, (rng.random(len(df)) < p).astype(float), np.nan)
    return df


@pytest.fixture(scope="module")
def area(tmp_path_factory):
    folder = tmp_path_factory.mktemp("impl")
    df = with_implementation()
    df.to_csv(folder / "records.csv", index=False)
    params = {
        "area_id": "A02", "area_name": "Test area", "records": str(folder / "records.csv"),
        "synthetic": True, "covariates": ["mother_age", "first_baby"],
        "indicators": str(ROOT / "data/demo/indicators.csv"),
        "indicator": "breastfeeding_6_8_weeks", "sessions_column": "sessions",
        "planned_sessions": PLANNED, "fidelity_prefix": "fidelity_",
        "eligible_indicator": "breastfeeding_6_8_weeks",
    }  # fmt: skip
    a = S.analyse(params)
    return a, df, page_of(a)


def test_dose_bands():
    assert [label for _, label in dose_bands(8)] == ["0 to 4", "5 to 7", "8 or more"]
    assert [label for _, label in dose_bands(1)] == ["0", "1 or more"]
    assert [label for _, label in dose_bands(3)] == ["0 to 1", "2", "3 or more"]


def test_implementation_section_numbers(area):
    a, df, (secs, page_html) = area
    im = a.implementation
    service = df[df["treated"] == 1]
    # dose: the share with the planned dose among those with sessions recorded
    assert im.dose.n == service["sessions"].notna().sum()
    assert im.dose.n_planned == (service["sessions"] >= PLANNED).sum()
    bands = [a.register.value(k) for _, k in im.bands]
    hidden = [a.register.hidden(k) for _, k in im.bands]
    expect = [service["sessions"].between(0, 4).sum(), service["sessions"].between(5, 7).sum(),
              (service["sessions"] >= 8).sum()]  # fmt: skip
    assert [b for b, h in zip(bands, hidden) if not h] == [e for e, h in zip(expect, hidden)
                                                            if not h]  # fmt: skip
    # reach: the service group over the area's births in the last 12 months
    ind = pd.read_csv(ROOT / "data/demo/indicators.csv")
    ind = ind[ind.indicator == "breastfeeding_6_8_weeks"]
    last = ind[ind.month > ind.month.max() - 12]
    eligible = int(last[last.area_id == "A02"]["denominator"].sum())
    served = len(service)
    assert im.reach.eligible == eligible and im.reach.served == served
    assert im.reach.estimate == pytest.approx(served / eligible)
    # fidelity: the mean of each row's % adhered
    items = [f"fidelity_{k}" for k in range(1, 6)]
    rows = service[items]
    assert im.fidelity.estimate == pytest.approx((rows.mean(axis=1) * 100).mean())
    assert im.fidelity.n_settings == df["setting"].nunique()
    text = text_of(page_html)
    assert "Implementation: reach, dose and fidelity" in text
    assert "Dose was not randomised" in text
    assert f"{im.reach.estimate:.0%}" in text


def test_dose_response_recovers_the_known_slope(area):
    # the EPDS after falls with sessions (up to 1 point per session by construction)
    a, _, _ = area
    dr = a.implementation.dose_response
    assert -1.0 < dr.estimate < -0.2
    assert dr.ci_high < 0


def test_every_count_declared_and_the_audit_passes(area):
    a, _, (secs, page_html) = area
    assert a.register.audit() == []
    for sec in secs:
        assert set(sec.counts) <= a.register.declared, sec.name
    rec = S.record(a, *secs)
    impl = rec["implementation"]
    assert impl["reach"]["estimate"] == pytest.approx(a.implementation.reach.estimate)
    assert impl["dose_response"]["estimate"] == pytest.approx(
        a.implementation.dose_response.estimate
    )


def test_checklist_notes_low_reach_and_says_plan_status(area):
    a, _, (secs, page_html) = area
    table = a.evidence.table.set_index("check")
    assert table.loc["reach", "status"] == "not met"  # births are far more than served
    assert table.loc["pre_specified", "status"] == "not met"  # no plan in these params
    assert table.loc["pre_specified", "value"] == "no analysis plan"
    text = text_of(page_html)
    assert "Low reach" in text
    assert "No analysis plan was registered for this area." in text
    assert a.evidence.level in (1, 2, 3)  # information rows do not change the level
    assert S.record(a, *secs)["plan"]["registered"] is False


def test_small_service_group_hides_bands(tmp_path):
    df = with_implementation()
    keep = pd.concat([df[df.treated == 1].head(25), df[df.treated == 0].head(40)])
    keep.to_csv(tmp_path / "r.csv", index=False)
    a = S.analyse({"area_id": "T1", "area_name": "T", "records": str(tmp_path / "r.csv"),
                   "sessions_column": "sessions", "planned_sessions": PLANNED,
                   "fidelity_prefix": "fidelity_"})  # fmt: skip
    secs, page_html = page_of(a)
    assert a.register.audit() == []
    assert any(a.register.hidden(k) for _, k in a.implementation.bands)
    # no chart is drawn when a band is hidden; the table shows c
    sec = S.implementation(a)
    assert "Bar chart of people by sessions" not in sec.html
    assert ">c<" in sec.html


def test_missing_sessions_column_says_why(tmp_path):
    df, _ = demo_area_records(1)
    df.to_csv(tmp_path / "r.csv", index=False)
    a = S.analyse({"area_id": "T1", "area_name": "T", "records": str(tmp_path / "r.csv"),
                   "sessions_column": "visits", "planned_sessions": 6})  # fmt: skip
    sec = S.implementation(a)
    assert "Could not be estimated" in sec.html and "visits" in sec.html
    assert a.register.audit() == []


def test_section_left_out_by_default():
    import yaml

    p = yaml.safe_load((ROOT / "data/demo/params/A05.yaml").read_text())
    p.update(indicators="", matrix="", sessions_column="", planned_sessions=0,
             fidelity_prefix="", eligible_indicator="")  # fmt: skip
    a = S.analyse(p)
    assert a.implementation is None
    assert S.implementation(a).html == ""
    assert "pre_specified" in set(a.evidence.table["check"])  # the plan row is always there
    assert "reach" not in set(a.evidence.table["check"])


# -- analysis plan ---------------------------------------------------------------------------


class _Status:
    def __init__(self, plan, locked, deviations=(), problems=()):
        self.plan, self.locked = plan, locked
        self.deviations, self.problems = list(deviations), list(problems)


class _Dev:
    def __init__(self, reason):
        self.reason = reason


@pytest.mark.parametrize(
    ("status", "word"),
    [
        (None, "none"),
        (_Status(None, None), "none"),
        (_Status("p.yaml", None), "unlocked"),
        (_Status("p.yaml", object()), "followed"),
        (_Status("p.yaml", object(), [_Dev("why")]), "explained"),
        (_Status("p.yaml", object(), [_Dev(None)]), "unexplained"),
        (_Status("p.yaml", object(), problems=["x was changed after it was locked on"]),
         "changed"),
    ],
)  # fmt: skip
def test_pre_specified_words(status, word):
    assert pre_specified(status) == word


def test_locked_plan_with_a_deviation_is_shown_with_its_reason(tmp_path):
    import yaml

    from evalkit import plan

    df, _ = demo_area_records(1)
    df.to_csv(tmp_path / "r.csv", index=False)
    base = {"area_id": "T1", "area_name": "T", "records": str(tmp_path / "r.csv"),
            "covariates": ["mother_age"]}  # fmt: skip
    agreed = {"questions": ["Does the hub help?"], "primary_outcome": "EPDS total",
              "secondary_outcomes": ["none"], "subgroups": ["none"],
              "decision_rule": "Continue if the EPDS falls by 1.5 points or more.",
              "data_sources": ["health visiting records"],
              "planned_dates": {"data_collection_end": "2026-03-31", "analysis": "2026-05-01",
                                "report": "2026-06-30"}}  # fmt: skip
    path = plan.write_plan(plan.new_plan(S.area_parameters(base), **agreed),
                           tmp_path / "T1-plan.yaml")  # fmt: skip
    plan.lock(path, by="Analyst")
    followed = S.analyse({**base, "plan": str(path)})
    text = text_of(page_of(followed)[1])
    assert "Analysis plan locked on" in text and "; followed." in text
    assert followed.evidence.table.set_index("check").loc["pre_specified", "status"] == "met"
    changed = {**base, "plan": str(path), "covariates": ["mother_age", "first_baby"],
               "deviations": {"covariates": "first baby added after the steering group"}}  # fmt: skip
    a = S.analyse(changed)
    secs, page_html = page_of(a)
    text = text_of(page_html)
    assert "1 deviation" in text and "first baby added after the steering group" in text
    row = a.evidence.table.set_index("check").loc["pre_specified"]
    assert row["status"] == "met" and "every deviation" in row["value"]
    rec = S.record(a, *secs)
    assert rec["plan"]["locked"] and rec["plan"]["deviations"] == ["covariates"]
    assert yaml.safe_load(path.read_text())["area_id"] == "T1"


# -- issue 13 item 5: the few-cluster interval and multiple imputation ------------------------


@pytest.fixture(scope="module")
def a01():
    import yaml

    p = yaml.safe_load((ROOT / "data/demo/params/A01.yaml").read_text())
    p.update(records=str(ROOT / p["records"]), indicators="", matrix="")
    a = S.analyse(p)
    return a, page_of(a)


def test_few_settings_use_the_wild_bootstrap_and_say_why(a01):
    a, (secs, page_html) = a01
    assert a.effect.se_method == "wild" and a.effect.n_clusters == 4
    text = text_of(page_html)
    assert "With only 4 settings" in text and "wild cluster bootstrap" in text
    rec = S.record(a, *secs)
    assert rec["effect"]["se_method"] == "wild"
    assert (rec["effect"]["ci_low"], rec["effect"]["ci_high"]) == (a.effect.ci_low,
                                                                     a.effect.ci_high)  # fmt: skip


def test_mi_estimate_beside_complete_cases_when_over_a_fifth_missing(a01):
    a, (secs, page_html) = a01
    assert a.imputed is not None and a.imputed.missing_share > 0.20
    assert a.imputed.m == 20
    text = text_of(page_html)
    assert "Allowing for missed follow-ups" in text
    assert "If the two differ" in text
    # with 4 settings the imputed interval is very wide, and the page says so
    assert a.imputed.ci_high - a.imputed.ci_low > 2 * (a.effect.ci_high - a.effect.ci_low)
    assert "much wider" in text
    assert f"{a.imputed.ci_low:.2f}" in page_html and f"{a.imputed.ci_high:.2f}" in page_html
    rec = S.record(a, *secs)
    assert rec["effect_mi"]["m"] == 20 and rec["effect_mi"]["se_method"] == "CR2"


def test_no_mi_when_few_follow_ups_missing():
    import yaml

    p = yaml.safe_load((ROOT / "data/demo/params/A02.yaml").read_text())  # 10% drop-out
    p.update(records=str(ROOT / p["records"]), indicators="", matrix="")
    a = S.analyse(p)
    assert a.imputed is None
    assert a.effect.df_method.startswith("Satterthwaite")
    assert a.effect.record(1)["se_method"] == "REML, Satterthwaite (lmerTest) df"
    assert "Satterthwaite" in text_of(S.outcomes(a).html)


def test_validate_checks_the_implementation_keys(tmp_path, monkeypatch):
    from evalkit.errors import ParameterError
    from evalkit.reports.params import load_jobs

    from .conftest import write_area

    monkeypatch.chdir(tmp_path)
    path = write_area(tmp_path, "X01", "Area", 0, sessions_column="visits",
                      fidelity_prefix="checklist_", eligible_indicator="births")  # fmt: skip
    with pytest.raises(ParameterError) as err:
        load_jobs([path])
    text = "\n".join(err.value.problems)
    assert "key 'sessions_column': no column 'visits'" in text
    assert "key 'planned_sessions': is 0" in text
    assert "key 'fidelity_prefix': no column" in text
    assert "key 'eligible_indicator': needs the indicators file" in text


def test_demo_a01_implementation_matches_the_truth(a01_full):
    # data/demo/truth.csv: A01's known dose-response, EPDS points per session given the
    # baseline (epds_dose_slope -0.406), and the fidelity the generator aimed at (68.8%)
    a, secs = a01_full
    truth = pd.read_csv(ROOT / "data/demo/truth.csv").set_index("area_id").loc["A01"]
    dr = a.implementation.dose_response
    assert dr.ci_low < truth["epds_dose_slope"] < dr.ci_high
    f = a.implementation.fidelity
    assert f.ci_low < truth["fidelity_pct"] < f.ci_high
    assert a.implementation.dose.planned == truth["planned_sessions"] == 8
    assert a.register.audit() == []
    rec = S.record(a, *secs)
    assert rec["implementation"]["dose_response"]["estimate"] == pytest.approx(dr.estimate)


def test_demo_a01_matrix_cycle(a01_full):
    a, secs = a01_full
    text = text_of("".join(s.html for s in secs))
    assert "Change since the baseline" in text
    assert "Partners disagree most on" in text
    assert "Priority actions agreed at the latest assessment (March 2025)" in text
    assert set(a.actions["status"]) <= {"planned", "in progress", "done", "dropped"}


@pytest.fixture(scope="module")
def a01_full():
    import yaml

    p = yaml.safe_load((ROOT / "data/demo/params/A01.yaml").read_text())
    for k in ("records", "indicators", "matrix"):
        p[k] = str(ROOT / p[k])
    a = S.analyse(p)
    return a, page_of(a)[0]
