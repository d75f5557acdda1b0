"""scikit-learn: hyperparameter search with cross-validation, as a scikit-learn estimator."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterable, Mapping
from numbers import Number
from typing import TYPE_CHECKING, Any

import numpy as np

from hpo_core._imports import import_optional
from hpo_core.distributions import BaseDistribution
from hpo_core.exceptions import TrialPruned
from hpo_core.trial import StudyDirection, TrialState

if TYPE_CHECKING:
    from hpo_core.study import Study
    from hpo_core.trial import FrozenTrial, Trial

_FEATURE = "hpo_core.integration.OptunaSearchCV"
_base = import_optional("sklearn.base", extra="integration", feature=_FEATURE)
from sklearn.base import clone, is_classifier  # noqa: E402
from sklearn.metrics import check_scoring  # noqa: E402
from sklearn.model_selection import check_cv, cross_validate  # noqa: E402
from sklearn.utils import _safe_indexing, check_random_state  # noqa: E402
from sklearn.utils.metaestimators import available_if  # noqa: E402
from sklearn.utils.validation import _num_samples, check_is_fitted, indexable  # noqa: E402

__all__ = ["HpoSearchCV", "OptunaSearchCV"]


class _Objective:
    """Cross-validated score of one trial's parameters (arguments validated by ``fit``)."""

    def __init__(self, search: OptunaSearchCV, X: Any, y: Any, cv: Any, groups: Any, fit_params: dict) -> None:
        self.search, self.X, self.y, self.cv, self.groups, self.fit_params = search, X, y, cv, groups, fit_params

    def __call__(self, trial: Trial) -> float:
        s = self.search
        params = {name: trial._suggest(name, d) for name, d in s.param_distributions.items()}
        estimator = clone(s.estimator).set_params(**params)
        fit_params = copy.deepcopy(self.fit_params)  # no state shared between threads
        if s.enable_pruning:
            scores = self._cross_validate_with_pruning(trial, estimator, fit_params)
        else:
            scores = cross_validate(
                estimator,
                self.X,
                self.y,
                groups=self.groups,
                cv=self.cv,
                scoring=s.scorer_,
                error_score=s.error_score,
                params=fit_params,
                return_train_score=s.return_train_score,
            )
        _store_scores(trial, scores)
        return float(trial.user_attrs["mean_test_score"])

    def _cross_validate_with_pruning(self, trial: Trial, estimator: Any, fit_params: dict) -> dict[str, np.ndarray]:
        """``max_iter`` rounds of one ``partial_fit`` per fold; the mean test score over the
        folds is reported after each round, and the trial pruned when the pruner says so."""
        s = self.search
        if is_classifier(estimator):
            fit_params = {"classes": np.unique(self.y), **fit_params}
        splits = list(self.cv.split(self.X, self.y, groups=self.groups))
        estimators = [clone(estimator) for _ in splits]
        n = len(splits)
        scores = {"fit_time": np.zeros(n), "score_time": np.zeros(n), "test_score": np.full(n, np.nan)}
        if s.return_train_score:
            scores["train_score"] = np.full(n, np.nan)
        for step in range(s.max_iter):
            for i, (train, test) in enumerate(splits):
                self._partial_fit_and_score(estimators[i], train, test, fit_params, scores, i)
            trial.report(float(np.nanmean(scores["test_score"])), step=step)
            if trial.should_prune():
                _store_scores(trial, scores)
                raise TrialPruned(f"Trial was pruned at iteration {step}.")
        return scores

    def _partial_fit_and_score(
        self, estimator: Any, train: np.ndarray, test: np.ndarray, fit_params: dict, scores: dict, i: int
    ) -> None:
        s = self.search
        X_train, y_train = _safe_indexing(self.X, train), _safe_indexing(self.y, train)
        X_test, y_test = _safe_indexing(self.X, test), _safe_indexing(self.y, test)
        start = time.perf_counter()
        try:
            estimator.partial_fit(X_train, y_train, **fit_params)
        except Exception:
            if s.error_score == "raise":
                raise
            scores["fit_time"][i] += time.perf_counter() - start
            scores["test_score"][i] = s.error_score
            if s.return_train_score:
                scores["train_score"][i] = s.error_score
            return
        fitted = time.perf_counter()
        scores["fit_time"][i] += fitted - start
        scores["test_score"][i] = s.scorer_(estimator, X_test, y_test)
        scores["score_time"][i] += time.perf_counter() - fitted
        if s.return_train_score:
            scores["train_score"][i] = s.scorer_(estimator, X_train, y_train)


def _store_scores(trial: Trial, scores: Mapping[str, Any]) -> None:
    for name, array in scores.items():
        array = np.asarray(array, dtype=float)
        if name in ("test_score", "train_score"):
            for i, score in enumerate(array):
                trial.set_user_attr(f"split{i}_{name}", float(score))
        trial.set_user_attr(f"mean_{name}", float(np.nanmean(array)))
        trial.set_user_attr(f"std_{name}", float(np.nanstd(array)))


def _estimator_has(attr: str) -> Callable[[Any], bool]:
    """For ``available_if``: the fitted best estimator, or else the unfitted one, has ``attr``."""

    def check(self: Any) -> bool:
        est = getattr(self, "best_estimator_", self.estimator)
        return hasattr(est, attr)

    return check


def _delegate(name: str) -> Any:
    """A method that calls the fitted best estimator's ``name``; present only where the
    estimator has it (``available_if``, as scikit-learn's ``GridSearchCV``)."""

    def method(self: Any, X: Any, **kwargs: Any) -> Any:
        self._check_is_fitted()
        return getattr(self.best_estimator_, name)(X, **kwargs)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"The best estimator's ``{name}``."
    return available_if(_estimator_has(name))(method)


class OptunaSearchCV(_base.BaseEstimator):  # type: ignore[misc,name-defined]
    """Hyperparameter search with cross-validation (optuna-integration's ``OptunaSearchCV``).

    Each trial suggests ``param_distributions``, fits a clone of ``estimator`` on each
    cross-validation fold and returns the mean test score, which the study maximizes.
    With ``refit`` the best parameters are refitted on the whole data, and the search
    behaves as the best estimator (``predict``, ``predict_proba``, ``score``, ...), as
    scikit-learn's ``GridSearchCV`` does. It is a scikit-learn estimator: ``clone``,
    ``get_params``/``set_params`` and pipelines work.

    Args:
        estimator: A scikit-learn estimator; it provides ``score`` or ``scoring`` is given.
        param_distributions: ``{parameter name: hpo_core distribution}``.
        cv: Anything ``sklearn.model_selection.check_cv`` takes (None: 5 folds,
            stratified for a classifier).
        enable_pruning: Train by ``partial_fit`` for ``max_iter`` rounds, reporting the
            mean fold score after each round, so the study's pruner can stop the trial.
        error_score: The score of a fold whose fit fails, or ``"raise"``.
        max_iter: Number of ``partial_fit`` rounds with ``enable_pruning``.
        n_jobs: Trials run at once (threads); None or 0 means 1, -1 one per CPU.
        n_trials: Number of trials; None runs until ``timeout``.
        random_state: Seeds the subsample and the TPE sampler of the study created by
            ``fit`` (int, ``RandomState`` or None).
        refit: Refit the best parameters on the whole data.
        return_train_score: Also score the training folds.
        scoring: A scorer name, a callable ``scorer(estimator, X, y)``, or None (the
            estimator's ``score``).
        study: A study to run in, to maximize; None creates one in memory.
        subsample: The share (float in (0, 1]) or number (int) of samples searched on.
        timeout: Seconds after which no new trial starts.
        verbose: 0 silent; more says when the search and the refit start and end.
        callbacks: Passed to ``Study.optimize``.
        catch: Exceptions of a trial to record as FAIL and go on after.

    Attributes:
        best_estimator_, best_params_, best_score_, best_index_, best_trial_,
        cv_results_, n_splits_, n_trials_, refit_time_, sample_indices_, scorer_,
        study_, trials_, user_attrs_: as in optuna-integration.

    Example:
        >>> from sklearn.datasets import load_iris
        >>> from sklearn.svm import SVC
        >>> import hpo_core
        >>> from hpo_core.integration import OptunaSearchCV
        >>> X, y = load_iris(return_X_y=True)
        >>> search = OptunaSearchCV(
        ...     SVC(), {"C": hpo_core.FloatDistribution(1e-3, 1e3, log=True)},
        ...     n_trials=5, random_state=0)
        >>> search.fit(X, y).predict(X[:2]).shape
        (2,)
    """

    def __init__(
        self,
        estimator: Any,
        param_distributions: Mapping[str, BaseDistribution],
        *,
        cv: Any = None,
        enable_pruning: bool = False,
        error_score: Number | float | str = np.nan,
        max_iter: int = 1000,
        n_jobs: int | None = None,
        n_trials: int | None = 10,
        random_state: Any = None,
        refit: bool = True,
        return_train_score: bool = False,
        scoring: Callable[..., float] | str | None = None,
        study: Study | None = None,
        subsample: float | int = 1.0,
        timeout: float | None = None,
        verbose: int = 0,
        callbacks: list[Callable[[Study, FrozenTrial], None]] | None = None,
        catch: Iterable[type[Exception]] | type[Exception] = (),
    ) -> None:
        # Stored as given and checked in `fit`, as scikit-learn asks: `clone` and
        # `set_params` go through the constructor.
        self.estimator = estimator
        self.param_distributions = param_distributions
        self.cv = cv
        self.enable_pruning = enable_pruning
        self.error_score = error_score
        self.max_iter = max_iter
        self.n_jobs = n_jobs
        self.n_trials = n_trials
        self.random_state = random_state
        self.refit = refit
        self.return_train_score = return_train_score
        self.scoring = scoring
        self.study = study
        self.subsample = subsample
        self.timeout = timeout
        self.verbose = verbose
        self.callbacks = callbacks
        self.catch = catch

    # ------------------------------------------------------------------ fitting
    def _check_params(self) -> None:
        if not isinstance(self.param_distributions, Mapping):
            raise TypeError(f"`param_distributions` must be a mapping, but got {self.param_distributions!r}.")
        if not hasattr(self.estimator, "fit"):
            raise ValueError(f"`estimator` must be a scikit-learn estimator, but got {self.estimator!r}.")
        for name, dist in self.param_distributions.items():
            if not isinstance(dist, BaseDistribution):
                raise ValueError(f"`param_distributions[{name!r}]` must be an hpo_core distribution, but got {dist!r}.")
        if self.enable_pruning and not hasattr(self.estimator, "partial_fit"):
            raise ValueError("`estimator` must support partial_fit when `enable_pruning` is True.")
        if isinstance(self.max_iter, bool) or not isinstance(self.max_iter, int) or self.max_iter <= 0:
            raise ValueError(f"`max_iter` must be an int in the range [1, inf), but got {self.max_iter!r}.")
        if self.study is not None and self.study.direction != StudyDirection.MAXIMIZE:
            raise ValueError("The direction of `study` must be 'maximize'.")

    def fit(self, X: Any, y: Any = None, groups: Any = None, **fit_params: Any) -> OptunaSearchCV:
        """Search on ``X``, ``y`` (a subsample with ``subsample``), then refit on all of it.

        Args:
            X: Training data.
            y: Targets.
            groups: Group labels for the cross-validation splitter.
            **fit_params: Passed to the estimator's ``fit`` (sample-aligned arrays are
                split with the data).

        Returns:
            self.
        """
        import hpo_core

        self._check_params()
        X, y, groups = indexable(X, y, groups)  # one length for all, or a ValueError
        rng = check_random_state(self.random_state)
        n_samples = _num_samples(X)
        n_sub = int(self.subsample * n_samples) if isinstance(self.subsample, float) else int(self.subsample)
        self.sample_indices_ = np.arange(n_samples)
        if n_sub < n_samples:
            self.sample_indices_ = np.sort(rng.choice(n_samples, n_sub, replace=False))
        idx = self.sample_indices_
        X_res = _safe_indexing(X, idx)
        y_res = None if y is None else _safe_indexing(y, idx)
        groups_res = None if groups is None else _safe_indexing(groups, idx)
        fit_res = {k: _index_if_aligned(v, idx, n_samples) for k, v in fit_params.items()}
        cv = check_cv(self.cv, y_res, classifier=is_classifier(self.estimator))
        self.n_splits_ = cv.get_n_splits(X_res, y_res, groups=groups_res)
        self.scorer_ = check_scoring(self.estimator, scoring=self.scoring)
        if self.study is None:
            seed = int(rng.randint(0, np.iinfo(np.int32).max))
            sampler = hpo_core.samplers.TPESampler(seed=seed)
            self.study_ = hpo_core.create_study(direction="maximize", sampler=sampler)
        else:
            self.study_ = self.study
        catch = tuple(self.catch) if isinstance(self.catch, Iterable) else (self.catch,)
        self._say(f"Searching the best hyperparameters using {len(idx)} samples...")
        self.study_.optimize(
            _Objective(self, X_res, y_res, cv, groups_res, fit_res),
            n_trials=self.n_trials,
            timeout=self.timeout,
            n_jobs=self.n_jobs or 1,
            callbacks=self.callbacks,
            catch=catch,
        )
        self._say("Finished hyperparameter search!")
        if not any(t.state == TrialState.COMPLETE for t in self.study_.trials):
            # The last line of each failed trial's traceback: the error itself.
            reasons = sorted({(str(t.system_attrs.get("fail_reason", "")).strip().splitlines() or [""])[-1]
                              for t in self.study_.trials} - {""})
            raise ValueError(f"OptunaSearchCV: no trial completed ({'; '.join(reasons) or 'no trial ran'}).")
        if self.refit:
            self._refit(X, y, **fit_params)
        return self

    def _refit(self, X: Any, y: Any, **fit_params: Any) -> None:
        self.best_estimator_ = clone(self.estimator).set_params(**self.study_.best_params)
        self._say(f"Refitting the estimator using {_num_samples(X)} samples...")
        start = time.perf_counter()
        self.best_estimator_.fit(X, y, **fit_params)
        self.refit_time_ = time.perf_counter() - start
        self._say(f"Finished refitting! (elapsed time: {self.refit_time_:.3f} sec.)")

    def _say(self, message: str) -> None:
        if self.verbose:
            print(f"[OptunaSearchCV] {message}")

    def _check_is_fitted(self) -> None:
        check_is_fitted(self, ["n_splits_", "sample_indices_", "scorer_", "study_"])
        if not self.refit:
            raise AttributeError("This OptunaSearchCV was fitted with refit=False: it has no best_estimator_.")

    # ------------------------------------------------------------------ results
    @property
    def trials_(self) -> list[FrozenTrial]:
        """All trials of the study."""
        check_is_fitted(self, "study_")
        return self.study_.trials

    @property
    def n_trials_(self) -> int:
        """Number of trials in the study."""
        return len(self.trials_)

    @property
    def best_trial_(self) -> FrozenTrial:
        """The best trial."""
        check_is_fitted(self, "study_")
        return self.study_.best_trial

    @property
    def best_params_(self) -> dict[str, Any]:
        """Parameters of the best trial."""
        return self.best_trial_.params

    @property
    def best_score_(self) -> float:
        """Mean cross-validated score of the best trial."""
        return float(self.best_trial_.value)  # type: ignore[arg-type]

    @property
    def best_index_(self) -> int:
        """Index of the best trial in ``trials_`` and ``cv_results_``."""
        best = self.best_trial_.number
        return next(i for i, t in enumerate(self.trials_) if t.number == best)

    @property
    def user_attrs_(self) -> dict[str, Any]:
        """The study's user attributes."""
        check_is_fitted(self, "study_")
        return self.study_.user_attrs

    @property
    def cv_results_(self) -> dict[str, np.ndarray]:
        """scikit-learn's ``cv_results_`` layout, one entry per trial of ``trials_``:
        ``params``, ``param_<name>``, ``mean_test_score``, ``std_test_score``,
        ``split<i>_test_score``, ``rank_test_score``, fit and score times (and train
        scores), NaN where a trial has none (a FAIL trial)."""
        trials = self.trials_
        keys: list[str] = []
        for t in trials:
            keys += [k for k in t.user_attrs if k not in keys]
        results: dict[str, np.ndarray] = {
            k: np.array([float(t.user_attrs.get(k, np.nan)) for t in trials]) for k in keys
        }
        results["params"] = np.array([t.params for t in trials], dtype=object)
        for name in self.param_distributions:
            values = [t.params.get(name) for t in trials]
            results[f"param_{name}"] = np.ma.MaskedArray(
                np.array(values, dtype=object), mask=[v is None for v in values]
            )
        results["state"] = np.array([t.state.name for t in trials], dtype=object)
        if "mean_test_score" in results:
            score = np.where(
                [t.state == TrialState.COMPLETE for t in trials], results["mean_test_score"], -np.inf
            )
            order = np.argsort(-score, kind="stable")
            rank = np.empty(len(trials), dtype=np.int32)
            rank[order] = np.arange(1, len(trials) + 1)
            results["rank_test_score"] = rank
        return results

    # ------------------------------------------------------------------ as the best estimator
    @property
    def _estimator_type(self) -> str | None:
        return getattr(self.estimator, "_estimator_type", None)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        inner = self.estimator.__sklearn_tags__()
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = copy.deepcopy(inner.classifier_tags)
        tags.regressor_tags = copy.deepcopy(inner.regressor_tags)
        tags.input_tags.sparse = inner.input_tags.sparse
        tags.non_deterministic = True
        return tags

    @property
    def n_features_in_(self) -> int:
        """Number of features the best estimator was fitted on."""
        self._check_is_fitted()
        return self.best_estimator_.n_features_in_

    @property
    def feature_names_in_(self) -> np.ndarray:
        """Feature names the best estimator was fitted on (where X had them)."""
        self._check_is_fitted()
        return self.best_estimator_.feature_names_in_

    @property
    def classes_(self) -> np.ndarray:
        """Class labels of the best estimator."""
        self._check_is_fitted()
        return self.best_estimator_.classes_

    predict = _delegate("predict")
    predict_proba = _delegate("predict_proba")
    predict_log_proba = _delegate("predict_log_proba")
    decision_function = _delegate("decision_function")
    transform = _delegate("transform")
    inverse_transform = _delegate("inverse_transform")
    score_samples = _delegate("score_samples")

    def score(self, X: Any, y: Any = None) -> float:
        """The scorer's value of the best estimator on ``X``, ``y``."""
        self._check_is_fitted()
        return float(self.scorer_(self.best_estimator_, X, y))

    def set_user_attr(self, key: str, value: Any) -> None:
        """Set a user attribute of the study."""
        check_is_fitted(self, "study_")
        self.study_.set_user_attr(key, value)

    def trials_dataframe(self, *args: Any, **kwargs: Any) -> Any:
        """The study's ``trials_dataframe``."""
        check_is_fitted(self, "study_")
        return self.study_.trials_dataframe(*args, **kwargs)


#: The same estimator under this library's name.
HpoSearchCV = OptunaSearchCV


def _index_if_aligned(value: Any, indices: np.ndarray, n_samples: int) -> Any:
    """A fit parameter with one entry per sample is subsampled with the data."""
    if hasattr(value, "__len__") or hasattr(value, "shape"):
        try:
            if _num_samples(value) == n_samples:
                return _safe_indexing(value, indices)
        except TypeError:
            pass
    return value
