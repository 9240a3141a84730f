"""The Makefile of the README's first command: `make demo` says what it does while it sets up, and what the
demo leaves behind is ignored by git."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_the_first_setup_announces_each_step(tmp_path):
    fake_python = tmp_path / "python"  # stands in for `python3 -m venv DIR`; PIP=true for the installs
    fake_python.write_text('#!/bin/sh\nmkdir -p "$3"\n')
    fake_python.chmod(0o755)
    venv = tmp_path / "venv"
    run = subprocess.run(["make", "-s", "-C", str(REPO), "setup", f"VENV={venv}", f"PYTHON={fake_python}",
                          "PIP=true"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith(f"==> setting up {venv}") and "a few minutes" in lines[0]
    assert any("installing torch" in line for line in lines) and lines[-1] == f"==> {venv} is ready"
    again = subprocess.run(["make", "-s", "-C", str(REPO), "setup", f"VENV={venv}", f"PYTHON={fake_python}",
                            "PIP=true"], capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and again.stdout == ""  # set up once: nothing to say


@pytest.mark.skipif(not (REPO / ".git").exists() or shutil.which("git") is None, reason="needs a git checkout")
def test_the_demos_output_is_ignored_by_git():
    for path in ("demo-home/data/ainode/models/catalog.json", "demo-home/logs/log_ainode_all.log",
                 "demo-forecast.png"):
        checked = subprocess.run(["git", "-C", str(REPO), "check-ignore", "-q", path])
        assert checked.returncode == 0, f"{path} is not ignored by .gitignore"
