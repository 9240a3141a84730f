"""The client and the `ainode` sub-commands against one running node: tables, JSON, files, plots, progress,
errors. Commands run in-process through ``main([...])`` (fast); the node is a real subprocess."""
from __future__ import annotations

import json
import socket
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from safetensors.numpy import save_file

from ainode_core.cli.main import main
from ainode_core.client import AINodeRequestError, ModelStateError
from ainode_core.testing.node import RunningNode, make_home, make_site

# A model with quantiles, rows level-major like chronos2: level k, target c → last value of c + 10 * level.
QUANTILE_PLUGIN = '''
import numpy as np
from ainode_core import hookimpl, ModelTypeSpec, BuiltinModel
from ainode_core.pipelines import ForecastPipeline


class QuantilePipeline(ForecastPipeline):
    def forecast(self, inputs, **kw):
        levels = [float(q) for q in str(kw.get("quantiles") or "").split(",") if q]
        outputs = []
        for item in inputs:
            last = item["targets"][:, -1:]
            blocks = [last + 10 * level for level in levels] or [last]
            outputs.append(np.repeat(np.concatenate(blocks, axis=0), kw["output_length"], axis=1))
        return outputs


@hookimpl
def ainode_register_model_types():
    return [ModelTypeSpec("quantile_demo", QuantilePipeline, capabilities=frozenset({"quantiles"}),
                          builtin_models=(BuiltinModel("quantile_demo"),))]
'''

PIPELINE = '''
import numpy as np
from ainode_core.pipelines import ForecastPipeline
from .helper import OFFSET


class ShiftPipeline(ForecastPipeline):
    def forecast(self, inputs, **kw):
        return [np.repeat(item["targets"][:, -1:] + OFFSET, kw["output_length"], axis=1) for item in inputs]
'''


def model_folder(root: Path, name: str, model_type: str, import_delay: float = 0.0, broken: bool = False) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({
        "model_type": model_type, "pipeline_cls": "pipeline.ShiftPipeline",
        "auto_map": {"AutoConfig": "pipeline.ShiftPipeline", "AutoModelForCausalLM": "pipeline.ShiftPipeline"}}))
    save_file({"weight": np.zeros(2, dtype=np.float32)}, str(folder / "model.safetensors"))
    (folder / "helper.py").write_text(f"import time\ntime.sleep({import_delay})\nOFFSET = 1.0\n")
    (folder / "pipeline.py").write_text("raise ImportError('missing dependency foo')\n" if broken
                                        else textwrap.dedent(PIPELINE))
    return folder


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli-remote")
    # registrations longer than 0.3 s go on in the background, so their progress can be watched
    running = RunningNode(make_home(root, "ain_model_registration_wait_in_ms=300\n"), site=make_site(root, {"ainode_plugin_quantile_demo": QUANTILE_PLUGIN}))
    yield running
    assert running.stop() == 0


@pytest.fixture
def ainode(node, capsys):
    """Run ``ainode ARGS --port <node>`` in-process; returns (exit code, stdout, stderr)."""
    def run(*args: str, port: bool = True) -> tuple[int, str, str]:
        code = main([*args, *(["--port", str(node.port)] if port else [])])
        captured = capsys.readouterr()
        return code, captured.out, captured.err
    return run


def table_rows(text: str) -> list[list[str]]:
    """The cells of an IoTDB-style table (header first)."""
    return [[cell.strip() for cell in line.split("|")[1:-1]] for line in text.splitlines() if line.startswith("|")]


@pytest.fixture
def hourly_csv(tmp_path) -> Path:
    times = pd.date_range("2024-03-01 00:00", periods=48, freq="h")
    frame = pd.DataFrame({"time": times.strftime("%Y-%m-%d %H:%M:%S"), "s1": np.sin(np.arange(48) / 4) * 10 + 50,
                          "s2": np.arange(48, dtype=float), "label": ["x"] * 48})
    path = tmp_path / "hourly.csv"
    frame.to_csv(path, index=False)
    return path


# --- the Python client ---------------------------------------------------------------------------------


@pytest.mark.parametrize("index", [
    pd.date_range("2024-01-01", periods=30, freq="h"),
    pd.date_range("2024-01-01", periods=30, freq="D"),
    pd.DatetimeIndex(pd.date_range("2020-01-01", periods=30, freq="MS").strftime("%Y-%m-%d")),  # no freq set
    pd.period_range("2020-01", periods=30, freq="M"),
], ids=["hourly", "daily", "monthly-inferred", "monthly-period"])
def test_client_forecast_continues_the_timestamps(client, index):
    series = pd.Series(np.arange(30, dtype=float) + 5, index=index, name="load")
    forecast = client.forecast("naive_forecaster", series, output_length=4)
    expected = (pd.period_range(index[-1] + 1, periods=4, freq="M") if isinstance(index, pd.PeriodIndex)
                else pd.date_range(index[-1], periods=5, freq=pd.infer_freq(index))[1:])
    assert list(forecast.index) == list(expected)
    assert forecast.columns.tolist() == ["load"] and forecast["load"].tolist() == [34.0] * 4


def test_client_names_quantile_columns_in_the_order_the_model_sends_them(client):
    frame = pd.DataFrame({"a": [0.0, 1.0], "b": [5.0, 100.0]}, index=pd.date_range("2024-01-01", periods=2, freq="D"))
    forecast = client.forecast("quantile_demo", frame, output_length=3, quantiles=[0.1, 0.9])
    assert forecast.columns.tolist() == ["a_q0.1", "b_q0.1", "a_q0.9", "b_q0.9"]
    assert forecast.iloc[0].tolist() == pytest.approx([2.0, 101.0, 10.0, 109.0])
    assert forecast.index[0] == pd.Timestamp("2024-01-03")


def test_register_reports_progress_as_the_reason_changes(client, tmp_path):
    folder = model_folder(tmp_path, "slow", "slow_import_type", import_delay=1.0)
    reasons: list[str] = []
    assert client.register("slow_model", f"file://{folder}", progress=reasons.append) == "active"
    assert len(reasons) >= 2 and reasons[0] and reasons[-1] == ""  # activating with its reason, then active
    assert all(a != b for a, b in zip(reasons, reasons[1:]))  # called on changes only
    client.drop("slow_model")


def test_finetune_errors_come_back_with_the_node_status(client):
    with pytest.raises(AINodeRequestError) as unknown:
        client.finetune("tuned", "no_such_base", "root.db.**")
    assert unknown.value.code == 1504
    with pytest.raises(AINodeRequestError) as untunable:
        client.finetune("tuned", "quantile_demo", "root.db.**")
    assert untunable.value.code == 1505 and "does not support fine-tuning" in str(untunable.value)
    with pytest.raises(AINodeRequestError) as missing:  # the dataset and its range travel to the node
        client.finetune("tuned", "naive_forecaster", [("file:///no/such/data.csv", (0, 1000))],
                        hyperparameters={"train_epochs": 1})
    assert missing.value.code == 1512 and "file:///no/such/data.csv" in str(missing.value)
    assert "tuned" not in client.models()["ModelId"].tolist()  # nothing half-created


# --- forecast / detect -----------------------------------------------------------------------------------


def test_cli_forecast_prints_a_table_and_json_continuing_the_time(ainode, hourly_csv):
    code, out, _ = ainode("forecast", "naive_forecaster", "--input", str(hourly_csv), "--column", "s2",
                          "--horizon", "3")
    assert code == 0
    header, *rows = table_rows(out)
    assert header == ["Time", "s2"]
    assert rows == [["2024-03-03T00:00:00", "47.0"], ["2024-03-03T01:00:00", "47.0"], ["2024-03-03T02:00:00", "47.0"]]
    assert "Total line number = 3" in out

    code, out, _ = ainode("forecast", "holtwinters", "--input", str(hourly_csv), "--horizon", "2", "--json",
                          "--option", "sp=12")
    records = json.loads(out)
    assert code == 0 and [r["Time"] for r in records] == ["2024-03-03T00:00:00", "2024-03-03T01:00:00"]
    assert set(records[0]) == {"Time", "s1", "s2"}  # every numeric column; the text column is left out
    assert records[0]["s2"] == pytest.approx(48.0, abs=0.5)  # a straight line stays straight


def test_cli_forecast_writes_the_output_file_and_a_plot_with_the_band(ainode, hourly_csv, tmp_path):
    out_csv, png = tmp_path / "forecast.csv", tmp_path / "forecast.png"
    code, _, err = ainode("forecast", "quantile_demo", "--input", str(hourly_csv), "--column", "s1",
                          "--horizon", "24", "--quantiles", "0.1,0.9", "--output", str(out_csv), "--plot", str(png))
    assert code == 0 and "plot written" in err
    written = pd.read_csv(out_csv)
    assert written.columns.tolist() == ["Time", "s1_q0.1", "s1_q0.9"] and len(written) == 24
    last = pd.read_csv(hourly_csv)["s1"].iloc[-1]
    assert written["s1_q0.9"].iloc[0] == pytest.approx(last + 9.0)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from tests.test_plot import columns_with, BLUE, ORANGE, BAND

    history, forecast, band = columns_with(png, BLUE), columns_with(png, ORANGE), columns_with(png, BAND)
    assert forecast.max() > history.max() + 20  # the forecast line runs on right of the history
    assert (band > history.max()).sum() > 20  # and the quantile band is filled there


def test_cli_forecast_refuses_an_unknown_column_and_bad_options(ainode, hourly_csv):
    code, _, err = ainode("forecast", "naive_forecaster", "--input", str(hourly_csv), "--column", "nope",
                          "--horizon", "3")
    assert code == 2 and "no numeric column 'nope'" in err and "s1, s2" in err
    code, _, err = ainode("forecast", "naive_forecaster", "--input", str(hourly_csv), "--horizon", "3",
                          "--option", "sp")
    assert code == 2 and "KEY=VALUE" in err
    code, _, err = ainode("forecast", "naive_forecaster", "--input", str(hourly_csv), "--horizon", "0")
    assert code == 1 and "error 1599" in err and "output_length" in err


def test_cli_detect_flags_the_spike_and_plots_it(ainode, tmp_path):
    values = np.sin(np.arange(120) / 6.0)
    values[77] = 25.0
    path = tmp_path / "spiky.csv"
    pd.DataFrame({"time": np.arange(120) * 1000 + 1_700_000_000_000, "v": values}).to_csv(path, index=False)
    png = tmp_path / "detect.png"
    code, out, _ = ainode("detect", "stray", "--input", str(path), "--json", "--plot", str(png))
    assert code == 0
    records = json.loads(out)
    assert len(records) == 120 and records[0]["Time"] == 1_700_000_000_000  # epoch ms stay epoch ms
    flagged = [r["Time"] for r in records if r["v_label"] == 1.0]
    assert flagged == [1_700_000_000_000 + 77 * 1000]
    from tests.test_plot import columns_with, RED

    assert columns_with(png, RED).size > 0  # the flagged point is marked


# --- catalog, devices, placement -------------------------------------------------------------------------


def test_cli_models_devices_and_placement(ainode):
    code, out, _ = ainode("models")
    header, *rows = table_rows(out)
    assert code == 0 and header == ["ModelId", "ModelType", "Category", "State", "Reason"]
    assert ["naive_forecaster", "sktime", "builtin", "active", ""] in rows
    code, out, _ = ainode("models", "quantile_demo", "--json")
    assert json.loads(out) == [{"model_id": "quantile_demo", "model_type": "quantile_demo",
                                "category": "builtin", "state": "active", "reason": ""}]

    code, out, _ = ainode("devices", "--json")
    assert code == 0 and {"device_id": "cpu", "device_type": "cpu"} in json.loads(out)

    code, out, _ = ainode("load", "naive_forecaster", "--devices", "cpu", "--wait")
    assert code == 0 and "successfully" in out
    code, out, _ = ainode("loaded")
    header, *rows = table_rows(out)
    assert header == ["DeviceId", "ModelId", "Count(instances)"]
    counts = {(device, model): int(count) for device, model, count in rows}
    assert counts[("cpu", "naive_forecaster")] >= 1
    code, out, _ = ainode("unload", "naive_forecaster", "--devices", "cpu", "--wait")
    assert code == 0
    code, out, _ = ainode("loaded", "--devices", "cpu", "--json")
    assert "naive_forecaster" not in {row["model_id"] for row in json.loads(out)}

    code, _, err = ainode("load", "naive_forecaster", "--devices", "7")
    assert code == 1 and "error 1508: AIDevice ID [7] is not available" in err


def test_cli_register_shows_progress_then_drop(ainode, tmp_path):
    folder = model_folder(tmp_path, "shift", "cli_shift_type")
    code, out, err = ainode("register", "cli_shift", f"file://{folder}")
    assert code == 0 and "cli_shift is active" in out
    assert "registering cli_shift" in err  # the progress bar, on stderr
    code, out, _ = ainode("models", "cli_shift", "--json")
    assert [(m["category"], m["state"]) for m in json.loads(out)] == [("user_defined", "active")]
    code, out, _ = ainode("drop", "cli_shift")
    assert code == 0 and "successfully" in out
    code, out, err = ainode("models", "cli_shift", "--json")
    assert json.loads(out) == [] and "not registered" in err
    code, _, err = ainode("drop", "cli_shift")
    assert code == 1 and "error 1504: Model cli_shift does not exist" in err


def test_cli_register_failure_exits_nonzero_with_the_reason(ainode, tmp_path):
    folder = model_folder(tmp_path, "broken", "cli_broken_type", broken=True)
    code, _, err = ainode("register", "cli_broken", f"file://{folder}")
    assert code == 1 and "error 1505" in err and "missing dependency foo" in err
    assert ainode("drop", "cli_broken")[0] == 1  # nothing was left behind


def test_cli_finetune_error_path(ainode):
    code, _, err = ainode("finetune", "cli_tuned", "--base", "quantile_demo", "--dataset", "root.db.**",
                          "--time-range", "2024-01-01,2024-02-01", "--hp", "train_epochs=1")
    assert code == 1 and "error 1505" in err and "does not support fine-tuning" in err
    code, _, err = ainode("finetune", "cli_tuned", "--base", "naive_forecaster", "--dataset", "root.db.**",
                          "--time-range", "5,1")
    assert code == 2 and "START must be before END" in err


def test_cli_finetune_waits_with_progress_until_active(ainode, client, tmp_path):
    data = tmp_path / "train.csv"
    pd.DataFrame({"time": np.arange(200) * 1000, "v": np.sin(np.arange(200) / 3.0)}).to_csv(data, index=False)
    code, out, err = ainode("finetune", "cli_tuned_hw", "--base", "holtwinters", "--dataset", f"file://{data}")
    assert code == 0 and "cli_tuned_hw is active" in out
    assert "fine-tuning cli_tuned_hw" in err and "100%" in err  # the bar ran to the end
    assert client.models("cli_tuned_hw")[["Category", "State"]].values.tolist() == [["fine_tuned", "active"]]
    assert client.forecast("cli_tuned_hw", np.sin(np.arange(50) / 3.0), output_length=3).shape == (3, 1)


def test_client_finetune_raises_with_the_reason_when_training_fails(client, tmp_path):
    tiny = tmp_path / "tiny.csv"
    pd.DataFrame({"time": [0, 1000, 2000], "v": [1.0, 2.0, 3.0]}).to_csv(tiny, index=False)
    reasons: list[str] = []
    with pytest.raises(ModelStateError) as failed:
        client.finetune("tiny_tuned", "holtwinters", f"file://{tiny}", progress=reasons.append)
    assert failed.value.state == "failed" and failed.value.code == 1505
    assert reasons[-1] in str(failed.value)  # the node's reason is the message
    assert client.models("tiny_tuned")["State"].tolist() == ["failed"]


@pytest.mark.parametrize("reason, fraction", [
    ("epoch 2/4, iteration 5/10, loss 0.031", 0.375),  # one epoch done, half of the second
    ("fetching weights: 12 MB of 80 MB (15%)", 0.15),
    ("starting", None),
])
def test_the_progress_bar_reads_how_far_the_reason_says(reason, fraction):
    from ainode_core.cli.progress import fraction_done

    assert fraction_done(reason) == (pytest.approx(fraction) if fraction is not None else None)


# --- finding the node ------------------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_node_is_found_by_env_and_by_its_pid_file(ainode, node, monkeypatch):
    monkeypatch.setenv("AINODE_PORT", str(node.port))
    code, out, _ = ainode("devices", "--json", port=False)
    assert code == 0 and json.loads(out)[0]["device_id"] == "cpu"
    monkeypatch.delenv("AINODE_PORT")
    # The config says ain_rpc_port=0 (any free port); the pid file says where the node really listens.
    code, out, _ = ainode("devices", "--json", "--home", str(node.home), port=False)
    assert code == 0 and json.loads(out)[0]["device_id"] == "cpu"


def test_without_a_node_models_falls_back_to_the_local_catalog(capsys, tmp_path):
    port = str(_closed_port())
    assert main(["models", "--port", port, "--home", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert f"no ainode answers at 127.0.0.1:{port}" in captured.err and "local catalog" in captured.err
    assert "naive_forecaster" in {row[0] for row in table_rows(captured.out)}
    assert main(["devices", "--port", port, "--home", str(tmp_path)]) == 1
    assert "--host/--port" in capsys.readouterr().err
