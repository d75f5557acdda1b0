"""The studies that ``sync.py`` times, and the process that holds RUNNING trials beside them.

:func:`tpe_trial` is the timed unit (a define-by-run trial of the mixed space of
``overhead_tpe.py``); :func:`prefill` adds finished trials fast with
``ask_array``/``tell_array``; :class:`Holder` runs ``sync.py --hold`` (:func:`hold`), a
second process that creates RUNNING trials through its own storage and waits;
:class:`Studies` deletes what a run created (PostgreSQL keeps it otherwise).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import overhead_tpe

__all__ = ["PREFILL_BATCH", "Holder", "Spec", "Studies", "hold", "holder", "n_finished", "postgres_problem",
           "prefill", "tpe_trial", "use_tpe"]

PREFILL_BATCH = 1000


# ----------------------------------------------------------------------------- one trial
def tpe_trial(study: Any) -> None:
    """One define-by-run trial: ask, the 10 ``suggest_*`` of the mixed space, tell."""
    t = study.ask()
    study.tell(t, overhead_tpe.objective(overhead_tpe.suggest_all(t)))


# ----------------------------------------------------------------------------- studies
def _space() -> Any:
    import hpo_core

    return hpo_core.SearchSpace(overhead_tpe.distributions(hpo_core))


def _values(space: Any, X: np.ndarray) -> np.ndarray:
    """``overhead_tpe.objective`` of internal rows ``X (n, d)`` (a categorical is its index)."""
    col = {name: X[:, j] for j, name in enumerate(space.names)}
    return (col["f_uniform"] ** 2 + col["f_extra0"] + col["f_extra1"] + col["i_uniform"] / 100.0
            + (col["c_small"] == 0.0))


def prefill(study: Any, n: int, seed: int) -> None:
    """Add ``n`` finished trials of the mixed space: random sampler, batches of 1,000."""
    import hpo_core

    sampler, space = study.sampler, _space()
    study.sampler = hpo_core.samplers.RandomSampler(seed=seed)
    try:
        for k in range(0, n, PREFILL_BATCH):
            batch = study.ask_array(space, min(PREFILL_BATCH, n - k))
            study.tell_array(batch, _values(space, batch.params))
    finally:
        study.sampler = sampler


def n_finished(study: Any) -> int:
    import hpo_core

    h = study._history()
    return int(h.n - h.count(int(hpo_core.TrialState.RUNNING)) - h.count(int(hpo_core.TrialState.WAITING)))


def use_tpe(study: Any, args: argparse.Namespace) -> None:
    """Switch ``study`` to a fresh ``TPESampler`` and run the untimed warm-up trials."""
    import hpo_core

    study.sampler = hpo_core.samplers.TPESampler(seed=args.seed)
    for _ in range(args.warmup):
        tpe_trial(study)


# ----------------------------------------------------------------------------- the holder process
# One spec per study: (storage URL, study name, RUNNING trials to create).
Spec = tuple[str, str, int]


def hold(specs: list[Spec], n_steps: int, heartbeat: float | None) -> int:
    """Holder process: create the RUNNING trials, say ``ready``, wait for stdin to close.

    Each trial is asked through this process's own storage object, gets the 10
    parameters of the mixed space and ``n_steps`` reports, and is never told. With
    ``heartbeat``, every trial's heartbeat is recorded every ``heartbeat`` seconds
    meanwhile (one write each, as ``Study.optimize`` does).
    """
    import hpo_core
    from hpo_core.storages import RDBStorage

    hpo_core.logging.set_verbosity(logging.WARNING)
    t0 = time.perf_counter()
    held: list[tuple[Any, int]] = []
    for url, name, n in specs:
        storage = RDBStorage(url, heartbeat_interval=None)
        study = hpo_core.load_study(study_name=name, storage=storage,
                                    sampler=hpo_core.samplers.RandomSampler(seed=1))
        for _ in range(n):
            trial = study.ask()
            overhead_tpe.suggest_all(trial)
            for step in range(n_steps):
                trial.report(1.0 / (step + 1), step)
            held.append((storage, trial._trial_id))
    print(f"ready {len(held)} {time.perf_counter() - t0:.2f}", flush=True)
    while True:
        readable, _, _ = select.select([sys.stdin], [], [], heartbeat)
        if readable and not os.read(sys.stdin.fileno(), 65536):
            return 0  # stdin closed: the benchmark is done
        if heartbeat is not None and not readable:
            for storage, trial_id in held:
                storage.record_heartbeat(trial_id)


class Holder:
    """A holder process (see :func:`hold`), stopped by closing its stdin."""

    def __init__(self, specs: list[Spec], args: argparse.Namespace):
        # sync.py --hold runs hold() (its main), with sync.py's command line.
        cmd = [sys.executable, str(Path(__file__).resolve().with_name("sync.py")), "--hold-steps", str(args.steps)]
        if args.heartbeat is not None:
            cmd += ["--heartbeat", str(args.heartbeat)]
        for url, name, n in specs:
            cmd += ["--hold", url, name, str(n)]
        self.n = sum(n for _, _, n in specs)
        self.setup_s = 0.0
        self.proc: subprocess.Popen[bytes] | None = None
        if self.n:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE)

    def wait_ready(self, timeout: float = 600.0) -> None:
        """Block until the trials exist; raise (with the holder's stderr) if it failed."""
        if self.proc is None:
            return
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline().decode() if ready else ""
        if not line.startswith("ready "):
            self.stop()
            err = self.proc.stderr.read().decode().strip() if self.proc.stderr else ""
            raise RuntimeError(f"the holder process did not get ready: {err[-2000:] or line or 'timeout'}")
        _, n, secs = line.split()
        if int(n) != self.n:
            raise RuntimeError(f"the holder created {n} RUNNING trials, expected {self.n}")
        self.setup_s = float(secs)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        assert self.proc.stdin is not None
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@contextlib.contextmanager
def holder(specs: list[Spec], args: argparse.Namespace) -> Iterator[Holder]:
    h = Holder(specs, args)
    try:
        h.wait_ready()
        yield h
    finally:
        h.stop()


# ----------------------------------------------------------------------------- storages
def _storage(url: str) -> Any:
    from hpo_core.storages import RDBStorage

    return RDBStorage(url, heartbeat_interval=None)


def postgres_problem(url: str) -> str | None:
    """Why ``url`` cannot be used (driver missing, server down), or None."""
    try:
        _storage(url).close()
    except Exception as e:  # noqa: BLE001 - reported in the table instead
        return f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
    return None


class Studies:
    """Studies created by this run, deleted at the end (PostgreSQL keeps them otherwise)."""

    def __init__(self) -> None:
        self.made: list[tuple[Any, str]] = []
        self.counter = 0

    def create(self, url: str) -> Any:
        import hpo_core

        storage = _storage(url)
        name = f"hpo_sync_bench_{os.getpid()}_{self.counter}"
        self.counter += 1
        study = hpo_core.create_study(storage=storage, study_name=name,
                                      sampler=hpo_core.samplers.RandomSampler(seed=0))
        self.made.append((storage, name))
        return study

    def delete_all(self) -> None:
        import hpo_core

        for storage, name in self.made:
            with contextlib.suppress(Exception):
                hpo_core.delete_study(study_name=name, storage=storage)
            with contextlib.suppress(Exception):
                storage.close()
        self.made.clear()
