"""Sub-commands that talk to a running node over Thrift: forecast, detect, models, devices, loaded, load,
unload, register, drop, finetune. Human tables by default, ``--json`` for scripts."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from ainode_core.cli.endpoint import NodeUnreachable, add_endpoint_args, resolve_endpoint
from ainode_core.cli.output import print_json, print_table

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
    forecast.add_argument("--plot", type=Path, help="write a PNG: history, forecast, quantile band")
    forecast.add_argument("--output", type=Path, help="write the forecast as CSV (or .parquet)")
    forecast.set_defaults(handler=cmd_forecast)

    detect = _common(sub.add_parser("detect", help="anomaly detection on the series of a file"))
    detect.add_argument("model", help="anomaly model id, e.g. stray or gaussian_hmm")
    detect.add_argument("--input", required=True, type=Path, help="CSV, Parquet or TsFile with a time column")
    detect.add_argument("--column", action="append", metavar="C", help="a column to check (repeatable)")
    detect.add_argument("--option", action="append", metavar="KEY=VALUE", help="model option (repeatable)")
    detect.add_argument("--plot", type=Path, help="write a PNG: series with flagged points / states")
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

    drop = _common(sub.add_parser("drop", help="drop a user-defined or fine-tuned model (DROP MODEL)"),
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


# --- inference -----------------------------------------------------------------------------------------


def cmd_forecast(args: argparse.Namespace) -> int:
    from ainode_core.cli.inputs import parse_key_values, parse_quantiles, read_input

    options = parse_key_values(args.option)
    quantiles = parse_quantiles(args.quantiles)
    history = read_input(args.input, args.column)
    with _client(args) as client:
        forecast = client.forecast(args.model, history, output_length=args.horizon, quantiles=quantiles,
                                   **options)
    _emit(args, forecast)
    if args.plot:
        from ainode_core.plot import plot_forecast

        path = plot_forecast(history, forecast, args.plot, title=f"{args.model} forecast of {args.input.name}")
        print(f"plot written to {path}", file=sys.stderr)
    return 0


def cmd_detect(args: argparse.Namespace) -> int:
    from ainode_core.cli.inputs import parse_key_values, read_input

    options = parse_key_values(args.option)
    series = read_input(args.input, args.column)
    with _client(args) as client:
        labels = client.detect(args.model, series, **options)
    result = series.copy()
    for column in labels.columns:  # values and labels side by side: which point, flagged how
        result[f"{column}_label"] = labels[column].to_numpy()
    _emit(args, result)
    if args.plot:
        from ainode_core.plot import plot_detection

        path = plot_detection(series, labels, args.plot, title=f"{args.model} on {args.input.name}")
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

MODEL_COLUMNS = ("ModelId", "ModelType", "Category", "State", "Reason")
_MODEL_KEYS = ("model_id", "model_type", "category", "state", "reason")


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
    from ainode_core.config import load_settings
    from ainode_core.models.catalog import ModelCatalog
    from ainode_core.plugins import get_plugin_manager

    catalog = ModelCatalog(load_settings(args.home).ain_models_dir, get_plugin_manager())
    return [(r.model_id, r.model_type, r.category.value, r.state.value, r.reason) for r in catalog.list()
            if args.model in (None, r.model_id)]


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
        (client.load if loading else client.unload)(args.model, devices)
        print(SUCCESS_MESSAGE)
        if not args.wait:
            print(f"{'Loading' if loading else 'Unloading'} runs in the background; `ainode loaded` shows it.",
                  file=sys.stderr)
            return 0
        deadline = time.monotonic() + args.timeout
        while True:
            current = client.loaded(devices)
            placed = {d for d in devices if current.get(d, {}).get(args.model, 0) > 0}
            if (placed == set(devices)) if loading else not placed:
                return 0
            if time.monotonic() > deadline:
                print(f"gave up waiting after {args.timeout:g} s; {args.model} is on "
                      f"{', '.join(sorted(placed)) or 'no device'} of {', '.join(devices)}", file=sys.stderr)
                return 1
            time.sleep(0.1)


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
