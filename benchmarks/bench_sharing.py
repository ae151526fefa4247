"""Link three synthetic sources of 100,000 records each and print time, memory and quality.

    .venv/bin/python benchmarks/bench_sharing.py [--n 100000]

Targets (issue 15): under 60 s on this 2-core machine, peak memory under 4 GB, and
pairwise precision and recall of the links both at least 0.95 against the demo's truth
(``evalkit.simulate_sources``: typos, nicknames, swapped day and month, missing and
mistyped NHS numbers, moves, twins, duplicates). Only :func:`evalkit.sharing.link` is
timed (not making the data). The machine's load average is printed too, because the two
cores may be shared: the CPU time of the process says what the linkage itself cost.

Exits 1 if precision, recall or memory miss their target (the time is reported, not
enforced, since it depends on what else runs).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import warnings


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="records per source")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    from evalkit.sharing import evaluate_links, link
    from evalkit.simulate_sources import demo_dictionary, demo_sources

    t0 = time.perf_counter()
    demo = demo_sources(args.n, seed=args.seed)
    made = time.perf_counter() - t0
    sizes = {k: len(v) for k, v in demo["sources"].items()}
    print(f"sources: {sizes} (made in {made:.1f} s)")
    load_before = os.getloadavg()
    steps: list[tuple[str, float]] = []
    cpu0 = _cpu()
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = link(
            demo["sources"],
            demo_dictionary(),
            progress=lambda m: steps.append((m, time.perf_counter() - t0)),
        )
    wall = time.perf_counter() - t0
    cpu = _cpu() - cpu0
    load_after = os.getloadavg()
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # Linux: KiB
    q = evaluate_links(res.links, demo["truth"])
    truth = demo["truth"].astype({"record_id": "string"})
    merged = res.links.merge(truth, on=["source", "record_id"])
    clusters = merged.groupby("person")["cluster_id"].apply(set).to_dict()
    twins = demo["twins"]
    twins_merged = sum(
        1
        for a, b in zip(twins["person"], twins["twin_of"])
        if a in clusters and b in clusters and clusters[a] & clusters[b]
    )
    print("steps (s from start):")
    for m, t in steps:
        print(f"  {t:6.1f}  {m}")
    print(f"link time        {wall:6.1f} s wall, {cpu:.1f} s CPU (target < 60 s wall)")
    print(
        f"load average     {load_before[0]:.1f} before, {load_after[0]:.1f} after, on {os.cpu_count()} cores"
    )
    print(f"peak memory      {peak_gb:.2f} GB (whole process; target < 4 GB)")
    print(
        f"precision        {q['precision']:.4f} (target >= 0.95; model's estimate {res.quality.precision:.4f})"
    )
    print(
        f"recall           {q['recall']:.4f} (target >= 0.95; model's estimate {res.quality.recall:.4f})"
    )
    print(f"pairs            {q['linked_pairs']} linked, {q['true_pairs']} true")
    print(f"twins merged     {twins_merged // 2} of {len(twins) // 2} pairs")
    print("counts           " + ", ".join(f"{k} {v}" for k, v in res.quality.counts.items()))
    ok = q["precision"] >= 0.95 and q["recall"] >= 0.95 and peak_gb < 4 and twins_merged == 0
    print(
        "PASS" if ok and wall < 60 else "PASS (quality, memory); time over target" if ok else "FAIL"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
