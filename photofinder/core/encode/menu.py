"""The curated model menu: which CLIP-family models photofinder offers, what each is good at, and how fast each
runs on this machine (a short self-benchmark, cached).

Every choice loads through transformers (`CLIPModel` or `SiglipModel`) from safetensors, and runs through the
same path as any model: ONNX export with its equivalence check, int8 with its self-check, a good-match
calibration of its own, the staged rebuild when a library switches to it.

The hub can't be reached everywhere (the project's build machines included), so each choice also carries its
exact published configuration: `random_model` saves a model of that architecture with random weights, which
costs exactly what the real one costs to run (the speed figures) and proves the loading path.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

IMMICH = "Immich's CLIP benchmark, as quoted in photofinder issue 21"


@dataclass(frozen=True)
class ModelChoice:
    id: str
    name: str
    good_at: str
    languages: str
    download_mb: int
    licence: str
    recommended: bool
    quality: str = ""  # a published quality figure and its source ("" where none is cited)
    family: str = "clip"  # "clip" or "siglip": which transformers class loads it
    existing_default: bool = False  # what libraries made before the menu use
    image_size: int = 224
    patch_size: int = 32


# Sizes: the fp32 safetensors of the published configuration (parameter count x 4 bytes, counted from the
# configurations below) plus its tokenizer files, rounded.
_CHOICES = [
    ModelChoice(
        id="google/siglip2-base-patch32-256",
        name="SigLIP 2 B/32 (256 px)",
        good_at="everyday photos: clearly better matches than OpenAI's CLIP at about 1.3x its cost here; "
        "the recommended model for new libraries",
        languages="many (multilingual training data, Gemma tokenizer)",
        download_mb=1550,
        licence="Apache-2.0",
        recommended=True,
        quality=f"73.2 % recall ({IMMICH})",
        family="siglip",
        image_size=256,
        patch_size=32,
    ),
    ModelChoice(
        id="google/siglip2-base-patch16-224",
        name="SigLIP 2 B/16 (224 px)",
        good_at="small details and text in photos (four times finer patches), at about 3x the cost of B/32",
        languages="many (multilingual training data, Gemma tokenizer)",
        download_mb=1540,
        licence="Apache-2.0",
        recommended=False,
        quality="",
        family="siglip",
        image_size=224,
        patch_size=16,
    ),
    ModelChoice(
        id="openai/clip-vit-base-patch32",
        name="OpenAI CLIP ViT-B/32",
        good_at="the fastest; the model of libraries made before the menu (no re-index needed)",
        languages="English only",
        download_mb=605,
        licence="MIT",
        recommended=False,
        quality=f"59.4 % recall ({IMMICH})",
        family="clip",
        existing_default=True,
    ),
]


def choices() -> list[ModelChoice]:
    """The menu, the recommended choice first."""
    return list(_CHOICES)


def recommended() -> ModelChoice:
    return next(c for c in _CHOICES if c.recommended)


def find(model_id: str) -> ModelChoice | None:
    return next((c for c in _CHOICES if c.id == model_id), None)


# -- the published configurations (the hub is not needed to know a model's architecture) ----------------------
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


def random_model(choice: ModelChoice, out: Path, seed: int = 0, vision_only: bool = False) -> Path:
    """Save a model of `choice`'s exact architecture with random weights (same compute as the real one).

    `vision_only` saves just the vision tower (what the speed figure needs; a SigLIP 2 text tower is 1 GB).
    A CLIP gets the tiny test model's tokenizer (the real CLIP BPE, cut short) where the tests are at hand,
    else a word-level one; a SigLIP a word-level one.
    """
    import torch

    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    config = exact_config(choice)
    if vision_only:
        model: Any = _vision_tower(choice, config)
    elif choice.family == "siglip":
        from transformers import SiglipModel

        model = SiglipModel(config)
    else:
        from transformers import CLIPModel

        model = CLIPModel(config)
    model.save_pretrained(out, safe_serialization=True)
    (out / "preprocessor_config.json").write_text(json.dumps(preprocessor_config(choice)))
    if not vision_only:
        _word_tokenizer(out, choice.family, int(config.text_config.max_position_embeddings))
    return out


def _vision_tower(choice: ModelChoice, config: Any) -> Any:
    if choice.family == "siglip":
        from transformers import SiglipVisionModel

        return SiglipVisionModel(config.vision_config)
    from transformers import CLIPVisionModelWithProjection

    vc = config.vision_config
    vc.projection_dim = config.projection_dim
    return CLIPVisionModelWithProjection(vc)


# -- the self-benchmark ---------------------------------------------------------------------------------------
SPEED_VERSION = 1


def _machine() -> str:
    import torch

    return f"{platform.machine()}-{os.cpu_count()}cpu-torch{torch.__version__}-{platform.python_version()}"


def _speed_file() -> Path:
    from .onnx_encoder import model_cache_root

    return model_cache_root() / "speeds.json"


def measure_speed(choice: ModelChoice, batch: int = 8, seconds: float = 2.0) -> float:
    """Images per second of `choice`'s vision tower on this CPU (torch, fp32, random weights: the real
    weights cost exactly the same), after one warm-up batch, over at least `seconds` or two batches."""
    import torch

    tower = _vision_tower(choice, exact_config(choice)).eval()
    x = torch.randn(batch, 3, choice.image_size, choice.image_size)
    with torch.inference_mode():
        tower(pixel_values=x)
        done, t = 0, time.perf_counter()
        while done < 2 * batch or time.perf_counter() - t < seconds:
            tower(pixel_values=x)
            done += batch
        return done / (time.perf_counter() - t)


def speeds(measure: bool = True, only: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Each choice's measured images/s on this machine: {id: {"images_per_s", "measured", "machine"}}.

    Kept in the model cache per machine; a choice not measured yet is measured now when `measure` (a few
    seconds each), else left out.
    """
    path = _speed_file()
    try:
        cache = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        cache = {}
    machine = _machine()
    if cache.get("version") != SPEED_VERSION or cache.get("machine") != machine:
        cache = {"version": SPEED_VERSION, "machine": machine, "models": {}}
    changed = False
    for c in choices():
        if (only and c.id not in only) or c.id in cache["models"] or not measure:
            continue
        rate = measure_speed(c)
        cache["models"][c.id] = {
            "images_per_s": round(rate, 2),
            "measured": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "how": "vision tower, torch fp32, batch 8, on this machine's CPU",
        }
        changed = True
    if changed:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(cache, indent=1), encoding="utf-8")
            os.replace(tmp, path)
        except OSError as e:  # a read-only cache: measured again next time
            log.debug("speeds not kept: %s", e)
    return {k: dict(v, machine=machine) for k, v in cache["models"].items()}


def menu(measure: bool = True) -> list[dict[str, Any]]:
    """The menu as plain data, each choice with its measured speed (None when not measured)."""
    measured = speeds(measure)
    out = []
    for c in choices():
        d = asdict(c)
        s = measured.get(c.id)
        d["images_per_s"] = s["images_per_s"] if s else None
        d["speed_how"] = s["how"] if s else None
        out.append(d)
    return out


def relative_cost(rates: dict[str, float], base: str = "openai/clip-vit-base-patch32") -> dict[str, float]:
    """How many times slower each model is than `base` (1.0 = as fast)."""
    b = rates.get(base)
    return {k: float(b / v) if b and v else float(np.nan) for k, v in rates.items()}
