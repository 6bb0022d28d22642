"""Grid thumbnails on disk, in the library folder, keyed by content hash (a renamed photo keeps its thumbnail)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from PIL import Image

THUMB_SIZE = 256  # what the grid asks for by default, at most
THUMB_MIN = 160  # the shortest side a cached thumbnail should have (the grid's default tile)


def thumb_path(thumbs_dir: Path, content_hash: str) -> Path:
    return thumbs_dir / content_hash[:2] / f"{content_hash}.jpg"


def write_thumbnail(image: Image.Image, path: Path) -> None:
    """Save a JPEG of `image` box-reduced by a whole factor, to a shorter side between THUMB_MIN and twice that.

    The image comes from a decode that is already small (JPEG DCT scaling), so a box reduction is all it needs:
    a fraction of a bicubic resize's cost, on the indexer's hot path. Written to a temp file and renamed, so
    readers never see half of one.
    """
    factor = min(image.size) // THUMB_MIN
    thumb = image.reduce(factor) if factor >= 2 else image
    if not path.parent.is_dir():  # thumbnails of the user's photos: private (0700), like the data dir
        from photofinder.core.paths import make_private_dir

        make_private_dir(path.parent.parent)
        make_private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            thumb.save(f, "JPEG", quality=85)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_thumbnail(
    path: str, content_hash: str | None, thumbs_dir: Path | None, size: int = THUMB_SIZE
) -> Image.Image:
    """A thumbnail of at most size x size: from the disk cache when there, else decoded and cached.

    Raises decode.UnreadableImage when the photo can't be read.
    """
    from photofinder.core.photos.decode import decode

    cached = thumb_path(thumbs_dir, content_hash) if thumbs_dir is not None and content_hash else None
    if cached is not None and cached.exists():
        try:
            with Image.open(cached) as im:
                if min(im.size) >= min(size, THUMB_MIN) or _photo_is_no_bigger(path, im.size):
                    im.thumbnail((size, size))
                    return im.convert("RGB")
        except OSError:
            pass  # a damaged cache file is simply made again
    image = decode(path, size).image
    if cached is not None:
        try:
            write_thumbnail(image, cached)
        except OSError:
            pass
    image.thumbnail((size, size), Image.Resampling.BICUBIC)
    return image


def _photo_is_no_bigger(path: str, thumb_size: tuple[int, int]) -> bool:
    """A photo smaller than a tile has a thumbnail smaller than a tile: decoding it again gains nothing."""
    try:
        with Image.open(path) as photo:  # reads the header only
            return min(photo.size) <= min(thumb_size)
    except Exception:  # noqa: BLE001 - unreadable or gone: let the caller decode and report it
        return False
