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

from hpo_core.distributed._base import BaseExecutor, ExecutorSession, TrialTask
from hpo_core.distributed._process import ProcessExecutor
from hpo_core.distributed._ray import RayExecutor
from hpo_core.distributed._remote import RemoteError, RemoteTrial
from hpo_core.exceptions import WorkerLostError
from hpo_core.study._optimize import register_executor

register_executor("process", ProcessExecutor)
register_executor("ray", RayExecutor)

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
