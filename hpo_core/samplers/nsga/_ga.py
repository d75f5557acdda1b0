"""The generation bookkeeping shared by NSGAIISampler and NSGAIIISampler: the adapter
between the study's history and the genetic operators of ``_selection.py`` (survival)
and ``_child.py`` (variation).

Bookkeeping, as Optuna's ``BaseGASampler`` (the same generations and parents):

* A trial's generation is set when it first samples (system attribute ``"generation"``,
  a typed history column), as Optuna's: at its first suggest of a parameter that is
  neither given (``enqueue_trial``) nor single-valued, or at ``ask(space)``; the highest
  generation of a COMPLETE trial, or the next one once that generation holds
  ``population_size`` COMPLETE trials. A trial that never samples has no generation.
* The parents of generation g > 0 are the elite of generation g - 1's COMPLETE trials
  and of generation g - 1's parents; they are selected once, by whichever worker first
  needs them, and stored in the study's system attribute ``"<Class>:parent:<g>"`` (trial
  numbers), where every other worker reads them.

Per ask the sampler reads the history rows new since its last ask (``_generations.py``)
and, once per generation, the rows of the new parents: the cost of an ask does not grow
with the study.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from hpo_core._validation import check_callable, check_int, check_real, format_error
from hpo_core.distributions import BaseDistribution, SearchSpace
from hpo_core.exceptions import ExperimentalWarning
from hpo_core.samplers._base import (
    CONSTRAINTS_KEY,
    EMPTY_SPACE,
    BaseSampler,
    HistoryBound,
    check_constraints_func,
    store_constraints,
)
from hpo_core.samplers._optuna_stream import LegacyStream, OptunaRandom
from hpo_core.samplers.nsga._child import Config, Layout, ParentArrays, Parents, draw_empty_child, make_child
from hpo_core.samplers.nsga._crossovers import BaseCrossover, UniformCrossover
from hpo_core.samplers.nsga._generations import GENERATION_ATTR, Generations
from hpo_core.samplers.nsga._mutations import BaseMutation
from hpo_core.trial._state import TrialState

if TYPE_CHECKING:
    from hpo_core.history import History
    from hpo_core.study import Study
    from hpo_core.trial import FrozenTrial, Trial

__all__ = ["GASampler"]

_MAX_PENDING = 4096  # generations of trials started but never sampled or told


class GASampler(HistoryBound, BaseSampler):
    """The generation bookkeeping and variation shared by NSGA-II and NSGA-III."""

    def __init__(
        self,
        owner: str,
        *,
        population_size: int,
        mutation: BaseMutation | None,
        mutation_prob: float | None,
        crossover: BaseCrossover | None,
        crossover_prob: float,
        swapping_prob: float,
        seed: int | None,
        constraints_func: Callable[[FrozenTrial], Sequence[float]] | None,
        elite_population_selection_strategy: Callable[[Study, list[FrozenTrial]], list[FrozenTrial]] | None,
        child_generation_strategy: Callable[[Study, dict[str, BaseDistribution], list[FrozenTrial]],
                                            dict[str, Any]] | None,
        after_trial_strategy: Callable[[Study, FrozenTrial, TrialState, Sequence[float] | None], None] | None,
    ) -> None:
        self._owner = owner
        self._population_size = cast(int, check_int("population_size", population_size, low=2, owner=owner))
        if mutation is not None and not isinstance(mutation, BaseMutation):
            raise TypeError(format_error("mutation", "a BaseMutation or None", mutation, owner=owner))
        check_real("mutation_prob", mutation_prob, low=0.0, high=1.0, allow_none=True, owner=owner)
        check_real("crossover_prob", crossover_prob, low=0.0, high=1.0, owner=owner)
        check_real("swapping_prob", swapping_prob, low=0.0, high=1.0, owner=owner)
        check_int("seed", seed, low=0, allow_none=True, owner=owner)
        if crossover is None:
            crossover = UniformCrossover(swapping_prob)
        if not isinstance(crossover, BaseCrossover):
            raise TypeError(format_error("crossover", "a BaseCrossover (hpo_core.samplers.nsgaii)", crossover,
                                         owner=owner))
        if self._population_size < crossover.n_parents:
            raise ValueError(format_error("population_size", f"an int in the range [{crossover.n_parents}, inf) "
                                          f"with {crossover} ({crossover.n_parents} parents)", population_size,
                                          owner=owner))
        self._constraints_func = check_constraints_func(constraints_func, owner, stacklevel=4)
        self._elite_strategy = check_callable("elite_population_selection_strategy",
                                              elite_population_selection_strategy, allow_none=True, owner=owner)
        self._child_strategy = check_callable("child_generation_strategy", child_generation_strategy,
                                              allow_none=True, owner=owner)
        self._after_strategy = check_callable("after_trial_strategy", after_trial_strategy, allow_none=True,
                                              owner=owner)
        for name, value in (("elite_population_selection_strategy", elite_population_selection_strategy),
                            ("child_generation_strategy", child_generation_strategy),
                            ("after_trial_strategy", after_trial_strategy)):
            if value is not None:
                warnings.warn(f"{owner}: `{name}` is an experimental argument (as in Optuna); its interface "
                              "may change.", ExperimentalWarning, stacklevel=4)
        self._config = Config(crossover=crossover, mutation=mutation,
                              mutation_prob=None if mutation_prob is None else float(mutation_prob),
                              crossover_prob=float(crossover_prob), swapping_prob=float(swapping_prob))
        # Optuna's two streams of the same seed: ``_random`` (its RandomSampler's) draws the
        # first generation and the mutated parameters, ``_rng`` everything else, in
        # Optuna's order, so a seed proposes Optuna's trials (``_child.py``).
        self._random = OptunaRandom(seed)
        self._stream = self._new_stream(seed)
        self._lock = threading.Lock()
        self._layouts: dict[SearchSpace, Layout] = {}
        self._reset_history_caches()

    @property
    def population_size(self) -> int:
        return self._population_size

    # ------------------------------------------------------------------ state
    def _reset_history_caches(self) -> None:
        self._gens = Generations()
        self._parents: dict[int, np.ndarray] = {}  # generation -> parent rows
        self._current: Parents | None = None  # the arrays of the latest parents used
        self._pending: dict[int, int] = {}  # trial number -> generation, while it runs
        self._just_selected = -1  # the generation whose parents this ask selected
        # trial number -> (space, internal values): a child bred when the trial first
        # suggested (``infer_relative_search_space``), handed out by ``sample_joint``.
        self._children: dict[int, tuple[SearchSpace, np.ndarray]] = {}
        self._subspaces: dict[tuple[SearchSpace, tuple[int, ...]], SearchSpace] = {}
        self._joint: tuple[SearchSpace, SearchSpace] | None = None  # (intersection, joint space)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_lock"]
        state["_history_ref"] = None  # the populations are read again from whatever study loads it
        state["_layouts"] = {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self._reset_history_caches()

    def reseed_rng(self) -> None:
        with self._lock:
            self._stream = self._new_stream(None)
            self._random.reseed()

    def _new_stream(self, seed: int | None) -> LegacyStream:
        # Emulated draws pay off where the default operators draw only through the stream;
        # a crossover or mutation operator draws from the generator at every child.
        cfg = self._config
        emulate = type(cfg.crossover) is UniformCrossover and cfg.mutation is None
        return LegacyStream(np.random.RandomState(seed), emulate=emulate)

    def _parent_key(self, generation: int) -> str:
        return f"{type(self).__name__}:parent:{generation}"

    # ------------------------------------------------------------------ spaces
    def _joint_space(self, h: History) -> SearchSpace:
        """The intersection search space without single-valued parameters (Optuna's
        relative search space), the same object while it does not change."""
        isect = h.intersection_search_space()
        cached = self._joint
        if cached is None or cached[0] is not isect:
            space = isect
            if any(dist.single() for dist in space.values()):
                space = SearchSpace({n: d for n, d in space.items() if not d.single()})
            cached = self._joint = (isect, space if len(space) else EMPTY_SPACE)
        return cached[1]

    def infer_relative_search_space(self, study: Study, trial: Trial) -> SearchSpace:
        h = study.view.history
        if trial is None:
            return self._joint_space(h)
        with self._lock:
            self._bind(h)
            return self._breed(study, h, trial)

    def _breed(self, study: Study, h: History, trial: Trial) -> SearchSpace:
        """Holding the lock: the trial samples now (its first suggest). As Optuna's
        sample_relative, set its generation and breed its child; the space returned holds
        the parameters the child supplies, so that the others (mutated, missing, all of the
        first generation) are drawn at their own suggest, in suggest order, as in Optuna."""
        space = self._joint_space(h)
        generation = self._generation_of(study, h, trial)
        parents = self._parents_of(study, h, generation) if generation > 0 else None
        if parents is None:
            return EMPTY_SPACE
        if not len(space):  # Optuna breeds a child all the same: the same draws
            if self._child_strategy is None:
                draw_empty_child(parents, self._config, self._stream)
            return EMPTY_SPACE
        if self._child_strategy is not None:
            params = self._child_params(study, h, space, parents)
            given = [j for j, name in enumerate(space.names) if name in params]
            child = np.array([space[name].to_internal_repr(params[name]) if name in params else 0.0
                              for name in space.names], dtype=np.float64)
            redraw = [j for j in range(len(space)) if j not in set(given)]
        else:
            child, redraw = self._child(study, h, space, parents)
        if redraw:
            keep = np.ones(len(space), dtype=bool)
            keep[redraw] = False
            space = self._subspace(space, tuple(redraw))
            child = child[keep]
        if len(self._children) >= _MAX_PENDING:
            self._children.clear()
        self._children[trial.number] = (space, child)
        return space if len(space) else EMPTY_SPACE

    def _subspace(self, space: SearchSpace, dropped: tuple[int, ...]) -> SearchSpace:
        """``space`` without the parameters at ``dropped`` (cached: building one costs ~20 us)."""
        key = (space, dropped)
        sub = self._subspaces.get(key)
        if sub is None:
            if len(self._subspaces) >= 256:
                self._subspaces.clear()
            sub = self._subspaces[key] = SearchSpace(
                {name: dist for j, (name, dist) in enumerate(space.items()) if j not in dropped})
        return sub

    def _layout(self, space: SearchSpace) -> Layout:
        layout = self._layouts.get(space)
        if layout is None:
            if len(self._layouts) > 16:
                self._layouts.clear()
            layout = self._layouts[space] = Layout(space)
        return layout

    # ------------------------------------------------------------------ generations
    def _generation_of(self, study: Study, h: History, trial: Trial) -> int:
        """Holding the lock: the generation of ``trial``, set (and stored) now if it has
        none yet."""
        g = self._pending.get(trial.number)
        if g is not None:
            return g
        col = h.numeric_column(GENERATION_ATTR)
        if col is not None and trial.number < len(col) and col[trial.number, 0] == col[trial.number, 0]:
            g = int(col[trial.number, 0])
        else:
            self._gens.update(h)
            g = self._gens.current(self._population_size)
            trial.set_system_attr(GENERATION_ATTR, g)
        if len(self._pending) >= _MAX_PENDING:
            self._pending.clear()
        self._pending[trial.number] = g
        return g

    def _parent_rows(self, study: Study, h: History, generation: int) -> np.ndarray:
        """Holding the lock: the parents of ``generation`` (> 0), selected now if no
        worker has (then stored in the study), else read from the study once."""
        rows = self._parents.get(generation)
        if rows is not None:
            return rows
        stored = study.view.system_attrs
        # The latest generation whose parents are known; the ones after it are selected.
        g = generation
        while g > 0 and g not in self._parents:
            value = stored.get(self._parent_key(g))
            if value is not None:
                self._parents[g] = np.array(value, dtype=np.int64)
                break
            g -= 1
        for k in range(g + 1, generation + 1):
            prev = self._parents.get(k - 1, np.zeros(0, dtype=np.int64))
            pool = np.concatenate([self._gens.population(k - 1), np.sort(prev)])
            self._parents[k] = self._select(study, h, pool)
            self._just_selected = k
            study.set_system_attr(self._parent_key(k), self._parents[k].tolist())
            if k > 2 and (k - 2 > g or stored.get(self._parent_key(k - 2)) is not None):
                # Only the last two generations' parents are ever read again (a worker
                # joining or resuming selects from those): older lists are cleared so the
                # study's attributes, read once per generation, stay small.
                study.set_system_attr(self._parent_key(k - 2), None)
        for k in [k for k in self._parents if k < generation - 1]:
            del self._parents[k]
        self._gens.drop_below(generation - 1)
        return self._parents[generation]

    def _loss_penalty(self, study: Study, h: History, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        loss = h.values[rows] * study.view.signs
        C = h.numeric_column(CONSTRAINTS_KEY)
        penalty = None
        if C is not None and len(rows):
            c = C[rows]
            if not np.isnan(c).all():  # constrained as soon as one trial has constraints
                penalty = np.nansum(np.maximum(c, 0.0), axis=1)
        return loss, penalty

    def _select(self, study: Study, h: History, pool: np.ndarray) -> np.ndarray:
        """The elite of ``pool`` (rows, previous generation then its parents)."""
        if self._elite_strategy is not None:
            frozen = [h.frozen(r) for r in pool.tolist()]
            chosen = self._elite_strategy(study, frozen)
            return np.array([t.number for t in chosen], dtype=np.int64)
        loss, penalty = self._loss_penalty(study, h, pool)
        return pool[self._select_indices(study, loss, h.values[pool], penalty)]

    def _select_indices(self, study: Study, loss: np.ndarray, raw: np.ndarray,
                        penalty: np.ndarray | None) -> np.ndarray:
        raise NotImplementedError  # pragma: no cover

    def _parents_of(self, study: Study, h: History, generation: int) -> Parents | None:
        if generation <= 0:
            return None
        cur = self._current
        if cur is not None and cur.generation == generation:
            return cur
        self._just_selected = -1
        rows = self._parent_rows(study, h, generation)
        if not len(rows):
            return None
        if self._just_selected == generation:
            # As Optuna: the child of the ask that selects the parents picks from them in
            # the selection's order; later children in trial order (as read back).
            loss, penalty = self._loss_penalty(study, h, rows)
            return Parents(generation, rows, loss, penalty)
        rows = np.sort(rows)
        loss, penalty = self._loss_penalty(study, h, rows)
        cur = self._current = Parents(generation, rows, loss, penalty)
        return cur

    # ------------------------------------------------------------------ Optuna's GA methods
    def get_trial_generation(self, study: Study, trial: Trial | FrozenTrial) -> int:
        """The generation of ``trial`` (Optuna's ``BaseGASampler.get_trial_generation``):
        its ``"generation"`` attribute, or the generation a trial starting now gets."""
        col = study.view.sync().numeric_column(GENERATION_ATTR)
        if col is not None and trial.number < len(col) and col[trial.number, 0] == col[trial.number, 0]:
            return int(col[trial.number, 0])
        with self._lock:
            h = study.view.history
            self._bind(h)
            self._gens.update(h)
            return self._gens.current(self._population_size)

    def get_population(self, study: Study, generation: int) -> list[FrozenTrial]:
        """The COMPLETE trials of ``generation``, in trial order (reads the whole
        ``"generation"`` column: for inspection, not used by the sampler's asks)."""
        h = study.view.sync()
        col = h.numeric_column(GENERATION_ATTR)
        if col is None:
            return []
        rows = np.flatnonzero((col[:, 0] == generation) & (h.states[: h.n] == TrialState.COMPLETE))
        return [h.frozen(r) for r in rows.tolist()]

    def get_parent_population(self, study: Study, generation: int) -> list[FrozenTrial]:
        """The parents of ``generation`` (empty for generation 0), selected and stored in the
        study if no worker has yet, in trial order."""
        if generation <= 0:
            return []
        h = study.view.sync()
        with self._lock:
            self._bind(h)
            self._gens.update(h)
            rows = self._parent_rows(study, h, generation)
        return [h.frozen(r) for r in np.sort(rows).tolist()]

    def select_parent(self, study: Study, generation: int) -> list[FrozenTrial]:
        """Select the parents of ``generation`` now (the elite of generation - 1 and of its
        parents), without storing them."""
        h = study.view.sync()
        prev = np.array([t.number for t in self.get_parent_population(study, generation - 1)], dtype=np.int64)
        pop = np.array([t.number for t in self.get_population(study, generation - 1)], dtype=np.int64)
        with self._lock:
            rows = self._select(study, h, np.concatenate([pop, prev]))
        return [h.frozen(r) for r in rows.tolist()]

    # ------------------------------------------------------------------ sampling
    def sample_independent(
        self, study: Study, trial: Trial, param_name: str, param_distribution: BaseDistribution
    ) -> Any:
        with self._lock:
            return self._random.external(param_distribution)

    def sample_joint(self, study: Study, trial: Trial, space: SearchSpace) -> np.ndarray:
        h = study.view.history
        with self._lock:
            bred = self._children.pop(trial.number, None) if trial is not None else None
            if bred is not None:
                if bred[0] is space:
                    return bred[1]
                # A wrapper (PartialFixedSampler) asks for part of the space inferred: the
                # child's values where it has them, random draws for the rest.
                values = dict(zip(bred[0].names, bred[1].tolist()))
                out = np.array([values.get(name, np.nan) for name in space.names])
                rest = [j for j, name in enumerate(space.names) if name not in values]
                return self._random.space(space, out, rest) if rest else out
            # ask(space): every parameter of ``space`` is sampled now, in its order (the
            # order Optuna's ask(fixed_distributions) suggests them in); the child is bred
            # over ``space`` itself (Optuna's: over the joint space, the same where every
            # finished trial was asked this space), parameter by parameter where
            # ``enqueue_trial`` gave some values.
            self._bind(h)
            given = self._given(trial, space)
            if given:
                return self._suggest_in_order(study, h, trial, space, given)
            generation = self._generation_of(study, h, trial)
            parents = self._parents_of(study, h, generation) if generation > 0 else None
            if parents is None:
                return self._random.space(space, np.empty(len(space)), None)
            if self._child_strategy is not None:
                return self._custom_child(study, h, trial, space, parents)
            child, redraw = self._child(study, h, space, parents)
            if redraw:
                self._random.space(space, child, redraw)
            return child

    @staticmethod
    def _given(trial: Trial, space: SearchSpace) -> set[str]:
        """Names of ``space`` whose values ``enqueue_trial`` gave ``trial`` (within their
        distributions; the study keeps them on the trial it hands out)."""
        fixed = getattr(trial, "_fixed", None)
        if not fixed:
            return set()
        given = set()
        for name, value in fixed.items():
            dist = space.get(name)
            try:
                if dist is not None and dist.contains(dist.to_internal_repr(value)):
                    given.add(name)
            except (TypeError, ValueError):
                continue
        return given

    def _suggest_in_order(self, study: Study, h: History, trial: Trial, space: SearchSpace,
                          given: set[str]) -> np.ndarray:
        """Holding the lock: ``space`` sampled as Optuna's ask(fixed_distributions) suggests
        it, parameter by parameter: a given one is not drawn (the study writes its value),
        the child is bred at the first one neither given nor single-valued, and what it
        does not supply is drawn at random in the order of ``space``."""
        out = np.array(space.low, dtype=np.float64)  # single-valued and given ones: replaced or kept
        child: dict[str, float] | None = None
        for j, (name, dist) in enumerate(space.items()):
            if name in given or dist.single():
                continue
            if child is None:
                sub = self._breed(study, h, trial)
                bred = self._children.pop(trial.number, None)
                child = {} if bred is None else {n: v for n, v, d in zip(sub.names, bred[1].tolist(), sub.values())
                                                 if space[n] == d}
            value = child.get(name)
            out[j] = self._random.internal(self._random.code(dist)) if value is None else value
        return out

    def _child(self, study: Study, h: History, space: SearchSpace, parents: Parents) -> tuple[np.ndarray, list[int]]:
        layout = self._layout(space)
        arrays = parents.arrays.get(space)
        if arrays is None:
            arrays = parents.arrays[space] = self._parent_arrays(h, layout, parents.rows)
        return make_child(parents, layout, arrays, self._config, self._stream, study)

    def _parent_arrays(self, h: History, layout: Layout, rows: np.ndarray) -> ParentArrays:
        space = layout.space
        X = np.full((len(rows), len(space)), np.nan)
        for j, name in enumerate(space.names):
            col = h.param_index.get(name)
            if col is not None:
                X[:, j] = h.X[rows, col]
        missing = np.isnan(X).any(axis=0)
        X[:, missing] = space.low[missing]
        return ParentArrays(layout, X, missing)

    def _child_params(self, study: Study, h: History, space: SearchSpace, parents: Parents) -> dict[str, Any]:
        if parents.frozen is None:
            parents.frozen = [h.frozen(r) for r in parents.rows.tolist()]
        return dict(self._child_strategy(study, dict(space.items()), parents.frozen))  # type: ignore[misc]

    def _custom_child(self, study: Study, h: History, trial: Trial, space: SearchSpace, parents: Parents) -> np.ndarray:
        params = self._child_params(study, h, space, parents)
        x = np.empty(len(space))
        self._random.space(space, x, [j for j, name in enumerate(space.names) if name not in params])
        for j, (name, dist) in enumerate(space.items()):
            if name in params:
                x[j] = dist.to_internal_repr(params[name])
        return x

    # ------------------------------------------------------------------ hooks
    def after_trial(self, study: Study, trial: Trial, state: TrialState, values: list[float] | None) -> None:
        with self._lock:
            self._pending.pop(trial.number, None)
            self._children.pop(trial.number, None)
        if self._after_strategy is not None:
            frozen = study.view.sync().frozen(trial.number)
            self._after_strategy(study, frozen, state, values)
        elif self._constraints_func is not None and state in (TrialState.COMPLETE, TrialState.PRUNED):
            constraints = store_constraints(study, trial, self._constraints_func, self._owner)
            if any(c != c for c in constraints):
                raise ValueError(format_error("constraints_func(trial)", "a sequence of numbers without NaN",
                                              constraints, owner=self._owner))


