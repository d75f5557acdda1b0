"""The public plotly plots (Optuna 5.0's ``optuna.visualization`` names and arguments)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from hpo_core.visualization import _data as D
from hpo_core.visualization import _info as I
from hpo_core.visualization import _info_params as IPar
from hpo_core.visualization import _info_progress as IP
from hpo_core.visualization import _plotly as P

if TYPE_CHECKING:
    from hpo_core.importance import BaseImportanceEvaluator
    from hpo_core.study import Study
    from hpo_core.terminator import BaseErrorEvaluator, BaseImprovementEvaluator
    from hpo_core.trial import FrozenTrial

_TN = D.DEFAULT_TARGET_NAME


def is_available() -> bool:
    """Whether plotly can be imported (``pip install 'hpo_core[visualization]'``)."""
    try:
        import plotly  # noqa: F401
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
    """Plot the objective value of each COMPLETE trial and the best value so far.

    Reduction: the best-value line is exact (a step line through every improvement and
    the last trial). The trial markers are all drawn up to 2,000 COMPLETE trials per
    study; beyond, a seeded sample of 2,000 plus every trial that improved the best
    value (the legend says "N of M trials"). Infeasible trials (a positive constraint)
    are grey and left out of the best line.

    Args:
        study: A study, or a sequence of studies drawn together.
        target: A function of a :class:`~hpo_core.FrozenTrial` returning the value to
            plot (required for a multi-objective study); no best line then.
        target_name: The axis label of the target.
        error_bar: With several studies, plot the mean and standard deviation over them
            per trial number.

    Returns:
        A ``plotly.graph_objects.Figure``.

    Raises:
        TypeError: ``study``, ``target``, ``target_name`` or ``error_bar`` has a wrong type.
        ValueError: ``target`` is None in a multi-objective study.
    """
    lines = I.optimization_history(study, target, target_name, error_bar)
    return P.optimization_history(lines, target_name)


def plot_param_importances(
    study: Study,
    evaluator: BaseImportanceEvaluator | None = None,
    params: list[str] | None = None,
    *,
    target: Callable[[FrozenTrial], float] | None = None,
    target_name: str = _TN,
) -> Any:
    """Plot the parameter importances (:func:`hpo_core.importance.get_param_importances`)
    as horizontal bars, the most important on top. One bar per parameter: no reduction.

    Args:
        study: An optimized study.
        evaluator: The importance evaluator; None for PED-ANOVA (Optuna 5.0's default).
        params: Parameters to assess; None for the evaluator's default set.
        target: The value to explain; None for the objective (in a multi-objective
            study, one set of bars per objective, named "<target_name> <i>").
        target_name: The axis label of the target.

    Returns:
        A ``plotly.graph_objects.Figure``.
    """
    return P.param_importances(_importances(study, evaluator, params, target, target_name))


def _importances(study: Any, evaluator: Any, params: Any, target: Any, target_name: Any
                 ) -> list[tuple[str, dict[str, float]]]:
    """(target name, importances) per bar set: one, or one per objective of a
    multi-objective study without ``target`` (Optuna's rule)."""
    from hpo_core.importance import get_param_importances

    h = D.history_of(study)
    if target is not None or len(study.directions) == 1:
        D.check_target([study], target, target_name)
        targets = [(target_name, target)]
    else:
        if not isinstance(target_name, str):
            raise TypeError(D.format_error("target_name", "a str", target_name))
        targets = [(f"{target_name} {i}", _objective(i)) for i in range(len(study.directions))]
    if not len(D.complete_rows(h)):
        D.warn_empty("Study instance does not contain completed trials.")
        return [(name, {}) for name, _ in targets]
    return [(name, get_param_importances(study, evaluator=evaluator, params=params, target=t))
            for name, t in targets]


def _objective(i: int) -> Callable[[FrozenTrial], float]:
    return lambda t: t.values[i]  # type: ignore[index]


def plot_slice(
    study: Study,
    params: list[str] | None = None,
    *,
    target: Callable[[FrozenTrial], float] | None = None,
    target_name: str = _TN,
) -> Any:
    """Plot the target against each parameter, one panel per parameter.

    Reduction: a panel draws each COMPLETE trial holding its parameter as a marker
    coloured by trial number, up to 2,000 of them; beyond, a 60 x 40 2-D histogram
    (log-spaced on a log axis, one column per category; y bins over the 0.1-99.9 %
    quantiles of the target, values outside counted in the edge rows) with counts on a
    log colour scale and the best trial marked by a star.

    Args:
        study: A single-objective study (or any study with ``target``).
        params: Parameters to plot; None for every parameter of a COMPLETE trial.
        target: A function of a :class:`~hpo_core.FrozenTrial` returning the value to plot.
        target_name: The axis label of the target.

    Raises:
        ValueError: ``params`` names an unknown parameter; ``target`` is None in a
            multi-objective study.
    """
    return P.slice_plot(IPar.slice_info(study, params, target, target_name))


def plot_contour(
    study: Study,
    params: list[str] | None = None,
    *,
    target: Callable[[FrozenTrial], float] | None = None,
    target_name: str = _TN,
) -> Any:
    """Plot the target over pairs of parameters: a filled contour and the trials.

    Reduction: the contour is the mean target per grid cell over all COMPLETE trials
    holding both parameters (about 2 trials per cell, 10 to 100 cells a side, one cell
    per category; an empty cell takes the mean of its nearest filled cell; then smoothed
    by a Gaussian of one cell along numeric axes). Markers:
    all trials up to 2,000, else a seeded sample of 2,000. Two parameters give one
    panel, more a matrix of panels; fewer than two an empty figure.

    Args: as :func:`plot_slice`.
    """
    return P.contour(IPar.contour_info(study, params, target, target_name))


def plot_parallel_coordinate(
    study: Study,
    params: list[str] | None = None,
    *,
    target: Callable[[FrozenTrial], float] | None = None,
    target_name: str = _TN,
) -> Any:
    """Plot each COMPLETE trial as a line across the target and the parameters.

    Reduction: up to 1,000 lines; beyond, the 200 best and 200 worst trials by target
    and a seeded sample of 600 of the rest (the title says so). Log parameters are drawn
    on a log10 axis, categorical ones at their choice positions. A trial is drawn when
    it holds every plotted parameter.

    Args: as :func:`plot_slice`.
    """
    return P.parallel_coordinate(IPar.parallel_info(study, params, target, target_name))


def plot_intermediate_values(study: Study) -> Any:
    """Plot the intermediate values of each COMPLETE, PRUNED and RUNNING trial by step.

    Reduction: up to 100 trials with reports, one line each; beyond, a seeded sample of
    100 curves (the best COMPLETE trial's included) drawn thin over the median and the
    25-75 % band of all reports at each step (steps binned to 500 when there are more).
    """
    return P.intermediate_values(I.intermediate_info(study))


def plot_edf(
    study: Study | Sequence[Study],
    *,
    target: Callable[[FrozenTrial], float] | None = None,
    target_name: str = _TN,
) -> Any:
    """Plot the empirical distribution function of the target of each study.

    Exact: each line is the fraction of the study's COMPLETE trials at or below each of
    100 evenly spaced values spanning all studies' targets (Optuna's grid).
    """
    return P.edf(I.edf_info(study, target, target_name))


def plot_pareto_front(
    study: Study,
    *,
    target_names: list[str] | None = None,
    include_dominated_trials: bool = True,
    constraints_func: Callable[[FrozenTrial], Sequence[float]] | None = None,
    targets: Callable[[FrozenTrial], Sequence[float]] | None = None,
) -> Any:
    """Plot the Pareto front of a 2- or 3-objective study (or of 2 or 3 ``targets``).

    Reduction: the front's trials are all drawn up to 2,000 (else a seeded sample of
    2,000), the dominated ones and the infeasible ones likewise.

    Args:
        study: A multi-objective study.
        target_names: Axis labels; None for "Objective 0", "Objective 1", ...
        include_dominated_trials: Draw the trials off the front too.
        constraints_func: A function of a trial returning constraint values (feasible when
            all are <= 0); None uses the trials' stored constraints.
        targets: A function of a trial returning the 2 or 3 values to plot.

    Raises:
        ValueError: the study has not 2 or 3 objectives and ``targets`` is None; the
            length of ``target_names`` differs from the number of targets.
    """
    return P.pareto_front(I.pareto_info(study, target_names, include_dominated_trials, constraints_func, targets))


def plot_rank(
    study: Study,
    params: list[str] | None = None,
    *,
    target: Callable[[FrozenTrial], float] | None = None,
    target_name: str = _TN,
) -> Any:
    """Plot pairs of parameters with each trial coloured by the rank of its target.

    One parameter: the parameter against the target; two: one panel; more: a matrix;
    ``params`` keep their given order (Optuna's). The colour is the rank from 0 (ties
    share their mean rank) over n - 1, Optuna's colour index.
    Reduction: ranks are computed over all COMPLETE trials; markers are all trials up to
    2,000, else a seeded sample of 2,000 (the title says so).

    Args: as :func:`plot_slice`.
    """
    return P.rank(IPar.rank_info(study, params, target, target_name))


def plot_timeline(study: Study, n_recent_trials: int | None = None) -> Any:
    """Plot each trial as a bar from its start to its end, coloured by state.

    Reduction: up to 1,000 bars; beyond, every k-th trial by number, k = ceil(n / 1,000)
    (the title says so). A RUNNING trial's bar reaches now; a bar shorter than 1/500 of
    the time span is drawn that long, so that it stays visible.

    Args:
        study: A study.
        n_recent_trials: Plot only the last this many trials; None for all.

    Raises:
        ValueError: ``n_recent_trials`` is not a positive int or None.
    """
    return P.timeline(I.timeline_info(study, n_recent_trials))


def plot_terminator_improvement(
    study: Study,
    plot_error: bool = False,
    improvement_evaluator: BaseImprovementEvaluator | None = None,
    error_evaluator: BaseErrorEvaluator | None = None,
    min_n_trials: int = 20,
) -> Any:
    """Plot the room left for improvement after each trial (:mod:`hpo_core.terminator`),
    and with ``plot_error`` the statistical error it is compared with.

    Exact, no reduction: one evaluation per trial from the first COMPLETE one, on the
    COMPLETE trials up to it (a GP fit each with the default
    :class:`~hpo_core.terminator.RegretBoundEvaluator`: seconds per hundred trials; a
    trial that completed nothing new repeats the previous values). The improvements up
    to ``min_n_trials`` are drawn lighter and left out of the y range (Optuna's figure).

    Args:
        study: A single-objective study.
        plot_error: Also plot the error.
        improvement_evaluator: None for :class:`~hpo_core.terminator.RegretBoundEvaluator`.
        error_evaluator: None for ``StaticErrorEvaluator(0)`` with a
            ``BestValueStagnationEvaluator``, else ``CrossValidationErrorEvaluator``.
        min_n_trials: The trials before termination is considered.

    Returns:
        A ``plotly.graph_objects.Figure``.

    Raises:
        ValueError: ``study`` is multi-objective; ``min_n_trials`` is negative.
    """
    info = IP.improvement_info(study, plot_error, improvement_evaluator, error_evaluator, min_n_trials)
    return P.terminator_improvement(info)


def plot_hypervolume_history(study: Study, reference_point: Sequence[float]) -> Any:
    """Plot the hypervolume of the feasible COMPLETE trials up to each COMPLETE trial.

    Read from the history's columns in one scan (``_info_progress.hypervolume_info``);
    exact. Reduction: a marker per trial up to 2,000 COMPLETE trials (Optuna's figure);
    beyond, a step line through the trials where the hypervolume changed (the title
    gives the counts), which draws the same curve.

    Args:
        study: A study with two or more objectives.
        reference_point: One value per objective, in the objectives' own directions.

    Returns:
        A ``plotly.graph_objects.Figure``.

    Raises:
        ValueError: ``study`` has one objective; ``reference_point`` has another length.
    """
    return P.hypervolume_history(IP.hypervolume_info(study, reference_point))
