"""NumPy reference kernels: the specification every compiled backend is checked against.

The ``"numpy"`` backend module: it implements every kernel of ``hpo_core.kernels`` and
is the fallback that always works. The kernels are written by job, each module with its
own *Notation* block, and re-exported here:

* ``_reference_truncnorm.py``: the truncated-normal math (log-space Gaussian masses, the
  inverse CDF) of the product mixtures; it defines no kernel of its own;
* ``_reference_tpe.py``: TPE's product mixtures and Parzen estimator parts
  (``log_pdf_product_mixture``, ``sample_product_mixture``, ``parzen_bandwidths``,
  ``categorical_kernel_table``);
* ``_reference_tpe_propose.py``: TPE's proposal (``tpe_best_candidate``,
  ``tpe_grid_keys``, ``tpe_propose``);
* ``_reference_pareto.py``: ``nondominated_rank``, ``is_pareto_front``,
  ``hypervolume`` and ``hypervolume_mc``;
* ``_reference_ehvi.py``: ``nondominated_boxes`` and ``log_ehvi`` (multi-objective GP);
* ``_reference_nsga.py``: NSGA-II's ``crowding_distance``;
* ``_reference_signed_rank.py``: ``paired_signed_rank``, ``paired_signed_rank_rows`` (the Wilcoxon pruner's statistic);
* ``_reference_gp.py``: the Gaussian-process kernels ``matern52``,
  ``gp_log_marginal_likelihood``, ``gp_posterior`` and ``log_ei``;
* ``_reference_fanova.py``: ``fanova_marginal_variances`` (parameter importance).

All kernels are pure: arrays and scalars in, new arrays out, no RNG and no global state.
They trust their input; the module-level functions of ``hpo_core.kernels`` validate once
at the boundary. The compiled backends mirror this layout (``_numba_<job>.py``,
``_jax_gp.py``) with the same names, signatures and docstring summaries.
"""

from __future__ import annotations

from hpo_core.kernels._reference_ehvi import log_ehvi, nondominated_boxes
from hpo_core.kernels._reference_fanova import fanova_marginal_variances
from hpo_core.kernels._reference_gp import gp_log_marginal_likelihood, gp_posterior, log_ei, matern52
from hpo_core.kernels._reference_nsga import crowding_distance
from hpo_core.kernels._reference_pareto import hypervolume, hypervolume_mc, is_pareto_front, nondominated_rank
from hpo_core.kernels._reference_signed_rank import (
    paired_signed_rank,
    paired_signed_rank_rows,
    signed_rank_normal_pvalue,
)
from hpo_core.kernels._reference_tpe import (
    categorical_kernel_table,
    log_pdf_product_mixture,
    parzen_bandwidths,
    sample_product_mixture,
)
from hpo_core.kernels._reference_tpe_propose import tpe_best_candidate, tpe_grid_keys, tpe_propose

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
    "tpe_grid_keys",
    "tpe_propose",
]

BACKEND_NAME = "numpy"
AVAILABLE = True
