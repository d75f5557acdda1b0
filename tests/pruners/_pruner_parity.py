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


def _run(lib: Any, pruner: Any, events: Sequence[Event], direction: str) -> list[tuple[int, int, bool]]:
    study = lib.create_study(direction=direction, pruner=pruner)
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
    return decisions


def decisions_of_both(
    make_pruner: Callable[[Any], Any], events: Sequence[Event], direction: str = "minimize"
) -> tuple[list[tuple[int, int, bool]], list[tuple[int, int, bool]]]:
    """``make_pruner(pruners_module)`` builds the same pruner in each library."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna's ExperimentalWarning, NaN percentiles
        ours = _run(hpo_core, make_pruner(hpo_core.pruners), events, direction)
        theirs = _run(optuna, make_pruner(optuna.pruners), events, direction)
    return ours, theirs
