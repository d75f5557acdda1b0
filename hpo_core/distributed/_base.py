"""The executor interface: "run this trial (id, device, optional checkpoint) and report back".

An executor runs objectives somewhere else than the driver's threads; the driver keeps
the study, its sampler and pruner, asks and tells. ``Study.optimize(executor=...)``
opens a session with one *slot* per concurrent trial and, from driver thread ``i``,
calls ``session.run(i, trial)`` for each trial it asked::

    driver thread                              worker (process or Ray task)
    -------------                              ----------------------------
    trial = study.ask()
    session.run(slot, trial)  --TrialTask-->   func(RemoteTrial)
        serves the calls      <--suggest_*--   trial.suggest_float("lr", ...)
        on the real Trial     --value------>   ...
                              <--report-----   trial.report(loss, step)
                              <--done/raised-  return loss  |  raise TrialPruned()
    returns loss / raises
    study.tell(...)  (in optimize's loop)

``run`` returns what the objective returned, or raises what it raised (its traceback,
from the worker, attached as ``__cause__``), or :class:`~hpo_core.exceptions.WorkerLostError`
when the worker died; ``optimize`` then handles the outcome exactly as for a thread
(FAIL with ``fail_reason``, ``catch``, callbacks, :class:`FailedTrialWarning`).

Resuming from a checkpoint (population-based training)
------------------------------------------------------
A :class:`TrialTask` carries a ``checkpoint``, given to the objective as
``trial.checkpoint`` (None for a fresh trial), and ``run(slot, trial, checkpoint=...)``
sets it. :mod:`hpo_core.pbt` drives the sessions with a loop of its own beside
``optimize``'s, without changing the executors' transport: each segment of a member's
training is a new trial whose parameters it sets, run with ``session.run(slot, trial,
checkpoint=ckpt)``; the objective resumes from ``ckpt``, trains the segment, saves its
state where the driver can reach it (a shared directory) and returns its score, and the
driver decides what the member trains next (exploit, explore) before it runs again.

Nothing here ties a trial to a worker: any slot may resume any trial, and a worker
holds no state between two ``run`` calls except what the objective keeps itself.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from hpo_core._validation import check_bool, check_callable, format_error

if TYPE_CHECKING:
    from hpo_core.study import Study
    from hpo_core.trial import Trial

__all__ = ["BaseExecutor", "ExecutorSession", "TrialTask"]


@dataclasses.dataclass(frozen=True)
class TrialTask:
    """One trial to run, as a worker receives it.

    Attributes:
        trial_id: The trial's id in the driver's storage.
        number: The trial's number in its study.
        device: The slot's device as given to ``optimize(devices=...)`` (``"cuda:1"``,
            ``"cpu"``), or None. The worker was started for it; see ``RemoteTrial.device``.
        checkpoint: What to resume from (any picklable object, e.g. a path); None for a
            fresh trial. Read by the objective as ``trial.checkpoint``.
        gc_after_trial: Run ``gc.collect()`` in the worker after the trial.

    Example:
        >>> from hpo_core.distributed import TrialTask
        >>> task = TrialTask(trial_id=7, number=3, device="cuda:1", checkpoint="ckpt/trial-3")
        >>> task.checkpoint, task.device
        ('ckpt/trial-3', 'cuda:1')
    """

    trial_id: int
    number: int
    device: str | None = None
    checkpoint: Any = None
    gc_after_trial: bool = False


class ExecutorSession(abc.ABC):
    """Open workers of one executor for one study and objective; runs trials on them.

    Made by :meth:`BaseExecutor.open`; close it (or use it as a context manager).
    ``run`` is called from one driver thread per slot; different slots may run at once.

    Args:
        slots: One entry per concurrent trial: its device, or None.
        gc_after_trial: Passed to the workers in every :class:`TrialTask`.

    Example:
        Two slots on one CPU device, each running one trial at once:

        >>> import hpo_core
        >>> from hpo_core.distributed import ProcessExecutor
        >>> study = hpo_core.create_study()
        >>> def objective(trial):
        ...     return float(trial.suggest_int("n", 1, 3)) if trial.device == "cpu" else -1.0
        >>> with ProcessExecutor().open(study, objective, slots=["cpu", "cpu"]) as session:
        ...     trials = study.ask(n=2)
        ...     for slot, trial in enumerate(trials):
        ...         study.tell(trial, session.run(slot, trial))
        >>> session.slots, [t.value >= 1.0 for t in study.trials]
        (['cpu', 'cpu'], [True, True])
    """

    def __init__(self, slots: Sequence[str | None], *, gc_after_trial: bool = False):
        self.slots = list(slots)
        self.gc_after_trial = gc_after_trial

    def run(self, slot: int, trial: Trial, *, checkpoint: Any = None) -> Any:
        """Run the objective on ``trial`` in slot ``slot``'s worker and wait for it.

        The driver's ``trial`` serves the remote objective's calls meanwhile.

        Returns:
            What the objective returned.

        Raises:
            BaseException: what the objective raised (``TrialPruned`` included);
                :class:`~hpo_core.exceptions.WorkerLostError` if the worker died.
        """
        task = TrialTask(trial._trial_id, trial.number, self.slots[slot], checkpoint, self.gc_after_trial)
        return self.run_task(slot, trial, task)

    @abc.abstractmethod
    def run_task(self, slot: int, trial: Trial, task: TrialTask) -> Any:
        """:meth:`run` with the task built: send it, serve the trial, report back."""

    def abort(self) -> None:
        """End the running trials now (their workers are stopped): optimize was
        interrupted. Their ``run`` calls raise ``WorkerLostError``. Idempotent."""

    @abc.abstractmethod
    def close(self) -> None:
        """Stop the workers and free what the session holds. Idempotent."""

    def __enter__(self) -> ExecutorSession:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc is not None:
            self.abort()
        self.close()


class BaseExecutor(abc.ABC):
    """Where ``Study.optimize`` runs objectives: give an instance as ``executor=``.

    Subclasses implement :meth:`_open`; :meth:`open` checks the arguments first.
    Settings live on the executor, workers on the session it opens, so one executor
    object serves several ``optimize`` calls.

    Example:
        The session API that ``optimize`` uses, driven by hand (what a population-based
        training loop would do, with ``checkpoint=`` to resume a paused trial):

        >>> import hpo_core
        >>> from hpo_core.distributed import ProcessExecutor
        >>> study = hpo_core.create_study()
        >>> def objective(trial):
        ...     return trial.suggest_float("x", -1, 1) ** 2
        >>> with ProcessExecutor().open(study, objective, slots=[None]) as session:
        ...     trial = study.ask()
        ...     study.tell(trial, session.run(0, trial))
        >>> study.trials[0].state.name
        'COMPLETE'
    """

    def open(self, study: Study, func: Callable[..., Any], *, slots: Sequence[str | None],
             gc_after_trial: bool = False) -> ExecutorSession:
        """Start the workers for ``func`` on ``study``; one slot per concurrent trial.

        Args:
            study: The driver's study (its trials are asked and told here).
            func: The objective; it receives a :class:`~hpo_core.distributed.RemoteTrial`.
            slots: One entry per concurrent trial: a device (``"cpu"``, ``"cuda:N"``)
                or None.
            gc_after_trial: ``gc.collect()`` in the worker after each trial.

        Raises:
            TypeError: ``func`` is not callable or cannot be sent to the workers.
            ValueError: no slots.
        """
        check_callable("func", func)
        check_bool("gc_after_trial", gc_after_trial)
        slots = list(slots)
        if not slots:
            raise ValueError(format_error("slots", "a non-empty list", slots, owner=type(self).__name__))
        return self._open(study, func, slots, gc_after_trial)

    @abc.abstractmethod
    def _open(self, study: Study, func: Callable[..., Any], slots: list[str | None],
              gc_after_trial: bool) -> ExecutorSession:
        """:meth:`open` with checked arguments."""
