"""Hypervolume: time of hpo_core's kernels and Optuna 5.0's ``compute_hypervolume``.

Points: n points on the positive octant of the unit sphere in m objectives (every point
on the front, minimised; the hard case: a random cloud has a far smaller front), seed 0;
reference point 1.1 in every objective. Per cell (m, n) and function, in a fresh
subprocess (so a slow cell can be cut at ``--limit`` seconds): one untimed call (Numba
compilation), then repeated calls for at least a second (at most ``--repeats``); the
table gives the median seconds per call.

Functions:

* ``hpo exact``: ``kernels.hypervolume`` (the default backend: the C++ extension for
  m <= 4 where built, Numba above);
* ``hpo mc``: ``kernels.hypervolume_mc`` with 2^16 scrambled Sobol samples (seed 0),
  with its relative error against the exact value where one finished, and the stated
  standard error;
* ``optuna``: ``optuna._hypervolume.compute_hypervolume`` (WFG; 2-D and 3-D sweeps).

Usage::

    nice python benchmarks/hypervolume.py                     # m = 2..6, n = 100, 1000
    nice python benchmarks/hypervolume.py --objectives 5 --sizes 100 --limit 30
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

FUNCTIONS = ("hpo exact", "hpo mc", "optuna")

_CELL = r"""
import json, sys, time
import numpy as np
m, n, which, repeats = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
rng = np.random.default_rng(0)
P = np.abs(rng.normal(size=(n, m)))
P /= np.linalg.norm(P, axis=1)[:, None]
ref = np.full(m, 1.1)
if which == "hpo exact":
    from hpo_core import kernels
    f = lambda: (kernels.hypervolume(P, ref), 0.0)
elif which == "hpo mc":
    from scipy.stats import qmc
    from hpo_core import kernels
    u = qmc.Sobol(m, seed=0).random(2**16)
    f = lambda: kernels.hypervolume_mc(P, ref, u)
else:
    import optuna._hypervolume as oh
    f = lambda: (oh.compute_hypervolume(P, ref), 0.0)
value, error = f()
times = []
start = time.perf_counter()
while len(times) < repeats and (not times or time.perf_counter() - start < 1.0):
    t = time.perf_counter()
    f()
    times.append(time.perf_counter() - t)
print(json.dumps({"value": float(value), "error": float(error), "seconds": float(np.median(times))}))
"""


def cell(m: int, n: int, which: str, limit: float, repeats: int) -> dict[str, float] | None:
    try:
        out = subprocess.run(
            [sys.executable, "-c", _CELL, str(m), str(n), which, str(repeats)],
            capture_output=True,
            text=True,
            timeout=limit,
            check=True,
        )
    except subprocess.TimeoutExpired:
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _fmt(r: dict[str, float] | None, limit: float) -> str:
    if r is None:
        return f"> {limit:g} s"
    s = r["seconds"]
    return f"{s * 1e3:.3g} ms" if s < 1 else f"{s:.3g} s"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--objectives", default="2,3,4,5,6")
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--limit", type=float, default=60.0, help="seconds per cell (first call included)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    print(f"commit {_common.git_rev()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(_common.machine_info(["optuna"]))
    rows, results = [], []
    for m in [int(x) for x in args.objectives.split(",")]:
        for n in [int(x) for x in args.sizes.split(",")]:
            r = {w: cell(m, n, w, args.limit, args.repeats) for w in FUNCTIONS}
            results.append({"m": m, "n": n, **r})
            exact = r["hpo exact"] or r["optuna"]
            mc = r["hpo mc"]
            err = "-"
            if mc is not None:
                stated = f"stated {mc['error'] / mc['value']:.1e}"
                err = (
                    f"{abs(mc['value'] - exact['value']) / exact['value']:.1e} ({stated})"
                    if exact
                    else stated
                )
            ratio = "-"
            if r["hpo exact"] and r["optuna"]:
                ratio = f"{r['optuna']['seconds'] / r['hpo exact']['seconds']:,.0f}x"
            rows.append(
                f"| {m} | {n:,} | {_fmt(r['hpo exact'], args.limit)} | {_fmt(mc, args.limit)} | {err} | "
                f"{_fmt(r['optuna'], args.limit)} | {ratio} |"
            )
            print(rows[-1], flush=True)
    print(
        "\n| objectives | points | hpo_core exact | hpo_core MC (2^16 Sobol) | MC relative error | Optuna | "
        "Optuna / hpo_core exact |\n|---|---|---|---|---|---|---|"
    )
    print("\n".join(rows))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
