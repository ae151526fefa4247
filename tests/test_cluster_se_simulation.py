"""Coverage of the few-cluster options (slow): se = HC3, CR1, CR2, wild with 4, 8, 16, 40 clusters.

A cluster-randomised design (half the clusters treated, 15 people each, ICC 0.1, baseline
covariate) with a true effect of 0.3. Known results the simulation reproduces: CR1 with
G − 1 df and HC3 (which ignores clustering) under-cover with few clusters; CR2 with
Satterthwaite df and the restricted wild cluster bootstrap stay near or above the nominal
95% (Pustejovsky & Tipton 2018; MacKinnon & Webb 2018; Cameron & Miller 2015).
"""

from __future__ import annotations

import numpy as np
import pytest

from evalkit.designs.clustered import cluster_inference

pytestmark = pytest.mark.slow

EFFECT = 0.3
REPS = 200


def _draw(rng: np.random.Generator, n_clusters: int, size: int = 15):
    g = np.repeat(np.arange(n_clusters), size)
    t = (g < n_clusters // 2).astype(float)
    base = rng.normal(size=len(g))
    u = rng.normal(scale=np.sqrt(0.1), size=n_clusters)[g]
    y = EFFECT * t + 0.5 * base + u + rng.normal(scale=np.sqrt(0.9), size=len(g))
    return np.column_stack([np.ones(len(g)), t, base]), y, g


def coverage(n_clusters: int, se: str, reps: int = REPS, seed: int = 0) -> float:
    rng = np.random.default_rng(seed + n_clusters)
    hits = 0
    for r in range(reps):
        x, y, g = _draw(rng, n_clusters)
        res, _, _ = cluster_inference(
            x, y, None if se == "HC3" else g, 1, se=se, n_boot=399, seed=r
        )
        hits += res.ci_low <= EFFECT <= res.ci_high
    return hits / reps


@pytest.mark.parametrize("n_clusters", [4, 8, 16, 40])
def test_coverage_by_number_of_clusters(n_clusters):
    cov = {se: coverage(n_clusters, se) for se in ("HC3", "CR1", "CR2", "wild")}
    print(n_clusters, cov)  # the table in docs/designs-individual.md comes from this
    # 200 replications: a binomial SE of about 0.015 at 95%
    assert cov["CR2"] >= 0.90
    # with 4 clusters and a cluster-level treatment only 2 clusters are treated, where the
    # wild bootstrap is known to be fragile (MacKinnon & Webb 2018): 0.905 here
    assert cov["wild"] >= (0.88 if n_clusters == 4 else 0.90)
    if n_clusters <= 8:
        assert cov["HC3"] < cov["CR2"]
