"""A CLIP with exactly the openai/clip-vit-base-patch32 architecture and random weights, saved in HF format.

Compute does not depend on the weights, so this has the real model's sizes and cost. Used by the benchmark and
by the tests that need a full-size model; the real checkpoint can't be downloaded on the build machines. The
configuration and preprocessor settings are the model menu's own (photofinder/core/encode/architectures.py).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

TOKENIZER_SRC = Path(__file__).resolve().parents[1] / "tests" / "models" / "tiny-clip"
MODEL_ID = "openai/clip-vit-base-patch32"


def make_vitb32(out: Path, seed: int = 0) -> Path:
    import torch
    from transformers import CLIPModel

    from photofinder.core.encode import architectures, menu

    choice = menu.find(MODEL_ID)
    assert choice is not None, MODEL_ID
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    CLIPModel(architectures.exact_config(choice)).save_pretrained(out, safe_serialization=True)
    # The tokenizer of the tiny test model (the real CLIP BPE, cut short): ids fit the full-size vocabulary.
    for name in ("vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json"):
        shutil.copy(TOKENIZER_SRC / name, out / name)
    (out / "preprocessor_config.json").write_text(json.dumps(architectures.preprocessor_config(choice)))
    return out
