"""CmaEsSampler: the adapter between the study's history and the ``cmaes`` optimizers.

Per ask: the finished trials since the last ask are sorted into populations by the
history's ``generation`` column (incrementally: the rows after a cursor, and the rows
still running at the last ask), the population being collected is told to the
optimizer once ``popsize`` of its trials are finished, and the optimizer proposes the
new trial. So an ask reads a handful of rows however long the study is. The run's
state lives in the study (a system attribute written once per generation), so that
every worker of a storage advances one run and a restarted worker resumes it.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from hpo_core._imports import import_optional
from hpo_core._validation import check_bool, check_choice, check_int, check_real, format_error
from hpo_core.distributions import BaseDistribution, SearchSpace
from hpo_core.exceptions import HpoWarning
from hpo_core.samplers._base import EMPTY_SPACE, BaseSampler, HistoryBound, visible_rows
from hpo_core.samplers._optuna_stream import LegacyStream, OptunaStreamRandomSampler
from hpo_core.samplers.cmaes import _run
from hpo_core.samplers.cmaes._populations import GENERATION_ATTR, RAW_ATTR, Group
from hpo_core.samplers.cmaes._space import Coder
from hpo_core.trial._state import StudyDirection, TrialState

if TYPE_CHECKING:
    from hpo_core.history import History
    from hpo_core.study import Study
    from hpo_core.trial import FrozenTrial, Trial

__all__ = ["CmaEsSampler"]

OWNER = "CmaEsSampler"
_COMPLETE, _PRUNED = 1, 2  # the history's state codes
class CmaEsSampler(HistoryBound, BaseSampler):
    """CMA-ES on the ``cmaes`` package, one run shared by every worker of a study.

    Each population of ``popsize`` trials is sampled from the current multivariate normal
    distribution; once ``popsize`` trials of it are finished (COMPLETE, or PRUNED with
    their last reported value when ``consider_pruned_trials``), the first ``popsize`` of
    them in trial order are told to the optimizer and the next population starts. Each
    trial's population is its system attribute ``"generation"``, a typed column of the
    history, so an ask reads only the trials finished since the previous ask.

    The optimizer (Hansen's tutorial, arXiv:1604.00772):

    * ``cmaes.CMA`` by default (``lr_adapt``: learning-rate adaptation, Nomura et al.,
      GECCO 2023);
    * ``cmaes.SepCMA`` with ``use_separable_cma`` (diagonal covariance, Ros and Hansen
      2008; plain CMA in one dimension, with a warning);
    * ``cmaes.CMAwM`` with ``with_margin`` (a margin keeps int and stepped parameters
      from freezing on one grid point, Hamano et al., GECCO 2022);
    * ``cmaes.CatCMAwM`` whenever the space holds categorical parameters (CatCMA with
      margin, arXiv:2504.07884): categoricals are optimized with the rest instead of
      being sampled at random, ints and stepped floats with a margin.

    Parameters are mapped to [0, 1] (log space for log parameters) as in Optuna; ``x0``
    and ``sigma0`` are read in that space. A one-parameter space is optimized like any
    other (Optuna issue 5520).

    Sharing: the run (optimizer, generation, restart bookkeeping; not the random
    generators) is stored in the study's system attribute ``"cmaes:state"`` after every
    tell, and read when a worker first asks or sees trials of a later generation than
    its own. So workers on one storage (threads, processes, machines) advance one run,
    and a worker restarted on a stored study resumes it. Two workers that tell the same
    generation at once store the same state when they saw the same finished trials (the
    first ``popsize`` in trial order); otherwise the last write wins, as in Optuna.

    Restarts (``restart_strategy``, when the optimizer's stopping criteria fire after a
    tell): ``"ipop"`` restarts at a random point with the population ``inc_popsize``
    times larger (Auger and Hansen 2005); ``"bipop"`` alternates that with runs of small
    random populations and step sizes (Hansen 2009). Optuna 5.0 accepts these arguments
    but ignores them (with a FutureWarning); here they work. ``inc_popsize=-1`` means 2.

    Warm start (``source_trials``, Nomura et al., AAAI 2021): the initial mean, step size
    and covariance are estimated from COMPLETE trials (PRUNED ones too with
    ``consider_pruned_trials``) of another study with the same parameters.

    Under :class:`~hpo_core.pruners.HyperbandPruner` one run learns from every bracket's
    trials, as Optuna 5.0's CmaEsSampler does (it reads the trials through
    ``study._get_trials``, which its bracket study does not filter). With
    ``HyperbandPruner(sampler_scope="bracket")`` each bracket has its own run (stored
    under ``"cmaes:state:bracket-<its first trial>"``), learning from and counting the
    startup trials of that bracket only (:func:`~hpo_core.samplers.visible_rows`).

    Trials before ``n_startup_trials`` finished ones, and parameters outside the joint
    space (conditional ones, define-by-run), are sampled by ``independent_sampler``.
    Single objective only.

    Same seed, same trials as Optuna 5.0: ``CmaEsSampler(seed=s)`` proposes bit for bit
    the parameters of Optuna's ``CmaEsSampler(seed=s)`` for float, log, stepped and int
    parameters, with the defaults and with ``use_separable_cma``, ``with_margin``,
    ``lr_adapt``, ``popsize``, ``n_startup_trials``, ``x0``, ``sigma0``,
    ``source_trials`` and ``consider_pruned_trials``, define-by-run or with
    ``ask(fixed_distributions)``: the startup trials draw Optuna's ``RandomSampler(seed)``
    stream, the optimizer's seeds and its reseeding before every ask
    (``randint(1, 2**16) + trial.number``) come from a second ``RandomState(seed)`` in
    Optuna's order, and parameters map to and from [0, 1] by Optuna's formulas in the
    order of their names. Not the same where Optuna differs by design: categorical
    parameters (CatCMA here, random there), restarts (Optuna 5.0 ignores
    ``restart_strategy``; the trials agree until the first restart), a space that changes
    (a new run here, random there), a trial that tells a generation and then ends FAILED,
    or PRUNED without ``consider_pruned_trials`` (Optuna stores the told optimizer on that
    trial, loses it and tells the generation again), several workers, whose asks
    interleave in an order no seed fixes (each draws from its own generators; the run
    they share stays one), and ``HyperbandPruner(sampler_scope="bracket")`` (one run per
    bracket, above).

    Args:
        x0: Initial mean, ``{name: external value}`` (default: the centre; missing
            names too). Restarts start at random points.
        sigma0: Initial step size in the [0, 1] coordinates (default 1/6).
        n_startup_trials: Finished trials before CMA-ES starts.
        independent_sampler: Sampler for startup trials and parameters outside the
            joint space (default: random sampling on Optuna's ``RandomSampler(seed)``
            stream, :class:`~hpo_core.samplers._optuna_stream.OptunaStreamRandomSampler`).
        warn_independent_sampling: Warn when a parameter is sampled independently after
            the startup trials.
        seed: Seed of the optimizer's draws and of the default independent sampler;
            equal seeds give equal proposals (Optuna's, see above).
        consider_pruned_trials: Tell PRUNED trials with their last reported value.
        restart_strategy: None, ``"ipop"`` or ``"bipop"``.
        popsize: Population size (default ``4 + floor(3 ln d)``).
        inc_popsize: Population growth factor of restarts (-1: 2).
        use_separable_cma: Use separable CMA-ES.
        with_margin: Use CMA-ES with margin for int and stepped parameters.
        lr_adapt: Use learning-rate adaptation.
        source_trials: Trials to warm-start from.

    Raises:
        ValueError: An argument is out of range or a combination Optuna forbids
            (``source_trials`` with ``x0``, ``sigma0`` or ``use_separable_cma``;
            ``lr_adapt`` with ``use_separable_cma`` or ``with_margin``;
            ``use_separable_cma`` with ``with_margin``); at an ask, a multi-objective
            study or ``source_trials`` without a trial compatible with the space.
        TypeError: An argument has the wrong type.

    Example:
        >>> import hpo_core
        >>> sampler = hpo_core.samplers.CmaEsSampler(seed=0)
        >>> study = hpo_core.create_study(sampler=sampler)
        >>> def objective(trial):
        ...     x = trial.suggest_float("x", -5, 5)
        ...     y = trial.suggest_int("y", -5, 5)
        ...     return (x - 1) ** 2 + y ** 2
        >>> study.optimize(objective, n_trials=200)
        >>> study.best_value < 0.1
        True
    """

    def __init__(
        self,
        *,
        x0: dict[str, Any] | None = None,
        sigma0: float | None = None,
        n_startup_trials: int = 1,
        independent_sampler: BaseSampler | None = None,
        warn_independent_sampling: bool = True,
        seed: int | None = None,
        consider_pruned_trials: bool = False,
        restart_strategy: str | None = None,
        popsize: int | None = None,
        inc_popsize: int = -1,
        use_separable_cma: bool = False,
        with_margin: bool = False,
        lr_adapt: bool = False,
        source_trials: Sequence[FrozenTrial] | None = None,
    ) -> None:
        # Here, so that a missing package fails at construction, naming the extra.
        import_optional("cmaes", extra="cmaes", feature=OWNER)
        _check_args(x0, sigma0, independent_sampler, source_trials)
        self._sigma0 = check_real("sigma0", sigma0, low=0.0, low_open=True, allow_none=True, owner=OWNER)
        self._n_startup = cast(int, check_int("n_startup_trials", n_startup_trials, low=0, owner=OWNER))
        self._warn = check_bool("warn_independent_sampling", warn_independent_sampling, owner=OWNER)
        check_int("seed", seed, low=0, allow_none=True, owner=OWNER)
        self._consider_pruned = check_bool("consider_pruned_trials", consider_pruned_trials, owner=OWNER)
        self._restart = check_choice("restart_strategy", restart_strategy, (None, "ipop", "bipop"), owner=OWNER)
        self._popsize = check_int("popsize", popsize, low=2, allow_none=True, owner=OWNER)
        if inc_popsize != -1:
            check_int("inc_popsize", inc_popsize, low=1, owner=OWNER)
        self._inc_popsize = 2 if inc_popsize == -1 else int(inc_popsize)
        self._sep = check_bool("use_separable_cma", use_separable_cma, owner=OWNER)
        self._margin = check_bool("with_margin", with_margin, owner=OWNER)
        self._lr_adapt = check_bool("lr_adapt", lr_adapt, owner=OWNER)
        _check_combinations(x0, sigma0, source_trials, use_separable_cma, with_margin, lr_adapt)
        self._x0 = None if x0 is None else dict(x0)
        self._source_trials = None if source_trials is None else list(source_trials)
        self._independent = (independent_sampler if independent_sampler is not None
                             else OptunaStreamRandomSampler(seed))
        # Optuna's two streams: `_cma_stream` (its `_cma_rng`, drawn through the emulated
        # stream: a NumPy randint call costs more than the rest of the reseeding) seeds
        # the optimizer and reseeds its generator (`_opt_rng`, shared by this worker's
        # runs) before every ask.
        self._cma_stream = LegacyStream(np.random.RandomState(seed))
        self._opt_rng = np.random.RandomState(0)
        self._lock = threading.Lock()
        self._coders: dict[tuple[SearchSpace, bool], Coder] = {}
        self._last_coder: Coder | None = None
        self._reset_history_caches()

    # ------------------------------------------------------------------ state
    def _reset_history_caches(self) -> None:
        """Forget the runs and the populations read from one study's history."""
        self._groups: dict[int | None, Group] = {}

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_lock"]
        state["_history_ref"] = None  # the run is read again from whatever study loads it
        state["_coders"], state["_last_coder"] = {}, None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        if "_cma_rng" in state:  # pickled before the stream was emulated
            state["_cma_stream"] = LegacyStream(state.pop("_cma_rng"))
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self._reset_history_caches()

    def reseed_rng(self) -> None:
        with self._lock:
            self._cma_stream = LegacyStream(np.random.RandomState())
        self._independent.reseed_rng()

    # ------------------------------------------------------------------ spaces
    def infer_relative_search_space(self, study: Study, trial: Trial) -> SearchSpace:
        h = study.view.history
        if self._n_usable(h, visible_rows(study, trial)) < self._n_startup:
            # Startup: every parameter goes to the independent sampler as it is suggested,
            # in the objective's order (Optuna's sample_relative returns nothing then).
            return EMPTY_SPACE
        space = h.intersection_search_space()
        if any(dist.single() for dist in space.values()):
            space = SearchSpace({n: d for n, d in space.items() if not d.single()})
        return space if len(space) else EMPTY_SPACE

    def _kind(self, coder: Coder) -> str:
        if len(coder.cat):
            return "catcmawm"
        if self._margin:
            return "cmawm"
        if self._sep and coder.n_numeric > 1:
            return "sepcma"
        return "cma"

    def _coder(self, space: SearchSpace) -> Coder:
        last = self._last_coder
        if last is not None and last.space is space:
            return last
        has_cat = bool((space.kinds == 2).any())
        tight = self._margin or has_cat
        coder = self._coders.get((space, tight))
        if coder is None:
            if len(self._coders) > 16:
                self._coders.clear()
            coder = self._coders[(space, tight)] = Coder(space, tight=tight)
        self._last_coder = coder
        return coder

    # ------------------------------------------------------------------ sampling
    def sample_independent(
        self, study: Study, trial: Trial, param_name: str, param_distribution: BaseDistribution
    ) -> Any:
        _check_single_objective(study)
        if self._warn and self._n_usable(study.view.history, visible_rows(study, trial)) >= self._n_startup:
            warnings.warn(
                f"{OWNER}: `{param_name}` is not in the joint search space of trial {trial.number} (a "
                f"dynamic search space); it is sampled by {type(self._independent).__name__}.",
                HpoWarning,
                stacklevel=3,
            )
        return self._independent.sample_independent(study, trial, param_name, param_distribution)

    def _n_usable(self, h: History, mask: np.ndarray | None = None) -> int:
        """Finished trials CMA-ES may learn from (of ``mask``'s rows; O(1) without one)."""
        if mask is None:
            return h.count(_COMPLETE) + (h.count(_PRUNED) if self._consider_pruned else 0)
        st = h.states[: len(mask)][mask]
        return int(np.count_nonzero((st == _COMPLETE) | ((st == _PRUNED) & self._consider_pruned)))

    def sample_joint(self, study: Study, trial: Trial, space: SearchSpace) -> np.ndarray:
        _check_single_objective(study)
        h = study.view.history
        # Under HyperbandPruner(sampler_scope="bracket"), the trials of the asking
        # trial's bracket only: one run per bracket. None: every trial.
        mask = visible_rows(study, trial)
        if trial is None or self._n_usable(h, mask) < self._n_startup:
            return self._independent.sample_joint(study, trial, space)
        coder = self._coder(space)
        if coder.n_numeric == 0 and len(coder.cat) == 0:
            return coder.from_coords(np.empty(0))  # every parameter has a single value
        minimize = study.directions[0] == StudyDirection.MINIMIZE
        with self._lock:
            self._bind(h)
            key = None if mask is None else int(np.argmax(mask))
            group = self._groups.get(key)
            if group is None:
                group = self._groups[key] = Group(key)
            run = self._current_run(study, h, coder, minimize, group, mask)
            # Optuna reseeds the optimizer's generator before every ask.
            self._opt_rng.seed(self._cma_stream.randint(1, 2**16) + trial.number)
            _run.set_rng(run.optimizer, self._opt_rng)
            x, raw = _run.ask(run, coder)
            generation = run.generation
        trial.set_system_attr(GENERATION_ATTR, generation)
        if raw is not None:
            trial.set_system_attr(RAW_ATTR, raw)
        return x

    def _current_run(self, study: Study, h: History, coder: Coder, minimize: bool, group: Group,
                     mask: np.ndarray | None) -> _run.Run:
        """Holding the lock: ``group``'s run after telling every complete population
        (reading a newer stored run when another worker got ahead)."""
        run = group.run
        if run is None:
            run = self._load(study, group, -1)
        # Optuna builds its optimizer afresh, drawing a seed, at every ask until a told
        # one is stored: draw alike, so that the asks' seeds come in Optuna's order.
        seed = None
        if run is None or getattr(run.optimizer, "generation", 1) == 0:
            seed = self._cma_stream.randint(1, 2**31 - 2)
        if run is not None and (run.signature != coder.signature or run.kind != self._kind(coder)):
            # Another space (or optimizer): a new run, numbered after the stored one so
            # that the old run's trials never join its populations.
            run = self._new_run(study, group, coder, run.generation + 1, minimize, seed)
        if run is None:
            run = self._new_run(study, group, coder, 0, minimize, seed)
        pops = group.pops
        pops.update(h, run.generation, self._consider_pruned, mask)
        if pops.max_gen > run.generation and pops.max_gen > group.seen_gen:
            group.seen_gen = pops.max_gen  # another worker told: read its run once
            stored = self._load(study, group, run.generation)
            if stored is not None and stored.signature == coder.signature and stored.kind == run.kind:
                run = stored
                pops.drop_below(run.generation)
        while True:
            members = pops.by_gen.get(run.generation, [])
            if len(members) < run.popsize:
                break
            rows = np.sort(np.array(members, dtype=np.int64))[: run.popsize]
            run = self._tell(study, h, run, coder, rows, minimize)
            study.set_system_attr(group.attr, _run.encode(run))
            pops.drop_below(run.generation)
        group.run = run
        return run

    def _tell(self, study: Study, h: History, run: _run.Run, coder: Coder, rows: np.ndarray, minimize: bool) -> _run.Run:
        cols = np.array([h.param_index[name] for name in coder.space.names], dtype=np.intp)
        X = h.X[rows[:, None], cols]
        y = np.array([_value(h, r) for r in rows.tolist()])
        if not minimize:
            y = -y
        raw: list[Any] = []
        if run.kind in ("cmawm", "catcmawm"):
            raw = [(h.system_attrs[r] or {}).get(RAW_ATTR) for r in rows.tolist()]
        _run.tell(run, coder, X, y, raw)
        if self._restart is not None:
            run = _run.restart_if_stopped(run, coder, strategy=self._restart, inc_popsize=self._inc_popsize,
                                          rng=self._cma_stream.sync(), lr_adapt=self._lr_adapt)
        return run

    def _load(self, study: Study, group: Group, newer_than: int) -> _run.Run | None:
        """``group``'s run stored in the study if its generation is above ``newer_than``."""
        stored = _run.decode(study.view.system_attrs.get(group.attr), self._opt_rng)
        return stored if stored is not None and stored.generation > newer_than else None

    def _new_run(self, study: Study, group: Group, coder: Coder, generation: int, minimize: bool,
                 seed: int | None) -> _run.Run:
        """A fresh run of ``group`` (stored at once, so that other workers join it); its
        optimizer's seed is ``seed`` or drawn."""
        kind = self._kind(coder)
        if kind == "cma" and self._sep and coder.n_numeric == 1:
            warnings.warn(f"{OWNER}: separable CMA-ES is plain CMA-ES in one dimension; "
                          "`use_separable_cma=True` is ignored.", HpoWarning, stacklevel=5)
        ignored = [name for name, on in (("use_separable_cma", self._sep), ("lr_adapt", self._lr_adapt)) if on]
        if kind == "catcmawm" and ignored:
            warnings.warn(f"{OWNER}: categorical parameters are optimized by CatCMA with margin, which has no "
                          f"{' or '.join(f'`{n}`' for n in ignored)}; ignored.", HpoWarning, stacklevel=5)
        mean = sigma = cov = None
        if self._source_trials is not None:
            mean, sigma, cov = self._warm_start(coder, minimize)
        else:
            sigma = self._sigma0
            if self._x0 is not None:
                mean = self._x0_coords(coder)
        run = _run.new_run(kind, coder, generation=generation, rng=self._cma_stream.sync(), mean=mean,
                           sigma=sigma, cov=cov, popsize=self._popsize, lr_adapt=self._lr_adapt, seed=seed)
        study.set_system_attr(group.attr, _run.encode(run))
        return run

    def _x0_coords(self, coder: Coder) -> np.ndarray:
        x0 = cast(dict[str, Any], self._x0)
        space = coder.space
        row = space.low + 0.5 * (space.high - space.low)
        for j, (name, dist) in enumerate(space.items()):
            if name in x0:
                row[j] = dist.to_internal_repr(x0[name])
        if space.is_log.any():  # the centre of a log range is its geometric mean
            missing = np.array([name not in x0 for name in space.names]) & space.is_log
            row[missing] = np.sqrt(space.low[missing] * space.high[missing])
        return np.clip(coder.to_coords(row[None, :])[0], 0.0, 1.0)  # type: ignore[no-any-return]

    def _warm_start(self, coder: Coder, minimize: bool) -> tuple[np.ndarray, float, np.ndarray]:
        space = coder.space
        rows, values = [], []
        for t in cast(list[Any], self._source_trials):
            value = _source_value(t, self._consider_pruned)
            if value is None or set(t.params) != set(space.names):
                continue
            rows.append([space[n].to_internal_repr(t.params[n]) for n in space.names])
            values.append(value if minimize else -value)
        if not rows or coder.n_numeric == 0:
            raise ValueError(format_error("source_trials", "trials with the parameters of the search space "
                                          f"{list(space.names)} (COMPLETE, or PRUNED with consider_pruned_trials)",
                                          f"{len(cast(list[Any], self._source_trials))} trials, none compatible",
                                          owner=OWNER))
        return _run.warm_start(coder, np.array(rows, dtype=np.float64), np.array(values))

    # ------------------------------------------------------------------ hooks
    def before_trial(self, study: Study, trial: Trial) -> None:
        self._independent.before_trial(study, trial)

    def after_trial(self, study: Study, trial: Trial, state: TrialState, values: list[float] | None) -> None:
        if getattr(trial, "_constraints", None):  # set through trial.set_constraint (Optuna's warning)
            warnings.warn(
                "Constraints have been set, but CmaEsSampler will not use them for optimization.",
                HpoWarning,
                stacklevel=2,
            )
        self._independent.after_trial(study, trial, state, values)


def _check_single_objective(study: Study) -> None:
    if len(study.directions) > 1:  # as Optuna, at every sampling call
        raise ValueError(format_error("study.directions", "a single objective", [d.name for d in study.directions],
                                      owner=OWNER))


def _value(h: History, row: int) -> float:
    """The value told for ``row``: its objective, or the last reported one (PRUNED)."""
    if h.states[row] == _COMPLETE:
        return float(h.values[row, 0])
    return float(h.steps.last(row)[1][0])


def _source_value(t: Any, consider_pruned: bool) -> float | None:
    state = getattr(t, "state", None)
    if state == TrialState.COMPLETE and getattr(t, "value", None) is not None:
        return float(t.value)
    if consider_pruned and state == TrialState.PRUNED and t.intermediate_values:
        return float(t.intermediate_values[max(t.intermediate_values)])
    return None


def _check_args(x0: Any, sigma0: Any, independent_sampler: Any, source_trials: Any) -> None:
    if x0 is not None and not isinstance(x0, Mapping):
        raise TypeError(format_error("x0", "a dict {name: value} or None", x0, owner=OWNER))
    if independent_sampler is not None and not isinstance(independent_sampler, BaseSampler):
        raise TypeError(format_error("independent_sampler", "a BaseSampler or None", independent_sampler,
                                     owner=OWNER))
    if source_trials is not None and (isinstance(source_trials, (str, bytes))
                                      or not isinstance(source_trials, Sequence)):
        raise TypeError(format_error("source_trials", "a list of FrozenTrial or None", source_trials, owner=OWNER))


def _check_combinations(x0: Any, sigma0: Any, source_trials: Any, sep: bool, margin: bool, lr_adapt: bool) -> None:
    """The combinations Optuna forbids, with its reasons."""
    if source_trials is not None and (x0 is not None or sigma0 is not None):
        raise ValueError(format_error("source_trials", "None when `x0` or `sigma0` is given", "a list", owner=OWNER))
    if source_trials is not None and sep:
        raise ValueError(format_error("source_trials", "None with `use_separable_cma=True`", "a list", owner=OWNER))
    if lr_adapt and (sep or margin):
        raise ValueError(format_error("lr_adapt", "False with `use_separable_cma=True` or `with_margin=True`",
                                      lr_adapt, owner=OWNER))
    if sep and margin:
        raise ValueError(format_error("with_margin", "False with `use_separable_cma=True`", margin, owner=OWNER))
