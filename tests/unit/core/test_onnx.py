"""The ONNX Runtime encoder: exported once, verified against torch, the same search results, text queries
without torch, a log line and torch when it can't be had, int8 only when it proves itself."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import numpy as np
import pytest
from helpers import QUERY_KINDS, new_library

from photofinder.core.encode import onnx_encoder, onnx_export, onnx_run
from photofinder.core.encode.choose import CpuEmbedder, check_int8, int8_agreement, open_embedder
from photofinder.core.encode.onnx_encoder import ExportFailed, OnnxEmbedder
from photofinder.core.find.search import Searcher
from photofinder.core.ingest.indexer import Indexer


@pytest.fixture(scope="module")
def onnx_tiny(tiny_model):
    e = OnnxEmbedder(tiny_model)
    e.load()
    return e


def test_the_export_agrees_with_torch_and_is_written_once(onnx_tiny, tiny_embedder):
    meta = json.loads((onnx_tiny.cache_dir / "meta.json").read_text())
    assert min(meta["agreement"].values()) >= 0.9999
    assert not list(onnx_tiny.cache_dir.parent.glob(".export-*"))  # no half-written export left
    texts = [k.caption for k in QUERY_KINDS]
    np.testing.assert_allclose(onnx_tiny.encode_text(texts), tiny_embedder.encode_text(texts), atol=2e-4)
    pixels = np.random.default_rng(0).standard_normal((4, 3, 64, 64)).astype(np.float32)
    cos = np.sum(onnx_tiny.encode_pixels(pixels) * tiny_embedder.encode_pixels(pixels), axis=1)
    assert cos.min() >= 0.9999
    assert onnx_tiny.spec == tiny_embedder.spec and onnx_tiny.dim == tiny_embedder.dim


@pytest.mark.parametrize("which", ["tiny_model", "vitb32_model"])
def test_the_exported_vision_tower_skips_only_unused_work(which, request):
    """The export's vision tower (class token alone in the last layer, fused projections) is the model's
    own arithmetic: the same embeddings as transformers' forward, for the tiny model and for ViT-B/32."""
    import torch
    from transformers import CLIPModel

    model = CLIPModel.from_pretrained(request.getfixturevalue(which), use_safetensors=True).float().eval()
    vision, _text = onnx_export._towers(model)
    assert type(vision).__name__ == "ClassTokenVision"  # not the stock fallback
    size = model.config.vision_config.image_size
    pixels = torch.from_numpy(np.random.default_rng(1).standard_normal((3, 3, size, size)).astype(np.float32))
    with torch.inference_mode():
        ref = onnx_export._pooled(model.get_image_features(pixel_values=pixels)).numpy()
        got = vision(pixels).numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)


def test_search_results_are_the_same_with_onnx_and_torch(store, photos, tiny_embedder, onnx_tiny):
    folder, kinds = photos
    lib = new_library(store, folder)
    Indexer(lib, onnx_tiny).run()  # indexed with ONNX, searched with both
    for kind in QUERY_KINDS[:4]:
        with Searcher(lib, tiny_embedder) as a, Searcher(lib, onnx_tiny) as b:
            ra, rb = a.by_text(kind.caption, 10), b.by_text(kind.caption, 10)
        assert [r.path for r in ra[:5]] == [r.path for r in rb[:5]]
        assert max(abs(x.score - y.score) for x, y in zip(ra, rb)) < 1e-3


def test_a_text_query_never_imports_torch(cli, photos, tiny_model, tmp_path, data_dir):
    folder, _ = photos
    cli("index", str(folder), "--model", tiny_model, "--ocr", "off")  # only the query needs its own process
    probe = (
        "import sys; from photofinder.cli import main; rc = main(['search', 'a red circle', '-n', '3']); "
        "print('IMPORTED', rc, [m for m in ('torch', 'transformers') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert "IMPORTED 0 []" in out.stdout, out.stderr


def test_without_an_export_it_says_so_and_uses_torch(tiny_model, monkeypatch, caplog, tmp_path):
    monkeypatch.setenv("PHOTOFINDER_MODEL_CACHE", str(tmp_path / "empty-cache"))

    def fail(src, dest, source=None):
        raise ExportFailed("torch.onnx could not export vision.onnx: simulated")

    monkeypatch.setattr(onnx_encoder, "export_model", fail)
    e = open_embedder(tiny_model, device="cpu")
    assert isinstance(e, CpuEmbedder)
    with caplog.at_level(logging.WARNING):
        v = e.encode_text(["a red circle"])
    assert e.runtime == "torch" and "using torch instead" in caplog.text
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    with pytest.raises(Exception, match="ONNX runtime can't be used"):
        open_embedder(tiny_model, runtime="onnx").load()


def test_int8_is_used_only_when_it_keeps_the_neighbours(store, photos, tiny_model, onnx_tiny):
    folder, kinds = photos
    lib = new_library(store, folder)
    with lib.open_catalog() as c:
        ok, agreement, how = check_int8(c, tiny_model, sample=40)
        assert "40 of your photos" in how and 0.0 <= agreement <= 1.0 and ok == (agreement >= 0.9)
        assert check_int8(c, tiny_model)[2] == "checked before"  # measured once per library and model

    class Scrambled:  # an int8 tower that lost the picture: neighbours no longer agree
        def encode_pixels(self, pixels):
            v = np.random.default_rng(1).standard_normal((len(pixels), onnx_tiny.dim)).astype(np.float32)
            return v / np.linalg.norm(v, axis=1, keepdims=True)

    pixels = np.random.default_rng(0).standard_normal((32, 3, 64, 64)).astype(np.float32)
    assert int8_agreement(onnx_tiny, onnx_tiny, pixels) == 1.0
    assert int8_agreement(onnx_tiny, Scrambled(), pixels) < 0.5


def test_int8_quantises_the_weight_products_and_nothing_else(onnx_tiny, tiny_model):
    import onnx
    from transformers import CLIPConfig

    layers = CLIPConfig.from_pretrained(tiny_model).vision_config.num_hidden_layers
    graph = onnx.load(str(onnx_encoder.quantized_vision(onnx_tiny.cache_dir))).graph
    ops = [n.op_type for n in graph.node]
    # per layer Q/K/V (one product), out, fc1, fc2; then the projection to the embedding ...
    assert ops.count("MatMulInteger") == 4 * layers + 1
    assert ops.count("MatMul") == 2 * layers  # ... each layer's two attention products kept in fp32
    assert "Gemm" not in ops and "Conv" in ops  # every weight product int8; the patch embedding fp32


class _Fixed:
    """An encoder that returns given vectors (for judging the int8 check itself)."""

    def __init__(self, photos, captions=None):
        self.photos, self.captions = photos, captions

    def encode_pixels(self, pixels):
        return self.photos

    def encode_text(self, texts):
        return self.captions


def _unit(v):
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def test_int8_is_judged_on_the_top_10_not_the_nearest_alone():
    """An int8 tower that keeps each photo's nearest neighbour and each caption's best photo, but scrambles the
    rest of every list, is refused: the check compares top-10 lists, not top-1."""
    from photofinder.core.encode.choose import INT8_MIN_AGREEMENT

    rng = np.random.default_rng(0)
    n, pairs = 32, 16
    base = np.zeros((n, 64), np.float32)
    for i in range(n):
        base[i, i // 2] = 1.0 if i % 2 == 0 else 0.7  # pairs share a direction: each other's nearest
    captions = _unit(np.eye(64, dtype=np.float32)[:pairs])  # caption j: pair j's direction, photo 2j best

    def tower(seed):
        r = np.random.default_rng(seed)
        noise = np.zeros((n, 64), np.float32)
        noise[:, pairs:] = 0.07 * r.standard_normal((n, 64 - pairs))
        noise[:, :pairs] += 0.02 * r.standard_normal((n, pairs))
        return _unit(base + noise)

    fp32, int8 = _Fixed(tower(1), captions), _Fixed(tower(2))
    pixels = rng.standard_normal((n, 3, 8, 8)).astype(np.float32)
    assert int8_agreement(fp32, int8, pixels, k=1) == 1.0  # judged on top-1 it would pass ...
    assert int8_agreement(fp32, int8, pixels) < INT8_MIN_AGREEMENT  # ... on top-10 it does not


def test_int8_at_60_percent_agreement_is_refused(store, photos, tiny_model, monkeypatch):
    from photofinder.core.encode import choose as encoders

    folder, _ = photos
    lib = new_library(store, folder)
    monkeypatch.setattr(encoders, "int8_agreement", lambda *a, **k: 0.6)
    with lib.open_catalog() as c:
        ok, agreement, _how = check_int8(c, tiny_model, sample=20)
    assert agreement == 0.6 and not ok


def test_the_tokenizer_read_in_steps_is_the_models_own(tmp_path):
    """The tokenizer is read in steps (the lock let go between them, so the window never freezes for it): it
    must give the ids the file itself gives, padded and cut as the text tower wants them."""
    from pathlib import Path

    from tokenizers import Tokenizer

    folder = Path(__file__).resolve().parents[2] / "models" / "tiny-clip"
    meta = {"max_length": 12, "pad_id": 7, "pad_token": "!"}
    mine = onnx_run.fast_tokenizer(folder, meta)
    ref = Tokenizer.from_file(str(folder / "tokenizer.json"))
    ref.enable_truncation(12)
    ref.enable_padding(pad_id=7, pad_token="!")
    texts = [
        "a red circle on a black background",
        "A Dog, running! 123 t-shirts",
        "naïve café — ok?",
        "  spaces   and\ttabs  ",
        "a very long caption that goes on and on past the model's length limit for sure",
        "",
    ]
    got, want = mine.encode_batch(texts), ref.encode_batch(texts)
    assert [e.ids for e in got] == [e.ids for e in want]
    assert [e.attention_mask for e in got] == [e.attention_mask for e in want]
    assert len({len(e.ids) for e in got}) == 1
