"""Record the learning-curve tables of ``_curves.CURVES`` (issue #13): real training, once.

For every configuration of a table's grid this script trains the model on data scikit-learn
ships (``load_digits``; nothing is downloaded), with a fixed stratified 2/3 - 1/3
train/validation split (``random_state=0``) and fixed seeds, on one thread, and records the
validation error and loss after every step. It writes ``benchmarks/data/<name>.npz``
(``np.savez_compressed``):

- ``n_wrong``: int16 ``(*shape, n_steps)``, misclassified validation samples after step
  ``t + 1`` (the error rate is ``n_wrong / meta["n_val"]``, exact, so ties stay ties);
- ``loss``: float32 ``(*shape, n_steps)``, validation cross-entropy after step ``t + 1``;
- ``fit_seconds``: float32 ``(*shape,)``, wall time of each configuration's training;
- ``meta``: a JSON string: model, data, protocol, the grid (checked against
  ``_curves.CURVES`` when loaded), the command, the commit, versions, machine and seconds;

and the same meta, readable, in ``benchmarks/data/<name>.json``.

Models:

- ``mlp_digits_curves``: ``torch.nn.Sequential`` of ``n_layers`` x (Linear(width), ReLU) and a
  Linear(10) head on pixels / 16; SGD with momentum 0.9 and ``weight_decay``, cross-entropy,
  mini-batches of ``batch_size`` reshuffled every epoch. ``torch.manual_seed(0)`` before the
  weights are built and a ``torch.Generator`` seeded 0 for the shuffles, so every
  configuration starts from the same seed. A diverged net (non-finite outputs) stays
  diverged; from then on it scores the majority-class guess with the uniform guess's loss
  (log 10), and its remaining epochs are not trained.
- ``gbm_curves``: ``HistGradientBoostingClassifier(max_iter=81, early_stopping=False,
  random_state=0)`` on raw pixels; the curve is read with ``staged_predict_proba`` (one step
  = one boosting iteration, i.e. one tree per class).

Usage::

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/make_curve_tables.py     # both (~8 min, 1 core)
    python benchmarks/make_curve_tables.py --tables gbm_curves --max-configs 3 --out-dir /tmp/x
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import platform
import shlex
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402
import _curves  # noqa: E402

# fit(params) -> (n_wrong (n_steps,), loss (n_steps,))
Fit = Callable[[dict[str, Any]], tuple[np.ndarray, np.ndarray]]
PROTOCOL = "train_test_split(test_size=1/3, random_state=0, stratify=y)"


def _digits_split() -> list[np.ndarray]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    return train_test_split(X, y, test_size=1 / 3, random_state=0, stratify=y)


# ----------------------------------------------------------------------------- models
def _mlp_digits(n_steps: int) -> tuple[Fit, dict[str, Any]]:
    import torch

    torch.set_num_threads(1)
    Xtr, Xva, ytr, yva = _digits_split()
    xtr, xva = torch.tensor(Xtr / 16.0, dtype=torch.float32), torch.tensor(Xva / 16.0, dtype=torch.float32)
    ttr, tva = torch.tensor(ytr), torch.tensor(yva)
    # The fallback of a diverged net: always predict the most frequent validation class.
    majority_wrong = len(yva) - int(np.bincount(yva).max())

    def fit(p: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        torch.manual_seed(0)
        gen = torch.Generator().manual_seed(0)
        layers: list[torch.nn.Module] = []
        d = xtr.shape[1]
        for _ in range(p["n_layers"]):
            layers += [torch.nn.Linear(d, p["width"]), torch.nn.ReLU()]
            d = p["width"]
        net = torch.nn.Sequential(*layers, torch.nn.Linear(d, 10))
        opt = torch.optim.SGD(net.parameters(), lr=p["lr"], momentum=0.9, weight_decay=p["weight_decay"])
        n_wrong = np.full(n_steps, majority_wrong, dtype=np.int64)
        loss = np.full(n_steps, math.log(10.0))
        bs = p["batch_size"]
        for epoch in range(n_steps):
            net.train()
            perm = torch.randperm(len(ttr), generator=gen)
            for i in range(0, len(ttr), bs):
                idx = perm[i:i + bs]
                opt.zero_grad()
                torch.nn.functional.cross_entropy(net(xtr[idx]), ttr[idx]).backward()
                opt.step()
            net.eval()
            with torch.no_grad():
                out = net(xva)
                if not bool(torch.isfinite(out).all()):
                    break  # diverged: the rest of the curve keeps the fallback values
                n_wrong[epoch] = int((out.argmax(1) != tva).sum())
                loss[epoch] = float(torch.nn.functional.cross_entropy(out, tva))
        return n_wrong, loss

    return fit, {"model": "torch MLP, ReLU, SGD(momentum=0.9, weight_decay), cross-entropy",
                 "data": "load_digits / 16 (1797 x 64, 10 classes)", "protocol": PROTOCOL,
                 "seeds": "torch.manual_seed(0) before init; torch.Generator().manual_seed(0) for shuffles",
                 "diverged": "non-finite outputs: majority-class error and loss log(10) from then on",
                 "n_train": len(ytr), "n_val": len(yva), "torch": torch.__version__}


def _gbm_digits(n_steps: int) -> tuple[Fit, dict[str, Any]]:
    from sklearn.ensemble import HistGradientBoostingClassifier

    Xtr, Xva, ytr, yva = _digits_split()
    rows = np.arange(len(yva))

    def fit(p: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        model = HistGradientBoostingClassifier(max_iter=n_steps, early_stopping=False, random_state=0, **p)
        model.fit(Xtr, ytr)
        n_wrong, loss = np.empty(n_steps, dtype=np.int64), np.empty(n_steps)
        for t, proba in enumerate(model.staged_predict_proba(Xva)):
            n_wrong[t] = int(np.sum(model.classes_[proba.argmax(1)] != yva))
            # Clip as sklearn's log_loss does, so a confident mistake costs a finite amount.
            loss[t] = float(-np.mean(np.log(np.clip(proba[rows, yva], 1e-15, 1.0))))
        return n_wrong, loss

    return fit, {"model": "sklearn HistGradientBoostingClassifier(early_stopping=False, random_state=0)",
                 "data": "load_digits, raw pixels (1797 x 64, 10 classes)", "protocol": PROTOCOL,
                 "seeds": "random_state=0", "n_train": len(ytr), "n_val": len(yva)}


MODELS: dict[str, Callable[[int], tuple[Fit, dict[str, Any]]]] = {
    "mlp_digits_curves": _mlp_digits,
    "gbm_curves": _gbm_digits,
}
assert set(MODELS) == set(_curves.CURVES), "every table needs a model, and every model a table"


# ----------------------------------------------------------------------------- driver
def _commit() -> str:
    """``git rev-parse HEAD`` of the checkout, ``+dirty`` if this script differs from it."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", "benchmarks/make_curve_tables.py",
                                "benchmarks/_curves.py"], cwd=root).returncode != 0
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def build(name: str, out_dir: Path, command: str, log: Callable[[str], None], *,
          max_configs: int | None = None) -> dict[str, Any]:
    """Record table ``name`` on its whole grid and write ``out_dir/<name>.npz`` and ``.json``."""
    from threadpoolctl import threadpool_limits

    spec = _curves.CURVES[name]
    fit, info = MODELS[name](spec.n_steps)
    threadpool_limits(1)  # after the model's imports: it limits only libraries already loaded
    grid = spec.grid()[:max_configs]
    n_wrong = np.zeros((len(grid), spec.n_steps), dtype=np.int16)
    loss = np.zeros((len(grid), spec.n_steps), dtype=np.float32)
    fit_seconds = np.zeros(len(grid), dtype=np.float32)
    t0 = time.perf_counter()
    for i, params in enumerate(grid):
        t = time.perf_counter()
        w, lo = fit(params)
        fit_seconds[i] = time.perf_counter() - t
        n_wrong[i], loss[i] = w, lo
        if (i + 1) % 25 == 0:
            log(f"  {name}: {i + 1}/{len(grid)} ({time.perf_counter() - t0:.0f} s)")
    seconds = time.perf_counter() - t0
    if not np.all(np.isfinite(loss)):
        raise RuntimeError(f"{name}: non-finite losses")
    final = n_wrong[:, -1] / info["n_val"]
    meta = {
        "name": name, "description": spec.description, **info, "threads": 1, "grid": spec.describe(),
        "n_configs": len(grid), "complete": len(grid) == math.prod(spec.shape),
        "best_final_error": float(final.min()), "argbest_final_error": grid[int(final.argmin())],
        "command": command, "commit": _commit(),
        "versions": {"python": platform.python_version(), "numpy": np.__version__,
                     "scikit-learn": _common.version("scikit-learn"), "torch": _common.version("torch")},
        "machine": f"{platform.machine()}, {_common.cpu_name()}",
        "generated": f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}",
        "seconds": round(seconds, 1),
    }
    if meta["complete"]:
        n_wrong = n_wrong.reshape(*spec.shape, spec.n_steps)
        loss = loss.reshape(*spec.shape, spec.n_steps)
        fit_seconds = fit_seconds.reshape(spec.shape)
    out_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(meta, sort_keys=True)
    np.savez_compressed(out_dir / f"{name}.npz", n_wrong=n_wrong, loss=loss, fit_seconds=fit_seconds,
                        meta=np.array(text))
    (out_dir / f"{name}.json").write_text(json.dumps(meta, sort_keys=True, indent=1) + "\n")
    log(f"{name}: {len(grid)} configurations in {seconds:.0f} s, best final error "
        f"{meta['best_final_error']:.4f} at {meta['argbest_final_error']}")
    return meta


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Record the learning-curve tables of benchmarks/_curves.py.")
    p.add_argument("--tables", default=",".join(MODELS), help=f"comma-separated (default all: {','.join(MODELS)})")
    p.add_argument("--out-dir", type=Path, default=_curves.DATA_DIR)
    p.add_argument("--max-configs", type=int, default=None, help="record only the first N (a timing probe)")
    args = p.parse_args(argv)
    names = [n.strip() for n in args.tables.split(",") if n.strip()]
    unknown = sorted(set(names) - set(MODELS))
    if unknown:
        p.error(f"unknown table(s) {unknown}; choose from {sorted(MODELS)}")
    warnings.filterwarnings("ignore")
    command = shlex.join(["python", "benchmarks/make_curve_tables.py", *(sys.argv[1:] if argv is None else argv)])
    t0 = time.perf_counter()
    for name in names:
        build(name, args.out_dir, command, lambda s: print(s, file=sys.stderr, flush=True),
              max_configs=args.max_configs)
    print(f"{len(names)} tables in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
