"""The model menu and every model through the same path: SigLIP beside CLIP (loading, preprocessing, ONNX,
int8, search), the tiny bilingual SigLIP, and `photofinder models`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import QUERY_KINDS, make_photos, new_library
from PIL import Image

from photofinder.core.encode import architectures, menu, speed
from photofinder.core.encode.onnx_encoder import OnnxEmbedder
from photofinder.core.encode.preprocess import PreprocessSpec, to_pixels
from photofinder.core.encode.torch_encoder import ClipEmbedder
from photofinder.core.find.query import Query, Term
from photofinder.core.find.search import Searcher
from photofinder.core.ingest.indexer import Indexer

TINY_SIGLIP = str(Path(__file__).resolve().parents[2] / "models" / "tiny-siglip")


def test_the_menu_offers_the_old_default_a_recommended_siglip2_and_many_languages():
    offered = menu.choices()
    ids = [c.id for c in offered]
    assert "openai/clip-vit-base-patch32" in ids
    assert [c.id for c in offered if c.recommended] == ["google/siglip2-base-patch32-256"]
    assert menu.recommended().family == "siglip"
    assert [c.id for c in offered if c.existing_default] == ["openai/clip-vit-base-patch32"]
    assert any("English only" != c.languages for c in offered)
    for c in offered:
        assert c.name and c.good_at and c.languages and c.licence and c.download_mb > 100


def test_the_exact_configurations_have_the_published_sizes():
    """Parameter counts of the configurations as published (SigLIP 2 base: 376-377 M, ViT-B/32: 151 M): the
    download sizes are counted from them, and the speed figures run them."""
    import torch
    from transformers import CLIPModel, SiglipModel

    counts = {}
    for c in menu.choices():
        with torch.device("meta"):
            m = (SiglipModel if c.family == "siglip" else CLIPModel)(architectures.exact_config(c))
        counts[c.id] = sum(p.numel() for p in m.parameters())
        assert abs(counts[c.id] * 4 / 1e6 - c.download_mb) < 60  # fp32 weights + tokenizer files
    assert round(counts["openai/clip-vit-base-patch32"] / 1e6) == 151
    assert round(counts["google/siglip2-base-patch32-256"] / 1e6) == 377


def test_speeds_are_measured_once_per_machine_and_kept(monkeypatch, tmp_path):
    monkeypatch.setenv("PHOTOFINDER_MODEL_CACHE", str(tmp_path))
    calls = []

    def fake(choice, **kw):
        calls.append(choice.id)
        return 10.0 + len(calls)

    monkeypatch.setattr(speed, "measure_speed", fake)
    first = speed.speeds()
    assert sorted(first) == sorted(c.id for c in menu.choices()) and len(calls) == len(menu.choices())
    again = speed.speeds()
    assert len(calls) == len(menu.choices()) and {k: v["images_per_s"] for k, v in again.items()} == {
        k: v["images_per_s"] for k, v in first.items()
    }
    rows = speed.menu_with_speeds(measure=False)
    assert all(r["images_per_s"] for r in rows)


def test_a_real_speed_measurement_is_a_positive_rate(monkeypatch):
    tiny = menu.ModelChoice("x", "x", "x", "x", 1, "x", False, family="siglip", image_size=32, patch_size=16)
    # (a full-size tower is measured by `photofinder models`; a small one keeps the test fast)
    import transformers

    cfg = transformers.SiglipConfig(
        vision_config=dict(
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=1,
            num_attention_heads=2,
            image_size=32,
            patch_size=16,
        )
    )
    monkeypatch.setattr(speed, "exact_config", lambda c: cfg)
    assert speed.measure_speed(tiny, batch=2, seconds=0.05) > 0


def test_siglip_photos_are_squashed_like_siglips_own_processor():
    """SigLIP's processor resizes the whole photo to a square (no crop); the app's preprocessing gives the same
    tensor (within a level or two of rounding)."""
    from transformers import SiglipImageProcessorPil

    cfg = architectures.preprocessor_config(menu.recommended())
    spec = PreprocessSpec.from_processor_config(cfg)
    assert spec.squash and (spec.crop_width, spec.crop_height) == (256, 256) and spec.mean == (0.5, 0.5, 0.5)
    rng = np.random.default_rng(0)
    img = Image.fromarray(rng.integers(0, 255, (300, 420, 3), dtype=np.uint8)).resize((840, 600))
    ref = SiglipImageProcessorPil(
        **{k: v for k, v in cfg.items() if k not in ("image_processor_type", "processor_class")}
    )(images=img, return_tensors="np")["pixel_values"][0]
    ours = to_pixels(img, spec)
    assert ours.shape == ref.shape == (3, 256, 256)
    assert np.abs(ours - ref).max() < 2.5 / 127.5  # two levels of 255, on a -1..1 scale


@pytest.fixture(scope="module")
def siglip_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("siglip-photos") / "photos"
    return folder, make_photos(folder, QUERY_KINDS, 4, seed=3)


@pytest.mark.parametrize("runtime", ["onnx", "torch"])
def test_a_query_in_english_or_spanish_finds_the_same_photos(runtime, siglip_folder, store):
    """The tiny bilingual SigLIP, through the real loading code: a new library indexed with it, then the same
    query typed in either language finds the same photos, mostly the right ones."""
    from photofinder.core.encode.choose import open_embedder

    folder, kinds = siglip_folder
    lib = new_library(store, folder)
    embedder = open_embedder(TINY_SIGLIP, runtime=runtime, device="cpu")
    Indexer(lib, embedder).run()
    with Searcher(lib, embedder) as s:
        for en, es, want in [
            (
                "a red circle on a white background",
                "un círculo rojo sobre un fondo blanco",
                lambda k: (k.shape, k.colour, k.background) == ("circle", "red", "white"),
            ),
            ("a blue circle", "un círculo azul", lambda k: (k.shape, k.colour) == ("circle", "blue")),
            ("something yellow", "algo amarillo", lambda k: k.colour == "yellow"),
        ]:
            n = sum(want(k) for k in kinds.values())
            found = [
                {Path(r.path).name for r in s.run(Query((Term("text", q),)), top=n).results} for q in (en, es)
            ]
            right = {p.name for p, k in kinds.items() if want(k)}
            # the same photos in either language, and mostly the right ones (it is a tiny model)
            assert found[0] == found[1] and len(found[0] & right) >= 0.6 * n, (en, found, right)


def test_siglip_exports_to_onnx_with_its_own_text_rules():
    """The export records how SigLIP's text is prepared (padded to its full length, lowercased) and its own
    score scale; queries in capitals encode like lower case."""
    onnx = OnnxEmbedder(TINY_SIGLIP)
    onnx.load()
    meta = json.loads((onnx.cache_dir / "meta.json").read_text())
    assert meta["kind"] == "siglip" and meta["pad_to_max"] and meta["spec"]["squash"]
    assert min(meta["agreement"].values()) >= 0.9999 and "logit_bias" in meta
    torch_e = ClipEmbedder(TINY_SIGLIP, device="cpu")
    texts = ["UN CÍRCULO ROJO", "a Star"]
    np.testing.assert_allclose(onnx.encode_text(texts), torch_e.encode_text(texts), atol=2e-4)
    np.testing.assert_allclose(
        onnx.encode_text(texts), onnx.encode_text([t.lower() for t in texts]), atol=1e-6
    )
    assert onnx.dim == torch_e.dim == 64


def test_a_nafelx_or_unknown_model_is_a_message(tmp_path):
    from photofinder.core.errors import ModelUnavailableError

    (tmp_path / "config.json").write_text(json.dumps({"model_type": "siglip2"}))
    (tmp_path / "model.safetensors").write_bytes(b"")
    with pytest.raises(ModelUnavailableError, match="NaFlex"):
        ClipEmbedder(str(tmp_path)).load()
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(ModelUnavailableError, match="CLIP and SigLIP"):
        ClipEmbedder(str(tmp_path)).load()
