"""`ainode sql`: every AINode statement against one running node, IoTDB's table output and messages, the
local SELECT of CALL INFERENCE, syntax errors that point at the bad token, and the interactive prompt."""
from __future__ import annotations

import io
import json
import time
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from safetensors.numpy import save_file

from ainode_core.cli.main import main
from ainode_core.testing.node import RunningNode, make_home

START_MS = 1_700_000_000_000


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    running = RunningNode(make_home(tmp_path_factory.mktemp("sql")))
    yield running
    assert running.stop() == 0


@pytest.fixture
def sql(node, capsys):
    """``ainode sql -e SCRIPT`` in-process: (exit code, stdout, stderr)."""
    def run(script: str, *extra: str) -> tuple[int, str, str]:
        code = main(["sql", "-e", script, "--port", str(node.port), *extra])
        captured = capsys.readouterr()
        return code, captured.out, captured.err
    return run


def rows_of(text: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.split("|")[1:-1]] for line in text.splitlines() if line.startswith("|")]


def wait_for(sql, script: str, predicate, timeout: float = 60) -> list[list[str]]:
    deadline = time.monotonic() + timeout
    while True:
        rows = rows_of(sql(script)[1])
        if predicate(rows[1:]) or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


@pytest.fixture(scope="module")
def data_csv(tmp_path_factory) -> Path:
    """Two series, one point per second from START_MS; s1 = 0, 1, 2, ... so windows are easy to check."""
    path = tmp_path_factory.mktemp("sql-data") / "data.csv"
    pd.DataFrame({"time": START_MS + np.arange(40) * 1000, "s1": np.arange(40, dtype=float),
                  "s2": np.arange(40, dtype=float) * 10}).to_csv(path, index=False)
    return path


# --- SHOW ------------------------------------------------------------------------------------------------


def test_show_models_and_devices_use_iotdb_columns(sql):
    code, out, _ = sql("SHOW MODELS")
    header, *rows = rows_of(out)
    assert code == 0 and header == ["ModelId", "ModelType", "Category", "State"]
    assert ["holtwinters", "sktime", "builtin", "active"] in rows and ["stray", "sktime", "builtin", "active"] in rows
    assert f"Total line number = {len(rows)}" in out

    code, out, _ = sql("show models naive_forecaster;")  # keywords in any case, ';' optional
    assert rows_of(out) == [header, ["naive_forecaster", "sktime", "builtin", "active"]]

    code, out, _ = sql("show ai_devices")
    header, *rows = rows_of(out)
    assert header == ["DeviceId", "DeviceType"] and ["cpu", "cpu"] in rows


def test_load_show_loaded_and_unload(sql):
    code, out, _ = sql("LOAD MODEL holtwinters TO DEVICES 'cpu'")
    assert code == 0 and out.strip() == "Msg: The statement is executed successfully."
    rows = wait_for(sql, "SHOW LOADED MODELS 'cpu'", lambda rows: any(r[1] == "holtwinters" for r in rows))
    assert rows[0] == ["DeviceId", "ModelId", "Count(instances)"]
    assert [r for r in rows[1:] if r[1] == "holtwinters"][0][0] == "cpu"
    code, out, _ = sql("unload model holtwinters from devices cpu")
    assert code == 0 and "successfully" in out
    rows = wait_for(sql, "SHOW LOADED MODELS", lambda rows: all(r[1] != "holtwinters" for r in rows))
    assert all(r[1] != "holtwinters" for r in rows[1:])


def test_create_using_uri_then_drop(sql, tmp_path):
    folder = tmp_path / "shift"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({
        "model_type": "sql_shift", "pipeline_cls": "pipeline.Shift",
        "auto_map": {"AutoConfig": "pipeline.Shift", "AutoModelForCausalLM": "pipeline.Shift"}}))
    save_file({"w": np.zeros(1, dtype=np.float32)}, str(folder / "model.safetensors"))
    (folder / "pipeline.py").write_text(textwrap.dedent('''
        import numpy as np
        from ainode_core.pipelines import ForecastPipeline

        class Shift(ForecastPipeline):
            def forecast(self, inputs, **kw):
                return [np.repeat(i["targets"][:, -1:] + 1, kw["output_length"], axis=1) for i in inputs]
    '''))
    code, out, _ = sql(f"CREATE MODEL sql_shift USING URI 'file://{folder}'")
    assert code == 0 and "successfully" in out
    rows = wait_for(sql, "SHOW MODELS sql_shift", lambda rows: rows and rows[0][3] != "activating")
    assert rows[1] == ["sql_shift", "sql_shift", "user_defined", "active"]
    code, out, _ = sql("DROP MODEL sql_shift")
    assert code == 0 and "successfully" in out
    assert rows_of(sql("SHOW MODELS sql_shift")[1]) == [["ModelId", "ModelType", "Category", "State"]]


def test_create_from_model_on_dataset(sql, tmp_path):
    data = tmp_path / "train.csv"
    pd.DataFrame({"time": START_MS + np.arange(120) * 1000, "v": np.sin(np.arange(120) / 3.0)}).to_csv(data,
                                                                                                  index=False)
    code, out, _ = sql(f"CREATE MODEL sql_tuned WITH HYPERPARAMETERS (max_season_length=50) "
                       f"FROM MODEL holtwinters ON DATASET ('file://{data}')")
    assert code == 0 and "successfully" in out
    rows = wait_for(sql, "SHOW MODELS sql_tuned", lambda rows: rows and rows[0][3] != "training")
    assert rows[1] == ["sql_tuned", "sktime", "fine_tuned", "active"]

    code, _, err = sql("CREATE MODEL other FROM MODEL nope ON DATASET (PATH root.db.**([0, 1000)))")
    assert code == 1 and err.startswith("Msg: 1504: Model [nope] is not registered yet.")


# --- CALL INFERENCE --------------------------------------------------------------------------------------


def test_call_inference_forecasts_a_local_file_window(sql, data_csv):
    code, out, _ = sql(f'CALL INFERENCE(naive_forecaster, "select s1 from \'{data_csv}\' '
                       f'where time >= {START_MS} and time < {START_MS + 10_000}", outputLength=3)')
    header, *rows = rows_of(out)
    assert code == 0 and header == ["Time", "output"]
    # the window ends at s1 = 9 (time START+9s); the forecast continues one second apart
    assert rows == [[str(START_MS + (10 + i) * 1000), "9.0"] for i in range(3)]


def test_call_inference_with_several_columns_and_the_default_length(sql, data_csv):
    code, out, _ = sql(f"call inference(naive_forecaster, 'select s1, s2 from ''{data_csv}'' limit 20')")
    header, *rows = rows_of(out)
    assert code == 0 and header == ["Time", "output0", "output1"]
    assert len(rows) == 96 and rows[0] == [str(START_MS + 20_000), "19.0", "190.0"]  # IoTDB's default length


def test_call_inference_of_an_anomaly_model_keeps_the_input_times(sql, tmp_path):
    values = np.sin(np.arange(100) / 5.0)
    values[60] = 30.0
    path = tmp_path / "spike.csv"
    pd.DataFrame({"time": START_MS + np.arange(100) * 1000, "v": values}).to_csv(path, index=False)
    code, out, _ = sql(f"CALL INFERENCE(stray, \"select * from '{path}'\", outputLength=100)")
    header, *rows = rows_of(out)
    assert code == 0 and header == ["Time", "output"] and len(rows) == 100
    assert [row[0] for row in rows if row[1] == "1.0"] == [str(START_MS + 60_000)]
    # As in IoTDB: without outputLength the first 96 rows are labelled
    code, out, _ = sql(f"CALL INFERENCE(stray, \"select * from '{path}'\")")
    header, *rows = rows_of(out)
    assert code == 0 and len(rows) == 96 and rows[-1][0] == str(START_MS + 95_000)


def test_call_inference_on_iotdb_data_needs_a_datanode(sql):
    code, _, err = sql('CALL INFERENCE(naive_forecaster, "select s1 from root.db.d1")')
    assert code == 1 and err.startswith("Msg: 1512: ") and "--iotdb host:port" in err
    code, _, err = sql('CALL INFERENCE(naive_forecaster, "select s1 from root.db.d1")', "--iotdb", "127.0.0.1:1")
    assert code == 1 and "cannot connect to IoTDB at 127.0.0.1:1" in err


# --- errors ----------------------------------------------------------------------------------------------


def test_a_syntax_error_points_at_the_token(sql):
    code, out, err = sql("SHOW MODLES")
    assert code == 1 and out == ""
    message, source, caret = err.splitlines()
    assert message == "Msg: 700: line 1, column 6: unexpected 'MODLES'; expected one of AI_DEVICES, LOADED, MODELS"
    assert (source, caret) == ("SHOW MODLES", "     ^^^^^^")


def test_the_script_runs_until_the_first_error_which_is_located_in_the_script(sql):
    code, out, err = sql("show ai_devices; show models stray\nload model stray to devices 'cpu' extra")
    assert code == 1
    assert out.count("Total line number") == 2  # both statements before the bad one ran
    message, source, caret = err.splitlines()
    assert message.startswith("Msg: 700: line 2, column 35: unexpected 'extra'")
    assert source == "load model stray to devices 'cpu' extra" and caret == " " * 34 + "^^^^^"


def test_an_error_inside_the_call_inference_query_is_located_too(sql, data_csv):
    statement = f"CALL INFERENCE(naive_forecaster, \"select s1 frm '{data_csv}'\")"
    code, _, err = sql(statement)
    message, source, caret = err.splitlines()
    column = statement.index("frm") + 1
    assert code == 1 and message.startswith(f"Msg: 700: line 1, column {column}: unexpected 'frm'")
    assert caret == " " * (column - 1) + "^^^"


def test_node_errors_print_code_and_message(sql, data_csv):
    code, _, err = sql("DROP MODEL nope")
    assert code == 1 and err.strip() == "Msg: 1504: Model nope does not exist"
    code, _, err = sql("DROP MODEL arima")
    assert err.strip() == "Msg: 1506: Cannot delete built-in model: arima"
    code, _, err = sql(f"CALL INFERENCE(naive_forecaster, \"select s1 from '{data_csv}'\", outputLength=5000)")
    assert err.strip() == "Msg: 1599: Attribute output_length expect value between 1 and 2880, got 5000 instead."


def test_the_interactive_shell_spans_lines_and_keeps_going(node, data_csv, capsys, monkeypatch):
    lines = [
        "show models arima",
        "SHOW MODLES",  # an error: reported, and the shell goes on
        "call inference(naive_forecaster,",  # a statement over two lines
        f"  \"select s2 from '{data_csv}'\", outputLength=2)",
        "quit",
        "show ai_devices",  # never reached
    ]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    assert main(["sql", "--port", str(node.port)]) == 0
    captured = capsys.readouterr()
    assert "| arima" in captured.out and "DeviceType" not in captured.out
    assert "ainode> " in captured.out and "     -> " in captured.out  # the prompt and the continuation prompt
    assert [row for row in rows_of(captured.out) if row[0] != "ModelId"][-2:] == [
        [str(START_MS + 40_000), "390.0"], [str(START_MS + 41_000), "390.0"]]
    assert "line 1, column 6: unexpected 'MODLES'" in captured.err
