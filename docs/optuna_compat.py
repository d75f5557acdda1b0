"""Walk Optuna's public names and write the compatibility table (docs/optuna_compat.md).

For every public name of Optuna 5.0's user-facing modules (``__all__``, or the public
classes and functions a module defines where it has none), look up the same name in the
same hpo_core module (``optuna.samplers.TPESampler`` -> ``hpo_core.samplers.TPESampler``)
and compare:

- functions: the parameters (names, kinds, defaults);
- classes: the constructor's parameters, then the public methods and properties;
- anything else (constants, modules): present or not, and equal where comparable.

Each name is **same**, **different** (what differs, and why where a note says) or
**missing** (why). The notes below are the documented reasons; a difference without
one is listed as found. Needs Optuna installed::

    python docs/optuna_compat.py            # writes docs/optuna_compat.md
    python docs/optuna_compat.py --check    # exit 1 if the file is not up to date
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import re
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

OUT = Path(__file__).with_name("optuna_compat.md")

MODULES = [
    "optuna", "optuna.study", "optuna.trial", "optuna.distributions", "optuna.samplers",
    "optuna.samplers.nsgaii", "optuna.pruners", "optuna.storages", "optuna.storages.journal",
    "optuna.logging", "optuna.exceptions", "optuna.importance", "optuna.visualization",
    "optuna.visualization.matplotlib", "optuna.integration", "optuna.artifacts",
    "optuna.terminator", "optuna.search_space",
]

# Why a name is missing: by module (the default) and by name.
MISSING_MODULE: dict[str, str] = {
    "optuna.integration": "optuna-integration's other libraries are not planned",
}
MISSING = {
    "optuna.storages.GrpcStorageProxy": "not planned: PostgreSQL/MySQL and the journal serve many workers",
    "optuna.storages.run_grpc_proxy_server": "not planned: see GrpcStorageProxy",
    "optuna.storages._CachedStorage": "private in Optuna; every hpo_core storage keeps a columnar cache",
}
# Deliberate differences, by name.
_STORAGE_NOTE = ("Optuna's storage methods are written once over hpo_core's storage operations "
                 "(`hpo_core/storages/_optuna_methods.py`: samplers and pruners read the columnar history "
                 "through `study.view`, storages apply operations and hand out changes since a sequence "
                 "number, which keeps an ask flat with the study size), checked against Optuna's "
                 "`InMemoryStorage` on every backend; `create_new_trial` returns the trial id, an int that "
                 "also unpacks as `(trial_id, number)`")
_RDB_NOTE = ("`heartbeat_interval` defaults to 60 s (Optuna: None), a deliberate extra: every RUNNING trial "
             "(`optimize` and `ask` alike) is beaten from one thread per storage, one write per interval for "
             "all of them, so that a dead or lost worker's trials are found and can be retried without "
             "configuration; `heartbeat_interval=None` gives Optuna's behaviour. `skip_compatibility_check` "
             "and `skip_table_creation` are accepted: opening checks the schema version, upgrades an older "
             "one in place and creates tables only where missing. " + _STORAGE_NOTE)
NOTES = {
    **{f"optuna.storages.{n}": _STORAGE_NOTE for n in ("BaseStorage", "InMemoryStorage", "JournalStorage")},
    "optuna.storages.RDBStorage": _RDB_NOTE,
    "optuna.storages.journal.JournalStorage": _STORAGE_NOTE,
    "optuna.samplers.BruteForceSampler": "never stops the study while a RUNNING trial may still reach an "
                                         "unexplored configuration; Optuna's default counts a running trial's "
                                         "branch as explored and can stop before every configuration has run "
                                         "(its issue 5780)",
    "optuna.samplers.TPESampler": "on a grid (every parameter of the joint space discrete, two or more, and "
                                  "the whole configuration: no conditional parameter outside it) it proposes "
                                  "the best of its `n_ei_candidates` candidates that no COMPLETE, PRUNED or "
                                  "RUNNING trial has, where Optuna may re-propose an evaluated configuration "
                                  "(19 % of the first 100 trials on benchmarks/quality_discrete.py's 12 "
                                  "problems; 5 % with the rule, which won 75 of 114 paired runs at 100 trials, "
                                  "sign test p = 0.001); where it passes over Optuna's choice, trial r's "
                                  "configuration, the trial records r (system attribute `tpe_repeat`) and a "
                                  "single-objective model counts r's observation once more (once per r), as Optuna's history "
                                  "would after re-evaluating it; `skip_evaluated=False` (an extra keyword) gives "
                                  "Optuna's choice, e.g. for a noisy objective. In continuous dimensions the good "
                                  "group's magic-clip floor counts floor(sqrt(n_good * n)) kernels instead of "
                                  "n_good (extra keyword `magic_clip_count`, default \"geometric\"), so its "
                                  "kernels narrow as the study grows: seed wins against Optuna's count on the 24 "
                                  "BBOB functions (10 seeds) at 100 / 200 trials 151/85, 153/86 in 2-D, 157/82, "
                                  "177/63 in 5-D, 143/97, 156/84 in 10-D, level at 25 trials and on the "
                                  "model-tuning suite (benchmarks/README.md); `magic_clip_count=\"group\"` gives "
                                  "Optuna's estimator",
    "optuna.pruners.HyperbandPruner": "the same brackets and decisions for an int `min_resource`; its default "
                                      "\"auto\" is `max(1, max_resource // reduction_factor)` (two brackets; "
                                      "Optuna's default 1 gives more): on learning curves recorded from real "
                                      "training (27 and 81 steps, benchmarks/README.md) TPE with it reached "
                                      "full-budget TPE's final best within a third of the epochs in 29 and 45 of "
                                      "50 fresh seeds, against 24 and 20 with `min_resource=1`; the extra keyword "
                                      "`sampler_scope` (default \"study\": samplers model every trial, as Optuna "
                                      "5.0's TPE, GP and CMA-ES do; \"bracket\": each bracket apart, as Optuna's "
                                      "docs describe)",
    "optuna.pruners.SuccessiveHalvingPruner": "`min_resource=\"auto\"` (the default) is `max(1, (s + 1) // "
                                              "reduction_factor)` for `s` the highest last step of the completed "
                                              "trials, where Optuna 5.0's is `max(1, s // 100)` (it assumes 100 "
                                              "steps or more); an int `min_resource` gives Optuna's decisions. "
                                              "Measured on learning curves recorded from real training (27 and 81 "
                                              "steps, benchmarks/README.md): TPE with it reached full-budget TPE's "
                                              "final best within a third of the epochs in 28 and 36 of 50 fresh "
                                              "seeds, against 4 and 4 with Optuna's rule (Fisher p < 1e-6)",
    "optuna.samplers.CmaEsSampler": "the same seed gives Optuna's trials bit for bit at the settings Optuna 5.0 "
                                    "honours (tests/samplers/cmaes/test_cmaes_optuna_parity.py); it differs where "
                                    "Optuna 5.0 does not do what the arguments ask: `restart_strategy` restarts "
                                    "(Optuna 5.0 ignores it), categorical parameters by CatCMA (Optuna samples "
                                    "them at random), a new run for a changed search space (Optuna falls back to "
                                    "random), and a generation whose telling trial fails afterwards is told once "
                                    "(Optuna tells it again)",
    **{f"optuna.samplers.{n}": "the same seed gives Optuna's trials bit for bit "
                               "(tests/samplers/nsga/test_nsga_optuna_stream.py); `ask(fixed_distributions)` "
                               "with a space other than the study's joint space breeds over the space asked "
                               "(Optuna over the joint space)"
       for n in ("NSGAIISampler", "NSGAIIISampler")},
    "optuna.trial.FrozenTrial": "a PRUNED trial's value is its last report, also when it is added with "
                                "`add_trial` (Optuna keeps a value given there, and None where none is given)",
    "optuna.study.Study.tell": "returns None: building a FrozenTrial on every tell would cost more "
                               "than a tight ask/tell loop; read `study.trials`",
    "optuna.create_study": "the defaults are Optuna's (TPE, MedianPruner)",
    **{f"optuna.terminator.{n}": "runs on GPSampler's GP (no torch) under Optuna's hyperparameter prior and "
                                 "maximises the UCB with GPSampler's acquisition search, so its values differ a "
                                 "little from Optuna's (measured in the class docstring)"
       for n in ("RegretBoundEvaluator", "EMMREvaluator")},
}


# Names whose signature is Optuna's but whose behaviour at the defaults is not: listed as
# different, the note saying what and why.
BEHAVIOUR = {"optuna.pruners.SuccessiveHalvingPruner"}


@dataclass
class Row:
    module: str
    name: str
    status: str  # same | different | missing
    detail: str


def _public(mod: ModuleType) -> list[str]:
    names = getattr(mod, "__all__", None)
    if names is not None:
        return sorted(n for n in names if not n.startswith("__"))
    return sorted(n for n, v in vars(mod).items()
                  if not n.startswith("_") and (inspect.isclass(v) or inspect.isfunction(v))
                  and getattr(v, "__module__", "").startswith(mod.__name__))


def _ours(module: str) -> ModuleType | None:
    try:
        return importlib.import_module("hpo_core" + module[len("optuna"):])
    except ImportError:
        return None


def _params(obj: Any) -> dict[str, inspect.Parameter] | None:
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    return {n: p for n, p in sig.parameters.items() if n not in ("self", "cls")}


def _show(value: Any) -> str:
    return "required" if value is inspect.Parameter.empty else repr(value)


def _compare_params(theirs: Any, ours: Any) -> list[str]:
    a, b = _params(theirs), _params(ours)
    if a is None or b is None:
        return []
    out = []
    lacking = [n for n, p in a.items() if n not in b and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    var_kw = any(p.kind == p.VAR_KEYWORD for p in b.values())
    if lacking and not var_kw:
        out.append("lacks argument(s) " + ", ".join(f"`{n}`" for n in lacking))
    extra = [n for n, p in b.items() if n not in a and p.default is inspect.Parameter.empty
             and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if extra:
        out.append("requires extra argument(s) " + ", ".join(f"`{n}`" for n in extra))
    for n, p in a.items():
        q = b.get(n)
        if q is None:
            continue
        try:
            same = p.default == q.default or (repr(p.default) == repr(q.default))
        except Exception:  # noqa: BLE001 - arrays and other odd defaults
            same = repr(p.default) == repr(q.default)
        if not same:
            out.append(f"default of `{n}`: {_show(q.default)} (Optuna: {_show(p.default)})")
        if p.kind == p.POSITIONAL_OR_KEYWORD and q.kind == q.KEYWORD_ONLY:
            out.append(f"`{n}` is keyword-only")
    return out


_SELF_ATTR = re.compile(r"self\.([A-Za-z]\w*)\s*(?::[^=\n]+)?=[^=]")


def _members(cls: type) -> set[str]:
    """Public methods, properties, slots and the attributes ``__init__`` assigns."""
    names = set()
    for klass in cls.__mro__:
        if klass is object or klass.__module__.split(".")[0] not in ("optuna", "hpo_core"):
            continue
        names |= {n for n in vars(klass) if not n.startswith("_")}
        names |= {n for n in getattr(klass, "__slots__", ()) if not n.startswith("_")}
        init = vars(klass).get("__init__")
        if init is not None:
            try:
                names |= {n for n in _SELF_ATTR.findall(inspect.getsource(init))}
            except (OSError, TypeError):
                pass
    return names


def _compare(qual: str, theirs: Any, ours: Any) -> list[str]:
    if inspect.isclass(theirs):
        if not inspect.isclass(ours):
            return [f"a {type(ours).__name__} here, a class in Optuna"]
        out = _compare_params(theirs.__init__, ours.__init__)
        lacking = sorted(_members(theirs) - _members(ours))
        if lacking:
            out.append("lacks " + ", ".join(f"`{n}`" for n in lacking))
        for n in sorted(_members(theirs) & _members(ours)):
            a, b = getattr(theirs, n, None), getattr(ours, n, None)
            if callable(a) and callable(b) and not inspect.isclass(a):
                out += [f"`{n}`: {d}" for d in _compare_params(a, b)]
        return out
    if inspect.isfunction(theirs) or inspect.isbuiltin(theirs):
        if not callable(ours):
            return ["not callable here"]
        return _compare_params(theirs, ours)
    if isinstance(theirs, ModuleType):
        return []
    try:
        return [] if theirs == ours else [f"{ours!r} (Optuna: {theirs!r})"]
    except Exception:  # noqa: BLE001
        return []


def table() -> list[Row]:
    rows = []
    for module in MODULES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mod = importlib.import_module(module)
        ours = _ours(module)
        for name in _public(mod):
            qual = f"{module}.{name}"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    theirs = getattr(mod, name)
                except Exception:  # noqa: BLE001 - Optuna's lazy integration names
                    continue
                mine = getattr(ours, name, None) if ours is not None else None
            if mine is None:
                why = MISSING.get(qual) or MISSING_MODULE.get(module) or "not yet (issue 14)"
                rows.append(Row(module, name, "missing", why))
                continue
            diffs = _compare(qual, theirs, mine)
            if diffs or qual in NOTES:
                detail = "; ".join(diffs)
                if qual in NOTES:
                    lead = ". Why: " if detail else ("" if qual in BEHAVIOUR else "Note: ")
                    detail = detail + lead + NOTES[qual]
                rows.append(Row(module, name, "different" if diffs or qual in BEHAVIOUR else "same", detail))
            else:
                rows.append(Row(module, name, "same", ""))
    return rows


def render(rows: list[Row]) -> str:
    import optuna

    import hpo_core

    counts = {s: sum(r.status == s for r in rows) for s in ("same", "different", "missing")}
    lines = [
        "# Compatibility with Optuna's public API",
        "",
        "Generated by `python docs/optuna_compat.py` (do not edit by hand) from Optuna "
        f"{optuna.__version__} and hpo_core {hpo_core.__version__}: every public name of Optuna's "
        "user-facing modules, looked up under the same name in the same hpo_core module. "
        "**same**: present, with the same arguments and defaults (classes: constructor and public "
        "methods), with a note where the behaviour differs in a documented way; **different**: "
        "present, and what differs (the arguments, or the behaviour at the defaults); **missing**: absent, and why.",
        "",
        f"Totals: {counts['same']} same, {counts['different']} different, {counts['missing']} missing "
        f"(of {len(rows)}).",
    ]
    for module in MODULES:
        mine = [r for r in rows if r.module == module]
        if not mine:
            continue
        lines += ["", f"## `{module}`", "", "| name | status | details |", "|---|---|---|"]
        for r in mine:
            detail = r.detail.replace("|", "\\|")
            lines.append(f"| `{r.name}` | {r.status} | {detail} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--check", action="store_true", help="exit 1 if docs/optuna_compat.md is out of date")
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args(argv)
    text = render(table())
    if args.check:
        current = args.out.read_text() if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is out of date: run python docs/optuna_compat.py", file=sys.stderr)
            return 1
        return 0
    args.out.write_text(text)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
