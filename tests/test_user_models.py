"""CREATE MODEL ... USING URI / DROP MODEL over Thrift with model folders written for IoTDB's AINode."""
from __future__ import annotations

import json
import os
import signal
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from ainode_core.client import AINodeClient, AINodeRequestError
from ainode_core.testing.node import RunningNode, make_home

# Written against Apache's AINode: imports its base pipeline from the iotdb package path.
PIPELINE = '''
import numpy as np
from iotdb.ainode.core.inference.pipeline.basic_pipeline import ForecastPipeline
from .helper import OFFSET


class ShiftPipeline(ForecastPipeline):
    """Forecasts the last value plus an offset (the offset lives in a sibling module)."""

    def forecast(self, inputs, **infer_kwargs):
        return [np.repeat(item["targets"][:, -1:] + OFFSET, infer_kwargs["output_length"], axis=1)
                for item in inputs]
'''


def model_folder(root: Path, name: str, model_type: str, offset: float, import_delay: float = 0.0) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({
        "model_type": model_type,
        "auto_map": {"AutoConfig": "pipeline.ShiftPipeline", "AutoModelForCausalLM": "pipeline.ShiftPipeline"},
        "pipeline_cls": "pipeline.ShiftPipeline",
    }))
    save_file({"weight": np.zeros(4, dtype=np.float32)}, str(folder / "model.safetensors"))
    (folder / "helper.py").write_text(
        f"import time\ntime.sleep({import_delay})\nOFFSET = {offset}\n")  # same module name in every folder
    (folder / "pipeline.py").write_text(textwrap.dedent(PIPELINE))
    return folder


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    running = RunningNode(make_home(tmp_path_factory.mktemp("user-models")))
    yield running
    assert running.stop() == 0



def test_register_forecast_and_drop(node, client, tmp_path):
    first = model_folder(tmp_path, "a", "shift_one", offset=1.0)
    second = model_folder(tmp_path, "b", "shift_two", offset=100.0)  # same module names, other code
    assert client.register("shift_one", f"file://{first}") == "active"
    assert client.register("shift_two", f"file://{second}") == "active"
    models = client.models().set_index("ModelId")
    assert models.loc["shift_one", ["ModelType", "Category", "State", "Task"]].tolist() == \
        ["shift_one", "user_defined", "active", "forecast"]
    assert client.forecast("shift_one", np.arange(5.0), output_length=3).iloc[:, 0].tolist() == [5.0] * 3
    assert client.forecast("shift_two", np.arange(5.0), output_length=3).iloc[:, 0].tolist() == [104.0] * 3
    models_dir = node.home / "data/ainode/models/user_defined"
    assert (models_dir / "shift_one" / "pipeline.py").exists()

    client.drop("shift_one")
    assert "shift_one" not in client.models()["ModelId"].tolist()
    assert not (models_dir / "shift_one").exists()
    with pytest.raises(AINodeRequestError) as error:
        client.forecast("shift_one", np.arange(5.0), output_length=3)
    assert error.value.code == 1504
    assert client.forecast("shift_two", np.arange(5.0), output_length=3).iloc[0, 0] == 104.0


@pytest.mark.parametrize("model_id, model_type, code, text", [
    ("arima", "fresh_type", 1503, "already exists"),
    ("t5_clash", "t5", 1505, "'t5' is already used by a Transformers config, pick another name."),
    ("sktime_clash", "sktime", 1505, "already used by plugin"),
    ("9bad", "fresh_type", 1505, "letters, digits"),
])
def test_registration_errors(client, tmp_path, model_id, model_type, code, text):
    folder = model_folder(tmp_path, "folder", model_type, offset=0.0)
    with pytest.raises(AINodeRequestError) as error:
        client.register(model_id, f"file://{folder}")
    assert error.value.code == code and text in str(error.value)


def test_broken_code_leaves_a_failed_record_and_no_folder(node, client, tmp_path):
    folder = model_folder(tmp_path, "broken", "broken_type", offset=0.0)
    (folder / "pipeline.py").write_text("raise ImportError('missing dependency foo')\n")
    assert client.register("broken_model", f"file://{folder}") == "failed"
    assert not (node.home / "data/ainode/models/user_defined/broken_model").exists()
    reason = json.loads((node.home / "data/ainode/models/catalog.json").read_text())
    record = next(m for m in reason["models"] if m["model_id"] == "broken_model")
    assert "missing dependency foo" in record["reason"]
    client.drop("broken_model")


def test_killed_during_registration_then_restarted_is_consistent(tmp_path):
    home = make_home(tmp_path)
    slow = model_folder(tmp_path, "slow", "slow_import", offset=0.0, import_delay=30)
    node = RunningNode(home)
    with AINodeClient("127.0.0.1", node.port) as client:
        client.register("half_done", f"file://{slow}", wait=False)
        assert client.models("half_done")["State"].tolist() == ["activating"]
    time.sleep(0.5)
    os.kill(node.process.pid, signal.SIGKILL)
    node.process.wait()
    restarted = RunningNode(home)
    try:
        with AINodeClient("127.0.0.1", restarted.port) as client:
            assert client.models("half_done")["State"].tolist() == ["failed"]
        user_dir = home / "data/ainode/models/user_defined"
        assert not list(user_dir.glob(".*")) and not (user_dir / "half_done").exists()
    finally:
        restarted.stop()
