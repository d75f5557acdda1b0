"""Benchmark problems for ``quality.py``: COCO BBOB functions and model-tuning tasks.

Every problem is written once, define-by-run, in two parts: ``problem.suggest(trial)``
calls ``trial.suggest_float/int/categorical`` (the API hpo_core and Optuna share) and
returns the parameters, and ``problem.make(seed)`` returns ``evaluate(params)``, the value
to minimise. The objective is ``evaluate(suggest(trial))``; the split lets the benchmark
time the evaluation alone (with define-by-run, sampling happens inside ``suggest_*``).
hyperopt has no define-by-run API, so each problem also builds the equivalent hyperopt
space (``problem.hyperopt_space()``, with ``hp.choice`` for conditional parameters); the
sample hyperopt draws is flattened and replayed through the same ``suggest`` by
:class:`DictTrial`, which checks that every suggested name exists in the sample and lies
inside the suggested range, so the two spaces cannot drift apart silently.

Problems:

- ``bbob_fXX_dD``: the 24 noiseless BBOB functions of COCO (``cocoex.BareProblem``,
  no observer, nothing written to disk) on the box [-5, 5]^D. The objective is
  ``f(x) - f_opt`` with ``f_opt = BareProblem.best_value()``, so it is the regret itself
  (>= 0). The instance is ``seed + 1``: seed ``s`` of a sampler runs on instance ``s + 1``
  and is seeded with ``s`` as well, so every sampler sees the same function per seed.
- ``hgb_breast_cancer``, ``svc_digits``, ``mlp_digits``, ``enet_diabetes``: model tuning on
  data scikit-learn ships (no downloads), validation loss on a fixed split / fixed folds
  (the data split does not depend on the seed, only the sampler does). Their optimum is
  unknown: ``f_opt`` is None and ``quality.py`` measures regret against the best value
  any sampler found on that problem in the results file.
- group ``"discrete"`` (``DISCRETE_PROBLEMS``, defined in ``_discrete.py``): spaces of
  ``suggest_int`` (step, log) and ``suggest_categorical`` only. ``tab_*``: scikit-learn models
  evaluated once on every grid point by ``make_discrete_tables.py``, looked up in
  ``data/<name>.npz``; ``f_opt`` is the table's minimum and the seed changes only the
  sampler. ``syn_*``: synthetic functions with a known minimum on instance ``seed + 1``,
  written as ``f - f_min`` (``f_opt`` 0, as for BBOB).

The heavy imports (cocoex, scikit-learn, torch, hyperopt) happen inside the functions
that need them, so ``import _problems`` is cheap and works without them.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import _discrete
import numpy as np

BBOB_FUNCTIONS = tuple(range(1, 25))
BBOB_BOX = (-5.0, 5.0)


# ----------------------------------------------------------------------------- problem
@dataclass
class Problem:
    """One benchmark problem.

    Attributes:
        name: Unique id, used as a key in the results file.
        group: ``"bbob"``, ``"sklearn"`` or ``"discrete"`` (the mean ranks are reported per group).
        suggest: ``suggest(trial) -> params``: the define-by-run search space.
        make: ``make(seed) -> evaluate``; ``evaluate(params)`` returns the value to
            minimise. Built per seed because the BBOB instance depends on it; built
            lazily so data loading happens in the worker.
        hyperopt_space: Builds the equivalent hyperopt space (nested dicts allowed).
        f_opt: The known optimum of the objective (0 for BBOB, whose objective is
            already ``f - f_opt``), or None when unknown.
        description: One line for the README.
    """

    name: str
    group: str
    suggest: Callable[[Any], dict[str, Any]]
    make: Callable[[int], Callable[[dict[str, Any]], float]]
    hyperopt_space: Callable[[], Any]
    f_opt: float | None
    description: str = ""
    tags: dict[str, Any] = field(default_factory=dict)

    def objective(self, seed: int) -> Callable[[Any], float]:
        """The define-by-run objective ``trial -> value`` for ``seed``."""
        evaluate, suggest = self.make(seed), self.suggest
        return lambda trial: evaluate(suggest(trial))


class DictTrial:
    """A trial that answers ``suggest_*`` from a dict (hyperopt's flattened sample).

    Raises ``KeyError`` for a name missing from the sample and ``ValueError`` for a
    value outside the suggested range: both mean the hyperopt space and the
    define-by-run objective disagree, which is a bug in the problem definition.
    """

    def __init__(self, params: dict[str, Any]):
        self.params = params
        self.used: dict[str, Any] = {}

    def _get(self, name: str) -> Any:
        if name not in self.params:
            raise KeyError(f"parameter {name!r} is missing from the hyperopt sample {sorted(self.params)}")
        return self.params[name]

    def suggest_float(self, name: str, low: float, high: float, *, step: float | None = None,
                      log: bool = False) -> float:
        v = float(self._get(name))
        # hyperopt's q* distributions round to the grid and may land a hair outside.
        tol = 1e-9 * max(1.0, abs(low), abs(high))
        if not low - tol <= v <= high + tol:
            raise ValueError(f"{name}={v} outside [{low}, {high}]")
        v = min(max(v, low), high)
        self.used[name] = v
        return v

    def suggest_int(self, name: str, low: int, high: int, *, step: int = 1, log: bool = False) -> int:
        v = int(round(float(self._get(name))))
        if not low <= v <= high or (v - low) % step:
            raise ValueError(f"{name}={v} outside range({low}, {high} + 1, {step})")
        self.used[name] = v
        return v

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        v = self._get(name)
        if v not in choices:
            raise ValueError(f"{name}={v!r} not in {list(choices)}")
        self.used[name] = v
        return v


def flatten(sample: Any) -> dict[str, Any]:
    """Flatten hyperopt's nested sample (dicts inside ``hp.choice`` branches) to one dict."""
    out: dict[str, Any] = {}
    if isinstance(sample, dict):
        for k, v in sample.items():
            if isinstance(v, dict):
                out.update(flatten(v))
            else:
                out[k] = v
    return out


# ----------------------------------------------------------------------------- BBOB
def _bbob(function: int, dim: int) -> Problem:
    low, high = BBOB_BOX
    names = [f"x{i}" for i in range(dim)]

    def suggest(trial: Any) -> dict[str, Any]:
        return {n: trial.suggest_float(n, low, high) for n in names}

    def make(seed: int) -> Callable[[dict[str, Any]], float]:
        import cocoex

        fn = cocoex.BareProblem("bbob", function, dim, seed + 1)
        f_opt = float(fn.best_value())

        def evaluate(params: dict[str, Any]) -> float:
            # Clamp at 0: f(x) - f_opt is >= 0 up to rounding in the last bits.
            return max(float(fn(np.array([params[n] for n in names]))) - f_opt, 0.0)

        return evaluate

    def space() -> Any:
        from hyperopt import hp

        return {n: hp.uniform(n, low, high) for n in names}

    return Problem(f"bbob_f{function:02d}_d{dim}", "bbob", suggest, make, space, 0.0,
                   f"BBOB f{function} in {dim}-D, instance seed+1, box [-5, 5]^{dim}",
                   {"function": function, "dim": dim})


def bbob_problems(dims: Sequence[int], functions: Sequence[int] = BBOB_FUNCTIONS) -> list[Problem]:
    """BBOB problems, grouped by dimension then function."""
    for f in functions:
        if f not in BBOB_FUNCTIONS:
            raise ValueError(f"BBOB function must be in 1..24, but got {f}.")
    return [_bbob(f, d) for d in dims for f in functions]


# ----------------------------------------------------------------------------- sklearn tasks
def _split(X: np.ndarray, y: np.ndarray, *, stratify: bool) -> tuple[np.ndarray, ...]:
    """A fixed 2/3 - 1/3 train/validation split (random_state 0, independent of the seed)."""
    from sklearn.model_selection import train_test_split

    return tuple(train_test_split(X, y, test_size=1 / 3, random_state=0,
                                  stratify=y if stratify else None))


def _hgb_breast_cancer() -> Problem:
    def suggest(trial: Any) -> dict[str, Any]:
        return {
            "learning_rate": trial.suggest_float("learning_rate", 1e-3, 1.0, log=True),
            "max_depth": trial.suggest_int("max_depth", 2, 12),
            "max_leaf_nodes": trial.suggest_int("max_leaf_nodes", 4, 128, log=True),
            "l2_regularization": trial.suggest_float("l2_regularization", 1e-6, 10.0, log=True),
            "max_bins": trial.suggest_int("max_bins", 15, 255, step=16),
            "min_samples_leaf": trial.suggest_int("min_samples_leaf", 2, 64, log=True),
        }

    def make(seed: int) -> Callable[[dict[str, Any]], float]:
        from sklearn.datasets import load_breast_cancer
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.metrics import log_loss

        Xtr, Xva, ytr, yva = _split(*load_breast_cancer(return_X_y=True), stratify=True)

        def evaluate(params: dict[str, Any]) -> float:
            model = HistGradientBoostingClassifier(**params, max_iter=30, early_stopping=False,
                                                   random_state=0)
            model.fit(Xtr, ytr)
            return float(log_loss(yva, model.predict_proba(Xva)))

        return evaluate

    def space() -> Any:
        from hyperopt import hp

        return {
            "learning_rate": hp.loguniform("learning_rate", math.log(1e-3), math.log(1.0)),
            "max_depth": hp.uniformint("max_depth", 2, 12),
            "max_leaf_nodes": hp.qloguniform("max_leaf_nodes", math.log(4), math.log(128), 1),
            "l2_regularization": hp.loguniform("l2_regularization", math.log(1e-6), math.log(10.0)),
            # 15 + {0, 16, ..., 240}: the same grid as suggest_int(15, 255, step=16).
            "max_bins": 15 + hp.quniform("max_bins", 0, 240, 16),
            "min_samples_leaf": hp.qloguniform("min_samples_leaf", math.log(2), math.log(64), 1),
        }

    return Problem("hgb_breast_cancer", "sklearn", suggest, make, space, None,
                   "HistGradientBoostingClassifier (30 iterations) on breast_cancer, 6 params "
                   "(log float, int, log int, int step); validation log loss")


def _svc_digits() -> Problem:
    def suggest(trial: Any) -> dict[str, Any]:
        kernel = trial.suggest_categorical("kernel", ["rbf", "poly", "sigmoid"])
        params: dict[str, Any] = {"kernel": kernel}
        if kernel == "poly":
            params["degree"] = trial.suggest_int("degree", 2, 5)
        if kernel in ("poly", "sigmoid"):
            params["coef0"] = trial.suggest_float("coef0", -1.0, 1.0)
        params["C"] = trial.suggest_float("C", 1e-3, 1e3, log=True)
        params["gamma"] = trial.suggest_float("gamma", 1e-4, 10.0, log=True)
        return params

    def make(seed: int) -> Callable[[dict[str, Any]], float]:
        from sklearn.datasets import load_digits
        from sklearn.svm import SVC

        X, y = load_digits(return_X_y=True)
        Xtr, Xva, ytr, yva = _split(X / 16.0, y, stratify=True)

        def evaluate(params: dict[str, Any]) -> float:
            model = SVC(**params).fit(Xtr, ytr)
            return float(1.0 - model.score(Xva, yva))

        return evaluate

    def space() -> Any:
        from hyperopt import hp

        return {
            "kernel_branch": hp.choice("kernel_branch", [
                {"kernel": "rbf"},
                {"kernel": "poly", "degree": hp.uniformint("degree", 2, 5),
                 "coef0": hp.uniform("coef0_poly", -1.0, 1.0)},
                {"kernel": "sigmoid", "coef0": hp.uniform("coef0_sigmoid", -1.0, 1.0)},
            ]),
            "C": hp.loguniform("C", math.log(1e-3), math.log(1e3)),
            "gamma": hp.loguniform("gamma", math.log(1e-4), math.log(10.0)),
        }

    return Problem("svc_digits", "sklearn", suggest, make, space, None,
                   "SVC on digits: C, gamma (log), kernel {rbf, poly, sigmoid} with conditional "
                   "degree (poly) and coef0 (poly, sigmoid); validation error rate")


def _enet_diabetes() -> Problem:
    def suggest(trial: Any) -> dict[str, Any]:
        return {
            "scaler": trial.suggest_categorical("scaler", ["standard", "quantile"]),
            "poly_degree": trial.suggest_int("poly_degree", 1, 3),
            "alpha": trial.suggest_float("alpha", 1e-5, 10.0, log=True),
            "l1_ratio": trial.suggest_float("l1_ratio", 0.0, 1.0, step=0.05),
        }

    def make(seed: int) -> Callable[[dict[str, Any]], float]:
        from sklearn.datasets import load_diabetes
        from sklearn.linear_model import ElasticNet
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import PolynomialFeatures, QuantileTransformer, StandardScaler

        Xtr, Xva, ytr, yva = _split(*load_diabetes(return_X_y=True), stratify=False)
        var = float(np.var(yva))

        def evaluate(params: dict[str, Any]) -> float:
            degree = params["poly_degree"]
            steps: list[Any] = [StandardScaler() if params["scaler"] == "standard"
                                else QuantileTransformer(n_quantiles=100, random_state=0)]
            if degree > 1:
                steps += [PolynomialFeatures(degree, include_bias=False), StandardScaler()]
            steps.append(ElasticNet(alpha=params["alpha"], l1_ratio=params["l1_ratio"],
                                    max_iter=2000, tol=1e-3))
            model = make_pipeline(*steps).fit(Xtr, ytr)
            # 1 - R^2 on the validation split: mean squared error / variance.
            return float(np.mean((model.predict(Xva) - yva) ** 2) / var)

        return evaluate

    def space() -> Any:
        from hyperopt import hp

        return {
            "scaler": hp.choice("scaler", ["standard", "quantile"]),
            "poly_degree": hp.uniformint("poly_degree", 1, 3),
            "alpha": hp.loguniform("alpha", math.log(1e-5), math.log(10.0)),
            "l1_ratio": hp.quniform("l1_ratio", 0.0, 1.0, 0.05),
        }

    return Problem("enet_diabetes", "sklearn", suggest, make, space, None,
                   "ElasticNet on diabetes with scaler (categorical) and polynomial degree (int); "
                   "validation MSE / variance (1 - R^2)")


def _mlp_digits() -> Problem:
    def suggest(trial: Any) -> dict[str, Any]:
        n_layers = trial.suggest_int("n_layers", 1, 3)
        return {
            "widths": [trial.suggest_int(f"width_{i}", 16, 256, log=True) for i in range(n_layers)],
            "dropout": trial.suggest_float("dropout", 0.0, 0.5),
            "lr": trial.suggest_float("lr", 1e-4, 1e-1, log=True),
            "optimizer": trial.suggest_categorical("optimizer", ["adam", "sgd"]),
        }

    def make(seed: int) -> Callable[[dict[str, Any]], float]:
        import torch
        from sklearn.datasets import load_digits

        torch.set_num_threads(1)
        X, y = load_digits(return_X_y=True)
        Xtr, Xva, ytr, yva = _split((X / 16.0).astype(np.float32), y, stratify=True)
        Xtr_t, Xva_t = torch.from_numpy(Xtr), torch.from_numpy(Xva)
        ytr_t, yva_t = torch.from_numpy(ytr).long(), torch.from_numpy(yva).long()
        n_epochs, batch = 10, 128

        def evaluate(params: dict[str, Any]) -> float:
            widths, dropout, lr = params["widths"], params["dropout"], params["lr"]
            optimizer = params["optimizer"]
            # Weights and batch order are fixed (seed 0): the loss depends on the
            # hyperparameters only, so the samplers are compared on one function.
            g = torch.Generator().manual_seed(0)
            torch.manual_seed(0)
            layers: list[torch.nn.Module] = []
            d_in = Xtr.shape[1]
            for w in widths:
                layers += [torch.nn.Linear(d_in, w), torch.nn.ReLU(), torch.nn.Dropout(dropout)]
                d_in = w
            net = torch.nn.Sequential(*layers, torch.nn.Linear(d_in, 10))
            opt = (torch.optim.Adam(net.parameters(), lr=lr) if optimizer == "adam"
                   else torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9))
            loss_fn = torch.nn.CrossEntropyLoss()
            net.train()
            for _ in range(n_epochs):
                perm = torch.randperm(len(Xtr_t), generator=g)
                for i in range(0, len(perm), batch):
                    idx = perm[i: i + batch]
                    opt.zero_grad()
                    loss_fn(net(Xtr_t[idx]), ytr_t[idx]).backward()
                    opt.step()
            net.eval()
            with torch.no_grad():
                loss = float(loss_fn(net(Xva_t), yva_t))
            # A diverged run (NaN or huge loss) counts as the loss of a uniform guess.
            return loss if math.isfinite(loss) and loss < math.log(10) else math.log(10)

        return evaluate

    def space() -> Any:
        from hyperopt import hp

        def width(i: int, branch: int) -> Any:
            # hyperopt labels must be unique: one label per branch; the dict key is the
            # objective's name, so the flattened sample has width_0, width_1, ...
            return hp.qloguniform(f"width_{i}@{branch}", math.log(16), math.log(256), 1)

        return {
            "layers": hp.choice("n_layers_branch", [
                {"n_layers": 1, **{f"width_{i}": width(i, 1) for i in range(1)}},
                {"n_layers": 2, **{f"width_{i}": width(i, 2) for i in range(2)}},
                {"n_layers": 3, **{f"width_{i}": width(i, 3) for i in range(3)}},
            ]),
            "dropout": hp.uniform("dropout", 0.0, 0.5),
            "lr": hp.loguniform("lr", math.log(1e-4), math.log(1e-1)),
            "optimizer": hp.choice("optimizer", ["adam", "sgd"]),
        }

    return Problem("mlp_digits", "sklearn", suggest, make, space, None,
                   "PyTorch MLP (CPU, 10 epochs) on digits: n_layers with conditional log-int "
                   "widths, dropout, lr (log), optimizer {adam, sgd}; validation cross-entropy")


SKLEARN_PROBLEMS: dict[str, Callable[[], Problem]] = {
    "hgb_breast_cancer": _hgb_breast_cancer,
    "svc_digits": _svc_digits,
    "mlp_digits": _mlp_digits,
    "enet_diabetes": _enet_diabetes,
}


def sklearn_problems(names: Sequence[str] | None = None) -> list[Problem]:
    """The model-tuning problems (all of them, or those named)."""
    names = list(SKLEARN_PROBLEMS) if names is None else list(names)
    for n in names:
        if n not in SKLEARN_PROBLEMS:
            raise ValueError(f"unknown sklearn problem {n!r}; choose from {sorted(SKLEARN_PROBLEMS)}")
    return [SKLEARN_PROBLEMS[n]() for n in names]


# ----------------------------------------------------------------------------- discrete suite
def _table_problem(name: str) -> Problem:
    spec = _discrete.TABLES[name]
    _, f_min, _ = _discrete.load_table(name)  # the table's minimum: the regret is exact
    return Problem(name, "discrete", spec.space.suggest, lambda seed: _discrete.table_evaluate(name),
                   spec.space.hyperopt, f_min, f"{spec.description} (table of {spec.space.size()})",
                   {"kind": "table", "n_points": spec.space.size()})


def _synthetic_problem(name: str) -> Problem:
    spec = _discrete.SYNTHETIC[name]
    return Problem(name, "discrete", spec.space.suggest,
                   lambda seed: _discrete.synthetic_evaluate(name, seed), spec.space.hyperopt, 0.0,
                   f"{spec.description}; instance seed+1", {"kind": "synthetic", "n_points": spec.space.size()})


DISCRETE_PROBLEMS: dict[str, Callable[[], Problem]] = {
    **{n: functools.partial(_table_problem, n) for n in _discrete.TABLES},
    **{n: functools.partial(_synthetic_problem, n) for n in _discrete.SYNTHETIC},
}


def discrete_problems(names: Sequence[str] | None = None) -> list[Problem]:
    """The discrete-space problems (all of them, or those named): tables, then synthetic."""
    names = list(DISCRETE_PROBLEMS) if names is None else list(names)
    for n in names:
        if n not in DISCRETE_PROBLEMS:
            raise ValueError(f"unknown discrete problem {n!r}; choose from {sorted(DISCRETE_PROBLEMS)}")
    return [DISCRETE_PROBLEMS[n]() for n in names]


def suite_problems(suite: str, names: Sequence[str] | None = None) -> list[Problem]:
    """The problems of ``suite`` ``"sklearn"`` or ``"discrete"`` (all, or those named)."""
    if suite == "sklearn":
        return sklearn_problems(names)
    if suite == "discrete":
        return discrete_problems(names)
    raise ValueError(f"suite must be 'sklearn' or 'discrete' (BBOB: bbob_problems), but got {suite!r}")


def problem_by_name(name: str) -> Problem:
    """The problem called ``name`` (``bbob_fXX_dD`` or a key of ``SKLEARN_PROBLEMS`` or
    ``DISCRETE_PROBLEMS``)."""
    if name.startswith("bbob_f"):
        f, d = name[len("bbob_f"):].split("_d")
        return _bbob(int(f), int(d))
    if name in DISCRETE_PROBLEMS:
        return DISCRETE_PROBLEMS[name]()
    return sklearn_problems([name])[0]
