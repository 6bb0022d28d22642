"""Train the tiny CLIP that the test suite searches with, and save it in Hugging Face format.

    python tests/models/train_tiny_clip.py            # writes tests/models/tiny-clip/

Reproducible: fixed seeds, generated data (tests/shapes.py), a fixed step count. The tokenizer is the real CLIP
byte-level BPE (from the open_clip_torch wheel, downloaded with pip if it is not installed) cut to its first
8,000 merges, so words outside the shapes vocabulary still tokenize the way CLIP does. Takes a few minutes on
two CPU cores.
"""

from __future__ import annotations

import argparse
import glob
import gzip
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from shapes import BACKGROUNDS, COLOURS, SHAPES, Kind, all_kinds, draw  # noqa: E402

MERGES = 8000
IMAGE = 64
MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)


def _bpe_lines() -> list[str]:
    try:
        import open_clip  # type: ignore[import-not-found]

        path = Path(open_clip.__file__).parent / "bpe_simple_vocab_16e6.txt.gz"
        data = path.read_bytes()
    except ImportError:
        tmp = tempfile.mkdtemp()
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "open_clip_torch==3.3.0", "-d", tmp],
            check=True,
        )
        with zipfile.ZipFile(glob.glob(f"{tmp}/*.whl")[0]) as z:
            data = z.read("open_clip/bpe_simple_vocab_16e6.txt.gz")
    return gzip.decompress(data).decode("utf-8").split("\n")


def _bytes_to_unicode() -> list[str]:
    bs = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for c in cs]


def write_tokenizer(out: Path) -> int:
    merges = _bpe_lines()[1 : 1 + MERGES]
    chars = _bytes_to_unicode()
    vocab = chars + [c + "</w>" for c in chars] + ["".join(m.split(" ")) for m in merges]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    (out / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(vocab)}, ensure_ascii=False))
    (out / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
    from transformers import CLIPTokenizer

    tok = CLIPTokenizer(vocab=str(out / "vocab.json"), merges=str(out / "merges.txt"))
    tok.model_max_length = 16
    tok.save_pretrained(out)
    return len(vocab)


def captions_for(
    kind: Kind, rng: np.random.Generator
) -> tuple[str, tuple[str | None, str | None, str | None]]:
    """A caption and the attributes it names (None = not named), mostly the full caption."""
    r = rng.random()
    if r < 0.6:
        return kind.caption, (kind.shape, kind.colour, kind.background)
    if r < 0.75:
        return f"a {kind.colour} {kind.shape}", (kind.shape, kind.colour, None)
    if r < 0.85:
        return f"a {kind.shape} on a {kind.background} background", (kind.shape, None, kind.background)
    if r < 0.92:
        return f"a photo of a {kind.shape}", (kind.shape, None, None)
    return f"something {kind.colour}", (None, kind.colour, None)


def make_dataset(n: int, rng: np.random.Generator) -> tuple[np.ndarray, list[Kind]]:
    kinds = all_kinds()
    images = np.empty((n, 3, IMAGE, IMAGE), dtype=np.float32)
    labels = []
    for i in range(n):
        k = kinds[int(rng.integers(len(kinds)))]
        # Drawn a little larger, then resized like the app does, so edges look like real downscaled photos.
        side = int(rng.integers(IMAGE, 3 * IMAGE))
        img = draw(k, (side, side), rng).resize((IMAGE, IMAGE), resample=3)
        arr = (np.asarray(img, dtype=np.float32) / 255.0 - MEAN) / STD
        images[i] = arr.transpose(2, 0, 1)
        labels.append(k)
    return images, labels


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE / "tiny-clip")
    ap.add_argument("--steps", type=int, default=2500)
    ap.add_argument("--images", type=int, default=16000)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)

    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPTokenizer

    vocab_size = write_tokenizer(args.out)
    tok = CLIPTokenizer.from_pretrained(args.out)
    eos = tok.convert_tokens_to_ids("<|endoftext|>")
    bos = tok.convert_tokens_to_ids("<|startoftext|>")
    config = CLIPConfig(
        text_config=dict(
            vocab_size=vocab_size,
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=2,
            max_position_embeddings=16,
            eos_token_id=eos,
            bos_token_id=bos,
            pad_token_id=eos,
        ),
        vision_config=dict(
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=IMAGE,
            patch_size=8,
        ),
        projection_dim=64,
    )
    model = CLIPModel(config)
    CLIPImageProcessor(
        size={"shortest_edge": IMAGE}, crop_size={"height": IMAGE, "width": IMAGE}
    ).save_pretrained(args.out)

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
        caps, attrs = zip(*(captions_for(k, rng) for k in kinds))
        t = tok(list(caps), padding="max_length", max_length=16, truncation=True, return_tensors="pt")
        # Several images in a batch can fit one caption: the target spreads over all of them.
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
        logits = out.logits_per_image
        loss = (
            F.cross_entropy(logits, match / match.sum(1, keepdim=True))
            + F.cross_entropy(logits.T, match.T / match.T.sum(1, keepdim=True))
        ) / 2
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
