"""PyTorchLightningPruningCallback with a real Lightning Trainer on generated tensors."""

from __future__ import annotations

import warnings

import pytest

import hpo_core
from hpo_core.trial import TrialState

torch = pytest.importorskip("torch", reason="the Lightning integration needs torch")
pl = pytest.importorskip("lightning.pytorch", reason="the Lightning callback needs lightning (pip install 'hpo_core[integration]')")
from hpo_core.integration import PyTorchLightningPruningCallback  # noqa: E402


class _Regressor(pl.LightningModule):
    def __init__(self, lr: float) -> None:
        super().__init__()
        self.lr = lr
        self.net = torch.nn.Linear(4, 1)

    def training_step(self, batch, batch_idx):  # type: ignore[no-untyped-def]
        x, y = batch
        return torch.nn.functional.mse_loss(self.net(x), y)

    def validation_step(self, batch, batch_idx):  # type: ignore[no-untyped-def]
        x, y = batch
        self.log("val_loss", torch.nn.functional.mse_loss(self.net(x), y))

    def configure_optimizers(self):  # type: ignore[no-untyped-def]
        return torch.optim.SGD(self.parameters(), lr=self.lr)


def _loaders() -> tuple[object, object]:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(256, 4, generator=g)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]])
    ds = torch.utils.data.TensorDataset(x, y)
    return torch.utils.data.DataLoader(ds, batch_size=32), torch.utils.data.DataLoader(ds, batch_size=256)


def _objective(trial, monitor: str = "val_loss"):  # type: ignore[no-untyped-def]
    train, valid = _loaders()
    model = _Regressor(trial.suggest_float("lr", 1e-3, 1.0, log=True))
    trainer = pl.Trainer(
        max_epochs=4,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[PyTorchLightningPruningCallback(trial, monitor=monitor)],
    )
    trainer.fit(model, train, valid)
    return float(trainer.callback_metrics["val_loss"])


@pytest.fixture(autouse=True)
def _quiet() -> object:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*(num_workers|does not have many workers|GPU available).*")
        yield


def test_lightning_callback_prunes_a_slow_trial_and_completes_a_fast_one() -> None:
    study = hpo_core.create_study(pruner=hpo_core.pruners.ThresholdPruner(upper=1.0))
    study.enqueue_trial({"lr": 0.1})  # val_loss well below 1 after the first epoch
    study.enqueue_trial({"lr": 0.001})  # far above 1 after one epoch: pruned at epoch 0
    study.optimize(_objective, n_trials=2)
    good, slow = study.trials
    assert good.state == TrialState.COMPLETE and sorted(good.intermediate_values) == [0, 1, 2, 3]
    assert good.value is not None and good.value < 0.1
    assert slow.state == TrialState.PRUNED and sorted(slow.intermediate_values) == [0]


def test_lightning_callback_warns_about_an_unknown_metric() -> None:
    study = hpo_core.create_study()
    trial = study.ask()
    with pytest.warns(UserWarning, match="'val_acc' is not in the evaluation logs"):
        _objective(trial, monitor="val_acc")
    assert trial.intermediate_values == {}
