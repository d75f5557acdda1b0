from __future__ import annotations

import math
import pickle
import threading
from typing import Any

import numpy as np
import pytest

import hpo_core
from hpo_core import kernels
from hpo_core.distributions import CategoricalDistribution, FloatDistribution, IntDistribution, SearchSpace
from hpo_core.samplers import RandomSampler, TPESampler
from hpo_core.samplers.tpe import _parzen
from hpo_core.samplers.tpe._ask_rows import violations
from hpo_core.testing import SamplerContract
from hpo_core.trial import Trial, TrialState


class TestTPESamplerContract(SamplerContract):
    def make_sampler(self, seed: int) -> TPESampler:
        return TPESampler(seed=seed, n_startup_trials=5)


def _sphere(trial: Trial) -> float:
    x = trial.suggest_float("x", -5.0, 5.0)
    y = trial.suggest_float("y", -5.0, 5.0)
    return (x - 1.0) ** 2 + (y + 2.0) ** 2


def _best(sampler: Any, objective: Any, n_trials: int, **kwargs: Any) -> float:
    study = hpo_core.create_study(sampler=sampler, **kwargs)
    study.optimize(objective, n_trials=n_trials)
    return study.best_value


def test_tpe_beats_random_at_the_median_over_seeds() -> None:
    tpe = [_best(TPESampler(seed=s), _sphere, 60) for s in range(7)]
    rnd = [_best(RandomSampler(seed=s), _sphere, 60) for s in range(7)]
    assert np.median(tpe) < 0.5 * np.median(rnd)


@pytest.mark.parametrize("multivariate", [True, False])
def test_tpe_univariate_and_multivariate_converge(multivariate: bool) -> None:
    values = [_best(TPESampler(seed=s, multivariate=multivariate), _sphere, 60) for s in range(3)]
    assert np.median(values) < 0.5


@pytest.mark.parametrize("prior_weight", [1.0, 0.0])
@pytest.mark.parametrize("multivariate", [True, False])
def test_tpe_every_distribution_kind_stays_inside(prior_weight: float, multivariate: bool) -> None:
    dists = {
        "float": FloatDistribution(-3.0, 5.0),
        "log": FloatDistribution(1e-5, 1e2, log=True),
        "step": FloatDistribution(0.0, 1.0, step=0.25),
        "int": IntDistribution(-4, 9),
        "log_int": IntDistribution(1, 1000, log=True),
        "int_step": IntDistribution(0, 20, step=5),
        "cat": CategoricalDistribution([None, True, 3, 2.5, "s"]),
    }
    sampler = TPESampler(seed=0, n_startup_trials=3, prior_weight=prior_weight, multivariate=multivariate)
    study = hpo_core.create_study(sampler=sampler)
    seen: dict[str, set[Any]] = {name: set() for name in dists}
    for _ in range(40):
        trial = study.ask()
        value = 0.0
        for name, dist in dists.items():
            v = trial._suggest(name, dist)
            assert dist.contains(dist.to_internal_repr(v)), (name, v)
            seen[name].add(v if name != "cat" else repr(v))
            value += float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else 0.0
        study.tell(trial, value)
    if prior_weight > 0:  # without the prior, l proposes observed categories only
        assert len(seen["cat"]) >= 3
    assert len(seen["step"]) >= 3 and len(seen["int_step"]) >= 3


def test_tpe_finds_the_best_category_and_int() -> None:
    def objective(trial: Trial) -> float:
        c = trial.suggest_categorical("c", ["a", "b", "c", "d", "e"])
        n = trial.suggest_int("n", 1, 1000, log=True)
        return (0.0 if c == "d" else 1.0) + abs(math.log(n) - math.log(30))

    study = hpo_core.create_study(sampler=TPESampler(seed=0))
    study.optimize(objective, n_trials=60)
    late = [t.params["c"] for t in study.trials[-20:]]
    assert late.count("d") >= 7  # random: 4 expected
    assert study.best_value < 0.3


def test_tpe_reproducible_sequence_with_seed() -> None:
    def params(seed: int) -> list[dict[str, Any]]:
        study = hpo_core.create_study(sampler=TPESampler(seed=seed))
        study.optimize(_sphere, n_trials=25)
        return [t.params for t in study.trials]

    assert params(3) == params(3)
    assert params(3) != params(4)


def test_tpe_pickle_round_trip_continues_after_startup() -> None:
    study = hpo_core.create_study(sampler=TPESampler(seed=0))
    study.optimize(_sphere, n_trials=15)
    clone = pickle.loads(pickle.dumps(study.sampler))
    trial_a = study.ask()
    a = (trial_a.suggest_float("x", -5.0, 5.0), trial_a.suggest_float("y", -5.0, 5.0))
    study.tell(trial_a, state=TrialState.FAIL)  # FAIL trials are ignored
    study.sampler = clone
    trial_b = study.ask()
    b = (trial_b.suggest_float("x", -5.0, 5.0), trial_b.suggest_float("y", -5.0, 5.0))
    assert a == b


def _min_pairwise(points: np.ndarray) -> float:
    d = np.sqrt(((points[:, None] - points[None]) ** 2).sum(-1))
    return float(d[np.triu_indices(len(points), 1)].min())


def test_tpe_batch_of_eight_is_diverse_with_constant_liar() -> None:
    space = SearchSpace({"x": FloatDistribution(-5.0, 5.0), "y": FloatDistribution(-5.0, 5.0)})
    spread = {}
    for liar in (True, False):
        dists = []
        for seed in range(4):
            study = hpo_core.create_study(sampler=TPESampler(seed=seed, constant_liar=liar))
            for _ in range(30):
                t = study.ask(space)
                study.tell(t, (t.params["x"] - 1) ** 2 + (t.params["y"] + 2) ** 2)
            batch = study.ask(space, n=8)
            dists.append(_min_pairwise(np.array([[t.params["x"], t.params["y"]] for t in batch])))
        spread[liar] = float(np.median(dists))
    assert spread[True] > 2.0 * spread[False]


def test_tpe_group_never_mixes_parameters_that_do_not_co_occur() -> None:
    def objective(trial: Trial) -> float:
        kind = trial.suggest_categorical("kind", ["a", "b"])
        if kind == "a":
            return (trial.suggest_float("a1", 0, 1) - 0.3) ** 2 + trial.suggest_float("a2", 0, 1)
        return trial.suggest_int("b1", 0, 10) / 10 + 0.2

    sampler = TPESampler(seed=0, group=True, multivariate=True)
    seen_groups: list[set[str]] = []
    original = sampler._sample_space

    def spy(study: Any, h: Any, trial: Any, space: SearchSpace, **kwargs: Any) -> np.ndarray:
        seen_groups.append(set(space.names))
        return original(study, h, trial, space, **kwargs)

    sampler._sample_space = spy  # type: ignore[method-assign]
    study = hpo_core.create_study(sampler=sampler)
    study.optimize(objective, n_trials=40)
    allowed = [{"kind"}, {"a1", "a2"}, {"b1"}]
    assert seen_groups and all(g in allowed for g in seen_groups)
    assert {"a1", "a2"} in seen_groups and {"b1"} in seen_groups
    for t in study.trials:
        assert ("a1" in t.params) == (t.params["kind"] == "a")
        assert ("b1" in t.params) == (t.params["kind"] == "b")


def test_tpe_group_on_an_unconditional_space_is_the_multivariate_sampler() -> None:
    # One group holds every parameter: the same proposals, draw for draw, as the joint
    # (multivariate) mode, as in Optuna, where group mode splits nothing here.
    def objective(trial: Trial) -> float:
        x = trial.suggest_float("x", -5, 5)
        n = trial.suggest_int("n", 1, 64, log=True)
        return x**2 + abs(np.log2(n) - 3) + (trial.suggest_categorical("c", ["a", "b", "c"]) != "b")

    runs = []
    for group in (False, True):
        study = hpo_core.create_study(sampler=TPESampler(seed=3, group=group))
        study.optimize(objective, n_trials=40)
        runs.append([t.params for t in study.trials])
    assert runs[0] == runs[1]


def test_tpe_conditional_parameters_sampled_independently_without_group() -> None:
    def objective(trial: Trial) -> float:
        if trial.suggest_categorical("kind", ["a", "b"]) == "a":
            return trial.suggest_float("a1", 0, 1)
        return 0.5 + trial.suggest_float("b1", 0, 1)

    study = hpo_core.create_study(sampler=TPESampler(seed=0))
    study.optimize(objective, n_trials=40)
    assert study.best_value < 0.1


def test_tpe_constraints_prefer_feasible_trials() -> None:
    def objective(trial: Trial) -> float:
        x = trial.suggest_float("x", -5.0, 5.0)
        y = trial.suggest_float("y", -5.0, 5.0)
        trial.set_user_attr("c", 1.0 - x)  # feasible iff x >= 1
        return x**2 + y**2

    def constraints(frozen: Any) -> list[float]:
        return [frozen.user_attrs["c"]]

    feasible = {False: 0, True: 0}
    for seed in range(4):
        for func in (constraints, None):
            study = hpo_core.create_study(sampler=TPESampler(seed=seed, constraints_func=func))
            study.optimize(objective, n_trials=60)
            feasible[func is None] += sum(t.params["x"] >= 1.0 for t in study.trials[-20:])
            if func is not None:
                assert all(t.system_attrs["constraints"] == [1.0 - t.params["x"]] for t in study.trials)
    # The unconstrained optimum x = 0 is infeasible: without constraints late trials
    # cluster there; with them they gather at the feasible optimum x = 1, y = 0, on and
    # beside the boundary (random: 32 of 80 feasible; measured 42 with, 11 without).
    assert feasible[False] >= 36 and feasible[False] >= feasible[True] + 20


def test_tpe_pruned_trials_rank_after_complete_by_last_value() -> None:
    study = hpo_core.create_study(sampler=TPESampler(seed=0, n_startup_trials=5))
    for i in range(30):
        trial = study.ask()
        x = trial.suggest_float("x", 0.0, 1.0)
        trial.report(x, 0)
        if i % 3 == 0:
            study.tell(trial, state=TrialState.PRUNED)
        else:
            study.tell(trial, x)
    assert study.best_value < 0.1


def test_tpe_maximize() -> None:
    best = _best(TPESampler(seed=0), lambda t: -_sphere(t), 60, direction="maximize")
    assert best > -0.5


def test_tpe_optimize_with_four_jobs() -> None:
    study = hpo_core.create_study(sampler=TPESampler(seed=0))
    study.optimize(_sphere, n_trials=60, n_jobs=4)
    assert len(study.trials) == 60 and all(t.state == TrialState.COMPLETE for t in study.trials)
    assert study.best_value < 2.0


def test_tpe_threads_on_one_study() -> None:
    study = hpo_core.create_study(sampler=TPESampler(seed=0))
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(15):
                t = study.ask()
                study.tell(t, _sphere(t))
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(study.trials) == 60 and all(t.state == TrialState.COMPLETE for t in study.trials)


def test_tpe_bad_mixture_cap_exact_below_and_close_above() -> None:
    def run(cap: int) -> list[dict[str, Any]]:
        study = hpo_core.create_study(sampler=TPESampler(seed=0, max_bad_components=cap))
        study.optimize(_sphere, n_trials=40)
        return [t.params for t in study.trials]

    # 40 trials: at most 39 bad observations, so a cap of 40 changes nothing.
    assert run(40) == run(10_000)
    study = hpo_core.create_study(sampler=TPESampler(seed=0, max_bad_components=8))
    study.optimize(_sphere, n_trials=60)
    assert study.best_value < 1.0


def test_tpe_systematic_resample_is_proportional() -> None:
    w = np.array([1.0, 3.0, 0.0, 4.0])
    idx = _parzen.systematic_resample(w, 8, 0.5)
    np.testing.assert_array_equal(np.bincount(idx, minlength=4), [1, 3, 0, 4])


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"n_startup_trials": -1}, "n_startup_trials"),
        ({"n_ei_candidates": 0}, "n_ei_candidates"),
        ({"gamma": 3}, "gamma"),
        ({"weights": "x"}, "weights"),
        ({"prior_weight": -0.5}, "prior_weight"),
        ({"consider_endpoints": 1}, "consider_endpoints"),
        ({"consider_magic_clip": "yes"}, "consider_magic_clip"),
        ({"multivariate": "yes"}, "multivariate"),
        ({"group": True, "multivariate": False}, "group"),
        ({"constant_liar": 0}, "constant_liar"),
        ({"constraints_func": 1}, "constraints_func"),
        ({"max_bad_components": 1}, "max_bad_components"),
        ({"seed": -1}, "seed"),
    ],
)
def test_tpe_bad_argument_rejected_with_its_name(kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises((ValueError, TypeError), match=f"`{name}`"):
        TPESampler(**kwargs)


@pytest.mark.filterwarnings("ignore::hpo_core.exceptions.FailedTrialWarning")
def test_tpe_bad_gamma_result_rejected_with_message() -> None:
    study = hpo_core.create_study(sampler=TPESampler(seed=0, gamma=lambda n: n + 5, n_startup_trials=2))
    with pytest.raises(ValueError, match="gamma"):
        study.optimize(_sphere, n_trials=5)


def _hv_2d(points: np.ndarray, ref: np.ndarray) -> float:
    pts = points[np.all(points < ref, axis=1)]
    pts = pts[np.argsort(pts[:, 0])]
    hv, best_f2 = 0.0, ref[1]
    for f1, f2 in pts:
        if f2 < best_f2:
            hv += (ref[0] - f1) * (best_f2 - f2)
            best_f2 = f2
    return hv


def _two_objectives(trial: Trial) -> tuple[float, float]:
    x = trial.suggest_float("x", 0.0, 1.0)
    y = trial.suggest_float("y", 0.0, 1.0)
    z = trial.suggest_int("z", 0, 10)
    g = 1.0 + (y - 0.5) ** 2 + z / 10
    return x * g, (1.0 - np.sqrt(x)) * g


@pytest.mark.parametrize("multivariate", [None, True])
def test_tpe_multi_objective_beats_random_in_hypervolume(multivariate: bool | None) -> None:
    ref = np.array([1.5, 1.5])

    def hv(sampler: Any) -> float:
        study = hpo_core.create_study(sampler=sampler, directions=["minimize", "minimize"])
        study.optimize(_two_objectives, n_trials=60)
        for t in study.trials:
            assert 0.0 <= t.params["x"] <= 1.0 and t.params["z"] in range(11)
        return _hv_2d(np.array([t.values for t in study.trials]), ref)

    tpe = [hv(TPESampler(seed=s, multivariate=multivariate)) for s in range(5)]
    rnd = [hv(RandomSampler(seed=s)) for s in range(5)]
    assert np.median(tpe) > np.median(rnd)


def test_tpe_multi_objective_with_maximize_and_constraints_runs() -> None:
    study = hpo_core.create_study(
        sampler=TPESampler(seed=0, constraints_func=lambda t: [t.params["x"] - 0.8]),
        directions=["minimize", "maximize"],
    )
    study.optimize(lambda t: (t.suggest_float("x", 0, 1), t.suggest_float("y", 0, 1)), n_trials=30)
    assert len(study.best_trials) >= 1


@pytest.mark.parametrize("n", [0, 1, 24, 25, 26, 27, 1000])
def test_tpe_default_weights_equal_optuna_formula(n: int) -> None:
    from hpo_core.samplers.tpe import default_weights

    expected = np.ones(n) if n < 25 else np.concatenate((np.linspace(1.0 / n, 1.0, num=n - 25), np.ones(25)))
    np.testing.assert_allclose(default_weights(n), expected, rtol=1e-14)


def test_tpe_split_hint_gives_the_same_good_group() -> None:
    from hpo_core.samplers.tpe._observations import good_rows_single_objective

    rng = np.random.default_rng(0)
    states = rng.choice(np.array([0, 1, 1, 1, 2, 3], dtype=np.int8), size=500)
    score = rng.integers(0, 40, 500).astype(float)  # ties at the boundary of the good group
    kw: dict[str, Any] = {"violation": None, "last_step": None, "last_value": None}
    exact = good_rows_single_objective(states, score, 26, **kw)
    complete = np.flatnonzero(states == 1)
    np.testing.assert_array_equal(exact, np.sort(complete[np.argsort(score[complete], kind="stable")[:26]]))
    worst = score[exact].max()
    for hint in (worst, worst + 0.5, 0.0, np.inf):  # 0.0: too few rows, falls back
        np.testing.assert_array_equal(good_rows_single_objective(states, score, 26, hint=hint, **kw), exact)


@pytest.mark.parametrize("n", [3, 40, 64, 65, 300])
def test_take_smallest_is_the_stable_sort_prefix(n: int) -> None:
    from hpo_core.samplers.tpe._observations import take_smallest

    rng = np.random.default_rng(n)
    rows = np.sort(rng.choice(10 * n, size=n, replace=False))
    keys = rng.integers(0, 6, n).astype(float)  # many ties
    keys[rng.random(n) < 0.2] = np.nan  # NaN ranks last
    for count in range(n + 1):
        expected = np.sort(rows[np.argsort(keys, kind="stable")[:count]])
        np.testing.assert_array_equal(take_smallest(rows, keys, count), expected)


def test_default_weight_pair_is_both_groups_default_weights() -> None:
    from hpo_core.samplers.tpe._defaults import default_weight_pair, default_weights

    for n_below in (0, 1, 5, 25, 26, 27, 40):
        for n_above in (0, 1, 25, 26, 27, 100, 1000):
            for multi in (False, True):
                below = np.ones(n_below) if multi else default_weights(n_below)
                np.testing.assert_array_equal(default_weight_pair(n_below, n_above, multi),
                                              np.concatenate((below, default_weights(n_above))))


def _clip_count_study(count: str, objective: Any, seed: int, n_trials: int, **options: Any) -> Any:
    study = hpo_core.create_study(sampler=TPESampler(seed=seed, magic_clip_count=count, **options))
    study.optimize(objective, n_trials=n_trials)
    return study


def test_tpe_magic_clip_count_geometric_narrows_continuous_dimensions_only() -> None:
    def grid(t: Any) -> float:
        return (t.suggest_int("a", 0, 20) - 7) ** 2 + (t.suggest_float("b", 0.0, 1.0, step=0.1) - 0.3) ** 2 \
            + (t.suggest_categorical("c", ["x", "y"]) == "y") + abs(np.log(t.suggest_int("d", 1, 64, log=True) / 5))

    def sphere(t: Any) -> float:
        return sum((t.suggest_float(f"x{i}", -5.0, 5.0) - 1.0) ** 2 for i in range(5))

    # A grid (log ints are binned too) has no continuous dimension: the same trials.
    for skip in (True, False):  # with and without the grid rule's own kernel call
        a, b = (_clip_count_study(count, grid, 3, 40, skip_evaluated=skip) for count in ("group", "geometric"))
        assert [t.params for t in a.trials] == [t.params for t in b.trials]
    # On a continuous space the proposals differ once TPE starts (trial 10), and the good
    # group's narrower kernels refine: on a 5-D sphere the best value after 120 trials is
    # far lower.
    best: dict[str, list[float]] = {count: [] for count in ("group", "geometric")}
    for seed in range(3):
        a, b = (_clip_count_study(count, sphere, seed, 120) for count in ("group", "geometric"))
        assert [t.params for t in a.trials[:10]] == [t.params for t in b.trials[:10]]
        assert [t.params for t in a.trials[10:]] != [t.params for t in b.trials[10:]]
        best["group"].append(a.best_value)
        best["geometric"].append(b.best_value)
    assert np.median(best["geometric"]) < 0.5 * np.median(best["group"])


def test_tpe_magic_clip_count_default_is_geometric() -> None:
    def sphere(t: Any) -> float:
        return sum((t.suggest_float(f"x{i}", -5.0, 5.0) - 1.0) ** 2 for i in range(3))

    default = hpo_core.create_study(sampler=TPESampler(seed=4))
    default.optimize(sphere, n_trials=30)
    geometric, group = (_clip_count_study(count, sphere, 4, 30) for count in ("geometric", "group"))
    assert [t.params for t in default.trials] == [t.params for t in geometric.trials]
    assert [t.params for t in default.trials] != [t.params for t in group.trials]


def test_tpe_magic_clip_count_is_checked() -> None:
    with pytest.raises(ValueError, match="TPESampler: `magic_clip_count` must be 'group' or 'geometric', but got 'all'"):
        TPESampler(magic_clip_count="all")


def test_tpe_fixed_space_with_single_values_and_new_parameters() -> None:
    study = hpo_core.create_study(sampler=TPESampler(seed=0, n_startup_trials=3))
    space_a = SearchSpace({"x": FloatDistribution(0.0, 1.0), "one": FloatDistribution(2.0, 2.0)})
    for _ in range(8):
        t = study.ask(space_a)
        assert t.params["one"] == 2.0 and 0.0 <= t.params["x"] <= 1.0
        study.tell(t, t.params["x"])
    # "y" exists only in later trials: the earlier COMPLETE rows lack it.
    space_b = SearchSpace({"x": FloatDistribution(0.0, 1.0), "y": IntDistribution(0, 4)})
    for _ in range(8):
        t = study.ask(space_b)
        assert 0.0 <= t.params["x"] <= 1.0 and t.params["y"] in range(5)
        study.tell(t, t.params["x"] + t.params["y"])


@pytest.mark.parametrize("n", [1, 2, 25, 26, 27, 100, 1025, 1100, 5000, 100_000])
def test_systematic_resample_ramp_matches_explicit_weights(n: int) -> None:
    from hpo_core.samplers.tpe._sampler import default_weights

    rng = np.random.default_rng(n)
    for size in (1, 7, 1024):
        for u in [0.0, *rng.random(4)]:
            expected = _parzen.systematic_resample(default_weights(n), size, float(u))
            np.testing.assert_array_equal(_parzen.systematic_resample_ramp(n, 25, size, float(u)), expected)


def test_tpe_bad_group_resampled_above_the_cap_with_custom_weights() -> None:
    # Custom weights take the explicit resample; the default ones the closed form.
    study = hpo_core.create_study(sampler=TPESampler(seed=0, max_bad_components=8, weights=np.ones))
    study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=40)
    default = hpo_core.create_study(sampler=TPESampler(seed=0, max_bad_components=8))
    default.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=40)
    for s in (study, default):
        assert all(0.0 <= t.params["x"] <= 1.0 for t in s.trials)
        assert s.best_value < 0.2


def test_tpe_fixed_space_rechecked_after_the_intersection_shrinks(monkeypatch: pytest.MonkeyPatch) -> None:
    propose = kernels.tpe_propose

    def finite_propose(X: np.ndarray, rows: np.ndarray, n_below: int, cols: np.ndarray, *args: Any, **kwargs: Any) -> Any:
        assert np.isfinite(X[rows[:, None], cols]).all()  # rows lacking `x` are no observations
        return propose(X, rows, n_below, cols, *args, **kwargs)

    monkeypatch.setattr(kernels, "tpe_propose", finite_propose)
    study = hpo_core.create_study(sampler=TPESampler(seed=0, n_startup_trials=2))
    space = SearchSpace({"x": FloatDistribution(0.0, 1.0)})
    for _ in range(5):
        t = study.ask(space)
        study.tell(t, t.params["x"])
    t = study.ask()  # a COMPLETE trial without `x`: `x` leaves the intersection
    study.tell(t, t.suggest_float("z", 0.0, 1.0))
    for _ in range(5):
        t = study.ask(space)
        assert 0.0 <= t.params["x"] <= 1.0
        study.tell(t, t.params["x"])


def test_tpe_per_parameter_and_group_spaces_built_once() -> None:
    def objective(t: Trial) -> float:
        x = t.suggest_float("x", 0.0, 1.0)
        if t.suggest_categorical("branch", ["a", "b"]) == "a":
            return x + t.suggest_int("n", 0, 9)
        return x

    for kwargs in ({"multivariate": False}, {"group": True}):
        sampler = TPESampler(seed=0, n_startup_trials=3, **kwargs)  # type: ignore[arg-type]
        hpo_core.create_study(sampler=sampler).optimize(objective, n_trials=30)
        # One SearchSpace (and one set of cached arrays) per parameter or group, not per ask.
        n_spaces = len(sampler._single_spaces) + len(sampler._group_spaces)
        assert 1 <= n_spaces <= 3
        assert len(sampler._space_cache) <= 4


@pytest.mark.parametrize("constant_liar", [True, False])
def test_tpe_resampled_bad_group_skips_unusable_rows(constant_liar: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    propose = kernels.tpe_propose
    sizes: list[int] = []
    failed: set[float] = set()

    def checked_propose(X: np.ndarray, rows: np.ndarray, n_below: int, cols: np.ndarray, *args: Any, **kwargs: Any) -> Any:
        G = X[rows[:, None], cols]
        assert np.isfinite(G).all()  # the asking trial's own row never enters
        assert not failed.intersection(G.ravel().tolist())  # nor do FAIL rows
        sizes.append(len(rows) - n_below)  # the bad group
        return propose(X, rows, n_below, cols, *args, **kwargs)

    monkeypatch.setattr(kernels, "tpe_propose", checked_propose)
    study = hpo_core.create_study(sampler=TPESampler(seed=0, max_bad_components=8, constant_liar=constant_liar))
    for k in range(30):
        batch = [study.ask() for _ in range(3)]  # RUNNING rows while the others sample
        for j, t in enumerate(batch):
            x = t.suggest_float("x", -3.0, 3.0)
            if (3 * k + j) % 5 == 0:
                failed.add(x)
                study.tell(t, state=TrialState.FAIL)
            else:
                study.tell(t, (x - 1.0) ** 2)
    assert max(sizes) == 8  # the cap: the bad group was resampled
    assert study.best_value < 0.5


def test_tpe_threads_on_sqlite_with_conditional_space(tmp_path: Any) -> None:
    # Four threads share one study on a SQLite file: TPE reads the history the RDB
    # storage syncs, the grouped estimators see conditional parameters appear and vanish,
    # and RUNNING trials of the other threads enter the bad group (constant liar).
    url = f"sqlite:///{tmp_path / 'tpe.db'}"
    study = hpo_core.create_study(storage=url, sampler=TPESampler(seed=0, group=True, n_startup_trials=5))

    def objective(trial: Trial) -> float:
        kind = trial.suggest_categorical("kind", ["a", "b"])
        x = trial.suggest_float("x", -5.0, 5.0)
        if kind == "a":
            return x * x + trial.suggest_float("a_only", 0.0, 1.0)
        return (x - 1.0) ** 2 + trial.suggest_int("b_only", 1, 10, log=True)

    study.optimize(objective, n_trials=48, n_jobs=4)
    trials = hpo_core.load_study(study_name=study.study_name, storage=url).trials
    assert [t.number for t in trials] == list(range(48))
    assert all(t.state == TrialState.COMPLETE for t in trials)
    for t in trials:  # conditional parameters never mix
        assert ("a_only" in t.params) == (t.params["kind"] == "a")
        assert ("b_only" in t.params) == (t.params["kind"] == "b")
    assert study.best_value < 1.0


def test_tpe_weights_of_the_wrong_length_are_rejected() -> None:
    sampler = TPESampler(seed=0, n_startup_trials=2, weights=lambda n: np.ones(n + 5))
    study = hpo_core.create_study(sampler=sampler)
    for _ in range(2):
        t = study.ask()
        study.tell(t, t.suggest_float("x", 0, 1))
    t = study.ask()
    with pytest.raises(ValueError, match=r"weights\(n\)"):
        t.suggest_float("x", 0, 1)


def test_tpe_constraints_func_returning_a_non_sequence_is_named() -> None:
    study = hpo_core.create_study(sampler=TPESampler(seed=0, constraints_func=lambda t: 3))
    t = study.ask()
    t.suggest_float("x", 0, 1)
    with pytest.raises(TypeError, match=r"constraints_func\(trial\)"):
        study.tell(t, 1.0)


def test_tpe_sampler_reused_for_another_study_forgets_the_first() -> None:
    # The split cache belongs to one history: a second study of the same size, minimising
    # the opposite objective, gets its own good group.
    sampler = TPESampler(seed=0, n_startup_trials=5)
    good_x = []
    for sign in (1.0, -1.0):
        study = hpo_core.create_study(sampler=sampler)
        for x in np.linspace(0.0, 1.0, 10):
            study.enqueue_trial({"x": float(x)})
        study.optimize(lambda t, sign=sign: sign * t.suggest_float("x", 0.0, 1.0), n_trials=10)
        study.ask().suggest_float("x", 0.0, 1.0)  # an 11th trial: the split of this study
        assert sampler._ask_split is not None
        good_x.append(study.view.history.X[sampler._ask_split[2], 0].mean())
    assert good_x[0] < 0.5 < good_x[1]


def test_tpe_sampler_reused_for_another_study_reads_its_own_constraints() -> None:
    sampler = TPESampler(seed=0, n_startup_trials=3, constraints_func=lambda t: [t.params["x"] - 10.0])
    first = hpo_core.create_study(sampler=sampler)
    first.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=6)
    h = first.view.history
    assert np.all(violations(h, h.states[: h.n]) == 0.0)  # feasible
    sampler._constraints_func = lambda t: [t.params["x"] + 10.0]  # every trial infeasible
    second = hpo_core.create_study(sampler=sampler)
    second.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=6)
    h = second.view.history
    assert np.all(violations(h, h.states[: h.n]) > 0.0)  # the second study's values
