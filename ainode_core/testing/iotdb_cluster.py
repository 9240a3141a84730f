"""A real Apache IoTDB cluster (1 ConfigNode + 1 DataNode) in a temp folder, for tests and demos.

The jars come from Maven Central through ``cluster/pom.xml`` (``org.apache.iotdb:iotdb-confignode`` and
``iotdb-server``, cached in Maven's local repository); ``IOTDB_VERSION`` picks the version. Where they cannot
be fetched, ``IOTDB_CLASSPATH_FILE`` may name a file holding a ready classpath (for instance of an IoTDB built
from source). The cluster is written the way IoTDB's own integration tests run one: ``conf/
iotdb-system.properties`` in a temp home (replication 1, SimpleConsensus, free ports), small heaps, both
main classes started with ``-s`` and their home/conf folders as ``-D`` properties. :meth:`IoTDBCluster.stop`
ends both JVMs (SIGTERM, then SIGKILL), also when a test failed; so does leaving the ``with`` block.

    with IoTDBCluster.start(tmp_path) as cluster:
        with cluster.tree_session() as session: ...

``python -m ainode_core.testing.iotdb_cluster --help`` runs the same cluster by hand.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

DEFAULT_VERSION = "2.0.10"
POM = Path(__file__).resolve().parents[2] / "cluster" / "pom.xml"
# What IoTDB's own tests give each node. (A DataNode frees a FORECAST's query memory a little after the query
# ends; back-to-back FORECASTs can meet 719 "not enough memory" at any heap size: callers retry that.)
HEAP = ["-Xms256m", "-Xmx256m", "-XX:MaxDirectMemorySize=256m"]
# IoTDB's start scripts open these packages on Java 9+.
ADD_OPENS = [f"--add-opens=java.base/{package}=ALL-UNNAMED"
             for package in ("java.util.concurrent", "java.lang", "java.util", "java.nio", "java.io", "java.net")]
CONFIG_NODE_MAIN = "org.apache.iotdb.confignode.service.ConfigNode"
DATA_NODE_MAIN = "org.apache.iotdb.db.service.DataNode"


class ClusterUnavailable(RuntimeError):
    """IoTDB cannot run here (no java/mvn, jars not fetchable): the message says which and why."""


class ClusterStartError(RuntimeError):
    """IoTDB was there but did not come up; the message holds the tail of its log."""


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for probe in sockets:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in sockets]
    finally:
        for probe in sockets:
            probe.close()


def iotdb_version() -> str:
    return os.environ.get("IOTDB_VERSION", DEFAULT_VERSION)


def resolve_classpath(version: str | None = None, cache_dir: Path | None = None) -> str:
    """The ConfigNode + DataNode classpath: ``IOTDB_CLASSPATH_FILE``, else Maven (jars cached in ~/.m2)."""
    given = os.environ.get("IOTDB_CLASSPATH_FILE")
    if given:
        return Path(given).read_text().strip()
    version = version or iotdb_version()
    for tool in ("java", "mvn"):
        if shutil.which(tool) is None:
            raise ClusterUnavailable(f"`{tool}` is not on PATH; IoTDB {version} needs Java 17 and Maven")
    cache_dir = cache_dir or Path(os.environ.get("AINODE_IOTDB_CACHE", Path.home() / ".cache" / "ainode-iotdb"))
    cache_dir.mkdir(parents=True, exist_ok=True)
    output = cache_dir / f"classpath-{version}.txt"
    if output.exists() and all(Path(jar).exists() for jar in output.read_text().split(os.pathsep) if jar):
        return output.read_text().strip()
    command = ["mvn", "-q", "-B", "-Dstyle.color=never", "-f", str(POM), f"-Diotdb.version={version}",
               "dependency:build-classpath", f"-Dmdep.outputFile={output}"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    if result.returncode != 0 or not output.exists():
        raise ClusterUnavailable(f"Maven could not fetch Apache IoTDB {version}: {_maven_reason(result)}")
    return output.read_text().strip()


def _maven_reason(result: subprocess.CompletedProcess) -> str:
    """The one line of Maven's output that says what is missing."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)
    found = re.search(r"(\S+:\S+:\S+:\S+) (?:was not found|could not be resolved)[^\n]*?(?= during|\.? -> |$)", text, re.M) or \
        re.search(r"Could not (?:find|transfer) artifact [^:]*\S+[^\n]*?(?= in |$)", text)
    if found:
        return found.group(0).strip()
    errors = [line for line in text.splitlines() if "ERROR" in line]
    return (errors[0] if errors else text.strip()[-300:]).strip()


@dataclass
class IoTDBCluster:
    home: Path
    classpath: str
    version: str
    ports: dict[str, int]
    extra_properties: dict[str, Any] = field(default_factory=dict)
    processes: list[subprocess.Popen] = field(default_factory=list)

    # --- starting ------------------------------------------------------------------------------------

    @classmethod
    def start(cls, home: Path | None = None, *, version: str | None = None, timeout: float = 240,
              properties: dict[str, Any] | None = None) -> "IoTDBCluster":
        """Start the cluster; ``properties`` adds to (or overrides) the written iotdb-system.properties."""
        version = version or iotdb_version()
        classpath = resolve_classpath(version)
        home = Path(home or tempfile.mkdtemp(prefix="iotdb-"))
        names = ["cn_internal", "cn_consensus", "dn_rpc", "dn_internal", "dn_mpp", "dn_schema", "dn_data"]
        cluster = cls(home=home, classpath=classpath, version=version, ports=dict(zip(names, free_ports(len(names)))),
                      extra_properties=dict(properties or {}))
        try:
            cluster._write_properties()
            cluster._launch(CONFIG_NODE_MAIN, "confignode")
            cluster._wait_for_port(cluster.ports["cn_internal"], timeout, "ConfigNode")
            cluster._launch(DATA_NODE_MAIN, "datanode")
            cluster._wait_for_sql(timeout)
        except BaseException:
            cluster.stop()
            raise
        return cluster

    @property
    def config_node(self) -> str:
        return f"127.0.0.1:{self.ports['cn_internal']}"

    @property
    def rpc_port(self) -> int:
        return self.ports["dn_rpc"]

    @property
    def compressed(self) -> bool:
        """Whether the DataNode speaks Thrift's compact protocol (to clients and to the AINode)."""
        return str(self.extra_properties.get("dn_rpc_thrift_compression_enable", "false")).lower() == "true"

    def _write_properties(self) -> None:
        conf = self.home / "conf"
        conf.mkdir(parents=True, exist_ok=True)
        simple = "org.apache.iotdb.consensus.simple.SimpleConsensus"
        data = self.home / "data"
        properties = {
            "cluster_name": "defaultCluster",
            "cn_internal_address": "127.0.0.1", "cn_internal_port": self.ports["cn_internal"],
            "cn_consensus_port": self.ports["cn_consensus"], "cn_seed_config_node": self.config_node,
            "dn_rpc_address": "127.0.0.1", "dn_rpc_port": self.ports["dn_rpc"],
            "dn_internal_address": "127.0.0.1", "dn_internal_port": self.ports["dn_internal"],
            "dn_mpp_data_exchange_port": self.ports["dn_mpp"],
            "dn_schema_region_consensus_port": self.ports["dn_schema"],
            "dn_data_region_consensus_port": self.ports["dn_data"], "dn_seed_config_node": self.config_node,
            "schema_replication_factor": 1, "data_replication_factor": 1,
            "config_node_consensus_protocol_class": simple, "schema_region_consensus_protocol_class": simple,
            "data_region_consensus_protocol_class": simple,
            "cn_system_dir": data / "confignode/system", "cn_consensus_dir": data / "confignode/consensus",
            "cn_pipe_receiver_file_dir": data / "confignode/system/pipe/receiver",
            "dn_system_dir": data / "datanode/system", "dn_data_dirs": data / "datanode/data",
            "dn_consensus_dir": data / "datanode/consensus", "dn_wal_dirs": data / "datanode/wal",
            "dn_tracing_dir": data / "datanode/tracing", "dn_sync_dir": data / "datanode/sync",
            "trusted_uri_pattern": ".*",  # CREATE MODEL ... USING URI reads temp folders in the tests
        }
        properties.update(self.extra_properties)
        text = "".join(f"{key}={value}\n" for key, value in properties.items())
        (conf / "iotdb-system.properties").write_text(text)

    def _launch(self, main_class: str, name: str) -> None:
        conf = self.home / "conf"
        homes = ([f"-DCONFIGNODE_HOME={self.home}", f"-DCONFIGNODE_CONF={conf}"] if name == "confignode" else [])
        command = ["java", *ADD_OPENS, *HEAP, "-Duser.timezone=UTC", "-Dfile.encoding=UTF-8", *homes,
                   f"-DIOTDB_HOME={self.home}", f"-DIOTDB_CONF={conf}", f"-DTSFILE_HOME={self.home}",
                   f"-DTSFILE_CONF={conf}", "-cp", self.classpath, main_class, "-s"]
        log = (self.home / f"{name}.log").open("ab")
        # Its own process group: stop() ends the JVM and anything it started, and a Ctrl-C in the test
        # runner's terminal does not leave it half-stopped.
        self.processes.append(subprocess.Popen(command, cwd=self.home, stdout=log, stderr=subprocess.STDOUT,
                                               start_new_session=True))

    def _check_alive(self) -> None:
        for process, name in zip(self.processes, ("confignode", "datanode")):
            if process.poll() is not None:
                raise ClusterStartError(f"IoTDB {self.version} {name} exited with {process.returncode}:\n"
                                        + self.log_tail(name))

    def _wait_for_port(self, port: int, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                return
            time.sleep(0.5)
        raise ClusterStartError(f"IoTDB {what} did not listen on {port} within {timeout:.0f} s:\n"
                                + self.log_tail("confignode"))

    def _wait_for_sql(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        problem = ""
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                rows = self.query("show cluster")
                if any(row[1] == "DataNode" and row[2] == "Running" for row in rows):
                    return
                problem = f"show cluster: {rows}"
            except Exception as exc:  # not up yet
                problem = f"{type(exc).__name__}: {exc}"
            time.sleep(1)
        raise ClusterStartError(f"IoTDB did not answer SQL within {timeout:.0f} s ({problem}):\n"
                                + self.log_tail("datanode"))

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.home / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    # --- using ---------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def tree_session(self) -> Iterator[Any]:
        from iotdb.Session import Session

        session = Session("127.0.0.1", self.rpc_port, "root", "root", zone_id="UTC")
        session.open(self.compressed)
        try:
            yield session
        finally:
            session.close()

    @contextlib.contextmanager
    def table_session(self, database: str | None = None) -> Iterator[Any]:
        from iotdb.table_session import TableSession, TableSessionConfig

        session = TableSession(TableSessionConfig(node_urls=[f"127.0.0.1:{self.rpc_port}"], username="root",
                                                  password="root", database=database, time_zone="UTC",
                                                  enable_compression=self.compressed))
        try:
            yield session
        finally:
            session.close()

    def query(self, sql: str) -> list[list[Any]]:
        """Rows of a tree-model query, each a list of field values (time first when the result has one)."""
        with self.tree_session() as session:
            return rows_of(session.execute_query_statement(sql))

    # --- stopping ------------------------------------------------------------------------------------

    def stop(self) -> None:
        """DataNode first, then the ConfigNode; SIGTERM, then SIGKILL after 20 s. Safe to call twice."""
        for process in reversed(self.processes):
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)
        self.processes.clear()

    def __enter__(self) -> "IoTDBCluster":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def rows_of(data_set: Any) -> list[list[Any]]:
    """All rows of an apache-iotdb ``SessionDataSet`` as lists of Python values, in the order of
    ``get_column_names()`` (the time first where the result has a time column)."""
    width = len(data_set.get_column_names())
    rows = []
    try:
        while data_set.has_next():
            record = data_set.next()
            fields = [_python(f.get_object_value(f.get_data_type())) if f.get_data_type() is not None else None
                      for f in record.get_fields()]
            rows.append([record.get_timestamp(), *fields] if len(fields) < width else fields)
    finally:
        data_set.close_operation_handle()
    return rows


def _python(value: Any) -> Any:
    """numpy scalars as plain Python values (rows compare and print as users expect)."""
    return value.item() if hasattr(value, "item") else value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run a 1C1D Apache IoTDB cluster in a temp folder until Ctrl-C.")
    parser.add_argument("--version", default=iotdb_version(), help=f"IoTDB version (default {DEFAULT_VERSION})")
    parser.add_argument("--home", type=Path, help="folder for the cluster (default: a new temp folder)")
    args = parser.parse_args(argv)
    try:
        cluster = IoTDBCluster.start(args.home, version=args.version)
    except (ClusterUnavailable, ClusterStartError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"IoTDB {cluster.version} running in {cluster.home}: SQL on 127.0.0.1:{cluster.rpc_port}, "
          f"ConfigNode {cluster.config_node} (ain_seed_config_node). Ctrl-C stops it.", flush=True)
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
