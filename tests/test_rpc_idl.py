"""Our Thrift IDL and generated code: up to date, shaped as the contract says, and wire-compatible with IoTDB.

A real DataNode / ConfigNode cannot run here, so the peer is IoTDB's own generated code from the
``apache-iotdb`` package wherever it ships the types (common.thrift), and Thrift's plain protocols over
an in-memory transport for the full call path.
"""
from __future__ import annotations

import io
import shutil
import subprocess
import sys

import pytest
from iotdb.thrift.common import ttypes as iotdb_common
from iotdb.thrift.confignode import IConfigNodeRPCService as IoTDBConfigNodeService
from iotdb.thrift.confignode import ttypes as iotdb_confignode
from thrift.protocol import TBinaryProtocol, TCompactProtocol
from thrift.protocol.TProtocol import TProtocolException
from thrift.Thrift import TType
from thrift.transport import TTransport

from ainode_core.rpc import generate
from ainode_core.rpc.gen.ainode import IAINodeRPCService
from ainode_core.rpc.gen.ainode import ttypes as ours
from ainode_core.rpc.gen.common import ttypes as our_common
from ainode_core.rpc.tsblock import decode_tsblock, encode_values

PROTOCOLS = {
    # Plain (pure-python) protocols only: the accelerated one drops implicit-id (-1) arguments.
    "binary": TBinaryProtocol.TBinaryProtocolFactory(),
    "compact": TCompactProtocol.TCompactProtocolFactory(),
}


# --------------------------------------------------------------------------- the generated code is current


@pytest.mark.skipif(shutil.which("thrift") is None, reason="the Thrift compiler `thrift` is not on PATH")
def test_regenerating_from_the_idl_gives_the_committed_code():
    problems = generate.check()
    assert not problems, "gen/ differs from the IDL; run `python -m ainode_core.rpc.generate`:\n" + "\n".join(problems)
    cli = subprocess.run([sys.executable, "-m", "ainode_core.rpc.generate", "--check"], capture_output=True, text=True)
    assert cli.returncode == 0, cli.stderr


def test_check_reports_a_hand_edited_or_missing_file():
    committed = {
        p.relative_to(generate.GEN_DIR).as_posix(): p.read_bytes()
        for p in generate.GEN_DIR.rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert "ainode/ttypes.py" in committed and "common/ttypes.py" in committed
    edited = dict(committed, **{"ainode/ttypes.py": committed["ainode/ttypes.py"] + b"# hand edit\n"})
    del edited["common/constants.py"]
    problems = generate.compare(committed, edited)
    assert any("ainode/ttypes.py" in p and "differs" in p for p in problems)
    assert any("common/constants.py" in p and "missing" in p for p in problems)
    assert generate.compare(committed, dict(committed)) == []


# --------------------------------------------------------------------------- shapes, per the contract


def _render(ttype: int, args) -> str:
    if ttype == TType.STRING:
        return "string" if args == "UTF8" else "binary"
    if ttype == TType.STRUCT:
        return args[0].__name__
    if ttype == TType.LIST:
        return f"list<{_render(args[0], args[1])}>"
    if ttype == TType.MAP:
        return f"map<{_render(args[0], args[1])},{_render(args[2], args[3])}>"
    return {TType.BOOL: "bool", TType.BYTE: "byte", TType.I32: "i32", TType.I64: "i64", TType.DOUBLE: "double"}[ttype]


def _dummy(ttype: int, args):
    if ttype == TType.STRUCT:
        return args[0]()
    return {TType.STRING: "x", TType.BOOL: True, TType.BYTE: 1, TType.I32: 1, TType.I64: 1,
            TType.DOUBLE: 1.0, TType.LIST: [], TType.MAP: {}}[ttype]


def _shape(cls) -> list[tuple[int, str, str, str]]:
    """(id, name, type, req|opt) per field, requiredness read off the generated validate()."""
    fields = [f for f in cls.thrift_spec if f is not None]
    shape = []
    for fid, ttype, name, args, _ in fields:
        instance = cls(**{other[2]: _dummy(other[1], other[3]) for other in fields if other[2] != name})
        try:
            instance.validate()
            required = "opt"
        except TProtocolException:
            required = "req"
        shape.append((fid, name, _render(ttype, args), required))
    return shape


# From the contract, section 2 (field id, name, type, required/optional).
CONTRACT_STRUCTS = {
    "TAIHeartbeatReq": [(1, "heartbeatTimestamp", "i64", "req"), (2, "needSamplingLoad", "bool", "req"),
                        (3, "activated", "bool", "opt")],
    "TAIHeartbeatResp": [(1, "heartbeatTimestamp", "i64", "req"), (2, "status", "string", "req"),
                         (3, "statusReason", "string", "opt"), (4, "loadSample", "TLoadSample", "opt"),
                         (5, "activateStatus", "string", "opt")],
    "TShowModelsReq": [(1, "modelId", "string", "opt")],
    "TShowModelsResp": [(1, "status", "TSStatus", "req"), (2, "modelIdList", "list<string>", "opt"),
                        (3, "modelTypeMap", "map<string,string>", "opt"),
                        (4, "categoryMap", "map<string,string>", "opt"),
                        (5, "stateMap", "map<string,string>", "opt"),
                        # ainode extension at an id no IoTDB IDL uses: a DataNode's reader skips it
                        (100, "reasonMap", "map<string,string>", "opt"),
                        (101, "taskMap", "map<string,string>", "opt")],
    "TShowLoadedModelsReq": [(1, "deviceIdList", "list<string>", "req")],
    "TShowLoadedModelsResp": [(1, "status", "TSStatus", "req"),
                              (2, "deviceLoadedModelsMap", "map<string,map<string,i32>>", "req")],
    "TShowAIDevicesResp": [(1, "status", "TSStatus", "req"), (2, "deviceIdMap", "map<string,string>", "req")],
    "TDeleteModelReq": [(1, "modelId", "string", "req")],
    "TRegisterModelReq": [(1, "modelId", "string", "req"), (2, "uri", "string", "req")],
    "TConfigs": [(1, "input_shape", "list<i32>", "req"), (2, "output_shape", "list<i32>", "req"),
                 (3, "input_type", "list<byte>", "req"), (4, "output_type", "list<byte>", "req")],
    "TRegisterModelResp": [(1, "status", "TSStatus", "req"), (2, "configs", "TConfigs", "opt"),
                           (3, "attributes", "string", "opt")],
    "TLoadModelReq": [(1, "existingModelId", "string", "req"), (2, "deviceIdList", "list<string>", "req")],
    "TUnloadModelReq": [(1, "modelId", "string", "req"), (2, "deviceIdList", "list<string>", "req")],
    "TInferenceReq": [(1, "modelId", "string", "req"), (2, "dataset", "binary", "req"),
                      (3, "inferenceAttributes", "map<string,string>", "opt")],
    "TInferenceResp": [(1, "status", "TSStatus", "req"), (2, "inferenceResult", "list<binary>", "opt")],
    "TForecastReq": [(1, "modelId", "string", "req"), (2, "inputData", "binary", "req"),
                     (3, "outputLength", "i32", "req"), (4, "historyCovs", "string", "opt"),
                     (5, "futureCovs", "string", "opt"), (6, "autoAdapt", "bool", "opt"),
                     (7, "options", "map<string,string>", "opt")],
    "TForecastResp": [(1, "status", "TSStatus", "req"), (2, "forecastResult", "list<binary>", "opt")],
    "TClassifyReq": [(1, "modelId", "string", "req"), (2, "inputData", "binary", "req"),
                     (3, "options", "map<string,string>", "opt")],
    "TClassifyResp": [(1, "status", "TSStatus", "req"), (2, "classifyResult", "list<binary>", "opt")],
    "IDataSchema": [(1, "schemaName", "string", "req"), (2, "timeRange", "list<i64>", "opt")],
    "TTuningReq": [(1, "dbType", "string", "req"), (2, "modelId", "string", "req"),
                   (3, "existingModelId", "string", "req"), (4, "targetDataSchema", "list<IDataSchema>", "opt"),
                   (5, "parameters", "map<string,string>", "opt")],
}

# method -> (request struct or None, response struct), from the contract's table (+ classify, method 13).
CONTRACT_METHODS = {
    "stopAINode": (None, "TSStatus"),
    "getAIHeartbeat": ("TAIHeartbeatReq", "TAIHeartbeatResp"),
    "showAIDevices": (None, "TShowAIDevicesResp"),
    "showModels": ("TShowModelsReq", "TShowModelsResp"),
    "showLoadedModels": ("TShowLoadedModelsReq", "TShowLoadedModelsResp"),
    "deleteModel": ("TDeleteModelReq", "TSStatus"),
    "registerModel": ("TRegisterModelReq", "TRegisterModelResp"),
    "loadModel": ("TLoadModelReq", "TSStatus"),
    "unloadModel": ("TUnloadModelReq", "TSStatus"),
    "inference": ("TInferenceReq", "TInferenceResp"),
    "forecast": ("TForecastReq", "TForecastResp"),
    "createTuningTask": ("TTuningReq", "TSStatus"),
    "classify": ("TClassifyReq", "TClassifyResp"),
}


@pytest.mark.parametrize("name", CONTRACT_STRUCTS)
def test_struct_fields_match_the_contract(name):
    assert _shape(getattr(ours, name)) == CONTRACT_STRUCTS[name]


@pytest.mark.parametrize("name", ["TSStatus", "TEndPoint", "TLoadSample"])
def test_shared_types_have_iotdb_fields_ids_types_and_requiredness(name):
    assert _shape(getattr(our_common, name)) == _shape(getattr(iotdb_common, name))


def test_service_has_exactly_the_contract_methods_with_implicit_id_arguments():
    service = IAINodeRPCService
    methods = {m for m in vars(service.Iface) if not m.startswith("_")}
    assert methods == set(CONTRACT_METHODS)
    for method, (request, response) in CONTRACT_METHODS.items():
        args_cls = getattr(service, f"{method}_args")
        # An implicit (-1) id has no slot in thrift_spec: the spec is empty, the field is written as -1.
        assert args_cls.thrift_spec == (), method
        assert list(vars(args_cls())) == ([] if request is None else ["req"]), method
        (success,) = getattr(service, f"{method}_result").thrift_spec
        assert success[:3] == (0, TType.STRUCT, "success") and success[3][0].__name__ == response, method


# --------------------------------------------------------------------------- bytes against IoTDB's types


def _rich_status(module):
    inner = module.TSStatus(code=1504, message="Model [x] is not registered yet.")
    return module.TSStatus(
        code=400,
        message="redirect: ünïcode",
        subStatus=[inner, module.TSStatus(code=200)],
        redirectNode=module.TEndPoint(ip="10.0.0.7", port=10710),
        needRetry=True,
        responseData=b"\x00\x01\xffraw",
    )


SHARED_VALUES = {
    "TSStatus": _rich_status,
    "TEndPoint": lambda m: m.TEndPoint(ip="127.0.0.1", port=10810),
    "TLoadSample": lambda m: m.TLoadSample(cpuUsageRate=12.5, memoryUsageRate=40.25, diskUsageRate=3.0,
                                           freeDiskSpace=512.75),
}


def _to_bytes(struct_obj, factory) -> bytes:
    buffer = TTransport.TMemoryBuffer()
    struct_obj.write(factory.getProtocol(buffer))
    return buffer.getvalue()


def _from_bytes(cls, data: bytes, factory):
    obj = cls()
    obj.read(factory.getProtocol(TTransport.TMemoryBuffer(data)))
    return obj


def _plain(obj):
    """A struct as nested dicts, so structs of two generated modules can be compared."""
    if hasattr(obj, "thrift_spec"):
        return {k: _plain(v) for k, v in vars(obj).items()}
    if isinstance(obj, list):
        return [_plain(v) for v in obj]
    return obj


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("name", SHARED_VALUES)
def test_shared_types_are_byte_compatible_with_iotdb(name, protocol):
    factory = PROTOCOLS[protocol]
    our_obj, their_obj = SHARED_VALUES[name](our_common), SHARED_VALUES[name](iotdb_common)
    our_bytes = _to_bytes(our_obj, factory)
    assert our_bytes == _to_bytes(their_obj, factory)
    # ours -> IoTDB's reader, and IoTDB's bytes -> our reader
    assert _plain(_from_bytes(getattr(iotdb_common, name), our_bytes, factory)) == _plain(our_obj)
    assert _plain(_from_bytes(getattr(our_common, name), _to_bytes(their_obj, factory), factory)) == _plain(our_obj)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_heartbeat_load_sample_reads_as_iotdb_tloadsample(protocol):
    """The ConfigNode reads our heartbeat's loadSample with IoTDB's TLoadSample: embed it and read it back."""
    factory = PROTOCOLS[protocol]
    sample = SHARED_VALUES["TLoadSample"](our_common)
    resp = ours.TAIHeartbeatResp(heartbeatTimestamp=99, status="Running", loadSample=sample)
    data = _to_bytes(resp, factory)
    # Walk to field 4 with a plain protocol and hand the rest to IoTDB's generated reader.
    proto = factory.getProtocol(TTransport.TMemoryBuffer(data))
    proto.readStructBegin()
    while True:
        _, ftype, fid = proto.readFieldBegin()
        assert ftype != TType.STOP, "loadSample not found"
        if fid == 4:
            theirs = iotdb_common.TLoadSample()
            theirs.read(proto)
            break
        proto.skip(ftype)
        proto.readFieldEnd()
    assert _plain(theirs) == _plain(sample)


# --------------------------------------------------------------------------- a full call, in memory


def _requests():
    dataset = encode_values([[1.0, 2.0, 3.0]])
    return {
        "stopAINode": None,
        "getAIHeartbeat": ours.TAIHeartbeatReq(heartbeatTimestamp=1_700_000_000_123, needSamplingLoad=True,
                                               activated=False),
        "showAIDevices": None,
        "showModels": ours.TShowModelsReq(modelId="sundial"),
        "showLoadedModels": ours.TShowLoadedModelsReq(deviceIdList=["cpu", "0"]),
        "deleteModel": ours.TDeleteModelReq(modelId="my_model"),
        "registerModel": ours.TRegisterModelReq(modelId="my_model", uri="file:///models/my_model"),
        "loadModel": ours.TLoadModelReq(existingModelId="timer_xl", deviceIdList=["cpu", "0"]),
        "unloadModel": ours.TUnloadModelReq(modelId="timer_xl", deviceIdList=["0"]),
        "inference": ours.TInferenceReq(modelId="arima", dataset=dataset, inferenceAttributes={"outputLength": "4"}),
        "forecast": ours.TForecastReq(modelId="chronos2", inputData=dataset, outputLength=4, historyCovs="h",
                                      futureCovs="f", autoAdapt=True, options={"num_samples": "5"}),
        "createTuningTask": ours.TTuningReq(
            dbType="iotdb.table", modelId="tuned", existingModelId="sundial",
            targetDataSchema=[ours.IDataSchema(schemaName="select s0 from t", timeRange=[0, 1000])],
            parameters={"train_epochs": "1"}),
        "classify": ours.TClassifyReq(modelId="clf", inputData=dataset, options={"k": "v"}),
    }


def _responses():
    ok = our_common.TSStatus(code=200)
    out = [encode_values([[4.0, 5.0, 6.0, 7.0]])]
    return {
        "stopAINode": ok,
        "getAIHeartbeat": ours.TAIHeartbeatResp(heartbeatTimestamp=1_700_000_000_123, status="Running",
                                                loadSample=SHARED_VALUES["TLoadSample"](our_common)),
        "showAIDevices": ours.TShowAIDevicesResp(status=ok, deviceIdMap={"cpu": "cpu", "0": "cuda"}),
        "showModels": ours.TShowModelsResp(status=ok, modelIdList=["sundial"], modelTypeMap={"sundial": "sundial"},
                                           categoryMap={"sundial": "builtin"}, stateMap={"sundial": "active"},
                                           reasonMap={"sundial": "fetching weights"}),
        "showLoadedModels": ours.TShowLoadedModelsResp(status=ok, deviceLoadedModelsMap={"cpu": {"sundial": 2}}),
        "deleteModel": our_common.TSStatus(code=1506, message="Cannot delete built-in model: sundial"),
        "registerModel": ours.TRegisterModelResp(status=ok),
        "loadModel": ok,
        "unloadModel": ok,
        "inference": ours.TInferenceResp(status=ok, inferenceResult=out),
        "forecast": ours.TForecastResp(status=ok, forecastResult=out),
        "createTuningTask": ok,
        "classify": ours.TClassifyResp(status=ok, classifyResult=out),
    }


class RecordingHandler:
    """Answers every method with a prepared response and records the argument the processor handed it."""

    def __init__(self, responses):
        self.responses = responses
        self.received: dict[str, object] = {}

    def __getattr__(self, method):
        if method not in CONTRACT_METHODS:
            raise AttributeError(method)

        def call(*args):
            self.received[method] = args
            return self.responses[method]

        return call


class LoopbackTransport(TTransport.TTransportBase):
    """Client side of an in-memory server: flush() hands the request bytes to the processor, the
    reply becomes readable. With ``framed`` both sides speak the framed transport, like the real server."""

    def __init__(self, processor, factory, framed: bool):
        self.processor, self.factory, self.framed = processor, factory, framed
        self.requests: list[bytes] = []
        self._out = io.BytesIO()
        self._in = io.BytesIO()

    def isOpen(self):
        return True

    def write(self, buf):
        self._out.write(buf)

    def read(self, sz):
        return self._in.read(sz)

    def flush(self):
        request, self._out = self._out.getvalue(), io.BytesIO()
        self.requests.append(request)
        itrans, reply = TTransport.TMemoryBuffer(request), TTransport.TMemoryBuffer()
        otrans = reply
        if self.framed:
            itrans, otrans = TTransport.TFramedTransport(itrans), TTransport.TFramedTransport(reply)
        self.processor.process(self.factory.getProtocol(itrans), self.factory.getProtocol(otrans))
        self._in = io.BytesIO(reply.getvalue())


def _message_argument_id(data: bytes, factory, framed: bool):
    """(method name, field id of the first argument) as written on the wire."""
    trans = TTransport.TMemoryBuffer(data)
    proto = factory.getProtocol(TTransport.TFramedTransport(trans) if framed else trans)
    name, _, _ = proto.readMessageBegin()
    proto.readStructBegin()
    _, ftype, fid = proto.readFieldBegin()
    return name, (None if ftype == TType.STOP else fid)


@pytest.mark.parametrize("framed", [False, True], ids=["unframed", "framed"])
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_every_method_round_trips_and_the_handler_gets_its_argument(protocol, framed):
    factory = PROTOCOLS[protocol]
    requests, responses = _requests(), _responses()
    handler = RecordingHandler(responses)
    loop = LoopbackTransport(IAINodeRPCService.Processor(handler), factory, framed)
    client_trans = TTransport.TFramedTransport(loop) if framed else loop
    client = IAINodeRPCService.Client(factory.getProtocol(client_trans))

    for method in CONTRACT_METHODS:
        request = requests[method]
        reply = getattr(client, method)() if request is None else getattr(client, method)(request)
        assert _plain(reply) == _plain(responses[method]), method
        if request is None:
            assert handler.received[method] == (), method
            assert _message_argument_id(loop.requests[-1], factory, framed) == (method, None)
        else:
            (received,) = handler.received[method]
            assert received is not None, f"{method}: the handler got None (implicit-id argument dropped)"
            assert _plain(received) == _plain(request), method
            # IoTDB's convention: the argument travels with the implicit field id -1.
            assert _message_argument_id(loop.requests[-1], factory, framed) == (method, -1)

    # The TsBlock payload survives the trip on both legs.
    forecast_req = handler.received["forecast"][0]
    assert decode_tsblock(forecast_req.inputData).to_matrix().tolist() == [[1.0, 2.0, 3.0]]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_iotdb_generated_clients_write_arguments_the_same_way(protocol):
    """IoTDB's own generated client (here the ConfigNode one, AINode registration) writes its request with
    the implicit id -1 too: the same shape our processor reads."""
    factory = PROTOCOLS[protocol]
    buffer = TTransport.TMemoryBuffer()
    client = IoTDBConfigNodeService.Client(factory.getProtocol(buffer))
    client.send_removeAINode(iotdb_confignode.TAINodeRemoveReq(
        aiNodeLocation=iotdb_common.TAINodeLocation(aiNodeId=1, internalEndPoint=iotdb_common.TEndPoint("h", 1))))
    assert _message_argument_id(buffer.getvalue(), factory, framed=False) == ("removeAINode", -1)
