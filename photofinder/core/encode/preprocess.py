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
    """Resize the shorter side to `shortest_edge` (bicubic), centre-crop, scale to 0..1, normalise (CLIP).

    `squash`: resize the whole photo to crop_width x crop_height, whatever its aspect, with `resample`, no crop
    (SiglipImageProcessor: SigLIP and SigLIP 2 saw their training images that way).
    """

    shortest_edge: int = 224
    crop_height: int = 224
    crop_width: int = 224
    mean: tuple[float, float, float] = OPENAI_MEAN
    std: tuple[float, float, float] = OPENAI_STD
    squash: bool = False
    resample: int = 3  # PIL's numbering: 2 bilinear, 3 bicubic

    @classmethod
    def from_processor_config(cls, cfg: dict[str, Any]) -> PreprocessSpec:
        size = cfg.get("size", 224)
        kind = str(cfg.get("image_processor_type", ""))
        if kind.startswith("Siglip") or (
            isinstance(size, dict)
            and "height" in size
            and "crop_size" not in cfg
            and not cfg.get("do_center_crop")
        ):
            h, w = (size["height"], size["width"]) if isinstance(size, dict) else (int(size), int(size))
            return cls(
                min(int(h), int(w)),
                int(h),
                int(w),
                tuple(cfg.get("image_mean", (0.5, 0.5, 0.5))),
                tuple(cfg.get("image_std", (0.5, 0.5, 0.5))),
                squash=True,
                resample=int(cfg.get("resample", 3)),  # SiglipImageProcessor's own default
            )
        edge = size.get("shortest_edge", size.get("height", 224)) if isinstance(size, dict) else int(size)
        crop = cfg.get("crop_size", edge)
        ch, cw = (
            (crop.get("height", edge), crop.get("width", edge)) if isinstance(crop, dict) else (crop, crop)
        )
        return cls(
            int(edge),
            int(ch),
            int(cw),
            tuple(cfg.get("image_mean", OPENAI_MEAN)),
            tuple(cfg.get("image_std", OPENAI_STD)),
        )

    @property
    def decode_side(self) -> int:
        """How small a photo may be decoded before the bicubic resize.

        JPEG DCT scaling and Image.reduce both average whole blocks, a good low-pass filter, so decoding right
        down to the target size stays within ~0.6/255 of the reference pipeline (tests/unit/test_equivalence.py)
        while a 12 MP photo decodes at 1/8 size.
        """
        return max(self.shortest_edge, self.crop_height, self.crop_width)


def resized_size(width: int, height: int, spec: PreprocessSpec) -> tuple[int, int]:
    """The size CLIPImageProcessor resizes to: shorter side to spec.shortest_edge, the longer side truncated."""
    short, long = (width, height) if width <= height else (height, width)
    new_short, new_long = spec.shortest_edge, int(spec.shortest_edge * long / short)
    return (new_short, new_long) if width <= height else (new_long, new_short)


def to_pixels(image: Image.Image, spec: PreprocessSpec) -> np.ndarray:
    """(3, crop_height, crop_width) float32, normalised, from an RGB image.

    The same numbers as a bicubic resize of the whole image followed by a centre crop (within one level on a
    few pixels, from rounding), but only the cropped part is resampled: Pillow's `box` maps the crop back onto
    the source with the same scale and filter, which saves about a third of the resize on a landscape photo.
    """
    w, h = image.size
    if spec.squash:
        if (w, h) != (spec.crop_width, spec.crop_height):
            image = image.resize(
                (spec.crop_width, spec.crop_height), resample=Image.Resampling(spec.resample)
            )
        return _normalise(np.asarray(image), spec)
    new_w, new_h = resized_size(w, h, spec)
    ch, cw = spec.crop_height, spec.crop_width
    top, left = int((new_h - ch) / 2.0), int((new_w - cw) / 2.0)
    if (new_w, new_h) == (w, h) or top < 0 or left < 0:
        # Nothing to resample (or a crop larger than the image, which CLIPImageProcessor pads): the plain way.
        if (new_w, new_h) != (w, h):
            image = image.resize((new_w, new_h), resample=Image.Resampling.BICUBIC)
        arr = np.asarray(image.crop((left, top, left + cw, top + ch)))
    else:
        sx, sy = w / new_w, h / new_h
        box = (left * sx, top * sy, (left + cw) * sx, (top + ch) * sy)
        arr = np.asarray(image.resize((cw, ch), resample=Image.Resampling.BICUBIC, box=box))
    return _normalise(arr, spec)


def _normalise(arr: np.ndarray, spec: PreprocessSpec) -> np.ndarray:
    """(x / 255 - mean) / std per channel, written straight into a (3, H, W) float32 array."""
    out = np.empty((3,) + arr.shape[:2], np.float32)
    for c in range(3):  # x * (1 / (255 std)) - mean / std: two passes per channel instead of five per array
        np.multiply(arr[:, :, c], np.float32(1 / (255 * spec.std[c])), out=out[c], dtype=np.float32)
        out[c] -= np.float32(spec.mean[c] / spec.std[c])
    return out
