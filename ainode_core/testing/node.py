"""Start the real node (``ainode start``) as a subprocess in a given home, on a free port (tests, demo)."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

def make_home(root: Path, extra_config: str = "", name: str = "home") -> Path:
    home = root / name
    (home / "conf").mkdir(parents=True, exist_ok=True)
    (home / "conf" / "iotdb-ainode.properties").write_text(
        "ain_rpc_port=0\nain_fetch_builtin_weights=false\n" + textwrap.dedent(extra_config))
    return home


def make_site(root: Path, plugins: dict[str, str]) -> Path:
    """A folder of installed-looking plugin distributions: {module name: code}."""
    site = root / "site"
    site.mkdir(parents=True, exist_ok=True)
    for module, code in plugins.items():
        (site / f"{module}.py").write_text(textwrap.dedent(code))
        info = site / f"{module}-1.0.0.dist-info"
        info.mkdir(exist_ok=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module.replace('_', '-')}\nVersion: 1.0.0\n")
        (info / "entry_points.txt").write_text(f"[ainode.plugins]\n{module} = {module}\n")
    return site


class RunningNode:
    def __init__(self, home: Path, *, standalone: bool = True, site: Path | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.home = home
        # offline unless ``env`` says otherwise (HF_HUB_OFFLINE="0" with a fake HF_ENDPOINT, say)
        full_env = {**os.environ, "IOTDB_AINODE_HOME": str(home), "HF_HUB_OFFLINE": "1", **(env or {})}
        if site is not None:
            full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
        args = [sys.executable, "-m", "ainode_core.cli.main", "start"] + (["--standalone"] if standalone else [])
        self.log_path = home / "node-output.log"
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT, env=full_env)
        self.port = self._wait_for_port()

    def _wait_for_port(self, timeout: float = 120) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(r"ainode listening on [\d.]+:(\d+)", self.log_path.read_text())
            if match:
                return int(match.group(1))
            if self.process.poll() is not None:
                raise RuntimeError(f"node exited with {self.process.returncode}:\n{self.output()}")
            time.sleep(0.05)
        raise RuntimeError(f"node did not start:\n{self.output()}")

    def output(self) -> str:
        return self.log_path.read_text()

    def stop(self, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode
