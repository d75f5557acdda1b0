"""Discrete search spaces for ``quality.py``: tabulated scikit-learn models and synthetic functions.

Every space here uses ``suggest_int`` (with ``step`` or ``log``) and ``suggest_categorical``
only, so it is a finite grid. A :class:`Space` is written once, as a list of :class:`Param`,
and gives the define-by-run ``suggest(trial)``, the equivalent hyperopt space, the list of
every configuration (``grid()``) and the position of a configuration in that grid
(``index(params)``). A parameter may be conditional on a categorical parent (one level deep,
like SVC's ``degree`` under ``kernel="poly"``).

Two kinds of problem:

- **Tables** (``TABLES``): a scikit-learn model evaluated once on every configuration of its
  grid by ``make_discrete_tables.py`` and stored in ``data/<name>.npz``, so a run is a lookup.
  The table's minimum is the known optimum. The spaces live here (the problems need them);
  the models and data live in the generator.
- **Synthetic** (``SYNTHETIC``): functions with a known minimum, drawn from the instance
  ``seed + 1`` (as for BBOB), each returning ``f(x) - f_min >= 0``.

``_problems.py`` turns both into ``Problem`` objects of group ``"discrete"``. Only NumPy is
imported here; hyperopt is imported by ``Space.hyperopt`` when it is called.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

DATA_DIR = Path(__file__).with_name("data")
Evaluate = Callable[[dict[str, Any]], float]


# ----------------------------------------------------------------------------- spaces
@dataclass(frozen=True)
class Param:
    """One parameter: ``kind`` ``"int"`` (``low``, ``high``, ``step``, ``log``) or ``"cat"``.

    ``choices`` lists every value the parameter can take, in grid order. ``parent`` and
    ``when``: the parameter is suggested only when the categorical ``parent`` took one of
    the values in ``when``.
    """

    name: str
    kind: str
    choices: tuple[Any, ...]
    low: int = 0
    high: int = 0
    step: int = 1
    log: bool = False
    parent: str | None = None
    when: tuple[Any, ...] = ()


def cat(name: str, choices: Sequence[Any], *, when: tuple[str, Sequence[Any]] | None = None) -> Param:
    """A ``suggest_categorical`` parameter (active only ``when=(parent, values)``, if given)."""
    parent, values = when if when else (None, ())
    return Param(name, "cat", tuple(choices), parent=parent, when=tuple(values))


def integer(name: str, low: int, high: int, *, step: int = 1, log: bool = False,
            when: tuple[str, Sequence[Any]] | None = None) -> Param:
    """A ``suggest_int(name, low, high, step=step, log=log)`` parameter."""
    if log and step != 1:
        raise ValueError(f"{name}: a log int must have step 1, but got {step}")
    if (high - low) % step:
        raise ValueError(f"{name}: high - low must be a multiple of step, but got {low}, {high}, {step}")
    parent, values = when if when else (None, ())
    return Param(name, "int", tuple(range(low, high + 1, step)), low, high, step, log,
                 parent, tuple(values))


class Space:
    """An ordered list of parameters; a child comes after its (unconditional, categorical) parent."""

    def __init__(self, params: Sequence[Param]):
        self.params = tuple(params)
        self.by_name = {p.name: p for p in self.params}
        if len(self.by_name) != len(self.params):
            raise ValueError("parameter names must be unique")
        seen: set[str] = set()
        for p in self.params:
            if p.parent is not None:
                parent = self.by_name.get(p.parent)
                if p.parent not in seen or parent is None or parent.kind != "cat" or parent.parent:
                    raise ValueError(f"{p.name}: parent {p.parent!r} must be an earlier, "
                                     "unconditional categorical parameter")
                if not set(p.when) <= set(parent.choices):
                    raise ValueError(f"{p.name}: `when` values {p.when} are not choices of {p.parent}")
            seen.add(p.name)
        # value -> position, per parameter (choices never mix 1 and True, which hash alike).
        self._pos = [{v: i for i, v in enumerate(p.choices)} for p in self.params]

    @staticmethod
    def _active(p: Param, config: dict[str, Any]) -> bool:
        return p.parent is None or config.get(p.parent, _MISSING) in p.when

    def suggest(self, trial: Any) -> dict[str, Any]:
        """Define-by-run: ask ``trial`` for every active parameter, in order."""
        out: dict[str, Any] = {}
        for p in self.params:
            if not self._active(p, out):
                continue
            if p.kind == "int":
                out[p.name] = trial.suggest_int(p.name, p.low, p.high, step=p.step, log=p.log)
            else:
                out[p.name] = trial.suggest_categorical(p.name, list(p.choices))
        return out

    def hyperopt(self) -> dict[str, Any]:
        """The equivalent hyperopt space; a parent with children becomes an ``hp.choice`` of
        branch dicts (labels ``child@value`` are unique, the dict keys are the names)."""
        from hyperopt import hp

        out: dict[str, Any] = {}
        for p in self.params:
            if p.parent is not None:
                continue
            children = [c for c in self.params if c.parent == p.name]
            if not children:
                out[p.name] = _hp_param(hp, p, p.name)
                continue
            out[f"{p.name}_branch"] = hp.choice(f"{p.name}_branch", [
                {p.name: v, **{c.name: _hp_param(hp, c, f"{c.name}@{v}") for c in children if v in c.when}}
                for v in p.choices])
        return out

    def grid(self) -> list[dict[str, Any]]:
        """Every configuration (active parameters only), in grid order (last parameter fastest)."""
        configs: list[dict[str, Any]] = [{}]
        for p in self.params:
            configs = [{**c, p.name: v} for c in configs for v in p.choices] if p.parent is None else [
                new for c in configs
                for new in ([{**c, p.name: v} for v in p.choices] if self._active(p, c) else [c])]
        return configs

    def size(self) -> int:
        """``len(grid())``, counted without listing the grid."""
        n = 1
        for p in self.params:
            if p.parent is not None:
                continue
            children = [c for c in self.params if c.parent == p.name]
            n *= sum(math.prod(len(c.choices) for c in children if v in c.when) for v in p.choices)
        return n

    def index(self, params: dict[str, Any]) -> tuple[int, ...]:
        """Positions of the values in ``params`` in their choices; -1 for an inactive parameter.

        Raises ``KeyError`` for a value that is not a choice (for an int, off the grid).
        """
        return tuple(pos[params[p.name]] if p.name in params else -1
                     for p, pos in zip(self.params, self._pos))

    def describe(self) -> list[dict[str, Any]]:
        """JSON-able description, stored in the tables to catch a grid that changed since."""
        return [{"name": p.name, "kind": p.kind, "choices": list(p.choices), "log": p.log,
                 "step": p.step, "parent": p.parent, "when": list(p.when)} for p in self.params]


_MISSING = object()


def _hp_param(hp: Any, p: Param, label: str) -> Any:
    if p.kind == "cat":
        return hp.choice(label, list(p.choices))
    if p.log:
        # round(exp(U(log low, log high))) stays in [low, high] for integer bounds.
        return hp.qloguniform(label, math.log(p.low), math.log(p.high), 1)
    if p.step != 1:
        # low + {0, step, ..., high - low}: the same grid as suggest_int(low, high, step=step).
        return p.low + hp.quniform(label, 0, p.high - p.low, p.step)
    return hp.uniformint(label, p.low, p.high)


# ----------------------------------------------------------------------------- tables
@dataclass(frozen=True)
class TableSpec:
    """A tabulated problem: its space and a one-line description (model, data, loss)."""

    name: str
    space: Space
    description: str

    @property
    def path(self) -> Path:
        return DATA_DIR / f"{self.name}.npz"


_LR5 = (0.01, 0.03, 0.1, 0.3, 1.0)

TABLES: dict[str, TableSpec] = {t.name: t for t in (
    TableSpec("tab_dt_breast_cancer", Space([
        cat("criterion", ["gini", "entropy"]),
        cat("splitter", ["best", "random"]),
        integer("max_depth", 1, 12),
        integer("min_samples_leaf", 1, 32, log=True),
    ]), "DecisionTreeClassifier on breast_cancer: criterion, splitter, max_depth 1-12, "
        "min_samples_leaf 1-32 (log int); 5-fold CV Brier score"),
    TableSpec("tab_svc_digits", Space([
        cat("kernel", ["linear", "rbf", "poly", "sigmoid"]),
        integer("log2_C", -5, 15, step=2),
        integer("log2_gamma", -15, 3, step=2, when=("kernel", ["rbf", "poly", "sigmoid"])),
        integer("degree", 2, 4, when=("kernel", ["poly"])),
    ]), "SVC on digits: kernel with conditional gamma (not linear) and degree (poly), "
        "C = 2^{-5..15 step 2}, gamma = 2^{-15..3 step 2}; 2-fold CV error rate"),
    TableSpec("tab_mlp_breast_cancer", Space([
        integer("n_layers", 1, 2),
        cat("units", [8, 16, 32, 64, 128]),
        cat("activation", ["relu", "tanh", "logistic"]),
        integer("log10_alpha", -5, 1, step=2),
        cat("learning_rate_init", [0.0003, 0.001, 0.01, 0.1]),
    ]), "MLPClassifier (adam, 100 epochs) on standardised breast_cancer: 1-2 layers of "
        "{8..128} units, activation, alpha = 10^{-5,-3,-1,1}, learning rate; validation log loss"),
    TableSpec("tab_hgb_synthetic", Space([
        cat("learning_rate", _LR5),
        cat("max_iter", [10, 20, 40, 80]),
        integer("max_leaf_nodes", 8, 32, step=8),
        integer("log2_min_samples_leaf", 1, 5),
    ]), "HistGradientBoostingClassifier on make_classification(600, 10 features, seed 0): "
        "learning rate, iterations {10..80}, leaves 8-32 step 8, min_samples_leaf 2^{1..5}; "
        "validation log loss"),
    TableSpec("tab_knn_wine", Space([
        cat("scaler", ["none", "standard", "minmax", "robust"]),
        integer("n_neighbors", 1, 40),
        cat("weights", ["uniform", "distance"]),
        integer("p", 1, 2),
    ]), "KNeighborsClassifier on wine: scaler, n_neighbors 1-40, weights, Minkowski p; "
        "5-fold CV Brier score"),
    TableSpec("tab_enet_diabetes", Space([
        cat("scaler", ["standard", "quantile"]),
        integer("poly_degree", 1, 3),
        integer("log10_alpha", -5, 1),
        integer("l1_ratio_pct", 0, 100, step=10),
    ]), "ElasticNet on diabetes: scaler, polynomial degree 1-3, alpha = 10^{-5..1}, "
        "l1_ratio 0-100% step 10; validation MSE / variance"),
    TableSpec("tab_et_wine", Space([
        cat("n_estimators", [5, 10, 20, 40]),
        integer("max_depth", 1, 8),
        integer("max_features", 1, 13, step=4),
        cat("criterion", ["gini", "entropy"]),
        cat("bootstrap", [False, True]),
    ]), "ExtraTreesClassifier on wine: n_estimators {5..40}, max_depth 1-8, max_features "
        "1-13 step 4, criterion, bootstrap; 3-fold CV Brier score"),
)}


@functools.lru_cache(maxsize=None)
def load_table(name: str) -> tuple[dict[tuple[int, ...], float], float, dict[str, Any]]:
    """``(lookup, f_min, meta)`` of table ``name``: ``lookup[space.index(params)]`` is the loss.

    Raises ``ValueError`` when the stored grid differs from the space in ``TABLES`` (the
    table must be regenerated with ``make_discrete_tables.py``).
    """
    spec = TABLES[name]
    with np.load(spec.path, allow_pickle=False) as f:
        index, value, meta = f["index"], f["value"], json.loads(str(f["meta"]))
    if meta["space"] != json.loads(json.dumps(spec.space.describe())):
        raise ValueError(f"{spec.path} was built for another grid; rerun "
                         f"benchmarks/make_discrete_tables.py --tables {name}")
    lookup = {tuple(int(i) for i in row): float(v) for row, v in zip(index.tolist(), value)}
    return lookup, float(value.min()), meta


def table_evaluate(name: str) -> Evaluate:
    """``evaluate(params)``: the tabulated loss of the configuration ``params``."""
    space, (lookup, _, _) = TABLES[name].space, load_table(name)
    return lambda params: lookup[space.index(params)]


# ----------------------------------------------------------------------------- synthetic
@dataclass(frozen=True)
class SyntheticSpec:
    """A synthetic problem: ``make(rng)`` draws an instance and returns ``(f, argmin)``, the
    function and a configuration where it is smallest over the grid; ``salt`` keeps the
    problems' random streams apart."""

    name: str
    space: Space
    make: Callable[[np.random.Generator], tuple[Evaluate, dict[str, Any]]]
    description: str
    salt: int


def synthetic_evaluate(name: str, seed: int) -> Evaluate:
    """``f(params) - f(argmin)`` on instance ``seed + 1``: exactly 0 at the optimum, >= 0 elsewhere.

    ``f(argmin)`` goes through the same code as every other point, so the optimum's regret is
    0.0 exactly; the clamp only removes rounding below it.
    """
    spec = SYNTHETIC[name]
    f, best = spec.make(np.random.default_rng([spec.salt, seed + 1]))
    f_min = f(best)
    return lambda params: max(f(params) - f_min, 0.0)


def _rotated_quadratic(rng: np.random.Generator, n: int, cond: float) -> np.ndarray:
    """A random SPD matrix ``(n, n)`` with eigenvalues log-spaced in [1, cond]."""
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return (q * np.logspace(0, math.log10(cond), n)) @ q.T


def _unit(p: Param, v: int) -> float:
    """An int parameter's value mapped to [0, 1] (in log space for a log int)."""
    if p.log:
        return math.log(v / p.low) / math.log(p.high / p.low)
    return (v - p.low) / (p.high - p.low)


def _cat_chain(rng: np.random.Generator) -> tuple[Evaluate, dict[str, Any]]:
    """A Potts chain: ``sum_i h_i[c_i] + sum_i J_i[c_i, c_{i+1}]``; its minimum by min-sum DP."""
    params = SYNTHETIC_SPACES["syn_cat_chain"].params
    n, k = len(params), len(params[0].choices)
    h, coupling = 0.5 * rng.standard_normal((n, k)), rng.standard_normal((n - 1, k, k))

    def f(x: dict[str, Any]) -> float:
        c = [params[i].choices.index(x[p.name]) for i, p in enumerate(params)]
        return float(sum(h[i, c[i]] for i in range(n)) + sum(coupling[i, c[i], c[i + 1]] for i in range(n - 1)))

    # Viterbi (min-sum): m[b] = least cost of c_0..c_i with c_i = b; back[i][b] the best c_{i-1}.
    m, back = h[0].copy(), []
    for i in range(1, n):
        total = m[:, None] + coupling[i - 1]
        back.append(total.argmin(axis=0))
        m = total.min(axis=0) + h[i]
    c = [int(m.argmin())]
    for b in reversed(back):
        c.append(int(b[c[-1]]))
    c.reverse()
    return f, {p.name: p.choices[ci] for p, ci in zip(params, c)}


def _mixed_quadratic(rng: np.random.Generator) -> tuple[Evaluate, dict[str, Any]]:
    """``(u - t[mode])^T A (u - t[mode]) + b[mode, shift]``, u the ints in [0, 1]; the target
    t[mode] is a grid point, so the minimum is min(b) at that point."""
    space = SYNTHETIC_SPACES["syn_mixed_quadratic"]
    ints = [p for p in space.params if p.kind == "int"]
    modes, shifts = space.by_name["mode"].choices, space.by_name["shift"].choices
    a = 20.0 * _rotated_quadratic(rng, len(ints), 30.0) / len(ints)
    target = {m: [p.choices[rng.integers(len(p.choices))] for p in ints] for m in modes}
    t_unit = {m: np.array([_unit(p, v) for p, v in zip(ints, target[m])]) for m in modes}
    b = rng.uniform(0.0, 2.0, (len(modes), len(shifts)))

    def f(x: dict[str, Any]) -> float:
        d = np.array([_unit(p, x[p.name]) for p in ints]) - t_unit[x["mode"]]
        return float(d @ a @ d) + float(b[modes.index(x["mode"]), shifts.index(x["shift"])])

    i, j = np.unravel_index(int(b.argmin()), b.shape)
    return f, {"mode": modes[i], "shift": shifts[j], **dict(zip([p.name for p in ints], target[modes[i]]))}


def _conditional(rng: np.random.Generator) -> tuple[Evaluate, dict[str, Any]]:
    """Four branches with their own children; offsets 0, 0.3, 0.6 (shuffled over a, b, c) and
    1.0 for the childless d; each branch's inner function is >= 0 with a zero on the grid."""
    space = SYNTHETIC_SPACES["syn_conditional"]
    offset = dict(zip("abc", rng.permutation([0.0, 0.3, 0.6]).tolist()), d=1.0)
    ax, ay = (int(v) for v in rng.integers(0, 51, 2))
    b_k = space.by_name["b_k"].choices
    v_k = rng.uniform(0.2, 1.5, len(b_k))
    v_k[rng.integers(len(b_k))] = 0.0
    b_n = int(round(math.exp(rng.uniform(0.0, math.log(1024)))))
    uv = space.by_name["c_u"].choices
    m_uv = rng.uniform(0.2, 1.5, (3, 3))
    cu, cv = (int(v) for v in rng.integers(0, 3, 2))
    m_uv[cu, cv] = 0.0
    cw = 5 * int(rng.integers(0, 21))

    def inner(x: dict[str, Any]) -> float:
        br = x["branch"]
        if br == "a":  # dx^2 + dy^2 + dx*dy is positive definite
            dx, dy = (x["a_x"] - ax) / 50.0, (x["a_y"] - ay) / 50.0
            return 2.0 * (dx * dx + dy * dy + dx * dy)
        if br == "b":
            return float(v_k[b_k.index(x["b_k"])]) + (math.log2(x["b_n"]) - math.log2(b_n)) ** 2 / 10.0
        if br == "c":
            return float(m_uv[uv.index(x["c_u"]), uv.index(x["c_v"])]) + 4.0 * ((x["c_w"] - cw) / 100.0) ** 2
        return 0.0

    best_branch = min("abc", key=offset.__getitem__)
    best = {"a": {"a_x": ax, "a_y": ay}, "b": {"b_k": b_k[int(v_k.argmin())], "b_n": b_n},
            "c": {"c_u": uv[cu], "c_v": uv[cv], "c_w": cw}}[best_branch]
    return (lambda x: offset[x["branch"]] + inner(x)), {"branch": best_branch, **best}


def _log_int(rng: np.random.Generator) -> tuple[Evaluate, dict[str, Any]]:
    """A rotated quadratic (condition 100) in the unit-scaled ints: log ints scaled in log
    space; the target is a random grid point (log-uniform for the log ints)."""
    params = SYNTHETIC_SPACES["syn_log_int"].params
    a = 10.0 * _rotated_quadratic(rng, len(params), 100.0) / len(params)
    target = {}
    for p in params:
        if p.log:
            target[p.name] = int(round(math.exp(rng.uniform(math.log(p.low), math.log(p.high)))))
        else:
            target[p.name] = p.choices[rng.integers(len(p.choices))]
    t_unit = np.array([_unit(p, target[p.name]) for p in params])

    def f(x: dict[str, Any]) -> float:
        d = np.array([_unit(p, x[p.name]) for p in params]) - t_unit
        return float(d @ a @ d)

    return f, target


def _cat_large(rng: np.random.Generator) -> tuple[Evaluate, dict[str, Any]]:
    """``u[item] + v[group(item), color] + ((size - s[color]) / 5)^2``: 200 items in 10 hidden
    groups; the minimum by enumerating (item, color), the size term being 0 at s[color]."""
    space = SYNTHETIC_SPACES["syn_cat_large"]
    items, colors = space.by_name["item"].choices, space.by_name["color"].choices
    group = rng.integers(0, 10, len(items))
    u = rng.exponential(1.0, len(items))
    v = rng.uniform(0.0, 2.0, (10, len(colors)))
    s = rng.integers(0, 11, len(colors))
    item_pos, color_pos = {c: i for i, c in enumerate(items)}, {c: i for i, c in enumerate(colors)}

    def f(x: dict[str, Any]) -> float:
        i, c = item_pos[x["item"]], color_pos[x["color"]]
        return float(u[i] + v[group[i], c]) + ((x["size"] - int(s[c])) / 5.0) ** 2

    i, c = np.unravel_index(int((u[:, None] + v[group]).argmin()), (len(items), len(colors)))
    return f, {"item": items[i], "color": colors[c], "size": int(s[c])}


SYNTHETIC_SPACES: dict[str, Space] = {
    "syn_cat_chain": Space([cat(f"c{i}", [f"v{j}" for j in range(5)]) for i in range(10)]),
    "syn_mixed_quadratic": Space([
        cat("mode", ["m0", "m1", "m2", "m3"]),
        cat("shift", ["s0", "s1", "s2"]),
        integer("x0", -10, 10),
        integer("x1", -10, 10),
        integer("x2", 0, 100, step=5),
        integer("x3", 0, 30),
    ]),
    "syn_conditional": Space([
        cat("branch", ["a", "b", "c", "d"]),
        integer("a_x", 0, 50, when=("branch", ["a"])),
        integer("a_y", 0, 50, when=("branch", ["a"])),
        cat("b_k", [f"k{j}" for j in range(8)], when=("branch", ["b"])),
        integer("b_n", 1, 1024, log=True, when=("branch", ["b"])),
        cat("c_u", ["p", "q", "r"], when=("branch", ["c"])),
        cat("c_v", ["p", "q", "r"], when=("branch", ["c"])),
        integer("c_w", 0, 100, step=5, when=("branch", ["c"])),
    ]),
    "syn_log_int": Space([
        integer("n0", 1, 1024, log=True),
        integer("n1", 1, 4096, log=True),
        integer("n2", 2, 512, log=True),
        integer("n3", 8, 65536, log=True),
        integer("s0", 0, 1000, step=25),
        integer("s1", 10, 250, step=10),
    ]),
    "syn_cat_large": Space([
        cat("item", [f"i{j:03d}" for j in range(200)]),
        cat("color", [f"c{j}" for j in range(10)]),
        integer("size", 0, 10),
    ]),
}

SYNTHETIC: dict[str, SyntheticSpec] = {s.name: s for s in (
    SyntheticSpec("syn_cat_chain", SYNTHETIC_SPACES["syn_cat_chain"], _cat_chain,
                  "10 categoricals x 5 choices, Potts chain (unary + neighbour couplings); "
                  "optimum by min-sum DP", 101),
    SyntheticSpec("syn_mixed_quadratic", SYNTHETIC_SPACES["syn_mixed_quadratic"], _mixed_quadratic,
                  "2 categoricals (4, 3) + 4 ints (one step 5): rotated quadratic whose target "
                  "grid point depends on `mode`, plus an offset per (mode, shift)", 102),
    SyntheticSpec("syn_conditional", SYNTHETIC_SPACES["syn_conditional"], _conditional,
                  "`branch` {a, b, c, d} with 0-3 conditional children each (ints, log int, step "
                  "int, categoricals); shuffled branch offsets", 103),
    SyntheticSpec("syn_log_int", SYNTHETIC_SPACES["syn_log_int"], _log_int,
                  "4 log ints (up to [8, 65536]) + 2 step ints: rotated quadratic (condition 100) "
                  "in log-scaled coordinates, target a grid point", 104),
    SyntheticSpec("syn_cat_large", SYNTHETIC_SPACES["syn_cat_large"], _cat_large,
                  "a 200-choice categorical in 10 hidden groups interacting with a 10-choice "
                  "one, plus an int whose target depends on the latter", 105),
)}
