"""RayExecutor on a real local Ray cluster (two CPUs): concurrency, errors, pruning, death."""

from __future__ import annotations

import os
import sys
import time
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

import hpo_core
from hpo_core import TrialState
from hpo_core.exceptions import FailedTrialWarning

ray = pytest.importorskip("ray", reason="RayExecutor needs ray (pip install 'hpo_core[ray]')")

from hpo_core.distributed import RayExecutor  # noqa: E402


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    if not ray.is_initialized():
        # The objectives below are pickled by reference to this module: Ray's workers
        # import it with the driver's path (what RayExecutor does when it starts Ray).
        path = os.pathsep.join(dict.fromkeys(p or os.getcwd() for p in sys.path))
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                 runtime_env={"env_vars": {"PYTHONPATH": path}})
    yield
    ray.shutdown()


def slow_square(t: Any) -> float:
    x = t.suggest_float("x", -1, 1)
    time.sleep(0.3)
    return x * x


def test_ray_executor_runs_two_trials_at_once(local_ray: None) -> None:
    study = hpo_core.create_study(sampler=hpo_core.samplers.TPESampler(seed=0, n_startup_trials=4))
    study.optimize(slow_square, n_trials=8, n_jobs=2, executor=RayExecutor(resources_per_trial={"cpu": 1}))
    trials = study.trials
    assert [t.number for t in trials] == list(range(8))
    assert all(t.state == TrialState.COMPLETE for t in trials)
    spans = sorted((t.datetime_start, t.datetime_complete) for t in trials)  # type: ignore[type-var]
    overlaps = sum(spans[i + 1][0] < spans[i][1] for i in range(len(spans) - 1))  # type: ignore[operator]
    assert overlaps >= 3  # trials ran two at a time, not one after the other


def mixed(t: Any) -> float:
    x = t.suggest_float("x", 0, 1)
    t.report(x, step=0)
    t.set_user_attr("pid", os.getpid())
    if t.number == 1:
        raise ArithmeticError("boom in a Ray task")
    if t.number == 2:
        raise hpo_core.TrialPruned()
    if t.should_prune():
        raise hpo_core.TrialPruned()
    return x


def test_ray_executor_errors_and_pruning_travel_back(local_ray: None) -> None:
    study = hpo_core.create_study()
    seen: list[int] = []
    with pytest.warns(FailedTrialWarning, match="boom in a Ray task"):
        study.optimize(mixed, n_trials=4, n_jobs=2, executor="ray", catch=ArithmeticError,
                       callbacks=[lambda s, f: seen.append(f.number)])
    trials = study.trials
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.FAIL, TrialState.PRUNED, TrialState.COMPLETE]
    assert "boom in a Ray task" in trials[1].system_attrs["fail_reason"]
    assert "in mixed" in trials[1].system_attrs["fail_reason"]  # the task's own traceback
    assert trials[2].intermediate_values == {0: trials[2].params["x"]}
    assert os.getpid() not in {t.user_attrs["pid"] for t in trials}
    assert sorted(seen) == [0, 1, 2, 3]
    with pytest.raises(ArithmeticError), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hpo_core.create_study().optimize(mixed, n_trials=4, executor="ray")  # not caught: propagates


def dies_in_ray(t: Any) -> float:
    t.suggest_float("x", 0, 1)
    if t.number == 0:
        os._exit(1)
    return 1.0


def test_ray_executor_dead_task_fails_its_trial_and_the_study_goes_on(local_ray: None) -> None:
    study = hpo_core.create_study()
    with pytest.warns(FailedTrialWarning, match="WorkerLostError"):
        study.optimize(dies_in_ray, n_trials=3, executor="ray")
    assert [t.state for t in study.trials] == [TrialState.FAIL, TrialState.COMPLETE, TrialState.COMPLETE]
    assert "the Ray task running trial 0" in study.trials[0].system_attrs["fail_reason"]


def where(t: Any) -> float:
    t.set_user_attr("cuda_visible", os.environ.get("CUDA_VISIBLE_DEVICES"))
    t.set_user_attr("device", t.device)
    return 0.0


def test_ray_executor_places_trials_on_devices(local_ray: None) -> None:
    study = hpo_core.create_study()
    study.optimize(where, n_trials=2, n_jobs=-1, executor="ray", devices=["cpu"], trials_per_device=2)
    assert [t.user_attrs for t in study.trials] == [{"cuda_visible": "", "device": "cpu"}] * 2
    assert [t.system_attrs["device"] for t in study.trials] == ["cpu", "cpu"]


def test_ray_executor_rejects_bad_settings(local_ray: None) -> None:
    with pytest.raises(ValueError, match="RayExecutor: `resources_per_trial`"):
        RayExecutor(resources_per_trial={"cpu": -1})
    with pytest.raises(TypeError, match="RayExecutor: `resources_per_trial`"):
        RayExecutor(resources_per_trial=[("cpu", 1)])  # type: ignore[arg-type]
    study = hpo_core.create_study()
    with pytest.raises(ValueError, match="without 'gpu'"):
        study.optimize(where, n_trials=1, devices=["cuda:0"], executor=RayExecutor(resources_per_trial={"gpu": 1}))
    assert study.trials == []


def test_ray_executor_without_ray_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError
    with pytest.raises(ImportError, match=r"hpo_core\[ray\]"):
        RayExecutor()
