"""The two builds of the C++ extension give bit-identical results.

On x86-64 the extension is built for every CPU (``_hpo_core_ext``) and for x86-64-v3
CPUs (``_hpo_core_ext_x86_64_v3``, AVX2); ``hpo_core.kernels._cext`` loads the faster one
this CPU runs. Real studies run with every call of the loaded build repeated on the
baseline build with the same inputs; outputs (and arrays written in place) must agree bit
for bit. Which build loads, and what ``HPO_CORE_CEXT_ISA`` does, is checked in fresh
interpreters.
"""

from __future__ import annotations

import collections
import copy
import importlib
import os
import subprocess
import sys
from typing import Any

import numpy as np
import pytest

import hpo_core
from hpo_core.kernels import _cext

V3 = "_hpo_core_ext_x86_64_v3"


def _module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError as e:
        pytest.skip(f"{name} is not built here ({e}); pip install . builds it on x86-64 with GCC or Clang")


@pytest.fixture
def both_builds() -> tuple[Any, Any]:
    if not _cext.cpu_has_x86_64_v3():
        pytest.skip("this CPU lacks x86-64-v3 (AVX2, FMA, BMI2): only the baseline build runs here")
    return _module(V3), _module("_hpo_core_ext")


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, tuple) or isinstance(b, tuple):
        return isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b) and all(map(_same, a, b))
    x, y = np.asarray(a), np.asarray(b)
    return x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()


class _Paired:
    """The v3 module, every function call of which is repeated on the baseline module with
    copies of the same arguments and compared bit for bit (results and arguments written
    in place); ``calls`` counts the compared calls per function."""

    def __init__(self, fast: Any, base: Any) -> None:
        self._fast, self._base = fast, base
        self.calls: collections.Counter[str] = collections.Counter()
        self.differ: list[str] = []

    def __getattr__(self, name: str) -> Any:
        fast, base = getattr(self._fast, name), getattr(self._base, name)
        if not callable(fast):
            return fast

        def call(*args: Any, **kwargs: Any) -> Any:
            args2, kwargs2 = copy.deepcopy(args), copy.deepcopy(kwargs)
            out = fast(*args, **kwargs)
            out2 = base(*args2, **kwargs2)
            written = all(_same(a, b) for a, b in zip(args, args2) if isinstance(a, np.ndarray)) and all(
                _same(v, kwargs2[k]) for k, v in kwargs.items() if isinstance(v, np.ndarray)
            )
            if not (_same(out, out2) and written):
                self.differ.append(name)
            self.calls[name] += 1
            return out

        return call


def _mixed(trial: hpo_core.Trial) -> float:
    x = trial.suggest_float("x", -3.0, 3.0)
    lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    frac = trial.suggest_float("frac", 0.0, 1.0, step=0.1)
    n = trial.suggest_int("n", 1, 40)
    width = trial.suggest_int("width", 8, 512, log=True)
    batch = trial.suggest_int("batch", 16, 256, step=16)
    act = trial.suggest_categorical("act", ["relu", "tanh", "gelu"])
    return (x - 1) ** 2 + abs(np.log10(lr) + 3) + frac + abs(n - 17) / 10 + abs(np.log2(width) - 6) \
        + batch / 256 + (act != "tanh")


def _grid(trial: hpo_core.Trial) -> float:  # all discrete: TPE skips evaluated configurations
    i = trial.suggest_int("i", 0, 9)
    j = trial.suggest_int("j", 1, 64, log=True)
    c = trial.suggest_categorical("c", ["a", "b", "c"])
    return (i - 4) ** 2 + abs(np.log2(j) - 3) + (c == "a")


def _two(trial: hpo_core.Trial) -> tuple[float, float]:
    x = trial.suggest_float("x", 0.0, 1.0)
    y = trial.suggest_float("y", 0.0, 1.0)
    k = trial.suggest_int("k", 0, 5)
    return x + k / 10, (1 - x) ** 2 + y


def test_builds_agree_bit_for_bit_on_real_studies(both_builds: tuple[Any, Any],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    paired = _Paired(*both_builds)
    monkeypatch.setattr(_cext, "_ext", paired)
    monkeypatch.setenv("HPO_CORE_BACKEND", "cext")
    hpo_core.logging.set_verbosity(hpo_core.logging.WARNING)
    TPE = hpo_core.samplers.TPESampler
    for seed in (0, 1):
        hpo_core.create_study(sampler=TPE(seed=seed)).optimize(_mixed, n_trials=70)
        hpo_core.create_study(sampler=TPE(seed=seed, multivariate=False)).optimize(_mixed, n_trials=40)
        hpo_core.create_study(sampler=TPE(seed=seed)).optimize(_grid, n_trials=70)
    mo = hpo_core.create_study(directions=["minimize", "minimize"], sampler=TPE(seed=0))
    mo.optimize(_two, n_trials=50)
    nsga = hpo_core.create_study(directions=["minimize", "minimize"],
                                 sampler=hpo_core.samplers.NSGAIISampler(seed=0, population_size=10))
    nsga.optimize(_two, n_trials=40)
    hpo_core.importance.get_param_importances(mo, target=lambda t: t.values[0],
                                              evaluator=hpo_core.importance.FanovaImportanceEvaluator(seed=0))
    assert not paired.differ, f"the two builds differ in {collections.Counter(paired.differ)}"
    # What these studies exercise (each function compared many times):
    assert {"tpe_propose", "nondominated_rank", "fanova_marginal_variances"} <= set(paired.calls), paired.calls
    assert paired.calls["tpe_propose"] >= 400


def _loaded(env: dict[str, str], stream: str = "stdout") -> str:
    code = "from hpo_core.kernels import _cext; print(_cext.ISA, _cext.AVAILABLE, _cext.UNAVAILABLE_REASON)"
    full = {k: v for k, v in os.environ.items() if k != "HPO_CORE_CEXT_ISA"} | env
    done = subprocess.run([sys.executable, "-c", code], env=full, capture_output=True, text=True, check=True)
    return str(getattr(done, stream)).strip()


def test_auto_loads_the_v3_build_where_the_cpu_runs_it(both_builds: tuple[Any, Any]) -> None:
    assert _loaded({}).startswith("x86-64-v3 True")
    assert _loaded({"HPO_CORE_CEXT_ISA": "auto"}).startswith("x86-64-v3 True")
    assert _loaded({"HPO_CORE_CEXT_ISA": "baseline"}).startswith("baseline True")


def test_unknown_isa_names_the_variable_and_the_choices() -> None:
    out = _loaded({"HPO_CORE_CEXT_ISA": "avx512"})
    assert "False" in out and "HPO_CORE_CEXT_ISA" in out and "'x86-64-v3'" in out and "'avx512'" in out
    # Said as a warning too (the backends fall back without it silently otherwise).
    err = _loaded({"HPO_CORE_CEXT_ISA": "avx512"}, "stderr")
    assert "HpoWarning" in err and "'avx512'" in err and "C++ kernels are not used" in err
