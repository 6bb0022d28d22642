"""Train the tiny bilingual SigLIP the test suite searches with, and save it in Hugging Face format.

    flock /tmp/pf-cpu.lock python tests/models/train_tiny_siglip.py     # writes tests/models/tiny-siglip/

A `SiglipModel` (what google/siglip2-base-patch32-256 and its kin load as), trained with SigLIP's own loss
(a sigmoid per image-caption pair, with a learnt scale and bias; CLIP's contrastive loss beside it, so that it
learns the shapes within minutes) on the generated shapes of tests/shapes.py,
captioned in English or Spanish at random: "a red circle on a white background" / "un círculo rojo sobre un
fondo blanco". Its tokenizer is a small BPE learnt from those captions (lowercased, like SigLIP 2's), saved as
tokenizer.json. Preprocessing is SigLIP's: the whole picture squashed to 64 x 64 (bilinear), scaled to -1..1.
Reproducible (fixed seeds, generated data, fixed step count); about four minutes on two CPU cores.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from shapes import BACKGROUNDS, COLOURS, SHAPES, Kind, all_kinds, draw  # noqa: E402

IMAGE = 64
MAX_LEN = 16

# Spanish: each colour as (masculine, feminine); each shape with its article. A star is feminine.
ES_COLOURS = {
    "red": ("rojo", "roja"),
    "green": ("verde", "verde"),
    "blue": ("azul", "azul"),
    "yellow": ("amarillo", "amarilla"),
    "purple": ("morado", "morada"),
    "orange": ("naranja", "naranja"),
}
ES_SHAPES = {
    "circle": ("un", "círculo", 0),
    "square": ("un", "cuadrado", 0),
    "triangle": ("un", "triángulo", 0),
    "star": ("una", "estrella", 1),
}
ES_BACKGROUNDS = {"white": "blanco", "black": "negro", "gray": "gris", "brown": "marrón"}


def caption_es(shape: str | None, colour: str | None, background: str | None) -> str:
    """The Spanish caption naming these attributes (None = not named), in the forms the English ones take."""
    if shape is None:
        return f"algo {ES_COLOURS[colour][0]}"  # type: ignore[index]
    art, noun, fem = ES_SHAPES[shape]
    if colour is None and background is None:
        return f"una foto de {art} {noun}"
    text = f"{art} {noun}" + (f" {ES_COLOURS[colour][fem]}" if colour else "")
    return text + (f" sobre un fondo {ES_BACKGROUNDS[background]}" if background else "")


def caption_en(shape: str | None, colour: str | None, background: str | None) -> str:
    if shape is None:
        return f"something {colour}"
    if colour is None and background is None:
        return f"a photo of a {shape}"
    text = f"a {colour} {shape}" if colour else f"a {shape}"
    return text + (f" on a {background} background" if background else "")


def attributes(kind: Kind, rng: np.random.Generator) -> tuple[str | None, str | None, str | None]:
    """Which attributes a caption names, mostly all three (the tiny CLIP's mix)."""
    r = rng.random()
    if r < 0.6:
        return kind.shape, kind.colour, kind.background
    if r < 0.75:
        return kind.shape, kind.colour, None
    if r < 0.85:
        return kind.shape, None, kind.background
    if r < 0.92:
        return kind.shape, None, None
    return None, kind.colour, None


def all_captions() -> list[str]:
    out = []
    for k in all_kinds():
        for attrs in (
            (k.shape, k.colour, k.background),
            (k.shape, k.colour, None),
            (k.shape, None, k.background),
            (k.shape, None, None),
            (None, k.colour, None),
        ):
            out += [caption_en(*attrs), caption_es(*attrs)]
    return sorted(set(out))


def write_tokenizer(out: Path) -> int:
    """A BPE learnt from the captions (both languages), lowercasing; `</s>` ends every caption."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.normalizer = normalizers.Sequence([normalizers.NFC(), normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<pad>", "</s>", "<unk>"],
        initial_alphabet=list("abcdefghijklmnopqrstuvwxyz"),
    )
    tok.train_from_iterator(all_captions(), trainer)
    eos = tok.token_to_id("</s>")
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", eos)])
    tok.save(str(out / "tokenizer.json"))
    (out / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "PreTrainedTokenizerFast",
                "model_max_length": MAX_LEN,
                "pad_token": "<pad>",
                "eos_token": "</s>",
                "unk_token": "<unk>",
                "padding_side": "right",
                "do_lower_case": True,
            },
            indent=1,
        )
    )
    (out / "special_tokens_map.json").write_text(
        json.dumps({"pad_token": "<pad>", "eos_token": "</s>", "unk_token": "<unk>"})
    )
    return tok.get_vocab_size()


def make_dataset(n: int, rng: np.random.Generator) -> tuple[np.ndarray, list[Kind]]:
    from PIL import Image

    kinds = all_kinds()
    images = np.empty((n, 3, IMAGE, IMAGE), dtype=np.float32)
    labels = []
    for i in range(n):
        k = kinds[int(rng.integers(len(kinds)))]
        side = int(rng.integers(IMAGE, 3 * IMAGE))
        w, h = side, int(side * rng.uniform(0.7, 1.4))  # photos of any usual aspect, squashed to a square
        img = draw(k, (w, h), rng).resize((IMAGE, IMAGE), resample=Image.Resampling.BILINEAR)
        images[i] = (np.asarray(img, dtype=np.float32) / 127.5 - 1.0).transpose(2, 0, 1)
        labels.append(k)
    return images, labels


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE / "tiny-siglip")
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--images", type=int, default=12000)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    torch.set_num_threads(2)

    from transformers import AutoTokenizer, SiglipConfig, SiglipModel

    vocab_size = write_tokenizer(args.out)
    tok = AutoTokenizer.from_pretrained(args.out)
    size = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2)
    config = SiglipConfig(
        text_config=dict(
            size,
            vocab_size=vocab_size,
            max_position_embeddings=MAX_LEN,
            pad_token_id=tok.pad_token_id,
            eos_token_id=tok.eos_token_id,
            bos_token_id=None,
        ),
        vision_config=dict(size, image_size=IMAGE, patch_size=8),
    )
    model = SiglipModel(config)
    with torch.no_grad():  # the paper's start: t = 10, b = -10
        model.logit_scale.fill_(float(np.log(10.0)))
        model.logit_bias.fill_(-10.0)
    (args.out / "preprocessor_config.json").write_text(
        json.dumps(
            {
                "do_normalize": True,
                "do_rescale": True,
                "do_resize": True,
                "image_mean": [0.5, 0.5, 0.5],
                "image_processor_type": "SiglipImageProcessor",
                "image_std": [0.5, 0.5, 0.5],
                "processor_class": "SiglipProcessor",
                "resample": 2,
                "rescale_factor": 1 / 255,
                "size": {"height": IMAGE, "width": IMAGE},
            },
            indent=1,
        )
    )

    print(f"drawing {args.images} training images", flush=True)
    images, labels = make_dataset(args.images, rng)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=args.steps, pct_start=0.1)
    batch = 128
    model.train()
    for step in range(args.steps):
        idx = rng.choice(len(labels), size=batch, replace=False)
        x = torch.from_numpy(images[idx])
        if rng.random() < 0.5:
            x = torch.flip(x, dims=[3])
        kinds = [labels[i] for i in idx]
        attrs = [attributes(k, rng) for k in kinds]
        caps = [caption_es(*a) if rng.random() < 0.5 else caption_en(*a) for a in attrs]
        t = tok(caps, padding="max_length", max_length=MAX_LEN, truncation=True, return_tensors="pt")
        # Several images in a batch can fit one caption: each such pair is a positive.
        match = torch.tensor(
            [
                [
                    all(a is None or a == v for a, v in zip(at, (k.shape, k.colour, k.background)))
                    for at in attrs
                ]
                for k in kinds
            ],
            dtype=torch.float32,
        )
        out = model(input_ids=t["input_ids"], attention_mask=t["attention_mask"], pixel_values=x)
        logits = out.logits_per_image  # t * cos + b
        # SigLIP's loss (a sigmoid per pair) teaches the score scale; CLIP's contrastive loss beside it shapes
        # the embedding within a CPU budget of minutes (with the sigmoid loss alone, or weighing as much, the
        # model had learnt the colours but hardly the shapes by then).
        sigmoid = -F.logsigmoid((2 * match - 1) * logits).sum() / batch
        cos = out.image_embeds @ out.text_embeds.T  # (both unit vectors)
        contrastive = (
            F.cross_entropy(cos * 30, match / match.sum(1, keepdim=True))
            + F.cross_entropy(cos.T * 30, match.T / match.T.sum(1, keepdim=True))
        ) / 2
        loss = 0.1 * sigmoid + contrastive
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 100 == 0 or step == args.steps - 1:
            print(f"step {step} loss {loss.item():.3f}", flush=True)
    model.eval()
    model.save_pretrained(args.out, safe_serialization=True)
    print(f"saved to {args.out}; shapes={SHAPES} colours={list(COLOURS)} backgrounds={list(BACKGROUNDS)}")


if __name__ == "__main__":
    main()
