"""The local file artifact store and the Checkpoint a segment receives; pickling."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from hpo_core import FloatDistribution
from hpo_core.pbt import PBT, Checkpoint, FileArtifactStore


def test_store_commit_publishes_the_whole_directory_at_once(tmp_path: Path) -> None:
    store = FileArtifactStore(tmp_path / "ckpt")
    work = store.reserve("trial-3")
    Path(work, "a.bin").write_bytes(b"1234")
    assert not os.path.exists(store.path("trial-3"))  # invisible until committed
    final = store.commit("trial-3")
    assert final == store.path("trial-3") and Path(final, "a.bin").read_bytes() == b"1234"
    assert not os.path.exists(work)
    store.delete("trial-3")
    assert not os.path.exists(final)


def test_store_reserve_starts_empty_and_discard_removes_the_partial_directory(tmp_path: Path) -> None:
    store = FileArtifactStore(tmp_path)
    Path(store.reserve("trial-0"), "stale.bin").write_bytes(b"x")
    assert os.listdir(store.reserve("trial-0")) == []  # a retried key starts empty
    store.discard("trial-0")
    assert not os.path.exists(os.path.join(tmp_path, ".partial", "trial-0"))


def test_store_rejects_a_root_that_is_no_path() -> None:
    with pytest.raises(TypeError, match="`root`"):
        FileArtifactStore(3)  # type: ignore[arg-type]


def test_checkpoint_save_is_atomic_and_load_reads_it_back(tmp_path: Path) -> None:
    ckpt = Checkpoint(member=1, start=4, stop=6, config={"lr": 0.1}, load_dir=str(tmp_path), save_dir=str(tmp_path))
    ckpt.save({"w": [1.0, 2.0]})
    assert os.listdir(tmp_path) == ["checkpoint.pkl"]  # no temporary file left behind
    assert ckpt.load() == {"w": [1.0, 2.0]} and list(ckpt.steps) == [4, 5]


def test_checkpoint_pickles_with_lambda_save_and_load_functions(tmp_path: Path) -> None:
    def save_text(obj: object, path: str) -> None:
        Path(path).write_text(repr(obj))

    ckpt = Checkpoint(member=0, start=0, stop=1, config={}, load_dir=str(tmp_path), save_dir=str(tmp_path),
                      save_fn=save_text,
                      load_fn=lambda path: Path(path).read_text(), filename="state.txt")
    clone = pickle.loads(pickle.dumps(ckpt))  # what a worker process receives
    clone.save(42)
    assert ckpt.load() == "42" and clone.member == 0 and clone.filename == "state.txt"


def test_pbt_pickles() -> None:
    pbt = PBT(perturbation_interval=3, burn_in_period=2, seed=7, synch=True,
              hyperparam_mutations={"lr": FloatDistribution(1e-3, 1.0, log=True), "bs": [16, 32]})
    clone = pickle.loads(pickle.dumps(pbt))
    assert vars(clone) == vars(pbt)
