"""The public matplotlib plots: the arrays of ``_info`` drawn by ``_render``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from hpo_core.visualization import _api
from hpo_core.visualization import _data as D
from hpo_core.visualization import _info as I
from hpo_core.visualization import _info_params as IPar
from hpo_core.visualization import _info_progress as IP
from hpo_core.visualization.matplotlib import _render as R

if TYPE_CHECKING:
    from hpo_core.importance import BaseImportanceEvaluator
    from hpo_core.study import Study
    from hpo_core.terminator import BaseErrorEvaluator, BaseImprovementEvaluator
    from hpo_core.trial import FrozenTrial

_TN = D.DEFAULT_TARGET_NAME


def is_available() -> bool:
    """Whether matplotlib can be imported (``pip install 'hpo_core[visualization]'``)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def plot_optimization_history(
    study: Study | Sequence[Study],
    *,
    target: Callable[[FrozenTrial], float] | None = None,
    target_name: str = _TN,
    error_bar: bool = False,
) -> Any:
    """Matplotlib :func:`hpo_core.visualization.plot_optimization_history`: the best-value
    step line is exact; markers are all trials up to 2,000, else a seeded sample of 2,000
    plus every improvement. Returns ``Axes``."""
    return R.optimization_history(I.optimization_history(study, target, target_name, error_bar), target_name)


def plot_param_importances(
    study: Study,
    evaluator: BaseImportanceEvaluator | None = None,
    params: list[str] | None = None,
    *,
    target: Callable[[FrozenTrial], float] | None = None,
    target_name: str = _TN,
) -> Any:
    """Matplotlib :func:`hpo_core.visualization.plot_param_importances`: one bar per
    parameter. Returns ``Axes``."""
    return R.param_importances(_api._importances(study, evaluator, params, target, target_name))


def plot_slice(
    study: Study,
    params: list[str] | None = None,
    *,
    target: Callable[[FrozenTrial], float] | None = None,
    target_name: str = _TN,
) -> Any:
    """Matplotlib :func:`hpo_core.visualization.plot_slice`: markers up to 2,000 trials
    per parameter, else a 60 x 40 2-D histogram (log colour scale) with the best trial
    starred. Returns ``Axes`` (an array of them for several parameters)."""
    return R.slice_plot(IPar.slice_info(study, params, target, target_name))


def plot_contour(
    study: Study,
    params: list[str] | None = None,
    *,
    target: Callable[[FrozenTrial], float] | None = None,
    target_name: str = _TN,
) -> Any:
    """Matplotlib :func:`hpo_core.visualization.plot_contour`: the mean target per grid
    cell over all trials (nearest-filled), markers up to 2,000 (a seeded sample beyond).
    Returns ``Axes`` (a matrix of them for more than two parameters)."""
    return R.contour(IPar.contour_info(study, params, target, target_name))


def plot_parallel_coordinate(
    study: Study,
    params: list[str] | None = None,
    *,
    target: Callable[[FrozenTrial], float] | None = None,
    target_name: str = _TN,
) -> Any:
    """Matplotlib :func:`hpo_core.visualization.plot_parallel_coordinate`: up to 1,000
    lines, else the best 200, the worst 200 and a seeded sample of 600. Returns ``Axes``."""
    return R.parallel_coordinate(IPar.parallel_info(study, params, target, target_name))


def plot_intermediate_values(study: Study) -> Any:
    """Matplotlib :func:`hpo_core.visualization.plot_intermediate_values`: up to 100
    curves, else a sample of 100 over the median and 25-75 % band of all reports per
    step. Returns ``Axes``."""
    return R.intermediate_values(I.intermediate_info(study))


def plot_edf(
    study: Study | Sequence[Study],
    *,
    target: Callable[[FrozenTrial], float] | None = None,
    target_name: str = _TN,
) -> Any:
    """Matplotlib :func:`hpo_core.visualization.plot_edf` (exact at 100 values). Returns ``Axes``."""
    return R.edf(I.edf_info(study, target, target_name))


def plot_pareto_front(
    study: Study,
    *,
    target_names: list[str] | None = None,
    include_dominated_trials: bool = True,
    constraints_func: Callable[[FrozenTrial], Sequence[float]] | None = None,
    targets: Callable[[FrozenTrial], Sequence[float]] | None = None,
) -> Any:
    """Matplotlib :func:`hpo_core.visualization.plot_pareto_front`: front, dominated and
    infeasible trials each up to 2,000 (a seeded sample beyond). Returns ``Axes``."""
    return R.pareto_front(I.pareto_info(study, target_names, include_dominated_trials, constraints_func, targets))


def plot_rank(
    study: Study,
    params: list[str] | None = None,
    *,
    target: Callable[[FrozenTrial], float] | None = None,
    target_name: str = _TN,
) -> Any:
    """Matplotlib :func:`hpo_core.visualization.plot_rank`: ranks over all trials, markers
    up to 2,000 (a seeded sample beyond). Returns ``Axes`` (a matrix for more than two
    parameters)."""
    return R.rank(IPar.rank_info(study, params, target, target_name))


def plot_timeline(study: Study, n_recent_trials: int | None = None) -> Any:
    """Matplotlib :func:`hpo_core.visualization.plot_timeline`: up to 1,000 bars, else
    every k-th trial (k = ceil(n / 1,000)). Returns ``Axes``."""
    return R.timeline(I.timeline_info(study, n_recent_trials))


def plot_terminator_improvement(
    study: Study,
    plot_error: bool = False,
    improvement_evaluator: BaseImprovementEvaluator | None = None,
    error_evaluator: BaseErrorEvaluator | None = None,
    min_n_trials: int = 20,
) -> Any:
    """Matplotlib :func:`hpo_core.visualization.plot_terminator_improvement` (one
    evaluation per trial, exact). Returns ``Axes``."""
    info = IP.improvement_info(study, plot_error, improvement_evaluator, error_evaluator, min_n_trials)
    return R.terminator_improvement(info)


def plot_hypervolume_history(study: Study, reference_point: Sequence[float]) -> Any:
    """Matplotlib :func:`hpo_core.visualization.plot_hypervolume_history`: markers up to
    2,000 COMPLETE trials, else a step line through the changes. Returns ``Axes``."""
    return R.hypervolume_history(IP.hypervolume_info(study, reference_point))
