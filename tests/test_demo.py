"""The README's main command: `ainode demo` starts a standalone node, forecasts the bundled airline data and
writes the plot (the data file must ship with the package: this is what a fresh clone runs)."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from PIL import Image


def test_demo_prints_the_forecast_table_and_writes_the_plot(tmp_path):
    plot = tmp_path / "demo.png"
    result = subprocess.run(
        [str(Path(sys.executable).parent / "ainode"), "demo", "--home", str(tmp_path / "home"), "--plot", str(plot)],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("starting a standalone ainode in")  # not silent while the node starts
    assert "holtwinters" in result.stdout and "Forecast of monthly airline passengers, 24 months" in result.stdout
    rows = re.findall(r"^\|\s*(1961-\d\d|1962-\d\d)\s*\|\s*([\d.]+)\s*\|$", result.stdout, re.MULTILINE)
    assert len(rows) == 24  # Jan 1961 .. Dec 1962, right after the data's last month
    assert all(300 < float(value) < 800 for _, value in rows)
    with Image.open(plot) as image:
        assert image.format == "PNG" and image.size[0] > 300
