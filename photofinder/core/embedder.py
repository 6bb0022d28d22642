"""CLIP through Hugging Face transformers: text and images in, L2-normalised float32 vectors out."""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
from PIL import Image

from .errors import ModelUnavailableError
from .preprocess import PreprocessSpec, to_pixels

log = logging.getLogger(__name__)

# Idle OpenMP threads sleep instead of spinning: on a small CPU the decode threads need those cycles, and the
# model loses nothing measurable (bench/indexing.py). Read by libgomp when torch loads, so set before that.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

DEFAULT_MODEL = "openai/clip-vit-base-patch32"

_MALLOC_TUNED = False


def keep_freed_memory() -> bool:
    """Let glibc keep freed memory for reuse instead of handing it back to the kernel after every tensor.

    torch's CPU allocator mallocs and frees each activation (up to 20 MB at batch 32); with glibc's default
    thresholds every one of them is fresh memory from the kernel, zero-filled page by page: 7,000 page faults
    and 10 ms of kernel time per image, 11 % of the model's CPU. Served from the heap instead, the model alone
    runs 15 % faster (bench/indexing.py, 2 cores). The process keeps up to 256 MB of freed memory around.
    Process-wide and once; glibc only (elsewhere nothing happens).
    """
    global _MALLOC_TUNED
    if _MALLOC_TUNED:
        return True
    import ctypes

    try:  # glibc says so itself, also inside a frozen app (platform.libc_ver reads the executable)
        glibc = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (AttributeError, ValueError, OSError):
        glibc = ""
    if not glibc.startswith("glibc"):
        return False
    try:
        libc = ctypes.CDLL(None)
        m_trim_threshold, m_mmap_threshold = -1, -3
        ok = libc.mallopt(m_mmap_threshold, 32 << 20) == 1  # glibc's largest: bigger blocks are still mmapped
        ok = libc.mallopt(m_trim_threshold, 256 << 20) == 1 and ok
    except (OSError, AttributeError) as e:
        log.debug("malloc thresholds unchanged: %s", e)
        return False
    _MALLOC_TUNED = ok
    return ok


class Embedder(Protocol):
    """What the indexer and the search need of a model (tests pass fakes)."""

    @property
    def model_id(self) -> str: ...
    @property
    def dim(self) -> int: ...
    @property
    def spec(self) -> PreprocessSpec: ...
    @property
    def device(self) -> str: ...
    def encode_pixels(self, pixels: np.ndarray) -> np.ndarray: ...
    def encode_text(self, texts: list[str]) -> np.ndarray: ...


def model_identity(model: str) -> str:
    """What a library records: an existing local folder by its absolute path, else the hub id as given."""
    p = Path(model).expanduser()
    return str(p.resolve()) if p.is_dir() else model


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

    def __init__(self, model: str = DEFAULT_MODEL, device: str = "auto",
                 download_progress: Callable[[int, int], None] | None = None):
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

    # -- loading -------------------------------------------------------------------------------------------
    def load(self) -> None:
        """Load the weights now (otherwise the first encode does). Raises ModelUnavailableError."""
        with self._lock:
            if self._model is not None:
                return
            import torch
            from transformers import CLIPModel, CLIPTokenizer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # "Loading weights" bars on every start say nothing to a user
            keep_freed_memory()
            src = self._resolve()
            try:
                model = CLIPModel.from_pretrained(src, use_safetensors=True)
                tokenizer = CLIPTokenizer.from_pretrained(src)
            except (OSError, ValueError) as e:
                raise ModelUnavailableError(self._explain(e)) from e
            device = pick_device(self._device_pref)
            dtype = torch.float16 if device == "cuda" else torch.float32
            model = model.to(device=device, dtype=dtype).eval()
            self._spec = PreprocessSpec.from_processor_config(_read_json(src, "preprocessor_config.json"))
            self._dim = int(model.config.projection_dim)
            self._device, self._dtype = device, dtype
            self._tokenizer, self._model = tokenizer, model
            log.info("loaded %s on %s (%s)", self.model_id, device, dtype)

    def _resolve(self) -> str:
        """A local folder for the model: the folder given, or the hub snapshot (downloaded if need be)."""
        p = Path(self.model_ref).expanduser()
        if p.is_dir():
            if not (p / "config.json").exists():
                raise ModelUnavailableError(f"{p} is not a model folder: it has no config.json.")
            return str(p)
        if p.is_absolute() or self.model_ref.startswith("."):
            raise ModelUnavailableError(f"The model folder {p} does not exist.")
        from huggingface_hub import snapshot_download

        patterns = ["*.json", "*.txt", "*.safetensors"]
        try:
            return snapshot_download(self.model_ref, allow_patterns=patterns, local_files_only=True)
        except Exception:  # noqa: BLE001 - not cached (or partly): try the network below
            pass
        try:
            return snapshot_download(self.model_ref, allow_patterns=patterns,
                                     tqdm_class=_progress_tqdm(self.download_progress))
        except DownloadCancelled:
            raise
        except Exception as e:  # noqa: BLE001 - hub errors come in many types; all mean "can't get it"
            raise ModelUnavailableError(self._explain(e)) from e

    def _explain(self, e: Exception) -> str:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        return (f"The CLIP model {self.model_ref!r} could not be loaded: it is not in the local Hugging Face cache "
                f"and could not be downloaded ({first[:160]}). Connect to the internet once so it can be "
                "downloaded (about 600 MB), or point photofinder at a local CLIP model folder "
                "(--model /path/to/clip-folder, or Settings > Model).")

    def _ensure(self) -> None:
        if self._model is None:
            self.load()

    # -- properties ----------------------------------------------------------------------------------------
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
        t = torch.from_numpy(np.ascontiguousarray(pixels, dtype=np.float32))
        if self._device == "cuda":
            t = t.pin_memory().to("cuda", non_blocking=True)
        t = t.to(device=self._device, dtype=self._dtype)
        with torch.inference_mode():
            out = self._model.get_image_features(pixel_values=t)
        return _normalise(_features(out))

    def encode_text(self, texts: list[str]) -> np.ndarray:
        import torch

        self._ensure()
        max_len = int(self._model.config.text_config.max_position_embeddings)
        tok = self._tokenizer(texts, padding=True, truncation=True, max_length=max_len, return_tensors="pt")
        tok = {k: v.to(self._device) for k, v in tok.items()}
        with torch.inference_mode():
            out = self._model.get_text_features(**tok)
        return _normalise(_features(out))

    def encode_image(self, image: Image.Image) -> np.ndarray:
        """The vector of one upright RGB image (a query)."""
        return self.encode_pixels(to_pixels(image, self.spec)[None])[0]


class DownloadCancelled(Exception):
    """Raised from a download_progress callback to stop a model download."""


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
