"""CREATE MODEL ... USING URI 'file://...' against hostile folders: links out of the folder, oversized (sparse)
files, slow or hanging imports, stale temp files, ids with a trailing newline."""
from __future__ import annotations

import json
import os
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from ainode_core.client import AINodeClient, AINodeRequestError
from ainode_core.testing.node import RunningNode, make_home

IMPORT_TIMEOUT_S = 6

# A folder whose only import is light (no transformers), so the timings below measure the node, not torch.
REPEAT_PIPELINE = '''
import time
from pathlib import Path

Path({marker!r}).touch()  # tells the test the import has begun
time.sleep({delay})

from ainode_core.pipelines import ForecastPipeline


class RepeatLast(ForecastPipeline):
    def forecast(self, inputs, **kw):
        import numpy as np
        return [np.repeat(item["targets"][:, -1:], kw["output_length"], axis=1) for item in inputs]
'''


def light_folder(root: Path, name: str, model_type: str, import_delay: float = 0.0) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"model_type": model_type,
                                                    "pipeline_cls": "pipeline.RepeatLast"}))
    save_file({"offset": np.zeros(1, dtype=np.float32)}, str(folder / "model.safetensors"))
    marker = root / f"{name}.importing"
    (folder / "pipeline.py").write_text(textwrap.dedent(REPEAT_PIPELINE.format(marker=str(marker),
                                                                               delay=import_delay)))
    return folder


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    running = RunningNode(make_home(tmp_path_factory.mktemp("folder-limits"),
                                    f"ain_model_max_size_in_mb=1\n"
                                    f"ain_model_import_timeout_in_ms={IMPORT_TIMEOUT_S * 1000}\n"))
    yield running
    assert running.stop() == 0


def user_dir_entries(node: RunningNode) -> set[str]:
    folder = node.home / "data/ainode/models/user_defined"
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def refused(client: AINodeClient, model_id: str, folder: Path) -> AINodeRequestError:
    with pytest.raises(AINodeRequestError) as error:
        client.register(model_id, f"file://{folder}")
    assert error.value.code == 1505
    assert model_id not in client.models()["ModelId"].tolist()  # nothing half-registered: the id is free
    return error.value


@pytest.mark.parametrize("target", ["/etc/passwd", "outside"])
def test_a_link_out_of_the_folder_is_refused_naming_the_file(node, client, tmp_path, target):
    folder = light_folder(tmp_path, "linked", "linked_out")
    if target == "outside":  # a file beside the folder, readable by the node
        target = tmp_path / "secret.txt"
        target.write_text("not part of any model")
    os.symlink(target, folder / "notes.txt")
    before = user_dir_entries(node)
    error = refused(client, "linked_out", folder)
    assert "notes.txt" in str(error) and "outside the folder" in str(error) and "cp -rL" in str(error)
    assert user_dir_entries(node) == before


def test_a_link_to_a_file_inside_the_folder_is_copied_as_the_file(node, client, tmp_path):
    folder = light_folder(tmp_path, "aliased", "aliased_type")
    os.symlink("model.safetensors", folder / "model-v2.safetensors")
    assert client.register("aliased_model", f"file://{folder}") == "active"
    copied = node.home / "data/ainode/models/user_defined/aliased_model/model-v2.safetensors"
    assert not copied.is_symlink() and copied.read_bytes() == (folder / "model.safetensors").read_bytes()
    client.drop("aliased_model")


def test_a_sparse_file_over_the_size_limit_is_refused_before_copying(node, client, tmp_path):
    folder = light_folder(tmp_path, "sparse", "sparse_type")
    with open(folder / "padding.bin", "wb") as handle:
        handle.truncate(4 * 1024 ** 3)  # 4 GiB that take no room here: only a copy would write them
    before = user_dir_entries(node)
    started = time.monotonic()
    error = refused(client, "sparse_model", folder)
    assert time.monotonic() - started < 10
    assert "4096.0 MiB" in str(error) and "1 MiB" in str(error) and "ain_model_max_size_in_mb" in str(error)
    assert user_dir_entries(node) == before  # no model folder, no staging folder


def test_a_slow_import_does_not_hold_up_another_registration(node, client, tmp_path):
    slow = light_folder(tmp_path, "slow", "slow_type", import_delay=IMPORT_TIMEOUT_S / 2)
    normal = light_folder(tmp_path, "normal", "normal_type")
    finished: dict[str, float] = {}

    def register_slow() -> None:
        with AINodeClient("127.0.0.1", node.port) as other:
            finished["slow_state"] = other.register("slow_model", f"file://{slow}")
        finished["slow"] = time.monotonic()

    thread = threading.Thread(target=register_slow, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not (tmp_path / "slow.importing").exists():  # the slow folder's code is being imported now
        assert time.monotonic() < deadline and thread.is_alive(), "the slow registration never reached its import"
        time.sleep(0.05)
    started = time.monotonic()
    assert client.register("normal_model", f"file://{normal}") == "active"
    finished["normal"] = time.monotonic()
    thread.join(60)
    assert finished["normal"] - started < 3
    assert finished["normal"] < finished["slow"]  # it did not wait for the slow import
    assert finished["slow_state"] == "active"  # slow, but within ain_model_import_timeout_in_ms
    client.drop("normal_model")
    client.drop("slow_model")


def test_an_import_over_the_time_limit_fails_the_registration(node, client, tmp_path):
    hanging = light_folder(tmp_path, "hanging", "hanging_type", import_delay=600)
    started = time.monotonic()
    error = refused(client, "hanging_model", hanging)
    assert IMPORT_TIMEOUT_S - 1 < time.monotonic() - started < IMPORT_TIMEOUT_S + 20
    assert "ain_model_import_timeout_in_ms" in str(error) and f"{IMPORT_TIMEOUT_S} s" in str(error)
    assert "hanging_model" not in user_dir_entries(node)
    # the id and its model_type are free again for a folder that imports in time
    fixed = light_folder(tmp_path, "fixed", "hanging_type")
    assert client.register("hanging_model", f"file://{fixed}") == "active"
    client.drop("hanging_model")


@pytest.mark.parametrize("model_id", ["m1\n", "model\n"])  # "$" alone would admit them
def test_an_id_with_a_newline_is_refused(node, client, tmp_path, model_id):
    folder = light_folder(tmp_path, "newline", "newline_type")
    error = refused(client, model_id, folder)
    assert "letters, digits" in str(error)


def test_stale_temp_files_are_removed_at_start(tmp_path):
    home = make_home(tmp_path)
    models = home / "data/ainode/models"
    stale = [models / ".catalog.json.k1lled9x.tmp", models / "fine_tuned/tuned/.training.json.abc123.tmp"]
    staging = models / "user_defined/.half_copied.x7y8"
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text('{"half": ')  # what a kill -9 between write and rename leaves
    staging.mkdir(parents=True)
    (staging / "config.json").write_text("{}")
    node = RunningNode(home)
    try:
        assert not [path for path in stale if path.exists()] and not staging.exists()
        assert (models / "catalog.json").exists()
    finally:
        assert node.stop() == 0
