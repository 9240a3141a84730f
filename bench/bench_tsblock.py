"""TsBlock codec speed: decode / encode of a forecast-sized block, against apache-iotdb's own reader.

    .venv/bin/python bench/bench_tsblock.py

Prints microseconds per call and the ratio to upstream's `tsblock_serde.deserialize`.
"""
from __future__ import annotations

import timeit

import numpy as np
from iotdb.tsfile.utils.tsblock_serde import deserialize as iotdb_deserialize

from ainode_core.rpc.tsblock import Column, TsBlock, TSDataType, decode_tsblock, encode_tsblock, encode_values


def per_call_us(fn, number: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=5)) / number * 1e6


def main() -> None:
    rng = np.random.default_rng(0)
    rows = 2880
    for n_columns in (1, 8):
        values = rng.standard_normal((n_columns, rows))
        data = encode_values(values)
        ours = per_call_us(lambda: decode_tsblock(data), 2000)
        theirs = per_call_us(lambda: iotdb_deserialize(data), 2000)
        enc = per_call_us(lambda: encode_values(values), 2000)
        to_matrix = per_call_us(lambda: decode_tsblock(data).to_matrix(), 2000)
        print(f"DOUBLE {n_columns}x{rows}: decode {ours:8.1f} us  (apache-iotdb {theirs:8.1f} us, "
              f"ratio {theirs / ours:5.2f}x)  decode+to_matrix {to_matrix:8.1f} us  encode_values {enc:8.1f} us")

    # nulls in the middle: ours keeps rows aligned, at this cost
    nulls = rng.random(rows) < 0.1
    block = TsBlock(np.arange(rows), [Column(TSDataType.DOUBLE, rng.standard_normal(rows), nulls)])
    data = encode_tsblock(block)
    ours = per_call_us(lambda: decode_tsblock(data), 2000)
    theirs = per_call_us(lambda: iotdb_deserialize(data), 2000)
    print(f"DOUBLE 1x{rows} with 10% nulls: decode {ours:8.1f} us  (apache-iotdb {theirs:8.1f} us, "
          f"ratio {theirs / ours:5.2f}x)")

    texts = np.array([f"v{i}".encode() for i in range(rows)], dtype=object)
    data = encode_tsblock(TsBlock(np.arange(rows), [Column(TSDataType.TEXT, texts)]))
    ours = per_call_us(lambda: decode_tsblock(data), 200)
    theirs = per_call_us(lambda: iotdb_deserialize(memoryview(data)), 200)
    print(f"TEXT 1x{rows}: decode {ours:8.1f} us  (apache-iotdb {theirs:8.1f} us, ratio {theirs / ours:5.2f}x)")


if __name__ == "__main__":
    main()
