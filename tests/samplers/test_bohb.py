"""What model-based samplers see under HyperbandPruner: every trial by default (as Optuna
5.0's samplers do under its HyperbandPruner), the asking trial's bracket with
``sampler_scope="bracket"``."""

from __future__ import annotations

import types

import numpy as np
import pytest

import hpo_core
from hpo_core import TrialState
from hpo_core.distributions import FloatDistribution
from hpo_core.pruners import HyperbandPruner, MedianPruner
from hpo_core.samplers import GPSampler, TPESampler, visible_rows
from hpo_core.samplers.tpe._ask_rows import n_finished
from hpo_core.trial import create_trial

X = FloatDistribution(0.0, 1.0)
TARGETS = {0: 0.1, 1: 0.9, 2: 0.9, 3: 0.9}  # the best x of each bracket


def _started(sampler: object, pruner: HyperbandPruner, name: str = "bohb") -> hpo_core.Study:
    """A study whose first trial's pruning decision set up the brackets (3 of them)."""
    study = hpo_core.create_study(study_name=name, sampler=sampler, pruner=pruner)
    trial = study.ask({"x": X})
    trial.report(0.5, 0)
    assert not trial.should_prune()
    study.tell(trial, 0.5)
    return study


def _bracket_of(pruner: HyperbandPruner, study: hpo_core.Study, number: int) -> int:
    return int(pruner._bracket_ids(study.study_name, number + 1)[number])


def _fill(study: hpo_core.Study, pruner: HyperbandPruner, n: int, seed: int) -> None:
    """n finished trials; in each bracket the value is smallest at that bracket's target."""
    rng = np.random.default_rng(seed)
    for _ in range(n):
        number = len(study.trials)
        x = float(rng.random())
        value = (x - TARGETS[_bracket_of(pruner, study, number)]) ** 2
        study.add_trial(create_trial(params={"x": x}, distributions={"x": X}, value=value))


def test_hyperband_rows_are_the_trials_bracket() -> None:
    pruner = HyperbandPruner(min_resource=1, max_resource=9, reduction_factor=3, sampler_scope="bracket")
    study = _started(TPESampler(seed=0), pruner)
    _fill(study, pruner, 60, seed=0)
    brackets = np.array([_bracket_of(pruner, study, i) for i in range(61)])
    assert set(brackets) == {0, 1, 2}
    for number in (0, 5, 17, 60):
        mask = pruner.sampler_rows(study, number)
        np.testing.assert_array_equal(mask, brackets == brackets[number])
    # Another pruner leaves every row to the sampler; so does no trial.
    assert MedianPruner().sampler_rows(study, 3) is None
    assert visible_rows(study, None) is None


def test_hyperband_rows_before_the_brackets_exist_are_all() -> None:
    # max_resource="auto": set up after a trial completed
    pruner = HyperbandPruner(sampler_scope="bracket")
    study = hpo_core.create_study(sampler=TPESampler(seed=0), pruner=pruner)
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    assert visible_rows(study, study.ask()) is None


def test_brackets_match_optuna() -> None:
    optuna = pytest.importorskip("optuna", reason="optuna is not installed: the brackets are compared with Optuna 5.0's")
    pruner = HyperbandPruner(min_resource=1, max_resource=27, reduction_factor=3, sampler_scope="bracket")
    study = _started(TPESampler(seed=0), pruner, name="brackets-vs-optuna")
    _fill(study, pruner, 199, seed=1)
    theirs = optuna.pruners.HyperbandPruner(min_resource=1, max_resource=27, reduction_factor=3)
    theirs._try_initialization(None)  # an int max_resource needs no trials
    named = types.SimpleNamespace(study_name="brackets-vs-optuna")
    ids = np.array([theirs._get_bracket_id(named, types.SimpleNamespace(number=i)) for i in range(200)])
    for number in range(0, 200, 7):
        np.testing.assert_array_equal(pruner.sampler_rows(study, number), ids == ids[number])


def _proposals(sampler: object, n_fill: int, n_asks: int) -> list[tuple[int, float]]:
    pruner = HyperbandPruner(min_resource=1, max_resource=9, reduction_factor=3, sampler_scope="bracket")
    study = _started(sampler, pruner)
    _fill(study, pruner, n_fill, seed=2)
    out = []
    for _ in range(n_asks):
        trial = study.ask({"x": X})
        out.append((_bracket_of(pruner, study, trial.number), trial.params["x"]))
        study.tell(trial, state=TrialState.FAIL)  # leaves the model's data as it was
    return out


@pytest.mark.parametrize(
    ("make", "n_asks"),
    [(lambda: TPESampler(n_startup_trials=5, seed=3), 60), (lambda: GPSampler(n_startup_trials=5, seed=3), 12)],
    ids=["tpe", "gp"],
)
def test_samplers_model_the_trials_bracket(make, n_asks: int) -> None:
    # Bracket 0's trials are best at x = 0.1, the others' at x = 0.9: a sampler that sees
    # only the asking trial's bracket proposes near that bracket's target; one that saw
    # every trial would mix both.
    proposals = _proposals(make(), n_fill=80, n_asks=n_asks)
    errors = {b: [abs(x - TARGETS[b]) for bb, x in proposals if bb == b] for b in (0, 1, 2)}
    near_0, near_9 = errors[0], errors[1] + errors[2]
    assert near_0 and near_9
    assert np.median(near_0) < 0.15, errors
    assert np.median(near_9) < 0.15, errors


def test_tpe_counts_startup_trials_per_bracket() -> None:
    pruner = HyperbandPruner(min_resource=1, max_resource=9, reduction_factor=3, sampler_scope="bracket")
    study = _started(TPESampler(seed=0), pruner)
    _fill(study, pruner, 40, seed=4)
    trial = study.ask()
    mask = pruner.sampler_rows(study, trial.number)
    finished = np.isin(study.view.history.states[: len(mask)], [int(TrialState.COMPLETE), int(TrialState.PRUNED)])
    n = n_finished(study, study.view.history, trial)
    assert n == int((finished & mask).sum()) < int(finished.sum())


def test_default_scope_models_every_trial() -> None:
    pruner = HyperbandPruner(min_resource=1, max_resource=9, reduction_factor=3)
    study = _started(TPESampler(seed=0), pruner)
    _fill(study, pruner, 40, seed=4)
    trial = study.ask()
    assert len({_bracket_of(pruner, study, i) for i in range(trial.number + 1)}) == 3
    assert pruner.sampler_rows(study, trial.number) is None
    assert visible_rows(study, trial) is None
    finished = np.isin(study.view.history.states, [int(TrialState.COMPLETE), int(TrialState.PRUNED)])
    assert n_finished(study, study.view.history, trial) == int(finished.sum()) == 41


def test_optuna_samplers_read_every_bracket() -> None:
    # The default follows what Optuna 5.0 does, not what its bracket study's docstring says:
    # its TPESampler reads the trials through study._get_trials, which the bracket study
    # leaves unfiltered, while the public get_trials is filtered.
    optuna = pytest.importorskip("optuna", reason="optuna is not installed: its samplers' view is checked on Optuna 5.0")
    seen: list[tuple[int, int]] = []

    class Counting(optuna.samplers.TPESampler):
        def sample_relative(self, study, trial, search_space):  # type: ignore[no-untyped-def]
            states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
            seen.append((len(study._get_trials(deepcopy=False, states=states)),
                         len(study.get_trials(deepcopy=False, states=states))))
            return super().sample_relative(study, trial, search_space)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    theirs = optuna.create_study(sampler=Counting(seed=0), pruner=optuna.pruners.HyperbandPruner(
        min_resource=1, max_resource=9, reduction_factor=3))

    def objective(trial):  # type: ignore[no-untyped-def]
        x = trial.suggest_float("x", 0, 1)
        for step in range(9):
            trial.report(x * (9 - step), step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return x

    theirs.optimize(objective, n_trials=40)
    assert all(n_all == number for (n_all, _), number in zip(seen, range(40)))
    assert any(n_bracket < n_all for n_all, n_bracket in seen)


def test_bad_sampler_scope_is_named() -> None:
    with pytest.raises(ValueError, match="`sampler_scope` must be 'study' or 'bracket', but got 'trials'"):
        HyperbandPruner(sampler_scope="trials")
