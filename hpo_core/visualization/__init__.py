"""Plots of a study, Optuna 5.0's ``optuna.visualization`` (plotly) and
``optuna.visualization.matplotlib`` (matplotlib), built from the history's columns.

Each plot reads the study's columnar history (parameter columns, values, states,
times, intermediate values), not a list of trials, and stays readable at 100,000
trials: where a figure would be a smear it samples or aggregates, by the rule its
docstring states (see ``_info.py`` for the constants). Plotting libraries are imported
when a plot is drawn: ``pip install 'hpo_core[visualization]'``.

Example:
    >>> import hpo_core
    >>> from hpo_core.visualization import plot_optimization_history
    >>> study = hpo_core.create_study()
    >>> study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=20)
    >>> fig = plot_optimization_history(study)  # doctest: +SKIP
"""

from __future__ import annotations

from hpo_core.visualization import matplotlib
from hpo_core.visualization._api import (
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
    "matplotlib",
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
