"""PB2: PBT's loop with a GP-UCB explore step (``hpo_core.pbt.PB2``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hpo_core
from hpo_core import FloatDistribution
from hpo_core.pbt import PB2, PBT, best_trial, replay, schedule

OPTIMUM = 0.7


def _gain(h: float) -> float:
    """Score gained per step with hyperparameter ``h``: largest at OPTIMUM, whatever the state."""
    return 1.0 - ((h - OPTIMUM) / 0.5) ** 2


def _synthetic(trial: Any) -> float:
    h = trial.suggest_float("h", 0.0, 1.0)
    ckpt = trial.checkpoint
    x = ckpt.load() or 0.0
    for step in ckpt.steps:
        x += _gain(h)
        trial.report(x, step)
    ckpt.save(x)
    return float(x)


def _run(scheduler: PBT, tmp_path: Path, *, population_size: int = 8, n_steps: int = 24) -> hpo_core.Study:
    study = hpo_core.create_study(direction="maximize", sampler=hpo_core.samplers.RandomSampler(seed=0))
    scheduler.run(study, _synthetic, population_size=population_size, n_steps=n_steps, checkpoint_dir=tmp_path)
    return study


def _explored(study: hpo_core.Study) -> list[float]:
    """The values chosen by explore steps: segments that resumed from a donor."""
    return [t.params["h"] for t in study.trials if t.system_attrs["pbt"]["donor"] is not None]


@pytest.mark.parametrize(("kwargs", "exc", "name"), [
    ({}, TypeError, "hyperparam_bounds"),
    ({"hyperparam_bounds": {}}, ValueError, "hyperparam_bounds"),
    ({"hyperparam_bounds": [("h", 0.0, 1.0)]}, TypeError, "hyperparam_bounds"),
    ({"hyperparam_bounds": {"h": [1.0, 0.0]}}, ValueError, r"hyperparam_bounds\['h'\]"),
    ({"hyperparam_bounds": {"h": [0.0, float("inf")]}}, ValueError, r"hyperparam_bounds\['h'\]"),
    ({"hyperparam_bounds": {"h": [0.0, 1.0, 2.0]}}, ValueError, r"hyperparam_bounds\['h'\]"),
    ({"hyperparam_bounds": {"h": FloatDistribution(0.0, 1.0, step=0.1)}}, ValueError, r"hyperparam_bounds\['h'\]"),
    ({"hyperparam_bounds": {"h": [0, 1]}, "perturbation_interval": 0}, ValueError, "PB2: `perturbation_interval"),
    ({"hyperparam_bounds": {"h": [0, 1]}, "quantile_fraction": 0.7}, ValueError, "quantile_fraction"),
    ({"hyperparam_bounds": {"h": [0, 1]}, "seed": -1}, ValueError, "seed"),
])
def test_pb2_rejects_bad_arguments(kwargs: dict[str, Any], exc: type[Exception], name: str) -> None:
    kwargs = {"perturbation_interval": 2, **kwargs}
    with pytest.raises(exc, match=name):
        PB2(**kwargs)


@pytest.mark.parametrize("synch", [True, False])
def test_pb2_same_seed_same_run(tmp_path: Path, synch: bool) -> None:
    def rows(seed: int, sub: str) -> list[tuple[Any, ...]]:
        pb2 = PB2(perturbation_interval=2, hyperparam_bounds={"h": [0.0, 1.0]}, synch=synch, seed=seed)
        study = _run(pb2, tmp_path / sub, population_size=4, n_steps=10)
        return [(t.params["h"], t.value, t.system_attrs["pbt"]["donor"]) for t in study.trials]

    a, b, c = rows(3, "a"), rows(3, "b"), rows(4, "c")
    assert a == b and a != c


def test_pb2_explores_nearer_the_optimum_than_pbt(tmp_path: Path) -> None:
    # The score grows by _gain(h) per step: a bandit that models the gain from (t, h)
    # should propose h near OPTIMUM, PBT's random perturbations (x1.2 or x0.8 of a top
    # member's value, resampled with probability 0.25) stay spread out. Paired over seeds.
    dist_pb2, dist_pbt = [], []
    for seed in range(3):
        pb2 = PB2(perturbation_interval=2, hyperparam_bounds={"h": [0.0, 1.0]}, synch=True, seed=seed)
        pbt = PBT(perturbation_interval=2, hyperparam_mutations={"h": FloatDistribution(0.0, 1.0)}, synch=True,
                  seed=seed)
        dist_pb2.append(np.median(np.abs(np.array(_explored(_run(pb2, tmp_path / f"b{seed}"))) - OPTIMUM)))
        dist_pbt.append(np.median(np.abs(np.array(_explored(_run(pbt, tmp_path / f"t{seed}"))) - OPTIMUM)))
    assert all(b < t for b, t in zip(dist_pb2, dist_pbt)), (dist_pb2, dist_pbt)
    assert max(dist_pb2) < 0.1, dist_pb2


def test_pb2_values_stay_within_the_bounds(tmp_path: Path) -> None:
    pb2 = PB2(perturbation_interval=1, hyperparam_bounds={"h": [0.2, 0.4]}, seed=0)
    study = _run(pb2, tmp_path, population_size=4, n_steps=8)
    assert _explored(study) and all(0.2 <= t.params["h"] <= 0.4 for t in study.trials)


def test_pb2_trains_a_pytorch_model_with_checkpoints(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch", reason="a real PyTorch run")
    from _training import train_linear

    study = hpo_core.create_study(direction="minimize", sampler=hpo_core.samplers.RandomSampler(seed=0))
    pb2 = PB2(perturbation_interval=2, hyperparam_bounds={"lr": FloatDistribution(1e-3, 0.5, log=True)},
              synch=True, seed=0)
    best = pb2.run(study, train_linear, population_size=4, n_steps=8, checkpoint_dir=tmp_path,
                   save_fn=torch.save, load_fn=torch.load)
    assert best is not None and best.system_attrs["pbt"]["stop"] == 8
    saved = torch.load(os.path.join(best.system_attrs["pbt"]["checkpoint"], "checkpoint.pkl"))
    assert saved["step"] == 8
    steps = schedule(study, best_trial(study))
    assert [(s.start, s.stop) for s in steps] == [(0, 2), (2, 4), (4, 6), (6, 8)]
    assert any(t.system_attrs["pbt"]["donor"] is not None for t in study.trials)
    again = replay(train_linear, steps, checkpoint_dir=tmp_path / "replay", save_fn=torch.save, load_fn=torch.load)
    assert again.value == pytest.approx(best.value, rel=1e-6)  # the schedule trains the winner again
