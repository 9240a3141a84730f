"""What the CLI and `ainode sql` add on top of the client.

    .venv/bin/python bench/bench_cli.py

Measures: building the `ainode sql` grammar (once per process) and parsing a statement; a 512-point
naive_forecaster forecast of a CSV through `ainode forecast` (in-process: read the file, call, print the
table) vs the same forecast through the Python client alone; the same through `ainode sql` CALL INFERENCE;
and the start-up of the `ainode` process (`ainode --help`, `ainode sql -e "show ai_devices"`) that a shell
user pays on every command. Prints medians in milliseconds and ratios.
"""
from __future__ import annotations

import contextlib
import io
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ainode_core.cli.main import main  # noqa: E402
from ainode_core.client import AINodeClient  # noqa: E402
from ainode_core.testing.node import RunningNode, make_home  # noqa: E402

STATEMENT = ("CREATE MODEL tuned WITH HYPERPARAMETERS (train_epochs=2, learning_rate=0.0001) FROM MODEL sundial "
             "ON DATASET (PATH root.db.etth.OT([1467302400000, 1467644400000)))")


def median_ms(call, repeats: int) -> float:
    call()  # warm up
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def quiet(argv: list[str]) -> None:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(argv) == 0, argv


def main_bench() -> None:
    from ainode_core.cli.sql.grammar import parser
    from ainode_core.cli.sql.parse import parse_statement

    started = time.perf_counter()
    parser("statement")
    build_ms = (time.perf_counter() - started) * 1000
    parse_ms = median_ms(lambda: parse_statement(STATEMENT), 200)
    print(f"grammar build (once per process): {build_ms:.1f} ms; parse one CREATE ... ON DATASET: "
          f"{parse_ms * 1000:.0f} us")

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        csv = root / "series.csv"
        values = np.sin(np.arange(512) / 8.0)
        pd.DataFrame({"time": 1_700_000_000_000 + np.arange(512) * 1000, "v": values}).to_csv(csv, index=False)
        node = RunningNode(make_home(root))
        try:
            port = str(node.port)
            with AINodeClient("127.0.0.1", node.port) as client:
                series = pd.read_csv(csv, index_col="time")["v"]
                client_ms = median_ms(lambda: client.forecast("naive_forecaster", series, output_length=96), 30)
            cli_ms = median_ms(lambda: quiet(["forecast", "naive_forecaster", "--input", str(csv),
                                              "--horizon", "96", "--port", port]), 30)
            sql_ms = median_ms(lambda: quiet(["sql", "--port", port, "-e",
                                              f"call inference(naive_forecaster, \"select v from '{csv}'\", "
                                              "outputLength=96)"]), 30)
            print(f"forecast 512 -> 96 points: client {client_ms:.1f} ms | `ainode forecast` in-process "
                  f"{cli_ms:.1f} ms ({cli_ms / client_ms:.1f}x) | `ainode sql` CALL INFERENCE {sql_ms:.1f} ms "
                  f"({sql_ms / client_ms:.1f}x)")
            ainode = str(Path(sys.executable).parent / "ainode")
            help_ms = median_ms(lambda: subprocess.run([ainode, "--help"], capture_output=True, check=True), 5)
            show_ms = median_ms(lambda: subprocess.run([ainode, "sql", "--port", port, "-e", "show ai_devices"],
                                                       capture_output=True, check=True), 5)
            print(f"process start-up: `ainode --help` {help_ms:.0f} ms | `ainode sql -e 'show ai_devices'` "
                  f"{show_ms:.0f} ms")
        finally:
            node.stop()


if __name__ == "__main__":
    main_bench()
