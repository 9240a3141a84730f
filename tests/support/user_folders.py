"""A model folder as a user writes it for Apache IoTDB's AINode (``CREATE MODEL ... USING URI``)."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

# Written against Apache's AINode, in the shape its docs give: a transformers config and model named in
# auto_map (the base pipeline loads ``self.model`` from them), a pipeline that subclasses IoTDB's
# ForecastPipeline and works on torch tensors.
CONFIGURATION = '''
from transformers import PretrainedConfig


class ShiftConfig(PretrainedConfig):
    model_type = "shift"

    def __init__(self, patch=1, **kwargs):
        self.patch = patch
        super().__init__(**kwargs)
'''

MODELING = '''
import torch
from transformers import PreTrainedModel

from .configuration_shift import ShiftConfig
from .helper import OFFSET


class ShiftModel(PreTrainedModel):
    """Forecasts the last value plus a learned offset (from the weights) plus a module constant."""

    config_class = ShiftConfig

    def __init__(self, config):
        super().__init__(config)
        self.offset = torch.nn.Parameter(torch.zeros(1))

    def generate(self, inputs, max_new_tokens):
        last = inputs[..., -1:]
        return last.repeat_interleave(max_new_tokens, dim=-1) + self.offset + OFFSET
'''

PIPELINE = '''
import torch
from iotdb.ainode.core.exception import InferenceModelInternalException
from iotdb.ainode.core.inference.pipeline.basic_pipeline import ForecastPipeline


class ShiftPipeline(ForecastPipeline):
    def __init__(self, model_info, **model_kwargs):
        super().__init__(model_info, **model_kwargs)

    def _preprocess(self, inputs, **infer_kwargs):
        for item in inputs:
            if not isinstance(item["targets"], torch.Tensor):
                raise InferenceModelInternalException("targets must arrive as tensors")
        return torch.stack([item["targets"] for item in inputs], dim=0)  # [batch, targets, length]

    def forecast(self, inputs, **infer_kwargs):
        return self.model.generate(inputs, max_new_tokens=infer_kwargs.get("output_length", 96))

    def _postprocess(self, outputs, **infer_kwargs):
        return [outputs[i] for i in range(outputs.size(0))]  # [targets, output_length] each
'''


def model_folder(root: Path, name: str, model_type: str, offset: float, import_delay: float = 0.0) -> Path:
    """A model folder as a user writes it for Apache's AINode; it forecasts last value + 2*offset."""
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({
        "model_type": model_type,
        "auto_map": {"AutoConfig": "configuration_shift.ShiftConfig",
                     "AutoModelForCausalLM": "modeling_shift.ShiftModel"},
        "pipeline_cls": "pipeline_shift.ShiftPipeline",
        "patch": 1,
    }))
    save_file({"offset": np.array([offset], dtype=np.float32)}, str(folder / "model.safetensors"))
    (folder / "helper.py").write_text(
        f"import time\ntime.sleep({import_delay})\nOFFSET = {offset}\n")  # same module name in every folder
    (folder / "configuration_shift.py").write_text(textwrap.dedent(CONFIGURATION))
    (folder / "modeling_shift.py").write_text(textwrap.dedent(MODELING))
    (folder / "pipeline_shift.py").write_text(textwrap.dedent(PIPELINE))
    return folder
