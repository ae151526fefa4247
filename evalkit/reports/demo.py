"""Write the synthetic 20-area demo to disk: data files and one parameter file per area."""

from __future__ import annotations

import json
from pathlib import Path

from ..simulate import SYNTHETIC_NOTICE, demo
from ..simulate_needs import write_needs

__all__ = ["write_demo", "demo_exists"]

_README = """# Synthetic demo data

{notice}

- `areas.csv`: the 20 fictional areas.
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


def demo_exists(data_dir: str | Path) -> bool:
    """True when the demo's data and parameter files are all there."""
    d = Path(data_dir)
    return (
        (d / "areas.csv").exists()
        and (d / "params").is_dir()
        and any((d / "params").glob("*.yaml"))
    )


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
    data = demo(n_areas=n_areas, seed=seed)
    (d / "records").mkdir(parents=True, exist_ok=True)
    (d / "params").mkdir(parents=True, exist_ok=True)
    data["areas"].to_csv(d / "areas.csv", index=False)
    for area_id, df in data["records"].items():
        df.to_csv(d / "records" / f"{area_id}.csv", index=False)
    data["indicators"].to_csv(d / "indicators.csv", index=False)
    data["matrix"].to_csv(d / "matrix.csv", index=False)
    data["truth"].to_csv(d / "truth.csv", index=False, float_format="%.6f")
    write_needs(d, n_areas=n_areas, seed=seed)  # the needs-assessment pages' data
    (d / "README.md").write_text(_README.format(notice=SYNTHETIC_NOTICE), encoding="utf-8")
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
