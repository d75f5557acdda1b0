"""TPESampler's skip_evaluated rule: on a whole-configuration grid, the best candidate that
is not an evaluated configuration; elsewhere Optuna's choice, unchanged.

The oracle: a wrapper around ``kernels.tpe_propose`` recomputes the 24 candidates of each
call one by one (candidate i depends on its row of uniforms alone; no skip keys) and the
evaluated configurations from the history (COMPLETE, PRUNED and RUNNING rows, compared
by grid index), and counts proposals that repeat an evaluated configuration while a
candidate was untried.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import hpo_core
from hpo_core import kernels
from hpo_core.distributions import FloatDistribution
from hpo_core.samplers import TPESampler
from hpo_core.trial import Trial, TrialState


class Oracle:
    """Wraps kernels.tpe_propose; ``wasted`` counts avoidable repeats, ``calls`` the calls
    and ``skipped`` those given skip keys."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, study: Any):
        self.study, self.wasted, self.calls, self.skipped = study, 0, 0, 0
        propose = kernels.tpe_propose

        def wrapped(X: np.ndarray, rows: np.ndarray, n_below: int, cols: np.ndarray, weights: np.ndarray,
                    u: np.ndarray, *args: Any, **skip: Any) -> np.ndarray:
            out = propose(X, rows, n_below, cols, weights, u, *args, **skip)
            plain = args[:11]  # without skip keys
            cands = [propose(X, rows, n_below, cols, weights, u[i : i + 1], *plain) for i in range(len(u))]
            self.calls += 1
            self.skipped += len(args) > 11 or any(skip.get(k) is not None for k in ("skip_keys", "skip_rows"))
            step, low = args[3], args[4]
            if np.all(step > 0):
                seen = self._evaluated(X, cols, step, low)
                def grid(v: np.ndarray) -> tuple[int, ...]:
                    return _grid(v, step, low)
                if grid(out) in seen and any(grid(c) not in seen for c in cands):
                    self.wasted += 1
            return out

        monkeypatch.setattr(kernels, "tpe_propose", wrapped)

    def _evaluated(self, X: np.ndarray, cols: np.ndarray, step: np.ndarray, low: np.ndarray) -> set[tuple[int, ...]]:
        h = self.study.view.history
        rows = np.flatnonzero(np.isin(h.states[: h.n], (0, 1, 2)))  # RUNNING, COMPLETE, PRUNED
        V = X[rows[:, None], cols]
        return {_grid(v, step, low) for v in V if not np.isnan(v).any()}


def _grid(v: np.ndarray, step: np.ndarray, low: np.ndarray) -> tuple[int, ...]:
    dn = len(step)
    return tuple(int(round((x - lo) / s)) for x, lo, s in zip(v[:dn], low, step)) + tuple(int(c) for c in v[dn:])


def _grid_objective(t: Trial) -> float:
    x = t.suggest_int("x", 0, 4)
    y = t.suggest_float("y", 0.0, 0.4, step=0.1)
    c = t.suggest_categorical("c", ["a", "b"])
    return (x - 2) ** 2 + (10 * y - 1) ** 2 + (c == "b")


@pytest.mark.parametrize("skip_evaluated", [True, False])
def test_tpe_skip_evaluated_never_repeats_while_a_candidate_is_untried(
        skip_evaluated: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    # 50 grid points, 45 trials: with the rule no proposal repeats a configuration while
    # one of its 24 candidates is untried; without it (Optuna's choice) several do.
    wasted = []
    for seed in range(3):
        study = hpo_core.create_study(sampler=TPESampler(seed=seed, skip_evaluated=skip_evaluated))
        oracle = Oracle(monkeypatch, study)
        study.optimize(_grid_objective, n_trials=45)
        assert oracle.calls == 35 and oracle.skipped == (35 if skip_evaluated else 0)
        wasted.append(oracle.wasted)
        if skip_evaluated:
            configs = [tuple(t.params.values()) for t in study.trials[10:]]
            assert len(set(configs)) > 30
    if skip_evaluated:
        assert wasted == [0, 0, 0]
    else:
        assert sum(wasted) >= 5


@pytest.mark.parametrize("space", ["continuous", "mixed", "one_parameter", "conditional"])
def test_tpe_skip_evaluated_leaves_other_spaces_unchanged(space: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Where the rule does not apply the kernel is called without skip keys (its plain
    # argmax) and the study is bit-identical to skip_evaluated=False.
    def objective(t: Trial) -> float:
        if space == "one_parameter":
            return abs(t.suggest_int("x", 0, 4) - 2)
        x = t.suggest_int("x", 0, 4)
        c = t.suggest_categorical("c", ["a", "b"])
        if space == "continuous":
            return (t.suggest_float("f", 0.0, 1.0) - 0.3) ** 2 + x
        if space == "mixed":
            return t.suggest_float("f", 0.0, 1.0, log=False) + x + (c == "a")
        # conditional: `z` only in branch a, outside the joint space {x, c}
        return x + (t.suggest_int("z", 0, 3) if c == "a" else 1.5)

    params = []
    for skip_evaluated in (True, False):
        study = hpo_core.create_study(sampler=TPESampler(seed=1, skip_evaluated=skip_evaluated))
        oracle = Oracle(monkeypatch, study)
        study.optimize(objective, n_trials=40)
        assert oracle.calls > 0 and oracle.skipped == 0
        params.append([t.params for t in study.trials])
    assert params[0] == params[1]


def test_tpe_skip_evaluated_counts_running_trials(monkeypatch: pytest.MonkeyPatch) -> None:
    # Trials RUNNING elsewhere (asked, parameters set, not told) are evaluated: a batch
    # of asks spreads over the grid instead of repeating the mode.
    for skip_evaluated, expect_wasted in ((True, False), (False, True)):
        wasted = 0
        for seed in range(4):
            study = hpo_core.create_study(sampler=TPESampler(seed=seed, skip_evaluated=skip_evaluated))
            study.optimize(_grid_objective, n_trials=20)
            oracle = Oracle(monkeypatch, study)
            batch = [study.ask() for _ in range(6)]
            for t in batch:
                _grid_objective(t)  # sets the parameters; the trial stays RUNNING
            assert all(t.state == TrialState.RUNNING for t in study.get_trials(deepcopy=False)[-6:])
            assert oracle.calls == 6
            wasted += oracle.wasted
        assert (wasted > 0) == expect_wasted


def test_tpe_skip_evaluated_matches_stepped_floats_by_grid_index(monkeypatch: pytest.MonkeyPatch) -> None:
    # Trials added with the decimal values (0.3) match candidates computed on the grid
    # (0.1 * 3 = 0.30000000000000004): every configuration but one evaluated, so the
    # proposal is the untried one whenever a candidate is.
    dists = {"a": FloatDistribution(0.0, 0.5, step=0.1), "b": FloatDistribution(0.0, 0.5, step=0.1)}
    values = [round(0.1 * i, 10) for i in range(6)]
    missing = (0.3, 0.3)
    hits = 0
    for seed in range(5):
        study = hpo_core.create_study(sampler=TPESampler(seed=seed, n_startup_trials=5))
        for a in values:
            for b in values:
                if (a, b) != missing:
                    study.add_trial(hpo_core.trial.create_trial(params={"a": a, "b": b}, distributions=dists,
                                                                value=abs(a - 0.3) + abs(b - 0.3)))
        oracle = Oracle(monkeypatch, study)
        t = study.ask(dists)
        assert oracle.calls == 1 and oracle.skipped == 1 and oracle.wasted == 0
        hits += (round(t.params["a"], 10), round(t.params["b"], 10)) == missing
    assert hits >= 1


def test_tpe_skip_evaluated_multi_objective_and_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    # Several objectives with multivariate=True, and group=True where the group is the
    # whole configuration: the rule applies. A conditional space's groups are not whole
    # configurations: it does not.
    def two(t: Trial) -> tuple[float, float]:
        v = _grid_objective(t)
        return v, -v

    study = hpo_core.create_study(directions=["minimize", "maximize"],
                                  sampler=TPESampler(seed=0, multivariate=True))
    oracle = Oracle(monkeypatch, study)
    study.optimize(two, n_trials=30)
    assert oracle.calls == 20 and oracle.skipped == 20 and oracle.wasted == 0

    study = hpo_core.create_study(sampler=TPESampler(seed=0, group=True))
    oracle = Oracle(monkeypatch, study)
    study.optimize(_grid_objective, n_trials=30)
    assert oracle.calls == 20 and oracle.skipped == 20 and oracle.wasted == 0

    def conditional(t: Trial) -> float:
        x = t.suggest_int("x", 0, 4)
        if t.suggest_categorical("c", ["a", "b"]) == "a":
            return x + t.suggest_int("z", 0, 3)
        return x + 0.5

    study = hpo_core.create_study(sampler=TPESampler(seed=0, group=True))
    oracle = Oracle(monkeypatch, study)
    study.optimize(conditional, n_trials=30)
    assert oracle.calls > 0 and oracle.skipped == 0


def test_tpe_skip_evaluated_is_validated_and_pickles() -> None:
    import pickle

    with pytest.raises(TypeError, match="skip_evaluated"):
        TPESampler(skip_evaluated=1)  # type: ignore[arg-type]
    sampler = TPESampler(seed=0)
    hpo_core.create_study(sampler=sampler).optimize(_grid_objective, n_trials=15)
    clone = pickle.loads(pickle.dumps(sampler))  # the evaluated keys are rebuilt per study
    runs = []
    for s in (sampler, clone):
        study = hpo_core.create_study(sampler=s)
        study.optimize(_grid_objective, n_trials=25)
        runs.append([t.params for t in study.trials])
    assert runs[0] == runs[1]


def test_tpe_evaluated_keys_incremental_equal_one_pass() -> None:
    # The keys kept row by row (Python scalars, a few rows per ask) equal those of one
    # vectorised pass over the whole history, and kernels.tpe_grid_keys of every
    # evaluated configuration; PRUNED rows count, FAIL rows do not.
    from hpo_core.samplers.tpe._evaluated import EvaluatedKeys

    sampler = TPESampler(seed=0)
    study = hpo_core.create_study(sampler=sampler)
    for i in range(60):
        t = study.ask()
        _grid_objective(t)
        if i % 11 == 0:
            study.tell(t, state=TrialState.FAIL)
        else:
            study.tell(t, float(i % 7), state=TrialState.PRUNED if i % 5 == 0 else TrialState.COMPLETE)
    h = study.view.history
    (_, kept), = [v for v in sampler._evaluated._spaces.values() if v[1] is not None]
    assert kept is not None
    fresh = EvaluatedKeys(*sampler._arrays(h.intersection_search_space(), h))
    np.testing.assert_array_equal(kept.update(h, -1), fresh.update(h, -1))
    rows = np.flatnonzero(np.isin(h.states[: h.n], (1, 2)))
    V = h.X[rows[:, None], fresh.cols]
    np.testing.assert_array_equal(kept.keys, np.sort(kernels.tpe_grid_keys(V, fresh.grid_low, fresh.step,
                                                                           fresh.strides)))
    assert len(kept.keys) == len(rows) < 60


def test_tpe_evaluated_keys_survive_growth_and_copies() -> None:
    # Past the key buffer's first 64 slots and the history's first 64 rows (both arrays
    # are replaced as they grow, and the memoryviews the scalar path reads through are
    # rebuilt), with trials left RUNNING across asks, the kept keys still equal one
    # vectorised pass, the skip arguments of an ask leave out only the asking trial's own
    # row, and a pickled or deep-copied sampler proposes what the original does.
    import copy
    import pickle

    from hpo_core.samplers.tpe._evaluated import EvaluatedKeys

    def objective(t: Trial) -> float:
        x = t.suggest_int("x", 0, 20)
        y = t.suggest_float("y", 0.0, 1.0, step=0.05)
        c = t.suggest_categorical("c", ["a", "b", "c"])
        return abs(x - 7) + abs(y - 0.3) + (c != "b")

    sampler = TPESampler(seed=3, n_startup_trials=5)
    study = hpo_core.create_study(sampler=sampler)
    running: list[Trial] = []
    for i in range(150):
        t = study.ask()
        v = objective(t)
        if i % 9 == 4:
            running.append(t)  # finished a few asks later
            continue
        study.tell(t, v)
        if running and i % 4 == 0:
            r = running.pop(0)
            study.tell(r, objective(r))
    h = study.view.history
    (_, kept), = [v for v in sampler._evaluated._spaces.values() if v[1] is not None]
    assert kept is not None and h.n == 150
    fresh = EvaluatedKeys(*sampler._arrays(h.intersection_search_space(), h))
    np.testing.assert_array_equal(kept.update(h, -1), fresh.update(h, -1))
    evaluated = np.flatnonzero(np.isin(h.states[: h.n], (1, 2)))
    assert len(kept.keys) == len(evaluated) > 64 and len(running) > 0
    # The RUNNING trials count, except the asking one.
    space, sa_cols = h.intersection_search_space(), sampler._arrays(h.intersection_search_space(), h)
    keys, _, _ = sampler._evaluated.skip_args(h, running[0], space, *sa_cols)
    rows = np.flatnonzero(np.isin(h.states[: h.n], (0, 1, 2)))
    rows = rows[rows != running[0].number]
    V = h.X[rows[:, None], kept.cols]
    np.testing.assert_array_equal(keys, np.sort(kernels.tpe_grid_keys(V, kept.grid_low, kept.step, kept.strides)))
    for r in running:
        study.tell(r, objective(r))
    clones = [pickle.loads(pickle.dumps(sampler)), copy.deepcopy(sampler)]
    runs = []
    for s in (sampler, *clones):
        other = hpo_core.create_study(sampler=s)
        other.optimize(objective, n_trials=30)
        runs.append([t.params for t in other.trials])
    assert runs[0] == runs[1] == runs[2]


def test_tpe_skip_evaluated_hashes_grids_beyond_2_to_the_64(monkeypatch: pytest.MonkeyPatch) -> None:
    # 8 ints of 1e6 values each (1e48 grid points): the keys are a 64-bit hash (odd
    # strides), kept as for exact keys; a constant (one-valued) parameter outside the
    # joint space does not stop the rule.
    def objective(t: Trial) -> float:
        t.suggest_categorical("const", ["only"])
        return sum(abs(t.suggest_int(f"x{i}", 0, 999_999, step=1) - 500_000) for i in range(8)) / 1e6

    sampler = TPESampler(seed=0, n_startup_trials=5)
    study = hpo_core.create_study(sampler=sampler)
    oracle = Oracle(monkeypatch, study)
    study.optimize(objective, n_trials=20)
    assert oracle.calls == 15 and oracle.skipped == 15 and oracle.wasted == 0
    (_, kept), = [v for v in sampler._evaluated._spaces.values() if v[1] is not None]
    assert kept is not None and np.all(kept.strides % np.uint64(2) == 1) and kept.strides[0] != 1
    h = study.view.history
    rows = np.flatnonzero(h.states[: h.n] == 1)
    V = h.X[rows[:, None], kept.cols]
    np.testing.assert_array_equal(kept.update(h, -1),
                                  np.sort(kernels.tpe_grid_keys(V, kept.grid_low, kept.step, kept.strides)))


def _pinned_objective(t: Trial) -> float:
    x = t.suggest_int("x", 0, 9)
    y = t.suggest_float("y", 0.0, 2.0, step=0.25)
    z = t.suggest_int("z", 1, 64, log=True)
    c = t.suggest_categorical("c", ["a", "b", "c"])
    return abs(x - 6) + abs(y - 0.75) + abs(z - 20) / 10 + (c != "b")


def _pinned_run(case: str, seed: int, n_trials: int = 70) -> list[list[Any]]:
    """Parameters of a seeded study (one list per trial) in one of the pinned cases."""
    kwargs: dict[str, Any] = {"seed": seed, "n_startup_trials": 8}
    kwargs.update({"liar_off": {"constant_liar": False}, "capped": {"max_bad_components": 16},
                   "two_objectives": {"multivariate": True}, "group": {"group": True}}.get(case, {}))
    directions = ["minimize", "maximize"] if case == "two_objectives" else ["minimize"]
    study = hpo_core.create_study(sampler=TPESampler(**kwargs), directions=directions)
    batch = 4 if case in ("batches", "liar_off") else 1
    for i in range(0, n_trials, batch):
        trials = [study.ask() for _ in range(batch)]
        values = [_pinned_objective(t) for t in trials]  # the batch is RUNNING together
        for j, (t, v) in enumerate(zip(trials, values)):
            k = i + j
            if case == "pruned_failed" and k % 7 == 3:
                study.tell(t, state=TrialState.FAIL)
            elif case == "pruned_failed" and k % 5 == 1:
                t.report(v, 1)
                study.tell(t, state=TrialState.PRUNED)
            else:
                study.tell(t, (v, -v) if len(directions) == 2 else v)
    return [[t.params["x"], t.params["y"], t.params["z"], t.params["c"]] for t in study.get_trials(deepcopy=False)]


@pytest.mark.parametrize("case", ["sequential", "batches", "liar_off", "pruned_failed", "capped", "two_objectives",
                                  "group"])
def test_tpe_skip_evaluated_proposals_are_pinned(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Seeded studies propose what they proposed when the evaluated configurations were
    # always passed as keys (data/tpe_skip_evaluated_pinned.json: first at git dbf6b6d;
    # regenerated when skipped repeats began to count in the model (_repeats), the same
    # from the C++, Numba and NumPy backends; the two-objective runs, which record no
    # repeat, unchanged): the observations passed as skip_rows where they are every
    # evaluated configuration (sequential, batches with the constant liar, PRUNED and
    # FAIL trials, two objectives, groups), the keys where they are not (RUNNING trials
    # without the liar, the resample above max_bad_components), and both in turn.
    import json
    from pathlib import Path

    pinned = json.loads((Path(__file__).parent / "data" / "tpe_skip_evaluated_pinned.json").read_text())
    calls = {"rows": 0, "keys": 0}
    propose = kernels.tpe_propose

    def counted(*args: Any, **kwargs: Any) -> np.ndarray:
        skip = args[17:] or tuple(kwargs.get(k) for k in ("skip_keys", "key_strides", "skip_rows"))
        if any(v is not None for v in skip):
            calls["rows" if len(skip) > 2 and skip[2] is not None else "keys"] += 1
        return propose(*args, **kwargs)

    monkeypatch.setattr(kernels, "tpe_propose", counted)
    for seed in (0, 1):
        # Group mode on this unconditional space is the joint (sequential) sampler.
        assert _pinned_run(case, seed) == pinned[f"{'sequential' if case == 'group' else case}/{seed}"]
    assert calls["rows"] > 0 if case != "liar_off" else calls["rows"] == 0
    assert calls["keys"] > 0 if case in ("liar_off", "capped") else calls["keys"] == 0
