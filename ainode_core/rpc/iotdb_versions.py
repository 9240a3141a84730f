"""Wire differences between the IoTDB DataNode versions this node serves (2.0.8 and later).

IoTDB 2.0.8 sends ``TForecastReq.options`` (FORECAST's ``model_options``) as a map at field 6; 2.0.10 put
``autoAdapt`` (a bool) at 6 and moved the map to 7. One IDL cannot declare both, and Thrift skips a field
whose type does not match, so a 2.0.8 DataNode's options would be silently dropped. Reading field 6 as the
options whenever it arrives as a map keeps both versions whole.
"""
from __future__ import annotations

from typing import Any

from thrift.Thrift import TType

from ainode_core.rpc.gen.ainode import ttypes

OPTIONS_FIELD_OF_2_0_8 = 6
OPTIONS_FIELD = 7


def _read_forecast_req(self: ttypes.TForecastReq, iprot: Any, _generated=ttypes.TForecastReq.read) -> None:
    field_begin = iprot.readFieldBegin

    def renumbered() -> tuple[Any, int, int]:
        name, field_type, field_id = field_begin()
        if field_id == OPTIONS_FIELD_OF_2_0_8 and field_type == TType.MAP:
            return name, field_type, OPTIONS_FIELD
        return name, field_type, field_id

    iprot.readFieldBegin = renumbered  # only while this struct is read: it holds no nested structs
    try:
        _generated(self, iprot)
    finally:
        del iprot.readFieldBegin


def accept_all_forecast_request_versions() -> None:
    """Install the reader once (the server's protocols are the plain ones, which call ``read``)."""
    if ttypes.TForecastReq.read is not _read_forecast_req:
        ttypes.TForecastReq.read = _read_forecast_req
