"""Helpers shared by the tests (fixtures live in conftest.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from shapes import Kind, draw


class CountingEmbedder:
    """Wraps a real embedder and counts the images that reach the model."""

    def __init__(self, inner):
        self.inner = inner
        self.images = 0
        self.fail_after: int | None = None  # raise on the batch that would pass this many images

    model_id = property(lambda self: self.inner.model_id)
    fingerprint = property(lambda self: self.inner.fingerprint)
    dim = property(lambda self: self.inner.dim)
    spec = property(lambda self: self.inner.spec)
    device = property(lambda self: self.inner.device)
    sigmoid = property(lambda self: getattr(self.inner, "sigmoid", None))

    def encode_pixels(self, pixels):
        if self.fail_after is not None and self.images + len(pixels) > self.fail_after:
            raise RuntimeError("simulated crash in the model")
        self.images += len(pixels)
        return self.inner.encode_pixels(pixels)

    def encode_text(self, texts):
        return self.inner.encode_text(texts)


def make_photos(
    folder: Path, kinds: list[Kind], per_kind: int, seed: int = 0, size=(320, 240)
) -> dict[Path, Kind]:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for k in kinds:
        for j in range(per_kind):
            p = folder / f"{k.slug}-{j}.jpg"
            draw(k, size, rng, centred=True).save(p, quality=90)
            out[p] = k
    return out


# A fixed, confusable set: every kind here shares two attributes with another.
QUERY_KINDS = [
    Kind("circle", "red", "white"),
    Kind("square", "red", "white"),
    Kind("circle", "blue", "white"),
    Kind("circle", "red", "black"),
    Kind("star", "yellow", "gray"),
    Kind("triangle", "green", "brown"),
    Kind("square", "purple", "black"),
    Kind("star", "orange", "white"),
]


def new_library(store, folder: Path, name: str = "Photos"):
    from photofinder.core.photos.scanner import normalise_folder

    lib = store.get_or_create(name)
    with lib.open_catalog() as c:
        c.add_folder(normalise_folder(folder))
    return lib


def found_names(store, folder: Path, embedder) -> tuple[list[list[str]], set[str]]:
    """`folder` indexed as a new library and its duplicates found: each duplicate group's file names (sorted),
    and the names of every photo among the similar shots."""
    import os

    from photofinder.core.duplicates.finder import find_groups
    from photofinder.core.ingest.indexer import Indexer

    lib = new_library(store, folder)
    Indexer(lib, embedder).run()
    with lib.open_catalog() as c:
        found = find_groups(lib, c)
    groups = [sorted(os.path.basename(m.path) for m in g.members) for g in found.duplicates]
    return groups, {os.path.basename(m.path) for g in found.similar for m in g.members}


def make_dng(path: Path, preview, orientation: int = 1) -> Path:
    """A small DNG as cameras write them: the raw mosaic in a SubIFD and an RGB preview in IFD0.

    Built with tifffile (uncompressed preview: tifffile can't write JPEG-compressed strips without
    imagecodecs). LibRaw reads it like a camera's DNG: the preview through extract_thumb, the orientation as
    its flip. `preview` is a PIL image as it is *stored* (before the orientation turns it upright).
    """
    import tifffile

    raw = np.random.default_rng(0).integers(0, 4095, (64, 96)).astype(np.uint16)
    dng = [
        (50706, "B", 4, (1, 4, 0, 0), True),
        (50708, "s", 0, "photofinder test camera", True),
        (274, "H", 1, orientation, True),
    ]
    cfa = [(33421, "H", 2, (2, 2), True), (33422, "B", 4, (0, 1, 1, 2), True), (50717, "I", 1, 4095, True)]
    with tifffile.TiffWriter(path) as t:
        t.write(
            np.asarray(preview.convert("RGB")), photometric="rgb", subfiletype=1, subifds=1, extratags=dng
        )
        t.write(raw, photometric=32803, subfiletype=0, extratags=cfa)
    return path
