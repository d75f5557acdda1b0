"""PBT: population-based training (Jaderberg et al. 2017, https://arxiv.org/abs/1711.09846)
with the semantics of Ray Tune's ``PopulationBasedTraining``.

A population of members trains side by side. A member trains in *segments*: from its
step ``t`` to its next perturbation point, the first step ``t' >= burn_in_period`` with
``t' - t_last >= perturbation_interval`` (``t_last``: its last perturbation, 0 at the
start). Each segment is one trial of the study (:mod:`hpo_core.pbt._runner`). At a
perturbation point the members with a score are ranked; a member in the bottom
``quantile_fraction`` *exploits* a random member of the top one (resumes from its
checkpoint, at its step) and *explores* (perturbs or resamples the copied
hyperparameters, :mod:`hpo_core.pbt._explore`). Asynchronously (``synch=False``) a
member is ranked against the others' latest scores as soon as its segment ends;
synchronously, all members reach the same step first and are ranked together.
:class:`~hpo_core.pbt.PB2` runs this same loop with another explore step
(``PBT._new_config``), which reads the completed segments the loop records
(``_Loop.intervals``).

All decisions are made in the driver's main thread from one ``numpy`` generator seeded
with ``seed``; the slots' threads only run segments. Synchronous runs are therefore
reproducible with a seed whatever ``n_jobs`` is; asynchronous ones with ``n_jobs=1``
(with several slots the order in which segments end depends on timing).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any

import numpy as np

from hpo_core._validation import (
    check_bool,
    check_callable,
    check_int,
    check_real,
    format_error,
)
from hpo_core.distributions import BaseDistribution
from hpo_core.exceptions import HpoWarning
from hpo_core.pbt._explore import Mutation, explore, quantiles, sample_config
from hpo_core.pbt._runner import Job, open_session, run_segment, slots, start_segment
from hpo_core.pbt._store import FileArtifactStore, pickle_load, pickle_save
from hpo_core.trial import FrozenTrial, StudyDirection, Trial, TrialState

if TYPE_CHECKING:
    from hpo_core.study import Study

__all__ = ["PBT"]

_logger = logging.getLogger("hpo_core")

_MUTATION = "a distribution of hpo_core.distributions, a non-empty list or tuple of values, or a callable fn(rng)"


def _check_mutations(mutations: Any) -> dict[str, Mutation]:
    if mutations is None:
        return {}
    if not isinstance(mutations, Mapping):
        raise TypeError(format_error("hyperparam_mutations", "a mapping name -> mutation or None", mutations,
                                     owner="PBT"))
    for name, m in mutations.items():
        if not isinstance(name, str):
            raise TypeError(format_error("hyperparam_mutations", "a mapping with str keys", mutations, owner="PBT"))
        ok = isinstance(m, BaseDistribution) or (isinstance(m, (list, tuple)) and len(m) > 0) or (
            callable(m) and not isinstance(m, type))
        if not ok:
            raise (ValueError if isinstance(m, (list, tuple)) else TypeError)(
                format_error(f"hyperparam_mutations[{name!r}]", _MUTATION, m, owner="PBT"))
    return dict(mutations)


def _check_factors(factors: Any) -> tuple[float, ...]:
    allowed = "a non-empty sequence of finite numbers > 0"
    if isinstance(factors, (str, bytes)) or not isinstance(factors, Sequence) or not factors:
        raise (TypeError if not isinstance(factors, Sequence) else ValueError)(
            format_error("perturbation_factors", allowed, factors, owner="PBT"))
    out = []
    for f in factors:
        try:
            out.append(check_real("perturbation_factors", f, low=0.0, low_open=True, owner="PBT"))
        except (TypeError, ValueError) as e:
            raise type(e)(format_error("perturbation_factors", allowed, factors, owner="PBT")) from e
    return tuple(out)  # type: ignore[arg-type]


@dataclasses.dataclass(frozen=True)
class Interval:
    """One completed segment of a member: it trained from step ``start`` (score
    ``before``, higher is better) to ``stop`` (score ``after``) with ``config``."""

    start: int
    stop: int
    before: float
    after: float
    config: dict[str, Any]


@dataclasses.dataclass(eq=False)
class _Member:
    """The driver's view of one member between its segments."""

    index: int
    params: dict[str, Any]  # what its next segment's suggest_* calls return
    config: dict[str, Any]  # the mutated hyperparameters among them
    step: int = 0  # steps trained: where its checkpoint is
    last_perturb: int = 0
    ckpt: str | None = None  # key of its committed checkpoint
    last_trial: int | None = None  # number of the trial that wrote ckpt
    donor: int | None = None  # the member its checkpoint was copied from, for the next segment
    score: float | None = None  # last score, higher is better; None after a failure
    base_score: float | None = None  # score of the checkpoint its next segment starts from
    failures: int = 0  # segments failed in a row
    held: bool = False  # synchronous: failed in this round, waits for the barrier
    running: bool = False
    done: bool = False


class PBT:
    """Population-based training: a population trains together, the worst members copy
    the best ones' checkpoints and perturb their hyperparameters.

    Ray Tune's ``PopulationBasedTraining`` semantics (see the module docstring of
    :mod:`hpo_core.pbt._pbt` for the schedule). Time is counted in *steps*: whatever
    unit the objective trains by (epochs, batches), reported with ``trial.report(value,
    step)``. The metric is the study's objective value and direction.

    Args:
        perturbation_interval: Steps between two perturbations of a member.
        burn_in_period: No perturbation before this step.
        hyperparam_mutations: ``{name: mutation}``: a distribution of
            :mod:`hpo_core.distributions`, a list of values or a callable ``fn(rng)``
            taking a ``numpy.random.Generator`` (Ray calls it without arguments; here it
            gets the run's generator so that a seed reproduces the run). Initial values
            are sampled from these; see :mod:`hpo_core.pbt._explore` for how each kind
            is perturbed and resampled.
        quantile_fraction: Fraction of the population in the top and the bottom
            quantile, in ``[0, 0.5]``.
        resample_probability: Probability of resampling a hyperparameter instead of
            perturbing it.
        perturbation_factors: Factors a numeric hyperparameter is multiplied by (one
            chosen at random).
        custom_explore_fn: ``fn(config) -> config`` applied after the built-in explore.
        synch: Perturb all members together at each perturbation point (True) or each
            member as soon as it reaches one (False, the default).
        seed: Seed of the run's generator (initial values, quantile picks, explore).

    Raises:
        TypeError, ValueError: a bad argument, named in the message.

    Example:
        Each member learns ``x`` towards 3 with a learning rate that PBT schedules:

        >>> import hpo_core
        >>> from hpo_core.pbt import PBT
        >>> def objective(trial):
        ...     lr = trial.suggest_float("lr", 0.01, 1.0, log=True)
        ...     ckpt = trial.checkpoint
        ...     x = ckpt.load() or 0.0
        ...     for step in ckpt.steps:
        ...         x += lr * (3.0 - x)
        ...         trial.report(-abs(3.0 - x), step)
        ...     ckpt.save(x)
        ...     return -abs(3.0 - x)
        >>> study = hpo_core.create_study(direction="maximize")
        >>> pbt = PBT(perturbation_interval=2, seed=0,
        ...           hyperparam_mutations={"lr": hpo_core.FloatDistribution(0.01, 1.0, log=True)})
        >>> best = pbt.run(study, objective, population_size=4, n_steps=8)
        >>> best.system_attrs["pbt"]["stop"], len(study.trials)  # 4 members x 4 segments
        (8, 16)
    """

    def __init__(
        self,
        *,
        perturbation_interval: int,
        burn_in_period: int = 0,
        hyperparam_mutations: Mapping[str, Mutation] | None = None,
        quantile_fraction: float = 0.25,
        resample_probability: float = 0.25,
        perturbation_factors: Sequence[float] = (1.2, 0.8),
        custom_explore_fn: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        synch: bool = False,
        seed: int | None = None,
    ):
        owner = type(self).__name__  # "PB2" in a subclass's errors
        self.perturbation_interval: int = check_int(  # type: ignore[assignment]
            "perturbation_interval", perturbation_interval, low=1, owner=owner)
        self.burn_in_period: int = check_int("burn_in_period", burn_in_period, low=0, owner=owner)  # type: ignore[assignment]
        self.hyperparam_mutations = _check_mutations(hyperparam_mutations)
        self.quantile_fraction: float = check_real(  # type: ignore[assignment]
            "quantile_fraction", quantile_fraction, low=0.0, high=0.5, owner=owner)
        self.resample_probability: float = check_real(  # type: ignore[assignment]
            "resample_probability", resample_probability, low=0.0, high=1.0, owner=owner)
        self.perturbation_factors = _check_factors(perturbation_factors)
        self.custom_explore_fn = check_callable("custom_explore_fn", custom_explore_fn, allow_none=True, owner=owner)
        if not self.hyperparam_mutations and self.custom_explore_fn is None:
            raise ValueError(format_error(
                "hyperparam_mutations", "a non-empty mapping when `custom_explore_fn` is None",
                hyperparam_mutations, owner=owner))
        self.synch = check_bool("synch", synch, owner=owner)
        self.seed = check_int("seed", seed, low=0, allow_none=True, owner=owner)

    def _new_config(self, loop: _Loop, member: _Member, donor: _Member) -> dict[str, Any]:
        """The explore step: the hyperparameters ``member`` resumes from ``donor``'s
        checkpoint with (here a random perturbation of ``donor.config``; PB2 overrides it)."""
        return explore(donor.config, self.hyperparam_mutations, loop.rng,
                       resample_probability=self.resample_probability,
                       perturbation_factors=self.perturbation_factors, custom_explore_fn=self.custom_explore_fn)

    def __repr__(self) -> str:
        return (f"PBT(perturbation_interval={self.perturbation_interval}, burn_in_period={self.burn_in_period}, "
                f"synch={self.synch}, seed={self.seed})")

    # ----------------------------------------------------------------- run
    def run(
        self,
        study: Study,
        func: Callable[[Trial], Any],
        *,
        population_size: int,
        n_steps: int,
        n_jobs: int = 1,
        executor: Any = None,
        checkpoint_dir: str | os.PathLike[str] | FileArtifactStore | None = None,
        save_fn: Callable[[Any, str], None] | None = None,
        load_fn: Callable[[str], Any] | None = None,
        max_failures: int = 3,
        keep_checkpoints: bool = False,
        devices: Sequence[str] | None = None,
        trials_per_device: int = 1,
    ) -> FrozenTrial | None:
        """Train a population of ``population_size`` members for ``n_steps`` steps each.

        ``func`` trains one segment: it reads ``trial.checkpoint`` (a
        :class:`~hpo_core.pbt.Checkpoint`), resumes from ``load_dir`` (or
        ``checkpoint.load()``), trains ``checkpoint.steps`` with the hyperparameters its
        ``suggest_*`` calls return, saves into ``save_dir`` (or ``checkpoint.save(obj)``)
        and returns the score at ``checkpoint.stop``. Hyperparameters it suggests that
        are not mutated are sampled by the study's sampler in a member's first segment
        and kept afterwards (copied with the checkpoint on exploit).

        Args:
            study: A single-objective study; its direction says which scores are better.
                Give each run a study of its own: :func:`~hpo_core.pbt.best_trial` and
                :func:`~hpo_core.pbt.schedule` read all the segment trials it holds.
            func: The objective, run once per segment.
            population_size: Members trained side by side.
            n_steps: Steps each member trains in all.
            n_jobs: Segments run at once (at most ``population_size`` are used).
            executor: Where segments run: None or ``"thread"`` (threads here),
                ``"process"``, ``"ray"`` or an executor object of
                :mod:`hpo_core.distributed`, as for ``Study.optimize``.
            checkpoint_dir: A directory or a :class:`~hpo_core.pbt.FileArtifactStore`
                for the checkpoints; None makes a temporary directory (its path is in
                every segment trial's ``system_attrs["pbt"]["checkpoint"]``).
            save_fn: ``save_fn(obj, path)`` for ``checkpoint.save`` (``torch.save``);
                pickle when None.
            load_fn: ``load_fn(path) -> obj`` for ``checkpoint.load`` (``torch.load``);
                pickle when None.
            max_failures: A member whose segments fail (or are pruned) more than this
                many times in a row leaves the population. A failed segment is recorded
                (FAIL with its ``fail_reason``, or PRUNED) and the member restarts from
                a member of the top quantile (or from its own last checkpoint with
                resampled hyperparameters when there is none); the run goes on.
            keep_checkpoints: Keep every committed checkpoint; by default one is
                deleted once no member can resume from it any more.
            devices: ``["cuda:0", "cuda:1"]`` or ``["cpu", ...]``: each running segment
                holds one device (``trial.device``), as with ``Study.optimize``.
            trials_per_device: Segments sharing one device at once (with ``devices``).

        Returns:
            The best member's last segment trial (:func:`~hpo_core.pbt.best_trial`), or
            None when no member finished.
        """
        from hpo_core.study import Study

        if not isinstance(study, Study):
            raise TypeError(format_error("study", "a hpo_core.Study", study, owner="PBT.run"))
        if len(study.directions) != 1:
            raise ValueError(format_error("study", "a single-objective study", study, owner="PBT.run"))
        check_callable("func", func, owner="PBT.run")
        population_size = check_int("population_size", population_size, low=1, owner="PBT.run")  # type: ignore[assignment]
        n_steps = check_int("n_steps", n_steps, low=1, owner="PBT.run")  # type: ignore[assignment]
        n_jobs = check_int("n_jobs", n_jobs, low=1, owner="PBT.run")  # type: ignore[assignment]
        max_failures = check_int("max_failures", max_failures, low=0, owner="PBT.run")  # type: ignore[assignment]
        check_callable("save_fn", save_fn, allow_none=True, owner="PBT.run")
        check_callable("load_fn", load_fn, allow_none=True, owner="PBT.run")
        check_bool("keep_checkpoints", keep_checkpoints, owner="PBT.run")
        store = as_store(checkpoint_dir, "PBT.run")
        loop = _Loop(self, study, store, population_size, n_steps, max_failures, keep_checkpoints,
                     save_fn or pickle_save, load_fn or pickle_load)
        slot_devices = slots(n_jobs, devices, trials_per_device, population_size)
        with open_session(executor, study, func, slot_devices) as session:
            loop.run(session, slot_devices)
        from hpo_core.pbt._schedule import best_trial

        return best_trial(study)


def as_store(checkpoint_dir: Any, owner: str) -> FileArtifactStore:
    """``checkpoint_dir`` as a store (a temporary directory for None)."""
    if isinstance(checkpoint_dir, FileArtifactStore):
        return checkpoint_dir
    if checkpoint_dir is None:
        import tempfile

        return FileArtifactStore(tempfile.mkdtemp(prefix="hpo_core-pbt-"))
    if not isinstance(checkpoint_dir, (str, os.PathLike)):
        raise TypeError(format_error("checkpoint_dir", "a path, a FileArtifactStore or None", checkpoint_dir,
                                     owner=owner))
    return FileArtifactStore(checkpoint_dir)


class _Loop:
    """One run: the members, the checkpoints they hold, and the scheduling loop."""

    def __init__(self, pbt: PBT, study: Study, store: FileArtifactStore, population_size: int, n_steps: int,
                 max_failures: int, keep_checkpoints: bool, save_fn: Callable[[Any, str], None],
                 load_fn: Callable[[str], Any]):
        self.pbt = pbt
        self.study = study
        self.store = store
        self.n_steps = n_steps
        self.max_failures = max_failures
        self.keep = keep_checkpoints
        self.save_fn, self.load_fn = save_fn, load_fn
        self.sign = 1.0 if study.direction == StudyDirection.MAXIMIZE else -1.0
        self.rng = np.random.default_rng(pbt.seed)
        self.refs: dict[str, int] = {}  # checkpoint key -> members and running segments using it
        self.intervals: list[Interval] = []  # every completed segment, in the order they ended
        self.members: list[_Member] = []
        for i in range(population_size):
            config = sample_config(pbt.hyperparam_mutations, self.rng)
            self.members.append(_Member(i, dict(config), config))
        # The first perturbation point (Ray's first result with t >= burn_in and t >= interval).
        self.barrier = max(pbt.perturbation_interval, pbt.burn_in_period)

    # ------------------------------------------------------------- checkpoints
    def _hold(self, key: str | None) -> None:
        if key is not None:
            self.refs[key] = self.refs.get(key, 0) + 1

    def _release(self, key: str | None) -> None:
        if key is None:
            return
        self.refs[key] -= 1
        if self.refs[key] == 0:
            del self.refs[key]
            if not self.keep:
                self.store.delete(key)

    # ------------------------------------------------------------- scheduling
    def _stop(self, m: _Member) -> int:
        """Where ``m``'s next segment ends: its next perturbation point."""
        if self.pbt.synch:
            return min(self.n_steps, self.barrier)
        nxt = max(m.last_perturb + self.pbt.perturbation_interval, self.pbt.burn_in_period)
        return min(self.n_steps, nxt)

    def _next(self) -> _Member | None:
        """The waiting member with the fewest steps (Ray's ``choose_trial_to_run``)."""
        ready = [m for m in self.members if not m.done and not m.running and not m.held
                 and (not self.pbt.synch or m.step < self.barrier)]
        return min(ready, key=lambda m: (m.step, m.index)) if ready else None

    def run(self, session: Any, slot_devices: list[str | None]) -> None:
        n_slots = len(slot_devices)
        free = list(range(n_slots))[::-1]
        running: dict[Future[FrozenTrial], tuple[_Member, int, str | None]] = {}
        pool = ThreadPoolExecutor(max_workers=n_slots, thread_name_prefix="hpo_core-pbt")
        try:
            while True:
                while free and (m := self._next()) is not None:
                    slot = free.pop()
                    job = Job(m.index, m.step, self._stop(m), dict(m.params), m.last_trial, m.donor, m.ckpt)
                    trial, ckpt, key = start_segment(self.study, job, self.store, self.save_fn, self.load_fn,
                                                     slot_devices[slot])
                    self._hold(m.ckpt)  # the running segment reads it
                    m.running, m.donor = True, None
                    fut = pool.submit(run_segment, self.study, session, slot, trial, ckpt, self.store, key)
                    running[fut] = (m, slot, m.ckpt)
                if not running:
                    if self.pbt.synch and any(not m.done for m in self.members):
                        self._synch_perturb()
                        continue
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in sorted(done, key=lambda f: running[f][0].index):
                    m, slot, loaded = running.pop(fut)
                    free.append(slot)
                    m.running = False
                    self._release(loaded)
                    self._finished(m, fut.result())
        except BaseException:
            session.abort()
            raise
        finally:
            pool.shutdown(wait=True)

    def _finished(self, m: _Member, frozen: FrozenTrial) -> None:
        """Book a segment's outcome; asynchronously, perturb ``m`` at once."""
        if frozen.state == TrialState.COMPLETE:
            key = f"trial-{frozen.number}"
            self._hold(key)
            self._release(m.ckpt)
            m.ckpt, m.last_trial = key, frozen.number
            start, m.step = m.step, frozen.system_attrs["pbt"]["stop"]
            m.params = {**frozen.params, **m.config}
            m.score = self.sign * float(frozen.value)  # type: ignore[arg-type]
            self._record(m, frozen, start)
            m.base_score = m.score
            m.failures = 0
            if m.step >= self.n_steps:
                m.done = True
            elif not self.pbt.synch:
                m.last_perturb = m.step
                lower, upper = self._quantiles()
                if m in lower:
                    self._exploit(m, upper[int(self.rng.integers(len(upper)))])
            return
        m.score = None
        m.failures += 1
        if m.failures > self.max_failures:
            m.done = True
            self._release(m.ckpt)
            m.ckpt = None
            warnings.warn(f"PBT: member {m.index} failed {m.failures} segments in a row (last: trial "
                          f"{frozen.number}, {frozen.state.name}); it leaves the population.", HpoWarning,
                          stacklevel=2)
        elif self.pbt.synch:
            m.held = True
        else:
            self._recover(m)

    def _record(self, m: _Member, frozen: FrozenTrial, start: int) -> None:
        """Append ``m``'s completed segment to ``intervals`` (what PB2 models). A fresh
        start has no score before: its first report (at step ``e``, after training it)
        stands in, from ``e + 1``; without one the segment is not recorded."""
        before = m.base_score
        if before is None:
            reports = sorted(frozen.intermediate_values.items())
            if not reports or reports[0][0] + 1 >= m.step or not np.isfinite(reports[0][1]):
                return
            start, before = reports[0][0] + 1, self.sign * float(reports[0][1])
        if m.score is not None and np.isfinite(m.score) and np.isfinite(before) and m.step > start:
            self.intervals.append(Interval(start, m.step, before, m.score, dict(m.config)))

    def _quantiles(self) -> tuple[list[_Member], list[_Member]]:
        """The bottom and top quantiles of the live members with a score."""
        scored = [m for m in self.members if not m.done and m.score is not None]
        lower, upper = quantiles([m.score for m in scored], self.pbt.quantile_fraction)  # type: ignore[misc]
        return [scored[i] for i in lower], [scored[i] for i in upper]

    def _exploit(self, m: _Member, donor: _Member) -> None:
        """``m`` resumes from ``donor``'s checkpoint with explored hyperparameters."""
        config = self.pbt._new_config(self, m, donor)
        self._hold(donor.ckpt)
        self._release(m.ckpt)
        m.ckpt, m.last_trial, m.donor = donor.ckpt, donor.last_trial, donor.index
        m.step, m.last_perturb, m.base_score = donor.step, donor.last_perturb, donor.score
        m.config, m.params = config, {**donor.params, **config}
        _logger.info("PBT: member %d resumes from member %d's checkpoint (trial %s) at step %d with %s.",
                     m.index, donor.index, donor.last_trial, donor.step, config)

    def _recover(self, m: _Member) -> None:
        """After a failed segment: exploit a top member, else resample from where ``m`` is."""
        _, upper = self._quantiles()
        if upper:
            self._exploit(m, upper[int(self.rng.integers(len(upper)))])
            return
        config = sample_config(self.pbt.hyperparam_mutations, self.rng)
        base = m.params if m.ckpt is not None else {}
        m.config, m.params = config, {**base, **config}

    def _synch_perturb(self) -> None:
        """Every live member is at the barrier: rank them all and perturb (upper, middle
        and lower quantile in turn, as Ray does), then set the next barrier."""
        lower, upper = self._quantiles()
        live = [m for m in self.members if not m.done]
        middle = [m for m in live if m.score is not None and m not in lower and m not in upper]
        for m in upper + middle + lower:
            m.last_perturb = self.barrier
            if m in lower:
                self._exploit(m, upper[int(self.rng.integers(len(upper)))])
        for m in live:
            if m.held:
                m.held = False
                self._recover(m)
        self.barrier += self.pbt.perturbation_interval
