"""The discrete-space quality suite (``benchmarks/_discrete.py``, group ``"discrete"``).

Checks the committed tables against their grids (every grid point is stored once, the
problem's ``f_opt`` is the table's minimum), the synthetic optima, the hyperopt mirrors,
and short hpo_core / Optuna / hyperopt runs of every problem through ``quality.py``.
"""

from __future__ import annotations

import importlib
import importlib.util
import itertools
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


def _load(name: str) -> Any:
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    return importlib.import_module(name)


def _needs(*modules: str) -> None:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (pip install -e '.[benchmark,quality]')")


discrete = _load("_discrete")
problems = _load("_problems")
TABLES = sorted(discrete.TABLES)
SYNTHETIC = sorted(discrete.SYNTHETIC)
ALL = list(problems.DISCRETE_PROBLEMS)


def test_discrete_suite_has_ten_problems_in_the_group() -> None:
    assert len(ALL) >= 10 and len(TABLES) >= 6 and len(SYNTHETIC) >= 4
    for p in problems.discrete_problems():
        assert p.group == "discrete" and p.f_opt is not None
        assert problems.problem_by_name(p.name).name == p.name
    assert [p.name for p in problems.suite_problems("discrete")] == ALL
    with pytest.raises(ValueError, match="unknown discrete problem"):
        problems.discrete_problems(["tab_nope"])


@pytest.mark.parametrize("name", ALL)
def test_discrete_space_uses_int_and_categorical_only(name: str) -> None:
    problem = problems.problem_by_name(name)

    class Recorder:
        def __init__(self) -> None:
            self.kinds: set[str] = set()

        def suggest_int(self, n: str, low: int, high: int, *, step: int = 1, log: bool = False) -> int:
            self.kinds.add("int")
            return low

        def suggest_categorical(self, n: str, choices: list[Any]) -> Any:
            self.kinds.add("cat")
            return choices[0]

    trial = Recorder()  # no suggest_float: calling it would raise AttributeError
    problem.suggest(trial)
    assert trial.kinds


def test_space_grid_size_and_index() -> None:
    for spec in list(discrete.TABLES.values()) + [discrete.SYNTHETIC["syn_conditional"]]:
        grid = spec.space.grid()
        assert len(grid) == spec.space.size()
        keys = {spec.space.index(p) for p in grid}
        assert len(keys) == len(grid)  # one index per configuration
        # suggest() replayed from a configuration asks for exactly its parameters.
        for params in grid[:: max(1, len(grid) // 50)]:
            trial = problems.DictTrial(params)
            assert spec.space.suggest(trial) == params and trial.used == params


def test_space_rejects_a_bad_parent() -> None:
    with pytest.raises(ValueError, match="parent"):
        discrete.Space([discrete.integer("x", 0, 3, when=("k", ["a"])), discrete.cat("k", ["a", "b"])])
    with pytest.raises(ValueError, match="step"):
        discrete.integer("x", 1, 64, step=2, log=True)


@pytest.mark.parametrize("name", TABLES)
def test_table_covers_every_grid_point(name: str) -> None:
    spec = discrete.TABLES[name]
    with np.load(spec.path, allow_pickle=False) as f:
        index, value, meta = f["index"], f["value"], json.loads(str(f["meta"]))
    grid = spec.space.grid()
    stored = {tuple(int(i) for i in row) for row in index.tolist()}
    assert len(stored) == len(index) == len(grid) == meta["n_points"]
    assert stored == {spec.space.index(p) for p in grid}
    assert np.all(np.isfinite(value))
    assert meta["command"].startswith("python benchmarks/make_discrete_tables.py")
    assert {"numpy", "scikit-learn", "python"} <= set(meta["versions"])

    problem = problems.problem_by_name(name)
    evaluate = problem.make(0)
    values = [evaluate(p) for p in grid]  # every grid point is a hit
    assert problem.f_opt == min(values) == float(value.min()) == meta["min"]
    assert evaluate(meta["argmin"]) == problem.f_opt
    assert sorted(values) == sorted(value.tolist())


def test_tables_are_small() -> None:
    total = sum(discrete.TABLES[n].path.stat().st_size for n in TABLES)
    assert total < 2_000_000


def test_table_rejects_a_changed_grid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = TABLES[0]
    spec = discrete.TABLES[name]
    changed = discrete.TableSpec(name, discrete.Space(spec.space.params[:-1]), spec.description)
    monkeypatch.setitem(discrete.TABLES, name, changed)
    discrete.load_table.cache_clear()
    try:
        with pytest.raises(ValueError, match="another grid"):
            discrete.load_table(name)
    finally:
        monkeypatch.undo()
        discrete.load_table.cache_clear()


def _random_configs(space: Any, n: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    class Draw:
        def suggest_int(self, name: str, low: int, high: int, *, step: int = 1, log: bool = False) -> int:
            return int(rng.choice(np.arange(low, high + 1, step)))

        def suggest_categorical(self, name: str, choices: list[Any]) -> Any:
            return choices[int(rng.integers(len(choices)))]

    return [space.suggest(Draw()) for _ in range(n)]


@pytest.mark.parametrize("name", SYNTHETIC)
def test_synthetic_optimum_is_zero_and_a_minimum(name: str) -> None:
    spec = discrete.SYNTHETIC[name]
    rng = np.random.default_rng(0)
    for seed in (0, 1):
        evaluate = discrete.synthetic_evaluate(name, seed)
        _, best = spec.make(np.random.default_rng([spec.salt, seed + 1]))
        assert evaluate(best) == 0.0
        assert all(evaluate(p) >= 0.0 for p in _random_configs(spec.space, 200, rng))
        # No single-parameter change from the optimum improves on it (a parent's change
        # would need new children: those are covered by the exhaustive check below).
        parents = {p.parent for p in spec.space.params}
        for p in spec.space.params:
            if p.name not in best or p.name in parents:
                continue
            values = p.choices if len(p.choices) <= 200 else rng.choice(p.choices, 200).tolist()
            for v in values:
                assert evaluate({**best, p.name: v}) >= 0.0
        if seed == 0 and spec.space.size() <= 50_000:  # small enough to check exhaustively
            assert min(evaluate(p) for p in spec.space.grid()) == 0.0


def test_synthetic_instances_depend_on_the_seed_only() -> None:
    rng = np.random.default_rng(1)
    for name in SYNTHETIC:
        configs = _random_configs(discrete.SYNTHETIC[name].space, 20, rng)
        a, b, c = (discrete.synthetic_evaluate(name, s) for s in (0, 0, 1))
        assert [a(p) for p in configs] == [b(p) for p in configs]
        assert [a(p) for p in configs] != [c(p) for p in configs]


def test_cat_chain_optimum_matches_brute_force_on_a_short_chain(monkeypatch: pytest.MonkeyPatch) -> None:
    short = discrete.Space([discrete.cat(f"c{i}", ["v0", "v1", "v2", "v3", "v4"]) for i in range(5)])
    monkeypatch.setitem(discrete.SYNTHETIC_SPACES, "syn_cat_chain", short)
    for seed in range(3):
        f, best = discrete._cat_chain(np.random.default_rng(seed))
        brute = min(f(dict(zip([p.name for p in short.params], c)))
                    for c in itertools.product(*[p.choices for p in short.params]))
        assert f(best) == pytest.approx(brute, abs=1e-12)


@pytest.mark.parametrize("name", ALL)
def test_hyperopt_space_matches_objective(name: str) -> None:
    _needs("hyperopt")
    from hyperopt.pyll.stochastic import sample

    problem = problems.problem_by_name(name)
    space = problem.hyperopt_space()
    rng = np.random.default_rng(0)
    evaluate = problem.make(0)
    for _ in range(30):
        params = problems.flatten(sample(space, rng=rng))
        trial = problems.DictTrial(params)
        suggested = problem.suggest(trial)  # a wrong name or an off-grid value raises
        assert set(trial.used) == set(params)
        assert evaluate(suggested) >= problem.f_opt


def test_short_runs_of_every_discrete_problem(tmp_path: Path) -> None:
    _needs("optuna", "scipy")
    quality = _load("quality")
    specs = ["hpo_tpe", "optuna_tpe"] + (["hyperopt_tpe"] if importlib.util.find_spec("hyperopt") else [])
    data = quality.run_all(specs, ALL, [0], 15, tmp_path / "q.json", log=lambda s: None)
    assert not data.get("errors")
    assert len(data["runs"]) == len(specs) * len(ALL)
    result = quality.analyse(data, specs, 15)
    assert sorted(result["problems"]) == sorted(ALL)
    for name, row in result["problems"].items():
        assert row["group"] == "discrete"
        assert row["reference"] == problems.problem_by_name(name).f_opt
        for s in specs:
            assert row["samplers"][s]["median_regret"] >= 0.0


def test_quality_discrete_reports_three_budgets(tmp_path: Path) -> None:
    _needs("scipy")
    quality_discrete = _load("quality_discrete")
    quality = _load("quality")
    names, specs = ["syn_cat_large", "tab_knn_wine"], ["hpo_random", "hpo_tpe"]
    data = quality.run_all(specs, names, [0, 1], 8, tmp_path / "q.json", log=lambda s: None)
    result = quality_discrete.analyse(data, specs, names, 8, [0, 1])
    assert quality_discrete.budgets(8) == [2, 4, 8]
    for row in result["problems"].values():
        for s in specs:
            medians = [row["samplers"][s][b]["median"] for b in (2, 4, 8)]
            assert medians == sorted(medians, reverse=True) and medians[-1] >= 0.0
    assert set(result["summary"]) == {"tables", "synthetic", "all"}
    for rec in data["runs"].values():  # distinct configurations among the first b trials
        counts = [rec["distinct"][str(b)] for b in (2, 4, 8)]
        repeats = [b - c for b, c in zip((2, 4, 8), counts)]
        assert counts[0] >= 1 and counts == sorted(counts)
        assert 0 <= repeats[0] <= repeats[1] <= repeats[2]
    for s in specs:
        assert all(0.0 <= result["repeats"][s][b] < 1.0 for b in (2, 4, 8))
    text = quality_discrete.report(result, "cmd")
    assert "| syn_cat_large | 2 | 0 |" in text and "mean rank all (2) @ 2 / 4 / 8" in text
    assert "repeated configurations @ 2 / 4 / 8" in text
