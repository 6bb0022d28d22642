"""Finding a CLIP or SigLIP model on disk (a folder, or the Hugging Face cache, downloading once) and naming what it is."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from photofinder.core.errors import ModelUnavailableError, PhotofinderError, first_line

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
    from photofinder.core.encode.menu import find

    choice = find(ref)
    size = f"about {choice.download_mb:,} MB" if choice else "its size depends on the model"
    kind = "SigLIP" if choice and choice.family == "siglip" else "CLIP"
    return (
        f"The {kind} model {ref!r} could not be loaded: it is not in the local Hugging Face cache and could "
        f"not be downloaded ({first}). Connect to the internet once so it can be downloaded ({size}), "
        "or point photofinder at a local model folder (--model /path/to/model-folder, or Settings > "
        "Model)."
    )


def unloadable(src: str, e: BaseException) -> str:
    """One line for a model folder whose files can't be loaded (truncated or damaged weights, a bad config)."""
    first = first_line(e, 160) or type(e).__name__
    try:
        kind = json.loads((Path(src) / "config.json").read_text(encoding="utf-8")).get("model_type")
    except (OSError, ValueError, AttributeError):
        kind = None
    return (
        f"The {'SigLIP' if kind == SIGLIP else 'CLIP'} model in {src} can't be loaded ({first}): its files may be damaged or incomplete "
        "(a copy or download cut short). Copy or download the model again."
    )


# -- what kind of model a folder holds, and how its text is prepared --------------------------------------------
CLIP, SIGLIP = "clip", "siglip"


def model_kind(folder: str) -> str:
    """CLIP or SIGLIP, from the folder's config.json; ModelUnavailableError for anything else.

    SigLIP 2's fixed-resolution checkpoints (google/siglip2-base-patch32-256, ...) are `siglip` models; its
    NaFlex ones (`siglip2`, variable resolution and aspect) need another input path and are refused.
    """
    try:
        kind = json.loads((Path(folder) / "config.json").read_text(encoding="utf-8")).get("model_type")
    except (OSError, ValueError) as e:
        raise ModelUnavailableError(f"{folder} has no readable config.json ({e}).") from e
    if kind in (CLIP, SIGLIP):
        return str(kind)
    if kind == "siglip2":
        raise ModelUnavailableError(
            f"{folder} is a NaFlex SigLIP 2 model (variable resolution), which photofinder can't run: choose "
            "a fixed-resolution one such as google/siglip2-base-patch32-256."
        )
    raise ModelUnavailableError(
        f"{folder} holds a {kind!r} model; photofinder runs CLIP and SigLIP models (photofinder models lists "
        "a choice)."
    )


@dataclass(frozen=True)
class TextRules:
    """How a model's text is tokenised, as it was trained: CLIP pads to the longest caption of a batch and reads
    its end-of-text token; SigLIP pads every caption to `max_length` (its text tower reads the last position),
    and SigLIP 2 saw lowercased captions only."""

    max_length: int
    pad_to_max: bool = False
    lowercase: bool = False
    padding_side: str = "right"

    def prepare(self, texts: list[str]) -> list[str]:
        return [t.lower() for t in texts] if self.lowercase else list(texts)


def text_rules(folder: str, kind: str, max_length: int, padding_side: str = "right") -> TextRules:
    if kind == CLIP:
        return TextRules(max_length)
    try:
        tok_cfg = json.loads((Path(folder) / "tokenizer_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        tok_cfg = {}
    cls = str(tok_cfg.get("tokenizer_class", ""))
    lowercase = bool(tok_cfg.get("do_lower_case", False)) or cls.startswith(("Gemma", "Siglip2"))
    return TextRules(max_length, pad_to_max=True, lowercase=lowercase, padding_side=padding_side)


def load_transformers(src: str) -> tuple[Any, Any, str]:
    """(model, tokenizer, kind) from a model folder through transformers, safetensors only.

    Raises ModelUnavailableError (not a model photofinder runs) or OSError/ValueError (unreadable files)."""
    kind = model_kind(src)
    if kind == CLIP:
        from transformers import CLIPModel, CLIPTokenizer

        model = CLIPModel.from_pretrained(src, use_safetensors=True, local_files_only=True)
        return model, CLIPTokenizer.from_pretrained(src, local_files_only=True), kind
    from transformers import AutoTokenizer, SiglipModel

    model = SiglipModel.from_pretrained(src, use_safetensors=True, local_files_only=True)
    return model, AutoTokenizer.from_pretrained(src, local_files_only=True), kind


def embedding_dim(model: Any) -> int:
    """The length of the model's vectors: CLIP's projection, SigLIP's text head output (= the vision width)."""
    cfg = model.config
    if getattr(cfg, "model_type", "") == CLIP:
        return int(cfg.projection_dim)
    text = cfg.text_config
    return int(getattr(text, "projection_size", None) or text.hidden_size)


def max_text_length(model: Any) -> int:
    return int(model.config.text_config.max_position_embeddings)


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


def text_closeness(embedder: Any) -> float:
    """How close the model's text queries come to the photos they describe, for tuning the vector index (see
    store's VectorIndex.for_size): CLIP's best photo for a caption scores about TEXT_COSINE (0.3). SigLIP's
    text and photo vectors sit farther apart; a pair is a match from the cosine where its own sigmoid reaches
    one half (-b / t; for the published SigLIP weights this is expected near 0.1, not measured here: the hub
    is out of reach), so the index is tuned at that distance, kept between 0.1 and TEXT_COSINE. Measured on the bench's 768-d library of 100,000 photos whose text
    queries' best photo scores ~0.2: tuned at 0.3 the text recall@10 was 0.94; see docs/scale.md."""
    from photofinder.core.store.vector_index import TEXT_COSINE  # (not at import: faiss is slow to load)

    sigmoid = getattr(embedder, "sigmoid", None)
    if not sigmoid:
        return TEXT_COSINE
    t, b = sigmoid
    return float(min(TEXT_COSINE, max(0.1, -b / t))) if t > 0 else TEXT_COSINE


def text_probes(embedder: Any) -> Any:
    """The model's own vectors of encode.captions.TUNING_CAPTIONS (float32, one row each): the text-like queries
    the vector index is tuned on. None for an embedder that can't encode text (the index then tunes on photo
    vectors pulled to text_closeness)."""
    import numpy as np

    from photofinder.core.encode.captions import TUNING_CAPTIONS

    encode = getattr(embedder, "encode_text", None)
    if encode is None:
        return None
    try:
        vectors = np.asarray(encode(list(TUNING_CAPTIONS)), np.float32)
    except PhotofinderError as e:  # a text tower that can't load: the index tunes without it
        log.warning("no text vectors to tune the index on: %s", first_line(e))
        return None
    if vectors.ndim != 2 or len(vectors) != len(TUNING_CAPTIONS) or not np.isfinite(vectors).all():
        return None
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
