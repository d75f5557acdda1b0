"""The emulated legacy stream (``LegacyStream``) against NumPy's ``RandomState`` itself,
and Optuna's ``RandomSampler`` draws made through it against NumPy's own calls."""

from __future__ import annotations

import pickle
import random

import numpy as np

from hpo_core.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from hpo_core.samplers._optuna_stream import LegacyStream, OptunaRandom, sample_optuna_random

# Ranges high - low: one value (no draw), small masks, CMA-ES's two (2**16 - 1 and
# 2**31 - 3), a full 32-bit word (no rejection) and past it (NumPy's 64-bit path).
_WIDTHS = [1, 2, 3, 5, 7, 8, 9, 100, 2**16 - 1, 2**16, 2**16 + 1, 2**31 - 3, 2**31, 2**32 - 1, 2**32,
           2**32 + 1, 2**40 + 7]


def test_legacy_stream_randint_draws_what_random_state_draws() -> None:
    ops = random.Random(3)
    for seed in range(20):
        ref = np.random.RandomState(seed)
        stream = LegacyStream(np.random.RandomState(seed))
        for i in range(2000):  # with 2**31-wide ranges: several blocks of words
            width = ops.choice(_WIDTHS)
            low = ops.choice([0, 1, -5, 2**20, -(2**33)])
            ours, theirs = stream.randint(low, low + width), ref.randint(low, low + width)
            assert ours == int(theirs) and type(ours) is int, (seed, i, low, width)
            if ops.random() < 0.2:  # mixed with the other draws
                assert stream.rand() == ref.rand()
        assert np.array_equal(stream.sync().get_state()[1], ref.get_state()[1])
        assert stream.sync().get_state()[2] == ref.get_state()[2]


def test_legacy_stream_randint_cmaes_seeds_over_many_seeds() -> None:
    # CMA-ES's per-ask pair, one sync (pickle) midway: the generator's state afterwards too.
    for seed in range(200):
        ref = np.random.RandomState(seed)
        stream = LegacyStream(np.random.RandomState(seed))
        for i in range(30):
            assert stream.randint(1, 2**31 - 2) == ref.randint(1, 2**31 - 2)
            assert stream.randint(1, 2**16) == ref.randint(1, 2**16)
            if i == 15:
                stream = pickle.loads(pickle.dumps(stream))
        state, ref_state = stream.sync().get_state(), ref.get_state()
        assert np.array_equal(state[1], ref_state[1]) and state[2] == ref_state[2]


def test_legacy_stream_randint_without_emulation_is_numpy() -> None:
    ref, rng = np.random.RandomState(5), np.random.RandomState(5)
    stream = LegacyStream(rng, emulate=False)
    assert [stream.randint(2, 2**16) for _ in range(50)] == ref.randint(2, 2**16, size=50).tolist()


def test_optuna_random_equals_sample_optuna_random() -> None:
    dists = [FloatDistribution(-3.0, 5.5), FloatDistribution(1e-5, 10.0, log=True),
             FloatDistribution(0.0, 1.0, step=0.1), IntDistribution(-5, 7), IntDistribution(1, 1000, log=True),
             IntDistribution(0, 21, step=3), CategoricalDistribution(["a", "b", 3, None])]
    for seed in range(3):
        emulated, rng = OptunaRandom(seed), np.random.RandomState(seed)
        for _ in range(300):
            for dist in dists:
                ours, theirs = emulated.external(dist), sample_optuna_random(rng, dist)
                assert ours == theirs and type(ours) is type(theirs), (dist, ours, theirs)
        assert np.array_equal(emulated.stream.sync().get_state()[1], rng.get_state()[1])
