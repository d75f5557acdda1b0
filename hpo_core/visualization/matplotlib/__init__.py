"""Matplotlib versions of the plots (Optuna 5.0's ``optuna.visualization.matplotlib``).

Same names, arguments, data and reduction rules as the plotly functions of
:mod:`hpo_core.visualization` (each docstring there states its rule); these return
matplotlib ``Axes`` (an array of them for a matrix or a row of panels).
"""

from __future__ import annotations

from hpo_core.visualization.matplotlib._api import (
    is_available,
    plot_contour,
    plot_edf,
    plot_hypervolume_history,
    plot_intermediate_values,
    plot_optimization_history,
    plot_parallel_coordinate,
    plot_param_importances,
    plot_pareto_front,
    plot_rank,
    plot_slice,
    plot_terminator_improvement,
    plot_timeline,
)

__all__ = [
    "is_available",
    "plot_contour",
    "plot_edf",
    "plot_hypervolume_history",
    "plot_intermediate_values",
    "plot_optimization_history",
    "plot_parallel_coordinate",
    "plot_param_importances",
    "plot_pareto_front",
    "plot_rank",
    "plot_slice",
    "plot_terminator_improvement",
    "plot_timeline",
]
