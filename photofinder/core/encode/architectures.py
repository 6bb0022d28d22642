"""Each menu model's exact published architecture, so a model of it can be made without the hub.

The hub can't be reached everywhere (the project's build machines included): `random_model` saves a model of a
choice's architecture with random weights, which costs exactly what the real one costs to run (the speed
figures) and proves the loading path end to end.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from photofinder.core.encode.menu import ModelChoice

_SIGLIP2_BASE = dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12)


def exact_config(choice: ModelChoice) -> Any:
    """The transformers config of `choice`, with its published sizes."""
    if choice.family == "siglip":
        from transformers import SiglipConfig

        return SiglipConfig(
            text_config=dict(_SIGLIP2_BASE, vocab_size=256000, max_position_embeddings=64),
            vision_config=dict(_SIGLIP2_BASE, image_size=choice.image_size, patch_size=choice.patch_size),
        )
    from transformers import CLIPConfig

    return CLIPConfig(
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
            image_size=choice.image_size,
            patch_size=choice.patch_size,
        ),
        projection_dim=512,
    )


def preprocessor_config(choice: ModelChoice) -> dict[str, Any]:
    """The published preprocessor_config.json of `choice`."""
    if choice.family == "siglip":
        return {
            "do_normalize": True,
            "do_rescale": True,
            "do_resize": True,
            "image_mean": [0.5, 0.5, 0.5],
            "image_processor_type": "SiglipImageProcessor",
            "image_std": [0.5, 0.5, 0.5],
            "processor_class": "SiglipProcessor",
            "resample": 2,
            "rescale_factor": 1 / 255,
            "size": {"height": choice.image_size, "width": choice.image_size},
        }
    return {
        "crop_size": choice.image_size,
        "do_center_crop": True,
        "do_normalize": True,
        "do_resize": True,
        "feature_extractor_type": "CLIPFeatureExtractor",
        "image_mean": [0.48145466, 0.4578275, 0.40821073],
        "image_std": [0.26862954, 0.26130258, 0.27577711],
        "resample": 3,
        "size": choice.image_size,
    }


_WORDS = (
    "a an the of on in at with and photo picture dog cat beach sunset night red green blue yellow circle square "
    "star triangle people child car house tree sky sea mountain city street food flower snow shape un una "
    "sobre fondo rojo perro gato playa"
).split()


def _word_tokenizer(folder: Path, family: str, max_length: int) -> None:
    """A small word-level tokenizer (its ids fit any vocabulary): random weights read no real tokenizer."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

    specials = ["<pad>", "</s>", "<unk>"]
    vocab = {w: i for i, w in enumerate(specials + sorted(set(_WORDS)))}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    tok.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "PreTrainedTokenizerFast",
                "model_max_length": max_length,
                "pad_token": "<pad>",
                "eos_token": "</s>",
                "unk_token": "<unk>",
            }
        )
    )


def random_model(
    choice: ModelChoice,
    out: Path,
    seed: int = 0,
    vision_only: bool = False,
    tokenizer_from: Path | None = None,
) -> Path:
    """Save a model of `choice`'s exact architecture with random weights (same compute as the real one).

    `vision_only` saves just the vision tower (what the speed figure needs; a SigLIP 2 text tower is 1 GB).
    The tokenizer files are copied from `tokenizer_from` when given, else a word-level one is written. A CLIP
    needs a real CLIP BPE there (transformers' CLIPTokenizer reads vocab.json and merges.txt, and the export
    checks tokenizer.json against it): the bench passes the tiny test model's.
    """
    import torch

    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    config = exact_config(choice)
    if vision_only:
        model: Any = vision_tower(choice, config)
    elif choice.family == "siglip":
        from transformers import SiglipModel

        model = SiglipModel(config)
    else:
        from transformers import CLIPModel

        model = CLIPModel(config)
    model.save_pretrained(out, safe_serialization=True)
    (out / "preprocessor_config.json").write_text(json.dumps(preprocessor_config(choice)))
    if vision_only:
        return out
    if tokenizer_from is not None:
        for name in ("tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt"):
            if (tokenizer_from / name).exists():
                shutil.copy(tokenizer_from / name, out / name)
    else:
        _word_tokenizer(out, choice.family, int(config.text_config.max_position_embeddings))
    return out


def vision_tower(choice: ModelChoice, config: Any) -> Any:
    if choice.family == "siglip":
        from transformers import SiglipVisionModel

        return SiglipVisionModel(config.vision_config)
    from transformers import CLIPVisionModelWithProjection

    vc = config.vision_config
    vc.projection_dim = config.projection_dim
    return CLIPVisionModelWithProjection(vc)
