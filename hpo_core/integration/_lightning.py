"""PyTorch Lightning: prune a trial from the validation metric of each epoch."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from hpo_core._imports import import_optional
from hpo_core.exceptions import TrialPruned

if TYPE_CHECKING:
    from hpo_core.trial import Trial

_pl = import_optional(
    "lightning.pytorch", extra="integration", feature="hpo_core.integration.PyTorchLightningPruningCallback"
)

__all__ = ["PyTorchLightningPruningCallback"]


class PyTorchLightningPruningCallback(_pl.callbacks.Callback):  # type: ignore[misc,name-defined]
    """PyTorch Lightning callback to prune unpromising trials (optuna-integration's).

    After each validation run (not the sanity check) the value of ``monitor`` in
    ``trainer.callback_metrics`` is reported at step ``current_epoch``, and
    :class:`hpo_core.TrialPruned` is raised if the study's pruner says so; it leaves
    ``trainer.fit`` and the trial is recorded as PRUNED.

    Args:
        trial: The trial of the current objective call.
        monitor: The logged metric to report, e.g. ``"val_loss"`` or ``"val_acc"``
            (``self.log("val_loss", loss)`` in ``validation_step``).

    Note:
        Single-process training only: with a distributed strategy (DDP), ``fit`` raises
        ``ValueError``.
    """

    def __init__(self, trial: Trial, monitor: str) -> None:
        super().__init__()
        self._trial = trial
        self.monitor = monitor

    def on_fit_start(self, trainer: Any, pl_module: Any) -> None:
        if trainer.world_size > 1:
            raise ValueError(
                "PyTorchLightningPruningCallback supports single-process training only, but the "
                f"trainer runs {trainer.world_size} processes."
            )

    def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
        if trainer.sanity_checking:
            return
        current_score = trainer.callback_metrics.get(self.monitor)
        if current_score is None:
            warnings.warn(
                f"The metric '{self.monitor}' is not in the evaluation logs for pruning. "
                "Please make sure you set the correct metric name.",
                stacklevel=2,
            )
            return
        epoch = pl_module.current_epoch
        self._trial.report(float(current_score), step=epoch)
        if self._trial.should_prune():
            raise TrialPruned(f"Trial was pruned at epoch {epoch}.")

    def check_pruned(self) -> None:
        """Nothing to do in single-process training (Optuna's hook for DDP runs)."""
