"""TsBlock bytes <-> numpy (contract section 4): the data format of every forecast / inference call.

Layout (all integers big-endian)::

    i32 value-column count N | N type bytes | i32 row count P | N+1 encoding bytes (time first)
    | time column body | N value column bodies

A column body is one "may have null" byte, a null bitmap of P bits (MSB first, 1 = null) when that byte is
non-zero, then the values. Int/float/binary arrays hold the values of the NON-NULL rows only; a boolean
column always holds P packed bits (IoTDB's Java and Python readers both read P bits). RLE is one inner
encoding byte plus an inner body with a single value that stands for all P rows.

The decoder never trusts a count: every read is bounds-checked first, so malformed input raises
:class:`TsBlockError` (status 1512) with the offset and what was expected, never ``IndexError``,
``struct.error`` or an attempt to allocate gigabytes. Values land on their own rows (upstream's AINode
ignores the bitmap and shifts every value after a null).

Memory is bounded by what the caller allows: the decoded size (rows x columns x 8 bytes, the float64 matrix
a model takes) is computed from the header, before anything is allocated, and checked against
``max_decoded_bytes``. An RLE column stays one value (a zero-stride view), and a plain numeric column stays
a view of the wire bytes, so the matrix is the only copy made on the way to the model.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Sequence

import numpy as np

from ainode_core.errors import InvalidInferenceConfigError

__all__ = [
    "TSDataType",
    "ColumnEncoding",
    "Column",
    "TsBlock",
    "TsBlockError",
    "InputTooLargeError",
    "decoded_size",
    "decode_tsblock",
    "encode_tsblock",
    "encode_values",
    "default_encoding",
    "NUMERIC_TYPES",
]


class TSDataType(IntEnum):
    BOOLEAN = 0
    INT32 = 1
    INT64 = 2
    FLOAT = 3
    DOUBLE = 4
    TEXT = 5
    TIMESTAMP = 8
    DATE = 9
    BLOB = 10
    STRING = 11


class ColumnEncoding(IntEnum):
    BYTE_ARRAY = 0
    INT32_ARRAY = 1
    INT64_ARRAY = 2
    BINARY_ARRAY = 3
    RLE = 4
    DICTIONARY = 5


class TsBlockError(InvalidInferenceConfigError):
    """The TsBlock bytes are malformed or use something we cannot read; the message says where and why."""


class InputTooLargeError(TsBlockError):
    """The TsBlock is well formed but decodes to more memory than the node allows for one request."""


def _mib(size: int) -> str:
    return f"{size / 2**20:,.1f} MiB"


# Which plain encoding carries which type, and how its values look in bytes and in memory.
_ENCODING_OF: dict[TSDataType, ColumnEncoding] = {
    TSDataType.BOOLEAN: ColumnEncoding.BYTE_ARRAY,
    TSDataType.INT32: ColumnEncoding.INT32_ARRAY,
    TSDataType.FLOAT: ColumnEncoding.INT32_ARRAY,
    TSDataType.DATE: ColumnEncoding.INT32_ARRAY,
    TSDataType.INT64: ColumnEncoding.INT64_ARRAY,
    TSDataType.DOUBLE: ColumnEncoding.INT64_ARRAY,
    TSDataType.TIMESTAMP: ColumnEncoding.INT64_ARRAY,
    TSDataType.TEXT: ColumnEncoding.BINARY_ARRAY,
    TSDataType.BLOB: ColumnEncoding.BINARY_ARRAY,
    TSDataType.STRING: ColumnEncoding.BINARY_ARRAY,
}
_WIRE_DTYPE: dict[TSDataType, str] = {
    TSDataType.INT32: ">i4",
    TSDataType.DATE: ">i4",
    TSDataType.FLOAT: ">f4",
    TSDataType.INT64: ">i8",
    TSDataType.TIMESTAMP: ">i8",
    TSDataType.DOUBLE: ">f8",
}
_MEMORY_DTYPE: dict[TSDataType, np.dtype] = {
    TSDataType.BOOLEAN: np.dtype(bool),
    TSDataType.INT32: np.dtype(np.int32),
    TSDataType.DATE: np.dtype(np.int32),
    TSDataType.FLOAT: np.dtype(np.float32),
    TSDataType.INT64: np.dtype(np.int64),
    TSDataType.TIMESTAMP: np.dtype(np.int64),
    TSDataType.DOUBLE: np.dtype(np.float64),
    TSDataType.TEXT: np.dtype(object),
    TSDataType.BLOB: np.dtype(object),
    TSDataType.STRING: np.dtype(object),
}
_BINARY_TYPES = frozenset({TSDataType.TEXT, TSDataType.BLOB, TSDataType.STRING})
_FLOAT_TYPES = frozenset({TSDataType.FLOAT, TSDataType.DOUBLE})
# Types a model can take as input: DATE (yyyymmdd ints), TIMESTAMP and the binary types are not measurements.
NUMERIC_TYPES = frozenset(
    {TSDataType.BOOLEAN, TSDataType.INT32, TSDataType.INT64, TSDataType.FLOAT, TSDataType.DOUBLE}
)


def default_encoding(data_type: TSDataType) -> ColumnEncoding:
    """The plain (non-RLE) encoding IoTDB uses for a data type."""
    return _ENCODING_OF[TSDataType(data_type)]


@dataclass(eq=False)
class Column:
    """One value column.

    ``values`` has one entry per row: bool for BOOLEAN, int32 for INT32/DATE, int64 for INT64/TIMESTAMP,
    float32 / float64 for FLOAT / DOUBLE (NaN on null rows), an object array of ``bytes`` for TEXT, BLOB and
    STRING (``None`` on null rows). ``nulls[i]`` is True where row i is null; a NaN on a non-null row is a
    value, not a null. ``nulls`` defaults to "no nulls".
    """

    data_type: TSDataType
    values: np.ndarray
    nulls: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.data_type = TSDataType(self.data_type)
        self.values = np.asarray(self.values, dtype=object if self.data_type in _BINARY_TYPES else None)
        if self.values.ndim != 1:
            raise ValueError(f"column values must be 1-D, got shape {self.values.shape}")
        if self.nulls is None:
            self.nulls = np.zeros(len(self.values), dtype=bool)
        else:
            self.nulls = np.asarray(self.nulls, dtype=bool)
            if self.nulls.shape != self.values.shape:
                raise ValueError(
                    f"column nulls must have the values' shape {self.values.shape}, got {self.nulls.shape}"
                )

    @property
    def is_numeric(self) -> bool:
        return self.data_type in NUMERIC_TYPES


@dataclass(eq=False)
class TsBlock:
    """Timestamps (int64, one per row) and the value columns, all of the same length."""

    timestamps: np.ndarray
    columns: list[Column] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.timestamps = np.asarray(self.timestamps, dtype=np.int64)
        if self.timestamps.ndim != 1:
            raise ValueError(f"timestamps must be 1-D, got shape {self.timestamps.shape}")
        self.columns = list(self.columns)
        for index, column in enumerate(self.columns):
            if len(column.values) != len(self.timestamps):
                raise ValueError(
                    f"value column {index} has {len(column.values)} rows, the block has {len(self.timestamps)}"
                )

    @property
    def row_count(self) -> int:
        return int(self.timestamps.shape[0])

    @property
    def column_count(self) -> int:
        return len(self.columns)

    def to_matrix(self) -> np.ndarray:
        """float64 array [columns, rows] with NaN on null rows: what a model takes as targets.

        Raises TsBlockError naming the first column whose type is not a measurement (TEXT, BLOB, STRING,
        DATE, TIMESTAMP).
        """
        matrix = np.empty((self.column_count, self.row_count), dtype=np.float64)
        for index, column in enumerate(self.columns):
            if not column.is_numeric:
                allowed = ", ".join(t.name for t in sorted(NUMERIC_TYPES))
                raise TsBlockError(
                    f"Input value column {index} has type {column.data_type.name}, which a model cannot take "
                    f"as input; select only columns of type {allowed}."
                )
            matrix[index] = column.values
            if column.nulls.any():
                matrix[index, column.nulls] = np.nan
        return matrix


# ----------------------------------------------------------------------------------------------- decoding

_I32 = struct.Struct(">i")


class _Reader:
    """A cursor over the input that checks every length before it reads."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    @property
    def remaining(self) -> int:
        return len(self.data) - self.pos

    def need(self, size: int, what: str) -> None:
        if size > self.remaining:
            raise TsBlockError(
                f"Malformed TsBlock: {what} at byte offset {self.pos} needs {size} bytes, "
                f"only {self.remaining} left (total {len(self.data)} bytes)."
            )

    def i32(self, what: str) -> int:
        self.need(4, what)
        (value,) = struct.unpack_from(">i", self.data, self.pos)
        self.pos += 4
        return value

    def u8(self, what: str) -> int:
        self.need(1, what)
        value = self.data[self.pos]
        self.pos += 1
        return value

    def array(self, dtype: str, count: int, what: str) -> np.ndarray:
        size = np.dtype(dtype).itemsize * count
        self.need(size, what)
        out = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.pos)
        self.pos += size
        return out

    def bits(self, count: int, what: str) -> np.ndarray:
        packed = self.array("u1", (count + 7) // 8, what)
        return np.unpackbits(packed, count=count).astype(bool)

    def raw(self, size: int, what: str) -> bytes:
        self.need(size, what)
        out = self.data[self.pos : self.pos + size]
        self.pos += size
        return bytes(out)


def _read_nulls(reader: _Reader, rows: int, where: str) -> np.ndarray | None:
    if reader.u8(f"{where}: may-have-null flag") == 0:
        return None
    return reader.bits(rows, f"{where}: null bitmap of {rows} rows")


def _spread(present: np.ndarray, nulls: np.ndarray | None, data_type: TSDataType) -> np.ndarray:
    """Put the values of the non-null rows on their own rows (upstream forgets this step)."""
    dtype = _MEMORY_DTYPE[data_type]
    if nulls is None:
        return present  # a view of the wire bytes: converted once, where the matrix is filled
    filler = np.nan if data_type in _FLOAT_TYPES else (None if dtype == object else 0)
    out = np.full(len(nulls), filler, dtype=dtype)
    out[~nulls] = present
    return out


def _read_column(
    reader: _Reader, encoding: int, data_type: TSDataType, rows: int, where: str, *, inside_rle: bool = False
) -> Column:
    if encoding == ColumnEncoding.RLE:
        if inside_rle:
            raise TsBlockError(f"Malformed TsBlock: {where} nests an RLE column inside an RLE column.")
        inner = reader.u8(f"{where}: RLE inner encoding")
        single = _read_column(reader, inner, data_type, 1, f"{where} (RLE value)", inside_rle=True)
        # One value standing for every row: a zero-stride view, so RLE costs nothing until the matrix.
        return Column(data_type, np.broadcast_to(single.values, (rows,)), np.broadcast_to(single.nulls, (rows,)))
    if encoding == ColumnEncoding.DICTIONARY:
        raise TsBlockError(
            f"Unsupported TsBlock: {where} uses DICTIONARY encoding, which this AINode (like the apache-iotdb "
            "Python reader) cannot read; send the column with a plain or RLE encoding."
        )
    try:
        expected = _ENCODING_OF[data_type]
    except KeyError:  # pragma: no cover - data_type is validated by the caller
        raise TsBlockError(f"Malformed TsBlock: {where} has unknown data type {int(data_type)}.") from None
    if encoding != expected:
        got = ColumnEncoding(encoding).name if encoding in ColumnEncoding._value2member_map_ else str(encoding)
        raise TsBlockError(
            f"Malformed TsBlock: {where} has type {data_type.name} but encoding {got}; "
            f"expected {expected.name} (or RLE)."
        )

    nulls = _read_nulls(reader, rows, where)
    present_rows = rows if nulls is None else rows - int(np.count_nonzero(nulls))
    if encoding == ColumnEncoding.BYTE_ARRAY:
        # Booleans always carry P bits, null rows included.
        values = reader.bits(rows, f"{where}: {rows} boolean values")
        if nulls is not None:
            values[nulls] = False
        return Column(data_type, values, nulls)
    if encoding == ColumnEncoding.BINARY_ARRAY:
        # Each entry takes at least its 4-byte length: reject absurd counts before looping.
        reader.need(4 * present_rows, f"{where}: {present_rows} binary values")
        present = np.empty(present_rows, dtype=object)
        # A tight loop on locals (this is the one per-value loop of the codec); any shortfall goes back
        # through reader.need() for the error message.
        data, pos, end = reader.data, reader.pos, len(reader.data)
        for i in range(present_rows):
            if pos + 4 > end:
                reader.pos = pos
                reader.need(4, f"{where}: length of binary value {i}")
            (length,) = _I32.unpack_from(data, pos)
            pos += 4
            if length < 0:
                raise TsBlockError(
                    f"Malformed TsBlock: {where}: binary value {i} has negative length {length} (offset {pos - 4})."
                )
            if pos + length > end:
                reader.pos = pos
                reader.need(length, f"{where}: binary value {i} of {length} bytes")
            present[i] = data[pos : pos + length]
            pos += length
        reader.pos = pos
        return Column(data_type, _spread(present, nulls, data_type), nulls)
    present = reader.array(_WIRE_DTYPE[data_type], present_rows, f"{where}: {present_rows} {data_type.name} values")
    return Column(data_type, _spread(present, nulls, data_type), nulls)


def decoded_size(rows: int, n_columns: int) -> int:
    """Bytes the decoded input takes: the timestamps and the float64 matrix of its value columns."""
    return 8 * rows * (n_columns + 1)


def decode_tsblock(data: bytes, *, max_decoded_bytes: int | None = None, limit_hint: str = "") -> TsBlock:
    """Parse TsBlock bytes. Raises :class:`TsBlockError` (1512) on anything malformed or unsupported, and
    :class:`InputTooLargeError` when the decoded input would exceed ``max_decoded_bytes`` (``limit_hint``
    ends its message, e.g. which setting raises the limit)."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TsBlockError(f"TsBlock must be bytes, got {type(data).__name__}.")
    reader = _Reader(bytes(data))
    n_columns = reader.i32("value-column count")
    if n_columns < 0:
        raise TsBlockError(f"Malformed TsBlock: negative value-column count {n_columns} at byte offset 0.")
    # Each value column takes at least a type byte, an encoding byte and a may-have-null byte.
    if 3 * n_columns > reader.remaining:
        raise TsBlockError(
            f"Malformed TsBlock: value-column count {n_columns} needs at least {3 * n_columns} more bytes, "
            f"only {reader.remaining} left."
        )
    type_codes = reader.raw(n_columns, f"{n_columns} column type bytes")
    types: list[TSDataType] = []
    for index, code in enumerate(type_codes):
        if code not in TSDataType._value2member_map_:
            known = ", ".join(f"{t.name} {t.value}" for t in TSDataType)
            raise TsBlockError(
                f"Malformed TsBlock: value column {index} has unknown data type byte {code} "
                f"at byte offset {4 + index}; known: {known}."
            )
        types.append(TSDataType(code))
    rows = reader.i32("row count")
    if rows < 0:
        raise TsBlockError(f"Malformed TsBlock: negative row count {rows} at byte offset {reader.pos - 4}.")
    size = decoded_size(rows, n_columns)
    if max_decoded_bytes is not None and size > max_decoded_bytes:
        raise InputTooLargeError(
            f"The input decodes to {_mib(size)} ({rows} rows x {n_columns} value columns, 8 bytes a value), "
            f"over this node's limit of {_mib(max_decoded_bytes)}; send fewer rows or columns{limit_hint}.")
    encodings = reader.raw(n_columns + 1, f"{n_columns + 1} column encoding bytes")
    for index, code in enumerate(encodings):
        if code not in ColumnEncoding._value2member_map_:
            label = "time column" if index == 0 else f"value column {index - 1}"
            raise TsBlockError(
                f"Malformed TsBlock: {label} has unknown encoding byte {code} at byte offset "
                f"{reader.pos - len(encodings) + index}; known: "
                + ", ".join(f"{e.name} {e.value}" for e in ColumnEncoding)
                + "."
            )

    # The time column is a plain INT64 array without nulls (IoTDB's TimeColumn); it also bounds the row
    # count by the input size, which keeps RLE columns from expanding to billions of rows.
    if encodings[0] != ColumnEncoding.INT64_ARRAY:
        raise TsBlockError(
            f"Malformed TsBlock: time column encoding is {ColumnEncoding(encodings[0]).name}, "
            "expected INT64_ARRAY."
        )
    time = _read_column(reader, encodings[0], TSDataType.INT64, rows, "time column")
    if time.nulls.any():
        raise TsBlockError(
            f"Malformed TsBlock: the time column has {int(time.nulls.sum())} null rows; timestamps cannot be null."
        )
    columns = [
        _read_column(reader, encodings[i + 1], types[i], rows, f"value column {i} ({types[i].name})")
        for i in range(n_columns)
    ]
    if reader.remaining:
        raise TsBlockError(
            f"Malformed TsBlock: {reader.remaining} unexpected trailing bytes after the last column "
            f"(offset {reader.pos} of {len(reader.data)})."
        )
    return TsBlock(time.values, columns)


# ----------------------------------------------------------------------------------------------- encoding


def _null_section(nulls: np.ndarray) -> bytes:
    if not nulls.any():
        return b"\x00"
    return b"\x01" + np.packbits(nulls).tobytes()


def _as_bytes(value: object, where: str) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    raise ValueError(f"{where}: expected bytes or str, got {type(value).__name__}")


def _plain_body(column: Column, where: str) -> bytes:
    data_type, nulls = column.data_type, column.nulls
    if data_type == TSDataType.BOOLEAN:
        bits = np.asarray(column.values, dtype=bool) & ~nulls
        return _null_section(nulls) + np.packbits(bits).tobytes()
    present = column.values if not nulls.any() else column.values[~nulls]
    if data_type in _BINARY_TYPES:
        parts = [_null_section(nulls)]
        for i, value in enumerate(present):
            blob = _as_bytes(value, f"{where}, non-null value {i}")
            parts.append(struct.pack(">i", len(blob)))
            parts.append(blob)
        return b"".join(parts)
    wire = np.dtype(_WIRE_DTYPE[data_type])
    if wire.kind == "i" and present.dtype.kind in "iub" and present.size:
        info = np.iinfo(wire)
        if present.min() < info.min or present.max() > info.max:
            raise ValueError(f"{where}: values out of range for {data_type.name}")
    return _null_section(nulls) + np.ascontiguousarray(present, dtype=wire).tobytes()


def _column_body(column: Column, encoding: ColumnEncoding, where: str) -> bytes:
    if encoding == ColumnEncoding.RLE:
        rows = len(column.values)
        if rows == 0:
            raise ValueError(f"{where}: RLE needs at least one row to take its value from")
        values, nulls = column.values, column.nulls
        if nulls[0]:
            same = bool(nulls.all())
        elif nulls.any():
            same = False
        elif column.data_type in _FLOAT_TYPES:
            floats = values.astype(np.float64)
            same = bool(np.all((floats == floats[0]) | (np.isnan(floats) & np.isnan(floats[0]))))
        elif values.dtype == object:
            # element by element: numpy would turn a bytes scalar into np.bytes_, which drops trailing NULs
            same = all(value == values[0] for value in values)
        else:
            same = bool(np.all(values == values[0]))
        if not same:
            raise ValueError(f"{where}: RLE needs every row to hold the same value (or every row null)")
        single = Column(column.data_type, column.values[:1], column.nulls[:1])
        inner = default_encoding(column.data_type)
        return bytes([inner]) + _plain_body(single, where)
    if encoding == ColumnEncoding.DICTIONARY:
        raise ValueError(f"{where}: DICTIONARY encoding is not supported")
    expected = default_encoding(column.data_type)
    if encoding != expected:
        raise ValueError(f"{where}: type {column.data_type.name} uses {expected.name} (or RLE), not {encoding.name}")
    return _plain_body(column, where)


def encode_tsblock(block: TsBlock, encodings: Sequence[ColumnEncoding | None] | None = None) -> bytes:
    """Serialize a block. ``encodings`` optionally gives one encoding per value column (None = the type's
    plain encoding; RLE only for a column whose rows all hold the same value). Misuse raises ValueError:
    it is a bug in the caller, not bad user input.
    """
    n_columns = block.column_count
    if encodings is None:
        encodings = [None] * n_columns
    if len(encodings) != n_columns:
        raise ValueError(f"got {len(encodings)} encodings for {n_columns} value columns")
    chosen = [
        default_encoding(column.data_type) if enc is None else ColumnEncoding(enc)
        for column, enc in zip(block.columns, encodings)
    ]
    parts = [
        struct.pack(">i", n_columns),
        bytes(int(column.data_type) for column in block.columns),
        struct.pack(">i", block.row_count),
        bytes([ColumnEncoding.INT64_ARRAY, *chosen]),
        b"\x00",
        np.ascontiguousarray(block.timestamps, dtype=">i8").tobytes(),
    ]
    for index, (column, encoding) in enumerate(zip(block.columns, chosen)):
        parts.append(_column_body(column, encoding, f"value column {index} ({column.data_type.name})"))
    return b"".join(parts)


def encode_values(values: np.ndarray, data_type: TSDataType = TSDataType.DOUBLE) -> bytes:
    """Encode model output [C, H] as the block the DataNode expects back: one value column per row of
    ``values``, H rows, time column of zeros (the DataNode makes the timestamps), no nulls (a NaN is sent
    as a value). ``data_type`` is DOUBLE or FLOAT (INT32 / INT64 are accepted too). A 1-D array is one column.
    """
    data_type = TSDataType(data_type)
    if data_type not in _WIRE_DTYPE or data_type in (TSDataType.DATE, TSDataType.TIMESTAMP):
        raise ValueError(f"encode_values writes DOUBLE, FLOAT, INT32 or INT64 columns, not {data_type.name}")
    matrix = np.asarray(values)
    if matrix.ndim == 1:
        matrix = matrix[None, :]
    if matrix.ndim != 2:
        raise ValueError(f"encode_values expects an array [columns, rows], got shape {matrix.shape}")
    n_columns, rows = matrix.shape
    wire = np.ascontiguousarray(matrix, dtype=_WIRE_DTYPE[data_type])
    # Build the value bodies in one array: a zero may-have-null byte, then the row's big-endian values.
    bodies = np.zeros((n_columns, 1 + rows * wire.dtype.itemsize), dtype=np.uint8)
    bodies[:, 1:] = wire.view(np.uint8).reshape(n_columns, -1)
    encoding = _ENCODING_OF[data_type]
    return b"".join(
        (
            struct.pack(">i", n_columns),
            bytes([data_type]) * n_columns,
            struct.pack(">i", rows),
            bytes([ColumnEncoding.INT64_ARRAY]) + bytes([encoding]) * n_columns,
            bytes(1 + 8 * rows),
            bodies.tobytes(),
        )
    )
