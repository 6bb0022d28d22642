"""Choosing the encoder: torch (CUDA, MPS, and the reference) or ONNX Runtime (the CPU default).

`open_embedder` is what the CLI and the app call. On a CPU it gives ONNX Runtime, which encodes faster than
torch there and answers a text query without importing torch at all; if the export or ONNX Runtime is not
available it says so in the log and uses torch. `--runtime torch|onnx` (a setting in the app) overrides.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from photofinder.core.encode.onnx_encoder import ExportFailed, OnnxEmbedder
from photofinder.core.encode.preprocess import PreprocessSpec
from photofinder.core.encode.torch_encoder import ClipEmbedder, Embedder
from photofinder.core.errors import PhotofinderError

log = logging.getLogger(__name__)

RUNTIMES = ("auto", "torch", "onnx")

# Generic captions for the int8 check: queries of the kinds people type, none tied to a library.
CAPTIONS = [
    "a dog",
    "a cat",
    "people smiling",
    "a child playing",
    "a birthday cake",
    "a beach at sunset",
    "mountains",
    "a city street at night",
    "a car",
    "food on a plate",
    "a forest",
    "snow",
    "a flower",
    "a document",
    "a screenshot",
    "a group photo",
    "a wedding",
    "a building",
    "the sea",
    "a bird",
    "a red object",
    "a blue sky",
    "a dark photo",
    "a bright photo",
    "text",
    "a face",
    "a landscape",
    "an animal",
    "a drawing",
    "a circle",
    "a star",
    "green grass",
]


def gpu_available() -> bool:
    """A CUDA or MPS device torch can use (imports torch: only asked on the indexing path).

    On Linux a machine without a GPU driver's device files has none for torch either: that is answered without
    importing torch (1.6 s), so a re-index with nothing new to encode stays quick.
    """
    if _no_gpu_device():
        return False
    try:
        import torch
    except ImportError:
        return False
    mps = getattr(torch.backends, "mps", None)
    return bool(torch.cuda.is_available() or (mps is not None and mps.is_available()))


# What a GPU torch can use leaves on Linux: NVIDIA's driver (CUDA) or AMD's kernel driver (ROCm).
GPU_DEVICE_FILES = ("/dev/nvidiactl", "/dev/nvidia0", "/proc/driver/nvidia", "/dev/kfd", "/dev/dxg")


def _no_gpu_device() -> bool:
    """Certainly no GPU for torch (Linux, no driver device); False where only torch can tell (macOS, Windows)."""
    return sys.platform.startswith("linux") and not any(os.path.exists(f) for f in GPU_DEVICE_FILES)


def open_embedder(
    model: str,
    *,
    device: str = "auto",
    runtime: str = "auto",
    purpose: str = "index",
    fast: bool = False,
    download_progress: Callable[[int, int], None] | None = None,
) -> Embedder:
    """The encoder for `model`: torch on a GPU, else ONNX Runtime (falling back to torch with a log line).

    purpose "search" never looks for a GPU (that would import torch for a text query that ONNX answers in
    milliseconds); "index" does. `fast` asks for the int8 vision tower (ONNX only).
    """
    if runtime not in RUNTIMES:
        raise PhotofinderError(f"Unknown runtime {runtime!r}: use one of {', '.join(RUNTIMES)}.")
    if (
        runtime == "torch"
        or device == "gpu"
        or (runtime == "auto" and device == "auto" and purpose == "index" and gpu_available())
    ):
        if runtime == "onnx":
            log.warning("ONNX Runtime encodes on the CPU here; using torch for the GPU")
        return ClipEmbedder(model, device=device, download_progress=download_progress)
    return CpuEmbedder(model, int8=fast, strict=runtime == "onnx", download_progress=download_progress)


class CpuEmbedder:
    """ONNX Runtime on the CPU, or torch when no ONNX export can be had (unless `strict`)."""

    device = "cpu"

    def __init__(
        self,
        model: str,
        *,
        int8: bool = False,
        strict: bool = False,
        download_progress: Callable[[int, int], None] | None = None,
    ):
        self.onnx = OnnxEmbedder(model, int8=int8, download_progress=download_progress)
        self._strict = strict
        self._progress = download_progress
        self._impl: Any = None

    @property
    def model_id(self) -> str:
        return self.onnx.model_id

    @property
    def fingerprint(self) -> str:
        return self.onnx.fingerprint

    @property
    def runtime(self) -> str:
        """'onnx', 'onnx-int8' or 'torch' (after loading)."""
        impl = self._loaded()
        return "torch" if isinstance(impl, ClipEmbedder) else "onnx-int8" if self.onnx.int8 else "onnx"

    def load(self) -> None:
        if self._impl is not None:
            return
        try:
            self.onnx.load()
            self._impl = self.onnx
        except (ExportFailed, ImportError, OSError) as e:
            if self._strict:
                raise PhotofinderError(f"The ONNX runtime can't be used for this model: {e}") from e
            log.warning("ONNX Runtime can't be used for %s (%s): using torch instead", self.model_id, e)
            self._impl = ClipEmbedder(self.onnx.model_ref, device="cpu", download_progress=self._progress)
            self._impl.load()

    def _loaded(self) -> Any:
        if self._impl is None:
            self.load()
        return self._impl

    @property
    def loaded(self) -> bool:
        return self._impl is not None and self._impl.loaded

    def unload(self) -> None:
        if self._impl is not None:
            self._impl.unload()
        self._impl = None

    @property
    def dim(self) -> int:
        return self._loaded().dim

    @property
    def sigmoid(self) -> tuple[float, float] | None:
        return self._loaded().sigmoid

    @property
    def spec(self) -> PreprocessSpec:
        return self._loaded().spec

    def encode_pixels(self, pixels: np.ndarray) -> np.ndarray:
        return self._loaded().encode_pixels(pixels)

    def encode_text(self, texts: list[str]) -> np.ndarray:
        return self._loaded().encode_text(texts)


def int8_agreement(
    fp32: Any, int8: Any, pixels: np.ndarray, captions: list[str] = CAPTIONS, k: int = 10
) -> float:
    """How well int8 keeps fp32's neighbour lists on these photos: mean top-k overlap, 1.0 = identical.

    Two kinds of lists: each photo's k nearest photos in the sample, and each caption's k best photos.
    """
    return agreement_of(fp32.encode_pixels(pixels), int8.encode_pixels(pixels), fp32.encode_text(captions), k)


def agreement_of(a: np.ndarray, b: np.ndarray, t: np.ndarray, k: int = 10) -> float:
    """int8_agreement from vectors already made: the same photos by fp32 (a) and int8 (b), captions by fp32 (t)."""
    k = min(k, len(a) - 1)

    def overlap(x: np.ndarray, y: np.ndarray, skip_self: bool) -> list[float]:
        if skip_self:
            np.fill_diagonal(x, -np.inf)
            np.fill_diagonal(y, -np.inf)
        top_x = np.argsort(-x, axis=1)[:, :k]
        top_y = np.argsort(-y, axis=1)[:, :k]
        return [len(set(p) & set(q)) / k for p, q in zip(top_x, top_y)]

    scores = overlap(a @ a.T, b @ b.T, True) + overlap(t @ a.T, t @ b.T, False)
    return float(np.mean(scores))


INT8_MIN_AGREEMENT = 0.9


def check_int8(catalog: Any, model: str, sample: int = 64) -> tuple[bool, float, str]:
    """Whether int8 may index this library: (ok, agreement, why), measured once on the library's own photos.

    Encodes up to `sample` of its photos and the generic captions with the fp32 and the int8 vision tower and
    compares their top-10 neighbour lists; int8 is used only when they agree on INT8_MIN_AGREEMENT on average.
    The verdict is kept in the catalog (per model), so the check runs once.
    """
    import json

    from photofinder.core.encode.preprocess import to_pixels
    from photofinder.core.photos.decode import UnreadableImage, decode
    from photofinder.core.photos.scanner import scan

    fp32 = OnnxEmbedder(model)
    stored = catalog.get_meta("int8_check")
    if stored:
        verdict = json.loads(stored)
        if verdict.get("fingerprint") == fp32.fingerprint:
            return bool(verdict["ok"]), float(verdict["agreement"]), "checked before"
    found: list[str] = []
    for folder in catalog.folders():
        found += [f.path for f, _ in zip(scan(folder), range(8 * sample))]
    picks = found[:: max(1, len(found) // sample)][:sample]
    spec = fp32.spec
    pixels = []
    for p in picks:
        try:
            pixels.append(to_pixels(decode(p, spec.decode_side).image, spec))
        except UnreadableImage:
            continue
    if len(pixels) < 16:
        return False, 0.0, f"only {len(pixels)} photos to check it on (16 needed)"
    agreement = int8_agreement(fp32, OnnxEmbedder(model, int8=True), np.stack(pixels))
    ok = agreement >= INT8_MIN_AGREEMENT
    catalog.set_meta(
        "int8_check",
        json.dumps(
            {"fingerprint": fp32.fingerprint, "agreement": agreement, "ok": ok, "photos": len(pixels)}
        ),
    )
    return ok, agreement, f"measured on {len(pixels)} of your photos"


PROBE_PHOTOS = 64  # photos of a first index encoded both ways before int8 is decided on
PROBE_MIN = 16


class Int8Probe:
    """`--fast` on any index, a first one included: decided on the first photos it encodes.

    The first PROBE_PHOTOS photos are encoded in fp32 (their vectors are the ones kept) and by the int8 tower
    too; the two sets of neighbour lists are compared (agreement_of) and, from the next batch on, the int8
    tower encodes the rest if they agree on INT8_MIN_AGREEMENT, else fp32 does. The check costs one int8
    pass over those photos (already decoded for fp32), a small part of a run. `decision` says what happened
    (None while deciding); `on_decided(ok, agreement, photos)` lets the caller keep the verdict.
    """

    device = "cpu"

    def __init__(self, fp32: Any, int8: Any, on_decided: Callable[[bool, float, int], None] | None = None):
        self.fp32, self.int8 = fp32, int8
        self._on_decided = on_decided
        self._a: list[np.ndarray] = []
        self._b: list[np.ndarray] = []
        self.decision: tuple[bool, float, int] | None = None
        self.probe_seconds = 0.0

    model_id = property(lambda self: self.fp32.model_id)
    fingerprint = property(lambda self: self.fp32.fingerprint)
    dim = property(lambda self: self.fp32.dim)
    spec = property(lambda self: self.fp32.spec)
    sigmoid = property(lambda self: getattr(self.fp32, "sigmoid", None))

    @property
    def runtime(self) -> str:
        return "onnx-int8" if self.decision and self.decision[0] else "onnx"

    @property
    def loaded(self) -> bool:
        return bool(getattr(self.fp32, "loaded", False))

    def load(self) -> None:
        self.fp32.load()

    def unload(self) -> None:
        self.fp32.unload()
        self.int8.unload()

    def encode_text(self, texts: list[str]) -> np.ndarray:
        return self.fp32.encode_text(texts)

    def encode_pixels(self, pixels: np.ndarray) -> np.ndarray:
        if self.decision is not None:
            return (self.int8 if self.decision[0] else self.fp32).encode_pixels(pixels)
        a = self.fp32.encode_pixels(pixels)
        import time

        t = time.perf_counter()
        self._a.append(a)
        self._b.append(self.int8.encode_pixels(pixels))
        if sum(len(x) for x in self._a) >= PROBE_PHOTOS:
            self._decide()
        self.probe_seconds += time.perf_counter() - t
        return a

    def finish(self) -> tuple[bool, float, int]:
        """The verdict (deciding now on what was encoded, when the index ended before PROBE_PHOTOS)."""
        if self.decision is None:
            self._decide()
        assert self.decision is not None
        return self.decision

    def _decide(self) -> None:
        a = np.concatenate(self._a) if self._a else np.zeros((0, 1), np.float32)
        b = np.concatenate(self._b) if self._b else a
        if len(a) < PROBE_MIN:
            self.decision = (False, 0.0, len(a))
            return  # too few photos to tell: nothing kept, so a later, larger index checks again
        agreement = agreement_of(a, b, self.fp32.encode_text(CAPTIONS))
        self.decision = (agreement >= INT8_MIN_AGREEMENT, agreement, len(a))
        self._a, self._b = [], []
        if self._on_decided is not None:
            self._on_decided(*self.decision)


def stored_int8_verdict(catalog: Any, fingerprint: str) -> tuple[bool, float] | None:
    """A verdict kept by check_int8 or an Int8Probe for this model, if any."""
    import json

    stored = catalog.get_meta("int8_check")
    if stored:
        try:
            verdict = json.loads(stored)
            if verdict.get("fingerprint") == fingerprint:
                return bool(verdict["ok"]), float(verdict["agreement"])
        except (ValueError, KeyError, TypeError):
            return None
    return None


def store_int8_verdict(catalog: Any, fingerprint: str, ok: bool, agreement: float, photos: int) -> None:
    import json

    catalog.set_meta(
        "int8_check",
        json.dumps({"fingerprint": fingerprint, "agreement": agreement, "ok": ok, "photos": photos}),
    )
