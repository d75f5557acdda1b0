"""PB2: population-based bandits (Parker-Holder et al., NeurIPS 2020, "Provably efficient
online hyperparameter optimization with population-based bandits",
https://arxiv.org/abs/2002.02518), with the public arguments of Ray Tune's ``PB2``.

PB2 is PBT (:mod:`hpo_core.pbt._pbt`: the same loop, schedule, exploit and checkpoints)
whose explore step is a time-varying GP-UCB bandit instead of a random perturbation.

Notation (one row per completed segment of any member, the last ``_MAX_DATA`` of them):
    t        (n,) the step the segment started from, divided by ``n_steps``;
    r        (n,) the score at that step (higher is better), min-max normalised over the
             rows and the query;
    h        (n, k) the segment's hyperparameters in the unit cube of their bounds (log
             space for a log ``FloatDistribution``);
    y        (n,) the change of the score over the segment per step, ``(after - before) /
             (stop - start)``, warped and standardised (``warp_outputs``).

The GP is GPSampler's (``hpo_core.samplers.gp._model``: Matern-5/2 with one lengthscale
per input, MAP hyperparameters) on inputs ``[t, r, h]``: time is an input with its own
lengthscale, so old observations count less the further they are in time (the paper's
time-varying kernel forgets at a fitted rate; here the time lengthscale does that), and
``r`` is there as in Ray's PB2 (how much a model improves depends on where it is).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from hpo_core._search_space import SearchSpace
from hpo_core._validation import format_error
from hpo_core.distributions import FloatDistribution
from hpo_core.pbt._explore import sample_config
from hpo_core.pbt._pbt import PBT

# The GP (hpo_core.samplers.gp: SciPy and the kernels) is imported when a PB2 is built, not
# with hpo_core.pbt: `import hpo_core` stays free of it (tests/samplers/test_auto.py).
if TYPE_CHECKING:
    from hpo_core.pbt._pbt import _Loop, _Member

__all__ = ["PB2"]

#: Rows the GP is fitted on: the most recent ones (Ray's PB2 keeps the last 1,000).
_MAX_DATA = 1000
#: Candidates drawn per explore step before the local search.
_N_CANDIDATES = 256
_BOUNDS = "a [low, high] pair of finite numbers with low < high, or a FloatDistribution without step"


def _check_bounds(bounds: Any) -> dict[str, FloatDistribution]:
    if not isinstance(bounds, Mapping) or not bounds:
        raise (TypeError if not isinstance(bounds, Mapping) else ValueError)(
            format_error("hyperparam_bounds", "a non-empty mapping name -> [low, high]", bounds, owner="PB2"))
    out: dict[str, FloatDistribution] = {}
    for name, b in bounds.items():
        if not isinstance(name, str):
            raise TypeError(format_error("hyperparam_bounds", "a mapping with str keys", bounds, owner="PB2"))
        if isinstance(b, FloatDistribution) and b.step is None:
            out[name] = b
            continue
        ok = (isinstance(b, (list, tuple)) and len(b) == 2
              and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in b)
              and b[0] < b[1])
        if not ok:
            raise ValueError(format_error(f"hyperparam_bounds[{name!r}]", _BOUNDS, b, owner="PB2"))
        out[name] = FloatDistribution(float(b[0]), float(b[1]))
    return out


class PB2(PBT):
    """Population-based bandits: PBT whose explore step chooses the new hyperparameters
    with a time-varying GP-UCB bandit on our GP.

    Exploit is PBT's (a member of the bottom ``quantile_fraction`` resumes from the
    checkpoint of a random member of the top one, see :class:`~hpo_core.pbt.PBT`). Explore:

    1. Data: every completed segment of every member (the last 1,000): inputs ``(t, r,
       h)`` = (the step it started from / ``n_steps``, the score there, its
       hyperparameters in the unit cube of ``hyperparam_bounds``), output the change of
       the score over the segment per step. A member's first segment, which has no
       score before it, counts from its first report. Fewer than two rows (or a GP that
       cannot be factorised): the new values are drawn uniformly within the bounds.
    2. The GP of :class:`~hpo_core.samplers.GPSampler` is fitted to them (time is an input
       with its own lengthscale: observations far in the past count less).
    3. Batch: the hyperparameters every other live member trains with now or next (in
       a synchronous round, the values chosen earlier in the same round included) are
       added as pending points at the query's ``(t, r)`` with the GP's posterior mean as
       their value (``condition_on_pending``, "kriging believer"): the mean is
       unchanged and the variance at and near them shrinks, so the upper confidence
       bound there falls and the members spread out. This is the paper's and Ray's
       variance trick (Desautels et al. 2014, GP-BUCB: the variance from a model that
       knows the pending points, the mean from the data alone).
    4. ``UCB(h) = mean + sqrt(beta) * sd`` at the donor's ``(t, r)``, ``beta = 0.2 +
       max(0, log(0.4 n))`` (Ray's schedule, n rows), is maximised over the unit cube:
       256 scrambled Sobol candidates plus Gaussian perturbations of the donor's
       hyperparameters, then L-BFGS-B from the best 10 (GPSampler's optimiser).

    All draws come from the run's generator: a seed reproduces a run as for PBT.

    Args:
        perturbation_interval: Steps between two perturbations of a member.
        burn_in_period: No perturbation before this step.
        hyperparam_bounds: ``{name: [low, high]}``: continuous hyperparameters, sampled
            uniformly for the initial population and modelled linearly; a
            :class:`~hpo_core.FloatDistribution` (without ``step``) instead of a pair is
            also accepted, ``log=True`` sampling and modelling it in log space.
        quantile_fraction: Fraction of the population in the top and the bottom
            quantile, in ``[0, 0.5]``.
        synch: Perturb all members together at each perturbation point (True) or each
            member as soon as it reaches one (False, the default).
        seed: Seed of the run's generator.

    Raises:
        TypeError, ValueError: a bad argument, named in the message.

    Example:
        >>> import hpo_core
        >>> from hpo_core.pbt import PB2
        >>> def objective(trial):
        ...     lr = trial.suggest_float("lr", 0.01, 1.0)
        ...     ckpt = trial.checkpoint
        ...     x = ckpt.load() or 0.0
        ...     for step in ckpt.steps:
        ...         x += lr * (3.0 - x)
        ...         trial.report(-abs(3.0 - x), step)
        ...     ckpt.save(x)
        ...     return -abs(3.0 - x)
        >>> study = hpo_core.create_study(direction="maximize")
        >>> pb2 = PB2(perturbation_interval=2, hyperparam_bounds={"lr": [0.01, 1.0]}, seed=0)
        >>> best = pb2.run(study, objective, population_size=4, n_steps=6)
        >>> best.value > -3.0
        True
    """

    def __init__(
        self,
        *,
        perturbation_interval: int,
        burn_in_period: int = 0,
        hyperparam_bounds: Mapping[str, Sequence[float] | FloatDistribution],
        quantile_fraction: float = 0.25,
        synch: bool = False,
        seed: int | None = None,
    ):
        bounds = _check_bounds(hyperparam_bounds)
        super().__init__(perturbation_interval=perturbation_interval, burn_in_period=burn_in_period,
                         hyperparam_mutations=bounds, quantile_fraction=quantile_fraction,
                         resample_probability=0.0, synch=synch, seed=seed)
        self.hyperparam_bounds = bounds
        from hpo_core.samplers.gp._optimize import SpaceCoords

        self._coords = SpaceCoords(SearchSpace(bounds))

    def __repr__(self) -> str:
        return (f"PB2(perturbation_interval={self.perturbation_interval}, burn_in_period={self.burn_in_period}, "
                f"hyperparam_bounds={ {k: [d.low, d.high] for k, d in self.hyperparam_bounds.items()} }, "
                f"synch={self.synch}, seed={self.seed})")

    def _unit(self, configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Configs -> (m, k) model coordinates (values outside the bounds clipped)."""
        X = np.array([[d.to_internal_repr(min(max(float(c[name]), d.low), d.high))
                       for name, d in self.hyperparam_bounds.items()] for c in configs], dtype=np.float64)
        return self._coords.to_model(X.reshape(len(configs), len(self.hyperparam_bounds)))

    def _new_config(self, loop: _Loop, member: _Member, donor: _Member) -> dict[str, Any]:
        """GP-UCB at the donor's step and score (see the class docstring), with one BLAS
        thread, as a GP ask runs (``samplers/gp/_threads.py``: more threads spin against
        the training beside it)."""
        from hpo_core.samplers.gp._threads import limited_threads

        with limited_threads(1):
            return self._ucb_config(loop, member, donor)

    def _ucb_config(self, loop: _Loop, member: _Member, donor: _Member) -> dict[str, Any]:
        from hpo_core.samplers.gp._acquisition import acquisition
        from hpo_core.samplers.gp._model import condition_on_pending, default_theta, fit_model, warp_outputs
        from hpo_core.samplers.gp._optimize import draw_candidates, maximize

        data = loop.intervals[-_MAX_DATA:]
        if len(data) < 2 or donor.score is None:
            return sample_config(self.hyperparam_bounds, loop.rng)
        t = np.array([iv.start for iv in data], dtype=np.float64) / loop.n_steps
        r = np.array([iv.before for iv in data])
        rate = np.array([(iv.after - iv.before) / (iv.stop - iv.start) for iv in data])
        H = self._unit([iv.config for iv in data])
        # r min-max normalised together with the query, so both lie in [0, 1].
        lo, hi = min(r.min(), donor.score), max(r.max(), donor.score)
        span = hi - lo if hi > lo else 1.0
        X = np.column_stack((t, (r - lo) / span, H))
        fixed = np.array([donor.step / loop.n_steps, (donor.score - lo) / span])
        is_cat = np.zeros(X.shape[1], dtype=bool)
        model = fit_model(X, warp_outputs(rate), is_cat, default_theta(X.shape[1]))
        if model is None:
            return sample_config(self.hyperparam_bounds, loop.rng)
        others = [m.config for m in loop.members if m is not member and not m.done]
        if others:  # pending at their posterior mean: the mean stays, the variance shrinks
            Hp = self._unit(others)
            model = condition_on_pending(model, np.column_stack((np.tile(fixed, (len(Hp), 1)), Hp)))
        beta = 0.2 + max(0.0, math.log(0.4 * len(data)))
        k = H.shape[1]

        def acq(Z: np.ndarray, grad: bool) -> tuple[np.ndarray, np.ndarray]:
            Xq = np.column_stack((np.tile(fixed, (len(Z), 1)), Z))
            mean, var, dmean, dvar = model.posterior(Xq, grad=grad)
            value, g = acquisition("ucb", mean, var, dmean, dvar, best=0.0, beta=beta)
            return value, g[:, -k:]

        Z = draw_candidates(self._coords, loop.rng, _N_CANDIDATES, self._unit([donor.config]))
        z = maximize(acq, self._coords, Z)
        internal = self._coords.to_internal(z[None, :])[0]
        return {name: d.to_external_repr(float(v)) for (name, d), v in zip(self.hyperparam_bounds.items(), internal)}
