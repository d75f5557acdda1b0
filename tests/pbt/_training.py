"""Segment objectives for the PBT tests: real PyTorch training on CPU with real checkpoint files.

Module-level functions, so that worker processes and Ray tasks import them by reference.
"""

from __future__ import annotations

import os
import signal
from typing import Any

import numpy as np
import torch

_rng = np.random.default_rng(0)
_X = _rng.normal(size=(128, 6))
_Y = (_X @ _rng.normal(size=(6, 1)) + 0.1 * _rng.normal(size=(128, 1)))
X = torch.tensor(_X, dtype=torch.float32)
Y = torch.tensor(_Y, dtype=torch.float32)
# The initial weights, drawn once: threads share torch's global generator, so seeding it
# in each segment would race.
W0 = torch.tensor(_rng.normal(scale=0.3, size=(1, 6)), dtype=torch.float32)


def weights_sum(state: dict[str, Any]) -> float:
    """A fingerprint of a saved model (the sum of its parameters)."""
    return float(sum(float(v.sum()) for v in state["model"].values()))


def train_linear(trial: Any) -> float:
    """Full-batch SGD on a linear regression, ``lr`` and ``momentum`` from PBT; the MSE.

    Deterministic given (checkpoint, params, steps): a fresh member starts from ``W0``.
    Records the fingerprint of what it loaded.
    """
    torch.set_num_threads(1)
    lr = trial.suggest_float("lr", 1e-3, 0.5, log=True)
    momentum = trial.suggest_categorical("momentum", [0.0, 0.5, 0.9])
    ckpt = trial.checkpoint
    trial.set_user_attr("pid", os.getpid())
    model = torch.nn.Linear(6, 1)
    with torch.no_grad():
        model.weight.copy_(W0)
        model.bias.zero_()
    state = ckpt.load()
    if state is not None:
        model.load_state_dict(state["model"])
        assert state["step"] == ckpt.start, (state["step"], ckpt.start)
        trial.set_user_attr("loaded", weights_sum(state))
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    loss = torch.nn.functional.mse_loss(model(X), Y)
    for step in ckpt.steps:
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(X), Y)
        loss.backward()
        opt.step()
        trial.report(loss.item(), step)
    with torch.no_grad():
        final = float(torch.nn.functional.mse_loss(model(X), Y))
    ckpt.save({"model": model.state_dict(), "step": ckpt.stop})
    return final


def train_or_fail(trial: Any) -> float:
    """``train_linear``, except for chosen trial numbers: pruned, out of memory, an error."""
    if trial.number == 1:
        from hpo_core import TrialPruned

        raise TrialPruned()
    if trial.number == 3:
        raise MemoryError("out of memory while allocating a batch")
    if trial.number == 6:
        raise ValueError("a bug in the training loop")
    return train_linear(trial)


def train_or_die(trial: Any) -> float:
    """``train_linear``, but the worker process of trial 2 is killed (as by the kernel's
    out-of-memory killer)."""
    if trial.number == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    return train_linear(trial)


def always_fails(trial: Any) -> float:
    """Every segment of member 1 fails."""
    if trial.checkpoint.member == 1:
        raise RuntimeError("member 1 is broken")
    return train_linear(trial)
