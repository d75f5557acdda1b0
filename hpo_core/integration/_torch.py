"""PyTorch objectives: device placement, per-trial seeding, per-epoch pruning, cleanup.

:class:`TorchObjective` wraps a training function ``train(trial, device)`` into an
objective for :meth:`hpo_core.Study.optimize`. The function either returns the trial's
value, or is a generator that yields one validation value per epoch: each is reported
at step ``epoch`` (0, 1, ...) and the trial is pruned as soon as the study's pruner says
so; the last value yielded is the trial's value.
"""

from __future__ import annotations

import gc
import inspect
import random
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from hpo_core._devices import free_cuda_cache, is_out_of_memory
from hpo_core._imports import import_optional
from hpo_core._validation import check_bool, check_callable, check_int
from hpo_core.exceptions import TrialPruned

if TYPE_CHECKING:
    from hpo_core.trial import Trial

torch = import_optional("torch", extra="integration", feature="hpo_core.integration.TorchObjective")

__all__ = ["TorchObjective", "seed_everything", "trial_device", "trial_seed"]

_OWNER = "TorchObjective"


def trial_device(trial: Any = None) -> Any:
    """The ``torch.device`` a trial trains on.

    The device the executor placed the trial on (``trial.device``, set by
    ``optimize(devices=[...])``), else ``cuda`` when PyTorch sees a GPU, else ``cpu``.

    Example:
        >>> import hpo_core
        >>> from hpo_core.integration import trial_device
        >>> study = hpo_core.create_study()
        >>> trial_device(study.ask()).type in ("cpu", "cuda")
        True
    """
    placed = getattr(trial, "device", None)
    if placed is not None:
        return torch.device(placed)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def trial_seed(seed: int, number: int) -> int:
    """The seed of trial ``number`` in a study seeded with ``seed``: a 32-bit int.

    Derived through NumPy's ``SeedSequence``, so neighbouring trials and neighbouring
    study seeds get unrelated streams.

    Example:
        >>> trial_seed(0, 3) == trial_seed(0, 3) != trial_seed(0, 4)
        True
    """
    return int(np.random.SeedSequence([seed, number]).generate_state(1)[0])


def seed_everything(seed: int, *, deterministic: bool = False) -> None:
    """Seed Python's ``random``, NumPy's global generator and PyTorch (CPU and CUDA).

    Args:
        seed: An int in [0, 2**32).
        deterministic: Also make cuDNN pick deterministic kernels (slower convolutions on
            the GPU; nothing changes on the CPU).
    """
    seed = check_int("seed", seed, low=0, high=2**32 - 1)  # type: ignore[assignment]
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # seeds every CUDA device too, lazily
    if deterministic:
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False


class TorchObjective:
    """An objective that trains a PyTorch model: device, seeds, pruning and cleanup.

    For each trial it

    1. picks the device (:func:`trial_device`: the executor's placement, else CUDA when
       available, else the CPU) and passes it to ``train``;
    2. seeds ``random``, NumPy and PyTorch with :func:`trial_seed` of ``seed`` and the
       trial number, recorded in the trial's user attribute ``"seed"``;
    3. reports each value a generator ``train`` yields at step ``epoch`` and raises
       :class:`hpo_core.TrialPruned` when the pruner says so (the trial is PRUNED);
    4. releases memory when the trial ends, however it ends: the training generator is
       closed, garbage is collected and PyTorch's CUDA cache emptied. A trial that runs
       out of memory (``torch.OutOfMemoryError`` on a GPU, a failed allocation on the CPU)
       has its memory released before the error leaves, as a ``MemoryError`` whose
       message holds the original traceback; ``Study.optimize`` records the trial as FAIL
       with ``system_attrs["out_of_memory"]`` and the study goes on.

    Args:
        train: ``train(trial, device) -> value``, or a generator function yielding one
            value per epoch (its last is the trial's value).
        seed: The study seed the trial seeds are derived from; ``None`` seeds nothing.
        deterministic: Passed to :func:`seed_everything`.

    Example:
        >>> import torch
        >>> import hpo_core
        >>> from hpo_core.integration import TorchObjective
        >>> x = torch.linspace(-1, 1, 64).unsqueeze(1)
        >>> y = 3 * x
        >>> def train(trial, device):
        ...     lr = trial.suggest_float("lr", 1e-3, 1e-1, log=True)
        ...     model = torch.nn.Linear(1, 1).to(device)
        ...     opt = torch.optim.SGD(model.parameters(), lr=lr)
        ...     for epoch in range(5):
        ...         loss = torch.nn.functional.mse_loss(model(x.to(device)), y.to(device))
        ...         opt.zero_grad(); loss.backward(); opt.step()
        ...         yield loss.item()
        >>> study = hpo_core.create_study(pruner=hpo_core.pruners.MedianPruner())
        >>> study.optimize(TorchObjective(train, seed=0), n_trials=3)
        >>> len(study.trials)
        3
    """

    def __init__(self, train: Callable[..., Any], *, seed: int | None = 0, deterministic: bool = False) -> None:
        check_callable("train", train, owner=_OWNER)
        self.train = train
        self.seed = check_int("seed", seed, low=0, high=2**32 - 1, allow_none=True, owner=_OWNER)
        self.deterministic = check_bool("deterministic", deterministic, owner=_OWNER)

    def __call__(self, trial: Trial) -> Any:
        device = trial_device(trial)
        if self.seed is not None:
            seed = trial_seed(self.seed, trial.number)
            trial.set_user_attr("seed", seed)
            seed_everything(seed, deterministic=self.deterministic)
        oom_message = None
        try:
            return self._run(trial, device)
        except BaseException as e:
            if not is_out_of_memory(e):
                raise
            # The traceback's frames hold the trial's tensors: keep only its text, so that
            # leaving this block drops them and the memory can be released below.
            oom_message = f"Trial {trial.number} ran out of memory on {device}:\n{traceback.format_exc()}"
        finally:
            gc.collect()
            free_cuda_cache()
        raise MemoryError(oom_message)

    def _run(self, trial: Trial, device: Any) -> Any:
        result = self.train(trial, device)
        if not inspect.isgenerator(result):
            return result
        value: Any = None
        try:
            for epoch, value in enumerate(result):
                trial.report(value, step=epoch)
                if trial.should_prune():
                    raise TrialPruned(f"Trial was pruned at epoch {epoch}.")
        finally:
            result.close()  # runs the generator's own cleanup and drops its frame now
        if value is None:
            raise ValueError(f"{_OWNER}: `train` yielded no value in trial {trial.number}.")
        return value
