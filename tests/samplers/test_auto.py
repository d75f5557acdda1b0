from __future__ import annotations

import math
import pickle
import subprocess
import sys
from typing import Any

import numpy as np
import pytest

import hpo_core
from hpo_core.distributions import FloatDistribution, SearchSpace
from hpo_core.samplers import AutoSampler, RandomSampler
from hpo_core.testing import SamplerContract
from hpo_core.trial import Trial

# Small GP settings keep the file fast; the rules do not depend on them.
_GP_FAST = {"n_candidates": 128, "n_starts": 2}


def _auto(seed: int = 0, **kwargs: Any) -> AutoSampler:
    kwargs.setdefault("n_startup_trials", 5)
    return AutoSampler(seed=seed, gp_kwargs=_GP_FAST, **kwargs)


class TestAutoSamplerContract(SamplerContract):
    # The contract's 30 trials cross the switch, so both samplers and the hand-over run.
    def make_sampler(self, seed: int) -> AutoSampler:
        return _auto(seed, max_gp_trials=15)


def _sphere(trial: Trial) -> float:
    x = trial.suggest_float("x", -5.0, 5.0)
    y = trial.suggest_float("y", -5.0, 5.0)
    return (x - 1.0) ** 2 + (y + 2.0) ** 2


def _choices(sampler: AutoSampler, objective: Any, n_trials: int, **study_kwargs: Any) -> list[str]:
    """Run ``n_trials`` by ask/tell and return the sampler chosen for each."""
    study = hpo_core.create_study(sampler=sampler, **study_kwargs)
    out = []
    for _ in range(n_trials):
        trial = study.ask()
        out.append(sampler.last_choice)
        study.tell(trial, objective(trial))
    return out


def test_auto_continuous_space_uses_gp_before_the_switch_and_tpe_after() -> None:
    choices = _choices(_auto(max_gp_trials=12), _sphere, 20)
    assert choices == ["gp"] * 12 + ["tpe"] * 8


def test_auto_default_switch_is_documented_1000() -> None:
    assert AutoSampler()._max_gp_trials == 1000


def test_auto_multi_objective_uses_tpe() -> None:
    def two(trial: Trial) -> tuple[float, float]:
        x = trial.suggest_float("x", 0.0, 1.0)
        return x, 1.0 - x

    assert set(_choices(_auto(), two, 12, directions=["minimize", "minimize"])) == {"tpe"}


def test_auto_mostly_categorical_space_stays_with_gp() -> None:
    # Measured on the discrete suite, the GP beat TPE where the space is mostly or only
    # categorical (the AutoSampler docstring, rule 5): no switch on the categorical share.
    def objective(trial: Trial) -> float:
        a = trial.suggest_categorical("a", ["p", "q", "r"])
        b = trial.suggest_categorical("b", [1, 2, 3])
        x = trial.suggest_float("x", 0.0, 1.0)
        return (a == "q") + (b == 2) + x

    def only_categorical(trial: Trial) -> float:
        return sum(trial.suggest_categorical(f"c{i}", ["u", "v", "w"]) == "v" for i in range(4))

    assert set(_choices(_auto(), objective, 8)) == {"gp"}
    assert set(_choices(_auto(), only_categorical, 8)) == {"gp"}


def test_auto_few_categoricals_and_constant_parameters_stay_with_gp() -> None:
    def objective(trial: Trial) -> float:
        c = trial.suggest_categorical("c", ["p", "q"])
        trial.suggest_categorical("only", ["z"])  # one value: counts for neither side
        trial.suggest_float("fixed", 1.0, 1.0)
        return (c == "q") + _sphere(trial)

    assert set(_choices(_auto(), objective, 8)) == {"gp"}


def _grid(trial: Trial) -> float:
    # Every parameter discrete: an int, a categorical and a stepped float.
    a = trial.suggest_int("a", 0, 9)
    b = trial.suggest_categorical("b", ["p", "q", "r"])
    c = trial.suggest_float("c", 0.0, 1.0, step=0.25)
    return (a - 3) ** 2 + (b == "q") + c


def _flat_grid(trial: Trial) -> float:
    _grid(trial)
    return 1.0  # the first trial stays the best: the study never improves


def _every_fourth_from_25(n_trials: int) -> list[str]:
    # Sequential trials: trial i starts with i COMPLETE trials.
    return ["tpe" if i >= 25 and i % 4 == 3 else "gp" for i in range(n_trials)]


def test_auto_all_discrete_space_hands_every_fourth_trial_to_tpe_from_25() -> None:
    assert _choices(_auto(), _flat_grid, 40) == _every_fourth_from_25(40)
    assert _choices(_auto(discrete_tpe_every=1), _flat_grid, 30) == ["gp"] * 25 + ["tpe"] * 5
    assert set(_choices(_auto(discrete_tpe_every=None), _flat_grid, 32)) == {"gp"}


def test_auto_discrete_tpe_trials_wait_for_ten_trials_without_a_new_best() -> None:
    def improving(trial: Trial) -> float:
        _grid(trial)
        return -trial.number  # a new best every trial

    assert set(_choices(_auto(), improving, 36)) == {"gp"}
    # A real objective: trial i goes to TPE exactly when i >= 25, i % 4 == 3 and at
    # least 10 trials have completed since the best of trials 0..i-1.
    study = hpo_core.create_study(sampler=_auto(seed=3))
    choices, values = [], []
    for _ in range(60):
        trial = study.ask()
        choices.append(study.sampler.last_choice)
        values.append(_grid(trial))
        study.tell(trial, values[-1])
    expected = ["tpe" if i >= 25 and i % 4 == 3 and i - 1 - int(np.argmin(values[:i])) >= 10 else "gp"
                for i in range(60)]
    assert choices == expected
    assert "tpe" in choices


def test_auto_a_continuous_parameter_keeps_every_trial_with_the_gp() -> None:
    def mixed(trial: Trial) -> float:
        return _grid(trial) + trial.suggest_float("x", 0.0, 1.0)

    assert set(_choices(_auto(), mixed, 32)) == {"gp"}
    assert set(_choices(_auto(), _sphere, 32)) == {"gp"}


def test_auto_pickle_from_before_discrete_tpe_every_keeps_the_gp() -> None:
    state = _auto().__getstate__()
    del state["_discrete_tpe_every"]
    old = AutoSampler.__new__(AutoSampler)
    old.__setstate__(state)
    assert set(_choices(old, _flat_grid, 32)) == {"gp"}
    new = pickle.loads(pickle.dumps(_auto()))
    assert _choices(new, _flat_grid, 32) == _every_fourth_from_25(32)


def _svm_or_forest(trial: Trial) -> float:
    if trial.suggest_categorical("kind", ["svm", "forest"]) == "svm":
        return math.log10(trial.suggest_float("C", 1e-3, 1e3, log=True)) ** 2
    return abs(trial.suggest_int("depth", 1, 20) - 5) + trial.suggest_float("frac", 0.0, 1.0)


def test_auto_conditional_space_uses_tpe() -> None:
    choices = _choices(_auto(), _svm_or_forest, 10)
    assert choices[0] == "gp" and set(choices[4:]) == {"tpe"}


@pytest.mark.parametrize(("tpe_kwargs", "directions", "expected"), [
    (None, ["minimize"], {"kind", "C", "depth", "frac"}),  # group=True: each group jointly
    ({"group": False}, ["minimize"], {"kind"}),  # the joint space; the rest univariately
    ({"multivariate": False}, ["minimize"], set()),
    (None, ["minimize", "minimize"], set()),  # several objectives: TPE's default
])
def test_auto_tpe_models_conditional_groups_jointly(tpe_kwargs: Any, directions: list[str],
                                                    expected: set[str]) -> None:
    sampler = _auto(tpe_kwargs=tpe_kwargs)
    study = hpo_core.create_study(sampler=sampler, directions=directions)
    for _ in range(10):
        trial = study.ask()
        value = _svm_or_forest(trial)
        study.tell(trial, value if len(directions) == 1 else [value, -value])
    trial = study.ask()
    assert sampler.last_choice == "tpe"
    assert set(sampler.infer_relative_search_space(study, trial).names) == expected


def test_auto_tpe_on_an_unconditional_space_is_the_default_tpe() -> None:
    # group=True changes nothing where one group holds every parameter.
    runs = []
    for sampler in (_auto(3, max_gp_trials=0), hpo_core.samplers.TPESampler(seed=4, n_startup_trials=5)):
        study = hpo_core.create_study(sampler=sampler)
        study.optimize(_sphere, n_trials=20)
        runs.append([t.params for t in study.trials])
    assert runs[0] == runs[1]


def _conditional_objective(n_always: int, n_conditional: int) -> Any:
    def objective(trial: Trial) -> float:
        v = sum(trial.suggest_float(f"x{i}", -1.0, 1.0) ** 2 for i in range(n_always))
        if trial.params["x0"] > 0:
            v += sum(trial.suggest_float(f"extra{i}", 0.0, 1.0) for i in range(n_conditional))
        return v

    return objective


@pytest.mark.parametrize(("n_always", "n_conditional", "expected"), [
    (4, 1, "gp"),  # the joint space holds 4/5 of the parameters
    (5, 2, "gp"),  # 5/7, mlp_digits' shape
    (2, 1, "gp"),  # 2/3: the threshold itself
    (3, 2, "tpe"),  # 3/5, svc_digits' shape
    (1, 1, "tpe"),  # 1/2
])
def test_auto_share_of_conditional_parameters_decides(n_always: int, n_conditional: int, expected: str) -> None:
    # Once a trial with x0 > 0 has finished (within the first 5), every later choice
    # sees all the parameters.
    choices = _choices(_auto(), _conditional_objective(n_always, n_conditional), 12)
    assert set(choices[8:]) == {expected}


class _CountingConstraint:
    """Picklable constraints_func that counts its calls: feasible when x + y <= 0."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, frozen: Any) -> list[float]:
        self.calls += 1
        return [frozen.params["x"] + frozen.params["y"]]


def test_auto_constraints_reach_both_samplers_and_are_computed_once_per_trial() -> None:
    func = _CountingConstraint()
    sampler = _auto(max_gp_trials=10, constraints_func=func)
    study = hpo_core.create_study(sampler=sampler)
    study.optimize(_sphere, n_trials=16)
    assert func.calls == 16  # once per trial, whichever sampler served it
    assert all(len(t.system_attrs["constraints"]) == 1 for t in study.trials)
    assert sampler.last_choice == "tpe"
    # The constrained optimum is (1.5, -1.5) with value 0.5; both models steer to it.
    late = study.trials[-6:]
    assert sum(t.system_attrs["constraints"][0] <= 0.0 for t in late) >= 3


def test_auto_choice_holds_for_the_whole_trial() -> None:
    sampler = _auto(max_gp_trials=6)
    study = hpo_core.create_study(sampler=sampler)
    study.optimize(_sphere, n_trials=5)
    open_trial = study.ask()  # 5 COMPLETE < 6: the GP serves this trial ...
    assert sampler.last_choice == "gp"
    study.optimize(_sphere, n_trials=3)  # ... though the study crosses the switch meanwhile
    assert sampler.last_choice == "tpe"
    calls: list[str] = []
    gp_joint = sampler._gp.sample_joint

    def spy(*args: Any) -> np.ndarray:
        calls.append("gp")
        return gp_joint(*args)

    sampler._gp.sample_joint = spy  # type: ignore[method-assign]
    value = _sphere(open_trial)
    study.tell(open_trial, value)
    assert calls == ["gp"]


def test_auto_switch_mid_study_with_batches_and_fixed_spaces() -> None:
    sampler = _auto(max_gp_trials=15)
    study = hpo_core.create_study(sampler=sampler)
    space = SearchSpace({"x": FloatDistribution(-5.0, 5.0), "y": FloatDistribution(-5.0, 5.0)})
    seen = set()
    for _ in range(6):
        batch = study.ask(space, n=4)  # 4 trials at a time: the switch falls inside one
        seen.add(sampler.last_choice)
        for t in batch:
            assert -5.0 <= t.params["x"] <= 5.0 and -5.0 <= t.params["y"] <= 5.0
            study.tell(t, (t.params["x"] - 1.0) ** 2 + (t.params["y"] + 2.0) ** 2)
    assert seen == {"gp", "tpe"}
    assert len({(t.params["x"], t.params["y"]) for t in study.trials}) == 24
    assert study.best_value < 1.0


def test_auto_reproducible_with_a_seed_across_the_switch() -> None:
    def run(seed: int) -> list[dict[str, Any]]:
        study = hpo_core.create_study(sampler=_auto(seed, max_gp_trials=8))
        study.optimize(_sphere, n_trials=14)
        return [t.params for t in study.trials]

    assert run(3) == run(3)
    assert run(3) != run(4)


def test_auto_pickle_after_the_switch_continues_the_stream() -> None:
    studies = []
    for _ in range(2):  # equal seeds: equal studies
        study = hpo_core.create_study(sampler=_auto(max_gp_trials=8))
        study.optimize(_sphere, n_trials=10)
        studies.append(study)
    clone = pickle.loads(pickle.dumps(studies[1].sampler))
    assert clone.last_choice == "tpe"
    studies[1].sampler = clone
    for study in studies:
        study.optimize(_sphere, n_trials=3)
    assert [t.params for t in studies[0].trials] == [t.params for t in studies[1].trials]


def test_auto_pickle_from_before_the_second_tpe_loads_with_one_tpe() -> None:
    # Pickles made before AutoSampler kept a TPE of its own for several objectives carry
    # one TPE sampler; it goes on serving every study, as it did then.
    sampler = _auto(max_gp_trials=8)
    state = sampler.__getstate__()
    del state["_tpe_mo"]
    old = AutoSampler.__new__(AutoSampler)
    old.__setstate__(state)
    assert old._tpe_mo is old._tpe
    study = hpo_core.create_study(directions=["minimize", "minimize"], sampler=old)
    study.optimize(lambda t: (t.suggest_float("x", 0, 1), t.suggest_float("y", 0, 1)), n_trials=12)
    assert len(study.trials) == 12 and old.last_choice == "tpe"


def test_auto_beats_random_at_the_median_over_seeds() -> None:
    auto, rnd = [], []
    for seed in range(5):
        s = hpo_core.create_study(sampler=_auto(seed))
        s.optimize(_sphere, n_trials=25)
        auto.append(s.best_value)
        r = hpo_core.create_study(sampler=RandomSampler(seed=seed))
        r.optimize(_sphere, n_trials=25)
        rnd.append(r.best_value)
    assert np.median(auto) < 0.2 * np.median(rnd)


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"max_gp_trials": -1}, ValueError, "max_gp_trials"),
        ({"max_gp_trials": 2.5}, TypeError, "max_gp_trials"),
        ({"n_startup_trials": -1}, ValueError, "n_startup_trials"),
        ({"discrete_tpe_every": 0}, ValueError, "discrete_tpe_every"),
        ({"discrete_tpe_every": 2.5}, TypeError, "discrete_tpe_every"),
        ({"constraints_func": 3}, TypeError, "constraints_func"),
        ({"seed": -1}, ValueError, "seed"),
        ({"gp_kwargs": [("n_starts", 2)]}, TypeError, "gp_kwargs"),
        ({"gp_kwargs": {"seed": 1}}, ValueError, "gp_kwargs"),
        ({"tpe_kwargs": {"n_startup_trials": 1}}, ValueError, "tpe_kwargs"),
        ({"tpe_kwargs": {"bogus": 1}}, ValueError, "tpe_kwargs"),
        ({"gp_kwargs": {"n_candidates": 0}}, ValueError, "n_candidates"),
        ({"tpe_kwargs": {"n_ei_candidates": "many"}}, TypeError, "n_ei_candidates"),
    ],
)
def test_auto_rejects_bad_arguments_by_name(kwargs: dict[str, Any], error: type, name: str) -> None:
    with pytest.raises(error, match=name):
        AutoSampler(**kwargs)


def test_auto_import_stays_lazy() -> None:
    code = ("import sys, hpo_core; assert 'hpo_core.samplers.gp' not in sys.modules; "
            "hpo_core.samplers.AutoSampler; assert 'hpo_core.samplers.gp' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
