"""The model menu and model choice on the command line: `photofinder models`, a new library built with the tiny
SigLIP and switched from CLIP, `--fast` on a first index."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

TINY_SIGLIP = str(Path(__file__).resolve().parents[1] / "models" / "tiny-siglip")


def test_models_lists_the_menu_with_speeds_measured_here(cli, data_dir, tmp_path, monkeypatch):
    from photofinder.core.encode import menu, speed

    # a measurement kept from before (measuring three full-size towers takes longer than a test may)
    monkeypatch.setenv("PHOTOFINDER_MODEL_CACHE", str(tmp_path))
    (tmp_path / "speeds.json").write_text(
        json.dumps(
            {
                "version": speed.SPEED_VERSION,
                "machine": speed._machine(),
                "models": {
                    c.id: {"images_per_s": 10.0 + i, "measured": "now", "how": "test"}
                    for i, c in enumerate(menu.choices())
                },
            }
        )
    )
    out = json.loads(cli("models", "--json").stdout)["models"]
    assert [m["id"] for m in out] == [c.id for c in menu.choices()]
    assert [m["images_per_s"] for m in out] == [10.0 + i for i in range(len(out))]
    assert sum(m["recommended"] for m in out) == 1
    text = cli("models").stdout
    assert "google/siglip2-base-patch32-256  (recommended for new libraries)" in text
    assert "English only" in text and "10.0 images/s here" in text and "73.2 %" in text


def test_a_library_switches_from_clip_to_siglip_and_answers_in_spanish(cli, photos, tiny_model):
    folder, kinds = photos
    cli("index", str(folder), "--model", tiny_model, "--ocr", "off")  # no words pass: not what is tested here
    before = json.loads(cli("search", "a red circle on a white background", "--json", "-n", "5").stdout)
    rebuilt = json.loads(cli("index", "--rebuild", "--model", TINY_SIGLIP, "--ocr", "off", "--json").stdout)
    assert rebuilt["indexed"] == len(kinds)
    libs = json.loads(cli("libraries", "--json").stdout)
    assert "tiny-siglip" in json.dumps(libs)
    es = json.loads(cli("search", "un círculo rojo sobre un fondo blanco", "--json", "-n", "5").stdout)
    en = json.loads(cli("search", "a red circle on a white background", "--json", "-n", "5").stdout)
    assert [r["path"] for r in es["results"]] == [r["path"] for r in en["results"]]
    assert {Path(r["path"]).name.split("-")[0] for r in en["results"]} == {"red"}
    assert before["results"]


def test_fast_decides_on_a_first_index_and_says_so(cli, photos, tiny_model):
    folder, kinds = photos
    # no words pass: not what is tested here
    r = cli("index", str(folder), "--model", tiny_model, "--fast", "--ocr", "off")
    line = next(x for x in r.stdout.splitlines() if x.startswith("fast indexing:"))
    assert f"checked on the first {len(kinds)} photos" in line and "the check took" in line
    out = json.loads(cli("index", "--rebuild", "--fast", "--ocr", "off", "--json").stdout)
    assert "checked before" in out["fast"]["why"] and isinstance(out["fast"]["int8"], bool)


def test_the_probe_switches_to_int8_once_it_has_agreed(tiny_model):
    from photofinder.core.encode.choose import PROBE_PHOTOS, Int8Probe
    from photofinder.core.encode.onnx_encoder import OnnxEmbedder

    fp32, int8 = OnnxEmbedder(tiny_model), OnnxEmbedder(tiny_model, int8=True)
    calls = []

    class Counting:
        def __init__(self, inner, name):
            self.inner, self.name = inner, name

        def encode_pixels(self, pixels):
            calls.append((self.name, len(pixels)))
            return self.inner.encode_pixels(pixels)

        def __getattr__(self, k):
            return getattr(self.inner, k)

    probe = Int8Probe(Counting(fp32, "fp32"), Counting(int8, "int8"))
    rng = np.random.default_rng(0)
    for _ in range(PROBE_PHOTOS // 32 + 1):
        probe.encode_pixels(rng.standard_normal((32, 3, 64, 64)).astype(np.float32))
    ok, agreement, photos = probe.finish()
    assert photos == PROBE_PHOTOS and 0 <= agreement <= 1
    last = [c for c in calls if c[1] == 32][-1]
    assert last[0] == ("int8" if ok else "fp32")  # after the check, one tower alone
    assert sum(n for name, n in calls if name == "int8") <= PROBE_PHOTOS + (32 if ok else 0)
