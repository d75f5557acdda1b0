"""AutoSampler's startup design and its discrete-space rule: prototypes run through ``quality.py`` (issue 11).

The library is not edited: the prototypes are samplers built here and registered as new
sampler names of ``quality.py``, whose arguments this script takes unchanged (suites,
seeds, trials, ``--out``; ``--samplers`` may name the prototypes below next to the usual
ones). ``hpo_auto`` with another ``n_startup_trials`` needs no prototype:
``hpo_auto:n_startup_trials=5``.

Prototypes:

- ``hpo_auto_qmc``: :class:`AutoSampler` whose first ``n_startup_trials`` trials (COMPLETE
  ones counted, as the GP counts them) are drawn by a scrambled Sobol
  :class:`QMCSampler` with the run's seed instead of the inner samplers' random
  startup; from then on it is ``hpo_auto`` itself. The QMC sampler's joint space is the
  parameters every COMPLETE trial has (the first trial is random); the others are random.
- ``hpo_auto_mix:every=K[:start=S]``: where ``hpo_auto``'s rules pick the GP on an
  all-discrete joint space, every K-th trial goes to TPE (the COMPLETE count is K - 1
  mod K) from S COMPLETE trials on (default 10).
- ``hpo_auto_stag:patience=P[:start=S]``: the same space, each trial goes to TPE while
  the best value has not improved for P COMPLETE trials; ``hpo_auto_mix:every=K:patience=P``
  hands only every K-th trial to TPE, and only while the best has not improved for P.
  ``AutoSampler(discrete_tpe_every=4)``, with its ``DISCRETE_TPE_FROM`` of 25 and
  ``DISCRETE_TPE_PATIENCE`` of 10, is ``hpo_auto_mix:every=4:start=25:patience=10``, run
  for run on the discrete suite (seeds 0-99).

``mlp_digits`` returns its layer widths as a tuple here rather than a list (the same
values): ``quality.py`` hashes each configuration to count distinct ones, and a list
does not hash.

Usage::

    nice python benchmarks/auto_startup.py --suite sklearn --trials 50 --seeds 0-29 \\
        --samplers hpo_auto_qmc,hpo_auto:n_startup_trials=5 \\
        --out benchmarks/results/quality_sklearn_auto_startup.json
"""

from __future__ import annotations

import dataclasses
import functools
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _problems  # noqa: E402
import _runners  # noqa: E402
import quality  # noqa: E402

PROTOTYPES = ("hpo_auto_qmc", "hpo_auto_mix", "hpo_auto_stag")


def make_auto_qmc(seed: int, **kwargs: Any) -> Any:
    """An AutoSampler (``kwargs`` as its own) whose startup trials come from scrambled Sobol."""
    import hpo_core
    from hpo_core.samplers import AutoSampler, QMCSampler

    class _AutoQMC(AutoSampler):
        def __init__(self) -> None:
            super().__init__(seed=seed, **kwargs)
            self._n_startup = kwargs.get("n_startup_trials", 10)
            self._qmc = QMCSampler(scramble=True, seed=seed, warn_independent_sampling=False)

        def _startup(self, study: Any) -> bool:
            return bool(study.view.history.count(int(hpo_core.trial.TrialState.COMPLETE)) < self._n_startup)

        def before_trial(self, study: Any, trial: Any) -> None:
            super().before_trial(study, trial)  # records the rules' choice (after startup)
            if self._startup(study):
                self._qmc.before_trial(study, trial)

        def _sampler_for(self, study: Any, trial: Any) -> Any:
            return self._qmc if self._startup(study) else super()._sampler_for(study, trial)

    return _AutoQMC()


def _all_discrete(space: Any) -> bool:
    from hpo_core.distributions import KIND_CATEGORICAL

    return bool(len(space)) and bool(((space.kinds == KIND_CATEGORICAL) | (space.step > 0)).all())


def make_auto_mix(seed: int, *, every: int = 0, patience: int = 0, start: int = 10, **kwargs: Any) -> Any:
    """An AutoSampler that hands some trials of an all-discrete joint space to TPE where its
    rules pick the GP: every ``every``-th COMPLETE trial (``every`` > 0), each trial while
    the best value has not improved for ``patience`` COMPLETE trials (``patience`` > 0), or
    with both, every ``every``-th trial while it has not; from ``start`` COMPLETE trials on."""
    import numpy as np

    import hpo_core
    from hpo_core.samplers import AutoSampler

    complete = int(hpo_core.trial.TrialState.COMPLETE)

    class _AutoMix(AutoSampler):
        def choose(self, study: Any) -> str:
            choice = super().choose(study)
            h = study.view.history
            if choice != "gp" or h.count(complete) < start or not _all_discrete(h.intersection_search_space()):
                return choice
            if every and h.count(complete) % every != every - 1:
                return choice
            if not patience:
                return "tpe"
            if h.best_row < 0:
                return choice
            since = int(np.count_nonzero(h.states[h.best_row + 1:h.n] == complete))
            return "tpe" if since >= patience else choice

    return _AutoMix(seed=seed, **{"discrete_tpe_every": None, **kwargs})


def _run_sampler(kind: str, kwargs: dict[str, Any], problem: _problems.Problem, evaluate: Any,
                 seed: int, n_trials: int) -> Any:
    if kind == "hpo_auto_qmc":
        import hpo_core

        study = hpo_core.create_study(sampler=make_auto_qmc(seed, **kwargs))
        return _runners._ask_tell_loop(study, problem, evaluate, n_trials)
    if kind in ("hpo_auto_mix", "hpo_auto_stag"):
        import hpo_core

        study = hpo_core.create_study(sampler=make_auto_mix(seed, **kwargs))
        return _runners._ask_tell_loop(study, problem, evaluate, n_trials)
    return _ORIGINAL_RUN(kind, kwargs, problem, evaluate, seed, n_trials)


def _mlp_digits_hashable() -> _problems.Problem:
    problem = _ORIGINAL_MLP()

    def suggest(trial: Any) -> dict[str, Any]:
        params = problem.suggest(trial)
        return {**params, "widths": tuple(params["widths"])}

    return dataclasses.replace(problem, suggest=suggest)


_ORIGINAL_RUN = _runners.run_sampler
_ORIGINAL_MLP = _problems.SKLEARN_PROBLEMS["mlp_digits"]


def register() -> None:
    """Make ``quality.py`` know the prototypes (and hash ``mlp_digits``'s configurations)."""
    names = (*_runners.SAMPLERS, *PROTOTYPES)
    parse = functools.partial(_ORIGINAL_PARSE, names=names)
    _runners.parse_sampler = quality.parse_sampler = parse
    _runners.SAMPLERS = quality.SAMPLERS = names
    _runners.run_sampler = _run_sampler
    _problems.SKLEARN_PROBLEMS["mlp_digits"] = _mlp_digits_hashable


_ORIGINAL_PARSE = _runners.parse_sampler

if __name__ == "__main__":
    register()
    sys.exit(quality.main())
