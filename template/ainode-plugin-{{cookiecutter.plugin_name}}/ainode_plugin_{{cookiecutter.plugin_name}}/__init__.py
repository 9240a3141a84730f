"""ainode-plugin-{{ cookiecutter.plugin_name }}: registers the `{{ cookiecutter.model_type }}` model type with ainode."""
from __future__ import annotations

from ainode_core import BuiltinModel, ModelTypeSpec, hookimpl
from ainode_plugin_{{ cookiecutter.plugin_name }}.pipeline import Pipeline

MODEL_TYPE = "{{ cookiecutter.model_type }}"


@hookimpl
def ainode_register_model_types() -> list[ModelTypeSpec]:
    return [
        ModelTypeSpec(
            model_type=MODEL_TYPE,
            pipeline_cls=Pipeline,
            tasks=("forecast",),
            builtin_models=(
                # TODO: hf_repo_id="org/repo" if your model needs weights (fetched into the node's model folder).
                BuiltinModel(model_id=MODEL_TYPE, task="forecast", description="{{ cookiecutter.description }}",
                             config={"drift_window": 16}, hf_repo_id=None, weight_files=()),
            ),
            description="{{ cookiecutter.description }}",
            capabilities=frozenset({"batching"}),
            estimated_size_bytes=1 << 20,  # TODO: your model's size in memory, or None to measure after loading
        )
    ]
