"""A query's terms turned into vectors: words through the text tower, images through the image tower, library
photos by their stored vectors; combined into the one vector searched with, each term's unit vector kept for
judging the results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from photofinder.core.encode.preprocess import PreprocessSpec, to_pixels
from photofinder.core.encode.torch_encoder import Embedder
from photofinder.core.find.query import IMAGE, PHOTO, TEXT, Query, QueryError, combine_with_norm
from photofinder.core.find.results import QueryTerms
from photofinder.core.photos.decode import decode
from photofinder.core.store.catalog import Catalog


def image_pixels(image: str | Path | bytes | Image.Image, spec: PreprocessSpec) -> np.ndarray:
    """An image file, encoded image bytes or an in-memory image as the model's input pixels.

    Raises decode.UnreadableImage for a file that is not an image.
    """
    if isinstance(image, Image.Image):
        pil = image.convert("RGB") if image.mode != "RGB" else image
    else:
        pil = decode(image if isinstance(image, bytes) else str(image), spec.decode_side).image
    return to_pixels(pil, spec)


def query_terms(query: Query, embedder: Embedder, catalog: Catalog) -> QueryTerms:
    """The combined query vector, with what judging its results needs."""
    texts = [t for t in query.terms if t.kind == TEXT]
    images = [t for t in query.terms if t.kind == IMAGE]
    photos = [t for t in query.terms if t.kind == PHOTO]
    vectors, weights, kinds, exclude = [], [], [], set()
    if texts:
        vectors += list(embedder.encode_text([str(t.value) for t in texts]))
        weights += [t.signed_weight for t in texts]
        kinds += [(TEXT, t.signed_weight) for t in texts]
    if images:
        pixels = [image_pixels(t.value, embedder.spec) for t in images]
        vectors += list(embedder.encode_pixels(np.stack(pixels)))
        weights += [t.signed_weight for t in images]
        kinds += [(IMAGE, t.signed_weight) for t in images]
    for t in photos:
        vec = catalog.embedding_for_id(int(t.value))
        if vec is None:
            raise QueryError(f"{t.label or 'that photo'} is no longer in the library")
        vectors.append(vec)
        weights.append(t.signed_weight)
        kinds.append((IMAGE, t.signed_weight))
        exclude.add(int(t.value))
    stacked = np.stack(vectors).astype(np.float32)
    vector, norm = combine_with_norm(stacked, weights)
    unit = stacked / np.maximum(np.linalg.norm(stacked, axis=1, keepdims=True), 1e-12)
    return QueryTerms(vector, exclude, norm, unit, kinds)
