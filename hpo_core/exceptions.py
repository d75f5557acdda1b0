"""Exceptions and warnings raised by hpo_core."""

from __future__ import annotations

__all__ = [
    "HpoError",
    "OptunaError",
    "TrialPruned",
    "CLIUsageError",
    "StorageError",
    "StorageInternalError",
    "DuplicatedStudyError",
    "StudyNotFoundError",
    "UpdateFinishedTrialError",
    "WorkerLostError",
    "HpoWarning",
    "ExperimentalWarning",
    "FailedTrialWarning",
    "StaleTrialWarning",
]


class HpoError(Exception):
    """Base class for hpo_core errors (``OptunaError`` is the same class, so that Optuna
    code catching ``optuna.exceptions.OptunaError`` catches them after the import change)."""


#: Optuna's name of the base class: every hpo_core error is an ``OptunaError``.
OptunaError = HpoError


class TrialPruned(HpoError):
    """Raised by an objective to stop a trial early; the trial is marked PRUNED."""


class CLIUsageError(HpoError):
    """The command line was used wrongly (Optuna's ``CLIUsageError``)."""


class StorageError(HpoError):
    """A storage could not complete an operation (after retries where they apply)."""


#: Optuna's name for an error of the storage's backend: the same class as
#: :class:`StorageError`, so ``except StorageInternalError`` catches what hpo_core raises.
StorageInternalError = StorageError


class DuplicatedStudyError(HpoError, ValueError):
    """A study with the requested name already exists."""


class StudyNotFoundError(HpoError, KeyError):
    """No study with the requested name or id exists in the storage."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class UpdateFinishedTrialError(HpoError, RuntimeError):
    """A finished trial (COMPLETE, PRUNED or FAIL) cannot be modified."""


class WorkerLostError(HpoError):
    """The worker process or Ray task running a trial died (a segfault, ``os._exit``, an
    out-of-memory kill, a lost node). ``optimize`` marks the trial FAIL with this
    message as its ``fail_reason`` and goes on, whatever ``catch`` says; the executor
    starts a new worker for the next trial."""


class HpoWarning(UserWarning):
    """Base class for hpo_core warnings."""


class ExperimentalWarning(HpoWarning):
    """The feature works but its interface may still change."""


class FailedTrialWarning(HpoWarning):
    """A trial was marked FAIL; the message says why."""


class StaleTrialWarning(HpoWarning):
    """This worker's trial was marked FAIL by another worker while this one was not
    heard from (paused, or cut off from the storage longer than the grace period); the
    late write was dropped and the worker goes on."""
