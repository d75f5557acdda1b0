"""PBT with segments in worker processes and in Ray tasks on a real local Ray cluster."""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch", reason="the PBT tests train small PyTorch models")

from _training import train_linear, train_or_die, weights_sum  # noqa: E402

import hpo_core  # noqa: E402
from hpo_core import FloatDistribution, TrialState  # noqa: E402
from hpo_core.exceptions import FailedTrialWarning  # noqa: E402
from hpo_core.pbt import PBT, best_trial, replay, schedule  # noqa: E402

MUTATIONS = {"lr": FloatDistribution(1e-3, 0.5, log=True)}


def _run(executor: Any, tmp_path: Path, func: Any = train_linear, *, synch: bool = True) -> hpo_core.Study:
    study = hpo_core.create_study(direction="minimize", sampler=hpo_core.samplers.RandomSampler(seed=0))
    PBT(perturbation_interval=2, hyperparam_mutations=MUTATIONS, synch=synch, seed=0).run(
        study, func, population_size=4, n_steps=6, n_jobs=2, executor=executor, checkpoint_dir=tmp_path,
        save_fn=torch.save, load_fn=torch.load, keep_checkpoints=True)
    return study


def _check_handoff(study: hpo_core.Study) -> None:
    trials = {t.number: t for t in study.trials}
    complete = [t for t in trials.values() if t.state == TrialState.COMPLETE]
    assert {t.system_attrs["pbt"]["member"] for t in complete if t.system_attrs["pbt"]["stop"] == 6} == {0, 1, 2, 3}
    for t in complete:
        parent = t.system_attrs["pbt"]["parent"]
        if parent is not None:
            path = os.path.join(trials[parent].system_attrs["pbt"]["checkpoint"], "checkpoint.pkl")
            assert t.user_attrs["loaded"] == pytest.approx(weights_sum(torch.load(path)))


def test_pbt_with_the_process_executor_hands_checkpoints_between_workers(tmp_path: Path) -> None:
    study = _run("process", tmp_path)
    _check_handoff(study)
    pids = {t.user_attrs["pid"] for t in study.trials}
    assert len(pids) == 2 and os.getpid() not in pids  # two worker processes trained every segment
    assert any(t.system_attrs["pbt"]["donor"] is not None for t in study.trials)  # and handed checkpoints over


def test_pbt_same_schedule_in_threads_and_processes(tmp_path: Path) -> None:
    a = _run(None, tmp_path / "threads")
    b = _run("process", tmp_path / "processes")
    rows = [[(t.params, t.system_attrs["pbt"]["parent"], t.value) for t in s.trials] for s in (a, b)]
    assert rows[0] == rows[1]  # synchronous and seeded: the executor changes nothing


def test_pbt_survives_a_killed_worker_process(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FailedTrialWarning)
        study = _run("process", tmp_path, train_or_die, synch=False)
    dead = study.trials[2]
    assert dead.state == TrialState.FAIL and "SIGKILL" in dead.system_attrs["fail_reason"]
    _check_handoff(study)


def test_pbt_replay_in_a_worker_process(tmp_path: Path) -> None:
    study = _run(None, tmp_path / "run")
    best = best_trial(study)
    again = replay(train_linear, schedule(study), executor="process", checkpoint_dir=tmp_path / "replay",
                   save_fn=torch.save, load_fn=torch.load)
    assert best is not None and again.value == pytest.approx(best.value, rel=1e-6)


ray = pytest.importorskip("ray", reason="RayExecutor needs ray (pip install 'hpo_core[ray]')")


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    if not ray.is_initialized():
        path = os.pathsep.join(dict.fromkeys(p or os.getcwd() for p in sys.path))
        try:
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                     runtime_env={"env_vars": {"PYTHONPATH": path}})
        except Exception as e:  # noqa: BLE001 - no room for a local Ray here
            pytest.skip(f"a local Ray cluster could not start: {type(e).__name__}: {e}")
    yield
    ray.shutdown()


def test_pbt_with_the_ray_executor(local_ray: None, tmp_path: Path) -> None:
    from hpo_core.distributed import RayExecutor

    study = _run(RayExecutor(resources_per_trial={"cpu": 1}), tmp_path)
    _check_handoff(study)
    reference = _run(None, tmp_path / "threads")
    assert [t.value for t in study.trials] == pytest.approx([t.value for t in reference.trials], rel=1e-6)
