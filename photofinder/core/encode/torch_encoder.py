"""CLIP and SigLIP through Hugging Face transformers: text and images in, L2-normalised float32 vectors out."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from photofinder.core.encode.models import (
    DEFAULT_MODEL,
    DownloadCancelled,
    TextRules,
    embedding_dim,
    fingerprint,
    load_transformers,
    max_text_length,
    model_identity,
    resolve_model,
    text_rules,
    unloadable,
)
from photofinder.core.encode.preprocess import PreprocessSpec
from photofinder.core.errors import ModelUnavailableError

__all__ = ["DEFAULT_MODEL", "ClipEmbedder", "DownloadCancelled", "Embedder", "pick_device"]

log = logging.getLogger(__name__)


class Embedder(Protocol):
    """What the indexer and the search need of a model (tests pass fakes)."""

    @property
    def model_id(self) -> str: ...
    @property
    def fingerprint(self) -> str: ...
    @property
    def dim(self) -> int: ...
    @property
    def spec(self) -> PreprocessSpec: ...
    @property
    def device(self) -> str: ...
    def encode_pixels(self, pixels: np.ndarray) -> np.ndarray: ...
    def encode_text(self, texts: list[str]) -> np.ndarray: ...


def pick_device(preference: str = "auto") -> str:
    """'cuda' > 'mps' > 'cpu' for 'auto'; an explicit 'gpu' takes whichever GPU exists."""
    import torch

    preference = preference.lower()
    if preference == "cpu":
        return "cpu"
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    if preference == "gpu":
        log.warning("a GPU was asked for but none is available: using the CPU")
    return "cpu"


class ClipEmbedder:
    """A CLIP model loaded lazily, on first use, from a hub id or a local folder (safetensors only)."""

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        device: str = "auto",
        download_progress: Callable[[int, int], None] | None = None,
    ):
        """`download_progress(done_bytes, total_bytes)` is called while a first-use download runs; it may
        raise DownloadCancelled to stop the download."""
        self.model_ref = model
        self.download_progress = download_progress
        self.model_id = model_identity(model)
        self._device_pref = device
        self._lock = threading.Lock()
        self._model: Any = None
        self._tokenizer: Any = None
        self._spec: PreprocessSpec | None = None
        self._dim: int | None = None
        self._device: str | None = None
        self._dtype: Any = None
        self._src: str | None = None
        self._fingerprint: str | None = None
        self._rules: TextRules | None = None

    # -- loading -------------------------------------------------------------------------------------------
    def load(self) -> None:
        """Load the weights now (otherwise the first encode does). Raises ModelUnavailableError."""
        with self._lock:
            if self._model is not None:
                return
            import torch
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # "Loading weights" bars on every start say nothing to a user
            src = self._folder()
            try:
                model, tokenizer, kind = load_transformers(src)
            except ModelUnavailableError:
                raise
            except Exception as e:  # noqa: BLE001 - safetensors, json and transformers raise many kinds
                raise ModelUnavailableError(unloadable(src, e)) from e
            device = pick_device(self._device_pref)
            dtype = torch.float16 if device == "cuda" else torch.float32
            model = model.to(device=device, dtype=dtype).eval()
            self._spec = PreprocessSpec.from_processor_config(_read_json(src, "preprocessor_config.json"))
            self._dim = embedding_dim(model)
            self._rules = text_rules(
                src, kind, max_text_length(model), getattr(tokenizer, "padding_side", "right")
            )
            self._device, self._dtype = device, dtype
            self._tokenizer, self._model = tokenizer, model
            log.info("loaded %s on %s (%s)", self.model_id, device, dtype)

    def unload(self) -> None:
        """Free the weights (the next encode loads them again): a model switched away from or long idle."""
        with self._lock:
            model, self._model, self._tokenizer = self._model, None, None
            if model is not None and self._device == "cuda":
                import torch

                del model
                torch.cuda.empty_cache()

    def _folder(self) -> str:
        if self._src is None:
            self._src = resolve_model(self.model_ref, self.download_progress)
        return self._src

    @property
    def fingerprint(self) -> str:
        """What the model is (config and weights), without loading it; resolves (or downloads) it first."""
        if self._fingerprint is None:
            self._fingerprint = fingerprint(self._folder())
        return self._fingerprint

    def _ensure(self) -> None:
        if self._model is None:
            self.load()

    # -- properties ----------------------------------------------------------------------------------------
    @property
    def sigmoid(self) -> tuple[float, float] | None:
        """SigLIP's own score scale (t, b): it reads a text-photo pair as a match with probability
        sigmoid(t * cosine + b). None for CLIP."""
        self._ensure()
        m = self._model
        if getattr(m.config, "model_type", "") == "clip":
            return None
        return float(m.logit_scale.exp().item()), float(m.logit_bias.item())

    @property
    def dim(self) -> int:
        self._ensure()
        assert self._dim is not None
        return self._dim

    @property
    def spec(self) -> PreprocessSpec:
        self._ensure()
        assert self._spec is not None
        return self._spec

    @property
    def device(self) -> str:
        self._ensure()
        assert self._device is not None
        return self._device

    @property
    def loaded(self) -> bool:
        return self._model is not None

    # -- encoding ------------------------------------------------------------------------------------------
    def encode_pixels(self, pixels: np.ndarray) -> np.ndarray:
        """Vectors for a batch of preprocessed images, shape (n, 3, H, W)."""
        import torch

        self._ensure()
        model = self._model  # held here: an unload() meanwhile can't pull it away mid-batch
        t = torch.from_numpy(np.ascontiguousarray(pixels, dtype=np.float32))
        if self._device == "cuda":
            t = t.pin_memory().to("cuda", non_blocking=True)
        t = t.to(device=self._device, dtype=self._dtype)
        with torch.inference_mode():
            out = model.get_image_features(pixel_values=t)
        return _normalise(_features(out))

    def encode_text(self, texts: list[str]) -> np.ndarray:
        import torch

        self._ensure()
        model, tokenizer, rules = (
            self._model,
            self._tokenizer,
            self._rules,
        )  # held here: an unload() meanwhile can't pull them away
        assert rules is not None
        tok = tokenizer(
            rules.prepare(texts),
            padding="max_length" if rules.pad_to_max else True,
            truncation=True,
            max_length=rules.max_length,
            return_tensors="pt",
        )
        tok = {k: v.to(self._device) for k, v in tok.items()}
        with torch.inference_mode():
            out = model.get_text_features(**tok)
        return _normalise(_features(out))


def _features(out: Any) -> Any:
    # transformers 4.x returns the projected tensor; 5.x an output object whose pooler_output is the projection.
    import torch

    return out if isinstance(out, torch.Tensor) else out.pooler_output


def _normalise(t: Any) -> np.ndarray:
    v = t.float().cpu().numpy()
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    return (v / np.maximum(norms, 1e-12)).astype(np.float32)


def _read_json(folder: str, name: str) -> dict[str, Any]:
    path = os.path.join(folder, name)
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)
