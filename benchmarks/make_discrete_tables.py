"""Build the lookup tables of the discrete suite: scikit-learn models on every grid point.

Each table problem of ``_discrete.TABLES`` names a space; this script evaluates its model
once on every configuration of that space, on data scikit-learn ships (``load_*`` and
``make_*`` with a fixed seed; nothing is downloaded), with a fixed split or fixed folds
(``random_state=0``) and ``random_state=0`` for the model, on one thread. It writes
``benchmarks/data/<name>.npz`` (``np.savez_compressed``):

- ``index``: int8 ``(n_points, n_params)``, each value's position in its parameter's
  choices, -1 where the parameter is inactive (conditional);
- ``value``: float64 ``(n_points,)``, the loss (smaller is better);
- ``meta``: a JSON string: the problem, model, data, protocol and loss, the space (checked
  against ``_discrete.TABLES`` when the table is loaded), the minimum, the command, the
  versions (Python, NumPy, SciPy, scikit-learn), the machine and the time it took.

Losses: the Brier score (mean over samples of the squared distance between the predicted
class probabilities and the one-hot label) for trees and k-NN, whose probabilities are
often exactly 0 (log loss would be infinite); log loss for the MLP and boosting; the error
rate for SVC (no probabilities without Platt scaling); 1 - R^2 for the regression. A
diverged MLP (non-finite probabilities) scores the loss of the uniform guess, log 2.

Usage::

    python benchmarks/make_discrete_tables.py                  # every table (~10 min, 1 core)
    python benchmarks/make_discrete_tables.py --tables tab_svc_digits,tab_knn_wine
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import platform
import shlex
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402
import _discrete  # noqa: E402

Fit = Callable[[dict[str, Any]], float]


# ----------------------------------------------------------------------------- losses and protocols
def brier(proba: np.ndarray, y: np.ndarray) -> float:
    """Multi-class Brier score: ``mean_i sum_k (p_ik - [y_i = k])^2``; ``proba (n, k)``, ``y (n,)`` in 0..k-1."""
    onehot = np.zeros_like(proba)
    onehot[np.arange(len(y)), y] = 1.0
    return float(np.mean(np.sum((proba - onehot) ** 2, axis=1)))


def _split(X: np.ndarray, y: np.ndarray, *, stratify: bool) -> list[np.ndarray]:
    """The fixed 2/3 - 1/3 train/validation split of ``_problems.py`` (random_state 0)."""
    from sklearn.model_selection import train_test_split

    return train_test_split(X, y, test_size=1 / 3, random_state=0, stratify=y if stratify else None)


def _cv_mean(X: np.ndarray, y: np.ndarray, n_splits: int,
             score: Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], float]) -> Callable[[], float]:
    """Mean of ``score(Xtr, ytr, Xva, yva)`` over fixed stratified folds, weighted by fold size."""
    from sklearn.model_selection import StratifiedKFold

    folds = list(StratifiedKFold(n_splits, shuffle=True, random_state=0).split(X, y))
    return lambda: float(sum(score(X[tr], y[tr], X[va], y[va]) * len(va) for tr, va in folds) / len(y))


# ----------------------------------------------------------------------------- models
def _dt_breast_cancer() -> tuple[Fit, dict[str, str]]:
    from sklearn.datasets import load_breast_cancer
    from sklearn.tree import DecisionTreeClassifier

    X, y = load_breast_cancer(return_X_y=True)

    def fit(p: dict[str, Any]) -> float:
        def score(Xtr: np.ndarray, ytr: np.ndarray, Xva: np.ndarray, yva: np.ndarray) -> float:
            return brier(DecisionTreeClassifier(**p, random_state=0).fit(Xtr, ytr).predict_proba(Xva), yva)

        return _cv_mean(X, y, 5, score)()

    return fit, {"data": "load_breast_cancer (569 x 30, 2 classes)",
                 "protocol": "StratifiedKFold(5, shuffle=True, random_state=0)", "loss": "Brier score"}


def _svc_digits() -> tuple[Fit, dict[str, str]]:
    from sklearn.datasets import load_digits
    from sklearn.svm import SVC

    X, y = load_digits(return_X_y=True)
    X = X / 16.0

    def fit(p: dict[str, Any]) -> float:
        kw: dict[str, Any] = {"kernel": p["kernel"], "C": 2.0 ** p["log2_C"], "max_iter": 1_000_000}
        if "log2_gamma" in p:
            kw["gamma"] = 2.0 ** p["log2_gamma"]
        if "degree" in p:
            kw["degree"] = p["degree"]

        def score(Xtr: np.ndarray, ytr: np.ndarray, Xva: np.ndarray, yva: np.ndarray) -> float:
            return float(np.mean(SVC(**kw).fit(Xtr, ytr).predict(Xva) != yva))

        return _cv_mean(X, y, 2, score)()

    # Two folds: the error rate counts all 1797 digits (fewer ties than a 599-digit split)
    # at about the cost of one fit on 2/3 of them (SVC's fit grows faster than linearly).
    return fit, {"data": "load_digits / 16 (1797 x 64, 10 classes)",
                 "protocol": "StratifiedKFold(2, shuffle=True, random_state=0)",
                 "loss": "error rate (misclassified / 1797)"}


def _mlp_breast_cancer() -> tuple[Fit, dict[str, str]]:
    from sklearn.datasets import load_breast_cancer
    from sklearn.metrics import log_loss
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import StandardScaler

    Xtr, Xva, ytr, yva = _split(*load_breast_cancer(return_X_y=True), stratify=True)
    scaler = StandardScaler().fit(Xtr)
    Xtr, Xva = scaler.transform(Xtr), scaler.transform(Xva)

    def fit(p: dict[str, Any]) -> float:
        model = MLPClassifier((p["units"],) * p["n_layers"], activation=p["activation"],
                              alpha=10.0 ** p["log10_alpha"], learning_rate_init=p["learning_rate_init"],
                              max_iter=100, random_state=0).fit(Xtr, ytr)
        proba = model.predict_proba(Xva)
        return float(log_loss(yva, proba)) if np.all(np.isfinite(proba)) else math.log(2.0)

    return fit, {"data": "load_breast_cancer, StandardScaler fitted on the training part",
                 "protocol": "train_test_split(test_size=1/3, random_state=0, stratify=y)",
                 "loss": "validation log loss (non-finite probabilities: log 2)"}


def _hgb_synthetic() -> tuple[Fit, dict[str, str]]:
    from sklearn.datasets import make_classification
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import log_loss

    X, y = make_classification(n_samples=600, n_features=10, n_informative=5, n_redundant=2,
                               flip_y=0.03, class_sep=0.8, random_state=0)
    Xtr, Xva, ytr, yva = _split(X, y, stratify=True)

    def fit(p: dict[str, Any]) -> float:
        model = HistGradientBoostingClassifier(
            learning_rate=p["learning_rate"], max_iter=p["max_iter"], max_leaf_nodes=p["max_leaf_nodes"],
            min_samples_leaf=2 ** p["log2_min_samples_leaf"], early_stopping=False, random_state=0)
        return float(log_loss(yva, model.fit(Xtr, ytr).predict_proba(Xva)))

    return fit, {"data": "make_classification(n_samples=600, n_features=10, n_informative=5, "
                         "n_redundant=2, flip_y=0.03, class_sep=0.8, random_state=0)",
                 "protocol": "train_test_split(test_size=1/3, random_state=0, stratify=y)",
                 "loss": "validation log loss"}


def _knn_wine() -> tuple[Fit, dict[str, str]]:
    from sklearn.datasets import load_wine
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

    X, y = load_wine(return_X_y=True)
    scalers = {"none": None, "standard": StandardScaler, "minmax": MinMaxScaler, "robust": RobustScaler}

    def fit(p: dict[str, Any]) -> float:
        def score(Xtr: np.ndarray, ytr: np.ndarray, Xva: np.ndarray, yva: np.ndarray) -> float:
            knn = KNeighborsClassifier(p["n_neighbors"], weights=p["weights"], p=p["p"])
            scaler = scalers[p["scaler"]]
            model = make_pipeline(scaler(), knn) if scaler else knn
            return brier(model.fit(Xtr, ytr).predict_proba(Xva), yva)

        return _cv_mean(X, y, 5, score)()

    return fit, {"data": "load_wine (178 x 13, 3 classes)",
                 "protocol": "StratifiedKFold(5, shuffle=True, random_state=0), scaler fitted per fold",
                 "loss": "Brier score"}


def _enet_diabetes() -> tuple[Fit, dict[str, str]]:
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import ElasticNet
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures, QuantileTransformer, StandardScaler

    Xtr, Xva, ytr, yva = _split(*load_diabetes(return_X_y=True), stratify=False)
    var = float(np.var(yva))

    def fit(p: dict[str, Any]) -> float:
        steps: list[Any] = [StandardScaler() if p["scaler"] == "standard"
                            else QuantileTransformer(n_quantiles=100, random_state=0)]
        if p["poly_degree"] > 1:
            steps += [PolynomialFeatures(p["poly_degree"], include_bias=False), StandardScaler()]
        steps.append(ElasticNet(alpha=10.0 ** p["log10_alpha"], l1_ratio=p["l1_ratio_pct"] / 100,
                                max_iter=2000, tol=1e-3))
        model = make_pipeline(*steps).fit(Xtr, ytr)
        return float(np.mean((model.predict(Xva) - yva) ** 2) / var)

    return fit, {"data": "load_diabetes (442 x 10, regression)",
                 "protocol": "train_test_split(test_size=1/3, random_state=0)",
                 "loss": "validation MSE / variance (1 - R^2)"}


def _et_wine() -> tuple[Fit, dict[str, str]]:
    from sklearn.datasets import load_wine
    from sklearn.ensemble import ExtraTreesClassifier

    X, y = load_wine(return_X_y=True)

    def fit(p: dict[str, Any]) -> float:
        def score(Xtr: np.ndarray, ytr: np.ndarray, Xva: np.ndarray, yva: np.ndarray) -> float:
            model = ExtraTreesClassifier(**p, random_state=0, n_jobs=1).fit(Xtr, ytr)
            return brier(model.predict_proba(Xva), yva)

        return _cv_mean(X, y, 3, score)()

    return fit, {"data": "load_wine (178 x 13, 3 classes)",
                 "protocol": "StratifiedKFold(3, shuffle=True, random_state=0)", "loss": "Brier score"}


MODELS: dict[str, Callable[[], tuple[Fit, dict[str, str]]]] = {
    "tab_dt_breast_cancer": _dt_breast_cancer,
    "tab_svc_digits": _svc_digits,
    "tab_mlp_breast_cancer": _mlp_breast_cancer,
    "tab_hgb_synthetic": _hgb_synthetic,
    "tab_knn_wine": _knn_wine,
    "tab_enet_diabetes": _enet_diabetes,
    "tab_et_wine": _et_wine,
}
assert set(MODELS) == set(_discrete.TABLES), "every table needs a model, and every model a table"


# ----------------------------------------------------------------------------- driver
def build(name: str, out_dir: Path, command: str, log: Callable[[str], None]) -> dict[str, Any]:
    """Evaluate table ``name`` on its whole grid and write ``out_dir/<name>.npz``; returns the meta."""
    from threadpoolctl import threadpool_limits

    spec = _discrete.TABLES[name]
    fit, info = MODELS[name]()
    # After the model's imports: threadpoolctl limits only the libraries already loaded
    # (scikit-learn's OpenMP runtime is loaded by its first import).
    threadpool_limits(1)
    grid = spec.space.grid()
    t0 = time.perf_counter()
    values = np.empty(len(grid))
    for i, params in enumerate(grid):
        values[i] = fit(params)
        if (i + 1) % 100 == 0:
            log(f"  {name}: {i + 1}/{len(grid)} ({time.perf_counter() - t0:.0f} s)")
    if not np.all(np.isfinite(values)):
        raise RuntimeError(f"{name}: non-finite losses at {np.flatnonzero(~np.isfinite(values))[:5]}")
    seconds = time.perf_counter() - t0
    meta = {
        "name": name, "description": spec.description, **info,
        "model_random_state": 0, "threads": 1, "space": spec.space.describe(),
        "n_points": len(grid), "min": float(values.min()), "max": float(values.max()),
        "argmin": grid[int(values.argmin())], "command": command,
        "versions": {"python": platform.python_version(), "numpy": np.__version__,
                     "scipy": _common.version("scipy"), "scikit-learn": _common.version("scikit-learn")},
        "machine": f"{platform.machine()}, {_common.cpu_name()}",
        "generated": f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}",
        "seconds": round(seconds, 1),
    }
    index = np.array([spec.space.index(p) for p in grid], dtype=np.int8)
    out_dir.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out_dir / f"{name}.npz", index=index, value=values,
                        meta=np.array(json.dumps(meta, sort_keys=True)))
    log(f"{name}: {len(grid)} points in {seconds:.0f} s, min {meta['min']:.6g} at {meta['argmin']}")
    return meta


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Evaluate scikit-learn models on the discrete suite's grids.")
    p.add_argument("--tables", default=",".join(MODELS), help=f"comma-separated (default all: {','.join(MODELS)})")
    p.add_argument("--out-dir", type=Path, default=_discrete.DATA_DIR)
    args = p.parse_args(argv)
    names = [n.strip() for n in args.tables.split(",") if n.strip()]
    unknown = sorted(set(names) - set(MODELS))
    if unknown:
        p.error(f"unknown table(s) {unknown}; choose from {sorted(MODELS)}")
    warnings.filterwarnings("ignore")  # ConvergenceWarning from MLP, SVC and ElasticNet corners
    command = shlex.join(["python", "benchmarks/make_discrete_tables.py", *(sys.argv[1:] if argv is None else argv)])
    t0 = time.perf_counter()
    for name in names:
        build(name, args.out_dir, command, lambda s: print(s, file=sys.stderr, flush=True))
    print(f"{len(names)} tables in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
