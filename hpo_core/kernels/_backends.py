"""Backend selection for the kernel dispatchers: the one place that picks the module
that runs a kernel.

The backend is an explicit ``backend=`` argument (:func:`get_backend`,
:func:`kernel_backend_name`), else the ``HPO_CORE_BACKEND`` environment variable, else the
first available of ``BACKENDS``; the default is resolved on first use and cached. A kernel
that the chosen backend lacks comes from the first available backend that has it
(:func:`_kernel_module`). Importing this module imports no backend.
"""

from __future__ import annotations

import importlib
import logging
import os
from types import ModuleType

from hpo_core._validation import check_choice

# The package's logger: the debug lines name ``hpo_core.kernels``, where users listen.
_logger = logging.getLogger("hpo_core.kernels")

BACKENDS: tuple[str, ...] = ("cext", "numba", "jax", "numpy")
_ENV_VAR = "HPO_CORE_BACKEND"
_MODULES = {
    "cext": "hpo_core.kernels._cext",
    "numba": "hpo_core.kernels._numba",
    "jax": "hpo_core.kernels._jax",
    "numpy": "hpo_core.kernels._reference",
}
_INSTALL_HINTS = {
    "cext": (
        "reinstall with the C++ extension: pip install . (needs a C++17 compiler and "
        "cmake); set HPO_CORE_BUILD_EXT=ON"
    ),
    "numba": "install numba: pip install numba (a core dependency of hpo_core)",
    "jax": "install the extra: pip install 'hpo_core[jax]'",
    "numpy": "",
}

_loaded: dict[str, ModuleType | None] = {}
_load_errors: dict[str, BaseException] = {}
# The default backend's name (environment variable or first available), once resolved.
_default_name: str | None = None
# (requested backend, None for the default; kernel) -> the module that serves the kernel.
_kernel_cache: dict[tuple[str | None, str], ModuleType] = {}


def _load(name: str) -> ModuleType | None:
    """Import backend ``name`` once; None (and a debug line) when it is unavailable."""
    if name not in _loaded:
        module: ModuleType | None = None
        try:
            module = importlib.import_module(_MODULES[name])
        except Exception as e:  # noqa: BLE001 - a broken optional backend must not break hpo_core
            # Not only ImportError: e.g. a jax or numba built against another NumPy can
            # fail with RuntimeError or AttributeError while importing.
            _load_errors[name] = e
            _logger.debug("kernel backend %r unavailable: %r", name, e)
        else:
            if not getattr(module, "AVAILABLE", True):
                _load_errors[name] = ImportError(module.UNAVAILABLE_REASON)
                _logger.debug("kernel backend %r unavailable: %s", name, module.UNAVAILABLE_REASON)
                module = None
        _loaded[name] = module
    return _loaded[name]


def _require(name: str) -> ModuleType:
    """Backend ``name``, which was asked for by name: ImportError with a hint if missing."""
    module = _load(name)
    if module is None:
        cause = _load_errors.get(name)
        raise ImportError(
            f"The kernel backend {name!r} is not available ({cause}); {_INSTALL_HINTS[name]}."
        ) from cause
    return module


def available_backends() -> list[str]:
    """Names of the backends that can be loaded here, in order of preference."""
    return [name for name in BACKENDS if _load(name) is not None]


def get_backend(backend: str | None = None) -> ModuleType:
    """Return the module implementing the kernels for ``backend``.

    Args:
        backend: One of ``"cext"``, ``"numba"``, ``"jax"``, ``"numpy"``; None picks the
            default: the ``HPO_CORE_BACKEND`` environment variable if set, else the first
            available (resolved once, then cached).

    Returns:
        The backend module. Its kernels have the reference's signatures; it may lack
        some (the module-level functions of this package fall back for those).

    Raises:
        ValueError: ``backend`` (or the environment variable) names no backend.
        ImportError: The requested backend is not installed; the message says how to
            install it.
    """
    global _default_name
    if backend is not None:
        return _require(check_choice("backend", backend, BACKENDS))
    if _default_name is None:
        env = os.environ.get(_ENV_VAR) or None
        if env is not None:
            module = _require(check_choice(_ENV_VAR, env, BACKENDS))
        else:  # the reference always loads, so some backend does
            module = next(m for m in map(_load, BACKENDS) if m is not None)
        _default_name = str(module.BACKEND_NAME)
        _logger.debug("kernel backend: %s", _default_name)
    return _require(_default_name)


def _kernel_module(kernel: str, backend: str | None = None) -> ModuleType:
    """The module that runs ``kernel``: :func:`get_backend` ``(backend)`` if it implements
    it, else the first available backend in ``BACKENDS`` order (the fastest) that does."""
    key = (backend, kernel)
    module = _kernel_cache.get(key)
    if module is None:
        chosen = get_backend(backend)
        module = chosen
        if not hasattr(chosen, kernel):
            module = next(m for m in map(_load, BACKENDS) if m is not None and hasattr(m, kernel))
            _logger.debug("kernel %s: %s lacks it, using %s", kernel, chosen.BACKEND_NAME, module.BACKEND_NAME)
        _kernel_cache[key] = module
    return module


def backend_name() -> str:
    """Name of the default backend (environment variable, else the first available)."""
    return str(get_backend().BACKEND_NAME)


def kernel_backend_name(kernel: str, backend: str | None = None) -> str:
    """Name of the backend that runs ``kernel`` when ``backend`` (None: the default) is chosen."""
    return str(_kernel_module(kernel, backend).BACKEND_NAME)


def _reset_default() -> None:
    """Forget the resolved default backend and kernel choices (tests change ``HPO_CORE_BACKEND``)."""
    global _default_name
    _default_name = None
    _kernel_cache.clear()
