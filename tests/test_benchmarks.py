"""Smoke tests of the benchmark scripts (quality.py, quality_paired.py, quality_mo.py, overhead_tpe.py,
overhead_tpe_paired.py, overhead_gp.py).

Tiny configurations only (one problem, one seed, a few trials). The libraries compared
against are not in the ``test`` extra, so each test skips, saying which, where one is
missing (``pip install -e '.[benchmark,quality]'`` installs them).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


def _needs(*modules: str) -> None:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (pip install -e '.[benchmark,quality]')")


def _load(name: str) -> Any:
    """Import ``benchmarks/<name>.py`` (the scripts import their siblings by plain name)."""
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    return importlib.import_module(name)


def _quiet(_: str) -> None:
    pass


def _assert_ranks(result: dict[str, Any], specs: list[str]) -> None:
    k = len(specs)
    for row in result["problems"].values():
        for key in ("rank", "rank_half"):
            ranks = sorted(row["samplers"][s][key] for s in specs)
            assert all(1 <= r <= k for r in ranks)
            assert sum(ranks) == pytest.approx(k * (k + 1) / 2)  # average ranks for ties
            if len(set(ranks)) == k:
                assert ranks == list(range(1, k + 1))


def test_quality_bbob_regret_table(tmp_path: Path) -> None:
    _needs("cocoex", "optuna", "scipy")
    quality = _load("quality")
    specs = ["hpo_random", "optuna_random", "hpo_qmc"]
    out = tmp_path / "q.json"
    data = quality.run_all(specs, ["bbob_f01_d2"], [0], 12, out, log=_quiet)
    assert sorted(data["runs"]) == sorted(quality.run_key(s, "bbob_f01_d2", 0, 12) for s in specs)
    for rec in data["runs"].values():
        best = [rec["best"][str(c)] for c in quality.checkpoints(12)]
        assert all(b >= 0 for b in best)
        assert best == sorted(best, reverse=True)  # best-so-far never gets worse

    result = quality.analyse(data, specs, 12)
    assert list(result["problems"]) == ["bbob_f01_d2"]
    row = result["problems"]["bbob_f01_d2"]
    assert row["reference"] == 0.0 and row["seeds"] == [0]
    for s in specs:
        r = row["samplers"][s]
        assert r["median_regret"] >= 0 and r["median_regret_half"] >= r["median_regret"]
        assert r["sampler_s"] <= r["wall_s"]
    _assert_ranks(result, specs)
    assert set(result["groups"]) == {"bbob", "all"}
    assert np.mean([result["groups"]["bbob"]["samplers"][s]["mean_rank"] for s in specs]) == pytest.approx(2.0)

    # Each run at its own budget (--summary): the same here, since every run has 12 trials.
    own_budget = quality.analyse(data, specs, None)
    assert own_budget["problems"] == result["problems"]

    table = quality.regret_table(result, "bbob").splitlines()
    assert len(table) == 3 and table[2].startswith("| bbob_f01_d2 | 1 |")
    assert all(f"`{s}`" in quality.summary_table(result) for s in specs)


def test_quality_resumes_from_cache(tmp_path: Path) -> None:
    _needs("cocoex", "scipy")
    quality = _load("quality")
    out = tmp_path / "q.json"
    first = quality.run_all(["hpo_random"], ["bbob_f02_d2"], [0], 5, out, log=_quiet)
    messages: list[str] = []
    second = quality.run_all(["hpo_random"], ["bbob_f02_d2"], [0], 5, out, log=messages.append)
    assert messages == [f"0 runs to do, 1 cached in {out}"]
    assert second["runs"] == first["runs"] == quality.load_results(out)["runs"]
    messages.clear()
    quality.run_all(["hpo_random"], ["bbob_f02_d2"], [0], 5, out, rerun=["hpo_random"], log=messages.append)
    assert messages[0] == f"1 runs to do, 0 cached in {out}"


def test_quality_sklearn_task_against_best_found(tmp_path: Path) -> None:
    _needs("sklearn", "optuna", "scipy")
    quality = _load("quality")
    specs = ["hpo_random", "optuna_random"]
    data = quality.run_all(specs, ["enet_diabetes"], [0], 4, tmp_path / "q.json", log=_quiet)
    result = quality.analyse(data, specs, 4)
    row = result["problems"]["enet_diabetes"]
    assert row["group"] == "sklearn"
    assert row["reference"] == min(r["best"]["4"] for r in data["runs"].values())
    regrets = [row["samplers"][s]["median_regret"] for s in specs]
    assert min(regrets) == 0.0 and all(r >= 0 for r in regrets)
    _assert_ranks(result, specs)
    assert "| enet_diabetes | 1 |" in quality.regret_table(result, "sklearn")


def test_quality_runs_a_task_with_a_list_parameter(tmp_path: Path) -> None:
    # mlp_digits returns its layer widths as a list: the distinct-configuration count must
    # still hash it (a TypeError here once dropped every mlp_digits run as an error).
    _needs("sklearn", "torch", "scipy")
    quality = _load("quality")
    data = quality.run_all(["hpo_random"], ["mlp_digits"], [0], 2, tmp_path / "q.json", log=_quiet)
    (rec,) = data["runs"].values()
    assert "error" not in rec
    assert rec["distinct"] == {"1": 1, "2": 2}


def test_quality_hyperopt_space_matches_objective() -> None:
    _needs("hyperopt")
    problems = _load("_problems")
    from hyperopt.pyll.stochastic import sample

    rng = np.random.default_rng(0)
    for problem in problems.sklearn_problems() + problems.bbob_problems([3], [1]):
        space = problem.hyperopt_space()
        for _ in range(20):
            params = problems.flatten(sample(space, rng=rng))
            trial = problems.DictTrial(params)
            # A wrong name or a value outside the suggested range raises inside DictTrial.
            suggested = problem.suggest(trial)
            assert set(trial.used) == set(params)  # no parameter of the sample is left over
            assert suggested


def test_quality_parse_sampler_options() -> None:
    _needs("scipy")
    quality = _load("quality")
    assert quality.parse_sampler("hpo_tpe:n_ei_candidates=64:multivariate=True:gamma_mode=x") == (
        "hpo_tpe", {"n_ei_candidates": 64, "multivariate": True, "gamma_mode": "x"})
    with pytest.raises(ValueError, match="unknown sampler"):
        quality.parse_sampler("tpe")
    with pytest.raises(ValueError, match="key=value"):
        quality.parse_sampler("hpo_tpe:64")
    assert quality.parse_sampler("hpo_auto:tpe_kwargs.group=True:tpe_kwargs.n_ei_candidates=8") == (
        "hpo_auto", {"tpe_kwargs": {"group": True, "n_ei_candidates": 8}})
    with pytest.raises(ValueError, match="dict_arg"):
        quality.parse_sampler("hpo_auto:seed=1:seed.x=2")


def test_quality_paired_reads_the_cache(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _needs("scipy")
    quality = _load("quality")
    paired = _load("quality_paired")
    runs = {}
    for seed in range(6):
        for spec, shift in (("hpo_tpe", 0.0), ("optuna_tpe", 0.1 * (seed + 1))):
            # "p_better": hpo_tpe lower on every seed; "p_tied": the same losses.
            for problem, delta in (("p_better", shift), ("p_tied", 0.0)):
                best = {str(c): 10.0 - c + seed + delta for c in quality.checkpoints(10)}
                runs[quality.run_key(spec, problem, seed, 10)] = {
                    "sampler": spec, "problem": problem, "group": "sklearn", "seed": seed,
                    "n_trials": 10, "best": best}
    runs.pop(quality.run_key("optuna_tpe", "p_better", 5, 10))  # seed 5 is not paired there
    path = tmp_path / "q.json"
    quality.save_results(path, {"runs": runs})

    assert paired.main(["--results", str(path), "--trials", "10"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 + 2 * 2  # header, rule, two problems at 10 and at 5 trials
    assert lines[2].startswith("| p_better | 10 | 5 | 5 | 0 | 0 | 2 | 2.3 | -0.3 | 0.062 | 0.125 |")
    assert lines[3].startswith("| p_tied | 10 | 6 | 0 | 0 | 6 | 2.5 | 2.5 | +0 | 1.000 (all tied) | 1.000 |")
    assert lines[4].startswith("| p_better | 5 | 5 | 5 | 0 | 0 | 7 | 7.3 |")

    assert paired.sign_test(5, 0) == pytest.approx(2 / 32)
    assert paired.sign_test(3, 3) == 1.0
    assert paired.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    with pytest.raises(SystemExit):
        paired.parse_args(["--budgets", "7"])  # not a checkpoint of 100 trials


def _overhead_args(overhead: Any, paths: list[str]) -> argparse.Namespace:
    return overhead.parse_args(["--sampler", "random", "--sizes", "15,40", "--window", "10",
                                "--paths", ",".join(paths), "--skip-cold"])


def test_overhead_tpe_cells(tmp_path: Path) -> None:
    overhead = _load("overhead_tpe")
    paths = ["hpo_dbr", "hpo_space"]
    paths += [p for p, m in (("optuna", "optuna"), ("rustuna", "rustuna")) if importlib.util.find_spec(m)]
    args = _overhead_args(overhead, paths)
    cells = overhead.run_cells(args, _quiet)
    assert [(c.path, c.size) for c in cells] == [(p, s) for s in (15, 40) for p in paths]
    for c in cells:
        assert c.error is None and c.skipped is None
        assert len(c.times_ns) == 10 and min(c.times_ns) > 0
        assert 0 < c.median_us <= c.p90_us
    text = overhead.tables(cells, [], args)
    for p in paths:
        assert f"| {overhead.LABELS[p]} |" in text

    readme = tmp_path / "README.md"
    readme.write_text("# Benchmarks\n\nkept\n")
    common = _load("_common")
    common.write_section(readme, overhead.MARKER, "first")
    common.write_section(readme, overhead.MARKER, "second")
    content = readme.read_text()
    assert "kept" in content and "second" in content and "first" not in content
    assert content.count(f"<!-- {overhead.MARKER}:start -->") == 1


def test_overhead_tpe_skips_slow_cells() -> None:
    overhead = _load("overhead_tpe")
    args = _overhead_args(overhead, ["hpo_space"])
    args.ask_limit = 0.0  # every probe is "too slow"
    cells = overhead.run_cells(args, _quiet)
    assert cells[0].skipped and cells[0].skipped.startswith("skipped (one ask+tell took")
    assert len(cells[0].times_ns) == 1  # the probe only
    assert cells[1].skipped  # the larger size is not even prefilled
    assert "skipped" in overhead.tables(cells, [], args)


def test_overhead_tpe_paired_rotates_the_arms_in_one_process() -> None:
    paired = _load("overhead_tpe_paired")
    root = BENCH.parent  # this checkout as the baseline tree: a second copy of the package
    args = paired.parse_args(["--size", "14", "--window", "4", "--reps", "3", "--baseline-tree", str(root)])
    res = paired.run(args)
    arms = ["hpo_core", paired.BASELINE] + (["rustuna"] if importlib.util.find_spec("rustuna") else [])
    assert list(res) == arms
    for times in res.values():
        assert times.shape == (3,) and (times > 0).all()
    baseline = sys.modules[paired.BASELINE]
    assert Path(baseline.__file__).parent.name == paired.BASELINE  # loaded from the copy
    assert baseline.create_study is not sys.modules["hpo_core"].create_study
    text = paired.report(res, args)
    assert f"hpo_core / {paired.BASELINE}:" in text and "faster in" in text
    with pytest.raises(SystemExit):
        paired.parse_args(["--size", "3", "--window", "4"])


def test_overhead_tpe_random_params_fit_the_space() -> None:
    overhead = _load("overhead_tpe")
    import hpo_core

    dists = overhead.distributions(hpo_core)
    for params in overhead.random_params(200, seed=0):
        hpo_core.create_trial(params=params, distributions=dists, value=overhead.objective(params))


def test_overhead_tpe_discrete_space() -> None:
    # --space discrete: every parameter discrete (TPESampler's skip_evaluated rule applies),
    # random points on its grids, and the hpo_dbr_plain path (the rule off) runs.
    overhead = _load("overhead_tpe")
    import hpo_core

    try:
        args = overhead.parse_args(["--sizes", "15,30", "--window", "10", "--paths", "hpo_dbr,hpo_dbr_plain",
                                    "--skip-cold", "--space", "discrete"])
        assert [name for name, *_ in overhead.SPACE] == [name for name, *_ in overhead.SPACE_DISCRETE]
        dists = overhead.distributions(hpo_core)
        assert all(not isinstance(d, hpo_core.distributions.FloatDistribution) or d.step for d in dists.values())
        for params in overhead.random_params(100, seed=0):
            hpo_core.create_trial(params=params, distributions=dists, value=overhead.objective(params))
        cells = overhead.run_cells(args, _quiet)
        assert all(c.error is None and c.skipped is None and len(c.times_ns) == 10 for c in cells)
        assert "skip_evaluated=False" in overhead.tables(cells, [], args)
    finally:
        overhead.SPACE[:] = overhead.SPACE_MIXED


def test_quality_mo_smoke(capsys: pytest.CaptureFixture[str]) -> None:
    # hpo_core only: one seed, a few trials past the GP's start-up.
    _load("quality_mo").main(["--dims", "2", "--trials", "12", "--seeds", "1"])
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| `hpo_")]
    assert [r.split("|")[1].strip() for r in rows] == ["`hpo_gp`", "`hpo_tpe`", "`hpo_random`"]
    assert all(0.0 < float(r.split("|")[2]) < 1.1 * 11.0 for r in rows)


def test_overhead_gp_smoke(capsys: pytest.CaptureFixture[str]) -> None:
    _load("overhead_gp").main(["--sizes", "12", "--paths", "hpo", "--window", "1"])
    out = capsys.readouterr().out
    assert "| hpo_core `GPSampler` |" in out and "ms" in out


def _overhead_small(space: str) -> list[str]:
    return ["--space", space, "--max-trials", "60", "--sqlite-max-trials", "30", "--optuna-max-trials", "20",
            "--optuna-sqlite-max-trials", "2", "--rustuna-sqlite-max-trials", "2", "--repeat", "1",
            "--warmup", "5", "--sqlite-warmup", "1", "--batch-size", "20", "--min-window", "5"]


@pytest.mark.parametrize("space", ["uniform", "mixed"])
def test_overhead_smoke(space: str, capsys: pytest.CaptureFixture[str]) -> None:
    overhead = _load("overhead")
    # SQLite (Optuna's and rustuna's schema creation take seconds) on the mixed space only.
    assert overhead.main(_overhead_small(space) + (["--skip-sqlite"] if space == "uniform" else [])) == 0
    out = capsys.readouterr().out
    hpo_rows = [line for line in out.splitlines() if line.startswith("| hpo_core")]
    # Four paths in memory (table and memory table), two on SQLite; every one measured and checked.
    assert len(hpo_rows) == 4 + 4 + (2 if space == "mixed" else 0)
    assert not [r for r in hpo_rows if "error" in r or "sanity" in r]
    assert ("#### SQLite file (ms per trial)" in out) == (space == "mixed")
    optuna = "Optuna `ask(dict)`" if space == "uniform" else "Optuna define-by-run"
    assert f"| {optuna} |" in out
    assert ("#### Targets (mixed space)" in out) == (space == "mixed")
    if space == "mixed":
        assert "- hpo_core define-by-run on SQLite: " in out and "(target at most 3 ms: " in out
        assert "- hpo_core `ask(dict)` + `trial.params` + `tell` in memory: " in out


def test_overhead_mixed_values_match_objective() -> None:
    overhead = _load("overhead")
    tpe = _load("overhead_tpe")
    import hpo_core

    dists = overhead.dists_of(hpo_core, "mixed")
    params = tpe.random_params(100, seed=3)
    X = np.array([[d.to_internal_repr(p[name]) for name, d in dists.items()] for p in params])
    expected = [tpe.objective(p) for p in params]
    np.testing.assert_allclose(overhead.values_internal(list(dists), X, "mixed"), expected, rtol=0, atol=1e-12)


def test_overhead_readme_section_per_space(tmp_path: Path) -> None:
    overhead = _load("overhead")
    readme = tmp_path / "README.md"
    readme.write_text("# Benchmarks\n")
    overhead.write_readme(readme, "uniform table", "uniform")
    overhead.write_readme(readme, "mixed table", "mixed")
    overhead.write_readme(readme, "mixed again", "mixed")
    text = readme.read_text()
    assert "uniform table" in text and "mixed again" in text and "mixed table" not in text


def _sync_small(*extra: str) -> list[str]:
    return ["--trials", "30", "--running", "0,3", "--steps", "2", "--tpe-sizes", "20,40", "--tpe-running", "3",
            "--window", "4", "--rounds", "2", "--warmup", "1", "--sync-probes", "2", "--step-trials", "40",
            "--step-count", "6", "--repeats", "10", *extra]


def test_sync_smoke(capsys: pytest.CaptureFixture[str]) -> None:
    sync = _load("sync")
    # The holder process imports hpo_core and the benchmark script (a few seconds).
    assert sync.main(_sync_small("--backends", "sqlite")) == 0
    out = capsys.readouterr().out
    assert "##### sqlite" in out
    for label in ("0 RUNNING", "3 RUNNING"):
        row = next(line for line in out.splitlines() if line.startswith(f"| {label} |"))
        cells = [c.strip() for c in row.split("|")[1:-1]]
        assert float(cells[1]) > 0 and cells[3] == "4" and float(cells[5]) > 0  # median, timed, sync µs
    assert "Target: at 3 RUNNING within 1.5x of 0 RUNNING: " in out
    tpe_rows = [line for line in out.splitlines() if line.startswith(("| 20 |", "| 40 |"))]
    assert len(tpe_rows) == 2 and all(("met" in r or "missed" in r) and "Error" not in r for r in tpe_rows)
    assert "| `study.view.history.steps.at_step(s) + keep COMPLETE (take)` |" in out
    assert "Target: the read with keep COMPLETE at most 50 µs: " in out


def test_sync_holder_creates_running_trials(tmp_path: Path) -> None:
    sync = _load("sync")
    import hpo_core

    url = f"sqlite:///{tmp_path / 'h.db'}"
    study = hpo_core.create_study(storage=url, study_name="held")
    args = sync.parse_args(["--steps", "3"])
    with sync.holder([(url, "held", 2)], args) as h:
        assert h.n == 2
        trials = study.get_trials(states=[hpo_core.TrialState.RUNNING])
        assert len(trials) == 2
        assert all(len(t.intermediate_values) == 3 and len(t.params) == 10 for t in trials)
    assert h.proc is not None and h.proc.returncode == 0  # it exits when its stdin closes


def test_sync_prefill_and_steps_study() -> None:
    sync = _load("sync")
    import hpo_core

    study = hpo_core.create_study()
    sync.prefill(study, 1500, seed=0)
    assert sync.n_finished(study) == 1500
    best = study.best_trial
    assert best.value == pytest.approx(_load("overhead_tpe").objective(best.params))
    steps_study, is_complete = sync.build_steps_study(20, 4, seed=0)
    h = steps_study.view.history
    rows, values = h.steps.at_step(2)
    assert len(rows) == 20 and values.shape == (20, 1)
    assert int(h.count(int(hpo_core.TrialState.COMPLETE))) == int(is_complete.sum())


@pytest.mark.postgres
def test_sync_postgres_smoke(capsys: pytest.CaptureFixture[str]) -> None:
    sync = _load("sync")
    url = sync.parse_args([]).postgres_url
    problem = sync.postgres_problem(url)
    if problem:
        pytest.skip(f"PostgreSQL at {url} cannot be used: {problem}")
    assert sync.main(_sync_small("--sections", "running", "--backends", "postgresql")) == 0
    out = capsys.readouterr().out
    assert "##### postgresql" in out and "Target: at 3 RUNNING within 1.5x of 0 RUNNING: " in out
    import os

    import hpo_core

    left = [s.study_name for s in hpo_core.get_all_study_summaries(url)
            if s.study_name.startswith(f"hpo_sync_bench_{os.getpid()}_")]
    assert left == []  # the benchmark deletes its studies


def test_ranking_per_suite_budget_and_pair(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _needs("scipy")
    quality = _load("quality")
    ranking = _load("ranking")
    runs = {}

    def add(spec: str, problem: str, group: str, seed: int, n: int, offset: float) -> None:
        best = {str(c): 100.0 - c + offset for c in quality.checkpoints(n)}
        runs[quality.run_key(spec, problem, seed, n)] = {
            "sampler": spec, "problem": problem, "group": group, "seed": seed, "n_trials": n, "best": best}

    for seed in range(8):
        for problem, group in (("enet_diabetes", "sklearn"), ("svc_digits", "sklearn"),
                               ("bbob_f01_d5", "bbob")):
            add("hpo_tpe", problem, group, seed, 200, 0.0)            # best on every seed
            add("optuna_tpe", problem, group, seed, 200, 1.0 + seed)  # worse on every seed
            add("hpo_gp", problem, group, seed, 100, 0.5)             # runs to 100 only
    path = tmp_path / "q.json"
    quality.save_results(path, {"runs": runs})

    assert ranking.main([str(path), "--samplers", "hpo_tpe,optuna_tpe,hpo_gp",
                         "--pairs", "hpo_tpe/optuna_tpe,hpo_gp/optuna_tpe"]) == 0
    out = capsys.readouterr().out
    assert "#### bbob_d5: mean rank" in out and "#### sklearn: mean rank" in out
    # sklearn at 100 trials: hpo_tpe 1, hpo_gp 2, optuna_tpe 3 on both problems, 8 seeds each.
    assert "| sampler | 25 (2; 8) | 50 (2; 8) | 100 (2; 8) | 200 (2; 8) |" in out
    assert "| `hpo_tpe` | **1.00** | **1.00** | **1.00** | **1.00** |" in out
    assert "| `hpo_gp` | 2.00 | 2.00 | 2.00 | - |" in out  # no run reaches 200
    assert "| `optuna_tpe` | 3.00 | 3.00 | 3.00 | 2.00 |" in out
    # Wilcoxon exact p for 8 of 8 seeds is 2/256; Holm over 2 problems keeps it < 0.05.
    assert "| `hpo_tpe/optuna_tpe` | 200 | 2 | 2 | 0 | 16/0/0 | 1.00/2.00 |" in out
    assert "| `hpo_gp/optuna_tpe` | 100 | 2 | 2 | 0 | 16/0/0 | 2.00/3.00 |" in out
    assert "hpo_gp/optuna_tpe` | 200" not in out  # hpo_gp takes no part at 200
    with pytest.raises(SystemExit):
        ranking.parse_args([str(path), "--samplers", "hpo_tpe", "--pairs", "hpo_tpe"])


def test_quality_cache_merges_writes_of_other_processes(tmp_path: Path) -> None:
    _needs("cocoex")  # without it the run stores an error record instead of a result
    quality = _load("quality")
    out = tmp_path / "q.json"
    other_key = quality.run_key("optuna_tpe", "bbob_f01_d2", 0, 5)
    other = {"sampler": "optuna_tpe", "problem": "bbob_f01_d2", "group": "bbob", "seed": 0,
             "n_trials": 5, "best": {"5": 1.0}}

    def another_process_writes(message: str) -> None:
        # After this run loaded the file, another process stores its own record.
        if "runs to do" in message:
            disk = quality.load_results(out)
            disk["runs"][other_key] = other
            quality.save_results(out, disk)

    data = quality.run_all(["hpo_random"], ["bbob_f02_d2"], [0], 5, out, log=another_process_writes)
    on_disk = quality.load_results(out)["runs"]
    assert set(on_disk) == {other_key, quality.run_key("hpo_random", "bbob_f02_d2", 0, 5)}
    assert on_disk[other_key] == other and set(data["runs"]) == set(on_disk)
    # A rerun drops only its own keys on disk, never the other process's.
    quality.run_all(["hpo_random"], ["bbob_f02_d2"], [0], 5, out, rerun=["hpo_random"], log=_quiet)
    assert set(quality.load_results(out)["runs"]) == set(on_disk)


def _server_problem(url: str) -> str | None:
    import sqlalchemy as sa

    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        engine.connect().close()
    except Exception as e:  # noqa: BLE001
        return f"{type(e).__name__}: {str(getattr(e, 'orig', e)).strip()[:120]}"
    finally:
        engine.dispose()
    return None


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.mysql
@pytest.mark.redis
def test_rdb_scale_smoke(capsys: pytest.CaptureFixture[str]) -> None:
    _needs("optuna", "psycopg", "pymysql")
    rdb_scale = _load("rdb_scale")
    for url in (rdb_scale.POSTGRES_URL, rdb_scale.MYSQL_URL):
        problem = _server_problem(url)
        if problem:
            pytest.skip(f"no database server at {url}: {problem}")
    _needs("redis")
    import redis

    try:
        redis.Redis.from_url(rdb_scale.REDIS_URL, socket_connect_timeout=3).ping()
    except redis.exceptions.ConnectionError as e:
        pytest.skip(f"no Redis server at {rdb_scale.REDIS_URL}: {e}")
    assert rdb_scale.main(["--trials", "60", "--optuna-trials", "60", "--workers", "2", "--worker-trials", "4",
                           "--throughput-workers", "1,2", "--throughput-trials", "3"]) == 0
    out = capsys.readouterr().out
    assert "| PostgreSQL | 2 x 4 | 8 | True | True | True |" in out
    assert "| MariaDB | 2 x 4 | 8 | True | True | True |" in out
    assert "| journal file | 2 | 6 |" in out
    assert "| journal file | 2 x 4 | 8 | True | True | True |" in out
    assert "| journal on Redis | 2 x 4 | 8 | True | True | True |" in out
    assert "at most 5 ms at 60: " in out


@pytest.mark.parametrize("prefill", ["loop", "add"])
def test_pruners_smoke(prefill: str, capsys: pytest.CaptureFixture[str]) -> None:
    _needs("optuna")
    pruners = _load("pruners")
    assert pruners.main(["--sizes", "12,24", "--optuna-sizes", "12", "--probes", "2", "--prefill", prefill,
                         "--pruners", "MedianPruner,SuccessiveHalvingPruner,SuccessiveHalvingPruner(min_resource=1),"
                         "PatientPruner(Median; 3)"]) == 0
    out = capsys.readouterr().out
    for name in ("MedianPruner", "SuccessiveHalvingPruner", "SuccessiveHalvingPruner(min_resource=1)",
                 "PatientPruner(Median; 3)"):
        assert f"| {name} | " in out
    assert "is 25 in these studies for `SuccessiveHalvingPruner()` and 33 for `HyperbandPruner()`" in out
    assert "us at 24 (target 50 us: " in out


def test_pruners_smoke_every_step_and_multi_objective(capsys: pytest.CaptureFixture[str]) -> None:
    _needs("optuna")
    pruners = _load("pruners")
    assert pruners.main(["--sizes", "12,24", "--optuna-sizes", "12", "--probes", "2", "--prefill", "add",
                         "--probe", "every", "--pruners",
                         "MedianPruner,MultiObjectiveSuccessiveHalvingPruner,MultiObjectiveMedianPruner"]) == 0
    out = capsys.readouterr().out
    assert "Median of every `should_prune` call (2 fresh trials x 100 steps" in out
    assert "| MultiObjectiveMedianPruner | " in out and "| MedianPruner | " in out
    assert "- MultiObjectiveSuccessiveHalvingPruner: " in out and "24 / 12: " in out


def test_tpe_group_overhead_paths_run() -> None:
    script = _load("tpe_group_overhead")
    paths = [p for p in script.PATHS if p != "rustuna" or importlib.util.find_spec("rustuna") is not None]
    for path in paths:
        assert script.median_us(path, 30, 2) > 0
