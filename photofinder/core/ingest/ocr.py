"""Reading the words in a photo, offline: RapidOCR's PP-OCRv6 models on ONNX Runtime.

The models (detection 10 MB, recognition 21 MB) ship inside the `rapidocr` wheel; they are opened from there
by path, so RapidOCR's own downloader is never reached, and ONNX Runtime's telemetry is switched off before any
session exists. Nothing leaves the machine.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from photofinder.core.errors import LibraryError

log = logging.getLogger(__name__)

READ_SIDE = 1280  # the longer side a photo is read at: a shop sign in a 12 MP photo stays legible
GATE_SIDE = 320  # the longer side the gate's text detector looks at (15-20 ms a photo)
GATE_SIDE_CLOSER = 640  # ... at a photo the embedding takes for text: smaller words are seen (about 50 ms)
TEXT_SHAPE = 2.0  # a detected box this many times wider than tall is a line of text (not a round shape)
TEXT_BOX_SCORE = 0.6
MIN_WORD_SCORE = 0.6  # recognised lines below this confidence are left out (noise read in textures)
_MODELS = {
    "det": "PP-OCRv6_det_small.onnx",
    "rec": "PP-OCRv6_rec_small.onnx",
    "cls": "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
}


class OcrUnavailable(LibraryError):
    """The OCR engine or its models are not installed; str() says what to do."""


@dataclass(frozen=True)
class Line:
    text: str
    score: float
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 as fractions of the upright image


class TextReader:
    """Finds and reads lines of text in images. Loads lazily; one instance may be used from one thread at a time."""

    def __init__(self, threads: int | None = None):
        self.threads = threads
        self._engine = None
        self._lock = threading.Lock()

    def _load(self):
        if self._engine is not None:
            return self._engine
        with self._lock:
            if self._engine is None:
                self._engine = _open_engine(self.threads)
        return self._engine

    def has_text(self, image: Image.Image, side: int = GATE_SIDE) -> bool:
        """Whether a quick look (the detector alone, at `side`) finds a line of text in `image`."""
        small = _fit(image, side)
        out = self._load()(_bgr(small), use_det=True, use_cls=False, use_rec=False)
        if out.boxes is None:
            return False
        for box, score in zip(out.boxes, out.scores):
            b = np.asarray(box, np.float32)
            w, h = np.linalg.norm(b[1] - b[0]), np.linalg.norm(b[3] - b[0])
            if score >= TEXT_BOX_SCORE and max(w, h) >= TEXT_SHAPE * max(1.0, min(w, h)):
                return True
        return False

    def read(self, image: Image.Image) -> list[Line]:
        """The lines of text in `image`, top to bottom, each with its confidence and where it is."""
        img = _fit(image, READ_SIDE)
        # (every flag given: RapidOCR keeps the last call's flags, and has_text turned recognition off)
        out = self._load()(_bgr(img), use_det=True, use_cls=False, use_rec=True)
        if out.txts is None or out.boxes is None:
            return []
        w, h = img.size
        lines = []
        for text, score, box in zip(out.txts, out.scores, out.boxes):
            text = " ".join(str(text).split())
            if not text or float(score) < MIN_WORD_SCORE:
                continue
            b = np.asarray(box, np.float32)
            x0, y0 = b.min(axis=0)
            x1, y1 = b.max(axis=0)
            lines.append(
                Line(
                    text,
                    float(score),
                    (_frac(x0, w), _frac(y0, h), _frac(x1, w), _frac(y1, h)),
                )
            )
        lines.sort(key=lambda ln: (round(ln.box[1], 2), ln.box[0]))
        return lines


def _frac(v: float, whole: int) -> float:
    return round(min(1.0, max(0.0, float(v) / whole)), 4)


def _fit(image: Image.Image, side: int) -> Image.Image:
    image = image.convert("RGB")
    if max(image.size) <= side:
        return image
    scale = side / max(image.size)
    return image.resize(
        (max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.BILINEAR
    )


def _bgr(image: Image.Image) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(image)[:, :, ::-1])


def model_dir() -> Path:
    """Where the wheel put RapidOCR's models."""
    try:
        import rapidocr
    except ImportError as e:
        raise OcrUnavailable(
            "Reading words in photos needs the rapidocr package: pip install rapidocr (or index with --ocr off)."
        ) from e
    return Path(rapidocr.__file__).resolve().parent / "models"


def _open_engine(threads: int | None):
    import onnxruntime

    onnxruntime.disable_telemetry_events()  # before any session: nothing is reported anywhere
    folder = model_dir()
    missing = [name for name in _MODELS.values() if not (folder / name).is_file()]
    if missing:
        raise OcrUnavailable(
            f"The OCR models {', '.join(missing)} are missing from {folder}: reinstall rapidocr "
            "(pip install --force-reinstall rapidocr), or index with --ocr off."
        )
    logging.getLogger("RapidOCR").setLevel(logging.ERROR)
    from rapidocr import RapidOCR

    params = {
        "Global.log_level": "error",
        "Global.use_cls": False,  # text turned upside down is rare in photos; the classifier costs a model run
        "Det.model_path": str(folder / _MODELS["det"]),
        "Rec.model_path": str(folder / _MODELS["rec"]),
        "Cls.model_path": str(folder / _MODELS["cls"]),
        "Det.limit_type": "max",  # never enlarge: images come in at READ_SIDE or GATE_SIDE already
        "Det.limit_side_len": READ_SIDE,
    }
    if threads:
        params["EngineConfig.onnxruntime.intra_op_num_threads"] = int(threads)
    return RapidOCR(params=params)
