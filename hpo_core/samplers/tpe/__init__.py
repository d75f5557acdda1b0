"""Tree-structured Parzen Estimator sampler (univariate, multivariate and grouped)."""

from hpo_core.samplers.tpe._sampler import TPESampler, default_gamma, default_weights

__all__ = ["TPESampler", "default_gamma", "default_weights"]
