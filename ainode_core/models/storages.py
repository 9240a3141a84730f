"""The core's model storages: ``file://`` folders and ``hf://org/repo`` on the HuggingFace hub."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

from ainode_core.errors import InvalidURIError

MODEL_FILES = ("config.json", "model.safetensors")


def fetch_file_uri(uri: str, destination: Path, progress: Callable[[str], None] = lambda _: None) -> None:
    from ainode_core.models.record import parse_uri_scheme

    _, path_text = parse_uri_scheme(uri)
    source = Path(path_text)
    if not source.is_dir():
        raise InvalidURIError(f"Invalid URI {uri!r}: {source} is not a folder")
    missing = [name for name in MODEL_FILES if not (source / name).is_file()]
    if missing:
        raise InvalidURIError(f"Invalid URI {uri!r}: the folder lacks {', '.join(missing)}")
    for item in sorted(source.iterdir()):
        if item.name.startswith(".") or item.name == "__pycache__":
            continue
        progress(f"copying {item.name}")
        if item.is_dir():
            shutil.copytree(item, destination / item.name)
        else:
            shutil.copy2(item, destination / item.name)


def fetch_hf_uri(uri: str, destination: Path, progress: Callable[[str], None] = lambda _: None) -> None:
    """Download the model files and the repo's .py files (tqdm progress from huggingface_hub)."""
    from huggingface_hub import snapshot_download

    repo_id = uri.split("://", 1)[1].strip("/")
    if repo_id.count("/") != 1:
        raise InvalidURIError(f"Invalid URI {uri!r}: use hf://<organisation>/<repository>")
    progress(f"downloading {repo_id}")
    try:
        snapshot_download(repo_id=repo_id, local_dir=destination, allow_patterns=[*MODEL_FILES, "*.py"])
    except Exception as exc:
        raise InvalidURIError(
            f"Cannot download {repo_id} from the HuggingFace hub ({type(exc).__name__}: {exc}). "
            "Check the network, or download the folder elsewhere and register it with file:///path."
        ) from exc
