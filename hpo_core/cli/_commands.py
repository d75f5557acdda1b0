"""The study commands of ``hpo-core``: Optuna's (``studies``, ``study-names``,
``create-study``, ``delete-study``, ``study set-user-attr``, ``trials``, ``best-trial``,
``best-trials``, ``ask``, ``tell``) with Optuna's arguments, and ``export``, ``import-optuna``,
``export-optuna`` (studies between Optuna's storages and ours), ``plot`` and ``dashboard``
(optuna-dashboard's ``STORAGE --host --port``).

Every command takes ``--storage`` (a database URL, a journal file's path, or
``redis://...``; else the ``HPO_CORE_STORAGE`` or ``OPTUNA_STORAGE`` environment
variable) and, where it prints records, ``-f table|json|yaml|value`` and ``--flatten``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
from typing import Any

import hpo_core
from hpo_core.cli._format import Column, format_records, plain
from hpo_core.cli._worker import CommandError
from hpo_core.exceptions import DuplicatedStudyError, StudyNotFoundError

__all__ = ["add_study_commands", "run_study_command"]

FORMATS = ("value", "json", "table", "yaml")
PLOTS = ("optimization_history", "param_importances", "slice", "contour", "parallel_coordinate",
         "intermediate_values", "edf", "pareto_front", "rank", "timeline")


def _storage(url: str | None, *, heartbeats: bool = True) -> Any:
    """The storage of ``--storage`` (or the environment), guessed as Optuna guesses it;
    ``heartbeats=False`` opens it without heartbeats (for trials that outlive this process)."""
    url = url or os.environ.get("HPO_CORE_STORAGE") or os.environ.get("OPTUNA_STORAGE")
    if not url:
        raise CommandError("no storage given: pass --storage URL (or set HPO_CORE_STORAGE).")
    off = {} if heartbeats else {"heartbeat_interval": None}
    if url.startswith("redis"):
        from hpo_core.storages.journal import JournalRedisBackend

        return hpo_core.storages.JournalStorage(JournalRedisBackend(url), **off)
    if os.path.isfile(url) and "://" not in url:
        from hpo_core.storages.journal import JournalFileBackend

        return hpo_core.storages.JournalStorage(JournalFileBackend(url), **off)
    return hpo_core.storages.RDBStorage(url, **off) if off else url


def _study(args: argparse.Namespace, *, heartbeats: bool = True, **kwargs: Any) -> hpo_core.Study:
    try:
        return hpo_core.load_study(study_name=args.study_name, storage=_storage(args.storage, heartbeats=heartbeats),
                                   **kwargs)
    except StudyNotFoundError:
        raise CommandError(f"no study named {args.study_name!r} in {args.storage}.") from None


def _trial_records(study: hpo_core.Study, trials: list[Any]) -> tuple[list[dict[Column, Any]], list[Column]]:
    """Optuna's trial columns: number, value(s), times, duration, params, user_attrs, state."""
    multi = len(study.directions) > 1
    names = study.metric_names
    records: list[dict[Column, Any]] = []
    columns: list[Column] = [("number", "")]
    seen: set[Column] = set()
    for t in trials:
        r: dict[Column, Any] = {("number", ""): t.number}
        if multi:
            for i, v in enumerate(t.values or [None] * len(study.directions)):
                r[("values", names[i] if names else str(i))] = v
        else:
            r[("value", names[0] if names else "")] = t.values[0] if t.values else None
        r[("datetime_start", "")] = t.datetime_start
        r[("datetime_complete", "")] = t.datetime_complete
        r[("duration", "")] = t.duration
        r.update({("params", k): v for k, v in t.params.items()})
        r.update({("user_attrs", k): v for k, v in t.user_attrs.items()})
        r[("state", "")] = t.state.name
        records.append(r)
        for c in r:
            if c not in seen:
                seen.add(c)
    order = ["number", "values" if multi else "value", "datetime_start", "datetime_complete", "duration",
             "params", "user_attrs", "state"]
    columns = sorted(seen, key=lambda c: (order.index(c[0]), c[1] if c[0] in ("params", "user_attrs") else ""))
    return records, columns


def _print_trials(args: argparse.Namespace, study: hpo_core.Study, trials: list[Any], single: bool = False) -> None:
    records, columns = _trial_records(study, trials)
    print(format_records(records[0] if single else records, columns, args.format, args.flatten))


def _format_args(p: argparse.ArgumentParser, default: str = "table") -> None:
    p.add_argument("-f", "--format", choices=FORMATS, default=default, help="output format (default: %(default)s)")
    p.add_argument("--flatten", action="store_true", help="flatten nested columns such as params (params_x)")


def add_study_commands(sub: Any) -> None:
    """Add the study commands to an argparse subparsers object."""
    def add(name: str, help_text: str, study: bool = True, fmt: str | None = None) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--storage", default=None, help="database URL, journal file or redis:// URL")
        if study:
            p.add_argument("--study-name", required=True, help="the study's name")
        if fmt is not None:
            _format_args(p, fmt)
        return p

    add("studies", "show the studies of a storage", study=False, fmt="table")
    add("study-names", "show the names of the studies of a storage", study=False, fmt="value")
    p = add("create-study", "create a study and print its name", study=False)
    p.add_argument("--study-name", default=None, help="the name (generated when omitted)")
    p.add_argument("--direction", choices=("minimize", "maximize"), default=None)
    p.add_argument("--directions", choices=("minimize", "maximize"), nargs="+", default=None)
    p.add_argument("--skip-if-exists", action="store_true", help="no error if the study exists")
    add("delete-study", "delete a study and its trials")
    p = add("study-set-user-attr", "set a user attribute of a study")
    p.add_argument("--key", "-k", required=True)
    p.add_argument("--value", required=True)
    add("trials", "show the trials of a study", fmt="table")
    add("best-trial", "show the best trial of a single-objective study", fmt="table")
    add("best-trials", "show the trials on the Pareto front", fmt="table")
    p = add("ask", "create a trial, sample its parameters and print them", fmt="json")
    p.add_argument("--sampler", default=None, help="a sampler class of hpo_core.samplers, e.g. TPESampler")
    p.add_argument("--sampler-kwargs", default=None, help="the sampler's arguments as JSON")
    p.add_argument("--search-space", default=None,
                   help="JSON: parameter names to distributions as distribution_to_json writes them")
    p = add("tell", "finish a trial with its values or state")
    p.add_argument("--trial-number", type=int, required=True)
    p.add_argument("--values", type=float, nargs="+", default=None)
    p.add_argument("--state", choices=("complete", "pruned", "fail"), default=None)
    p.add_argument("--skip-if-finished", action="store_true")
    p = add("export", "write the trials of a study as CSV or JSON")
    p.add_argument("--format", "-f", choices=("csv", "json"), default="csv")
    p.add_argument("--output", "-o", default="-", help="a file (default: standard output)")
    for name, text in (("import-optuna", "copy a study of an Optuna storage into --storage"),
                       ("export-optuna", "copy a study of --storage into an Optuna storage")):
        p = add(name, text)
        p.add_argument("--optuna-storage", required=True, help="Optuna's storage: a database URL or a journal file")
        p.add_argument("--to-study-name", default=None, help="the copy's name (default: --study-name)")
    p = add("plot", "draw a plot of a study into a file (.png, .pdf, .svg: matplotlib; .html: plotly)")
    p.add_argument("--kind", choices=PLOTS, default="optimization_history")
    p.add_argument("--output", "-o", required=True)
    p.add_argument("--params", nargs="+", default=None, help="the parameters to show (default: all)")
    p = add("dashboard", "serve a live web dashboard of the studies of a storage (optuna-dashboard's arguments)",
            study=False)
    p.add_argument("storage_url", nargs="?", default=None, metavar="STORAGE",
                   help="database URL, journal file or redis:// URL (or --storage)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s, this machine only)")
    p.add_argument("--port", type=int, default=8080, help="port (default: %(default)s; 0 picks a free one)")


def run_study_command(args: argparse.Namespace) -> int:
    """Run one study command; 0 when done. Raises CommandError for user mistakes."""
    cmd = args.command
    if cmd in ("studies", "study-names"):
        summaries = hpo_core.get_all_study_summaries(_storage(args.storage), include_best_trial=False)
        if cmd == "study-names":
            print(format_records([{("name", ""): s.study_name} for s in summaries], [("name", "")], args.format))
            return 0
        records = [{("name", ""): s.study_name, ("direction", ""): [d.name for d in s.directions],
                    ("n_trials", ""): s.n_trials, ("datetime_start", ""): s.datetime_start,
                    **{("user_attrs", k): v for k, v in s.user_attrs.items()}} for s in summaries]
        columns: list[Column] = [("name", ""), ("direction", ""), ("n_trials", ""), ("datetime_start", "")]
        columns += sorted({c for r in records for c in r if c[0] == "user_attrs"})
        print(format_records(records, columns, args.format, args.flatten))
        return 0
    if cmd == "create-study":
        try:
            study = hpo_core.create_study(storage=_storage(args.storage), study_name=args.study_name,
                                          direction=args.direction, directions=args.directions,
                                          load_if_exists=args.skip_if_exists)
        except DuplicatedStudyError:
            raise CommandError(f"a study named {args.study_name!r} exists already (--skip-if-exists "
                               "leaves it as it is).") from None
        print(study.study_name)
        return 0
    if cmd == "delete-study":
        try:
            hpo_core.delete_study(study_name=args.study_name, storage=_storage(args.storage))
        except StudyNotFoundError:
            raise CommandError(f"no study named {args.study_name!r} in {args.storage}.") from None
        return 0
    if cmd == "study-set-user-attr":
        _study(args).set_user_attr(args.key, args.value)
        return 0
    if cmd == "dashboard":
        from hpo_core.dashboard import run_server

        if not 0 <= args.port <= 65535:
            raise CommandError(f"--port must be in [0, 65535], but got {args.port}.")
        run_server(_storage(args.storage_url or args.storage, heartbeats=False), host=args.host, port=args.port)
        return 0
    if cmd in ("import-optuna", "export-optuna"):
        return _copy_optuna(args)
    if cmd == "ask":
        return _ask(args)
    if cmd == "tell":
        return _tell(args)
    study = _study(args)
    if cmd == "trials":
        _print_trials(args, study, study.trials)
    elif cmd == "best-trial":
        try:
            best = study.best_trial
        except (ValueError, RuntimeError) as e:
            raise CommandError(f"study {args.study_name!r}: {e}") from None
        _print_trials(args, study, [best], single=True)
    elif cmd == "best-trials":
        _print_trials(args, study, study.best_trials)
    elif cmd == "export":
        _export(args, study)
    elif cmd == "plot":
        _plot(args, study)
    return 0


def _ask(args: argparse.Namespace) -> int:
    sampler = None
    if args.sampler is not None:
        cls = getattr(hpo_core.samplers, args.sampler, None)
        if not isinstance(cls, type):
            raise CommandError(f"--sampler must name a sampler class of hpo_core.samplers, but got {args.sampler!r}.")
        try:
            kwargs = json.loads(args.sampler_kwargs) if args.sampler_kwargs else {}
        except json.JSONDecodeError as e:
            raise CommandError(f"--sampler-kwargs is not valid JSON: {e}") from None
        sampler = cls(**kwargs)
    elif args.sampler_kwargs is not None:
        raise CommandError("--sampler-kwargs is set without --sampler.")
    space = {}
    if args.search_space:
        try:
            space = {name: hpo_core.distributions.json_to_distribution(json.dumps(d))
                     for name, d in json.loads(args.search_space).items()}
        except (json.JSONDecodeError, ValueError, TypeError, KeyError, AttributeError) as e:
            raise CommandError(f"--search-space: {e}") from None
    # The trial outlives this process until `tell`: it belongs to no process and has no
    # heartbeat, so no worker fails it as stale meanwhile (as in Optuna, whose trials
    # have neither unless asked for).
    hpo_core.storages.detach_trials()
    study = _study(args, sampler=sampler, heartbeats=False)
    trial = study.ask(space)
    record: dict[Column, Any] = {("number", ""): trial.number, **{("params", k): v for k, v in trial.params.items()}}
    columns: list[Column] = [("number", ""), *[c for c in record if c[0] == "params"]]
    print(format_records(record, columns, args.format, args.flatten))
    return 0


def _tell(args: argparse.Namespace) -> int:
    state = {"complete": hpo_core.TrialState.COMPLETE, "pruned": hpo_core.TrialState.PRUNED,
             "fail": hpo_core.TrialState.FAIL, None: None}[args.state]
    study = _study(args)
    try:
        study.tell(args.trial_number, args.values, state=state, skip_if_finished=args.skip_if_finished)
    except (ValueError, RuntimeError, KeyError) as e:
        raise CommandError(f"tell trial {args.trial_number}: {e}") from None
    return 0


def _copy_optuna(args: argparse.Namespace) -> int:
    """``import-optuna`` / ``export-optuna``: :func:`hpo_core.integration.from_optuna` and
    :func:`~hpo_core.integration.to_optuna` between ``--optuna-storage`` and ``--storage``."""
    from hpo_core import integration
    from hpo_core._imports import import_optional

    optuna = import_optional("optuna", extra="optuna", feature="hpo-core " + args.command)
    url = args.optuna_storage
    if "://" not in url:  # a journal file, as our --storage takes one
        url = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(url))
    name = args.to_study_name or args.study_name
    try:
        if args.command == "import-optuna":
            integration.from_optuna(url, args.study_name, to_storage=_storage(args.storage), to_study_name=name)
        else:
            integration.to_optuna(_study(args), to_storage=url, to_study_name=name)
    except (DuplicatedStudyError, optuna.exceptions.DuplicatedStudyError):
        raise CommandError(f"a study named {name!r} exists already in the target storage.") from None
    except KeyError:  # Optuna's load_study of a missing study
        raise CommandError(f"no study named {args.study_name!r} in {args.optuna_storage}.") from None
    print(name)
    return 0


def _export(args: argparse.Namespace, study: hpo_core.Study) -> None:
    records, columns = _trial_records(study, study.trials)
    if args.format == "json":
        text = format_records(records, columns, "json", flatten=False) + "\n"
    else:
        header = [f"{a}_{b}" if b else a for a, b in columns]
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(header)
        for r in records:
            writer.writerow(["" if (v := plain(r.get(c))) is None else v for c in columns])
        text = buf.getvalue()
    if args.output == "-":
        print(text, end="")
    else:
        with open(args.output, "w", encoding="utf-8", newline="") as f:
            f.write(text)


def _plot(args: argparse.Namespace, study: hpo_core.Study) -> None:
    kwargs: dict[str, Any] = {}
    if args.params is not None and args.kind in ("slice", "contour", "parallel_coordinate", "param_importances", "rank"):
        kwargs["params"] = args.params
    if args.output.endswith(".html"):
        from hpo_core import visualization

        getattr(visualization, f"plot_{args.kind}")(study, **kwargs).write_html(args.output, include_plotlyjs=True)
        return
    from hpo_core.visualization import matplotlib as mpl_plots

    ax = getattr(mpl_plots, f"plot_{args.kind}")(study, **kwargs)
    first = ax.flat[0] if hasattr(ax, "flat") else ax
    first.figure.savefig(args.output, dpi=120, bbox_inches="tight")
