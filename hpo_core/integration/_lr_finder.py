"""Learning-rate range test (L. N. Smith, "Cyclical Learning Rates for Training Neural
Networks", 2017, section 3.3): train for a few batches while the learning rate grows
exponentially from ``start_lr`` to ``end_lr``, record the loss at each rate, and read a
range off the curve.

The range found narrows a study's search: :meth:`LRRange.distribution` gives a
``FloatDistribution`` for ``trial._suggest`` or ``ask(fixed_distributions)``, and
:meth:`LRRange.apply` stores the bounds in a study user attribute, which
:func:`suggest_lr` reads in the objective (so the bounds reach workers on other machines
through the storage).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from hpo_core._imports import import_optional
from hpo_core._validation import check_int, check_real, format_error
from hpo_core.distributions import FloatDistribution

if TYPE_CHECKING:
    from hpo_core.study import Study
    from hpo_core.trial import Trial

torch = import_optional("torch", extra="integration", feature="hpo_core.integration.find_lr")

__all__ = ["LRRange", "find_lr", "suggest_lr"]

_ATTR = "lr_range:"  # study user attribute prefix: "lr_range:lr" -> [low, high]


@dataclass(frozen=True)
class LRRange:
    """What a learning-rate range test found.

    Attributes:
        lrs: The learning rate of each batch, increasing geometrically.
        losses: The smoothed training loss after each batch (same length as ``lrs``).
        suggested_lr: The rate where the smoothed loss falls fastest: the middle of the
            window (a tenth of the curve) with the steepest negative slope of loss
            against log rate, before the lowest loss.
        low: Lower end of the range: ``suggested_lr / 10``.
        high: Upper end: the rate of the lowest smoothed loss, before the loss rises
            (divergence); never below ``suggested_lr``.
        diverged: Whether the test stopped early because the loss blew up.
    """

    lrs: tuple[float, ...]
    losses: tuple[float, ...]
    suggested_lr: float
    low: float
    high: float
    diverged: bool

    def distribution(self, *, log: bool = True) -> FloatDistribution:
        """The range as a ``FloatDistribution(low, high, log=log)``."""
        return FloatDistribution(self.low, self.high, log=log)

    def apply(self, study: Study, name: str = "lr") -> None:
        """Store the range in ``study``'s user attribute ``"lr_range:<name>"``.

        :func:`suggest_lr` then suggests ``name`` in this range in every trial of the
        study, in any process that loads it.
        """
        study.set_user_attr(_ATTR + name, [self.low, self.high])


def suggest_lr(trial: Trial, name: str = "lr", *, low: float = 1e-5, high: float = 1.0) -> float:
    """Suggest a learning rate (log scale) in the range :meth:`LRRange.apply` stored.

    Falls back to ``[low, high]`` when the study holds no range for ``name``.
    """
    bounds = trial.study.user_attrs.get(_ATTR + name, (low, high))
    return trial.suggest_float(name, float(bounds[0]), float(bounds[1]), log=True)


def find_lr(
    model: Any,
    optimizer: Any,
    loss_fn: Any,
    batches: Any,
    *,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_iters: int = 100,
    smoothing: float = 0.05,
    diverge_factor: float = 4.0,
    device: Any = None,
) -> LRRange:
    """Run a learning-rate range test; the model and optimizer are restored afterwards.

    For ``num_iters`` batches (cycling over ``batches`` if it is shorter) the rate is
    ``start_lr * (end_lr / start_lr) ** (i / (num_iters - 1))``: one optimizer step per
    batch, and the loss is smoothed by an exponential moving average. The test stops
    early when the smoothed loss exceeds ``diverge_factor`` times its lowest value.

    Args:
        model: A ``torch.nn.Module``, already on ``device``.
        optimizer: A ``torch.optim.Optimizer`` over the model's parameters; every
            parameter group's ``lr`` is set by the test.
        loss_fn: ``loss_fn(model(inputs), targets) -> scalar tensor``.
        batches: An iterable of ``(inputs, targets)`` (a ``DataLoader``), re-iterated as
            needed.
        start_lr, end_lr: The first and last rates, ``0 < start_lr < end_lr``.
        num_iters: Number of batches (steps), at least 5.
        smoothing: Weight of the newest loss in the moving average, in (0, 1].
        diverge_factor: Divergence threshold, > 1.
        device: Where inputs and targets are moved (left where they are if None).

    Returns:
        An :class:`LRRange`.

    Raises:
        ValueError: a bad argument, or a loss that is not finite on the first batch.
    """
    start_lr = check_real("start_lr", start_lr, low=0.0, low_open=True)  # type: ignore[assignment]
    end_lr = check_real("end_lr", end_lr, low=start_lr, low_open=True)  # type: ignore[assignment]
    num_iters = check_int("num_iters", num_iters, low=5)  # type: ignore[assignment]
    smoothing = check_real("smoothing", smoothing, low=0.0, high=1.0, low_open=True)  # type: ignore[assignment]
    diverge_factor = check_real("diverge_factor", diverge_factor, low=1.0, low_open=True)  # type: ignore[assignment]
    lrs = start_lr * (end_lr / start_lr) ** (np.arange(num_iters) / (num_iters - 1))
    model_state = copy.deepcopy(model.state_dict())
    optim_state = copy.deepcopy(optimizer.state_dict())
    was_training = model.training
    try:
        model.train()
        raw = _sweep(model, optimizer, loss_fn, batches, lrs, smoothing, diverge_factor, device)
    finally:
        model.load_state_dict(model_state)
        optimizer.load_state_dict(optim_state)
        model.train(was_training)
    return _read_range(lrs[: len(raw)], np.asarray(raw), len(raw) < num_iters)


def _sweep(
    model: Any,
    optimizer: Any,
    loss_fn: Any,
    batches: Any,
    lrs: np.ndarray,
    smoothing: float,
    diverge_factor: float,
    device: Any,
) -> list[float]:
    """The smoothed losses, one per rate, up to divergence (arguments valid)."""
    smoothed: list[float] = []
    avg, best = 0.0, math.inf
    it = iter(batches)
    for i, lr in enumerate(lrs):
        try:
            inputs, targets = next(it)
        except StopIteration:
            it = iter(batches)
            inputs, targets = next(it)
        if device is not None:
            inputs, targets = inputs.to(device), targets.to(device)
        for group in optimizer.param_groups:
            group["lr"] = float(lr)
        loss = loss_fn(model(inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        value = float(loss.detach())
        if not math.isfinite(value):
            if i == 0:
                raise ValueError(format_error("loss_fn", "finite at the first batch", value, owner="find_lr"))
            break
        # Exponential moving average with bias correction (as Adam's first moment): the
        # first values are not pulled towards the zero the average starts from.
        avg = (1 - smoothing) * avg + smoothing * value
        smoothed.append(avg / (1 - (1 - smoothing) ** (i + 1)))
        best = min(best, smoothed[-1])
        if i > 0 and smoothed[-1] > diverge_factor * best:
            break
    return smoothed


def _read_range(lrs: np.ndarray, losses: np.ndarray, diverged: bool) -> LRRange:
    """Steepest descent and lowest loss of the curve (``lrs``, ``losses``: (n,), n >= 1)."""
    i_min = int(np.argmin(losses))
    # Slope of the loss against log rate over a window of a tenth of the curve: batch
    # noise averages out over the window, where a pointwise gradient would pick a random
    # dip of the flat start. Only the part before the minimum counts: past it the curve
    # rises and its slopes say nothing about where training works.
    w = max(2, len(lrs) // 10)
    if i_min >= w:
        log_lrs = np.log(lrs[: i_min + 1])
        slopes = (losses[w : i_min + 1] - losses[: i_min + 1 - w]) / (log_lrs[w:] - log_lrs[:-w])
        i = int(np.argmin(slopes))
        i_steep = i + w // 2  # the middle of the steepest window
    else:
        i_steep = i_min
    suggested = float(lrs[i_steep])
    high = max(float(lrs[i_min]), suggested)
    low = suggested / 10.0
    return LRRange(
        lrs=tuple(float(v) for v in lrs),
        losses=tuple(float(v) for v in losses),
        suggested_lr=suggested,
        low=low,
        high=high if high > low else low * 10.0,
        diverged=diverged,
    )
