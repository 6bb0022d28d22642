"""The curated model menu: which CLIP-family models photofinder offers, what each is good at, its languages,
download size, licence and a published quality figure (cited, not measured here).

One list for every face: `photofinder models`, the first-run welcome and Settings all read `choices()`.
Every choice loads through transformers (`CLIPModel` or `SiglipModel`) from safetensors and runs through the
same path as any model: ONNX export with its equivalence check, int8 with its self-check, a good-match
calibration of its own, the staged rebuild when a library switches to it. Speeds measured on this machine are
in speed.py; each choice's exact architecture (for random-weight proofs) in architectures.py.
"""

from __future__ import annotations

from dataclasses import dataclass

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
