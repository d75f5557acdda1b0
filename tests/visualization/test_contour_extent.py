"""The plotly contour's surface reaches the trials at the ends of each numeric axis."""

from __future__ import annotations

import numpy as np
import pytest

import hpo_core

pytest.importorskip("plotly")


@pytest.mark.parametrize("log", [False, True])
def test_plotly_contour_surface_covers_every_trial(log: bool) -> None:
    study = hpo_core.create_study(sampler=hpo_core.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: t.suggest_float("x", 1e-3, 1.0, log=log) + t.suggest_int("n", 1, 50)
                   + (t.suggest_categorical("c", ["a", "b"]) == "a"), n_trials=300)
    fig = hpo_core.visualization.plot_contour(study, params=["x", "n", "c"])
    contours = [t for t in fig.data if t.type == "contour"]
    assert len(contours) == 6
    values = {k: np.array([t.params[k] for t in study.trials], dtype=object) for k in ("x", "n")}
    # Panels in row-major order (row: the y parameter, column: the x one), the diagonal skipped.
    names = sorted(["x", "n", "c"])  # the plot orders its parameters by name, as Optuna's does
    panels = [(xa, yb) for yb in names for xa in names if xa != yb]
    for tr, (xa, yb) in zip(contours, panels):
        z = np.asarray(tr.z)
        assert z.shape == (len(tr.y), len(tr.x))
        for name, coords in ((xa, np.asarray(tr.x, float)), (yb, np.asarray(tr.y, float))):
            if name == "c":  # a categorical axis keeps one cell per choice
                assert list(coords) == [0, 1]
            else:
                v = values[name].astype(float)
                assert coords.min() <= v.min() * (1 + 1e-9) and coords.max() >= v.max() * (1 - 1e-9), name
