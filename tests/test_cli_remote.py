"""The client and the `ainode` sub-commands against one running node: tables, JSON, files, plots, progress,
errors. Commands run in-process through ``main([...])`` (fast); the node is a real subprocess."""
from __future__ import annotations

import json
import socket
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from safetensors.numpy import save_file

from ainode_core.cli.main import main
from ainode_core.client import AINodeRequestError, InputWarning, ModelStateError, WrongTaskError
from ainode_core.errors import AINodeError
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

# A model whose instances take 2 s to build: `load --wait --timeout` can run out before it is placed.
SLOW_LOAD_PLUGIN = '''
import time
import numpy as np
from ainode_core import hookimpl, ModelTypeSpec, BuiltinModel
from ainode_core.pipelines import ForecastPipeline


class SlowLoadPipeline(ForecastPipeline):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        time.sleep(2)

    def forecast(self, inputs, **kw):
        return [np.zeros((item["targets"].shape[0], kw["output_length"])) for item in inputs]


@hookimpl
def ainode_register_model_types():
    return [ModelTypeSpec("slow_load", SlowLoadPipeline, estimated_size_bytes=10**13,
                          builtin_models=(BuiltinModel("slow_load"),))]
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
    site = make_site(root, {"ainode_plugin_quantile_demo": QUANTILE_PLUGIN, "ainode_plugin_slow_load": SLOW_LOAD_PLUGIN})
    running = RunningNode(make_home(root, "ain_model_registration_wait_in_ms=300\n"), site=site)
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


@pytest.fixture
def figures(monkeypatch) -> list:
    """The matplotlib figures the CLI's --plot builds, to read their artists."""
    import ainode_core.plot as plot

    built: list = []
    for name in ("forecast_figure", "detection_figure"):
        original = getattr(plot, name)

        def spy(*args, _original=original, **kwargs):
            built.append(_original(*args, **kwargs))
            return built[-1]
        monkeypatch.setattr(plot, name, spy)
    return built


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
    from tests.test_plot import columns_with, BLUE, BAND

    line, band = columns_with(png, BLUE), columns_with(png, BAND)
    assert line.size and band.size and np.median(band) > np.median(line)  # the band over the forecast's span


def test_cli_forecast_refuses_an_unknown_column_and_bad_options(ainode, hourly_csv):
    code, _, err = ainode("forecast", "naive_forecaster", "--input", str(hourly_csv), "--column", "nope",
                          "--horizon", "3")
    assert code == 2 and "no numeric column 'nope'" in err and "s1, s2" in err
    code, _, err = ainode("forecast", "naive_forecaster", "--input", str(hourly_csv), "--horizon", "3",
                          "--option", "sp")
    assert code == 2 and "KEY=VALUE" in err
    code, _, err = ainode("forecast", "naive_forecaster", "--input", str(hourly_csv), "--horizon", "0")
    assert code == 1 and "error 1599" in err and "output_length" in err


def test_cli_detect_flags_the_spike_and_plots_it(ainode, tmp_path, figures):
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
    (markers,) = figures[-1].axes[0].collections
    assert len(markers.get_offsets()) == 1  # and only that one


# --- catalog, devices, placement -------------------------------------------------------------------------


def test_cli_models_devices_and_placement(ainode):
    code, out, _ = ainode("models")
    header, *rows = table_rows(out)
    assert code == 0 and header == ["ModelId", "ModelType", "Task", "Category", "State", "Reason"]
    assert ["naive_forecaster", "sktime", "forecast", "builtin", "active", ""] in rows
    assert ["gaussian_hmm", "sktime", "anomaly_detection", "builtin", "active", ""] in rows
    code, out, _ = ainode("models", "quantile_demo", "--json")
    assert json.loads(out) == [{"model_id": "quantile_demo", "model_type": "quantile_demo", "task": "forecast",
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


# --- a model used for the wrong task ---------------------------------------------------------------------


@pytest.mark.parametrize("command, model, instead", [
    ("forecast", "gaussian_hmm", "gaussian_hmm is an anomaly-detection model; use `ainode detect gaussian_hmm "
                                 "--input {input}` instead"),
    ("detect", "holtwinters", "holtwinters is a forecasting model; use `ainode forecast holtwinters --input {input} "
                              "--horizon N` instead"),
])
def test_cli_names_the_models_task_and_the_command_to_use_instead(ainode, hourly_csv, command, model, instead):
    horizon = ["--horizon", "5"] if command == "forecast" else []
    code, out, err = ainode(command, model, "--input", str(hourly_csv), "--column", "s1", *horizon)
    assert code == 2 and out == ""
    assert err.splitlines() == [f"ainode {command}: error: {instead.format(input=hourly_csv)}"]  # one line


def test_client_names_the_models_task_and_the_call_to_use_instead(client):
    series = np.sin(np.arange(120) / 5.0)
    with pytest.raises(WrongTaskError) as wrong:
        client.forecast("gaussian_hmm", series, output_length=5)
    assert wrong.value.code == 1512 and wrong.value.task == "anomaly_detection"
    assert str(wrong.value) == ("gaussian_hmm is an anomaly-detection model; use AINodeClient.detect('gaussian_hmm', "
                                "data) instead")
    with pytest.raises(WrongTaskError, match=r"^holtwinters is a forecasting model; use AINodeClient\.forecast"):
        client.detect("holtwinters", series)


# --- plots through the CLI -------------------------------------------------------------------------------


def test_cli_forecast_plot_shows_recent_history_in_one_colour_per_column_on_a_date_axis(ainode, tmp_path, figures):
    import matplotlib.dates as mdates

    from tests.test_plot import column_colour, lines_by_label, same_colour

    path = tmp_path / "minutes.csv"
    times = 1_700_000_000_000 + np.arange(500) * 60_000  # epoch ms, one row a minute (2023-11-14)
    pd.DataFrame({"time": times, "a": np.sin(np.arange(500) / 10), "b": np.cos(np.arange(500) / 10) + 5}).to_csv(
        path, index=False)
    png = tmp_path / "f.png"
    assert ainode("forecast", "naive_forecaster", "--input", str(path), "--horizon", "10", "--plot", str(png))[0] == 0
    axis = figures[-1].axes[0]
    lines = lines_by_label(axis)
    assert len(lines["a"].get_xdata()) == 48  # recent history: max(4 horizons, 48 points), not all 500
    for position, name in enumerate(["a", "b"]):
        assert same_colour(lines[name].get_color(), column_colour(position))
        assert same_colour(lines[f"{name} forecast"].get_color(), column_colour(position))
    assert isinstance(axis.xaxis.get_major_formatter(), mdates.ConciseDateFormatter)
    assert mdates.num2date(axis.get_xlim()[0]).year == 2023  # dates, not raw epoch numbers

    for window, shown in (("all", 500), ("120", 120)):
        ainode("forecast", "naive_forecaster", "--input", str(path), "--horizon", "10", "--plot", str(png),
               "--history", window)
        assert len(lines_by_label(figures[-1].axes[0])["a"].get_xdata()) == shown
    with pytest.raises(SystemExit):  # argparse: exit 2 with the usage
        main(["forecast", "naive_forecaster", "--input", str(path), "--horizon", "1", "--history", "none"])


def test_cli_detect_plot_draws_hmm_states_as_bands_and_flags_nothing(ainode, tmp_path, figures):
    from tests.test_plot import legend_texts

    rng = np.random.default_rng(0)
    values = np.repeat([0.0, 8.0, 0.0, 8.0], 150) + rng.normal(0, 0.3, 600)  # two regimes, not anomalies
    path = tmp_path / "regimes.csv"
    pd.DataFrame({"time": 1_700_000_000_000 + np.arange(600) * 1000, "v": values}).to_csv(path, index=False)
    code, out, _ = ainode("detect", "gaussian_hmm", "--input", str(path), "--option", "n_components=2", "--json",
                          "--plot", str(tmp_path / "hmm.png"))
    labels = [record["v_label"] for record in json.loads(out)]
    assert code == 0 and sorted(set(labels)) == [0.0, 1.0] and labels.count(1.0) == 300  # the model's states
    axis = figures[-1].axes[0]
    assert not axis.collections and not any("flagged" in text for text in legend_texts(axis))
    assert len(axis.patches) == 4 and {"state 0", "state 1"} <= set(legend_texts(axis))  # a band per regime


# --- load --wait ------------------------------------------------------------------------------------------


def test_cli_load_of_an_inactive_model_fails_at_once_with_the_reason(ainode):
    started = time.monotonic()
    code, out, err = ainode("load", "timer_xl", "--devices", "cpu", "--wait")
    assert code == 1 and "successfully" not in out
    assert "timer_xl is inactive, so it cannot be loaded: weights missing (config.json, model.safetensors)" in err
    assert time.monotonic() - started < 10  # at once, not after the 120 s wait


def test_cli_load_wait_shows_progress_and_on_timeout_the_state(ainode):
    code, _, err = ainode("load", "slow_load", "--devices", "cpu", "--wait", "--timeout", "0.5")
    assert code == 1 and "loading slow_load" in err and "0/1 devices" in err
    assert "gave up waiting after 0.5 s; slow_load is on no device of cpu. slow_load is active" in err
    code, _, err = ainode("load", "slow_load", "--devices", "cpu", "--wait", "--timeout", "60")
    assert code == 0 and "1/1 devices" in err
    assert ainode("unload", "slow_load", "--devices", "cpu", "--wait")[0] == 0


# --- one reader for the CLI and the client ----------------------------------------------------------------


def test_cli_and_client_read_a_file_alike(ainode, client, tmp_path):
    path = tmp_path / "daily.csv"
    days = pd.date_range("2024-03-01", periods=40, freq="D")
    pd.DataFrame({"date": days.strftime("%d/%m/%Y"), "load": np.arange(40.0), "site": ["north"] * 40}).to_csv(
        path, index=False)
    code, out, err = ainode("forecast", "naive_forecaster", "--input", str(path), "--horizon", "2", "--json")
    assert code == 0
    notes = [line.removeprefix("note: ") for line in err.splitlines() if line.startswith("note: ")]
    assert "left out column 'site' (text, e.g. 'north'): only numbers are series" in notes
    assert "dates in column 'date' are day-first ('13/03/2024' is 2024-03-13); read them so" in notes
    assert "You might want" not in err  # pandas' own advice stays out
    cli_times = [record["Time"] for record in json.loads(out)]
    assert cli_times == ["2024-04-10T00:00:00", "2024-04-11T00:00:00"]

    with pytest.warns(InputWarning) as warned:
        forecast = client.forecast("naive_forecaster", path, output_length=2)
    assert sorted(str(w.message) for w in warned) == sorted(notes)
    assert [stamp.isoformat() for stamp in forecast.index] == cli_times


def test_client_reads_a_frames_datetime_column_as_time_and_names_text_columns(client):
    frame = pd.DataFrame({"when": pd.date_range("2024-01-01", periods=30, freq="h"), "v": np.arange(30.0),
                          "tag": ["a"] * 30})
    with pytest.warns(InputWarning) as warned:
        forecast = client.forecast("naive_forecaster", frame, output_length=2)
    assert forecast.columns.tolist() == ["v"]  # 'when' is the time, not a series to forecast
    assert forecast.index[0] == pd.Timestamp("2024-01-02 06:00")
    messages = [str(w.message) for w in warned]
    assert "using column 'when' (dates) as the time" in messages
    assert "left out column 'tag' (text, e.g. 'a'): only numbers are series" in messages
    with pytest.raises(AINodeError, match=r"the data has no numeric column \(columns: name\)"):
        client.forecast("naive_forecaster", pd.DataFrame({"name": ["a", "b", "c"]}), output_length=2)


def test_cli_refuses_a_text_column_by_name(ainode, hourly_csv):
    code, _, err = ainode("forecast", "naive_forecaster", "--input", str(hourly_csv), "--column", "label",
                          "--horizon", "3")
    assert code == 2 and "column 'label' holds text, e.g. 'x', not numbers; pick numeric columns (s1, s2)" in err


def test_cli_without_a_time_column_says_rows_are_steps_and_keeps_them_integers(ainode, tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("a\n1\n2\n3\n4\n")
    code, out, err = ainode("forecast", "naive_forecaster", "--input", str(path), "--horizon", "2", "--json")
    assert code == 0 and "rows are used as steps 0..3" in err
    assert [record["Time"] for record in json.loads(out)] == [4, 5]


def test_cli_tells_epoch_seconds_from_milliseconds_by_their_size(ainode, tmp_path):
    path = tmp_path / "seconds.csv"
    pd.DataFrame({"time": 1_700_000_000 + np.arange(30) * 60, "v": np.arange(30.0)}).to_csv(path, index=False)
    code, out, err = ainode("forecast", "naive_forecaster", "--input", str(path), "--horizon", "2", "--json")
    assert code == 0 and "holds epoch seconds" in err
    start = (1_700_000_000 + 30 * 60) * 1000  # milliseconds, one minute after the last row
    assert [record["Time"] for record in json.loads(out)] == [start, start + 60_000]


# --- options a model does not take ------------------------------------------------------------------------


def test_an_option_the_model_lacks_says_which_models_offer_it(client, ainode, hourly_csv):
    series = np.sin(np.arange(60) / 4.0) + 5
    with pytest.raises(AINodeRequestError) as lacking:
        client.forecast("holtwinters", series, output_length=3, quantiles=[0.1, 0.9], sp=12)
    message = str(lacking.value)
    assert "Unknown option" not in message  # not a typo: a feature other models have
    assert ("holtwinters gives point forecasts only, no quantiles; the option 'quantiles' is offered by "
            "chronos2, moirai2, quantile_demo, sundial, toto.") in message
    with pytest.raises(AINodeRequestError, match=r"Unknown option 'trnd' for model holtwinters\. Did you mean "
                                                 r"'trend'\?"):
        client.forecast("holtwinters", series, output_length=3, trnd="add")
    code, _, err = ainode("forecast", "naive_forecaster", "--input", str(hourly_csv), "--horizon", "3",
                          "--quantiles", "0.5")
    assert code == 1 and "naive_forecaster gives point forecasts only, no quantiles" in err
