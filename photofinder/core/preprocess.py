"""The model's input tensor, computed the way CLIPImageProcessor does, but from an already-small image."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)


@dataclass(frozen=True)
class PreprocessSpec:
    """Resize the shorter side to `shortest_edge` (bicubic), centre-crop, scale to 0..1, normalise."""

    shortest_edge: int = 224
    crop_height: int = 224
    crop_width: int = 224
    mean: tuple[float, float, float] = OPENAI_MEAN
    std: tuple[float, float, float] = OPENAI_STD

    @classmethod
    def from_processor_config(cls, cfg: dict[str, Any]) -> PreprocessSpec:
        size = cfg.get("size", 224)
        edge = size.get("shortest_edge", size.get("height", 224)) if isinstance(size, dict) else int(size)
        crop = cfg.get("crop_size", edge)
        ch, cw = (crop.get("height", edge), crop.get("width", edge)) if isinstance(crop, dict) else (crop, crop)
        return cls(int(edge), int(ch), int(cw), tuple(cfg.get("image_mean", OPENAI_MEAN)),
                   tuple(cfg.get("image_std", OPENAI_STD)))

    @property
    def decode_side(self) -> int:
        """How small a photo may be decoded before the bicubic resize.

        JPEG DCT scaling and Image.reduce both average whole blocks, a good low-pass filter, so decoding right
        down to the target size stays within ~0.6/255 of the reference pipeline (tests/unit/test_equivalence.py)
        while a 12 MP photo decodes at 1/8 size.
        """
        return max(self.shortest_edge, self.crop_height, self.crop_width)


def to_pixels(image: Image.Image, spec: PreprocessSpec) -> np.ndarray:
    """(3, crop_height, crop_width) float32, normalised, from an RGB image."""
    return crop_and_normalise(resize_shortest(image, spec), spec)


def resize_shortest(image: Image.Image, spec: PreprocessSpec) -> Image.Image:
    """Bicubic resize of the shorter side to spec.shortest_edge, sizes rounded as CLIPImageProcessor rounds them."""
    w, h = image.size
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = spec.shortest_edge, int(spec.shortest_edge * long / short)
    size = (new_short, new_long) if w <= h else (new_long, new_short)
    return image if size == image.size else image.resize(size, resample=Image.Resampling.BICUBIC)


def crop_and_normalise(image: Image.Image, spec: PreprocessSpec) -> np.ndarray:
    """Centre crop, then (x / 255 - mean) / std per channel, written straight into a (3, H, W) float32 array."""
    w, h = image.size
    top, left = int((h - spec.crop_height) / 2.0), int((w - spec.crop_width) / 2.0)
    arr = np.asarray(image.crop((left, top, left + spec.crop_width, top + spec.crop_height)))
    out = np.empty((3, spec.crop_height, spec.crop_width), np.float32)
    for c in range(3):  # x * (1 / (255 std)) - mean / std: two passes per channel instead of five per array
        np.multiply(arr[:, :, c], np.float32(1 / (255 * spec.std[c])), out=out[c], dtype=np.float32)
        out[c] -= np.float32(spec.mean[c] / spec.std[c])
    return out
