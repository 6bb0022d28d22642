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

    def encode_pixels(self, pixels):
        if self.fail_after is not None and self.images + len(pixels) > self.fail_after:
            raise RuntimeError("simulated crash in the model")
        self.images += len(pixels)
        return self.inner.encode_pixels(pixels)

    def encode_text(self, texts):
        return self.inner.encode_text(texts)


def make_photos(folder: Path, kinds: list[Kind], per_kind: int, seed: int = 0, size=(320, 240)) -> dict[Path, Kind]:
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
QUERY_KINDS = [Kind("circle", "red", "white"), Kind("square", "red", "white"), Kind("circle", "blue", "white"),
               Kind("circle", "red", "black"), Kind("star", "yellow", "gray"), Kind("triangle", "green", "brown"),
               Kind("square", "purple", "black"), Kind("star", "orange", "white")]


def new_library(store, folder: Path, name: str = "Photos"):
    from photofinder.core.scanner import normalise_folder

    lib = store.get_or_create(name)
    with lib.open_catalog() as c:
        c.add_folder(normalise_folder(folder))
    return lib
