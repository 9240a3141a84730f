"""``ainode demo``: start a standalone node, list its models and forecast the bundled airline data."""
from __future__ import annotations

import argparse
import time
from importlib import resources
from pathlib import Path

import pandas as pd

from ainode_core.cli.output import print_table


def load_airline() -> pd.Series:
    """Monthly airline passengers 1949-1960 (Box & Jenkins), bundled with ainode."""
    with resources.files("ainode_core.data").joinpath("airline.csv").open() as handle:
        frame = pd.read_csv(handle, parse_dates=["time"])
    return pd.Series(frame["passengers"].to_numpy(), index=pd.PeriodIndex(frame["time"], freq="M"),
                     name="passengers")


def register(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser("demo", help="start a standalone node and forecast the bundled airline data")
    demo.add_argument("--home", type=Path, default=Path("demo-home"), help="node home for the demo")
    demo.add_argument("--model", default="holtwinters", help="model to forecast with")
    demo.add_argument("--option", action="append", default=["sp=12"], metavar="KEY=VALUE",
                      help="model option (default: sp=12, the yearly season of monthly data)")
    demo.add_argument("--horizon", type=int, default=24)
    demo.add_argument("--plot", type=Path, default=Path("demo-forecast.png"))
    demo.set_defaults(handler=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    from ainode_core.client import AINodeClient
    from ainode_core.plot import plot_forecast
    from ainode_core.testing.node import RunningNode, make_home

    home = args.home.resolve()
    started = time.monotonic()
    # Starting takes a while (plugins, torch): say what is going on rather than sit silent.
    print(f"starting a standalone ainode in {home} (loading its plugins takes a little while)...", flush=True)
    node = RunningNode(make_home(home.parent, "", name=home.name))
    try:
        port = node.port
        print(f"ainode started standalone on 127.0.0.1:{port} in {time.monotonic() - started:.1f} s "
              f"(home {home})\n")
        with AINodeClient("127.0.0.1", port) as client:
            models = client.models()[["ModelId", "ModelType", "Category", "State"]]  # IoTDB's columns
            print("SHOW MODELS")
            print_table(list(models.columns), models.itertuples(index=False))
            history = load_airline()
            options = dict(item.split("=", 1) for item in args.option)
            forecast = client.forecast(args.model, history, output_length=args.horizon, **options)
            print(f"\nForecast of monthly airline passengers, {args.horizon} months, with {args.model} {options}")
            print_table(["Time", "passengers"], [(str(i), f"{v:.1f}") for i, v in forecast["passengers"].items()])
            path = plot_forecast(history.to_frame(), forecast, args.plot,
                                 title=f"Airline passengers: {args.model} forecast")
            print(f"\nPlot written to {path.resolve()}  (finished in {time.monotonic() - started:.1f} s)")
    finally:
        node.stop()
    return 0

