"""Executors: where ``Study.optimize`` runs objectives, and device placement.

- threads (the default, ``executor=None``), in :mod:`hpo_core.study`;
- :class:`ProcessExecutor` (``executor="process"``): one worker process per slot;
- :class:`RayExecutor` (``executor="ray"`` for a local Ray): one Ray task per trial.

In every case the sampler runs in the driver, which asks and tells; a remote objective
receives a :class:`RemoteTrial` that forwards each call to the driver's real trial.
``optimize(devices=[...], trials_per_device=...)`` gives each running trial one device.
The executor interface (:class:`BaseExecutor`, :class:`ExecutorSession`,
:class:`TrialTask`) and how pausing and resuming trials plugs into it are described in
:mod:`hpo_core.distributed._base`.
"""

from __future__ import annotations

import importlib
from typing import Any

from hpo_core.distributed._base import BaseExecutor, ExecutorSession, TrialTask
from hpo_core.exceptions import WorkerLostError
from hpo_core.study._optimize import register_executor

# The executors and the remote trial load on first use: ``import hpo_core`` does not pay
# for multiprocessing's connection machinery (about 20 ms) in every process.
_LAZY = {"ProcessExecutor": "_process", "RayExecutor": "_ray", "RemoteError": "_remote", "RemoteTrial": "_remote"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'hpo_core.distributed' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"hpo_core.distributed.{module}"), name)
    globals()[name] = value
    return value


def _process_executor() -> Any:
    return __getattr__("ProcessExecutor")()


def _ray_executor() -> Any:
    return __getattr__("RayExecutor")()


register_executor("process", _process_executor)
register_executor("ray", _ray_executor)

__all__ = [
    "BaseExecutor",
    "ExecutorSession",
    "ProcessExecutor",
    "RayExecutor",
    "RemoteError",
    "RemoteTrial",
    "TrialTask",
    "WorkerLostError",
]
