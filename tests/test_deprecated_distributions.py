"""Optuna's deprecated distribution classes: warnings, identity, storage round trips."""

from __future__ import annotations

import json
import pickle
import warnings
from pathlib import Path
from typing import Any

import pytest

import hpo_core
from hpo_core.distributions import (
    DiscreteUniformDistribution,
    FloatDistribution,
    IntDistribution,
    IntLogUniformDistribution,
    IntUniformDistribution,
    LogUniformDistribution,
    UniformDistribution,
    distribution_to_json,
    json_to_distribution,
)

CASES: list[tuple[type, tuple[Any, ...], Any]] = [
    (UniformDistribution, (0.0, 1.0), FloatDistribution(0.0, 1.0)),
    (LogUniformDistribution, (1e-3, 1.0), FloatDistribution(1e-3, 1.0, log=True)),
    (DiscreteUniformDistribution, (0.0, 1.0, 0.25), FloatDistribution(0.0, 1.0, step=0.25)),
    (IntUniformDistribution, (0, 10, 2), IntDistribution(0, 10, step=2)),
    (IntLogUniformDistribution, (1, 100), IntDistribution(1, 100, log=True)),
]


def make(cls: type, args: tuple[Any, ...]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return cls(*args)


@pytest.mark.parametrize(("cls", "args", "modern"), CASES)
def test_deprecated_class_warns_and_keeps_its_identity(cls: type, args: tuple[Any, ...], modern: Any) -> None:
    with pytest.warns(FutureWarning, match=f"{cls.__name__} has been deprecated in v3.0.0"):
        d = cls(*args)
    assert isinstance(d, type(modern))
    assert (d.low, d.high, d.log, d.step) == (modern.low, modern.high, modern.log, modern.step)
    assert d != modern and d == make(cls, args) and hash(d) == hash(make(cls, args))
    assert cls.__name__ in repr(d)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # reading one back does not warn again
        assert json_to_distribution(distribution_to_json(d)) == d
        assert pickle.loads(pickle.dumps(d)) == d


def test_discrete_uniform_q_is_its_step() -> None:
    assert make(DiscreteUniformDistribution, (0.0, 1.0, 0.25)).q == 0.25


@pytest.mark.parametrize(("cls", "args", "modern"), CASES)
def test_json_is_optunas(cls: type, args: tuple[Any, ...], modern: Any) -> None:
    optuna = pytest.importorskip("optuna")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        theirs = getattr(optuna.distributions, cls.__name__)(*args)
        assert json.loads(distribution_to_json(make(cls, args))) == json.loads(
            optuna.distributions.distribution_to_json(theirs)
        )
        assert optuna.distributions.json_to_distribution(distribution_to_json(make(cls, args))) == theirs
        assert json_to_distribution(optuna.distributions.distribution_to_json(theirs)) == make(cls, args)


def test_json_reads_optunas_abbreviated_form() -> None:
    assert json_to_distribution('{"type": "float", "low": 0, "high": 1, "log": false}') == FloatDistribution(0, 1)
    assert json_to_distribution('{"type": "int", "low": 1, "high": 9}') == IntDistribution(1, 9)
    assert json_to_distribution('{"type": "categorical", "choices": ["a", 1]}') == hpo_core.distributions.CategoricalDistribution(["a", 1])
    with pytest.raises(ValueError, match="type"):
        json_to_distribution('{"type": "complex"}')


def test_deprecated_distribution_in_a_stored_trial(tmp_path: Path) -> None:
    """A trial built with an old class is stored and read back with it (SQLite file)."""
    study = hpo_core.create_study(storage=f"sqlite:///{tmp_path / 'd.db'}")
    dist = make(UniformDistribution, (0.0, 2.0))
    study.add_trial(hpo_core.trial.create_trial(params={"x": 0.5}, distributions={"x": dist}, value=1.0))
    again = hpo_core.load_study(study_name=study.study_name, storage=f"sqlite:///{tmp_path / 'd.db'}")
    assert type(again.trials[0].distributions["x"]) is UniformDistribution
    assert again.trials[0].params == {"x": 0.5}
