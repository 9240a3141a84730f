"""IoTDB compatibility: model folders written for Apache's AINode import their base pipeline (and a few
helpers) from ``iotdb.ainode.core...``. While folder code is loaded, those paths resolve to
:mod:`ainode_core.pipelines.iotdb`, whose classes behave as IoTDB's do (``self.model`` loaded from the
folder, torch tensors in and out). The ``iotdb`` package itself belongs to ``apache-iotdb``; only the missing
``iotdb.ainode...`` sub-modules are added, nothing of apache-iotdb is replaced.
"""
from __future__ import annotations

import sys
import types

ALIASES = {
    "iotdb.ainode": None,
    "iotdb.ainode.core": None,
    "iotdb.ainode.core.inference": None,
    "iotdb.ainode.core.inference.pipeline": None,
    "iotdb.ainode.core.inference.pipeline.basic_pipeline": "ainode_core.pipelines.iotdb",
    "iotdb.ainode.core.exception": "ainode_core.pipelines.iotdb",
    "iotdb.ainode.core.log": "ainode_core.pipelines.iotdb",
    "iotdb.ainode.core.model": None,
    "iotdb.ainode.core.model.model_info": "ainode_core.pipelines.iotdb",
}


def install_iotdb_alias() -> None:
    import importlib

    try:
        import iotdb  # noqa: F401  (apache-iotdb's package, kept as it is)
    except ImportError:
        sys.modules.setdefault("iotdb", types.ModuleType("iotdb"))
        sys.modules["iotdb"].__path__ = []  # type: ignore[attr-defined]
    for name, target in ALIASES.items():
        if name in sys.modules:
            continue
        if target is None:
            module = types.ModuleType(name)
            module.__path__ = []  # type: ignore[attr-defined]
        else:
            module = importlib.import_module(target)
        sys.modules[name] = module
        parent, _, child = name.rpartition(".")
        setattr(sys.modules[parent], child, module)
