"""``Study.trials_dataframe``: built column by column from the history arrays."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from hpo_core._imports import import_optional
from hpo_core._validation import format_error
from hpo_core.distributions import CategoricalDistribution, IntDistribution
from hpo_core.trial import TrialState

if TYPE_CHECKING:
    import pandas as pd

    from hpo_core.study._study import Study

_ATTRS = (
    "number", "value", "values", "datetime_start", "datetime_complete", "duration",
    "params", "user_attrs", "system_attrs", "intermediate_values", "state",
)


def trials_dataframe(study: Study, attrs: Sequence[str], multi_index: bool) -> pd.DataFrame:
    pd = import_optional("pandas", extra="pandas", feature="Study.trials_dataframe")
    for a in attrs:
        if a not in _ATTRS:
            raise ValueError(format_error("attrs", f"a sequence of {', '.join(_ATTRS)}", a))
    h = study._history()
    rows = h.rows()
    cols: dict[tuple[str, str], Any] = {}
    m = h.n_objectives
    for a in attrs:
        if a == "number":
            cols[("number", "")] = rows
        elif a in ("value", "values"):
            V = h.user_values(rows)  # a PRUNED trial's value is its last report, as Optuna's
            metric_names = study.metric_names  # Optuna's columns: value_<name>, values_<name>
            if m == 1:
                cols[("value", "" if metric_names is None else metric_names[0])] = V[:, 0]
            else:
                for k in range(m):
                    cols[("values", str(k) if metric_names is None else metric_names[k])] = V[:, k]
        elif a in ("datetime_start", "datetime_complete"):
            t = (h.t_start if a == "datetime_start" else h.t_complete)[rows]
            cols[(a, "")] = pd.to_datetime(t, unit="s", utc=True).tz_convert(None)
        elif a == "duration":
            cols[("duration", "")] = pd.to_timedelta(h.t_complete[rows] - h.t_start[rows], unit="s")
        elif a == "params":
            for j, name in enumerate(h.param_names):
                dist = h.param_dists[j][-1]
                col = h.X[rows, j]
                if isinstance(dist, CategoricalDistribution):
                    vals = np.array([None] * len(rows), dtype=object)
                    ok = ~np.isnan(col)
                    choices = np.array(dist.choices + (None,), dtype=object)
                    vals[ok] = choices[col[ok].astype(np.int64)]
                    cols[("params", name)] = vals
                elif isinstance(dist, IntDistribution):
                    cols[("params", name)] = pd.array(
                        np.where(np.isnan(col), 0, col).astype(np.int64), dtype="Int64"
                    )
                    cols[("params", name)][np.isnan(col)] = pd.NA
                else:
                    cols[("params", name)] = col
        elif a in ("user_attrs", "system_attrs"):
            store = h.user_attrs if a == "user_attrs" else h.system_attrs
            keys = sorted({k for r in rows.tolist() for k in (store[r] or {})})
            for k in keys:
                cols[(a, k)] = [(store[r] or {}).get(k) for r in rows.tolist()]
        elif a == "intermediate_values":
            cols[("intermediate_values", "")] = [h.steps.as_dict(r) for r in rows.tolist()]
        elif a == "state":
            names = np.array([s.name for s in TrialState], dtype=object)
            cols[("state", "")] = names[h.states[rows].astype(np.int64)]
    if multi_index:
        df = pd.DataFrame(cols)
        df.columns = pd.MultiIndex.from_tuples(list(cols))
        return df
    flat = {(k if not sub else f"{k}_{sub}"): v for (k, sub), v in cols.items()}
    return pd.DataFrame(flat)


