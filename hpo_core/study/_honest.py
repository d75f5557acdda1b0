"""Honest final numbers: re-evaluate the best configurations of a study over several
seeds, and keep a test split sealed until the search is over.

A search's best value is optimistically biased: it is the maximum of many noisy
evaluations (the winner's curse), and a test set consulted during the search is no
longer a test set. :func:`reevaluate_top_k` reruns the top k distinct configurations
with fresh seeds and reports their mean and spread; :class:`HeldOut` holds the test
data out of reach of the objective and evaluates one chosen configuration once.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np

from hpo_core._imports import import_optional
from hpo_core._validation import as_real, check_callable, check_int, format_error
from hpo_core.exceptions import HpoError
from hpo_core.trial import FixedTrial, StudyDirection, TrialState

if TYPE_CHECKING:
    import pandas as pd

    from hpo_core.study._study import Study

__all__ = ["HeldOut", "HeldOutAccessError", "reevaluate_top_k"]

_COMPLETE, _RUNNING = int(TrialState.COMPLETE), int(TrialState.RUNNING)


def _top_rows(study: Study, k: int) -> list[int]:
    """Trial numbers of the best ``k`` COMPLETE trials with distinct parameters, best
    first (ties by trial number), read from the history's value column."""
    h = study.view.sync()
    rows = h.rows([_COMPLETE])
    values = h.values[rows, 0]
    ok = ~np.isnan(values)
    rows, values = rows[ok], values[ok]
    sign = -1.0 if study.direction == StudyDirection.MAXIMIZE else 1.0
    order = rows[np.lexsort((rows, sign * values))]
    chosen: list[int] = []
    seen: set[tuple[Any, ...]] = set()
    for row in order.tolist():  # stops after k distinct configurations
        key = tuple(sorted((n, repr(v)) for n, v in h.frozen(row).params.items()))
        if key not in seen:
            seen.add(key)
            chosen.append(row)
            if len(chosen) == k:
                break
    return chosen


def reevaluate_top_k(
    study: Study,
    objective: Callable[[FixedTrial, int], float],
    k: int = 5,
    seeds: Sequence[int] = (0, 1, 2),
    *,
    n_jobs: int = 1,
) -> pd.DataFrame:
    """Re-run the ``k`` best distinct configurations of a study once per seed.

    ``objective(trial, seed)`` gets a :class:`~hpo_core.trial.FixedTrial` that replays the
    configuration's ``suggest_*`` calls (its ``number`` is the original trial's) and the
    seed, which it should pass to everything random (the model, the data split); it
    returns the value. The study is not changed. An exception in the objective
    propagates (an honest number has no silently missing seeds).

    Args:
        study: A single-objective study with COMPLETE trials.
        objective: ``(trial, seed) -> float``.
        k: Configurations to re-evaluate (fewer when the study has fewer distinct ones).
        seeds: The seeds, at least one.
        n_jobs: Threads running the ``k * len(seeds)`` evaluations; -1 for one per CPU.

    Returns:
        A ``pandas.DataFrame``, one row per configuration sorted by ``mean`` (best
        first): ``number`` (the trial), ``value`` (its value in the search), ``mean``,
        ``std`` (sample standard deviation over the seeds, NaN for one seed), ``min``,
        ``max``, ``seed_<s>`` per seed, and ``params_<name>`` per parameter.

    Raises:
        ValueError: the study is multi-objective or has no COMPLETE trial; ``k``,
            ``seeds`` or ``n_jobs`` is out of range.

    Example:
        >>> import hpo_core
        >>> study = hpo_core.create_study(sampler=hpo_core.samplers.RandomSampler(seed=0))
        >>> study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=20)
        >>> def objective(trial, seed):
        ...     noise = __import__("random").Random(seed).gauss(0, 0.01)
        ...     return trial.suggest_float("x", -1, 1) ** 2 + noise
        >>> table = hpo_core.reevaluate_top_k(study, objective, k=3, seeds=(0, 1))
        >>> list(table.columns[:6])
        ['number', 'value', 'mean', 'std', 'min', 'max']
    """
    pd_ = import_optional("pandas", extra="pandas", feature="reevaluate_top_k")
    owner = "reevaluate_top_k"
    if getattr(study, "view", None) is None:
        raise TypeError(format_error("study", "an hpo_core Study", study, owner=owner))
    check_callable("objective", objective, owner=owner)
    k = int(check_int("k", k, low=1, owner=owner) or 1)
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence) or not seeds:
        raise ValueError(format_error("seeds", "a non-empty sequence of ints", seeds, owner=owner))
    seeds = [int(check_int("seeds", s, owner=owner) or 0) for s in seeds]
    n_jobs = int(check_int("n_jobs", n_jobs, low=-1, owner=owner) or 0)
    if n_jobs == 0:
        raise ValueError(format_error("n_jobs", "a positive int or -1", n_jobs, owner=owner))
    if len(study.directions) > 1:
        raise ValueError(format_error("study", "a single-objective study", study, owner=owner))
    rows = _top_rows(study, k)
    if not rows:
        raise ValueError(format_error("study", "a study with a COMPLETE trial", study, owner=owner))
    h = study.view.history
    trials = [h.frozen(row) for row in rows]
    jobs = [(i, j) for i in range(len(trials)) for j in range(len(seeds))]

    def run(job: tuple[int, int]) -> float:
        i, j = job
        value = objective(FixedTrial(trials[i].params, number=trials[i].number), seeds[j])
        return as_real(value, "objective's return value", owner=owner)

    workers = (os.cpu_count() or 1) if n_jobs == -1 else n_jobs
    if workers == 1:
        flat = [run(job) for job in jobs]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            flat = list(pool.map(run, jobs))
    V = np.array(flat, dtype=np.float64).reshape(len(trials), len(seeds))
    table: dict[str, Any] = {
        "number": [t.number for t in trials],
        "value": [t.value for t in trials],
        "mean": V.mean(axis=1),
        "std": V.std(axis=1, ddof=1) if len(seeds) > 1 else np.full(len(trials), math.nan),
        "min": V.min(axis=1),
        "max": V.max(axis=1),
    }
    for j, s in enumerate(seeds):
        table[f"seed_{s}"] = V[:, j]
    for name in sorted({n for t in trials for n in t.params}):
        table[f"params_{name}"] = [t.params.get(name) for t in trials]
    df = pd_.DataFrame(table)
    best_first = study.direction == StudyDirection.MINIMIZE
    return df.sort_values("mean", ascending=best_first, kind="stable").reset_index(drop=True)


class HeldOutAccessError(HpoError):
    """Held-out data was reached for during a search, or evaluated a second time."""


class HeldOut:
    """A test split sealed until the search is over: the objective cannot read it, and
    one chosen configuration is evaluated on it once.

    The data are kept out of reach: ``data``, iteration, pickling (a process worker or a
    journal) and a second :meth:`evaluate` raise :class:`HeldOutAccessError`.
    :meth:`evaluate` refuses while the study has a RUNNING trial (its own objective,
    another worker's), so the test split cannot steer the search, and runs
    ``fn(trial, *data)`` once with a :class:`~hpo_core.trial.FixedTrial` of the chosen
    parameters (the study's best by default, e.g. ``reevaluate_top_k``'s winner).

    Args:
        *data: The test split, e.g. ``X_test, y_test``.

    Example:
        >>> import hpo_core
        >>> test = hpo_core.HeldOut([3.0, 4.0])
        >>> study = hpo_core.create_study(sampler=hpo_core.samplers.RandomSampler(seed=0))
        >>> study.optimize(lambda t: (t.suggest_float("x", 0, 5) - 3.5) ** 2, n_trials=30)
        >>> def score(trial, ys):
        ...     x = trial.suggest_float("x", 0, 5)
        ...     return sum((x - y) ** 2 for y in ys) / len(ys)
        >>> test.evaluate(study, score) >= 0.25
        True
        >>> test.result is not None  # a second evaluate raises HeldOutAccessError
        True
    """

    __slots__ = ("_data", "_result", "_number")

    def __init__(self, *data: Any) -> None:
        if not data:
            raise ValueError(
                format_error("data", "at least one object (the test split)", data, owner="HeldOut")
            )
        self._data = data
        self._result: float | None = None
        self._number: int | None = None

    @staticmethod
    def _sealed() -> NoReturn:
        raise HeldOutAccessError(
            "The held-out data are sealed: use HeldOut.evaluate(study, fn) once the search is "
            "over, which passes them to fn for the chosen configuration only."
        )

    @property
    def data(self) -> NoReturn:
        self._sealed()

    def __iter__(self) -> NoReturn:
        self._sealed()

    def __reduce__(self) -> NoReturn:
        raise HeldOutAccessError(
            "HeldOut cannot be pickled: the held-out data stay in the process that holds them "
            "(pass the training data to workers, not the test split)."
        )

    @property
    def result(self) -> float | None:
        """The value :meth:`evaluate` returned, None before."""
        return self._result

    def __repr__(self) -> str:
        state = "sealed" if self._result is None else f"evaluated once ({self._which()}: {self._result!r})"
        return f"HeldOut({len(self._data)} objects, {state})"

    def _which(self) -> str:
        return "given parameters" if self._number == -1 else f"trial {self._number}"

    def evaluate(
        self, study: Study, fn: Callable[..., float], *, params: Mapping[str, Any] | None = None
    ) -> float:
        """Evaluate the chosen configuration on the held-out data, once.

        Args:
            study: The finished study (no RUNNING trial).
            fn: ``fn(trial, *data) -> float``; ``trial`` a FixedTrial replaying ``params``.
            params: The configuration; None for ``study.best_params``.

        Returns:
            ``fn``'s value, also kept in :attr:`result`.

        Raises:
            HeldOutAccessError: a trial of the study is RUNNING (the search is not over),
                or the data were evaluated already.
        """
        check_callable("fn", fn, owner="HeldOut.evaluate")
        if self._result is not None:
            raise HeldOutAccessError(
                f"The held-out data were evaluated once already ({self._which()}: "
                f"{self._result!r}); a second look would let the test split choose the "
                "configuration."
            )
        h = study.view.sync()
        running = int((h.states[: h.n] == _RUNNING).sum())
        if running:
            raise HeldOutAccessError(
                f"The search is not over: {running} trial(s) of study {study.study_name!r} are "
                "RUNNING. The held-out data are evaluated after optimize returns, never "
                "inside an objective."
            )
        if params is None:
            best = study.best_trial
            params, number = best.params, best.number
        else:
            if not isinstance(params, Mapping):
                raise TypeError(
                    format_error(
                        "params", "a mapping of parameter names to values", params, owner="HeldOut.evaluate"
                    )
                )
            number = -1
        value = as_real(
            fn(FixedTrial(dict(params), number=max(number, 0)), *self._data),
            "fn's return value",
            owner="HeldOut.evaluate",
        )
        self._result, self._number = value, number
        return value
