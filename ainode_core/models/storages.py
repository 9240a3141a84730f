"""The core's model storages: ``file://`` folders and ``hf://org/repo`` on the HuggingFace hub."""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from ainode_core.errors import CreateModelError, InvalidURIError

MODEL_FILES = ("config.json", "model.safetensors")  # what a hub download fetches
# What a local folder must hold: a model without weights (a statistical one, or one that builds its own) is fine;
# a pipeline that needs weights says so when it loads.
REQUIRED_FILES = ("config.json",)
MIB = 1024 * 1024
_CHUNK = MIB


@dataclass(frozen=True)
class FolderFile:
    """One file to copy: where it lands (relative to the model folder), what is read, its size when planned."""

    relative: Path
    source: Path
    size: int


def plan_folder_copy(folder: Path, max_bytes: int | None = None) -> list[FolderFile]:
    """The files of a model folder, checked before a byte is copied.

    Refused, naming the file: a symbolic link whose target lies outside the folder (it would copy in whatever
    it points at, e.g. /etc/passwd, past ``ain_model_uri_allowed_roots``), a link to a folder (it may loop), a
    broken link, and anything that is not a regular file (a FIFO would block the copy). A link to a file inside
    the folder is copied as that file's content: it exposes nothing the folder does not hold, and the copy is
    then a plain folder with no link leading back into the user's. Hidden entries and ``__pycache__`` are
    skipped. With ``max_bytes``, a folder whose file sizes (a sparse file at its full size) add up to more is
    refused before anything is written.
    """
    root = Path(os.path.realpath(folder))
    planned: list[FolderFile] = []
    pending = [root]
    while pending:
        directory = pending.pop()
        with os.scandir(directory) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.name.startswith(".") or entry.name == "__pycache__":
                    continue
                path = Path(entry.path)
                relative = path.relative_to(root)
                if entry.is_symlink():
                    planned.append(_linked_file(root, path, relative))
                elif entry.is_dir(follow_symlinks=False):
                    pending.append(path)
                elif entry.is_file(follow_symlinks=False):
                    planned.append(FolderFile(relative, path, entry.stat(follow_symlinks=False).st_size))
                else:
                    raise CreateModelError(
                        f"{path} in model folder {root} is not a regular file (a FIFO, socket or device); "
                        "remove it from the folder and register again")
    if max_bytes is not None:
        check_model_size(sum(f.size for f in planned), max_bytes, f"model folder {root}")
    return planned


def _linked_file(root: Path, link: Path, relative: Path) -> FolderFile:
    target = Path(os.path.realpath(link))
    if target != root and root not in target.parents:
        raise CreateModelError(
            f"{link} in model folder {root} is a symbolic link to {target}, outside the folder; links are not "
            "followed out of a model folder: put the file itself in the folder (e.g. copy the folder with "
            "'cp -rL') and register again")
    try:
        info = target.stat()
    except OSError:
        raise CreateModelError(
            f"{link} in model folder {root} is a broken symbolic link; remove it or put the file itself there"
        ) from None
    if stat.S_ISDIR(info.st_mode):
        raise CreateModelError(
            f"{link} in model folder {root} is a symbolic link to a folder; replace the link with the folder "
            "itself and register again")
    if not stat.S_ISREG(info.st_mode):
        raise CreateModelError(
            f"{link} in model folder {root} links to {target}, which is not a regular file; remove it from the "
            "folder and register again")
    return FolderFile(relative, target, info.st_size)


def check_model_size(total_bytes: int, max_bytes: int, what: str) -> None:
    """``what``: the model as the message names it (its folder, its URI)."""
    if total_bytes > max_bytes:
        raise CreateModelError(
            f"{what} holds {total_bytes / MIB:.1f} MiB of files, more than the "
            f"{max_bytes // MIB} MiB a model may have (ain_model_max_size_in_mb); remove files the model does "
            "not need, or raise ain_model_max_size_in_mb in conf/iotdb-ainode.properties")


def folder_size(folder: Path) -> int:
    """Bytes of the regular files under ``folder`` (links not followed)."""
    return sum(entry.stat(follow_symlinks=False).st_size for entry in _walk_files(Path(folder)))


def _walk_files(folder: Path) -> Iterator[os.DirEntry]:
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                yield from _walk_files(Path(entry.path))
            elif entry.is_file(follow_symlinks=False):
                yield entry


def copy_planned(files: list[FolderFile], destination: Path) -> None:
    """Copy each planned file, re-checking at the copy what the plan saw: the file is opened without
    following a link (one swapped in since the plan is refused) and never copied past its planned size (one
    that grew since is refused), so the copy is what the plan checked."""
    for item in files:
        target = destination / item.relative
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            source_fd = os.open(item.source, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError as exc:
            raise CreateModelError(
                f"cannot read {item.source} ({exc.strerror}); it changed while being copied (or it is a link "
                "now): register again once the folder is settled") from None
        with os.fdopen(source_fd, "rb") as source, open(target, "wb") as copy:
            if not stat.S_ISREG(os.fstat(source.fileno()).st_mode):
                raise CreateModelError(f"{item.source} is no longer a regular file; register again")
            left = item.size
            while left > 0:
                chunk = source.read(min(_CHUNK, left))
                if not chunk:
                    break
                copy.write(chunk)
                left -= len(chunk)
            if source.read(1):
                raise CreateModelError(
                    f"{item.source} grew while being copied; register again once the folder is settled")


def fetch_file_uri(uri: str, destination: Path, progress: Callable[[str], None] = lambda _: None) -> None:
    """Copy a local model folder (see :func:`plan_folder_copy` for what is refused)."""
    from ainode_core.models.record import parse_uri_scheme

    _, path_text = parse_uri_scheme(uri)
    source = Path(path_text)
    if not source.is_dir():
        raise InvalidURIError(f"Invalid URI {uri!r}: {source} is not a folder")
    missing = [name for name in REQUIRED_FILES if not (source / name).is_file()]
    if missing:
        raise InvalidURIError(f"Invalid URI {uri!r}: the folder lacks {', '.join(missing)}")
    files = plan_folder_copy(source)  # the size limit was checked at CREATE MODEL, and is again after the copy
    progress(f"copying {len(files)} files")
    copy_planned(files, destination)


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
