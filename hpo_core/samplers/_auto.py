"""AutoSampler: GP or TPE per trial, chosen from the study's search space and size.

The choice is a pure function of the study when a trial starts (its objectives, the
parameters of its finished trials, its COMPLETE count) and of the sampler's arguments;
the two samplers it delegates to do all the sampling.
"""

from __future__ import annotations

import inspect
import threading
import warnings
import weakref
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np

from hpo_core._validation import check_int, format_error
from hpo_core.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
    SearchSpace,
)
from hpo_core.samplers._base import BaseSampler, check_constraints_func
from hpo_core.samplers.gp import GPSampler
from hpo_core.samplers.tpe import TPESampler
from hpo_core.trial._state import TrialState

if TYPE_CHECKING:
    from hpo_core.history import History
    from hpo_core.study import Study
    from hpo_core.trial import FrozenTrial, Trial

__all__ = ["AutoSampler"]

_COMPLETE = int(TrialState.COMPLETE)
#: The GP needs at least this share of the (non-constant) parameters seen in its joint
#: space; it samples the others uniformly at random in every trial (rule 4).
MIN_JOINT_SHARE = Fraction(2, 3)  # exact: 2 of 3 parameters is enough
#: COMPLETE trials from which ``discrete_tpe_every`` hands trials of an all-discrete
#: joint space to TPE (rule 5), and COMPLETE trials without a new best before it does.
DISCRETE_TPE_FROM = 25
DISCRETE_TPE_PATIENCE = 10
# Arguments AutoSampler sets on both samplers itself.
_RESERVED = ("seed", "n_startup_trials", "constraints_func")

GP, TPE = "gp", "tpe"


def _complete_since_best(h: History) -> int:
    """COMPLETE trials that started after the best one (all of them when none is best)."""
    return int(np.count_nonzero(h.states[h.best_row + 1:h.n] == _COMPLETE))


class AutoSampler(BaseSampler):
    """GP for single-objective studies with an unconditional space, TPE otherwise and past a trial count.

    The choice is made when a trial starts (``before_trial``), from the study at that
    moment, and holds for every parameter of that trial. Rules, in order:

    1. **Several objectives -> TPE.** :class:`GPSampler` handles 2-3 objectives (LogEHVI)
       and finds larger hypervolumes than TPE at 50 trials (ZDT1, ZDT2, DTLZ2 in
       ``benchmarks/README.md``), but a 3-objective ask costs seconds once the front has
       dozens of points (1.7-4.7 s at 300 trials), so TPE stays the automatic choice.
    2. **At least** ``max_gp_trials`` **COMPLETE trials -> TPE** (default 1,000). The GP
       is the more sample-efficient of the two on small budgets (BBOB, 72 problems,
       100 trials: mean rank 1.59 against TPE's 2.38 among four samplers, see
       ``benchmarks/README.md``), but costs about 35 ms per ask at 100 trials and
       80-100 ms at 1,000 (10 parameters), against under 1 ms for TPE; by 1,000 trials
       the sampler has spent a minute or two in the GP, and the GP has been a local model
       (its trust region of 512 trials) for half the study. A study that long is either
       cheap to evaluate, where TPE's asks keep the sampler from dominating, or has a big
       budget, where sample efficiency per trial matters less. Counted in COMPLETE trials
       because the GP's cost grows with them (FAIL and PRUNED trials are not modelled).
    3. **No COMPLETE trial yet -> GP.** Nothing is known about the space; both samplers
       sample at random until ``n_startup_trials`` trials are complete.
    4. **Conditional spaces -> TPE**: when the joint space (the parameters every
       COMPLETE trial has, with one distribution: ``History.intersection_search_space``)
       is empty, or holds fewer than ``MIN_JOINT_SHARE`` (2/3) of the parameters seen.
       The GP samples the parameters outside its joint space uniformly at random, in
       every trial, for ever; TPE models each of them (univariately). A few conditional
       parameters next to twice as many unconditional ones are cheap to leave random; a
       third or more of the space is not. Parameters with one possible value do not
       count (both samplers set them without sampling). Measured on the conditional
       problems of the model-tuning and discrete suites (``benchmarks/README.md``, issue
       11; seed wins GP/TPE at 25 / 50 / 100 trials, ties left out): ``mlp_digits``
       (5 of 7 parameters joint; 20 seeds) 9/11, 13/7, 13/7 (p = 0.03 at 100), where
       the former threshold of 3/4 chose TPE; ``svc_digits`` (3 of 5) 1/10, 1/8, 3/8;
       ``tab_svc_digits`` (2 of 4) 2/5, 1/6, 0/4; ``syn_conditional`` (1 of 8) 3/7,
       3/7, 2/8.

       Here TPE runs with ``group=True`` (unless ``tpe_kwargs`` sets ``group`` or
       ``multivariate=False``): each group of parameters that always occur together is
       modelled jointly, instead of one joint model over the parameters every trial has
       and a univariate one for each other parameter. Seed wins with/without it at 25 /
       50 / 100 trials (2026-12-07, ``benchmarks/README.md``): ``syn_conditional``
       (three branches of 2-3 parameters each) 30/25, 40/14, 28/11 on seeds 0-59 and
       110/79, 114/53, 88/42 on seeds 60-259 (p = 0.006 / 0.003 / 0.019);
       ``svc_digits`` and ``tab_svc_digits``, whose conditional groups have one
       parameter each (the same model either way), level: 9/14, 17/15, 20/20 (seeds
       0-59) and 51/44, 32/25, 7/9 (seeds 60-259). On an unconditional space one group
       holds every parameter and the proposals are those without it. Studies with
       several objectives keep TPE's default (``group=True`` would make it
       multivariate there, which was not measured).
    5. **Otherwise -> GP**, categorical parameters included. Up to 2026-12-06 a space
       more than half categorical went to TPE (Optuna's AutoSampler sends any
       categorical space there). Measured on the discrete suite (12 problems x 10 seeds,
       ``benchmarks/README.md``, issue 11), the GP (Hamming kernel, every category of a
       categorical with at most 32 evaluated exactly, no configuration proposed twice)
       beat TPE on the four problems that rule sent to TPE: seed wins 29/10, 27/7 and
       23/7 at 25, 50 and 100 trials (all-categorical ``syn_cat_chain`` 10/0 at 100,
       ``syn_cat_large`` with a 200-way categorical 7/3, ``tab_et_wine`` 4/0 with 6
       ties, ``tab_mlp_breast_cancer`` 2/4 with 4 ties).

       On an all-discrete joint space (every parameter an int, a stepped float or a
       categorical), from ``DISCRETE_TPE_FROM`` (25) COMPLETE trials on and while the best
       value has not improved for ``DISCRETE_TPE_PATIENCE`` (10) COMPLETE trials, every
       ``discrete_tpe_every``-th trial (default 4: those started when the COMPLETE count
       is 3 mod 4) goes to TPE. On jagged lookup tables the GP settles on a plateau and
       rarely samples a narrow optimum beside it, which TPE, sampling near the good trials,
       finds: on ``tab_knn_wine`` (the best configuration, ``minmax`` scaling with 3
       neighbours, sits between poor ones) our GP found it in 100 trials on 2 of 100
       seeds and Optuna's on none of 10, while the median run of every TPE did (with the
       rule, 57 of 100). Measured on the discrete suite against the GP alone
       (``benchmarks/README.md``, issue 11; seed wins at 100 trials,
       dev seeds 0-29 / fresh seeds 30-99): ``tab_knn_wine`` 24/0 and 53/0,
       ``syn_cat_large`` 13/8 and 27/18 (Wilcoxon p = 0.018 on the fresh seeds),
       ``syn_cat_chain`` 4/11 and 9/19 (Wilcoxon n.s. in each set; sign test over both
       p = 0.014; the GP's median there stays about a quarter of any TPE's), the others
       level (every fourth trial without the stagnation condition lost
       ``syn_log_int`` 25/45, p = 0.03, on the fresh seeds; handing trials to TPE from
       the 11th on lost ``syn_cat_chain`` and ``tab_et_wine`` at 25 trials). Up to 25
       trials the study is the GP's alone, and spaces with a continuous parameter (BBOB,
       the model-tuning suite) never take this path.

    Constraints (``constraints_func``) go to both samplers, which both model them (GP:
    constrained LogEI; TPE: a feasibility-first split), so they do not change the
    choice. The values are computed once per finished trial, by the sampler that served
    it, and stored in the trial's system attribute ``"constraints"``, where the other
    one reads them.

    As a study grows the rules move it from GP to TPE, not back, except in unusual
    studies where a parameter joins the joint space again (rule 4 may then allow the
    GP again). Both samplers read the whole history at every ask, so a switch
    in either direction needs no hand-over; because the choice depends only on the
    study, workers in several processes and a resumed study make the same one.

    Args:
        max_gp_trials: COMPLETE trials from which TPE serves every trial (``None``: the
            GP serves for ever when the other rules allow it; ``0``: TPE always).
        n_startup_trials: Random trials before either model starts (the GP counts
            COMPLETE trials, TPE finished ones).
        constraints_func: ``f(FrozenTrial) -> sequence of floats`` (``<= 0`` feasible),
            called once when a trial finishes; passed to both samplers.
        gp_kwargs: Further :class:`GPSampler` arguments (e.g. ``{"n_candidates": 512}``),
            not ``seed``, ``n_startup_trials`` or ``constraints_func``.
        tpe_kwargs: Further :class:`TPESampler` arguments, with the same exceptions;
            single-objective studies get ``group=True`` unless it names ``group`` or
            sets ``multivariate=False`` (rule 4).
        seed: Seed; the GP gets ``seed`` and TPE ``seed + 1``, so equal seeds give equal
            proposals (``None``: both draw from the OS).
        discrete_tpe_every: On an all-discrete joint space, where the rules pick the GP,
            every this many-th trial goes to TPE from ``DISCRETE_TPE_FROM`` COMPLETE
            trials on, while the best value has not improved for
            ``DISCRETE_TPE_PATIENCE`` of them (rule 5; ``None``: never).

    Which sampler served a trial: :attr:`last_choice` right after ``ask`` (or inside the
    objective), or :meth:`choose` for what the rules pick now.

    Example:
        >>> import hpo_core
        >>> sampler = hpo_core.samplers.AutoSampler(max_gp_trials=15, seed=0)
        >>> study = hpo_core.create_study(sampler=sampler)
        >>> study.optimize(lambda t: (t.suggest_float("x", -5, 5) - 2) ** 2, n_trials=14)
        >>> sampler.last_choice
        'gp'
        >>> study.optimize(lambda t: (t.suggest_float("x", -5, 5) - 2) ** 2, n_trials=6)
        >>> sampler.last_choice
        'tpe'
        >>> abs(study.best_params["x"] - 2) < 0.5
        True
    """

    def __init__(
        self,
        *,
        max_gp_trials: int | None = 1000,
        n_startup_trials: int = 10,
        constraints_func: Callable[[FrozenTrial], Sequence[float]] | None = None,
        gp_kwargs: Mapping[str, Any] | None = None,
        tpe_kwargs: Mapping[str, Any] | None = None,
        seed: int | None = None,
        discrete_tpe_every: int | None = 4,
    ):
        owner = "AutoSampler"
        self._max_gp_trials = check_int("max_gp_trials", max_gp_trials, low=0, allow_none=True, owner=owner)
        n_startup = check_int("n_startup_trials", n_startup_trials, low=0, owner=owner)
        self._discrete_tpe_every = check_int("discrete_tpe_every", discrete_tpe_every, low=1, allow_none=True,
                                             owner=owner)
        check_constraints_func(constraints_func, owner)  # warns once (Optuna 5.0 deprecates it)
        check_int("seed", seed, low=0, allow_none=True, owner=owner)
        common: dict[str, Any] = {"n_startup_trials": n_startup, "constraints_func": constraints_func}
        with warnings.catch_warnings():  # not once more from each inner sampler
            warnings.filterwarnings("ignore", message="`constraints_func` has been deprecated", category=FutureWarning)
            self._gp = GPSampler(seed=seed, **common, **_checked_kwargs("gp_kwargs", gp_kwargs, GPSampler))
            tpe_seed = None if seed is None else seed + 1
            tpe_kw = _checked_kwargs("tpe_kwargs", tpe_kwargs, TPESampler)
            # Single-objective studies: group=True (see the class docstring) unless the user
            # says otherwise. Several objectives keep TPE's default (group=True would make
            # them multivariate, which was not measured); a study uses only one of the two.
            group = {"group": tpe_kw.get("multivariate") is not False}
            self._tpe = TPESampler(seed=tpe_seed, **common, **{**group, **tpe_kw})
            self._tpe_mo = TPESampler(seed=tpe_seed, **common, **tpe_kw)
        self._last_choice: str | None = None
        self._lock = threading.Lock()
        # The choice per running trial, keyed by the Trial object (weakly: an entry goes
        # with its trial, so trials never told leave nothing behind).
        self._choices: weakref.WeakKeyDictionary[Trial, str] = weakref.WeakKeyDictionary()
        self._joint_key: tuple[Any, int, bool] = (None, 0, False)  # see _joint_count

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_lock"], state["_choices"]  # running trials do not survive a pickle
        state["_joint_key"] = (None, 0, False)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        # A pickle from before the TPE of several objectives was its own sampler (20b0b75)
        # has one TPE at the user's arguments: it serves both, as it did then.
        state.setdefault("_tpe_mo", state["_tpe"])
        # One from before discrete_tpe_every keeps its GP on discrete spaces, as then.
        state.setdefault("_discrete_tpe_every", None)
        state["_joint_key"] = (None, 0, False)
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self._choices = weakref.WeakKeyDictionary()

    def reseed_rng(self) -> None:
        self._gp.reseed_rng()
        self._tpe.reseed_rng()
        self._tpe_mo.reseed_rng()

    @property
    def last_choice(self) -> str | None:
        """``"gp"`` or ``"tpe"``: the sampler chosen for the trial started last (``None``
        before the first). With several threads asking at once, whichever started last."""
        return self._last_choice

    # ------------------------------------------------------------------ the rules
    def choose(self, study: Study) -> str:
        """The sampler the rules pick for a trial starting now: ``"gp"`` or ``"tpe"``."""
        if len(study.directions) > 1:
            return TPE
        h = study.view.history
        n_complete = h.count(_COMPLETE)
        if self._max_gp_trials is not None and n_complete >= self._max_gp_trials:
            return TPE
        if n_complete == 0:
            return GP
        n_joint, all_discrete = self._joint_count(h.intersection_search_space())
        if n_joint == 0:
            return TPE
        n_seen = sum(1 for dists in h.param_dists if not all(d.single() for d in dists))
        if n_joint < MIN_JOINT_SHARE * n_seen:
            return TPE
        every = self._discrete_tpe_every
        if (every is not None and all_discrete and n_complete >= DISCRETE_TPE_FROM
                and n_complete % every == every - 1 and _complete_since_best(h) >= DISCRETE_TPE_PATIENCE):
            return TPE
        return GP

    def _joint_count(self, joint: SearchSpace) -> tuple[int, bool]:
        """Parameters of the joint space, one-valued ones left out, and whether every one
        of them is discrete (int, stepped float, categorical); recounted only when the
        history hands out a new space object."""
        key = self._joint_key
        if key[0] is not joint:
            varied = [d for d in joint.values() if not d.single()]
            discrete = all(isinstance(d, (IntDistribution, CategoricalDistribution))
                           or (isinstance(d, FloatDistribution) and d.step is not None) for d in varied)
            key = (joint, len(varied), discrete)
            self._joint_key = key
        return key[1], key[2]

    def _sampler_for(self, study: Study, trial: Trial | None) -> BaseSampler:
        choice = None
        if trial is not None:
            with self._lock:
                choice = self._choices.get(trial)
        if choice is None:  # a trial this sampler did not see start (e.g. told by number)
            choice = self.choose(study)
        return self._gp if choice == GP else self._tpe_for(study)

    def _tpe_for(self, study: Study) -> TPESampler:
        return self._tpe if len(study.directions) == 1 else self._tpe_mo

    # ------------------------------------------------------------------ delegation
    def before_trial(self, study: Study, trial: Trial) -> None:
        choice = self.choose(study)
        with self._lock:
            self._choices[trial] = choice
        self._last_choice = choice
        (self._gp if choice == GP else self._tpe_for(study)).before_trial(study, trial)

    def infer_relative_search_space(self, study: Study, trial: Trial) -> SearchSpace:
        return self._sampler_for(study, trial).infer_relative_search_space(study, trial)

    def sample_joint(self, study: Study, trial: Trial, space: SearchSpace) -> np.ndarray:
        return self._sampler_for(study, trial).sample_joint(study, trial, space)

    def sample_independent(
        self, study: Study, trial: Trial, param_name: str, param_distribution: BaseDistribution
    ) -> Any:
        sampler = self._sampler_for(study, trial)
        return sampler.sample_independent(study, trial, param_name, param_distribution)

    def after_trial(self, study: Study, trial: Trial, state: TrialState, values: list[float] | None) -> None:
        # Only the serving sampler: the samplers' after_trial stores the constraint values
        # (the other sampler reads them from the trial), and forwarding to both would call
        # constraints_func twice.
        self._sampler_for(study, trial).after_trial(study, trial, state, values)


def _checked_kwargs(name: str, kwargs: Mapping[str, Any] | None, cls: type) -> dict[str, Any]:
    """``kwargs`` as a dict after checking that it is a mapping of ``cls``'s keyword
    arguments other than the ones AutoSampler sets (their values ``cls`` checks)."""
    if kwargs is None:
        return {}
    if not isinstance(kwargs, Mapping):
        raise TypeError(format_error(name, f"a mapping of {cls.__name__} arguments or None", kwargs,
                                     owner="AutoSampler"))
    allowed = [p for p in inspect.signature(cls).parameters if p not in _RESERVED]
    for key in kwargs:
        if key not in allowed:
            raise ValueError(f"AutoSampler: `{name}` keys must be {cls.__name__} arguments other than "
                             f"{', '.join(_RESERVED)} (one of {', '.join(allowed)}), but got {key!r}.")
    return dict(kwargs)
