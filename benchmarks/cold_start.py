"""What a fresh process pays before its first trial: import, first ask+tell, first kernel call.

Each measurement runs in a new Python process (``sys.executable``), ``--repeat`` times,
and the table reports the median. Kernel calls are timed per backend; for Numba with
an empty cache directory (``NUMBA_CACHE_DIR`` pointing to a new temporary folder: the
very first run on a machine, which compiles) and again with that folder filled (every
later run, which loads the cached machine code).

Usage::

    python benchmarks/cold_start.py               # prints a markdown table
    python benchmarks/cold_start.py --repeat 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

_PROBE = r"""
import json, sys, time
t0 = time.perf_counter()
import numpy as np
import hpo_core
t1 = time.perf_counter()
from hpo_core import kernels
backend = sys.argv[1]
out = {"import": t1 - t0}
if backend == "study":
    study = hpo_core.create_study(sampler=hpo_core.samplers.RandomSampler(seed=0))
    t = study.ask()
    study.tell(t, t.suggest_float("x", 0.0, 1.0))
    out["first"] = time.perf_counter() - t1
else:
    k = kernels.get_backend(backend)
    x = np.linspace(-1.0, 1.0, 24)
    mus, sig, lw = np.zeros(8), np.full(8, 0.3), np.full(8, -np.log(8.0))
    t2 = time.perf_counter()
    k.log_pdf_truncnorm_mixture(x, mus, sig, lw, -1.0, 1.0)
    t3 = time.perf_counter()
    k.sample_truncnorm_mixture(np.full(24, 0.5), np.full(24, 0.5), mus, sig, np.ones(8), -1.0, 1.0)
    t4 = time.perf_counter()
    k.is_pareto_front(np.random.default_rng(0).random((100, 2)))
    t5 = time.perf_counter()
    out.update(load=t2 - t1, pdf=t3 - t2, sample=t4 - t3, pareto=t5 - t4)
print(json.dumps(out))
"""


def _run(arg: str, env: dict[str, str]) -> dict[str, float]:
    res = subprocess.run([sys.executable, "-c", _PROBE, arg], env=env, capture_output=True,
                         text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeat", type=int, default=3, help="processes per cell (default 3)")
    args = p.parse_args()
    base = dict(os.environ)
    base.pop("HPO_CORE_BACKEND", None)
    rows: list[tuple[str, str]] = []
    study = [_run("study", base) for _ in range(args.repeat)]
    rows.append(("`import hpo_core`", f"{_median(study, 'import') * 1e3:.0f} ms"))
    rows.append(("first `ask` + `suggest_float` + `tell` (random sampler, in memory)",
                 f"{_median(study, 'first') * 1e3:.1f} ms"))
    from hpo_core import kernels

    for backend in kernels.available_backends():
        if backend == "numba":
            cold, warm = [], []
            for _ in range(args.repeat):
                with tempfile.TemporaryDirectory() as d:
                    env = dict(base, NUMBA_CACHE_DIR=d)
                    cold.append(_run(backend, env))
                    warm.append(_run(backend, env))
            cases = [("numba, empty cache (first run on a machine)", cold),
                     ("numba, cache filled (later runs)", warm)]
        else:
            cases = [(backend, [_run(backend, base) for _ in range(args.repeat)])]
        for label, runs in cases:
            parts = ", ".join(f"{k} {_median(runs, k) * 1e3:.1f} ms" for k in ("load", "pdf", "sample", "pareto"))
            total = sum(_median(runs, k) for k in ("load", "pdf", "sample", "pareto"))
            rows.append((f"first kernel calls, {label}", f"{total * 1e3:.0f} ms ({parts})"))
    print("| fresh process | median |")
    print("|---|---|")
    for a, b in rows:
        print(f"| {a} | {b} |")


if __name__ == "__main__":
    main()
