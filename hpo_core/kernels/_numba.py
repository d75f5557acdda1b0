"""Numba backend: the reference kernels as compiled loops (``@njit(cache=True)``).

Single-threaded by design (no ``parallel=True``), so the kernels never fight BLAS or a
study's worker threads for cores; they are compiled with ``nogil=True``, so threads
calling them do run concurrently. ``fastmath`` is off and indices are ``intp``. The
tests pin every kernel to the reference at ``rtol=1e-10``.

The ``"numba"`` backend module. The kernels are compiled by job, as the reference is
written, and re-exported here:

* ``_numba_truncnorm.py``: the scalar normal-distribution math (``log_ndtr``, Cephes
  ``ndtri``, log-space Gaussian masses) that ``_numba_tpe.py`` compiles in (no kernel
  of its own);
* ``_numba_tpe.py``: ``log_pdf_product_mixture``, ``sample_product_mixture``,
  ``parzen_bandwidths``, ``categorical_kernel_table``;
* ``_numba_tpe_propose.py``: ``tpe_best_candidate``, ``tpe_propose`` (compiling in the
  functions of ``_numba_tpe.py``);
* ``_numba_pareto.py``: ``nondominated_rank``, ``is_pareto_front``, ``hypervolume``,
  ``hypervolume_mc``;
* ``_numba_ehvi.py``: ``nondominated_boxes``, ``log_ehvi``;
* ``_numba_nsga.py``: ``crowding_distance``;
* ``_numba_signed_rank.py``: ``paired_signed_rank``, ``paired_signed_rank_rows`` (the Wilcoxon pruner);
* ``_numba_gp.py``: ``matern52``, ``gp_log_marginal_likelihood``, ``gp_posterior``,
  ``log_ei``;
* ``_numba_fanova.py``: ``fanova_marginal_variances``.

Numba's on-disk cache checks only the file of each compiled function, not the files of
the compiled functions it calls: after editing ``_numba_truncnorm.py`` or
``_numba_tpe.py`` delete the cache (``find hpo_core/kernels -name "*.nb[ic]" -delete``)
so ``_numba_tpe.py`` and ``_numba_tpe_propose.py`` recompile.
"""

from __future__ import annotations

from hpo_core.kernels._numba_ehvi import log_ehvi, nondominated_boxes
from hpo_core.kernels._numba_fanova import fanova_marginal_variances
from hpo_core.kernels._numba_gp import gp_log_marginal_likelihood, gp_posterior, log_ei, matern52
from hpo_core.kernels._numba_nsga import crowding_distance
from hpo_core.kernels._numba_pareto import hypervolume, hypervolume_mc, is_pareto_front, nondominated_rank
from hpo_core.kernels._numba_signed_rank import (
    paired_signed_rank,
    paired_signed_rank_rows,
    signed_rank_normal_pvalue,
)
from hpo_core.kernels._numba_tpe import (
    categorical_kernel_table,
    log_pdf_product_mixture,
    parzen_bandwidths,
    sample_product_mixture,
)
from hpo_core.kernels._numba_tpe_propose import tpe_best_candidate, tpe_propose

__all__ = [
    "categorical_kernel_table",
    "fanova_marginal_variances",
    "crowding_distance",
    "gp_log_marginal_likelihood",
    "gp_posterior",
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
    "signed_rank_normal_pvalue",
    "parzen_bandwidths",
    "sample_product_mixture",
    "tpe_best_candidate",
    "tpe_propose",
]

BACKEND_NAME = "numba"
AVAILABLE = True
