"""Write the synthetic demo to disk: data files and one parameter file per area.

The committed demo has 20 areas (``data/demo``). ``evalkit demo --areas N`` makes
any number (a national run has about 175): areas after the 20th are further
fictional areas from the same generator (names like "Birchmere North").
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..simulate import (
    DEMO_AREA_NAMES,
    SYNTHETIC_NOTICE,
    demo,
    demo_area_records,
    demo_areas,
    demo_indicators,
    demo_matrix,
)
from ..simulate_needs import write_needs
from .paths import demo_exists

__all__ = ["write_demo", "demo_exists", "demo_data"]

_README = """# Synthetic demo data

{notice}

- `areas.csv`: the {n} fictional areas.
- `records/<area_id>.csv`: person-level records (one row per parent): ID, setting, service
  (`treated` = 1) or comparison (0), covariates, and item answers before and after to an
  EPDS-like 10-item 0-3 scale (`epds_pre_1..10`, `epds_post_1..10`; item scores, higher =
  more symptoms) and a WEMWBS-like 14-item 1-5 scale (`wemwbs_pre_*`, `wemwbs_post_*`).
  Last, for the service group only: `sessions` (sessions attended; 8 planned) and a fidelity
  checklist `fidelity_1..5` (1 = delivered as designed).
- `indicators.csv`: 48 months of indicator counts per area with the intervention start
  (the births, `denominator`, are the eligible population).
- `matrix.csv`: maturity-matrix self-assessments by 3-6 partners per area at two dates, with
  evidence, barriers and priority actions (`action, owner, due_date, status`).
- `truth.csv`: the true effects used to generate the data (`epds_dose_slope`: the known
  dose-response, EPDS points per session given the baseline score).
- `needs.csv`, `needs_indicators.csv`: population indicators by area (and a national total
  `NAT`), year, deprivation decile and age band, with their definitions, for the
  needs-assessment pages (`evalkit.simulate_needs`).
- `params/<area_id>.yaml`: the parameters of each area's report.

Regenerate with `evalkit demo --regenerate`.
"""


#: how areas after the 20th are named: a tree name and a quarter
_QUARTERS = ["North", "South", "East", "West", "Upper", "Lower", "Greater", "Little", "Old"]


def _area_names(n_areas: int) -> list[str]:
    names = list(DEMO_AREA_NAMES[:n_areas])
    for i in range(len(names), n_areas):
        base = DEMO_AREA_NAMES[i % len(DEMO_AREA_NAMES)]
        k = i // len(DEMO_AREA_NAMES) - 1
        quarter = _QUARTERS[k % len(_QUARTERS)]
        names.append(f"{base} {quarter}" + (f" {k // len(_QUARTERS) + 1}" if k >= 9 else ""))
    return names


def demo_data(n_areas: int = 20, *, seed: int = 2026) -> dict[str, object]:
    """The synthetic demo in memory, for any number of areas (see :func:`evalkit.simulate.demo`).

    Examples
    --------
    >>> d = demo_data(22)
    >>> list(d["areas"]["area_name"][19:])
    ['Thornbeam', 'Alderbrook Vale North', 'Birchmere North']
    """
    if n_areas <= len(DEMO_AREA_NAMES):
        return demo(n_areas=n_areas, seed=seed)
    base = demo_areas(n_areas=len(DEMO_AREA_NAMES), seed=seed)
    areas = pd.DataFrame(
        {
            "area_id": [f"A{a + 1:02d}" for a in range(n_areas)],
            "area_name": _area_names(n_areas),
            "region": [base["region"].iloc[a % len(base)] for a in range(n_areas)],
        }
    )
    made = [demo_area_records(a, seed=seed) for a in range(n_areas)]
    records = {truth["area_id"]: df for df, truth in made}
    truths = [truth for _, truth in made]
    indicators, indicator_truth = demo_indicators(n_areas=n_areas, seed=seed)
    values = ["start_month", "level_change_logodds"]
    wide = indicator_truth.pivot(index="area_id", columns="indicator", values=values)
    wide.columns = [f"{ind}_{what}" for what, ind in wide.columns]
    truth = pd.DataFrame(truths).merge(wide.reset_index(), on="area_id")
    return {
        "areas": areas,
        "records": records,
        "indicators": indicators,
        "matrix": demo_matrix(n_areas=n_areas, seed=seed),
        "truth": truth,
    }


def _yaml_text(params: dict[str, object]) -> str:
    # Written by hand (not yaml.dump) to keep the order and comments a newcomer reads.
    lines = [
        "# Parameters of one area's report (keys are the template's parameters).",
        "# Paths are relative to the folder you run evalkit from.",
    ]
    for key, value in params.items():
        lines.append(f"{key}: {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def write_demo(data_dir: str | Path = "data/demo", *, n_areas: int = 20, seed: int = 2026) -> Path:
    """Generate the demo and write it under ``data_dir``; return the parameters folder.

    Paths written into the parameter files are ``data_dir``-relative to the folder
    evalkit runs from, so run evalkit from the same folder afterwards.
    """
    d = Path(data_dir)
    data = demo_data(n_areas, seed=seed)
    (d / "records").mkdir(parents=True, exist_ok=True)
    (d / "params").mkdir(parents=True, exist_ok=True)
    for old in (d / "params").glob("A*.yaml"):  # a previous demo of another size
        old.unlink()
    data["areas"].to_csv(d / "areas.csv", index=False)
    for area_id, df in data["records"].items():
        df.to_csv(d / "records" / f"{area_id}.csv", index=False)
    data["indicators"].to_csv(d / "indicators.csv", index=False)
    data["matrix"].to_csv(d / "matrix.csv", index=False)
    data["truth"].to_csv(d / "truth.csv", index=False, float_format="%.6f")
    write_needs(d, n_areas=n_areas, seed=seed)  # the needs-assessment pages' data
    (d / "README.md").write_text(
        _README.format(notice=SYNTHETIC_NOTICE, n=n_areas), encoding="utf-8"
    )
    designs = ["comparison", "multilevel", "propensity", "comparison", "prepost"]
    starts = data["truth"].set_index("area_id")["breastfeeding_6_8_weeks_start_month"]
    for i, row in enumerate(data["areas"].itertuples()):
        params = {
            "area_id": row.area_id,
            "area_name": row.area_name,
            "records": (d / "records" / f"{row.area_id}.csv").as_posix(),
            "id_column": "id",
            "treatment_column": "treated",
            "setting_column": "setting",
            "outcome_tool": "epds",
            "outcome_pre_prefix": "epds_pre_",
            "outcome_post_prefix": "epds_post_",
            "second_tool": "wemwbs",
            "second_pre_prefix": "wemwbs_pre_",
            "second_post_prefix": "wemwbs_post_",
            "design": designs[i % len(designs)],
            "covariates": ["mother_age", "first_baby", "imd_quintile"],
            "hoped_effect": 0.3,
            "follow_up_weeks": 26,
            "indicators": (d / "indicators.csv").as_posix(),
            "indicator": "breastfeeding_6_8_weeks",
            "indicator_label": "babies breastfed at 6 to 8 weeks",
            "intervention_month": int(starts[row.area_id]),
            "matrix": (d / "matrix.csv").as_posix(),
            "suppression_threshold": 10,
            "data_source": f"Synthetic demo data for {row.area_name}, a fictional area in "
            f"{row.region} (evalkit.simulate, seed {seed}).",
            "synthetic": True,
            "sessions_column": "sessions",
            "planned_sessions": 8,
            "fidelity_prefix": "fidelity_",
            "eligible_indicator": "breastfeeding_6_8_weeks",
            "needs_data": (d / "needs.csv").as_posix(),
            "needs_indicators": (d / "needs_indicators.csv").as_posix(),
            "needs_benchmark": "NAT",
        }
        (d / "params" / f"{row.area_id}.yaml").write_text(_yaml_text(params), encoding="utf-8")
    return d / "params"
