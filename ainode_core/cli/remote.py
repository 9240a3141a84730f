"""Sub-commands that talk to a running node over Thrift: forecast, detect, models, devices, loaded, load,
unload, register, drop, finetune. Human tables by default, ``--json`` for scripts."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ainode_core.cli.endpoint import NodeUnreachable, add_endpoint_args, resolve_endpoint
from ainode_core.cli.output import print_json, print_table
from ainode_core.plot import FLAG_SHARE, HISTORY_HORIZONS, MIN_HISTORY

if TYPE_CHECKING:  # pragma: no cover - typing only; the client is imported when a command runs
    from ainode_core.client import WrongTaskError

SUCCESS_MESSAGE = "Msg: The statement is executed successfully."


def _common(parser: argparse.ArgumentParser, *, json_flag: bool = True) -> argparse.ArgumentParser:
    add_endpoint_args(parser)
    if json_flag:
        parser.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


def register(sub: argparse._SubParsersAction) -> None:
    forecast = _common(sub.add_parser("forecast", help="forecast the series of a CSV/Parquet/TsFile file"))
    forecast.add_argument("model", help="model id (see `ainode models`)")
    forecast.add_argument("--input", required=True, type=Path, help="CSV, Parquet or TsFile with a time column")
    forecast.add_argument("--column", action="append", metavar="C", help="a column to forecast (repeatable; "
                                                                          "default: every numeric column)")
    forecast.add_argument("--horizon", required=True, type=int, help="number of steps to forecast")
    forecast.add_argument("--quantiles", help="quantile levels, e.g. 0.1,0.5,0.9 (models with quantiles)")
    forecast.add_argument("--option", action="append", metavar="KEY=VALUE", help="model option (repeatable)")
    forecast.add_argument("--plot", type=Path, help="write a PNG: recent history, forecast, quantile band; "
                                                    "one colour per column")
    forecast.add_argument("--history", type=_history_window, default=None, metavar="N|all",
                          help="history points the plot shows (default: the last "
                               f"{HISTORY_HORIZONS} horizons, at least {MIN_HISTORY} points)")
    forecast.add_argument("--output", type=Path, help="write the forecast as CSV (or .parquet)")
    forecast.set_defaults(handler=cmd_forecast)

    detect = _common(sub.add_parser("detect", help="anomaly detection on the series of a file"))
    detect.add_argument("model", help="anomaly model id, e.g. stray or gaussian_hmm")
    detect.add_argument("--input", required=True, type=Path, help="CSV, Parquet or TsFile with a time column")
    detect.add_argument("--column", action="append", metavar="C", help="a column to check (repeatable)")
    detect.add_argument("--option", action="append", metavar="KEY=VALUE", help="model option (repeatable)")
    detect.add_argument("--plot", type=Path, help="write a PNG: one panel per column, flagged points marked "
                                                  "or states as coloured bands")
    detect.add_argument("--labels", choices=("auto", "flags", "states"), default="auto",
                        help="how the plot reads the labels: 0/1 outlier flags, or states (e.g. an HMM's); "
                             f"auto: flags when 0/1 with at most {FLAG_SHARE * 100:.0f}%% ones")  # %% : argparse formats help
    detect.add_argument("--output", type=Path, help="write values and labels as CSV (or .parquet)")
    detect.set_defaults(handler=cmd_detect)

    models = _common(sub.add_parser("models", help="list the models (SHOW MODELS) of the running node; "
                                                   "without one, the local catalog"))
    models.add_argument("model", nargs="?", help="only this model")
    models.set_defaults(handler=cmd_models)

    devices = _common(sub.add_parser("devices", help="list the node's AI devices (SHOW AI_DEVICES)"))
    devices.set_defaults(handler=cmd_devices)

    loaded = _common(sub.add_parser("loaded", help="models loaded per device (SHOW LOADED MODELS)"))
    loaded.add_argument("--devices", help="only these devices, e.g. cpu,0")
    loaded.set_defaults(handler=cmd_loaded)

    for name, verb in (("load", "load"), ("unload", "unload")):
        parser = _common(sub.add_parser(name, help=f"{verb} a model's instances on devices "
                                                   f"({name.upper()} MODEL)"), json_flag=False)
        parser.add_argument("model")
        parser.add_argument("--devices", default="cpu", help="devices, e.g. cpu or cpu,0 (default: cpu)")
        parser.add_argument("--wait", action="store_true", help="wait until SHOW LOADED MODELS shows the change")
        parser.add_argument("--timeout", type=float, default=120, help="seconds to wait (with --wait)")
        parser.set_defaults(handler=cmd_load if name == "load" else cmd_unload)

    reg = _common(sub.add_parser("register", help="register a model folder (CREATE MODEL id USING URI)"),
                  json_flag=False)
    reg.add_argument("model", help="new model id")
    reg.add_argument("uri", help="file:///folder (config.json, model.safetensors, code) or another storage URI")
    reg.add_argument("--no-wait", action="store_true", help="return at once; the state shows progress")
    reg.add_argument("--timeout", type=float, default=600, help="seconds to wait for activation")
    reg.set_defaults(handler=cmd_register)

    drop = _common(sub.add_parser("drop", help="drop a user-defined or fine-tuned model (DROP MODEL); a "
                                                "fine-tuning still running is cancelled"),
                   json_flag=False)
    drop.add_argument("model")
    drop.set_defaults(handler=cmd_drop)

    tune = _common(sub.add_parser("finetune", help="fine-tune a model into a new one "
                                                   "(CREATE MODEL ... FROM MODEL ... ON DATASET)"), json_flag=False)
    tune.add_argument("model", help="new model id")
    tune.add_argument("--base", required=True, help="model to start from")
    tune.add_argument("--dataset", action="append", required=True, metavar="URI_OR_PATTERN",
                      help="a tree path pattern (root.db.**), a table query, or a file:///x.csv|.parquet|.tsfile "
                           "URI on the node's machine (repeatable)")
    tune.add_argument("--time-range", metavar="START,END", help="[START, END) for every dataset (epoch ms or ISO)")
    tune.add_argument("--table", action="store_true", help="datasets are table-model queries (dbType iotdb.table)")
    tune.add_argument("--hp", action="append", metavar="KEY=VALUE",
                      help="hyperparameter, e.g. --hp train_epochs=3 --hp learning_rate=1e-4 (repeatable)")
    tune.add_argument("--no-wait", action="store_true", help="return at once; the state shows progress")
    tune.add_argument("--timeout", type=float, default=24 * 3600, help="seconds to wait for training")
    tune.set_defaults(handler=cmd_finetune)


def _client(args: argparse.Namespace):
    return resolve_endpoint(args).connect()


def _history_window(text: str) -> int | str:
    """``--history``: ``all`` or a positive number of points."""
    if text.strip().lower() == "all":
        return "all"
    try:
        points = int(text)
    except ValueError:
        points = 0
    if points < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give a number of points (e.g. 500) or 'all'")
    return points


# The command that serves each task, for "use ... instead" (classification has none: CALL INFERENCE).
TASK_COMMANDS = {"forecast": "`ainode forecast {model} --input {input} --horizon N`",
                 "anomaly_detection": "`ainode detect {model} --input {input}`"}


def _wrong_task(exc: "WrongTaskError", args: argparse.Namespace) -> Exception:
    """A model of another task: one line naming its task and the command that serves it (exit 2)."""
    from ainode_core.cli.inputs import UsageError
    from ainode_core.client import wrong_task_message

    command = TASK_COMMANDS.get(exc.task, "").format(model=exc.model_id, input=args.input)
    return UsageError(wrong_task_message(exc.model_id, exc.task, command))


# --- inference -----------------------------------------------------------------------------------------


def cmd_forecast(args: argparse.Namespace) -> int:
    from ainode_core.cli.inputs import parse_key_values, parse_quantiles, read_input
    from ainode_core.client import WrongTaskError

    options = parse_key_values(args.option)
    quantiles = parse_quantiles(args.quantiles)
    history = read_input(args.input, args.column)
    with _client(args) as client:
        try:
            forecast = client.forecast(args.model, history, output_length=args.horizon, quantiles=quantiles,
                                       **options)
        except WrongTaskError as exc:
            raise _wrong_task(exc, args) from None
    _emit(args, forecast)
    if args.plot:
        from ainode_core.plot import plot_forecast

        path = plot_forecast(history, forecast, args.plot, title=f"{args.model} forecast of {args.input.name}",
                             history_window=args.history)
        print(f"plot written to {path}", file=sys.stderr)
    return 0


def cmd_detect(args: argparse.Namespace) -> int:
    from ainode_core.cli.inputs import parse_key_values, read_input
    from ainode_core.client import WrongTaskError

    options = parse_key_values(args.option)
    series = read_input(args.input, args.column)
    with _client(args) as client:
        try:
            labels = client.detect(args.model, series, **options)
        except WrongTaskError as exc:
            raise _wrong_task(exc, args) from None
    result = series.copy()
    for column in labels.columns:  # values and labels side by side: which point, flagged how
        result[f"{column}_label"] = labels[column].to_numpy()
    _emit(args, result)
    if args.plot:
        from ainode_core.plot import plot_detection

        path = plot_detection(series, labels, args.plot, title=f"{args.model} on {args.input.name}",
                              kind=args.labels)
        print(f"plot written to {path}", file=sys.stderr)
    return 0


def _emit(args: argparse.Namespace, frame: Any) -> None:
    from ainode_core.cli.frames import frame_records, print_frame, write_frame

    if args.output:
        path = write_frame(frame, args.output)
        print(f"{len(frame)} rows written to {path}", file=sys.stderr)
    if args.json:
        print_json(frame_records(frame))
    else:
        print_frame(frame)


# --- catalog and devices -------------------------------------------------------------------------------

# IoTDB's SHOW MODELS columns, plus each model's task (which command runs it) and the reason for its state.
MODEL_COLUMNS = ("ModelId", "ModelType", "Task", "Category", "State", "Reason")
_MODEL_KEYS = ("model_id", "model_type", "task", "category", "state", "reason")


def cmd_models(args: argparse.Namespace) -> int:
    try:
        with _client(args) as client:
            frame = client.models(args.model)
        rows = [tuple(str(v) for v in row) for row in frame[list(MODEL_COLUMNS)].itertuples(index=False)]
    except NodeUnreachable as exc:
        print(f"{exc}\nShowing the local catalog of this home instead (states as last saved).", file=sys.stderr)
        rows = _local_models(args)
    if args.model and not rows:
        print(f"Model [{args.model}] is not registered yet. You can use 'SHOW MODELS' to retrieve the "
              "available models.", file=sys.stderr)
    if args.json:
        print_json([dict(zip(_MODEL_KEYS, row)) for row in rows])
    else:
        print_table(MODEL_COLUMNS, rows)
    return 0


def _local_models(args: argparse.Namespace) -> list[tuple[str, ...]]:
    """The home's catalog as last saved, read only: a listing must not create or change a node's files
    (a ModelCatalog would create ``data/ainode/models`` wherever the command happens to run). Without a
    catalog, the built-in models of the installed plugins."""
    import json

    from ainode_core.config import load_settings
    from ainode_core.models.catalog import CATALOG_FILE
    from ainode_core.models.record import ModelRecord

    settings = load_settings(args.home)
    path = settings.ain_models_dir / CATALOG_FILE
    if not path.is_file():
        print(f"No node has run with home {settings.home} (no {path}); listing the installed built-in models.",
              file=sys.stderr)
        rows = _installed_builtins(settings.ain_models_dir)
    else:
        records = [ModelRecord.from_json(item) for item in json.loads(path.read_text("utf-8"))["models"]]
        rows = [(r.model_id, r.model_type, r.task, r.category.value, r.state.value, r.reason) for r in records]
    return [row for row in rows if args.model in (None, row[0])]


def _installed_builtins(models_dir: Path) -> list[tuple[str, ...]]:
    from ainode_core.plugins import get_plugin_manager

    rows = []
    for model_id, registered in sorted(get_plugin_manager().registry("builtin_models").items()):
        builtin, spec = registered.record
        folder = models_dir / "builtin" / model_id
        missing = [name for name in builtin.weight_files if builtin.needs_weights and not (folder / name).is_file()]
        rows.append((model_id, spec.model_type, builtin.task, "builtin", "inactive" if missing else "active",
                     f"weights missing: copy {', '.join(missing)} into {folder}" if missing else ""))
    return rows


def cmd_devices(args: argparse.Namespace) -> int:
    with _client(args) as client:
        devices = client.devices()
    if args.json:
        print_json([{"device_id": d, "device_type": kind} for d, kind in devices.items()])
    else:
        print_table(("DeviceId", "DeviceType"), list(devices.items()))
    return 0


def loaded_rows(loaded: dict[str, dict[str, int]]) -> list[tuple[str, str, int]]:
    return [(device, model, count) for device, models in loaded.items() for model, count in sorted(models.items())]


def cmd_loaded(args: argparse.Namespace) -> int:
    from ainode_core.cli.inputs import parse_devices

    devices = parse_devices(args.devices) if args.devices else None
    with _client(args) as client:
        rows = loaded_rows(client.loaded(devices))
    if args.json:
        print_json([{"device_id": d, "model_id": m, "instances": n} for d, m, n in rows])
    else:
        print_table(("DeviceId", "ModelId", "Count(instances)"), rows)
    return 0


def cmd_load(args: argparse.Namespace) -> int:
    return _placement(args, loading=True)


def cmd_unload(args: argparse.Namespace) -> int:
    return _placement(args, loading=False)


def _placement(args: argparse.Namespace, *, loading: bool) -> int:
    from ainode_core.cli.inputs import parse_devices

    devices = parse_devices(args.devices)
    with _client(args) as client:
        if loading and not _loadable(client, args.model):
            return 1
        (client.load if loading else client.unload)(args.model, devices)
        print(SUCCESS_MESSAGE)
        if not args.wait:
            print(f"{'Loading' if loading else 'Unloading'} runs in the background; `ainode loaded` shows it.",
                  file=sys.stderr)
            return 0
        return _wait_placed(client, args.model, devices, loading=loading, timeout=args.timeout)


def _loadable(client: Any, model_id: str) -> bool:
    """Only an active model can be loaded: say at once why another cannot (SHOW MODELS' reason). An unknown
    model is left to the node, which answers 1504."""
    known = client.model_state(model_id)
    if known is None or known[0] == "active":
        return True
    state, reason, _ = known
    print(f"error: {model_id} is {state}, so it cannot be loaded{': ' + reason if reason else ''}. "
          "Load it once `ainode models` shows it active.", file=sys.stderr)
    return False


def _wait_placed(client: Any, model_id: str, devices: list[str], *, loading: bool, timeout: float) -> int:
    """Poll SHOW LOADED MODELS with a progress bar (devices done / devices asked) until the change shows;
    on timeout say where the model is, and its state and reason."""
    from ainode_core.cli.progress import ReasonBar

    deadline = time.monotonic() + timeout
    delay = 0.05
    with ReasonBar(f"{'loading' if loading else 'unloading'} {model_id}") as bar:
        while True:
            current = client.loaded(devices)
            placed = {d for d in devices if current.get(d, {}).get(model_id, 0) > 0}
            done = placed if loading else set(devices) - placed
            bar(f"{len(done)}/{len(devices)} devices")
            if done == set(devices):
                bar.close(f"{'on' if loading else 'off'} {', '.join(devices)}")
                return 0
            known = client.model_state(model_id)
            if known is None or (loading and known[0] != "active"):  # dropped, or failed, while we waited
                bar.close(known[0] if known else "dropped")
                return _gave_up(model_id, devices, placed, known, why="stopped waiting")
            if time.monotonic() > deadline:
                bar.close("timed out")
                return _gave_up(model_id, devices, placed, known, why=f"gave up waiting after {timeout:g} s")
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


def _gave_up(model_id: str, devices: list[str], placed: set[str], known: tuple[str, str, str] | None, *,
             why: str) -> int:
    where = ", ".join(sorted(placed)) or "no device"
    state = (f"{model_id} is {known[0]}{': ' + known[1] if known[1] else ''}" if known
             else f"{model_id} no longer exists")
    print(f"{why}; {model_id} is on {where} of {', '.join(devices)}. {state}", file=sys.stderr)
    return 1


def cmd_register(args: argparse.Namespace) -> int:
    from ainode_core.cli.progress import ReasonBar

    with _client(args) as client:
        if args.no_wait:
            client.register(args.model, args.uri, wait=False)
            print(SUCCESS_MESSAGE)
            return 0
        with ReasonBar(f"registering {args.model}") as bar:
            state = client.register(args.model, args.uri, timeout=args.timeout, progress=bar)
            bar.close(state)
        return _report_state(client, args.model, state, expected="active")


def cmd_finetune(args: argparse.Namespace) -> int:
    from ainode_core.cli.inputs import parse_key_values, parse_time_range
    from ainode_core.cli.progress import ReasonBar
    from ainode_core.client import ModelStateError

    time_range = parse_time_range(args.time_range)
    datasets = [(name, time_range) for name in args.dataset]
    hyperparameters = parse_key_values(args.hp, "--hp")
    db_type = "iotdb.table" if args.table else "iotdb.tree"
    with _client(args) as client:
        if args.no_wait:
            client.finetune(args.model, args.base, datasets, db_type=db_type, hyperparameters=hyperparameters,
                            wait=False)
            print(SUCCESS_MESSAGE)
            return 0
        with ReasonBar(f"fine-tuning {args.model}") as bar:
            try:
                state = client.finetune(args.model, args.base, datasets, db_type=db_type,
                                        hyperparameters=hyperparameters, timeout=args.timeout, progress=bar)
            except ModelStateError:
                bar.close("failed")
                return _report_state(client, args.model, "failed", expected="active")
            except KeyboardInterrupt:  # stops the waiting only: hours of training should not hang on one key
                bar.close("still training")
                print(f"stopped waiting; {args.model} goes on training in the node (`ainode models {args.model}` "
                      f"shows how far); `ainode drop {args.model}` cancels it", file=sys.stderr)
                return 130
            bar.close(state)
        return _report_state(client, args.model, state, expected="active")


def _report_state(client: Any, model_id: str, state: str, *, expected: str) -> int:
    rows = client.models(model_id)
    reason = str(rows["Reason"].iloc[0]) if not rows.empty else ""
    if state == expected:
        print(f"{model_id} is {state}")
        return 0
    print(f"{model_id} is {state}{': ' + reason if reason else ''}", file=sys.stderr)
    return 1


def cmd_drop(args: argparse.Namespace) -> int:
    with _client(args) as client:
        client.drop(args.model)
    print(SUCCESS_MESSAGE)
    return 0
