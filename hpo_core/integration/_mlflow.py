"""MLflow: one MLflow run per finished trial."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from hpo_core._imports import import_optional
from hpo_core._validation import format_error

if TYPE_CHECKING:
    from hpo_core.study import Study
    from hpo_core.trial import FrozenTrial, Trial

mlflow = import_optional("mlflow", extra="integration", feature="hpo_core.integration.MLflowCallback")

__all__ = ["RUN_ID_ATTRIBUTE_KEY", "MLflowCallback"]

RUN_ID_ATTRIBUTE_KEY = "mlflow_run_id"


class MLflowCallback:
    """Callback to track trials with MLflow (optuna-integration's arguments and layout).

    Called by ``Study.optimize`` after each trial (``callbacks=[MLflowCallback(...)]``), it
    writes one MLflow run per trial, named after the trial number, in an experiment named
    after the study:

    - metrics: the objective value(s) (``metric_name``; several objectives get
      ``value_0``, ``value_1``, ... or the names given), and each intermediate value as
      the history of ``"intermediate_<metric_name>"`` at its step;
    - parameters: the trial's parameters;
    - tags: ``number``, ``datetime_start``, ``datetime_complete``, ``state``,
      ``direction``, ``<param>_distribution``, and the trial's (and optionally the
      study's) user attributes.

    Args:
        tracking_uri: The MLflow tracking URI (``mlflow.set_tracking_uri``), e.g.
            ``"sqlite:///mlflow.db"`` or a server's URL; None keeps MLflow's current one.
            (MLflow 3 accepts a local directory, ``"file:///tmp/mlruns"``, only with the
            environment variable ``MLFLOW_ALLOW_FILE_STORE=true``.)
        metric_name: The name of the objective value, or one name per objective.
        create_experiment: Create (or reuse) an experiment named after the study; False
            logs under the active experiment, or ``mlflow_kwargs["experiment_id"]``.
        mlflow_kwargs: Passed to ``mlflow.start_run`` (``experiment_id``, ``run_name``,
            ``nested``, ``tags``).
        tag_study_user_attrs: Add the study's user attributes as tags (they take
            precedence over the trial's on a name clash).
        tag_trial_user_attrs: Add the trial's user attributes as tags.

    Example:
        >>> import hpo_core, tempfile
        >>> from hpo_core.integration import MLflowCallback
        >>> uri = "sqlite:///" + tempfile.mkdtemp() + "/mlflow.db"
        >>> study = hpo_core.create_study(study_name="mlflow-demo")
        >>> study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=2,
        ...                callbacks=[MLflowCallback(tracking_uri=uri)])  # doctest: +SKIP
    """

    def __init__(
        self,
        tracking_uri: str | None = None,
        metric_name: str | Sequence[str] = "value",
        create_experiment: bool = True,
        mlflow_kwargs: dict[str, Any] | None = None,
        tag_study_user_attrs: bool = False,
        tag_trial_user_attrs: bool = True,
    ) -> None:
        if not isinstance(metric_name, Sequence) or not all(isinstance(m, str) for m in metric_name):
            raise TypeError(format_error("metric_name", "a str or a sequence of str", metric_name, owner="MLflowCallback"))
        self._tracking_uri = tracking_uri
        self._metric_name = metric_name
        self._create_experiment = create_experiment
        self._mlflow_kwargs = mlflow_kwargs or {}
        self._tag_study_user_attrs = tag_study_user_attrs
        self._tag_trial_user_attrs = tag_trial_user_attrs
        self._lock = threading.Lock()  # mlflow's active run is process-global

    def __call__(self, study: Study, trial: FrozenTrial) -> None:
        with self._lock:
            self._initialize_experiment(study)
            with mlflow.start_run(
                run_id=trial.system_attrs.get(RUN_ID_ATTRIBUTE_KEY),
                experiment_id=self._mlflow_kwargs.get("experiment_id"),
                run_name=self._mlflow_kwargs.get("run_name", str(trial.number)),
                nested=self._mlflow_kwargs.get("nested") or False,
                tags=self._mlflow_kwargs.get("tags"),
            ):
                self._log_metrics(trial)
                mlflow.log_params(trial.params)
                self._set_tags(trial, study)

    def track_in_mlflow(self) -> Callable[[Callable[[Trial], Any]], Callable[[Trial], Any]]:
        """Decorator: the objective runs inside the trial's MLflow run.

        What the objective logs with ``mlflow.log_*`` goes to the run that the callback
        completes after the trial. Trials then run one at a time (the active run is
        global to the process).
        """

        def decorator(func: Callable[[Trial], Any]) -> Callable[[Trial], Any]:
            @functools.wraps(func)
            def wrapper(trial: Trial) -> Any:
                with self._lock:
                    self._initialize_experiment(trial.study)
                    run_name = self._mlflow_kwargs.get("run_name", str(trial.number))
                    nested = bool(self._mlflow_kwargs.get("nested"))
                    with mlflow.start_run(run_name=run_name, nested=nested) as run:
                        trial.set_system_attr(RUN_ID_ATTRIBUTE_KEY, run.info.run_id)
                        return func(trial)

            return wrapper

        return decorator

    def _initialize_experiment(self, study: Study) -> None:
        if self._tracking_uri is not None:
            mlflow.set_tracking_uri(self._tracking_uri)
        if self._create_experiment:
            mlflow.set_experiment(study.study_name)

    def _names(self, n_values: int) -> list[str]:
        if isinstance(self._metric_name, str):
            if n_values > 1:
                return [f"{self._metric_name}_{i}" for i in range(n_values)]
            return [self._metric_name]
        if len(self._metric_name) != n_values:
            raise ValueError(
                f"Running multi-objective optimization with {n_values} objective values, but "
                f"{len(self._metric_name)} names specified. Match objective values and names, "
                "or use default broadcasting."
            )
        return list(self._metric_name)

    def _log_metrics(self, trial: FrozenTrial) -> None:
        if trial.values is not None:
            mlflow.log_metrics(dict(zip(self._names(len(trial.values)), trial.values)))
        for step, value in sorted(trial.intermediate_values.items()):
            values = value if isinstance(value, (tuple, list)) else (value,)
            names = self._names(len(values))
            mlflow.log_metrics({f"intermediate_{n}": float(v) for n, v in zip(names, values)}, step=step)

    def _set_tags(self, trial: FrozenTrial, study: Study) -> None:
        tags: dict[str, Any] = {
            "number": str(trial.number),
            "datetime_start": str(trial.datetime_start),
            "datetime_complete": str(trial.datetime_complete),
        }
        if trial.state.is_finished():
            tags["state"] = trial.state.name
        directions = [d.name for d in study.directions]
        tags["direction"] = directions if len(directions) != 1 else directions[0]
        tags.update({f"{k}_distribution": str(v) for k, v in trial.distributions.items()})
        if self._tag_trial_user_attrs:
            tags.update(trial.user_attrs)
        if self._tag_study_user_attrs:
            tags.update(study.user_attrs)
        limit = mlflow.utils.validation.MAX_TAG_VAL_LENGTH
        text = {k: str(v) for k, v in tags.items()}
        mlflow.set_tags({k: v if len(v) <= limit else v[: limit - 3] + "..." for k, v in text.items()})
