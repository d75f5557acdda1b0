"""Tune a small CNN that tells two kinds of generated images apart ("cats" and "dogs").

The images are made here, no download: class 0 shows stripes at a random angle and
frequency, class 1 a few soft blobs, both in random colours under noise. The script

1. runs a learning-rate range test (``find_lr``) on the default network and stores the
   range it finds in the study, where ``suggest_lr`` reads it;
2. tunes the learning rate, width, dropout and batch size with TPE and the median pruner,
   one validation accuracy reported per epoch (``TorchObjective``), on the GPU when
   there is one (else the CPU);
3. prints the best trial.

Run ``python examples/torch_cnn.py`` (under a minute on a laptop CPU with the defaults);
``--help`` lists the sizes.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence

import torch
from torch import nn

import hpo_core
from hpo_core.integration import TorchObjective, find_lr, suggest_lr, trial_device


def make_images(n: int, size: int, *, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` images (n, 3, size, size) in [0, 1] and their labels (n,), half of each class."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 2
    coords = torch.linspace(-1, 1, size)
    yy, xx = torch.meshgrid(coords, coords, indexing="ij")
    images = torch.empty(n, 3, size, size)
    for i in range(n):
        if labels[i] == 0:  # stripes
            angle = torch.rand(1, generator=g) * math.pi
            freq = 3 + 5 * torch.rand(1, generator=g)
            phase = 2 * math.pi * torch.rand(1, generator=g)
            pattern = 0.5 + 0.5 * torch.sin(freq * math.pi * (xx * torch.cos(angle) + yy * torch.sin(angle)) + phase)
        else:  # blobs
            pattern = torch.zeros(size, size)
            for _ in range(int(torch.randint(2, 5, (1,), generator=g))):
                cx, cy = torch.rand(2, generator=g) * 1.6 - 0.8
                r = 0.15 + 0.25 * torch.rand(1, generator=g)
                pattern += torch.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r**2))
            pattern = pattern.clamp(max=1.0)
        colour = 0.3 + 0.7 * torch.rand(3, 1, 1, generator=g)
        images[i] = colour * pattern + 0.4 * torch.randn(3, size, size, generator=g)
    return images.clamp(0, 1), labels


class SmallCNN(nn.Module):
    """Two convolution blocks, global average pooling and a linear classifier."""

    def __init__(self, width: int = 16, dropout: float = 0.0) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, width, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(2 * width, 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def _batches(x: torch.Tensor, y: torch.Tensor, batch_size: int, g: torch.Generator) -> list:
    order = torch.randperm(len(x), generator=g)
    return [(x[idx], y[idx]) for idx in order.split(batch_size)]


def main(argv: Sequence[str] | None = None) -> hpo_core.Study:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-trials", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--n-images", type=int, default=400, help="training images; a third more for validation")
    parser.add_argument("--image-size", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    device = trial_device()  # the GPU if there is one
    x_train, y_train = make_images(args.n_images, args.image_size, seed=args.seed)
    x_valid, y_valid = make_images(max(2, args.n_images // 3), args.image_size, seed=args.seed + 1)
    x_train, y_train, x_valid, y_valid = (t.to(device) for t in (x_train, y_train, x_valid, y_valid))

    study = hpo_core.create_study(
        direction="maximize",
        sampler=hpo_core.samplers.TPESampler(seed=args.seed),
        pruner=hpo_core.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1),
    )

    # 1. Learning-rate range test on the default network: the study's `lr` range.
    torch.manual_seed(args.seed)
    model = SmallCNN().to(device)
    batches = _batches(x_train, y_train, 32, torch.Generator().manual_seed(args.seed))
    lr_range = find_lr(model, torch.optim.Adam(model.parameters()), nn.functional.cross_entropy, batches,
                       start_lr=1e-5, end_lr=1.0, num_iters=max(5, min(60, 3 * len(batches))))
    lr_range.apply(study, name="lr")
    print(f"lr range: [{lr_range.low:.2e}, {lr_range.high:.2e}] (steepest descent at {lr_range.suggested_lr:.2e})")

    # 2. The objective: one validation accuracy per epoch, pruned by the median pruner.
    def train(trial: hpo_core.Trial, device: torch.device):  # type: ignore[no-untyped-def]
        lr = suggest_lr(trial, "lr")
        width = trial.suggest_categorical("width", [8, 16])
        dropout = trial.suggest_float("dropout", 0.0, 0.5)
        batch_size = trial.suggest_categorical("batch_size", [32, 64])
        model = SmallCNN(width, dropout).to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        g = torch.Generator().manual_seed(trial.number)
        for _ in range(args.epochs):
            model.train()
            for xb, yb in _batches(x_train, y_train, batch_size, g):
                loss = nn.functional.cross_entropy(model(xb.to(device)), yb.to(device))
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            model.eval()
            with torch.no_grad():
                yield (model(x_valid.to(device)).argmax(1) == y_valid.to(device)).float().mean().item()

    study.optimize(TorchObjective(train, seed=args.seed), n_trials=args.n_trials)

    # 3. The result.
    states = [t.state.name for t in study.trials]
    print(f"device: {device}; trials: {states.count('COMPLETE')} complete, {states.count('PRUNED')} pruned")
    print(f"best validation accuracy {study.best_value:.3f} with {study.best_params}")
    return study


if __name__ == "__main__":
    main()
