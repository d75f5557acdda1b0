"""WilcoxonPruner against Optuna 5.0's, on the same per-instance reports (steps in a
shuffled order, as the pruner is meant to be used)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

pytest.importorskip("optuna", reason="optuna is not installed: these tests compare with Optuna 5.0's pruners")

from _pruner_parity import decisions_of_both, interleaved, sequential  # noqa: E402

import hpo_core  # noqa: E402
from hpo_core.exceptions import HpoWarning  # noqa: E402
from hpo_core.pruners import WilcoxonPruner  # noqa: E402

NAN, INF = math.nan, math.inf


def instance_curves(seed: int, n_trials: int = 12, n_instances: int = 12) -> list:
    """Per trial: a level plus per-instance noise, instances in a random order, some
    instances skipped; finals are the means (what the pruned trials would return)."""
    rng = np.random.default_rng(seed)
    difficulty = rng.normal(size=n_instances)
    curves = []
    for _ in range(n_trials):
        level = rng.normal(0.0, 1.0)
        order = rng.permutation(n_instances)[: int(rng.integers(n_instances // 2, n_instances + 1))]
        reports = [(int(i), float(level + difficulty[i] + rng.normal(0.0, 0.3))) for i in order]
        curves.append((reports, float(np.mean([v for _, v in reports]))))
    return curves


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("kwargs", [{}, {"p_threshold": 0.3}, {"p_threshold": 0.05, "n_startup_steps": 5}])
def test_wilcoxon_matches_optuna(direction: str, seed: int, kwargs: dict) -> None:
    events = sequential(instance_curves(seed))
    ours, theirs = decisions_of_both(lambda p: p.WilcoxonPruner(**kwargs), events, direction)
    assert ours == theirs
    assert any(d for _, _, d in ours)


@pytest.mark.parametrize("seed", range(3))
def test_wilcoxon_interleaved_matches_optuna(seed: int) -> None:
    events = interleaved(instance_curves(seed, n_trials=16), n_workers=3, seed=seed)
    ours, theirs = decisions_of_both(lambda p: p.WilcoxonPruner(p_threshold=0.2), events)
    assert ours == theirs


def test_wilcoxon_non_finite_reports_match_optuna() -> None:
    base = [(i, float(i)) for i in range(6)]
    curves = [(base, 2.5),
              ([(i, v + 5.0) for i, v in base[:3]] + [(3, NAN), (4, 9.0)], 5.0),  # NaN: never pruned
              ([(i, v + 5.0) for i, v in base] + [(9, 1.0)], 8.0),  # step 9 not in the best trial
              ([(0, INF)], 1.0)]
    ours, theirs = decisions_of_both(lambda p: p.WilcoxonPruner(p_threshold=0.5), sequential(curves))
    assert ours == theirs
    assert [d for i, _, d in ours if i == 1] == [False, True, True, False, False]  # NaN from step 3 on


def test_wilcoxon_warns_on_nan_reports() -> None:
    study = hpo_core.create_study(pruner=WilcoxonPruner())
    trial = study.ask()
    trial.report(NAN, 0)
    with pytest.warns(HpoWarning, match="NaN or infinity"):
        assert not trial.should_prune()


def test_wilcoxon_without_best_trial_keeps_trials() -> None:
    study = hpo_core.create_study(pruner=WilcoxonPruner())
    trial = study.ask()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for i in range(5):
            trial.report(float(i), i)
            assert not trial.should_prune()


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"p_threshold": -0.1}, ValueError, "p_threshold"),
        ({"p_threshold": 1.5}, ValueError, "p_threshold"),
        ({"p_threshold": "0.1"}, TypeError, "p_threshold"),
        ({"n_startup_steps": -1}, ValueError, "n_startup_steps"),
        ({"n_startup_steps": 2.0}, TypeError, "n_startup_steps"),
    ],
)
def test_wilcoxon_rejects_bad_arguments(kwargs: dict, error: type, name: str) -> None:
    with pytest.raises(error, match=name):
        WilcoxonPruner(**kwargs)


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_wilcoxon_compares_with_the_best_feasible_trial_as_optuna(direction: str) -> None:
    import optuna

    sign = 1.0 if direction == "minimize" else -1.0
    # (level, constraint): the best value violates its constraint; the best feasible
    # trial (level 1.0) is the one to beat, so a trial at level 0.5 is kept.
    done = [(0.0, 1.0), (1.0, -1.0), (2.0, None), (1.0, 0.0)]
    decisions: dict[str, list[bool]] = {}
    for lib in (hpo_core, optuna):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            study = lib.create_study(direction=direction, pruner=lib.pruners.WilcoxonPruner(p_threshold=0.3))
            for level, constraint in done:
                trial = study.ask()
                for i in range(8):
                    trial.report(sign * (level + 0.01 * i), i)
                if constraint is not None:
                    study._storage.set_trial_system_attr(trial._trial_id, "constraints", (constraint,)) \
                        if lib is optuna else trial.set_system_attr("constraints", [constraint])
                study.tell(trial, sign * level)
            trial = study.ask()
            decisions[lib.__name__] = []
            for i in range(8):
                trial.report(sign * (0.5 + 0.013 * i + (1.6 if i > 3 else 0.0)), i)
                decisions[lib.__name__].append(trial.should_prune())
    assert decisions["hpo_core"] == decisions["optuna"]
    assert decisions["hpo_core"][:4] == [False] * 4 and any(decisions["hpo_core"])


def test_wilcoxon_pickled_pruner_decides_as_before() -> None:
    """A pickled pruner (its caches dropped), and one pickled before the kernel cache and
    the minimum pair count were attributes, make the original's decisions."""
    import pickle

    rng = np.random.default_rng(0)
    pruner = WilcoxonPruner(p_threshold=0.2, n_startup_steps=3)
    study = hpo_core.create_study(pruner=pruner)
    best = study.ask()
    for i in range(60):
        best.report(float(rng.normal()), i)
    study.tell(best, 0.0)
    trial = study.ask()
    copies = [pickle.loads(pickle.dumps(pruner))]
    old = pruner.__getstate__()
    del old["_kernel"], old["_min_pairs"]
    copies.append(WilcoxonPruner.__new__(WilcoxonPruner))
    copies[-1].__setstate__(old)
    decisions: list[list[bool]] = [[], [], []]
    for i in range(60):
        trial.report(float(rng.normal() + 0.4), i)
        for k, p in enumerate([pruner, *copies]):
            study.pruner = p
            decisions[k].append(trial.should_prune())
    assert decisions[1] == decisions[0] and decisions[2] == decisions[0]
    assert decisions[0][:2] == [False, False] and any(decisions[0])
