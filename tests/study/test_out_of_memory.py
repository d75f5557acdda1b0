"""A trial that runs out of memory is marked FAIL (``out_of_memory``), its memory is
released and the study goes on, in threads and in worker processes. Real allocations
that fail: NumPy's and PyTorch's CPU allocators asked for more than any machine has."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import hpo_core
from hpo_core import TrialState
from hpo_core._devices import is_out_of_memory
from hpo_core.exceptions import FailedTrialWarning


def _numpy_too_big(trial: hpo_core.Trial) -> float:
    x = trial.suggest_float("x", 0, 1)
    if trial.number % 2:
        np.empty(2**45)  # 256 TiB: NumPy's _ArrayMemoryError
    return x


def test_numpy_memory_error_fails_the_trial_and_the_study_goes_on() -> None:
    study = hpo_core.create_study()
    with pytest.warns(FailedTrialWarning, match="ran out of memory"):
        study.optimize(_numpy_too_big, n_trials=6)
    states = [t.state for t in study.trials]
    assert states == [TrialState.COMPLETE, TrialState.FAIL] * 3
    for t in study.trials[1::2]:
        assert t.system_attrs["out_of_memory"] is True
        assert "Unable to allocate" in t.system_attrs["fail_reason"]
    assert "out_of_memory" not in study.trials[0].system_attrs


def test_torch_cpu_allocator_failure_fails_the_trial() -> None:
    torch = pytest.importorskip("torch", reason="torch is not installed")

    def objective(trial: hpo_core.Trial) -> float:
        lr = trial.suggest_float("lr", 1e-3, 1e-1, log=True)
        model = torch.nn.Linear(4, 1)
        if trial.number == 1:
            torch.empty(2**62, dtype=torch.uint8)  # the CPU allocator: "can't allocate memory"
        loss = model(torch.ones(2, 4)).pow(2).mean()
        loss.backward()
        return float(loss.detach()) * lr

    study = hpo_core.create_study()
    with pytest.warns(FailedTrialWarning, match="ran out of memory"):
        study.optimize(objective, n_trials=3)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE, TrialState.FAIL, TrialState.COMPLETE]
    assert study.trials[1].system_attrs["out_of_memory"] is True


def test_out_of_memory_releases_the_trials_objects() -> None:
    # The objective's objects sit in a reference cycle, which only the collector frees;
    # with automatic collection off, only optimize's release after the error can.
    refs: list[weakref.ref] = []

    class Buffer:
        def __init__(self) -> None:
            self.data = np.ones(1000)
            self.me = self

    def objective(trial: hpo_core.Trial) -> float:
        buf = Buffer()
        refs.append(weakref.ref(buf))
        raise MemoryError("out of device memory")

    study = hpo_core.create_study()
    enabled = gc.isenabled()
    gc.disable()
    try:
        with pytest.warns(FailedTrialWarning):
            study.optimize(objective, n_trials=1)
        assert refs[0]() is None
    finally:
        if enabled:
            gc.enable()


def test_other_runtime_errors_still_propagate() -> None:
    def objective(trial: hpo_core.Trial) -> float:
        raise RuntimeError("shape mismatch")

    study = hpo_core.create_study()
    with pytest.raises(RuntimeError, match="shape mismatch"), pytest.warns(FailedTrialWarning):
        study.optimize(objective, n_trials=3)
    assert [t.state for t in study.trials] == [TrialState.FAIL]
    assert "out_of_memory" not in study.trials[0].system_attrs


def _torch_too_big(trial: hpo_core.Trial) -> float:
    import torch

    x = trial.suggest_float("x", 0, 1)
    if trial.number == 0:
        torch.empty(2**62, dtype=torch.uint8)
    return x


def test_out_of_memory_in_a_worker_process() -> None:
    pytest.importorskip("torch", reason="torch is not installed")
    from hpo_core.distributed import ProcessExecutor

    study = hpo_core.create_study()
    with pytest.warns(FailedTrialWarning, match="ran out of memory"):
        study.optimize(_torch_too_big, n_trials=3, n_jobs=1, executor=ProcessExecutor())
    states = sorted(t.state for t in study.trials)
    assert states == [TrialState.COMPLETE, TrialState.COMPLETE, TrialState.FAIL]
    assert study.trials[0].system_attrs["out_of_memory"] is True


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (MemoryError(), True),
        (RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB"), True),
        (RuntimeError("RESOURCE_EXHAUSTED: Out of memory while trying to allocate"), True),
        (RuntimeError("DefaultCPUAllocator: can't allocate memory"), True),
        (type("OutOfMemoryError", (RuntimeError,), {})("boom"), True),
        (RuntimeError("size mismatch"), False),
        (ValueError("out of memory"), False),
    ],
)
def test_is_out_of_memory(error: BaseException, expected: bool) -> None:
    assert is_out_of_memory(error) is expected
