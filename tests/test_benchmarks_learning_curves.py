"""``benchmarks/learning_curves.py`` (issue 13): the read-out and a tiny run of the script.

The full run (20 seeds, both tables, Optuna beside hpo_core) takes minutes; these run a few
trials of one table so the script cannot rot. Optuna and matplotlib are not in the ``test``
extra: the parts that need them skip where they are missing.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
lc = importlib.import_module("learning_curves")

# [epochs so far, final error] after each completed trial
EVENTS = [[10, 0.5], [25, 0.3], [40, 0.4], [70, 0.2]]


def test_learning_curves_epochs_to_reach_the_target() -> None:
    assert lc.epochs_to_reach(EVENTS, 0.3, 100) == 25
    assert lc.epochs_to_reach(EVENTS, 0.25, 100) == 70
    assert lc.epochs_to_reach(EVENTS, 0.25, 60) == math.inf  # reached only past the budget
    assert lc.epochs_to_reach(EVENTS, 0.1, 100) == math.inf
    assert lc.epochs_to_reach([], 0.1, 100) == math.inf


def test_learning_curves_best_within_and_best_so_far() -> None:
    assert lc.best_within(EVENTS, 39) == 0.3 and lc.best_within(EVENTS, 70) == 0.2
    assert lc.best_within(EVENTS, 9) == math.inf
    grid = np.array([0, 10, 24, 25, 69, 70, 100])
    np.testing.assert_array_equal(lc.best_so_far(EVENTS, grid), [math.inf, 0.5, 0.5, 0.3, 0.3, 0.2, 0.2])
    np.testing.assert_array_equal(lc.best_so_far([], grid), np.full(7, math.inf))


def test_learning_curves_rejects_an_unknown_configuration() -> None:
    with pytest.raises(ValueError, match="hpo_hyperband"):
        lc.main(["--configs", "hpo_hyperband", "--seeds", "1", "--budget", "2"])


def test_learning_curves_pruned_runs_spend_the_full_budget() -> None:
    budget = 8 * lc._curves.CURVES["mlp_digits_curves"].n_steps
    run = lc.run_one("mlp_digits_curves", "hpo_asha:reduction_factor=3", 0, 8)
    assert budget <= run["epochs"] < budget + lc._curves.CURVES["mlp_digits_curves"].n_steps
    assert run["n_trials"] > 8 and run["n_pruned"] > 0
    epochs = [e for e, _ in run["events"]]
    assert epochs == sorted(epochs) and len(epochs) == run["n_trials"] - run["n_pruned"]
    full = lc.run_one("mlp_digits_curves", "hpo_tpe", 0, 8)
    assert full["epochs"] == budget and full["n_trials"] == 8 and full["n_pruned"] == 0


def test_learning_curves_auto_rule_matches_the_library() -> None:
    # hpo_core's min_resource="auto" is the prototype rule rf1r for ASHA and rf1 for
    # Hyperband; rf1 on ASHA differs from it on this table (27 // 4 = 6, 28 // 4 = 7).
    table = "gbm_curves"
    for default, rule in (("hpo_asha", "hpo_asha:auto_rule=rf1r"), ("hpo_bohb", "hpo_bohb:auto_rule=rf1")):
        assert lc.run_one(table, default, 0, 6)["events"] == lc.run_one(table, rule, 0, 6)["events"]
    mlp = "mlp_digits_curves"
    assert lc.run_one(mlp, "hpo_asha", 0, 6)["events"] != lc.run_one(mlp, "hpo_asha:auto_rule=rf1", 0, 6)["events"]


def test_learning_curves_s100_rule_is_optunas_auto() -> None:
    pytest.importorskip("optuna", reason="optuna is not installed: the rule is checked against Optuna 5.0's")
    plain = lc.run_one("mlp_digits_curves", "optuna_asha", 1, 6)
    assert plain["n_pruned"] > 0
    assert plain["events"] == lc.run_one("mlp_digits_curves", "optuna_asha:auto_rule=s100", 1, 6)["events"]
    assert plain["events"] != lc.run_one("mlp_digits_curves", "optuna_asha:auto_rule=rf1r", 1, 6)["events"]


def test_learning_curves_smoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    configs = "hpo_asha,hpo_bohb"
    if importlib.util.find_spec("optuna") is not None:
        configs += ",optuna_asha,optuna_bohb"
    argv = ["--tables", "gbm_curves", "--seeds", "2", "--budget", "6", "--configs", configs,
            "--out", str(tmp_path / "r.json")]
    has_plot = importlib.util.find_spec("matplotlib") is not None
    if has_plot:
        argv += ["--plot", str(tmp_path / "r.png")]
    assert lc.main(argv) == 0
    out = capsys.readouterr().out
    assert "| `gbm_curves` | hpo_core TPE, full budget | " in out
    assert "| `gbm_curves` | hpo_core TPE + Hyperband (BOHB) | " in out
    assert "- `gbm_curves`, hpo_core TPE + ASHA: median " in out
    result = json.loads((tmp_path / "r.json").read_text())
    rows = {r["config"]: r for r in result["summary"]}
    assert rows["hpo_tpe"]["n_reached"] == 2  # full-budget TPE reaches its own final best
    assert all(len(r["fractions"]) == 2 for r in rows.values())
    assert len(result["runs"]["gbm_curves"]["hpo_asha"]) == 2
    if has_plot:
        assert (tmp_path / "r.png").stat().st_size > 10_000


def test_learning_curves_reuse_charges_only_new_steps() -> None:
    ledger = lc._Ledger(reuse=True)
    a, b = {"x": 1}, {"x": 2}
    ledger.add(a, 4, None)  # pruned at step 4
    ledger.add(a, 27, 0.1)  # resumed: 23 new steps
    ledger.add(a, 27, 0.1)  # a re-run of a trained configuration costs nothing
    ledger.add(b, 3, None)
    assert ledger.epochs == 30 and ledger.events == [[27, 0.1], [27, 0.1]] and ledger.n_repeats == 1
    plain = lc._Ledger(reuse=False)
    plain.add(a, 4, None)
    plain.add(a, 27, 0.1)
    assert plain.epochs == 31 and plain.trained == {(1,): 27}


def test_learning_curves_first_seed_names_the_seeds(tmp_path: Path) -> None:
    argv = ["--tables", "gbm_curves", "--seeds", "2", "--first-seed", "100", "--budget", "3",
            "--configs", "hpo_tpe", "--out", str(tmp_path / "r.json")]
    assert lc.main(argv) == 0
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["first_seed"] == 100
    runs = result["runs"]["gbm_curves"]["hpo_tpe"]
    assert [r["events"] for r in runs] == [lc.run_one("gbm_curves", "hpo_tpe", s, 3)["events"] for s in (100, 101)]


def test_tpe_pruned_variants_change_only_pruned_studies(capsys: pytest.CaptureFixture[str]) -> None:
    variants = importlib.import_module("tpe_pruned_variants")
    argv = ["--tables", "gbm_curves", "--seeds", "1", "--budget", "8", "--variants", "plain,random+dedupe+common:2"]
    # The script raises if a variant's unpruned (full-budget) runs differ from the plain sampler's.
    assert variants.main(argv) == 0
    out = capsys.readouterr().out
    # The default pruned rows are Optuna 5.0's default rules, named as such.
    assert "| `gbm_curves` | ASHA (auto_rule='s100') | random+dedupe+common:2 | " in out
    assert "| `gbm_curves` | Hyperband (BOHB) (min_resource=1) | random+dedupe+common:2 | " in out
    assert "every variant's full-budget runs equal the plain sampler's" in out


def _rung_decisions(lib: str, spec: str, first_values: list[float]) -> list[bool]:
    """``should_prune()`` after step 1 for trials reporting ``first_values[i]`` at step 1
    (``min_resource=1``: rung 0 ends there), each told COMPLETE or PRUNED accordingly."""
    mod = lc._library(lib)
    name, kwargs = lc.parse(spec)
    study = mod.create_study(pruner=lc.make_pruner(mod, lib, str(lc.CONFIGS[name][1]), kwargs))
    out = []
    for v in first_values:
        trial = study.ask()
        trial.report(v, 1)
        out.append(bool(trial.should_prune()))
        if out[-1]:
            study.tell(trial, state=mod.trial.TrialState.PRUNED)
        else:
            study.tell(trial, v)
    return out


@pytest.mark.parametrize("lib", ["hpo_core", "optuna"])
def test_learning_curves_distinct_rung_counts_equal_curves_once(lib: str) -> None:
    if lib == "optuna":
        pytest.importorskip("optuna", reason="optuna is not installed")
    prefix = "hpo" if lib == "hpo_core" else "optuna"
    spec = f"{prefix}_asha:min_resource=1:reduction_factor=2"
    values = [0.1, 0.1, 0.1, 0.3, 0.5, 0.2]
    # Plain ASHA: three copies of 0.1 hold the best half of six, so 0.2 is pruned. Counting
    # the equal curves once, 0.2 is in the best half of (0.1, 0.3, 0.5, 0.2).
    assert _rung_decisions(lib, spec, values) == [False, False, False, True, True, True]
    assert _rung_decisions(lib, spec + ":rung=distinct", values) == [False, False, False, True, True, False]
    distinct = [0.4, 0.1, 0.3, 0.5, 0.2, 0.25]  # no repeats: the same decisions as plain ASHA
    assert _rung_decisions(lib, spec + ":rung=distinct", distinct) == _rung_decisions(lib, spec, distinct)


def test_learning_curves_distinct_rung_runs_in_hyperband() -> None:
    # Hyperband's brackets build their pruners lazily; each gets the distinct-curve index.
    import hpo_core

    pruner = lc.make_pruner(hpo_core, "hpo_core", "HyperbandPruner", {"rung": "distinct"})
    study = hpo_core.create_study(sampler=hpo_core.samplers.TPESampler(seed=0), pruner=pruner)
    study.optimize(lc._curves.make_objective("mlp_digits_curves"), n_trials=6)
    assert len(pruner._pruners) > 1
    assert all(isinstance(p._rungs, lc.DistinctCurveRungs) for p in pruner._pruners)


def test_tpe_pruned_variants_out_and_diagnose(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    variants = importlib.import_module("tpe_pruned_variants")
    argv = ["--tables", "mlp_digits_curves", "--seeds", "2", "--budget", "8", "--variants", "plain",
            "--pruned", "hpo_asha", "--diagnose", "--out", str(tmp_path / "v.json")]
    assert variants.main(argv) == 0
    out = capsys.readouterr().out
    assert "1/3 (first third of the budget): target = grid optimum in" in out
    rows = json.loads((tmp_path / "v.json").read_text())["rows"]
    assert [(r["variant"], r["pruned"], len(r["fractions"])) for r in rows] == [("plain", "hpo_asha", 2)]
