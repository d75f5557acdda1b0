"""Population-based training against random search with the same compute (issue #13).

A small PyTorch MLP on scikit-learn's bundled ``load_digits`` (nothing downloaded), CPU,
one thread. Both methods spend ``population * epochs`` epochs per seed:

- **PBT**: ``hpo_core.pbt.PBT`` with a population of ``population`` members trained for
  ``epochs`` epochs each, perturbing every ``interval`` epochs, synchronously (every member
  is ranked at the same epoch, so an exploit never moves a member back and PBT spends
  exactly ``population * epochs`` epochs; asynchronous PBT may copy a member that is an
  interval behind and spends a few more, ``--asynchronous``), Ray's defaults otherwise;
- **PB2** (``--pb2``): ``hpo_core.pbt.PB2`` with the same space as log-scaled bounds, the
  same population, interval, schedule and seed as PBT: only the explore step differs (a
  GP-UCB bandit chooses the new values instead of a random perturbation);
- **random search**: ``population`` configurations drawn uniformly (log-uniformly for the
  rates) from the same space, each trained ``epochs`` epochs with fixed hyperparameters;
  the best one by validation loss is "the best fixed-hyperparameter run".

Score: the validation cross-entropy after the last epoch (lower is better), on a fixed
stratified split; the winner of each method (by that score) is also evaluated on a
held-out test split (loss and accuracy). The same seed gives both methods the same data
split and initial weights; each seed reruns both. Writes a table (mean and standard error
over seeds, per-seed rows) and a plot of the winners' learning-rate schedules into a PBT
section of ``benchmarks/README.md`` and ``benchmarks/results/pbt.{json,png}``.

Run::

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/pbt.py --seeds 5 [--pb2]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import README, git_rev, machine_info, write_section  # noqa: E402

import hpo_core  # noqa: E402
from hpo_core.pbt import PB2, PBT, schedule  # noqa: E402

RESULTS = Path(__file__).with_name("results")
SPACE = {"lr": (1e-3, 1.0), "weight_decay": (1e-6, 1e-2)}


class Task:
    """The data of one seed: a stratified train / validation / test split of the digits."""

    def __init__(self, seed: int):
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split

        X, y = load_digits(return_X_y=True)
        X = X.astype(np.float32) / 16.0
        X_tr, X_rest, y_tr, y_rest = train_test_split(X, y, train_size=900, stratify=y, random_state=seed)
        X_va, X_te, y_va, y_te = train_test_split(X_rest, y_rest, train_size=0.5, stratify=y_rest,
                                                  random_state=seed)
        import torch

        self.seed = seed
        self.train = torch.tensor(X_tr), torch.tensor(y_tr)
        self.val = torch.tensor(X_va), torch.tensor(y_va)
        self.test = torch.tensor(X_te), torch.tensor(y_te)

    def model(self) -> Any:
        import torch

        gen = torch.Generator().manual_seed(self.seed)  # not the global generator: threads
        model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(torch.randn(p.shape, generator=gen) * (0.1 if p.ndim == 1 else 1.0 / math.sqrt(p.shape[1])))
        return model

    def epoch(self, model: Any, opt: Any, epoch: int) -> None:
        import torch

        X, y = self.train
        order = torch.randperm(len(y), generator=torch.Generator().manual_seed(self.seed * 1000 + epoch))
        for i in range(0, len(y), 32):
            idx = order[i:i + 32]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(X[idx]), y[idx]).backward()
            opt.step()

    def evaluate(self, model: Any, split: str) -> tuple[float, float]:
        """(cross-entropy, accuracy) on ``split``."""
        import torch

        X, y = getattr(self, split)
        with torch.no_grad():
            out = model(X)
            loss = float(torch.nn.functional.cross_entropy(out, y))
            acc = float((out.argmax(1) == y).float().mean())
        return (loss if math.isfinite(loss) else 10.0), acc

    def fit(self, lr: float, weight_decay: float, model: Any, epochs: range) -> Any:
        import torch

        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=weight_decay)
        for e in epochs:
            self.epoch(model, opt, e)
        return model


def make_objective(task: Task) -> Any:
    """The PBT segment objective: resume, train ``checkpoint.steps``, save, return the
    validation loss."""
    import torch

    def objective(trial: Any) -> float:
        lr = trial.suggest_float("lr", *SPACE["lr"], log=True)
        wd = trial.suggest_float("weight_decay", *SPACE["weight_decay"], log=True)
        ckpt = trial.checkpoint
        model = task.model()
        state = ckpt.load()
        if state is not None:
            model.load_state_dict(state)
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=wd)
        loss = math.inf
        for e in ckpt.steps:
            task.epoch(model, opt, e)
            loss, _ = task.evaluate(model, "val")
            trial.report(loss, e)
        ckpt.save(model.state_dict())
        return loss

    return objective


def run_pbt(task: Task, population: int, epochs: int, interval: int, synch: bool, tmp: Path,
            method: str = "pbt") -> dict[str, Any]:
    """One PBT run (``method="pbt"``) or one PB2 run (``"pb2"``: the same space as bounds,
    log-scaled, the same population, interval and seed)."""
    import torch

    study = hpo_core.create_study(direction="minimize")
    mutations = {name: hpo_core.FloatDistribution(lo, hi, log=True) for name, (lo, hi) in SPACE.items()}
    pbt: PBT
    if method == "pb2":
        pbt = PB2(perturbation_interval=interval, hyperparam_bounds=mutations, synch=synch, seed=task.seed)
    else:
        pbt = PBT(perturbation_interval=interval, hyperparam_mutations=mutations, synch=synch, seed=task.seed)
    t0 = time.perf_counter()
    best = pbt.run(study, make_objective(task), population_size=population, n_steps=epochs,
                   checkpoint_dir=tmp / f"{method}-{task.seed}", save_fn=torch.save, load_fn=torch.load)
    seconds = time.perf_counter() - t0
    assert best is not None
    model = task.model()
    model.load_state_dict(torch.load(Path(best.system_attrs["pbt"]["checkpoint"]) / "checkpoint.pkl"))
    epochs_spent = sum(t.system_attrs["pbt"]["stop"] - t.system_attrs["pbt"]["start"] for t in study.trials)
    steps = schedule(study, best)
    lr_schedule = [s.params["lr"] for s in steps for _ in range(s.start, s.stop)]
    test_loss, test_acc = task.evaluate(model, "test")
    return {"val_loss": best.value, "test_loss": test_loss, "test_acc": test_acc, "epochs": epochs_spent,
            "seconds": seconds, "lr_schedule": lr_schedule,
            "wd_schedule": [s.params["weight_decay"] for s in steps for _ in range(s.start, s.stop)]}


def run_random(task: Task, population: int, epochs: int) -> dict[str, Any]:
    rng = np.random.default_rng(task.seed)
    t0 = time.perf_counter()
    runs = []
    for _ in range(population):
        lr, wd = (math.exp(rng.uniform(math.log(lo), math.log(hi))) for lo, hi in SPACE.values())
        model = task.fit(lr, wd, task.model(), range(epochs))
        runs.append((task.evaluate(model, "val")[0], lr, wd, model))
    val, lr, wd, model = min(runs, key=lambda r: r[0])
    test_loss, test_acc = task.evaluate(model, "test")
    return {"val_loss": val, "test_loss": test_loss, "test_acc": test_acc, "epochs": population * epochs,
            "seconds": time.perf_counter() - t0, "lr": lr, "weight_decay": wd}


def _mean_se(xs: list[float]) -> str:
    a = np.asarray(xs, dtype=float)
    se = a.std(ddof=1) / math.sqrt(len(a)) if len(a) > 1 else 0.0
    return f"{a.mean():.4f} ± {se:.4f}"


def report(rows: list[dict[str, Any]], args: argparse.Namespace, total: float) -> str:
    pbt = [r["pbt"] for r in rows]
    rs = [r["random"] for r in rows]
    wins = sum(p["val_loss"] < q["val_loss"] for p, q in zip(pbt, rs))
    lines = [
        "## Population-based training against random search (issue #13)",
        "",
        f"`benchmarks/pbt.py`: an MLP (64-64-10, ReLU, SGD with momentum 0.9, batch 32) on "
        f"`load_digits` (900 training, 448 validation, 449 test digits, stratified, split by seed), "
        f"CPU, one thread. Per seed both methods spend {args.population} x {args.epochs} = "
        f"{args.population * args.epochs} epochs: PBT ({'asynchronous' if args.asynchronous else 'synchronous'}, "
        f"population {args.population}, "
        f"`perturbation_interval={args.interval}`, mutations `lr` log-uniform in [1e-3, 1] and "
        "`weight_decay` log-uniform in [1e-6, 1e-2], Ray's defaults otherwise) against the best of "
        f"{args.population} random-search configurations from the same space trained "
        f"{args.epochs} epochs each with fixed hyperparameters. Score: validation cross-entropy after "
        "the last epoch (lower is better); the winner of each method is then evaluated on the test "
        "split.",
        "",
        f"Command: `OMP_NUM_THREADS=1 nice -n 10 python benchmarks/pbt.py --seeds {args.seeds} "
        f"--population {args.population} --epochs {args.epochs} --interval {args.interval}"
        f"{' --asynchronous' if args.asynchronous else ''}"
        f"{f' --first-seed {args.first_seed}' if getattr(args, 'first_seed', 0) else ''}"
        f"{' --pb2' if getattr(args, 'pb2', False) else ''}` "
        f"({total:.0f} s in all).",
        "",
        machine_info(["torch", "scikit-learn"]),
        "",
        f"| method | validation loss (mean ± s.e., {len(rows)} seeds) | test loss | test accuracy | "
        "epochs per seed | seconds per seed |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    pb2 = [r["pb2"] for r in rows] if all("pb2" in r for r in rows) else []
    methods = [("PBT", pbt), ("random search, best fixed run", rs)] + ([("PB2", pb2)] if pb2 else [])
    for name, rs_ in methods:
        lines.append(f"| {name} | {_mean_se([r['val_loss'] for r in rs_])} | "
                     f"{_mean_se([r['test_loss'] for r in rs_])} | {_mean_se([r['test_acc'] for r in rs_])} | "
                     f"{int(np.mean([r['epochs'] for r in rs_]))} | {np.mean([r['seconds'] for r in rs_]):.1f} |")
    diff = [p["val_loss"] - q["val_loss"] for p, q in zip(pbt, rs)]
    lines += ["", f"PBT minus random search, validation loss, paired by seed: {_mean_se(diff)}; PBT has the "
              f"lower validation loss on {wins} of {len(rows)} seeds. Both methods draw their configurations "
              "from a generator seeded with the seed in the same order, so PBT's initial population is "
              "exactly the set of configurations random search trains: the difference is what exploiting "
              "and exploring does to them.", ""]
    if pb2:
        lines += [_pb2_paragraph(pbt, rs, pb2), ""]
    lines += [
              "| seed | PBT val loss | random val loss | PBT test acc | random test acc | "
              "random's best lr | PBT lr, first -> last epoch |", "| --- | --- | --- | --- | --- | --- | --- |"]
    if pb2:
        lines[-2] += " PB2 val loss | PB2 lr, first -> last epoch |"
        lines[-1] += " --- | --- |"
    for r in rows:
        p, q = r["pbt"], r["random"]
        lines.append(f"| {r['seed']} | {p['val_loss']:.4f} | {q['val_loss']:.4f} | {p['test_acc']:.4f} | "
                     f"{q['test_acc']:.4f} | {q['lr']:.3g} | {p['lr_schedule'][0]:.3g} -> {p['lr_schedule'][-1]:.3g} |")
        if pb2:
            b = r["pb2"]
            lines[-1] += f" {b['val_loss']:.4f} | {b['lr_schedule'][0]:.3g} -> {b['lr_schedule'][-1]:.3g} |"
    lines += ["", "![learning-rate schedules of the PBT winners](results/pbt.png)", "",
              "The plot shows, per seed, the learning rate and weight decay of the winning member's "
              "lineage at each epoch (`hpo_core.pbt.schedule`), beside the best fixed values random "
              "search found (dashed)."]
    return "\n".join(lines)


def _pb2_paragraph(pbt: list[dict[str, Any]], rs: list[dict[str, Any]], pb2: list[dict[str, Any]]) -> str:
    """PB2 against PBT and random search, paired by seed."""
    parts = []
    for name, other in (("PBT", pbt), ("random search", rs)):
        diff = [b["val_loss"] - o["val_loss"] for b, o in zip(pb2, other)]
        wins = sum(d < 0 for d in diff)
        parts.append(f"PB2 minus {name}: {_mean_se(diff)} (median {np.median(diff):+.4f}), PB2 lower on "
                     f"{wins} of {len(diff)} seeds")
    return ("PB2 (`hpo_core.pbt.PB2`, `hyperparam_bounds` the same two log-scaled ranges, the same population, "
            "interval, schedule and seed as PBT; only the explore step differs), validation loss paired by seed: "
            + "; ".join(parts) + ".")


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for i, r in enumerate(rows):
        color = f"C{i}"
        for ax, key, fixed in ((axes[0], "lr_schedule", "lr"), (axes[1], "wd_schedule", "weight_decay")):
            sched = r["pbt"][key]
            ax.step(range(1, len(sched) + 1), sched, where="pre", color=color, label=f"seed {r['seed']}")
            ax.axhline(r["random"][fixed], color=color, ls="--", lw=0.8)
    for ax, title in zip(axes, ("learning rate", "weight decay")):
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_title(f"{title}: PBT winner (solid), best random run (dashed)", fontsize=9)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--population", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=24)
    parser.add_argument("--interval", type=int, default=2)
    parser.add_argument("--asynchronous", action="store_true", help="asynchronous PBT (synch=False)")
    parser.add_argument("--first-seed", type=int, default=0, help="seeds first-seed .. first-seed + seeds - 1")
    parser.add_argument("--pb2", action="store_true", help="also run PB2 (hpo_core.pbt.PB2) with the same budget")
    parser.add_argument("--no-readme", action="store_true", help="print the section instead of writing it")
    args = parser.parse_args()
    import tempfile

    import torch

    torch.set_num_threads(1)
    git_rev()  # name the code this process runs before the tree moves on
    hpo_core.logging.set_verbosity(hpo_core.logging.WARNING)
    rows: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            task = Task(seed)
            rows.append({"seed": seed, "pbt": run_pbt(task, args.population, args.epochs, args.interval,
                                                         not args.asynchronous, Path(tmp)),
                         "random": run_random(task, args.population, args.epochs)})
            if args.pb2:
                rows[-1]["pb2"] = run_pbt(task, args.population, args.epochs, args.interval, not args.asynchronous,
                                          Path(tmp), method="pb2")
            print(f"seed {seed}: PBT {rows[-1]['pbt']['val_loss']:.4f}, random {rows[-1]['random']['val_loss']:.4f}"
                  + (f", PB2 {rows[-1]['pb2']['val_loss']:.4f}" if args.pb2 else ""), flush=True)
    total = time.perf_counter() - t0
    body = report(rows, args, total)
    if args.no_readme:
        print(body)
        return
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "pbt.json").write_text(json.dumps({"args": vars(args), "rows": rows}, indent=1))
    plot(rows, RESULTS / "pbt.png")
    write_section(README, "pbt", body)


if __name__ == "__main__":
    main()
