"""Which files are photos, and what decoding one gives: the words every stage shares, with no decoder behind them."""

from __future__ import annotations

import os
from dataclasses import dataclass

from PIL import Image

# Camera RAW files: indexed from the JPEG preview the camera embedded (tens of times faster than demosaicing).
RAW_EXTENSIONS = frozenset(".cr2 .cr3 .nef .nrw .arw .srf .sr2 .dng .raf .orf .rw2 .pef .srw .x3f".split())
# Photo formats we index. Others (PSD, SVG) are not looked at at all.
EXTENSIONS = (
    frozenset(".jpg .jpeg .jpe .jfif .png .webp .gif .bmp .tif .tiff .heic .heif .avif".split())
    | RAW_EXTENSIONS
)


class UnreadableImage(Exception):
    """The file is not a photo we can decode; str(e) is a short reason ("not an image", "truncated")."""


@dataclass
class DecodedImage:
    """An upright RGB image at least `min_side` on its shorter side (unless the photo is smaller)."""

    image: Image.Image
    width: int  # of the upright original
    height: int
    taken: str | None  # EXIF date taken, ISO 8601
    gps: tuple[float, float] | None = None  # (latitude, longitude) from EXIF, where the photo has them


def is_photo_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in EXTENSIONS
