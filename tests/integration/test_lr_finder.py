"""Learning-rate range test on a tiny regression network."""

from __future__ import annotations

import pytest

import hpo_core
from hpo_core.distributions import FloatDistribution

torch = pytest.importorskip("torch", reason="the learning-rate finder needs torch (pip install 'hpo_core[integration]')")
from hpo_core.integration import LRRange, find_lr, suggest_lr  # noqa: E402


def _setup() -> tuple[object, object, object]:
    torch.manual_seed(0)
    x = torch.randn(512, 10)
    y = x @ torch.randn(10, 1) + 0.1 * torch.randn(512, 1)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=32, shuffle=True)
    model = torch.nn.Sequential(torch.nn.Linear(10, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1))
    return model, torch.optim.SGD(model.parameters(), lr=0.1), loader


def _final_loss(lr: float, epochs: int = 3) -> float:
    model, _, loader = _setup()
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    for _ in range(epochs):
        for xb, yb in loader:
            loss = torch.nn.functional.mse_loss(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return float(loss.detach())


def test_find_lr_finds_a_range_where_training_works_and_stops_at_divergence() -> None:
    model, opt, loader = _setup()
    result = find_lr(model, opt, torch.nn.functional.mse_loss, loader, num_iters=100)
    assert result.diverged  # SGD at lr 10 on this problem blows up
    assert len(result.lrs) == len(result.losses) < 100
    assert result.low < result.suggested_lr <= result.high < 5.0
    assert 1e-3 < result.suggested_lr < 1.0  # far from both ends of the sweep
    # Training at the suggested rate beats the start of the sweep by far, and stays finite.
    assert _final_loss(result.suggested_lr) < 0.1 * _final_loss(1e-6)


def test_find_lr_restores_the_model_and_the_optimizer() -> None:
    model, opt, loader = _setup()
    model.eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    find_lr(model, opt, torch.nn.functional.mse_loss, loader, num_iters=20)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert opt.param_groups[0]["lr"] == 0.1
    assert not model.training


def test_lr_range_sets_the_study_bounds_that_suggest_lr_reads() -> None:
    result = LRRange(lrs=(1e-3, 1e-1), losses=(1.0, 0.5), suggested_lr=0.01, low=0.001, high=0.05, diverged=False)
    assert result.distribution() == FloatDistribution(0.001, 0.05, log=True)
    study = hpo_core.create_study()
    result.apply(study, name="lr")
    study.optimize(lambda t: suggest_lr(t), n_trials=20)
    assert all(0.001 <= t.params["lr"] <= 0.05 for t in study.trials)
    assert study.trials[0].distributions["lr"] == result.distribution()


def test_suggest_lr_without_a_range_uses_its_defaults() -> None:
    study = hpo_core.create_study()
    trial = study.ask()
    assert 1e-4 <= suggest_lr(trial, "eta", low=1e-4, high=1e-2) <= 1e-2


def test_find_lr_validates_its_arguments() -> None:
    model, opt, loader = _setup()
    with pytest.raises(ValueError, match="end_lr"):
        find_lr(model, opt, torch.nn.functional.mse_loss, loader, start_lr=1.0, end_lr=0.1)
    with pytest.raises(ValueError, match="num_iters"):
        find_lr(model, opt, torch.nn.functional.mse_loss, loader, num_iters=2)
