from __future__ import annotations

import importlib
import inspect
import logging
import subprocess
import sys
import types
from types import ModuleType

import numpy as np
import pytest

from hpo_core import kernels
from hpo_core.kernels import _backends, _reference

# The kernels every backend implements (the TPE kernels: test_product_mixture.py).
KERNELS = [
    "nondominated_rank",
    "is_pareto_front",
]


@pytest.fixture
def fresh_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget which backends loaded, so a test can make one unimportable."""
    monkeypatch.setattr(_backends, "_loaded", {})
    monkeypatch.setattr(_backends, "_load_errors", {})
    _backends._reset_default()
    yield
    _backends._reset_default()


def _hide_module(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    for name in names:
        monkeypatch.setitem(sys.modules, name, None)  # makes `import name` raise ImportError


def test_kernels_all_lists_the_kernels() -> None:
    assert set(KERNELS) <= set(kernels.__all__)


@pytest.mark.parametrize("name", KERNELS)
def test_backend_functions_share_signature_and_summary(backend: ModuleType, name: str) -> None:
    ref, fn = getattr(_reference, name), getattr(backend, name)
    assert list(inspect.signature(fn).parameters) == list(inspect.signature(ref).parameters)
    summary = ref.__doc__.strip().splitlines()[0]
    assert fn.__doc__.strip().splitlines()[0] == summary
    assert getattr(kernels, name).__doc__.strip().splitlines()[0] == summary


def test_get_backend_unknown_name_raises_value_error() -> None:
    with pytest.raises(ValueError, match="`backend` must be one of 'cext', 'numba', 'jax', 'numpy'"):
        kernels.get_backend("fortran")


def test_get_backend_numpy_is_the_reference() -> None:
    assert kernels.get_backend("numpy") is _reference
    assert "numpy" in kernels.available_backends()


def test_available_backends_keep_preference_order() -> None:
    names = kernels.available_backends()
    assert names == [b for b in kernels.BACKENDS if b in names]


def test_env_var_selects_default_backend(monkeypatch: pytest.MonkeyPatch, reset_default_backend: None) -> None:
    monkeypatch.setenv("HPO_CORE_BACKEND", "numpy")
    _backends._reset_default()
    assert kernels.backend_name() == "numpy"
    values = np.array([[1.0, 2.0], [2.0, 1.0], [3.0, 3.0]])
    np.testing.assert_array_equal(kernels.nondominated_rank(values), [0, 0, 1])


def test_env_var_unknown_backend_raises(monkeypatch: pytest.MonkeyPatch, reset_default_backend: None) -> None:
    monkeypatch.setenv("HPO_CORE_BACKEND", "cuda")
    with pytest.raises(ValueError, match="HPO_CORE_BACKEND"):
        kernels.get_backend()


def test_explicit_backend_overrides_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HPO_CORE_BACKEND", "jax")
    assert kernels.get_backend("numpy") is _reference


def test_default_backend_is_first_available(monkeypatch: pytest.MonkeyPatch, reset_default_backend: None) -> None:
    monkeypatch.delenv("HPO_CORE_BACKEND", raising=False)
    assert kernels.backend_name() == kernels.available_backends()[0]


def test_missing_jax_requested_raises_import_error(monkeypatch: pytest.MonkeyPatch, fresh_loader: None) -> None:
    _hide_module(monkeypatch, "jax", "hpo_core.kernels._jax")
    with pytest.raises(ImportError, match=r"hpo_core\[jax\]"):
        kernels.get_backend("jax")
    assert "jax" not in kernels.available_backends()


def test_missing_extension_requested_raises_import_error(monkeypatch: pytest.MonkeyPatch, fresh_loader: None) -> None:
    _hide_module(monkeypatch, "_hpo_core_ext", "_hpo_core_ext_x86_64_v3")
    monkeypatch.delitem(sys.modules, "hpo_core.kernels._cext", raising=False)
    with pytest.raises(ImportError, match="HPO_CORE_BUILD_EXT=ON"):
        kernels.get_backend("cext")


def test_stale_extension_is_unavailable(monkeypatch: pytest.MonkeyPatch, fresh_loader: None) -> None:
    for name in ("_hpo_core_ext", "_hpo_core_ext_x86_64_v3"):  # both builds, whichever loads
        stale = types.ModuleType(name)
        stale.ABI_VERSION = -1  # type: ignore[attr-defined]
        stale.__file__ = f"/old/build/{name}.so"
        monkeypatch.setitem(sys.modules, name, stale)
    monkeypatch.delitem(sys.modules, "hpo_core.kernels._cext", raising=False)
    cext = importlib.import_module("hpo_core.kernels._cext")
    assert not cext.AVAILABLE and "stale" in cext.UNAVAILABLE_REASON
    with pytest.raises(ImportError, match="cext"):
        kernels.get_backend("cext")
    monkeypatch.delitem(sys.modules, "hpo_core.kernels._cext")  # reload the real one later


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_automatic_fallback_is_silent_but_logged(monkeypatch: pytest.MonkeyPatch, fresh_loader: None) -> None:
    monkeypatch.delenv("HPO_CORE_BACKEND", raising=False)
    _hide_module(monkeypatch, "_hpo_core_ext", "_hpo_core_ext_x86_64_v3", "numba", "jax", "hpo_core.kernels._jax",
                 "hpo_core.kernels._numba")
    monkeypatch.delitem(sys.modules, "hpo_core.kernels._cext", raising=False)
    # hpo_core's logger may not propagate to the root (caplog), so listen on it directly.
    logger = logging.getLogger("hpo_core.kernels")
    handler = _ListHandler()
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        assert kernels.backend_name() == "numpy"
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    assert any("unavailable" in r.getMessage() for r in handler.records)
    assert all(r.levelno == logging.DEBUG for r in handler.records)
    monkeypatch.delitem(sys.modules, "hpo_core.kernels._cext")


def test_module_level_functions_dispatch(reset_default_backend: None) -> None:
    rng = np.random.default_rng(0)
    x, mus = rng.uniform(0, 1, (5, 1)), rng.uniform(0, 1, (3, 1))
    args = (x, x, np.zeros(1, bool), np.empty((5, 0)), mus, np.full((3, 1), 0.2), np.log(np.full(3, 1 / 3)),
            np.zeros(1), np.ones(1), np.empty((3, 0)), np.empty(0, np.intp))
    np.testing.assert_allclose(kernels.log_pdf_product_mixture(*args), _reference.log_pdf_product_mixture(*args),
                               rtol=1e-10)
    assert kernels.is_pareto_front(np.array([[1.0], [0.0]])).tolist() == [False, True]


def test_import_loads_no_optional_backend() -> None:
    code = (
        "import sys, hpo_core.kernels\n"
        "loaded = [m for m in ('numba', 'jax', '_hpo_core_ext', 'hpo_core.kernels._numba') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _served_by(kernel: str, chosen: str) -> str:
    """The backend that should run ``kernel`` when ``chosen`` is picked."""
    if hasattr(kernels.get_backend(chosen), kernel):
        return chosen
    return next(b for b in kernels.available_backends() if hasattr(kernels.get_backend(b), kernel))


@pytest.mark.parametrize("kernel", ["nondominated_rank", "hypervolume", "tpe_propose", "matern52"])
def test_kernel_backend_name_explicit_backend_falls_back_to_the_fastest(kernel: str,
                                                                       reset_default_backend: None) -> None:
    for name in kernels.available_backends():
        assert kernels.kernel_backend_name(kernel, name) == _served_by(kernel, name)


def test_default_backend_is_resolved_once_for_every_kernel(monkeypatch: pytest.MonkeyPatch,
                                                           reset_default_backend: None) -> None:
    monkeypatch.setenv("HPO_CORE_BACKEND", "numpy")
    assert kernels.backend_name() == "numpy"
    assert kernels.get_backend() is _reference
    monkeypatch.setenv("HPO_CORE_BACKEND", "jax")  # cached: changes nothing until a reset
    assert kernels.backend_name() == "numpy"
    assert kernels.kernel_backend_name("hypervolume") == "numpy"
    _backends._reset_default()
    monkeypatch.setenv("HPO_CORE_BACKEND", "numba")
    if "numba" in kernels.available_backends():
        assert kernels.backend_name() == "numba"
        assert kernels.kernel_backend_name("hypervolume") == "numba"


def test_env_var_naming_a_missing_backend_raises_import_error(monkeypatch: pytest.MonkeyPatch,
                                                              fresh_loader: None) -> None:
    _hide_module(monkeypatch, "jax", "hpo_core.kernels._jax")
    monkeypatch.setenv("HPO_CORE_BACKEND", "jax")
    with pytest.raises(ImportError, match=r"hpo_core\[jax\]"):
        kernels.nondominated_rank(np.zeros((2, 2)))
