"""Multi-objective pruning: vector reports, MultiObjectiveSuccessiveHalvingPruner and
MultiObjectiveMedianPruner, on hand-built curves with known outcomes."""

from __future__ import annotations

import pickle
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hpo_core
from hpo_core.pruners import (
    MultiObjectiveMedianPruner,
    MultiObjectiveSuccessiveHalvingPruner,
    NopPruner,
)
from hpo_core.pruners._multi_objective import (
    _is_promotable_rows,
    hypervolume_contributions,
    is_promotable_vector,
)

MIN2 = ["minimize", "minimize"]


def _decide(study: hpo_core.Study, vectors: Sequence[Sequence[float]], step: int = 1) -> list[bool]:
    """One trial per vector: report it at ``step``, ask the pruner, complete the trial."""
    decisions = []
    for v in vectors:
        trial = study.ask()
        trial.report(list(v), step)
        decisions.append(trial.should_prune())
        study.tell(trial, [0.0 if np.isnan(x) else x for x in v])  # a NaN would FAIL the trial
    return decisions


def _sh(**kwargs: Any) -> MultiObjectiveSuccessiveHalvingPruner:
    return MultiObjectiveSuccessiveHalvingPruner(**{"min_resource": 1, "reduction_factor": 2, **kwargs})


# ------------------------------------------------------------------ report / should_prune
def test_report_vector_reaches_frozen_trial_and_step_index() -> None:
    study = hpo_core.create_study(directions=["minimize", "maximize", "minimize"])
    trial = study.ask()
    trial.report(np.array([1.0, 2.0, float("nan")]), 3)
    with pytest.warns(hpo_core.exceptions.HpoWarning, match="already reported"):
        trial.report([5.0, 5.0, 5.0], 3)
    study.tell(trial, [1.0, 2.0, 3.0])
    iv: dict[int, Any] = study.trials[0].intermediate_values
    assert list(iv) == [3] and iv[3][:2] == (1.0, 2.0) and np.isnan(iv[3][2])
    steps, values = study.view.history.steps.of_row(0)
    assert steps.tolist() == [3] and values.shape == (1, 3)


@pytest.mark.parametrize("bad", [[1.0], [1.0, 2.0, 3.0], []])
def test_report_wrong_count_raises_naming_value(bad: list[float]) -> None:
    trial = hpo_core.create_study(directions=MIN2).ask()
    with pytest.raises(ValueError, match="`value`.*2 numbers"):
        trial.report(bad, 0)


@pytest.mark.parametrize("bad", [1.0, "ab", [1.0, "x"], None])
def test_report_wrong_type_raises_naming_value(bad: Any) -> None:
    trial = hpo_core.create_study(directions=MIN2).ask()
    with pytest.raises(TypeError, match="`value`"):
        trial.report(bad, 0)


@pytest.mark.parametrize(
    "pruner",
    [
        hpo_core.pruners.MedianPruner(),
        hpo_core.pruners.PercentilePruner(50.0),
        hpo_core.pruners.SuccessiveHalvingPruner(),
        hpo_core.pruners.HyperbandPruner(),
        hpo_core.pruners.ThresholdPruner(upper=1.0),
        hpo_core.pruners.WilcoxonPruner(),
        hpo_core.pruners.PatientPruner(hpo_core.pruners.MedianPruner(), 1),
    ],
    ids=type,
)
def test_single_objective_pruner_raises_in_multi_objective_study(pruner: Any) -> None:
    study = hpo_core.create_study(directions=MIN2, pruner=pruner)
    trial = study.ask()
    trial.report([1.0, 2.0], 0)
    with pytest.raises(NotImplementedError, match=f"{type(pruner).__name__}.*MultiObjectiveSuccessiveHalvingPruner"):
        trial.should_prune()


def test_nop_pruner_works_in_multi_objective_study() -> None:
    study = hpo_core.create_study(directions=MIN2, pruner=NopPruner())
    assert _decide(study, [(1.0, 1.0), (9.0, 9.0)]) == [False, False]


def test_multi_objective_sh_with_one_objective_is_successive_halving() -> None:
    ours = hpo_core.create_study(pruner=_sh())
    theirs = hpo_core.create_study(pruner=hpo_core.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=2))
    rng = np.random.default_rng(0)
    losses = rng.integers(0, 4, size=30).astype(float)  # many ties
    for study in (ours, theirs):
        for loss in losses:
            trial = study.ask()
            trial.report(float(loss), 1)
            trial.report(float(loss), 2)
            trial.set_user_attr("pruned", trial.should_prune())
            study.tell(trial, float(loss))
    assert [t.user_attrs for t in ours.trials] == [t.user_attrs for t in theirs.trials]


# ------------------------------------------------------------------ successive halving
def test_sh_prunes_dominated_and_keeps_pareto_front() -> None:
    study = hpo_core.create_study(directions=MIN2, pruner=_sh())
    # keep = max(1, n // 2), pruned trials' vectors stay recorded. (1,1): alone; (2,2):
    # rank 1 behind (1,1), keep 1; (3,3): rank 2, keep 1; (0.5,0.5): the only rank 0.
    decisions = _decide(study, [(1.0, 1.0), (2.0, 2.0), (3.0, 3.0), (0.5, 0.5)])
    assert decisions == [False, True, True, False]
    attrs = [t.system_attrs for t in study.trials]
    assert attrs[0]["completed_rung_0"] == [1.0, 1.0]
    assert "completed_rung_1" not in attrs[1]


def test_sh_tie_at_cut_broken_by_hypervolume_contribution() -> None:
    # Competitors (1, 1), (2, 2) and own: keep = 1, own and (1, 1) share rank 0.
    # ref = max + 0.1 * range per objective.
    study = hpo_core.create_study(directions=MIN2, pruner=_sh())
    assert _decide(study, [(1.0, 1.0), (2.0, 2.0)]) == [False, True]
    # own (0.2, 1.2): ref (2.18, 2.1); HVC own = (1 - 0.2) * (2.1 - 1.2) = 0.72,
    # HVC (1, 1) = (2.18 - 1) * (1.2 - 1) = 0.236: own wins.
    assert _decide(study, [(0.2, 1.2)]) == [False]
    study2 = hpo_core.create_study(directions=MIN2, pruner=_sh())
    _decide(study2, [(1.0, 1.0), (2.0, 2.0)])
    # own (0.5, 3.0): ref (2.15, 3.2); HVC own = 0.5 * 0.2 = 0.1 < HVC (1, 1) = 1.15 * 2.
    assert _decide(study2, [(0.5, 3.0)]) == [True]


def test_sh_equal_contributions_are_kept() -> None:
    # Symmetric front: (0, 1) and (1, 0) have equal contributions; keep = 1, both kept.
    study = hpo_core.create_study(directions=MIN2, pruner=_sh())
    assert _decide(study, [(0.0, 1.0), (1.0, 0.0)]) == [False, False]


def test_sh_maximize_minimize_mix() -> None:
    # Maximize accuracy, minimize size: (0.9, 10) dominates (0.8, 20).
    study = hpo_core.create_study(directions=["maximize", "minimize"], pruner=_sh())
    assert _decide(study, [(0.9, 10.0), (0.8, 20.0), (0.95, 5.0), (0.5, 50.0)]) == [False, True, False, True]
    mirrored = hpo_core.create_study(directions=MIN2, pruner=_sh())
    assert _decide(mirrored, [(-0.9, 10.0), (-0.8, 20.0), (-0.95, 5.0), (-0.5, 50.0)]) == [False, True, False, True]


def test_sh_three_objectives() -> None:
    study = hpo_core.create_study(directions=["minimize"] * 3, pruner=_sh())
    vectors = [(1.0, 1.0, 1.0), (2.0, 2.0, 2.0), (0.0, 3.0, 3.0), (1.5, 1.5, 0.5), (3.0, 3.0, 3.0)]
    # (2,2,2): dominated by (1,1,1); (0,3,3): front {(1,1,1), (0,3,3)}, keep 1, the
    # contribution of (1,1,1) is larger; (1.5,1.5,.5): keep 2, front {(1,1,1), (0,3,3),
    # (1.5,1.5,.5)} of 3: ref (2.2, 3.2, 3.25), contributions 3.2375, 0.05 and 0.595, so
    # it is second and kept; (3,3,3): rank 2 behind 4 points, keep 2.
    assert _decide(study, vectors) == [False, True, True, False, True]
    assert is_promotable_vector(3, np.array(vectors[:4]), 2)


def test_sh_nan_prunes_and_is_not_recorded() -> None:
    study = hpo_core.create_study(directions=MIN2, pruner=_sh())
    assert _decide(study, [(1.0, 1.0), (float("nan"), 0.0)]) == [False, True]
    assert "completed_rung_0" not in study.trials[1].system_attrs


def test_sh_infinities() -> None:
    study = hpo_core.create_study(directions=MIN2, pruner=_sh())
    inf = float("inf")
    # (-inf, 5) is on the front with (1, 1); keep 1; its contribution (clipped to one
    # margin below the finite range) is compared, (inf, 0) contributes nothing.
    decisions = _decide(study, [(1.0, 1.0), (inf, 0.0), (2.0, 2.0), (-inf, 0.5)])
    assert decisions == [False, True, True, False]


def test_sh_rungs_and_min_early_stopping_rate() -> None:
    pruner = _sh(min_early_stopping_rate=1)  # rung 0 ends at step 2, rung 1 at 4
    study = hpo_core.create_study(directions=MIN2, pruner=pruner)
    trial = study.ask()
    trial.report([1.0, 1.0], 1)
    assert not trial.should_prune() and "completed_rung_0" not in (study.view.history.system_attrs[0] or {})
    trial.report([1.0, 1.0], 5)  # past both rungs at once: both recorded
    assert not trial.should_prune()
    attrs = study.view.history.system_attrs[0] or {}
    assert attrs["completed_rung_0"] == attrs["completed_rung_1"] == [1.0, 1.0]


def test_sh_bootstrap_count() -> None:
    study = hpo_core.create_study(directions=MIN2, pruner=_sh(bootstrap_count=2))
    assert _decide(study, [(0.0, 0.0), (0.0, 0.0), (0.0, 0.0)]) == [True, True, False]


def test_sh_auto_min_resource_waits_for_a_complete_trial() -> None:
    study = hpo_core.create_study(directions=MIN2, pruner=MultiObjectiveSuccessiveHalvingPruner(reduction_factor=2))
    first = study.ask()
    for step in range(12):
        first.report([1.0, 1.0], step)
    assert not first.should_prune()  # no COMPLETE trial yet
    study.tell(first, [1.0, 1.0])
    # SuccessiveHalvingPruner's rule: min_resource = (11 + 1) // 2 = 6: rung 0 ends at
    # step 6, rung 1 at step 12 (Optuna's 11 // 100 would give 1).
    assert _decide(study, [(1.0, 1.0)], step=7) == [False]  # alone at rung 0
    assert _decide(study, [(5.0, 5.0)], step=5) == [False]  # before rung 0 ends
    assert _decide(study, [(5.0, 5.0)], step=7) == [True]  # dominated at rung 0, keep 1 of 2


@pytest.mark.parametrize(
    ("kwargs", "name", "error"),
    [
        ({"min_resource": 0}, "min_resource", ValueError),
        ({"min_resource": "x"}, "min_resource", ValueError),
        ({"min_resource": 1.5}, "min_resource", TypeError),
        ({"reduction_factor": 1}, "reduction_factor", ValueError),
        ({"min_early_stopping_rate": -1}, "min_early_stopping_rate", ValueError),
        ({"bootstrap_count": -1}, "bootstrap_count", ValueError),
        ({"bootstrap_count": 1}, "bootstrap_count", ValueError),  # with min_resource="auto"
    ],
)
def test_sh_argument_errors_name_the_argument(kwargs: dict[str, Any], name: str, error: type) -> None:
    with pytest.raises(error, match=f"MultiObjectiveSuccessiveHalvingPruner: `{name}`"):
        MultiObjectiveSuccessiveHalvingPruner(**kwargs)


def test_hypervolume_contributions_match_the_kernel() -> None:
    rng = np.random.default_rng(0)
    for m in (2, 3):
        x = rng.random((40, m))
        front = x[hpo_core.kernels.is_pareto_front(x)]
        front = np.vstack([front, front[:1]])  # a duplicate: same contribution as its twin
        lo, ref = np.zeros(m) - 1, np.full(m, 1.2)
        got = hypervolume_contributions(front, lo, ref)
        uniq = np.unique(front, axis=0)
        total = hpo_core.kernels.hypervolume(uniq, ref)
        for i, p in enumerate(front):
            rest = uniq[~np.all(uniq == p, axis=1)]
            np.testing.assert_allclose(got[i], total - hpo_core.kernels.hypervolume(rest, ref), rtol=1e-10)


def test_list_path_decides_as_is_promotable_vector(seed: int) -> None:
    # The small-rung path (Python floats, 2 objectives) against the NumPy one, on rungs with
    # duplicated points, ties in one objective, infinities and -0.0, for several cuts.
    rng = np.random.default_rng(seed)
    n_promoted = 0
    for trial in range(600):
        n = int(rng.integers(1, 40))
        x = rng.integers(0, 6, size=(n, 2)).astype(float) if trial % 2 else rng.random((n, 2))
        if trial % 3 == 0:
            x[rng.random((n, 2)) < 0.15] = np.inf
            x[rng.random((n, 2)) < 0.1] = -np.inf
        if trial % 5 == 0:
            x[rng.random((n, 2)) < 0.2] = -0.0
        for reduction_factor in (2, 3, 4):
            expected = is_promotable_vector(n - 1, x, reduction_factor)
            assert _is_promotable_rows([tuple(p) for p in x.tolist()], reduction_factor) == expected
            n_promoted += expected
    assert 0 < n_promoted < 3 * 600  # both answers occur


# ------------------------------------------------------------------ median
def _median_study(directions: list[str], **kwargs: Any) -> hpo_core.Study:
    return hpo_core.create_study(directions=directions, pruner=MultiObjectiveMedianPruner(**kwargs))


def test_median_prunes_dominated_by_median_and_keeps_the_rest() -> None:
    study = _median_study(MIN2, n_startup_trials=3)
    # completed at step 1: (1, 4), (2, 2), (3, 1) -> median (2, 2).
    assert _decide(study, [(1.0, 4.0), (2.0, 2.0), (3.0, 1.0)]) == [False, False, False]
    assert _decide(study, [(2.5, 2.5)]) == [True]   # dominated by (2, 2)
    study = _median_study(MIN2, n_startup_trials=3)
    _decide(study, [(1.0, 4.0), (2.0, 2.0), (3.0, 1.0)])
    assert _decide(study, [(2.0, 2.0)]) == [False]  # equal to the median: not dominated
    study = _median_study(MIN2, n_startup_trials=3)
    _decide(study, [(1.0, 4.0), (2.0, 2.0), (3.0, 1.0)])
    assert _decide(study, [(9.0, 1.5)]) == [False]  # better in one objective


def test_median_three_objectives_and_mixed_directions() -> None:
    study = _median_study(["minimize", "maximize", "minimize"], n_startup_trials=2)
    _decide(study, [(1.0, 0.9, 1.0), (3.0, 0.5, 3.0)])  # median (2, 0.7, 2)
    assert _decide(study, [(2.0, 0.6, 2.0)]) == [True]
    study = _median_study(["minimize", "maximize", "minimize"], n_startup_trials=2)
    _decide(study, [(1.0, 0.9, 1.0), (3.0, 0.5, 3.0)])
    assert _decide(study, [(2.5, 0.8, 2.5)]) == [False]


def test_median_startup_warmup_and_interval() -> None:
    study = _median_study(MIN2, n_startup_trials=2)
    assert _decide(study, [(1.0, 1.0), (5.0, 5.0), (5.0, 5.0)]) == [False, False, True]  # 0, 1, 2 complete
    study = _median_study(MIN2, n_startup_trials=0, n_warmup_steps=2)
    _decide(study, [(1.0, 1.0)], step=1)
    assert _decide(study, [(5.0, 5.0)], step=1) == [False]  # warm-up
    for interval_steps, expected in ((1, True), (2, False)):
        study = _median_study(MIN2, n_startup_trials=0, interval_steps=interval_steps)
        _decide(study, [(1.0, 1.0)], step=1)
        trial = study.ask()
        trial.report([5.0, 5.0], 0)
        trial.report([5.0, 5.0], 1)  # with interval 2, the check of steps 0-1 was at step 0
        assert trial.should_prune() is expected


def test_median_nan() -> None:
    study = _median_study(MIN2, n_startup_trials=1)
    nan = float("nan")
    _decide(study, [(1.0, 1.0)])
    assert _decide(study, [(nan, 0.0)]) == [True]  # own NaN prunes
    study = _median_study(MIN2, n_startup_trials=1)
    _decide(study, [(1.0, nan)])  # no value in objective 2 at the step: no pruning
    assert _decide(study, [(5.0, 5.0)]) == [False]
    study = _median_study(MIN2, n_startup_trials=2)
    _decide(study, [(1.0, nan), (1.0, 1.0)])  # NaN ignored: median (1, 1)
    assert _decide(study, [(5.0, 5.0)]) == [True]


def test_median_needs_peers_at_the_step() -> None:
    study = _median_study(MIN2, n_startup_trials=1)
    _decide(study, [(1.0, 1.0)], step=1)
    assert _decide(study, [(5.0, 5.0)], step=2) == [False]  # nobody completed at step 2
    study = _median_study(MIN2, n_startup_trials=1, n_min_trials=2)
    _decide(study, [(1.0, 1.0)])
    assert _decide(study, [(5.0, 5.0)]) == [False]


@pytest.mark.parametrize(
    ("kwargs", "name", "error"),
    [
        ({"n_startup_trials": -1}, "n_startup_trials", ValueError),
        ({"n_warmup_steps": -1}, "n_warmup_steps", ValueError),
        ({"interval_steps": 0}, "interval_steps", ValueError),
        ({"n_min_trials": 0}, "n_min_trials", ValueError),
        ({"n_startup_trials": 1.5}, "n_startup_trials", TypeError),
    ],
)
def test_median_argument_errors_name_the_argument(kwargs: dict[str, Any], name: str, error: type) -> None:
    with pytest.raises(error, match=f"MultiObjectiveMedianPruner: `{name}`"):
        MultiObjectiveMedianPruner(**kwargs)


def test_multi_objective_pruners_are_picklable() -> None:
    for pruner in (_sh(), MultiObjectiveMedianPruner()):
        copy = pickle.loads(pickle.dumps(pruner))
        settings = {k: v for k, v in vars(pruner).items() if k != "_rungs"}  # the index is rebuilt on use
        assert type(copy) is type(pruner) and {k: v for k, v in vars(copy).items() if k != "_rungs"} == settings
        assert type(getattr(copy, "_rungs", None)) is type(getattr(pruner, "_rungs", None))


# ------------------------------------------------------------------ storages
def _run_curves(storage: str | None, pruner: Any, curves: np.ndarray) -> list[list[bool]]:
    study = hpo_core.create_study(directions=["minimize", "maximize"], pruner=pruner, storage=storage)
    out = []
    for curve in curves:
        trial = study.ask()
        decisions = []
        for step, v in enumerate(curve):
            trial.report(v.tolist(), step)
            decisions.append(trial.should_prune())
            if decisions[-1]:
                break
        out.append(decisions)
        if decisions[-1]:
            study.tell(trial, state=hpo_core.TrialState.PRUNED)
        else:
            study.tell(trial, curve[-1].tolist())
    return out


@pytest.mark.parametrize("name", ["sh", "median"])
def test_multi_objective_pruners_on_sqlite_decide_as_in_memory(name: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    curves = np.cumsum(rng.normal(size=(14, 9, 2)), axis=1)
    make = (lambda: _sh(reduction_factor=3)) if name == "sh" else (lambda: MultiObjectiveMedianPruner(n_startup_trials=2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        in_memory = _run_curves(None, make(), curves)
        on_sqlite = _run_curves(f"sqlite:///{tmp_path / 'mo.db'}", make(), curves)
    assert on_sqlite == in_memory
    assert any(d[-1] for d in in_memory) and not all(d[-1] for d in in_memory)


# ------------------------------------------------------------------ a real run
@pytest.mark.parametrize("pruner_name", ["sh", "median"])
def test_multi_objective_pruning_sgd_on_digits(pruner_name: str) -> None:
    pytest.importorskip("sklearn", reason="scikit-learn is not installed: the example trains an SGDClassifier")
    from sklearn.datasets import load_digits
    from sklearn.linear_model import SGDClassifier
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_train, X_valid, y_train, y_valid = train_test_split(X, y, test_size=0.3, random_state=0)
    classes = np.unique(y)

    def objective(trial: hpo_core.Trial) -> tuple[float, float]:
        # Error versus model size: the number of pixels kept (a crude feature budget).
        n_features = trial.suggest_int("n_features", 8, 64)
        alpha = trial.suggest_float("alpha", 1e-5, 1.0, log=True)
        eta0 = trial.suggest_float("eta0", 1e-5, 1e-1, log=True)
        clf = SGDClassifier(alpha=alpha, learning_rate="constant", eta0=eta0, random_state=0)
        Xt, Xv = X_train[:, :n_features], X_valid[:, :n_features]
        error = 1.0
        for epoch in range(6):
            clf.partial_fit(Xt, y_train, classes=classes)
            error = 1.0 - clf.score(Xv, y_valid)
            trial.report([error, float(n_features)], epoch)
            if trial.should_prune():
                raise hpo_core.TrialPruned()
        return error, float(n_features)

    pruner = (
        MultiObjectiveSuccessiveHalvingPruner(min_resource=1, reduction_factor=2)
        if pruner_name == "sh"
        else MultiObjectiveMedianPruner(n_startup_trials=4, n_warmup_steps=1)
    )
    study = hpo_core.create_study(
        directions=["minimize", "minimize"], sampler=hpo_core.samplers.RandomSampler(seed=0), pruner=pruner
    )
    study.optimize(objective, n_trials=20)
    states = [t.state for t in study.trials]
    assert states.count(hpo_core.TrialState.PRUNED) >= 3
    assert states.count(hpo_core.TrialState.COMPLETE) >= 3
    front = study.best_trials
    assert front and all(t.state == hpo_core.TrialState.COMPLETE for t in front)
    assert min(t.values[0] for t in front if t.values) < 0.2


def _two_objective_curve(trial: Any) -> tuple[float, float]:
    """Module level so that a process executor can pickle it; trial 1 is dominated."""
    x = trial.suggest_float("x", 0, 1)
    a, b = (2.0, 2.0) if trial.number == 1 else (x, 1.0 - x)
    for step in range(3):
        trial.report(np.array([a, b]), step)  # an array: turned into floats on the worker
        if trial.should_prune():
            raise hpo_core.TrialPruned()
    return a, b


def test_multi_objective_pruning_through_a_process_executor() -> None:
    study = hpo_core.create_study(directions=MIN2, pruner=_sh(), sampler=hpo_core.samplers.RandomSampler(seed=0))
    study.optimize(_two_objective_curve, n_trials=3, executor="process")
    assert [t.state for t in study.trials][:2] == [hpo_core.TrialState.COMPLETE, hpo_core.TrialState.PRUNED]
    assert study.trials[1].intermediate_values == {0: (2.0, 2.0), 1: (2.0, 2.0)}  # pruned at rung 0's end


# ------------------------------------------------------------------ rung index
def _interleaved_vector_decisions(fresh: bool, seed: int, make: Any = None) -> tuple[list[bool], list[Any]]:
    """Trials interleaved four at a time, 2-objective reports at steps 1..9 (some NaN),
    some told FAIL: decisions of one long-lived pruner, or of a new one per decision."""
    rng = np.random.default_rng(seed)
    make = make or (lambda: _sh(min_resource=1, reduction_factor=2))
    study = hpo_core.create_study(directions=["minimize", "maximize"], pruner=make())
    decisions = []
    for block in range(6):
        trials = [study.ask() for _ in range(4)]
        for step in range(1, 10):
            for trial in trials:
                second = float(rng.normal()) if rng.random() > 0.1 else float("nan")
                trial.report([float(rng.normal()), second], step)
                if fresh:
                    study.view.invalidate()
                    decisions.append(bool(make().prune(study, trial)))
                else:
                    decisions.append(bool(trial.should_prune()))
        for i, trial in enumerate(trials):
            if i == 3 and block % 2:
                study.tell(trial, state=hpo_core.TrialState.FAIL)
            else:
                study.tell(trial, [float(rng.normal()), float(rng.normal())])
    return decisions, [t.system_attrs for t in study.get_trials()]


@pytest.mark.parametrize("seed", range(2))
def test_sh_rung_index_decides_as_a_full_scan(seed: int) -> None:
    ours = _interleaved_vector_decisions(False, seed)
    assert ours == _interleaved_vector_decisions(True, seed)
    assert any(ours[0]) and not all(ours[0])


@pytest.mark.parametrize("seed", range(2))
def test_median_step_values_decide_as_a_fresh_pruner(seed: int) -> None:
    make = lambda: MultiObjectiveMedianPruner(n_startup_trials=1, n_min_trials=2)  # noqa: E731
    ours = _interleaved_vector_decisions(False, seed, make)
    assert ours == _interleaved_vector_decisions(True, seed, make)
    assert any(ours[0]) and not all(ours[0])


def test_sh_rung_index_forgets_a_failed_write() -> None:
    from hpo_core.pruners._rungs import RungVectors

    study = hpo_core.create_study(directions=["minimize", "minimize"])
    trial = study.ask()
    trial.report([1.0, 2.0], 1)
    index = RungVectors()
    history = study.view.history
    assert index.competing(history, "completed_rung_0", 5, [0.5, 0.5]).shape == (0, 2)
    assert index.competing(history, "completed_rung_0", 6).tolist() == [[0.5, 0.5]]
    index.forget("completed_rung_0", 5)  # the write of row 5 failed
    assert index.competing(history, "completed_rung_0", 6).shape == (0, 2)
