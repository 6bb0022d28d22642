"""A CLIP with exactly the openai/clip-vit-base-patch32 architecture and random weights, saved in HF format.

Compute does not depend on the weights, so this has the real model's sizes and cost. Used by the benchmark and
by the tests that need a full-size model; the real checkpoint can't be downloaded on the build machines.
"""

from __future__ import annotations

import shutil
from pathlib import Path

TOKENIZER_SRC = Path(__file__).resolve().parents[1] / "tests" / "models" / "tiny-clip"

# openai/clip-vit-base-patch32's preprocessor_config.json, as published
PREPROCESSOR = (
    '{"crop_size": 224, "do_center_crop": true, "do_normalize": true, "do_resize": true,'
    ' "feature_extractor_type": "CLIPFeatureExtractor", "image_mean": [0.48145466, 0.4578275, 0.40821073],'
    ' "image_std": [0.26862954, 0.26130258, 0.27577711], "resample": 3, "size": 224}'
)


def make_vitb32(out: Path, seed: int = 0) -> Path:
    import torch
    from transformers import CLIPConfig, CLIPModel

    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    config = CLIPConfig(
        text_config=dict(
            vocab_size=49408,
            hidden_size=512,
            intermediate_size=2048,
            num_attention_heads=8,
            num_hidden_layers=12,
            max_position_embeddings=77,
        ),
        vision_config=dict(
            hidden_size=768,
            intermediate_size=3072,
            num_attention_heads=12,
            num_hidden_layers=12,
            image_size=224,
            patch_size=32,
        ),
        projection_dim=512,
    )
    CLIPModel(config).save_pretrained(out, safe_serialization=True)
    # The tokenizer of the tiny test model (the real CLIP BPE, cut short): ids fit the full-size vocabulary.
    for name in ("vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json"):
        shutil.copy(TOKENIZER_SRC / name, out / name)
    (out / "preprocessor_config.json").write_text(PREPROCESSOR)
    return out
