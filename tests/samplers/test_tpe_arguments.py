"""TPESampler's Optuna 5.0 arguments: the deprecated ones warn as in Optuna and are honoured."""

from __future__ import annotations

import inspect
import logging
import warnings
from typing import Any

import numpy as np
import pytest

import hpo_core
from hpo_core.samplers import TPESampler

DEPRECATED: dict[str, Any] = {
    "consider_prior": True,
    "prior_weight": 0.5,
    "consider_magic_clip": False,
    "consider_endpoints": True,
    "gamma": lambda n: 2,
    "weights": lambda n: __import__("numpy").ones(n),
    "warn_independent_sampling": True,
}


def test_signature_is_optunas() -> None:
    optuna = pytest.importorskip("optuna")
    ours = inspect.signature(TPESampler.__init__).parameters
    theirs = inspect.signature(optuna.samplers.TPESampler.__init__).parameters
    for name, p in theirs.items():
        assert name in ours, name
        assert ours[name].default == p.default or name == "weights", name
        assert ours[name].kind == p.kind, name


@pytest.mark.parametrize("name", sorted(DEPRECATED))
def test_deprecated_argument_warns_like_optuna(name: str) -> None:
    optuna = pytest.importorskip("optuna")
    with pytest.warns(FutureWarning) as ours:
        TPESampler(**{name: DEPRECATED[name]})
    with pytest.warns(FutureWarning) as theirs:
        optuna.samplers.TPESampler(**{name: DEPRECATED[name]})
    assert str(ours[0].message) == str(theirs[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        TPESampler()  # no argument given: no warning


def test_deprecated_arguments_are_honoured() -> None:
    def run(**kwargs: Any) -> list[float]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            study = hpo_core.create_study(sampler=TPESampler(seed=1, n_startup_trials=3, **kwargs))
        study.optimize(lambda t: t.suggest_float("x", -3, 3) ** 2, n_trials=15)
        return [t.params["x"] for t in study.trials]

    assert run() == run(prior_weight=1.0)  # the default, given explicitly
    assert run() != run(prior_weight=0.1)
    assert run() != run(gamma=lambda n: 1)


def test_bad_deprecated_argument_is_named() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        with pytest.raises(TypeError, match="consider_prior"):
            TPESampler(consider_prior="yes")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="warn_independent_sampling"):
            TPESampler(warn_independent_sampling=1)  # type: ignore[arg-type]


def test_hyperopt_parameters() -> None:
    optuna = pytest.importorskip("optuna")
    with pytest.warns(FutureWarning, match="hyperopt_parameters has been deprecated in v4.9.0"):
        ours = TPESampler.hyperopt_parameters()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        theirs = optuna.samplers.TPESampler.hyperopt_parameters()
    assert ours.keys() == theirs.keys()
    for key in ours:
        if callable(ours[key]):
            for n in (1, 10, 100, 10_000):
                assert np.array_equal(ours[key](n), theirs[key](n)), (key, n)
        else:
            assert ours[key] == theirs[key]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        sampler = TPESampler(**ours)
    study = hpo_core.create_study(sampler=sampler)
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=25)
    assert len(study.trials) == 25


def test_warn_independent_sampling_logs_optunas_line() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        sampler = TPESampler(multivariate=True, warn_independent_sampling=True, n_startup_trials=2, seed=0)
    study = hpo_core.create_study(sampler=sampler)

    def objective(t: Any) -> float:
        x = t.suggest_float("x", 0, 1)
        if t.number % 2:  # y is outside the joint space (not in every trial)
            return x + t.suggest_float("y", 0, 1)
        return x

    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    hpo_core.logging.get_logger().addHandler(handler)
    try:
        study.optimize(objective, n_trials=8)
    finally:
        hpo_core.logging.get_logger().removeHandler(handler)
    lines = [r.getMessage() for r in records if "sampled independently" in r.getMessage()]
    assert lines and all("The parameter 'y'" in m for m in lines)
