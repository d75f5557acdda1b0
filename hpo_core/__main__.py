"""Command line ``hpo-core`` (also ``python -m hpo_core``): ``demo`` runs a small real study
on a SQLite file; ``worker`` is one worker of a shared study; the study commands
(``studies``, ``create-study``, ``trials``, ``best-trial``, ``ask``, ``tell``, ``export``,
``plot``, ...) are Optuna's, with Optuna's arguments (see :mod:`hpo_core.cli`).

The demo tunes a kernel ridge regression (NumPy only) on generated data by 5-fold
cross-validation: a mixed space with a log-scale regularizer, a categorical kernel and
a parameter that exists only for one kernel. Run it twice: the second run resumes the
same study from the file.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

import numpy as np

import hpo_core
from hpo_core.cli import CommandError, add_study_commands, add_worker_parser, run_study_command, run_worker


def _make_data(seed: int = 0, n: int = 240) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.uniform(-3, 3, size=(n, 2))
    y = np.sin(X[:, 0]) * np.cos(X[:, 1]) + 0.1 * X[:, 0] ** 2 + rng.normal(0, 0.1, size=n)
    return X, y


def _kernel(A: np.ndarray, B: np.ndarray, kind: str, gamma: float, degree: int) -> np.ndarray:
    if kind == "poly":
        return (1.0 + gamma * A @ B.T) ** degree
    d2 = ((A[:, None, :] - B[None, :, :]) ** 2).sum(-1)
    if kind == "rbf":
        return np.exp(-gamma * d2)
    return np.exp(-gamma * np.sqrt(d2))  # laplacian


def kernel_ridge_cv_mse(X: np.ndarray, y: np.ndarray, *, kind: str, alpha: float, gamma: float,
                        degree: int = 2, folds: int = 5) -> float:
    """Mean squared error of kernel ridge regression over ``folds`` CV folds."""
    idx = np.arange(len(y))
    errors = []
    for k in range(folds):
        test = idx % folds == k
        K = _kernel(X[~test], X[~test], kind, gamma, degree)
        coef = np.linalg.solve(K + alpha * np.eye(len(K)), y[~test])
        pred = _kernel(X[test], X[~test], kind, gamma, degree) @ coef
        errors.append(np.mean((pred - y[test]) ** 2))
    return float(np.mean(errors))


def demo(storage: str, study_name: str, n_trials: int, seed: int | None) -> hpo_core.Study:
    X, y = _make_data()

    def objective(trial: hpo_core.Trial) -> float:
        kind = str(trial.suggest_categorical("kernel", ["rbf", "laplacian", "poly"]))
        alpha = trial.suggest_float("alpha", 1e-6, 10.0, log=True)
        gamma = trial.suggest_float("gamma", 1e-3, 10.0, log=True)
        degree = trial.suggest_int("degree", 2, 5) if kind == "poly" else 2
        return kernel_ridge_cv_mse(X, y, kind=kind, alpha=alpha, gamma=gamma, degree=degree)

    study = hpo_core.create_study(
        storage=storage,
        study_name=study_name,
        load_if_exists=True,
        sampler=hpo_core.samplers.TPESampler(seed=seed),
    )
    before = len(study.trials)
    start = time.perf_counter()
    study.optimize(objective, n_trials=n_trials)
    elapsed = time.perf_counter() - start
    best = study.best_trial
    print(
        f"\nStudy {study.study_name!r} in {storage}: {len(study.trials)} trials "
        f"({len(study.trials) - before} new, {elapsed:.1f} s).\n"
        f"Best trial #{best.number}: cross-validated MSE {best.value:.5f} with {best.params}"
    )
    return study


# Optuna's two-word commands, given as one word here.
_TWO_WORDS = {("study", "set-user-attr"): "study-set-user-attr"}


def _join_two_words(argv: list[str]) -> list[str]:
    for i in range(len(argv) - 1):
        joined = _TWO_WORDS.get((argv[i], argv[i + 1]))
        if joined is not None:
            return [*argv[:i], joined, *argv[i + 2:]]
    return argv


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hpo-core", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"hpo-core {hpo_core.__version__}")
    parser.add_argument("--storage", dest="storage_main", default=None,
                        help="the storage, for the study commands (also after the command)")
    parser.add_argument("-q", "--quiet", dest="quiet_main", action="store_true", help="warnings and errors only")
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("demo", help="run a small real study persisted to a SQLite file")
    d.add_argument("--storage", default="sqlite:///hpo_demo.db", help="database URL (default: %(default)s)")
    d.add_argument("--study-name", default="kernel-ridge-demo")
    d.add_argument("--n-trials", type=int, default=40)
    d.add_argument("--seed", type=int, default=None)
    d.add_argument("--quiet", action="store_true", help="no per-trial log lines")
    add_worker_parser(sub)
    add_study_commands(sub)
    args = parser.parse_args(_join_two_words(list(sys.argv[1:] if argv is None else argv)))
    if args.quiet_main:
        hpo_core.logging.set_verbosity(logging.WARNING)
    if args.command not in ("demo", "worker"):
        args.storage = args.storage or args.storage_main
        try:
            return run_study_command(args)
        except (CommandError, ImportError) as e:  # an ImportError names the extra to install
            print(f"{parser.prog} {args.command}: error: {e}", file=sys.stderr)
            return 2
    if args.command == "worker":
        try:
            return run_worker(args)
        except CommandError as e:
            print(f"{parser.prog} worker: error: {e}", file=sys.stderr)
            return 2
    if args.quiet:
        hpo_core.logging.set_verbosity(logging.WARNING)
    if args.n_trials < 1:
        parser.error(f"--n-trials must be >= 1, but got {args.n_trials}")
    demo(args.storage, args.study_name, args.n_trials, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
