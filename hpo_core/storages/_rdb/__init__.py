from hpo_core.storages._rdb._storage import RDBStorage

__all__ = ["RDBStorage"]
