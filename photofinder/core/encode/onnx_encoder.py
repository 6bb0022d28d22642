"""CLIP on ONNX Runtime: the CPU encoder, and the one that answers text queries without torch.

The first time a model is used on a CPU its text and vision towers are exported to ONNX (torch.onnx, once per
model), checked against torch on a few inputs, and written atomically to the model cache under the data
directory, in a folder named by the model's fingerprint. From then on, loading the model needs neither torch
nor transformers: ONNX Runtime runs the towers and the `tokenizers` package the model's own tokenizer.json.
An opt-in int8 vision tower (dynamic quantisation of its matrix products) is made beside it on request.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from photofinder.core.encode.models import fingerprint as model_fingerprint
from photofinder.core.encode.models import model_identity, resolve_model
from photofinder.core.encode.onnx_export import export_model
from photofinder.core.encode.onnx_files import (
    EXPORT_VERSION,
    MANIFEST,
    ExportDamaged,
    ExportFailed,
    check_files,
    discard_export,
    forget_file,
    model_cache_root,
    record_file,
)
from photofinder.core.encode.onnx_run import fast_tokenizer, normalise, onnxruntime, session, text_inputs
from photofinder.core.encode.preprocess import PreprocessSpec

__all__ = ["ExportFailed", "OnnxEmbedder", "export_model", "model_cache_root", "quantized_vision"]

log = logging.getLogger(__name__)


class OnnxEmbedder:
    """A CLIP model on ONNX Runtime (CPU), exported from its safetensors weights on first use."""

    device = "cpu"

    def __init__(
        self,
        model: str,
        cache_root: Path | None = None,
        *,
        int8: bool = False,
        threads: int | None = None,
        download_progress: Callable[[int, int], None] | None = None,
    ):
        self.model_ref = model
        self.model_id = model_identity(model)
        self.int8 = int8
        self.download_progress = download_progress
        self._cache_root = cache_root
        self._threads = threads
        self._lock = threading.Lock()
        self._src: str | None = None
        self._fingerprint: str | None = None
        self._meta: dict[str, Any] | None = None
        self._vision: Any = None
        self._text: Any = None
        self._tokenizer: Any = None

    # -- identity and files --------------------------------------------------------------------------------
    def _folder(self) -> str:
        if self._src is None:
            self._src = resolve_model(self.model_ref, self.download_progress)
        return self._src

    @property
    def fingerprint(self) -> str:
        if self._fingerprint is None:
            self._fingerprint = model_fingerprint(self._folder())
        return self._fingerprint

    @property
    def cache_dir(self) -> Path:
        root = self._cache_root or model_cache_root()
        return root / f"{self.fingerprint.replace(':', '-')}-onnx{EXPORT_VERSION}"

    def ensure_exported(self) -> Path:
        """The export folder, made now if it is not there yet (needs torch and transformers, once).

        An export whose manifest, meta.json or tokenizer.json does not match what the export recorded (or was
        recorded for another model) is made again, with one line in the log.
        """
        folder = self.cache_dir
        if (folder / MANIFEST).exists() or (folder / "meta.json").exists():
            try:
                check_files(folder, self.fingerprint, ("meta.json", "tokenizer.json"))
                return folder
            except ExportDamaged as e:
                self._discard(folder, e)
        export_model(self._folder(), folder, self.fingerprint)
        return folder

    def _discard(self, folder: Path, why: Exception) -> None:
        log.warning("the exported model in %s can't be used (%s): exporting it again", folder, why)
        discard_export(folder)
        self._meta = None

    # -- loading -------------------------------------------------------------------------------------------
    def load(self) -> None:
        """Export if need be and read the model's facts. Raises ExportFailed or ModelUnavailableError.

        The towers themselves open on first use: a text query never reads the 350 MB vision tower.
        """
        with self._lock:
            if self._meta is not None:
                return
            folder = self.ensure_exported()
            self._meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))

    def _visionsession(self) -> Any:
        self._ensure()
        with self._lock:
            if self._vision is None:
                self._vision = self._checkedsession("vision.int8.onnx" if self.int8 else "vision.onnx")
                log.info(
                    "loaded %s's vision tower with ONNX Runtime (%s)",
                    self.model_id,
                    "int8" if self.int8 else "fp32",
                )
            return self._vision

    def _textsession(self) -> tuple[Any, Any]:
        meta = self._ensure()
        with self._lock:
            if self._text is None:
                self._text = self._checkedsession("text.onnx")
                self._tokenizer = fast_tokenizer(self.cache_dir, self._meta or meta)
            return self._text, self._tokenizer

    def _checkedsession(self, name: str) -> Any:
        """An ONNX Runtime session of an exported file checked against the manifest first. A damaged export is
        made again (once), a damaged int8 tower quantised again, rather than give wrong vectors or a
        traceback. Called with the lock held."""
        for attempt in (1, 2):
            folder = self.cache_dir
            try:
                if name == "vision.int8.onnx":
                    quantized_vision(folder, self.fingerprint)
                check_files(folder, self.fingerprint, (name,))
                try:
                    return session(folder / name, self._threads)
                except Exception as e:  # noqa: BLE001 - ONNX Runtime refusing a file that passed its check
                    raise ExportDamaged(f"ONNX Runtime can't open {name}: {e}", name) from e
            except ExportDamaged as e:
                if attempt == 2:
                    raise ExportFailed(
                        f"the export in {folder} is still unusable after exporting again: {e}"
                    ) from e
                if e.name == "vision.int8.onnx":
                    log.warning("the int8 vision tower in %s can't be used (%s): making it again", folder, e)
                    forget_file(folder, name)
                    continue
                self._discard(folder, e)
                export_model(self._folder(), folder, self.fingerprint)
                self._meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        raise AssertionError("unreachable")

    def unload(self) -> None:
        with self._lock:
            self._vision = self._text = self._tokenizer = self._meta = None

    @property
    def loaded(self) -> bool:
        return self._meta is not None

    def _ensure(self) -> dict[str, Any]:
        if self._meta is None:
            self.load()
        assert self._meta is not None
        return self._meta

    @property
    def dim(self) -> int:
        return int(self._ensure()["dim"])

    @property
    def sigmoid(self) -> tuple[float, float] | None:
        """SigLIP's own score scale (t, b) (see ClipEmbedder.sigmoid); None for CLIP."""
        meta = self._ensure()
        return (float(meta["logit_scale"]), float(meta["logit_bias"])) if "logit_bias" in meta else None

    @property
    def spec(self) -> PreprocessSpec:
        s = self._ensure()["spec"]
        return PreprocessSpec(
            s["shortest_edge"],
            s["crop_height"],
            s["crop_width"],
            tuple(s["mean"]),
            tuple(s["std"]),
            bool(s.get("squash", False)),
            int(s.get("resample", 3)),
        )

    # -- encoding ------------------------------------------------------------------------------------------
    def encode_pixels(self, pixels: np.ndarray) -> np.ndarray:
        vision = self._visionsession()
        return normalise(
            vision.run(None, {"pixel_values": np.ascontiguousarray(pixels, dtype=np.float32)})[0]
        )

    def encode_text(self, texts: list[str]) -> np.ndarray:
        text, tokenizer = self._textsession()
        meta = self._ensure()
        return normalise(text.run(None, text_inputs(tokenizer, meta, texts))[0])


def quantized_vision(folder: Path, source: str | None = None) -> Path:
    """The int8 vision tower beside the fp32 one, made on first use (a few seconds).

    Every product with a weight matrix is quantised (dynamic, per-tensor int8 weights); the patch embedding
    (a convolution), the layer norms and the attention's activation-by-activation products stay fp32.
    Measured per variant on ViT-B/32 (README, "Runtimes"): keeping the MLP's second products or the attention
    projections in fp32 costs 37 % of the int8 speed, the first and last layers 15 %; what int8 costs in
    agreement is checked on each library's own photos anyway (encoders.check_int8).
    """
    target = folder / "vision.int8.onnx"
    if not target.exists():
        onnxruntime()
        from onnxruntime.quantization import QuantType, quantize_dynamic

        if source is not None:  # made from the checked fp32 tower only
            check_files(folder, source, ("vision.onnx",))

        fd, tmp = tempfile.mkstemp(suffix=".onnx", dir=folder)
        os.close(fd)
        root = logging.getLogger()
        level = root.level
        try:
            root.setLevel(logging.ERROR)  # it logs "consider pre-processing" advice to the root logger
            quantize_dynamic(
                str(folder / "vision.onnx"),
                tmp,
                weight_type=QuantType.QInt8,
                op_types_to_quantize=["MatMul", "Gemm"],  # (a Gemm becomes an int8 MatMul and an Add)
            )
            os.chmod(tmp, 0o600)
            os.replace(tmp, target)
            record_file(folder, target.name)
        finally:
            root.setLevel(level)
            Path(tmp).unlink(missing_ok=True)
    return target
