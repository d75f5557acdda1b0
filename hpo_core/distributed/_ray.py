"""RayExecutor: each trial's objective runs as a Ray task; the sampler stays in the driver.

Ray is imported when a :class:`RayExecutor` is made (``pip install 'hpo_core[ray]'``).
Each trial is one Ray task (``max_retries=0``: a trial is not silently rerun) that
connects back to the driver's :class:`~hpo_core.distributed._hub.Hub` and runs the
objective on a :class:`~hpo_core.distributed.RemoteTrial`, as a worker process does.
The objective is put in Ray's object store once per ``optimize`` call.

On a cluster of several machines the driver listens on its node's IP address (Ray's
``get_node_ip_address``), which the workers must be able to reach, and hpo_core must be
installed on every node.
"""

from __future__ import annotations

import numbers
import os
import sys
import threading
from collections.abc import Callable, Mapping
from multiprocessing.connection import Client
from typing import TYPE_CHECKING, Any

from hpo_core._devices import visible_devices
from hpo_core._imports import import_optional
from hpo_core._validation import format_error
from hpo_core.distributed._base import BaseExecutor, ExecutorSession, TrialTask
from hpo_core.distributed._hub import Hub, serve_trial
from hpo_core.distributed._remote import nodelay, run_task
from hpo_core.exceptions import WorkerLostError

if TYPE_CHECKING:
    from hpo_core.study import Study
    from hpo_core.trial import Trial

__all__ = ["RayExecutor"]

_RESOURCES = "a mapping of resource names to numbers >= 0 (keys 'cpu', 'gpu' and custom Ray resources)"


def _ray_trial(address: list[Any], authkey: bytes, token: str, func: Any, task: TrialTask) -> None:
    """The Ray task: connect back to the driver and run one trial."""
    import ray

    device = None
    if task.device is None and ray.get_gpu_ids():
        device = "cuda:0"  # Ray set CUDA_VISIBLE_DEVICES to the GPUs it gave this task
    conn = nodelay(Client(tuple(address), family="AF_INET", authkey=authkey))
    try:
        conn.send(("hello", token, {"pid": os.getpid(), "gpu_ids": [str(g) for g in ray.get_gpu_ids()]}))
        run_task(conn, func, task, device)
    finally:
        conn.close()


class RayExecutor(BaseExecutor):
    """Run each trial as a Ray task on an existing cluster or a local one.

    ``optimize(..., n_jobs=k, executor=RayExecutor(...))`` keeps up to ``k`` trials
    running at once as Ray tasks; the study, sampler and pruner stay in the driver, and
    the objective receives a :class:`~hpo_core.distributed.RemoteTrial`.

    Args:
        address: The Ray cluster to connect to (``"auto"``, ``"ray://host:10001"``);
            None starts a local Ray, or uses the one this process already initialized.
        resources_per_trial: What each trial's task holds: ``"cpu"`` (default 1) and
            ``"gpu"`` (default 0; Ray then sets ``CUDA_VISIBLE_DEVICES`` and
            ``trial.device`` is ``"cuda:0"``), plus custom resources by name. Give GPUs
            either here (Ray places them) or with ``optimize(devices=...)`` (you place
            them; each device then gets its own Ray workers, started with its
            ``CUDA_VISIBLE_DEVICES``), not both.
        init_kwargs: Extra arguments of ``ray.init`` when this executor starts Ray. A
            local Ray started here gets ``runtime_env={"env_vars": {"PYTHONPATH":
            <the driver's sys.path>}}`` unless ``runtime_env`` is given, so that its
            workers import the objective's module; on a cluster, ship the code with a
            ``runtime_env`` of your own (``working_dir``, ``py_modules``).
        driver_host: Address the workers connect back to; by default ``127.0.0.1`` on a
            one-node cluster and the driver node's IP address otherwise.

    Raises:
        ImportError: Ray is not installed (``pip install 'hpo_core[ray]'``).

    Example:
        >>> import ray, hpo_core
        >>> from hpo_core.distributed import RayExecutor
        >>> ray.init(num_cpus=2)  # doctest: +SKIP
        >>> study = hpo_core.create_study()
        >>> study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=8, n_jobs=2,
        ...                executor=RayExecutor(resources_per_trial={"cpu": 1}))  # doctest: +SKIP
    """

    def __init__(self, *, address: str | None = None, resources_per_trial: Mapping[str, float] | None = None,
                 init_kwargs: Mapping[str, Any] | None = None, driver_host: str | None = None):
        self._ray = import_optional("ray", extra="ray", feature="RayExecutor")
        if address is not None and not isinstance(address, str):
            raise TypeError(format_error("address", "a str or None", address, owner="RayExecutor"))
        resources: dict[str, float] = {"cpu": 1, "gpu": 0}
        if resources_per_trial is not None:
            if not isinstance(resources_per_trial, Mapping):
                raise TypeError(format_error("resources_per_trial", _RESOURCES, resources_per_trial, owner="RayExecutor"))
            for k, v in resources_per_trial.items():
                if not isinstance(k, str) or isinstance(v, bool) or not isinstance(v, numbers.Real) or not v >= 0:
                    raise ValueError(format_error("resources_per_trial", _RESOURCES, resources_per_trial,
                                                  owner="RayExecutor"))
            resources.update({k.lower() if k.lower() in ("cpu", "gpu") else k: v
                              for k, v in resources_per_trial.items()})
        self.address = address
        self.resources_per_trial = resources
        self.init_kwargs = dict(init_kwargs or {})
        self.driver_host = driver_host

    def _options(self) -> dict[str, Any]:
        res = dict(self.resources_per_trial)
        opts: dict[str, Any] = {"num_cpus": res.pop("cpu"), "num_gpus": res.pop("gpu"), "max_retries": 0}
        if res:
            opts["resources"] = res
        return opts

    def _open(self, study: Study, func: Callable[..., Any], slots: list[str | None],
              gc_after_trial: bool) -> ExecutorSession:
        ray = self._ray
        if any(s is not None for s in slots) and self.resources_per_trial["gpu"]:
            raise ValueError(format_error(
                "resources_per_trial", "without 'gpu' when optimize places trials with `devices`",
                self.resources_per_trial, owner="RayExecutor"))
        if not ray.is_initialized():
            kwargs = dict(self.init_kwargs)
            if self.address is None and "runtime_env" not in kwargs:
                # A local Ray's workers import what the driver imports (a script's
                # directory, a test module), as ProcessExecutor's workers do.
                path = os.pathsep.join(dict.fromkeys(p or os.getcwd() for p in sys.path))
                kwargs["runtime_env"] = {"env_vars": {"PYTHONPATH": path}}
            ray.init(address=self.address, **kwargs)
        try:
            func_ref = ray.put(func)
        except Exception as e:
            raise TypeError(format_error("func", "serializable by Ray (cloudpickle)", func, owner="RayExecutor")
                            + f" Serializing failed with {type(e).__name__}: {e}") from e
        host = self.driver_host
        if host is None:
            host = "127.0.0.1" if len([n for n in ray.nodes() if n.get("Alive")]) <= 1 else \
                ray.util.get_node_ip_address()
        return _RaySession(ray, func_ref, host, self._options(), slots, gc_after_trial)

    def __repr__(self) -> str:
        return f"RayExecutor(address={self.address!r}, resources_per_trial={self.resources_per_trial!r})"


class _RaySession(ExecutorSession):
    def __init__(self, ray: Any, func_ref: Any, host: str, options: dict[str, Any],
                 slots: list[str | None], gc_after_trial: bool):
        super().__init__(slots, gc_after_trial=gc_after_trial)
        self._ray = ray
        self._func_ref = func_ref
        self._options = options
        self._remote = ray.remote(_ray_trial)
        self._hub = Hub(host if host in ("127.0.0.1", "localhost") else "0.0.0.0", advertise=host)
        self._lock = threading.Lock()
        self._running: dict[int, Any] = {}
        self._stopped = False

    def _ended(self, ref: Any, number: int, wait: float, connected: bool) -> str | None:
        """None while the task runs, else why it ended without reporting back."""
        if self._stopped:
            return "the Ray task was cancelled because optimize was interrupted"
        ready, _ = self._ray.wait([ref], timeout=wait)
        if not ready:
            return None if wait <= 0 else "the Ray task closed its connection"
        try:
            self._ray.get(ref)
        except self._ray.exceptions.RayTaskError as e:
            if not connected:  # our code failed before the objective ran: every task would
                raise RuntimeError(f"RayExecutor: the Ray task of trial {number} could not connect back "
                                   f"to the driver at {self._hub.address}: {e}") from None
            return f"the Ray task running trial {number} failed: {e}"
        except Exception as e:  # noqa: BLE001 - WorkerCrashedError, NodeDiedError, OutOfMemoryError...
            return f"the Ray task running trial {number} died: {type(e).__name__}: {e}"
        return f"the Ray task running trial {number} ended without reporting back"

    def run_task(self, slot: int, trial: Trial, task: TrialTask) -> Any:
        opts = dict(self._options)
        if task.device is not None:
            # A Ray worker process is reused across tasks, and CUDA reads the variable
            # once: each device gets worker processes started with it.
            opts["runtime_env"] = {"env_vars": {"CUDA_VISIBLE_DEVICES": visible_devices(task.device)}}
        with self._lock:
            if self._stopped:
                raise WorkerLostError("the Ray task was cancelled because optimize was interrupted")
            token = self._hub.expect()
            ref = self._remote.options(**opts).remote(list(self._hub.address), self._hub.authkey, token,
                                                      self._func_ref, task)
            self._running[slot] = ref
        try:
            conn, hello = self._hub.wait(token, lambda wait: self._ended(ref, task.number, wait, False))
            try:
                if task.device is None and hello.get("gpu_ids"):  # GPUs Ray placed: the node's ids
                    trial.set_system_attr("device", "cuda:" + ",".join(hello["gpu_ids"]))
                outcome = serve_trial(conn, trial, lambda wait: self._ended(ref, task.number, wait, True))
            finally:
                conn.close()
        except BaseException:
            try:
                self._ray.cancel(ref, force=True)
            except Exception:  # noqa: BLE001 - finished meanwhile
                pass
            raise
        finally:
            with self._lock:
                self._running.pop(slot, None)
        return outcome.result()

    def abort(self) -> None:
        with self._lock:
            self._stopped = True
            refs = list(self._running.values())
        for ref in refs:
            try:
                self._ray.cancel(ref, force=True)
            except Exception:  # noqa: BLE001 - finished meanwhile
                pass

    def close(self) -> None:
        self._hub.close()
        self._func_ref = None
