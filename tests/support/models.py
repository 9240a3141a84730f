"""A throw-away plugin distribution used by the node tests (before/without the built-in plugins), and tiny
weights for the built-in foundation models."""
import shutil
from pathlib import Path

TEST_PLUGIN = '''
import time
import numpy as np
from ainode_core import hookimpl, ModelTypeSpec, BuiltinModel
from ainode_core.errors import InvalidInferenceConfigError
from ainode_core.pipelines import ForecastPipeline, AnomalyDetectionPipeline


class LastValuePipeline(ForecastPipeline):
    """Repeats each target's last non-null value, plus each future covariate (so covariates are visible) and
    the option ``add``."""

    def forecast(self, inputs, **kw):
        outputs = []
        for item in inputs:
            targets = item["targets"]
            last = np.array([row[~np.isnan(row)][-1] for row in targets])
            out = np.repeat(last[:, None], kw["output_length"], axis=1)
            for values in item["future_covariates"].values():
                out = out + values[None, :]
            outputs.append(out + float(kw.get("add", 0)))  # an option, to see that options arrive
        return outputs


class SlowPipeline(ForecastPipeline):
    """Sleeps ``sleep`` seconds, then answers zeros (or, with ``fail=1``, fails)."""

    def forecast(self, inputs, **kw):
        time.sleep(float(kw.get("sleep", 2)))
        if str(kw.get("fail", "0")) == "1":
            raise RuntimeError("failed after sleeping")
        return [np.zeros((item["targets"].shape[0], kw["output_length"])) for item in inputs]


class HangPipeline(ForecastPipeline):
    """With option hang=1 never comes back (for ten minutes), like a model stuck in native code."""

    def forecast(self, inputs, **kw):
        if str(kw.get("hang", "0")) == "1":
            time.sleep(600)
        return [np.full((item["targets"].shape[0], kw["output_length"]), 7.0) for item in inputs]


class PickyPipeline(ForecastPipeline):
    """Refuses a whole call when any input starts with a negative value (as a model that validates its batch
    would), naming the input by its position in the call; otherwise repeats each last value."""

    def forecast(self, inputs, **kw):
        for index, item in enumerate(inputs):
            if item["targets"][0, 0] < 0:
                raise InvalidInferenceConfigError(f"input {index} starts with a negative value")
        return [np.repeat(item["targets"][:, -1:], kw["output_length"], axis=1) for item in inputs]


class CrashPipeline(ForecastPipeline):
    def forecast(self, inputs, **kw):
        raise RuntimeError("this model always crashes")


class ProcessKillerPipeline(ForecastPipeline):
    """With option die=1 it ends its whole process, as a segfault in native code would."""

    def forecast(self, inputs, **kw):
        import os
        if str(kw.get("die", "0")) == "1":
            os._exit(17)
        return [np.full((item["targets"].shape[0], kw["output_length"]), float(os.getpid())) for item in inputs]


class TorchThreadsPipeline(ForecastPipeline):
    """Answers with the number of threads torch gives its CPU kernels in this instance."""

    def forecast(self, inputs, **kw):
        import torch
        return [np.full((item["targets"].shape[0], kw["output_length"]), float(torch.get_num_threads()))
                for item in inputs]


class CallCountingPipeline(ForecastPipeline):
    """Declares a warm-up; answers with the number of forecasts its instance has run, this one included."""

    warm_up_shape = (16, 2)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls = 0

    def forecast(self, inputs, **kw):
        self.calls += 1
        return [np.full((item["targets"].shape[0], kw["output_length"]), float(self.calls)) for item in inputs]


class NanFlagPipeline(AnomalyDetectionPipeline):
    def detect(self, inputs, **kw):
        return [np.isnan(item["targets"]).astype(float) for item in inputs]


@hookimpl
def ainode_register_model_types():
    return [
        ModelTypeSpec("lastvalue", LastValuePipeline, builtin_models=(BuiltinModel("last_value"),)),
        ModelTypeSpec("slowtype", SlowPipeline, builtin_models=(BuiltinModel("slow_model"),)),
        ModelTypeSpec("pickytype", PickyPipeline, builtin_models=(BuiltinModel("picky_model"),)),
        ModelTypeSpec("hangtype", HangPipeline, builtin_models=(BuiltinModel("hang_model"),)),
        ModelTypeSpec("crashtype", CrashPipeline, builtin_models=(BuiltinModel("crash_model"),)),
        ModelTypeSpec("killertype", ProcessKillerPipeline, builtin_models=(BuiltinModel("process_killer"),)),
        ModelTypeSpec("torchthreads", TorchThreadsPipeline, builtin_models=(BuiltinModel("torch_threads"),)),
        ModelTypeSpec("callcounting", CallCountingPipeline, builtin_models=(BuiltinModel("call_counting"),)),
        ModelTypeSpec("nanflag", NanFlagPipeline, tasks=("anomaly_detection",),
                      builtin_models=(BuiltinModel("nan_flag", task="anomaly_detection"),)),
    ]
'''

# Engine tests: a fake accelerator with a known memory size, models of a known size, and a load counter.
ENGINE_PLUGIN = '''
import os
import numpy as np
from ainode_core import hookimpl, ModelTypeSpec, BuiltinModel, DeviceBackend, DeviceInfo
from ainode_core.pipelines import ForecastPipeline

MB = 2**20


class MeanPipeline(ForecastPipeline):
    def forecast(self, inputs, **kw):
        return [np.repeat(np.nanmean(item["targets"], axis=1, keepdims=True), kw["output_length"], axis=1)
                for item in inputs]


@hookimpl
def ainode_register_device_backends():
    return [DeviceBackend("fakegpu", lambda: [DeviceInfo("5", "cuda", "cpu", 1000 * MB)])]


@hookimpl
def ainode_register_model_types():
    return [ModelTypeSpec("sized", MeanPipeline, estimated_size_bytes=100 * MB,
                          builtin_models=(BuiltinModel("sized_a"), BuiltinModel("sized_b"),
                                          BuiltinModel("sized_pinned")))]


@hookimpl
def ainode_choose_instance_count(model_id, formula_count):
    """A placement policy: sized_pinned always gets exactly 2 instances; other models keep the formula."""
    return 2 if model_id == "sized_pinned" else None


@hookimpl
def ainode_model_loaded(model_id, device_id, load_seconds):
    with open(os.environ["LOAD_LOG"], "a") as log:
        log.write(f"{model_id} {device_id}\\n")
'''


TIMER_FIXTURES = Path(__file__).resolve().parents[2] / "plugins/builtin_timer/tests/fixtures"
MOMENT_FIXTURES = Path(__file__).resolve().parents[2] / "plugins/moment/tests/fixtures"
MOIRAI_FIXTURES = Path(__file__).resolve().parents[2] / "plugins/moirai/tests/fixtures"


def place_builtin_weights(home: Path) -> None:
    """Tiny random-weight checkpoints in the official formats where an offline operator puts the real ones,
    so the foundation models (timer_xl, sundial, chronos2, toto, moment, moirai2) are active without the hub."""
    from ainode_plugin_chronos2.testing import save_tiny_chronos2
    from ainode_plugin_toto.testing import save_tiny_toto

    builtin = home / "data/ainode/models/builtin"
    shutil.copytree(TIMER_FIXTURES / "timer_p24", builtin / "timer_xl")
    shutil.copytree(TIMER_FIXTURES / "sundial_o48", builtin / "sundial")
    save_tiny_chronos2(builtin / "chronos2")
    save_tiny_toto(builtin / "toto")
    shutil.copytree(MOMENT_FIXTURES / "moment_tiny", builtin / "moment")
    shutil.copytree(MOIRAI_FIXTURES / "moirai2_tiny", builtin / "moirai2")
