"""Issue 17: exported ONNX models carry their own check. Every file the export writes is recorded (SHA-256 and
size, with the source model's fingerprint) and checked before use: another model's vision.onnx, a truncated or
garbage file, is exported again with one log line, never a traceback and never wrong vectors. And an export
that disagrees with torch, or whose tokenizer does not tokenize like the model's, is never used."""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from photofinder.core.encode import onnx_export, onnx_files
from photofinder.core.encode.onnx_encoder import ExportFailed, OnnxEmbedder, export_model

PIXELS = np.random.default_rng(3).standard_normal((3, 3, 64, 64)).astype(np.float32)
TEXTS = ["a red circle", "a photo of a cat"]


def _other_model(tiny_model: str, dst: Path) -> str:
    """The tiny model with other weights: a different network of the same shapes."""
    from safetensors.numpy import load_file, save_file

    shutil.copytree(tiny_model, dst)
    weights = load_file(str(dst / "model.safetensors"))
    rng = np.random.default_rng(7)
    weights = {
        k: np.asarray(v + rng.normal(0, 0.05, v.shape), dtype=v.dtype) if v.dtype.kind == "f" else v
        for k, v in weights.items()
    }
    save_file(weights, str(dst / "model.safetensors"))
    return str(dst)


@pytest.fixture(scope="module")
def exported(tiny_model, model_cache):
    """The tiny model's export in the run's model cache (made by this code: the cache is keyed by it, so a change
    to the export exports again). Read-only: a test that damages an export copies it first."""
    e = OnnxEmbedder(tiny_model)
    return e.cache_dir if e.load() is None else None, e.encode_pixels(PIXELS), e.encode_text(TEXTS)


@pytest.fixture(scope="module")
def other_vision(tiny_model, tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("other")
    e = OnnxEmbedder(_other_model(tiny_model, tmp / "model"), cache_root=tmp / "cache")
    e.encode_pixels(PIXELS)
    return e.cache_dir / "vision.onnx"


def _damage(folder: Path, damage: str, other_vision: Path) -> None:
    if damage == "another model's vision.onnx, same size and time":
        assert other_vision.read_bytes() != (folder / "vision.onnx").read_bytes()
        assert other_vision.stat().st_size == (folder / "vision.onnx").stat().st_size
        stat = (folder / "vision.onnx").stat()
        shutil.copyfile(other_vision, folder / "vision.onnx")
        os.utime(folder / "vision.onnx", ns=(stat.st_atime_ns, stat.st_mtime_ns))
    elif damage.startswith("truncated "):
        f = folder / damage.split()[1]
        f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    elif damage.startswith("garbage "):
        f = folder / damage.split()[1]
        f.write_bytes(os.urandom(f.stat().st_size))
    elif damage == "manifest of another model":
        m = json.loads((folder / "manifest.json").read_text())
        m["source"] = "sha256:" + "0" * 32
        (folder / "manifest.json").write_text(json.dumps(m))
    else:
        raise AssertionError(damage)


@pytest.mark.slow  # an export fault: 8 damaged exports, ~40 s
@pytest.mark.parametrize(
    "damage",
    [
        "another model's vision.onnx, same size and time",
        "truncated vision.onnx",
        "garbage text.onnx",
        "garbage meta.json",
        "truncated tokenizer.json",
        "garbage manifest.json",
        "manifest of another model",
        "garbage vision.int8.onnx",
    ],
)
def test_a_damaged_or_swapped_export_is_made_again_with_one_log_line(
    damage, exported, other_vision, tiny_model, tmp_path, caplog
):
    folder, ref_v, ref_t = exported
    root = tmp_path / "cache"
    shutil.copytree(folder, root / folder.name)
    int8 = "int8" in damage
    first = OnnxEmbedder(tiny_model, cache_root=root, int8=int8)
    first.encode_pixels(PIXELS), first.encode_text(TEXTS)  # used once: its files are checked and remembered
    expected_v = first.encode_pixels(PIXELS)
    _damage(first.cache_dir, damage, other_vision)

    e = OnnxEmbedder(tiny_model, cache_root=root, int8=int8)
    with caplog.at_level(logging.WARNING):
        v, t = e.encode_pixels(PIXELS), e.encode_text(TEXTS)
    np.testing.assert_allclose(v, expected_v if int8 else ref_v, atol=1e-5)
    np.testing.assert_allclose(t, ref_t, atol=1e-5)
    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1 and lines[0].exc_info is None, caplog.text
    again = "making it again" if int8 else "exporting it again"
    assert "can't be used" in lines[0].getMessage() and again in lines[0].getMessage()
    caplog.clear()
    with caplog.at_level(logging.WARNING):  # and the next use finds a sound export, without a word
        OnnxEmbedder(tiny_model, cache_root=root, int8=int8).encode_pixels(PIXELS)
    assert not caplog.records


def test_every_exported_file_is_recorded_with_the_source_model(exported, tiny_model):
    from photofinder.core.encode.models import fingerprint

    folder = exported[0]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["source"] == fingerprint(tiny_model)
    assert set(manifest["files"]) >= {"vision.onnx", "text.onnx", "meta.json", "tokenizer.json"}
    for name, want in manifest["files"].items():
        assert onnx_files._sha256(folder / name) == want["sha256"]
        assert (folder / name).stat().st_mode & 0o777 == 0o600, name
    assert folder.stat().st_mode & 0o777 == 0o700


@pytest.mark.slow  # an export fault: exports again, ~5 s
def test_an_export_that_disagrees_with_torch_is_never_used(tiny_model, tmp_path, monkeypatch):
    """The check against torch is what stands between a broken exporter and wrong vectors: an export of other
    weights (as a broken exporter would give) is refused."""
    import torch
    from transformers import CLIPModel

    other = CLIPModel.from_pretrained(_other_model(tiny_model, tmp_path / "other"), use_safetensors=True)
    real = onnx_export._towers
    monkeypatch.setattr(onnx_export, "_towers", lambda model: real(other.float().eval()))
    with pytest.raises(ExportFailed, match="disagrees with torch"), torch.inference_mode(False):
        export_model(tiny_model, tmp_path / "cache" / "x-onnx3")
    assert not (tmp_path / "cache" / "x-onnx3").exists()


@pytest.mark.slow  # an export fault: exports again, ~4 s
def test_an_export_whose_tokenizer_differs_from_the_models_is_never_used(tiny_model, tmp_path):
    """tokenizer.json (what ONNX queries tokenize with) must give the ids the model's own tokenizer gives."""
    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    tok = json.loads((model / "tokenizer.json").read_text())
    vocab = tok["model"]["vocab"]
    vocab["cat</w>"], vocab["car</w>"] = vocab["car</w>"], vocab["cat</w>"]  # "cat" searches for cars
    (model / "tokenizer.json").write_text(json.dumps(tok))
    with pytest.raises(ExportFailed, match="does not tokenize like"):
        export_model(str(model), tmp_path / "cache" / "x-onnx3")
    assert not (tmp_path / "cache" / "x-onnx3").exists()
