"""Time evalkit.reliability against its peers in one run and print the ratios.

    .venv/bin/python benchmarks/bench_reliability.py [--quick]

- icc, 100,000 targets x 4 raters, wide and long input, against pingouin.intraclass_corr
  (which takes long input only); values must agree to 1e-9.
- bootstrap alpha (500 resamples), 20,000 people x 25 items, against R psych::alpha(n.iter=500)
  via Rscript when R and psych are installed (only the psych call is timed, inside R), else
  against a plain pandas resampling loop (said in the output); intervals compared.
- krippendorff_alpha, 1,000 units x 5 coders, against the krippendorff package.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
import warnings

import numpy as np
import pandas as pd


def best_of(fn, repeat: int = 3) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def line(name: str, ours: float, peer: float, peer_name: str, target: str) -> None:
    print(
        f"{name:<46} evalkit {ours:9.4f} s   {peer_name} {peer:9.4f} s   "
        f"ratio {peer / ours:8.1f}x   (target {target})"
    )


def bench_icc(n: int) -> None:
    import pingouin as pg

    from evalkit.reliability import icc

    rng = np.random.default_rng(1)
    x = rng.normal(size=(n, 4)) + rng.normal(size=(n, 1)) * 1.5 + np.array([0, 0.2, 0.1, 0.3])
    long = pd.DataFrame(
        {
            "t": np.repeat(np.arange(n), 4),
            "r": np.tile(np.array(["A", "B", "C", "D"]), n),
            "y": x.ravel(),
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_peer, peer = best_of(lambda: pg.intraclass_corr(long, "t", "r", "y"), repeat=2)
    t_wide, ours = best_of(lambda: icc(x))
    t_long, ours_long = best_of(lambda: icc(long, targets="t", raters="r", ratings="y"))
    coded = long.assign(r=np.tile(np.arange(4), n))  # the same data with integer rater codes
    t_coded, _ = best_of(lambda: icc(coded, targets="t", raters="r", ratings="y"))
    diff = max(
        np.abs(ours["icc"].to_numpy() - peer["ICC"].to_numpy()).max(),
        np.abs(ours_long["icc"].to_numpy() - peer["ICC"].to_numpy()).max(),
    )
    line(f"icc wide {n:,} x 4", t_wide, t_peer, "pingouin", ">= 50x")
    line(f"icc long {n:,} x 4 (text rater labels)", t_long, t_peer, "pingouin", ">= 10x")
    line(f"icc long {n:,} x 4 (integer rater codes)", t_coded, t_peer, "pingouin", ">= 10x")
    print(f"{'':<46} max |ICC difference| = {diff:.2e} (must be < 1e-9)")


R_SCRIPT = """
suppressMessages(library(psych))
x <- read.csv("{path}")
set.seed(1)
t <- system.time(a <- alpha(x, n.iter = 500, warnings = FALSE, check.keys = FALSE))[["elapsed"]]
ci <- quantile(a$boot[, 1], c(.025, .975))
cat(sprintf("%.6f %.6f %.6f %.6f\\n", t, ci[1], ci[2], a$total$raw_alpha))
"""


def psych_alpha(df: pd.DataFrame) -> tuple[float, float, float, float] | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "items.csv")
        df.to_csv(path, index=False)
        script = os.path.join(tmp, "alpha.R")
        with open(script, "w") as fh:
            fh.write(R_SCRIPT.format(path=path))
        proc = subprocess.run(["Rscript", script], capture_output=True, text=True)
    if proc.returncode != 0:
        print("  (R psych not usable:", proc.stderr.strip().splitlines()[-1:], ")")
        return None
    t, lo, hi, est = map(float, proc.stdout.split())
    return t, lo, hi, est


def pandas_loop_alpha(df: pd.DataFrame, n_boot: int, seed: int) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    k = df.shape[1]
    boots = []
    for _ in range(n_boot):
        s = df.sample(len(df), replace=True, random_state=rng)
        c = s.cov()
        boots.append(k / (k - 1) * (1 - np.trace(c.to_numpy()) / c.to_numpy().sum()))
    return tuple(np.quantile(boots, [0.025, 0.975]))


def bench_alpha(n: int, k: int, n_boot: int) -> None:
    from evalkit.reliability import alpha

    rng = np.random.default_rng(2)
    f = rng.normal(size=(n, 1))
    x = np.clip(np.round(2 + 0.6 * f + rng.normal(size=(n, k))), 0, 4)
    df = pd.DataFrame(x, columns=[f"q{i + 1}" for i in range(k)])
    t_ours, res = best_of(lambda: alpha(df, ci="bootstrap", n_boot=n_boot, seed=1))
    peer = psych_alpha(df)
    if peer is not None:
        t_peer, lo, hi, est = peer
        line(
            f"bootstrap alpha {n:,} x {k}, {n_boot} boots",
            t_ours,
            t_peer,
            "R psych::alpha",
            ">= 5x",
        )
        print(
            f"{'':<46} interval evalkit [{res.ci_low:.4f}, {res.ci_high:.4f}] vs psych "
            f"[{lo:.4f}, {hi:.4f}]; max diff {max(abs(res.ci_low - lo), abs(res.ci_high - hi)):.4f}"
            f" (target 0.002); alpha {res.estimate:.6f} vs {est:.6f}"
        )
    else:
        t_peer, (lo, hi) = best_of(lambda: pandas_loop_alpha(df, n_boot, 1), repeat=1)
        line(
            f"bootstrap alpha {n:,} x {k}, {n_boot} boots",
            t_ours,
            t_peer,
            "pandas loop (R not available)",
            ">= 5x vs psych",
        )
        print(
            f"{'':<46} interval evalkit [{res.ci_low:.4f}, {res.ci_high:.4f}] vs loop "
            f"[{lo:.4f}, {hi:.4f}]"
        )


def bench_krippendorff(units: int, coders: int) -> None:
    import krippendorff

    from evalkit.reliability import krippendorff_alpha

    rng = np.random.default_rng(3)
    truth = rng.integers(1, 6, size=(units, 1))
    x = np.where(rng.random((units, coders)) < 0.7, truth, rng.integers(1, 6, (units, coders)))
    x = x.astype(float)
    x[rng.random(x.shape) < 0.1] = np.nan
    for level in ("nominal", "ordinal", "interval", "ratio"):
        t_ours, ours = best_of(lambda lv=level: krippendorff_alpha(x, level=lv), repeat=5)
        t_peer, peer = best_of(
            lambda lv=level: krippendorff.alpha(x.T, level_of_measurement=lv), repeat=5
        )
        line(f"krippendorff {level} {units:,} x {coders}", t_ours, t_peer, "krippendorff", ">= 1x")
        assert abs(ours.estimate - peer) < 1e-10, (ours.estimate, peer)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke test")
    args = parser.parse_args()
    if args.quick:
        bench_icc(5_000)
        bench_alpha(2_000, 10, 100)
        bench_krippendorff(200, 5)
    else:
        bench_icc(100_000)
        bench_alpha(20_000, 25, 500)
        bench_krippendorff(1_000, 5)


if __name__ == "__main__":
    main()
