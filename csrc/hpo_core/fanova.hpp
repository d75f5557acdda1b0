// fANOVA marginals of a forest of regression trees: the compiled twin of
// hpo_core/kernels/_reference_fanova.py (notation there). Plain C++17, pure,
// single-threaded; input is trusted (checked by hpo_core.kernels).
#pragma once

#include <cstddef>
#include <cstdint>

namespace hpo_core {

// Variance of each tree and of each parameter's marginal in each tree (fANOVA).
// Nodes of all trees concatenated (n_nodes = tree_offsets[n_trees]); children indices
// local to each tree (-1 at leaves), children after their parent; bounds (n_cols, 2)
// row-major; parameter p owns group_columns[group_offsets[p]:group_offsets[p + 1]].
// Writes tree_var (n_trees,) and marg_var (n_groups, n_trees) row-major.
void fanova_marginal_variances(const std::int64_t* children_left, const std::int64_t* children_right,
                               const std::int64_t* feature, const double* threshold, const double* value,
                               const std::int64_t* tree_offsets, std::ptrdiff_t n_trees,
                               const double* bounds, std::ptrdiff_t n_cols,
                               const std::int64_t* group_offsets, const std::int64_t* group_columns,
                               std::ptrdiff_t n_groups, double* tree_var, double* marg_var);

}  // namespace hpo_core
