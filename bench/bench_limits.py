"""What an amplifying request costs the node: peak and retained memory, against the decode budget.

    .venv/bin/python bench/bench_limits.py [--limit-mb 256]

Starts a standalone node (default limits unless ``--limit-mb``), sends requests that are small on the wire but
large decoded (RLE DOUBLE columns: 13 bytes each; BOOLEAN columns: one bit a row) and one within the budget,
and prints for each the wire size, the decoded size, the status, and the node's peak (VmHWM) and resident
(VmRSS, after answering) memory growth. Without the budget the first one took 4.6 GB.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ainode_core.rpc.connection import AINodeConnection  # noqa: E402
from ainode_core.rpc.gen.ainode import ttypes as t  # noqa: E402
from ainode_core.rpc.tsblock import Column, TsBlock, TSDataType, decoded_size, encode_tsblock  # noqa: E402
from ainode_core.testing.hostile import amplifying_tsblock, process_memory  # noqa: E402
from ainode_core.testing.node import RunningNode, make_home  # noqa: E402

MiB = 2**20
CASES = [  # label, rows, columns, boolean
    ("RLE DOUBLE", 1_000_000, 250, False),
    ("plain BOOLEAN", 200_000, 250, True),
    ("RLE DOUBLE, within the budget", 100_000, 300, False),
    ("the same again", 100_000, 300, False),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit-mb", type=int, default=256, help="ain_inference_max_input_size_in_mb")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        node = RunningNode(make_home(Path(root), f"ain_inference_max_input_size_in_mb={args.limit_mb}\n"))
        connection = AINodeConnection("127.0.0.1", node.port)
        try:
            def forecast(data: bytes) -> t.TForecastResp:
                return connection.client.forecast(t.TForecastReq("naive_forecaster", data, 4))

            warm = encode_tsblock(TsBlock(np.arange(20), [Column(TSDataType.DOUBLE, np.ones(20))]))
            assert forecast(warm).status.code == 200  # the model loaded: what follows is the requests' cost
            print(f"decode budget {args.limit_mb} MiB; naive_forecaster, horizon 4")
            print(f"{'request':>31} {'rows x cols':>13} {'wire MB':>8} {'decoded MiB':>11} {'status':>6} "
                  f"{'peak +MiB':>9} {'kept +MiB':>9}")
            for label, rows, columns, boolean in CASES:
                data = amplifying_tsblock(rows, columns, boolean=boolean)
                peak, resident = (process_memory(node.process.pid, f) for f in ("VmHWM", "VmRSS"))
                status = forecast(data).status
                time.sleep(0.3)
                grown_peak = (process_memory(node.process.pid, "VmHWM") - peak) / MiB
                kept = (process_memory(node.process.pid, "VmRSS") - resident) / MiB
                print(f"{label:>31} {rows:>7}x{columns:<5} {len(data) / 1e6:8.1f} "
                      f"{decoded_size(rows, columns) / MiB:11.0f} {status.code:6d} {grown_peak:9.0f} {kept:9.0f}")
        finally:
            connection.close()
            node.stop()


if __name__ == "__main__":
    main()
