"""TsBlock codec (contract section 4) against IoTDB's own reader and against bytes built by hand per the layout.

The reference builder below is written from the contract's layout with ``struct`` and literal type/encoding
numbers, independently of the codec, so the codec is checked against the layout and not against itself.
"""
from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from iotdb.tsfile.utils.tsblock_serde import deserialize as iotdb_deserialize

from ainode_core.errors import InvalidInferenceConfigError, StatusCode
from ainode_core.rpc.tsblock import (
    Column,
    ColumnEncoding,
    TsBlock,
    TsBlockError,
    TSDataType,
    decode_tsblock,
    encode_tsblock,
    encode_values,
)

# --------------------------------------------------------------------------- reference layout, by hand

TYPE = {"BOOLEAN": 0, "INT32": 1, "INT64": 2, "FLOAT": 3, "DOUBLE": 4, "TEXT": 5,
        "TIMESTAMP": 8, "DATE": 9, "BLOB": 10, "STRING": 11}
ENC = {"BYTE_ARRAY": 0, "INT32_ARRAY": 1, "INT64_ARRAY": 2, "BINARY_ARRAY": 3, "RLE": 4, "DICTIONARY": 5}
PLAIN_ENC = {"BOOLEAN": 0, "INT32": 1, "FLOAT": 1, "DATE": 1, "INT64": 2, "DOUBLE": 2, "TIMESTAMP": 2,
             "TEXT": 3, "BLOB": 3, "STRING": 3}
FMT = {"INT32": ">i", "DATE": ">i", "FLOAT": ">f", "INT64": ">q", "TIMESTAMP": ">q", "DOUBLE": ">d"}
BINARY = {"TEXT", "BLOB", "STRING"}


def pack_bits(flags) -> bytes:
    out = bytearray((len(flags) + 7) // 8)
    for i, flag in enumerate(flags):
        if flag:
            out[i // 8] |= 0x80 >> (i % 8)
    return bytes(out)


def ref_body(type_name: str, values, nulls=None) -> bytes:
    """A plain column body: may-have-null byte, bitmap, values of the non-null rows (booleans: all rows)."""
    nulls = list(nulls) if nulls is not None else [False] * len(values)
    body = bytearray([1]) + pack_bits(nulls) if any(nulls) else bytearray([0])
    if type_name == "BOOLEAN":
        body += pack_bits([bool(v) and not n for v, n in zip(values, nulls)])
        return bytes(body)
    for value, null in zip(values, nulls):
        if null:
            continue
        if type_name in BINARY:
            body += struct.pack(">i", len(value)) + value
        else:
            body += struct.pack(FMT[type_name], value)
    return bytes(body)


def ref_block(timestamps, columns) -> bytes:
    """columns: list of (type name, encoding number, body bytes)."""
    out = bytearray(struct.pack(">i", len(columns)))
    out += bytes(TYPE[t] for t, _, _ in columns)
    out += struct.pack(">i", len(timestamps))
    out += bytes([ENC["INT64_ARRAY"]] + [e for _, e, _ in columns])
    out += ref_body("INT64", timestamps)
    for _, _, body in columns:
        out += body
    return bytes(out)


SAMPLES = {
    "BOOLEAN": [True, False, True, True, False, True],
    "INT32": [1, -2, 2**31 - 1, -(2**31), 0, 7],
    "DATE": [20240101, 20240102, 19700101, 20991231, 20000229, 20240630],
    "FLOAT": [1.5, -2.25, 0.0, 3.0e30, -1.0e-20, 8.0],
    "INT64": [1, -2, 2**63 - 1, -(2**63), 0, 7],
    "TIMESTAMP": [1_700_000_000_000, 0, -1, 2**40, 5, 6],
    "DOUBLE": [1.5, -2.25, 0.0, 1e300, float("nan"), 6.0],
    "TEXT": [b"a", "é".encode(), b"", b"xyz", b"\x00\xff", b"t"],
    "BLOB": [b"\x00", b"\x01\x02", b"", b"blob", b"\xff" * 9, b"z"],
    "STRING": [b"s1", b"", b"s3", b"longer string", b"5", b"6"],
}
NULL_PATTERNS = {
    "none": [False] * 6,
    "middle": [False, True, False, True, True, False],
    "ends": [True, False, False, False, False, True],
    "all": [True] * 6,
}
TIMES = [10, 20, 30, 40, 50, 60]


def _expected(type_name: str, nulls) -> list:
    return [None if n else v for v, n in zip(SAMPLES[type_name], nulls)]


def _assert_column(column: Column, type_name: str, nulls) -> None:
    assert column.data_type == TSDataType[type_name]
    assert column.nulls.tolist() == list(nulls)
    for row, (got, want) in enumerate(zip(column.values.tolist(), _expected(type_name, nulls))):
        if want is None:  # null rows: NaN for floats, None for binaries, and the bitmap says null
            if type_name in ("FLOAT", "DOUBLE"):
                assert np.isnan(got), row
            elif type_name in BINARY:
                assert got is None, row
        elif type_name == "FLOAT":
            assert got == pytest.approx(want, rel=1e-6), row
        elif isinstance(want, float) and np.isnan(want):
            assert np.isnan(got), row
        else:
            assert got == want, row


# --------------------------------------------------------------------------- the layout, every type


def test_type_and_encoding_numbers_match_the_contract():
    assert {t.name: t.value for t in TSDataType} == TYPE
    assert {e.name: e.value for e in ColumnEncoding} == ENC


@pytest.mark.parametrize("pattern", NULL_PATTERNS)
@pytest.mark.parametrize("type_name", SAMPLES)
def test_decode_reference_bytes_puts_values_on_their_rows(type_name, pattern):
    nulls = NULL_PATTERNS[pattern]
    data = ref_block(TIMES, [(type_name, PLAIN_ENC[type_name], ref_body(type_name, SAMPLES[type_name], nulls))])
    block = decode_tsblock(data)
    assert block.timestamps.tolist() == TIMES
    assert (block.row_count, block.column_count) == (6, 1)
    _assert_column(block.columns[0], type_name, nulls)


@pytest.mark.parametrize("pattern", NULL_PATTERNS)
@pytest.mark.parametrize("type_name", SAMPLES)
def test_encode_writes_exactly_the_reference_bytes(type_name, pattern):
    nulls = NULL_PATTERNS[pattern]
    values = SAMPLES[type_name]
    column = Column(TSDataType[type_name], np.array(values, dtype=object if type_name in BINARY else None), nulls)
    expected = ref_block(TIMES, [(type_name, PLAIN_ENC[type_name], ref_body(type_name, values, nulls))])
    assert encode_tsblock(TsBlock(TIMES, [column])) == expected


def test_many_columns_of_mixed_types_decode_in_order():
    names = list(SAMPLES)
    nulls = NULL_PATTERNS["middle"]
    data = ref_block(TIMES, [(t, PLAIN_ENC[t], ref_body(t, SAMPLES[t], nulls)) for t in names])
    block = decode_tsblock(data)
    assert [c.data_type.name for c in block.columns] == names
    for column, type_name in zip(block.columns, names):
        _assert_column(column, type_name, nulls)


def test_zero_rows_and_zero_columns():
    empty = decode_tsblock(ref_block([], [("DOUBLE", 2, ref_body("DOUBLE", []))]))
    assert (empty.row_count, empty.column_count) == (0, 1)
    assert empty.to_matrix().shape == (1, 0)
    only_time = decode_tsblock(ref_block([1, 2], []))
    assert (only_time.row_count, only_time.column_count) == (2, 0)
    assert encode_tsblock(only_time) == ref_block([1, 2], [])


# --------------------------------------------------------------------------- RLE and DICTIONARY


@pytest.mark.parametrize("type_name", SAMPLES)
def test_rle_column_repeats_its_single_value(type_name):
    value = SAMPLES[type_name][0]
    body = bytes([PLAIN_ENC[type_name]]) + ref_body(type_name, [value])
    block = decode_tsblock(ref_block(TIMES, [(type_name, ENC["RLE"], body)]))
    column = block.columns[0]
    assert not column.nulls.any()
    if type_name == "FLOAT":
        assert column.values.tolist() == pytest.approx([value] * 6)
    else:
        assert column.values.tolist() == [value] * 6
    # and our encoder writes the same bytes when asked for RLE
    encoded = encode_tsblock(block, [ColumnEncoding.RLE])
    assert encoded == ref_block(TIMES, [(type_name, ENC["RLE"], body)])


def test_rle_of_a_null_makes_every_row_null():
    body = bytes([ENC["INT64_ARRAY"]]) + ref_body("DOUBLE", [0.0], [True])
    block = decode_tsblock(ref_block(TIMES, [("DOUBLE", ENC["RLE"], body)]))
    assert block.columns[0].nulls.all()
    assert np.isnan(block.to_matrix()).all()


def test_rle_encoding_refuses_a_column_that_is_not_constant():
    column = Column(TSDataType.DOUBLE, np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="same value"):
        encode_tsblock(TsBlock([1, 2], [column]), [ColumnEncoding.RLE])


def test_dictionary_encoding_is_reported_as_unsupported():
    # apache-iotdb's Python reader has no DICTIONARY layout either: we refuse it instead of guessing.
    data = ref_block(TIMES, [("DOUBLE", ENC["DICTIONARY"], b"\x02\x00\x00\x00\x01" + b"\x00" * 40)])
    with pytest.raises(TsBlockError, match="DICTIONARY"):
        decode_tsblock(data)


# --------------------------------------------------------------------------- against apache-iotdb's reader

# Types and encodings its reader (iotdb.tsfile.utils.tsblock_serde) accepts.
IOTDB_READABLE = ["BOOLEAN", "INT32", "DATE", "FLOAT", "INT64", "DOUBLE", "TEXT"]


@pytest.mark.parametrize("pattern", NULL_PATTERNS)
@pytest.mark.parametrize("type_name", IOTDB_READABLE)
def test_iotdb_reader_reads_our_bytes(type_name, pattern):
    nulls = NULL_PATTERNS[pattern]
    values = SAMPLES[type_name]
    column = Column(TSDataType[type_name], np.array(values, dtype=object if type_name in BINARY else None), nulls)
    data = encode_tsblock(TsBlock(TIMES, [column]))
    # its binary reader calls .tobytes() on slices, so it needs a memoryview, as upstream passes it
    times, columns, null_indicators, rows = iotdb_deserialize(memoryview(data))
    assert rows == 6
    assert list(times) == TIMES
    if any(nulls):
        assert null_indicators[0].tolist() == nulls
    else:
        assert null_indicators[0] is None
    theirs = columns[0].tolist()
    if type_name == "BOOLEAN":  # its boolean reader returns all rows
        theirs = [v for v, n in zip(theirs, nulls) if not n]
    ours = [v for v, n in zip(values, nulls) if not n]
    assert len(theirs) == len(ours)
    for got, want in zip(theirs, ours):
        if isinstance(want, float) and np.isnan(want):
            assert np.isnan(got)
        elif type_name == "FLOAT":
            assert got == pytest.approx(want, rel=1e-6)
        else:
            assert got == want


@pytest.mark.parametrize("pattern", NULL_PATTERNS)
def test_we_and_iotdb_read_the_same_reference_bytes_but_we_keep_rows_aligned(pattern):
    nulls = NULL_PATTERNS[pattern]
    data = ref_block(TIMES, [("DOUBLE", 2, ref_body("DOUBLE", SAMPLES["DOUBLE"], nulls)),
                             ("INT32", 1, ref_body("INT32", SAMPLES["INT32"], nulls[::-1]))])
    _, their_columns, _, _ = iotdb_deserialize(data)
    ours = decode_tsblock(data)
    for theirs, column in zip(their_columns, ours.columns):
        # iotdb's reader returns only the non-null values, packed to the front ...
        np.testing.assert_array_equal(theirs, column.values[~column.nulls])
        # ... while ours holds one entry per row, nulls where the bitmap says so.
        assert len(column.values) == 6


def test_iotdb_reader_reads_our_rle_column():
    block = TsBlock(TIMES, [Column(TSDataType.DOUBLE, np.full(6, 2.5)), Column(TSDataType.TEXT, [b"k"] * 6)])
    data = encode_tsblock(block, [ColumnEncoding.RLE, ColumnEncoding.RLE])
    _, columns, _, rows = iotdb_deserialize(memoryview(data))
    assert rows == 6
    # its RLE reader hands numeric columns back as the raw big-endian bytes of every row
    assert np.frombuffer(columns[0], ">f8").tolist() == [2.5] * 6
    assert columns[1].tolist() == [b"k"] * 6


def test_encode_values_is_what_the_datanode_expects_back():
    forecast = np.array([[1.0, np.nan, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]])
    data = encode_values(forecast)
    times, columns, null_indicators, rows = iotdb_deserialize(data)
    assert rows == 4 and len(columns) == 2
    assert list(times) == [0, 0, 0, 0]  # the DataNode makes the output timestamps itself
    assert null_indicators == [None, None]  # a NaN is sent as a value, not as a null
    np.testing.assert_array_equal(np.vstack(columns), forecast)
    block = decode_tsblock(data)
    assert [c.data_type for c in block.columns] == [TSDataType.DOUBLE] * 2
    np.testing.assert_array_equal(block.to_matrix(), forecast)


def test_encode_values_as_float():
    data = encode_values(np.array([[0.5, 1.5, 2.5]]), TSDataType.FLOAT)
    block = decode_tsblock(data)
    assert block.columns[0].data_type == TSDataType.FLOAT
    assert block.to_matrix().tolist() == [[0.5, 1.5, 2.5]]
    with pytest.raises(ValueError, match="TEXT"):
        encode_values(np.zeros((1, 2)), TSDataType.TEXT)
    with pytest.raises(ValueError, match="shape"):
        encode_values(np.zeros((1, 2, 3)))


# --------------------------------------------------------------------------- to_matrix


def test_to_matrix_has_nan_on_null_rows_and_converts_numeric_types():
    block = TsBlock([1, 2, 3], [
        Column(TSDataType.DOUBLE, [1.0, 2.0, 3.0], [False, True, False]),
        Column(TSDataType.INT64, [4, 5, 6], [True, False, False]),
        Column(TSDataType.BOOLEAN, [True, False, True]),
    ])
    matrix = decode_tsblock(encode_tsblock(block)).to_matrix()
    assert matrix.dtype == np.float64 and matrix.shape == (3, 3)
    np.testing.assert_array_equal(matrix, [[1.0, np.nan, 3.0], [np.nan, 5.0, 6.0], [1.0, 0.0, 1.0]])


@pytest.mark.parametrize("type_name", ["TEXT", "BLOB", "STRING", "DATE", "TIMESTAMP"])
def test_to_matrix_names_a_column_a_model_cannot_take(type_name):
    block = decode_tsblock(ref_block(TIMES, [
        ("DOUBLE", 2, ref_body("DOUBLE", SAMPLES["DOUBLE"])),
        (type_name, PLAIN_ENC[type_name], ref_body(type_name, SAMPLES[type_name])),
    ]))
    with pytest.raises(TsBlockError, match=rf"column 1 has type {type_name}") as info:
        block.to_matrix()
    assert info.value.code == StatusCode.INVALID_INFERENCE_CONFIG


# --------------------------------------------------------------------------- malformed input


GOOD = ref_block(TIMES, [("DOUBLE", 2, ref_body("DOUBLE", SAMPLES["DOUBLE"], NULL_PATTERNS["middle"])),
                         ("TEXT", 3, ref_body("TEXT", SAMPLES["TEXT"], NULL_PATTERNS["ends"])),
                         ("BOOLEAN", 0, ref_body("BOOLEAN", SAMPLES["BOOLEAN"]))])


def test_error_is_an_invalid_inference_config_error():
    with pytest.raises(InvalidInferenceConfigError) as info:
        decode_tsblock(b"")
    assert isinstance(info.value, TsBlockError)
    assert info.value.code == StatusCode.INVALID_INFERENCE_CONFIG == 1512


def test_every_truncation_of_a_valid_block_is_reported():
    decode_tsblock(GOOD)  # the full block is fine
    for cut in range(len(GOOD)):
        with pytest.raises(TsBlockError, match="needs|Malformed"):
            decode_tsblock(GOOD[:cut])


@pytest.mark.parametrize(
    "data, message",
    [
        (struct.pack(">i", -1), "negative value-column count -1"),
        (struct.pack(">i", 1) + bytes([4]) + struct.pack(">i", -5) + bytes([2, 2]) + b"\x00" * 8, "negative row count -5"),
        (struct.pack(">i", 2**31 - 1) + b"\x00" * 16, "value-column count 2147483647"),
        # a row count far beyond the bytes that follow must not allocate anything
        (struct.pack(">i", 0) + struct.pack(">i", 2**31 - 1) + bytes([2]) + b"\x00" * 16, "needs 17179869176 bytes"),
        (struct.pack(">i", 1) + bytes([7]) + struct.pack(">i", 0) + bytes([2, 2]) + b"\x00\x00", "unknown data type byte 7"),
        (struct.pack(">i", 1) + bytes([4]) + struct.pack(">i", 0) + bytes([2, 9]) + b"\x00\x00", "unknown encoding byte 9"),
        (struct.pack(">i", 1) + bytes([4]) + struct.pack(">i", 0) + bytes([2, 1]) + b"\x00\x00", "DOUBLE but encoding INT32_ARRAY"),
        (struct.pack(">i", 0) + struct.pack(">i", 0) + bytes([1]) + b"\x00", "time column encoding is INT32_ARRAY"),
        (GOOD + b"\x00", "1 unexpected trailing bytes"),
        # a time column with a null row
        (struct.pack(">i", 0) + struct.pack(">i", 2) + bytes([2]) + b"\x01\x40" + b"\x00" * 8, "time column has 1 null"),
        # RLE nested in RLE
        (struct.pack(">i", 1) + bytes([4]) + struct.pack(">i", 1) + bytes([2, 4]) + b"\x00" + b"\x00" * 8 + b"\x04\x02\x00" + b"\x00" * 8,
         "nests an RLE"),
        # a binary value whose length is negative
        (struct.pack(">i", 1) + bytes([5]) + struct.pack(">i", 1) + bytes([2, 3]) + b"\x00" * 9 + b"\x00" + struct.pack(">i", -3),
         "negative length -3"),
        # a binary value longer than what is left
        (struct.pack(">i", 1) + bytes([5]) + struct.pack(">i", 1) + bytes([2, 3]) + b"\x00" * 9 + b"\x00" + struct.pack(">i", 100) + b"ab",
         "binary value 0 of 100 bytes"),
    ],
)
def test_malformed_input_says_what_is_wrong(data, message):
    with pytest.raises(TsBlockError, match=message):
        decode_tsblock(data)


def test_non_bytes_input_is_refused():
    with pytest.raises(TsBlockError, match="must be bytes"):
        decode_tsblock("not bytes")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- properties


def _value_strategy(data_type: TSDataType):
    if data_type == TSDataType.BOOLEAN:
        return st.booleans()
    if data_type in (TSDataType.INT32, TSDataType.DATE):
        return st.integers(-(2**31), 2**31 - 1)
    if data_type in (TSDataType.INT64, TSDataType.TIMESTAMP):
        return st.integers(-(2**63), 2**63 - 1)
    if data_type == TSDataType.FLOAT:
        return st.floats(width=32)
    if data_type == TSDataType.DOUBLE:
        return st.floats()
    return st.binary(max_size=6)


@st.composite
def blocks(draw):
    rows = draw(st.integers(0, 20))
    timestamps = draw(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=rows, max_size=rows))
    columns, encodings = [], []
    for _ in range(draw(st.integers(0, 4))):
        data_type = draw(st.sampled_from(list(TSDataType)))
        if rows and draw(st.integers(0, 3)) == 0:  # sometimes a constant column sent as RLE
            value, null = draw(_value_strategy(data_type)), draw(st.booleans())
            values, nulls = [value] * rows, [null] * rows
            encodings.append(ColumnEncoding.RLE)
        else:
            values = draw(st.lists(_value_strategy(data_type), min_size=rows, max_size=rows))
            nulls = draw(st.lists(st.booleans(), min_size=rows, max_size=rows))
            encodings.append(None)
        dtype = {TSDataType.FLOAT: np.float32, TSDataType.DOUBLE: np.float64}.get(data_type)
        array = np.array(values, dtype=object) if dtype is None else np.array(values, dtype=dtype)
        columns.append(Column(data_type, array, nulls))
    return TsBlock(timestamps, columns), encodings


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(blocks())
def test_random_blocks_round_trip(case):
    block, encodings = case
    decoded = decode_tsblock(encode_tsblock(block, encodings))
    assert decoded.timestamps.tolist() == block.timestamps.tolist()
    assert decoded.column_count == block.column_count
    for original, column in zip(block.columns, decoded.columns):
        assert column.data_type == original.data_type
        assert column.nulls.tolist() == original.nulls.tolist()
        present = ~original.nulls
        if original.data_type in (TSDataType.FLOAT, TSDataType.DOUBLE):
            np.testing.assert_array_equal(column.values[present], original.values[present])
            assert np.isnan(column.values[original.nulls]).all()
        else:
            assert column.values[present].tolist() == original.values[present].tolist()
            if original.data_type in (TSDataType.TEXT, TSDataType.BLOB, TSDataType.STRING):
                assert all(v is None for v in column.values[original.nulls])


def _decode_or_tsblock_error(data: bytes) -> None:
    try:
        decode_tsblock(data)
    except TsBlockError:
        pass  # anything else (IndexError, struct.error, MemoryError, ValueError...) fails the test


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=120))
def test_random_bytes_raise_nothing_but_tsblock_error(data):
    _decode_or_tsblock_error(data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(blocks(), st.data())
def test_mutated_valid_bytes_raise_nothing_but_tsblock_error(case, data):
    block, encodings = case
    raw = bytearray(encode_tsblock(block, encodings))
    for _ in range(data.draw(st.integers(1, 4))):
        action = data.draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        where = data.draw(st.integers(0, max(len(raw) - 1, 0)))
        if action == "flip" and raw:
            raw[where] = data.draw(st.integers(0, 255))
        elif action == "insert":
            raw[where:where] = data.draw(st.binary(min_size=1, max_size=4))
        elif action == "delete" and raw:
            del raw[where]
        elif action == "truncate":
            del raw[where:]
    _decode_or_tsblock_error(bytes(raw))
