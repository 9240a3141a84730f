"""Loading a Chronos-2 checkpoint folder (``config.json`` + ``model.safetensors``) onto a device."""
from __future__ import annotations

from pathlib import Path

from chronos.chronos2 import Chronos2CoreConfig, Chronos2Model, Chronos2Pipeline

from ainode_core.errors import ModelNotReadyError
from ainode_core.models.checkpoints import weights_folder



def load_chronos2(model_id: str, path: Path | None, device: str) -> Chronos2Pipeline:
    """chronos-forecasting's own pipeline around the model, in eval mode on ``device``.

    The model class is fixed (only the two weight files are fetched, the code ships with the node), so the
    config's ``architectures`` entry is not trusted to pick a class.
    """
    folder = weights_folder(model_id, path, "amazon/chronos-2")
    config = Chronos2CoreConfig.from_pretrained(folder)
    if not isinstance(getattr(config, "chronos_config", None), dict):
        raise ModelNotReadyError(
            f"Model {model_id}: {folder / 'config.json'} has no 'chronos_config' section, so it is not a "
            "Chronos-2 checkpoint"
        )
    model = Chronos2Model.from_pretrained(folder, config=config)
    model.to(device)
    model.eval()
    return Chronos2Pipeline(model=model)
