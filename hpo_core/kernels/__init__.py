"""Pure array kernels behind the samplers, with interchangeable backends.

Every backend implements its kernels with the same names, signatures and docstring
summaries; the NumPy reference (``_reference.py``) is the specification, implements every
kernel and is the fallback that always works.

Backends, in order of automatic preference:

* ``"cext"``: the optional C++ extension ``_hpo_core_ext`` (nanobind; releases the GIL).
* ``"numba"``: ``@njit(cache=True)`` versions (numba is a core dependency).
* ``"jax"``: ``jax.jit`` versions with x64 enabled (``pip install 'hpo_core[jax]'``).
* ``"numpy"``: the vectorised reference.

One path picks the module that runs a kernel (``_backends._kernel_module``): the backend is an
explicit ``backend=`` argument (:func:`get_backend`, :func:`kernel_backend_name`), else
the ``HPO_CORE_BACKEND`` environment variable, else the first available of the list
above; the default is resolved on first use and cached. A backend need not implement
every kernel: a kernel it lacks (the product-mixture and hypervolume kernels in JAX, the
Gaussian-process kernels in the extension) comes from the first available backend in the
order above that has it, i.e. the fastest one here, so the NumPy reference answers only
when nothing compiled is available (:func:`kernel_backend_name` says which backend serves
a kernel). A requested backend that is missing raises ``ImportError`` naming the extra to
install; the automatic choice and the fallback are silent apart from a debug log line.

Importing this package imports no backend; numba, jax and the extension load on first use.
The functions here dispatch as above, one private module per kernel family
(``_dispatch_tpe``, ``_dispatch_gp``, ``_dispatch_pareto``, ``_dispatch_stats``), each
checking the shapes that the compiled kernels trust; their arguments, shapes and accuracy
are documented on the reference implementations in ``hpo_core.kernels._reference``.

Example:
    >>> import numpy as np
    >>> from hpo_core import kernels
    >>> kernels.nondominated_rank(np.array([[1.0, 2.0], [2.0, 1.0], [2.0, 2.0]])).tolist()
    [0, 0, 1]
    >>> kernels.get_backend("numpy").is_pareto_front(np.array([[1.0], [0.0]]))
    array([False,  True])
"""

from __future__ import annotations

from hpo_core.kernels._backends import (
    BACKENDS,
    available_backends,
    backend_name,
    get_backend,
    kernel_backend_name,
)
from hpo_core.kernels._dispatch_gp import gp_log_marginal_likelihood, gp_posterior, log_ei, matern52
from hpo_core.kernels._dispatch_pareto import (
    crowding_distance,
    hypervolume,
    hypervolume_mc,
    is_pareto_front,
    log_ehvi,
    nondominated_boxes,
    nondominated_rank,
)
from hpo_core.kernels._dispatch_stats import (  # fanova_marginal_variances: importable, not in __all__
    fanova_marginal_variances,  # noqa: F401
    paired_signed_rank,
    paired_signed_rank_rows,
)
from hpo_core.kernels._dispatch_tpe import (
    categorical_kernel_table,
    log_pdf_product_mixture,
    parzen_bandwidths,
    sample_product_mixture,
    tpe_best_candidate,
    tpe_grid_keys,
    tpe_propose,
)

__all__ = [
    "BACKENDS",
    "available_backends",
    "categorical_kernel_table",
    "crowding_distance",
    "backend_name",
    "get_backend",
    "gp_log_marginal_likelihood",
    "gp_posterior",
    "kernel_backend_name",
    "hypervolume",
    "hypervolume_mc",
    "is_pareto_front",
    "log_ehvi",
    "log_ei",
    "log_pdf_product_mixture",
    "matern52",
    "nondominated_boxes",
    "nondominated_rank",
    "paired_signed_rank",
    "paired_signed_rank_rows",
    "parzen_bandwidths",
    "sample_product_mixture",
    "tpe_best_candidate",
    "tpe_grid_keys",
    "tpe_propose",
]
