"""CREATE MODEL ... USING URI / DROP MODEL over Thrift with model folders written for IoTDB's AINode."""
from __future__ import annotations

import os
import signal
import textwrap
import time

import numpy as np
import pytest

from ainode_core.client import AINodeClient, AINodeRequestError
from ainode_core.rpc.connection import connect
from ainode_core.rpc.gen.ainode import ttypes as t
from ainode_core.testing.node import RunningNode, make_home
from tests.support.user_folders import PIPELINE, model_folder

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
    # last value 4 + offset from the weights + the folder's own module constant
    assert client.forecast("shift_one", np.arange(5.0), output_length=3).iloc[:, 0].tolist() == [6.0] * 3
    assert client.forecast("shift_two", np.arange(5.0), output_length=3).iloc[:, 0].tolist() == [204.0] * 3
    two_targets = client.forecast("shift_two", np.c_[np.arange(5.0), np.arange(5.0) * 10], output_length=2)
    assert two_targets.to_numpy().tolist() == [[204.0, 240.0]] * 2
    models_dir = node.home / "data/ainode/models/user_defined"
    assert (models_dir / "shift_one" / "pipeline_shift.py").exists()

    client.drop("shift_one")
    assert "shift_one" not in client.models()["ModelId"].tolist()
    assert not (models_dir / "shift_one").exists()
    with pytest.raises(AINodeRequestError) as error:
        client.forecast("shift_one", np.arange(5.0), output_length=3)
    assert error.value.code == 1504
    assert client.forecast("shift_two", np.arange(5.0), output_length=3).iloc[0, 0] == 204.0


def test_a_folder_without_weights_registers_and_serves(client, tmp_path):
    folder = tmp_path / "weightless"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "last_twice", "pipeline_cls": "pipe.LastTwice"}')
    (folder / "pipe.py").write_text(textwrap.dedent("""
        import numpy as np
        from ainode_core.pipelines import ForecastPipeline

        class LastTwice(ForecastPipeline):
            def forecast(self, inputs, **options):
                return [np.repeat(2 * item["targets"][:, -1:], options["output_length"], axis=1) for item in inputs]
    """))
    assert client.register("last_twice", f"file://{folder}") == "active"
    assert client.forecast("last_twice", np.arange(5.0), output_length=2).iloc[:, 0].tolist() == [8.0, 8.0]
    client.drop("last_twice")


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


def test_broken_code_is_refused_within_the_call_and_leaves_nothing(node, client, tmp_path):
    folder = model_folder(tmp_path, "broken", "broken_type", offset=0.0)
    (folder / "pipeline_shift.py").write_text("raise ImportError('missing dependency foo')\n")
    with pytest.raises(AINodeRequestError) as error:
        client.register("broken_model", f"file://{folder}")
    assert error.value.code == 1505 and "missing dependency foo" in str(error.value)
    assert "broken_model" not in client.models()["ModelId"].tolist()
    assert not list((node.home / "data/ainode/models/user_defined").glob("*broken_model*"))
    # the id is free again once the folder is fixed
    (folder / "pipeline_shift.py").write_text(textwrap.dedent(PIPELINE))
    assert client.register("broken_model", f"file://{folder}") == "active"
    client.drop("broken_model")


def test_datanode_sees_active_right_after_create_and_a_resent_call_is_no_error(node, tmp_path):
    """What IoTDB's DataNode does: registerModel, then SHOW MODELS id at once (only active is accepted);
    after a socket timeout it sends the same call again."""
    folder = model_folder(tmp_path, "c", "shift_three", offset=1.0)
    request = t.TRegisterModelReq(modelId="shift_three", uri=f"file://{folder}")
    with connect("127.0.0.1", node.port) as raw:
        assert raw.registerModel(request).status.code == 200
        shown = raw.showModels(t.TShowModelsReq(modelId="shift_three"))
        assert (shown.modelTypeMap["shift_three"], shown.categoryMap["shift_three"],
                shown.stateMap["shift_three"]) == ("shift_three", "user_defined", "active")
        assert raw.registerModel(request).status.code == 200  # the re-sent call
        other = model_folder(tmp_path, "d", "shift_four", offset=1.0)
        clash = raw.registerModel(t.TRegisterModelReq(modelId="shift_three", uri=f"file://{other}")).status
        assert clash.code == 1503
        assert raw.deleteModel(t.TDeleteModelReq(modelId="shift_three")).code == 200


def test_registration_longer_than_the_wait_answers_and_finishes_in_the_background(tmp_path):
    home = make_home(tmp_path, "ain_model_registration_wait_in_ms=500\n")
    slow = model_folder(tmp_path, "slow", "slow_import", offset=1.0, import_delay=2)
    node = RunningNode(home)
    try:
        with AINodeClient("127.0.0.1", node.port) as client:
            client.register("slow_one", f"file://{slow}", wait=False)
            assert client.models("slow_one")["State"].tolist() == ["activating"]  # answered before the end
            assert client.register("slow_one", f"file://{slow}") == "active"
    finally:
        node.stop()


def test_killed_during_registration_then_restarted_is_consistent(tmp_path):
    home = make_home(tmp_path, "ain_model_registration_wait_in_ms=0\n")
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
