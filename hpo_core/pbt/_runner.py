"""Running one segment of a member: ask its trial, run the objective on an executor's
slot with a :class:`~hpo_core.pbt.Checkpoint`, commit the checkpoint, tell the outcome.

Shared by :class:`~hpo_core.pbt.PBT` and :func:`~hpo_core.pbt.replay`. Every segment is
one trial of the study: its parameters are the segment's hyperparameters, its value the
score at the segment's end, and its system attribute ``"pbt"`` says where it sits in
the population (see :data:`PBT_ATTR`).
"""

from __future__ import annotations

import dataclasses
import gc
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from hpo_core._devices import free_cuda_cache
from hpo_core.distributed import ExecutorSession, TrialTask
from hpo_core.exceptions import FailedTrialWarning, TrialPruned
from hpo_core.pbt._store import Checkpoint, FileArtifactStore
from hpo_core.study._optimize import _finish, _resolve_executor, _slots, record_failure
from hpo_core.trial import FrozenTrial, Trial, TrialState

if TYPE_CHECKING:
    from hpo_core.study import Study

__all__ = ["PBT_ATTR", "Job", "open_session", "run_segment", "slots", "start_segment"]

#: The system attribute of a segment trial: ``{"member", "start", "stop", "parent",
#: "donor", "config", "checkpoint", "replay"}``. ``parent`` is the number of the trial
#: whose checkpoint the segment resumed from (None for a fresh start), ``donor`` the
#: member it was copied from when it exploited another member (else None),
#: ``checkpoint`` the directory its checkpoint was committed to when it completed.
PBT_ATTR = "pbt"


class _ThreadSession(ExecutorSession):
    """Objectives in the driver's own threads (``executor=None``), with ``trial.checkpoint``
    and ``trial.device`` set as a worker sets ``RemoteTrial``'s."""

    def __init__(self, func: Callable[[Trial], Any], slots: Sequence[str | None]):
        super().__init__(slots)
        self._func = func

    def run_task(self, slot: int, trial: Trial, task: TrialTask) -> Any:
        trial.checkpoint = task.checkpoint
        if task.device is not None:
            trial.device = task.device
        return self._func(trial)

    def close(self) -> None:
        pass


def slots(n_jobs: int, devices: Any, trials_per_device: Any, limit: int) -> list[str | None]:
    """One entry per concurrent segment, at most ``limit``: its device or None, as for
    ``optimize(n_jobs=..., devices=..., trials_per_device=...)``."""
    return _slots(n_jobs, devices, trials_per_device)[:limit]


def open_session(executor: Any, study: Study, func: Callable[[Trial], Any],
                 slot_devices: list[str | None]) -> ExecutorSession:
    """A session with one slot per entry of ``slot_devices``: driver threads for None or
    ``"thread"``, else the executor's (``"process"``, ``"ray"`` or an executor object)."""
    runner = _resolve_executor(executor)
    if runner is None:
        return _ThreadSession(func, slot_devices)
    return runner.open(study, func, slots=slot_devices)  # type: ignore[no-any-return]


@dataclasses.dataclass
class Job:
    """What one segment trains: a member's steps ``[start, stop)`` with ``params``,
    resuming from the committed checkpoint ``load_key`` (None: from scratch)."""

    member: int
    start: int
    stop: int
    params: dict[str, Any]
    parent: int | None = None
    donor: int | None = None
    load_key: str | None = None
    replay: bool = False


def start_segment(study: Study, job: Job, store: FileArtifactStore, save_fn: Callable[[Any, str], None],
                  load_fn: Callable[[str], Any], device: str | None = None) -> tuple[Trial, Checkpoint, str]:
    """Ask the segment's trial (its ``suggest_*`` calls return ``job.params``), reserve
    its checkpoint directory and record where it sits (and its ``device``, as
    ``optimize`` does); returns (trial, checkpoint, key)."""
    trial = study.ask()
    if device is not None:
        trial.set_system_attr("device", device)
    if job.params:
        trial._fixed = dict(job.params)  # as an enqueued trial's: suggest_* returns them
    key = f"trial-{trial.number}"
    ckpt = Checkpoint(
        member=job.member, start=job.start, stop=job.stop, config=dict(job.params),
        load_dir=None if job.load_key is None else store.path(job.load_key),
        save_dir=store.reserve(key), save_fn=save_fn, load_fn=load_fn,
    )
    trial.set_system_attr(PBT_ATTR, {
        "member": job.member, "start": job.start, "stop": job.stop, "parent": job.parent,
        "donor": job.donor, "config": dict(job.params), "checkpoint": store.path(key),
        "replay": job.replay,
    })
    return trial, ckpt, key


def run_segment(study: Study, session: ExecutorSession, slot: int, trial: Trial, ckpt: Checkpoint,
                store: FileArtifactStore, key: str) -> FrozenTrial:
    """Run the objective on ``trial`` and tell the outcome; on success the checkpoint is
    committed first. A pruned segment is PRUNED; any other failure (an exception, out of
    memory, a dead worker) is FAIL with its ``fail_reason`` and a warning, never raised;
    out of memory is also flagged in ``system_attrs["out_of_memory"]``, as by ``optimize``,
    and the memory is released before the next segment.

    Raises:
        BaseException: what is not an ``Exception`` (``KeyboardInterrupt``), after the
            trial is marked FAIL.
    """
    state, values, oom = TrialState.FAIL, None, False
    try:
        values = session.run(slot, trial, checkpoint=ckpt)
        store.commit(key)
        state = TrialState.COMPLETE
    except TrialPruned:
        state = TrialState.PRUNED
    except Exception as e:  # noqa: BLE001 - a failed segment fails its trial, not the run
        oom = record_failure(trial, e)
        warnings.warn(f"PBT: trial {trial.number} (member {ckpt.member}, steps {ckpt.start}-{ckpt.stop}) "
                      f"failed with {type(e).__name__}: {str(e)[:200]}", FailedTrialWarning, stacklevel=2)
    finally:
        if state != TrialState.COMPLETE:
            store.discard(key)
        _finish(study, trial, state, values)
    if oom:  # the error, its frames and their tensors are gone now
        gc.collect()
        free_cuda_cache()
    frozen = study._storage.get_trial(trial._trial_id)
    if frozen.state != TrialState.COMPLETE:  # e.g. a NaN score: tell marked it FAIL
        store.delete(key)
    return frozen
