"""One study of one sampler on one problem: the runners behind ``quality.py``.

A sampler is named by a spec, ``name[:key=value...]`` (``hpo_tpe:n_ei_candidates=64``);
the options are passed to its constructor; ``key.sub=value`` sets one entry of a dict
argument (``hpo_auto:tpe_kwargs.group=True``). Every runner drives the same define-by-run
loop (``study.ask()``, ``problem.suggest(trial)``, ``evaluate``, ``tell``) except
hyperopt's, which has no define-by-run API and replays its samples through
:class:`_problems.DictTrial`. Every sampler is seeded with the run's seed.

Samplers:

- ``hpo_tpe``, ``hpo_gp``, ``hpo_auto``, ``hpo_random``, ``hpo_qmc``: hpo_core's.
- ``optuna_tpe``, ``optuna_gp``, ``optuna_cmaes``, ``optuna_random``: Optuna 5.0's
  (the GP needs PyTorch, CMA-ES the ``cmaes`` package).
- ``rustuna_tpe``: rustuna 0.2's TPESampler (``tell`` takes the trial number).
- ``hyperopt_tpe``, ``hyperopt_random``: ``tpe.suggest`` and ``rand.suggest`` through
  ``fmin`` with ``rstate=np.random.default_rng(seed)``.
"""

from __future__ import annotations

import ast
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import _problems

SAMPLERS = ("hpo_tpe", "hpo_gp", "hpo_auto", "hpo_random", "hpo_qmc", "optuna_tpe", "optuna_gp",
            "optuna_cmaes", "optuna_random", "rustuna_tpe", "hyperopt_tpe", "hyperopt_random")

Evaluate = Callable[[dict[str, Any]], float]
Loop = tuple[list[float], float]


def parse_sampler(spec: str, names: Sequence[str] = SAMPLERS) -> tuple[str, dict[str, Any]]:
    """``"hpo_tpe:n_ei_candidates=64:multivariate=True"`` -> ``("hpo_tpe", {...})``.

    Option values are Python literals (``64``, ``True``, ``0.1``, ``None``); anything
    else is kept as a string. A dotted key sets one entry of a dict argument:
    ``hpo_auto:tpe_kwargs.group=True`` -> ``{"tpe_kwargs": {"group": True}}`` (a dict
    literal would hold a colon, which separates options). ``names``: the allowed names (``learning_curves.py`` passes
    its configurations).
    """
    name, *opts = spec.split(":")
    if name not in names:
        raise ValueError(f"unknown sampler {name!r}; choose from {', '.join(names)}")
    kwargs: dict[str, Any] = {}
    for opt in opts:
        key, sep, raw = opt.partition("=")
        if not sep or not key:
            raise ValueError(f"sampler option must be key=value, but got {opt!r} in {spec!r}")
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            value = raw
        outer, dot, inner = key.partition(".")
        if dot:
            if not outer or not inner or not isinstance(kwargs.setdefault(outer, {}), dict):
                raise ValueError(f"sampler option {opt!r} in {spec!r} must be dict_arg.key=value")
            kwargs[outer][inner] = value
        else:
            kwargs[key] = value
    if name.startswith("hyperopt") and kwargs:
        raise ValueError(f"{name} takes no options, but got {spec!r}")
    return name, kwargs


def _ask_tell_loop(study: Any, problem: _problems.Problem, evaluate: Evaluate, n_trials: int,
                   *, tell_by_number: bool = False) -> Loop:
    """Run ``n_trials`` ask -> suggest -> evaluate -> tell; return the values and the evaluation seconds.

    Only ``evaluate`` is timed as "objective": with define-by-run, the sampler works
    inside the ``suggest_*`` calls, which count as sampler time.
    """
    values, objective_s = [], 0.0
    for _ in range(n_trials):
        trial = study.ask()
        params = problem.suggest(trial)
        t0 = time.perf_counter()
        value = float(evaluate(params))
        objective_s += time.perf_counter() - t0
        study.tell(trial.number if tell_by_number else trial, value)
        values.append(value)
    return values, objective_s


def _run_hpo(kind: str, kwargs: dict[str, Any], problem: _problems.Problem, evaluate: Evaluate,
             seed: int, n_trials: int) -> Loop:
    import hpo_core

    classes = {"hpo_tpe": hpo_core.samplers.TPESampler, "hpo_gp": hpo_core.samplers.GPSampler,
               "hpo_auto": hpo_core.samplers.AutoSampler, "hpo_random": hpo_core.samplers.RandomSampler}
    if kind == "hpo_qmc":
        kwargs = {"warn_independent_sampling": False, **kwargs}
    sampler = classes.get(kind, hpo_core.samplers.QMCSampler)(seed=seed, **kwargs)
    study = hpo_core.create_study(sampler=sampler)
    return _ask_tell_loop(study, problem, evaluate, n_trials)


def _run_optuna(kind: str, kwargs: dict[str, Any], problem: _problems.Problem, evaluate: Evaluate,
                seed: int, n_trials: int) -> Loop:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    cls = {"optuna_tpe": optuna.samplers.TPESampler, "optuna_gp": optuna.samplers.GPSampler,
           "optuna_cmaes": optuna.samplers.CmaEsSampler}.get(kind, optuna.samplers.RandomSampler)
    study = optuna.create_study(sampler=cls(seed=seed, **kwargs))
    return _ask_tell_loop(study, problem, evaluate, n_trials)


def _run_rustuna(kwargs: dict[str, Any], problem: _problems.Problem, evaluate: Evaluate,
                 seed: int, n_trials: int) -> Loop:
    import rustuna

    study = rustuna.create_study(sampler=rustuna.samplers.TPESampler(seed=seed, **kwargs))
    return _ask_tell_loop(study, problem, evaluate, n_trials, tell_by_number=True)


def _run_hyperopt(kind: str, problem: _problems.Problem, evaluate: Evaluate, seed: int,
                  n_trials: int) -> Loop:
    import hyperopt
    import numpy as np

    objective_s = 0.0

    def fn(sample: Any) -> float:
        nonlocal objective_s
        params = problem.suggest(_problems.DictTrial(_problems.flatten(sample)))
        t0 = time.perf_counter()
        value = float(evaluate(params))
        objective_s += time.perf_counter() - t0
        return value

    trials = hyperopt.Trials()
    algo = hyperopt.tpe.suggest if kind == "hyperopt_tpe" else hyperopt.rand.suggest
    hyperopt.fmin(fn, problem.hyperopt_space(), algo=algo, max_evals=n_trials, trials=trials,
                  rstate=np.random.default_rng(seed), show_progressbar=False, verbose=False)
    return [float(v) for v in trials.losses()], objective_s


def run_sampler(kind: str, kwargs: dict[str, Any], problem: _problems.Problem, evaluate: Evaluate,
                seed: int, n_trials: int) -> Loop:
    """``n_trials`` trials of sampler ``kind`` on ``problem``: the values and the evaluation seconds."""
    if kind.startswith("hpo_"):
        return _run_hpo(kind, kwargs, problem, evaluate, seed, n_trials)
    if kind.startswith("optuna_"):
        return _run_optuna(kind, kwargs, problem, evaluate, seed, n_trials)
    if kind == "rustuna_tpe":
        return _run_rustuna(kwargs, problem, evaluate, seed, n_trials)
    return _run_hyperopt(kind, problem, evaluate, seed, n_trials)


def config_key(params: dict[str, Any]) -> tuple[Any, ...]:
    """A hashable key of one configuration, for counting distinct ones (lists, as
    ``mlp_digits``'s ``widths``, become tuples)."""
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in params.items()))


def limit_threads() -> None:
    """One thread for BLAS/OpenMP/torch: runs must not compete (2-core machines, --workers).

    The environment variables cover the libraries not loaded yet (an OpenMP runtime reads
    them when it starts); threadpoolctl limits the ones already loaded.
    """
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:
        pass
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


_WARMED: set[str] = set()


def warm_up(spec: str) -> None:
    """A throwaway 25-trial study per sampler and process: imports, JIT compilation and
    first-call caches are paid here, not by the first timed run."""
    if spec in _WARMED:
        return
    names = ("x0", "x1")
    sphere = _problems.Problem(
        "warm_up", "none", lambda t: {n: t.suggest_float(n, -1.0, 1.0) for n in names},
        lambda seed: lambda p: p["x0"] ** 2 + p["x1"] ** 2, lambda: _sphere_space(names), 0.0)
    kind, kwargs = parse_sampler(spec)
    run_sampler(kind, kwargs, sphere, sphere.make(0), 0, 25)
    _WARMED.add(spec)


def _sphere_space(names: tuple[str, ...]) -> Any:
    from hyperopt import hp

    return {n: hp.uniform(n, -1.0, 1.0) for n in names}
