"""Finding a CLIP model on disk (a folder, or the Hugging Face cache, downloading once) and naming what it is."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from photofinder.core.errors import ModelUnavailableError, first_line

log = logging.getLogger(__name__)

DEFAULT_MODEL = "openai/clip-vit-base-patch32"
_PATTERNS = ["*.json", "*.txt", "*.safetensors"]


class DownloadCancelled(Exception):
    """Raised from a download_progress callback to stop a model download."""


def model_identity(model: str) -> str:
    """How a library names its model: an existing local folder by its absolute path, else the hub id as given."""
    p = Path(model).expanduser()
    return str(p.resolve()) if p.is_dir() else model


def resolve_model(ref: str, download_progress: Callable[[int, int], None] | None = None) -> str:
    """A local folder holding the model: the folder given, or the hub snapshot (downloaded if need be).

    Raises ModelUnavailableError with a message for the user; DownloadCancelled when the callback cancels.
    """
    p = Path(ref).expanduser()
    if p.is_dir():
        if not (p / "config.json").exists():
            raise ModelUnavailableError(f"{p} is not a model folder: it has no config.json.")
        return str(p)
    if p.is_absolute() or ref.startswith("."):
        raise ModelUnavailableError(f"The model folder {p} does not exist.")
    from huggingface_hub import snapshot_download

    try:
        return snapshot_download(ref, allow_patterns=_PATTERNS, local_files_only=True)
    except Exception:  # noqa: BLE001 - not cached (or partly): try the network below
        pass
    try:
        return snapshot_download(ref, allow_patterns=_PATTERNS, tqdm_class=_progress_tqdm(download_progress))
    except DownloadCancelled:
        raise
    except Exception as e:  # noqa: BLE001 - hub errors come in many types; all mean "can't get it"
        raise ModelUnavailableError(explain_unavailable(ref, e)) from e


def explain_unavailable(ref: str, e: BaseException) -> str:
    """One message for a model that can't be had, with the cause's first line shortened at a word."""
    first = first_line(e, 160) or type(e).__name__
    return (
        f"The CLIP model {ref!r} could not be loaded: it is not in the local Hugging Face cache and could "
        f"not be downloaded ({first}). Connect to the internet once so it can be downloaded (about 600 MB), "
        "or point photofinder at a local CLIP model folder (--model /path/to/clip-folder, or Settings > "
        "Model)."
    )


def unloadable(src: str, e: BaseException) -> str:
    """One line for a model folder whose files can't be loaded (truncated or damaged weights, a bad config)."""
    first = first_line(e, 160) or type(e).__name__
    return (
        f"The CLIP model in {src} can't be loaded ({first}): its files may be damaged or incomplete "
        "(a copy or download cut short). Copy or download the model again."
    )


def fingerprint(folder: str) -> str:
    """What a model is, wherever it lies: a hash of its config and of its weights files.

    The weights are fingerprinted by their size, their safetensors header (every tensor's name, shape and
    offsets) and their first and last MiB, so a 600 MB model is named in milliseconds, and a retrained or
    other model never shares a name with this one.
    """
    root = Path(folder)
    h = hashlib.sha256()
    for name in ("config.json", "preprocessor_config.json"):
        f = root / name
        if f.exists():
            try:  # formatting and key order do not change the model
                h.update(json.dumps(json.loads(f.read_text(encoding="utf-8")), sort_keys=True).encode())
            except ValueError:
                h.update(f.read_bytes())
    weights = sorted(root.glob("*.safetensors"))
    if not weights:
        raise ModelUnavailableError(f"{root} holds no .safetensors weights (other formats are not loaded).")
    for w in weights:
        size = w.stat().st_size
        h.update(size.to_bytes(8, "little"))
        with open(w, "rb") as f:
            h.update(f.read(1 << 20))
            if size > 2 << 20:
                f.seek(-(1 << 20), os.SEEK_END)
                h.update(f.read())
    return "sha256:" + h.hexdigest()[:32]


def _progress_tqdm(callback: Callable[[int, int], None] | None) -> Any:
    """A tqdm class for huggingface_hub that reports byte progress to `callback` instead of a terminal."""
    from tqdm.auto import tqdm

    if callback is None:
        return None

    class _Reporting(tqdm):  # type: ignore[misc,valid-type]
        def __init__(self, *args: Any, **kwargs: Any):
            kwargs["disable"] = False
            kwargs["file"] = open(os.devnull, "w")  # noqa: SIM115 - closed with the bar
            super().__init__(*args, **kwargs)

        def update(self, n: float | None = 1) -> bool | None:
            r = super().update(n)
            if self.unit == "B":
                callback(int(self.n), int(self.total or 0))
            return r

        def close(self) -> None:
            f = self.fp
            super().close()
            f.close()

    return _Reporting
