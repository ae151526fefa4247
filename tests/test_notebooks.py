"""The worked notebooks in notebooks/ run end to end, and every stored notebook is clean.

Each notebook is executed with papermill (as a partner would with
``papermill notebook.ipynb out.ipynb -p name value``) from the notebooks folder, with small
parameters so the three together take well under a minute. The numbers each notebook displays
in its ``key-results`` cell are then checked for sense: against the simulator's true effects,
against each other (two implementations of the same ICC, two transforms of alpha) and for
internal consistency (an estimate inside its interval).
"""

from __future__ import annotations

import math
from pathlib import Path

import nbformat
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
TEMPLATES = ROOT / "templates"
DEMO = ROOT / "data" / "demo"

# Small parameters for speed; A06 is the smallest demo area (the hardest case for the designs).
RUNS = {
    "01_tool_reliability_across_areas": {"n_boot": 100, "seed": 3},
    "02_comparison_group_evaluation": {"area_id": "A06"},
    "03_cross_area_synthesis": {"its_area": "A02"},
}


def _stored_notebooks() -> list[Path]:
    return sorted(NOTEBOOKS.glob("*.ipynb")) + sorted(TEMPLATES.glob("*.ipynb"))


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """Run each notebook once per test session; returns name -> executed notebook."""
    papermill = pytest.importorskip("papermill")
    cache: dict[str, nbformat.NotebookNode] = {}

    def run(name: str) -> nbformat.NotebookNode:
        if name not in cache:
            out = tmp_path_factory.mktemp("notebooks") / f"{name}.ipynb"
            papermill.execute_notebook(
                str(NOTEBOOKS / f"{name}.ipynb"),
                str(out),
                parameters=RUNS[name],
                kernel_name="python3",
                cwd=str(NOTEBOOKS),
                progress_bar=False,
            )
            cache[name] = nbformat.read(out, as_version=4)
        return cache[name]

    return run


def _key_results(nb: nbformat.NotebookNode) -> dict:
    cells = [c for c in nb.cells if "key-results" in c.metadata.get("tags", [])]
    assert len(cells) == 1, "exactly one cell must be tagged key-results"
    data = [o["data"] for o in cells[0].outputs if "application/json" in o.get("data", {})]
    assert data, "the key-results cell displayed no JSON"
    return data[0]["application/json"]


def _outputs(nb: nbformat.NotebookNode) -> list:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]


def _n_images(nb: nbformat.NotebookNode) -> int:
    return sum("image/png" in o.get("data", {}) for o in _outputs(nb))


@pytest.mark.parametrize("name", sorted(RUNS))
def test_notebook_runs_without_errors(executed, name):
    nb = executed(name)
    errors = [o for o in _outputs(nb) if o.output_type == "error"]
    assert not errors, errors
    # papermill injected our parameters after the tagged cell
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1
    for key in RUNS[name]:
        assert key in injected[0].source


def test_reliability_notebook(executed):
    nb = executed("01_tool_reliability_across_areas")
    r = _key_results(nb)
    assert r["n_areas"] == 20
    assert 0.5 < r["alpha_min"] <= r["alpha_max"] < 1
    # a pooled value lies inside the range of what it pools, and inside its own interval
    assert r["alpha_min"] <= r["pooled_alpha"] <= r["alpha_max"]
    assert r["pooled_alpha_ci"][0] < r["pooled_alpha"] < r["pooled_alpha_ci"][1]
    # Bonett and Hakstian-Whalen transforms agree closely with samples of this size
    assert abs(r["pooled_alpha"] - r["pooled_alpha_hw"]) < 0.005
    assert r["published_standardised_alpha"] == 0.87  # Cox, Holden & Sagovsky (1987)
    # ek.matrix.agreement and ek.reliability.icc are separate implementations of ICC(A,1)
    assert math.isclose(r["matrix_icc_a1"], r["matrix_icc_a1_reliability_module"], abs_tol=1e-9)
    assert _n_images(nb) >= 2  # forest-style plot of alpha by area, meta-analysis forest plot


def test_comparison_group_notebook(executed):
    nb = executed("02_comparison_group_evaluation")
    r = _key_results(nb)
    truth = pd.read_csv(DEMO / "truth.csv").set_index("area_id").loc["A06"]
    assert r["area_id"] == "A06"
    assert math.isclose(r["true_effect_sd"], truth["epds_effect_sd"], abs_tol=1e-5)
    assert r["n_analysed"] <= truth["n"]
    assert r["ancova_ci"][0] < r["ancova_difference"] < r["ancova_ci"][1]
    # the three adjusted designs estimate the same effect from the same families
    assert abs(r["multilevel_difference"] - r["ancova_difference"]) < 1.0
    assert abs(r["propensity_att"] - r["ancova_difference"]) < 2.0
    # sampling error for ~100 families is about 0.2 SD; 0.6 SD away would be a real error
    assert abs(r["ancova_g"] - r["true_effect_sd"]) < 0.6
    assert r["max_abs_smd_after_matching"] < 0.25
    assert 0 < r["mdes"] < 2
    # ANCOVA, love plot, pre-post, MDES curve, estimates v. truth
    assert _n_images(nb) >= 5


def test_synthesis_notebook(executed):
    nb = executed("03_cross_area_synthesis")
    r = _key_results(nb)
    assert r["n_areas"] == 20
    lo, hi = r["pooled_g_ci"]
    assert lo < r["pooled_g"] < hi
    assert r["prediction_interval"][0] <= lo and hi <= r["prediction_interval"][1]
    assert r["tau2"] >= 0 and 0 <= r["i2"] < 100
    # the simulator's mean true effect is -0.35 latent SD; the pooled estimate should be close
    assert abs(r["pooled_g"] - r["mean_true_latent_effect"]) < 0.15
    assert r["areas_covering_truth"] >= 15  # about 19 of 20 expected at 95%
    loo_lo, loo_hi = r["leave_one_out_range"]
    assert loo_lo <= r["pooled_g"] <= loo_hi
    assert r["funnel_areas"] == 20
    assert r["its_level_change_or"] > 0 and r["its_true_level_change_or"] > 0
    # meta-analysis forest plot, estimates v. truth, funnel plot, ITS plot
    assert _n_images(nb) >= 4


@pytest.mark.parametrize("path", _stored_notebooks(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_stored_notebook_is_clean(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    first = nb.cells[0]
    assert first.cell_type == "code" and "parameters" in first.metadata.get("tags", []), (
        f"{path.name}: the first cell must be a code cell tagged 'parameters'"
    )
    dirty = [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and (c.outputs or c.execution_count is not None)
    ]
    assert not dirty, f"{path.name}: cells {dirty} store outputs; clear them before committing"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


def test_every_notebook_is_executed_by_this_file():
    assert {p.stem for p in NOTEBOOKS.glob("*.ipynb")} == set(RUNS)
