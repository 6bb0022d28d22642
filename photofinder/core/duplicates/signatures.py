"""What the pixel rule (likeness.py) compares a photo by, read from its cached thumbnail or, for a format that
can be transparent, from the file; kept for the last few hundred photos compared."""

from __future__ import annotations

import logging
import os
from collections import OrderedDict
from dataclasses import replace
from typing import Any

from photofinder.core.duplicates.likeness import Signature, signature
from photofinder.core.duplicates.members import is_whole
from photofinder.core.photos.decode import UnreadableImage
from photofinder.core.store.library import Library

log = logging.getLogger(__name__)

SIGNATURES = 512  # pixel signatures kept while comparing (147 KB each)
# Formats that can carry transparency: their signature is read from the file (the cached thumbnail is a JPEG,
# flattened), so a transparent picture is never compared as if it were on white.
ALPHA_EXTENSIONS = frozenset(".png .webp .gif .tif .tiff .avif .heic .heif .jxl".split())


def picture_signature(
    library: Library, path: str, content_hash: str | None, area: int = 0
) -> Signature | None:
    """What the pixel rule compares: the photo's cached thumbnail (decoded small if missing), or for a format
    that can be transparent, the file itself with its alpha; None when it can't be read. `area`: the photo's
    width x height as the catalog knows it (0: unknown), which tells a crop from a closer shot."""
    from photofinder.core.photos.thumbnails import THUMB_SIZE, load_thumbnail

    try:
        if os.path.splitext(path)[1].lower() in ALPHA_EXTENSIONS:
            transparent = _transparent_image(path, THUMB_SIZE)
            if transparent is not None:
                return replace(signature(transparent), area=area)
        # The thumbnail cache is keyed by content hash: an old partial fingerprint may key another photo's.
        key = content_hash if is_whole(content_hash) else None
        return replace(signature(load_thumbnail(path, key, library.thumbs_dir, THUMB_SIZE)), area=area)
    except (UnreadableImage, OSError, ValueError) as e:
        log.debug("no signature for %s: %s", path, e)
        return None


def _transparent_image(path: str, side: int) -> Any:
    """The picture with its alpha, about `side` px, if the file has transparency; else None."""
    from PIL import Image

    from photofinder.core.photos.decode import MAX_PIXELS
    from photofinder.core.photos.scanner import open_photo

    with os.fdopen(open_photo(path), "rb") as f, Image.open(f) as im:
        if not (im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info):
            return None
        if im.size[0] * im.size[1] > MAX_PIXELS:
            raise UnreadableImage("too large")
        im.seek(0)
        out = im.convert("RGBA")
    factor = min(out.size) // side
    return out.reduce(factor) if factor >= 2 else out


class Signatures:
    """Pixel signatures of photos (picture_signature), the last `keep` used kept: by content hash, so identical
    files share one, or by path where the hash is an old partial fingerprint (no identity)."""

    def __init__(self, library: Library, keep: int = SIGNATURES):
        self.library, self.keep = library, keep
        self._cache: OrderedDict[str, Signature | None] = OrderedDict()

    def get(self, path: str, content_hash: str | None, area: int = 0) -> Signature | None:
        key = content_hash if content_hash and is_whole(content_hash) else "path:" + path
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        sig = picture_signature(self.library, path, content_hash, area)
        self._cache[key] = sig
        while len(self._cache) > self.keep:
            self._cache.popitem(last=False)
        return sig
