"""Decoding photos: small, upright, RGB, and never more pixels than the model and the thumbnail need.

A file that can't be read raises `UnreadableImage` with a one-line reason for the user.
Photos are only ever opened for reading.
"""

from __future__ import annotations

import io
import logging
import os
import re
import struct
import threading
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from photofinder.core.errors import first_line
from photofinder.core.photos.formats import (  # noqa: F401 - kept importable from here
    EXTENSIONS,
    RAW_EXTENSIONS,
    DecodedImage,
    UnreadableImage,
    is_photo_name,
)
from photofinder.core.photos.places import gps_of

log = logging.getLogger(__name__)

try:  # HEIC/HEIF from phones; optional at run time so a broken libheif can't take the app down
    import pillow_heif

    pillow_heif.register_heif_opener()
except Exception as e:  # noqa: BLE001 - any failure here only costs HEIC support
    log.warning("HEIC support unavailable: %s", e)

# Refused from the header, before any pixel is decoded (a decompression bomb, or a scan too big to be a photo).
MAX_PIXELS = 180_000_000
# This check decides, not Pillow's: Pillow's own limit (an error above 179 MP, 2 x its MAX_IMAGE_PIXELS) sat
# below MAX_PIXELS, so photofinder's check could never run. Every photo opened for its pixels goes through
# _decode, which refuses from the header; the core's other Pillow opens read headers or its own thumbnails.
Image.MAX_IMAGE_PIXELS = None
# A photo whose full-size pixels take more than this (PNG, TIFF, WebP: formats that can't decode small) is
# decoded alone, one at a time, and reduced before any conversion copies it: four 180-megapixel 16-bit PNGs
# on four decode threads once took 4.6 GB.
BIG_DECODE_BYTES = 64 << 20
_BIG_DECODE = threading.BoundedSemaphore(1)
_BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2, "LA": 2}

_ORIENT = {
    2: (Image.Transpose.FLIP_LEFT_RIGHT,),
    3: (Image.Transpose.ROTATE_180,),
    4: (Image.Transpose.FLIP_TOP_BOTTOM,),
    5: (Image.Transpose.TRANSPOSE,),
    6: (Image.Transpose.ROTATE_270,),
    7: (Image.Transpose.TRANSVERSE,),
    8: (Image.Transpose.ROTATE_90,),
}


# Set to False to decode RAW files in this process (tests that replace rawpy in-process do).
ISOLATE_RAW = True


def decode(source: str | Path | bytes, min_side: int) -> DecodedImage:
    """Decode a photo small: JPEG DCT scaling and integer reduction keep the shorter side >= min_side.

    Raises UnreadableImage, and nothing else, whatever the file holds. RAW files are decoded in a helper
    process (rawdecode): a crash of LibRaw costs that file, not the run.
    """
    return _guarded(source, min_side, raw_here=not ISOLATE_RAW)


def decode_raw_here(path: str, min_side: int) -> DecodedImage:
    """A RAW file decoded in this process (what the RAW helper processes run)."""
    return _guarded(path, min_side, raw_here=True)


def _guarded(source: str | Path | bytes, min_side: int, raw_here: bool) -> DecodedImage:
    try:
        if isinstance(source, bytes):
            return _decode(io.BytesIO(source), min_side)
        from photofinder.core.photos.scanner import open_photo

        path = os.fspath(source)
        fd = open_photo(path)  # never blocks on a FIFO or device named like a photo
        with os.fdopen(fd, "rb") as f:
            if os.fstat(f.fileno()).st_size == 0:
                raise UnreadableImage("empty file")
            if os.path.splitext(path)[1].lower() in RAW_EXTENSIONS:
                if raw_here:
                    return _decode_raw(f, min_side)
                f.close()
                from photofinder.core.photos.rawdecode import pool

                return pool().decode(path, min_side)
            return _decode(f, min_side)
    except UnreadableImage:
        raise
    except UnidentifiedImageError as e:
        raise UnreadableImage("not an image") from e
    except Image.DecompressionBombError as e:  # Pillow's own check (off while photofinder's decides)
        m = re.search(r"\((\d+) pixels\)", str(e))
        raise UnreadableImage(f"too large: {_pixels(int(m.group(1)))}" if m else "too large") from e
    except MemoryError as e:
        raise UnreadableImage("too large to decode in the memory available") from e
    except OSError as e:
        if e.errno is not None:  # the file system's error (vanished, permission, I/O), not the decoder's
            from photofinder.core.photos.scanner import os_reason

            raise UnreadableImage(os_reason(e)) from e
        msg = first_line(e) or type(e).__name__
        if "truncated" in msg:
            raise UnreadableImage("truncated") from e
        raise UnreadableImage(f"unreadable: {msg}"[:200]) from e
    except (ValueError, SyntaxError, EOFError, struct.error) as e:
        msg = first_line(e) or type(e).__name__
        if "truncated" in msg or isinstance(e, EOFError):
            raise UnreadableImage("truncated") from e
        raise UnreadableImage(f"unreadable: {msg}"[:200]) from e
    except Exception as e:  # noqa: BLE001 - a decoder's bug (TypeError, IndexError...) costs this file only
        msg = first_line(e)
        log.info("decoder failed on %s: %r", source if not isinstance(source, bytes) else "bytes", e)
        raise UnreadableImage(f"unreadable: {type(e).__name__}: {msg}"[:200]) from e


# LibRaw's flip codes to the turn that makes the picture upright.
_RAW_FLIP = {
    3: (Image.Transpose.ROTATE_180,),
    5: (Image.Transpose.ROTATE_90,),
    6: (Image.Transpose.ROTATE_270,),
}


def _decode_raw(f, min_side: int) -> DecodedImage:
    """A RAW file from its embedded preview (rawpy/LibRaw), upright; demosaiced at half size if it has none."""
    try:
        import rawpy
    except ImportError as e:
        raise UnreadableImage("a RAW file (install rawpy to index RAW files)") from e
    try:
        with rawpy.imread(f) as raw:
            flip = raw.sizes.flip
            width, height = raw.sizes.width, raw.sizes.height
            try:
                thumb = raw.extract_thumb()
            except (rawpy.LibRawNoThumbnailError, rawpy.LibRawUnsupportedThumbnailError):
                thumb = None
            if thumb is not None and thumb.format == rawpy.ThumbFormat.JPEG:
                d = _decode(io.BytesIO(thumb.data), min_side)
                img, taken, gps = d.image, d.taken, d.gps
                if _orientation_of(thumb.data) in (None, 1):
                    for op in _RAW_FLIP.get(flip, ()):  # the preview carries no orientation of its own
                        img = img.transpose(op)
            else:
                pixels = (
                    thumb.data if thumb is not None else raw.postprocess(half_size=True, use_camera_wb=True)
                )
                img, taken, gps = Image.fromarray(pixels).convert("RGB"), None, None
                factor = min(img.size) // min_side if min_side > 0 else 1
                if factor >= 2:
                    img = img.reduce(factor)
                for op in _RAW_FLIP.get(flip, ()):
                    img = img.transpose(op)
    except (rawpy.LibRawFileUnsupportedError, rawpy.NotSupportedError) as e:
        raise UnreadableImage("a RAW format LibRaw does not read") from e
    except rawpy.LibRawError as e:
        raise UnreadableImage(f"unreadable RAW: {e}"[:200]) from e
    if flip in (5, 6):
        width, height = height, width
    return DecodedImage(img, width, height, taken, gps)


def _orientation_of(jpeg: bytes) -> int | None:
    try:
        with Image.open(io.BytesIO(jpeg)) as im:
            return im.getexif().get(0x0112)
    except Exception:  # noqa: BLE001 - no EXIF: the RAW's own flip applies
        return None


def _decode(f, min_side: int) -> DecodedImage:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        im = Image.open(f)
    with im:
        w, h = im.size
        if w * h > MAX_PIXELS:
            raise UnreadableImage(f"too large: {_pixels(w * h)}")
        exif = im.getexif()
        orientation = exif.get(0x0112, 1)
        taken = _taken(exif)
        gps = gps_of(exif)
        if getattr(im, "is_animated", False):
            im.seek(0)
        if im.format == "JPEG" and min_side > 0:
            # DCT scaling: the decoder itself outputs 1/2, 1/4 or 1/8 size, both sides staying >= min_side.
            im.draft(im.mode if im.mode in ("RGB", "L", "CMYK") else "RGB", (min_side, min_side))
        big = im.size[0] * im.size[1] * _BYTES_PER_PIXEL.get(im.mode, 4) > BIG_DECODE_BYTES
        if big:
            with _BIG_DECODE:  # one at a time, and made small before anything copies it
                im.load()
                img = _to_rgb(_reduce_raw(im, min_side))
        else:
            im.load()
            img = _to_rgb(im)
    factor = min(img.size) // min_side if min_side > 0 else 1
    if factor >= 2:
        img = img.reduce(factor)  # box filter: fast, and the bicubic resize after it sees a clean image
    for op in _ORIENT.get(orientation if isinstance(orientation, int) else 1, ()):
        img = img.transpose(op)
    if orientation in (5, 6, 7, 8):
        w, h = h, w
    return DecodedImage(img, w, h, taken, gps)


def _reduce_raw(im: Image.Image, min_side: int) -> Image.Image:
    """A big image reduced in its own mode (box filter), keeping the shorter side >= min_side."""
    factor = min(im.size) // min_side if min_side > 0 else 1
    if factor < 2:
        return im
    try:
        return im.reduce(factor)
    except (ValueError, NotImplementedError):  # modes reduce() lacks (16-bit): every factor-th pixel
        return Image.fromarray(np.ascontiguousarray(np.asarray(im)[::factor, ::factor]))


def _to_rgb(im: Image.Image) -> Image.Image:
    """RGB from any mode: 16-bit scaled (not clipped), alpha composited on white, CMYK/palette converted."""
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        arr = np.asarray(im)
        if arr.max(initial=0) > 255 or mode.startswith("I;16"):
            arr = arr >> 8  # 16-bit scaled to 8, not clipped
        return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "L").convert("RGB")
    if mode == "F":
        arr = np.asarray(im, dtype=np.float32)
        if arr.max(initial=0) <= 1.0:
            arr = arr * 255.0
        return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "L").convert("RGB")
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    if mode != "RGB":
        return im.convert("RGB")
    return im


def _taken(exif: Image.Exif) -> str | None:
    try:
        value = exif.get_ifd(0x8769).get(0x9003) or exif.get(0x0132)
    except Exception:  # noqa: BLE001 - broken EXIF must not lose the photo
        return None
    if not isinstance(value, str) or len(value) < 19:
        return None
    d, t = value[:10].replace(":", "-"), value[11:19]
    return f"{d}T{t}" if d[:4].isdigit() else None


def _pixels(n: int) -> str:
    return f"{n / 1e9:.1f} gigapixels" if n >= 1e9 else f"{n / 1e6:.0f} megapixels"
