"""Exporting a model's two towers to ONNX (the only part that needs torch), checked against torch before it is used:
the same image and text features (cosine >= MIN_COSINE), and tokenizer.json giving the model's own token ids."""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from photofinder.core.encode.models import (
    CLIP,
    TextRules,
    embedding_dim,
    load_transformers,
    max_text_length,
    text_rules,
    unloadable,
)
from photofinder.core.encode.models import fingerprint as model_fingerprint
from photofinder.core.encode.onnx_files import ExportFailed, write_manifest
from photofinder.core.encode.onnx_run import fast_tokenizer, normalise, session, text_inputs
from photofinder.core.encode.preprocess import PreprocessSpec
from photofinder.core.errors import ModelUnavailableError

log = logging.getLogger(__name__)

MIN_COSINE = 0.9999  # an export must agree with torch at least this well, or it is not used


def export_model(src: str, dest: Path, source: str | None = None) -> None:
    """Export `src`'s towers to ONNX in `dest`, verified against torch; atomic (a temp folder renamed).

    `source` is the model's fingerprint (computed here when not given); it and every file's SHA-256 go into
    the export's manifest, which each later load checks.
    """
    try:
        import torch
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError as e:
        raise ExportFailed(f"exporting to ONNX needs torch and transformers ({e})") from e
    from photofinder.core.paths import make_private_dir

    make_private_dir(dest.parent)
    tmp = Path(tempfile.mkdtemp(prefix=".export-", dir=dest.parent))
    try:
        try:
            model, tokenizer, kind = load_transformers(src)
            model = model.float().eval()
        except ModelUnavailableError:
            raise
        except Exception as e:  # noqa: BLE001 - safetensors, json and transformers raise many kinds
            raise ModelUnavailableError(unloadable(src, e)) from e
        backend = getattr(tokenizer, "backend_tokenizer", None)
        if kind != CLIP and backend is not None:
            # the tokenizer as transformers built it (SigLIP 2's adds lowercasing to the file's), not the file
            backend.save(str(tmp / "tokenizer.json"))
        elif os.path.exists(os.path.join(src, "tokenizer.json")):
            shutil.copy(os.path.join(src, "tokenizer.json"), tmp / "tokenizer.json")
        else:
            raise ExportFailed("the model folder has no tokenizer.json (the fast tokenizer ONNX queries use)")
        max_len = max_text_length(model)
        rules = text_rules(src, kind, max_len, getattr(tokenizer, "padding_side", "right"))
        size = int(model.config.vision_config.image_size)
        vision, text = _towers(model)
        _export(
            torch,
            vision,
            (torch.randn(2, 3, size, size),),
            tmp / "vision.onnx",
            ["pixel_values"],
            [{0: "batch"}],
        )
        sample = _hf_tokens(tokenizer, rules, ["a photo", "two dogs playing on a beach at sunset"])
        _export(
            torch,
            text,
            (sample["input_ids"], sample.get("attention_mask", torch.ones_like(sample["input_ids"]))),
            tmp / "text.onnx",
            ["input_ids", "attention_mask"],
            [{0: "batch"} if rules.pad_to_max else {0: "batch", 1: "sequence"}] * 2,  # SigLIP: always max
            max_len=None if rules.pad_to_max else max_len,
        )
        from photofinder.core.encode.torch_encoder import _read_json

        spec = PreprocessSpec.from_processor_config(_read_json(src, "preprocessor_config.json"))
        meta = {
            "kind": kind,
            "dim": embedding_dim(model),
            "max_length": max_len,
            "pad_id": int(tokenizer.pad_token_id),
            "pad_token": tokenizer.pad_token,
            "pad_to_max": rules.pad_to_max,
            "padding_side": rules.padding_side,
            "lowercase": rules.lowercase,
            "use_mask": "attention_mask" in sample,
            "spec": {
                "shortest_edge": spec.shortest_edge,
                "crop_height": spec.crop_height,
                "crop_width": spec.crop_width,
                "mean": list(spec.mean),
                "std": list(spec.std),
                "squash": spec.squash,
                "resample": spec.resample,
            },
            "torch": torch.__version__,
        }
        if kind != CLIP:  # what SigLIP's own sigmoid makes of a score: its logit scale and bias
            meta["logit_scale"] = float(model.logit_scale.exp().item())
            meta["logit_bias"] = float(model.logit_bias.item())
        reference = _reference_tokenizer(src) if kind == CLIP else None
        meta["agreement"] = _verify(torch, model, tokenizer, rules, tmp, meta, size, reference)
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
        write_manifest(
            tmp, source or model_fingerprint(src), ["vision.onnx", "text.onnx", "tokenizer.json", "meta.json"]
        )
        try:
            os.replace(tmp, dest)
        except OSError:  # another process exported the same model meanwhile: keep theirs
            if not (dest / "meta.json").exists():
                raise
        log.info("exported %s to ONNX in %s (agreement with torch: %s)", src, dest, meta["agreement"])
        for old in dest.parent.glob(dest.name.rsplit("-onnx", 1)[0] + "-onnx*"):
            if old != dest and old.is_dir():  # this model's export by an older version: made again, unused
                shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _towers(model: Any) -> tuple[Any, Any]:
    """The vision and text towers as torch modules returning the projected embeddings."""
    import torch

    class Vision(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.m = model

        def forward(self, pixel_values: Any) -> Any:
            return _pooled(self.m.get_image_features(pixel_values=pixel_values))

    class ClassTokenVision(torch.nn.Module):
        """The vision tower written for inference: the same arithmetic, less work.

        - Only the class token's final state becomes the embedding, so the last layer computes keys and values
          for every token and its query, attention output and MLP for the class token alone (the stock forward
          spends about 7 % of the tower on the 49 other tokens' last step).
        - Tokens are kept as rows of one matrix (batch x tokens, width), so every projection is one Gemm with
          its bias folded in, and the query, key and value projections are one product with their weights
          side by side.
        Checked against torch like any export.
        """

        def __init__(self) -> None:
            super().__init__()
            vm = model.vision_model
            self.embeddings, self.pre, self.post = vm.embeddings, vm.pre_layrnorm, vm.post_layernorm
            self.layers = vm.encoder.layers
            self.projection = model.visual_projection
            first = self.layers[0].self_attn
            self.heads, self.head_dim, self.scale = first.num_heads, first.head_dim, float(first.scale)
            for i, layer in enumerate(self.layers):
                a = layer.self_attn
                w = torch.cat([a.q_proj.weight, a.k_proj.weight, a.v_proj.weight]).detach().t().contiguous()
                bias = torch.cat([a.q_proj.bias, a.k_proj.bias, a.v_proj.bias]).detach()
                self.register_buffer(f"qkv_w{i}", w)
                self.register_buffer(f"qkv_b{i}", bias)

        def forward(self, pixel_values: Any) -> Any:
            h = self.pre(self.embeddings(pixel_values))
            b, n, d = h.shape[0], h.shape[1], h.shape[2]
            heads, hd = self.heads, self.head_dim
            h = h.reshape(-1, d)  # (batch x tokens, width)
            last = len(self.layers) - 1
            for i, layer in enumerate(self.layers):
                attn = layer.self_attn
                x = layer.layer_norm1(h)
                qkv = torch.addmm(getattr(self, f"qkv_b{i}"), x, getattr(self, f"qkv_w{i}"))
                qkv = qkv.reshape(b, n, 3, heads, hd).permute(2, 0, 3, 1, 4)  # (3, batch, heads, tokens, hd)
                q, k, v = qkv[0], qkv[1], qkv[2]
                if i == last:
                    q = q[:, :, :1]
                    h = h.reshape(b, n, d)[:, 0]
                w = torch.softmax(torch.matmul(q * self.scale, k.transpose(-1, -2)), dim=-1)
                o = torch.matmul(w, v).permute(0, 2, 1, 3).reshape(-1, d)
                h = h + attn.out_proj(o)
                h = h + layer.mlp(layer.layer_norm2(h))
            return self.projection(self.post(h))

    class Text(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.m = model

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return _pooled(self.m.get_text_features(input_ids=input_ids, attention_mask=attention_mask))

    try:
        vision: torch.nn.Module = ClassTokenVision()
    except (AttributeError, TypeError):  # a CLIP built differently: the stock forward
        vision = Vision()
    return vision, Text()


def _pooled(out: Any) -> Any:
    import torch

    return out if isinstance(out, torch.Tensor) else out.pooler_output


def _export(
    torch: Any,
    module: Any,
    args: tuple,
    path: Path,
    names: list[str],
    axes: list[dict[int, str]],
    max_len: int | None = None,
) -> None:
    import warnings

    dims = {"batch": torch.export.Dim("batch", min=1, max=4096)}
    if max_len is not None:
        dims["sequence"] = torch.export.Dim("sequence", min=2, max=max_len)
    shapes = tuple({i: dims[n] for i, n in a.items()} for a in axes)
    with warnings.catch_warnings(), _quiet():
        warnings.simplefilter("ignore")
        try:
            torch.onnx.export(
                module,
                args,
                str(path),
                input_names=names,
                output_names=["embeds"],
                dynamic_shapes=shapes,
                dynamo=True,
                opset_version=18,
                external_data=False,
                verbose=False,
            )
        except Exception as e:  # noqa: BLE001 - the exporter raises many kinds; all mean "no ONNX for this"
            raise ExportFailed(
                f"torch.onnx could not export {path.name}: {str(e).splitlines()[0][:200]}"
            ) from e


class _quiet:
    """The exporter prints progress to stdout; a CLI user sees none of it."""

    def __enter__(self) -> None:
        import contextlib
        import io

        self._redirect = contextlib.redirect_stdout(io.StringIO())
        self._redirect.__enter__()
        self._levels = {
            n: logging.getLogger(n).level
            for n in ("torch.onnx", "onnxscript", "torch.export", "onnx_ir", "transformers")
        }
        for n in self._levels:
            logging.getLogger(n).setLevel(logging.ERROR)

    def __exit__(self, *exc: object) -> None:
        self._redirect.__exit__(*exc)
        for n, level in self._levels.items():
            logging.getLogger(n).setLevel(level)


def _reference_tokenizer(src: str) -> Any:
    """The model's tokenizer built from its vocab.json and merges.txt alone, or None without them.

    transformers 5 loads CLIPTokenizer from tokenizer.json itself when the folder has one, so comparing
    tokenizer.json with "the model's tokenizer" compared the file with itself; this one never reads it.
    """
    from transformers import CLIPTokenizer

    vocab_file, merges_file = os.path.join(src, "vocab.json"), os.path.join(src, "merges.txt")
    if not (os.path.exists(vocab_file) and os.path.exists(merges_file)):
        return None
    with open(vocab_file, encoding="utf-8") as f:
        vocab = json.load(f)
    with open(merges_file, encoding="utf-8") as f:
        merges = [tuple(line.split()) for line in f.read().splitlines() if line and not line.startswith("#")]
    try:
        return CLIPTokenizer(vocab=vocab, merges=merges)
    except TypeError:  # transformers 4: the slow tokenizer, which reads these two files
        return CLIPTokenizer(vocab_file=vocab_file, merges_file=merges_file)


_TOKENIZER_SAMPLES = [
    "a photo of a cat",
    "a red car parked in front of a house at night",
    "x",
    "Ünïcödé, café & 123 dogs!!",
    "golden retriever puppies playing in the snow, 2024",
]


def _hf_tokens(tokenizer: Any, rules: TextRules, texts: list[str]) -> Any:
    return tokenizer(
        rules.prepare(texts),
        padding="max_length" if rules.pad_to_max else True,
        truncation=True,
        max_length=rules.max_length,
        return_tensors="pt",
    )


def _verify(
    torch: Any,
    model: Any,
    tokenizer: Any,
    rules: TextRules,
    folder: Path,
    meta: dict[str, Any],
    size: int,
    reference: Any = None,
) -> dict:
    """Cosine of ONNX against torch on a few random images and captions; ExportFailed below MIN_COSINE.

    tokenizer.json (what ONNX queries tokenize with) must give the ids of the model's tokenizer, and of the
    one built from vocab.json and merges.txt alone where the model has them (CLIP)."""
    rng = np.random.default_rng(0)
    pixels = rng.standard_normal((3, 3, size, size)).astype(np.float32)
    texts = ["a photo of a cat", "A red car parked in front of a house at night", "x"]
    with torch.inference_mode():
        ref_v = _pooled(model.get_image_features(pixel_values=torch.from_numpy(pixels))).numpy()
        tok = _hf_tokens(tokenizer, rules, texts)
        ref_t = _pooled(model.get_text_features(**tok)).numpy()
    vision = session(folder / "vision.onnx", None)
    text = session(folder / "text.onnx", None)
    fast = fast_tokenizer(folder, meta)
    inputs = text_inputs(fast, meta, texts)
    ids = inputs["input_ids"]
    if ids.shape != tuple(tok["input_ids"].shape) or not (ids == tok["input_ids"].numpy()).all():
        raise ExportFailed("tokenizer.json does not tokenize like the model's own tokenizer")
    if reference is not None:
        for t in _TOKENIZER_SAMPLES:
            want = reference(t, truncation=True, max_length=meta["max_length"])["input_ids"]
            if list(fast.encode(t).ids) != list(want):
                raise ExportFailed(
                    "tokenizer.json does not tokenize like the model's own tokenizer (vocab.json, merges.txt)"
                )
    got_v = vision.run(None, {"pixel_values": pixels})[0]
    got_t = text.run(None, inputs)[0]
    cos_v = float(np.min(np.sum(normalise(ref_v) * normalise(got_v), axis=1)))
    cos_t = float(np.min(np.sum(normalise(ref_t) * normalise(got_t), axis=1)))
    if min(cos_v, cos_t) < MIN_COSINE:
        raise ExportFailed(f"the ONNX export disagrees with torch (cosine {min(cos_v, cos_t):.6f})")
    return {"vision_cosine": round(cos_v, 7), "text_cosine": round(cos_t, 7)}
