"""The ``worker`` command: one worker of a study shared through a storage.

``hpo-core worker`` is one worker of a study shared through a storage, for Kubernetes
jobs, SLURM job arrays or plain shell loops: it loads the study, imports the objective
``module:function`` and runs ``optimize`` in this process, then exits 0::

    python -c "import hpo_core; hpo_core.create_study(study_name='s', storage='sqlite:///s.db')"
    srun --array=0-31 hpo-core worker --storage sqlite:///s.db --study s \\
        --objective train:objective --n-trials 10 --sampler tpe

Each worker has its own sampler, which reads the others' trials from the storage
before each ask. SIGTERM (what Kubernetes and SLURM send first) ends the worker like
Ctrl-C: its running trial is marked FAIL at once rather than after the heartbeat grace
period, and the worker exits with 143.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

import hpo_core
from hpo_core.exceptions import CLIUsageError, StudyNotFoundError

__all__ = ["add_worker_parser", "load_objective", "run_worker"]

SAMPLERS = ("tpe", "random", "gp", "auto", "qmc")


class CommandError(CLIUsageError):
    """A mistake in the command line or the environment, said in one line (an
    :class:`~hpo_core.exceptions.CLIUsageError`, as Optuna's CLI raises)."""


def add_worker_parser(sub: Any) -> None:
    """Add the ``worker`` command to an argparse subparsers object."""
    w = sub.add_parser(
        "worker", help="run trials of a study kept in a storage (one worker of many)",
        description="Load a study from a storage and run trials of it in this process; "
                    "start as many as you like on the same study.",
    )
    w.add_argument("--storage", required=True, help="database URL, e.g. sqlite:///study.db")
    w.add_argument("--study", required=True, help="the study's name (create it first)")
    w.add_argument("--objective", required=True, metavar="MODULE:FUNCTION",
                   help="the objective, imported from MODULE (the current directory is on the path)")
    w.add_argument("--n-trials", type=int, default=None, help="trials this worker runs (default: no limit)")
    w.add_argument("--timeout", type=float, default=None, help="seconds after which no new trial starts")
    w.add_argument("--sampler", choices=SAMPLERS, default="tpe", help="default: %(default)s")
    w.add_argument("--seed", type=int, default=None, help="the sampler's seed (give each worker its own)")
    w.add_argument("--quiet", action="store_true", help="no per-trial log lines")


def load_objective(spec: str) -> Callable[..., Any]:
    """Import ``"module:function"`` (``function`` may be a dotted attribute path).

    Raises:
        CommandError: the spec is malformed, the module does not import, the attribute
            is missing or not callable.
    """
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise CommandError(f"--objective must be MODULE:FUNCTION (e.g. train:objective), but got {spec!r}.")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())  # as `python -m` would; console scripts lack it
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as e:
        raise CommandError(f"--objective {spec!r}: cannot import module {module_name!r}: "
                           f"{type(e).__name__}: {e}") from e
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise CommandError(f"--objective {spec!r}: module {module_name!r} has no attribute {attr!r}.") from None
    if not callable(obj):
        raise CommandError(f"--objective {spec!r}: {attr!r} is a {type(obj).__name__}, not a function.")
    return obj  # type: ignore[no-any-return]


def _sampler(name: str, seed: int | None) -> hpo_core.samplers.BaseSampler:
    samplers = hpo_core.samplers
    cls = {"tpe": samplers.TPESampler, "random": samplers.RandomSampler, "qmc": samplers.QMCSampler,
           "gp": samplers.GPSampler, "auto": samplers.AutoSampler}[name]
    return cls(seed=seed)  # type: ignore[no-any-return]


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # fails the running trial (it is a BaseException), then exits


def run_worker(args: argparse.Namespace) -> int:
    """Run the ``worker`` command; 0 when done. Raises CommandError for user mistakes."""
    if args.n_trials is not None and args.n_trials < 1:
        raise CommandError(f"--n-trials must be >= 1, but got {args.n_trials}.")
    if args.timeout is not None and not args.timeout > 0:
        raise CommandError(f"--timeout must be > 0, but got {args.timeout}.")
    objective = load_objective(args.objective)
    if args.quiet:
        hpo_core.logging.set_verbosity(logging.WARNING)
    try:
        study = hpo_core.load_study(study_name=args.study, storage=args.storage,
                                    sampler=_sampler(args.sampler, args.seed))
    except StudyNotFoundError:
        raise CommandError(
            f"no study named {args.study!r} in {args.storage}; create it first, e.g. "
            f"hpo_core.create_study(study_name={args.study!r}, storage={args.storage!r})."
        ) from None
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if in_main else None
    try:
        study.optimize(objective, n_trials=args.n_trials, timeout=args.timeout)
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous)
    return 0
