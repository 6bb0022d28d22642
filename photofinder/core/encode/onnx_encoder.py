"""CLIP on ONNX Runtime: the CPU encoder, and the one that answers text queries without torch.

The first time a model is used on a CPU its text and vision towers are exported to ONNX (torch.onnx, once per
model), checked against torch on a few inputs, and written atomically to the model cache under the data
directory, in a folder named by the model's fingerprint. From then on, loading the model needs neither torch
nor transformers: ONNX Runtime runs the towers and the `tokenizers` package the model's own tokenizer.json.
An opt-in int8 vision tower (dynamic quantisation of its matrix products) is made beside it on request.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from photofinder.core.encode.models import (
    CLIP,
    TextRules,
    embedding_dim,
    load_transformers,
    max_text_length,
    model_identity,
    resolve_model,
    text_rules,
    unloadable,
)
from photofinder.core.encode.models import fingerprint as model_fingerprint
from photofinder.core.encode.preprocess import PreprocessSpec
from photofinder.core.errors import ModelUnavailableError, PhotofinderError

log = logging.getLogger(__name__)

# ONNX Runtime (1.2x+, Linux too) starts Microsoft's 1DS telemetry when it loads: it writes a device id and an
# event database under ~/.cache/Microsoft/DeveloperTools/.onnxruntime and queues device, OS and process data for
# upload. Only this variable, set before onnxruntime is imported, stops it (disable_telemetry_events() after
# the import still leaves the files written); see no_telemetry().
os.environ["ORT_DISABLE_TELEMETRY"] = "1"


def onnxruntime() -> Any:
    """onnxruntime, imported with its telemetry off; every use in photofinder goes through here."""
    os.environ["ORT_DISABLE_TELEMETRY"] = "1"
    import onnxruntime as ort

    ort.disable_telemetry_events()
    return ort


EXPORT_VERSION = 3  # bump when the exported graphs change, so caches are made again (3: manifest.json)
MIN_COSINE = 0.9999  # an export must agree with torch at least this well, or it is not used
MANIFEST = (
    "manifest.json"  # what the export wrote: each file's SHA-256 and size, and the source model's fingerprint
)
_CHECKED = "checked.json"  # files whose hash was checked since they were last written (by inode, size, times)


class ExportFailed(PhotofinderError):
    """The model could not be exported, or its export disagrees with torch."""


class ExportDamaged(Exception):
    """An exported file does not match what the export recorded (damaged, truncated, or another model's).

    `name` is the file at fault (None for the manifest or the source model)."""

    def __init__(self, message: str, name: str | None = None):
        super().__init__(message)
        self.name = name


def model_cache_root() -> Path:
    """Where exported models live: PHOTOFINDER_MODEL_CACHE, else `models/` in the data directory."""
    override = os.environ.get("PHOTOFINDER_MODEL_CACHE")
    if override:
        return Path(override)
    from photofinder.core.paths import data_dir

    return data_dir() / "models"


class OnnxEmbedder:
    """A CLIP model on ONNX Runtime (CPU), exported from its safetensors weights on first use."""

    device = "cpu"

    def __init__(
        self,
        model: str,
        cache_root: Path | None = None,
        *,
        int8: bool = False,
        threads: int | None = None,
        download_progress: Callable[[int, int], None] | None = None,
    ):
        self.model_ref = model
        self.model_id = model_identity(model)
        self.int8 = int8
        self.download_progress = download_progress
        self._cache_root = cache_root
        self._threads = threads
        self._lock = threading.Lock()
        self._src: str | None = None
        self._fingerprint: str | None = None
        self._meta: dict[str, Any] | None = None
        self._vision: Any = None
        self._text: Any = None
        self._tokenizer: Any = None

    # -- identity and files --------------------------------------------------------------------------------
    def _folder(self) -> str:
        if self._src is None:
            self._src = resolve_model(self.model_ref, self.download_progress)
        return self._src

    @property
    def fingerprint(self) -> str:
        if self._fingerprint is None:
            self._fingerprint = model_fingerprint(self._folder())
        return self._fingerprint

    @property
    def cache_dir(self) -> Path:
        root = self._cache_root or model_cache_root()
        return root / f"{self.fingerprint.replace(':', '-')}-onnx{EXPORT_VERSION}"

    def ensure_exported(self) -> Path:
        """The export folder, made now if it is not there yet (needs torch and transformers, once).

        An export whose manifest, meta.json or tokenizer.json does not match what the export recorded (or was
        recorded for another model) is made again, with one line in the log.
        """
        folder = self.cache_dir
        if (folder / MANIFEST).exists() or (folder / "meta.json").exists():
            try:
                check_files(folder, self.fingerprint, ("meta.json", "tokenizer.json"))
                return folder
            except ExportDamaged as e:
                self._discard(folder, e)
        export_model(self._folder(), folder, self.fingerprint)
        return folder

    def _discard(self, folder: Path, why: Exception) -> None:
        log.warning("the exported model in %s can't be used (%s): exporting it again", folder, why)
        discard_export(folder)
        self._meta = None

    # -- loading -------------------------------------------------------------------------------------------
    def load(self) -> None:
        """Export if need be and read the model's facts. Raises ExportFailed or ModelUnavailableError.

        The towers themselves open on first use: a text query never reads the 350 MB vision tower.
        """
        with self._lock:
            if self._meta is not None:
                return
            folder = self.ensure_exported()
            self._meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))

    def _vision_session(self) -> Any:
        self._ensure()
        with self._lock:
            if self._vision is None:
                self._vision = self._checked_session("vision.int8.onnx" if self.int8 else "vision.onnx")
                log.info(
                    "loaded %s's vision tower with ONNX Runtime (%s)",
                    self.model_id,
                    "int8" if self.int8 else "fp32",
                )
            return self._vision

    def _text_session(self) -> tuple[Any, Any]:
        meta = self._ensure()
        with self._lock:
            if self._text is None:
                self._text = self._checked_session("text.onnx")
                self._tokenizer = _tokenizer(self.cache_dir, self._meta or meta)
            return self._text, self._tokenizer

    def _checked_session(self, name: str) -> Any:
        """An ONNX Runtime session of an exported file checked against the manifest first. A damaged export is
        made again (once), a damaged int8 tower quantised again, rather than give wrong vectors or a
        traceback. Called with the lock held."""
        for attempt in (1, 2):
            folder = self.cache_dir
            try:
                if name == "vision.int8.onnx":
                    quantized_vision(folder, self.fingerprint)
                check_files(folder, self.fingerprint, (name,))
                try:
                    return _session(folder / name, self._threads)
                except Exception as e:  # noqa: BLE001 - ONNX Runtime refusing a file that passed its check
                    raise ExportDamaged(f"ONNX Runtime can't open {name}: {e}", name) from e
            except ExportDamaged as e:
                if attempt == 2:
                    raise ExportFailed(
                        f"the export in {folder} is still unusable after exporting again: {e}"
                    ) from e
                if e.name == "vision.int8.onnx":
                    log.warning("the int8 vision tower in %s can't be used (%s): making it again", folder, e)
                    forget_file(folder, name)
                    continue
                self._discard(folder, e)
                export_model(self._folder(), folder, self.fingerprint)
                self._meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        raise AssertionError("unreachable")

    def unload(self) -> None:
        with self._lock:
            self._vision = self._text = self._tokenizer = self._meta = None

    @property
    def loaded(self) -> bool:
        return self._meta is not None

    def _ensure(self) -> dict[str, Any]:
        if self._meta is None:
            self.load()
        assert self._meta is not None
        return self._meta

    @property
    def dim(self) -> int:
        return int(self._ensure()["dim"])

    @property
    def sigmoid(self) -> tuple[float, float] | None:
        """SigLIP's own score scale (t, b) (see ClipEmbedder.sigmoid); None for CLIP."""
        meta = self._ensure()
        return (float(meta["logit_scale"]), float(meta["logit_bias"])) if "logit_bias" in meta else None

    @property
    def spec(self) -> PreprocessSpec:
        s = self._ensure()["spec"]
        return PreprocessSpec(
            s["shortest_edge"],
            s["crop_height"],
            s["crop_width"],
            tuple(s["mean"]),
            tuple(s["std"]),
            bool(s.get("squash", False)),
            int(s.get("resample", 3)),
        )

    # -- encoding ------------------------------------------------------------------------------------------
    def encode_pixels(self, pixels: np.ndarray) -> np.ndarray:
        vision = self._vision_session()
        return _normalise(
            vision.run(None, {"pixel_values": np.ascontiguousarray(pixels, dtype=np.float32)})[0]
        )

    def encode_text(self, texts: list[str]) -> np.ndarray:
        text, tokenizer = self._text_session()
        meta = self._ensure()
        return _normalise(text.run(None, _text_inputs(tokenizer, meta, texts))[0])


def _normalise(v: np.ndarray) -> np.ndarray:
    v = v.astype(np.float32, copy=False)
    return (v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def _session(path: Path, threads: int | None) -> Any:
    ort = onnxruntime()

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads or min(os.cpu_count() or 2, 8)
    opts.inter_op_num_threads = 1
    # Idle workers sleep instead of spinning: the decode threads need those cycles (the torch path's
    # OMP_WAIT_POLICY=PASSIVE lesson; spinning cost 20-30 % here, measured on 2 cores).
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def _tokenizer(folder: Path, meta: dict[str, Any]) -> Any:
    """The model's fast tokenizer, read in steps that each hold the interpreter lock briefly.

    `Tokenizer.from_file` parses and builds CLIP's 49k-token BPE in one native call that holds the lock
    ~100 ms (the window froze for the first search while it ran on the search thread). Here the JSON is parsed
    by Python, the BPE model is built from its vocabulary and merges, and the rest (normaliser, pre-tokeniser,
    post-processor) from the file without them: the same tokenizer, with the lock let go between steps.
    """
    from tokenizers import Tokenizer, models

    spec = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
    model = spec.get("model") or {}
    if model.get("type") != "BPE":  # not CLIP's kind: read it whole
        tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    else:
        merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ", 1)) for m in model["merges"]]
        options = {
            k: model[k]
            for k in (
                "dropout",
                "unk_token",
                "continuing_subword_prefix",
                "end_of_word_suffix",
                "fuse_unk",
                "byte_fallback",
                "ignore_merges",
            )
            if model.get(k) is not None
        }
        bpe = models.BPE(vocab=model["vocab"], merges=merges, **options)
        spec["model"] = {
            **{k: v for k, v in model.items() if k not in ("vocab", "merges")},
            "vocab": {},
            "merges": [],
        }
        tok = Tokenizer.from_str(json.dumps(spec))
        tok.model = bpe
    tok.enable_truncation(int(meta["max_length"]))
    tok.enable_padding(
        pad_id=int(meta["pad_id"]),
        pad_token=meta["pad_token"],
        length=int(meta["max_length"]) if meta.get("pad_to_max") else None,
        direction=meta.get("padding_side", "right"),
    )
    return tok


def _text_inputs(tokenizer: Any, meta: dict[str, Any], texts: list[str]) -> dict[str, np.ndarray]:
    """The text tower's inputs, prepared as the model was trained (see models.TextRules)."""
    if meta.get("lowercase"):
        texts = [t.lower() for t in texts]
    enc = tokenizer.encode_batch(texts)
    ids = np.array([e.ids for e in enc], dtype=np.int64)
    if meta.get("use_mask", True):
        mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
    else:  # the model's tokenizer gives no mask: every position is attended to, padding included
        mask = np.ones_like(ids)
    return {"input_ids": ids, "attention_mask": mask}


def quantized_vision(folder: Path, source: str | None = None) -> Path:
    """The int8 vision tower beside the fp32 one, made on first use (a few seconds).

    Every product with a weight matrix is quantised (dynamic, per-tensor int8 weights); the patch embedding
    (a convolution), the layer norms and the attention's activation-by-activation products stay fp32.
    Measured per variant on ViT-B/32 (README, "Runtimes"): keeping the MLP's second products or the attention
    projections in fp32 costs 37 % of the int8 speed, the first and last layers 15 %; what int8 costs in
    agreement is checked on each library's own photos anyway (encoders.check_int8).
    """
    target = folder / "vision.int8.onnx"
    if not target.exists():
        onnxruntime()
        from onnxruntime.quantization import QuantType, quantize_dynamic

        if source is not None:  # made from the checked fp32 tower only
            check_files(folder, source, ("vision.onnx",))

        fd, tmp = tempfile.mkstemp(suffix=".onnx", dir=folder)
        os.close(fd)
        root = logging.getLogger()
        level = root.level
        try:
            root.setLevel(logging.ERROR)  # it logs "consider pre-processing" advice to the root logger
            quantize_dynamic(
                str(folder / "vision.onnx"),
                tmp,
                weight_type=QuantType.QInt8,
                op_types_to_quantize=["MatMul", "Gemm"],  # (a Gemm becomes an int8 MatMul and an Add)
            )
            os.chmod(tmp, 0o600)
            os.replace(tmp, target)
            record_file(folder, target.name)
        finally:
            root.setLevel(level)
            Path(tmp).unlink(missing_ok=True)
    return target


# -- export (the only part that needs torch) --------------------------------------------------------------
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
        _write_manifest(
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
    vision = _session(folder / "vision.onnx", None)
    text = _session(folder / "text.onnx", None)
    fast = _tokenizer(folder, meta)
    inputs = _text_inputs(fast, meta, texts)
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
    cos_v = float(np.min(np.sum(_normalise(ref_v) * _normalise(got_v), axis=1)))
    cos_t = float(np.min(np.sum(_normalise(ref_t) * _normalise(got_t), axis=1)))
    if min(cos_v, cos_t) < MIN_COSINE:
        raise ExportFailed(f"the ONNX export disagrees with torch (cosine {min(cos_v, cos_t):.6f})")
    return {"vision_cosine": round(cos_v, 7), "text_cosine": round(cos_t, 7)}


# -- the export's own check -------------------------------------------------------------------------------
_MANIFEST_LOCK = threading.Lock()


def _sha256(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _write_json(path: Path, value: Any) -> None:
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:  # mkstemp: 0600
            json.dump(value, f, indent=1)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_manifest(folder: Path, source: str, names: list[str]) -> None:
    for name in names:
        os.chmod(folder / name, 0o600)  # private like the rest of the data dir
    files = {n: {"sha256": _sha256(folder / n), "bytes": (folder / n).stat().st_size} for n in names}
    _write_json(folder / MANIFEST, {"source": source, "export_version": EXPORT_VERSION, "files": files})


def _read_manifest(folder: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
            raise ValueError("not a manifest")
        return manifest
    except FileNotFoundError as e:
        raise ExportDamaged("it has no manifest") from e
    except (OSError, ValueError) as e:
        raise ExportDamaged(f"its manifest can't be read: {e}") from e


def record_file(folder: Path, name: str) -> None:
    """Add a file made after the export (the int8 tower) to the manifest."""
    with _MANIFEST_LOCK:
        manifest = _read_manifest(folder)
        path = folder / name
        manifest["files"][name] = {"sha256": _sha256(path), "bytes": path.stat().st_size}
        _write_json(folder / MANIFEST, manifest)


def forget_file(folder: Path, name: str) -> None:
    """Delete a derived file (the int8 tower) and its record, so that it is made again."""
    with _MANIFEST_LOCK:
        (folder / name).unlink(missing_ok=True)
        try:
            manifest = _read_manifest(folder)
            manifest["files"].pop(name, None)
            _write_json(folder / MANIFEST, manifest)
        except ExportDamaged:
            pass


def _stamp(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def check_files(folder: Path, source: str, names: tuple[str, ...]) -> None:
    """ExportDamaged unless the export in `folder` was made from the model `source` and each named file has the
    size and SHA-256 the export recorded.

    A file's whole hash is computed once: the check is remembered by the file's inode, size, mtime and ctime
    (a file replaced, copied over or written to changes its ctime, whatever its mtime says), so a later load
    reads its stat alone.
    """
    manifest = _read_manifest(folder)
    if manifest.get("source") != source:
        raise ExportDamaged(f"it was exported from another model ({manifest.get('source')})")
    try:
        checked = json.loads((folder / _CHECKED).read_text(encoding="utf-8"))
        if not isinstance(checked, dict):
            checked = {}
    except (OSError, ValueError):
        checked = {}
    changed = False
    for name in names:
        want = manifest["files"].get(name)
        path = folder / name
        if not isinstance(want, dict):
            raise ExportDamaged(f"{name} is not in its manifest", name)
        try:
            stamp = _stamp(path)
        except OSError as e:
            raise ExportDamaged(f"{name} is missing", name) from e
        if stamp[1] != want.get("bytes"):
            raise ExportDamaged(f"{name} has {stamp[1]} bytes, not the {want.get('bytes')} exported", name)
        if checked.get(name) == [want.get("sha256"), *stamp]:
            continue
        if _sha256(path) != want.get("sha256"):
            raise ExportDamaged(f"{name} is not the file exported (its SHA-256 differs)", name)
        checked[name] = [want.get("sha256"), *stamp]
        changed = True
    if changed:
        try:
            _write_json(folder / _CHECKED, checked)
        except OSError as e:  # a read-only cache: the hash is checked again next time, nothing worse
            log.debug("could not remember the check in %s: %s", folder, e)


def discard_export(folder: Path) -> None:
    """Remove a damaged export (moved aside first, so no reader sees half of one)."""
    aside = folder.with_name(f".damaged-{folder.name}-{os.getpid()}")
    try:
        os.replace(folder, aside)
    except OSError:
        aside = folder
    shutil.rmtree(aside, ignore_errors=True)
