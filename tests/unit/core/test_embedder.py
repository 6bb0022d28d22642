"""The model wrapper: L2-normalised float32 vectors out, a model known by what it is, freed on request."""

from __future__ import annotations

import numpy as np

from photofinder.core.encode.models import fingerprint
from photofinder.core.encode.torch_encoder import ClipEmbedder


def test_vectors_are_unit_length_float32(tiny_embedder):
    texts = tiny_embedder.encode_text(["a red circle", "a yellow star on a gray background", "x"])
    spec = tiny_embedder.spec
    pixels = np.random.default_rng(0).standard_normal((3, 3, spec.crop_height, spec.crop_width), np.float32)
    images = tiny_embedder.encode_pixels(pixels * 3)
    for v in (texts, images):
        assert v.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)  # inner product = cosine


def test_the_fingerprint_names_the_weights_not_the_folder(tiny_model, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(tiny_model, copy)
    assert fingerprint(str(copy)) == fingerprint(tiny_model)
    weights = next(copy.glob("*.safetensors"))
    raw = bytearray(weights.read_bytes())
    raw[-1] ^= 0xFF  # one weight changed: another model
    weights.write_bytes(bytes(raw))
    assert fingerprint(str(copy)) != fingerprint(tiny_model)


def test_unload_frees_the_model_and_the_next_use_loads_it_again(tiny_model):
    e = ClipEmbedder(tiny_model, device="cpu")
    before = e.encode_text(["a blue circle"])
    e.unload()
    assert not e.loaded
    np.testing.assert_array_equal(e.encode_text(["a blue circle"]), before)
