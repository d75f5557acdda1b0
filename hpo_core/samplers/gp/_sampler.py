"""GPSampler: the adapter between the study's columnar history and the GP math.

Per proposal: the COMPLETE trials of the joint space as arrays (model coordinates,
warped outputs: ``_plan``), a MAP fit of the hyperparameters warm-started from the previous
ask, the posterior conditioned on RUNNING trials (kriging believer), and the maximisation
of the acquisition (``_proposal.propose``). Nothing loops in Python over trials.
"""

from __future__ import annotations

import logging
import math
import threading
import warnings
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from hpo_core import kernels
from hpo_core._validation import check_bool, check_choice, check_int, check_real, format_error
from hpo_core.distributions import BaseDistribution, SearchSpace, unit_to_internal
from hpo_core.exceptions import HpoWarning
from hpo_core.samplers._base import (
    CONSTRAINTS_KEY,
    EMPTY_SPACE,
    BaseSampler,
    HistoryBound,
    check_constraints_func,
    store_constraints,
    visible_rows,
)
from hpo_core.samplers.gp import _optimize, _proposal
from hpo_core.samplers.gp._acquisition import ACQUISITIONS
from hpo_core.samplers.gp._plan import Ask, Settings, plan_multi, plan_single
from hpo_core.samplers.gp._threads import limited_threads
from hpo_core.trial._state import StudyDirection, TrialState

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from types import ModuleType

    from hpo_core.history import History
    from hpo_core.study import Study
    from hpo_core.trial import FrozenTrial, Trial

__all__ = ["GPSampler"]

_RUNNING, _COMPLETE = 0, 1
_REFIT_FROM, _REFIT_GROWTH = 100, 0.05
_MAX_PENDING = 128
# Kernel backends that implement the GP kernels (the C++ extension does not); None is
# the NumPy reference, as "numpy".
_GP_BACKENDS = (None, "jax", "numba", "numpy")


def _kernel_module_of(backend: str | None) -> ModuleType | None:
    """The kernel module of a validated backend name (None: _model's default, the NumPy
    reference); ImportError if it is not installed."""
    return None if backend is None else kernels.get_backend(backend)


# Optuna 5.0's log line when a parameter outside the GP's joint space is sampled on its own.
_INDEPENDENT = (
    "The parameter `{0}` in Trial#{1} is sampled independently using `{2}` instead of `GPSampler`, "
    "potentially degrading the optimization performance. This fallback happened because dynamic "
    "search space is not supported by GPSampler. You can suppress this warning by setting "
    "`warn_independent_sampling` to `False` in the constructor of `GPSampler` if this independent "
    "sampling is intended behavior."
)


class GPSampler(HistoryBound, BaseSampler):
    """Gaussian-process Bayesian optimisation (one to three objectives).

    The model: an ARD Matern-5/2 kernel on the unit cube (log space for log parameters; a
    Hamming distance for categoricals), outputs standardised robustly with the bad tail
    compressed (``_model.warp_outputs``: diverged runs and huge losses do not flatten the
    surface), noise inferred, hyperparameters fit by MAP with analytic gradients (L-BFGS-B;
    Optuna's prior on the lengthscales, under which a dimension the data do not use grows a
    long lengthscale and drops out, with its mode at ``sqrt(5 / d)`` instead of 1 when
    there are d > 5 numeric dimensions (measured better on BBOB 10-D), gamma priors on
    amplitude and noise: ``_model._log_prior``),
    warm-started from the previous ask; refit at every ask up to 100 trials, then whenever
    the study has grown by 5 % since the last fit. The Cholesky
    factorisation escalates jitter when the kernel matrix is ill-conditioned; if it still
    fails, that proposal is random and an ``HpoWarning`` says so.

    The acquisition (``logei``: log expected improvement, accurate deep in the tail;
    ``ucb``; ``pi``: log probability of improvement) is maximised over scrambled Sobol
    candidates and perturbations of the best trials, then by L-BFGS-B from the best few
    (continuous parameters) and a coordinate search over grid neighbours (ints, steps)
    and categories, so discrete parameters are evaluated exactly on their grid. RUNNING
    trials (other workers, ``ask(n)`` batches) are pending points: the model is
    conditioned on them at their posterior mean (kriging believer), which removes the
    variance there, so a batch does not repeat a point.

    Scale: the hyperparameters are fit on at most ``max_fit_trials`` (256) trials (the
    best quarter of them and a random sample of the rest); the posterior uses every
    trial up to ``max_exact_trials`` (512), and beyond that a local model of the
    ``max_exact_trials`` trials nearest to the best one (in lengthscale-scaled distance:
    a trust region, as TuRBO's), so an ask costs O(max_exact_trials^3) however long the
    study runs (the model is conditioned on at most the 128 most recent RUNNING trials); past about 190 trials in the model the candidate set shrinks with n^2.

    Two or three objectives: one GP per objective (each warped on its own) and log expected
    hypervolume improvement over the Pareto front of the feasible trials (``_ehvi``: exact
    box decomposition and closed-form expectations in log space), the reference point
    halfway between 10 % of each objective's range below its worst value and 10 % below
    the front's worst value; past ``max_exact_trials`` the models
    keep the front's trials and a random sample of the rest.

    Constraints (``constraints_func``, values ``<= 0`` feasible, stored on each finished
    trial as TPESampler stores them): one GP per constraint, and the acquisition gains the
    log probability that every constraint holds (constrained LogEI, Gardner et al. 2014);
    the incumbent is the best feasible trial, and while no trial is feasible the sampler
    maximises the probability of feasibility alone.

    Parameters outside the joint space (conditional ones) are sampled uniformly at random.

    Backends: the GP math is ``hpo_core.kernels``' ``matern52``,
    ``gp_log_marginal_likelihood`` (hyperparameter fit) and ``gp_posterior`` (acquisition,
    pending points, constraint and multi-objective models alike) of one backend. By
    default (``backend=None``, the same as ``"numpy"``) that is the NumPy reference,
    written as BLAS and LAPACK products: the fastest choice on a CPU. ``backend="numba"``
    or ``"jax"`` runs the compiled versions instead (the tests pin them to the
    reference); the Cholesky factorisation with jitter stays on the host. ``"jax"`` is
    meant for accelerators (GPU) and large studies: it compiles once per padded shape (row
    counts rounded up to a power of two, then to a multiple of 64), so the first asks, and
    an ask whose row count crosses a padding boundary, pay the compilation (about a second
    per shape). ``"numba"`` is mainly for checking the other paths.

    Threads: each proposal runs with at most ``n_blas_threads`` BLAS and OpenMP threads
    (threadpoolctl; restored afterwards). The default 1 was the fastest measured on a
    2-core machine idle, beside a busy process, under ``optimize(n_jobs=2)``, in two
    worker processes and with ``max_exact_trials=2048`` (3x to 11x faster than
    OpenBLAS's default of a thread per core; ``benchmarks/README.md``, GP section): an
    ask's matrices are too small for OpenBLAS's spin-waiting threads to pay. More
    threads may pay on a machine with many idle cores and a large ``max_exact_trials``
    (not measured); None leaves the process's settings alone. The OpenBLAS limit is
    process-wide while a proposal runs (see ``samplers/gp/_threads.py``).

    Thread safety: one sampler may serve several threads (``optimize(n_jobs=k)``). A lock
    covers the shared state (warm starts, refit schedule, coordinate cache, generator):
    an ask prepares its arrays and draws its random numbers under it, fits and maximises
    outside it (``_proposal.propose``), and records the fitted hyperparameters under it
    again, so the GP math of two threads overlaps. A seeded single-threaded study draws
    in a fixed order and is reproducible; under threads the order of the draws, and so
    the trials, depends on the timing.

    Args:
        n_startup_trials: Random trials before the GP starts (COMPLETE trials counted).
        acquisition: ``"logei"`` (default), ``"ucb"`` or ``"pi"``.
        beta: UCB's exploration weight (``mean + sqrt(beta) * std``).
        deterministic_objective: Floor the noise at 1e-9 instead of 1e-6.
        n_candidates: Quasi-random candidates per proposal.
        n_starts: Local searches per proposal.
        max_fit_trials: Trials the hyperparameters are fit on, at most.
        max_exact_trials: Trials the posterior uses, at most (a trust region beyond).
        constraints_func: ``f(FrozenTrial) -> sequence of floats`` (``<= 0`` feasible),
            called when a trial finishes.
        backend: Kernel backend of the GP math: None (default) or ``"numpy"`` (the
            NumPy/SciPy BLAS reference), ``"numba"`` or ``"jax"`` (see above).
        n_blas_threads: BLAS/OpenMP threads during a proposal (see above); None: unchanged.
        seed: Seed of the generator; equal seeds give equal proposals.
        independent_sampler: Samples parameters outside the joint search space (a
            dynamic space); default: uniform draws from this sampler's generator.
        warn_independent_sampling: Log Optuna's warning when that happens after the
            startup trials.

    Raises:
        ValueError: An argument is out of range, e.g. ``backend`` names no GP backend.
        ImportError: ``backend`` is not installed (e.g. ``"jax"`` without
            ``pip install 'hpo_core[jax]'``).

    Example:
        >>> import hpo_core
        >>> sampler = hpo_core.samplers.GPSampler(seed=0)
        >>> study = hpo_core.create_study(sampler=sampler)
        >>> study.optimize(lambda t: (t.suggest_float("x", -5, 5) - 2) ** 2, n_trials=20)
        >>> abs(study.best_params["x"] - 2) < 0.5
        True
    """

    def __init__(
        self,
        *,
        n_startup_trials: int = 10,
        acquisition: str = "logei",
        beta: float = 2.0,
        deterministic_objective: bool = False,
        n_candidates: int = 2048,
        n_starts: int = 10,
        max_fit_trials: int = 256,
        max_exact_trials: int = 512,
        constraints_func: Callable[[FrozenTrial], Sequence[float]] | None = None,
        backend: str | None = None,
        n_blas_threads: int | None = 1,
        seed: int | None = None,
        independent_sampler: BaseSampler | None = None,
        warn_independent_sampling: bool = True,
    ):
        owner = "GPSampler"
        if independent_sampler is not None and not isinstance(independent_sampler, BaseSampler):
            raise TypeError(format_error("independent_sampler", "a sampler or None", independent_sampler,
                                         owner=owner))
        self._independent = independent_sampler
        self._warn_independent = check_bool("warn_independent_sampling", warn_independent_sampling, owner=owner)
        self._n_startup_trials = cast(int, check_int("n_startup_trials", n_startup_trials, low=0, owner=owner))
        self._acquisition = check_choice("acquisition", acquisition, ACQUISITIONS, owner=owner)
        self._beta = cast(float, check_real("beta", beta, low=0.0, low_open=True, owner=owner))
        self._deterministic = check_bool("deterministic_objective", deterministic_objective, owner=owner)
        self._n_candidates = cast(int, check_int("n_candidates", n_candidates, low=1, owner=owner))
        self._n_starts = cast(int, check_int("n_starts", n_starts, low=0, owner=owner))
        self._max_fit = cast(int, check_int("max_fit_trials", max_fit_trials, low=2, owner=owner))
        self._max_exact = cast(int, check_int("max_exact_trials", max_exact_trials, low=2, owner=owner))
        self._constraints_func = check_constraints_func(constraints_func, owner)
        self._backend = check_choice("backend", backend, _GP_BACKENDS, owner=owner)
        # Resolved now, so a missing backend raises ImportError here, not at the first GP ask.
        self._kernel_module = _kernel_module_of(self._backend)
        self._n_blas_threads = cast("int | None", check_int("n_blas_threads", n_blas_threads, low=1, allow_none=True,
                                                            owner=owner))
        check_int("seed", seed, low=0, allow_none=True, owner=owner)
        self._rng = np.random.default_rng(seed)
        self._lock = threading.Lock()
        self._coords: dict[SearchSpace, _optimize.SpaceCoords] = {}
        self._reset_history_caches()

    def _reset_history_caches(self) -> None:
        """Forget everything cached about one study's history (see HistoryBound)."""
        # Warm starts per (space, model): objective j at -1 - j, constraint j at j.
        self._theta: dict[tuple[SearchSpace, int], np.ndarray] = {}
        self._fit_n: dict[SearchSpace, int] = {}  # trials at the last (planned) hyperparameter fit

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_lock"]
        state["_coords"] = {}
        state["_history_ref"] = None  # the caches are rebuilt for whatever study loads it
        state["_kernel_module"] = None  # a module does not pickle: resolved again from _backend
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__dict__.pop("_theta_c", None)  # pickled when the constraints' warm starts had their own dict
        self._backend = state.get("_backend")  # None in a sampler pickled before backends existed
        self._kernel_module = _kernel_module_of(self._backend)
        self._n_blas_threads = state.get("_n_blas_threads", 1)  # absent in a sampler pickled before it existed
        self._independent = state.get("_independent")  # as are these two
        self._warn_independent = state.get("_warn_independent", True)
        self._lock = threading.Lock()
        self._reset_history_caches()

    def reseed_rng(self) -> None:
        with self._lock:
            self._rng = np.random.default_rng()
        if self._independent is not None:
            self._independent.reseed_rng()

    def before_trial(self, study: Study, trial: Trial) -> None:
        if self._independent is not None:
            self._independent.before_trial(study, trial)

    # ------------------------------------------------------------------ spaces
    def infer_relative_search_space(self, study: Study, trial: Trial) -> SearchSpace:
        space = study.view.history.intersection_search_space()
        if any(dist.single() for dist in space.values()):
            space = SearchSpace({n: d for n, d in space.items() if not d.single()})
        return space if len(space) else EMPTY_SPACE

    def sample_independent(
        self, study: Study, trial: Trial, param_name: str, param_distribution: BaseDistribution
    ) -> Any:
        if self._warn_independent and study.view.history.count(TrialState.COMPLETE) >= self._n_startup_trials:
            name = "RandomSampler" if self._independent is None else type(self._independent).__name__
            logging.getLogger("hpo_core.samplers.gp").warning(_INDEPENDENT.format(param_name, trial.number, name))
        if self._independent is not None:
            return self._independent.sample_independent(study, trial, param_name, param_distribution)
        with self._lock:
            u = float(self._rng.random())
        return param_distribution.to_external_repr(unit_to_internal(param_distribution, u))

    def sample_joint(self, study: Study, trial: Trial, space: SearchSpace) -> np.ndarray:
        if len(study.directions) > 3:
            raise ValueError(format_error("study.directions", "one to three objectives (LogEHVI beyond one)",
                                          [d.name for d in study.directions], owner="GPSampler"))
        h = study.view.history
        signs = np.array([-1.0 if d == StudyDirection.MINIMIZE else 1.0 for d in study.directions])
        # The lock covers what the asks of several threads share (the caches, the refit
        # schedule, the generator's draws); the GP math runs outside it, so that two
        # threads' proposals overlap (optimize(n_jobs=2)).
        mask = visible_rows(study, trial)  # a Hyperband bracket's trials, or None: all
        with self._lock:
            ask = self._plan(h, space, trial.number, signs, mask)
        if isinstance(ask, np.ndarray):
            return ask  # random: too few trials, or a parameter not in the history yet
        with limited_threads(self._n_blas_threads):
            outcome = _proposal.propose(ask.plan, deterministic=self._deterministic, kernel_module=self._kernel_module)
        with self._lock:
            return self._finish(h, space, ask, outcome)

    # ------------------------------------------------------------------ proposal
    def _random_point(self, space: SearchSpace) -> np.ndarray:
        """A uniform random point of ``space`` (startup trials and fallbacks); call it
        holding the lock."""
        return space.from_unit(self._rng.random((1, len(space))))[0]

    def _coords_of(self, space: SearchSpace) -> _optimize.SpaceCoords:
        coords = self._coords.get(space)
        if coords is None:
            if len(self._coords) > 64:
                self._coords.clear()
            coords = self._coords[space] = _optimize.SpaceCoords(space)
        return coords

    def _plan(self, h: History, space: SearchSpace, number: int, signs: np.ndarray,
              mask: np.ndarray | None = None) -> Ask | np.ndarray:
        """Holding the lock: the arrays, warm starts and random draws of one proposal, or
        a random point when the GP has too little to go on; ``mask``: the rows to model
        (``visible_rows``), None for all."""
        self._bind(h)
        cols = np.array([h.param_index.get(name, -1) for name in space.names], dtype=np.intp)
        if (cols < 0).any():
            return self._random_point(space)
        st = h.states[: h.n]
        if mask is not None:
            st = np.where(mask, st, -1)
        rows = np.flatnonzero(st == _COMPLETE)
        rows = rows[~np.isnan(h.X[rows[:, None], cols]).any(axis=1)]
        if len(rows) < max(self._n_startup_trials, 2):
            return self._random_point(space)
        pending = np.flatnonzero(st == _RUNNING)
        pending = pending[(pending != number) & ~np.isnan(h.X[pending[:, None], cols]).any(axis=1)]
        # At most _MAX_PENDING (the most recent) RUNNING trials, so that a huge batch or
        # many workers keep an ask at O(max_exact_trials^3).
        Xp = (self._coords_of(space).to_model(h.X[pending[-_MAX_PENDING:, None], cols]) if len(pending)
              else np.empty((0, len(space))))
        if len(signs) > 1:
            return self._plan_multi(h, space, cols, rows, Xp, signs)
        return self._plan_single(h, space, cols, rows, Xp, float(signs[0]))

    def _finish(self, h: History, space: SearchSpace, ask: Ask, outcome: _proposal.Outcome) -> np.ndarray:
        """Holding the lock: keep the fitted hyperparameters as the next warm starts (unless
        the sampler was bound to another history meanwhile) and turn the proposal into
        internal values."""
        if self._history_ref is not None and self._history_ref() is h:
            n_obj = len(ask.plan.objectives)
            fitted = [*zip(ask.keys[:n_obj], outcome.objective_thetas),
                      *zip(ask.keys[n_obj:], outcome.constraint_thetas)]
            self._theta.update({key: theta for key, theta in fitted if theta is not None})
        if outcome.z is None:
            warnings.warn("GPSampler: the kernel matrix could not be factorised even with jitter; this "
                          "proposal is random.", HpoWarning, stacklevel=3)
            return self._random_point(space)
        x = ask.plan.coords.to_internal(outcome.z[None])[0]
        if not math.isfinite(float(x.sum())):  # defensive: never hand back NaN
            return self._random_point(space)
        return x

    def _refit_due(self, space: SearchSpace, n_rows: int, *, force: bool = False) -> bool:
        """Refit at every ask while the study is small; past _REFIT_FROM trials, whenever it
        has grown by _REFIT_GROWTH since the last fit (the MAP hyperparameters of 1,000 and
        1,040 trials are all but equal, and the fit is a third of an ask there). A refit is
        recorded when it is planned, not when it ends: a concurrent ask then keeps the
        current warm start instead of fitting the same hyperparameters again."""
        refit = force or n_rows < _REFIT_FROM or n_rows >= self._fit_n.get(space, 0) * (1.0 + _REFIT_GROWTH)
        if refit:
            self._fit_n[space] = n_rows
        return refit

    def _settings(self) -> Settings:
        return Settings(self._acquisition, self._beta, self._n_candidates, self._n_starts, self._max_fit,
                        self._max_exact, self._kernel_module)

    def _plan_single(self, h: History, space: SearchSpace, cols: np.ndarray, rows: np.ndarray, Xp: np.ndarray,
                     sign: float) -> Ask:
        coords = self._coords_of(space)
        refit = self._refit_due(space, len(rows), force=(space, -1) not in self._theta)
        return plan_single(space, coords, coords.to_model(h.X[rows[:, None], cols]), sign * h.values[rows, 0],
                           self._constraints_of(h, rows), Xp, refit=refit, warm=self._theta, rng=self._rng,
                           settings=self._settings())

    def _plan_multi(self, h: History, space: SearchSpace, cols: np.ndarray, rows: np.ndarray, Xp: np.ndarray,
                    signs: np.ndarray) -> Ask | np.ndarray:
        """The rows whose objective values are all finite (a random point below 2 of
        them), as one LogEHVI proposal for 2-3 objectives (``_plan.plan_multi``)."""
        coords = self._coords_of(space)
        values = h.values[rows, : len(signs)] * signs
        finite = np.isfinite(values).all(axis=1)
        rows, values = rows[finite], values[finite]
        if len(rows) < 2:
            return self._random_point(space)
        refit = self._refit_due(space, len(rows))
        return plan_multi(space, coords, coords.to_model(h.X[rows[:, None], cols]), values,
                          self._constraints_of(h, rows), Xp, refit=refit, warm=self._theta, rng=self._rng,
                          settings=self._settings())

    # ------------------------------------------------------------------ constraints
    @staticmethod
    def _constraints_of(h: History, rows: np.ndarray) -> np.ndarray | None:
        """(len(rows), k) constraint values of the rows, from the history's constraint
        column (NaN where a trial has none); None while no trial has constraints (from
        ``constraints_func`` or ``Trial.set_constraint``, which Optuna 5.0's GP reads too)."""
        C = h.numeric_column(CONSTRAINTS_KEY)
        return None if C is None else C[rows]

    def after_trial(self, study: Study, trial: Trial, state: TrialState, values: list[float] | None) -> None:
        if self._constraints_func is not None and state in (TrialState.COMPLETE, TrialState.PRUNED):
            store_constraints(study, trial, self._constraints_func, "GPSampler")
        if self._independent is not None:
            self._independent.after_trial(study, trial, state, values)
