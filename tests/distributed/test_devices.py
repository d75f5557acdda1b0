"""Device placement: validation, trial.device, CUDA_VISIBLE_DEVICES, a real PyTorch training."""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import pytest

import hpo_core
from hpo_core import TrialState
from hpo_core._devices import device_slots, free_cuda_cache, local_device, visible_devices
from hpo_core.pruners import BasePruner


def test_device_slots_round_robin_over_devices() -> None:
    assert device_slots(None, 1) is None
    assert device_slots(["cuda:0", "cuda:1"], 2) == ["cuda:0", "cuda:1", "cuda:0", "cuda:1"]
    assert device_slots(("cpu",), 1) == ["cpu"]
    assert [visible_devices(d) for d in ("cpu", "cuda:3")] == ["", "3"]
    assert [local_device(d) for d in ("cpu", "cuda:3")] == ["cpu", "cuda:0"]


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"devices": "cuda:0"}, TypeError, "`devices` must be a non-empty list"),
        ({"devices": []}, ValueError, "`devices` must be a non-empty list"),
        ({"devices": ["gpu0"]}, ValueError, r"`devices\[0\]` must be 'cpu' or 'cuda:N'"),
        ({"devices": ["cpu", 1]}, TypeError, r"`devices\[1\]` must be a str"),
        ({"devices": ["cpu"], "trials_per_device": 0}, ValueError, "`trials_per_device` must be an int"),
        ({"trials_per_device": 2}, ValueError, "`trials_per_device` must be 1 when `devices` is None"),
        ({"devices": ["cpu", "cpu"], "n_jobs": 3}, ValueError, r"`n_jobs` must be -1 or an int in the range \[1, 2\]"),
    ],
)
def test_optimize_rejects_bad_devices_before_any_trial(kwargs: dict, exc: type, match: str) -> None:
    study = hpo_core.create_study()
    with pytest.raises(exc, match=match):
        study.optimize(lambda t: 0.0, n_trials=1, executor="process", **kwargs)
    assert study.trials == []


def test_thread_workers_get_trial_device_and_each_slot_once() -> None:
    study = hpo_core.create_study()
    running: dict[str, int] = {}
    peak: dict[str, int] = {}
    lock = threading.Lock()

    def objective(t: hpo_core.Trial) -> float:
        device = str(t.device)
        with lock:
            running[device] = running.get(device, 0) + 1
            peak[device] = max(peak.get(device, 0), running[device])
        time.sleep(0.02)
        with lock:
            running[device] -= 1
        return 0.0

    study.optimize(objective, n_trials=12, n_jobs=-1, devices=["cuda:0", "cuda:1"], trials_per_device=2)
    trials = study.trials
    assert {t.system_attrs["device"] for t in trials} == {"cuda:0", "cuda:1"}
    assert max(peak.values()) <= 2  # never more trials on a device than trials_per_device
    assert hpo_core.create_study().trials == [] and hpo_core.Trial.device is None


def where_am_i(t: Any) -> float:
    t.set_user_attr("cuda_visible", os.environ.get("CUDA_VISIBLE_DEVICES"))
    t.set_user_attr("device", t.device)
    time.sleep(0.2)  # so that both slots get trials
    return 0.0


def test_process_workers_see_only_their_device() -> None:
    study = hpo_core.create_study()
    study.optimize(where_am_i, n_trials=4, n_jobs=-1, executor="process", devices=["cpu", "cuda:1"])
    for t in study.trials:
        if t.system_attrs["device"] == "cpu":
            assert t.user_attrs == {"cuda_visible": "", "device": "cpu"}
        else:  # the worker sees GPU 1 only, as its cuda:0
            assert t.user_attrs == {"cuda_visible": "1", "device": "cuda:0"}
    assert {t.system_attrs["device"] for t in study.trials} == {"cpu", "cuda:1"}


def test_free_cuda_cache_without_torch_or_cuda_is_a_no_op() -> None:
    free_cuda_cache()  # nothing imported or initialized: nothing happens, nothing raises


class LossAbovePruner(BasePruner):
    """Prunes a trial whose validation loss at step 1 is above ``threshold``."""

    def __init__(self, threshold: float):
        self.threshold = threshold

    def prune(self, study: Any, trial: Any) -> bool:
        values = trial.intermediate_values
        return 1 in values and values[1] > self.threshold


def train_mlp(trial: Any) -> Any:
    """A tiny MLP on scikit-learn's digits for three epochs on ``trial.device``."""
    import numpy as np
    import torch
    from sklearn.datasets import load_digits

    torch.set_num_threads(1)
    torch.manual_seed(trial.number)
    X, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(y))  # the file is sorted by writer
    X, y = X[order], y[order]
    X = torch.tensor(X / 16.0, dtype=torch.float32, device=trial.device)
    y = torch.tensor(y, device=trial.device)
    train, val = slice(0, 1400), slice(1400, None)
    hidden = trial.suggest_int("hidden", 16, 64, log=True)
    lr = trial.suggest_float("lr", 1e-3, 3e-1, log=True)
    model = torch.nn.Sequential(torch.nn.Linear(64, hidden), torch.nn.ReLU(),
                                torch.nn.Linear(hidden, 10)).to(trial.device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for epoch in range(3):
        for i in range(0, 1400, 100):
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(X[train][i:i + 100]), y[train][i:i + 100])
            loss.backward()
            opt.step()
        with torch.no_grad():
            val_loss = torch.nn.functional.cross_entropy(model(X[val]), y[val])
        trial.report(val_loss, epoch)  # a tensor, on the trial's device
        if trial.should_prune():
            raise hpo_core.TrialPruned()
    with torch.no_grad():
        return (model(X[val]).argmax(1) != y[val]).float().mean()  # error rate, a tensor


@pytest.mark.parametrize("executor", [None, "process"])
def test_pytorch_training_on_cpu_devices(executor: str | None) -> None:
    pytest.importorskip("torch", reason="the training test needs PyTorch")
    pytest.importorskip("sklearn", reason="the training test uses scikit-learn's digits")
    study = hpo_core.create_study(sampler=hpo_core.samplers.RandomSampler(seed=0), pruner=LossAbovePruner(1.0))
    study.enqueue_trial({"hidden": 64, "lr": 0.02})  # a good configuration, to check the training
    study.enqueue_trial({"hidden": 16, "lr": 0.001})  # too slow to learn: pruned at epoch 1
    study.optimize(train_mlp, n_trials=6, n_jobs=2, executor=executor, devices=["cpu", "cpu"])
    trials = study.trials
    assert all(t.system_attrs["device"] == "cpu" for t in trials)
    assert trials[0].state == TrialState.COMPLETE and (trials[0].value or 1.0) < 0.1
    assert trials[1].state == TrialState.PRUNED and set(trials[1].intermediate_values) == {0, 1}
    assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials)


@pytest.mark.gpu
@pytest.mark.parametrize("executor", [None, "process"])
def test_pytorch_training_on_cuda(executor: str | None) -> None:
    torch = pytest.importorskip("torch", reason="the CUDA test needs PyTorch")
    pytest.importorskip("sklearn", reason="the training test uses scikit-learn's digits")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device: this machine has no GPU (or torch is a CPU build)")
    n = torch.cuda.device_count()
    devices = [f"cuda:{i}" for i in range(n)]
    study = hpo_core.create_study(sampler=hpo_core.samplers.RandomSampler(seed=0))
    study.enqueue_trial({"hidden": 64, "lr": 0.02})
    study.optimize(train_mlp, n_trials=2 * n, n_jobs=-1, executor=executor, devices=devices)
    trials = study.trials
    assert {t.system_attrs["device"] for t in trials} == set(devices)
    assert trials[0].state == TrialState.COMPLETE and (trials[0].value or 1.0) < 0.1
