"""The parts of :class:`hpo_core.testing.StorageContract`, by topic (assembled in
``hpo_core/testing/storages.py``)."""
