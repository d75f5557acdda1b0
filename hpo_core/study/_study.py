"""Study: a set of trials optimizing one objective (or several).

The class holds the study's state, its attributes and the reads (trials, best trials);
its other jobs live beside it and the methods delegate to them: starting trials in
``_ask.py``, finishing them in ``_tell.py``, the ``optimize`` loop in ``_optimize.py``
and the DataFrame in ``_dataframe.py``.
"""

from __future__ import annotations

import copy
import math
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from hpo_core._validation import format_error
from hpo_core._view import StudyView
from hpo_core.distributions import BaseDistribution, SearchSpace
from hpo_core.history import History
from hpo_core.pruners import BasePruner, MedianPruner
from hpo_core.samplers import BaseSampler, TPESampler
from hpo_core.samplers._base import CONSTRAINTS_KEY
from hpo_core.storages import BaseStorage
from hpo_core.study import _ask, _tell
from hpo_core.study._ask import FIXED_PARAMS_ATTR, TrialBatch
from hpo_core.trial import FrozenTrial, StudyDirection, Trial, TrialState

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Study", "TrialBatch"]

_COMPLETE = TrialState.COMPLETE
#: The study system attribute holding the objectives' names (Optuna's key).
METRIC_NAMES_KEY = "study:metric_names"


class Study:
    """A study: the trials of one optimization, kept in a storage.

    Create one with :func:`hpo_core.create_study` or :func:`hpo_core.load_study`.

    Example:
        >>> import hpo_core
        >>> study = hpo_core.create_study(direction="minimize")
        >>> study.optimize(lambda t: (t.suggest_float("x", -5, 5) - 2) ** 2, n_trials=20)
        >>> round(study.best_params["x"])  # doctest: +SKIP
        2
    """

    def __init__(
        self,
        study_name: str,
        storage: BaseStorage,
        sampler: BaseSampler | None = None,
        pruner: BasePruner | None = None,
    ):
        self.study_name = study_name
        self._storage = storage
        self._study_id = storage.get_study_id_from_name(study_name)
        self._directions = storage.get_study_directions(self._study_id)
        self._n_objectives = len(self._directions)
        # Optuna 5.0's defaults: TPE and the median rule (which acts only where the
        # objective reports and asks should_prune).
        self.sampler = sampler if sampler is not None else TPESampler()
        self.pruner = pruner if pruner is not None else MedianPruner()
        self._stop_flag = False
        self._view = StudyView(storage, self._study_id, self._directions)
        self._space_cache: tuple[Any, dict[str, Any], SearchSpace] | None = None
        self._thread_local = threading.local()
        self._stale_checked = -math.inf  # monotonic time of the last check for stale trials
        self._stale_due = -math.inf  # the next check before an ask is due from then
        # The metric names for log lines, read from the storage once (a query of every
        # study system attribute per finished trial otherwise); set_metric_names updates it.
        self._log_names: tuple[list[str] | None] | None = None

    # --------------------------------------------------------------- basics
    @property
    def directions(self) -> list[StudyDirection]:
        return list(self._directions)

    @property
    def direction(self) -> StudyDirection:
        if self._n_objectives != 1:
            raise RuntimeError(
                "Study.direction is for single-objective studies; this one has "
                f"{self._n_objectives} objectives, use Study.directions."
            )
        return self._directions[0]

    def _history(self) -> History:
        """The columnar history, synced with the storage now (for the user's reads)."""
        return self._storage.get_history(self._study_id)

    @property
    def view(self) -> StudyView:
        """The read-only :class:`~hpo_core.StudyView` that samplers and pruners read:
        the columnar history (synced once per ask or pruning decision), directions,
        attributes and ``reserve``."""
        return self._view

    @property
    def user_attrs(self) -> dict[str, Any]:
        return self._storage.get_study_attrs(self._study_id, "user")

    @property
    def system_attrs(self) -> dict[str, Any]:
        return self._storage.get_study_attrs(self._study_id, "system")

    def set_user_attr(self, key: str, value: Any) -> None:
        """Store a JSON-serializable ``value`` on the study under ``key``."""
        if not isinstance(key, str):
            raise TypeError(format_error("key", "a str", key))
        self._storage.set_study_attr(self._study_id, "user", key, value)

    @property
    def metric_names(self) -> list[str] | None:
        """The objectives' names set by :meth:`set_metric_names`, or None."""
        return self._storage.get_study_attrs(self._study_id, "system").get(METRIC_NAMES_KEY)

    def set_metric_names(self, metric_names: list[str]) -> None:
        """Name the objectives (one name each), as Optuna's; stored in the study (under
        Optuna's key), shown in the per-trial log lines and ``trials_dataframe``.

        Example:
            >>> import hpo_core
            >>> study = hpo_core.create_study(directions=["maximize", "minimize"])
            >>> study.set_metric_names(["accuracy", "latency"])
            >>> study.metric_names
            ['accuracy', 'latency']
        """
        if isinstance(metric_names, str) or not isinstance(metric_names, Sequence) or not all(
            isinstance(n, str) for n in metric_names
        ):
            raise TypeError(format_error("metric_names", "a list of str", metric_names))
        if len(metric_names) != self._n_objectives:
            raise ValueError(format_error("metric_names", f"{self._n_objectives} name(s), one per objective",
                                          metric_names))
        self._storage.set_study_attr(self._study_id, "system", METRIC_NAMES_KEY, list(metric_names))
        self._log_names = (list(metric_names),)

    def _metric_names_for_logs(self) -> list[str] | None:
        """:attr:`metric_names` as the log lines use it: read once per study object."""
        if self._log_names is None:
            self._log_names = (self.metric_names,)
        return self._log_names[0]

    def set_system_attr(self, key: str, value: Any) -> None:
        if not isinstance(key, str):
            raise TypeError(format_error("key", "a str", key))
        self._storage.set_study_attr(self._study_id, "system", key, value)

    def stop(self) -> None:
        """Stop ``optimize`` after the running trials finish (thread-safe)."""
        self._stop_flag = True

    # --------------------------------------------------------------- trials
    @property
    def trials(self) -> list[FrozenTrial]:
        """All trials in number order (snapshots)."""
        return self.get_trials()

    def get_trials(
        self, deepcopy: bool = True, states: Iterable[TrialState] | None = None
    ) -> list[FrozenTrial]:
        """Trials in number order, optionally only those in ``states``."""
        # Snapshots are built fresh from the history on every call, so they are
        # already independent copies; ``deepcopy`` is accepted for compatibility.
        return self._storage.get_all_trials(self._study_id, states=states)

    @property
    def best_trial(self) -> FrozenTrial:
        """The best COMPLETE trial (single objective). In a constrained study (trials
        with the system attribute ``"constraints"``, written by samplers given a
        ``constraints_func``), the best of the feasible trials (every constraint value
        ``<= 0``), as Optuna's.

        Raises:
            ValueError: if no trial is complete yet, or none of them is feasible.
            RuntimeError: for a multi-objective study (use ``best_trials``).
        """
        if self._n_objectives != 1:
            raise RuntimeError(
                "Study.best_trial is for single-objective studies; use Study.best_trials "
                "for the Pareto front."
            )
        h = self._history()
        if h.best_row < 0:
            raise ValueError("No trial is complete yet, so there is no best trial.")
        row = h.best_row
        C = h.numeric_column(CONSTRAINTS_KEY)
        if C is not None and (C[row] > 0).any():
            rows = self._feasible(h, h.rows([int(_COMPLETE)]), C)
            if not len(rows):
                raise ValueError("No feasible trial is complete yet, so there is no best trial.")
            v = h.values[rows, 0]
            k = np.argmin(v) if self._directions[0] == StudyDirection.MINIMIZE else np.argmax(v)
            row = int(rows[k])  # the first of tied values, like Optuna's min()/max()
        return h.frozen(row)

    @staticmethod
    def _feasible(h: History, rows: np.ndarray, C: np.ndarray | None) -> np.ndarray:
        """The rows of ``rows`` with no positive constraint value (NaN: no constraints,
        feasible, as Optuna's ``all(c <= 0 for c in trial.constraints)``)."""
        if C is None:
            return rows
        return rows[~(C[rows] > 0).any(axis=1)]

    @property
    def best_params(self) -> dict[str, Any]:
        return self.best_trial.params

    @property
    def best_value(self) -> float:
        value = self.best_trial.value
        assert value is not None
        return value

    @property
    def best_trials(self) -> list[FrozenTrial]:
        """The Pareto front: COMPLETE trials no other complete trial dominates; in a
        constrained study, of the feasible trials only (as Optuna's)."""
        from hpo_core import kernels

        h = self._history()
        rows = self._feasible(h, h.rows([int(_COMPLETE)]), h.numeric_column(CONSTRAINTS_KEY))
        if not len(rows):
            return []
        signs = np.array([1.0 if d == StudyDirection.MINIMIZE else -1.0 for d in self._directions])
        values = np.ascontiguousarray(h.values[rows] * signs)
        front = rows[np.asarray(kernels.is_pareto_front(values), dtype=np.bool_)]
        return [h.frozen(r) for r in front.tolist()]

    # --------------------------------------------------------------- ask (_ask.py)
    def ask(
        self,
        fixed_distributions: Mapping[str, BaseDistribution] | SearchSpace | None = None,
        *,
        n: int | None = None,
    ) -> Any:
        """Start a new trial (or ``n`` of them) and return it.

        Args:
            fixed_distributions: Parameters to sample now, jointly, before the trial is
                returned (define-and-run); read them from ``trial.params``. A prebuilt
                :class:`SearchSpace` is the fastest form.
            n: Start ``n`` trials and return them as a list. Model-based samplers see
                the earlier trials of the batch as RUNNING, so the batch is diverse.

        Returns:
            A :class:`Trial`, or a list of ``n`` trials.
        """
        return _ask.ask(self, fixed_distributions, n)

    def ask_array(
        self, space: Mapping[str, BaseDistribution] | SearchSpace, n: int
    ) -> TrialBatch:
        """Start ``n`` trials on a fixed space and return their parameters as one array.

        The array-level path for tight loops: one sampler call and one storage write
        for the whole batch. Needs a sampler with a batch path (random, quasi-random);
        others raise ``NotImplementedError``. Finish the batch with :meth:`tell_array`.
        """
        return _ask.ask_array(self, space, n)

    # --------------------------------------------------------------- tell (_tell.py)
    def tell(
        self,
        trial: Trial | int,
        values: float | Sequence[float] | None = None,
        state: TrialState | None = None,
        skip_if_finished: bool = False,
    ) -> None:
        """Finish a trial started with :meth:`ask`.

        Args:
            trial: The :class:`Trial` or its number.
            values: The objective value(s); required unless ``state`` is PRUNED or FAIL.
            state: COMPLETE (default when values are given), PRUNED or FAIL.
            skip_if_finished: Return quietly if the trial is already finished.

        A NaN or a wrong number of values marks the trial FAIL with a warning that says
        why, rather than raising, so a loop over many trials keeps going.

        Raises:
            ValueError: bad ``state``, or values given with PRUNED/FAIL.
            UpdateFinishedTrialError: the trial is finished and ``skip_if_finished`` is
                False.
        """
        _tell.tell(self, trial, values, state, skip_if_finished)

    def tell_array(
        self,
        batch: TrialBatch,
        values: np.ndarray | Sequence[float],
        *,
        state: TrialState = TrialState.COMPLETE,
    ) -> None:
        """Finish the trials of ``batch`` with ``values`` (n,) or (n, n_objectives).

        Trials whose row holds a NaN are marked FAIL (with one warning for the batch);
        the others get ``state``.
        """
        _tell.tell_array(self, batch, values, state)

    # --------------------------------------------------------------- optimize
    def optimize(
        self,
        func: Callable[[Trial], float | Sequence[float]],
        n_trials: int | None = None,
        timeout: float | None = None,
        n_jobs: int = 1,
        catch: Iterable[type[Exception]] | type[Exception] = (),
        callbacks: Iterable[Callable[[Study, FrozenTrial], None]] | None = None,
        gc_after_trial: bool = False,
        show_progress_bar: bool = False,
        *,
        executor: Any = None,
        devices: Sequence[str] | None = None,
        trials_per_device: int = 1,
    ) -> None:
        """Run ``func`` on new trials until ``n_trials``, ``timeout`` or :meth:`stop`.

        Args:
            func: The objective: takes a :class:`Trial`, returns a value (or one per
                objective). Raising :class:`~hpo_core.TrialPruned` marks it PRUNED.
            n_trials: Number of trials to run (all workers together); None = no limit.
            timeout: Seconds after which no new trial starts (counted from when an
                executor's workers are ready); None = no limit.
            n_jobs: Trials run at once; -1 = one per CPU (one per device slot with
                ``devices``).
            catch: Exception types that mark the trial FAIL and let the study go on.
                Other exceptions also mark it FAIL, then propagate. A worker process
                that dies fails its trial and the study goes on, whatever ``catch`` is;
                so does a trial that runs out of memory (``MemoryError``,
                ``torch.cuda.OutOfMemoryError``, an allocator's "out of memory"
                ``RuntimeError``): it is marked FAIL with ``system_attrs["out_of_memory"]``,
                its memory is released (``gc.collect()``, PyTorch's CUDA cache) and the
                next trial starts. (Optuna lets such an error stop ``optimize``.)
            callbacks: Called as ``cb(study, frozen_trial)`` after each trial, in this
                process.
            gc_after_trial: Run ``gc.collect()`` after each trial (in the worker too).
            show_progress_bar: Show a progress bar (tqdm) on standard error: trials done
                out of ``n_trials`` (or seconds out of ``timeout`` when only that is
                given) with an ETA, and the best trial and value so far; nothing when
                standard error is not a terminal.
            executor: Where objectives run: None or ``"thread"`` (threads of this
                process), ``"process"`` (``n_jobs`` worker processes), ``"ray"`` (Ray
                tasks on a local Ray), or an executor object such as
                :class:`hpo_core.distributed.ProcessExecutor` or
                :class:`hpo_core.distributed.RayExecutor`. The sampler always runs
                here; remote objectives get a :class:`hpo_core.distributed.RemoteTrial`
                that forwards every call to this process.
            devices: ``["cuda:0", "cuda:1"]`` or ``["cpu", ...]``: each running trial
                holds one device (``trial.device``; worker processes and Ray tasks
                see only that GPU, through ``CUDA_VISIBLE_DEVICES``). Recorded in the
                trial's ``system_attrs["device"]``. See :mod:`hpo_core._devices`.
            trials_per_device: Trials sharing one device at once (with ``devices``).
        """
        from hpo_core.study._optimize import optimize

        optimize(
            self, func, n_trials=n_trials, timeout=timeout, n_jobs=n_jobs, catch=catch,
            callbacks=callbacks, gc_after_trial=gc_after_trial,
            show_progress_bar=show_progress_bar, executor=executor, devices=devices,
            trials_per_device=trials_per_device,
        )

    # --------------------------------------------------------------- warm starts
    def enqueue_trial(
        self,
        params: Mapping[str, Any],
        user_attrs: Mapping[str, Any] | None = None,
        skip_if_exists: bool = False,
    ) -> None:
        """Queue a trial whose ``suggest_*`` calls return ``params`` (next ask gets it).

        Args:
            params: ``{name: value}``; names not suggested are ignored, values outside
                the suggested distribution are replaced by a sample (with a warning).
            user_attrs: Attributes for the queued trial.
            skip_if_exists: Do nothing if a trial with the same params exists or waits.
        """
        if not isinstance(params, Mapping):
            raise TypeError(format_error("params", "a mapping name -> value", params))
        params = dict(params)
        if skip_if_exists:
            for t in self._storage.get_all_trials(self._study_id):
                existing = t.params if t.state != TrialState.WAITING else t.system_attrs.get(FIXED_PARAMS_ATTR, {})
                if existing == params:
                    return
        from hpo_core.trial import create_trial

        template = create_trial(
            state=TrialState.WAITING,
            system_attrs={FIXED_PARAMS_ATTR: params},
            user_attrs=user_attrs,
        )
        self._storage.create_new_trial(self._study_id, template)

    def add_trial(self, trial: FrozenTrial) -> None:
        """Add a finished trial (e.g. from an earlier run) to the study (warm start)."""
        if not isinstance(trial, FrozenTrial):
            raise TypeError(format_error("trial", "a FrozenTrial (see hpo_core.create_trial)", trial))
        trial._validate()
        if trial.values is not None and trial.state != TrialState.COMPLETE:
            # The history keeps values of COMPLETE trials only (samplers model them); a
            # PRUNED trial's value reads as its last report, as Optuna's tell stores it.
            trial = copy.copy(trial)
            trial.values = None
        if trial.values is not None and len(trial.values) != self._n_objectives:
            raise ValueError(
                format_error("trial.values", f"{self._n_objectives} value(s)", trial.values)
            )
        self._storage.create_new_trial(self._study_id, trial)

    def add_trials(self, trials: Iterable[FrozenTrial]) -> None:
        for t in trials:
            self.add_trial(t)

    # --------------------------------------------------------------- analysis
    def trials_dataframe(
        self,
        attrs: Sequence[str] = (
            "number", "value", "datetime_start", "datetime_complete", "duration",
            "params", "user_attrs", "system_attrs", "state",
        ),
        multi_index: bool = False,
    ) -> pd.DataFrame:
        """The trials as a pandas DataFrame (needs ``pip install 'hpo_core[pandas]'``)."""
        from hpo_core.study._dataframe import trials_dataframe

        return trials_dataframe(self, attrs, multi_index)

    def __repr__(self) -> str:
        return f"Study(study_name={self.study_name!r}, directions={self._directions!r})"
