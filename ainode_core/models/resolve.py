"""Find a model type's spec in a fresh process (a fine-tuning or an isolated inference worker).

Plugins installed as distributions are found through their entry points as in the node; a user model's
type lives in its model folder, which the node registered at run time, so the folder travels along.
"""
from __future__ import annotations

from pathlib import Path

from ainode_core.errors import ModelNotReadyError
from ainode_core.records import ModelTypeSpec


def resolve_model_type(model_type: str, type_folder: str | None, folder_model_id: str) -> ModelTypeSpec:
    from ainode_core.models import folders
    from ainode_core.plugins import get_plugin_manager

    plugins = get_plugin_manager()
    name = folders.plugin_name(folder_model_id)
    if type_folder and name not in plugins.plugins:
        plugins.add_plugin(folders.FolderPlugin(folders.load_folder_spec(Path(type_folder))), name,
                           source=f"model folder {type_folder}")
    registered = plugins.model_type(model_type)
    if registered is None:
        raise ModelNotReadyError(f"model_type {model_type} is not served by any plugin in this process")
    return registered.record


def type_folder_of(catalog, model_type: str) -> tuple[str | None, str]:
    """(folder of the user model defining ``model_type`` or None, that model's id)."""
    from ainode_core.models.record import Category

    for record in catalog.list():
        if record.category is Category.USER_DEFINED and record.model_type.lower() == model_type.lower():
            return str(catalog.model_dir(record)), record.model_id
    return None, ""
