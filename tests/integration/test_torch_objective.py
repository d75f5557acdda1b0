"""TorchObjective: real training of small PyTorch models on generated tensors."""

from __future__ import annotations

import random
import warnings
import weakref

import numpy as np
import pytest

import hpo_core
from hpo_core.trial import TrialState

torch = pytest.importorskip("torch", reason="the PyTorch integration needs torch (pip install 'hpo_core[integration]')")
from hpo_core.integration import TorchObjective, seed_everything, trial_device, trial_seed  # noqa: E402


def _data() -> tuple[object, object]:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(256, 4, generator=g)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]]) + 0.1 * torch.randn(256, 1, generator=g)
    return x, y


X, Y = _data()


def _train_linear(trial, device, n_epochs: int = 5):  # type: ignore[no-untyped-def]
    lr = trial.suggest_float("lr", 1e-3, 10.0, log=True)
    model = torch.nn.Linear(4, 1).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    for _ in range(n_epochs):
        for xb, yb in zip(X.split(32), Y.split(32)):
            loss = torch.nn.functional.mse_loss(model(xb.to(device)), yb.to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            yield torch.nn.functional.mse_loss(model(X.to(device)), Y.to(device)).item()


def test_torch_objective_prunes_a_diverging_trial_and_completes_a_good_one() -> None:
    study = hpo_core.create_study(pruner=hpo_core.pruners.ThresholdPruner(upper=100.0))
    study.enqueue_trial({"lr": 0.05})  # converges
    study.enqueue_trial({"lr": 5.0})  # diverges: loss above 100 after the first epoch
    study.optimize(TorchObjective(_train_linear, seed=0), n_trials=2)
    good, bad = study.trials
    assert good.state == TrialState.COMPLETE and good.value is not None and good.value < 0.1
    assert sorted(good.intermediate_values) == [0, 1, 2, 3, 4]
    assert bad.state == TrialState.PRUNED and sorted(bad.intermediate_values) == [0]


def test_torch_objective_plain_function_returns_its_value() -> None:
    def train(trial, device):  # type: ignore[no-untyped-def]
        return float(torch.ones(3, device=device).sum())

    study = hpo_core.create_study()
    study.optimize(TorchObjective(train), n_trials=1)
    assert study.best_value == 3.0 and study.trials[0].intermediate_values == {}


def test_torch_objective_out_of_memory_is_recorded_and_the_study_goes_on() -> None:
    freed: list[weakref.ref] = []

    def train(trial, device):  # type: ignore[no-untyped-def]
        model = torch.nn.Linear(64, 64).to(device)
        freed.append(weakref.ref(model))
        yield 1.0
        if trial.number == 1:
            torch.empty(2**62, dtype=torch.uint8)  # a real allocation that fails: 4 EiB
        yield 0.5

    study = hpo_core.create_study()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        study.optimize(TorchObjective(train), n_trials=3)
    states = [t.state for t in study.trials]
    assert states == [TrialState.COMPLETE, TrialState.FAIL, TrialState.COMPLETE]
    failed = study.trials[1]
    assert failed.system_attrs["out_of_memory"] is True
    assert "can't allocate memory" in failed.system_attrs["fail_reason"]
    assert any("ran out of memory" in str(w.message) for w in caught)
    assert all(ref() is None for ref in freed)  # the failed trial's model is gone too


def test_torch_objective_releases_the_model_of_a_pruned_trial() -> None:
    freed: list[weakref.ref] = []

    def train(trial, device):  # type: ignore[no-untyped-def]
        model = torch.nn.Linear(8, 8).to(device)
        freed.append(weakref.ref(model))
        yield 10.0
        yield 10.0

    study = hpo_core.create_study(pruner=hpo_core.pruners.ThresholdPruner(upper=1.0))
    study.optimize(TorchObjective(train), n_trials=2)
    assert [t.state for t in study.trials] == [TrialState.PRUNED] * 2
    assert all(ref() is None for ref in freed)


def _train_random(trial, device):  # type: ignore[no-untyped-def]
    trial.suggest_float("x", 0, 1)
    model = torch.nn.Linear(3, 1)  # initialized from torch's global generator
    w = float(model.weight.detach().sum())
    return w + float(torch.rand(1)) + float(np.random.rand()) + random.random()


def test_torch_objective_seeds_torch_numpy_and_random_per_trial() -> None:
    def run(seed: int) -> list[float]:
        study = hpo_core.create_study(sampler=hpo_core.samplers.RandomSampler(seed=0))
        study.optimize(TorchObjective(_train_random, seed=seed), n_trials=3)
        return [t.value for t in study.trials]  # type: ignore[misc]

    first, again, other = run(7), run(7), run(8)
    assert first == again
    assert len(set(first)) == 3  # each trial has its own seed
    assert first != other


def test_torch_objective_records_the_trial_seed() -> None:
    study = hpo_core.create_study()
    study.optimize(TorchObjective(_train_random, seed=3), n_trials=2)
    assert [t.user_attrs["seed"] for t in study.trials] == [trial_seed(3, 0), trial_seed(3, 1)]


def test_seed_everything_reproduces_all_three_generators() -> None:
    seed_everything(5)
    a = (float(torch.rand(1)), float(np.random.rand()), random.random())
    seed_everything(5)
    assert a == (float(torch.rand(1)), float(np.random.rand()), random.random())


def test_torch_objective_without_seed_seeds_nothing() -> None:
    study = hpo_core.create_study()
    study.optimize(TorchObjective(_train_random, seed=None), n_trials=1)
    assert "seed" not in study.trials[0].user_attrs


def test_trial_device_follows_the_placement() -> None:
    seen: list[str] = []

    def train(trial, device):  # type: ignore[no-untyped-def]
        seen.append(str(device))
        return float(torch.zeros(1, device=device).sum())

    study = hpo_core.create_study()
    study.optimize(TorchObjective(train), n_trials=2, devices=["cpu"])
    assert seen == ["cpu", "cpu"]
    default = "cuda" if torch.cuda.is_available() else "cpu"
    assert trial_device(study.ask()).type == default


def test_torch_objective_validates_its_arguments() -> None:
    with pytest.raises(TypeError, match="train"):
        TorchObjective(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="seed"):
        TorchObjective(_train_random, seed=-1)
    with pytest.raises(TypeError, match="deterministic"):
        TorchObjective(_train_random, deterministic=1)  # type: ignore[arg-type]


def test_torch_objective_empty_generator_fails_the_trial() -> None:
    def train(trial, device):  # type: ignore[no-untyped-def]
        yield from ()

    study = hpo_core.create_study()
    with pytest.raises(ValueError, match="yielded no value"), pytest.warns(UserWarning, match="yielded no value"):
        study.optimize(TorchObjective(train), n_trials=1)


@pytest.mark.gpu
def test_torch_objective_on_cuda_frees_memory_and_survives_out_of_memory() -> None:
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device: this machine has no GPU (or torch is a CPU build)")
    devices: list[str] = []

    def train(trial, device):  # type: ignore[no-untyped-def]
        devices.append(str(device))
        big = torch.ones(64, 1024, 1024, device=device)  # 256 MiB, released after the trial
        yield float(big[0, 0, 0])
        if trial.number == 1:
            torch.empty(2**45, device=device)  # 128 TiB of floats: more than any GPU has
        yield float(big.sum()) / big.numel()

    study = hpo_core.create_study()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study.optimize(TorchObjective(train), n_trials=3, devices=["cuda:0"])
    assert devices == ["cuda:0"] * 3
    assert [t.state for t in study.trials] == [TrialState.COMPLETE, TrialState.FAIL, TrialState.COMPLETE]
    assert study.trials[1].system_attrs["out_of_memory"] is True
    assert torch.cuda.memory_allocated() == 0
    assert torch.cuda.memory_reserved() < 64 * 2**20  # the cache was emptied
    # Without a placement, the trial still runs on the GPU.
    study2 = hpo_core.create_study()
    study2.optimize(TorchObjective(train), n_trials=1)
    assert devices[-1] == "cuda"


def test_torch_objective_in_worker_processes_uses_their_placement() -> None:
    pytest.importorskip("cloudpickle", reason="ProcessExecutor ships the objective with cloudpickle")
    study = hpo_core.create_study(pruner=hpo_core.pruners.ThresholdPruner(upper=100.0))
    study.enqueue_trial({"lr": 0.05})
    study.enqueue_trial({"lr": 5.0})
    study.optimize(TorchObjective(_train_linear, seed=0), n_trials=2, executor="process", devices=["cpu"])
    assert [t.state for t in study.trials] == [TrialState.COMPLETE, TrialState.PRUNED]
    assert all(t.system_attrs["device"] == "cpu" and "seed" in t.user_attrs for t in study.trials)
