"""pytest plugin ``ainode`` (entry point ``pytest11``): makes the test kit's fixtures available.

Loaded automatically wherever ainode-core is installed; importing it must stay light (no torch).
"""
from __future__ import annotations

from ainode_core.testing.fixtures import *  # noqa: F401,F403  (fixtures are found by name)
