"""Apache IoTDB's own AINode (Python, 2.0.x) serving ``forecast`` over Thrift, loaded exactly like bench/serve.py
loads ours, so the two can be put side by side.

    IOTDB_CLASSPATH_FILE=/work/iotdb-cp-all.txt .venv/bin/python bench/iotdb_side_by_side.py \\
        --apache-python /work/apache-ainode-venv/bin/python [--models naive_forecaster,arima,timer_xl] \\
        [--clients 1,8,32] [--seconds 6] [--ours] [--apache-load timer_xl] [--confignode real|double]

What it measures. One Apache AINode is started as a subprocess in a temp home (its own ``conf/
iotdb-ainode.properties``: free RPC port, ``ain_seed_config_node`` pointing at a ConfigNode started here). It
registers with that ConfigNode like in a cluster (by default the real IoTDB ConfigNode JVM, from
``IOTDB_CLASSPATH_FILE`` or Maven, see ainode_core/testing/iotdb_cluster.py; ``--confignode double`` uses the
Python double of tests/support/confignode.py instead). Then, per model: one probe request (its status is printed
when it is not 200), a 2-client warm-up load of 2 s (as bench/serve.py does; ``--cold`` skips it), and for each
client count ``bench.loadgen.run_load`` (each client its own process with one persistent connection sending the
same request back to back): requests/s, p50 and p99 latency, errors. Request: the series of bench/serve.py
(``make_series(...)[0]``: 512 points), horizon 96. Timer-XL gets random weights at the published size (84M,
``place_real_size_weights`` of bench/serve.py, HF layout with the official tensor names, which Apache's loader
reads with no missing or unexpected keys) in ``data/ainode/models/builtin/timer_xl``, so Apache does not try the
hub. ``--ours`` runs our node (``RunningNode``, standalone, default settings, like bench/serve.py) through the
same steps and prints ours/Apache per row. Everything started here (the node and its pool processes, the
ConfigNode JVM) is killed on the way out, also on failure or Ctrl-C.

Preparing the Apache venv (throw-away, outside the repo; reuses our torch 2.13.0 through a .pth, appended
AFTER the venv's own site-packages so Apache's pinned numpy/pandas/sktime/transformers win; never touches
.venv). The commands used (Apache's source at /work/iotdb-src, branch rc/2.0.10; versions from its
iotdb-core/ainode/pyproject.toml, torch excluded)::

    python3.11 -m venv /work/apache-ainode-venv
    V=/work/apache-ainode-venv; SP=$V/lib/python3.11/site-packages; SRC=/work/iotdb-src; P=$SRC/iotdb-protocol
    $V/bin/pip install "numpy>=2.0,<2.4.0" "pandas>=2.0,<2.4.0" "scipy>=1.12,<2" "scikit-learn>=1.7.1,<2" \\
        "statsmodels>=0.14.5,<0.15" sktime==0.40.1 pmdarima==2.1.1 hmmlearn==0.3.3 transformers==4.56.2 \\
        "tokenizers>=0.22.0,<=0.23.0" "huggingface_hub>=0.34.4,<0.35" "safetensors>=0.6.2,<0.7" \\
        "einops>=0.8.1,<0.9" "optuna>=4.4.0,<5" "psutil>=7.0.0,<8" "requests>=2.32.5,<3" "dynaconf>=3.2.11,<4" \\
        "thrift>=0.14.0" "tzlocal>=5.3.1,<6" "joblib>=1.4.2" jaxtyping
    $V/bin/pip install --no-deps "torchmetrics>=1.8.0,<2" "accelerate>=1.10.1,<2" lightning-utilities \\
        "rotary-embedding-torch>=0.8.0"          # these require torch: --no-deps, torch comes from our venv
    # the `iotdb` package as Apache's wheel lays it out: the Python client + the AINode + generated Thrift code
    # (apt-get install -y thrift-compiler if `thrift` is missing; 0.17.0 was used)
    GEN=$(mktemp -d)
    for f in thrift-commons/src/main/thrift/common.thrift thrift-confignode/src/main/thrift/confignode.thrift \\
             thrift-ainode/src/main/thrift/ainode.thrift thrift-datanode/src/main/thrift/client.thrift \\
             thrift-datanode/src/main/thrift/datanode.thrift; do
        thrift --gen py -out $GEN -I $P/thrift-commons/src/main/thrift -I $P/thrift-confignode/src/main/thrift \\
            -I $P/thrift-datanode/src/main/thrift -I $P/thrift-consensus/src/main/thrift $P/$f
    done
    cp -r $SRC/iotdb-client/client-py/iotdb $SP/iotdb
    cp -r $SRC/iotdb-core/ainode/iotdb/ainode $SP/iotdb/ainode
    cp -r $GEN/iotdb/thrift $SP/iotdb/thrift && rm -rf $GEN
    echo /work/main/.venv/lib/python3.11/site-packages > $SP/zz_reuse_main_venv.pth   # torch 2.13.0 from ours
    # check: the node imports (it writes ./logs), and torch 2.13.0+cu130, numpy 2.3.5, sktime 0.40.1 are the ones
    (cd "$(mktemp -d)" && $V/bin/python -c "import iotdb.ainode.core.ai_node")
    $V/bin/python -c "import torch, numpy, sktime; print(torch.__version__, numpy.__version__, sktime.__version__)"

Known differences between the two nodes, as measured here (read from Apache's sources, rc/2.0.10):

* Connections: Apache serves Thrift with ``TThreadPoolServer`` at its default of 10 threads, each holding one
  connection until the client closes it (the ConfigNode's pooled heartbeat client may keep one more). With more
  clients than free threads, the extra clients are connected (the listen backlog accepts them) but get no
  answer until others disconnect, i.e. until the window ends: they count neither as requests nor as errors.
* Model instances: Apache serves a model from an in-memory instance only after ``LOAD MODEL`` (a pool process
  with its own batching loop, polling every ``ain_inference_batch_interval_in_ms`` = 15 ms); without it, every
  request builds the pipeline anew, which for Timer-XL means reading the 84M weights from disk per request.
  ``--apache-load`` (default ``timer_xl``) names the models that get ``loadModel(cpu)`` first (waited for with
  ``showLoadedModels``, unloaded afterwards: Apache puts one pool per device); ``--apache-load ''`` measures
  Apache's default path. The sktime models (naive_forecaster, arima) are measured on the default path (no
  LOAD MODEL): Apache builds and fits a new sktime forecaster per request.
* Our node runs standalone (no ConfigNode, no heartbeats); Apache cannot, so it also answers the ConfigNode's
  heartbeats (every 10th samples the load with ``psutil.cpu_percent(interval=1)``, blocking a thread for 1 s).
* Apache uses its pinned numpy 2.3 / pandas 2.3 / sktime 0.40.1 / transformers 4.56.2 and our torch 2.13.0;
  ours uses its own venv (sktime 1.2.0, numpy 2.4, pandas 3.0). Both run on CPU here (the GPU is not used).
* Timer-XL weights are random: latency does not depend on the values, but the forecasts are meaningless. Both
  nodes load the same files and answer the same first forecast value (the probe line prints it), so they
  compute the same thing.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ainode_core.rpc.connection import connect  # noqa: E402
from ainode_core.rpc.gen.ainode import ttypes as t  # noqa: E402
from ainode_core.rpc.tsblock import decode_tsblock  # noqa: E402
from ainode_core.testing.iotdb_cluster import CONFIG_NODE_MAIN, IoTDBCluster, free_ports, iotdb_version, \
    resolve_classpath  # noqa: E402
from ainode_core.testing.node import RunningNode, make_home  # noqa: E402
from bench.loadgen import LoadResult, run_load  # noqa: E402
from bench.serve import (BARE_REQUESTS, HORIZON, make_series, payload_of, place_real_size_weights,  # noqa: E402
                         window_seconds)

CLUSTER_NAME = "defaultCluster"


# --- a ConfigNode for Apache's node to register with ------------------------------------------------------

class ConfigNodeOnly(IoTDBCluster):
    """The real IoTDB ConfigNode JVM alone (no DataNode: the AINode only registers and gets heartbeats)."""

    @classmethod
    def start_alone(cls, home: Path, timeout: float = 300) -> "ConfigNodeOnly":
        names = ["cn_internal", "cn_consensus", "dn_rpc", "dn_internal", "dn_mpp", "dn_schema", "dn_data"]
        node = cls(home=home, classpath=resolve_classpath(), version=iotdb_version(),
                   ports=dict(zip(names, free_ports(len(names)))))
        try:
            node._write_properties()
            node._launch(CONFIG_NODE_MAIN, "confignode")
            node._wait_for_port(node.ports["cn_internal"], timeout, "ConfigNode")
        except BaseException:
            node.stop()
            raise
        return node

    @property
    def endpoint(self) -> str:
        return self.config_node


class ConfigNodeDouble:
    """tests/support/confignode.py's double, in this process (``--confignode double``)."""

    def __init__(self) -> None:
        # by path: a `tests` package some dependency installs in site-packages shadows the repo's tests/
        spec = importlib.util.spec_from_file_location("_confignode_double", ROOT / "tests/support/confignode.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        self._double = module.FakeConfigNode(node_id=1, cluster_name=CLUSTER_NAME)
        self.endpoint = f"127.0.0.1:{self._double.port}"

    def stop(self) -> None:
        self._double.server.serverTransport.close()


# --- Apache's AINode as a subprocess -----------------------------------------------------------------------

class ApacheNode:
    def __init__(self, python: str, home: Path, config_node: str, timeout: float = 600) -> None:
        self.home = home
        self.port = free_ports(1)[0]
        (home / "conf").mkdir(parents=True, exist_ok=True)
        (home / "conf" / "iotdb-ainode.properties").write_text(
            f"cluster_name={CLUSTER_NAME}\nain_seed_config_node={config_node}\n"
            f"ain_rpc_address=127.0.0.1\nain_rpc_port={self.port}\n")
        env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env.update(IOTDB_AINODE_HOME=str(home), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
        self.log_path = home / "ainode-output.log"
        self._log = open(self.log_path, "wb")
        # Its own process group: stop() also ends the inference pool processes it spawns.
        self.process = subprocess.Popen([python, "-m", "iotdb.ainode.core.script", "start"], cwd=home, env=env,
                                        stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_for_port(timeout)

    def _wait_for_port(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Apache's AINode exited with {self.process.returncode}:\n{self.output_tail()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return
            time.sleep(0.5)
        raise RuntimeError(f"Apache's AINode did not listen on {self.port} within {timeout:.0f} s:\n"
                           f"{self.output_tail()}")

    def output_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def _signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)

    def stop(self, timeout: float = 20) -> None:
        if self.process.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        self._signal(signal.SIGKILL)  # the node if it hung, and whatever it spawned (pools, resource tracker)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(10)
        self._log.close()

    # LOAD MODEL / UNLOAD MODEL, as a DataNode sends them
    def _loaded_count(self, model: str) -> int:
        with connect("127.0.0.1", self.port) as client:
            answer = client.showLoadedModels(t.TShowLoadedModelsReq(deviceIdList=["cpu"]))
        return (answer.deviceLoadedModelsMap or {}).get("cpu", {}).get(model, 0)

    def load(self, model: str, timeout: float = 600) -> None:
        with connect("127.0.0.1", self.port) as client:
            status = client.loadModel(t.TLoadModelReq(existingModelId=model, deviceIdList=["cpu"]))
        if status.code != 200:
            raise RuntimeError(f"loadModel({model}) answered {status.code}: {status.message}")
        deadline = time.monotonic() + timeout
        while self._loaded_count(model) < 1:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"{model} was not loaded within {timeout:.0f} s:\n{self.output_tail()}")
            time.sleep(1)

    def unload(self, model: str, timeout: float = 120) -> None:
        with connect("127.0.0.1", self.port) as client:
            client.unloadModel(t.TUnloadModelReq(modelId=model, deviceIdList=["cpu"]))
        deadline = time.monotonic() + timeout
        while self._loaded_count(model) > 0 and time.monotonic() < deadline:
            time.sleep(1)


# --- measuring ----------------------------------------------------------------------------------------------

@dataclass
class Row:
    model: str
    clients: int
    result: LoadResult | None  # None: the model could not be measured on this node


def probe(port: int, model: str, payload: bytes) -> str:
    """One request; '' when it succeeded with a forecast, else what went wrong (printed, not raised)."""
    request = t.TForecastReq(modelId=model, inputData=payload, outputLength=HORIZON, options={})
    started = time.perf_counter()
    try:
        with connect("127.0.0.1", port) as client:
            answer = client.forecast(request)
    except Exception as exc:  # noqa: BLE001 - reported, the run goes on
        return f"{type(exc).__name__}: {exc}"
    took = (time.perf_counter() - started) * 1000
    if answer.status.code != 200:
        return f"status {answer.status.code}: {answer.status.message}"
    if not answer.forecastResult:
        return "status 200 but an empty forecastResult"
    try:
        block = decode_tsblock(answer.forecastResult[0])
        shape = f"{block.row_count} rows x {block.column_count} column(s), " \
                f"first {block.to_matrix()[0, 0]:.2f}"
    except Exception as exc:  # noqa: BLE001
        return f"status 200 but the TsBlock does not decode: {type(exc).__name__}: {exc}"
    print(f"    probe {model}: 200, {shape}, {took:.0f} ms (first request)", flush=True)
    return ""


def measure(name: str, port: int, model: str, payload: bytes, clients: list[int], seconds: float,
            cold: bool) -> list[Row]:
    problem = probe(port, model, payload)
    if problem:
        print(f"    {name} {model}: the probe request failed ({problem}); measuring anyway", flush=True)
    if not cold:
        run_load(port, model, payload, output_length=HORIZON, clients=2, seconds=2)  # warm up, as serve.py
    rows = []
    served = 0.0  # the last row's requests/s: sizes the next window (see bench/serve.py window_seconds)
    for count in clients:
        window = window_seconds(seconds, count, served) if served else seconds
        result = run_load(port, model, payload, output_length=HORIZON, clients=count, seconds=window)
        served = result.per_second
        print(f"    {name:>6} {model:>16} {count:7d} {result.per_second:8.1f} {result.p50_ms:8.1f} "
              f"{result.p99_ms:8.1f} {result.errors:6d}", flush=True)
        rows.append(Row(model, count, result))
    return rows


def copy_weights(root: Path, home: Path, models: list[str]) -> None:
    """``place_real_size_weights`` of bench/serve.py, built once under ``root`` and hard-linked into ``home``."""
    built = root / "weights"
    if not built.exists():
        place_real_size_weights(built, models)
    source = built / "data/ainode/models/builtin"
    if source.exists():
        shutil.copytree(source, home / "data/ainode/models/builtin", copy_function=os.link, dirs_exist_ok=True)


def run_apache(args: argparse.Namespace, root: Path, models: list[str], clients: list[int],
               payload: bytes) -> list[Row]:
    home = root / "apache"
    copy_weights(root, home, models)  # data/ainode/models/builtin/timer_xl: Apache's layout too
    to_load = {m for m in args.apache_load.split(",") if m}
    config_node = node = None
    rows: list[Row] = []
    try:
        print(f"starting a ConfigNode ({args.confignode}) ...", flush=True)
        config_node = (ConfigNodeOnly.start_alone(root / "confignode") if args.confignode == "real"
                       else ConfigNodeDouble())
        print(f"starting Apache's AINode ({args.apache_python}) ...", flush=True)
        started = time.monotonic()
        node = ApacheNode(args.apache_python, home, config_node.endpoint)
        print(f"  listening on {node.port} after {time.monotonic() - started:.0f} s", flush=True)
        for model in models:
            loaded = model in to_load
            if loaded:
                started = time.monotonic()
                node.load(model)
                print(f"  {model}: loaded on cpu (LOAD MODEL) in {time.monotonic() - started:.0f} s", flush=True)
            try:
                rows += measure("apache", node.port, model, payload, clients, args.seconds, args.cold)
            except Exception as exc:  # noqa: BLE001 - one model failing should not hide the others
                print(f"  apache {model}: failed: {type(exc).__name__}: {exc}", flush=True)
                rows += [Row(model, count, None) for count in clients]
            finally:
                if loaded and node.process.poll() is None:
                    node.unload(model)
    except BaseException:
        if node is not None:
            print(f"Apache's AINode output (tail):\n{node.output_tail()}", file=sys.stderr)
        raise
    finally:
        if node is not None:
            node.stop()
        if config_node is not None:
            config_node.stop()
    return rows


def run_ours(root: Path, models: list[str], clients: list[int], payload: bytes, seconds: float,
             cold: bool) -> list[Row]:
    home = make_home(root, "", name="ours")
    copy_weights(root, home, models)
    node = RunningNode(home)
    rows: list[Row] = []
    try:
        for model in models:
            rows += measure("ours", node.port, model, payload, clients, seconds, cold)
    finally:
        node.stop()
    return rows


def _figures(row: Row | None) -> str:
    if row is None or row.result is None:
        return f"{'-':>8} {'-':>8} {'-':>8} {'-':>6}"
    r = row.result
    return f"{r.per_second:8.1f} {r.p50_ms:8.1f} {r.p99_ms:8.1f} {r.errors:6d}"


def print_table(apache: list[Row], ours: list[Row] | None) -> None:
    print(f"\ncontext 512, horizon {HORIZON}; requests/s: the clients' steady rates summed (bench/loadgen.py), latencies in ms")
    header = f"{'model':>16} {'clients':>7} {'req/s':>8} {'p50':>8} {'p99':>8} {'errors':>6}"
    if ours is None:
        print(header)
        for row in apache:
            print(f"{row.model:>16} {row.clients:7d} {_figures(row)}")
        return
    mine = {(row.model, row.clients): row for row in ours}
    print(f"{'':>24} {'---------- Apache AINode ----------':>35}  {'------------- ours -------------':>33}")
    print(f"{header}  {'req/s':>8} {'p50':>8} {'p99':>8} {'errors':>6} {'ours/Apache req/s':>18} "
          f"{'p50 Apache/ours':>16}")
    for row in apache:
        other = mine.get((row.model, row.clients))
        ratio = p50_ratio = "-"
        if row.result and other and other.result:
            if row.result.per_second > 0:
                ratio = f"{other.result.per_second / row.result.per_second:.2f}"
            elif other.result.per_second > 0:
                ratio = "inf"
            if row.result.latencies_ms and other.result.latencies_ms:
                p50_ratio = f"{row.result.p50_ms / other.result.p50_ms:.2f}"
        print(f"{row.model:>16} {row.clients:7d} {_figures(row)}  {_figures(other)} {ratio:>18} {p50_ratio:>16}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--apache-python", required=True,
                        help="the python of the throw-away venv where Apache's AINode is installed")
    parser.add_argument("--models", default="naive_forecaster,arima,timer_xl")
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--seconds", type=float, default=6.0, help="measuring window per client count")
    parser.add_argument("--ours", action="store_true", help="also run our node the same way, print ours/Apache")
    parser.add_argument("--apache-load", default="timer_xl",
                        help="models to LOAD MODEL on cpu in Apache's node before measuring ('' for none)")
    parser.add_argument("--confignode", choices=["real", "double"], default="real",
                        help="the real IoTDB ConfigNode JVM (IOTDB_CLASSPATH_FILE or Maven), or the Python "
                             "double of tests/support/confignode.py")
    parser.add_argument("--cold", action="store_true", help="no 2-client warm-up load before each model")
    args = parser.parse_args()
    args.apache_python = os.path.abspath(args.apache_python)  # not resolve(): the venv's python is a symlink
    models = args.models.split(",")
    clients = [int(c) for c in args.clients.split(",")]
    payload = payload_of(make_series(BARE_REQUESTS)[0])

    # SIGTERM ends the run like Ctrl-C does, through the finally blocks that stop the nodes and the JVM.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    print(f"  {'node':>6} {'model':>16} {'clients':>7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}")
    with tempfile.TemporaryDirectory(prefix="iotdb-side-by-side-") as tmp:
        root = Path(tmp)
        apache = run_apache(args, root, models, clients, payload)
        ours = run_ours(root, models, clients, payload, args.seconds, args.cold) if args.ours else None
    print_table(apache, ours)


if __name__ == "__main__":
    main()
