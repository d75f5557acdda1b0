"""Contract test suites that every sampler and every storage must pass.

Third-party samplers and storages can reuse them::

    from hpo_core.testing import SamplerContract

    class TestMySampler(SamplerContract):
        def make_sampler(self, seed):
            return MySampler(seed=seed)
"""

from hpo_core.testing.samplers import SamplerContract
from hpo_core.testing.storages import StorageContract

__all__ = ["SamplerContract", "StorageContract"]
