"""Feed the same learning curves to an hpo_core study and an Optuna study (both in memory)
and record every ``should_prune`` decision of each.

An event is ``(i, step, value)``: trial ``i`` (asked at its first event) reports ``value``
at ``step`` and asks ``should_prune``; or ``(i, "tell", final)``: trial ``i`` finishes,
COMPLETE with ``final`` a float, else ``"pruned"`` or ``"fail"``. A trial pruned by a
decision keeps going: the curves, not the decisions, drive both studies, so one wrong
decision cannot hide the next.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import hpo_core

Event = tuple[int, Any, Any]
Curve = tuple[Sequence[tuple[int, float]], Any]  # reports (step, value), then the final


def sequential(curves: Sequence[Curve]) -> list[Event]:
    """Events of trials run one after the other."""
    events: list[Event] = []
    for i, (reports, final) in enumerate(curves):
        events += [(i, step, value) for step, value in reports]
        events.append((i, "tell", final))
    return events


def run_study(
    lib: Any, pruner: Any, events: Sequence[Event], direction: str, storage: str | None = None
) -> tuple[list[Any], list[Any]]:
    """Decisions ``(i, step, prune)`` and every trial's system attributes at the end."""
    kwargs = {} if storage is None else {"storage": storage}
    study = lib.create_study(direction=direction, pruner=pruner, study_name="pruner-parity", **kwargs)  # Hyperband hashes the name
    trials: dict[int, Any] = {}
    decisions = []
    for i, what, arg in events:
        if i not in trials:
            trials[i] = study.ask()
        trial = trials[i]
        if what == "tell":
            if arg == "pruned":
                study.tell(trial, state=lib.trial.TrialState.PRUNED)
            elif arg == "fail":
                study.tell(trial, state=lib.trial.TrialState.FAIL)
            else:
                study.tell(trial, arg)
        else:
            trial.report(arg, what)
            decisions.append((i, what, bool(trial.should_prune())))
    return decisions, [t.system_attrs for t in study.get_trials()]


def decisions_of_both(
    make_pruner: Callable[[Any], Any], events: Sequence[Event], direction: str = "minimize"
) -> tuple[list[tuple[int, int, bool]], list[tuple[int, int, bool]]]:
    """``make_pruner(pruners_module)`` builds the same pruner in each library."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna's ExperimentalWarning, NaN percentiles
        ours, our_attrs = run_study(hpo_core, make_pruner(hpo_core.pruners), events, direction)
        theirs, their_attrs = run_study(optuna, make_pruner(optuna.pruners), events, direction)
    assert our_attrs == their_attrs  # the successive-halving rungs, say
    return ours, theirs


def interleaved(curves: Sequence[Curve], n_workers: int, seed: int) -> list[Event]:
    """Events of ``n_workers`` trials running at once, their events interleaved at random
    (each trial's own events in order); a trial starts when a worker frees up."""
    import numpy as np

    rng = np.random.default_rng(seed)
    queues = [[(i, what, arg) for _, what, arg in sequential([c])] for i, c in enumerate(curves)]
    running: list[list[Event]] = []
    waiting = list(queues)
    events: list[Event] = []
    while running or waiting:
        while waiting and len(running) < n_workers:
            running.append(waiting.pop(0))
        q = running[int(rng.integers(len(running)))]
        events.append(q.pop(0))
        running = [r for r in running if r]
    return events
