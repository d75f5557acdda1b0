"""CmaEsSampler: populations in the history's columns, the optimizers (plain, separable,
margin, CatCMA), restarts, warm start, pruned trials, resuming and bad arguments."""

from __future__ import annotations

import logging
import pickle
import warnings
from typing import Any

import numpy as np
import pytest

import hpo_core
from hpo_core.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from hpo_core.exceptions import HpoWarning, TrialPruned
from hpo_core.samplers import CmaEsSampler, RandomSampler
from hpo_core.samplers.cmaes import _run
from hpo_core.samplers.cmaes._populations import GENERATION_ATTR, RAW_ATTR, STATE_ATTR
from hpo_core.trial import TrialState

hpo_core.logging.set_verbosity(logging.WARNING)

pytest.importorskip("cmaes", reason="CmaEsSampler needs `pip install 'hpo_core[cmaes]'`")

SPACE = {f"x{i}": FloatDistribution(-5.0, 5.0) for i in range(4)}


def sphere(params: dict[str, Any], shift: float = 1.0) -> float:
    return float(sum((float(v) - shift) ** 2 for v in params.values()))


def run_asks(study: hpo_core.Study, space: dict[str, Any], n: int, f: Any = sphere) -> None:
    for _ in range(n):
        t = study.ask(space)
        study.tell(t, f(t.params))


def stored_run(study: hpo_core.Study) -> _run.Run:
    run = _run.decode(study.system_attrs[STATE_ATTR], np.random.RandomState(0))
    assert run is not None
    return run


def generations(study: hpo_core.Study) -> np.ndarray:
    col = study.view.sync().numeric_column(GENERATION_ATTR)
    assert col is not None
    return col[:, 0]


def test_cmaes_converges_on_sphere(seed: int) -> None:
    study = hpo_core.create_study(sampler=CmaEsSampler(seed=seed))
    run_asks(study, SPACE, 400)
    assert study.best_value < 1e-3


def test_cmaes_generations_fill_typed_column() -> None:
    study = hpo_core.create_study(sampler=CmaEsSampler(seed=0, popsize=6))
    run_asks(study, SPACE, 61)
    gens = generations(study)
    assert np.isnan(gens[0])  # the startup trial is sampled independently
    counts = np.bincount(gens[1:].astype(int))
    assert counts.tolist() == [6] * 10
    run = stored_run(study)  # generation 9 is told at the next ask
    assert run.generation == 9 and run.kind == "cma" and run.popsize == 6


def test_cmaes_one_dimension_is_not_random() -> None:
    # Optuna issue 5520: a one-parameter space runs CMA-ES, not the random fallback.
    study = hpo_core.create_study(sampler=CmaEsSampler(seed=0))
    study.optimize(lambda t: (t.suggest_float("x", -10, 10) - 3.0) ** 2, n_trials=80)
    assert not np.isnan(generations(study)[1:]).any()
    assert abs(study.best_params["x"] - 3.0) < 1e-2


def test_cmaes_sepcma_one_dimension_warns_and_runs_cma() -> None:
    study = hpo_core.create_study(sampler=CmaEsSampler(seed=0, use_separable_cma=True))
    with pytest.warns(HpoWarning, match="use_separable_cma"):
        run_asks(study, {"x": FloatDistribution(0, 1)}, 5)
    assert stored_run(study).kind == "cma"


@pytest.mark.parametrize("kwargs, kind", [({"use_separable_cma": True}, "sepcma"), ({"lr_adapt": True}, "cma"),
                                          ({"with_margin": True}, "cmawm")])
def test_cmaes_variants_converge(kwargs: dict[str, Any], kind: str) -> None:
    study = hpo_core.create_study(sampler=CmaEsSampler(seed=1, **kwargs))
    run_asks(study, SPACE, 400)
    assert stored_run(study).kind == kind
    assert study.best_value < 0.05


def test_cmaes_margin_keeps_integers_on_grid_and_stores_raw_sample() -> None:
    space = {"i": IntDistribution(-10, 10), "s": FloatDistribution(0.0, 1.0, step=0.1),
             "k": IntDistribution(0, 20, step=4), "x": FloatDistribution(-1, 1)}
    study = hpo_core.create_study(sampler=CmaEsSampler(seed=0, with_margin=True))
    run_asks(study, space, 200, lambda p: (p["i"] - 3) ** 2 + (p["s"] - 0.7) ** 2 + (p["k"] - 8) ** 2 + p["x"] ** 2)
    for t in study.trials:
        assert isinstance(t.params["i"], int) and isinstance(t.params["k"], int)
        assert t.params["k"] % 4 == 0
        assert abs(t.params["s"] * 10 - round(t.params["s"] * 10)) < 1e-9
    assert len(study.trials[5].system_attrs[RAW_ATTR]) == 4
    best = study.best_params
    assert (best["i"], best["k"]) == (3, 8) and abs(best["s"] - 0.7) < 1e-9


def test_cmaes_margin_keeps_exploring_a_binary_int() -> None:
    # Without a margin CMA-ES may freeze an int on one value; with it both keep appearing.
    space = {"b": IntDistribution(0, 1), "x": FloatDistribution(-1, 1)}
    study = hpo_core.create_study(sampler=CmaEsSampler(seed=0, with_margin=True))
    run_asks(study, space, 300, lambda p: p["x"] ** 2 + 0.01 * p["b"])
    late = [t.params["b"] for t in study.trials[-100:]]
    assert 0 < sum(late) < 100


def test_cmaes_categorical_through_catcma() -> None:
    space = {"c": CategoricalDistribution(["a", "b", "c", "d"]), "x": FloatDistribution(-3, 3),
             "n": IntDistribution(1, 8), "lr": FloatDistribution(1e-5, 1.0, log=True)}

    def f(p: dict[str, Any]) -> float:
        return (p["c"] != "c") * 1.0 + (p["x"] - 1) ** 2 + (p["n"] - 5) ** 2 + (np.log10(p["lr"]) + 3) ** 2

    study = hpo_core.create_study(sampler=CmaEsSampler(seed=0))
    run_asks(study, space, 300, f)
    assert stored_run(study).kind == "catcmawm"
    assert not np.isnan(generations(study)[1:]).any()  # categoricals are not sampled at random
    late = [t.params["c"] for t in study.trials[-50:]]
    assert late.count("c") > 40
    assert study.best_params["c"] == "c" and study.best_params["n"] == 5


@pytest.mark.parametrize("kwargs", [{"lr_adapt": True}, {"use_separable_cma": True}])
def test_cmaes_catcma_warns_about_ignored_options(kwargs: dict[str, Any]) -> None:
    study = hpo_core.create_study(sampler=CmaEsSampler(seed=0, **kwargs))
    space = {"c": CategoricalDistribution(["a", "b"]), "x": FloatDistribution(0, 1), "y": FloatDistribution(0, 1)}
    with pytest.warns(HpoWarning, match=next(iter(kwargs))):
        run_asks(study, space, 3, lambda p: p["x"] + p["y"])
    assert stored_run(study).kind == "catcmawm"


def test_cmaes_only_categoricals() -> None:
    space = {"c": CategoricalDistribution([1, 2, 3]), "d": CategoricalDistribution(["u", "v"])}
    study = hpo_core.create_study(sampler=CmaEsSampler(seed=0))
    run_asks(study, space, 120, lambda p: float(p["c"] != 2) + float(p["d"] != "v"))
    late = [(t.params["c"], t.params["d"]) for t in study.trials[-30:]]
    assert late.count((2, "v")) >= 15  # random sampling: 5 of 30 on average


def test_cmaes_define_by_run_categorical_joint() -> None:
    def objective(trial: hpo_core.Trial) -> float:
        c = trial.suggest_categorical("c", ["good", "bad"])
        x = trial.suggest_float("x", -2, 2)
        return x**2 + (c == "bad")

    study = hpo_core.create_study(sampler=CmaEsSampler(seed=0))
    with warnings.catch_warnings():
        warnings.simplefilter("error", HpoWarning)  # no independent-sampling warning
        study.optimize(objective, n_trials=60)
    assert stored_run(study).kind == "catcmawm"


def test_cmaes_independent_sampling_warns_for_dynamic_space() -> None:
    def objective(trial: hpo_core.Trial) -> float:
        x = trial.suggest_float("x", -2, 2)
        if trial.number >= 3:
            x += trial.suggest_float("y", -1, 1)
        return x**2

    study = hpo_core.create_study(sampler=CmaEsSampler(seed=0))
    with pytest.warns(HpoWarning, match="`y`"):
        study.optimize(objective, n_trials=6)


def test_cmaes_independent_sampler_serves_startup_trials() -> None:
    class Counting(RandomSampler):
        calls = 0

        def sample_joint(self, study: Any, trial: Any, space: Any) -> np.ndarray:
            Counting.calls += 1
            return super().sample_joint(study, trial, space)

    study = hpo_core.create_study(sampler=CmaEsSampler(seed=0, n_startup_trials=5, independent_sampler=Counting(0)))
    run_asks(study, SPACE, 12)
    assert Counting.calls == 5
    assert np.isnan(generations(study)[:5]).all() and not np.isnan(generations(study)[5:]).any()


def test_cmaes_x0_and_sigma0() -> None:
    study = hpo_core.create_study(sampler=CmaEsSampler(seed=0, x0={"x0": 4.0, "x1": -4.0}, sigma0=1e-4))
    run_asks(study, SPACE, 6)
    for t in study.trials[1:]:
        assert abs(t.params["x0"] - 4.0) < 0.01 and abs(t.params["x1"] + 4.0) < 0.01
        assert abs(t.params["x2"]) < 0.01  # not in x0: the centre


def test_cmaes_maximize() -> None:
    study = hpo_core.create_study(sampler=CmaEsSampler(seed=0), direction="maximize")
    run_asks(study, SPACE, 300, lambda p: -sphere(p))
    assert study.best_value > -1e-2


@pytest.mark.parametrize("strategy", ["ipop", "bipop"])
def test_cmaes_restarts_when_the_run_stops(strategy: str) -> None:
    # A flat objective stops a run (tolfun) after a few generations.
    study = hpo_core.create_study(sampler=CmaEsSampler(seed=0, restart_strategy=strategy, popsize=6))
    run_asks(study, SPACE, 800, lambda p: 1.0)
    run = stored_run(study)
    assert run.n_restarts >= 2
    gens = generations(study)[1:]
    assert np.all(np.diff(gens) >= 0)  # one numbering across restarts
    if strategy == "ipop":
        assert run.popsize == 6 * 2**run.n_restarts
    else:
        assert run.n_large >= 1


def test_cmaes_inc_popsize() -> None:
    study = hpo_core.create_study(sampler=CmaEsSampler(seed=0, restart_strategy="ipop", popsize=5, inc_popsize=3))
    run_asks(study, SPACE, 500, lambda p: 1.0)
    run = stored_run(study)
    assert run.n_restarts >= 1 and run.popsize == 5 * 3**run.n_restarts


def test_cmaes_no_restart_by_default() -> None:
    study = hpo_core.create_study(sampler=CmaEsSampler(seed=0, popsize=6))
    run_asks(study, SPACE, 400, lambda p: 1.0)
    assert stored_run(study).n_restarts == 0


def test_cmaes_warm_start_from_source_trials() -> None:
    source = hpo_core.create_study(sampler=RandomSampler(seed=0))
    run_asks(source, SPACE, 100, lambda p: sphere(p, shift=3.0))
    study = hpo_core.create_study(sampler=CmaEsSampler(seed=0, source_trials=source.trials, n_startup_trials=0))
    run_asks(study, SPACE, 10, lambda p: sphere(p, shift=3.0))
    first = np.array([[t.params[k] for k in SPACE] for t in study.trials])
    # The initial distribution sits around the source's good region, not the centre 0.
    assert np.mean(first) > 1.5
    cold = hpo_core.create_study(sampler=CmaEsSampler(seed=0, n_startup_trials=0))
    run_asks(cold, SPACE, 10)
    assert abs(np.mean([[t.params[k] for k in SPACE] for t in cold.trials])) < 1.5


def test_cmaes_warm_start_with_categoricals() -> None:
    space = {"c": CategoricalDistribution(["a", "b"]), "x": FloatDistribution(-5, 5), "n": IntDistribution(0, 10)}
    source = hpo_core.create_study(sampler=RandomSampler(seed=0))
    run_asks(source, space, 60, lambda p: (p["x"] - 4) ** 2 + (p["n"] - 9) ** 2 + (p["c"] == "a"))
    study = hpo_core.create_study(sampler=CmaEsSampler(seed=0, source_trials=source.trials, n_startup_trials=0))
    run_asks(study, space, 10, lambda p: (p["x"] - 4) ** 2)
    assert stored_run(study).kind == "catcmawm"
    assert np.mean([t.params["x"] for t in study.trials]) > 1.5


def test_cmaes_multi_objective_rejected_define_by_run() -> None:
    study = hpo_core.create_study(sampler=CmaEsSampler(seed=0), directions=["minimize", "maximize"])
    with pytest.raises(ValueError, match="directions"):
        study.optimize(lambda t: (t.suggest_float("x", 0, 1), 0.0), n_trials=1)


def test_cmaes_warm_start_without_compatible_trials_raises() -> None:
    source = hpo_core.create_study(sampler=RandomSampler(seed=0))
    run_asks(source, {"other": FloatDistribution(0, 1)}, 5)
    study = hpo_core.create_study(sampler=CmaEsSampler(seed=0, source_trials=source.trials, n_startup_trials=0))
    with pytest.raises(ValueError, match="source_trials"):
        study.ask(SPACE)


@pytest.mark.parametrize("consider", [False, True])
def test_cmaes_pruned_trials(consider: bool) -> None:
    def objective(trial: hpo_core.Trial) -> float:
        x = trial.suggest_float("x", -3, 3)
        y = trial.suggest_float("y", -3, 3)
        trial.report(x**2 + y**2, 0)
        if trial.number % 2:
            raise TrialPruned()
        return x**2 + y**2

    study = hpo_core.create_study(sampler=CmaEsSampler(seed=0, popsize=4, consider_pruned_trials=consider))
    study.optimize(objective, n_trials=41)
    run = stored_run(study)
    # 40 CMA-ES trials, half of them pruned: 10 generations with them, 5 without (the
    # last one is told at the next ask).
    assert run.generation == (9 if consider else 4)
    assert study.trials[3].state == TrialState.PRUNED


def test_cmaes_failed_trials_are_skipped() -> None:
    def objective(trial: hpo_core.Trial) -> float:
        x = trial.suggest_float("x", -3, 3)
        trial.suggest_float("y", -3, 3)
        if trial.number % 3 == 0:
            raise RuntimeError("boom")
        return x**2

    study = hpo_core.create_study(sampler=CmaEsSampler(seed=0, popsize=4))
    study.optimize(objective, n_trials=40, catch=(RuntimeError,))
    run = stored_run(study)
    assert run.generation >= 5


def test_cmaes_new_sampler_resumes_the_stored_run(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'resume.db'}"
    study = hpo_core.create_study(storage=url, study_name="s", sampler=CmaEsSampler(seed=0, popsize=5))
    run_asks(study, SPACE, 51)
    before = stored_run(study)
    assert before.generation == 9  # generation 9 is complete, told at the next ask
    # A fresh process: a new sampler on the loaded study continues at generation 10.
    again = hpo_core.load_study(study_name="s", storage=url, sampler=CmaEsSampler(seed=1, popsize=5))
    run_asks(again, SPACE, 10)
    gens = generations(again)
    assert gens[51:].tolist() == [10.0] * 5 + [11.0] * 5
    after = stored_run(again)
    assert after.generation == 11
    assert after.optimizer.population_size == 5


def test_cmaes_resumes_a_partly_collected_population() -> None:
    study = hpo_core.create_study(sampler=CmaEsSampler(seed=0, popsize=5))
    run_asks(study, SPACE, 13)  # 1 startup, generations 0 and 1, 2 trials of generation 2
    study.sampler = CmaEsSampler(seed=3, popsize=5)
    run_asks(study, SPACE, 4)
    assert stored_run(study).generation == 3  # the new sampler counted the two earlier trials
    assert generations(study)[11:].tolist() == [2.0] * 5 + [3.0]


def test_cmaes_space_change_starts_a_new_run() -> None:
    study = hpo_core.create_study(sampler=CmaEsSampler(seed=0, popsize=4))
    run_asks(study, SPACE, 9)
    other = {"a": FloatDistribution(0, 1), "b": FloatDistribution(0, 1)}
    run_asks(study, other, 8)
    run = stored_run(study)
    assert "'a'" in run.signature and "'x0'" not in run.signature and run.generation >= 3


def test_cmaes_pickle_round_trip_keeps_seeded_stream() -> None:
    sampler = CmaEsSampler(seed=0)
    clone = pickle.loads(pickle.dumps(sampler))
    a = hpo_core.create_study(sampler=sampler)
    b = hpo_core.create_study(sampler=clone)
    run_asks(a, SPACE, 30)
    run_asks(b, SPACE, 30)
    assert [t.params for t in a.trials] == [t.params for t in b.trials]


def test_cmaes_threads_share_one_run() -> None:
    study = hpo_core.create_study(sampler=CmaEsSampler(seed=0, popsize=6))
    study.optimize(lambda t: sphere({k: t.suggest_float(k, -5, 5) for k in SPACE}), n_trials=200, n_jobs=2)
    assert stored_run(study).generation >= 25
    assert study.best_value < 1.0


def test_cmaes_multi_objective_rejected() -> None:
    study = hpo_core.create_study(sampler=CmaEsSampler(seed=0), directions=["minimize", "minimize"])
    with pytest.raises(ValueError, match="directions"):
        study.ask(SPACE)


def test_cmaes_all_single_values() -> None:
    study = hpo_core.create_study(sampler=CmaEsSampler(seed=0))
    space = {"a": FloatDistribution(1.0, 1.0), "b": IntDistribution(3, 3)}
    run_asks(study, space, 3)
    assert study.trials[-1].params == {"a": 1.0, "b": 3}


def test_cmaes_incremental_reads_only_new_rows() -> None:
    study = hpo_core.create_study(sampler=CmaEsSampler(seed=0, popsize=5))
    run_asks(study, SPACE, 300)
    pops = study.sampler._groups[None].pops  # type: ignore[attr-defined]
    assert pops.cursor == 300 and pops.open == [299]  # the asking trial itself
    assert set(pops.by_gen) <= {stored_run(study).generation}


@pytest.mark.parametrize(
    "kwargs, name, exc",
    [
        ({"sigma0": 0.0}, "sigma0", ValueError),
        ({"sigma0": "1"}, "sigma0", TypeError),
        ({"n_startup_trials": -1}, "n_startup_trials", ValueError),
        ({"popsize": 1}, "popsize", ValueError),
        ({"popsize": 2.5}, "popsize", TypeError),
        ({"inc_popsize": 0}, "inc_popsize", ValueError),
        ({"restart_strategy": "lpop"}, "restart_strategy", ValueError),
        ({"seed": -1}, "seed", ValueError),
        ({"x0": [1.0]}, "x0", TypeError),
        ({"independent_sampler": "random"}, "independent_sampler", TypeError),
        ({"source_trials": "trials"}, "source_trials", TypeError),
        ({"warn_independent_sampling": 1}, "warn_independent_sampling", TypeError),
        ({"consider_pruned_trials": None}, "consider_pruned_trials", TypeError),
        ({"use_separable_cma": True, "with_margin": True}, "with_margin", ValueError),
        ({"lr_adapt": True, "with_margin": True}, "lr_adapt", ValueError),
        ({"lr_adapt": True, "use_separable_cma": True}, "lr_adapt", ValueError),
        ({"source_trials": [], "x0": {"x": 1.0}}, "source_trials", ValueError),
        ({"source_trials": [], "sigma0": 0.1}, "source_trials", ValueError),
        ({"source_trials": [], "use_separable_cma": True}, "source_trials", ValueError),
    ],
)
def test_cmaes_bad_arguments_name_the_argument(kwargs: dict[str, Any], name: str, exc: type[Exception]) -> None:
    with pytest.raises(exc, match=f"`{name}`"):
        CmaEsSampler(**kwargs)


def test_cmaes_one_run_per_hyperband_bracket() -> None:
    # Under HyperbandPruner(sampler_scope="bracket") each bracket's trials form their own run.
    from hpo_core.pruners import HyperbandPruner

    def objective(trial: hpo_core.Trial) -> float:
        x = trial.suggest_float("x", -3, 3)
        y = trial.suggest_float("y", -3, 3)
        for step in range(9):
            trial.report((x**2 + y**2) * (9 - step), step)
            if trial.should_prune():
                raise TrialPruned()
        return x**2 + y**2

    pruner = HyperbandPruner(min_resource=1, max_resource=9, reduction_factor=3, sampler_scope="bracket")
    study = hpo_core.create_study(sampler=CmaEsSampler(seed=0, popsize=4, consider_pruned_trials=True), pruner=pruner)
    study.optimize(objective, n_trials=120)
    keys = [k for k in study.system_attrs if k.startswith(STATE_ATTR + ":bracket-")]
    assert len(keys) >= 2 and STATE_ATTR not in study.system_attrs
    gens = generations(study)
    sampler = study.sampler
    for key, group in sampler._groups.items():  # type: ignore[attr-defined]
        mask = pruner.sampler_rows(study, int(key))
        assert mask is not None
        in_bracket = gens[: len(mask)][mask]
        assert (~np.isnan(in_bracket)).sum() > 4
        assert group.run is not None and group.run.generation >= 1


@pytest.mark.parametrize("kwargs, space", [
    ({"with_margin": True}, {"i": IntDistribution(0, 9), "x": FloatDistribution(0, 1)}),
    ({}, {"i": IntDistribution(0, 9), "c": CategoricalDistribution(["a", "b"]), "x": FloatDistribution(0, 1)}),
])
def test_cmaes_margin_trial_without_raw_sample_is_told_at_its_params(kwargs: dict[str, Any], space: Any) -> None:
    study = hpo_core.create_study(sampler=CmaEsSampler(seed=0, popsize=4, **kwargs))
    for _ in range(20):
        t = study.ask(space)
        if t.number % 3 == 0:  # as if written by another program
            t.set_system_attr(RAW_ATTR, None)
        study.tell(t, float(t.params["i"]))
    assert stored_run(study).generation >= 3


def test_cmaes_two_samplers_on_one_storage_share_one_run() -> None:
    storage = hpo_core.storages.InMemoryStorage()
    a = hpo_core.create_study(storage=storage, study_name="s", sampler=CmaEsSampler(seed=0, popsize=4))
    b = hpo_core.load_study(study_name="s", storage=storage, sampler=CmaEsSampler(seed=1, popsize=4))
    for i in range(81):  # alternate the two workers, each ask told at once
        study = a if i % 2 else b
        t = study.ask(SPACE)
        study.tell(t, sphere(t.params))
    gens = generations(a)[1:]
    # One run: every generation holds exactly popsize trials from both workers.
    assert np.bincount(gens.astype(int)).tolist() == [4] * 20
    assert stored_run(a).generation == 19


def _encode_v1(run: _run.Run) -> str:
    # The first stored format: NumPy arrays and scalars pickled as they are.
    import base64

    def flat(obj: Any) -> Any:
        if type(obj).__module__.startswith("cmaes"):
            return ("cmaes-object", type(obj), {k: flat(v) for k, v in obj.__dict__.items() if k != "_rng"})
        return obj

    state = {k: v for k, v in run.__dict__.items() if k != "basis"}
    state.update(optimizer=flat(run.optimizer), stored_cov=None)
    return "cmaes-run-v1:" + base64.b64encode(pickle.dumps(state)).decode("ascii")


@pytest.mark.parametrize("kwargs", [{}, {"with_margin": True}, {"use_separable_cma": True}])
def test_cmaes_stored_run_round_trip_keeps_every_attribute(kwargs: dict[str, Any]) -> None:
    sampler = CmaEsSampler(seed=0, popsize=5, **kwargs)
    study = hpo_core.create_study(sampler=sampler)
    space = {"x": FloatDistribution(-2, 2), "n": IntDistribution(0, 9), "y": FloatDistribution(0.1, 3, log=True)}
    run_asks(study, space, 23)
    run = sampler._groups[None].run  # the live run, not one read back
    assert run is not None and run.stored_cov is None
    for text in (_run.encode(run), _encode_v1(run)):  # this format and the first one
        back = _run.decode(text, np.random.RandomState(0))
        assert back is not None and back.generation == run.generation

        def same(a: Any, b: Any) -> bool:
            if type(a).__module__.startswith("cmaes"):
                return type(a) is type(b) and all(same(v, b.__dict__[k]) for k, v in a.__dict__.items() if k != "_rng")
            if isinstance(a, np.ndarray):
                return (type(b) is np.ndarray and a.dtype == b.dtype and a.shape == b.shape and b.flags.writeable
                        and a.flags.f_contiguous == b.flags.f_contiguous and np.array_equal(a, b, equal_nan=True))
            return type(a) is type(b) and (a == b or a != a)

        assert same(run.optimizer, back.optimizer)


def test_cmaes_stored_arrays_keep_their_layout() -> None:
    # A Fortran-ordered array comes back Fortran-ordered (a matrix product may round
    # differently on the other layout), a transposed view C-ordered, as pickle does.
    a = np.asfortranarray(np.random.default_rng(0).normal(size=(4, 3)))
    for x in (a, a.T, a[::2], np.arange(5), np.zeros((0, 2)), np.array([True, False])):
        back = _run._unflatten(_run._flatten(x))
        ref = pickle.loads(pickle.dumps(x))
        assert np.array_equal(back, x) and back.dtype == x.dtype and back.flags.writeable
        assert (back.flags.f_contiguous, back.flags.c_contiguous) == (ref.flags.f_contiguous, ref.flags.c_contiguous)
